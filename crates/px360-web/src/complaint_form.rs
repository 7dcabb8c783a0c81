//! The public complaint form: no sign-in, in English or Arabic, without JavaScript. The POST is
//! same-origin checked (as every POST, `csrf::protect`) and rate-limited per client IP
//! ([`crate::router`]); the complaint goes through the API's own intake validation and is
//! audited as from the public. The acknowledgement shows the reference number in the
//! language the patient used, which is also stored as the complaint's answer language.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::complaints::{ComplaintInput, intake, validate_intake};
use px360_api::error::ApiError;
use px360_store::audit::AuditEntry;
use serde::Deserialize;
use uuid::Uuid;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
    /// Names stored in one language only (hospitals) are data, not page text.
    pub data: bool,
}

#[derive(Template)]
#[template(path = "complaint_form.html")]
struct FormPage {
    chrome: Chrome,
    t: Tr,
    hospitals: Vec<Choice>,
    categories: Vec<Choice>,
    subject: String,
    description: String,
    name: String,
    contact: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "complaint_ack.html")]
struct AckPage {
    chrome: Chrome,
    t: Tr,
    reference: String,
}

#[derive(Deserialize, Default)]
pub struct ComplaintForm {
    #[serde(default)]
    hospital_id: String,
    #[serde(default)]
    category_code: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact: String,
}

async fn page(
    st: &AppState,
    req: &Req,
    f: &ComplaintForm,
    errors: Vec<String>,
) -> Result<Response, UiError> {
    let t = req.t();
    let ar = t.0 == crate::i18n::Lang::Ar;
    let hospitals = st
        .db
        .hospitals(None)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|h| Choice {
            selected: h.id.to_string() == f.hospital_id,
            value: h.id.to_string(),
            label: h.name,
            data: true,
        })
        .collect();
    let categories = st
        .db
        .complaint_categories(true)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|c| Choice {
            selected: c.code == f.category_code,
            label: if ar { c.name_ar } else { c.name_en },
            value: c.code,
            data: false,
        })
        .collect();
    render(&FormPage {
        chrome: Chrome::new(req, None, Nav::None, "complaint-form-title"),
        t,
        hospitals,
        categories,
        subject: f.subject.clone(),
        description: f.description.clone(),
        name: f.name.clone(),
        contact: f.contact.clone(),
        errors,
    })
}

pub async fn form(State(st): State<AppState>, req: Req) -> Result<Response, UiError> {
    page(&st, &req, &ComplaintForm::default(), Vec::new()).await
}

pub async fn submit(
    State(st): State<AppState>,
    req: Req,
    ctx: Ctx,
    Form(f): Form<ComplaintForm>,
) -> Result<Response, UiError> {
    let t = req.t();
    let input = ComplaintInput {
        hospital_id: Uuid::parse_str(&f.hospital_id).ok(),
        department_id: None,
        category_code: f.category_code.clone(),
        severity: None,
        source_channel: "public_form".into(),
        source_system: None,
        external_ref: None,
        patient_id: None,
        physician_id: None,
        encounter_id: None,
        subject: f.subject.clone(),
        description: f.description.clone(),
        complainant_name: Some(f.name.clone()).filter(|s| !s.trim().is_empty()),
        complainant_contact: Some(f.contact.clone()).filter(|s| !s.trim().is_empty()),
        language: Some(t.0.code().to_owned()),
    };
    let n = match validate_intake(&st, &input).await {
        Ok(n) => n,
        Err(ApiError::Validation(errs)) => {
            // Field names only select a localised message; nothing the visitor typed is echoed
            // into an error.
            let msgs = errs
                .iter()
                .map(|e| t.get(&format!("complaint-form-bad-{}", e.field.replace('_', "-"))))
                .collect();
            let mut r = page(&st, &req, &f, msgs).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    };
    let actor = AuditEntry {
        actor_type: "public",
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..AuditEntry::default()
    };
    let (c, _) = intake(&st, &n, actor).await?;
    Ok(Redirect::to(&format!(
        "/ui/complaint/thanks?ref={}&lang={}",
        c.reference,
        t.0.code()
    ))
    .into_response())
}

/// The acknowledgement: the reference only (never the complaint's content), so a shared or
/// bookmarked link discloses nothing.
pub async fn thanks(req: Req) -> Result<Response, UiError> {
    let reference = req
        .param("ref")
        .filter(|r| r.len() <= 20 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("")
        .to_owned();
    if reference.is_empty() {
        return Err(UiError::NotFound);
    }
    render(&AckPage {
        chrome: Chrome::new(&req, None, Nav::None, "complaint-ack-title"),
        t: req.t(),
        reference,
    })
}
