//! PX360 HTTP API (axum): authentication, RBAC on every endpoint and object, the integration
//! events intake, operations endpoints (`/health/`, `/metrics`, `/docs`) and rate limits.
//!
//! Authorisation is centralised in [`AppState::authorize`]: handlers state the resource, the
//! action and where the object lives; denials are audited, and objects outside the caller's
//! scope answer 404 so that their existence is not disclosed.

pub mod accounts;
pub mod auth;
pub mod employees;
pub mod error;
pub mod integrations;
pub mod me;
pub mod ops;
pub mod org;
pub mod org_admin;
pub mod people;
pub mod templates;

use axum::Router;
use axum::routing::{delete, get, patch, post};
use error::{ApiError, ApiResult};
use ops::SecurityAddon;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::Db;
use px360_store::audit::AuditEntry;
use px360_store::org::ScopeFilter;
use std::sync::Arc;
use std::time::Duration;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use utoipa::OpenApi;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub access_ttl: chrono::Duration,
    pub refresh_ttl: chrono::Duration,
    /// Login attempts: burst per client IP, then one more every `login_period`.
    pub login_burst: u32,
    pub login_period: Duration,
    /// Integration events: burst per client IP, then one every `events_period`.
    pub events_burst: u32,
    pub events_period: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            access_ttl: chrono::Duration::minutes(10),
            refresh_ttl: chrono::Duration::days(7),
            login_burst: 10,
            login_period: Duration::from_secs(6),
            events_burst: 20_000,
            events_period: Duration::from_micros(100),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: auth::Keys,
    pub cfg: Arc<ApiConfig>,
    /// The job queue: intake enqueues accepted events, replay re-enqueues, `/health/` reads it.
    pub jobs: px360_worker::queue::JobQueue,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Verified API keys (5 s TTL).
    pub key_cache: Arc<auth::KeyCache>,
    /// Group-commit writer for integration events.
    pub intake: px360_store::events::IntakeQueue,
}

impl AppState {
    /// Signing key from the database (created on first start, shared by all processes).
    pub async fn new(
        db: Db,
        cfg: ApiConfig,
        jobs: px360_worker::queue::JobQueue,
    ) -> Result<Self, px360_store::StoreError> {
        let secret = db
            .setting_init("jwt_hs256_secret", &px360_store::auth::random_secret())
            .await?;
        Ok(Self {
            keys: auth::Keys::from_secret(secret.as_bytes()),
            intake: px360_store::events::IntakeQueue::start(
                db.clone(),
                256,
                Some(jobs.accept_hook()),
            ),
            key_cache: Arc::new(auth::KeyCache::new(Duration::from_secs(5))),
            db,
            cfg: Arc::new(cfg),
            jobs,
            metrics: ops::metrics_handle(),
        })
    }

    pub async fn audit(&self, e: AuditEntry) -> ApiResult<()> {
        self.db.audit(&e).await?;
        Ok(())
    }

    /// Audit where failing to audit must not turn the answer into a 500 (rejections).
    pub async fn audit_quiet(&self, e: AuditEntry) {
        if let Err(err) = self.db.audit(&e).await {
            tracing::error!(error = %err, action = %e.action, "audit append failed");
        }
    }

    /// Can `p` see the object of `resource` at `obj` (for a creation: its parent)? The permission
    /// table's reads, plus the reads wider than the caller's scope: everyone reads their own
    /// hospital's record and templates, and the group-wide templates (`org::get_hospital`,
    /// `templates::read_location`).
    fn readable(p: &Principal, resource: Resource, action: Action, obj: &ObjectScope) -> bool {
        if p.may(resource, Action::Read, obj) {
            return true;
        }
        let own_hospital = p.scope().hospital_id();
        match (resource, obj) {
            // A creation's target is its parent: the caller's own hospital is visible to them.
            (_, ObjectScope::Hospital { hospital_id }) if action == Action::Create => {
                own_hospital == Some(*hospital_id)
            }
            (
                Resource::Hospital | Resource::JourneyTemplate,
                ObjectScope::Hospital { hospital_id },
            ) => own_hospital == Some(*hospital_id),
            (Resource::JourneyTemplate, ObjectScope::Group) => true,
            _ => false,
        }
    }

    /// The one authorisation gate. Out-of-scope objects → 404, in scope but role too low → 403.
    pub async fn authorize(
        &self,
        p: &Principal,
        ctx: &auth::Ctx,
        resource: Resource,
        action: Action,
        obj: ObjectScope,
        object_id: Option<&str>,
    ) -> ApiResult<()> {
        if p.may(resource, action, &obj) {
            return Ok(());
        }
        metrics::counter!("px360_permission_denials_total").increment(1);
        self.audit_quiet(AuditEntry {
            actor_type: "user",
            actor_id: Some(p.user_id().to_string()),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            action: "permission.denied".into(),
            object_type: Some(resource_name(resource)),
            object_id: object_id.map(str::to_owned),
            hospital_id: p.scope().hospital_id().map(|h| h.to_string()),
            changes: Some(serde_json::json!({ "attempted": format!("{action:?}").to_lowercase() })),
        })
        .await;
        // 404 only hides objects the caller cannot see at all; an object they can read but not
        // change (their own hospital's record, a group-wide template, their own department)
        // answers 403, so the answer does not pretend a visible object is missing.
        let visible = p.scope().contains(&obj)
            || (action != Action::Read && Self::readable(p, resource, action, &obj));
        Err(if visible || object_id.is_none() {
            ApiError::Forbidden
        } else {
            ApiError::NotFound
        })
    }

    pub fn entry(
        p: &Principal,
        ctx: &auth::Ctx,
        action: &str,
        object_type: &'static str,
        object_id: &str,
        hospital: Option<&str>,
        changes: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor_type: "user",
            actor_id: Some(p.user_id().to_string()),
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            action: action.into(),
            object_type: Some(object_type),
            object_id: Some(object_id.to_owned()),
            hospital_id: hospital.map(str::to_owned),
            changes: Some(changes),
        }
    }
}

/// Append the audit record and commit: the change and its audit record are one transaction.
/// Callers start `tx` with their write (SQLite takes the write lock up front; see px360-store).
pub(crate) async fn commit_audited(mut tx: px360_store::Tx, e: &AuditEntry) -> ApiResult<()> {
    px360_store::audit::append(&mut tx, e).await?;
    tx.commit().await.map_err(px360_store::StoreError::from)?;
    Ok(())
}

/// Field checks for partial updates: a present text field must be 1-200 characters.
pub(crate) fn check_optional(fields: &[(&str, Option<&str>)]) -> ApiResult<()> {
    let errs: Vec<_> = fields
        .iter()
        .filter_map(|(name, v)| match v {
            Some(v) if v.trim().is_empty() || v.len() > 200 => Some(
                px360_domain::event::FieldError::new(*name, "must be 1-200 characters when given"),
            ),
            _ => None,
        })
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errs))
    }
}

/// Names of the fields a partial update sets (values stay out of the audit log when they may be
/// personal data).
pub(crate) fn set_fields<T: serde::Serialize>(changes: &T) -> serde_json::Value {
    let v = serde_json::to_value(changes).unwrap_or_default();
    let names: Vec<&String> = v
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({ "fields": names })
}

pub fn resource_name(r: Resource) -> &'static str {
    match r {
        Resource::Hospital => "hospital",
        Resource::Department => "department",
        Resource::Physician => "physician",
        Resource::Employee => "employee",
        Resource::Patient => "patient",
        Resource::Journey => "journey",
        Resource::JourneyTemplate => "journey_template",
        Resource::User => "user",
        Resource::ApiKey => "api_key",
        Resource::Event => "inbound_event",
        Resource::Audit => "audit",
    }
}

/// The principal's own scope as an object location (for list endpoints).
pub fn own_scope(p: &Principal) -> ObjectScope {
    ObjectScope::new(p.scope().hospital_id(), p.scope().department_id())
}

/// For lists of hospital-level objects (events, API keys, audit): department-scoped principals
/// are outside them even when their role level is high enough.
pub fn own_hospital(p: &Principal) -> ObjectScope {
    ObjectScope::new(p.scope().hospital_id(), None)
}

pub fn filter(p: &Principal) -> ScopeFilter {
    ScopeFilter {
        hospital_id: p.scope().hospital_id().map(|u| u.to_string()),
        department_id: p.scope().department_id().map(|u| u.to_string()),
    }
}

pub fn obj(hospital: &str, department: Option<&str>) -> ObjectScope {
    ObjectScope::new(
        Uuid::parse_str(hospital).ok(),
        department.and_then(|d| Uuid::parse_str(d).ok()),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "PX360 API", description = "Patient-experience platform: organisations, accounts and RBAC, audit, integration events, journeys."),
    paths(
        auth::login, auth::refresh, auth::logout, auth::me, me::update_me, me::change_password,
        org::list_hospitals, org::create_hospital, org::get_hospital,
        org::list_departments, org::create_department,
        org::list_physicians, org::create_physician,
        org_admin::update_hospital, org_admin::delete_hospital,
        org_admin::update_department, org_admin::delete_department,
        org_admin::update_physician, org_admin::delete_physician,
        employees::list_employees, employees::create_employee, employees::get_employee,
        employees::update_employee, employees::delete_employee,
        templates::list_templates, templates::create_template, templates::get_template,
        templates::update_template, templates::update_stage,
        templates::add_stage, templates::remove_stage,
        accounts::update_user, accounts::delete_user,
        people::list_patients, people::create_patient, people::get_patient, people::update_patient, people::delete_patient,
        people::list_users, people::create_user,
        people::list_journeys, people::get_journey,
        integrations::post_event, integrations::get_event, integrations::list_events, integrations::replay_event,
        integrations::list_api_keys, integrations::create_api_key, integrations::revoke_api_key,
        ops::audit_log, ops::health,
    ),
    modifiers(&SecurityAddon),
)]
pub struct ApiDoc;

/// Build the full router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`
/// (the rate limiter keys on the peer IP).
pub fn router(st: AppState) -> Router {
    let login_limit = GovernorConfigBuilder::default()
        .period(st.cfg.login_period)
        .burst_size(st.cfg.login_burst)
        .finish();
    let events_limit = GovernorConfigBuilder::default()
        .period(st.cfg.events_period)
        .burst_size(st.cfg.events_burst)
        .finish();
    let mut login = Router::new().route("/api/auth/login", post(auth::login));
    if let Some(c) = login_limit {
        login = login.layer(GovernorLayer::new(c));
    }
    let mut events =
        Router::new().route("/api/integrations/events/", post(integrations::post_event));
    if let Some(c) = events_limit {
        events = events.layer(GovernorLayer::new(c));
    }
    let api = Router::new()
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me).patch(me::update_me))
        .route("/api/me/password", post(me::change_password))
        .route(
            "/api/hospitals",
            get(org::list_hospitals).post(org::create_hospital),
        )
        .route(
            "/api/hospitals/{id}",
            get(org::get_hospital)
                .patch(org_admin::update_hospital)
                .delete(org_admin::delete_hospital),
        )
        .route(
            "/api/departments/{id}",
            patch(org_admin::update_department).delete(org_admin::delete_department),
        )
        .route(
            "/api/physicians/{id}",
            patch(org_admin::update_physician).delete(org_admin::delete_physician),
        )
        .route(
            "/api/employees",
            get(employees::list_employees).post(employees::create_employee),
        )
        .route(
            "/api/employees/{id}",
            get(employees::get_employee)
                .patch(employees::update_employee)
                .delete(employees::delete_employee),
        )
        .route(
            "/api/journey-templates",
            get(templates::list_templates).post(templates::create_template),
        )
        .route(
            "/api/journey-templates/{id}",
            get(templates::get_template).patch(templates::update_template),
        )
        .route(
            "/api/journey-templates/{id}/stages",
            post(templates::add_stage),
        )
        .route(
            "/api/journey-templates/{id}/stages/{stage_id}",
            patch(templates::update_stage).delete(templates::remove_stage),
        )
        .route(
            "/api/users/{id}",
            patch(accounts::update_user).delete(accounts::delete_user),
        )
        .route(
            "/api/departments",
            get(org::list_departments).post(org::create_department),
        )
        .route(
            "/api/physicians",
            get(org::list_physicians).post(org::create_physician),
        )
        .route(
            "/api/patients",
            get(people::list_patients).post(people::create_patient),
        )
        .route(
            "/api/patients/{id}",
            get(people::get_patient)
                .patch(people::update_patient)
                .delete(people::delete_patient),
        )
        .route(
            "/api/users",
            get(people::list_users).post(people::create_user),
        )
        .route("/api/journeys", get(people::list_journeys))
        .route("/api/journeys/{id}", get(people::get_journey))
        .route("/api/integrations/events", get(integrations::list_events))
        .route(
            "/api/integrations/events/{id}",
            get(integrations::get_event),
        )
        .route(
            "/api/integrations/events/{id}/replay",
            post(integrations::replay_event),
        )
        .route(
            "/api/api-keys",
            get(integrations::list_api_keys).post(integrations::create_api_key),
        )
        .route("/api/api-keys/{id}", delete(integrations::revoke_api_key))
        .route("/api/audit", get(ops::audit_log))
        .route("/health/", get(ops::health))
        .route("/health/live", get(ops::live))
        .route("/metrics", get(ops::metrics));
    Router::new()
        .merge(login)
        .merge(events)
        .merge(api)
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/docs")
                .url("/api-docs/openapi.json", ApiDoc::openapi()),
        )
        .layer(axum::middleware::from_fn(ops::track))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(256 * 1024))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(st)
}
