//! Integrations: the API keys of the principal's hospital (or of every hospital, for PX Admin)
//! with their source systems; issuing a key (its secret shown once, with a ready `curl` of the
//! event contract); revoking one after a confirmation page (no JavaScript needed); and a "send
//! a test event" button that posts a sample event through the API's own intake handler, as
//! the key's hospital system would, and shows how it was processed.
//!
//! Issuing and revoking call the API's handlers (`px360_api::api_keys`), so the RBAC, the
//! validation and the audit records are the API's.

use crate::error::UiError;
use crate::forms::{Errors, from_api};
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, Req, Stamp, badge, render, stamp, stamp_opt};
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::auth::{Authed, Ctx, KeyAuth};
use px360_api::{AppState, obj, own_hospital};
use px360_domain::event::EventStatus;
use px360_domain::rbac::{Action, ObjectScope, Resource};
use px360_store::auth::AuthenticatedKey;
use px360_store::ts;
use serde::Deserialize;
use std::time::Duration;

pub struct KeyItem {
    pub id: String,
    pub hospital: String,
    pub name: String,
    pub prefix: String,
    pub systems: String,
    pub created: Stamp,
    pub last_used: Option<Stamp>,
    pub revoked: Option<Stamp>,
}

pub struct Choice {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

/// The key just issued: its secret is shown on this one answer only.
pub struct Issued {
    pub id: String,
    pub hospital_id: String,
    pub name: String,
    pub secret: String,
    pub curl: String,
}

/// The outcome of a test event, read back from the store.
pub struct TestResult {
    pub id: String,
    pub status_label: String,
    pub status_class: &'static str,
    /// "n processing warnings", when there are any.
    pub warnings: Option<String>,
    /// Each warning: its title and its explanation (catalogue text with data parts).
    pub warning_list: Vec<(Label, Vec<Label>)>,
    /// "Stage 1 "Booked" of the journey "Day surgery" is completed" (text with data parts);
    /// `None` when the event completed no stage.
    pub stage: Option<Vec<Label>>,
    pub done: bool,
    /// What it was sent with (the form offers them again).
    pub api_key_id: String,
    pub event_code: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    pub hospital_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub source_systems: String,
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    chrome: Chrome,
    t: Tr,
    keys: Vec<KeyItem>,
    may_manage: bool,
    hospitals: Vec<Choice>,
    form: NewKeyForm,
    errors: Errors,
    issued: Option<Issued>,
    live_keys: Vec<Choice>,
    event_codes: Vec<Choice>,
    example: String,
    curl: String,
    test: Option<TestResult>,
    test_error: Option<String>,
    revoked: bool,
    copy_js: String,
}

fn base_url(req: &Req, h: &HeaderMap) -> String {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if req.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The event contract's example body (the design's `payload_json`, a wall-clock timestamp read
/// in the hospital's zone).
fn example(event_code: &str, source: &str) -> serde_json::Value {
    serde_json::json!({
        "source_system": source,
        "event_code": event_code,
        "encounter_id": "ENC-1001",
        "patient_identifier": "MRN-0001",
        "payload_json": {
            "department_code": "CARD",
            "physician_licence": "GMC121",
            "timestamp": "2026-01-31T12:30:00",
            "custom_fields": {"clinic": "A"}
        }
    })
}

fn curl(base: &str, key: &str, body: &serde_json::Value) -> String {
    format!(
        "curl -sS -X POST {base}/api/integrations/events/ \\\n  -H 'X-API-Key: {key}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{body}'"
    )
}

struct Extra {
    form: NewKeyForm,
    errors: Errors,
    issued: Option<Issued>,
    test_error: Option<String>,
}

async fn page(
    st: &AppState,
    req: &Req,
    s: &Session,
    h: &HeaderMap,
    extra: Extra,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let only = p.scope().hospital_id().map(|h| h.to_string());
    let names = st.db.org_names().await?;
    let zones = st.db.hospital_zones().await?;
    let zone = |h: &str| zones.get(h).cloned().unwrap_or_else(|| "UTC".into());
    let test = match req.param("test_event") {
        Some(id) => test_result(st, &t, s, id).await?,
        None => None,
    };
    // The form starts with the key just issued, or the one the last test event was sent with.
    let chosen_key = extra
        .issued
        .as_ref()
        .map(|i| i.id.clone())
        .or_else(|| test.as_ref().map(|r| r.api_key_id.clone()));
    let rows = st.db.api_keys(only.as_deref()).await?;
    let mut live_keys = Vec::new();
    let keys = rows
        .into_iter()
        .map(|k| {
            let hid = k.hospital_id.to_string();
            let z = zone(&hid);
            if k.revoked_at.is_none() {
                // The key just issued is the one a test event is most likely sent with.
                let id = k.id.to_string();
                live_keys.push(Choice {
                    selected: chosen_key.as_deref() == Some(id.as_str()),
                    value: id,
                    text: format!("{} ({})", k.name, k.prefix),
                });
            }
            KeyItem {
                id: k.id.to_string(),
                hospital: names.get(&hid).cloned().unwrap_or_default(),
                name: k.name,
                prefix: k.prefix,
                systems: k.source_systems.join(", "),
                created: stamp(&t, &ts(k.created_at), &z),
                last_used: stamp_opt(&t, k.last_used_at.map(ts).as_deref(), &z),
                revoked: stamp_opt(&t, k.revoked_at.map(ts).as_deref(), &z),
            }
        })
        .collect();
    let may_manage = p.may(Resource::ApiKey, Action::Create, &own_hospital(p));
    let hospitals = if may_manage {
        st.db
            .hospitals(only.as_deref())
            .await?
            .into_iter()
            .map(|h| {
                let id = h.id.to_string();
                Choice {
                    selected: extra.form.hospital_id == id,
                    value: id,
                    text: h.name,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    // Every stage's event code (the hospital's own templates and the group-wide ones), the
    // first stage of the issued key's hospital's template chosen.
    let templates = st.db.journey_templates(only.as_deref()).await?;
    let preferred = extra
        .issued
        .as_ref()
        .and_then(|i| {
            templates
                .iter()
                .filter(|jt| {
                    jt.hospital_id
                        .is_some_and(|h| h.to_string() == i.hospital_id)
                })
                .find_map(|jt| jt.stages.first())
                .map(|s| s.completing_event_code.clone())
        })
        .or_else(|| test.as_ref().map(|r| r.event_code.clone()));
    let mut codes: Vec<String> = templates
        .iter()
        .flat_map(|jt| jt.stages.iter().map(|s| s.completing_event_code.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    let first_code = preferred
        .clone()
        .or_else(|| codes.first().cloned())
        .unwrap_or_else(|| "OP_CHECKIN".into());
    let event_codes = codes
        .into_iter()
        .map(|c| Choice {
            selected: preferred.as_deref() == Some(c.as_str()),
            text: c.clone(),
            value: c,
        })
        .collect();
    let body = example(&first_code, "HIS");
    let base = base_url(req, h);
    render(&IntegrationsPage {
        chrome: Chrome::new(req, Some(s), Nav::Integrations, "int-title"),
        example: serde_json::to_string_pretty(&body).unwrap_or_default(),
        curl: curl(&base, "px360_…", &body),
        keys,
        may_manage,
        hospitals,
        form: extra.form,
        errors: extra.errors,
        issued: extra.issued,
        live_keys,
        event_codes,
        test,
        test_error: extra.test_error,
        revoked: req.param("revoked").is_some(),
        copy_js: crate::assets::url(crate::assets::COPY_JS),
        t,
    })
}

async fn test_result(
    st: &AppState,
    t: &Tr,
    s: &Session,
    id: &str,
) -> Result<Option<TestResult>, UiError> {
    let e = match st.db.event(id).await {
        Ok(e) => e,
        // A hand-edited link shows no result rather than an error page.
        Err(px360_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let p = &s.principal;
    if !p.may(
        Resource::Event,
        Action::Read,
        &obj(&e.hospital_id.to_string(), None),
    ) {
        // Another hospital's event: nothing is shown (and nothing disclosed).
        return Ok(None);
    }
    let warnings: Vec<px360_store::journeys::Warning> =
        serde_json::from_str(&e.warnings).unwrap_or_default();
    // How it was processed: the stage it completed (the journey started if it was the first).
    let stage = st
        .db
        .stage_completed_by(&e.id.to_string())
        .await?
        .and_then(|c| {
            t.with_data(
                "int-test-stage",
                &[
                    ("position", c.position.to_string()),
                    ("stage", c.name),
                    ("template", c.template_name),
                ],
            )
        });
    Ok(Some(TestResult {
        id: e.id.to_string(),
        status_label: t.get(&format!("status-{}", e.status.as_str())),
        status_class: badge(e.status.as_str()),
        warnings: (!warnings.is_empty())
            .then(|| t.count("int-test-warnings", "count", warnings.len() as i64)),
        warning_list: warnings
            .iter()
            .map(|w| {
                (
                    t.label(&format!("warning-{}", w.code), &w.code),
                    crate::events::warning_detail(t, w),
                )
            })
            .collect(),
        stage,
        done: e.status != EventStatus::Received,
        api_key_id: e.api_key_id.to_string(),
        event_code: e.event_code.clone(),
    }))
}

fn none() -> Extra {
    Extra {
        form: NewKeyForm::default(),
        errors: Errors::default(),
        issued: None,
        test_error: None,
    }
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    h: HeaderMap,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::ApiKey,
        Action::Read,
        own_hospital(p),
        None,
    )
    .await?;
    page(&st, &req, &s, &h, none()).await
}

/// `POST /ui/integrations/keys`: issue a key through the API's handler; the answer is the page
/// with the secret, shown this once (`Cache-Control: no-store` on every page).
pub async fn create_key(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    h: HeaderMap,
    Form(f): Form<NewKeyForm>,
) -> Result<Response, UiError> {
    let systems: Vec<String> = f
        .source_systems
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let b = px360_api::api_keys::NewApiKey {
        hospital_id: crate::forms::opt(&f.hospital_id),
        name: f.name.trim().to_owned(),
        source_systems: systems,
    };
    let r = px360_api::api_keys::create_api_key(
        State(st.clone()),
        Authed(s.principal),
        ctx.clone(),
        Json(b),
    )
    .await;
    match r {
        Ok((_, Json(issued))) => {
            let source = issued
                .key
                .source_systems
                .iter()
                .find(|s| s.as_str() != "*")
                .cloned()
                .unwrap_or_else(|| "HIS".into());
            // The ready `curl` sends an event code this hospital's journeys know (its own
            // template's first stage first, then a group-wide one).
            let hid = issued.key.hospital_id.to_string();
            let mut tpls = st.db.journey_templates(Some(&hid)).await?;
            tpls.sort_by_key(|jt| jt.hospital_id.is_none());
            let code = tpls.iter().find_map(|jt| jt.stages.first()).map_or_else(
                || "OP_CHECKIN".to_owned(),
                |s| s.completing_event_code.clone(),
            );
            let body = example(&code, &source);
            let base = base_url(&req, &h);
            let extra = Extra {
                issued: Some(Issued {
                    id: issued.key.id.to_string(),
                    hospital_id: issued.key.hospital_id.to_string(),
                    name: issued.key.name.clone(),
                    curl: curl(&base, &issued.api_key, &body),
                    secret: issued.api_key,
                }),
                ..none()
            };
            page(&st, &req, &s, &h, extra).await
        }
        Err(e) => {
            let errors = from_api(&req.t(), "int", e, str::to_owned)?;
            let extra = Extra {
                form: f,
                errors,
                ..none()
            };
            let mut r = page(&st, &req, &s, &h, extra).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

#[derive(Template)]
#[template(path = "integration_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    t: Tr,
    id: String,
    name: String,
    prefix: String,
    hospital: Label,
}

/// The key, if the principal may revoke it (out of scope: 404; role too low: 403).
async fn revocable(
    st: &AppState,
    s: &Session,
    ctx: &Ctx,
    id: &str,
) -> Result<px360_store::auth::ApiKeyRow, UiError> {
    let k = st.db.api_key(id).await?;
    st.authorize(
        &s.principal,
        ctx,
        Resource::ApiKey,
        Action::Delete,
        ObjectScope::new(Some(k.hospital_id), None),
        Some(id),
    )
    .await?;
    Ok(k)
}

/// `GET …/revoke`: the confirmation step (a form, so it works without JavaScript).
pub async fn confirm_revoke(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let k = revocable(&st, &s, &ctx, &id).await?;
    if k.revoked_at.is_some() {
        return Err(UiError::Conflict("int-already-revoked"));
    }
    let names = st.db.org_names().await?;
    render(&RevokePage {
        chrome: Chrome::new(&req, Some(&s), Nav::Integrations, "int-revoke-title"),
        t: req.t(),
        id,
        name: k.name,
        prefix: k.prefix,
        hospital: Label::data(
            names
                .get(&k.hospital_id.to_string())
                .map_or("", String::as_str),
        ),
    })
}

/// `POST …/revoke`: through the API's handler (audited there; the key cache is cleared).
pub async fn revoke(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let k = revocable(&st, &s, &ctx, &id).await?;
    if k.revoked_at.is_some() {
        return Err(UiError::Conflict("int-already-revoked"));
    }
    px360_api::api_keys::revoke_api_key(State(st), Authed(s.principal), ctx, Path(id)).await?;
    Ok(Redirect::to("/ui/integrations?revoked=1").into_response())
}

#[derive(Debug, Deserialize)]
pub struct TestEventForm {
    #[serde(default)]
    pub api_key_id: String,
    #[serde(default)]
    pub event_code: String,
}

/// `POST /ui/integrations/test-event`: a sample event for one of the hospital's live keys,
/// posted through the API's intake handler (the same validation, de-duplication, queue and
/// worker as a hospital system's event), then the event's outcome is shown. Needs the right
/// to manage that hospital's keys; audited as the user's action.
pub async fn test_event(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    h: HeaderMap,
    Form(f): Form<TestEventForm>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let k = st.db.api_key(f.api_key_id.trim()).await?;
    let hid = k.hospital_id.to_string();
    st.authorize(
        p,
        &ctx,
        Resource::ApiKey,
        Action::Create,
        obj(&hid, None),
        Some(&k.id.to_string()),
    )
    .await?;
    let t = req.t();
    if k.revoked_at.is_some() {
        let extra = Extra {
            test_error: Some(t.get("int-test-revoked")),
            ..none()
        };
        return page(&st, &req, &s, &h, extra).await;
    }
    let hospital_timezone = st.db.hospital(&hid).await?.timezone;
    let source = k
        .source_systems
        .iter()
        .find(|s| s.as_str() != "*")
        .cloned()
        .unwrap_or_else(|| "PX360_UI_TEST".into());
    let encounter = format!("UI-TEST-{}", &uuid_simple()[20..]);
    let body = serde_json::json!({
        "source_system": source,
        "event_code": f.event_code.trim(),
        "encounter_id": encounter,
        "patient_identifier": "UI-TEST-PATIENT",
        "payload": {
            "timestamp": ts(chrono::Utc::now()),
            "custom_fields": {"sent_from": "px360-ui-test"}
        }
    });
    let key_id = k.id.to_string();
    let r = px360_api::events::post_event(
        State(st.clone()),
        KeyAuth(AuthenticatedKey {
            key: k,
            hospital_timezone: hospital_timezone.to_string(),
        }),
        ctx.clone(),
        Bytes::from(body.to_string()),
    )
    .await;
    let id = match r {
        Ok((_, Json(accepted))) => accepted.event_id,
        Err(px360_api::error::ApiError::Validation(_)) => {
            let extra = Extra {
                test_error: Some(t.get("int-test-invalid")),
                ..none()
            };
            return page(&st, &req, &s, &h, extra).await;
        }
        Err(e) => return Err(e.into()),
    };
    st.audit(AppState::entry(
        p,
        &ctx,
        "integration.test_event",
        "inbound_event",
        &id,
        Some(&hid),
        serde_json::json!({"api_key_id": key_id, "event_code": f.event_code.trim(), "via": "ui"}),
    ))
    .await?;
    // The worker usually processes it within moments: wait briefly so that the page can show
    // the outcome rather than "received".
    for _ in 0..30 {
        match st.db.event(&id).await {
            Ok(e) if e.status != EventStatus::Received => break,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Ok(Redirect::to(&format!("/ui/integrations?test_event={id}#test")).into_response())
}

fn uuid_simple() -> String {
    px360_store::new_id().replace('-', "")
}
