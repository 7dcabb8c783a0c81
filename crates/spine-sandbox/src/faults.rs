//! Latency and failure injection per API, for reliability and load tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;

/// Which sandbox API a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Token,
    Pds,
    Sds,
    GpConnect,
}

/// Added latency and a share of requests answered with `failure_status`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    pub latency_ms: u64,
    /// 0.0 (never) to 1.0 (always); failures are spread evenly, not random, so tests repeat.
    pub failure_rate: f64,
    pub failure_status: u16,
}

impl Default for Fault {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            failure_rate: 0.0,
            failure_status: 503,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub token: Fault,
    pub pds: Fault,
    pub sds: Fault,
    pub gpconnect: Fault,
}

impl FaultConfig {
    pub(crate) fn get(&self, api: Api) -> &Fault {
        match api {
            Api::Token => &self.token,
            Api::Pds => &self.pds,
            Api::Sds => &self.sds,
            Api::GpConnect => &self.gpconnect,
        }
    }
    pub(crate) fn set(&mut self, api: Api, fault: Fault) {
        match api {
            Api::Token => self.token = fault,
            Api::Pds => self.pds = fault,
            Api::Sds => self.sds = fault,
            Api::GpConnect => self.gpconnect = fault,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters([AtomicU64; 4]);

impl Counters {
    fn next(&self, api: Api) -> u64 {
        let i = match api {
            Api::Token => 0,
            Api::Pds => 1,
            Api::Sds => 2,
            Api::GpConnect => 3,
        };
        self.0[i].fetch_add(1, Ordering::Relaxed)
    }
}

/// Sleeps the injected latency; `Some(status)` when this request is to fail.
pub(crate) async fn apply(
    config: &tokio::sync::RwLock<FaultConfig>,
    counters: &Counters,
    api: Api,
) -> Option<u16> {
    let fault = config.read().await.get(api).clone();
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    let rate = fault.failure_rate.clamp(0.0, 1.0);
    if rate <= 0.0 {
        return None;
    }
    // Request n fails when floor((n+1)·rate) steps up: exactly `rate` of requests, evenly spaced.
    let n = counters.next(api) as f64;
    ((((n + 1.0) * rate).floor() - (n * rate).floor()) >= 1.0).then_some(fault.failure_status)
}
