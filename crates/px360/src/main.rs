//! `px360`: serve (default), worker, audit verify, migrate.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "px360", about = "PX360 patient-experience platform")]
struct Cli {
    /// PostgreSQL URL (postgres://…); without it an embedded SQLite database in --data-dir is used.
    #[arg(
        long,
        env = "PX360_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    #[arg(
        long,
        env = "PX360_DATA_DIR",
        default_value = "px360-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Event jobs applied at once per process (default: 1 on SQLite, 4 on PostgreSQL; 0 = API only).
    #[arg(long, env = "PX360_WORKER_CONCURRENCY", global = true)]
    worker_concurrency: Option<usize>,
    /// Events applied per worker transaction (default 64, at most 1000): larger batches cost
    /// fewer statements per event; smaller ones hold the SQLite writer for less time.
    #[arg(long, env = "PX360_WORKER_BATCH", global = true)]
    worker_batch: Option<usize>,
    /// SQLite only: the apalis jobs database (default: px360-jobs.db next to px360.db).
    #[arg(long, env = "PX360_JOBS_DATABASE_URL", global = true)]
    jobs_database_url: Option<String>,
    /// Worker heartbeat in seconds; a worker silent for 3 heartbeats is dead and its jobs are
    /// re-enqueued.
    #[arg(
        long,
        env = "PX360_JOB_HEARTBEAT_SECS",
        global = true,
        default_value_t = 10
    )]
    job_heartbeat_secs: u64,
    /// How often the sweeper looks for events whose job was lost, in seconds.
    #[arg(
        long,
        env = "PX360_SWEEP_EVERY_SECS",
        global = true,
        default_value_t = 30
    )]
    sweep_every_secs: u64,
    /// Events still unprocessed this many seconds after arrival are re-enqueued by the sweeper.
    #[arg(
        long,
        env = "PX360_SWEEP_GRACE_SECS",
        global = true,
        default_value_t = 60
    )]
    sweep_grace_secs: u64,
    /// Do not run the scheduler (beat) in this process (safe either way: slots are claimed in
    /// the database).
    #[arg(long, env = "PX360_NO_BEAT", global = true)]
    no_beat: bool,
    /// Test hook: hold each claimed event batch this many milliseconds before applying it.
    #[arg(long, env = "PX360_WORKER_HOLD_MS", global = true, hide = true)]
    worker_hold_ms: Option<u64>,
    /// OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces (off when unset).
    #[arg(long, env = "PX360_OTLP_ENDPOINT", global = true)]
    otlp_endpoint: Option<String>,
    /// Audit chain key file (created 0600 on first start; keep it outside the database and
    /// back it up). Default: audit.key in the data directory.
    #[arg(long, env = "PX360_AUDIT_KEY_FILE", global = true)]
    audit_key_file: Option<PathBuf>,
    /// Append-only file of signed audit checkpoints. Default: audit-checkpoints.log in the
    /// data directory.
    #[arg(long, env = "PX360_AUDIT_CHECKPOINT_FILE", global = true)]
    audit_checkpoint_file: Option<PathBuf>,
    /// Seconds between audit checkpoints (written only when the head moved).
    #[arg(
        long,
        env = "PX360_AUDIT_CHECKPOINT_SECS",
        global = true,
        default_value_t = 10
    )]
    audit_checkpoint_secs: u64,
    /// Seconds between incremental audit chain verifications (a full one runs at start).
    #[arg(
        long,
        env = "PX360_AUDIT_VERIFY_SECS",
        global = true,
        default_value_t = 300
    )]
    audit_verify_secs: u64,
    /// Public base URL of this installation: survey links (`/s/{token}`) and the provider
    /// callback URLs that Twilio signs are built from it.
    #[arg(
        long,
        env = "PX360_PUBLIC_URL",
        global = true,
        default_value = "http://localhost:8001"
    )]
    public_url: String,
    /// Survey delivery providers (TOML; see README "Surveys"). Unset: every channel delivers to
    /// the local outbox and nothing is sent anywhere.
    #[arg(long, env = "PX360_SURVEY_DELIVERY", global = true)]
    survey_delivery: Option<PathBuf>,
    /// Meta app secret: checks X-Hub-Signature-256 of WhatsApp webhooks (unset: endpoint off).
    #[arg(
        long,
        env = "PX360_META_APP_SECRET",
        global = true,
        hide_env_values = true
    )]
    meta_app_secret: Option<String>,
    /// Meta webhook verify token (the GET subscription handshake).
    #[arg(
        long,
        env = "PX360_META_VERIFY_TOKEN",
        global = true,
        hide_env_values = true
    )]
    meta_verify_token: Option<String>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// API, web and worker in one process (default).
    Serve {
        #[arg(long, env = "PX360_LISTEN", default_value = "0.0.0.0:8001")]
        listen: String,
        /// Login attempts allowed in a burst per client IP.
        #[arg(long, env = "PX360_LOGIN_BURST", default_value_t = 10)]
        login_burst: u32,
        /// Integration events allowed in a burst per client IP.
        #[arg(long, env = "PX360_EVENTS_BURST", default_value_t = 20_000)]
        events_burst: u32,
        /// Sustained integration events per second per client IP.
        #[arg(long, env = "PX360_EVENTS_PER_SECOND", default_value_t = 10_000)]
        events_per_second: u64,
        /// Reverse proxies (comma-separated CIDRs or addresses) whose `X-Forwarded-For` /
        /// `Forwarded` headers name the client for rate limits and the audit log. Empty: the
        /// peer address is the client and those headers are ignored.
        #[arg(long, env = "PX360_TRUSTED_PROXIES", default_value = "",
              value_parser = px360_api::client_ip::TrustedProxies::parse)]
        trusted_proxies: px360_api::client_ip::TrustedProxies,
    },
    /// Workers and scheduler only (share one PostgreSQL between machines).
    Worker,
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Run migrations and exit.
    Migrate,
    /// Analytics roll-ups: rebuild, refresh, synthetic data and the tile benchmark.
    Analytics {
        #[command(subcommand)]
        cmd: AnalyticsCmd,
    },
}

#[derive(Subcommand)]
enum AnalyticsCmd {
    /// Delete every roll-up row and recompute all of them from the raw responses.
    Rebuild,
    /// Recompute the hospital-days touched since the last refresh (what the scheduler runs).
    Refresh,
    /// Insert synthetic invitations and responses (demo seed needed; seeded if missing).
    Generate {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Spread over this many days before now.
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[arg(long, default_value_t = 17)]
        seed: u64,
    },
    /// Time the dashboard tile queries (p50/p95/max per query).
    Bench {
        #[arg(long, default_value_t = 50)]
        iterations: usize,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the audit hash chain end to end against the key and the newest checkpoint;
    /// exit status 1 when broken, 2 when the database is missing or empty.
    Verify {
        /// Verify a chain that was never keyed (no key file): detects accidental damage only.
        #[arg(long)]
        allow_unkeyed: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::crypto::install_default_provider();
    let cli = Cli::parse();
    let _telemetry = service_kit::telemetry::init(
        "px360",
        &service_kit::telemetry::TelemetryConfig {
            filter: "info,sqlx=warn".into(),
            otlp_endpoint: cli.otlp_endpoint.clone(),
            ..Default::default()
        },
    )?;
    if matches!(cli.cmd, Some(Cmd::Audit { .. })) {
        // Verifying must never create the database it is asked about.
        if let Err(e) =
            px360::audit::check_database_exists(cli.database_url.as_deref(), &cli.data_dir)
        {
            eprintln!("audit chain NOT VERIFIED: {e}");
            std::process::exit(2);
        }
    }
    let url = px360::database_url(cli.database_url.as_deref(), &cli.data_dir)?;
    let db = px360_store::Db::connect(&url).await?;
    let role = match &cli.cmd {
        Some(Cmd::Worker) => "worker",
        _ => "serve",
    };
    let mut opts = px360::Options::new(role);
    opts.worker_concurrency = cli.worker_concurrency;
    opts.worker_batch = cli.worker_batch;
    opts.worker_hold = cli.worker_hold_ms.map(Duration::from_millis);
    opts.run_beat = !cli.no_beat;
    opts.jobs_url = cli.jobs_database_url.clone();
    opts.queue.heartbeat = Duration::from_secs(cli.job_heartbeat_secs.max(1));
    opts.sweep_every = Duration::from_secs(cli.sweep_every_secs.max(1));
    opts.sweep_grace = Duration::from_secs(cli.sweep_grace_secs);
    opts.surveys.public_base_url = cli.public_url.clone();
    opts.surveys.delivery = px360::load_survey_delivery(cli.survey_delivery.as_deref())?;
    opts.api.surveys.public_base_url = cli.public_url.clone();
    if let Some(px360_delivery::SmsProviderConfig::Twilio(t)) = &opts.surveys.delivery.sms {
        opts.api.surveys.twilio_auth_token = Some(t.auth_token.clone());
    }
    opts.api.surveys.meta_app_secret = cli.meta_app_secret.clone().map(secrecy::SecretString::from);
    opts.api.surveys.meta_verify_token = cli
        .meta_verify_token
        .clone()
        .map(secrecy::SecretString::from);
    // Complaint and action attachments live next to the other data, outside the database.
    opts.api.attachments_dir = cli.data_dir.join("attachments");
    // Created and migrated on every start, as the application database is.
    let mut audit = px360::audit::AuditOptions::in_dir(&cli.data_dir);
    if let Some(p) = cli.audit_key_file {
        audit.key_file = p;
    }
    if let Some(p) = cli.audit_checkpoint_file {
        audit.checkpoint_file = p;
    }
    audit.checkpoint_every = Duration::from_secs(cli.audit_checkpoint_secs.max(1));
    audit.verify_every = Duration::from_secs(cli.audit_verify_secs.max(1));
    if let Some(Cmd::Audit {
        cmd: AuditCmd::Verify { allow_unkeyed },
    }) = &cli.cmd
    {
        return px360::audit::verify_command(&db, &audit, *allow_unkeyed).await;
    }
    opts.audit = Some(audit);
    if let Some(Cmd::Analytics { cmd }) = &cli.cmd {
        use px360::analytics_cli;
        match cmd {
            AnalyticsCmd::Rebuild => {
                let r = db.analytics_rebuild().await?;
                println!("rebuilt {} hospital-days, {} rows", r.days, r.rows);
            }
            AnalyticsCmd::Refresh => {
                let r = db.analytics_refresh().await?;
                println!("refreshed {} hospital-days, {} rows", r.days, r.rows);
            }
            AnalyticsCmd::Generate { count, days, seed } => {
                analytics_cli::generate(&db, *count, *days, *seed).await?;
            }
            AnalyticsCmd::Bench { iterations } => {
                analytics_cli::bench(&db, (*iterations).max(1)).await?;
            }
        }
        return Ok(());
    }
    let jobs = px360::open_jobs(&url, &opts).await?;
    match cli.cmd.unwrap_or(Cmd::Serve {
        listen: "0.0.0.0:8001".into(),
        login_burst: 10,
        events_burst: 20_000,
        events_per_second: 10_000,
        trusted_proxies: Default::default(),
    }) {
        Cmd::Serve {
            listen,
            login_burst,
            events_burst,
            events_per_second,
            trusted_proxies,
        } => {
            let admin = std::env::var("PX360_ADMIN_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let seeded = db.seed_demo(admin.as_deref()).await?;
            // Feedback, social mentions and the sentiment rule of the quick start (once).
            if db.seed_demo_voice().await? {
                tracing::info!("seeded demo feedback and social mentions");
            }
            if let Some(seed) = seeded {
                tracing::info!("seeded demo hospital group");
                if let Some(pw) = seed.generated_admin_password {
                    // Printed once on the console, never logged: it is not stored in clear anywhere.
                    println!(
                        "PX360 first start: admin account 'admin' created with password: {pw}"
                    );
                }
            }
            // Calls, callbacks and a QI project with sixteen weeks of data (own guard; not part
            // of the demo seed the test suites use).
            if db.seed_demo_callqi().await? {
                tracing::info!("seeded demo call centre and QI project");
            }
            // Two managers subscribed to the weekly report (own guard; not in the demo seed).
            if db.seed_demo_weekly().await? {
                tracing::info!("seeded demo weekly report subscribers");
            }
            // Callbacks taken before they had SLA clocks get theirs. Not fatal: a replica
            // starting at the same moment may have started the same clock first.
            match db.start_missing_callback_clocks().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(callbacks = n, "sla.callback_clocks_started"),
                Err(e) => tracing::warn!(error = %e, "sla.callback_clocks_not_started"),
            }
            opts.api.login_burst = login_burst.max(1);
            opts.api.events_burst = events_burst.max(1);
            opts.api.events_period = Duration::from_nanos(1_000_000_000 / events_per_second.max(1));
            opts.api.trusted_proxies = trusted_proxies;
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            px360::serve(db, jobs, opts, listener, px360::shutdown_signal()).await
        }
        Cmd::Worker => px360::work(db, jobs, opts, px360::shutdown_signal()).await,
        Cmd::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Cmd::Audit { .. } | Cmd::Analytics { .. } => Ok(()),
    }
}
