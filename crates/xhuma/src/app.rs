//! Shared state and the HTTP router: SOAP endpoints, preview, operations and docs, behind
//! tracing, panic catching, rate limiting and (for non-SOAP routes) a time limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ihe_messaging::{ResponderConfig, SoapFault};
use service_kit::problem::Problem;
use tower_governor::{GovernorError, GovernorLayer};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::audit::{AuditEvent, Category};
use crate::flow::Flow;
use crate::security::RateLimit;

/// Everything a handler needs.
pub struct AppState {
    pub flow: Arc<Flow>,
    pub responder: ResponderConfig,
    /// Which SAML assertions are believed (`xua.rs`).
    pub xua: crate::xua::Xua,
}

impl AppState {
    pub fn new(flow: Arc<Flow>) -> Self {
        let gw = &flow.cfg.gateway;
        let responder = ResponderConfig {
            home_community_id: gw.home_community_id.clone(),
            repository_unique_id: gw.repository_unique_id.clone(),
            device_oid: gw.device_oid.clone(),
            device_name: gw.device_name.clone(),
            organization_oid: gw.organization_oid.clone(),
            organization_name: gw.organization_name.clone(),
        };
        let xua = crate::xua::Xua::from_config_or_closed(&flow.cfg);
        Self {
            flow,
            responder,
            xua,
        }
    }

    /// A transaction audit event with what is known before parsing.
    pub(crate) fn caller_event(
        &self,
        peer: SocketAddr,
        message_id: Option<String>,
        tx: &'static str,
        outcome: &str,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(Category::Transaction, tx, outcome);
        e.client_addr = Some(peer.ip().to_string());
        e.message_id = message_id;
        e
    }
}

/// `Retry-After` (whole seconds, at least 1) for a rate-limited answer.
fn retry_after(e: &GovernorError) -> HeaderValue {
    let secs = match e {
        GovernorError::TooManyRequests { wait_time, .. } => (*wait_time).max(1),
        _ => 1,
    };
    HeaderValue::from(secs)
}

fn soap_rate_limited(e: GovernorError) -> Response {
    let fault = SoapFault::receiver(match &e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            format!("too many requests from this client; retry after {wait_time} s")
        }
        _ => "the request could not be rate-limited (no client address)".into(),
    });
    metrics::counter!("xhuma_rate_limited_total", "surface" => "soap").increment(1);
    let mut r = crate::soap::fault_response(&fault, StatusCode::TOO_MANY_REQUESTS);
    r.headers_mut().insert(header::RETRY_AFTER, retry_after(&e));
    r
}

fn http_rate_limited(e: GovernorError) -> Response {
    metrics::counter!("xhuma_rate_limited_total", "surface" => "http").increment(1);
    let detail = match &e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            format!("too many requests from this client; retry after {wait_time} s")
        }
        _ => "the request could not be rate-limited".into(),
    };
    let mut r = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
    )
    .detail(detail)
    .into_response();
    r.headers_mut().insert(header::RETRY_AFTER, retry_after(&e));
    r
}

async fn not_found() -> Response {
    Problem::not_found("this path").into_response()
}

/// The complete router.
pub fn router(state: Arc<AppState>, rate: Option<RateLimit>) -> Router {
    let timeout = Duration::from_millis(state.flow.cfg.limits.request_timeout_ms);
    let mut soap = Router::new()
        .route("/SOAP/iti55", post(crate::soap::iti55))
        .route("/SOAP/iti47", post(crate::soap::iti47))
        .route("/SOAP/iti38", post(crate::soap::iti38))
        .route("/SOAP/iti39", post(crate::soap::iti39))
        // The handlers enforce the body limit themselves, answering with a SOAP Fault.
        .layer(axum::extract::DefaultBodyLimit::disable());
    let mut http = Router::new()
        .route(
            "/preview/{nhs_number}",
            get(crate::preview::preview).layer(no_store()),
        )
        .merge(crate::ops::router())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ));
    if let Some(rate) = rate {
        soap = soap.layer(GovernorLayer::new(rate.clone()).error_handler(soap_rate_limited));
        http = http.layer(GovernorLayer::new(rate).error_handler(http_rate_limited));
    }
    // Every SOAP answer is clinical (or about a patient): never stored by a cache.
    soap = soap.layer(no_store());
    // Liveness is outside the rate limit: a busy client must not make the gateway look dead.
    let live = Router::new().route("/health/live", get(crate::ops::live));
    Router::new()
        .merge(soap)
        .merge(http)
        .merge(live)
        .fallback(not_found)
        // Outside the rate limiter and the routes: a trickled body is cut off whatever the
        // route.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::listen::body_deadline,
        ))
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal().into_response()
        }))
        // The request id (a caller's well-formed `X-Request-ID`, else a new one) in every
        // answer and log line, the caller's W3C trace continued, and the request's root span,
        // named by method and route template (the preview path's NHS number never appears).
        .layer(axum::middleware::from_fn(service_kit::request::context))
        // Outermost, so every answer has it (404s, panics and rate-limit answers included).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}
