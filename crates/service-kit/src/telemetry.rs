//! Logging and tracing set-up.
//!
//! JSON logs on stdout by default (what log shippers expect), human-readable when asked;
//! OpenTelemetry spans exported over OTLP/HTTP when an endpoint is configured. The blocking
//! reqwest exporter is used because the async one panics in the batch thread (STACK.md).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

/// Telemetry settings (part of each service's configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// `RUST_LOG`-style filter; `RUST_LOG` itself wins when set.
    pub filter: String,
    pub format: LogFormat,
    /// OTLP/HTTP endpoint, e.g. `http://collector:4318/v1/traces`. Off when unset.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            filter: "info,tower_http=info".into(),
            format: LogFormat::Json,
            otlp_endpoint: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter: {0}")]
    Filter(String),
    #[error("could not start the OTLP exporter: {0}")]
    Otlp(String),
    #[error("a global logger was already installed")]
    AlreadyInstalled,
}

/// Flushes pending spans when dropped; keep it alive for the life of `main`.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Installs the global subscriber for `service` (the OpenTelemetry `service.name`).
pub fn init(
    service: &'static str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) => EnvFilter::try_new(f),
        Err(_) => EnvFilter::try_new(&config.filter),
    }
    .map_err(|e| TelemetryError::Filter(e.to_string()))?;

    let fmt_layer = match config.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(crate::log_json::JsonLines)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };

    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    let provider = match &config.otlp_endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(endpoint)
                .build()
                .map_err(|e| TelemetryError::Otlp(e.to_string()))?;
            opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build()
        }
        // No exporter: spans still get trace and span ids (for the logs, and to pass a
        // caller's trace on upstream), but are recorded only when the caller's trace is sampled.
        None => opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_sampler(opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
                opentelemetry_sdk::trace::Sampler::AlwaysOff,
            )))
            .with_resource(resource)
            .build(),
    };
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_location(false)
        .with_threads(false);

    tracing_subscriber::registry()
        .with(filter)
        .with(otel_layer)
        .with(crate::log_json::RequestIdLayer)
        .with(fmt_layer)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}
