//! One complaint (`/ui/complaints/{id}`): its header and SLA clocks, the timeline with internal
//! notes and messages to the patient kept visibly apart, its attachments and linked actions,
//! and the forms that work on it (their handlers: `complaint_forms.rs`). Every form goes through the API's own operation (the same
//! gate, domain machine, store calls and audit records as `/api/complaints/{id}/…`); only the
//! commands the domain machine would accept from this user in this state are offered.

use crate::error::UiError;
use crate::forms::Errors;
use crate::i18n::{Label, Tr};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, Req, Stamp, mask, render};
use crate::session::Session;
use crate::work::{
    Categories, ClockView, People, Pick, at, change, clock_view, sees_patient, zone_of,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::complaints::load;
use px360_api::obj;
use px360_domain::action::complaint::{self as machine, ComplaintCommand, ComplaintStatus};
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::attachments::{MAX_BYTES, TYPES};
use px360_store::complaints::{Complaint, Update};
use px360_store::sla::ItemKind;
use uuid::Uuid;

pub struct Fact {
    pub label: String,
    pub value: Label,
    pub ltr: bool,
}

pub struct Entry {
    /// A message to the patient (else internal: a note or a recorded change).
    pub patient: bool,
    pub label: String,
    pub body: Option<String>,
    pub link: Option<(String, String)>,
    pub author: Option<String>,
    pub at: Stamp,
}

pub struct Command {
    pub name: &'static str,
    pub label: String,
    /// Needs a text (resolution summary, reopen reason).
    pub text: Option<String>,
    pub class: &'static str,
    /// The refusal of this form's last submission, next to its field.
    pub error: Option<String>,
}

pub struct File {
    pub href: String,
    pub name: String,
    pub size: i64,
    pub at: Stamp,
}

pub struct Linked {
    pub href: String,
    pub title: String,
    pub status: String,
    pub owner: Option<String>,
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct DetailPage {
    chrome: Chrome,
    t: Tr,
    id: Uuid,
    reference: String,
    subject: String,
    description: String,
    status: String,
    status_code: &'static str,
    severity: String,
    facts: Vec<Fact>,
    clock: ClockView,
    timeline: Vec<Entry>,
    commands: Vec<Command>,
    assignees: Option<Vec<Pick>>,
    may_update: bool,
    files: Vec<File>,
    limits: String,
    actions: Vec<Linked>,
    may_raise: bool,
    errors: Errors,
    notice: Option<String>,
    problem: Option<String>,
}

/// The commands of the complaint lifecycle the machine accepts from `p` now.
fn commands(t: &Tr, c: &Complaint, p: &Principal) -> Vec<Command> {
    let cur = machine::Complaint {
        status: c.status,
        assignee: c.assignee_id,
        cycle: u32::try_from(c.cycle).unwrap_or(1),
    };
    let probe = "x".to_owned();
    [
        (ComplaintCommand::Acknowledge, None, "btn-primary"),
        (ComplaintCommand::StartWork, None, "btn-primary"),
        (ComplaintCommand::WaitOnPatient, None, "btn-outline-primary"),
        (
            ComplaintCommand::PatientReplied,
            None,
            "btn-outline-primary",
        ),
        (
            ComplaintCommand::Resolve {
                summary: probe.clone(),
            },
            Some("summary"),
            "btn-success",
        ),
        (ComplaintCommand::Close, None, "btn-secondary"),
        (
            ComplaintCommand::Reopen { reason: probe },
            Some("reason"),
            "btn-outline-danger",
        ),
    ]
    .into_iter()
    .filter(|(cmd, _, _)| machine::apply(&cur, cmd, p).is_ok())
    .map(|(cmd, text, class)| Command {
        name: cmd.name(),
        label: t.get(&format!("cd-cmd-{}", cmd.name())),
        text: text.map(|k| t.get(&format!("cd-text-{k}"))),
        class,
        error: None,
    })
    .collect()
}

fn entry(t: &Tr, u: &Update, people: &People, files: &[File], zone: &str) -> Entry {
    let mut body = None;
    let mut link = None;
    let label = match u.kind.as_str() {
        "created" => {
            let ch = u.body.rsplit(' ').next().unwrap_or("");
            t.with(
                "tl-created",
                &[("channel", t.get(&format!("channel-{ch}")).into())],
            )
        }
        "status" => {
            let (from, to) = u.body.split_once(" → ").unwrap_or(("", ""));
            change(
                t,
                &t.get(&format!("cstatus-{from}")),
                &t.get(&format!("cstatus-{to}")),
            )
        }
        "assignment" => {
            body = people.name(Uuid::parse_str(&u.body).ok());
            t.get("tl-assignment")
        }
        "attachment" => {
            let href = format!("/ui/attachments/{}", u.body);
            link = files
                .iter()
                .find(|f| f.href == href)
                .map(|f| (href, f.name.clone()));
            t.get("tl-attachment")
        }
        k @ ("resolution" | "reopen" | "note" | "message") => {
            body = Some(u.body.clone());
            t.get(&format!("tl-{k}"))
        }
        _ => {
            body = Some(u.body.clone());
            t.get("tl-other")
        }
    };
    Entry {
        patient: u.visibility == "patient",
        label,
        body,
        link,
        author: people.name(u.author_id),
        at: at(t, u.created_at, zone),
    }
}

pub(crate) struct Shown {
    pub errors: Errors,
    pub notice: Option<String>,
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
    let c = load(st, p, ctx, id, Action::Read).await?;
    let zone = zone_of(st, c.hospital_id).await;
    let names = Names::load(st, p).await?;
    let cats = Categories::load(st).await?;
    let people = People::load(st).await?;
    let live = st.db.sla_live(ItemKind::Complaint, id, Utc::now()).await?;
    let files: Vec<File> = st
        .db
        .attachments_of("complaint", id)
        .await?
        .into_iter()
        .map(|a| File {
            href: format!("/ui/attachments/{}", a.id),
            name: a.file_name,
            size: a.size_bytes,
            at: at(&t, a.created_at, &zone),
        })
        .collect();
    let timeline = st
        .db
        .complaint_updates(id, true)
        .await?
        .iter()
        .map(|u| entry(&t, u, &people, &files, &zone))
        .collect();
    let show = sees_patient(p);
    let hide = |v: &str| if show { v.to_owned() } else { mask(v) };
    let mut facts = vec![
        Fact {
            label: t.get("cd-category"),
            value: cats.name(&t, &c.category_code),
            ltr: false,
        },
        Fact {
            label: t.get("cd-source"),
            value: Label {
                text: t.get(&format!("channel-{}", c.source_channel)),
                data: false,
            },
            ltr: false,
        },
        Fact {
            label: t.get("cd-hospital"),
            value: Label::data(&names.hospital(Some(c.hospital_id))),
            ltr: false,
        },
    ];
    let mut push = |key: &str, v: Option<String>, ltr: bool| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push(Fact {
                label: t.get(key),
                value: Label::data(&v),
                ltr,
            });
        }
    };
    push(
        "cd-department",
        Some(names.department(c.department_id)),
        false,
    );
    let mrn = match c.patient_id {
        Some(pid) => st
            .db
            .patient(&pid.to_string())
            .await
            .ok()
            .map(|x| hide(&x.mrn)),
        None => None,
    };
    push("cd-patient", mrn, true);
    let physician = match c.physician_id {
        Some(ph) => st
            .db
            .physicians(&px360_store::org::ScopeFilter {
                hospital_id: Some(c.hospital_id.to_string()),
                department_id: None,
            })
            .await?
            .into_iter()
            .find(|x| x.id == ph)
            .map(|x| format!("{} {}", x.given_name, x.family_name)),
        None => None,
    };
    push("cd-physician", physician, false);
    push("cd-encounter", c.encounter_id.clone(), true);
    push(
        "cd-complainant",
        c.complainant_name.as_deref().map(hide),
        false,
    );
    push(
        "cd-contact",
        c.complainant_contact.as_deref().map(hide),
        true,
    );
    push("cd-assignee", people.name(c.assignee_id), false);
    facts.push(Fact {
        label: t.get("cd-language"),
        value: Label {
            text: t.get(&format!("language-{}", c.language)),
            data: false,
        },
        ltr: false,
    });
    let at_loc = obj(
        &c.hospital_id.to_string(),
        c.department_id.map(|d| d.to_string()).as_deref(),
    );
    let may_update = p.may(Resource::Complaint, Action::Update, &at_loc);
    let cur = machine::Complaint {
        status: c.status,
        assignee: c.assignee_id,
        cycle: u32::try_from(c.cycle).unwrap_or(1),
    };
    let may_assign = may_update
        && machine::apply(&cur, &ComplaintCommand::Assign { to: Uuid::nil() }, p).is_ok();
    let selected = c.assignee_id.map(|a| a.to_string()).unwrap_or_default();
    let assignees = may_assign.then(|| people.able(Resource::Complaint, &at_loc, &selected));
    let actions = st
        .db
        .actions_for_complaint(id)
        .await?
        .into_iter()
        .map(|a| Linked {
            href: format!("/ui/actions/{}", a.id),
            title: a.title,
            status: t.get(&format!("astatus-{}", a.status.as_str())),
            owner: people.name(Some(a.owner_id)),
        })
        .collect::<Vec<_>>();
    let may_raise = actions.is_empty()
        && c.status != ComplaintStatus::Closed
        && p.may(Resource::PxAction, Action::Create, &at_loc);
    let notice = shown.notice.or_else(|| {
        req.param("done").map(|d| {
            t.get(&format!(
                "cd-done-{}",
                d.chars()
                    .filter(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect::<String>()
            ))
        })
    });
    let mut commands = if may_update {
        commands(&t, &c, p)
    } else {
        Vec::new()
    };
    for c in &mut commands {
        let field = match c.name {
            "resolve" => "resolution_summary",
            "reopen" => "reopen_reason",
            _ => "",
        };
        c.error = shown.errors.get(field).map(str::to_owned);
    }
    let types: Vec<&str> = TYPES.iter().map(|(ct, _)| *ct).collect();
    let mut r = render(&DetailPage {
        chrome: Chrome::new(req, Some(s), Nav::Complaints, "cd-title"),
        id,
        reference: c.reference.clone(),
        subject: c.subject.clone(),
        description: c.description.clone(),
        status: t.get(&format!("cstatus-{}", c.status.as_str())),
        status_code: c.status.as_str(),
        severity: t.get(&format!("severity-{}", c.severity.as_str())),
        facts,
        clock: clock_view(&t, &live, &zone),
        timeline,
        commands,
        assignees,
        may_update,
        files,
        limits: t.with(
            "cd-file-limits",
            &[
                ("kb", ((MAX_BYTES / 1024) as i64).into()),
                ("types", types.join(", ").into()),
            ],
        ),
        actions,
        may_raise,
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
    page(
        &st,
        &req,
        &s,
        &ctx,
        id,
        Shown {
            errors: Errors::default(),
            notice: None,
            problem: None,
            status: StatusCode::OK,
        },
    )
    .await
}
