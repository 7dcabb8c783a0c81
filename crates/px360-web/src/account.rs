//! "My account": every signed-in user changes their own display name and password, through the
//! API's self-service handlers (`px360_api::me`), so the rules, the audit and the revocation of
//! other sessions are the API's. After a password change this browser keeps its session with
//! the new token pair the API returns.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::{self, Session};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::{Authed, Ctx};
use px360_api::error::ApiError;
use px360_api::me::{MyProfileChanges, PasswordChange};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    t: Tr,
    display_name: String,
    /// Catalogue key of the confirmation to show, if any.
    saved: Option<&'static str>,
    /// The form error to show next to its field, if any.
    error: Option<FieldError>,
    /// An administrator reset the password: a new one must be chosen before anything else.
    must_change: bool,
    /// Subscribed to the weekly report by email; `None`: the role cannot read Analytics.
    weekly: Option<bool>,
}

/// A form error: the field it is shown next to and the catalogue key of its message.
#[derive(Debug, Clone, Copy)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

impl AccountPage {
    /// The catalogue key of the error for `field`, if that field has one.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.error.filter(|e| e.field == field).map(|e| e.key)
    }
}

fn page(
    req: &Req,
    s: &Session,
    error: Option<FieldError>,
    weekly: Option<bool>,
) -> Result<Response, UiError> {
    let saved = match req.param("saved") {
        Some("name") => Some("account-saved-name"),
        Some("password") => Some("account-saved-password"),
        Some("weekly") => Some("account-saved-weekly"),
        _ => None,
    };
    let mut r = render(&AccountPage {
        chrome: Chrome::new(req, Some(s), Nav::Account, "account-title"),
        t: req.t(),
        display_name: s.display_name.clone(),
        saved: saved.filter(|_| error.is_none()),
        error,
        must_change: req.param("must").is_some(),
        weekly,
    })?;
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// The caller's weekly report subscription, through the API's handler (`None`: not allowed).
async fn weekly(st: &AppState, s: &Session) -> Result<Option<bool>, UiError> {
    match px360_api::weekly_report::get_weekly_report(State(st.clone()), Authed(s.principal)).await
    {
        Ok(axum::Json(w)) => Ok(Some(w.subscribed)),
        Err(ApiError::Forbidden) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn form(State(st): State<AppState>, req: Req, s: Session) -> Result<Response, UiError> {
    let w = weekly(&st, &s).await?;
    page(&req, &s, None, w)
}

#[derive(Deserialize)]
pub struct WeeklyForm {
    /// Present (`on`) when the checkbox is ticked; browsers send nothing for an unticked one.
    subscribed: Option<String>,
}

pub async fn save_weekly(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Form(f): Form<WeeklyForm>,
) -> Result<Response, UiError> {
    // The answer repeats the choice; the redirect shows the page with it.
    let _saved = px360_api::weekly_report::put_weekly_report(
        State(st),
        Authed(s.principal),
        ctx,
        axum::Json(px360_api::weekly_report::WeeklyReportSubscription {
            subscribed: f.subscribed.is_some(),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/account?saved=weekly").into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    display_name: String,
}

pub async fn save_name(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<NameForm>,
) -> Result<Response, UiError> {
    let result = px360_api::me::update_me(
        State(st.clone()),
        Authed(s.principal),
        ctx,
        axum::Json(MyProfileChanges {
            display_name: f.display_name,
        }),
    )
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/ui/account?saved=name").into_response()),
        Err(ApiError::Validation(_)) => {
            let w = weekly(&st, &s).await?;
            page(
                &req,
                &s,
                Some(FieldError {
                    field: "display_name",
                    key: "account-name-invalid",
                }),
                w,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn save_password(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<PasswordForm>,
) -> Result<Response, UiError> {
    let result = px360_api::me::change_password(
        State(st.clone()),
        Authed(s.principal),
        ctx,
        axum::Json(PasswordChange {
            current_password: f.current_password,
            new_password: f.new_password,
        }),
    )
    .await;
    match result {
        Ok(axum::Json(tokens)) => Ok(session::with_cookies(
            Redirect::to("/ui/account?saved=password").into_response(),
            session::token_cookies(&st, &tokens, req.https),
        )),
        Err(ApiError::Validation(errs)) => {
            let e = if errs.iter().any(|e| e.field == "current_password") {
                FieldError {
                    field: "current_password",
                    key: "account-password-wrong",
                }
            } else {
                FieldError {
                    field: "new_password",
                    key: "account-password-weak",
                }
            };
            let w = weekly(&st, &s).await?;
            page(&req, &s, Some(e), w)
        }
        Err(e) => Err(e.into()),
    }
}
