//! Falling back to the next channel when the chosen channel's address is unusable.
//!
//! The provider says the number does not exist (Twilio 21211), is not on WhatsApp (Meta 131026),
//! or the mailbox is unknown (SMTP 550), or the stored address cannot even be parsed: retrying
//! the same channel is pointless, but the patient may still be reachable on another one. The
//! invitation then moves to the next channel of the template's preference order that the
//! patient has an address for, has not opted out of, and was not already tried for this
//! invitation.
//!
//! No duplicate send: the outbox row that failed is re-queued on the new channel (same row, same
//! idempotency key, due now), only while this dispatcher still holds it (`status = 'sending'`),
//! so a second dispatcher that took it over after the lease cannot move it twice. The pending
//! reminders of the invitation follow to the new channel. Every fallback is a row of
//! `survey_channel_fallbacks` (with `to_channel` NULL when no channel was left and the
//! invitation failed) and an audit record, in the same transaction.

use super::outbox::OutboxJob;
use super::{Actor, Channel};
use crate::{Db, Result, StoreError, now_ts, row};
use chrono::{DateTime, Utc};
use px360_domain::survey::channel::{ChannelSet, choose};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

/// Why the channel was abandoned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackReason {
    /// `invalid_recipient` (the provider's verdict), `invalid_address` (could not be parsed),
    /// `no_address` (the patient's record lost it).
    pub reason: &'static str,
    /// The provider that refused (`twilio`, `smtp`, …; `px360` for our own checks).
    pub provider: String,
    /// The provider's error code (`21211`, `131026`, `550`), never an address.
    pub code: Option<String>,
}

/// A recorded fallback decision.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fallback {
    pub id: Uuid,
    pub invitation_id: Uuid,
    pub outbox_id: Uuid,
    pub seq: i64,
    #[schema(value_type = String)]
    pub from_channel: Channel,
    /// `None`: no channel was left; the message failed.
    #[schema(value_type = Option<String>)]
    pub to_channel: Option<Channel>,
    pub reason: String,
    pub provider: String,
    pub code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Db {
    /// Move `job` to the next usable channel, or fail it when none is left. Returns the new
    /// channel; `Ok(None)` also when the row was no longer this dispatcher's (nothing changed).
    pub async fn survey_outbox_fallback(
        &self,
        worker: &str,
        job: &OutboxJob,
        why: &FallbackReason,
    ) -> Result<Option<Channel>> {
        let inv = self.survey_invitation(job.invitation_id).await?;
        let order = match self.survey_template(inv.template_id).await {
            Ok(t) => t.policy.settings().channel_order.clone(),
            Err(StoreError::NotFound) => Vec::new(),
            Err(e) => return Err(e),
        };
        let now = now_ts();
        let mut tx = self.writer.begin().await?;
        // First statement a write: take the row back from `sending` (only if still ours).
        let held = sqlx::query(
            "UPDATE survey_outbox SET lease_until = NULL, updated_at = $3 \
             WHERE id = $1 AND status = 'sending' AND claimed_by = $2",
        )
        .bind(job.id.to_string())
        .bind(worker)
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let tried_rows = sqlx::query(
            "SELECT from_channel FROM survey_channel_fallbacks WHERE invitation_id = $1",
        )
        .bind(job.invitation_id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut tried = ChannelSet::EMPTY.with(job.channel);
        for r in &tried_rows {
            let c: String = r.try_get("from_channel")?;
            if let Some(c) = Channel::parse(&c) {
                tried = tried.with(c);
            }
        }
        let next = match super::contacts::load(&mut tx, job.contact.patient_id).await {
            Ok(c) => {
                let mut info = c.info;
                let mut reachable = ChannelSet::EMPTY;
                for ch in Channel::ALL {
                    if info.reachable.contains(ch) && !tried.contains(ch) {
                        reachable = reachable.with(ch);
                    }
                }
                info.reachable = reachable;
                // Consent withdrawn meanwhile: no other channel either.
                if info.consent {
                    choose(&order, &info).ok()
                } else {
                    None
                }
            }
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let error = format!(
            "fallback:{}:{}",
            why.reason,
            next.map(Channel::as_str).unwrap_or("none")
        );
        match next {
            Some(to) => {
                // The same row, due now, on the new channel: attempts start again (they
                // counted the old channel's tries).
                sqlx::query(
                    "UPDATE survey_outbox SET channel = $2, status = 'pending', due_at = $3, attempts = 0, \
                     claimed_by = NULL, last_error = $4, updated_at = $3 WHERE id = $1",
                )
                .bind(job.id.to_string())
                .bind(to.as_str())
                .bind(&now)
                .bind(&error)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE survey_outbox SET channel = $2, updated_at = $4 \
                     WHERE invitation_id = $1 AND status = 'pending' AND channel = $3",
                )
                .bind(job.invitation_id.to_string())
                .bind(to.as_str())
                .bind(job.channel.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE survey_invitations SET channel = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(job.invitation_id.to_string())
                .bind(to.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE survey_outbox SET status = 'failed', last_error = $2, updated_at = $3 WHERE id = $1",
                )
                .bind(job.id.to_string())
                .bind(&error)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                if job.seq == 0 {
                    sqlx::query(
                        "UPDATE survey_invitations SET status = 'failed', status_at = $2, updated_at = $2 \
                         WHERE id = $1 AND status = 'scheduled'",
                    )
                    .bind(job.invitation_id.to_string())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO survey_channel_fallbacks (id, invitation_id, outbox_id, seq, from_channel, to_channel, reason, provider, code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(job.invitation_id.to_string())
        .bind(job.id.to_string())
        .bind(job.seq)
        .bind(job.channel.as_str())
        .bind(next.map(Channel::as_str))
        .bind(why.reason)
        .bind(&why.provider)
        .bind(why.code.clone())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let h = job.hospital_id.to_string();
        crate::audit::append(
            &mut tx,
            &Actor::system(worker).entry(
                "survey.channel_fallback",
                "survey_invitation",
                &job.invitation_id.to_string(),
                Some(&h),
                serde_json::json!({
                    "outbox_id": job.id,
                    "seq": job.seq,
                    "from": job.channel.as_str(),
                    "to": next.map(Channel::as_str),
                    "reason": why.reason,
                    "provider": why.provider,
                    "code": why.code,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("px360_survey_fallbacks_total", "from" => job.channel.as_str(), "to" => next.map(Channel::as_str).unwrap_or("none"))
            .increment(1);
        Ok(next)
    }

    /// The fallbacks of one invitation, oldest first.
    pub async fn survey_fallbacks(&self, invitation_id: Uuid) -> Result<Vec<Fallback>> {
        let rows = sqlx::query(
            "SELECT id, invitation_id, outbox_id, seq, from_channel, to_channel, reason, provider, code, created_at \
             FROM survey_channel_fallbacks WHERE invitation_id = $1 ORDER BY created_at, id",
        )
        .bind(invitation_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let to: Option<String> = r.try_get("to_channel")?;
                Ok(Fallback {
                    id: row::uuid(r, "id")?,
                    invitation_id: row::uuid(r, "invitation_id")?,
                    outbox_id: row::uuid(r, "outbox_id")?,
                    seq: r.try_get("seq")?,
                    from_channel: row::named(r, "from_channel", Channel::parse)?,
                    to_channel: to.as_deref().and_then(Channel::parse),
                    reason: r.try_get("reason")?,
                    provider: r.try_get("provider")?,
                    code: r.try_get("code")?,
                    created_at: row::time(r, "created_at")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}
