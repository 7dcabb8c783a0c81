//! One call (`/ui/calls/{id}`): what was logged, the notes and their sentiment (the read is
//! audited by the API), what the call produced (complaint, phone survey, callbacks) and the
//! forms that turn it into a complaint (the API's `complaint_from_call`, channel call_centre),
//! record the caller's feedback (the API's `feedback_from_call`: a feedback item linked both
//! ways) or schedule a callback (the API's `schedule`, due when the SLA engine says).

use crate::calls::{mmss, sentiment_badge};
use crate::error::UiError;
use crate::forms::{Errors, from_api, opt};
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, Stamp, mask, render};
use crate::session::Session;
use crate::work::{Categories, Pick, SEVERITIES, at, at_opt, coded, sees_patient, zone_of};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::call_feedback::{CallFeedbackInput, feedback_from_call};
use px360_api::callbacks::{CallbackInput, schedule};
use px360_api::calls::{CallComplaintInput, complaint_from_call, read_call};
use px360_api::error::ApiError;
use px360_domain::rbac::{Action, Resource};
use serde::Deserialize;
use uuid::Uuid;

pub struct CallbackView {
    pub due: Option<Stamp>,
    pub priority: String,
    pub status: String,
    /// "On time" or "Late", once made.
    pub on_time: Option<String>,
}

#[derive(Template)]
#[template(path = "call.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    id: String,
    started: Stamp,
    agent: String,
    direction: String,
    caller: String,
    reason: String,
    outcome: String,
    duration: String,
    mrn: Option<String>,
    patient_name: Option<String>,
    lookup: Option<String>,
    notes: Option<String>,
    sentiment: Option<(String, &'static str, String)>,
    themes: Vec<String>,
    complaint: Option<(String, String)>,
    feedback: Option<(String, String)>,
    survey_taken: bool,
    may_feedback: bool,
    fb: FeedbackForm,
    fb_kinds: Vec<Pick>,
    fb_staff: Vec<Pick>,
    fb_languages: Vec<Pick>,
    may_survey: bool,
    may_complaint: bool,
    callbacks: Vec<CallbackView>,
    f: ComplaintForm,
    errors: Errors,
    problem: Option<String>,
    categories: Vec<Pick>,
    severities: Vec<Pick>,
    languages: Vec<Pick>,
    priorities: Vec<Pick>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ComplaintForm {
    #[serde(default)]
    pub category_code: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub language: String,
}

/// Feedback the caller gives, as the agent records it on the call's page.
#[derive(Deserialize, Default)]
pub struct FeedbackForm {
    #[serde(default)]
    pub fb_kind: String,
    #[serde(default)]
    pub fb_text: String,
    #[serde(default)]
    pub fb_staff: String,
    #[serde(default)]
    pub fb_lang: String,
}

/// What the page's forms were filled with (after a refusal).
#[derive(Default)]
pub struct Filled {
    pub complaint: ComplaintForm,
    pub feedback: FeedbackForm,
}

/// The call's page with the forms' values and errors.
#[allow(clippy::too_many_arguments)]
pub async fn page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    filled: Filled,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let Filled {
        complaint: f,
        feedback: fb,
    } = filled;
    let p = &s.principal;
    let t = req.t();
    let d = read_call(st, p, ctx, id).await?;
    let c = &d.call;
    let zone = zone_of(st, c.hospital_id).await;
    let show = sees_patient(p);
    let (mrn, patient_name) = match c.patient_id {
        Some(pid) => match st.db.patient(&pid.to_string()).await {
            Ok(pt) => {
                let name = [pt.given_name.as_deref(), pt.family_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (Some(if show { pt.mrn } else { mask(&pt.mrn) }), Some(name))
            }
            Err(px360_store::StoreError::NotFound) => (None, None),
            Err(e) => return Err(e.into()),
        },
        None => (None, None),
    };
    let people = crate::work::People::load(st).await?;
    let complaint = match c.complaint_id {
        Some(cid) => match st.db.complaint(cid).await {
            Ok(x) => Some((format!("/ui/complaints/{cid}"), x.reference)),
            Err(px360_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let feedback = match c.feedback_id {
        Some(fid) => match st.db.feedback(fid).await {
            Ok(x) => Some((format!("/ui/feedback-inbox/{fid}"), x.reference)),
            Err(px360_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let may_feedback = p.may(
        Resource::Call,
        Action::Update,
        &px360_api::obj_of(c.hospital_id, c.department_id),
    ) && p.may(
        Resource::Feedback,
        Action::Create,
        &px360_api::obj_of(c.hospital_id, c.department_id),
    ) && c.patient_id.is_some()
        && c.feedback_id.is_none();
    // The named member of staff is chosen from the call's department.
    let mut fb_staff = vec![Pick::msg("", t.get("fb-form-staff-none"), &fb.fb_staff)];
    if let (true, Some(d)) = (may_feedback, c.department_id) {
        fb_staff.extend(
            st.db
                .feedback_staff(d)
                .await?
                .into_iter()
                .map(|(sid, name)| Pick::data(&sid.to_string(), &name, &fb.fb_staff)),
        );
    }
    let cats = Categories::load(st).await?;
    let language = if f.language.is_empty() {
        t.0.code().to_owned()
    } else {
        f.language.clone()
    };
    let problem = errors
        .others([
            "category_code",
            "severity",
            "subject",
            "description",
            "priority",
            "note",
            "fb_kind",
            "fb_text",
            "fb_staff",
            "fb_lang",
        ])
        .into_iter()
        .next();
    let may_update = p.may(
        Resource::Call,
        Action::Update,
        &px360_api::obj_of(c.hospital_id, c.department_id),
    );
    let mut r = render(&Page {
        chrome: Chrome::new(req, Some(s), Nav::Calls, "call-title"),
        id: c.id.to_string(),
        started: at(&t, c.started_at, &zone),
        agent: people.name(Some(c.agent_id)).unwrap_or_default(),
        direction: t.get(&format!("call-direction-{}", c.direction.as_str())),
        caller: t.get(&format!("call-caller-{}", c.caller.as_str())),
        reason: t.get(&format!("call-reason-{}", c.reason.as_str())),
        outcome: t.get(&format!("call-outcome-{}", c.outcome.as_str())),
        duration: mmss(c.duration_secs),
        mrn,
        patient_name,
        lookup: c
            .lookup_kind
            .as_deref()
            .map(|k| t.get(&format!("calls-found-by-{k}"))),
        notes: c.notes.clone(),
        sentiment: c.sentiment.as_ref().map(|x| {
            (
                t.get(&format!("call-sentiment-{}", x.label)),
                sentiment_badge(&x.label),
                format!("{:+.2}", x.score),
            )
        }),
        themes: c
            .sentiment
            .as_ref()
            .map(|x| {
                x.themes
                    .iter()
                    .map(|th| t.get(&format!("call-theme-{th}")))
                    .collect()
            })
            .unwrap_or_default(),
        complaint,
        feedback,
        may_feedback,
        fb_kinds: coded(
            &t,
            "fb-kind",
            &["compliment", "suggestion", "concern"],
            if fb.fb_kind.is_empty() {
                "compliment"
            } else {
                fb.fb_kind.as_str()
            },
            None,
        ),
        fb_staff,
        fb_languages: coded(
            &t,
            "language",
            &["en", "ar"],
            if fb.fb_lang.is_empty() {
                t.0.code()
            } else {
                fb.fb_lang.as_str()
            },
            None,
        ),
        fb,
        survey_taken: c.survey_response_id.is_some(),
        may_survey: may_update && c.patient_id.is_some() && c.survey_response_id.is_none(),
        may_complaint: may_update && c.patient_id.is_some() && c.complaint_id.is_none(),
        callbacks: d
            .callbacks
            .iter()
            .map(|cb| CallbackView {
                due: at_opt(&t, cb.due_at, &zone),
                priority: t.get(&format!("severity-{}", cb.priority.as_str())),
                status: t.get(&format!("callback-status-{}", cb.status)),
                on_time: cb.on_time.map(|ok| {
                    t.get(if ok {
                        "callbacks-on-time"
                    } else {
                        "callbacks-late"
                    })
                }),
            })
            .collect(),
        categories: cats.picks(&t, &f.category_code, Some("cn-choose")),
        severities: coded(
            &t,
            "severity",
            &SEVERITIES,
            if f.severity.is_empty() {
                "medium"
            } else {
                f.severity.as_str()
            },
            None,
        ),
        languages: coded(&t, "language", &["en", "ar"], &language, None),
        priorities: coded(&t, "severity", &SEVERITIES, "medium", None),
        f,
        errors,
        problem,
        notice: req.param("done").map(|d| {
            t.get(match d {
                "complaint" => "call-done-complaint",
                "callback" => "call-done-callback",
                "survey" => "call-done-survey",
                "feedback" => "call-done-feedback",
                _ => "calls-done-created",
            })
        }),
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

fn parse_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    page(
        &st,
        &req,
        &s,
        &ctx,
        id,
        Filled::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// A form's refusal about its fields: the page again with the messages (422); the rest stays an
/// error page.
async fn refused(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    f: Filled,
    e: ApiError,
) -> Result<Response, UiError> {
    let t = req.t();
    match e {
        ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_) => {
            // The feedback form's fields carry a prefix (the complaint form has a language too).
            let (prefix, place): (&str, fn(&str) -> String) =
                if f.feedback.fb_kind.is_empty() && f.feedback.fb_text.is_empty() {
                    ("call", |f| f.to_owned())
                } else {
                    ("call-fb", |f| format!("fb_{f}"))
                };
            let errs = from_api(&t, prefix, e, place)?;
            page(
                st,
                req,
                s,
                ctx,
                id,
                f,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        other => Err(other.into()),
    }
}

pub async fn complaint(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<ComplaintForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let input = CallComplaintInput {
        category_code: f.category_code.clone(),
        severity: opt(&f.severity),
        subject: f.subject.clone(),
        description: f.description.clone(),
        language: opt(&f.language),
        ..CallComplaintInput::default()
    };
    match complaint_from_call(&st, &s.principal, &ctx, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/calls/{id}?done=complaint")).into_response()),
        Err(e) => {
            let filled = Filled {
                complaint: f,
                ..Filled::default()
            };
            refused(&st, &req, &s, &ctx, id, filled, e).await
        }
    }
}

pub async fn feedback(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let input = CallFeedbackInput {
        kind: f.fb_kind.clone(),
        text: f.fb_text.clone(),
        language: opt(&f.fb_lang),
        staff_id: opt(&f.fb_staff).and_then(|x| Uuid::parse_str(&x).ok()),
        ..CallFeedbackInput::default()
    };
    match feedback_from_call(&st, &s.principal, &ctx, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/calls/{id}?done=feedback")).into_response()),
        Err(e) => {
            // Keep the form's kind non-empty so the refusal is placed on this form.
            let mut f = f;
            if f.fb_kind.is_empty() {
                f.fb_kind = "compliment".into();
            }
            let filled = Filled {
                feedback: f,
                ..Filled::default()
            };
            refused(&st, &req, &s, &ctx, id, filled, e).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct CallbackForm {
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub note: String,
}

pub async fn callback(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CallbackForm>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let input = CallbackInput {
        call_id: id,
        priority: opt(&f.priority),
        note: opt(&f.note),
        ..CallbackInput::default()
    };
    match schedule(&st, &s.principal, &ctx, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/calls/{id}?done=callback")).into_response()),
        Err(e) => refused(&st, &req, &s, &ctx, id, Filled::default(), e).await,
    }
}
