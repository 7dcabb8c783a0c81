//! Subscriptions to the weekly analytics report (issue 17 item 5) and its hand-off to the
//! notification email path: one `notifications` row of kind `weekly_report` per user and week
//! (`dedup_key` = `weekly_report:<week label>`, unique per user), sent by the worker's notifier.

use crate::auth::{NewUser, hash_password, insert_user, random_secret};
use crate::{Db, Result, StoreError, new_id, row, ts};
use chrono::{DateTime, Utc};
use px360_domain::rbac::Role;
use sqlx::AnyConnection;
use uuid::Uuid;

/// Notification kind (and item kind) of the weekly report.
pub const KIND: &str = "weekly_report";

impl Db {
    /// Does `user` receive the weekly report?
    pub async fn weekly_report_subscribed(&self, user: Uuid) -> Result<bool> {
        let r = sqlx::query("SELECT user_id FROM weekly_report_subscriptions WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.is_some())
    }

    /// Quick-start demo (once per database, settings row `seed_weekly`): two managers of
    /// Riverside General subscribed to the weekly report, so the first run of the weekly job
    /// emails them last week's report (to the local outbox unless SMTP is configured):
    /// `rgh.manager` (Hospital Admin, English) and `ed.manager` (the Emergency Department's
    /// Department Manager, Arabic). Their passwords are random: an admin sets one from the
    /// Users page to sign in as them. `false` when it already ran or the demo organisation is
    /// not there. Not part of `seed_demo`: the test suites create their own users.
    pub async fn seed_demo_weekly(&self) -> Result<bool> {
        let h: Option<String> = sqlx::query_scalar(
            "SELECT id FROM hospitals WHERE code = 'RGH' AND deleted_at IS NULL",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(h) = h else { return Ok(false) };
        let ed: Option<String> = sqlx::query_scalar(
            "SELECT id FROM departments WHERE hospital_id = $1 AND code = 'ED' AND deleted_at IS NULL",
        )
        .bind(&h)
        .fetch_optional(&self.pool)
        .await?;
        let Some(ed) = ed else { return Ok(false) };
        let mut tx = self.writer.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('seed_weekly', 'demo-v1') ON CONFLICT (key) DO NOTHING",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let now = Utc::now();
        for (username, display, role, department, language) in [
            (
                "rgh.manager",
                "Riverside Manager",
                Role::HospitalAdmin,
                None,
                "en",
            ),
            (
                "ed.manager",
                "مدير قسم الطوارئ",
                Role::DepartmentManager,
                Some(&ed),
                "ar",
            ),
        ] {
            let u = insert_user(
                &mut *tx,
                &NewUser {
                    username: username.into(),
                    display_name: display.into(),
                    email: Some(format!("{username}@example.org")),
                    role,
                    hospital_id: Some(parse(&h)?),
                    department_id: department.map(|d| parse(d)).transpose()?,
                },
                &hash_password(&random_secret())?,
            )
            .await?;
            crate::notify_email::set_user_language(&mut tx, u.id, language).await?;
            set_subscription(&mut tx, u.id, true, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Active subscribers, oldest subscription first.
    pub async fn weekly_report_subscribers(&self) -> Result<Vec<Uuid>> {
        let rows = sqlx::query(
            "SELECT s.user_id FROM weekly_report_subscriptions s JOIN users u ON u.id = s.user_id \
             WHERE u.is_active = $1 ORDER BY s.subscribed_at, s.user_id",
        )
        .bind(1_i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| row::uuid(r, "user_id"))
            .collect::<std::result::Result<_, _>>()?)
    }
}

/// Subscribe (`on`) or unsubscribe `user`; true when this changed something.
pub async fn set_subscription(
    c: &mut AnyConnection,
    user: Uuid,
    on: bool,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = if on {
        sqlx::query(
            "INSERT INTO weekly_report_subscriptions (user_id, subscribed_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.to_string())
        .bind(ts(now))
        .execute(&mut *c)
        .await?
    } else {
        sqlx::query("DELETE FROM weekly_report_subscriptions WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *c)
            .await?
    };
    Ok(n.rows_affected() == 1)
}

/// Queue the report of `week` (a week label) for `user`; false when it was queued before.
pub async fn queue(
    c: &mut AnyConnection,
    user: Uuid,
    week: &str,
    detail: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, item_kind, item_id, dedup_key, detail, created_at) \
         VALUES ($1, $2, $3, $3, $2, $4, $5, $6) ON CONFLICT (user_id, dedup_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(user.to_string())
    .bind(KIND)
    .bind(format!("{KIND}:{week}"))
    .bind(detail.to_string())
    .bind(ts(now))
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

fn parse(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| StoreError::Invalid(format!("not an id: {id}")))
}
