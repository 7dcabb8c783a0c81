//! A local stand-in for the NHS Spine APIs the gateway uses, built from `../shared/fixtures`:
//! PDS FHIR R4, SDS FHIR R4, the NHS API platform OAuth token endpoint, and GP Connect Access
//! Record Structured behind a Spine Secure Proxy, on the same URL paths as the real services.
//!
//! It validates what clients send the way the NHS APIs do (signed client assertions against the
//! registered JWKS, access tokens, `X-Request-ID`, the `apikey`, the `Ssp-*` headers, the GP
//! Connect JWT claims and the `Parameters` body) and answers with their OperationOutcome errors.
//! Scenario patients exercise the unhappy paths, and latency / failures can be injected per API
//! (at start-up or at run time through [`SandboxHandle::set_fault`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let handle = spine_sandbox::Sandbox::start(spine_sandbox::SandboxConfig::default()).await?;
//! println!("PDS at {}", handle.pds_base_url());
//! handle.shutdown().await;
//! # Ok(()) }
//! ```

mod faults;
mod fixtures;
mod gpconnect;
mod jwt_check;
mod oauth;
mod outcome;
mod pds;
mod pds_search;
mod sds;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

pub use faults::{Api, Fault};
pub use fixtures::{FixtureError, SandboxPatient};

/// The fixtures next to the repository (`../shared/fixtures` from the workspace root).
pub const DEFAULT_FIXTURES_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

/// Path prefixes, as on the NHS API platform.
pub const PDS_PATH: &str = "/personal-demographics/FHIR/R4";
pub const SDS_PATH: &str = "/spine-directory/FHIR/R4";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const SSP_PATH: &str = "/ssp";

/// How to run the sandbox. `Default` is the quick start: loopback, random port, default
/// fixtures, no client keys registered (register the JWKS of your key before using PDS).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    pub fixtures_dir: PathBuf,
    /// API key accepted as `apikey` (SDS) and as `iss`/`sub` of client assertions (OAuth).
    pub api_key: String,
    /// JWKS of the clients' public keys, used to verify client assertions.
    pub jwks: Option<serde_json::Value>,
    /// Access token lifetime (the NHS platform issues 599 s).
    pub token_lifetime_secs: u64,
    /// Consumer ASIDs allowed as `Ssp-From`; empty allows any.
    pub consumer_asids: Vec<String>,
    /// Delay of the "slow GP Connect" scenario patient.
    pub slow_delay_ms: u64,
    pub faults: faults::FaultConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            fixtures_dir: std::env::var_os("SPINE_SANDBOX_FIXTURES")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_FIXTURES_DIR)),
            api_key: "sandbox-api-key".into(),
            jwks: None,
            token_lifetime_secs: 599,
            consumer_asids: Vec::new(),
            slow_delay_ms: 5_000,
            faults: faults::FaultConfig::default(),
        }
    }
}

/// Request counters, for tests and the `/_sandbox/stats` page.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    tokens_issued: AtomicU64,
    pds: AtomicU64,
    sds: AtomicU64,
    gpconnect: AtomicU64,
}

/// A snapshot of what the sandbox has served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub tokens_issued: u64,
    pub pds_requests: u64,
    pub sds_requests: u64,
    pub gpconnect_requests: u64,
}

pub(crate) struct AppState {
    pub base_url: String,
    pub config: SandboxConfig,
    pub dir: fixtures::Directory,
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    pub tokens: oauth::TokenStore,
    pub faults: RwLock<faults::FaultConfig>,
    pub fault_counters: faults::Counters,
    pub counters: Counters,
    pub flaky: Mutex<std::collections::HashMap<String, u64>>,
}

impl AppState {
    pub(crate) fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url)
    }
    pub(crate) fn endpoint_address(&self, ods: &str) -> String {
        endpoint_address(&self.base_url, ods)
    }
}

fn endpoint_address(base: &str, ods: &str) -> String {
    format!("{base}/gpc/{ods}/STU3/1/gpconnect/structured/fhir")
}

/// Why the sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the JWKS is not valid: {0}")]
    Jwks(String),
}

pub struct Sandbox;

impl Sandbox {
    /// Loads the fixtures, binds and serves in the background.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, StartError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = fixtures::Directory::load(&config.fixtures_dir)?;
        let jwks = match &config.jwks {
            Some(v) => Some(
                serde_json::from_value::<jsonwebtoken::jwk::JwkSet>(v.clone())
                    .map_err(|e| StartError::Jwks(e.to_string()))?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let state = Arc::new(AppState {
            base_url: base_url.clone(),
            faults: RwLock::new(config.faults.clone()),
            config,
            dir,
            jwks,
            tokens: oauth::TokenStore::default(),
            fault_counters: faults::Counters::default(),
            counters: Counters::default(),
            flaky: Mutex::new(Default::default()),
        });
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        tracing::info!(%base_url, "spine sandbox listening");
        Ok(SandboxHandle {
            state,
            addr,
            shutdown: Some(tx),
            server,
        })
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(oauth::token))
        .route(
            &format!("{PDS_PATH}/Patient/{{id}}"),
            get(pds::read_patient),
        )
        .route(&format!("{PDS_PATH}/Patient"), get(pds_search::search))
        .route(&format!("{SDS_PATH}/Device"), get(sds::devices))
        .route(&format!("{SDS_PATH}/Endpoint"), get(sds::endpoints))
        .route(&format!("{SSP_PATH}/{{*target}}"), post(gpconnect::via_ssp))
        .route(
            "/gpc/{ods}/STU3/1/gpconnect/structured/fhir/Patient/$gpc.getstructuredrecord",
            post(gpconnect::direct),
        )
        .route("/_sandbox/patients", get(patients_page))
        .route("/_sandbox/stats", get(stats_page))
        .with_state(state)
}

async fn patients_page(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> axum::Json<Vec<SandboxPatient>> {
    axum::Json(
        state
            .dir
            .patients
            .values()
            .map(|p| p.info.clone())
            .collect(),
    )
}

async fn stats_page(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> axum::Json<Stats> {
    axum::Json(stats(&state))
}

fn stats(state: &AppState) -> Stats {
    let c = &state.counters;
    Stats {
        tokens_issued: c.tokens_issued.load(Ordering::Relaxed),
        pds_requests: c.pds.load(Ordering::Relaxed),
        sds_requests: c.sds.load(Ordering::Relaxed),
        gpconnect_requests: c.gpconnect.load(Ordering::Relaxed),
    }
}

/// A running sandbox. Dropping it without [`SandboxHandle::shutdown`] aborts the server.
pub struct SandboxHandle {
    state: Arc<AppState>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }
    pub fn pds_base_url(&self) -> String {
        format!("{}{PDS_PATH}", self.state.base_url)
    }
    pub fn sds_base_url(&self) -> String {
        format!("{}{SDS_PATH}", self.state.base_url)
    }
    pub fn token_url(&self) -> String {
        self.state.token_url()
    }
    /// The Spine Secure Proxy prefix: `{ssp_url}/{provider FHIR base}/Patient/$gpc…`.
    pub fn ssp_url(&self) -> String {
        format!("{}{SSP_PATH}", self.state.base_url)
    }
    /// The GP Connect FHIR base URL SDS gives for a practice.
    pub fn endpoint_address(&self, ods: &str) -> String {
        self.state.endpoint_address(ods)
    }
    /// The ASID SDS gives for a practice.
    pub fn practice_asid(&self, ods: &str) -> Option<String> {
        self.state.dir.practices.get(ods).map(|p| p.asid.clone())
    }
    pub fn api_key(&self) -> &str {
        &self.state.config.api_key
    }
    /// Every patient the sandbox knows, with its scenario.
    pub fn patients(&self) -> Vec<SandboxPatient> {
        self.state
            .dir
            .patients
            .values()
            .map(|p| p.info.clone())
            .collect()
    }
    pub fn stats(&self) -> Stats {
        stats(&self.state)
    }
    /// Changes latency / failure injection of one API while running.
    pub async fn set_fault(&self, api: Api, fault: Fault) {
        self.state.faults.write().await.set(api, fault);
    }

    /// Stops accepting, lets in-flight requests finish for up to a second, then aborts.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let server = &mut self.server;
        if tokio::time::timeout(Duration::from_secs(1), &mut *server)
            .await
            .is_err()
        {
            server.abort();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.server.abort();
    }
}
