//! Every metric the alerts (`monitoring/prometheus/rules/alerts.yml`) and the dashboard
//! (`monitoring/grafana/dashboards/nova-overview.json`) query is one that exists: Nova's
//! own names are in `nova_runtime::metrics_names::ALL` and are read back from the real
//! `nova` binary's `/metrics`; the rest are `up` and the exporters' standard names listed
//! in `nova_deploygen::EXTERNAL_METRICS`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nova_deploygen::EXTERNAL_METRICS;
use nova_runtime::metrics_names;

const ALERTS: &str = include_str!("../../../monitoring/prometheus/rules/alerts.yml");
const DASHBOARD: &str = include_str!("../../../monitoring/grafana/dashboards/nova-overview.json");

/// Nova metrics the all-in-one binary cannot export yet, and why. The test fails when one
/// of them shows up in its `/metrics`, so this list only shrinks.
const NOT_EXPORTED_BY_NOVA: &[(&str, &str)] = &[
    (
        metrics_names::GRPC_REQUESTS_TOTAL,
        "nova serves no gRPC; shells/identity-service/tests/metrics.rs reads it from identity-service",
    ),
    (
        metrics_names::GRPC_REQUEST_DURATION_SECONDS,
        "nova serves no gRPC; shells/identity-service/tests/metrics.rs reads it from identity-service",
    ),
];

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
];

/// Aggregation operators: `sum by (x) (...)` puts the grouping between name and call.
const AGGREGATORS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// The metric names a PromQL expression selects (functions, label names and values,
/// grouping labels, numbers and durations removed).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut skip_group = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                let mut quote = None;
                while i < chars.len() && (quote.is_some() || chars[i] != close) {
                    match (quote, chars[i]) {
                        (Some(_), '\\') => i += 1,
                        (Some(q), ch) if ch == q => quote = None,
                        (None, ch @ ('"' | '\'' | '`')) => quote = Some(ch),
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            '(' if skip_group => {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                i += 1;
                skip_group = false;
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                let is_call = j < chars.len() && chars[j] == '(';
                let lower = word.to_ascii_lowercase();
                if KEYWORDS.contains(&lower.as_str()) {
                    skip_group = matches!(
                        lower.as_str(),
                        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                    );
                } else if !is_call && !AGGREGATORS.contains(&lower.as_str()) {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

/// `name_bucket` / `_sum` / `_count` of a known histogram, as the histogram's name.
fn base_name(name: &str) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && metrics_names::ALL.contains(&base)
        {
            return base.to_owned();
        }
    }
    name.to_owned()
}

fn used_names() -> BTreeSet<String> {
    let mut exprs: Vec<String> = ALERTS
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .map(str::to_owned)
        .collect();
    let alert_exprs = exprs.len();
    for line in DASHBOARD.lines() {
        if let Some(rest) = line.trim().strip_prefix("\"expr\": \"") {
            let json = rest.trim_end_matches(',').trim_end_matches('"');
            exprs.push(json.replace("\\\"", "\"").replace("\\\\", "\\"));
        }
    }
    assert!(
        alert_exprs >= 15,
        "alerts.yml: found {alert_exprs} expressions"
    );
    assert!(
        exprs.len() - alert_exprs >= 15,
        "dashboard: too few expressions"
    );
    exprs
        .iter()
        .flat_map(|e| metric_names(e))
        .map(|n| base_name(&n))
        .collect()
}

#[test]
fn the_promql_name_extractor_finds_only_metrics() {
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (service, le) (rate(nova_http_request_duration_seconds_bucket{service=~"$service", route="/a{b}"}[5m]))) > 1e6 and on (job) up == 0 / ignoring(x) ClickHouseProfileEvents_Query"#,
    );
    let expected: BTreeSet<String> = [
        "nova_http_request_duration_seconds_bucket",
        "up",
        "ClickHouseProfileEvents_Query",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(names, expected);
    assert_eq!(
        base_name("nova_http_request_duration_seconds_bucket"),
        "nova_http_request_duration_seconds"
    );
    assert_eq!(base_name("foo_bucket"), "foo_bucket");
}

#[test]
fn alerts_and_dashboard_use_only_known_metrics_and_every_nova_metric() {
    let used = used_names();
    for name in &used {
        assert!(
            metrics_names::ALL.contains(&name.as_str())
                || EXTERNAL_METRICS.contains(&name.as_str()),
            "monitoring queries {name}, which no Nova shell or listed exporter exports"
        );
    }
    for name in metrics_names::ALL {
        assert!(
            used.contains(*name),
            "{name} is exported but neither alerted on nor charted"
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn request(port: u16, method: &str, path: &str, json: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The metric names in a Prometheus text exposition (`# TYPE name kind` lines).
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_nova_binary_exports_the_nova_metrics_monitoring_uses() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _nova = Running(
        Command::new(env!("CARGO_BIN_EXE_nova"))
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_HTTP_PORT", port.to_string())
            .env("NOVA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/api/v1/health", "").is_none() {
        assert!(Instant::now() < deadline, "nova did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Traffic that touches each metric: requests (200 and 404), a registration (events).
    let _ = request(port, "GET", "/api/v1/no-such-route", "");
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/auth/register",
        r#"{"email":"mon@example.com","username":"mon","password":"correct horse battery staple"}"#,
    )
    .unwrap();
    assert!(status < 300, "{status} {body}");

    let not_exported: BTreeSet<&str> = NOT_EXPORTED_BY_NOVA.iter().map(|(n, _)| *n).collect();
    let wanted: BTreeSet<String> = used_names()
        .into_iter()
        .filter(|n| n.starts_with("nova_") && !not_exported.contains(n.as_str()))
        .collect();
    assert!(wanted.len() >= 4, "{wanted:?}");
    // The pool gauge and the event counter appear on their own schedule: poll.
    let deadline = Instant::now() + Duration::from_secs(40);
    let names = loop {
        let (status, text) = request(port, "GET", "/metrics", "").unwrap();
        assert_eq!(status, 200);
        let names = exported(&text);
        if wanted.iter().all(|n| names.contains(n)) || Instant::now() > deadline {
            break names;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let missing: Vec<_> = wanted.iter().filter(|n| !names.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "nova's /metrics lacks {missing:?}; it has {names:?}"
    );
    for name in names.iter().filter(|n| n.starts_with("nova_")) {
        assert!(
            metrics_names::ALL.contains(&name.as_str()),
            "nova exports {name}, which metrics_names::ALL does not list"
        );
    }
    for (name, why) in NOT_EXPORTED_BY_NOVA {
        assert!(
            !names.contains(*name),
            "nova now exports {name} ({why} no longer holds): remove it from NOT_EXPORTED_BY_NOVA"
        );
    }
}
