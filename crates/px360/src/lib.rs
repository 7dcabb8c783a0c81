//! PX360 process wiring: `serve` (API + worker + beat in one process) and `worker` (workers
//! and beat only), shared by the binary and the integration tests.

use px360_api::{ApiConfig, AppState};
use px360_store::Db;
use px360_worker::WorkerConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

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
    pub worker_hold: Option<Duration>,
    pub run_beat: bool,
    pub api: ApiConfig,
}

impl Options {
    pub fn new(role: &str) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Self {
            worker_id: format!("{role}-{host}-{}-{}", std::process::id(), &uuid_suffix()),
            worker_concurrency: None,
            worker_hold: None,
            run_beat: true,
            api: ApiConfig::default(),
        }
    }
    fn worker_config(&self, db: &Db) -> WorkerConfig {
        let mut c = WorkerConfig::new(self.worker_id.clone(), db.backend);
        if let Some(n) = self.worker_concurrency {
            c.concurrency = n;
        }
        c.hold = self.worker_hold;
        c
    }
}

fn uuid_suffix() -> String {
    px360_store::new_id()[24..].to_owned()
}

/// Background tasks of a process: worker loops, beat, gauges.
fn spawn_background(
    db: &Db,
    opts: &Options,
    wake: Arc<Notify>,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut v = vec![
        tokio::spawn(px360_worker::run(
            db.clone(),
            opts.worker_config(db),
            wake,
            stop.clone(),
        )),
        tokio::spawn(px360_worker::stats_loop(db.clone(), stop.clone())),
    ];
    if opts.run_beat {
        v.push(tokio::spawn(px360_worker::beat::run(
            db.clone(),
            opts.worker_id.clone(),
            Duration::from_secs(5),
            stop.clone(),
        )));
    }
    v
}

/// Serve API + worker + beat on `listener` until `shutdown` resolves; in-flight jobs finish.
pub async fn serve(
    db: Db,
    opts: Options,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let wake = Arc::new(Notify::new());
    let st = AppState::new(db.clone(), opts.api.clone(), wake.clone()).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks = spawn_background(&db, &opts, wake, &stop_rx);
    let app = px360_api::router(st);
    tracing::info!(addr = %listener.local_addr()?, worker = %opts.worker_id, "px360.listening");
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

/// Workers (and beat) only: several such processes can share one PostgreSQL.
pub async fn work(
    db: Db,
    opts: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks = spawn_background(&db, &opts, Arc::new(Notify::new()), &stop_rx);
    tracing::info!(worker = %opts.worker_id, "px360.worker_started");
    shutdown.await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// SIGINT or SIGTERM (service-kit).
pub use service_kit::shutdown_signal;
