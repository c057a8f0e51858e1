//! The real `content-service` binary serves reposts (they moved from social to content,
//! where the post lives) at their old path `/api/v1/social/reposts/{post}`. A visible
//! post is reposted; a post the reposter may not see answers exactly like a missing one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;

use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience, Visibility};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, SessionId, SystemClock};
use nova_graph::{GraphService, SqlGraphStore};
use nova_identity::{KeySet, TokenConfig, TokenIssuer};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_testkit::process::{Running, free_port, http, wait_for_http};
use nova_user::UserService;
use nova_user::store::SqlUserStore;

/// Serves `jwks` at `/.well-known/jwks.json` on a thread; returns its URL.
fn serve_jwks(jwks: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{jwks}",
                jwks.len()
            );
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reposts_ask_content_service_and_hidden_posts_look_missing() {
    // One database, as the services share DATABASE_URL in the k8s layout: posts are
    // written here, reposted through the binary.
    let data = tempfile::tempdir().unwrap();
    let db = nova_db::Db::open_sqlite_file(&data.path().join("nova.db"), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let author = nova_identity::fixtures::account(&db, "author")
        .await
        .unwrap();
    let reposter = nova_identity::fixtures::account(&db, "reposter")
        .await
        .unwrap();
    let cursors = CursorCodec::new(b"test key, long enough for hmac!!");
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        cursors.clone(),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = Arc::new(SocialService::new(
        graph.clone(),
        users.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    ));
    let content = Arc::new(ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        Arc::new(SocialAudience::new(social.clone(), graph, users)),
        cursors,
    ));
    let public = content
        .create_post(
            &author,
            NewPost {
                text: "repost me".into(),
                ..NewPost::default()
            },
        )
        .await
        .unwrap()
        .id;
    let followers_only = content
        .create_post(
            &author,
            NewPost {
                text: "followers only".into(),
                visibility: Visibility::Followers,
                ..NewPost::default()
            },
        )
        .await
        .unwrap()
        .id;
    let keys = Arc::new(KeySet::generate("k1").unwrap());
    let jwks_url = serve_jwks(keys.jwks().to_string());
    let reposter = Principal::user(reposter.user_id, SessionId::new());
    let token = TokenIssuer::new(
        keys,
        TokenConfig::new("nova", "nova"),
        SystemClock::shared(),
    )
    .issue(&reposter)
    .unwrap()
    .token;

    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_content-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("IDENTITY_JWKS_URL", jwks_url)
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let repost = move |post: PostId| {
        let bearer = bearer.clone();
        let path = format!("/api/v1/social/reposts/{post}");
        async move {
            tokio::task::spawn_blocking(move || http(port, "POST", &path, &bearer, "").unwrap())
                .await
                .unwrap()
        }
    };
    tokio::task::spawn_blocking(move || wait_for_http(port, "/api/v1/health", "content-service"))
        .await
        .unwrap();

    let (status, body) = repost(public).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        repost(public).await.0,
        200,
        "a second repost changes nothing"
    );
    let hidden = repost(followers_only).await;
    let missing = repost(PostId::new()).await;
    assert_eq!(hidden.0, 404, "{}", hidden.1);
    assert_eq!(hidden, missing, "a hidden post answers like a missing one");
    // Once the reposter follows the author, the followers-only post is theirs to see.
    social.follow(&reposter, author.user_id).await.unwrap();
    assert_eq!(repost(followers_only).await.0, 201);
}
