//! Operations: `/health/`, `/metrics`, request metrics middleware, audit log reading, OpenAPI
//! security schemes.
//!
//! The Prometheus recorder and the readiness report come from service-kit.

use crate::auth::{Authed, Ctx};
use crate::error::ApiResult;
use crate::{AppState, own_hospital};
use axum::Json;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use px360_domain::audit::AuditRecord;
use px360_domain::rbac::{Action, Resource};
use serde::Deserialize;
use service_kit::health::{Check, Report, Status};
use std::time::Instant;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The process-wide Prometheus recorder (service-kit installs it once per process).
pub fn metrics_handle() -> PrometheusHandle {
    service_kit::metrics::install()
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        st.metrics.render(),
    )
}

/// Request count and latency per route template (never the raw path: ids are not labels).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("px360_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("px360_http_request_duration_seconds", "method" => method, "route" => route).record(start.elapsed().as_secs_f64());
    resp
}

/// `/health/` body (service-kit's readiness report): `status` ok | degraded | fail and one
/// entry per check with `status`, `detail` and `latency_ms`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Health {
    pub status: String,
    #[schema(value_type = Object)]
    pub checks: serde_json::Value,
}

/// Liveness: the process answers HTTP. No dependency is checked, so a database outage takes
/// the instance out of load balancing (`/health/` answers 503) without restarting it.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "the process answers HTTP", body = String)))]
pub async fn live() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/health/", tag = "operations", responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(st): State<AppState>) -> Report {
    let t = Instant::now();
    let database = match st.db.ping().await {
        Ok(()) => Check::with(
            Status::Ok,
            format!("{:?}", st.db.backend).to_lowercase(),
            t.elapsed(),
        ),
        Err(e) => Check::with(Status::Fail, e.to_string(), t.elapsed()),
    };
    let t = Instant::now();
    let queue = match (
        st.jobs.pending(px360_worker::queue::EVENTS_QUEUE).await,
        st.db.event_counts(None).await,
    ) {
        (Ok(jobs), Ok(c)) => {
            let get = |s: &str| c.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
            let (events, parked) = (get("received") + get("failed"), get("parked"));
            // Parked events need an operator but do not stop intake.
            let status = if parked > 0 {
                Status::Degraded
            } else {
                Status::Ok
            };
            Check::with(
                status,
                format!(
                    "apalis-{} jobs_pending={jobs} events_pending={events} parked={parked}",
                    st.jobs.backend()
                ),
                t.elapsed(),
            )
        }
        (Err(e), _) => Check::with(Status::Fail, e.to_string(), t.elapsed()),
        (_, Err(e)) => Check::with(Status::Fail, e.to_string(), t.elapsed()),
    };
    let t = Instant::now();
    let scheduler = match (
        st.db
            .schedule_last_run(px360_worker::beat::Job::SweepEvents.name())
            .await,
        st.jobs
            .pending(px360_worker::queue::MAINTENANCE_QUEUE)
            .await,
    ) {
        (Ok(Some((Some(last), by))), Ok(pending)) => Check::with(
            Status::Ok,
            format!(
                "sweep_last_run_at={} by={} maintenance_jobs_pending={pending}",
                px360_store::ts(last),
                by.unwrap_or_default()
            ),
            t.elapsed(),
        ),
        (Ok(_), Ok(_)) => Check::with(Status::Degraded, "no beat has run yet", t.elapsed()),
        (Err(e), _) => Check::with(Status::Fail, e.to_string(), t.elapsed()),
        (_, Err(e)) => Check::with(Status::Fail, e.to_string(), t.elapsed()),
    };
    // The latest verification (at start, then periodically): a broken chain is red at once.
    let audit_chain = match px360_store::audit::status() {
        Some(Ok(n)) => Check::with(
            Status::Ok,
            format!("verified records={n}"),
            std::time::Duration::ZERO,
        ),
        Some(Err(e)) => Check::with(Status::Fail, e, std::time::Duration::ZERO),
        None => Check::with(Status::Ok, "not verified yet", std::time::Duration::ZERO),
    };
    Report::new([
        ("database".to_owned(), database),
        ("queue".to_owned(), queue),
        ("scheduler".to_owned(), scheduler),
        ("audit_chain".to_owned(), audit_chain),
    ])
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub after_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/audit", tag = "operations", params(AuditQuery), responses((status = 200, body = Vec<Object>)), security(("bearer" = [])))]
pub async fn audit_log(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    st.authorize(
        &p,
        &ctx,
        Resource::Audit,
        Action::Read,
        own_hospital(&p),
        None,
    )
    .await?;
    let h = p.scope().hospital_id().map(|h| h.to_string());
    Ok(Json(
        st.db
            .audit_records(
                h.as_deref(),
                q.after_seq.unwrap_or(0),
                q.limit.unwrap_or(100).clamp(1, 1000),
            )
            .await?,
    ))
}

pub struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        c.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// `/health/`, `/metrics` and `/api/audit`, with their OpenAPI operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(live))
        .routes(routes!(metrics))
        .routes(routes!(audit_log))
}
