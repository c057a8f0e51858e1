//! `deploy/.env.example` names every variable the code reads (`nova_app::cli::env_vars`,
//! the registry's port variables), each under a one-line comment; and every other variable in it says it is not read by Nova yet
//! (`reserved: not read yet`) or is read by an infrastructure container (`infra:`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;

use nova_runtime::SERVICES;

const ENV_EXAMPLE: &str = include_str!("../../../deploy/.env.example");

/// Variable name -> (value, comment line above it). `# NAME=` lines count as variables
/// (optional overrides left commented out).
fn parse(text: &str) -> BTreeMap<String, (String, String)> {
    let mut vars = BTreeMap::new();
    let mut previous = "";
    let mut previous_is_var = false;
    for line in text.lines() {
        let body = line.strip_prefix("# ").unwrap_or(line);
        if let Some((name, value)) = body.split_once('=')
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            assert!(
                previous.starts_with("# ") && !previous_is_var,
                "{name} needs a one-line comment above it, found {previous:?}"
            );
            let old = vars.insert(name.to_owned(), (value.to_owned(), previous.to_owned()));
            assert!(old.is_none(), "{name} appears twice");
            previous_is_var = true;
        } else {
            previous_is_var = false;
        }
        previous = line;
    }
    vars
}

fn code_vars() -> Vec<String> {
    let mut names: Vec<String> = nova_app::cli::env_vars()
        .map(|v| v.name.to_owned())
        .collect();
    for s in SERVICES {
        names.push(s.http_port_env());
        names.extend(s.grpc_port_env());
    }
    names
}

#[test]
fn every_variable_the_code_reads_is_in_env_example() {
    let vars = parse(ENV_EXAMPLE);
    for name in code_vars() {
        let (_, comment) = vars
            .get(&name)
            .unwrap_or_else(|| panic!("deploy/.env.example lacks {name}"));
        assert!(
            !comment.contains("reserved:") && !comment.starts_with("# infra:"),
            "{name} is read by the code but marked {comment:?}"
        );
    }
}

#[test]
fn every_remote_part_variable_is_listed() {
    // Part::remote names the variable a process reads to reach a part elsewhere; --help
    // and .env.example only know what env_vars lists.
    let listed: Vec<&str> = nova_app::cli::env_vars().map(|v| v.name).collect();
    for part in nova_app::Part::ALL {
        if let Some((var, _)) = part.remote() {
            assert!(
                listed.contains(&var),
                "{part:?} reads {var}, which env_vars lacks"
            );
        }
    }
}

#[test]
fn every_other_variable_is_marked_reserved_or_infra() {
    let code = code_vars();
    for (name, (_, comment)) in parse(ENV_EXAMPLE) {
        if !code.contains(&name) {
            assert!(
                comment.starts_with("# reserved: not read yet") || comment.starts_with("# infra:"),
                "{name} is not read by Nova: its comment must start with `reserved: not read yet` or `infra:`, found {comment:?}"
            );
        }
    }
}

#[test]
fn ports_follow_the_locked_convention() {
    let vars = parse(ENV_EXAMPLE);
    for s in SERVICES {
        assert_eq!(
            vars[&s.http_port_env()].0,
            s.http_port.to_string(),
            "{}",
            s.name
        );
        if let (Some(env), Some(grpc)) = (s.grpc_port_env(), s.grpc_port) {
            assert_eq!(vars[&env].0, grpc.to_string(), "{}", s.name);
            assert_eq!(grpc, s.http_port + 1000);
        }
    }
    assert_eq!(vars["GRAPHQL_GATEWAY_PORT"].0, "8000");
}

#[test]
fn the_seed_sections_are_present() {
    let vars = parse(ENV_EXAMPLE);
    for name in [
        "DATABASE_URL",
        "CLICKHOUSE_URL",
        "NEO4J_URI",
        "REDIS_URL",
        "KAFKA_BROKERS",
        "ELASTICSEARCH_URL",
        "S3_BUCKET",
        "S3_ENDPOINT",
        "JWT_PRIVATE_KEY_PATH",
        "GOOGLE_CLIENT_ID",
        "APPLE_CLIENT_ID",
        "APNS_KEY_PATH",
        "FCM_PROJECT_ID",
        "SMTP_HOST",
        "FEATURE_TRENDING_ENABLED",
        "FEATURE_VIDEO_CALLS_ENABLED",
        "FEATURE_LOCATION_SHARING_ENABLED",
    ] {
        assert!(vars.contains_key(name), "{name}");
    }
}

#[test]
fn the_parser_rejects_an_uncommented_variable() {
    assert!(std::panic::catch_unwind(|| parse("FOO=1\n")).is_err());
    assert!(std::panic::catch_unwind(|| parse("# a\nFOO=1\nBAR=2\n")).is_err());
    assert_eq!(parse("# what\nFOO=1\n")["FOO"].1, "# what");
}

#[test]
fn dockerfile_template_has_the_required_shape() {
    let dockerfile = include_str!("../../../deploy/Dockerfile.template");
    for needle in [
        "ARG SERVICE_NAME",
        "cargo chef prepare",
        "cargo chef cook --release",
        "CARGO_PROFILE_RELEASE_LTO=fat",
        "CARGO_PROFILE_RELEASE_STRIP=symbols",
        "FROM debian:${DEBIAN_RELEASE}-slim",
        "ca-certificates",
        "useradd --uid 1000",
        "USER 1000:1000",
        "HEALTHCHECK",
        "GET /api/v1/health",
        "--features \"${CARGO_FEATURES}\"",
    ] {
        assert!(
            dockerfile.contains(needle),
            "Dockerfile.template lacks {needle:?}"
        );
    }
    // Images build with CARGO_FEATURES (default `kafka`): every service shell must have it.
    let mut shells = 0;
    for service in SERVICES {
        let manifest = format!(
            "{}/../{}/Cargo.toml",
            env!("CARGO_MANIFEST_DIR"),
            service.name
        );
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            assert!(
                text.contains("kafka = [\"nova-runtime/kafka\"]"),
                "{manifest} lacks the kafka feature the Dockerfile builds with"
            );
            shells += 1;
        }
    }
    assert!(shells >= 8, "found only {shells} service shells");
    // The final stage copies exactly one file from the builder: the binary.
    let runtime = dockerfile.split("AS runtime").nth(1).unwrap();
    assert_eq!(runtime.matches("COPY").count(), 1);
}

#[test]
fn every_service_may_reach_the_grpc_ports_it_calls() {
    // The NetworkPolicies let onto a gRPC port only the callers GRPC_CALLERS lists: a
    // service that reaches a part elsewhere (what Settings::read finds from its plan)
    // must be among them, or the cluster refuses what the code does.
    for plan in nova_app::PLANS.iter().filter(|p| !p.all_in_one) {
        let here = |part: &nova_app::Part| plan.serves.contains(part) || plan.local.contains(part);
        let mut todo: Vec<nova_app::Part> = plan.serves.iter().chain(plan.local).copied().collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(part) = todo.pop() {
            if !seen.insert(part) {
                continue;
            }
            if here(&part) {
                todo.extend(part.needs());
                continue;
            }
            let Some((_, service)) = part.remote() else {
                continue;
            };
            let callers = nova_deploygen::GRPC_CALLERS
                .iter()
                .find(|(name, _)| *name == service)
                .map(|(_, callers)| *callers)
                .unwrap_or_default();
            assert!(
                callers.contains(&plan.service),
                "{} calls {service} ({part:?}) but GRPC_CALLERS does not let it",
                plan.service
            );
        }
    }
}
