//! `/ui/social/settings`: a hospital's patient-voice configuration for its administrators:
//! the social listening handles and keywords, a new webhook secret (shown once, on the page
//! that made it), and the sentiment rule. Every form goes through the API's own operation
//! (`px360_api::voice_config`): the same gate (read from PX Coordinator, change from Hospital
//! Admin), validation and audit.

use crate::error::UiError;
use crate::forms::{Errors, from_api};
use crate::i18n::Tr;
use crate::org_names::Names;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use crate::work::{Pick, SEVERITIES, coded};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::voice_config::{SocialTermsInput, put_rule, put_terms};
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_domain::sla::Severity;
use px360_store::sentiment::{SentimentRule, TextKind};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "voice_settings.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    hospitals: Vec<Pick>,
    hospital: String,
    may_change: bool,
    handles: String,
    keywords: String,
    secret_set: bool,
    new_secret: Option<(String, String)>,
    enabled: bool,
    max_score: String,
    /// (kind, label, ` checked` or nothing)
    sources: Vec<(String, String, &'static str)>,
    severities: Vec<Pick>,
    errors: Errors,
    done: Option<String>,
}

/// The hospital the page is about: the requested one in scope, else the first.
async fn hospital(
    st: &AppState,
    s: &Session,
    asked: Option<&str>,
) -> Result<(Names, Uuid), UiError> {
    let names = Names::load(st, &s.principal).await?;
    let id = asked
        .and_then(|h| Uuid::parse_str(h).ok())
        .filter(|h| names.hospitals.iter().any(|x| x.id == *h))
        .or_else(|| names.hospitals.first().map(|h| h.id))
        .ok_or(UiError::NotFound)?;
    Ok((names, id))
}

async fn page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    (names, h): (&Names, Uuid),
    errors: Errors,
    new_secret: Option<String>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let at = ObjectScope::new(Some(h), None);
    st.authorize(
        p,
        ctx,
        Resource::SocialConfig,
        Action::Read,
        at,
        Some(&h.to_string()),
    )
    .await?;
    let cfg = st.db.social_config(h).await?;
    let rule = st.db.sentiment_rule(h).await?.unwrap_or_default();
    let done = req
        .param("done")
        .filter(|v| ["terms", "rule"].contains(v))
        .map(|v| t.get(&format!("vs-done-{v}")));
    let sources = TextKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                t.get(&format!("vs-source-{}", k.as_str())),
                if rule.applies_to(*k) { " checked" } else { "" },
            )
        })
        .collect();
    let mut r = render(&Page {
        chrome: Chrome::new(req, Some(s), Nav::Social, "vs-title"),
        hospitals: names
            .hospitals
            .iter()
            .map(|x| Pick::data(&x.id.to_string(), &x.name, &h.to_string()))
            .collect(),
        hospital: h.to_string(),
        may_change: p.may(Resource::SocialConfig, Action::Update, &at),
        handles: cfg.handles.join("\n"),
        keywords: cfg.keywords.join("\n"),
        secret_set: cfg.webhook_secret_set,
        new_secret: new_secret.map(|s| (s, format!("/api/social/webhook/{h}"))),
        enabled: rule.enabled,
        max_score: format!("{:.2}", rule.max_score),
        sources,
        severities: coded(&t, "severity", &SEVERITIES, rule.severity.as_str(), None),
        errors: errors.clone(),
        done,
        t,
    })?;
    if !errors.is_empty() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let (names, h) = hospital(&st, &s, req.param("hospital")).await?;
    page(&st, &req, &s, &ctx, (&names, h), Errors::default(), None).await
}

#[derive(Deserialize, Default)]
pub struct Posted {
    #[serde(default)]
    hospital: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    handles: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    max_score: String,
    #[serde(default)]
    severity: String,
    /// One `source_<kind>` checkbox per kind of text.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn save(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<Posted>,
) -> Result<Response, UiError> {
    let (names, h) = hospital(&st, &s, Some(&f.hospital)).await?;
    let p = &s.principal;
    let result: Result<Option<String>, ApiError> = match f.what.as_str() {
        "terms" => put_terms(
            &st,
            p,
            &ctx,
            h,
            &SocialTermsInput {
                handles: lines(&f.handles),
                keywords: lines(&f.keywords),
            },
        )
        .await
        .map(|_| None),
        "secret" => px360_api::voice_config::new_secret(&st, p, &ctx, h)
            .await
            .map(|w| Some(w.secret)),
        "rule" => {
            let rule = SentimentRule {
                enabled: !f.enabled.is_empty(),
                max_score: f.max_score.trim().parse().unwrap_or(f32::NAN),
                themes: Vec::new(),
                sources: TextKind::ALL
                    .into_iter()
                    .filter(|k| f.rest.contains_key(&format!("source_{}", k.as_str())))
                    .collect(),
                severity: Severity::parse(f.severity.trim()).unwrap_or(Severity::Medium),
                category_code: None,
            };
            put_rule(&st, p, &ctx, h, &rule).await.map(|_| None)
        }
        _ => return Err(UiError::Request(StatusCode::BAD_REQUEST)),
    };
    match result {
        // The secret is shown on this answer only (never in a URL or redirect).
        Ok(Some(secret)) => {
            page(
                &st,
                &req,
                &s,
                &ctx,
                (&names, h),
                Errors::default(),
                Some(secret),
            )
            .await
        }
        Ok(None) => Ok(
            Redirect::to(&format!("/ui/social/settings?hospital={h}&done={}", f.what))
                .into_response(),
        ),
        Err(e @ ApiError::Validation(_)) => {
            let errs = from_api(&req.t(), "vs", e, |f| f.to_owned())?;
            page(&st, &req, &s, &ctx, (&names, h), errs, None).await
        }
        Err(e) => Err(e.into()),
    }
}
