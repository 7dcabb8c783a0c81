//! Public survey endpoints, without a login: delivery-status and inbound-message callbacks of
//! the providers (each checked against the provider's signature before anything is read), and
//! the unsubscribe link. Rate limited per client address. A provider that is not configured
//! answers 404, so an installation without it exposes nothing.
//!
//! Nothing of a callback body is logged: it carries phone numbers and message text.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use px360_delivery::meta_webhook;
use px360_delivery::{DeliveryStatus, StatusUpdate, twilio};
use px360_store::surveys::optouts::OptOutSource;
use px360_store::surveys::outbox::ProviderStatus;
use px360_store::surveys::{Actor, Channel, TokenError};
use secrecy::SecretString;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Callback secrets and the public base URL the providers call (Twilio signs the full URL as
/// configured, so it is built from here, never from the Host header).
#[derive(Debug, Clone, Default)]
pub struct SurveyCallbackConfig {
    /// e.g. `https://px.example.org` (no trailing slash needed).
    pub public_base_url: String,
    pub twilio_auth_token: Option<SecretString>,
    pub meta_app_secret: Option<SecretString>,
    pub meta_verify_token: Option<SecretString>,
}

fn url(st: &AppState, path: &str) -> String {
    format!("{}{path}", st.cfg.surveys.public_base_url.trim_end_matches('/'))
}

fn signature<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn forbidden(what: &str) -> ApiError {
    // Counted: a stream of failing signatures is an attack or a misconfiguration.
    metrics::counter!("px360_survey_callback_rejected_total", "kind" => what.to_owned()).increment(1);
    ApiError::Forbidden
}

async fn apply_status(st: &AppState, u: &StatusUpdate) -> ApiResult<()> {
    let status = match &u.status {
        DeliveryStatus::Sent => return Ok(()),
        DeliveryStatus::Delivered => ProviderStatus::Delivered,
        DeliveryStatus::Read => ProviderStatus::Read,
        DeliveryStatus::Failed { .. } => ProviderStatus::Failed,
    };
    st.db
        .survey_status_update(&u.provider_message_id, status, u.at)
        .await?;
    Ok(())
}

fn channel_of(c: px360_delivery::Channel) -> Channel {
    match c {
        px360_delivery::Channel::Email => Channel::Email,
        px360_delivery::Channel::Sms => Channel::Sms,
        px360_delivery::Channel::WhatsApp => Channel::Whatsapp,
    }
}

const TWILIO_STATUS: &str = "/api/survey-callbacks/twilio/status";
const TWILIO_INBOUND: &str = "/api/survey-callbacks/twilio/inbound";

#[utoipa::path(post, path = "/api/survey-callbacks/twilio/status", tag = "surveys",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio StatusCallback"),
    responses((status = 204, description = "Recorded"), (status = 403, body = crate::error::Problem, description = "X-Twilio-Signature missing or wrong"),
              (status = 404, body = crate::error::Problem, description = "Twilio is not configured")))]
pub async fn twilio_status(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let token = st.cfg.surveys.twilio_auth_token.as_ref().ok_or(ApiError::NotFound)?;
    let update = twilio::status_callback(
        token,
        &url(&st, TWILIO_STATUS),
        &body,
        signature(&headers, "x-twilio-signature"),
        Utc::now(),
    )
    .map_err(|e| match e {
        twilio::CallbackError::Signature(_) => forbidden("twilio_signature"),
        e => ApiError::BadRequest(e.to_string()),
    })?;
    if let Some(u) = update {
        apply_status(&st, &u).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/survey-callbacks/twilio/inbound", tag = "surveys",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio incoming message webhook"),
    responses((status = 204, description = "Read; a STOP reply opts the sender out of that channel"),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn twilio_inbound(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let token = st.cfg.surveys.twilio_auth_token.as_ref().ok_or(ApiError::NotFound)?;
    let opt_out = twilio::inbound_opt_out(
        token,
        &url(&st, TWILIO_INBOUND),
        &body,
        signature(&headers, "x-twilio-signature"),
    )
    .map_err(|e| match e {
        twilio::CallbackError::Signature(_) => forbidden("twilio_signature"),
        e => ApiError::BadRequest(e.to_string()),
    })?;
    if let Some(o) = opt_out {
        st.db
            .survey_opt_out_address(
                &Actor::provider("twilio"),
                channel_of(o.channel),
                o.address.expose(),
                OptOutSource::StopReply,
            )
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/survey-callbacks/whatsapp", tag = "surveys",
    responses((status = 200, body = String, description = "The hub.challenge, echoed"), (status = 403, body = crate::error::Problem),
              (status = 404, body = crate::error::Problem)))]
pub async fn whatsapp_verify(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<String> {
    let token = st.cfg.surveys.meta_verify_token.as_ref().ok_or(ApiError::NotFound)?;
    let pairs: Vec<(String, String)> = form_pairs(q.as_deref().unwrap_or(""));
    meta_webhook::verify_subscription(token, &pairs)
        .map(str::to_owned)
        .map_err(|_| forbidden("meta_verify"))
}

fn form_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .take(50)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[utoipa::path(post, path = "/api/survey-callbacks/whatsapp", tag = "surveys",
    request_body(content = String, content_type = "application/json", description = "WhatsApp Business Cloud API webhook"),
    responses((status = 204, description = "Statuses applied; STOP replies recorded as opt-outs"),
              (status = 403, body = crate::error::Problem, description = "X-Hub-Signature-256 missing or wrong"),
              (status = 404, body = crate::error::Problem)))]
pub async fn whatsapp_webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let secret = st.cfg.surveys.meta_app_secret.as_ref().ok_or(ApiError::NotFound)?;
    let events = meta_webhook::parse_webhook(secret, &body, signature(&headers, "x-hub-signature-256"))
        .map_err(|e| match e {
            meta_webhook::WebhookError::Signature(_) => forbidden("meta_signature"),
            e => ApiError::BadRequest(e.to_string()),
        })?;
    for u in &events.statuses {
        apply_status(&st, u).await?;
    }
    for o in &events.opt_outs {
        st.db
            .survey_opt_out_address(
                &Actor::provider("whatsapp_cloud"),
                channel_of(o.channel),
                o.address.expose(),
                OptOutSource::StopReply,
            )
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unsubscribed {
    /// The channel the patient will receive no more surveys on.
    pub channel: String,
}

#[utoipa::path(post, path = "/api/survey-links/{token}/unsubscribe", tag = "surveys",
    responses((status = 200, body = Unsubscribed), (status = 404, body = crate::error::Problem, description = "Unknown link")))]
pub async fn unsubscribe(
    State(st): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Unsubscribed>> {
    if token.len() > 128 {
        return Err(ApiError::NotFound);
    }
    match st.db.survey_unsubscribe(&token).await {
        Ok(c) => Ok(axum::Json(Unsubscribed {
            channel: c.as_str().into(),
        })),
        Err(TokenError::Store(e)) => Err(e.into()),
        Err(_) => Err(ApiError::NotFound),
    }
}

pub(crate) fn routes(cfg: &crate::ApiConfig) -> OpenApiRouter<AppState> {
    let r = OpenApiRouter::new()
        .routes(routes!(twilio_status))
        .routes(routes!(twilio_inbound))
        .routes(routes!(whatsapp_verify, whatsapp_webhook))
        .routes(routes!(unsubscribe));
    // Public endpoints: the same per-address limiter as login, at a rate providers stay under
    // (callbacks arrive in bursts as statuses come back).
    match tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(crate::client_ip::ClientIpKey)
        .period(std::time::Duration::from_millis(10))
        .burst_size(cfg.login_burst.max(1) * 50)
        .finish()
    {
        Some(c) => r.layer(tower_governor::GovernorLayer::new(c)),
        None => r,
    }
}
