//! The accept loop: connections are bounded, slow clients are cut off.
//!
//! `axum::serve` accepts every connection and waits for ever on a client that trickles its
//! headers or body, so a few hundred slow clients hold the gateway's file descriptors. Here:
//!
//! * at most `limits.max_connections` connections are open at once. Beyond that the loop stops
//!   accepting: new clients wait in the kernel's listen backlog (no descriptor is used in the
//!   process) and are served as soon as a connection closes;
//! * a request's headers must arrive within `limits.header_read_timeout_ms` of the connection
//!   starting to wait for them; hyper starts that clock again when a keep-alive connection
//!   waits for its next request, so it also closes idle keep-alive connections (HTTP/1.1);
//! * a connection on which nothing is read or written for `limits.idle_timeout_ms` is closed
//!   ([`IdleIo`]; covers HTTP/2 and TLS handshakes too);
//! * a request body must arrive completely within `limits.body_read_timeout_ms`
//!   ([`body_deadline`], a middleware): 408 with a SOAP Fault on the SOAP routes;
//! * TLS handshakes run in the connection's task, under the same bound, with a 10 s deadline.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use ihe_messaging::SoapFault;
use service_kit::problem::Problem;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::app::AppState;
use crate::config::LimitsConfig;
use crate::security::PeerAddr;

const TLS_HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// Serves `app` on `tcp` (TLS when `tls` is given) until `stop` resolves, then lets open
/// requests finish (for at most 30 s).
pub(crate) async fn serve(
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: LimitsConfig,
    stop: impl Future<Output = ()>,
) {
    let max = limits.max_connections.max(1);
    let permits = Arc::new(Semaphore::new(max));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms.max(1)));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Duration::from_millis(limits.idle_timeout_ms.max(1000) / 2))
        .keep_alive_timeout(Duration::from_secs(10));
    let builder = Arc::new(builder);
    let idle = Duration::from_millis(limits.idle_timeout_ms.max(1));
    tokio::pin!(stop);
    loop {
        // The permit first: at the bound, the loop stops accepting.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        metrics::gauge!("xhuma_connections_open").set((max - permits.available_permits()) as f64);
        let (stream, peer) = tokio::select! {
            r = tcp.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let io = IdleIo::new(stream, idle);
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(PeerAddr(peer)));
                app.clone().oneshot(req)
            });
            let io: Box<dyn Io> = match tls {
                Some(acceptor) => {
                    let hs = tokio::time::timeout(TLS_HANDSHAKE_DEADLINE, acceptor.accept(io));
                    match hs.await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            metrics::counter!("xhuma_tls_handshake_failures_total").increment(1);
                            tracing::info!(error = %e, "TLS handshake refused");
                            return;
                        }
                        Err(_) => {
                            metrics::counter!("xhuma_tls_handshake_failures_total").increment(1);
                            return;
                        }
                    }
                }
                None => Box::new(io),
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            // Timeouts of slow clients end here.
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    changed = closing.changed() => {
                        if changed.is_err() || *closing.borrow() {
                            // Let the current request finish, then close.
                            conn.as_mut().graceful_shutdown();
                            if let Err(e) = conn.as_mut().await {
                                tracing::debug!(error = %e, "connection ended with an error");
                            }
                            return;
                        }
                    }
                }
            }
        });
    }
    let _ = closing_tx.send(true);
    // Every connection holds a permit: all of them back means all connections are closed.
    let drained = tokio::time::timeout(
        Duration::from_secs(30),
        permits.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    );
    let _ = drained.await;
}

/// A plain or TLS socket, so both are served by one connection type.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A socket that fails with `TimedOut` once nothing has been read or written for `idle`.
///
/// The deadline is checked lazily: progress only stores the time, and the timer is re-armed
/// when it fires early, so busy connections pay one `Instant::now()` per read or write.
pub(crate) struct IdleIo<T> {
    inner: T,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
}

impl<T> IdleIo<T> {
    pub(crate) fn new(inner: T, idle: Duration) -> Self {
        let now = Instant::now();
        Self {
            inner,
            idle,
            last: now,
            timer: Box::pin(tokio::time::sleep_until(now + idle)),
        }
    }

    /// Called when the inner socket is pending: `Err` when the connection has been idle too
    /// long, otherwise the timer is (re-)registered with the waker.
    fn check_idle(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Ok(());
            }
            let deadline = self.last + self.idle;
            if Instant::now() >= deadline {
                metrics::counter!("xhuma_connections_closed_total", "reason" => "idle")
                    .increment(1);
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ));
            }
            self.timer.as_mut().reset(deadline);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match this.check_idle(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match this.check_idle(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match this.check_idle(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Middleware: a request body must arrive completely within `limits.body_read_timeout_ms`.
///
/// The body is read here (up to one byte beyond `limits.max_body_bytes`, so the SOAP handler
/// still answers an oversized body with its own 413 Fault) and handed on in memory. A client
/// that trickles its body gets 408 and the connection is closed.
pub(crate) async fn body_deadline(
    State(st): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let limits = &st.flow.cfg.limits;
    let cap = limits.max_body_bytes.saturating_add(1);
    let soap = req.uri().path().starts_with("/SOAP/");
    let (parts, body) = req.into_parts();
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ())?;
            buf.extend_from_slice(&chunk);
            if buf.len() >= cap {
                break;
            }
        }
        Ok::<_, ()>(buf.freeze())
    };
    let deadline = Duration::from_millis(limits.body_read_timeout_ms.max(1));
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(())) => {
            // The client went away or sent a broken body: nobody reads this answer.
            (StatusCode::BAD_REQUEST, "incomplete request body").into_response()
        }
        Err(_) => {
            metrics::counter!("xhuma_connections_closed_total", "reason" => "body_timeout")
                .increment(1);
            let detail = format!(
                "the request body did not arrive within {} ms",
                limits.body_read_timeout_ms
            );
            let mut resp = if soap {
                crate::soap::fault_response(&SoapFault::sender(detail), StatusCode::REQUEST_TIMEOUT)
            } else {
                Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    "Request timeout",
                )
                .detail(detail)
                .into_response()
            };
            // The rest of the body is still on the wire: this connection cannot be reused.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            resp
        }
    }
}
