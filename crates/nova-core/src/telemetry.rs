//! Logging and metrics setup shared by every binary.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, NovaConfig};

/// Latency buckets (seconds) for every `*_duration_seconds` histogram: 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the global tracing subscriber (once; later calls are no-ops).
pub fn init_tracing(config: &NovaConfig) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: a second initialisation (tests, embedded use) is not an error.
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Installs the global Prometheus recorder once and returns its handle; `/metrics`
/// renders it. Calling it again returns the same handle.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding apps); keep ours as a
            // renderer anyway so /metrics still answers.
            let _ = metrics_install(recorder);
            handle
        })
        .clone()
}

fn metrics_install(
    recorder: metrics_exporter_prometheus::PrometheusRecorder,
) -> Result<(), metrics::SetRecorderError<metrics_exporter_prometheus::PrometheusRecorder>> {
    metrics::set_global_recorder(recorder)
}
