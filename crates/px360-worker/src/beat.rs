//! Scheduled jobs (the Celery Beat role) on apalis-cron.
//!
//! Every process that runs the beat owns a cron timer that ticks every few seconds (apalis-cron
//! fires in each such process). On a tick, each job whose slot is due is claimed with a
//! compare-and-set in the database; only the winner pushes it into the shared maintenance
//! queue, where any worker runs it. So each slot runs once however many beats are configured.

use crate::queue::{JobQueue, Maintenance};
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use chrono::{DateTime, SubsecRound, Utc};
use px360_store::Db;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// Walk the audit hash chain and export the result as a gauge.
    AuditChainVerify,
    /// Delete refresh tokens that expired more than a day ago.
    PurgeRefreshTokens,
    /// Enqueue events whose job was lost (see [`crate::events::sweep`]).
    SweepEvents,
    /// Delete finished jobs from the job storage.
    PruneJobs,
    /// Recompute the analytics roll-ups of the hospital-days touched since the last run.
    AnalyticsRollup,
}

impl Job {
    pub const ALL: [Job; 5] = [
        Job::AuditChainVerify,
        Job::PurgeRefreshTokens,
        Job::SweepEvents,
        Job::PruneJobs,
        Job::AnalyticsRollup,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Job::AuditChainVerify => "audit_chain_verify",
            Job::PurgeRefreshTokens => "purge_refresh_tokens",
            Job::SweepEvents => "sweep_events",
            Job::PruneJobs => "prune_jobs",
            Job::AnalyticsRollup => "analytics_rollup",
        }
    }
    pub fn every(self, cfg: &BeatConfig) -> chrono::Duration {
        match self {
            Job::AuditChainVerify => chrono::Duration::hours(1),
            Job::PurgeRefreshTokens => chrono::Duration::hours(6),
            Job::SweepEvents => {
                chrono::Duration::from_std(cfg.sweep_every).unwrap_or(chrono::Duration::seconds(30))
            }
            Job::PruneJobs => chrono::Duration::hours(1),
            Job::AnalyticsRollup => chrono::Duration::seconds(30),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BeatConfig {
    /// Unique per process (recorded as `last_run_by` of each slot it claims).
    pub id: String,
    /// Seconds between timer ticks; a divisor of 60 (it becomes the cron seconds field).
    pub tick_secs: u32,
    pub sweep_every: Duration,
}

impl BeatConfig {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            tick_secs: 5,
            sweep_every: Duration::from_secs(30),
        }
    }

    fn cron(&self) -> String {
        let s = self.tick_secs.clamp(1, 60);
        let s = if 60 % s == 0 { s } else { 5 };
        format!("*/{s} * * * * *")
    }
}

#[derive(Clone)]
struct BeatCtx {
    db: Db,
    queue: JobQueue,
    cfg: BeatConfig,
}

/// Claim every due slot at `at` and push the claimed jobs.
async fn tick_at(ctx: &BeatCtx, at: DateTime<Utc>) {
    for job in Job::ALL {
        match ctx
            .db
            .claim_schedule(job.name(), job.every(&ctx.cfg), &ctx.cfg.id, at)
            .await
        {
            Ok(true) => {
                metrics::counter!("px360_scheduled_runs_total", "job" => job.name()).increment(1);
                let m = Maintenance {
                    job,
                    slot: px360_store::ts(at),
                };
                if let Err(e) = ctx.queue.push_maintenance(m).await {
                    // The slot is spent; the job runs again next period.
                    tracing::error!(job = job.name(), error = %e, "beat.push_failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(job = job.name(), error = %e, "beat.claim_failed"),
        }
    }
}

async fn on_tick(tick: Tick, ctx: Data<BeatCtx>) -> Result<(), BoxDynError> {
    let at = i64::try_from(tick.get_timestamp())
        .ok()
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .unwrap_or_else(Utc::now);
    tick_at(&ctx, at).await;
    Ok(())
}

/// Run the beat until `shutdown` turns true: one tick at start (due slots run without waiting
/// for the first timer tick), then on the cron timer.
pub async fn run(db: Db, queue: JobQueue, cfg: BeatConfig, shutdown: watch::Receiver<bool>) {
    let ctx = BeatCtx { db, queue, cfg };
    tick_at(&ctx, Utc::now().trunc_subsecs(0)).await;
    let schedule = match cron::Schedule::from_str(&ctx.cfg.cron()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "beat.bad_schedule");
            return;
        }
    };
    let stop = shutdown.clone();
    crate::supervise("beat", shutdown, move |restart| {
        let name = format!("{}-beat-{restart}", ctx.cfg.id);
        WorkerBuilder::new(name)
            .backend(CronScheduler::new(schedule.clone()))
            .data(ctx.clone())
            .build(on_tick)
            .run_until(crate::stop_signal(stop.clone()))
    })
    .await;
}
