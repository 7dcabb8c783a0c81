//! The request context both services put around every HTTP request: a request id, the W3C
//! trace context, the root span and the access log line.
//!
//! Add it as the outermost layer of the finished router (`router.layer(from_fn(context))`), so
//! that every answer carries `X-Request-ID`: SOAP Faults, problem+json errors, web pages, 404s,
//! rate-limit refusals and caught panics. Handlers read the id from the request's
//! `X-Request-ID` header (always replaced by the accepted or generated one) or from the
//! [`RequestId`] extension.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `X-Request-ID`.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest caller-supplied request id kept (a UUID is 36).
pub const MAX_LEN: usize = 64;
/// Shortest caller-supplied request id kept: shorter ones collide across callers.
pub const MIN_LEN: usize = 8;

/// This request's id (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a caller's `X-Request-ID` is kept. Ids end up in every log line, so only a bounded
/// token of safe characters is accepted (`A-Z a-z 0-9 - _ . :`, 8-64 long), and it must contain
/// a letter: a number alone is what an NHS number, an MRN or a phone number looks like, and
/// such an id would carry patient data into the logs. Anything else is replaced.
pub fn acceptable(id: &str) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && id.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The caller's id when [`acceptable`], else a new UUID.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The middleware (`axum::middleware::from_fn(service_kit::request::context)`).
///
/// The root span is named after the method and the route template, never the path: paths can
/// carry patient data (Xhuma's `/preview/{nhs_number}`), and a path that matched no route is
/// recorded as `unmatched`. A W3C `traceparent` from the caller makes the span its child, so the
/// caller's trace continues here.
pub async fn context(mut req: Request, next: Next) -> Response {
    let id = request_id(req.headers());
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        request_id = %id,
    );
    let parent = TraceContextPropagator::new().extract(&Headers(req.headers()));
    if parent.span().span_context().is_valid() {
        // Only fails when no OpenTelemetry layer is installed (then there is no trace to join).
        let _ = span.set_parent(parent);
    }
    // `id` is ASCII from a safe set or a UUID: always a valid header value.
    let value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &value {
        req.headers_mut().insert(X_REQUEST_ID, v.clone());
    }
    req.extensions_mut().insert(RequestId(id));
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    span.record("http.response.status_code", status);
    if resp.status().is_server_error() {
        span.record("otel.status_code", "error");
    }
    span.in_scope(|| {
        tracing::info!(
            target: "access",
            status,
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Some(v) = value {
        resp.headers_mut().insert(X_REQUEST_ID, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn request_ids() {
        assert!(acceptable("0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"));
        assert!(acceptable("lb-7f3a:req.000123_x"));
        // Too short, too long, unsafe characters, digits only (an NHS number, a phone).
        assert!(!acceptable("abc"));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("9990000018"));
        assert!(!acceptable("0044-7700-900123"));
        assert!(!acceptable("someone@example.org"));
        assert!(!acceptable("abc def ghi"));
        assert!(!acceptable("abcdefgh\u{e9}"));
        assert!(!acceptable("{\"a\":\"bcdefg\"}"));
    }
}
