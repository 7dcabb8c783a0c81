//! PX360 process wiring: `serve` (API, web UI, worker and beat in one process) and `worker`
//! (workers and beat only), shared by the binary and the integration tests.

pub mod analytics_cli;
pub mod audit;

use px360_api::{ApiConfig, AppState};
use px360_store::Db;
use px360_worker::beat::BeatConfig;
use px360_worker::queue::JobQueue;
use px360_worker::{QueueConfig, WorkerConfig};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Resolve the database URL: `PX360_DATABASE_URL` if set, else SQLite in the data directory.
pub fn database_url(explicit: Option<&str>, data_dir: &std::path::Path) -> anyhow::Result<String> {
    match explicit {
        Some(u) => Ok(u.to_owned()),
        None => {
            std::fs::create_dir_all(data_dir)?;
            Ok(format!("sqlite://{}", data_dir.join("px360.db").display()))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub worker_id: String,
    pub worker_concurrency: Option<usize>,
    /// Events applied per transaction (default 64).
    pub worker_batch: Option<usize>,
    pub worker_hold: Option<Duration>,
    pub run_beat: bool,
    /// SQLite only: the apalis jobs file (default `<app>-jobs.db` next to the app database).
    pub jobs_url: Option<String>,
    pub queue: QueueConfig,
    /// Beat timer period (seconds, a divisor of 60).
    pub beat_tick_secs: u32,
    pub sweep_every: Duration,
    pub sweep_grace: Duration,
    pub api: ApiConfig,
    /// Audit chain key, checkpoints and verification (None: unkeyed chain, no checkpoints).
    pub audit: Option<audit::AuditOptions>,
    /// Survey trigger and delivery (default: local outbox only, nothing sent anywhere).
    pub surveys: px360_worker::surveys::SurveyConfig,
}

impl Options {
    pub fn new(role: &str) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Self {
            worker_id: format!("{role}-{host}-{}-{}", std::process::id(), &uuid_suffix()),
            worker_concurrency: None,
            worker_batch: None,
            worker_hold: None,
            run_beat: true,
            jobs_url: None,
            queue: QueueConfig::default(),
            beat_tick_secs: 5,
            sweep_every: Duration::from_secs(30),
            sweep_grace: Duration::from_secs(60),
            api: ApiConfig::default(),
            audit: None,
            surveys: px360_worker::surveys::SurveyConfig::default(),
        }
    }

    pub fn worker_config(&self, db: &Db) -> WorkerConfig {
        let mut c = WorkerConfig::new(self.worker_id.clone(), db.backend);
        if let Some(n) = self.worker_concurrency {
            c.concurrency = n;
        }
        if let Some(n) = self.worker_batch {
            c.batch = n.clamp(1, 1000);
        }
        c.hold = self.worker_hold;
        c.sweep_grace = self.sweep_grace;
        c
    }

    fn beat_config(&self) -> BeatConfig {
        let mut c = BeatConfig::new(self.worker_id.clone());
        c.tick_secs = self.beat_tick_secs;
        c.sweep_every = self.sweep_every;
        c
    }
}

fn uuid_suffix() -> String {
    px360_store::new_id()[24..].to_owned()
}

/// Open (create, migrate) the job storage that belongs to the application database `url`.
pub async fn open_jobs(url: &str, opts: &Options) -> anyhow::Result<JobQueue> {
    Ok(JobQueue::open(url, opts.jobs_url.as_deref(), opts.queue.clone()).await?)
}

/// Background tasks of a process: workers, beat, gauges.
fn spawn_background(
    db: &Db,
    jobs: &JobQueue,
    opts: &Options,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut v = vec![
        tokio::spawn(px360_worker::run(
            db.clone(),
            jobs.clone(),
            opts.worker_config(db),
            stop.clone(),
        )),
        tokio::spawn(px360_worker::stats_loop(
            db.clone(),
            jobs.clone(),
            stop.clone(),
        )),
    ];
    if opts.worker_concurrency != Some(0) {
        match px360_worker::surveys::SurveyWorker::new(
            db.clone(),
            opts.worker_id.clone(),
            opts.surveys.clone(),
        ) {
            Ok(w) => v.push(tokio::spawn(px360_worker::surveys::run(
                std::sync::Arc::new(w),
                stop.clone(),
            ))),
            // Checked at start-up by `load_survey_delivery`; a failure here is a bug.
            Err(e) => tracing::error!(error = %e, "survey.worker_not_started"),
        }
    }
    // SLA breach scan: in every worker process (claims are disjoint, escalation is idempotent).
    v.push(tokio::spawn(px360_worker::sla::run(
        db.clone(),
        px360_worker::sla::SlaConfig::new(opts.worker_config(db).id),
        stop.clone(),
    )));
    // Negative survey responses → PX actions, and the email of notifications: in every worker
    // process (claims are disjoint; an event raises one action; an email is claimed under a lease).
    if opts.worker_concurrency != Some(0) {
        v.push(tokio::spawn(px360_worker::actions::run(
            db.clone(),
            px360_worker::actions::ActionsConfig::new(opts.worker_config(db).id),
            stop.clone(),
        )));
        let notify = px360_worker::notify::NotifyConfig {
            public_base_url: opts.surveys.public_base_url.clone(),
            delivery: opts.surveys.delivery.clone(),
            ..Default::default()
        };
        match px360_worker::notify::Notifier::new(db.clone(), notify) {
            Ok(n) => v.push(tokio::spawn(px360_worker::notify::run(
                std::sync::Arc::new(n),
                stop.clone(),
            ))),
            Err(e) => tracing::error!(error = %e, "notify.worker_not_started"),
        }
    }
    if opts.run_beat {
        v.push(tokio::spawn(px360_worker::beat::run(
            db.clone(),
            jobs.clone(),
            opts.beat_config(),
            stop.clone(),
        )));
    }
    v
}

/// Serve API + worker + beat on `listener` until `shutdown` resolves; in-flight jobs finish.
pub async fn serve(
    db: Db,
    jobs: JobQueue,
    opts: Options,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let st = AppState::new(db.clone(), opts.api.clone(), jobs.clone()).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    // The key first: a record a background task appended before it was installed was hashed
    // unkeyed although the new key file covers it, and the chain failed verification (the demo's
    // weekly reports, audited in the first second of a fresh start, showed it).
    let mut tasks = Vec::new();
    if let Some(a) = &opts.audit {
        px360_store::audit::install(audit::load_key(&db, a, true).await?);
        px360_store::audit::reset_status();
        let v = audit::verify_at_start(&db).await;
        tasks.push(tokio::spawn(audit::run(
            db.clone(),
            a.clone(),
            v,
            stop_rx.clone(),
        )));
    }
    tasks.extend(spawn_background(&db, &jobs, &opts, &stop_rx));
    // The weekly report needs the API's report builders, hence here and not in the worker;
    // its slot is claimed in the `schedules` table, so it runs once across processes.
    if opts.run_beat {
        tasks.push(tokio::spawn(px360_api::weekly_report::run(
            st.clone(),
            opts.worker_id.clone(),
            stop_rx.clone(),
        )));
    }
    // Outermost, over API and web alike: every answer names its request id (service-kit).
    let app = px360_api::router(st.clone())
        .merge(px360_web::router(st))
        .layer(axum::middleware::from_fn(service_kit::request::context));
    tracing::info!(addr = %listener.local_addr()?, worker = %opts.worker_id, jobs = jobs.backend(), "px360.listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Workers (and beat) only: several such processes can share one database.
pub async fn work(
    db: Db,
    jobs: JobQueue,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Workers append audit records too, so they hash with the serving process's key (the same
    // key file, shared with every process); only `serve` creates it on a first start. A worker
    // without it would append records that fail verification, which reads as tampering, so it
    // refuses to start instead.
    if let Some(a) = &opts.audit {
        let key = audit::load_key(&db, a, false).await.map_err(|e| {
            anyhow::anyhow!(
                "{e}: every worker needs the serving process's audit key file (PX360_AUDIT_KEY_FILE); start `px360 serve` once to create it"
            )
        })?;
        px360_store::audit::install(key);
    }
    let tasks = spawn_background(&db, &jobs, &opts, &stop_rx);
    tracing::info!(worker = %opts.worker_id, jobs = jobs.backend(), "px360.worker_started");
    shutdown.await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// SIGINT or SIGTERM (service-kit).
pub use service_kit::shutdown_signal;

/// Read the survey delivery providers from a TOML file (`[email]`, `[sms]`, `[whatsapp]`,
/// `[rate_limits]`, `[retry]` of `px360_delivery::DeliveryConfig`; see the README, PX360
/// "Surveys") and check that they can be built. Without a file every channel delivers to the
/// local outbox.
pub fn load_survey_delivery(
    path: Option<&std::path::Path>,
) -> anyhow::Result<px360_delivery::DeliveryConfig> {
    let cfg: px360_delivery::DeliveryConfig = match path {
        None => Default::default(),
        Some(p) => config::Config::builder()
            .add_source(config::File::from(p).format(config::FileFormat::Toml))
            .build()?
            .try_deserialize()?,
    };
    px360_delivery::Providers::from_config(&cfg)?;
    cfg.buckets(std::time::Instant::now())?;
    Ok(cfg)
}
