//! The whole loop over GraphQL against the distributed layout: identity, user, graph,
//! social, content, feed, ranking and realtime-chat services plus the gateway, each its own process,
//! on one PostgreSQL database and Redis, talking gRPC (the k8s shape on one machine).
//!
//! The service binaries are the workspace's own, next to this package's binary in the
//! target directory (`cargo xtask test` builds every binary before the tests run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the REST and login helpers are for the moderation tests
#[path = "../../nova/tests/common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nova_testkit::process::{Running, get, wait_for_http};

/// A service binary built beside this package's.
fn binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_graphql-gateway")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: build the workspace first (`cargo build --workspace`; `cargo xtask test` does)",
        path.display()
    );
    path
}

/// Empties Redis database `db` (this test's own): rate-limit buckets of earlier runs
/// (registrations per IP per hour) must not leak into this one.
fn flush_redis_db(url: &str, db: u8) {
    use std::io::{Read, Write};
    let address = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "*2\r\n$6\r\nSELECT\r\n$1\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n"
    )
    .unwrap();
    let mut reply = [0u8; 10];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n+OK\r\n", "Redis SELECT/FLUSHDB");
}

/// Two distinct free ports (HTTP, gRPC).
fn ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// The Redis database the services of this test share (the services' keys use the
/// fixed `nova:` prefix, so they get a database of their own).
const REDIS_DB: u8 = 7;

struct Cluster {
    database_url: String,
    redis_url: String,
    data: tempfile::TempDir,
    jwks_url: String,
    running: Vec<Running>,
}

impl Cluster {
    /// Starts `name` with the shared backends plus `env`; waits until it is ready.
    fn start(&mut self, name: &str, (http, grpc): (u16, u16), env: &[(&str, String)]) {
        let mut command = Command::new(binary(name));
        command
            .env_clear()
            .env("NOVA_DATA_DIR", self.data.path().join(name))
            .env("NOVA_HTTP_PORT", http.to_string())
            .env("NOVA_GRPC_PORT", grpc.to_string())
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("IDENTITY_JWKS_URL", &self.jwks_url)
            // Every service gets its service identity from identity-service.
            .env(
                "NOVA_SERVICE_SECRET",
                "distributed-test-service-secret-0123456789",
            )
            .env(
                "NOVA_CURSOR_SECRET",
                "distributed-test-cursor-secret-0123456789",
            )
            .env("NOVA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (var, value) in env {
            command.env(var, value);
        }
        self.running.push(Running(command.spawn().unwrap()));
        wait_for_http(http, "/api/v1/health", name);
        common::eventually(&format!("{name} ready"), || {
            get(http, "/api/v1/ready").is_some_and(|(status, _)| status == 200)
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_loop_across_the_services_and_the_gateway() {
    let Some(postgres) = nova_testkit::postgres().await else {
        return;
    };
    let Some(redis) = nova_testkit::backend_url("NOVA_TEST_REDIS_URL") else {
        return;
    };
    let database_url = postgres.url();
    flush_redis_db(&redis, REDIS_DB);
    tokio::task::spawn_blocking(move || {
        let (identity, users, graph, social, content, feed, ranking, chat, gateway) = (
            ports(),
            ports(),
            ports(),
            ports(),
            ports(),
            ports(),
            ports(),
            ports(),
            ports(),
        );
        let grpc = |p: (u16, u16)| format!("http://127.0.0.1:{}", p.1);
        let mut cluster = Cluster {
            database_url,
            // Its own Redis database: the services' keys use the shared `nova:` prefix.
            redis_url: format!("{}/{REDIS_DB}", redis.trim_end_matches('/')),
            data: tempfile::tempdir().unwrap(),
            jwks_url: format!("http://127.0.0.1:{}/.well-known/jwks.json", identity.0),
            running: Vec::new(),
        };
        // Identity first: every other service verifies tokens with its published keys.
        cluster.start("identity-service", identity, &[]);
        cluster.start("user-service", users, &[]);
        cluster.start("graph-service", graph, &[]);
        let remote = [
            ("GRAPH_SERVICE_URL", grpc(graph)),
            ("USER_SERVICE_URL", grpc(users)),
            ("SOCIAL_SERVICE_URL", grpc(social)),
            ("CONTENT_SERVICE_URL", grpc(content)),
            ("RANKING_SERVICE_URL", grpc(ranking)),
        ];
        cluster.start("social-service", social, &remote);
        cluster.start("content-service", content, &remote);
        cluster.start("ranking-service", ranking, &[]);
        cluster.start("feed-service", feed, &remote);
        cluster.start("realtime-chat-service", chat, &remote);
        let mut upstreams = remote.to_vec();
        upstreams.push(("IDENTITY_SERVICE_URL", grpc(identity)));
        upstreams.push(("FEED_SERVICE_URL", grpc(feed)));
        upstreams.push(("CHAT_SERVICE_URL", grpc(chat)));
        cluster.start("graphql-gateway", gateway, &upstreams);

        common::whole_loop(gateway.0, "dist");
        chat_across_the_services(gateway.0);
        a_logout_ends_the_session_in_every_service(
            gateway.0,
            &[
                ("identity-service", identity.0, "/api/v1/auth/me"),
                ("user-service", users.0, "/api/v1/users/{id}"),
                (
                    "social-service",
                    social.0,
                    "/api/v1/social/users/{id}/followers",
                ),
                ("content-service", content.0, "/api/v1/bookmarks"),
                ("feed-service", feed.0, "/api/v1/feed/home"),
            ],
        );
        drop(cluster);
    })
    .await
    .unwrap();
    drop(postgres);
}

/// Chat through the gateway: each request's chat client carries the caller's token to
/// realtime-chat-service's gRPC, which asks social-service who may message whom.
fn chat_across_the_services(gateway: u16) {
    let (_, ann) = common::account(gateway, "chat_ann_dist");
    let (bob_id, bob) = common::account(gateway, "chat_bob_dist");
    let opened = common::ok(
        gateway,
        Some(&ann),
        "mutation($u: ID!) { openDirectChat(userId: $u) { id kind } }",
        serde_json::json!({ "u": bob_id }),
    );
    assert_eq!(opened["openDirectChat"]["kind"], "direct", "{opened}");
    let id = opened["openDirectChat"]["id"].clone();
    let listed = common::ok(
        gateway,
        Some(&bob),
        "{ chatConversations { id } }",
        serde_json::json!({}),
    );
    assert_eq!(
        listed["chatConversations"],
        serde_json::json!([{ "id": id }])
    );
}

/// Issue 15 item 11: after a logout, the very next call with the old access token is
/// refused by every service (each verifies tokens itself from identity's keys) and by
/// the gateway, although the token has not expired.
fn a_logout_ends_the_session_in_every_service(gateway: u16, services: &[(&str, u16, &str)]) {
    let (id, token) = common::account(gateway, "revoked_dist");
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let status = |port: u16, path: &str| {
        nova_testkit::process::http(port, "GET", &path.replace("{id}", &id), &bearer, "")
            .unwrap()
            .0
    };
    for (name, port, path) in services {
        assert_eq!(status(*port, path), 200, "{name} {path} before the logout");
    }
    common::ok(
        gateway,
        Some(&token),
        "{ viewer { id } }",
        serde_json::json!({}),
    );
    common::ok(
        gateway,
        Some(&token),
        "mutation { logout }",
        serde_json::json!({}),
    );
    for (name, port, path) in services {
        assert_eq!(
            status(*port, path),
            401,
            "{name} {path} right after the logout"
        );
    }
    let body = serde_json::json!({ "query": "{ viewer { id } }" }).to_string();
    let (status, text) =
        nova_testkit::process::http(gateway, "POST", "/graphql", &bearer, &body).unwrap();
    assert_eq!(status, 401, "gateway right after the logout: {text}");
    assert!(text.contains("UNAUTHENTICATED"), "{text}");
}
