//! The outbox of survey messages, drained by the worker's dispatcher.
//!
//! A due row is claimed by setting it `sending` with a lease and counting the attempt; in the
//! same transaction a fresh link token is minted (its hash stored). The dispatcher then hands
//! the message to the channel's provider and records the outcome: `sent` with the provider's
//! message id, back to `pending` with a later `due_at` for a retry, or `failed`.
//!
//! What a kill does: a dispatcher killed after the claim and before the provider call leaves a
//! `sending` row whose lease expires; the next claim takes it again, so nothing is lost and
//! nothing was sent twice. The local outbox (the embedded default) writes the message and marks
//! the row sent in one transaction: exactly once. With an external provider the one window left
//! is between the provider's acceptance and the commit of `sent` (milliseconds); a kill exactly
//! there sends the message again on lease expiry, because no provider here offers an
//! idempotency key to deduplicate with (SMTP messages carry a stable Message-ID derived from the
//! row, so mail systems can).

use super::contacts::{self, PatientContact};
use super::invitations::InvitationStatus;
use super::optouts::{self, OptOutSource};
use super::{Actor, Channel, Language, mint_token};
use crate::{Backend, Db, Result, StoreError, row, ts};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
    Cancelled,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Sent,
            OutboxStatus::Failed,
            OutboxStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A claimed message, with everything needed to build and send it. Holds the patient's address
/// and the link token: never log it.
pub struct OutboxJob {
    pub id: Uuid,
    pub invitation_id: Uuid,
    pub hospital_id: Uuid,
    /// 0 = the invitation, 1.. = reminders.
    pub seq: i64,
    pub channel: Channel,
    /// Attempts including this one.
    pub attempts: i64,
    pub language: Language,
    pub expires_at: DateTime<Utc>,
    /// The survey's title in the patient's language.
    pub title: String,
    pub hospital_name: String,
    /// The link token minted for this attempt (only its hash is stored).
    pub token: String,
    pub contact: PatientContact,
}

impl std::fmt::Debug for OutboxJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxJob")
            .field("id", &self.id)
            .field("invitation_id", &self.invitation_id)
            .field("seq", &self.seq)
            .field("channel", &self.channel)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl OutboxJob {
    /// The address on the job's channel (None if the patient's record lost it meanwhile).
    pub fn address(&self) -> Option<&str> {
        self.contact.address(self.channel)
    }
}

/// An outbox row as listed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxRow {
    pub id: Uuid,
    pub invitation_id: Uuid,
    pub seq: i64,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub status: OutboxStatus,
    pub due_at: DateTime<Utc>,
    pub attempts: i64,
    pub provider: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A message delivered to the local outbox (the embedded default provider).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LocalMessage {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub hospital_id: Uuid,
    #[schema(value_type = String)]
    pub channel: Channel,
    /// Masked address.
    pub recipient: String,
    pub language: Language,
    pub subject: Option<String>,
    pub body: String,
    /// The survey link, with its token.
    pub link: String,
    pub created_at: DateTime<Utc>,
}

/// What the dispatcher hands to the local outbox.
#[derive(Debug, Clone)]
pub struct LocalDelivery {
    pub subject: Option<String>,
    pub body: String,
    pub link: String,
}

/// The provider's verdict on a message, from a status callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    Delivered,
    Read,
    Failed,
}

impl Db {
    /// Claim up to `limit` due messages for `lease`. Messages of invitations that expired or were
    /// answered meanwhile are cancelled instead.
    pub async fn survey_outbox_claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OutboxJob>> {
        let now_s = ts(now);
        let lease_until = ts(now + Duration::from_std(lease).unwrap_or(Duration::seconds(60)));
        let mut tx = self.writer.begin().await?;
        // First statement a write: cancel what can no longer be sent.
        sqlx::query(
            "UPDATE survey_outbox SET status = 'cancelled', last_error = 'expired', updated_at = $1 \
             WHERE status IN ('pending', 'sending') AND due_at <= $1 AND invitation_id IN \
             (SELECT id FROM survey_invitations WHERE expires_at <= $1 OR status = 'answered')",
        )
        .bind(&now_s)
        .execute(&mut *tx)
        .await?;
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE survey_outbox SET status = 'sending', lease_until = $2, claimed_by = $3, attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM survey_outbox WHERE \
               ((status = 'pending' AND due_at <= $1) OR (status = 'sending' AND lease_until <= $1)) \
               ORDER BY due_at, id LIMIT $4{skip_locked}) \
             RETURNING id, invitation_id, hospital_id, seq, channel, attempts"
        )))
        .bind(&now_s)
        .bind(&lease_until)
        .bind(worker)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for r in rows {
            let id = row::uuid(&r, "id")?;
            let invitation_id = row::uuid(&r, "invitation_id")?;
            let info = sqlx::query(
                "SELECT i.patient_id, i.language, i.expires_at, v.stored, h.name AS hospital_name \
                 FROM survey_invitations i JOIN survey_versions v ON v.id = i.version_id \
                 JOIN hospitals h ON h.id = i.hospital_id WHERE i.id = $1",
            )
            .bind(invitation_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
            let language = row::named(&info, "language", Language::parse)?;
            let stored: String = info.try_get("stored")?;
            let title = px360_domain::survey::publish::PublishedSurvey::from_stored_json(&stored)
                .map(|s| match language {
                    Language::Ar => s.content().title.ar.clone(),
                    Language::En => s.content().title.en.clone(),
                })
                .unwrap_or_default();
            let Some(patient_id) = row::opt_uuid(&info, "patient_id")? else {
                fail_in(&mut tx, id, "no_patient", &now_s).await?;
                continue;
            };
            let contact = match contacts::load(&mut tx, patient_id).await {
                Ok(c) => c,
                Err(StoreError::NotFound) => {
                    fail_in(&mut tx, id, "no_patient", &now_s).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (token, hash) = mint_token();
            sqlx::query(
                "INSERT INTO survey_tokens (token_hash, invitation_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(&hash)
            .bind(invitation_id.to_string())
            .bind(&now_s)
            .execute(&mut *tx)
            .await?;
            jobs.push(OutboxJob {
                id,
                invitation_id,
                hospital_id: row::uuid(&r, "hospital_id")?,
                seq: r.try_get("seq")?,
                channel: row::named(&r, "channel", Channel::parse)?,
                attempts: r.try_get("attempts")?,
                language,
                expires_at: row::time(&info, "expires_at")?,
                title,
                hospital_name: info.try_get("hospital_name")?,
                token,
                contact,
            });
        }
        tx.commit().await?;
        Ok(jobs)
    }

    /// The provider accepted the message.
    pub async fn survey_outbox_sent(
        &self,
        job: &OutboxJob,
        provider: &str,
        provider_message_id: &str,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        mark_sent(&mut tx, job, provider, Some(provider_message_id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The embedded default: the message lands in the local outbox and the row is marked sent,
    /// in one transaction.
    pub async fn survey_outbox_deliver_local(
        &self,
        job: &OutboxJob,
        m: &LocalDelivery,
    ) -> Result<()> {
        let now = crate::now_ts();
        let mut tx = self.writer.begin().await?;
        let id = Uuid::now_v7();
        let recipient = job
            .address()
            .map(|a| contacts::mask(job.channel, a))
            .unwrap_or_else(|| "…".into());
        let n = sqlx::query(
            "INSERT INTO survey_local_outbox (id, outbox_id, hospital_id, channel, recipient, language, subject, body, link, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (outbox_id) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(job.id.to_string())
        .bind(job.hospital_id.to_string())
        .bind(job.channel.as_str())
        .bind(recipient)
        .bind(job.language.as_str())
        .bind(m.subject.clone())
        .bind(&m.body)
        .bind(&m.link)
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            mark_sent(&mut tx, job, "local", Some(&id.to_string())).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Try again at `retry_at` (transient failure or throttling).
    pub async fn survey_outbox_retry(
        &self,
        job: &OutboxJob,
        retry_at: DateTime<Utc>,
        error_kind: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE survey_outbox SET status = 'pending', due_at = $2, lease_until = NULL, last_error = $3, updated_at = $4 \
             WHERE id = $1 AND status = 'sending'",
        )
        .bind(job.id.to_string())
        .bind(ts(retry_at))
        .bind(error_kind)
        .bind(crate::now_ts())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Give up on the message. The invitation is marked failed if it was its first message.
    pub async fn survey_outbox_failed(&self, job: &OutboxJob, error_kind: &str) -> Result<()> {
        let now = crate::now_ts();
        let mut tx = self.writer.begin().await?;
        fail_in(&mut tx, job.id, error_kind, &now).await?;
        if job.seq == 0 {
            sqlx::query(
                "UPDATE survey_invitations SET status = 'failed', status_at = $2, updated_at = $2 WHERE id = $1 AND status = 'scheduled'",
            )
            .bind(job.invitation_id.to_string())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The provider said the recipient opted out: record the opt-out (audited) and drop the
    /// message.
    pub async fn survey_outbox_opted_out(&self, job: &OutboxJob, provider: &str) -> Result<()> {
        let now = crate::now_ts();
        let mut tx = self.writer.begin().await?;
        fail_in(&mut tx, job.id, "opted_out", &now).await?;
        optouts::record(
            &mut tx,
            &Actor::provider(provider),
            job.contact.patient_id,
            job.hospital_id,
            job.channel,
            OptOutSource::Provider,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A delivery-status callback: update the invitation whose message has this provider id.
    /// Status only moves forward (a late "delivered" after "read" changes nothing). Returns
    /// whether a message matched.
    pub async fn survey_status_update(
        &self,
        provider_message_id: &str,
        status: ProviderStatus,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let (to, from): (&str, &[&str]) = match status {
            ProviderStatus::Delivered => ("delivered", &["scheduled", "sent", "failed"]),
            ProviderStatus::Read => ("read", &["scheduled", "sent", "delivered", "failed"]),
            ProviderStatus::Failed => ("failed", &["scheduled", "sent"]),
        };
        let list = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let inv: Option<String> = sqlx::query_scalar(
            "SELECT invitation_id FROM survey_outbox WHERE provider_message_id = $1",
        )
        .bind(provider_message_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(inv) = inv else {
            return Ok(false);
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE survey_invitations SET status = $2, status_at = $3, updated_at = $4 WHERE id = $1 AND status IN ({list})"
        )))
        .bind(&inv)
        .bind(to)
        .bind(ts(at))
        .bind(crate::now_ts())
        .execute(&self.writer)
        .await?;
        Ok(true)
    }

    /// The messages of one invitation.
    pub async fn survey_outbox_rows(&self, invitation_id: Uuid) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT id, invitation_id, seq, channel, status, due_at, attempts, provider, last_error, sent_at \
             FROM survey_outbox WHERE invitation_id = $1 ORDER BY seq",
        )
        .bind(invitation_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    id: row::uuid(r, "id")?,
                    invitation_id: row::uuid(r, "invitation_id")?,
                    seq: r.try_get("seq")?,
                    channel: row::named(r, "channel", Channel::parse)?,
                    status: row::named(r, "status", OutboxStatus::parse)?,
                    due_at: row::time(r, "due_at")?,
                    attempts: r.try_get("attempts")?,
                    provider: r.try_get("provider")?,
                    last_error: r.try_get("last_error")?,
                    sent_at: row::opt_time(r, "sent_at")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// The local outbox, newest first, of one hospital or all.
    pub async fn survey_local_outbox(
        &self,
        hospital: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<LocalMessage>> {
        let h = hospital.map(|h| h.to_string());
        let rows = sqlx::query(
            "SELECT id, outbox_id, hospital_id, channel, recipient, language, subject, body, link, created_at \
             FROM survey_local_outbox WHERE ($1 IS NULL OR hospital_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(h)
        .bind(limit.clamp(0, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LocalMessage {
                    id: row::uuid(r, "id")?,
                    outbox_id: row::uuid(r, "outbox_id")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    channel: row::named(r, "channel", Channel::parse)?,
                    recipient: r.try_get("recipient")?,
                    language: row::named(r, "language", Language::parse)?,
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                    link: r.try_get("link")?,
                    created_at: row::time(r, "created_at")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// Outbox rows by status (for tests and the operations view).
    pub async fn survey_outbox_counts(&self) -> Result<Vec<(OutboxStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM survey_outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((row::named(r, "status", OutboxStatus::parse)?, r.try_get("n")?)))
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}

async fn fail_in(tx: &mut crate::Tx, id: Uuid, error_kind: &str, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE survey_outbox SET status = 'failed', lease_until = NULL, last_error = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(error_kind)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn mark_sent(
    tx: &mut crate::Tx,
    job: &OutboxJob,
    provider: &str,
    provider_message_id: Option<&str>,
) -> Result<()> {
    let now = crate::now_ts();
    let hash = job
        .address()
        .map(|a| contacts::address_hash(job.channel, a));
    sqlx::query(
        "UPDATE survey_outbox SET status = 'sent', lease_until = NULL, provider = $2, provider_message_id = $3, \
         address_hash = $4, sent_at = $5, updated_at = $5, last_error = NULL WHERE id = $1",
    )
    .bind(job.id.to_string())
    .bind(provider)
    .bind(provider_message_id)
    .bind(hash)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    let (status_sql, reminder) = if job.seq == 0 {
        (
            format!(
                "status = CASE WHEN status = 'scheduled' THEN '{}' ELSE status END",
                InvitationStatus::Sent.as_str()
            ),
            0i64,
        )
    } else {
        ("status = status".to_owned(), 1i64)
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE survey_invitations SET {status_sql}, reminders_sent = reminders_sent + $2, \
         provider_message_id = COALESCE(provider_message_id, $3), status_at = $4, updated_at = $4 WHERE id = $1"
    )))
    .bind(job.invitation_id.to_string())
    .bind(reminder)
    .bind(provider_message_id)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
