//! Single-fire schedules: whichever process claims a due slot first runs it; the others see the
//! slot already moved on. This is what makes a schedule run once across several processes, each
//! of which owns a cron timer (apalis-cron fires in every process that runs the beat role).

use crate::{Db, Result, row, ts};
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Db {
    /// Try to claim the slot of schedule `name` due at `at`; true when this caller must run it.
    ///
    /// `at` is the timer's tick (whole seconds, the same instant in every process), so the next
    /// slot is exactly `at + every` and ticks do not drift by the time the claim took.
    pub async fn claim_schedule(
        &self,
        name: &str,
        every: chrono::Duration,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        // A read first: most ticks find nothing due and should not queue for the SQLite writer.
        let next = sqlx::query("SELECT next_run_at FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| row::time(&r, "next_run_at"))
            .transpose()?;
        let at_ts = ts(at);
        match next {
            Some(n) if n > at => return Ok(false),
            Some(_) => {}
            None => {
                sqlx::query("INSERT INTO schedules (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(&at_ts)
                    .execute(&self.writer)
                    .await?;
            }
        }
        let r = sqlx::query(
            "UPDATE schedules SET next_run_at = $3, last_run_at = $2, last_run_by = $4 WHERE name = $1 AND next_run_at <= $2",
        )
        .bind(name)
        .bind(&at_ts)
        .bind(ts(at + every))
        .bind(by)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// When schedule `name` last ran and which process ran it (`None`: never claimed).
    pub async fn schedule_last_run(
        &self,
        name: &str,
    ) -> Result<Option<(Option<DateTime<Utc>>, Option<String>)>> {
        let r = sqlx::query("SELECT last_run_at, last_run_by FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.map(|r| -> sqlx::Result<_> {
            Ok((row::opt_time(&r, "last_run_at")?, r.try_get("last_run_by")?))
        })
        .transpose()?)
    }
}
