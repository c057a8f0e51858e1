//! The process shutdown signal.

/// Resolves on SIGTERM (what Kubernetes and Docker send) or SIGINT (Ctrl-C).
///
/// If a signal handler cannot be installed the error is logged and that signal is
/// ignored, so a process is never stopped by a setup failure.
pub async fn shutdown_signal() {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGINT");
                std::future::pending().await
            }
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
                "SIGTERM"
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&str>();
    let signal = tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    };
    tracing::info!(signal, "shutdown signal received");
}
