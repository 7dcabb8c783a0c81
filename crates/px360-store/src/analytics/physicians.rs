//! Physician ratings (the physician-tagged questions' roll-ups, merged per physician) and the
//! comments of the responses behind them.

use super::{AnalyticsFilter, DayRange, Where, zone};
use crate::{Db, Result, row, ts};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use px360_domain::analytics::Merge;
use px360_domain::analytics::physician::PhysicianAcc;
use px360_domain::survey::answer::{Answer, Answers};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// One physician's merged roll-up, with where the physician works (for the department ranking).
#[derive(Debug, Clone)]
pub struct PhysicianStats {
    pub physician_id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Uuid,
    pub name: String,
    pub user_id: Option<Uuid>,
    pub acc: PhysicianAcc,
}

/// A free-text answer of a submitted response: no patient identifier, no contact.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub response_id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub physician_id: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub language: String,
    pub question: String,
    pub text: String,
}

impl Db {
    /// Physicians with physician-tagged answers in the filter and range.
    pub async fn analytics_physicians(
        &self,
        f: &AnalyticsFilter,
        range: &DayRange,
    ) -> Result<Vec<PhysicianStats>> {
        let mut w = Where::new(f, range);
        w.raw("physician_id <> ''");
        w.raw("physician_responses > 0");
        let sql = format!(
            "SELECT x.physician_id AS physician_id, x.physician_kpis AS kpis, p.hospital_id AS hospital_id, p.department_id AS department_id, \
             p.given_name AS given_name, p.family_name AS family_name, p.user_id AS user_id \
             FROM (SELECT physician_id, physician_kpis FROM analytics_daily {}) x JOIN physicians p ON p.id = x.physician_id",
            w.sql()
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in w.binds() {
            q = q.bind(b.as_str());
        }
        let mut out: BTreeMap<Uuid, PhysicianStats> = BTreeMap::new();
        for r in q.fetch_all(&self.pool).await? {
            let id = row::uuid(&r, "physician_id")?;
            let kpis: String = r.try_get("kpis")?;
            let Ok(acc) = serde_json::from_str::<PhysicianAcc>(&kpis) else {
                continue;
            };
            match out.get_mut(&id) {
                Some(s) => s.acc.merge(&acc),
                None => {
                    let given: String = r.try_get("given_name")?;
                    let family: String = r.try_get("family_name")?;
                    out.insert(
                        id,
                        PhysicianStats {
                            physician_id: id,
                            hospital_id: row::uuid(&r, "hospital_id")?,
                            department_id: row::uuid(&r, "department_id")?,
                            name: format!("{given} {family}"),
                            user_id: row::opt_uuid(&r, "user_id")?,
                            acc,
                        },
                    );
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// The physician records linked to a user account (role Physician: their own ratings).
    pub async fn physicians_of_user(&self, user: Uuid) -> Result<Vec<Uuid>> {
        let rows =
            sqlx::query("SELECT id FROM physicians WHERE user_id = $1 AND deleted_at IS NULL")
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| row::uuid(r, "id"))
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// Link a physician record to a user account (or unlink with `None`).
    pub async fn link_physician_user(&self, physician: Uuid, user: Option<Uuid>) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        set_physician_user(&mut tx, physician, user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Free-text answers of the responses submitted in the range (local days of each
    /// hospital), newest first, at most `limit`. The hospital and department of the filter
    /// apply in SQL; a physician filter keeps the responses of encounters that named them.
    pub async fn analytics_comments(
        &self,
        f: &AnalyticsFilter,
        range: &DayRange,
        limit: usize,
    ) -> Result<Vec<Comment>> {
        // Local days span UTC ±14 h: read the widest window, then keep each row's local day.
        let lo = range.from.and_time(NaiveTime::MIN).and_utc() - Duration::hours(14);
        let hi = range.to.and_time(NaiveTime::MIN).and_utc() + Duration::hours(14);
        let rows = sqlx::query(
            "SELECT r.id AS id, r.hospital_id AS hospital_id, COALESCE(ji.department_id, i.department_id) AS department_id, ji.encounter_id AS encounter_id, \
             r.submitted_at AS submitted_at, r.language AS language, r.answers AS answers, h.timezone AS timezone \
             FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id \
             JOIN hospitals h ON h.id = r.hospital_id \
             LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
             WHERE r.is_partial = 0 AND r.submitted_at >= $1 AND r.submitted_at < $2 \
             AND ($3 IS NULL OR r.hospital_id = $3) AND ($4 IS NULL OR COALESCE(ji.department_id, i.department_id) = $4) \
             ORDER BY r.submitted_at DESC LIMIT 5000",
        )
        .bind(ts(lo))
        .bind(ts(hi))
        .bind(f.hospital.map(|h| h.to_string()))
        .bind(f.department.map(|d| d.to_string()))
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::new();
        for r in &rows {
            let at = row::time(r, "submitted_at")?;
            let tz: String = r.try_get("timezone")?;
            let day = at.with_timezone(&zone(&tz)).date_naive();
            if day < range.from || day >= range.to {
                continue;
            }
            let answers: String = r.try_get("answers")?;
            let Ok(answers) = serde_json::from_str::<Answers>(&answers) else {
                continue;
            };
            let texts: Vec<(String, String)> = answers
                .iter()
                .filter_map(|(k, a)| match a {
                    Answer::Text(t) if !t.trim().is_empty() => {
                        Some((k.as_str().to_owned(), t.clone()))
                    }
                    _ => None,
                })
                .collect();
            if texts.is_empty() {
                continue;
            }
            let hospital: String = r.try_get("hospital_id")?;
            let enc: Option<String> = r.try_get("encounter_id")?;
            found.push((r, at, hospital, enc.unwrap_or_default(), texts));
        }
        // The physician of each encounter, per hospital.
        let mut by_hospital: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (_, _, h, enc, _) in &found {
            if !enc.is_empty() {
                by_hospital
                    .entry(h.clone())
                    .or_default()
                    .insert(enc.clone());
            }
        }
        let mut physician_of: HashMap<(String, String), String> = HashMap::new();
        for (h, encs) in &by_hospital {
            let set: BTreeSet<&str> = encs.iter().map(String::as_str).collect();
            for (enc, p) in self.encounter_physicians(h, &set).await? {
                physician_of.insert((h.clone(), enc), p);
            }
        }
        let mut out = Vec::new();
        for (r, at, h, enc, texts) in found {
            let physician = physician_of
                .get(&(h.clone(), enc))
                .and_then(|p| Uuid::parse_str(p).ok());
            if f.physician.is_some() && physician != f.physician {
                continue;
            }
            for (question, text) in texts {
                out.push(Comment {
                    response_id: row::uuid(r, "id")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    department_id: row::opt_uuid(r, "department_id")?,
                    physician_id: physician,
                    submitted_at: at,
                    language: r.try_get("language")?,
                    question,
                    text,
                });
            }
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

/// The link inside a caller's transaction (the API commits it with its audit record). A write
/// first, as every write transaction here starts.
pub async fn set_physician_user(
    tx: &mut crate::Tx,
    physician: Uuid,
    user: Option<Uuid>,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE physicians SET user_id = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(physician.to_string())
    .bind(user.map(|u| u.to_string()))
    .bind(crate::now_ts())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}
