//! Cross-site request forgery defence for state-changing requests, on top of SameSite=Strict.
//!
//! A POST (any method but GET/HEAD/OPTIONS) must positively come from this origin: either the
//! browser says `Sec-Fetch-Site: same-origin`, or (older browsers) the `Origin` header names the
//! host the request was sent to. Unlike tower-http's `CsrfLayer`, a request with neither header
//! is refused: every current browser sends `Origin` on a POST, and this UI has no non-browser
//! clients (they use the JSON API). Refusals are audited.

use crate::error::{UiError, render};
use crate::page::Req;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use px360_api::AppState;
use px360_store::audit::AuditEntry;

/// Is this request allowed to change state?
pub fn same_origin(method: &Method, h: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = h.get("sec-fetch-site") {
        // `none` (typed into the address bar) cannot produce a POST; `same-site` is another
        // origin (a sibling subdomain) and is refused too.
        return site.as_bytes() == b"same-origin";
    }
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(host)) => o
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

pub async fn protect(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if same_origin(req.method(), req.headers()) {
        return next.run(req).await;
    }
    let ctx = Req::of(&req);
    let (parts, _) = req.into_parts();
    let ip = px360_api::client_ip::of(&parts.extensions).map(|ip| ip.to_string());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect());
    st.audit_quiet(AuditEntry {
        actor_type: "anonymous",
        ip,
        user_agent,
        action: "ui.cross_origin_refused".into(),
        changes: Some(serde_json::json!({ "path": parts.uri.path() })),
        ..Default::default()
    })
    .await;
    render(&ctx, None, &UiError::CrossOrigin)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn rules() {
        let post = Method::POST;
        assert!(same_origin(&Method::GET, &h(&[])));
        assert!(same_origin(&post, &h(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&post, &h(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&post, &h(&[("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&post, &h(&[("sec-fetch-site", "none")])));
        // Sec-Fetch-Site wins over a matching Origin.
        assert!(!same_origin(
            &post,
            &h(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://a:1"),
                ("host", "a:1")
            ])
        ));
        assert!(same_origin(
            &post,
            &h(&[("origin", "http://a:1"), ("host", "a:1")])
        ));
        assert!(same_origin(
            &post,
            &h(&[("origin", "https://A.example"), ("host", "a.example")])
        ));
        assert!(!same_origin(
            &post,
            &h(&[("origin", "http://evil:1"), ("host", "a:1")])
        ));
        assert!(!same_origin(
            &post,
            &h(&[("origin", "null"), ("host", "a:1")])
        ));
        assert!(!same_origin(&post, &h(&[("host", "a:1")])));
    }
}
