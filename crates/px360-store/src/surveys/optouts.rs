//! Per-channel opt-outs. A STOP reply (Twilio inbound, WhatsApp button), the unsubscribe link
//! in a message, the provider's own "recipient opted out" answer, or staff acting on the
//! patient's request each record one; the send decision honours them, and messages already
//! planned on that channel are cancelled. Every opt-out is audited.

use super::{Actor, Channel, TokenError, hash_token};
use crate::{Db, Result, now_ts, row};
use chrono::{DateTime, Utc};
use px360_domain::survey::channel::ChannelSet;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptOutSource {
    StopReply,
    UnsubscribeLink,
    Provider,
    Staff,
}

impl OptOutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutSource::StopReply => "stop_reply",
            OptOutSource::UnsubscribeLink => "unsubscribe_link",
            OptOutSource::Provider => "provider",
            OptOutSource::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            OptOutSource::StopReply,
            OptOutSource::UnsubscribeLink,
            OptOutSource::Provider,
            OptOutSource::Staff,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OptOut {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub hospital_id: Uuid,
    #[schema(value_type = String)]
    pub channel: Channel,
    pub source: OptOutSource,
    pub created_at: DateTime<Utc>,
}

/// The channels a patient opted out of.
pub async fn channels_of(conn: &mut AnyConnection, patient_id: Uuid) -> Result<ChannelSet> {
    let rows = sqlx::query("SELECT channel FROM survey_optouts WHERE patient_id = $1")
        .bind(patient_id.to_string())
        .fetch_all(conn)
        .await?;
    let mut set = ChannelSet::EMPTY;
    for r in rows {
        let c: String = r.try_get("channel")?;
        if let Some(c) = Channel::parse(&c) {
            set = set.with(c);
        }
    }
    Ok(set)
}

/// Record an opt-out inside `tx` (idempotent: a second STOP changes nothing and is not audited
/// again) and cancel that patient's pending messages on the channel. Returns whether it is new.
pub async fn record(
    tx: &mut crate::Tx,
    actor: &Actor,
    patient_id: Uuid,
    hospital_id: Uuid,
    channel: Channel,
    source: OptOutSource,
) -> Result<bool> {
    let now = now_ts();
    let id = Uuid::now_v7();
    let n = sqlx::query(
        "INSERT INTO survey_optouts (id, patient_id, hospital_id, channel, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id, channel) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(patient_id.to_string())
    .bind(hospital_id.to_string())
    .bind(channel.as_str())
    .bind(source.as_str())
    .bind(&now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let cancelled = sqlx::query(
        "UPDATE survey_outbox SET status = 'cancelled', last_error = 'opted_out', updated_at = $3 \
         WHERE status = 'pending' AND channel = $2 AND invitation_id IN \
         (SELECT id FROM survey_invitations WHERE patient_id = $1)",
    )
    .bind(patient_id.to_string())
    .bind(channel.as_str())
    .bind(&now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let h = hospital_id.to_string();
    crate::audit::append(
        tx,
        &actor.entry(
            "survey.opt_out",
            "patient",
            &patient_id.to_string(),
            Some(&h),
            serde_json::json!({"channel": channel.as_str(), "source": source.as_str(),
                               "cancelled_messages": cancelled}),
        ),
    )
    .await?;
    Ok(true)
}

impl Db {
    pub async fn survey_opt_out(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        channel: Channel,
        source: OptOutSource,
    ) -> Result<bool> {
        let hospital: String = sqlx::query_scalar("SELECT hospital_id FROM patients WHERE id = $1")
            .bind(patient_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        let hospital = Uuid::parse_str(&hospital)
            .map_err(|_| crate::StoreError::Invalid("patient hospital id".into()))?;
        // `record` starts with the opt-out insert: the transaction's first statement is a write.
        let mut tx = self.writer.begin().await?;
        let new = record(&mut tx, actor, patient_id, hospital, channel, source).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// A STOP from an address: every patient that a message on this channel went to at this
    /// address is opted out of it. Returns how many patients were newly opted out.
    pub async fn survey_opt_out_address(
        &self,
        actor: &Actor,
        channel: Channel,
        address: &str,
        source: OptOutSource,
    ) -> Result<usize> {
        let hash = super::contacts::address_hash(channel, address);
        let rows = sqlx::query(
            "SELECT DISTINCT i.patient_id, i.hospital_id FROM survey_outbox o \
             JOIN survey_invitations i ON i.id = o.invitation_id \
             WHERE o.address_hash = $1 AND i.patient_id IS NOT NULL",
        )
        .bind(&hash)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        for r in rows {
            let p = row::uuid(&r, "patient_id")?;
            let h = row::uuid(&r, "hospital_id")?;
            if record(&mut tx, actor, p, h, channel, source).await? {
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The unsubscribe link: opts the patient out of the channel the invitation went by. Works
    /// on expired and answered links too (unsubscribing must always be possible).
    pub async fn survey_unsubscribe(
        &self,
        token: &str,
    ) -> std::result::Result<Channel, TokenError> {
        let r = sqlx::query(
            "SELECT i.patient_id, i.hospital_id, i.channel FROM survey_tokens t \
             JOIN survey_invitations i ON i.id = t.invitation_id WHERE t.token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(TokenError::Unknown)?;
        let patient = row::opt_uuid(&r, "patient_id")?.ok_or(TokenError::Unknown)?;
        let hospital = row::uuid(&r, "hospital_id")?;
        let channel: Option<String> = r.try_get("channel")?;
        let channel = channel
            .as_deref()
            .and_then(Channel::parse)
            .ok_or(TokenError::Unknown)?;
        let mut tx = self.writer.begin().await?;
        record(
            &mut tx,
            &Actor::patient(),
            patient,
            hospital,
            channel,
            OptOutSource::UnsubscribeLink,
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// Staff record the patient's renewed consent on `channel` (or every channel): the opt-outs
    /// are removed and the change audited with the reason given. Returns the channels that were
    /// opted out and no longer are. Messages cancelled by the opt-out stay cancelled: the next
    /// completed stage decides afresh.
    pub async fn survey_opt_in(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        channel: Option<Channel>,
        reason: &str,
    ) -> Result<Vec<Channel>> {
        let hospital: String = sqlx::query_scalar("SELECT hospital_id FROM patients WHERE id = $1")
            .bind(patient_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        let channels: Vec<Channel> = match channel {
            Some(c) => vec![c],
            None => Channel::ALL.to_vec(),
        };
        let mut tx = self.writer.begin().await?;
        let mut removed = Vec::new();
        for c in channels {
            let n =
                sqlx::query("DELETE FROM survey_optouts WHERE patient_id = $1 AND channel = $2")
                    .bind(patient_id.to_string())
                    .bind(c.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if n > 0 {
                removed.push(c);
            }
        }
        if !removed.is_empty() {
            crate::audit::append(
                &mut tx,
                &actor.entry(
                    "survey.opt_in",
                    "patient",
                    &patient_id.to_string(),
                    Some(&hospital),
                    serde_json::json!({
                        "channels": removed.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                        "source": OptOutSource::Staff.as_str(),
                        "reason": reason,
                    }),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    pub async fn survey_opt_outs(&self, patient_id: Uuid) -> Result<Vec<OptOut>> {
        let rows = sqlx::query(
            "SELECT id, patient_id, hospital_id, channel, source, created_at FROM survey_optouts \
             WHERE patient_id = $1 ORDER BY created_at",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OptOut {
                    id: row::uuid(r, "id")?,
                    patient_id: row::uuid(r, "patient_id")?,
                    hospital_id: row::uuid(r, "hospital_id")?,
                    channel: row::named(r, "channel", Channel::parse)?,
                    source: row::named(r, "source", OptOutSource::parse)?,
                    created_at: row::time(r, "created_at")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}
