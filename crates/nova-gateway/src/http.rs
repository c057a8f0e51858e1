//! The gateway's HTTP surface: `POST /graphql` (single or batched JSON), WebSocket
//! subscriptions at `/graphql/ws` (`graphql-transport-ws` and the older `graphql-ws`),
//! and GraphiQL at `GET /` and `GET /graphql` outside production.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{BatchRequest, Data, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use nova_auth::bearer_token;
use nova_core::{Error, ErrorKind};

use crate::context::RequestCtx;
use crate::error::{query_rejected, server_error};
use crate::{Domains, GatewayOptions, NovaSchema};

struct Gateway {
    schema: NovaSchema,
    domains: Domains,
    options: GatewayOptions,
}

type Shared = State<Arc<Gateway>>;

/// The gateway's routes over `domains`: `POST /graphql`, `GET /graphql/ws`, and (outside
/// production) GraphiQL at `GET /graphql` and `GET /`.
pub fn router(domains: Domains, options: GatewayOptions) -> Router {
    let schema = crate::schema(domains.clone(), options.clone());
    let production = options.production;
    let body_limit = options.query.max_body_bytes;
    let state = Arc::new(Gateway {
        schema,
        domains,
        options,
    });
    let graphql = if production {
        post(graphql)
    } else {
        post(graphql).get(graphiql)
    };
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/graphql/ws", get(subscriptions));
    if !production {
        router = router.route("/", get(graphiql));
    }
    router
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Nova GraphQL")
            .finish(),
    )
}

/// A GraphQL error body with an HTTP status (for requests refused before execution).
fn refuse(status: StatusCode, error: Error) -> Response {
    let body = async_graphql::Response::from_errors(vec![server_error(error)]);
    (status, GraphQLResponse::from(body)).into_response()
}

/// The client's address: the first `X-Forwarded-For` hop (set by the ingress), else
/// `X-Real-IP`, else the socket peer when the server records it.
fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    // X-Forwarded-For / X-Real-IP are believed only from a proxy on a private network
    // (ingress, sidecar, loopback): from anyone else they are client-chosen, and trusting
    // them would let one client rotate through per-IP rate-limit buckets.
    let peer = peer.map(|p| p.ip());
    if peer.is_some_and(|ip| !is_proxy_network(ip)) {
        return peer;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .or_else(|| header("x-real-ip"))
        .and_then(|v| v.trim().parse().ok())
        .or(peer)
}

/// Loopback, RFC 1918 / unique-local and link-local addresses: where proxies live.
fn is_proxy_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

impl Gateway {
    /// The caller of a request carrying `token` (if any).
    async fn caller(
        &self,
        token: Option<&str>,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<RequestCtx, Error> {
        let principal = match token {
            Some(token) => Some(self.domains.auth.authenticate(token).await?),
            None => None,
        };
        let domains = match (&self.domains.with_token, token) {
            (Some(with_token), Some(token)) => with_token(&self.domains, token),
            _ => self.domains.clone(),
        };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(RequestCtx {
            principal,
            ip: client_ip(headers, peer),
            user_agent: user_agent.chars().take(256).collect(),
            domains,
        })
    }
}

fn header_token(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .map(Some)
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated)),
    }
}

async fn graphql(State(gateway): Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        // Also what keeps cross-site form posts (no preflight) out.
        let error = Error::invalid("content-type", "must be application/json");
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, error);
    }
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let caller = match header_token(&parts.headers) {
        Ok(token) => gateway.caller(token, &parts.headers, peer).await,
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let limit = gateway.options.query.max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), limit).await else {
        let error = query_rejected(format!("request body over {limit} bytes"));
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, error);
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(_) => {
            let error = Error::invalid("body", "not a GraphQL request");
            return refuse(StatusCode::BAD_REQUEST, error);
        }
    };
    let max_batch = gateway.options.query.max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && (requests.len() > max_batch || requests.is_empty())
    {
        let error = query_rejected(format!("a batch holds 1–{max_batch} operations"));
        return refuse(StatusCode::BAD_REQUEST, error);
    }
    let response = gateway.schema.execute_batch(batch.data(caller)).await;
    GraphQLResponse::from(response).into_response()
}

async fn subscriptions(
    State(gateway): Shared,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let header = match header_token(&parts.headers) {
        Ok(token) => token.map(str::to_owned),
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let headers = parts.headers;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let schema = gateway.schema.clone();
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    // Browsers cannot set headers on a WebSocket: the token may come in
                    // the `connection_init` payload instead (`{"Authorization": "Bearer …"}`).
                    let from_payload = ["Authorization", "authorization"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                        .and_then(bearer_token)
                        .map(str::to_owned);
                    let token = from_payload.or(header);
                    let caller = gateway
                        .caller(token.as_deref(), &headers, peer)
                        .await
                        .map_err(to_error)?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
}

fn to_error(error: Error) -> async_graphql::Error {
    let e: ServerError = server_error(error);
    async_graphql::Error {
        message: e.message,
        source: None,
        extensions: e.extensions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_proxy_on_a_private_network() {
        let headers = forwarded("203.0.113.7, 10.0.0.2");
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        // Through the ingress (private address): the client it names.
        let ingress: SocketAddr = "10.0.0.2:443".parse().unwrap();
        assert_eq!(client_ip(&headers, Some(ingress)), Some(client));
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(client_ip(&headers, Some(local)), Some(client));
        // Straight from the internet: the header is the client's own claim, ignored.
        let direct: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        assert_eq!(client_ip(&headers, Some(direct)), Some(direct.ip()));
        // No header: the peer.
        assert_eq!(client_ip(&HeaderMap::new(), Some(local)), Some(local.ip()));
        assert_eq!(client_ip(&HeaderMap::new(), None), None);
    }
}
