//! Shared server plumbing for the Xhuma gateway and PX360, written once: structured logging
//! and OpenTelemetry traces ([`telemetry`]), the request id and trace context of every request
//! ([`request`]), the Prometheus endpoint ([`metrics`]), readiness
//! reports ([`health`]), RFC 9457 problem responses ([`problem`]), TLS provider set-up
//! ([`crypto`]) and graceful shutdown ([`shutdown_signal`]).

pub mod crypto;
pub mod health;
mod log_json;
pub mod metrics;
pub mod problem;
pub mod request;
pub mod telemetry;

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM from an orchestrator), so
/// servers can drain in-flight requests instead of dropping them.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
