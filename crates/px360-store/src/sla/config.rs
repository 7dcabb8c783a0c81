//! Per-hospital SLA configuration: the business calendar, the policy rules (targets by category
//! and severity) and the escalation ladder. Each is validated by the domain before it is stored,
//! so what is read back always builds.

use crate::row;
use crate::{Db, Result, StoreError, new_id, now_ts};
use px360_domain::rbac::Role;
use px360_domain::sla::{
    BusinessCalendar, CalendarSpec, EscalationStep, EscalationTarget, HolidaySpec, Ladder,
    Severity, SlaDuration, SlaPolicy, Target, Targets, TimeBasis, Trigger, WarnAt,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A hospital's business calendar as stored and edited.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Calendar {
    pub hospital_id: Uuid,
    /// IANA zone, e.g. `Asia/Riyadh`.
    pub time_zone: String,
    /// `mon`..`sun` → working intervals `"HH:MM-HH:MM"`; a day not named is closed.
    pub hours: BTreeMap<String, Vec<String>>,
    pub holidays: Vec<HolidayDoc>,
    pub version: i64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HolidayDoc {
    pub name: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive); absent for a single day.
    pub to: Option<String>,
}

/// The editable part of a calendar.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarInput {
    pub time_zone: String,
    pub hours: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<HolidayDoc>,
}

impl CalendarInput {
    pub fn spec(&self) -> CalendarSpec {
        CalendarSpec {
            time_zone: self.time_zone.clone(),
            hours: self.hours.clone(),
            holidays: self
                .holidays
                .iter()
                .map(|h| HolidaySpec {
                    name: h.name.clone(),
                    from: h.from.clone(),
                    to: h.to.clone(),
                })
                .collect(),
        }
    }

    /// The domain's verdict: a calendar that does not build is refused with its reason.
    pub fn validate(&self) -> std::result::Result<BusinessCalendar, String> {
        BusinessCalendar::from_spec(&self.spec()).map_err(|e| e.to_string())
    }

    /// The demo group's calendar: Asia/Riyadh, Sunday–Thursday 08:00–12:00 and 13:00–17:00
    /// (Friday–Saturday weekend), with the 2026 Saudi public holidays.
    pub fn riyadh_demo() -> Self {
        let shift = vec!["08:00-12:00".to_owned(), "13:00-17:00".to_owned()];
        let hours = ["sun", "mon", "tue", "wed", "thu"]
            .iter()
            .map(|d| ((*d).to_owned(), shift.clone()))
            .collect();
        let h = |name: &str, from: &str, to: Option<&str>| HolidayDoc {
            name: name.into(),
            from: from.into(),
            to: to.map(Into::into),
        };
        CalendarInput {
            time_zone: "Asia/Riyadh".into(),
            hours,
            holidays: vec![
                h("Founding Day", "2026-02-22", None),
                h("Eid al-Fitr", "2026-03-19", Some("2026-03-24")),
                h("Eid al-Adha", "2026-05-25", Some("2026-05-30")),
                h("National Day", "2026-09-23", None),
            ],
        }
    }
}

fn calendar_row(r: &sqlx::any::AnyRow) -> Result<Calendar> {
    let hours: String = r.try_get("hours")?;
    let holidays: String = r.try_get("holidays")?;
    Ok(Calendar {
        hospital_id: row::uuid(r, "hospital_id")?,
        time_zone: r.try_get("time_zone")?,
        hours: serde_json::from_str(&hours)
            .map_err(|_| StoreError::Invalid("stored calendar hours".into()))?,
        holidays: serde_json::from_str(&holidays)
            .map_err(|_| StoreError::Invalid("stored calendar holidays".into()))?,
        version: r.try_get("version")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

pub async fn calendar(c: &mut AnyConnection, hospital: Uuid) -> Result<Option<Calendar>> {
    let r = sqlx::query("SELECT hospital_id, time_zone, hours, holidays, version, updated_at FROM business_calendars WHERE hospital_id = $1")
        .bind(hospital.to_string())
        .fetch_optional(&mut *c)
        .await?;
    r.as_ref().map(calendar_row).transpose()
}

/// The calendar the clocks of `hospital` run on: its stored calendar, or round the clock in the
/// hospital's zone when it has none.
pub async fn business_calendar(c: &mut AnyConnection, hospital: Uuid) -> Result<BusinessCalendar> {
    if let Some(cal) = calendar(c, hospital).await? {
        let input = CalendarInput {
            time_zone: cal.time_zone,
            hours: cal.hours,
            holidays: cal.holidays,
        };
        return input.validate().map_err(StoreError::Invalid);
    }
    let tz: Option<String> = sqlx::query_scalar("SELECT timezone FROM hospitals WHERE id = $1")
        .bind(hospital.to_string())
        .fetch_optional(&mut *c)
        .await?;
    let tz = tz
        .and_then(|t| t.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::UTC);
    Ok(BusinessCalendar::always_open(tz))
}

/// Store (insert or replace) a validated calendar; the version counts edits.
pub async fn put_calendar(
    c: &mut AnyConnection,
    hospital: Uuid,
    input: &CalendarInput,
    by: Option<Uuid>,
) -> Result<Calendar> {
    input.validate().map_err(StoreError::Invalid)?;
    let hours = serde_json::to_string(&input.hours).unwrap_or_else(|_| "{}".into());
    let holidays = serde_json::to_string(&input.holidays).unwrap_or_else(|_| "[]".into());
    let r = sqlx::query(
        "INSERT INTO business_calendars (hospital_id, time_zone, hours, holidays, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6) \
         ON CONFLICT (hospital_id) DO UPDATE SET time_zone = $2, hours = $3, holidays = $4, version = business_calendars.version + 1, updated_by = $5, updated_at = $6 \
         RETURNING hospital_id, time_zone, hours, holidays, version, updated_at",
    )
    .bind(hospital.to_string())
    .bind(&input.time_zone)
    .bind(hours)
    .bind(holidays)
    .bind(by.map(|u| u.to_string()))
    .bind(now_ts())
    .fetch_one(&mut *c)
    .await?;
    calendar_row(&r)
}

/// One policy rule of a hospital.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Policy {
    pub id: Uuid,
    pub hospital_id: Uuid,
    /// A category code, or `*` for every category of this severity.
    pub category_code: String,
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    pub first_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    pub next_update_minutes: Option<i64>,
    /// `business` (working hours of the calendar) or `calendar` (every hour).
    pub basis: String,
    pub warn_at_percent: i64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyInput {
    /// A category code; absent or `*` for every category.
    pub category_code: Option<String>,
    #[schema(value_type = String, example = "high")]
    pub severity: Severity,
    pub first_response_minutes: Option<u32>,
    pub resolution_minutes: Option<u32>,
    pub next_update_minutes: Option<u32>,
    #[serde(default = "business")]
    pub basis: String,
    #[serde(default = "seventy_five")]
    pub warn_at_percent: u8,
}

fn business() -> String {
    "business".into()
}
fn seventy_five() -> u8 {
    75
}

impl PolicyInput {
    /// Targets and warning threshold, or the reason they are refused.
    pub fn targets(&self) -> std::result::Result<(Targets, WarnAt), String> {
        let basis = match self.basis.as_str() {
            "business" => TimeBasis::Business,
            "calendar" => TimeBasis::Calendar,
            _ => return Err("basis must be business or calendar".into()),
        };
        let t = |m: Option<u32>| -> std::result::Result<Option<Target>, String> {
            m.map(|m| {
                SlaDuration::minutes(m)
                    .map(|within| Target { within, basis })
                    .map_err(|e| e.to_string())
            })
            .transpose()
        };
        let targets = Targets {
            first_response: t(self.first_response_minutes)?,
            resolution: t(self.resolution_minutes)?,
            next_update: t(self.next_update_minutes)?,
        };
        if targets == Targets::default() {
            return Err("a rule needs at least one target".into());
        }
        let warn = WarnAt::new(self.warn_at_percent).map_err(|e| e.to_string())?;
        Ok((targets, warn))
    }
}

const POLICY_COLS: &str = "id, hospital_id, category_code, severity, first_response_secs, resolution_secs, next_update_secs, basis, warn_at_percent, updated_at";

fn policy_row(r: &sqlx::any::AnyRow) -> Result<Policy> {
    let mins = |col: &str| -> Result<Option<i64>> {
        let s: Option<i64> = r.try_get(col)?;
        Ok(s.map(|s| s / 60))
    };
    Ok(Policy {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        category_code: r.try_get("category_code")?,
        severity: row::named(r, "severity", Severity::parse)?,
        first_response_minutes: mins("first_response_secs")?,
        resolution_minutes: mins("resolution_secs")?,
        next_update_minutes: mins("next_update_secs")?,
        basis: r.try_get("basis")?,
        warn_at_percent: r.try_get("warn_at_percent")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

pub async fn policies(c: &mut AnyConnection, hospital: Uuid) -> Result<Vec<Policy>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLS} FROM sla_policies WHERE hospital_id = $1 ORDER BY category_code, severity"
    )))
    .bind(hospital.to_string())
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(policy_row).collect()
}

/// Insert or replace the rule for (category, severity).
pub async fn put_policy(
    c: &mut AnyConnection,
    hospital: Uuid,
    input: &PolicyInput,
    by: Option<Uuid>,
) -> Result<Policy> {
    input.targets().map_err(StoreError::Invalid)?;
    let cat = input
        .category_code
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "*".into());
    let secs = |m: Option<u32>| m.map(|m| i64::from(m) * 60);
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sla_policies (id, hospital_id, category_code, severity, first_response_secs, resolution_secs, next_update_secs, basis, warn_at_percent, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (hospital_id, category_code, severity) DO UPDATE SET first_response_secs = $5, resolution_secs = $6, next_update_secs = $7, basis = $8, warn_at_percent = $9, updated_by = $10, updated_at = $11 \
         RETURNING {POLICY_COLS}"
    )))
    .bind(new_id())
    .bind(hospital.to_string())
    .bind(cat)
    .bind(input.severity.as_str())
    .bind(secs(input.first_response_minutes))
    .bind(secs(input.resolution_minutes))
    .bind(secs(input.next_update_minutes))
    .bind(&input.basis)
    .bind(i64::from(input.warn_at_percent))
    .bind(by.map(|u| u.to_string()))
    .bind(now_ts())
    .fetch_one(&mut *c)
    .await?;
    policy_row(&r)
}

pub async fn delete_policy(c: &mut AnyConnection, hospital: Uuid, id: Uuid) -> Result<()> {
    let n = sqlx::query("DELETE FROM sla_policies WHERE hospital_id = $1 AND id = $2")
        .bind(hospital.to_string())
        .bind(id.to_string())
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Targets and warning threshold for an item: the hospital's rule for its category, else its
/// rule for every category, else the group default ([`SlaPolicy::demo_default`]).
pub async fn targets_for(
    c: &mut AnyConnection,
    hospital: Uuid,
    category: &str,
    severity: Severity,
) -> Result<(Targets, WarnAt)> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLS} FROM sla_policies WHERE hospital_id = $1 AND severity = $2 AND category_code IN ($3, '*') \
         ORDER BY CASE WHEN category_code = '*' THEN 1 ELSE 0 END LIMIT 1"
    )))
    .bind(hospital.to_string())
    .bind(severity.as_str())
    .bind(category)
    .fetch_all(&mut *c)
    .await?;
    if let Some(r) = rows.first() {
        let p = policy_row(r)?;
        let input = PolicyInput {
            category_code: None,
            severity,
            first_response_minutes: p.first_response_minutes.and_then(|m| u32::try_from(m).ok()),
            resolution_minutes: p.resolution_minutes.and_then(|m| u32::try_from(m).ok()),
            next_update_minutes: p.next_update_minutes.and_then(|m| u32::try_from(m).ok()),
            basis: p.basis,
            warn_at_percent: u8::try_from(p.warn_at_percent).unwrap_or(75),
        };
        return input.targets().map_err(StoreError::Invalid);
    }
    let d = SlaPolicy::demo_default();
    Ok((
        d.targets_for(category, severity)
            .copied()
            .unwrap_or_default(),
        d.warn_at(),
    ))
}

/// The hospital's escalation ladder, or the standard one.
pub async fn ladder(c: &mut AnyConnection, hospital: Uuid) -> Result<Ladder> {
    let rows = sqlx::query("SELECT level, target, fires_on, after_hours FROM escalation_steps WHERE hospital_id = $1 ORDER BY level")
        .bind(hospital.to_string())
        .fetch_all(&mut *c)
        .await?;
    if rows.is_empty() {
        return Ok(Ladder::standard());
    }
    let bad = |what: &str| StoreError::Invalid(format!("stored escalation step: {what}"));
    let mut steps = Vec::with_capacity(rows.len());
    for r in &rows {
        let level: i64 = r.try_get("level")?;
        let target: String = r.try_get("target")?;
        let fires_on: String = r.try_get("fires_on")?;
        let hours: i64 = r.try_get("after_hours")?;
        let to = match target.as_str() {
            "assignee" => EscalationTarget::Assignee,
            role => EscalationTarget::Role(Role::parse(role).ok_or_else(|| bad("target"))?),
        };
        let trigger = match fires_on.as_str() {
            "at_risk" => Trigger::AtRisk,
            "breached" => Trigger::Breached,
            "breached_for" => {
                Trigger::BreachedFor(u32::try_from(hours).map_err(|_| bad("after_hours"))?)
            }
            _ => return Err(bad("fires_on")),
        };
        steps.push(EscalationStep {
            level: u8::try_from(level).map_err(|_| bad("level"))?,
            to,
            trigger,
        });
    }
    Ladder::new(steps).map_err(|e| bad(&e.to_string()))
}

impl Db {
    pub async fn sla_calendar(&self, hospital: Uuid) -> Result<Option<Calendar>> {
        let mut c = self.pool.acquire().await?;
        calendar(&mut c, hospital).await
    }

    pub async fn sla_policies(&self, hospital: Uuid) -> Result<Vec<Policy>> {
        let mut c = self.pool.acquire().await?;
        policies(&mut c, hospital).await
    }
}
