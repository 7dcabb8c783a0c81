//! The send decision per completed stage, and the invitation it creates.
//!
//! The worker's trigger scan ([`Db::survey_trigger`]) finds completed stages whose stage
//! template references a survey and that have no decision yet, and decides each one with
//! `px360_domain::survey::trigger::decide`. The decision is recorded whatever it is (send, or
//! skip with its reason), audited, and for a send the messages (invitation and reminders) go
//! into the outbox, all in one transaction.
//!
//! Exactly one decision per stage instance: the transaction's first statement claims the stage
//! by inserting its invitation row (`stage_instance_id` is unique), so a duplicate or
//! concurrent completion, a second worker, or a replayed scan inserts nothing and decides
//! nothing. The scan itself is the durable trigger: a worker killed between completing a stage
//! and deciding leaves the stage without a decision, and the next scan finds it.

use super::contacts::{self, PatientContact};
use super::templates::{SurveyVersion, current_version};
use super::{Actor, Channel, Language, TokenError, hash_token, json};
use crate::page::{Cursor, Page};
use crate::{Backend, Db, Result, StoreError, row, ts};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use px360_domain::survey::trigger::{self, Decision, PastInvitation, TriggerInput, TriggerPolicy};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Placeholder while the decision is being made (never committed).
    Deciding,
    /// Decided not to send (see `reason`).
    Skipped,
    /// Messages planned in the outbox.
    Scheduled,
    /// Handed to the provider (or the local outbox).
    Sent,
    Delivered,
    Read,
    /// The provider could not deliver it.
    Failed,
    /// The patient opened the link.
    Opened,
    Answered,
    Expired,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 10] = [
        InvitationStatus::Deciding,
        InvitationStatus::Skipped,
        InvitationStatus::Scheduled,
        InvitationStatus::Sent,
        InvitationStatus::Delivered,
        InvitationStatus::Read,
        InvitationStatus::Failed,
        InvitationStatus::Opened,
        InvitationStatus::Answered,
        InvitationStatus::Expired,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Deciding => "deciding",
            InvitationStatus::Skipped => "skipped",
            InvitationStatus::Scheduled => "scheduled",
            InvitationStatus::Sent => "sent",
            InvitationStatus::Delivered => "delivered",
            InvitationStatus::Read => "read",
            InvitationStatus::Failed => "failed",
            InvitationStatus::Opened => "opened",
            InvitationStatus::Answered => "answered",
            InvitationStatus::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Reasons beyond the domain's skip reasons.
pub const REASON_SELECTED: &str = "selected";
/// The journey has no known patient (unknown identifier): nobody to ask.
pub const REASON_NO_PATIENT: &str = "no_patient";
/// The referenced template has no published version any more (archived).
pub const REASON_SURVEY_UNAVAILABLE: &str = "survey_unavailable";

/// One invitation (a recorded decision) as stored.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub journey_instance_id: Uuid,
    pub stage_instance_id: Uuid,
    pub template_id: Uuid,
    pub version_id: Option<Uuid>,
    /// `send` or `skip`.
    pub decision: String,
    /// `selected` for a send; otherwise why not (`duplicate`, `no_consent`, `not_sampled`,
    /// `no_usable_channel`, `opted_out`, `recontacted_recently`, `no_patient`,
    /// `survey_unavailable`).
    pub reason: String,
    #[schema(value_type = Option<String>)]
    pub channel: Option<Channel>,
    pub language: Language,
    pub status: InvitationStatus,
    pub send_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reminders: Vec<DateTime<Utc>>,
    pub reminders_sent: i64,
    pub status_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLS: &str = "id, hospital_id, patient_id, journey_instance_id, stage_instance_id, template_id, version_id, decision, reason, channel, language, status, send_at, expires_at, reminders, reminders_sent, status_at, opened_at, answered_at, created_at, updated_at";

pub(crate) fn invitation_row(r: &AnyRow) -> sqlx::Result<Invitation> {
    let channel: Option<String> = r.try_get("channel")?;
    let reminders: String = r.try_get("reminders")?;
    Ok(Invitation {
        id: row::uuid(r, "id")?,
        hospital_id: row::uuid(r, "hospital_id")?,
        patient_id: row::opt_uuid(r, "patient_id")?,
        journey_instance_id: row::uuid(r, "journey_instance_id")?,
        stage_instance_id: row::uuid(r, "stage_instance_id")?,
        template_id: row::uuid(r, "template_id")?,
        version_id: row::opt_uuid(r, "version_id")?,
        decision: r.try_get("decision")?,
        reason: r.try_get("reason")?,
        channel: channel.as_deref().and_then(Channel::parse),
        language: row::named(r, "language", Language::parse)?,
        status: row::named(r, "status", InvitationStatus::parse)?,
        send_at: row::opt_time(r, "send_at")?,
        expires_at: row::opt_time(r, "expires_at")?,
        reminders: serde_json::from_str::<Vec<DateTime<Utc>>>(&reminders).map_err(|e| {
            sqlx::Error::ColumnDecode {
                index: "reminders".into(),
                source: e.to_string().into(),
            }
        })?,
        reminders_sent: r.try_get("reminders_sent")?,
        status_at: row::opt_time(r, "status_at")?,
        opened_at: row::opt_time(r, "opened_at")?,
        answered_at: row::opt_time(r, "answered_at")?,
        created_at: row::time(r, "created_at")?,
        updated_at: row::time(r, "updated_at")?,
    })
}

/// A completed stage that references a survey and has no decision yet.
#[derive(Debug, Clone)]
pub struct PendingStage {
    pub stage_instance_id: Uuid,
    pub journey_instance_id: Uuid,
    pub hospital_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub template_id: Uuid,
    /// Clinical completion time.
    pub completed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub time_zone: Tz,
}

/// What one trigger scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerReport {
    pub sent: usize,
    pub skipped: usize,
    /// Stages another worker decided first.
    pub raced: usize,
    /// Stages the scan found (at most its limit: equal to it, more may be pending).
    pub found: usize,
}

/// A recorded decision, as returned to the worker.
#[derive(Debug, Clone)]
pub struct Decided {
    pub invitation: Invitation,
    /// Outbox rows created (0 for a skip).
    pub messages: usize,
}

/// The department an invitation is about: its journey's, or for a survey taken by phone the
/// call's (kept on the invitation).
pub async fn department_of(c: &mut sqlx::AnyConnection, invitation: Uuid) -> Result<Option<Uuid>> {
    let d: Option<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(j.department_id, i.department_id) FROM survey_invitations i LEFT JOIN journey_instances j ON j.id = i.journey_instance_id WHERE i.id = $1",
    )
    .bind(invitation.to_string())
    .fetch_optional(&mut *c)
    .await?;
    Ok(d.flatten().and_then(|d| Uuid::parse_str(&d).ok()))
}

impl Db {
    /// [`department_of`] on a pooled connection (the API's scope check of one response).
    pub async fn invitation_department(&self, invitation: Uuid) -> Result<Option<Uuid>> {
        let mut c = self.pool.acquire().await?;
        department_of(&mut c, invitation).await
    }

    /// Completed stages recorded at or after `since` whose stage template references a survey
    /// and that have no decision yet, oldest first.
    pub async fn survey_pending_stages(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PendingStage>> {
        let rows = sqlx::query(
            "SELECT si.id AS stage_instance_id, si.journey_instance_id, si.completed_at, si.completed_recorded_at, \
                    ji.hospital_id, ji.patient_id, st.survey_template_ref, h.timezone \
             FROM stage_instances si \
             JOIN stage_templates st ON st.id = si.stage_template_id \
             JOIN journey_instances ji ON ji.id = si.journey_instance_id \
             JOIN hospitals h ON h.id = ji.hospital_id \
             WHERE si.status = 'completed' AND si.completed_recorded_at >= $1 \
               AND st.survey_template_ref IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM survey_invitations inv WHERE inv.stage_instance_id = si.id) \
             ORDER BY si.completed_recorded_at, si.id LIMIT $2",
        )
        .bind(ts(since))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let tz: String = r.try_get("timezone")?;
            let Some(template_id) = row::opt_uuid(&r, "survey_template_ref")? else {
                continue;
            };
            let recorded = row::time(&r, "completed_recorded_at")?;
            out.push(PendingStage {
                stage_instance_id: row::uuid(&r, "stage_instance_id")?,
                journey_instance_id: row::uuid(&r, "journey_instance_id")?,
                hospital_id: row::uuid(&r, "hospital_id")?,
                patient_id: row::opt_uuid(&r, "patient_id")?,
                template_id,
                completed_at: row::opt_time(&r, "completed_at")?.unwrap_or(recorded),
                recorded_at: recorded,
                time_zone: tz.parse().unwrap_or(chrono_tz::UTC),
            });
        }
        Ok(out)
    }

    /// Decide every pending stage completed since `since` (up to `limit`).
    pub async fn survey_trigger(
        &self,
        worker: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<TriggerReport> {
        let mut report = TriggerReport::default();
        let pending = self.survey_pending_stages(since, limit).await?;
        report.found = pending.len();
        for stage in pending {
            match self.survey_decide(worker, &stage, now).await? {
                None => report.raced += 1,
                Some(d) if d.invitation.decision == "send" => report.sent += 1,
                Some(_) => report.skipped += 1,
            }
        }
        Ok(report)
    }

    /// Decide one stage and record the decision (see the module comment). `None`: the stage
    /// already had a decision.
    pub async fn survey_decide(
        &self,
        worker: &str,
        stage: &PendingStage,
        now: DateTime<Utc>,
    ) -> Result<Option<Decided>> {
        let template = self.survey_template(stage.template_id).await?;
        let mut tx = self.writer.begin().await?;
        let id = Uuid::now_v7();
        let now_s = ts(now);
        // The claim: first statement, a write. A stage decided before inserts nothing.
        let claimed = sqlx::query(
            "INSERT INTO survey_invitations (id, hospital_id, patient_id, journey_instance_id, stage_instance_id, template_id, \
             decision, reason, language, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'skip', 'deciding', 'en', 'deciding', $7, $7) \
             ON CONFLICT (stage_instance_id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(stage.hospital_id.to_string())
        .bind(stage.patient_id.map(|p| p.to_string()))
        .bind(stage.journey_instance_id.to_string())
        .bind(stage.stage_instance_id.to_string())
        .bind(stage.template_id.to_string())
        .bind(&now_s)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        if let (Backend::Postgres, Some(p)) = (self.backend, stage.patient_id) {
            // Two workers deciding stages of the same patient at once would each miss the
            // other's invitation in the recontact window: decide one patient at a time.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(p.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let version = current_version(&mut tx, stage.template_id).await?;
        let contact = match stage.patient_id {
            Some(p) => match contacts::load(&mut tx, p).await {
                Ok(c) => Some(c),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let outcome = match (&version, &contact) {
            (None, _) => Outcome::Skip(REASON_SURVEY_UNAVAILABLE),
            (_, None) => Outcome::Skip(REASON_NO_PATIENT),
            (Some(_), Some(c)) => {
                let history = history(&mut tx, c.patient_id, id, &template.policy, now).await?;
                let input = TriggerInput {
                    now,
                    journey_instance_id: stage.journey_instance_id,
                    stage_instance_id: stage.stage_instance_id,
                    stage_completed_at: stage.completed_at,
                    time_zone: stage.time_zone,
                    contact: c.info,
                    history: &history,
                };
                match trigger::decide(&template.policy, &input) {
                    Decision::Send(inv) => Outcome::Send(inv),
                    Decision::Skip { reason } => Outcome::Skip(reason.as_str()),
                }
            }
        };
        let language = contact.as_ref().map(|c| c.language).unwrap_or(Language::En);
        let messages = match &outcome {
            Outcome::Skip(reason) => {
                sqlx::query(
                    "UPDATE survey_invitations SET version_id = $2, decision = 'skip', reason = $3, language = $4, status = 'skipped' WHERE id = $1",
                )
                .bind(id.to_string())
                .bind(version.as_ref().map(|v| v.id.to_string()))
                .bind(*reason)
                .bind(language.as_str())
                .execute(&mut *tx)
                .await?;
                0
            }
            Outcome::Send(inv) => {
                record_send(
                    &mut tx,
                    id,
                    stage,
                    version.as_ref(),
                    contact.as_ref(),
                    language,
                    inv,
                    &now_s,
                )
                .await?
            }
        };
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM survey_invitations WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let invitation = invitation_row(&r)?;
        let h = stage.hospital_id.to_string();
        crate::audit::append(
            &mut tx,
            &Actor::system(worker).entry(
                "survey.decision",
                "survey_invitation",
                &id.to_string(),
                Some(&h),
                serde_json::json!({
                    "stage_instance_id": stage.stage_instance_id,
                    "template_id": stage.template_id,
                    "version": version.as_ref().map(|v| v.version),
                    "decision": invitation.decision,
                    "reason": invitation.reason,
                    "channel": invitation.channel.map(Channel::as_str),
                    "send_at": invitation.send_at.map(ts),
                    "expires_at": invitation.expires_at.map(ts),
                    "reminders": invitation.reminders.len(),
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("px360_survey_decisions_total", "decision" => invitation.decision.clone(), "reason" => invitation.reason.clone()).increment(1);
        Ok(Some(Decided {
            invitation,
            messages,
        }))
    }

    pub async fn survey_invitation(&self, id: Uuid) -> Result<Invitation> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM survey_invitations WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(invitation_row(&r)?)
    }

    /// A page of invitations (newest first), of one hospital (and department, through the
    /// journey) or all, with the address each went to: in clear when `unmasked`, otherwise
    /// masked.
    pub async fn survey_invitations(
        &self,
        hospital: Option<Uuid>,
        department: Option<Uuid>,
        before: Option<&Cursor>,
        limit: i64,
        unmasked: bool,
    ) -> Result<Page<InvitationListed>> {
        let mut w = crate::page::Filters::default();
        let h = hospital.map(|h| h.to_string());
        let d = department.map(|d| d.to_string());
        w.eq("i.hospital_id", h.as_deref());
        w.eq("COALESCE(ji.department_id, i.department_id)", d.as_deref());
        w.before("i.created_at", "i.id", before);
        let cols = COLS
            .split(", ")
            .map(|c| format!("i.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, p.email AS p_email, p.phone AS p_phone, COALESCE(ji.department_id, i.department_id) AS ji_department_id FROM survey_invitations i \
             LEFT JOIN patients p ON p.id = i.patient_id \
             LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id {} ORDER BY i.created_at DESC, i.id DESC LIMIT {}",
            w.sql(),
            limit.clamp(0, 1000) + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in w.binds() {
            q = q.bind(*b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let inv = invitation_row(r)?;
            let email: Option<String> = r.try_get("p_email")?;
            let phone: Option<String> = r.try_get("p_phone")?;
            let address = inv.channel.and_then(|c| {
                let a = match c {
                    Channel::Email => email.as_deref(),
                    _ => phone.as_deref(),
                }?;
                Some(if unmasked {
                    a.to_owned()
                } else {
                    contacts::mask(c, a)
                })
            });
            out.push(InvitationListed {
                department_id: row::opt_uuid(r, "ji_department_id")?,
                invitation: inv,
                address,
            });
        }
        Ok(Page::from_rows(out, limit, |l| {
            Cursor::new(&ts(l.invitation.created_at), &l.invitation.id.to_string())
        }))
    }

    /// The patient page's entry: the invitation behind a token, its survey version, and the
    /// answers saved so far. Marks the invitation opened on first use.
    pub async fn survey_by_token(
        &self,
        token: &str,
    ) -> std::result::Result<SurveyLink, TokenError> {
        let hash = hash_token(token);
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM survey_tokens t JOIN survey_invitations i ON i.id = t.invitation_id WHERE t.token_hash = $1",
            COLS.split(", ").map(|c| format!("i.{c}")).collect::<Vec<_>>().join(", ")
        )))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(TokenError::Unknown)?;
        let invitation = invitation_row(&r)?;
        let link = self.link_of(invitation, Utc::now()).await?;
        if link.invitation.opened_at.is_none() {
            let now = crate::now_ts();
            sqlx::query(
                "UPDATE survey_invitations SET opened_at = $2, updated_at = $2, \
                 status = CASE WHEN status IN ('scheduled', 'sent', 'delivered', 'read') THEN 'opened' ELSE status END \
                 WHERE id = $1 AND opened_at IS NULL",
            )
            .bind(link.invitation.id.to_string())
            .bind(&now)
            .execute(&self.writer)
            .await?;
        }
        Ok(link)
    }

    /// Checks shared by every token use: answered → Used, past expiry → Expired.
    pub(crate) async fn link_of(
        &self,
        invitation: Invitation,
        now: DateTime<Utc>,
    ) -> std::result::Result<SurveyLink, TokenError> {
        if invitation.status == InvitationStatus::Answered {
            return Err(TokenError::Used);
        }
        if invitation.expires_at.is_none_or(|e| e <= now)
            || invitation.status == InvitationStatus::Expired
        {
            return Err(TokenError::Expired);
        }
        let version_id = invitation.version_id.ok_or(TokenError::Unknown)?;
        let version = self.survey_version(version_id).await?;
        let saved = super::responses::saved_answers(&self.pool, invitation.id).await?;
        Ok(SurveyLink {
            invitation,
            version,
            saved,
        })
    }
}

/// An invitation in a list, with the address it went to (masked below PX Coordinator).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvitationListed {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The journey's department, or for a survey taken by phone the call's.
    pub department_id: Option<Uuid>,
    pub address: Option<String>,
}

/// What the patient page needs behind a valid token.
#[derive(Debug, Clone)]
pub struct SurveyLink {
    pub invitation: Invitation,
    pub version: SurveyVersion,
    /// Answers saved so far (partial), to fill the form in again.
    pub saved: Option<px360_domain::survey::answer::Answers>,
}

impl SurveyLink {
    pub fn language(&self) -> Language {
        self.invitation.language
    }
}

enum Outcome {
    Send(trigger::Invitation),
    Skip(&'static str),
}

/// The patient's other invitations that can matter to the recontact window.
async fn history(
    tx: &mut crate::Tx,
    patient_id: Uuid,
    except: Uuid,
    policy: &TriggerPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<PastInvitation>> {
    let p = policy.settings();
    let from = now
        - Duration::days(i64::from(p.recontact_days) + 1)
        - Duration::minutes(i64::from(p.delay_minutes));
    let rows = sqlx::query(
        "SELECT stage_instance_id, send_at FROM survey_invitations \
         WHERE patient_id = $1 AND decision = 'send' AND send_at >= $2 AND id <> $3",
    )
    .bind(patient_id.to_string())
    .bind(ts(from))
    .bind(except.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PastInvitation {
                stage_instance_id: row::uuid(r, "stage_instance_id")?,
                send_at: row::time(r, "send_at")?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

#[allow(clippy::too_many_arguments)]
async fn record_send(
    tx: &mut crate::Tx,
    id: Uuid,
    stage: &PendingStage,
    version: Option<&SurveyVersion>,
    contact: Option<&PatientContact>,
    language: Language,
    inv: &trigger::Invitation,
    now: &str,
) -> Result<usize> {
    let _ = contact;
    sqlx::query(
        "UPDATE survey_invitations SET version_id = $2, decision = 'send', reason = $3, channel = $4, language = $5, \
         status = 'scheduled', send_at = $6, expires_at = $7, reminders = $8 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(version.map(|v| v.id.to_string()))
    .bind(REASON_SELECTED)
    .bind(inv.channel.as_str())
    .bind(language.as_str())
    .bind(ts(inv.send_at))
    .bind(ts(inv.expires_at))
    .bind(json(&inv.reminders.iter().map(|t| ts(*t)).collect::<Vec<_>>()))
    .execute(&mut **tx)
    .await?;
    let due = std::iter::once(inv.send_at).chain(inv.reminders.iter().copied());
    let mut n = 0;
    for (seq, at) in due.enumerate() {
        n += sqlx::query(
            "INSERT INTO survey_outbox (id, invitation_id, hospital_id, seq, idempotency_key, channel, status, due_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(id.to_string())
        .bind(stage.hospital_id.to_string())
        .bind(seq as i64)
        .bind(format!("{id}:{seq}"))
        .bind(inv.channel.as_str())
        .bind(ts(at))
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected() as usize;
    }
    Ok(n)
}
