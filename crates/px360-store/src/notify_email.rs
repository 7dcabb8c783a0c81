//! The email of in-app notifications (escalations, new actions): rows of `notifications` with
//! `email_status = 'pending'` are claimed by the worker's notifier, which sends each through the
//! surveys' delivery path (the SMTP adapter when configured, else the local outbox) in the
//! recipient's language.
//!
//! A claim sets `email_lease_until` and counts the attempt (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so several workers take disjoint rows; SQLite's single writer serialises). Every
//! outcome is written only while the row is still pending under the same lease, so a worker
//! whose lease ran out (and whose row was claimed again) cannot record over the new claimant.
//! The local outbox writes the message and marks the row sent in one transaction: exactly once.
//! With SMTP the window between the server's acceptance and the commit of `sent` remains (a
//! crash exactly there sends again after the lease); the Message-ID derived from the
//! notification id lets mail systems drop the duplicate.

use crate::{Backend, Db, Result, new_id, row, ts};
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

/// A claimed notification with what its email needs. Holds the user's address: never log it.
#[derive(Debug, Clone)]
pub struct EmailJob {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: Option<String>,
    pub display_name: String,
    /// `en` or `ar` (the user's preferred language; English when unset).
    pub language: String,
    /// `sla_escalation` | `action_assigned` | …
    pub kind: String,
    pub item_kind: String,
    pub item_id: Uuid,
    pub detail: serde_json::Value,
    /// A complaint's reference or an action's title.
    pub item_label: Option<String>,
    /// Attempts including this one.
    pub attempts: i64,
    /// The claim's lease value: the token every outcome is written under.
    pub lease: String,
}

/// Masked email for the local outbox: `j…@example.org`.
fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

impl Db {
    /// Claim up to `limit` pending notifications whose lease (or retry time) has passed.
    pub async fn notification_email_claim(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<EmailJob>> {
        let lease_until = ts(now
            + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(60)));
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.writer.begin().await?;
        // Uses notifications_email_pending (partial on the pending rows, by creation time).
        let ids: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE notifications SET email_lease_until = $2, email_attempts = email_attempts + 1 \
             WHERE id IN (SELECT id FROM notifications WHERE email_status = 'pending' \
               AND (email_lease_until IS NULL OR email_lease_until <= $1) ORDER BY created_at, id LIMIT $3{skip_locked}) \
             RETURNING id, email_attempts"
        )))
        .bind(ts(now))
        .bind(&lease_until)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for (id, attempts) in ids {
            let r = sqlx::query(
                "SELECT n.id, n.user_id, n.kind, n.item_kind, n.item_id, n.detail, u.email, u.display_name, u.language, \
                 COALESCE(c.reference, a.title) AS item_label \
                 FROM notifications n JOIN users u ON u.id = n.user_id \
                 LEFT JOIN complaints c ON n.item_kind = 'complaint' AND c.id = n.item_id \
                 LEFT JOIN px_actions a ON n.item_kind = 'action' AND a.id = n.item_id WHERE n.id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            let detail: String = r.try_get("detail")?;
            let language: Option<String> = r.try_get("language")?;
            jobs.push(EmailJob {
                id: row::uuid(&r, "id")?,
                user_id: row::uuid(&r, "user_id")?,
                email: r
                    .try_get::<Option<String>, _>("email")?
                    .filter(|e| !e.trim().is_empty()),
                display_name: r.try_get("display_name")?,
                language: match language.as_deref() {
                    Some("ar") => "ar".into(),
                    _ => "en".into(),
                },
                kind: r.try_get("kind")?,
                item_kind: r.try_get("item_kind")?,
                item_id: row::uuid(&r, "item_id")?,
                detail: serde_json::from_str(&detail).unwrap_or_default(),
                item_label: r.try_get("item_label")?,
                attempts,
                lease: lease_until.clone(),
            });
        }
        tx.commit().await?;
        Ok(jobs)
    }

    /// The provider accepted the message. False when the claim was lost (nothing written).
    pub async fn notification_email_sent(
        &self,
        job: &EmailJob,
        provider: &str,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE notifications SET email_status = 'sent', email_sent_at = $3, email_provider = $4, email_message_id = $5, email_error = NULL \
             WHERE id = $1 AND email_status = 'pending' AND email_lease_until = $2",
        )
        .bind(job.id.to_string())
        .bind(&job.lease)
        .bind(ts(now))
        .bind(provider)
        .bind(message_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Deliver to the local outbox and mark sent, in one transaction (exactly once).
    pub async fn notification_email_local(
        &self,
        job: &EmailJob,
        subject: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let n = sqlx::query(
            "UPDATE notifications SET email_status = 'sent', email_sent_at = $3, email_provider = 'local', email_error = NULL \
             WHERE id = $1 AND email_status = 'pending' AND email_lease_until = $2",
        )
        .bind(job.id.to_string())
        .bind(&job.lease)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO notification_local_outbox (id, notification_id, user_id, recipient, language, subject, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(job.id.to_string())
        .bind(job.user_id.to_string())
        .bind(job.email.as_deref().map(mask).unwrap_or_else(|| "…".into()))
        .bind(&job.language)
        .bind(subject)
        .bind(body)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Try again at `at` (the lease becomes the not-before moment); `error` is a short kind.
    pub async fn notification_email_retry(
        &self,
        job: &EmailJob,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE notifications SET email_lease_until = $3, email_error = $4 \
             WHERE id = $1 AND email_status = 'pending' AND email_lease_until = $2",
        )
        .bind(job.id.to_string())
        .bind(&job.lease)
        .bind(ts(at))
        .bind(error)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Give up: `failed` (the provider refused for good) or `skipped` (no address).
    pub async fn notification_email_finished(
        &self,
        job: &EmailJob,
        status: &str,
        error: &str,
    ) -> Result<bool> {
        let status = if status == "skipped" {
            "skipped"
        } else {
            "failed"
        };
        let n = sqlx::query(
            "UPDATE notifications SET email_status = $3, email_error = $4 \
             WHERE id = $1 AND email_status = 'pending' AND email_lease_until = $2",
        )
        .bind(job.id.to_string())
        .bind(&job.lease)
        .bind(status)
        .bind(error)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// A notification's email state: (status, attempts, provider).
    pub async fn notification_email_state(
        &self,
        id: Uuid,
    ) -> Result<(String, i64, Option<String>)> {
        Ok(sqlx::query_as(
            "SELECT email_status, email_attempts, email_provider FROM notifications WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Set a user's preferred language for what PX360 sends them (`en` or `ar`).
pub async fn set_user_language(
    c: &mut sqlx::AnyConnection,
    user: Uuid,
    language: &str,
) -> Result<()> {
    if language != "en" && language != "ar" {
        return Err(crate::StoreError::Invalid(
            "language must be en or ar".into(),
        ));
    }
    let n = sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
        .bind(user.to_string())
        .bind(language)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}
