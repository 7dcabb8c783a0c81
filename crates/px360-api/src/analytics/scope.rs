//! What an analytics request covers: the caller's scope intersected with the requested
//! hospital, department and other dimensions, and the period in the hospital's calendar.
//!
//! The scope becomes the store filter's hospital and department, which every query applies in
//! its `WHERE`: a department manager's request for the whole hospital reads only their
//! department's rows, and a hospital outside the caller's scope answers 404.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use chrono::{NaiveDate, Utc, Weekday};
use px360_domain::analytics::period::{Calendar, Granularity, Period};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource, Role};
use px360_store::analytics::{AnalyticsFilter, DayRange};
use serde::Deserialize;
use uuid::Uuid;

/// Weeks start on Sunday (the Saudi working week); week labels are `2026-11-29/W`.
pub const WEEK_START: Weekday = Weekday::Sun;

/// Filters and period of every analytics request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct KpiQuery {
    /// A period label: `2026-12-06` (day), `2026-11-29/W` (the week starting that Sunday),
    /// `2026-12` (month), `2026-Q4` (quarter). Default: the current period of `granularity`.
    pub period: Option<String>,
    /// `day`, `week`, `month` (default) or `quarter`, when `period` is not given.
    pub granularity: Option<String>,
    pub hospital_id: Option<String>,
    pub department_id: Option<String>,
    pub physician_id: Option<String>,
    pub journey_template_id: Option<String>,
    /// Stage code (of the stage that sent the survey).
    pub stage: Option<String>,
    /// `sms`, `email`, `whatsapp`.
    pub channel: Option<String>,
    /// `en` or `ar`.
    pub language: Option<String>,
}

/// The resolved request: store filter, period and its previous period as local day ranges.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub filter: AnalyticsFilter,
    pub period: Period,
    pub range: DayRange,
    pub previous: Period,
    pub previous_range: DayRange,
}

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

fn uuid(name: &str, v: Option<&str>) -> ApiResult<Option<Uuid>> {
    v.filter(|s| !s.is_empty())
        .map(|s| Uuid::parse_str(s).map_err(|_| field(name, "must be a UUID")))
        .transpose()
}

fn text(name: &str, v: Option<&str>) -> ApiResult<Option<String>> {
    match v.filter(|s| !s.is_empty()) {
        Some(s)
            if s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)) =>
        {
            Ok(Some(s.to_owned()))
        }
        Some(_) => Err(field(name, "must be a code (letters, digits, _ or -)")),
        None => Ok(None),
    }
}

pub fn granularity(v: Option<&str>) -> ApiResult<Granularity> {
    Ok(match v.unwrap_or("month") {
        "day" => Granularity::Day,
        "week" => Granularity::Week,
        "month" => Granularity::Month,
        "quarter" => Granularity::Quarter,
        _ => return Err(field("granularity", "must be day, week, month or quarter")),
    })
}

pub fn range_of(p: &Period) -> DayRange {
    DayRange::new(p.start, p.end())
}

/// Today in the zone of the request's hospital (UTC for the whole group).
async fn today(st: &AppState, hospital: Option<Uuid>) -> ApiResult<NaiveDate> {
    let now = Utc::now();
    Ok(match hospital {
        Some(h) => {
            let row = st.db.hospital(&h.to_string()).await?;
            Calendar::new(row.timezone, WEEK_START).local_date(now)
        }
        None => now.date_naive(),
    })
}

/// Gate and resolve an analytics request for `p`: the requested hospital/department must be
/// inside the caller's scope (404 otherwise, audited), and are narrowed to it.
pub async fn resolve(st: &AppState, p: &Principal, ctx: &Ctx, q: &KpiQuery) -> ApiResult<Resolved> {
    let mut hospital = uuid("hospital_id", q.hospital_id.as_deref())?;
    let department = uuid("department_id", q.department_id.as_deref())?;
    if let Some(d) = department {
        let row = match st.db.department(&d.to_string()).await {
            Ok(r) => r,
            Err(px360_store::StoreError::NotFound) => return Err(ApiError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if hospital.is_some_and(|h| h != row.hospital_id) {
            return Err(ApiError::NotFound);
        }
        hospital = Some(row.hospital_id);
    }
    let target = match (hospital, department) {
        (None, None) => crate::own_scope(p),
        (h, d) => ObjectScope::new(h, d),
    };
    let named = department.or(hospital).map(|u| u.to_string());
    // A hospital-level request by a department role is narrowed to its department below, not
    // refused: the caller asks "my hospital" and sees what their scope holds.
    let gate = match (p.scope().department_id(), department) {
        (Some(own), None) if hospital == p.scope().hospital_id() => {
            ObjectScope::new(hospital, Some(own))
        }
        _ => target,
    };
    st.authorize(
        p,
        ctx,
        Resource::Analytics,
        Action::Read,
        gate,
        named.as_deref(),
    )
    .await?;
    let filter = AnalyticsFilter {
        hospital: hospital.or(p.scope().hospital_id()),
        department: department.or(p.scope().department_id()),
        physician: uuid("physician_id", q.physician_id.as_deref())?,
        journey_template: uuid("journey_template_id", q.journey_template_id.as_deref())?,
        stage_code: text("stage", q.stage.as_deref())?,
        channel: text("channel", q.channel.as_deref())?,
        language: text("language", q.language.as_deref())?,
    };
    let period = match q.period.as_deref().filter(|s| !s.is_empty()) {
        Some(label) => {
            Period::parse(label, WEEK_START).map_err(|e| field("period", &e.to_string()))?
        }
        None => Period::containing(
            today(st, filter.hospital).await?,
            granularity(q.granularity.as_deref())?,
            WEEK_START,
        ),
    };
    let previous = period.previous();
    Ok(Resolved {
        filter,
        range: range_of(&period),
        previous_range: range_of(&previous),
        period,
        previous,
    })
}

/// Role Physician sees only the physician records linked to their own account.
pub async fn own_physicians(st: &AppState, p: &Principal) -> ApiResult<Option<Vec<Uuid>>> {
    if p.role() != Role::Physician {
        return Ok(None);
    }
    Ok(Some(st.db.physicians_of_user(p.user_id()).await?))
}
