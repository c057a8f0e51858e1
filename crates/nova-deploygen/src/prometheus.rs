//! Prometheus: the scrape configuration of every service.

use super::*;

/// The scrape address of a service in docker compose.
pub(crate) fn compose_target(s: &ServiceSpec) -> String {
    format!("{}:{}", s.name, s.http_port)
}

pub(crate) fn prometheus_yml() -> String {
    let mut out = format!(
        "{HEADER}# Kubernetes: pods in namespace `{NAMESPACE}` annotated prometheus.io/scrape=true (job nova-kubernetes).
# Docker compose: static targets (job nova-services); the Kubernetes job finds nothing there.
global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    system: nova
rule_files:
  - /etc/prometheus/rules/*.yml
scrape_configs:
  - job_name: nova-kubernetes
    honor_labels: true
    metrics_path: {metrics}
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [{NAMESPACE}]
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        regex: \"true\"
        action: keep
      - source_labels: [__meta_kubernetes_pod_container_port_name]
        regex: http
        action: keep
      - source_labels: [__meta_kubernetes_pod_label_app]
        target_label: service
      - source_labels: [__meta_kubernetes_pod_label_track]
        target_label: track
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
  - job_name: nova-services
    honor_labels: true
    metrics_path: {metrics}
    static_configs:
",
        metrics = q(METRICS_PATH)
    );
    for s in SERVICES {
        let _ = write!(
            out,
            "      - targets: [{}]\n        labels:\n          service: {}\n",
            q(&compose_target(s)),
            s.name
        );
    }
    out.push_str(
        "  # Backend exporters (compose service names; in Kubernetes point these at your exporters).
  - job_name: redis
    static_configs:
      - targets: [\"redis-exporter:9121\"]
  - job_name: kafka
    static_configs:
      - targets: [\"kafka-exporter:9308\"]
  - job_name: clickhouse
    static_configs:
      - targets: [\"clickhouse:9363\"]
  - job_name: neo4j
    static_configs:
      - targets: [\"neo4j:2004\"]
  - job_name: postgres
    static_configs:
      - targets: [\"postgres-exporter:9187\"]
  - job_name: prometheus
    static_configs:
      - targets: [\"localhost:9090\"]
",
    );
    out
}
