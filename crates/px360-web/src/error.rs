//! UI errors and the localised error pages (403, 404, 409, 500).
//!
//! Handlers return [`UiError`]; its response carries only a marker, and the [`pages`]
//! middleware, which knows the language and the signed-in user, renders the page around it.

use crate::page::{Chrome, Nav, Req};
use crate::session::Session;
use askama::Template;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use px360_api::error::ApiError;
use px360_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Missing, or outside the caller's scope (existence is not disclosed).
    #[error("not found")]
    NotFound,
    /// In scope but the role is too low, or the kind of page is closed to this role.
    #[error("forbidden")]
    Forbidden,
    #[error("cross-origin request refused")]
    CrossOrigin,
    /// The action is not possible in the object's state; the message key explains why.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
    /// A request the server answered before any handler (a form that does not parse, a wrong
    /// method, a body too large, the login rate limit): the status says which.
    #[error("request refused: {0}")]
    Request(StatusCode),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound => UiError::NotFound,
            ApiError::Forbidden | ApiError::PasswordChangeRequired => UiError::Forbidden,
            ApiError::Internal(e) | ApiError::Unavailable(e) => UiError::Internal(e.to_string()),
            // The UI calls no API code that answers anything else; keep the detail if it does.
            other => UiError::Internal(format!("{other:?}")),
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => UiError::NotFound,
            other => UiError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        UiError::Internal(format!("template: {e}"))
    }
}

impl UiError {
    fn status(&self) -> StatusCode {
        match self {
            UiError::NotFound => StatusCode::NOT_FOUND,
            UiError::Forbidden | UiError::CrossOrigin => StatusCode::FORBIDDEN,
            UiError::Conflict(_) => StatusCode::CONFLICT,
            UiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            UiError::Request(s) => *s,
        }
    }

    fn keys(&self) -> (&'static str, &'static str) {
        match self {
            UiError::NotFound => ("error-404-title", "error-404-body"),
            UiError::Forbidden => ("error-403-title", "error-403-body"),
            UiError::CrossOrigin => ("error-403-title", "error-csrf-body"),
            UiError::Conflict(k) => ("error-409-title", k),
            UiError::Internal(_) => ("error-500-title", "error-500-body"),
            UiError::Request(s) => match s.as_u16() {
                429 => ("error-429-title", "error-429-body"),
                404 => ("error-404-title", "error-404-body"),
                405 => ("error-request-title", "error-405-body"),
                413 => ("error-request-title", "error-413-body"),
                500.. => ("error-500-title", "error-500-body"),
                _ => ("error-request-title", "error-request-body"),
            },
        }
    }
}

/// The marker a bare [`UiError`] response carries until [`pages`] renders it.
#[derive(Debug, Clone)]
struct Pending(std::sync::Arc<UiError>);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if let UiError::Internal(detail) = &self {
            // Store and template errors name tables and fields, never request bodies.
            tracing::error!(error = %detail, "ui.internal_error");
        }
        let mut r = self.status().into_response();
        r.extensions_mut()
            .insert(Pending(std::sync::Arc::new(self)));
        r
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    t: crate::i18n::Tr,
    status: u16,
    body: String,
}

/// Render the error page for `e` (also used by middleware outside [`pages`]).
pub fn render(req: &Req, session: Option<&Session>, e: &UiError) -> Response {
    let (title, body) = e.keys();
    let page = ErrorPage {
        chrome: Chrome::new(req, session, Nav::None, title),
        t: req.t(),
        status: e.status().as_u16(),
        body: req.t().get(body),
    };
    match page.render() {
        Ok(html) => (e.status(), Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "ui.error_page_failed");
            e.status().into_response()
        }
    }
}

/// Turns bare [`UiError`] responses into localised pages, and so does any other error answer
/// that is not a page: axum's and the rate limiter's rejections carry English plain text.
pub async fn pages(req: Request, next: Next) -> Response {
    let ctx = Req::of(&req);
    let session = req.extensions().get::<Session>().cloned();
    let resp = next.run(req).await;
    let e = match resp.extensions().get::<Pending>().cloned() {
        Some(Pending(e)) => e,
        None if is_bare_error(&resp) => std::sync::Arc::new(UiError::Request(resp.status())),
        None => return resp,
    };
    let mut page = render(&ctx, session.as_ref(), &e);
    // Keep cookies set on the way (a refreshed session, a language choice) and what tells a
    // client when to retry or what is allowed.
    use axum::http::header::{ALLOW, RETRY_AFTER, SET_COOKIE};
    for name in [SET_COOKIE, RETRY_AFTER, ALLOW] {
        for v in resp.headers().get_all(&name) {
            page.headers_mut().append(&name, v.clone());
        }
    }
    page
}

/// An error status whose body is not one of our HTML pages.
fn is_bare_error(resp: &Response) -> bool {
    let html = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    (resp.status().is_client_error() || resp.status().is_server_error()) && !html
}

/// Unknown `/ui/…` paths.
pub async fn not_found() -> UiError {
    UiError::NotFound
}
