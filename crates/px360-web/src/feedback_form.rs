//! The public feedback form a printed QR code points at (`/ui/feedback/{hospital}` and
//! `/ui/feedback/{hospital}/{department}`): no sign-in, English or Arabic, without JavaScript.
//! The POST is same-origin checked (as every POST) and rate-limited per client IP like the
//! public complaint form ([`crate::router`]); the submission goes through the API's own
//! operation (`px360_api::feedback::submit_public`: the domain's validation, the store, the
//! sentiment, the compliment's routing and the audit record). The thank-you page shows the
//! reference in the language the patient used.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, render};
use crate::work::Pick;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::feedback::{PublicError, submit_public};
use px360_domain::feedback::qr::QrTarget;
use px360_domain::feedback::submission::FeedbackForm;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct FormPage {
    chrome: Chrome,
    t: Tr,
    action: String,
    hospital: String,
    department: Option<String>,
    kinds: Vec<Pick>,
    staff: Vec<Pick>,
    text: String,
    staff_name: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "feedback_thanks.html")]
struct ThanksPage {
    chrome: Chrome,
    t: Tr,
    reference: String,
}

#[derive(Deserialize, Default)]
pub struct Posted {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    staff_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
}

/// The form's target from the path; an unknown hospital, or a department of another one, is a
/// 404 page (a mistyped or stale code).
async fn target(
    st: &AppState,
    hospital: Uuid,
    department: Option<Uuid>,
) -> Result<(QrTarget, String, Option<String>), UiError> {
    let h = st
        .db
        .hospital(&hospital.to_string())
        .await
        .map_err(|_| UiError::NotFound)?;
    let d = match department {
        Some(d) => {
            let dep = st
                .db
                .department(&d.to_string())
                .await
                .map_err(|_| UiError::NotFound)?;
            if dep.hospital_id != hospital {
                return Err(UiError::NotFound);
            }
            Some(dep.name)
        }
        None => None,
    };
    Ok((
        QrTarget {
            hospital_id: hospital,
            department_id: department,
        },
        h.name,
        d,
    ))
}

async fn page(
    st: &AppState,
    req: &Req,
    tg: &(QrTarget, String, Option<String>),
    f: &Posted,
    errors: Vec<String>,
) -> Result<Response, UiError> {
    let t = req.t();
    let (target, hospital, department) = tg;
    let kinds = ["compliment", "suggestion", "concern"]
        .iter()
        .map(|k| Pick::msg(k, t.get(&format!("fb-kind-{k}")), &f.kind))
        .collect();
    let mut staff = vec![Pick::msg("", t.get("fb-form-staff-none"), &f.staff_id)];
    if let Some(d) = target.department_id {
        staff.extend(
            st.db
                .feedback_staff(d)
                .await?
                .into_iter()
                .map(|(id, name)| Pick::data(&id.to_string(), &name, &f.staff_id)),
        );
    }
    let action = match target.department_id {
        Some(d) => format!(
            "/ui/feedback/{}/{d}?lang={}",
            target.hospital_id,
            t.0.code()
        ),
        None => format!("/ui/feedback/{}?lang={}", target.hospital_id, t.0.code()),
    };
    render(&FormPage {
        chrome: Chrome::new(req, None, Nav::None, "fb-form-title"),
        t,
        action,
        hospital: hospital.clone(),
        department: department.clone(),
        kinds,
        staff,
        text: f.text.clone(),
        staff_name: f.staff_name.clone(),
        contact_name: f.contact_name.clone(),
        contact_email: f.contact_email.clone(),
        contact_phone: f.contact_phone.clone(),
        errors,
    })
}

pub async fn form_hospital(
    State(st): State<AppState>,
    req: Req,
    Path(h): Path<Uuid>,
) -> Result<Response, UiError> {
    let tg = target(&st, h, None).await?;
    page(&st, &req, &tg, &Posted::default(), Vec::new()).await
}

pub async fn form_department(
    State(st): State<AppState>,
    req: Req,
    Path((h, d)): Path<(Uuid, Uuid)>,
) -> Result<Response, UiError> {
    let tg = target(&st, h, Some(d)).await?;
    page(&st, &req, &tg, &Posted::default(), Vec::new()).await
}

async fn submit(
    st: AppState,
    req: Req,
    ctx: Ctx,
    h: Uuid,
    d: Option<Uuid>,
    f: Posted,
) -> Result<Response, UiError> {
    let tg = target(&st, h, d).await?;
    let t = req.t();
    let form = FeedbackForm {
        kind: f.kind.clone(),
        // The page's language is the language the patient wrote in and is answered in.
        lang: t.0.code().to_owned(),
        text: f.text.clone(),
        contact_name: f.contact_name.clone(),
        contact_email: f.contact_email.clone(),
        contact_phone: f.contact_phone.clone(),
        staff_id: f.staff_id.clone(),
        staff_name: f.staff_name.clone(),
    };
    match submit_public(&st, &ctx, tg.0, &form).await {
        Ok(row) => Ok(Redirect::to(&format!(
            "/ui/feedback-thanks?ref={}&lang={}",
            row.reference,
            t.0.code()
        ))
        .into_response()),
        Err(PublicError::Fields(errs)) => {
            // Codes select localised messages; nothing the visitor typed is echoed in them.
            let msgs = errs
                .iter()
                .map(|e| t.get(&format!("fb-err-{}", e.code.replace(['.', '_'], "-"))))
                .collect();
            let mut r = page(&st, &req, &tg, &f, msgs).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(PublicError::Api(e)) => Err(e.into()),
    }
}

pub async fn submit_hospital(
    State(st): State<AppState>,
    req: Req,
    ctx: Ctx,
    Path(h): Path<Uuid>,
    Form(f): Form<Posted>,
) -> Result<Response, UiError> {
    submit(st, req, ctx, h, None, f).await
}

pub async fn submit_department(
    State(st): State<AppState>,
    req: Req,
    ctx: Ctx,
    Path((h, d)): Path<(Uuid, Uuid)>,
    Form(f): Form<Posted>,
) -> Result<Response, UiError> {
    submit(st, req, ctx, h, Some(d), f).await
}

/// The acknowledgement: the reference only (never the feedback itself), so a shared or
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
    render(&ThanksPage {
        chrome: Chrome::new(&req, None, Nav::None, "fb-thanks-title"),
        t: req.t(),
        reference,
    })
}
