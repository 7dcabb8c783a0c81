//! The weekly analytics report by email (issue 17 item 5).
//!
//! Who may subscribe: any user whose role may read Analytics in their own scope (the same gate
//! as the analytics pages, so Viewers and up; the report is aggregates only, no patient data).
//! Subscribing is self-service (`GET`/`PUT /api/me/weekly-report`, audited).
//!
//! The job ([`run_weekly`], claimed once across processes through the `schedules` table by
//! [`tick`]) builds for each subscriber the KPI tiles of the previous week (Sunday to Saturday)
//! with the trend against the week before, through the API's own report builders
//! ([`crate::analytics::scope::resolve`] with the subscriber's principal, so scope rules are the
//! API's), and hands them to the notification email path as a `weekly_report` notification
//! whose dedup key names the week: once per user per week, however often the job runs. The
//! worker's notifier renders the email (HTML and text) in the user's language.
//!
//! The report of a week is due from Sunday 07:00 in the subscriber's hospital zone; group-scope
//! users (no hospital) use Asia/Riyadh.

use crate::analytics::reports::{self, KpiReport};
use crate::analytics::scope::{self, KpiQuery, WEEK_START};
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, commit_audited};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use px360_domain::analytics::period::Calendar;
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::StoreError;
use px360_store::audit::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Zone of the users without a hospital (group scope).
pub const GROUP_ZONE: Tz = chrono_tz::Asia::Riyadh;
/// Local hour of Sunday from which last week's report is due.
pub const SEND_HOUR: u32 = 7;
/// Name of the schedule in the `schedules` table.
pub const SCHEDULE: &str = "weekly_report";

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WeeklyReportSubscription {
    /// Whether the caller receives the weekly KPI report by email (Sunday 07:00 local time).
    pub subscribed: bool,
}

fn gate(p: &Principal) -> ApiResult<()> {
    if p.may(Resource::Analytics, Action::Read, &crate::own_scope(p)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Does the caller receive the weekly report?
#[utoipa::path(get, path = "/api/me/weekly-report", tag = "analytics",
    responses((status = 200, body = WeeklyReportSubscription), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn get_weekly_report(
    State(st): State<AppState>,
    Authed(p): Authed,
) -> ApiResult<Json<WeeklyReportSubscription>> {
    gate(&p)?;
    Ok(Json(WeeklyReportSubscription {
        subscribed: st.db.weekly_report_subscribed(p.user_id()).await?,
    }))
}

/// Subscribe the caller to the weekly report, or unsubscribe them (audited).
#[utoipa::path(put, path = "/api/me/weekly-report", tag = "analytics",
    request_body = WeeklyReportSubscription,
    responses((status = 200, body = WeeklyReportSubscription), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn put_weekly_report(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<WeeklyReportSubscription>,
) -> ApiResult<Json<WeeklyReportSubscription>> {
    gate(&p)?;
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    let changed = px360_store::weekly_report::set_subscription(
        &mut tx,
        p.user_id(),
        b.subscribed,
        Utc::now(),
    )
    .await?;
    let action = if b.subscribed {
        "analytics.weekly_report.subscribe"
    } else {
        "analytics.weekly_report.unsubscribe"
    };
    let e = AppState::entry(
        &p,
        &ctx,
        action,
        "user",
        &p.user_id().to_string(),
        p.scope().hospital_id().map(|h| h.to_string()).as_deref(),
        serde_json::json!({"subscribed": b.subscribed, "changed": changed, "self_service": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(Json(WeeklyReportSubscription {
        subscribed: b.subscribed,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_weekly_report, put_weekly_report))
}

/// The first day (a Sunday) of the week whose report is due at `now` in `tz`: last week once
/// this week's Sunday 07:00 has passed, else the week before it (already due a week ago).
pub fn due_week(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let local = now.with_timezone(&tz);
    let today = Calendar::new(tz, WEEK_START).local_date(now);
    let back = i64::from(today.weekday().num_days_from_sunday());
    let mut sunday = today - Duration::days(back);
    let before_hour = local.time() < NaiveTime::from_hms_opt(SEND_HOUR, 0, 0).unwrap_or_default();
    if back == 0 && before_hour {
        sunday -= Duration::days(7);
    }
    sunday - Duration::days(7)
}

/// What the email holds: the week, the scope's names and the tiles (numbers only).
fn detail(r: &KpiReport, scope_label: &str) -> serde_json::Value {
    let tiles: Vec<serde_json::Value> = r
        .tiles
        .iter()
        .map(|t| {
            serde_json::json!({
                "kpi": t.kpi, "shown": t.shown, "value": t.value, "n": t.n,
                "previous": t.previous, "trend": t.trend,
            })
        })
        .collect();
    serde_json::json!({
        "week": r.period, "previous_week": r.previous_period,
        "from": r.from, "to": r.to, "scope": scope_label, "tiles": tiles,
    })
}

/// Queue the due weekly report of every subscriber; returns how many were queued now (those
/// queued before for the same week are skipped). A subscriber whose report cannot be built
/// (account changed, scope gone) is logged and skipped; the others still get theirs.
pub async fn run_weekly(st: &AppState, now: DateTime<Utc>) -> ApiResult<usize> {
    let mut queued = 0;
    for user in st.db.weekly_report_subscribers().await? {
        match one(st, user, now).await {
            Ok(true) => queued += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(user_id = %user, error = %e, "weekly_report.skipped"),
        }
    }
    Ok(queued)
}

async fn one(st: &AppState, user: Uuid, now: DateTime<Utc>) -> ApiResult<bool> {
    let u = st.db.user(&user.to_string()).await?;
    let p = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
        .map_err(|_| ApiError::NotFound)?;
    gate(&p)?;
    let (tz, scope_label) = match (u.hospital_id, u.department_id) {
        (Some(h), d) => {
            let hr = st.db.hospital(&h.to_string()).await?;
            let label = match d {
                Some(d) => format!(
                    "{} / {}",
                    hr.name,
                    st.db.department(&d.to_string()).await?.name
                ),
                None => hr.name.clone(),
            };
            (hr.timezone, label)
        }
        (None, _) => (GROUP_ZONE, String::new()),
    };
    let week = due_week(now, tz);
    let q = KpiQuery {
        period: Some(format!("{}/W", week.format("%Y-%m-%d"))),
        ..Default::default()
    };
    // The job is no request: an empty context (no IP, no user agent) in any audit it causes.
    let ctx = Ctx::default();
    let r = scope::resolve(st, &p, &ctx, &q).await?;
    let report = reports::kpis(st, &r).await?;
    let d = detail(&report, &scope_label);
    let mut tx = st.db.writer.begin().await.map_err(StoreError::from)?;
    if !px360_store::weekly_report::queue(&mut tx, u.id, &report.period, &d, now).await? {
        tx.rollback().await.map_err(StoreError::from)?;
        return Ok(false);
    }
    let e = AuditEntry {
        actor_type: "system",
        actor_id: None,
        ip: None,
        user_agent: None,
        action: "analytics.weekly_report.sent".into(),
        object_type: Some("user"),
        object_id: Some(u.id.to_string()),
        hospital_id: u.hospital_id.map(|h| h.to_string()),
        changes: Some(serde_json::json!({"week": report.period, "tiles": report.tiles.len()})),
    };
    commit_audited(tx, &e).await?;
    Ok(true)
}

/// One beat of the schedule: claim the slot of `at` (once across processes) and run the job.
pub async fn tick(st: &AppState, by: &str, at: DateTime<Utc>) -> ApiResult<Option<usize>> {
    if !st
        .db
        .claim_schedule(SCHEDULE, Duration::minutes(15), by, at)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(run_weekly(st, at).await?))
}

/// Tick every minute until `shutdown` (in every process that runs the beat role).
pub async fn run(st: AppState, by: String, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        let at = Utc::now();
        let at = at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos()));
        match tick(&st, &by, at).await {
            Ok(Some(n)) if n > 0 => tracing::info!(reports = n, "weekly_report.queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "weekly_report.tick_failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
