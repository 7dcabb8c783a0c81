//! Browser sessions on top of the API's tokens.
//!
//! The session cookie carries the API's short-lived JWT access token (verified by the API's own
//! [`Authed`] extractor, so the signing key and claims checks are the API's); a second cookie
//! carries the API's rotating refresh token and is exchanged through the API's refresh handler
//! when the access token has expired. Both cookies are HttpOnly, SameSite=Strict, limited to
//! `/ui`, and Secure when the request came over TLS.

use crate::error::UiError;
use crate::page::{Req, cookie};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::{RefreshRequest, TokenResponse};
use px360_domain::rbac::Principal;

pub const ACCESS_COOKIE: &str = "px360_session";
pub const REFRESH_COOKIE: &str = "px360_refresh";

/// The signed-in user of a request (inserted by [`require`]).
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub display_name: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| UiError::Internal("route without session middleware".into()))
    }
}

/// Verify an access token exactly as the API does (its own verification: key, issuer, expiry,
/// claims). Whether a password change is pending is read from the account itself in
/// [`require`], which also sees resets made after the token was issued.
pub async fn verify(st: &AppState, token: &str) -> Option<Principal> {
    px360_api::auth::verify_access(st, token)
        .ok()
        .map(|(p, _)| p)
}

/// `Set-Cookie` values for a fresh token pair.
pub fn token_cookies(st: &AppState, tokens: &TokenResponse, https: bool) -> Vec<HeaderValue> {
    [
        (
            ACCESS_COOKIE,
            tokens.access_token.as_str(),
            st.cfg.access_ttl.num_seconds(),
        ),
        (
            REFRESH_COOKIE,
            tokens.refresh_token.as_str(),
            st.cfg.refresh_ttl.num_seconds(),
        ),
    ]
    .into_iter()
    .filter_map(|(n, v, age)| set_cookie(n, v, age, https))
    .collect()
}

/// `Set-Cookie` values that delete both session cookies.
pub fn clear_cookies(https: bool) -> Vec<HeaderValue> {
    [ACCESS_COOKIE, REFRESH_COOKIE]
        .into_iter()
        .filter_map(|n| set_cookie(n, "", 0, https))
        .collect()
}

fn set_cookie(name: &str, value: &str, max_age: i64, https: bool) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

pub fn with_cookies(mut resp: Response, cookies: Vec<HeaderValue>) -> Response {
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// Exchange a refresh token through the API's refresh handler (rotation and reuse detection
/// included). `None` when it is invalid, used, revoked or the account is disabled.
async fn refresh(st: &AppState, refresh_token: String) -> Option<(Principal, TokenResponse)> {
    let axum::Json(tokens) = px360_api::auth::refresh(
        State(st.clone()),
        axum::Json(RefreshRequest { refresh_token }),
    )
    .await
    .ok()?;
    let p = verify(st, &tokens.access_token).await?;
    Some((p, tokens))
}

/// Protects every page behind it: resolves the principal from the cookies (refreshing when
/// needed), rejects disabled accounts and accounts whose role or scope changed since the token
/// was issued, and sends everyone else to the login page.
pub async fn require(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let ctx = Req::of(&req);
    let access = cookie(req.headers(), ACCESS_COOKIE).filter(|t| !t.is_empty());
    let refresh_token = cookie(req.headers(), REFRESH_COOKIE).filter(|t| !t.is_empty());
    let presented = access.is_some() || refresh_token.is_some();
    let mut set = Vec::new();
    let mut principal = match &access {
        Some(t) => verify(&st, t).await,
        None => None,
    };
    if principal.is_none()
        && let Some(rt) = refresh_token
        && let Some((p, tokens)) = refresh(&st, rt).await
    {
        set = token_cookies(&st, &tokens, ctx.https);
        principal = Some(p);
    }
    let Some(p) = principal else {
        return to_login(&ctx, &req, presented);
    };
    let user = match st.db.user(&p.user_id().to_string()).await {
        Ok(u) => u,
        Err(px360_store::StoreError::NotFound) => return to_login(&ctx, &req, presented),
        Err(e) => return UiError::from(e).into_response(),
    };
    let same_grant = user.role == p.role()
        && user.hospital_id == p.scope().hospital_id()
        && user.department_id == p.scope().department_id();
    if !user.is_active || !same_grant {
        return to_login(&ctx, &req, presented);
    }
    // After an administrator's reset the account may only choose its new password (the
    // account page) until it has.
    if user.must_change_password && !req.uri().path().starts_with("/ui/account") {
        let resp = if ctx.hx {
            let mut r = StatusCode::FORBIDDEN.into_response();
            r.headers_mut().insert(
                "hx-redirect",
                HeaderValue::from_static("/ui/account?must=1"),
            );
            r
        } else {
            Redirect::to("/ui/account?must=1").into_response()
        };
        return with_cookies(resp, set);
    }
    req.extensions_mut().insert(Session {
        principal: p,
        display_name: user.display_name,
    });
    with_cookies(next.run(req).await, set)
}

/// To the login page, remembering where the user was going (GET pages only), and dropping
/// whatever session cookies were presented.
fn to_login(ctx: &Req, req: &Request, presented: bool) -> Response {
    let next = if req.method() == axum::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/ui/")
    } else {
        "/ui/"
    };
    let target = format!(
        "/ui/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let clear = if presented {
        clear_cookies(ctx.https)
    } else {
        vec![]
    };
    let resp = if ctx.hx {
        // htmx follows redirects inside fetch and would swap the login page into a fragment.
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(&target).into_response()
    };
    with_cookies(resp, clear)
}

/// A safe post-login destination: a path inside the UI, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("/ui/login")
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/ui/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_inside_the_ui() {
        assert_eq!(
            safe_next(Some("/ui/events?status=parked")),
            "/ui/events?status=parked"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/ui/",
            "/ui//evil",
            "/ui/\\x",
            "/api/me",
            "/ui/login",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui/", "{bad}");
        }
        assert_eq!(safe_next(None), "/ui/");
    }
}
