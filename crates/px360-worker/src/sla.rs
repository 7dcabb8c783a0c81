//! The SLA scheduler: every `every` (default 15 s) each worker process scans the due SLA clocks
//! (`Db::sla_scan`), so a breach is detected within `every` plus one scan of its due moment,
//! well inside the 60 s the issue asks for. Several workers run it at once safely: on
//! PostgreSQL they claim disjoint clocks (`SKIP LOCKED`) and each escalation step is recorded
//! once by its unique key, whoever evaluates it.

use chrono::Utc;
use px360_store::Db;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct SlaConfig {
    /// Names the worker in `sla_escalations.recorded_by` and the audit log.
    pub id: String,
    pub every: Duration,
    /// Clocks per scan transaction.
    pub batch: i64,
}

impl SlaConfig {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            every: Duration::from_secs(15),
            batch: 200,
        }
    }
}

/// Scan until nothing due is left (a full batch means more may be waiting).
pub async fn scan_once(db: &Db, cfg: &SlaConfig) -> px360_store::Result<usize> {
    let mut total = 0;
    loop {
        let out = db.sla_scan(Utc::now(), cfg.batch, &cfg.id).await?;
        total += out.evaluated;
        if out.escalations > 0 {
            metrics::counter!("px360_sla_escalations_total").increment(out.escalations as u64);
        }
        if out.evaluated < usize::try_from(cfg.batch).unwrap_or(0) {
            return Ok(total);
        }
    }
}

pub async fn run(db: Db, cfg: SlaConfig, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(cfg.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = scan_once(&db, &cfg).await {
            tracing::warn!(error = %e, "sla.scan_failed");
        }
    }
}
