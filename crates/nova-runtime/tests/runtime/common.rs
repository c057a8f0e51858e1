//! Helpers shared by the runtime tests.

use axum::body::Body;
use nova_core::config::{ConfigSource, NovaConfig};
use nova_runtime::{Backend, ResourceClass, ServiceSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A spec with a unique name, so tests sharing the global metrics recorder don't mix.
pub fn spec(name: &'static str) -> ServiceSpec {
    ServiceSpec {
        name,
        crates: &[],
        http_port: 0,
        grpc_port: Some(0),
        backends: &[Backend::Postgres],
        resources: ResourceClass::Small,
        description: "test service",
    }
}

/// Configuration binding ephemeral ports on 127.0.0.1.
pub fn ephemeral_config() -> NovaConfig {
    NovaConfig::from_source(&ConfigSource::from_pairs([
        ("NOVA_HTTP_PORT", "0"),
        ("NOVA_GRPC_PORT", "0"),
    ]))
    .unwrap()
}

/// A GET request.
pub fn get(uri: &str) -> http::Request<Body> {
    http::Request::get(uri).body(Body::empty()).unwrap()
}

/// The body of a response as JSON.
pub async fn json(response: http::Response<Body>) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The body of a response as text.
pub async fn text(response: http::Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Sends `GET path` over a fresh TCP connection and returns the raw response.
pub async fn raw_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await?;
    Ok(out)
}
