//! The real `trust-safety-service` binary: it starts on an empty data directory with the
//! ports it is given, answers health and readiness, listens for gRPC, and hides every
//! moderation route from a caller without a moderator token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use nova_testkit::process::{Service, get};

#[test]
fn starts_on_an_empty_data_dir_and_hides_moderation_from_strangers() {
    let service = Service::start(
        env!("CARGO_BIN_EXE_trust-safety-service"),
        "trust-safety-service",
        &[],
    );
    let http = service.http;
    let (missing, missing_body) = get(http, "/api/v1/no-such-route").unwrap();
    for route in [
        "/api/v1/moderation/queue",
        "/api/v1/moderation/audit",
        "/api/v1/moderation/rules",
        "/api/v1/moderation/appeals",
    ] {
        let (status, body) = get(http, route).unwrap();
        assert_eq!(
            (status, body.as_str()),
            (missing, missing_body.as_str()),
            "{route} answers an anonymous caller like a missing route"
        );
    }
    let (status, _) = get(http, "/api/v1/reports").unwrap();
    assert_eq!(status, 401, "reports need a signed-in caller");
}
