//! One PX action (`/ui/actions/{id}`): header, SLA clock, the log, and the forms that work it
//! through the API's own operation (`px360_api::actions::transition`): start, add evidence,
//! submit for closure (evidence required), verification by a second person for high and
//! critical actions, reassign, cancel and reopen. Only the commands the domain machine would
//! accept from this user in this state are offered.

use crate::action_board::card;
use crate::error::UiError;
use crate::forms::{Errors, from_api};
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, Req, Stamp, render};
use crate::session::Session;
use crate::work::{Categories, ClockView, People, Pick, at, change, clock_view, zone_of};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use px360_api::AppState;
use px360_api::actions::{load, transition};
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::obj;
use px360_domain::action::px_action::{self as machine, ActionCommand, Evidence};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action as Act, Principal, Resource};
use px360_store::actions::{self as store, Action, LogEntry};
use px360_store::sla::ItemKind;
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

pub struct Command {
    pub name: &'static str,
    pub label: String,
    /// Needs a text: (form field, its label).
    pub text: Option<(&'static str, String)>,
    pub class: &'static str,
    /// The refusal of this form's last submission, next to its field.
    pub error: Option<String>,
}

pub struct LogLine {
    pub label: Label,
    pub detail: Option<String>,
    /// An evidence file: (download link, file name).
    pub file: Option<(String, String)>,
    pub actor: Option<String>,
    pub at: Stamp,
}

#[derive(Template)]
#[template(path = "action.html")]
struct DetailPage {
    chrome: Chrome,
    t: Tr,
    id: Uuid,
    head: crate::action_board::Card,
    category: Label,
    description: String,
    evidence: i64,
    needs_verification: bool,
    verified_by: Option<String>,
    clock: ClockView,
    log: Vec<LogLine>,
    commands: Vec<Command>,
    reassign: Option<Vec<Pick>>,
    /// Submitted for closure and waiting for someone else to verify it.
    awaiting: bool,
    /// The accepted files, for the evidence form.
    file_limits: String,
    errors: Errors,
    notice: Option<String>,
    problem: Option<String>,
}

fn commands(t: &Tr, a: &Action, p: &Principal) -> Vec<Command> {
    let cur = store::projection(a);
    let x = || "x".to_owned();
    [
        (ActionCommand::Start, None, "btn-primary"),
        (
            ActionCommand::AddEvidence {
                evidence: Evidence {
                    note: x(),
                    attachment_id: None,
                },
            },
            Some("note"),
            "btn-outline-primary",
        ),
        (ActionCommand::SubmitForClosure, None, "btn-success"),
        (ActionCommand::Verify, None, "btn-success"),
        (
            ActionCommand::RejectClosure { reason: x() },
            Some("reason"),
            "btn-outline-danger",
        ),
        (
            ActionCommand::Cancel { reason: x() },
            Some("reason"),
            "btn-outline-secondary",
        ),
        (
            ActionCommand::Reopen { reason: x() },
            Some("reason"),
            "btn-outline-danger",
        ),
    ]
    .into_iter()
    // Submitting without evidence is offered: the refusal says evidence is required.
    .filter(|(cmd, _, _)| match machine::apply(&cur, cmd, p) {
        Ok(_) => true,
        Err(machine::ActionError::EvidenceRequired) => true,
        Err(_) => false,
    })
    .map(|(cmd, text, class)| Command {
        name: cmd.name(),
        label: t.get(&format!("ad-cmd-{}", cmd.name())),
        text: text.map(|k| (k, t.get(&format!("ad-text-{k}-{}", cmd.name())))),
        class,
        error: None,
    })
    .collect()
}

fn line(
    t: &Tr,
    e: &LogEntry,
    people: &People,
    zone: &str,
    files: &HashMap<Uuid, String>,
) -> LogLine {
    let d = &e.detail;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let detail = match e.event.as_str() {
        "status_changed" => match (s("from"), s("to")) {
            (Some(f), Some(to)) => Some(change(
                t,
                &t.get(&format!("astatus-{f}")),
                &t.get(&format!("astatus-{to}")),
            )),
            _ => None,
        },
        "evidence_added" => d
            .get("evidence")
            .and_then(|v| v.get("note"))
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        "reassigned" => people.name(s("to").and_then(|u| Uuid::parse_str(&u).ok())),
        _ => s("reason"),
    };
    let file = (e.event == "evidence_added")
        .then(|| {
            d.get("evidence")
                .and_then(|v| v.get("attachment_id"))
                .and_then(|v| v.as_str())
                .and_then(|v| Uuid::parse_str(v).ok())
        })
        .flatten()
        .and_then(|f| {
            files
                .get(&f)
                .map(|name| (format!("/ui/attachments/{f}"), name.clone()))
        });
    LogLine {
        label: t.label(&format!("alog-{}", e.event), &e.event),
        detail,
        file,
        actor: people.name(e.actor_id),
        at: at(t, e.created_at, zone),
    }
}

pub(crate) struct Shown {
    pub errors: Errors,
    pub problem: Option<String>,
    pub status: StatusCode,
}

pub(crate) async fn page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    shown: Shown,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let a = load(st, p, ctx, id, Act::Read).await?;
    let zone = zone_of(st, a.hospital_id).await;
    let people = People::load(st).await?;
    let cats = Categories::load(st).await?;
    let live = st.db.sla_live(ItemKind::Action, id, Utc::now()).await?;
    // The files evidence may name: the action's own and its complaint's.
    let mut files: HashMap<Uuid, String> = st
        .db
        .attachments_of(px360_api::action_files::OWNER, id)
        .await?
        .into_iter()
        .map(|f| (f.id, f.file_name))
        .collect();
    if let (true, Some(c)) = (a.origin_kind == "complaint", a.origin_id) {
        files.extend(
            st.db
                .attachments_of("complaint", c)
                .await?
                .into_iter()
                .map(|f| (f.id, f.file_name)),
        );
    }
    let log = st
        .db
        .px_action_log(id)
        .await?
        .iter()
        .map(|e| line(&t, e, &people, &zone, &files))
        .collect();
    let at_loc = obj(
        &a.hospital_id.to_string(),
        a.department_id.map(|d| d.to_string()).as_deref(),
    );
    let may_update = p.may(Resource::PxAction, Act::Update, &at_loc);
    let reassign = (may_update
        && machine::apply(
            &store::projection(&a),
            &ActionCommand::Reassign { to: Uuid::nil() },
            p,
        )
        .is_ok())
    .then(|| people.able(Resource::PxAction, &at_loc, &a.owner_id.to_string()));
    let mut commands = if may_update {
        commands(&t, &a, p)
    } else {
        Vec::new()
    };
    for c in &mut commands {
        let fields: &[&str] = match c.name {
            "add_evidence" => &[
                "evidence.note",
                "evidence_note",
                "evidence.attachment_id",
                "file",
            ],
            "submit_for_closure" => &["evidence"],
            "reject_closure" => &["rejection_reason"],
            "cancel" => &["cancellation_reason"],
            "reopen" => &["reopen_reason"],
            _ => &[],
        };
        c.error = fields
            .iter()
            .find_map(|f| shown.errors.get(f))
            .map(str::to_owned);
    }
    let notice = req.param("done").map(|d| {
        t.get(&format!(
            "ad-done-{}",
            d.chars()
                .filter(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        ))
    });
    let awaiting = a.status == px360_domain::action::px_action::ActionStatus::PendingVerification
        && !commands.iter().any(|c| c.name == "verify");
    let mut r = render(&DetailPage {
        chrome: Chrome::new(req, Some(s), Nav::Actions, "ad-title"),
        id,
        head: card(&t, &a, &people, &zone),
        category: cats.name(&t, &a.category_code),
        description: crate::action_board::description(&t, &a),
        evidence: a.evidence_count,
        needs_verification: store::projection(&a).needs_verification(),
        verified_by: people.name(a.verified_by),
        clock: clock_view(&t, &live, &zone),
        log,
        commands,
        awaiting,
        file_limits: t.with(
            "cd-file-limits",
            &[
                (
                    "kb",
                    ((px360_store::attachments::MAX_BYTES / 1024) as i64).into(),
                ),
                (
                    "types",
                    px360_store::attachments::TYPES
                        .iter()
                        .map(|(ct, _)| *ct)
                        .collect::<Vec<_>>()
                        .join(", ")
                        .into(),
                ),
            ],
        ),
        reassign,
        errors: shown.errors,
        notice,
        problem: shown.problem,
        t,
    })?;
    *r.status_mut() = shown.status;
    Ok(r)
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound)?;
    let shown = Shown {
        errors: Errors::default(),
        problem: None,
        status: StatusCode::OK,
    };
    page(&st, &req, &s, &ctx, id, shown).await
}

#[derive(Deserialize)]
pub struct CommandForm {
    #[serde(default)]
    command: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    to: String,
}

pub async fn command(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<CommandForm>,
) -> Result<Response, UiError> {
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound)?;
    let cmd = match f.command.as_str() {
        "start" => Some(ActionCommand::Start),
        "add_evidence" => Some(ActionCommand::AddEvidence {
            evidence: Evidence {
                note: f.note,
                attachment_id: None,
            },
        }),
        "submit_for_closure" => Some(ActionCommand::SubmitForClosure),
        "verify" => Some(ActionCommand::Verify),
        "reject_closure" => Some(ActionCommand::RejectClosure { reason: f.reason }),
        "cancel" => Some(ActionCommand::Cancel { reason: f.reason }),
        "reopen" => Some(ActionCommand::Reopen { reason: f.reason }),
        "reassign" => Uuid::parse_str(f.to.trim())
            .ok()
            .map(|to| ActionCommand::Reassign { to }),
        _ => return Err(UiError::Request(StatusCode::BAD_REQUEST)),
    };
    let r = match &cmd {
        Some(c) => transition(&st, &s.principal, &ctx, id, c)
            .await
            .map(|_| c.name()),
        // A reassignment without a user: gate first (out of scope stays 404).
        None => load(&st, &s.principal, &ctx, id, Act::Update)
            .await
            .and_then(|_| {
                Err(ApiError::Validation(vec![FieldError::new(
                    "to",
                    "unknown user",
                )]))
            }),
    };
    outcome(&st, &req, &s, &ctx, id, r).await
}

/// What a command form shows: on success back to the page with `?done=`, a refused command
/// the page again with the messages next to the forms (422) or the state problem (409).
pub(crate) async fn outcome(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    r: Result<&str, ApiError>,
) -> Result<Response, UiError> {
    let t = req.t();
    let (status, errors, problem) = match r {
        Ok(done) => {
            return Ok(Redirect::to(&format!("/ui/actions/{id}?done={done}")).into_response());
        }
        Err(e @ ApiError::Validation(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            from_api(&t, "ad", e, |f| f.to_owned())?,
            None,
        ),
        Err(ApiError::Conflict(m)) => {
            let key = if m.contains("someone other") {
                "ad-error-second"
            } else {
                "ad-error-state"
            };
            (StatusCode::CONFLICT, Errors::default(), Some(t.get(key)))
        }
        Err(e) => return Err(e.into()),
    };
    page(
        st,
        req,
        s,
        ctx,
        id,
        Shown {
            errors,
            problem,
            status,
        },
    )
    .await
}
