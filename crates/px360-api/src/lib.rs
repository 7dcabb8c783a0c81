//! PX360 HTTP API (axum): authentication, RBAC on every endpoint and object, the integration
//! events intake, operations endpoints (`/health/`, `/metrics`, `/docs`) and rate limits.
//!
//! Authorisation is centralised in [`AppState::authorize`]: handlers state the resource, the
//! action and where the object lives; denials are audited, and objects outside the caller's
//! scope answer 404 so that their existence is not disclosed.

pub mod action_files;
pub mod actions;
pub mod analytics;
pub mod api_keys;
pub mod auth;
mod body_limit;
pub mod call_feedback;
pub mod callbacks;
pub mod calls;
pub mod client_ip;
pub mod complaint_intake;
pub mod complaints;
pub mod departments;
pub mod employees;
pub mod error;
pub mod events;
pub mod feedback;
pub mod feedback_triage;
pub mod hospitals;
pub mod journeys;
pub mod me;
pub mod ops;
pub mod paging;
pub mod patients;
pub mod phone_surveys;
pub mod physicians;
pub mod qi;
pub mod qi_chart;
pub mod scoped;
pub mod sla;
pub mod social;
pub mod social_convert;
pub mod survey_callbacks;
pub mod survey_invitations;
pub mod survey_optouts;
pub mod survey_responses;
pub mod survey_templates;
pub mod templates;
pub mod time_format;
pub mod uploads;
pub mod users;
pub mod voice_config;
pub mod weekly_report;

use axum::Router;
use error::{ApiError, ApiResult};
use ops::SecurityAddon;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::Db;
use px360_store::audit::AuditEntry;
use px360_store::org::ScopeFilter;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
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
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` name the client (rate limits,
    /// audit); empty: the peer address is the client.
    pub trusted_proxies: client_ip::TrustedProxies,
    /// Survey provider callbacks and links (see `survey_callbacks`).
    pub surveys: survey_callbacks::SurveyCallbackConfig,
    /// Where complaint and action attachments are stored (outside the database).
    pub attachments_dir: std::path::PathBuf,
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
            trusted_proxies: client_ip::TrustedProxies::default(),
            surveys: survey_callbacks::SurveyCallbackConfig::default(),
            attachments_dir: std::env::temp_dir().join("px360-attachments"),
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
    /// Attachment bytes (complaints, action evidence).
    pub files: px360_store::attachments::FileStore,
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
            files: px360_store::attachments::FileStore::new(cfg.attachments_dir.clone()),
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
                Resource::Hospital | Resource::JourneyTemplate | Resource::SurveyTemplate,
                ObjectScope::Hospital { hospital_id },
            ) => own_hospital == Some(*hospital_id),
            (Resource::JourneyTemplate | Resource::SurveyTemplate, ObjectScope::Group) => true,
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

/// Field checks for partial updates: a present text field must be 1-200 characters (the
/// organisation resources use [`scoped::Checks`], which collects every error).
#[allow(dead_code)]
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
        Resource::SurveyTemplate => "survey_template",
        Resource::SurveyInvitation => "survey_invitation",
        Resource::SurveyResponse => "survey_response",
        Resource::Complaint => "complaint",
        Resource::PxAction => "px_action",
        Resource::SlaConfig => "sla_config",
        Resource::ComplaintCategory => "complaint_category",
        Resource::Analytics => "analytics",
        Resource::Call => "call",
        Resource::Callback => "callback",
        Resource::AgentStats => "agent_stats",
        Resource::QiProject => "qi_project",
        Resource::Feedback => "feedback",
        Resource::SocialMention => "social_mention",
        Resource::SocialConfig => "social_config",
        Resource::SentimentRule => "sentiment_rule",
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

/// Where a typed row lives, as an object location.
pub fn obj_of(hospital: Uuid, department: Option<Uuid>) -> ObjectScope {
    ObjectScope::new(Some(hospital), department)
}

pub fn obj(hospital: &str, department: Option<&str>) -> ObjectScope {
    ObjectScope::new(
        Uuid::parse_str(hospital).ok(),
        department.and_then(|d| Uuid::parse_str(d).ok()),
    )
}

/// The document's title, description and security schemes; the paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "PX360 API", description = "Patient-experience platform: organisations, accounts and RBAC, audit, integration events, journeys."),
    modifiers(&SecurityAddon),
)]
pub struct ApiDoc;

/// Every API route with its OpenAPI operation, one router per resource, merged in this one
/// place: a route is registered through `utoipa_axum::routes!` together with its `#[utoipa::path]`
/// documentation, so the served routes and the document cannot drift apart (the `openapi_routes`
/// test checks both directions over HTTP). Rate-limited routes carry their limiter here.
pub fn api_routes(cfg: &ApiConfig) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes(cfg))
        .merge(me::routes())
        .merge(weekly_report::routes())
        .merge(hospitals::routes())
        .merge(departments::routes())
        .merge(physicians::routes())
        .merge(employees::routes())
        .merge(patients::routes())
        .merge(users::routes())
        .merge(journeys::routes())
        .merge(templates::routes())
        .merge(events::routes(cfg))
        .merge(api_keys::routes())
        .merge(ops::routes())
        .merge(survey_templates::routes())
        .merge(survey_invitations::routes())
        .merge(survey_responses::routes())
        .merge(survey_callbacks::routes(cfg))
        .merge(survey_optouts::routes())
        .merge(complaints::routes())
        .merge(actions::routes())
        .merge(sla::routes())
        .merge(complaint_intake::routes(cfg))
        .merge(analytics::routes())
        .merge(calls::routes())
        .merge(call_feedback::routes())
        .merge(phone_surveys::routes())
        .merge(action_files::routes())
        .merge(callbacks::routes())
        .merge(qi::routes())
        .merge(feedback::routes())
        .merge(social::routes(cfg))
        .merge(voice_config::routes())
}

/// The OpenAPI document served at `/api-docs/openapi.json`.
pub fn openapi(cfg: &ApiConfig) -> utoipa::openapi::OpenApi {
    api_routes(cfg).into_openapi()
}

/// Build the full router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`
/// (the rate limiters key on the client IP: the peer, or behind trusted proxies the forwarded
/// client, see [`client_ip`]).
pub fn router(st: AppState) -> Router {
    let (api, doc) = api_routes(&st.cfg).split_for_parts();
    Router::new()
        .merge(api)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/api-docs/openapi.json", doc))
        // A path no router knows: problem+json, distinguishable from a handler's 404.
        .fallback(no_route)
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(body_limit::enforce))
        // Limits are set in one place, `body_limit` (axum's default would cap the import at 2 MB).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        // Outermost: the rate limiters and the audit context read the resolved client address.
        .layer(axum::middleware::from_fn_with_state(
            st.cfg.trusted_proxies.clone(),
            client_ip::resolve,
        ))
        .with_state(st)
}

pub(crate) fn require(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 200 {
        return Err(ApiError::Validation(vec![
            px360_domain::event::FieldError::new(field, "is required (1-200 characters)"),
        ]));
    }
    Ok(())
}

/// A department move must stay in the object's hospital and inside the caller's scope.
pub(crate) async fn authorize_move(
    st: &AppState,
    p: &Principal,
    ctx: &auth::Ctx,
    resource: Resource,
    hospital_id: &str,
    department_id: &str,
    object_id: &str,
) -> ApiResult<()> {
    let dept = known_department(st, department_id).await?;
    if dept.hospital_id.to_string() != hospital_id {
        return Err(ApiError::Validation(vec![
            px360_domain::event::FieldError::new("department_id", "belongs to another hospital"),
        ]));
    }
    st.authorize(
        p,
        ctx,
        resource,
        Action::Update,
        obj_of(dept.hospital_id, Some(dept.id)),
        Some(object_id),
    )
    .await
}

/// A department named by a request: unknown is a field error, a database failure stays one.
pub(crate) async fn known_department(
    st: &AppState,
    id: &str,
) -> ApiResult<px360_store::org::DepartmentRow> {
    st.db.department(id).await.map_err(|e| match e {
        px360_store::StoreError::NotFound => {
            ApiError::Validation(vec![px360_domain::event::FieldError::new(
                "department_id",
                "unknown department",
            )])
        }
        e => e.into(),
    })
}

async fn no_route() -> service_kit::problem::Problem {
    service_kit::problem::Problem::new(axum::http::StatusCode::NOT_FOUND, "no-route", "Not found")
        .detail("no such endpoint; see /api-docs/openapi.json")
}

#[cfg(test)]
mod route_registration {
    /// Every API route is registered through `utoipa_axum::routes!` (so it is documented):
    /// no module adds an axum route by hand. `router` only merges the split parts, the Swagger
    /// UI and the fallback.
    #[test]
    fn no_route_bypasses_the_openapi_router() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        // Split so that this test does not find itself.
        let needles = [
            concat!(".rou", "te("),
            concat!(".ne", "st("),
            concat!("axum::rou", "ting::"),
        ];
        let mut offenders = Vec::new();
        // src and its module folders (analytics/).
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                for sub in std::fs::read_dir(&path).expect("module folder") {
                    files.push(sub.expect("entry").path());
                }
            } else {
                files.push(path);
            }
        }
        for path in files {
            let text = std::fs::read_to_string(&path).expect("read");
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if needles.iter().any(|n| code.contains(n)) {
                    offenders.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "routes outside routes!: {offenders:?}"
        );
    }
}
