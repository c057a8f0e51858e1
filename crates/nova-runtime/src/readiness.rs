//! Readiness: whether the backends a service needs answer right now.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

/// One thing that must work before a service takes traffic (a database ping, a broker
/// metadata request, ...). Checks run concurrently, each under a timeout, on every
/// `GET /api/v1/ready` and periodically for the gRPC health status.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// `Ok(())` when the dependency answers. The error is logged, never shown to clients.
    async fn check(&self) -> Result<(), nova_core::Error>;
}

/// A [`ReadinessCheck`] made from an async closure; see [`check_fn`].
pub struct FnCheck<F>(F);

#[async_trait]
impl<F, Fut> ReadinessCheck for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), nova_core::Error>> + Send,
{
    async fn check(&self) -> Result<(), nova_core::Error> {
        (self.0)().await
    }
}

/// Wraps an async closure as a shareable [`ReadinessCheck`].
///
/// ```
/// let pool_ok = true;
/// let check = nova_runtime::check_fn(move || async move {
///     if pool_ok { Ok(()) } else { Err(nova_core::Error::unavailable("postgres ping failed")) }
/// });
/// # let _ = check;
/// ```
pub fn check_fn<F, Fut>(f: F) -> Arc<dyn ReadinessCheck>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), nova_core::Error>> + Send + 'static,
{
    Arc::new(FnCheck(f))
}

/// The result of one check, as `/api/v1/ready` reports it (no error details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check passed.
    Ok,
    /// The check returned an error.
    Failed,
    /// The check did not answer within the readiness timeout.
    TimedOut,
}

/// A named check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    /// The name the check was registered under, e.g. `postgres`.
    pub name: String,
    /// What happened.
    pub status: CheckStatus,
}

/// The registered checks of one server.
#[derive(Clone, Default)]
pub(crate) struct Checks {
    pub(crate) checks: Vec<(String, Arc<dyn ReadinessCheck>)>,
    pub(crate) timeout: Duration,
}

impl Checks {
    /// Runs every check concurrently; failures are logged with their (internal) cause.
    pub(crate) async fn run(&self) -> Vec<CheckOutcome> {
        let timeout = self.timeout;
        futures::future::join_all(self.checks.iter().map(|(name, check)| async move {
            let status = match tokio::time::timeout(timeout, check.check()).await {
                Ok(Ok(())) => CheckStatus::Ok,
                Ok(Err(error)) => {
                    tracing::warn!(check = %name, %error, "readiness check failed");
                    CheckStatus::Failed
                }
                Err(_) => {
                    tracing::warn!(check = %name, ?timeout, "readiness check timed out");
                    CheckStatus::TimedOut
                }
            };
            CheckOutcome {
                name: name.clone(),
                status,
            }
        }))
        .await
    }
}

/// Whether every outcome passed.
pub(crate) fn all_ok(outcomes: &[CheckOutcome]) -> bool {
    outcomes.iter().all(|o| o.status == CheckStatus::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outcomes_keep_order_and_classify_failures() {
        let checks = Checks {
            checks: vec![
                ("ok".into(), check_fn(|| async { Ok(()) })),
                (
                    "down".into(),
                    check_fn(|| async {
                        Err(nova_core::Error::unavailable(
                            "postgres://user:secret@host refused",
                        ))
                    }),
                ),
                (
                    "slow".into(),
                    check_fn(|| async {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        Ok(())
                    }),
                ),
            ],
            timeout: Duration::from_millis(50),
        };
        let outcomes = checks.run().await;
        let statuses: Vec<_> = outcomes
            .iter()
            .map(|o| (o.name.as_str(), o.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("ok", CheckStatus::Ok),
                ("down", CheckStatus::Failed),
                ("slow", CheckStatus::TimedOut)
            ]
        );
        assert!(!all_ok(&outcomes));
        assert!(all_ok(&outcomes[..1]));
    }
}
