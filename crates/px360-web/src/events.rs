//! Integration events: the list (newest first, 50 per page with "Older"/"Newest" links; the
//! status filter and the page links reload only the table through htmx), the detail page, and
//! replay of parked or failed events.
//!
//! Events are hospital-level objects. Each page first asks whether the principal may read (or
//! operate) events in their own hospital at all: roles below PX Coordinator and every
//! department-scoped role get 403 without the event being looked up, so the answer discloses
//! nothing. Then the object itself is checked: another hospital's event answers 404, as in the
//! API.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{
    Chrome, Nav, PAGE_SIZE, Pager, Req, Stamp, badge, mask, render, stamp, stamp_opt,
};
use crate::session::Session;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::auth::Ctx;
use px360_api::{AppState, obj, own_hospital};
use px360_domain::event::EventStatus;
use px360_domain::rbac::{Action, Resource};
use px360_store::events::EventRecord;
use px360_store::ts;

pub const STATUSES: [&str; 4] = ["received", "processed", "failed", "parked"];

pub struct EventRow {
    pub id: String,
    pub received: Stamp,
    pub hospital: String,
    pub source: String,
    pub code: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub attempts: i64,
}

/// Table rows for events already filtered by scope.
pub async fn rows(
    st: &AppState,
    t: &Tr,
    events: Vec<EventRecord>,
) -> Result<Vec<EventRow>, UiError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let names = st.db.org_names().await?;
    let zones = st.db.hospital_zones().await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let hid = e.hospital_id.to_string();
            EventRow {
                received: stamp(
                    t,
                    &ts(e.received_at),
                    zones.get(&hid).map_or("UTC", String::as_str),
                ),
                hospital: names.get(&hid).cloned().unwrap_or_default(),
                status_label: t.get(&format!("status-{}", e.status.as_str())),
                status_class: badge(e.status.as_str()),
                id: e.id.to_string(),
                source: e.source_system,
                code: e.event_code,
                attempts: e.attempts,
            }
        })
        .collect())
}

pub struct StatusOption {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    t: Tr,
    statuses: Vec<StatusOption>,
    rows: Vec<EventRow>,
    count_label: String,
    pager: Pager,
}

/// Only the table (`#event-rows`), for htmx filter changes.
#[derive(Template)]
#[template(path = "event_rows.html")]
struct EventRows {
    t: Tr,
    rows: Vec<EventRow>,
    count_label: String,
    pager: Pager,
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Event,
        Action::Read,
        own_hospital(p),
        None,
    )
    .await?;
    let t = req.t();
    // An unknown status shows everything rather than an error page.
    let status = req.param("status").and_then(EventStatus::parse);
    let before = crate::page::before(&req);
    // The scope filter comes from the principal on every page; the cursor is only a position.
    let h = p.scope().hospital_id().map(|h| h.to_string());
    let page = st
        .db
        .events(h.as_deref(), status, before.as_ref(), PAGE_SIZE)
        .await?;
    // The pages swap into the table like the filter does (a full page without htmx).
    let pager = Pager::new(
        &req,
        before.as_ref(),
        page.next.as_ref(),
        Some("#event-rows"),
    );
    let rows = rows(&st, &t, page.rows).await?;
    let count_label = t.count("events-count", "count", rows.len() as i64);
    if req.hx {
        let mut r = render(&EventRows {
            t,
            rows,
            count_label,
            pager,
        })?;
        r.headers_mut().insert(
            axum::http::header::VARY,
            axum::http::HeaderValue::from_static("HX-Request"),
        );
        return Ok(r);
    }
    let statuses = STATUSES
        .into_iter()
        .map(|v| StatusOption {
            value: v,
            label: t.get(&format!("status-{v}")),
            selected: status.map(EventStatus::as_str) == Some(v),
        })
        .collect();
    render(&EventsPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Events, "events-title"),
        t,
        statuses,
        rows,
        count_label,
        pager,
    })
}

pub struct WarningView {
    pub label: Label,
    pub detail: Vec<Label>,
}

/// A failed attempt's error: the catalogue's sentence for its stored code (absent for rows
/// stored without one) and the technical detail, shown as data.
pub struct ErrorView {
    pub summary: Option<String>,
    pub detail: String,
}

impl ErrorView {
    fn new(t: &Tr, stored: &str) -> ErrorView {
        let (code, detail) = px360_store::failure::split_failure(stored);
        ErrorView {
            summary: code.and_then(|c| {
                let l = t.label(&format!("event-error-{c}"), "");
                (!l.data).then_some(l.text)
            }),
            detail: detail.to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    chrome: Chrome,
    t: Tr,
    id: String,
    hospital: String,
    source: String,
    code: String,
    encounter: String,
    patient: String,
    department_code: Option<String>,
    physician_licence: Option<String>,
    occurred: Stamp,
    received: Stamp,
    processed: Option<Stamp>,
    next_attempt: Option<Stamp>,
    status_label: String,
    status_class: &'static str,
    attempts: i64,
    last_error: Option<ErrorView>,
    warnings: Vec<WarningView>,
    can_replay: bool,
    replayed: bool,
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Event,
        Action::Read,
        own_hospital(p),
        None,
    )
    .await?;
    let e = st.db.event(&id).await?;
    let hid = e.hospital_id.to_string();
    let at = obj(&hid, None);
    st.authorize(p, &ctx, Resource::Event, Action::Read, at, Some(&id))
        .await?;
    let t = req.t();
    // A soft-deleted hospital keeps its events readable; its name is then not shown.
    let (hospital, zone) = match st.db.hospital(&hid).await {
        Ok(h) => (h.name, h.timezone.name().to_owned()),
        Err(px360_store::StoreError::NotFound) => (
            String::new(),
            st.db
                .hospital_zones()
                .await?
                .remove(&hid)
                .unwrap_or_else(|| "UTC".into()),
        ),
        Err(err) => return Err(err.into()),
    };
    // Only the two reference fields are shown from the payload; its other values (custom
    // fields) may carry patient data.
    let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let field = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let warnings: Vec<px360_store::journeys::Warning> =
        serde_json::from_str(&e.warnings).unwrap_or_default();
    let replayable = matches!(e.status, EventStatus::Parked | EventStatus::Failed);
    render(&EventPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Events, "event-title"),
        id: e.id.to_string(),
        hospital,
        source: e.source_system,
        code: e.event_code,
        encounter: e.encounter_id,
        patient: mask(&e.patient_identifier),
        department_code: field("department_code"),
        physician_licence: field("physician_licence"),
        occurred: stamp(&t, &ts(e.occurred_at), &zone),
        received: stamp(&t, &ts(e.received_at), &zone),
        processed: stamp_opt(&t, e.processed_at.map(ts).as_deref(), &zone),
        next_attempt: stamp_opt(&t, e.next_attempt_at.map(ts).as_deref(), &zone),
        status_label: t.get(&format!("status-{}", e.status.as_str())),
        status_class: badge(e.status.as_str()),
        attempts: e.attempts,
        last_error: e.last_error.as_deref().map(|s| ErrorView::new(&t, s)),
        warnings: warnings
            .into_iter()
            .map(|w| WarningView {
                label: t.label(&format!("warning-{}", w.code), &w.code),
                detail: warning_detail(&t, &w),
            })
            .collect(),
        can_replay: replayable && p.may(Resource::Event, Action::Operate, &at),
        replayed: req.param("replayed").is_some(),
        t,
    })
}

/// A warning's explanation from the catalogue, in the page's language, filled with the values
/// the worker recorded (those values are data). Warnings stored before the worker recorded
/// them keep their stored (English) text, shown as data.
pub(crate) fn warning_detail(t: &Tr, w: &px360_store::journeys::Warning) -> Vec<Label> {
    const NAMES: [&str; 3] = ["code", "licence", "event_code"];
    if w.args.is_empty() && w.code != "unknown_patient" {
        return vec![Label::data(&w.detail)];
    }
    let args: Vec<(&'static str, String)> = NAMES
        .iter()
        .filter_map(|n| Some((*n, w.args.get(*n)?.clone())))
        .collect();
    // `no_matching_stage` has two texts: no template at all, or not in this journey.
    let key = match w.args.get("scope").map(String::as_str) {
        Some("journey") => format!("warning-detail-{}-journey", w.code),
        _ => format!("warning-detail-{}", w.code),
    };
    t.with_data(&key, &args)
        .unwrap_or_else(|| vec![Label::data(&w.detail)])
}

/// `POST /ui/events/{id}/replay`: the API's replay rule (Operate on the event's hospital), the
/// same store reset and the same audit record, then the event is handed back to the worker.
pub async fn replay(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::Event,
        Action::Operate,
        own_hospital(p),
        None,
    )
    .await?;
    let e = st.db.event(&id).await?;
    st.authorize(
        p,
        &ctx,
        Resource::Event,
        Action::Operate,
        obj(&e.hospital_id.to_string(), None),
        Some(&id),
    )
    .await?;
    if !st.db.reset_for_replay(&id).await? {
        return Err(UiError::Conflict("replay-conflict"));
    }
    st.audit(AppState::entry(
        p,
        &ctx,
        "event.replay",
        "inbound_event",
        &id,
        Some(&e.hospital_id.to_string()),
        serde_json::json!({"previous_status": e.status.as_str(), "via": "ui"}),
    ))
    .await?;
    hand_back_to_worker(&st, &id).await;
    Ok(Redirect::to(&format!("/ui/events/{id}?replayed=1")).into_response())
}

/// The single place where a reset event is handed back for processing: one job for it on the
/// job queue, as the API's replay does. If the push fails the event is still `received`, and
/// the worker's sweeper enqueues it after its grace period, so the failure is only logged.
async fn hand_back_to_worker(st: &AppState, event_id: &str) {
    if let Err(e) = st.jobs.push_events(vec![event_id.to_owned()], None).await {
        tracing::warn!(event_id = %event_id, error = %e, "ui.replay_push_failed");
    }
}
