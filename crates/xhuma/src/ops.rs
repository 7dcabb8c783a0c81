//! Operations endpoints: liveness, readiness with each check, Prometheus metrics, and the
//! OpenAPI description of the HTTP (non-SOAP) endpoints at `/docs` (Swagger UI, vendored)
//! and `/redoc` (Redoc bundle embedded in the binary; nothing is fetched at run time).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use service_kit::health::{Check, Report, Status};
use utoipa::OpenApi;
use utoipa_redoc::{Redoc, Servable};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::cache::CacheStore;

const REDOC_JS: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");

const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <title>Xhuma gateway API</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <div id="redoc-container"></div>
    <script src="/redoc/redoc.standalone.js"></script>
    <script>
      Redoc.init($spec, $config, document.getElementById("redoc-container"));
    </script>
  </body>
</html>"#;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Xhuma gateway",
        description = "HTTP endpoints of the Xhuma GP Connect → C-CDA gateway. The IHE SOAP \
                       endpoints (/SOAP/iti55, /SOAP/iti47, /SOAP/iti38, /SOAP/iti39) are \
                       described by the IHE WSDLs, not here."
    ),
    paths(live, ready, metrics_doc, jwks, crate::preview::preview)
)]
pub struct ApiDoc;

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "alive", body = String)))]
pub async fn live() -> &'static str {
    "ok"
}

/// Whether the gateway can serve: each dependency checked and reported by name.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "ready (JSON report with each check)"),
        (status = 503, description = "not ready: a check failed")))]
pub async fn ready(State(st): State<Arc<AppState>>) -> Report {
    let flow = &st.flow;
    let cache = Check::run(with_deadline(flow.cache.ping()));
    let audit = flow.audit.health();
    let (mut cache, audit) = tokio::join!(cache, audit);
    if cache.status == Status::Fail && matches!(flow.cache, crate::cache::AnyCache::Redis(_)) {
        // Redis down: the in-process tier still serves this replica's documents, so the
        // gateway is degraded, not dead (taking it out of a load balancer would not help).
        cache.status = Status::Degraded;
        cache.detail = Some(format!(
            "{}; serving from the in-process tier",
            cache.detail.as_deref().unwrap_or("Redis unavailable")
        ));
    }
    let mode = if flow.cfg.sandbox_mode() {
        "sandbox (embedded Spine stand-in)"
    } else {
        "spine"
    };
    let configuration = Check::with(Status::Ok, mode, Duration::ZERO);
    Report::new([
        (format!("cache:{}", flow.cache.backend()), cache),
        (format!("audit:{}", flow.audit.backend()), audit),
        ("configuration".to_string(), configuration),
    ])
}

async fn with_deadline<E: std::fmt::Display>(
    f: impl Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(2), f).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("no answer within 2 s".into()),
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics_doc() -> impl IntoResponse {
    service_kit::metrics::render()
}

/// The JWKS of our PDS client-assertion key (public half only, with `kid`, `use`, `alg`):
/// the URL to register with the NHS API platform.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "operations",
    responses((status = 200, description = "JSON Web Key Set", content_type = "application/json")))]
pub async fn jwks(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    axum::Json(st.flow.spine.jwks.clone())
}

async fn redoc_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_JS,
    )
}

/// The operations and documentation routes (`/health/live` is routed by [`crate::app`],
/// outside the rate limit).
pub fn router() -> Router<Arc<AppState>> {
    let openapi = ApiDoc::openapi();
    Router::new()
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics_doc))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/redoc/redoc.standalone.js", get(redoc_js))
        .merge(SwaggerUi::new("/docs").url("/api-docs/openapi.json", openapi.clone()))
        .merge(Redoc::with_url("/redoc", openapi).custom_html(REDOC_HTML))
}
