//! `media-service`: uploads, image processing and delivery, REST on 8085 and gRPC on 9085
//! (`MEDIA_SERVICE_HTTP_PORT` / `MEDIA_SERVICE_GRPC_PORT`), for the k8s layout. Files
//! live under `NOVA_DATA_DIR/media` (served here behind signed URLs) or in S3
//! (`S3_BUCKET`, ...; presigned URLs); callers are authenticated from identity's
//! published keys (`IDENTITY_JWKS_URL`).
//!
//! What it runs is `nova_app`'s plan `media-service`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    nova_app::main("media-service").await
}
