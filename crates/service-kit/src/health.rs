//! Readiness reports: each dependency is checked and reported by name, so an operator sees
//! which one is failing rather than a bare 503.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The state of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Working with reduced capability (e.g. a cache is down but requests are still served).
    Degraded,
    Fail,
}

/// The result of checking one dependency.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub latency_ms: f64,
}

impl Check {
    pub fn ok(latency: Duration) -> Self {
        Self {
            status: Status::Ok,
            detail: None,
            latency_ms: latency.as_secs_f64() * 1000.0,
        }
    }

    pub fn with(status: Status, detail: impl Into<String>, latency: Duration) -> Self {
        Self {
            status,
            detail: Some(detail.into()),
            latency_ms: latency.as_secs_f64() * 1000.0,
        }
    }

    /// Times `probe` and maps its result: `Err(text)` becomes a failed check with that text.
    /// Texts must not contain secrets or patient data: they are served to anyone who can
    /// reach the health endpoint.
    pub async fn run<F, E>(probe: F) -> Self
    where
        F: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let started = Instant::now();
        match probe.await {
            Ok(()) => Self::ok(started.elapsed()),
            Err(e) => Self::with(Status::Fail, e.to_string(), started.elapsed()),
        }
    }
}

/// The whole readiness report: `fail` if any check failed, `degraded` if any is degraded.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub status: Status,
    pub checks: BTreeMap<String, Check>,
}

impl Report {
    pub fn new(checks: impl IntoIterator<Item = (String, Check)>) -> Self {
        let checks: BTreeMap<_, _> = checks.into_iter().collect();
        let status = if checks.values().any(|c| c.status == Status::Fail) {
            Status::Fail
        } else if checks.values().any(|c| c.status == Status::Degraded) {
            Status::Degraded
        } else {
            Status::Ok
        };
        Self { status, checks }
    }

    /// 200 when ok or degraded (still serving), 503 when a check failed.
    pub fn http_status(&self) -> StatusCode {
        match self.status {
            Status::Ok | Status::Degraded => StatusCode::OK,
            Status::Fail => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for Report {
    fn into_response(self) -> Response {
        (self.http_status(), Json(self)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_check_wins() {
        let r = Report::new([
            ("a".to_string(), Check::ok(Duration::ZERO)),
            (
                "b".to_string(),
                Check::with(Status::Degraded, "slow", Duration::ZERO),
            ),
        ]);
        assert_eq!(r.status, Status::Degraded);
        assert_eq!(r.http_status(), StatusCode::OK);
        let r = Report::new([
            ("a".to_string(), Check::ok(Duration::ZERO)),
            (
                "b".to_string(),
                Check::with(Status::Fail, "down", Duration::ZERO),
            ),
        ]);
        assert_eq!(r.http_status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn run_maps_errors_to_failures() {
        let c = Check::run(async { Err::<(), _>("connection refused") }).await;
        assert_eq!(c.status, Status::Fail);
        assert_eq!(c.detail.as_deref(), Some("connection refused"));
    }
}
