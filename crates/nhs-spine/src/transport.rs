//! One upstream call with the resilience policy applied: circuit breaker, per-attempt timeout,
//! retries with exponential backoff and full jitter on transient failures (timeouts, connection
//! errors, 5xx) only, and the `spine_upstream_*` metrics.

use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry::trace::TraceContextExt;
use rand::Rng;
use reqwest::StatusCode;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::breaker::{Breakers, Permit};
use crate::config::ResilienceConfig;
use crate::error::TransportError;

/// An HTTP answer, whatever its status.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub body: Bytes,
}

#[derive(Debug)]
pub(crate) struct Upstream {
    pub name: &'static str,
    pub http: reqwest::Client,
    pub config: ResilienceConfig,
    breakers: Breakers,
}

enum Attempt {
    Done(RawResponse),
    Transient(TransientKind),
}

enum TransientKind {
    Timeout,
    Network(String),
    Status(RawResponse),
}

impl Upstream {
    /// A shared service with one circuit breaker.
    pub(crate) fn new(name: &'static str, http: reqwest::Client, config: ResilienceConfig) -> Self {
        let breakers = Breakers::single(config.breaker_failure_threshold, config.breaker_open());
        let up = Self {
            name,
            http,
            config,
            breakers,
        };
        up.publish_breakers();
        up
    }

    /// A service reached through many independent providers: one circuit breaker per key
    /// (the provider's ASID), passed to [`Upstream::call_keyed`].
    pub(crate) fn keyed(
        name: &'static str,
        http: reqwest::Client,
        config: ResilienceConfig,
    ) -> Self {
        let breakers = Breakers::keyed(config.breaker_failure_threshold, config.breaker_open());
        let up = Self {
            name,
            http,
            config,
            breakers,
        };
        up.publish_breakers();
        up
    }

    /// `spine_circuit_open{upstream}`: 1 while a shared service's breaker is open (or
    /// half-open), else 0; for a keyed upstream, the number of providers whose breaker is
    /// open. Bounded labels only: never a key (an ASID or ODS code would be unbounded).
    fn publish_breakers(&self) {
        #[allow(clippy::cast_precision_loss)]
        let n = self.breakers.open_count() as f64;
        metrics::gauge!("spine_circuit_open", "upstream" => self.name).set(n);
    }

    /// [`Upstream::call_keyed`] without a key: the service-wide breaker.
    pub(crate) async fn call<F>(&self, build: F) -> Result<RawResponse, TransportError>
    where
        F: FnMut() -> reqwest::RequestBuilder,
    {
        self.call_keyed(None, build).await
    }

    /// Sends the request `build` makes (called again for each attempt, so per-request headers
    /// such as trace ids and JWTs are fresh) and returns the final answer. A 5xx that survives
    /// all retries is returned as a response so the caller can map its OperationOutcome.
    pub(crate) async fn call_keyed<F>(
        &self,
        key: Option<&str>,
        mut build: F,
    ) -> Result<RawResponse, TransportError>
    where
        F: FnMut() -> reqwest::RequestBuilder,
    {
        let guard = self.breakers.guard(key);
        let Some(permit) = guard.try_acquire() else {
            self.count("circuit_open");
            return Err(TransportError::CircuitOpen {
                upstream: self.name,
            });
        };
        // A half-open probe gets exactly one attempt: retrying it would defeat the breaker.
        let max_attempts = match permit {
            Permit::Probe => 1,
            Permit::Normal => self.config.max_retries + 1,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(build()).await;
            match outcome {
                Attempt::Done(resp) => {
                    self.breakers.record(&guard, permit, true);
                    self.publish_breakers();
                    return Ok(resp);
                }
                Attempt::Transient(kind) if attempt >= max_attempts => {
                    self.breakers.record(&guard, permit, false);
                    self.publish_breakers();
                    return match kind {
                        TransientKind::Timeout => Err(TransportError::Timeout {
                            upstream: self.name,
                        }),
                        TransientKind::Network(detail) => Err(TransportError::Network {
                            upstream: self.name,
                            detail,
                        }),
                        TransientKind::Status(resp) => Ok(resp),
                    };
                }
                Attempt::Transient(_) => {
                    let delay = self.backoff(attempt);
                    tracing::debug!(
                        upstream = self.name,
                        attempt,
                        ?delay,
                        "retrying upstream call"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Attempt {
        let started = Instant::now();
        let (client, request) = request.timeout(self.config.timeout()).build_split();
        // A client span per attempt, child of the caller's (the inbound request's) span. No
        // URL or query: PDS URLs carry the NHS number.
        let span = tracing::info_span!(
            "upstream",
            otel.name = %format_args!("{} {}", self.name, request.as_ref().map_or("GET", |r| r.method().as_str())),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            upstream = self.name,
            server.address = request.as_ref().ok().and_then(|r| r.url().host_str()).unwrap_or_default(),
            http.response.status_code = tracing::field::Empty,
        );
        let result = async {
            let mut request = request?;
            if let Some(tp) = traceparent(&span) {
                request.headers_mut().insert("traceparent", tp);
            }
            let resp = client.execute(request).await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>(RawResponse { status, body })
        }
        .instrument(span.clone())
        .await;
        match &result {
            Ok(r) => {
                span.record("http.response.status_code", r.status.as_u16());
                if r.status.is_server_error() {
                    span.record("otel.status_code", "error");
                }
            }
            Err(_) => {
                span.record("otel.status_code", "error");
            }
        }
        metrics::histogram!("spine_upstream_duration_seconds", "upstream" => self.name)
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(resp) => {
                let outcome = match resp.status.as_u16() {
                    200..=299 => "ok",
                    404 => "not_found",
                    400..=499 => "client_error",
                    _ => "server_error",
                };
                self.count(outcome);
                if resp.status.is_server_error() {
                    Attempt::Transient(TransientKind::Status(resp))
                } else {
                    Attempt::Done(resp)
                }
            }
            Err(e) if e.is_timeout() => {
                self.count("timeout");
                tracing::warn!(upstream = self.name, "upstream timed out");
                Attempt::Transient(TransientKind::Timeout)
            }
            Err(e) => {
                self.count("network_error");
                // reqwest errors carry the URL, which for PDS contains the NHS number.
                let detail = e.without_url().to_string();
                tracing::warn!(upstream = self.name, error = %detail, "upstream unreachable");
                Attempt::Transient(TransientKind::Network(detail))
            }
        }
    }

    fn count(&self, outcome: &'static str) {
        metrics::counter!("spine_upstream_requests_total", "upstream" => self.name, "outcome" => outcome)
            .increment(1);
    }

    /// Full jitter: uniform in [0, min(max, base * 2^(attempt-1))].
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .config
            .backoff_base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        let cap = exp.min(self.config.backoff_max_ms);
        Duration::from_millis(rand::rng().random_range(0..=cap))
    }
}

/// The W3C `traceparent` naming `span`, so the upstream (or its proxy) continues the trace;
/// `None` when no OpenTelemetry layer is installed.
fn traceparent(span: &tracing::Span) -> Option<reqwest::header::HeaderValue> {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    if !sc.is_valid() {
        return None;
    }
    reqwest::header::HeaderValue::from_str(&format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    ))
    .ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::Upstream;
    use crate::config::ResilienceConfig;

    /// One HTTP/1.1 exchange on loopback: returns the request head the client sent.
    async fn one_exchange(listener: tokio::net::TcpListener) -> String {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed mid-request");
            head.extend_from_slice(&buf[..n]);
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await
            .unwrap();
        String::from_utf8_lossy(&head).to_lowercase()
    }

    /// The upstream call is a child span of the caller's span, and its `traceparent` names
    /// that child span in the caller's trace.
    #[tokio::test]
    async fn upstream_calls_send_traceparent_of_a_child_span() {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let dispatch = tracing::Dispatch::new(subscriber);
        let _guard = tracing::dispatcher::set_default(&dispatch);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/Patient/9990000018",
            listener.local_addr().unwrap()
        );
        let server = tokio::spawn(one_exchange(listener));
        let up = Upstream::new("pds", reqwest::Client::new(), ResilienceConfig::default());
        let request = tracing::info_span!("request");
        let trace_id = request.context().span().span_context().trace_id();
        let resp = up
            .call(|| up.http.get(&url))
            .instrument(request.clone())
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        let head = server.await.unwrap();
        let tp = head
            .lines()
            .find_map(|l| l.strip_prefix("traceparent: "))
            .unwrap_or_else(|| panic!("no traceparent in {head}"));
        let parts: Vec<&str> = tp.trim().split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], trace_id.to_string());
        // The upstream call's own span, not the caller's.
        let request_span_id = request.context().span().span_context().span_id();
        assert_ne!(parts[2], request_span_id.to_string());
        assert_eq!(parts[2].len(), 16);
    }

    /// Without an OpenTelemetry layer nothing is invented.
    #[tokio::test]
    async fn no_traceparent_without_tracing() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let server = tokio::spawn(one_exchange(listener));
        let up = Upstream::new("sds", reqwest::Client::new(), ResilienceConfig::default());
        up.call(|| up.http.get(&url)).await.unwrap();
        assert!(!server.await.unwrap().contains("traceparent"));
    }
}
