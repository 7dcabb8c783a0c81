//! Request body limits. Every API call may send up to 256 KiB; the social media import and
//! webhook take a batch of mentions, up to the import's own limit (5 MiB, the domain's
//! `import::MAX_BYTES`). A body over its limit, whether announced by `Content-Length` or found
//! while streaming a chunked body, answers 413 as problem+json naming the limit, like every
//! other error of this API (tower-http's limit layer answered `text/plain`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service_kit::problem::Problem;

/// Any API request body.
pub const DEFAULT_LIMIT: usize = 256 * 1024;

/// The routes that take a batch of social mentions.
fn limit_for(path: &str) -> usize {
    if path == "/api/social/mentions/import" || path.starts_with("/api/social/webhook/") {
        px360_domain::social::import::MAX_BYTES
    } else {
        DEFAULT_LIMIT
    }
}

fn too_large(limit: usize) -> Response {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
    )
    .detail(format!(
        "this endpoint accepts a body of at most {limit} bytes"
    ))
    .into_response()
}

/// The middleware: refuse an announced oversized body before reading it, cap the rest while
/// the handler reads it (the handler's extractor then fails with 413), and answer either as
/// problem+json. axum's own 2 MB default limit is disabled in [`crate::router`]: this is the
/// one place that sets limits.
pub(crate) async fn enforce(req: Request, next: Next) -> Response {
    let limit = limit_for(req.uri().path());
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
    let resp = next.run(req).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
        return too_large(limit);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_routes_take_a_batch() {
        assert_eq!(limit_for("/api/events"), DEFAULT_LIMIT);
        assert_eq!(limit_for("/api/social/mentions"), DEFAULT_LIMIT);
        assert_eq!(
            limit_for("/api/social/mentions/import"),
            px360_domain::social::import::MAX_BYTES
        );
        assert_eq!(
            limit_for("/api/social/webhook/6f1c0c5e-1111-4222-8333-444455556666"),
            px360_domain::social::import::MAX_BYTES
        );
    }
}
