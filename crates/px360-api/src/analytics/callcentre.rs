//! Agent statistics (issue 18, item 2): per agent and for the team, calls (inbound, outbound,
//! answered), mean handle time, first-call resolution, outcomes, and callbacks made on time or
//! late, for an analytics period in the caller's scope. Staff performance, no patient data:
//! supervisors (Resource::AgentStats, PX Coordinator and up).

use super::scope::{KpiQuery, WEEK_START, resolve};
use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{NaiveDate, Utc};
use px360_domain::analytics::period::Calendar;
use px360_domain::analytics::ratio::Ratio;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::callcentre::stats::{AgentLine, StatsFilter};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentRow {
    /// `null` on the team's row.
    pub agent_id: Option<Uuid>,
    pub name: String,
    pub calls: u64,
    pub inbound: u64,
    pub outbound: u64,
    pub answered: u64,
    /// Mean seconds per answered call.
    pub mean_duration_secs: Option<f64>,
    /// % of answered calls resolved on the call.
    pub first_call_resolution: Option<f64>,
    /// Calls per outcome (`resolved`, `complaint_created`, `survey_completed`, …).
    pub outcomes: BTreeMap<String, u64>,
    pub callbacks_on_time: u64,
    pub callbacks_late: u64,
    /// % of callbacks made by their due time.
    pub callback_compliance: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentStatsReport {
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub agents: Vec<AgentRow>,
    pub team: AgentRow,
    /// Open callbacks already past their due time (breached, not yet made).
    pub callbacks_open_overdue: u64,
}

fn row(agent: Option<Uuid>, name: String, l: &AgentLine) -> AgentRow {
    let s = &l.stats;
    AgentRow {
        agent_id: agent,
        name,
        calls: s.calls(),
        inbound: s.inbound,
        outbound: s.outbound,
        answered: s.answered,
        mean_duration_secs: s.average_handle_secs().map(Ratio::to_f64),
        first_call_resolution: s.first_call_resolution().map(Ratio::to_f64),
        outcomes: l
            .outcomes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        callbacks_on_time: s.callbacks_on_time,
        callbacks_late: s.callbacks_late,
        callback_compliance: s.callback_compliance().map(Ratio::to_f64),
    }
}

/// The report for `p` (API and the web page).
pub async fn report(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    q: &KpiQuery,
) -> ApiResult<AgentStatsReport> {
    let r = resolve(st, p, ctx, q).await?;
    let target = match (r.filter.hospital, r.filter.department) {
        (None, None) => crate::own_scope(p),
        (h, d) => ObjectScope::new(h, d),
    };
    st.authorize(p, ctx, Resource::AgentStats, Action::Read, target, None)
        .await?;
    // Local days of the hospital (UTC for the whole group) as UTC instants.
    let tz = match r.filter.hospital {
        Some(h) => st.db.hospital(&h.to_string()).await?.timezone,
        None => chrono_tz::UTC,
    };
    let cal = Calendar::new(tz, WEEK_START);
    let f = StatsFilter {
        hospital_id: r.filter.hospital.map(|h| h.to_string()),
        department_id: r.filter.department.map(|d| d.to_string()),
        from: cal.start_of(r.range.from),
        to: cal.start_of(r.range.to),
    };
    let stats = st.db.agent_stats(&f, Utc::now()).await?;
    let mut agents = Vec::with_capacity(stats.agents.len());
    for (id, line) in &stats.agents {
        let name = match st.db.user(&id.to_string()).await {
            Ok(u) => u.display_name,
            Err(px360_store::StoreError::NotFound) => id.to_string(),
            Err(e) => return Err(e.into()),
        };
        agents.push(row(Some(*id), name, line));
    }
    agents.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name)));
    Ok(AgentStatsReport {
        period: r.period.label(),
        from: r.range.from,
        to: r.range.to,
        agents,
        team: row(None, String::new(), &stats.team),
        callbacks_open_overdue: stats.callbacks_open_overdue,
    })
}

#[utoipa::path(get, path = "/api/analytics/call-centre", tag = "analytics", params(KpiQuery),
    responses((status = 200, body = AgentStatsReport, description = "Calls per agent, mean handle time, first-call resolution, outcomes, callbacks met and breached; PX Coordinator and up"),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_call_centre(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<AgentStatsReport>> {
    Ok(Json(report(&st, &p, &ctx, &q).await?))
}
