//! The real `feed-service` binary: it starts on an empty data directory with the ports it
//! is given, answers health and readiness, serves its routes, and refuses a bad setting
//! with one line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use nova_testkit::process::{Service, assert_refused_at_start, get};

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let service = Service::start(env!("CARGO_BIN_EXE_feed-service"), "feed-service", &[]);
    let http = service.http;
    let (status, body) = get(http, "/api/v1/feed/home").unwrap();
    assert_eq!(
        status, 401,
        "the feed routes are served and need a caller: {body}"
    );
    let (status, body) = get(http, "/api/v1/feed/explore").unwrap();
    assert_eq!(status, 200, "explore is public: {body}");
}

#[test]
fn a_bad_feed_setting_stops_it_with_one_line() {
    assert_refused_at_start(
        env!("CARGO_BIN_EXE_feed-service"),
        "feed-service",
        &[("FEED_TIMELINE_CAP", "lots")],
        "FEED_TIMELINE_CAP",
    );
}
