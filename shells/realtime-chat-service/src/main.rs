//! `realtime-chat-service`: end-to-end encrypted chat and the E2EE key directory, REST
//! and the live WebSocket (`/api/v1/chat/ws`) on 8086 and gRPC (the key directory) on
//! 9086 (`REALTIME_CHAT_SERVICE_HTTP_PORT` / `REALTIME_CHAT_SERVICE_GRPC_PORT`), for
//! the k8s layout. It asks social who may message whom (`SOCIAL_SERVICE_URL`, else
//! in-process on the same database), fans live events out across replicas through Redis
//! pub/sub (`REDIS_URL`), and authenticates callers from identity's published keys
//! (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `realtime-chat-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("realtime-chat-service").await
}
