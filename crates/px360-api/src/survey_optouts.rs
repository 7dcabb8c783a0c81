//! A patient's survey opt-outs, recorded by staff on the patient's request (at the desk, on the
//! phone), and their renewed consent.
//!
//! - `GET /api/patients/{id}/survey-opt-outs`: the channels the patient opted out of, with how;
//! - `POST` with `{"channel": "sms" | "email" | "whatsapp" | "all"}`: records the opt-out (source
//!   `staff`), cancels planned messages on that channel;
//! - `DELETE ?channel=…&reason=…`: re-consent, only with a reason (the patient asked again, in
//!   the staff member's words), on one channel or all.
//!
//! Under the patient's own rules: reading needs Patient Read, changing needs Patient Update,
//! within the caller's scope (out of scope → 404, role too low → 403). Every change is audited
//! by the store in the same transaction (`survey.opt_out`, `survey.opt_in`).

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::patients;
use crate::survey_templates::actor;
use axum::Json;
use axum::extract::{Path, Query, State};
use px360_domain::event::FieldError;
use px360_domain::rbac::Action;
use px360_store::surveys::Channel;
use px360_store::surveys::optouts::{OptOut, OptOutSource};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest reason kept for a re-consent.
const MAX_REASON: usize = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOptOut {
    /// `sms`, `email`, `whatsapp`, or `all`.
    pub channel: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReConsent {
    /// `sms`, `email`, `whatsapp`, or `all` (the default).
    pub channel: Option<String>,
    /// Why the patient may be surveyed again (required).
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OptOuts {
    /// The channels the patient is opted out of now.
    pub opt_outs: Vec<OptOut>,
    /// What this request changed (channels newly opted out, or opted back in).
    #[schema(value_type = Vec<String>)]
    pub changed: Vec<Channel>,
}

/// `None` = every channel.
fn channels(s: Option<&str>) -> Result<Option<Channel>, ApiError> {
    match s.map(str::trim) {
        None | Some("all") => Ok(None),
        Some(c) => Channel::parse(c).map(Some).ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "channel",
                "must be sms, email, whatsapp or all",
            )])
        }),
    }
}

#[utoipa::path(get, path = "/api/patients/{id}/survey-opt-outs", tag = "surveys",
    responses((status = 200, body = Vec<OptOut>), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_patient_opt_outs(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<OptOut>>> {
    let pt = patients::load(&st, &p, &ctx, &id, Action::Read).await?;
    Ok(Json(st.db.survey_opt_outs(pt.id).await?))
}

#[utoipa::path(post, path = "/api/patients/{id}/survey-opt-outs", tag = "surveys", request_body = NewOptOut,
    responses((status = 200, body = OptOuts, description = "Recorded (idempotent: `changed` is empty when nothing was new)"),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create_patient_opt_out(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(b): Json<NewOptOut>,
) -> ApiResult<Json<OptOuts>> {
    let pt = patients::load(&st, &p, &ctx, &id, Action::Update).await?;
    let which = channels(Some(&b.channel))?;
    let who = actor(&p, &ctx);
    let mut changed = Vec::new();
    for c in which.map_or(Channel::ALL.to_vec(), |c| vec![c]) {
        if st
            .db
            .survey_opt_out(&who, pt.id, c, OptOutSource::Staff)
            .await?
        {
            changed.push(c);
        }
    }
    Ok(Json(OptOuts {
        opt_outs: st.db.survey_opt_outs(pt.id).await?,
        changed,
    }))
}

#[utoipa::path(delete, path = "/api/patients/{id}/survey-opt-outs", tag = "surveys", params(ReConsent),
    responses((status = 200, body = OptOuts, description = "Opted back in (`changed`: the channels that were opted out)"),
              (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 422, body = crate::error::Problem, description = "No reason, or an unknown channel")),
    security(("bearer" = [])))]
pub async fn delete_patient_opt_out(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReConsent>,
) -> ApiResult<Json<OptOuts>> {
    let pt = patients::load(&st, &p, &ctx, &id, Action::Update).await?;
    let which = channels(q.channel.as_deref())?;
    let reason = q.reason.as_deref().map(str::trim).unwrap_or("");
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::Validation(vec![FieldError::new(
            "reason",
            format!("is required (at most {MAX_REASON} characters)"),
        )]));
    }
    let changed = st
        .db
        .survey_opt_in(&actor(&p, &ctx), pt.id, which, reason)
        .await?;
    Ok(Json(OptOuts {
        opt_outs: st.db.survey_opt_outs(pt.id).await?,
        changed,
    }))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(
        list_patient_opt_outs,
        create_patient_opt_out,
        delete_patient_opt_out
    ))
}
