//! Single-fire schedules: whichever process claims a due slot first runs it; the others see the
//! slot already moved on. This is what makes a schedule run once across several workers, even
//! if more than one process is (mis)configured to run the beat role.

use crate::{Db, Result, now_ts, ts};

impl Db {
    /// Try to claim the current slot of schedule `name`; true when this caller must run it.
    pub async fn claim_schedule(
        &self,
        name: &str,
        every: chrono::Duration,
        by: &str,
    ) -> Result<bool> {
        let now = chrono::Utc::now();
        sqlx::query("INSERT INTO schedules (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(ts(now))
            .execute(&self.writer)
            .await?;
        let r = sqlx::query(
            "UPDATE schedules SET next_run_at = $3, last_run_at = $2, last_run_by = $4 WHERE name = $1 AND next_run_at <= $2",
        )
        .bind(name)
        .bind(now_ts())
        .bind(ts(now + every))
        .bind(by)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn schedule_last_run(
        &self,
        name: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(
            sqlx::query_as("SELECT last_run_at, last_run_by FROM schedules WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
