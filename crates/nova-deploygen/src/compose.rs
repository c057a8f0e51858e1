//! docker compose: every service with its health check, the infrastructure and monitoring
//! containers, and the port section of `deploy/.env.example`.

use super::*;

/// A bash health check of `/api/v1/health` on `port` (the runtime image has no curl).
pub fn health_probe_script(port: u16) -> String {
    format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET {HEALTH_PATH} HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"
    )
}

pub(crate) fn compose_healthcheck(out: &mut String, test: &[&str], start: &str) {
    let list: Vec<String> = test.iter().map(|t| q(t)).collect();
    let _ = write!(
        out,
        "    healthcheck:\n      test: [{}]\n      interval: 10s\n      timeout: 5s\n      retries: 10\n      start_period: {start}\n",
        list.join(", ")
    );
}

/// The compose service names of the infrastructure a backend maps to.
pub(crate) fn compose_backend(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => "postgres",
        Backend::Redis => "redis",
        Backend::Kafka => "kafka",
        Backend::ClickHouse => "clickhouse",
        Backend::Neo4j => "neo4j",
        Backend::Elasticsearch => "elasticsearch",
        Backend::S3 => "minio",
    }
}

pub(crate) fn compose_yml() -> String {
    let mut out = format!(
        "{HEADER}# Production-like single host: infrastructure, the services built from
# deploy/Dockerfile.template, Prometheus and Grafana. Secrets come from the env file
# (`cp deploy/.env.example deploy/.env`, then edit), never from this file.
#   docker compose -f deploy/docker-compose.prod.yml up -d --build
x-env-file: &env-file
  env_file: ${{NOVA_ENV_FILE:-.env}}
services:
"
    );
    out.push_str(COMPOSE_INFRA);
    for s in SERVICES {
        let _ = write!(
            out,
            "  {svc}:
    build:
      context: ..
      dockerfile: deploy/Dockerfile.template
      args:
        SERVICE_NAME: {svc}
        HTTP_PORT: \"{http}\"
    image: ${{NOVA_IMAGE_REGISTRY:-nova}}/{svc}:${{NOVA_IMAGE_TAG:-latest}}
    restart: unless-stopped
    <<: *env-file
    environment:
      NOVA_BIND_ADDR: 0.0.0.0
      NOVA_DATA_DIR: /data
    read_only: true
    tmpfs:
      - /tmp
    volumes:
      - {svc}-data:/data
    expose:
      - \"{http}\"
",
            svc = s.name,
            http = s.http_port
        );
        if let Some(g) = s.grpc_port {
            let _ = writeln!(out, "      - \"{g}\"");
        }
        if s.grpc_port.is_none() {
            let _ = write!(
                out,
                "    ports:\n      - \"${{{}:-{}}}:{}\"\n",
                s.http_port_env(),
                s.http_port,
                s.http_port
            );
        }
        let deps: Vec<&str> = if s.backends.is_empty() {
            SERVICES
                .iter()
                .filter(|o| o.name != s.name)
                .map(|o| o.name)
                .collect()
        } else {
            s.backends.iter().map(|b| compose_backend(*b)).collect()
        };
        out.push_str("    depends_on:\n");
        for d in deps {
            let _ = write!(out, "      {d}:\n        condition: service_healthy\n");
        }
        compose_healthcheck(
            &mut out,
            &["CMD", "bash", "-c", &health_probe_script(s.http_port)],
            "30s",
        );
    }
    out.push_str(COMPOSE_MONITORING);
    out.push_str("volumes:\n");
    for v in [
        "postgres-data",
        "redis-data",
        "clickhouse-data",
        "neo4j-data",
        "kafka-data",
        "elasticsearch-data",
        "minio-data",
        "prometheus-data",
        "grafana-data",
    ] {
        let _ = writeln!(out, "  {v}:");
    }
    for s in SERVICES {
        let _ = writeln!(out, "  {}-data:", s.name);
    }
    out
}

pub(crate) const COMPOSE_INFRA: &str = r#"  postgres:
    image: postgres:16-bookworm
    restart: unless-stopped
    <<: *env-file
    volumes:
      - postgres-data:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U \"$${POSTGRES_USER}\" -d \"$${POSTGRES_DB}\""]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 20s
  redis:
    image: redis:7-bookworm
    restart: unless-stopped
    <<: *env-file
    command: ["sh", "-c", "exec redis-server --appendonly yes --maxmemory $${REDIS_MAXMEMORY:-512mb} --maxmemory-policy allkeys-lru --requirepass \"$${REDIS_PASSWORD}\""]
    volumes:
      - redis-data:/data
    healthcheck:
      test: ["CMD-SHELL", "REDISCLI_AUTH=\"$${REDIS_PASSWORD}\" redis-cli ping | grep -q PONG"]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 10s
  clickhouse:
    image: clickhouse/clickhouse-server:23.8
    restart: unless-stopped
    <<: *env-file
    ulimits:
      nofile:
        soft: 262144
        hard: 262144
    volumes:
      - clickhouse-data:/var/lib/clickhouse
      - ../monitoring/clickhouse/prometheus.xml:/etc/clickhouse-server/config.d/prometheus.xml:ro
    healthcheck:
      test: ["CMD", "clickhouse-client", "--query", "SELECT 1"]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 20s
  neo4j:
    image: neo4j:5-community
    restart: unless-stopped
    <<: *env-file
    volumes:
      - neo4j-data:/data
    healthcheck:
      test: ["CMD-SHELL", "cypher-shell -a bolt://localhost:7687 -u neo4j -p \"$${NEO4J_PASSWORD}\" 'RETURN 1' >/dev/null"]
      interval: 10s
      timeout: 10s
      retries: 12
      start_period: 40s
  kafka:
    image: apache/kafka:3.7.0
    restart: unless-stopped
    environment:
      KAFKA_NODE_ID: 1
      KAFKA_PROCESS_ROLES: broker,controller
      KAFKA_LISTENERS: PLAINTEXT://:9092,CONTROLLER://:9093
      KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092
      KAFKA_CONTROLLER_LISTENER_NAMES: CONTROLLER
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
      KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1
      KAFKA_LOG_DIRS: /var/lib/kafka/data
    volumes:
      - kafka-data:/var/lib/kafka/data
    healthcheck:
      test: ["CMD-SHELL", "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null"]
      interval: 10s
      timeout: 10s
      retries: 12
      start_period: 30s
  elasticsearch:
    image: docker.elastic.co/elasticsearch/elasticsearch:8.13.4
    restart: unless-stopped
    <<: *env-file
    environment:
      discovery.type: single-node
      xpack.security.enabled: "true"
      ES_JAVA_OPTS: -Xms1g -Xmx1g
    volumes:
      - elasticsearch-data:/usr/share/elasticsearch/data
    healthcheck:
      test: ["CMD-SHELL", "curl -fsu \"elastic:$${ELASTIC_PASSWORD}\" 'http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s' >/dev/null"]
      interval: 10s
      timeout: 10s
      retries: 12
      start_period: 60s
  minio:
    image: minio/minio:RELEASE.2024-06-13T22-53-53Z
    restart: unless-stopped
    <<: *env-file
    command: ["server", "/data", "--console-address", ":9001"]
    volumes:
      - minio-data:/data
    healthcheck:
      test: ["CMD", "mc", "ready", "local"]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 10s
  redis-exporter:
    image: oliver006/redis_exporter:v1.62.0
    restart: unless-stopped
    <<: *env-file
    environment:
      REDIS_ADDR: redis://redis:6379
    depends_on:
      redis:
        condition: service_healthy
  kafka-exporter:
    image: danielqsj/kafka-exporter:v1.7.0
    restart: unless-stopped
    command: ["--kafka.server=kafka:9092"]
    depends_on:
      kafka:
        condition: service_healthy
  postgres-exporter:
    image: quay.io/prometheuscommunity/postgres-exporter:v0.15.0
    restart: unless-stopped
    <<: *env-file
    depends_on:
      postgres:
        condition: service_healthy
"#;

pub(crate) const COMPOSE_MONITORING: &str = r#"  prometheus:
    image: prom/prometheus:v2.53.0
    restart: unless-stopped
    command: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.retention.time=15d"]
    volumes:
      - ../monitoring/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro
      - ../monitoring/prometheus/rules:/etc/prometheus/rules:ro
      - prometheus-data:/prometheus
    ports:
      - "127.0.0.1:9090:9090"
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:9090/-/healthy"]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 10s
  grafana:
    image: grafana/grafana:10.4.5
    restart: unless-stopped
    <<: *env-file
    volumes:
      - ../monitoring/grafana/provisioning:/etc/grafana/provisioning:ro
      - ../monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro
      - grafana-data:/var/lib/grafana
    ports:
      - "127.0.0.1:3000:3000"
    depends_on:
      prometheus:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:3000/api/health"]
      interval: 10s
      timeout: 5s
      retries: 10
      start_period: 20s
"#;

pub(crate) fn env_ports_section() -> String {
    let mut out = format!(
        "{ENV_PORTS_BEGIN}\n# Locked convention: gRPC port = HTTP port + 1000; the gateway serves HTTP only.\n"
    );
    for s in SERVICES {
        let _ = writeln!(out, "# {} HTTP port ({})", s.name, s.description);
        let _ = writeln!(out, "{}={}", s.http_port_env(), s.http_port);
        if let (Some(env), Some(port)) = (s.grpc_port_env(), s.grpc_port) {
            let _ = writeln!(out, "# {} gRPC port", s.name);
            let _ = writeln!(out, "{env}={port}");
        }
    }
    out.push_str(ENV_PORTS_END);
    out.push('\n');
    out
}
