//! The call-centre and QI part of the quick start's demo data: sixteen weeks of calls in
//! Riverside General's Emergency Department (phone surveys every week, an enquiry, an
//! unanswered outbound call), an open and a made callback, and a QI project "Raise ED NPS"
//! whose change went in six weeks ago, with two PDSA cycles, so its run chart shows the
//! baseline and the shift after the change.
//!
//! Run by `px360 serve` after the demo seed (its own settings guard), not by the demo seed
//! itself: the test suites' exact analytics numbers are computed on the plain demo data.

use super::callbacks::{self, NewCallback};
use super::calls::{self, Link, NewCall};
use super::phone_survey::{self, PhoneSurvey};
use crate::qi::{self, ProjectWrite};
use crate::surveys::Language;
use crate::{Db, Result, StoreError};
use chrono::{DateTime, Datelike, Duration, Utc};
use px360_domain::analytics::rollup::Kpi;
use px360_domain::callcentre::call::{CallRecord, Caller, Direction, Outcome, Reason};
use px360_domain::callcentre::phone_survey as domain_phone;
use px360_domain::qi::pdsa::{ActDecision, PdsaCommand, PdsaStage};
use px360_domain::qi::project::{Measure, Milestone, ProjectStatus};
use px360_domain::sla::Severity;
use px360_domain::survey::question::Lang;
use px360_domain::survey::response::Submission;
use uuid::Uuid;

const WEEKS: i64 = 16;
/// Weeks of baseline before the change under test (the rest of the sixteen come after it).
const BASELINE_WEEKS: i64 = 10;
/// "How likely are you to recommend…" of the two phone surveys of each week: NPS around 0
/// before the change, 50 to 100 after it.
const BEFORE: [(u8, u8); 10] = [
    (6, 8),
    (9, 5),
    (7, 8),
    (5, 6),
    (8, 9),
    (6, 7),
    (9, 6),
    (7, 5),
    (8, 8),
    (6, 9),
];
const AFTER: [(u8, u8); 6] = [(9, 10), (8, 9), (10, 9), (9, 9), (8, 10), (10, 10)];

async fn id_of(db: &Db, sql: &'static str, bind: &str) -> Result<Uuid> {
    let s: Option<String> = sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_optional(&db.pool)
        .await?;
    s.and_then(|s| Uuid::parse_str(&s).ok())
        .ok_or_else(|| StoreError::Invalid(format!("demo data missing: {bind}")))
}

fn recommend(week: i64, k: i64) -> u8 {
    let pair = usize::try_from(week)
        .ok()
        .and_then(|w| {
            BEFORE
                .get(w)
                .or_else(|| AFTER.get(w.saturating_sub(BEFORE.len())))
        })
        .copied()
        .unwrap_or((7, 7));
    if k == 0 { pair.0 } else { pair.1 }
}

impl Db {
    /// Seed once per database (settings row `seed_callqi`); `false` when it already ran or the
    /// demo organisation is not there.
    pub async fn seed_demo_callqi(&self) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('seed_callqi', 'demo-v1') ON CONFLICT (key) DO NOTHING",
        )
        .execute(&self.writer)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        let h = id_of(
            self,
            "SELECT id FROM hospitals WHERE code = $1 AND deleted_at IS NULL",
            "RGH",
        )
        .await?;
        let ed: Option<String> = sqlx::query_scalar(
            "SELECT id FROM departments WHERE hospital_id = $1 AND code = 'ED' AND deleted_at IS NULL",
        )
        .bind(h.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let ed = ed
            .and_then(|s| Uuid::parse_str(&s).ok())
            .ok_or_else(|| StoreError::Invalid("demo data missing: ED".into()))?;
        let agent = id_of(self, "SELECT id FROM users WHERE username = $1", "admin").await?;
        let mut patients = Vec::new();
        for k in 1..=3 {
            patients.push(
                id_of(
                    self,
                    "SELECT id FROM patients WHERE mrn = $1 AND deleted_at IS NULL",
                    &format!("RGH-ED-{k:04}"),
                )
                .await?,
            );
        }
        let tpl = id_of(
            self,
            "SELECT id FROM survey_templates WHERE code = $1 AND hospital_id IS NULL",
            "emergency-experience",
        )
        .await?;
        let version = phone_survey::version_for(self, tpl, h)
            .await?
            .ok_or_else(|| StoreError::Invalid("demo survey not published".into()))?;
        let now = Utc::now();
        // Weeks start on Sunday (the analytics calendar): each demo week is one run-chart point.
        // Calls at 06:00 UTC (09:00 in Riyadh) on its Monday and Wednesday; the last demo week
        // is the one before the current week.
        let today = now.date_naive();
        let sunday = today - Duration::days(i64::from(today.weekday().num_days_from_sunday()));
        let sunday0 = sunday - Duration::weeks(WEEKS);
        let start = sunday0
            .and_hms_opt(6, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now - Duration::weeks(WEEKS));
        let mut tx = self.writer.begin().await?;
        let call = |at: DateTime<Utc>, dir, reason, outcome, secs, patient: Option<Uuid>| NewCall {
            hospital_id: h,
            department_id: Some(ed),
            patient_id: patient,
            lookup_kind: patient.map(|_| "mrn"),
            record: CallRecord {
                agent_id: agent,
                direction: dir,
                caller: Caller::Patient,
                patient: None,
                reason,
                outcome,
                duration_secs: secs,
                started_at: at,
            },
            notes: None,
            callback_id: None,
        };
        for week in 0..WEEKS {
            for k in 0..2 {
                let at = start + Duration::weeks(week) + Duration::days(1 + 2 * k);
                let patient = patients[usize::try_from(k).unwrap_or(0) % patients.len()];
                let c = calls::insert(
                    &mut tx,
                    &call(
                        at,
                        Direction::Outbound,
                        Reason::SurveyFollowUp,
                        Outcome::SurveyCompleted,
                        240,
                        Some(patient),
                    ),
                    at,
                )
                .await?;
                let r = recommend(week, k).to_string();
                let overall = if recommend(week, k) >= 8 { "5" } else { "3" };
                let sub = Submission::from_pairs([
                    ("recommend", r.as_str()),
                    ("overall", overall),
                    ("listened", "usually"),
                ])
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let lang = if k == 1 { Lang::Ar } else { Lang::En };
                let phone = domain_phone::record(&version.survey, lang, agent, &sub)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let response = phone
                    .outcome
                    .require_complete()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                let rec = phone_survey::record(
                    &mut tx,
                    PhoneSurvey {
                        hospital_id: h,
                        department_id: c.department_id,
                        patient_id: Some(patient),
                        call_id: c.id,
                        agent_id: agent,
                        version: &version,
                        language: if k == 1 { Language::Ar } else { Language::En },
                        response,
                    },
                    at,
                )
                .await?;
                calls::link(&mut tx, c.id, Link::SurveyResponse(rec.response_id), at).await?;
            }
        }
        let recent = now - Duration::days(2);
        calls::insert(
            &mut tx,
            &call(
                recent,
                Direction::Inbound,
                Reason::Enquiry,
                Outcome::Resolved,
                180,
                Some(patients[2]),
            ),
            recent,
        )
        .await?;
        calls::insert(
            &mut tx,
            &call(
                recent,
                Direction::Outbound,
                Reason::SurveyFollowUp,
                Outcome::NoAnswer,
                0,
                Some(patients[1]),
            ),
            recent,
        )
        .await?;
        let asked = now - Duration::hours(3);
        let c = calls::insert(
            &mut tx,
            &call(
                asked,
                Direction::Inbound,
                Reason::Appointment,
                Outcome::CallbackScheduled,
                150,
                Some(patients[0]),
            ),
            asked,
        )
        .await?;
        let new_cb = |call_id, at_prio: Severity, reason: &str| NewCallback {
            hospital_id: h,
            department_id: Some(ed),
            call_id: Some(call_id),
            patient_id: Some(patients[0]),
            priority: at_prio,
            reason: reason.into(),
            note: None,
            assignee_id: None,
            created_by: agent,
        };
        callbacks::insert(&mut tx, &new_cb(c.id, Severity::High, "appointment"), asked).await?;
        let earlier = now - Duration::days(3);
        let c2 = calls::insert(
            &mut tx,
            &call(
                earlier,
                Direction::Inbound,
                Reason::Billing,
                Outcome::CallbackScheduled,
                200,
                Some(patients[0]),
            ),
            earlier,
        )
        .await?;
        let done = callbacks::insert(
            &mut tx,
            &new_cb(c2.id, Severity::Medium, "billing"),
            earlier,
        )
        .await?;
        let back_at = earlier + Duration::hours(2);
        let mut back = call(
            back_at,
            Direction::Outbound,
            Reason::Callback,
            Outcome::Resolved,
            300,
            Some(patients[0]),
        );
        back.callback_id = Some(done.id);
        let back = calls::insert(&mut tx, &back, back_at).await?;
        callbacks::complete(&mut tx, done.id, Some(back.id), agent, back_at).await?;

        let local = |d: DateTime<Utc>| d.date_naive();
        let baseline_from = sunday0;
        let change = sunday0 + Duration::weeks(BASELINE_WEEKS);
        let p = qi::insert(
            &mut tx,
            &ProjectWrite {
                hospital_id: h,
                // Hospital level, so every role of the hospital follows it (the phone surveys
                // count for the hospital and, since migration 0018, for the ED too).
                department_id: None,
                title: "Raise ED NPS".into(),
                aim: "Raise the Emergency Department's NPS from 20 to 40 by calling patients back within one business day when they wait more than two hours.".into(),
                owner_id: agent,
                status: ProjectStatus::Active,
                granularity: "week".into(),
                baseline_from,
                change_date: Some(change),
                measures: vec![Measure { kpi: Kpi::Nps, baseline: 20.0, target: 40.0 }],
                milestones: vec![
                    Milestone { title: "Brief the ED triage team".into(), due: change - Duration::days(7), done: Some(change - Duration::days(8)) },
                    Milestone { title: "Review the first month".into(), due: local(now + Duration::weeks(2)), done: None },
                ],
                action_ids: Vec::new(),
                themes: vec!["waiting_time".into(), "communication".into()],
            },
            Some(agent),
            start,
        )
        .await?;
        let cycle1 =
            qi::add_cycle(&mut tx, p.id, "Call back long waits the same day", start).await?;
        let mut stage = PdsaStage::Plan;
        for (cmd, note) in [
            (
                PdsaCommand::StartDo,
                "Triage nurses flag waits over two hours; the call centre calls back.",
            ),
            (
                PdsaCommand::StartStudy,
                "Forty call-backs in two weeks; most patients appreciated the call.",
            ),
            (
                PdsaCommand::StartAct,
                "Detractors fell among the patients called back.",
            ),
            (
                PdsaCommand::Close(ActDecision::Adapt),
                "Extend to every ED patient waiting over two hours.",
            ),
        ] {
            let next = stage
                .apply(cmd, note)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            qi::advance(&mut tx, cycle1.id, stage, next, cmd, note, start).await?;
            stage = next;
        }
        let cycle2 = qi::add_cycle(&mut tx, p.id, "All long waits, every shift", start).await?;
        let note = "Every shift lead sends the list of long waits to the call centre at 14:00.";
        let next = PdsaStage::Plan
            .apply(PdsaCommand::StartDo, note)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        qi::advance(
            &mut tx,
            cycle2.id,
            PdsaStage::Plan,
            next,
            PdsaCommand::StartDo,
            note,
            start,
        )
        .await?;
        tx.commit().await?;
        // The rows carry past times, which the incremental refresh (a watermark on `updated_at`)
        // would not look at again: recompute the hospital's days directly.
        let tz: String = sqlx::query_scalar("SELECT timezone FROM hospitals WHERE id = $1")
            .bind(h.to_string())
            .fetch_one(&self.pool)
            .await?;
        let tz = crate::analytics::zone(&tz);
        let mut d = start.with_timezone(&tz).date_naive();
        let last = now.with_timezone(&tz).date_naive();
        while d <= last {
            self.analytics_recompute_day(h, tz, d).await?;
            d += Duration::days(1);
        }
        Ok(true)
    }
}
