//! The action centre's consumer: negative survey responses (`survey.response.negative` events)
//! become PX actions with an owner, an SLA clock and a notification (see
//! `px360_store::action_rules`). Polls every `poll` (default 250 ms), so an answer becomes an
//! action within a poll plus one transaction; safe in every worker process at once.

use chrono::Utc;
use px360_store::Db;
use px360_store::action_rules::ConsumeOutcome;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct ActionsConfig {
    /// Recorded as `consumed_by` and in the audit log.
    pub id: String,
    pub poll: Duration,
    /// Events per transaction.
    pub batch: i64,
}

impl ActionsConfig {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            poll: Duration::from_millis(250),
            batch: 100,
        }
    }
}

/// Consume until nothing is left (a full batch means more may be waiting).
pub async fn consume_once(db: &Db, cfg: &ActionsConfig) -> px360_store::Result<ConsumeOutcome> {
    let mut total = ConsumeOutcome::default();
    loop {
        let out = db
            .consume_survey_events(&cfg.id, Utc::now(), cfg.batch)
            .await?;
        total.consumed += out.consumed;
        total.actions += out.actions;
        total.notified += out.notified;
        if out.actions > 0 {
            metrics::counter!("px360_actions_from_surveys_total").increment(out.actions as u64);
        }
        if out.consumed < usize::try_from(cfg.batch).unwrap_or(0) {
            return Ok(total);
        }
    }
}

pub async fn run(db: Db, cfg: ActionsConfig, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = cfg.poll;
    while !*shutdown.borrow() {
        let pause = match consume_once(&db, &cfg).await {
            Ok(_) => {
                backoff = cfg.poll;
                cfg.poll
            }
            Err(e) => {
                tracing::warn!(error = %e, "actions.consume_failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
}
