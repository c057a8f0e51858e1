//! The real `search-service` binary: it starts on an empty data directory with the ports
//! it is given, answers health and readiness, keeps its index under the data directory
//! and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use nova_testkit::process::{Service, get};

#[test]
fn starts_on_an_empty_data_dir_and_answers_search() {
    let service = Service::start(env!("CARGO_BIN_EXE_search-service"), "search-service", &[]);
    let (http, data) = (service.http, &service.data);
    assert!(
        data.path().join("search").is_dir(),
        "the index lives under NOVA_DATA_DIR/search"
    );
    let (status, body) = get(http, "/api/v1/search?q=rust&type=posts").unwrap();
    assert_eq!(status, 200, "anonymous search is served: {body}");
    assert!(body.contains("\"items\":[]"), "{body}");
    let (status, body) = get(http, "/api/v1/search?q=rust&type=groups").unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("type"), "the error names the field: {body}");
}
