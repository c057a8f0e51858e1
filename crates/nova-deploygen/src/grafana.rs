//! Grafana: the overview dashboard.

use super::*;

/// Every metric name the generated dashboard queries, besides Nova's own
/// ([`crate::metrics_names::ALL`]): Prometheus's `up` and the exporters' standard names.
pub const EXTERNAL_METRICS: &[&str] = &[
    "up",
    // oliver006/redis_exporter
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_evicted_keys_total",
    "redis_connected_clients",
    // danielqsj/kafka-exporter
    "kafka_consumergroup_lag",
    // ClickHouse's built-in Prometheus endpoint (config.d/prometheus.xml)
    "ClickHouseProfileEvents_Query",
    "ClickHouseProfileEvents_QueryTimeMicroseconds",
    "ClickHouseProfileEvents_FailedQuery",
    // Neo4j (Enterprise) Prometheus endpoint
    "neo4j_dbms_bolt_connections_running",
    "neo4j_database_neo4j_transaction_active",
    "neo4j_database_neo4j_transaction_rollbacks_total",
    // prometheus-community/postgres_exporter
    "pg_up",
];

pub(crate) fn panel(
    id: u32,
    title: &str,
    kind: &str,
    grid: (u32, u32, u32, u32),
    targets: &[(&str, &str)],
) -> Value {
    let (x, y, w, h) = grid;
    let targets: Vec<Value> = targets
        .iter()
        .enumerate()
        .map(|(i, (expr, legend))| {
            json!({
                "refId": ((b'A' + u8::try_from(i).unwrap_or(0)) as char).to_string(),
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "expr": expr,
                "legendFormat": legend,
            })
        })
        .collect();
    json!({
        "id": id,
        "title": title,
        "type": kind,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
    })
}

pub(crate) fn dashboard_json() -> String {
    let services: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
    let mut panels = Vec::new();
    let http = m::HTTP_REQUESTS_TOTAL;
    let http_d = m::HTTP_REQUEST_DURATION_SECONDS;
    let grpc = m::GRPC_REQUESTS_TOTAL;
    let pool = m::DB_POOL_CONNECTIONS;
    let lag = m::EVENTS_CONSUMER_LAG;
    let published = m::EVENTS_PUBLISHED_TOTAL;
    let s = r#"service=~"$service""#;
    let mut avail = panel(
        1,
        &format!("Service availability ({} services)", services.len()),
        "stat",
        (0, 0, 24, 4),
        &[(
            &format!(r#"max by (service) (up{{job=~"nova-.*", {s}}})"#),
            "{{service}}",
        )],
    );
    avail["fieldConfig"] = json!({"defaults": {
        "mappings": [{"type": "value", "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}}}],
        "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": null}, {"color": "green", "value": 1}]}
    }});
    avail["options"] =
        json!({"colorMode": "background", "textMode": "value_and_name", "graphMode": "none"});
    panels.push(avail);
    panels.push(panel(
        2,
        "Request rate (HTTP req/s)",
        "timeseries",
        (0, 4, 12, 8),
        &[(
            &format!(r#"sum by (service) (rate({http}{{{s}}}[5m]))"#),
            "{{service}}",
        )],
    ));
    panels.push(panel(
        3,
        "Error rate (HTTP 5xx share)",
        "timeseries",
        (12, 4, 12, 8),
        &[(
            &format!(
                r#"sum by (service) (rate({http}{{{s}, status=~"5.."}}[5m])) / sum by (service) (rate({http}{{{s}}}[5m]))"#
            ),
            "{{service}}",
        )],
    ));
    panels.push(panel(
        4,
        "Latency p95 / p99 (HTTP)",
        "timeseries",
        (0, 12, 12, 8),
        &[
            (
                &format!(r#"histogram_quantile(0.95, sum by (service, le) (rate({http_d}_bucket{{{s}}}[5m])))"#),
                "p95 {{service}}",
            ),
            (
                &format!(r#"histogram_quantile(0.99, sum by (service, le) (rate({http_d}_bucket{{{s}}}[5m])))"#),
                "p99 {{service}}",
            ),
        ],
    ));
    let mut heat = panel(
        5,
        "Latency heatmap (HTTP)",
        "heatmap",
        (12, 12, 12, 8),
        &[(
            &format!(r#"sum by (le) (rate({http_d}_bucket{{{s}}}[5m]))"#),
            "{{le}}",
        )],
    );
    heat["targets"][0]["format"] = json!("heatmap");
    heat["options"] = json!({"calculate": false, "yAxis": {"unit": "s"}});
    panels.push(heat);
    panels.push(panel(
        6,
        "gRPC success rate",
        "timeseries",
        (0, 20, 12, 8),
        &[(
            &format!(
                r#"sum by (service) (rate({grpc}{{{s}, code="OK"}}[5m])) / sum by (service) (rate({grpc}{{{s}}}[5m]))"#
            ),
            "{{service}}",
        )],
    ));
    panels.push(panel(
        7,
        "Database pool connections",
        "timeseries",
        (12, 20, 12, 8),
        &[(
            &format!(r#"sum by (service, state) ({pool}{{{s}}})"#),
            "{{service}} {{state}}",
        )],
    ));
    panels.push(panel(
        8,
        "Redis memory and evictions",
        "timeseries",
        (0, 28, 12, 8),
        &[
            (
                "redis_memory_used_bytes / redis_memory_max_bytes",
                "memory used / max",
            ),
            ("rate(redis_evicted_keys_total[5m])", "evictions/s"),
            ("redis_connected_clients", "clients"),
        ],
    ));
    panels.push(panel(
        9,
        "Event consumer lag",
        "timeseries",
        (12, 28, 12, 8),
        &[
            (
                "sum by (consumergroup, topic) (kafka_consumergroup_lag)",
                "kafka {{consumergroup}} {{topic}}",
            ),
            (
                &format!(r#"sum by (service, consumer_group) ({lag}{{{s}}})"#),
                "{{service}} {{consumer_group}}",
            ),
            (
                &format!(r#"sum by (service) (rate({published}{{{s}}}[5m]))"#),
                "published/s {{service}}",
            ),
        ],
    ));
    panels.push(panel(
        10,
        "ClickHouse queries",
        "timeseries",
        (0, 36, 12, 8),
        &[
            (
                "rate(ClickHouseProfileEvents_QueryTimeMicroseconds[5m]) / clamp_min(rate(ClickHouseProfileEvents_Query[5m]), 1e-9) / 1e6",
                "mean query seconds",
            ),
            ("rate(ClickHouseProfileEvents_Query[5m])", "queries/s"),
            ("rate(ClickHouseProfileEvents_FailedQuery[5m])", "failed/s"),
        ],
    ));
    panels.push(panel(
        11,
        "Neo4j (Enterprise metrics endpoint)",
        "timeseries",
        (12, 36, 12, 8),
        &[
            ("neo4j_dbms_bolt_connections_running", "bolt connections"),
            (
                "neo4j_database_neo4j_transaction_active",
                "active transactions",
            ),
            (
                "rate(neo4j_database_neo4j_transaction_rollbacks_total[5m])",
                "rollbacks/s",
            ),
        ],
    ));
    let options: Vec<Value> = services
        .iter()
        .map(|n| json!({"text": n, "value": n, "selected": false}))
        .collect();
    let dashboard = json!({
        "uid": "nova-overview",
        "title": "Nova overview",
        "description": "Generated by `cargo xtask gen-deploy` from nova_runtime::SERVICES; do not edit by hand.",
        "tags": ["nova"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": false,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "service",
            "label": "Service",
            "type": "custom",
            "query": services.join(","),
            "multi": true,
            "includeAll": true,
            "allValue": ".*",
            "current": {"text": "All", "value": "$__all"},
            "options": options,
        }]},
        "panels": panels,
    });
    let mut text = serde_json::to_string_pretty(&dashboard).unwrap_or_default();
    text.push('\n');
    text
}
