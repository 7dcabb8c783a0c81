//! The Prometheus recorder behind the `metrics` facade.
//!
//! Libraries only emit through `metrics::counter!`/`histogram!`; the binary installs this
//! recorder once and serves [`render`] at `/metrics`. Installing is idempotent because test
//! processes start many servers.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds: fine below 10 ms where cached answers live, coarse up to the
/// upstream timeouts.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Size buckets in bytes, for document and body sizes.
const SIZE_BUCKETS: &[f64] = &[1e3, 1e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7];

/// Installs the global Prometheus recorder (once) and returns its handle. If another
/// recorder was installed first (by a test harness), a detached recorder is returned so
/// the caller still gets a working `/metrics` page.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = || {
                PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                    .and_then(|b| {
                        b.set_buckets_for_metric(Matcher::Suffix("_bytes".into()), SIZE_BUCKETS)
                    })
            };
            match builder().and_then(|b| b.install_recorder()) {
                Ok(handle) => handle,
                Err(_) => {
                    let recorder = PrometheusBuilder::new().build_recorder();
                    recorder.handle()
                }
            }
        })
        .clone()
}

/// The text exposition of all metrics, for the `/metrics` route.
pub fn render() -> impl IntoResponse {
    let body = install().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// An axum handler for `/metrics`.
pub async fn handler() -> impl IntoResponse {
    render()
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_and_renders() {
        let handle = super::install();
        metrics::counter!("service_kit_test_total", "outcome" => "ok").increment(2);
        metrics::histogram!("service_kit_test_duration_seconds").record(0.003);
        let text = handle.render();
        assert!(
            text.contains("service_kit_test_total{outcome=\"ok\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("service_kit_test_duration_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
    }
}
