//! Sign-in and sign-out pages.
//!
//! Credentials go through the API's own login handler, so the checks are identical: argon2id
//! verification (against a dummy hash for unknown users, so timing does not reveal which
//! usernames exist), disabled accounts refused, success and failure audited, the same token
//! pair issued. The rate limit per client IP is applied by [`crate::router`].

use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, cookie, render};
use crate::session::{self, REFRESH_COOKIE, safe_next};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::{Ctx, LoginRequest, RefreshRequest};
use px360_api::error::ApiError;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    t: Tr,
    next: String,
    username: String,
    failed: bool,
    signed_out: bool,
}

pub async fn form(State(st): State<AppState>, req: Req, headers: HeaderMap) -> Response {
    // Already signed in: straight to the destination.
    if let Some(t) = cookie(&headers, session::ACCESS_COOKIE)
        && session::verify(&st, &t).await.is_some()
    {
        return Redirect::to(&safe_next(req.param("next"))).into_response();
    }
    page(&req, String::new(), false).unwrap_or_else(IntoResponse::into_response)
}

fn page(req: &Req, username: String, failed: bool) -> Result<Response, UiError> {
    render(&LoginPage {
        chrome: Chrome::new(req, None, Nav::None, "login-title"),
        t: req.t(),
        next: safe_next(req.param("next")),
        username,
        failed,
        signed_out: req.param("signed_out").is_some(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(st): State<AppState>,
    req: Req,
    ctx: Ctx,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    let given = f.username.trim().to_owned();
    let username = if given.contains('@') {
        st.db
            .username_for_email(&given)
            .await?
            .unwrap_or_else(|| given.clone())
    } else {
        given.clone()
    };
    let result = px360_api::auth::login(
        State(st.clone()),
        ctx,
        axum::Json(LoginRequest {
            username,
            password: f.password,
        }),
    )
    .await;
    match result {
        Ok(axum::Json(tokens)) => {
            let to = safe_next(f.next.as_deref());
            Ok(session::with_cookies(
                Redirect::to(&to).into_response(),
                session::token_cookies(&st, &tokens, req.https),
            ))
        }
        Err(ApiError::Unauthenticated(_)) => {
            let mut r = page(&req, given, true)?;
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes the refresh-token family (through the API's logout handler, which audits it) and
/// deletes both cookies.
pub async fn logout(
    State(st): State<AppState>,
    req: Req,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    if let Some(rt) = cookie(&headers, REFRESH_COOKIE).filter(|t| !t.is_empty()) {
        px360_api::auth::logout(
            State(st.clone()),
            ctx,
            axum::Json(RefreshRequest { refresh_token: rt }),
        )
        .await?;
    }
    Ok(session::with_cookies(
        Redirect::to("/ui/login?signed_out=1").into_response(),
        session::clear_cookies(req.https),
    ))
}
