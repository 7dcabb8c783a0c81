//! The agent screen (`/ui/calls`): find the patient by MRN or phone (the API's lookup, in the
//! agent's scope, audited), log an inbound or outbound call (the API's `log_call`: validated by
//! the domain, notes scored, a callback of the queue closed), and the recent calls of the
//! scope with their outcome and the notes' sentiment. MRNs are masked below PX Coordinator.

use crate::error::UiError;
use crate::forms::{Errors, from_api, opt};
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, before, mask, render};
use crate::session::Session;
use crate::work::{Pick, at, coded, sees_patient, zone_of};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::auth::Ctx;
use px360_api::calls::{CallInput, CallQuery, LookupQuery, call_filter, log_call, lookup};
use px360_api::error::ApiError;
use px360_api::{AppState, own_scope};
use px360_domain::callcentre::call::{Caller, Direction, Outcome, Reason};
use px360_domain::rbac::{Action, Resource};
use px360_store::callcentre::calls::Call;
use px360_store::callcentre::lookup::PatientMatch;
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

pub fn codes<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| name(*x)).collect()
}

/// `m:ss` of a duration (digits are data in either language).
pub fn mmss(secs: i64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The badge of a notes sentiment.
pub fn sentiment_badge(label: &str) -> &'static str {
    match label {
        "negative" => "text-bg-danger",
        "positive" => "text-bg-success",
        _ => "text-bg-secondary",
    }
}

pub struct CallRow {
    pub href: String,
    pub started: Stamp,
    pub agent: String,
    pub direction: String,
    pub reason: String,
    pub outcome: String,
    pub mrn: Option<String>,
    pub duration: String,
    pub sentiment: Option<(String, &'static str)>,
}

/// The patient the form is about (chosen from the lookup or from a callback).
pub struct Chosen {
    pub id: String,
    pub mrn: String,
    pub name: String,
    pub kind: String,
}

#[derive(Deserialize, Default)]
pub struct CallForm {
    #[serde(default)]
    pub patient_id: String,
    #[serde(default)]
    pub lookup_kind: String,
    #[serde(default)]
    pub callback_id: String,
    #[serde(default)]
    pub direction: String,
    #[serde(default)]
    pub caller: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub seconds: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Template)]
#[template(path = "calls.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    mrn: String,
    phone: String,
    searched: bool,
    lookup_error: Option<String>,
    matches: Vec<(PatientMatch, String)>,
    chosen: Option<Chosen>,
    f: CallForm,
    errors: Errors,
    problem: Option<String>,
    directions: Vec<Pick>,
    callers: Vec<Pick>,
    reasons: Vec<Pick>,
    outcomes: Vec<Pick>,
    rows: Vec<CallRow>,
    pager: Pager,
    may_stats: bool,
    notice: Option<String>,
}

/// Fields the form shows errors next to.
const SHOWN: [&str; 7] = [
    "direction",
    "caller",
    "reason",
    "outcome",
    "duration_secs",
    "notes",
    "patient_id",
];

/// The patient the call form is about, if the agent may read them; showing them (name, MRN)
/// is a read of patient data and is audited.
async fn chosen(
    st: &AppState,
    s: &Session,
    ctx: &Ctx,
    id: &str,
    kind: &str,
) -> Result<Option<Chosen>, UiError> {
    let Ok(pid) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    let p = &s.principal;
    let pt = match st.db.patient(&pid.to_string()).await {
        Ok(pt) => pt,
        Err(px360_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !p.may(
        Resource::Patient,
        Action::Read,
        &px360_api::obj_of(pt.hospital_id, pt.department_id),
    ) {
        return Ok(None);
    }
    st.audit(AppState::entry(
        p,
        ctx,
        "patient.read",
        "patient",
        &pt.id.to_string(),
        Some(&pt.hospital_id.to_string()),
        serde_json::json!({"page": "call_form"}),
    ))
    .await?;
    let name = [pt.given_name.as_deref(), pt.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Some(Chosen {
        id: pt.id.to_string(),
        mrn: pt.mrn,
        name,
        kind: if kind == "phone" { "phone" } else { "mrn" }.into(),
    }))
}

/// The screen with `f` in the form and `errors` next to its fields.
pub async fn screen(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    mut f: CallForm,
    errors: Errors,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(p, ctx, Resource::Call, Action::Read, own_scope(p), None)
        .await?;
    let t = req.t();
    let param = |k: &str| {
        req.param(k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (mrn, phone) = (param("mrn"), param("phone"));
    let mut lookup_error = None;
    let mut matches = Vec::new();
    let searched = mrn.is_some() || phone.is_some();
    if searched {
        let q = LookupQuery {
            mrn: mrn.clone(),
            phone: if mrn.is_some() { None } else { phone.clone() },
            hospital_id: None,
        };
        match lookup(st, p, ctx, &q).await {
            Ok(r) => {
                let kind = r.kind.clone();
                matches = r.patients.into_iter().map(|m| (m, kind.clone())).collect();
            }
            Err(ApiError::Validation(e)) => {
                let field = e.first().map(|x| x.field.clone()).unwrap_or_default();
                lookup_error = Some(t.get(&format!("calls-error-lookup-{field}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Working a callback: its patient, an outbound call, reason "callback".
    if let Some(cb) = param("callback").and_then(|c| Uuid::parse_str(&c).ok()) {
        let row = px360_api::callbacks::load(st, p, ctx, cb, Action::Update).await?;
        f.callback_id = cb.to_string();
        if let Some(pt) = row.patient_id {
            f.patient_id = pt.to_string();
        }
        if f.direction.is_empty() {
            f.direction = "outbound".into();
            f.reason = "callback".into();
        }
    }
    if let Some(pt) = param("patient") {
        f.patient_id = pt;
        f.lookup_kind = param("kind").unwrap_or_else(|| "mrn".into());
    }
    let chosen = chosen(st, s, ctx, &f.patient_id, &f.lookup_kind).await?;
    // Recent calls of the scope.
    let current = before(req);
    let q = CallQuery {
        mine: param("mine").map(|_| true),
        ..CallQuery::default()
    };
    let page = st
        .db
        .calls(&call_filter(p, &q), current.as_ref(), PAGE_SIZE)
        .await?;
    let people = crate::work::People::load(st).await?;
    let show = sees_patient(p);
    let mut zones: HashMap<Uuid, String> = HashMap::new();
    let mut rows = Vec::new();
    for c in &page.rows {
        if let std::collections::hash_map::Entry::Vacant(e) = zones.entry(c.hospital_id) {
            e.insert(zone_of(st, c.hospital_id).await);
        }
        rows.push(
            row(
                st,
                &t,
                c,
                &people,
                show,
                zones.get(&c.hospital_id).map_or("UTC", String::as_str),
            )
            .await?,
        );
    }
    let sel = |v: &str, d: &'static str| {
        if v.is_empty() {
            d.to_owned()
        } else {
            v.to_owned()
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let problem = errors.others(SHOWN).into_iter().next();
    let mut r = render(&Page {
        chrome: Chrome::new(req, Some(s), Nav::Calls, "calls-title"),
        mrn: mrn.unwrap_or_default(),
        phone: phone.unwrap_or_default(),
        searched,
        lookup_error,
        matches,
        chosen,
        directions: coded(
            &t,
            "call-direction",
            &codes(Direction::ALL, Direction::as_str),
            &sel(&f.direction, "inbound"),
            None,
        ),
        callers: coded(
            &t,
            "call-caller",
            &codes(Caller::ALL, Caller::as_str),
            &sel(&f.caller, "patient"),
            None,
        ),
        reasons: coded(
            &t,
            "call-reason",
            &codes(Reason::ALL, Reason::as_str),
            &sel(&f.reason, "enquiry"),
            None,
        ),
        outcomes: coded(
            &t,
            "call-outcome",
            &codes(Outcome::ALL, Outcome::as_str),
            &sel(&f.outcome, "resolved"),
            None,
        ),
        f,
        errors,
        problem,
        rows,
        pager: Pager::new(req, current.as_ref(), page.next.as_ref(), None),
        may_stats: p.may(Resource::AgentStats, Action::Read, &own_scope(p)),
        notice: req.param("done").map(|d| {
            t.get(&format!(
                "calls-done-{}",
                if d == "created" { "created" } else { "saved" }
            ))
        }),
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

pub async fn row(
    st: &AppState,
    t: &Tr,
    c: &Call,
    people: &crate::work::People,
    show: bool,
    zone: &str,
) -> Result<CallRow, UiError> {
    let mrn = match c.patient_id {
        Some(pid) => match st.db.patient(&pid.to_string()).await {
            Ok(pt) => Some(if show { pt.mrn } else { mask(&pt.mrn) }),
            Err(px360_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(CallRow {
        href: format!("/ui/calls/{}", c.id),
        started: at(t, c.started_at, zone),
        agent: people.name(Some(c.agent_id)).unwrap_or_default(),
        direction: t.get(&format!("call-direction-{}", c.direction.as_str())),
        reason: t.get(&format!("call-reason-{}", c.reason.as_str())),
        outcome: t.get(&format!("call-outcome-{}", c.outcome.as_str())),
        mrn,
        duration: mmss(c.duration_secs),
        sentiment: c.sentiment.as_ref().map(|x| {
            (
                t.get(&format!("call-sentiment-{}", x.label)),
                sentiment_badge(&x.label),
            )
        }),
    })
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    screen(&st, &req, &s, &ctx, CallForm::default(), Errors::default()).await
}

/// Minutes and seconds as typed; anything unreadable is an error next to the duration.
fn duration(f: &CallForm) -> Option<u32> {
    let n = |v: &str| -> Option<u32> {
        let v = v.trim();
        if v.is_empty() {
            Some(0)
        } else {
            v.parse().ok()
        }
    };
    let (m, s) = (n(&f.minutes)?, n(&f.seconds)?);
    if s >= 60 {
        return None;
    }
    m.checked_mul(60)?.checked_add(s)
}

pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<CallForm>,
) -> Result<Response, UiError> {
    let t = req.t();
    let p = s.principal;
    let Some(secs) = duration(&f) else {
        let errs = Errors(vec![(
            "duration_secs".into(),
            t.get("calls-error-duration_secs"),
        )]);
        return screen(&st, &req, &s, &ctx, f, errs).await;
    };
    let input = CallInput {
        direction: f.direction.trim().to_owned(),
        caller: f.caller.trim().to_owned(),
        patient_id: Uuid::parse_str(f.patient_id.trim()).ok(),
        lookup_kind: opt(&f.lookup_kind),
        reason: f.reason.trim().to_owned(),
        outcome: f.outcome.trim().to_owned(),
        duration_secs: secs,
        notes: opt(&f.notes),
        callback_id: Uuid::parse_str(f.callback_id.trim()).ok(),
        ..CallInput::default()
    };
    match log_call(&st, &p, &ctx, &input).await {
        Ok(c) => Ok(Redirect::to(&format!("/ui/calls/{}?done=created", c.id)).into_response()),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
            let errs = from_api(&t, "calls", e, |f| f.to_owned())?;
            screen(&st, &req, &s, &ctx, f, errs).await
        }
        Err(e) => Err(e.into()),
    }
}
