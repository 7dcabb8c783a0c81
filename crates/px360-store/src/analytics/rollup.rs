//! Maintenance of `analytics_daily`.
//!
//! **Decision: a scheduler job, not the submit transaction.** A hospital-day's rows are always
//! recomputed whole from the raw invitations and responses ([`Db::analytics_recompute_day`]):
//! delete and insert in one transaction. That makes every run idempotent (running it twice, or
//! in two processes at once, gives the same rows), keeps the patient's submit transaction as
//! short as it was, and a later fix of a formula is one rebuild away. The beat runs
//! [`Db::analytics_refresh`] every 30 s, once across all processes (its slot is claimed in
//! `schedules`): it finds the hospital-days touched since its watermark (`updated_at` of
//! invitations and responses, re-read with a 10-minute overlap so a transaction that committed
//! late with an older timestamp is still seen) and recomputes them. A dashboard is therefore at
//! most one refresh (≈ 30 s) behind a submitted response.
//!
//! Days are local dates in the hospital's time zone: an invitation counts on the day it was
//! created (its response-rate cohort), a response's answers on the day it was submitted.

use super::{day_text, zone};
use crate::{Db, Result, ts};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use px360_domain::analytics::period::{Calendar, Granularity, Period};
use px360_domain::analytics::physician::PhysicianAcc;
use px360_domain::analytics::survey_kpis::SurveyKpis;
use px360_domain::survey::answer::Answers;
use px360_domain::survey::publish::PublishedSurvey;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

const WATERMARK: &str = "analytics_watermark";
/// How far before the watermark each refresh looks again (late commits).
const OVERLAP_MINUTES: i64 = 10;

/// A roll-up row's dimensions ('' = none): department, physician, journey template, stage
/// code, channel, language.
type DimKey = (String, String, String, String, String, String);

#[derive(Debug, Default)]
struct Cell {
    invitations: u64,
    answered: u64,
    kpis: SurveyKpis,
    physician: PhysicianAcc,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefreshReport {
    pub days: usize,
    pub rows: usize,
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

const DIMS_SQL: &str = "COALESCE(i.channel, '') AS channel, i.language AS language, \
     COALESCE(ji.department_id, i.department_id, '') AS department_id, COALESCE(ji.journey_template_id, '') AS journey_template_id, \
     COALESCE(ji.encounter_id, '') AS encounter_id, COALESCE(st.code, '') AS stage_code";
const DIMS_JOIN: &str = "LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
     LEFT JOIN stage_instances si ON si.id = i.stage_instance_id \
     LEFT JOIN stage_templates st ON st.id = si.stage_template_id";

struct Dims {
    department: String,
    journey: String,
    stage: String,
    channel: String,
    language: String,
    encounter: String,
}

fn dims(r: &sqlx::any::AnyRow) -> sqlx::Result<Dims> {
    Ok(Dims {
        department: r.try_get("department_id")?,
        journey: r.try_get("journey_template_id")?,
        stage: r.try_get("stage_code")?,
        channel: r.try_get("channel")?,
        language: r.try_get("language")?,
        encounter: r.try_get("encounter_id")?,
    })
}

impl Dims {
    fn key(&self, physician: &str) -> DimKey {
        (
            self.department.clone(),
            physician.to_owned(),
            self.journey.clone(),
            self.stage.clone(),
            self.channel.clone(),
            self.language.clone(),
        )
    }
}

/// An event row (`encounter_id`, `payload`) that names a known physician's licence records
/// that physician for its encounter; rows come oldest first, so the latest one wins.
fn named_physician(
    r: &sqlx::any::AnyRow,
    licences: &HashMap<String, String>,
    out: &mut HashMap<String, String>,
) -> sqlx::Result<()> {
    let payload: String = r.try_get("payload")?;
    let lic = serde_json::from_str::<serde_json::Value>(&payload)
        .ok()
        .and_then(|v| v.get("physician_licence")?.as_str().map(str::to_owned));
    if let Some(id) = lic.and_then(|l| licences.get(&l)) {
        out.insert(r.try_get("encounter_id")?, id.clone());
    }
    Ok(())
}

impl Db {
    /// Recompute the roll-up rows of one hospital's local day from the raw data, replacing what
    /// was there. Returns the number of rows written.
    pub async fn analytics_recompute_day(
        &self,
        hospital: Uuid,
        tz: Tz,
        day: NaiveDate,
    ) -> Result<usize> {
        let cal = Calendar::new(tz, chrono::Weekday::Mon);
        let (start, end) = cal.utc_bounds(&Period::containing(
            day,
            Granularity::Day,
            chrono::Weekday::Mon,
        ));
        let (start, end) = (ts(start), ts(end));
        let h = hospital.to_string();
        let invitations = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT i.status AS status, {DIMS_SQL} FROM survey_invitations i {DIMS_JOIN} \
             WHERE i.hospital_id = $1 AND i.decision = 'send' AND i.created_at >= $2 AND i.created_at < $3"
        )))
        .bind(&h)
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.pool)
        .await?;
        let responses = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.answers AS answers, r.version_id AS version_id, {DIMS_SQL} \
             FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id {DIMS_JOIN} \
             WHERE r.hospital_id = $1 AND r.is_partial = 0 AND r.submitted_at >= $2 AND r.submitted_at < $3"
        )))
        .bind(&h)
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.pool)
        .await?;

        let mut inv_dims = Vec::with_capacity(invitations.len());
        for r in &invitations {
            let status: String = r.try_get("status")?;
            inv_dims.push((dims(r)?, status == "answered"));
        }
        let mut resp = Vec::with_capacity(responses.len());
        for r in &responses {
            let answers: String = r.try_get("answers")?;
            let version: String = r.try_get("version_id")?;
            resp.push((dims(r)?, answers, version));
        }
        let physician_of = if inv_dims.iter().any(|(d, _)| !d.encounter.is_empty())
            || resp.iter().any(|(d, _, _)| !d.encounter.is_empty())
        {
            self.day_encounter_physicians(&h, &start, &end).await?
        } else {
            HashMap::new()
        };
        let phys = |d: &Dims| physician_of.get(&d.encounter).cloned().unwrap_or_default();

        let mut cells: BTreeMap<DimKey, Cell> = BTreeMap::new();
        for (d, answered) in &inv_dims {
            let c = cells.entry(d.key(&phys(d))).or_default();
            c.invitations += 1;
            c.answered += u64::from(*answered);
        }
        let mut versions: HashMap<String, Option<PublishedSurvey>> = HashMap::new();
        for (d, answers, version) in &resp {
            if !versions.contains_key(version) {
                let v = match Uuid::parse_str(version) {
                    Ok(id) => self.survey_version(id).await.ok().map(|v| v.survey),
                    Err(_) => None,
                };
                versions.insert(version.clone(), v);
            }
            // A version that no longer verifies, or answers that do not parse, are left out
            // rather than stopping the whole day (and are visible as a lower response count).
            let (Some(Some(survey)), Ok(answers)) = (
                versions.get(version),
                serde_json::from_str::<Answers>(answers),
            ) else {
                tracing::warn!(hospital = %h, "analytics.response_skipped");
                continue;
            };
            let p = phys(d);
            let c = cells.entry(d.key(&p)).or_default();
            c.kpis.add_response(survey, &answers, None);
            if !p.is_empty() {
                c.physician.add_response(survey, &answers);
            }
        }
        self.write_day(&h, day, cells).await
    }

    /// The licence number → physician id of a hospital's physicians.
    async fn physician_licences(&self, hospital: &str) -> Result<HashMap<String, String>> {
        Ok(
            sqlx::query("SELECT id, licence_number FROM physicians WHERE hospital_id = $1")
                .bind(hospital)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("licence_number")?, r.try_get("id")?)))
                .collect::<sqlx::Result<_>>()?,
        )
    }

    /// [`Self::encounter_physicians`] for the encounters of one hospital-day's invitations
    /// (created in `[start, end)`) and submitted responses, in one set-based query: the
    /// encounters are a subquery, so PostgreSQL walks `inbound_events_encounter` once per
    /// encounter inside the server instead of receiving `IN` lists of bound ids (which cost a
    /// round trip and a plan per 500 encounters and made a full rebuild take most of an hour).
    async fn day_encounter_physicians(
        &self,
        hospital: &str,
        start: &str,
        end: &str,
    ) -> Result<HashMap<String, String>> {
        let licences = self.physician_licences(hospital).await?;
        if licences.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "SELECT e.encounter_id AS encounter_id, e.payload AS payload FROM inbound_events e \
             WHERE e.hospital_id = $1 AND e.payload LIKE '%physician_licence%' AND e.encounter_id IN ( \
               SELECT ji.encounter_id FROM survey_invitations i JOIN journey_instances ji ON ji.id = i.journey_instance_id \
               WHERE i.hospital_id = $1 AND i.decision = 'send' AND i.created_at >= $2 AND i.created_at < $3 \
               UNION \
               SELECT ji.encounter_id FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id \
               JOIN journey_instances ji ON ji.id = i.journey_instance_id \
               WHERE r.hospital_id = $1 AND r.is_partial = 0 AND r.submitted_at >= $2 AND r.submitted_at < $3) \
             ORDER BY e.occurred_at",
        )
        .bind(hospital)
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            named_physician(r, &licences, &mut out)?;
        }
        Ok(out)
    }

    /// The physician each encounter's events named (the latest event naming one wins), as ids.
    pub(crate) async fn encounter_physicians(
        &self,
        hospital: &str,
        encounters: &BTreeSet<&str>,
    ) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        if encounters.is_empty() {
            return Ok(out);
        }
        let licences = self.physician_licences(hospital).await?;
        if licences.is_empty() {
            return Ok(out);
        }
        let list: Vec<&str> = encounters.iter().copied().collect();
        for chunk in list.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|n| format!("${}", n + 2)).collect();
            let sql = format!(
                "SELECT encounter_id, payload FROM inbound_events WHERE hospital_id = $1 AND encounter_id IN ({}) ORDER BY occurred_at",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(hospital);
            for e in chunk {
                q = q.bind(*e);
            }
            for r in q.fetch_all(&self.pool).await? {
                named_physician(&r, &licences, &mut out)?;
            }
        }
        Ok(out)
    }

    async fn write_day(
        &self,
        hospital: &str,
        day: NaiveDate,
        cells: BTreeMap<DimKey, Cell>,
    ) -> Result<usize> {
        let d = day_text(day);
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM analytics_daily WHERE hospital_id = $1 AND day = $2")
            .bind(hospital)
            .bind(&d)
            .execute(&mut *tx)
            .await?;
        const COLS: usize = 19;
        let rows: Vec<(DimKey, Cell)> = cells.into_iter().collect();
        let n = rows.len();
        for chunk in rows.chunks(crate::bulk::rows_per_statement(COLS)) {
            let values = crate::bulk::Marks::new(self.backend).tuples(chunk.len(), COLS, "");
            // Two refreshes of the same day at once (the job and a rebuild) both write the same
            // rows: the later one simply overwrites.
            let sql = format!(
                "INSERT INTO analytics_daily (hospital_id, day, department_id, physician_id, journey_template_id, stage_code, channel, language, \
                 invitations, answered, responses, promoters, passives, detractors, csat_satisfied, csat_total, items, physician_responses, physician_kpis) \
                 VALUES {values} ON CONFLICT (hospital_id, day, department_id, physician_id, journey_template_id, stage_code, channel, language) DO UPDATE SET \
                 invitations = excluded.invitations, answered = excluded.answered, responses = excluded.responses, promoters = excluded.promoters, \
                 passives = excluded.passives, detractors = excluded.detractors, csat_satisfied = excluded.csat_satisfied, csat_total = excluded.csat_total, \
                 items = excluded.items, physician_responses = excluded.physician_responses, physician_kpis = excluded.physician_kpis"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((dep, phys, journey, stage, channel, lang), c) in chunk {
                let k = &c.kpis;
                q = q
                    .bind(hospital)
                    .bind(&d)
                    .bind(dep.as_str())
                    .bind(phys.as_str())
                    .bind(journey.as_str())
                    .bind(stage.as_str())
                    .bind(channel.as_str())
                    .bind(lang.as_str())
                    .bind(i(c.invitations))
                    .bind(i(c.answered))
                    .bind(i(k.responses))
                    .bind(i(k.nps.promoters))
                    .bind(i(k.nps.passives))
                    .bind(i(k.nps.detractors))
                    .bind(i(k.csat.satisfied))
                    .bind(i(k.csat.total))
                    .bind(crate::surveys::json(&k.items))
                    .bind(i(c.physician.responses()))
                    .bind(crate::surveys::json(&c.physician));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The hospital-days touched since the watermark (all of them without one), recomputed.
    /// Idempotent; the beat runs it once across processes.
    pub async fn analytics_refresh(&self) -> Result<RefreshReport> {
        let started = Utc::now();
        let since = self
            .setting(WATERMARK)
            .await?
            .and_then(|s| crate::row::parse_time(&s))
            .map(|w| ts(w - Duration::minutes(OVERLAP_MINUTES)));
        let mut hours: BTreeSet<(String, String)> = BTreeSet::new();
        for sql in [
            "SELECT DISTINCT hospital_id, substr(created_at, 1, 13) AS h FROM survey_invitations \
             WHERE decision = 'send' AND ($1 IS NULL OR updated_at >= $1)",
            "SELECT DISTINCT hospital_id, substr(submitted_at, 1, 13) AS h FROM survey_responses \
             WHERE submitted_at IS NOT NULL AND ($1 IS NULL OR updated_at >= $1)",
        ] {
            for r in sqlx::query(sql)
                .bind(since.clone())
                .fetch_all(&self.pool)
                .await?
            {
                hours.insert((r.try_get("hospital_id")?, r.try_get("h")?));
            }
        }
        let report = self.recompute_hours(&hours).await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(WATERMARK)
        .bind(ts(started))
        .execute(&self.writer)
        .await?;
        if report.days > 0 {
            tracing::info!(
                days = report.days,
                rows = report.rows,
                "analytics.refreshed"
            );
        }
        Ok(report)
    }

    /// Every roll-up row deleted and recomputed from the raw data (`px360 analytics rebuild`).
    pub async fn analytics_rebuild(&self) -> Result<RefreshReport> {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(WATERMARK)
            .execute(&self.writer)
            .await?;
        sqlx::query("DELETE FROM analytics_daily")
            .execute(&self.writer)
            .await?;
        self.analytics_refresh().await
    }

    /// UTC hours (`2026-12-06T14`) of hospitals → the local days they overlap, recomputed.
    async fn recompute_hours(&self, hours: &BTreeSet<(String, String)>) -> Result<RefreshReport> {
        let zones: HashMap<String, Tz> = sqlx::query("SELECT id, timezone FROM hospitals")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let tz: String = r.try_get("timezone")?;
                Ok((id, zone(&tz)))
            })
            .collect::<sqlx::Result<_>>()?;
        let mut days: BTreeSet<(String, NaiveDate)> = BTreeSet::new();
        for (h, hour) in hours {
            let Some(tz) = zones.get(h) else { continue };
            let Ok(t) = NaiveDateTime::parse_from_str(&format!("{hour}:00"), "%Y-%m-%dT%H:%M")
            else {
                continue;
            };
            let t: DateTime<Utc> = t.and_utc();
            // Zones with half-hour offsets split a UTC hour over two local days.
            for at in [t, t + Duration::minutes(59)] {
                days.insert((h.clone(), at.with_timezone(tz).date_naive()));
            }
        }
        let mut report = RefreshReport::default();
        for (h, day) in days {
            let (Ok(id), Some(tz)) = (Uuid::parse_str(&h), zones.get(&h)) else {
                continue;
            };
            report.rows += self.analytics_recompute_day(id, *tz, day).await?;
            report.days += 1;
        }
        Ok(report)
    }
}
