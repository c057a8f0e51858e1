//! `nova demo` against the real binary: it seeds the network through the domains, a
//! second start leaves it alone, and the seeded accounts log in with the demo password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, http, wait_for_http};

fn start_demo(data: &std::path::Path) -> (Running, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .arg("demo")
        .env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let running = Running(child);
    wait_for_http(port, "/api/v1/health", "nova demo");
    (running, port)
}

#[test]
fn demo_seeds_once_and_its_accounts_log_in() {
    let data = tempfile::tempdir().unwrap();
    let (nova, port) = start_demo(data.path());
    let (status, body) = http(port, "GET", "/api/v1/users/by-username/grace", "", "").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Grace Hopper"), "{body}");
    let login = r#"{"identifier":"ada","password":"nova-demo-password"}"#;
    let (status, body) = http(port, "POST", "/api/v1/auth/login", "", login).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("access_token"), "{body}");
    drop(nova);

    // A second start on the same data keeps the one network (no duplicate accounts,
    // no error from re-registering).
    let (_nova, port) = start_demo(data.path());
    let (status, _) = http(port, "GET", "/api/v1/users/by-username/ada", "", "").unwrap();
    assert_eq!(status, 200);
}

#[test]
fn an_unknown_command_is_one_line_and_exit_code_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_nova"))
        .arg("dmeo")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("dmeo"), "{stderr}");
}

/// The GraphiQL page works offline in a real browser: headless Chromium (driven over
/// WebDriver by chromedriver) opens it on `nova demo`, the docs explorer lists `Query`'s
/// fields from live introspection, and the README's three queries run through the editor.
/// The screenshot is kept in `target/nova-test-artifacts/graphiql.png`.
#[test]
fn graphiql_runs_the_readme_queries_in_headless_chromium() {
    let Some(chromedriver) = nova_testkit::backend_url("NOVA_TEST_CHROMEDRIVER") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let (_nova, port) = start_demo(data.path());
    let driver_port = free_port();
    let _driver = Running(
        Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}")),
    );
    // chromedriver keeps connections open, which the testkit's one-shot client waits on:
    // a listening port is enough here, fantoccini asks for the session.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "chromedriver did not come up"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let screenshot = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(drive_graphiql(driver_port, port, profile.path()));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../nova-test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("graphiql.png"), &screenshot).unwrap();
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");
}

/// The editors are CodeMirror 5 instances; GraphiQL exposes no other scripting API.
const EDITOR: &str = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror";
const RESPONSE: &str = "document.querySelector('.graphiql-response .CodeMirror').CodeMirror";

async fn drive_graphiql(driver_port: u16, port: u16, profile: &std::path::Path) -> Vec<u8> {
    use fantoccini::{ClientBuilder, Locator};
    use serde_json::json;
    use std::time::Duration;

    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("NOVA_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.display())],
        }),
    );
    let browser = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a chromedriver session");
    let result = async {
        browser.goto(&format!("http://127.0.0.1:{port}/")).await.unwrap();
        // The docs explorer is filled from the live introspection query: it lists the root
        // type, and opening it lists Query's fields.
        let wait = || browser.wait().at_most(Duration::from_secs(30));
        wait()
            .for_element(Locator::Css(".graphiql-query-editor .CodeMirror"))
            .await
            .expect("GraphiQL renders its editor (assets served offline)");
        wait()
            .for_element(Locator::Css("button[aria-label='Show Documentation Explorer']"))
            .await
            .expect("the docs button")
            .click()
            .await
            .unwrap();
        wait()
            .for_element(Locator::XPath(
                "//div[contains(@class,'graphiql-doc-explorer')]//a[text()='Query']",
            ))
            .await
            .expect("the docs explorer names the Query type from introspection")
            .click()
            .await
            .unwrap();
        for field in ["homeFeed", "trending", "search"] {
            wait()
                .for_element(Locator::XPath(&format!(
                    "//div[contains(@class,'graphiql-doc-explorer')]//a[text()='{field}']"
                )))
                .await
                .unwrap_or_else(|e| panic!("the docs explorer lists Query.{field}: {e}"));
        }

        // The README's walkthrough: log in, then the home feed and trending with the token
        // in the headers editor.
        let login = run_query(
            &browser,
            r#"mutation { login(identifier: "grace", password: "nova-demo-password") { tokens { accessToken } } }"#,
        )
        .await;
        let token = login["data"]["login"]["tokens"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login answers a token: {login}"))
            .to_owned();
        wait()
            .for_element(Locator::XPath("//button[text()='Headers']"))
            .await
            .expect("the headers tab")
            .click()
            .await
            .unwrap();
        let headers = json!({ "Authorization": format!("Bearer {token}") }).to_string();
        browser
            .execute(
                "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror.setValue(arguments[0])",
                vec![json!(headers)],
            )
            .await
            .expect("the headers editor takes the token");
        let feed = run_query(
            &browser,
            "{ homeFeed(mode: RANKED, first: 10) { edges { reason node { text author { username displayName } likeCount } } pageInfo { hasNextPage endCursor } } }",
        )
        .await;
        let edges = feed["data"]["homeFeed"]["edges"].as_array().unwrap_or_else(|| panic!("{feed}"));
        assert!(!edges.is_empty(), "grace's seeded home feed has posts: {feed}");
        let trending = run_query(&browser, r#"{ trending(window: "1h", first: 5) { kind label score } }"#).await;
        assert!(trending["data"]["trending"].is_array(), "{trending}");
        assert!(trending.get("errors").is_none(), "{trending}");
        browser.screenshot().await.expect("a screenshot")
    }
    .await;
    browser.close().await.ok();
    result
}

/// Types `query` into the editor, presses GraphiQL's run button and waits for a new
/// response in the result pane.
async fn run_query(browser: &fantoccini::Client, query: &str) -> serde_json::Value {
    use fantoccini::Locator;
    use serde_json::json;
    use std::time::Duration;

    browser
        .execute(
            &format!("{EDITOR}.setValue(arguments[0]); {RESPONSE}.setValue('')"),
            vec![json!(query)],
        )
        .await
        .expect("the query editor takes the query");
    browser
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .expect("the run button")
        .click()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = browser
            .execute(&format!("return {RESPONSE}.getValue()"), vec![])
            .await
            .unwrap();
        if let Some(parsed) = text.as_str().and_then(|t| serde_json::from_str(t).ok()) {
            return parsed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no response to {query}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Code generators see the schema we commit: graphql-core (PyPI) sends the standard
/// introspection query to the running binary's `/graphql`, rebuilds the schema with
/// `build_client_schema`, and it equals `schema.graphql`.
#[test]
fn live_introspection_rebuilds_schema_graphql_in_graphql_core() {
    let python = Command::new("python3")
        .args(["-c", "import graphql"])
        .status()
        .is_ok_and(|s| s.success());
    if !python {
        assert!(
            !nova_testkit::in_ci(),
            "python3 with graphql-core is required under CI=true (cargo xtask test installs it)"
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let (_nova, port) = start_demo(data.path());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("python3")
        .arg(root.join("shells/nova/tests/introspection_roundtrip.py"))
        .arg(format!("http://127.0.0.1:{port}/graphql"))
        .arg(root.join("schema.graphql"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
