//! Starting and stopping the gateway: used by `xhuma serve` and by the end-to-end tests, so
//! the tests exercise exactly what production runs.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{AppState, router};
use crate::audit::{AuditError, AuditLog};
use crate::cache::{AnyCache, CacheError};
use crate::config::Config;
use crate::flow::Flow;
use crate::pseudonym::{PseudonymError, Pseudonymiser};
use crate::security::TlsSetupError;
use crate::spine::{Spine, SpineSetupError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Pseudonym(#[from] PseudonymError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Spine(#[from] SpineSetupError),
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A running gateway.
pub struct Running {
    pub state: Arc<AppState>,
    pub addr: SocketAddr,
    pub tls: bool,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.addr.ip().is_unspecified() {
            format!("127.0.0.1:{}", self.addr.port())
        } else {
            self.addr.to_string()
        };
        format!("{scheme}://{host}")
    }

    /// Stops accepting, drains in-flight requests, flushes the audit trail and stops the
    /// sandbox.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        self.state.flow.audit.close().await;
    }

    /// Waits until the server stops (after [`Running::shutdown`] or `signal`).
    pub async fn serve_until(mut self, signal: impl Future<Output = ()>) {
        signal.await;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        self.state.flow.audit.close().await;
    }
}

/// Builds every part from `config` and starts serving.
pub async fn start(config: Config) -> Result<Running, StartError> {
    service_kit::crypto::install_default_provider();
    let _ = service_kit::metrics::install();
    // Also checked when the file is loaded; repeated here for callers that build a Config
    // in code, so nothing starts exposed by mistake.
    config.validate()?;
    if config.sandbox_mode() && !config.listen.ip().is_loopback() {
        tracing::warn!(
            listen = %config.listen,
            "SANDBOX MODE IS LISTENING ON A NON-LOOPBACK ADDRESS (sandbox.allow_non_loopback): \
             anyone who can reach it can query the synthetic patients"
        );
    }
    let config = Arc::new(config);
    let pseudo =
        Pseudonymiser::from_config_or_dir(config.audit.pseudonym_key.as_ref(), &config.data_dir)?;
    let cache = AnyCache::from_config(config.redis_url.as_ref(), &config.cache)?;
    let audit = AuditLog::open_with(
        config.database_url.as_ref(),
        &config.data_dir,
        config.audit.spool(&config.data_dir),
    )
    .await?;
    let spine = Arc::new(Spine::start(&config).await?);
    let flow = Arc::new(Flow::new(config.clone(), cache, audit, pseudo, spine));
    let state = Arc::new(AppState::new(flow));
    let rate = crate::security::rate_limit(config.limits.rate_per_second, config.limits.rate_burst);
    let app = router(state.clone(), rate);

    let tcp = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = tcp.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let (tx, rx) = oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    let tls = match &config.tls {
        Some(tls_cfg) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(
            crate::security::server_config(tls_cfg)?,
        ))),
        None => None,
    };
    let is_tls = tls.is_some();
    let limits = config.limits.clone();
    let task = tokio::spawn(crate::listen::serve(tcp, tls, app, limits, stop));
    let tls = is_tls;
    Ok(Running {
        state,
        addr,
        tls,
        shutdown: Some(tx),
        task,
    })
}

/// The sandbox patient that `examples/iti55-request.xml` asks for.
pub const EXAMPLE_NHS_NUMBER: &str = "9990000018";

/// What a user needs after start-up: endpoints, docs, metrics, and in sandbox mode a curl
/// command for a sandbox patient.
pub fn banner(r: &Running) -> String {
    let base = r.base_url();
    let mut s = format!(
        "Xhuma gateway listening on {base}\n\
         \n  SOAP endpoints (application/soap+xml or MTOM):\n\
         \x20   ITI-55 XCPD          {base}/SOAP/iti55\n\
         \x20   ITI-47 PDQv3         {base}/SOAP/iti47\n\
         \x20   ITI-38 XCA query     {base}/SOAP/iti38\n\
         \x20   ITI-39 XCA retrieve  {base}/SOAP/iti39\n\
         \n  API docs   {base}/docs   and   {base}/redoc\n\
         \x20 Metrics    {base}/metrics\n\
         \x20 Health     {base}/health/live   {base}/health/ready\n"
    );
    let flow = &r.state.flow;
    s.push_str(&format!(
        "  Cache: {}   Audit store: {} (data dir {})\n",
        crate::cache::CacheStore::backend(&flow.cache),
        flow.audit.backend(),
        flow.cfg.data_dir.display()
    ));
    if let Some(sandbox) = &flow.spine.sandbox {
        let patients = sandbox.patients();
        let example = patients.iter().find(|p| p.nhs_number == EXAMPLE_NHS_NUMBER);
        s.push_str(&format!(
            "\n  Mode: SANDBOX. The Spine stand-in runs in-process at {} with {} synthetic patients.\n",
            sandbox.base_url(),
            patients.len()
        ));
        if !r.addr.ip().is_loopback() {
            s.push_str(
                "\n  !!! WARNING: sandbox mode is listening on a non-loopback address \
                 (sandbox.allow_non_loopback = true).\n  !!! Anyone who can reach this port can \
                 query it. Use it only on a trusted test network.\n",
            );
        }
        if let Some(p) = example {
            s.push_str(&format!(
                "\n  Try it (from the repository root):\n\
                 \x20   curl -s -H 'Content-Type: application/soap+xml; charset=UTF-8' \\\n\
                 \x20        --data-binary @crates/xhuma/examples/iti55-request.xml {base}/SOAP/iti55\n\
                 \x20 The example asks for NHS number {}; a clinician's view of the same record:\n\
                 \x20   {base}/preview/{}\n",
                p.nhs_number, p.nhs_number
            ));
        }
    } else {
        s.push_str("\n  Mode: NHS Spine (configured endpoints).\n");
    }
    s
}
