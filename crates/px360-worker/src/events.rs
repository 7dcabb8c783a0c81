//! Job handlers: apply an event batch (with per-event retry scheduling and parking), run a
//! maintenance job, and the sweeper that re-enqueues events whose job was lost.

use crate::beat::Job;
use crate::queue::{EventBatch, JobQueue, Maintenance};
use crate::{Ctx, JobError};
use apalis::prelude::Data;
use px360_store::Db;
use px360_store::journeys::Outcome;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Apply a job's events. A storage failure fails the job (apalis retries it); a failure of one
/// event is that event's bookkeeping (`failed` with a retry pushed as a job scheduled at its
/// `next_attempt_at`, or `parked`), and the job itself succeeds.
pub(crate) async fn apply_batch(batch: EventBatch, ctx: Data<Ctx>) -> Result<(), JobError> {
    for chunk in batch.ids.chunks(ctx.cfg.batch.max(1)) {
        let done = ctx
            .db
            .process_events(&ctx.cfg.id, chunk, ctx.cfg.hold)
            .await?;
        let now = SystemTime::now();
        let mut retries: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for (id, outcome) in done {
            if let Outcome::Failed {
                retry_in: Some(d), ..
            } = &outcome
            {
                retries
                    .entry(ceil_secs(now + *d))
                    .or_default()
                    .push(id.clone());
            }
            record(&id, outcome);
        }
        for (at, ids) in retries {
            if let Err(e) = ctx.queue.push_events(ids, Some(at)).await {
                // The retry is in the event row (`next_attempt_at`); the sweeper picks it up.
                tracing::warn!(error = %e, "job.retry_push_failed");
            }
        }
    }
    Ok(())
}

/// Whole seconds (rounded up) since the epoch: apalis schedules in seconds, and a job must not
/// run before its events' `next_attempt_at`.
fn ceil_secs(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn record(id: &str, outcome: Outcome) {
    match outcome {
        Outcome::Processed(p) => {
            metrics::counter!("px360_events_processed_total").increment(1);
            if !p.warnings.is_empty() {
                metrics::counter!("px360_events_processed_with_warnings_total").increment(1);
            }
            if let Ok(received) = chrono::DateTime::parse_from_rfc3339(&p.received_at) {
                let lag = chrono::Utc::now().signed_duration_since(received);
                metrics::histogram!("px360_event_processing_lag_seconds")
                    .record(lag.num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
            tracing::debug!(event_id = %id, warnings = p.warnings.len(), "job.done");
        }
        // The error text stays in the database (`last_error`, readable by operators through
        // the API): it can quote payload values, so it is not logged.
        Outcome::Failed { error: _, retry_in } => {
            metrics::counter!("px360_events_failed_total").increment(1);
            match retry_in {
                Some(d) => tracing::warn!(event_id = %id, retry_in_s = d.as_secs(), "job.failed"),
                None => {
                    metrics::counter!("px360_events_parked_total").increment(1);
                    tracing::error!(event_id = %id, "job.parked");
                }
            }
        }
    }
}

/// Run a scheduled job whose slot the beat claimed.
pub(crate) async fn run_maintenance(m: Maintenance, ctx: Data<Ctx>) -> Result<(), JobError> {
    match m.job {
        Job::AuditChainVerify => {
            let ok = ctx.db.verify_audit_chain().await;
            px360_store::audit::set_status(&ok);
            match ok {
                Ok(n) => tracing::info!(records = n, "audit.chain_ok"),
                Err(e) => tracing::error!(error = %e, "audit.chain_broken"),
            }
        }
        Job::PurgeRefreshTokens => {
            ctx.db.purge_refresh_tokens().await?;
        }
        Job::SweepEvents => {
            sweep(&ctx.db, &ctx.queue, ctx.cfg.sweep_grace).await?;
        }
        Job::PruneJobs => {
            let n = ctx.queue.prune(ctx.cfg.job_retention).await?;
            tracing::info!(jobs = n, "jobs.pruned");
        }
        Job::AnalyticsRollup => {
            ctx.db.analytics_refresh().await?;
        }
    }
    tracing::debug!(job = m.job.name(), slot = %m.slot, "maintenance.done");
    Ok(())
}

/// Enqueue events that should have been applied by now but were not: still `received` more
/// than `grace` after arrival (their job was never pushed, or apalis gave up on it), or failed
/// with a retry more than `grace` overdue. Returns how many were enqueued.
pub async fn sweep(db: &Db, queue: &JobQueue, grace: Duration) -> Result<usize, JobError> {
    let grace = chrono::Duration::from_std(grace).unwrap_or_else(|_| chrono::Duration::hours(1));
    let ids = db.overdue_events(grace, 1000).await?;
    for chunk in ids.chunks(queue.cfg.push_batch.max(1)) {
        queue.push_events(chunk.to_vec(), None).await?;
    }
    if !ids.is_empty() {
        metrics::counter!("px360_events_swept_total").increment(ids.len() as u64);
        tracing::info!(events = ids.len(), "sweeper.enqueued");
    }
    Ok(ids.len())
}
