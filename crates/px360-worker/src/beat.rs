//! Scheduled jobs (the Celery Beat role). Any number of processes may run the beat loop: each
//! slot is claimed with a compare-and-set in the database, so every job runs once per period.

use px360_store::Db;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Walk the audit hash chain and export the result as a gauge.
    AuditChainVerify,
    /// Delete refresh tokens that expired more than a day ago.
    PurgeRefreshTokens,
}

impl Job {
    pub const ALL: [Job; 2] = [Job::AuditChainVerify, Job::PurgeRefreshTokens];
    pub fn name(self) -> &'static str {
        match self {
            Job::AuditChainVerify => "audit_chain_verify",
            Job::PurgeRefreshTokens => "purge_refresh_tokens",
        }
    }
    pub fn every(self) -> chrono::Duration {
        match self {
            Job::AuditChainVerify => chrono::Duration::hours(1),
            Job::PurgeRefreshTokens => chrono::Duration::hours(6),
        }
    }
}

pub async fn run_job(db: &Db, job: Job) -> Result<(), px360_store::StoreError> {
    match job {
        Job::AuditChainVerify => {
            let ok = db.verify_audit_chain().await;
            metrics::gauge!("px360_audit_chain_ok").set(if ok.is_ok() { 1.0 } else { 0.0 });
            match ok {
                Ok(n) => tracing::info!(records = n, "audit.chain_ok"),
                Err(e) => tracing::error!(error = %e, "audit.chain_broken"),
            }
            Ok(())
        }
        Job::PurgeRefreshTokens => db.purge_refresh_tokens().await.map(|_| ()),
    }
}

/// Tick every `tick`, running each due job in the process that claims its slot.
pub async fn run(db: Db, me: String, tick: Duration, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        for job in Job::ALL {
            match db.claim_schedule(job.name(), job.every(), &me).await {
                Ok(true) => {
                    metrics::counter!("px360_scheduled_runs_total", "job" => job.name())
                        .increment(1);
                    if let Err(e) = run_job(&db, job).await {
                        tracing::warn!(job = job.name(), error = %e, "beat.job_failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job = job.name(), error = %e, "beat.claim_failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => {}
        }
    }
}
