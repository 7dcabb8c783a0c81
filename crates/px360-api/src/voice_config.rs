//! Per-hospital configuration of the patient-voice apps: social listening (handles, keywords,
//! the webhook's shared secret) and the sentiment rule that turns negative free text into a PX
//! action. Hospital-level objects: read from PX Coordinator, changed from Hospital Admin; every
//! change audited (the secret itself never: it is shown once, in the answer that made it).

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_domain::social::matching::{HospitalTerms, Matcher};
use px360_domain::social::webhook;
use px360_store::sentiment::SentimentRule;
use px360_store::social::SocialConfig;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

async fn gate(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    hospital: Uuid,
    resource: Resource,
    action: Action,
) -> ApiResult<()> {
    st.db.hospital(&hospital.to_string()).await?;
    st.authorize(
        p,
        ctx,
        resource,
        action,
        ObjectScope::Hospital {
            hospital_id: hospital,
        },
        Some(&hospital.to_string()),
    )
    .await
}

#[utoipa::path(get, path = "/api/hospitals/{id}/social-config", tag = "social",
    responses((status = 200, body = SocialConfig), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_social_config(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SocialConfig>> {
    gate(&st, &p, &ctx, id, Resource::SocialConfig, Action::Read).await?;
    Ok(Json(st.db.social_config(id).await?))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"handles": ["@RiversideGH"], "keywords": ["Riverside General", "مستشفى ريفرسايد"]}))]
pub struct SocialTermsInput {
    pub handles: Vec<String>,
    pub keywords: Vec<String>,
}

/// Store handles and keywords as `p` (API and web UI), checked by the matcher first.
pub async fn put_terms(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &SocialTermsInput,
) -> ApiResult<SocialConfig> {
    gate(st, p, ctx, id, Resource::SocialConfig, Action::Update).await?;
    let clean = |v: &[String]| -> Vec<String> {
        let mut out: Vec<String> = v
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        out.dedup();
        out
    };
    let (handles, keywords) = (clean(&b.handles), clean(&b.keywords));
    if handles.len() + keywords.len() > 200 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "keywords",
            "at most 200 handles and keywords per hospital",
        )]));
    }
    let terms = HospitalTerms {
        hospital_id: id,
        handles: handles.clone(),
        keywords: keywords.clone(),
    };
    Matcher::new(&[terms]).map_err(|e| {
        ApiError::Validation(vec![FieldError::new(
            "handles",
            format!(
                "{}: a handle is one word, every term 1-100 characters",
                e.code()
            ),
        )])
    })?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    px360_store::social::put_terms(&mut tx, id, &handles, &keywords, p.user_id(), Utc::now())
        .await?;
    let e = AppState::entry(
        p,
        ctx,
        "social_config.put",
        "social_config",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::json!({"handles": handles, "keywords": keywords}),
    );
    commit_audited(tx, &e).await?;
    Ok(st.db.social_config(id).await?)
}

#[utoipa::path(put, path = "/api/hospitals/{id}/social-config", tag = "social", request_body = SocialTermsInput,
    responses((status = 200, body = SocialConfig), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn put_social_config(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<SocialTermsInput>,
) -> ApiResult<Json<SocialConfig>> {
    Ok(Json(put_terms(&st, &p, &ctx, id, &b).await?))
}

/// A new webhook secret: shown once, here.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookSecret {
    pub secret: String,
    /// The header the sender signs with.
    pub header: String,
    /// The path to post to.
    pub path: String,
}

#[utoipa::path(post, path = "/api/hospitals/{id}/social-config/webhook-secret", tag = "social",
    responses((status = 201, body = WebhookSecret, description = "A new secret (the old one stops working); shown only in this answer"),
        (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<(axum::http::StatusCode, Json<WebhookSecret>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(new_secret(&st, &p, &ctx, id).await?),
    ))
}

/// Replace the hospital's webhook secret as `p` (API and web UI); the answer is the only place
/// the secret is ever shown.
pub async fn new_secret(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
) -> ApiResult<WebhookSecret> {
    gate(st, p, ctx, id, Resource::SocialConfig, Action::Update).await?;
    // 64 hex digits: 256 random bits, above the domain's minimum length.
    let secret = px360_store::auth::random_secret();
    debug_assert!(secret.len() >= webhook::MIN_SECRET_LEN);
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    px360_store::social::put_secret(&mut tx, id, &secret, p.user_id(), Utc::now()).await?;
    let e = AppState::entry(
        p,
        ctx,
        "social_config.rotate_secret",
        "social_config",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::json!({"secret_set": true}),
    );
    commit_audited(tx, &e).await?;
    Ok(WebhookSecret {
        secret,
        header: webhook::SIGNATURE_HEADER.to_owned(),
        path: format!("/api/social/webhook/{id}"),
    })
}

#[utoipa::path(get, path = "/api/hospitals/{id}/sentiment-rule", tag = "sentiment",
    responses((status = 200, body = SentimentRule, description = "The hospital's rule (the default, switched off, when none is stored)"),
        (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_sentiment_rule(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SentimentRule>> {
    gate(&st, &p, &ctx, id, Resource::SentimentRule, Action::Read).await?;
    Ok(Json(st.db.sentiment_rule(id).await?.unwrap_or_default()))
}

/// Store a hospital's rule as `p` (API and web UI).
pub async fn put_rule(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    rule: &SentimentRule,
) -> ApiResult<SentimentRule> {
    gate(st, p, ctx, id, Resource::SentimentRule, Action::Update).await?;
    let mut errs: Vec<FieldError> = rule
        .problems()
        .into_iter()
        .map(|(f, m)| FieldError::new(f, m))
        .collect();
    if let Some(c) = &rule.category_code
        && errs.is_empty()
        && !st
            .db
            .complaint_categories(true)
            .await?
            .iter()
            .any(|k| &k.code == c)
    {
        errs.push(FieldError::new(
            "category_code",
            "is not an active category",
        ));
    }
    if !errs.is_empty() {
        return Err(ApiError::Validation(errs));
    }
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    px360_store::sentiment::put_rule(&mut tx, id, rule, Some(p.user_id()), Utc::now()).await?;
    let e = AppState::entry(
        p,
        ctx,
        "sentiment_rule.put",
        "sentiment_rule",
        &id.to_string(),
        Some(&id.to_string()),
        serde_json::to_value(rule).unwrap_or_default(),
    );
    commit_audited(tx, &e).await?;
    Ok(rule.clone())
}

#[utoipa::path(put, path = "/api/hospitals/{id}/sentiment-rule", tag = "sentiment", request_body = SentimentRule,
    responses((status = 200, body = SentimentRule), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn put_sentiment_rule(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(rule): Json<SentimentRule>,
) -> ApiResult<Json<SentimentRule>> {
    Ok(Json(put_rule(&st, &p, &ctx, id, &rule).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_social_config, put_social_config))
        .routes(routes!(rotate_secret))
        .routes(routes!(get_sentiment_rule, put_sentiment_rule))
}
