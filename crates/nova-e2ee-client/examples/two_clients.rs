//! Two simulated clients talk through a running key directory.
//!
//! Starts the key directory (SQLite in a temporary directory) as a gRPC server on
//! 127.0.0.1 (a free port), with callers authenticated by nova-identity RS256 access
//! tokens. Alice and Bob each register a device through `KeyDirectoryGrpcClient`, then
//! exchange Olm (1:1) and Megolm (group) messages; the directory only ever sees
//! ciphertext.
//!
//! `cargo run -p nova-e2ee-client --example two_clients`

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: fail loudly

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{TokenConfig, TokenVerifier};
use nova_core::{Principal, SessionId, SystemClock, UserId};
use nova_db::{Db, DbOptions};
use nova_e2ee::grpc::{Authenticator, KeyDirectoryGrpcClient, KeyDirectoryGrpcServer};
use nova_e2ee::{DeviceId, KeyDirectory, KeyDirectoryService};
use nova_e2ee_client::Client;
use nova_identity::{KeySet, TokenIssuer};
use tonic::transport::server::TcpIncoming;

/// The directory accepts nova-identity access tokens.
struct Jwt(TokenVerifier);

#[async_trait]
impl Authenticator for Jwt {
    async fn authenticate(&self, token: &str) -> nova_core::Result<Principal> {
        self.0.verify(token)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // --- the server side: key directory + gRPC ---------------------------------------
    let dir = tempfile::tempdir()?;
    let db = Db::open_sqlite_file(&dir.path().join("e2ee.db"), &DbOptions::default()).await?;
    db.migrate().await?;
    let keys = Arc::new(KeySet::generate("example")?);
    let config = TokenConfig::new("nova", "nova");
    let verifier = TokenVerifier::for_key_set(&*keys, config.clone(), SystemClock::shared());
    let issuer = TokenIssuer::new(keys, config, SystemClock::shared());
    let directory: Arc<dyn KeyDirectory> = Arc::new(KeyDirectoryService::sql(db.clone()));
    let server = KeyDirectoryGrpcServer::new(directory, Arc::new(Jwt(verifier)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server.into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    println!("key directory serving gRPC on {url}");

    // --- two clients, each with its own token and connection --------------------------
    let mut clients = Vec::new();
    for (name, device) in [("alice", "alice-phone"), ("bob", "bob-laptop")] {
        let principal = Principal::user(UserId::new(), SessionId::new());
        let token = issuer.issue(&principal)?.token;
        let remote =
            KeyDirectoryGrpcClient::connect(url.clone(), principal.user_id, &token).await?;
        let client =
            Client::register(remote.into_shared(), principal, DeviceId::new(device)?).await?;
        println!("{name}: registered {:?}, keys published", client.address());
        clients.push(client);
    }
    let mut bob = clients.pop().unwrap();
    let mut alice = clients.pop().unwrap();
    let (alice_id, bob_id) = (alice.address().user_id, bob.address().user_id);

    // 1:1 over Olm: Alice claims one of Bob's one-time keys and starts a session.
    let out = alice
        .encrypt_for_user(bob_id, b"Hi Bob, this is end-to-end encrypted.")
        .await?;
    println!(
        "alice -> bob: {} Olm message(s), {} bytes of ciphertext",
        out.len(),
        out[0].ciphertext.len()
    );
    alice.send(out).await?;
    for m in bob.sync().await? {
        println!("bob reads:    {}", String::from_utf8_lossy(&m?.plaintext));
    }
    let out = bob
        .encrypt_for_user(alice_id, b"Hi Alice! The server only relays ciphertext.")
        .await?;
    bob.send(out).await?;
    for m in alice.sync().await? {
        println!("alice reads:  {}", String::from_utf8_lossy(&m?.plaintext));
    }

    // A group conversation over Megolm: the key travels to Bob over Olm first.
    for i in 1..=3 {
        let text = format!("group message {i}");
        let out = alice
            .encrypt_for_group("book-club", &[bob_id], text.as_bytes())
            .await?;
        alice.send(out).await?;
    }
    for m in bob.sync().await? {
        let m = m?;
        println!(
            "bob reads in {:?}: {}",
            m.conversation.unwrap_or_default(),
            String::from_utf8_lossy(&m.plaintext)
        );
    }

    // Persist Bob's device, sealed with a key only the app knows.
    let pickle = bob.device().pickle(&[9u8; 32])?;
    println!("bob's device pickled: {} bytes (AES-256-GCM)", pickle.len());
    println!(
        "bob's keys left on the server: {:?}",
        bob.replenish().await?
    );
    Ok(())
}
