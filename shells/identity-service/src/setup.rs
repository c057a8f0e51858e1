//! Start-up plumbing: the database and its pool metrics.

use std::time::Duration;

use nova_core::config::NovaConfig;
use nova_db::{Db, DbOptions};
use nova_events::CancellationToken;

/// Opens the database named by `DATABASE_URL`, else SQLite in the data directory, and
/// migrates it. (The same helper as `shells/nova`; a candidate for `nova-runtime`.)
pub async fn open_database(config: &NovaConfig) -> Result<(Db, String), String> {
    let options = DbOptions {
        max_connections: config.database_max_connections,
        ..DbOptions::default()
    };
    let (db, location) = match &config.database_url {
        Some(url) => (Db::connect(url, &options).await, redact(url)),
        None => {
            let path = config.data_dir.join("nova.db");
            let db = Db::open_sqlite_file(&path, &options).await;
            (db, path.display().to_string())
        }
    };
    let db = db.map_err(|e| format!("cannot open the database at {location}: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("cannot migrate the database at {location}: {e}"))?;
    Ok((db, location))
}

/// A URL without its password, for logs and errors.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Reports the pool size as `nova_db_pool_connections` every 5 seconds until `stop`.
pub fn spawn_pool_metrics(
    db: Db,
    service: &'static str,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.is_cancelled() {
            let (size, idle) = db.pool_stats();
            nova_runtime::record_db_pool(service, size, idle);
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            redact("postgres://nova:s3cret@db:5432/nova"),
            "postgres://nova:***@db:5432/nova"
        );
        assert_eq!(redact("sqlite:./x.db"), "sqlite:./x.db");
    }
}
