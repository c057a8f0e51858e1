//! GraphiQL served from the binary: its scripts and styles are vendored from npm into
//! `assets/graphiql/` (`refresh.sh` renews them), so the IDE works offline and in
//! locked-down deployments, and no third-party CDN can change what runs on our origin.
//! The page names each asset with its subresource-integrity hash and is served under a
//! content security policy that allows scripts from this origin only.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha384};

/// Where the assets are served; the page refers to them by these paths.
pub(crate) const ASSET_PREFIX: &str = "/graphiql/assets";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 5] = [
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "init.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/graphiql/init.js"),
    },
];

/// Scripts only from this origin (no inline script); GraphiQL sets inline styles and
/// draws icons from `data:` URLs; queries and subscriptions go back to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `sha384-…` for `<script integrity>` (computed once: the assets are constants).
fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)))
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    let tag = |asset: &Asset| {
        let src = format!("{ASSET_PREFIX}/{}", asset.name);
        let sri = integrity(asset.bytes);
        if asset.name.ends_with(".css") {
            format!(r#"<link rel="stylesheet" href="{src}" integrity="{sri}">"#)
        } else {
            format!(r#"<script src="{src}" integrity="{sri}"></script>"#)
        }
    };
    let (styles, scripts): (Vec<&Asset>, Vec<&Asset>) =
        ASSETS.iter().partition(|a| a.name.ends_with(".css"));
    let head: Vec<String> = styles.into_iter().map(tag).collect();
    let body: Vec<String> = scripts.into_iter().map(tag).collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Nova GraphQL</title>\n{}\n\
         <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>\n</head>\n\
         <body>\n<div id=\"graphiql\">Loading…</div>\n{}\n</body>\n</html>\n",
        head.join("\n"),
        body.join("\n"),
    )
});

/// The IDE page (for `GET /` and `GET /graphql`).
pub(crate) async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // Revalidated daily: the names carry no version, and a refresh must reach browsers.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /graphiql/assets/{name}`.
pub(crate) fn asset_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(&format!("{ASSET_PREFIX}/{{name}}"), get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Sha256;

    const SUMS: &str = include_str!("../assets/graphiql/SHA256SUMS");

    #[test]
    fn vendored_assets_match_their_recorded_checksums() {
        let mut checked = 0;
        for line in SUMS.lines() {
            let (sum, name) = line.split_once("  ").expect("sha256sum format");
            let asset = ASSETS.iter().find(|a| a.name == name).expect(name);
            let actual: String = Sha256::digest(asset.bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(actual, sum, "{name} differs from what refresh.sh recorded");
            checked += 1;
        }
        assert_eq!(checked, 4, "every vendored npm file is recorded");
    }

    #[test]
    fn the_page_loads_every_asset_from_this_origin_with_its_integrity() {
        assert!(
            !PAGE.contains("http://") && !PAGE.contains("https://"),
            "{}",
            *PAGE
        );
        for asset in &ASSETS {
            let src = format!("{ASSET_PREFIX}/{}", asset.name);
            let tag = PAGE.lines().find(|l| l.contains(&src)).expect(asset.name);
            assert!(tag.contains(&integrity(asset.bytes)), "{tag}");
        }
    }
}
