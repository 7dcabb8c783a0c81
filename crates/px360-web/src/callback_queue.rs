//! The callback queue (`/ui/callbacks`, the API's `queue`: working order, overdue marked, the
//! read audited) and the agent statistics (`/ui/analytics/call-centre`, the API's report:
//! calls per agent, mean handle time, first-call resolution, outcomes, callbacks met and
//! breached). Patient identifiers are masked below PX Coordinator.

use crate::calls::mmss;
use crate::error::UiError;
use crate::i18n::Tr;
use crate::page::{Chrome, Nav, Req, Stamp, mask, render};
use crate::session::Session;
use crate::work::{at, at_opt, sees_patient, zone_of};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::analytics::callcentre::{AgentRow, report};
use px360_api::analytics::scope::KpiQuery;
use px360_api::auth::Ctx;
use px360_api::callbacks::{cancel, queue};
use px360_domain::callcentre::callback::QueueStatus;
use std::collections::HashMap;
use uuid::Uuid;

pub struct QueueView {
    pub id: String,
    pub due: Option<Stamp>,
    pub status: String,
    pub badge: &'static str,
    pub priority: String,
    pub reason: String,
    pub mrn: Option<String>,
    pub note: Option<String>,
    pub requested: Stamp,
    pub call_href: Option<String>,
}

#[derive(Template)]
#[template(path = "callbacks.html")]
struct QueuePage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<QueueView>,
    overdue: Option<String>,
    notice: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let rows = queue(&st, p, &ctx).await?;
    let show = sees_patient(p);
    let mut zones: HashMap<Uuid, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let c = &r.callback;
        if let std::collections::hash_map::Entry::Vacant(e) = zones.entry(c.hospital_id) {
            e.insert(zone_of(&st, c.hospital_id).await);
        }
        let zone = zones.get(&c.hospital_id).map_or("UTC", String::as_str);
        let mrn = match c.patient_id {
            Some(pid) => st
                .db
                .patient(&pid.to_string())
                .await
                .ok()
                .map(|pt| if show { pt.mrn } else { mask(&pt.mrn) }),
            None => None,
        };
        let (status, badge) = match r.queue_status {
            QueueStatus::Overdue => ("callbacks-overdue", "text-bg-danger"),
            QueueStatus::Waiting => ("callbacks-waiting", "text-bg-success"),
            QueueStatus::NoTarget => ("callbacks-no-target", "text-bg-secondary"),
        };
        out.push(QueueView {
            id: c.id.to_string(),
            due: at_opt(&t, c.due_at, zone),
            status: t.get(status),
            badge,
            priority: t.get(&format!("severity-{}", c.priority.as_str())),
            reason: t.get(&format!("call-reason-{}", c.reason)),
            mrn,
            note: c.note.clone(),
            requested: at(&t, c.requested_at, zone),
            call_href: c.call_id.map(|x| format!("/ui/calls/{x}")),
        });
    }
    render(&QueuePage {
        chrome: Chrome::new(&req, Some(&s), Nav::Calls, "callbacks-title"),
        overdue: match rows
            .iter()
            .filter(|r| r.queue_status == QueueStatus::Overdue)
            .count()
        {
            0 => None,
            n => Some(t.count(
                "callbacks-overdue-count",
                "count",
                i64::try_from(n).unwrap_or(i64::MAX),
            )),
        },
        rows: out,
        notice: req.param("done").map(|_| t.get("callbacks-done-cancelled")),
        t,
    })
}

pub async fn cancel_one(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = Uuid::parse_str(&id).map_err(|_| UiError::NotFound)?;
    match cancel(&st, &s.principal, &ctx, id).await {
        Ok(_) => Ok(Redirect::to("/ui/callbacks?done=cancelled").into_response()),
        // Made or cancelled meanwhile: the queue shows where it stands.
        Err(px360_api::error::ApiError::Conflict(_)) => {
            Ok(Redirect::to("/ui/callbacks").into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct StatsRow {
    pub name: String,
    pub team: bool,
    pub calls: u64,
    pub inbound: u64,
    pub outbound: u64,
    pub answered: u64,
    pub mean: String,
    pub fcr: String,
    pub complaints: u64,
    pub surveys: u64,
    pub callbacks_scheduled: u64,
    pub no_answer: u64,
    pub on_time: u64,
    pub late: u64,
    pub compliance: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{}", x.round() as i64))
        .unwrap_or_else(|| "–".into())
}

fn stats_row(t: &Tr, r: &AgentRow, team: bool) -> StatsRow {
    let o = |k: &str| r.outcomes.get(k).copied().unwrap_or(0);
    StatsRow {
        name: if team {
            t.get("agent-stats-team")
        } else {
            r.name.clone()
        },
        team,
        calls: r.calls,
        inbound: r.inbound,
        outbound: r.outbound,
        answered: r.answered,
        mean: r
            .mean_duration_secs
            .map(|m| mmss(m.round() as i64))
            .unwrap_or_else(|| "–".into()),
        fcr: pct(r.first_call_resolution),
        complaints: o("complaint_created"),
        surveys: o("survey_completed"),
        callbacks_scheduled: o("callback_scheduled"),
        no_answer: o("no_answer"),
        on_time: r.callbacks_on_time,
        late: r.callbacks_late,
        compliance: pct(r.callback_compliance),
    }
}

#[derive(Template)]
#[template(path = "call_stats.html")]
struct StatsPage {
    chrome: Chrome,
    t: Tr,
    period: String,
    granularities: Vec<(String, String, bool)>,
    rows: Vec<StatsRow>,
    overdue: String,
}

pub async fn stats(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Query(mut q): Query<KpiQuery>,
) -> Result<Response, UiError> {
    let t = req.t();
    if q.granularity.as_deref().is_none_or(str::is_empty) {
        q.granularity = Some("month".into());
    }
    let g = q.granularity.clone().unwrap_or_default();
    let r = report(&st, &s.principal, &ctx, &q).await?;
    let mut rows: Vec<StatsRow> = r.agents.iter().map(|a| stats_row(&t, a, false)).collect();
    rows.push(stats_row(&t, &r.team, true));
    render(&StatsPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Calls, "agent-stats-title"),
        period: r.period.clone(),
        granularities: ["day", "week", "month", "quarter"]
            .iter()
            .map(|x| {
                (
                    (*x).to_owned(),
                    t.get(&format!("analytics-granularity-{x}")),
                    *x == g,
                )
            })
            .collect(),
        rows,
        overdue: t.count(
            "agent-stats-overdue",
            "count",
            i64::try_from(r.callbacks_open_overdue).unwrap_or(i64::MAX),
        ),
        t,
    })
}
