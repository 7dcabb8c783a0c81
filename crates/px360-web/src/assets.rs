//! Static assets (Bootstrap, htmx, our stylesheet) embedded in the binary and served under
//! `/ui/assets/…`.
//!
//! Pages link to `…?v=<content hash>`, so an asset can be cached for a year (`immutable`): a
//! changed file gets a new URL. The hash is also the `ETag` for conditional requests.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

// `debug-embed` is on: debug builds (and the tests) serve the embedded bytes too, never files
// read from the working directory.
#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub const BOOTSTRAP_CSS: &str = "vendor/bootstrap-5.3.9/bootstrap.min.css";
pub const BOOTSTRAP_RTL_CSS: &str = "vendor/bootstrap-5.3.9/bootstrap.rtl.min.css";
pub const HTMX_JS: &str = "vendor/htmx-4.0.1/htmx.min.js";
pub const APP_CSS: &str = "app.css";
/// "Copy" buttons of the integrations page (progressive enhancement).
pub const COPY_JS: &str = "copy.js";
/// Chart.js 4.6.2 (npm, MIT) and the analytics pages' chart setup.
pub const CHART_JS: &str = "vendor/chartjs-4.6.2/chart.umd.min.js";
pub const ANALYTICS_JS: &str = "analytics.js";
/// The QI project page's run charts (Chart.js).
pub const QI_JS: &str = "qi.js";

/// The versioned URL of an embedded asset (`/ui/assets/<path>?v=<first 16 hex of SHA-256>`).
pub fn url(path: &str) -> String {
    match Assets::get(path) {
        Some(f) => format!(
            "/ui/assets/{path}?v={}",
            &hex(&f.metadata.sha256_hash())[..16]
        ),
        None => format!("/ui/assets/{path}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "map" | "json" => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    (h, file.data.into_owned()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_assets_are_embedded() {
        for p in [BOOTSTRAP_CSS, BOOTSTRAP_RTL_CSS, HTMX_JS, APP_CSS, QI_JS] {
            assert!(Assets::get(p).is_some(), "{p} missing");
            assert!(url(p).contains("?v="), "{p} has no version");
        }
        assert!(!url("nope.css").contains("?v="));
    }
}
