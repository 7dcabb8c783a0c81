//! `GET/POST /s/{token}`: the patient's survey link. Public (the unguessable single-use token is
//! the credential), rate-limited per client address, never logged with its token or answers.
//!
//! - GET: the form, filled with the answers saved so far, in the invitation's language (a
//!   `?lang=` choice overrides it);
//! - POST "save": valid answers are stored as a partial response, the form comes back with a
//!   notice; POST "send": validated, scored and committed by the store BEFORE the thank-you page
//!   is rendered (a failed commit shows the error page, never a thank-you);
//! - invalid answers: the form again (422) with each error next to its question;
//! - expired, used, unknown links, a form that cannot be read, too many requests, a failure on
//!   our side: a short page in the patient's language with the right status, never a dump.

use super::form::{self, Intent, Values};
use super::{Message, Mode, message, respond, survey_page};
use crate::i18n::Lang;
use crate::page::Req;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::get;
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_domain::survey::response::FieldError;
use px360_store::audit::AuditEntry;
use px360_store::surveys::responses::AnswerError;
use px360_store::surveys::{Language, TokenError};
use std::time::Duration;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;

/// Requests per client address: a burst, then one more per period. Generous, because patients
/// in one hospital's Wi-Fi share an address; small enough that guessing tokens (256 bits) or
/// hammering the page from one address is throttled.
pub const BURST: u32 = 60;
pub const PERIOD: Duration = Duration::from_millis(500);
/// Larger than the domain's bound on an answer set (256 KiB), so that an oversized form is
/// refused by the domain with a clear message rather than cut off.
const BODY_LIMIT: usize = 320 * 1024;

pub fn routes() -> Router<AppState> {
    let mut r = Router::new()
        .route("/s/{token}", get(show).post(answer))
        .route(
            "/s/{token}/unsubscribe",
            get(super::unsubscribe::confirm).post(super::unsubscribe::unsubscribe),
        );
    // One limiter for the survey page and its unsubscribe link.
    if let Some(conf) = GovernorConfigBuilder::default()
        .key_extractor(px360_api::client_ip::ClientIpKey)
        .period(PERIOD)
        .burst_size(BURST)
        .finish()
    {
        r = r.route_layer(GovernorLayer::new(conf));
    }
    r.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(plain_errors))
}

fn lang_of(l: Language) -> Lang {
    match l {
        Language::En => Lang::En,
        Language::Ar => Lang::Ar,
    }
}

/// The patient's language: an explicit `?lang=` choice, else the invitation's language.
fn choose(req: &Req, invitation: Option<Language>) -> Lang {
    if req.lang_asked {
        return req.lang;
    }
    invitation.map(lang_of).unwrap_or(req.lang)
}

fn path_of(token: &str) -> String {
    format!("/s/{token}")
}

/// The page for a token that cannot be used.
fn refused(e: TokenError, lang: Lang, path: &str) -> Response {
    match e {
        TokenError::Unknown => message(Message::Unknown, lang, Some(path)),
        TokenError::Expired => message(Message::Expired, lang, Some(path)),
        TokenError::Used => message(Message::Used, lang, Some(path)),
        TokenError::Store(e) => {
            // Store errors name tables and columns, never the token or answers.
            tracing::error!(error = %e, "survey.page_store_error");
            message(Message::Failed, lang, None)
        }
    }
}

/// The language of a refused link's page: the invitation's where the link is known (expired
/// or used), else the request's.
async fn refusal_lang(st: &AppState, req: &Req, token: &str) -> Lang {
    if req.lang_asked {
        return req.lang;
    }
    match st.db.survey_link_language(token).await {
        Ok(Some(l)) => lang_of(l),
        _ => req.lang,
    }
}

async fn show(State(st): State<AppState>, Path(token): Path<String>, req: Req) -> Response {
    let path = path_of(&token);
    match st.db.survey_by_token(&token).await {
        Ok(link) => {
            let lang = choose(&req, Some(link.language()));
            let values = link.saved.as_ref().map(form::values_of).unwrap_or_default();
            let html = survey_page(
                link.version.survey.content(),
                lang,
                Mode::Live { action: &path },
                &values,
                &[],
                None,
            );
            respond(StatusCode::OK, html, lang)
        }
        Err(e) => {
            let lang = refusal_lang(&st, &req, &token).await;
            refused(e, lang, &path)
        }
    }
}

/// The form again with what the patient entered, and a notice or the errors.
async fn again(
    st: &AppState,
    req: &Req,
    token: &str,
    status: StatusCode,
    values: &Values,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Response {
    let path = path_of(token);
    match st.db.survey_by_token(token).await {
        Ok(link) => {
            let lang = choose(req, Some(link.language()));
            let html = survey_page(
                link.version.survey.content(),
                lang,
                Mode::Live { action: &path },
                values,
                errors,
                notice,
            );
            respond(status, html, lang)
        }
        Err(e) => {
            let lang = refusal_lang(st, req, token).await;
            refused(e, lang, &path)
        }
    }
}

async fn answer(
    State(st): State<AppState>,
    Path(token): Path<String>,
    req: Req,
    ctx: Ctx,
    body: Bytes,
) -> Response {
    let path = path_of(&token);
    let posted = match form::parse(&body) {
        Ok(p) => p,
        Err(_) => {
            let lang = refusal_lang(&st, &req, &token).await;
            return form_unreadable(lang);
        }
    };
    let result = match posted.intent {
        Intent::Save => st
            .db
            .survey_save_partial(&token, &posted.submission)
            .await
            .map(|_| None),
        Intent::Submit => st
            .db
            .survey_submit(&token, &posted.submission)
            .await
            .map(|s| Some(s.language)),
    };
    match result {
        // Saved: audited (ids only, never answers), then the form again with what was entered
        // and a notice.
        Ok(None) => {
            if let Ok(link) = st.db.survey_by_token(&token).await {
                st.audit_quiet(AuditEntry {
                    actor_type: "patient",
                    ip: ctx.ip.clone(),
                    user_agent: ctx.user_agent.clone(),
                    action: "survey.response.save_partial".into(),
                    object_type: Some("survey_invitation"),
                    object_id: Some(link.invitation.id.to_string()),
                    hospital_id: Some(link.invitation.hospital_id.to_string()),
                    changes: Some(serde_json::json!({ "version": link.version.version })),
                    ..Default::default()
                })
                .await;
            }
            again(
                &st,
                &req,
                &token,
                StatusCode::OK,
                &posted.values,
                &[],
                Some("survey-saved"),
            )
            .await
        }
        // Committed: only now the thank-you page.
        Ok(Some(language)) => message(Message::Thanks, choose(&req, Some(language)), None),
        Err(AnswerError::Invalid(e)) => {
            again(
                &st,
                &req,
                &token,
                StatusCode::UNPROCESSABLE_ENTITY,
                &posted.values,
                &e.errors,
                None,
            )
            .await
        }
        Err(AnswerError::Token(e)) => {
            let lang = refusal_lang(&st, &req, &token).await;
            refused(e, lang, &path)
        }
    }
}

fn form_unreadable(lang: Lang) -> Response {
    message(Message::Unreadable, lang, None)
}

/// Answers that are not one of our pages (the rate limiter's 429, a body over the limit, a
/// wrong method) become a patient page in the request's language, keeping `Retry-After`.
async fn plain_errors(req: Request, next: Next) -> Response {
    let ctx = Req::of(&req);
    let resp = next.run(req).await;
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let status = resp.status();
    if html || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let mut page = match status.as_u16() {
        429 => message(Message::Busy, ctx.lang, None),
        404 | 405 => message(Message::Unknown, ctx.lang, None),
        500.. => message(Message::Failed, ctx.lang, None),
        _ => form_unreadable(ctx.lang),
    };
    for v in resp.headers().get_all(header::RETRY_AFTER) {
        page.headers_mut().append(header::RETRY_AFTER, v.clone());
    }
    page
}
