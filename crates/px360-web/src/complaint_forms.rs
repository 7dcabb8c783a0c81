//! The forms of a complaint's page (`/ui/complaints/{id}/…`): lifecycle commands, assignment,
//! notes and messages to the patient, attachment upload, and attachment download. Each calls the
//! API's own operation; a refusal about the form shows the page again with the message next to
//! its field (422) or above the forms when the complaint changed meanwhile (409).

use crate::complaint_detail::{Shown, page};
use crate::error::UiError;
use crate::forms::{Errors, from_api};
use crate::multipart;
use crate::page::Req;
use crate::session::Session;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::{Authed, Ctx};
use px360_api::complaints::{
    UpdateInput, UploadQuery, add_update, attachment_response, load, read_attachment, transition,
    upload_attachment,
};
use px360_api::error::ApiError;
use px360_domain::action::complaint::ComplaintCommand;
use px360_domain::rbac::Action;
use serde::Deserialize;
use uuid::Uuid;

/// After a form: back to the page (303) with a notice, or the page again with the refusal
/// next to the form field (422) or above the forms (409). 404 and 403 stay error pages.
async fn outcome<T>(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    done: &str,
    r: Result<T, ApiError>,
) -> Result<Response, UiError> {
    let t = req.t();
    let e = match r {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/ui/complaints/{id}?done={done}")).into_response());
        }
        Err(e) => e,
    };
    let (status, errors, problem) = match e {
        ApiError::Validation(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            from_api(&t, "cd", e, |f| f.to_owned())?,
            None,
        ),
        ApiError::Conflict(_) => (
            StatusCode::CONFLICT,
            Errors::default(),
            Some(t.get("cd-error-state")),
        ),
        other => return Err(other.into()),
    };
    page(
        st,
        req,
        s,
        ctx,
        id,
        Shown {
            errors,
            notice: None,
            problem,
            status,
        },
    )
    .await
}

fn parse_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

#[derive(Deserialize)]
pub struct CommandForm {
    #[serde(default)]
    command: String,
    #[serde(default)]
    text: String,
}

pub async fn command(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CommandForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let cmd = match f.command.as_str() {
        "acknowledge" => ComplaintCommand::Acknowledge,
        "start_work" => ComplaintCommand::StartWork,
        "wait_on_patient" => ComplaintCommand::WaitOnPatient,
        "patient_replied" => ComplaintCommand::PatientReplied,
        "resolve" => ComplaintCommand::Resolve { summary: f.text },
        "close" => ComplaintCommand::Close,
        "reopen" => ComplaintCommand::Reopen { reason: f.text },
        _ => return Err(UiError::Request(StatusCode::BAD_REQUEST)),
    };
    let done = cmd.name();
    let r = transition(&st, &s.principal, &ctx, id, &cmd).await;
    outcome(&st, &req, &s, &ctx, id, done, r).await
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    to: String,
}

pub async fn assign(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let r = match Uuid::parse_str(f.to.trim()) {
        Ok(to) => {
            transition(
                &st,
                &s.principal,
                &ctx,
                id,
                &ComplaintCommand::Assign { to },
            )
            .await
        }
        // Still gate first: an out-of-scope complaint is a 404 whatever the form says.
        Err(_) => match load(&st, &s.principal, &ctx, id, Action::Update).await {
            Ok(_) => Err(ApiError::Validation(vec![
                px360_domain::event::FieldError::new("to", "unknown user"),
            ])),
            Err(e) => Err(e),
        },
    };
    outcome(&st, &req, &s, &ctx, id, "assign", r).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    body: String,
}

pub async fn note(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let done = if f.visibility == "patient" {
        "message"
    } else {
        "note"
    };
    let r = add_update(
        &st,
        &s.principal,
        &ctx,
        id,
        &UpdateInput {
            visibility: f.visibility,
            body: f.body,
        },
    )
    .await;
    outcome(&st, &req, &s, &ctx, id, done, r).await
}

/// A file from the page's upload form (multipart, field `file`): stored by the API's own upload
/// operation with its name and declared type, so the type, size and content checks are the
/// API's.
pub async fn upload(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    // Without a file the API's own checks refuse the empty upload next to the form.
    let file = multipart::read(form, "file", &[])
        .await?
        .file
        .unwrap_or_default();
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let r = upload_attachment(
        State(st.clone()),
        Authed(s.principal),
        ctx.clone(),
        Path(id),
        Query(UploadQuery {
            name: file.stored_name().to_owned(),
        }),
        h,
        file.bytes,
    )
    .await;
    outcome(&st, &req, &s, &ctx, id, "upload", r).await
}

/// An attachment's bytes, only in scope (404 otherwise); every download is audited.
pub async fn download(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let (a, bytes) = read_attachment(&st, &s.principal, &ctx, id).await?;
    Ok(attachment_response(&a, bytes))
}
