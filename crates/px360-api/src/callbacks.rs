//! The callback queue: a callback promised on a call, due when the SLA engine says (the
//! hospital's policy for category `callback` and the priority, on its business calendar), read
//! in working order with overdue ones marked, made by an outbound call (`POST /api/calls` with
//! `callback_id`) or cancelled. Callbacks carry patient data (who, a note): Staff and up; every
//! write and every read of the queue or of one callback is audited.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::calls::field;
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::{commit_audited, obj_of, own_scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use px360_domain::callcentre::call::Reason;
use px360_domain::rbac::{Action, Principal, Resource};
use px360_domain::sla::Severity;
use px360_store::StoreError;
use px360_store::callcentre::callbacks::{self as store, CallbackRow, NewCallback, QueueRow};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CallbackInput {
    /// The call the callback was promised on (its hospital, department and patient are the
    /// callback's).
    pub call_id: Uuid,
    /// `low`, `medium` (default), `high` or `critical`: picks the SLA target.
    pub priority: Option<String>,
    /// A call reason code (default: the call's reason).
    pub reason: Option<String>,
    /// For the agent who calls back (patient data; at most 1000 characters).
    pub note: Option<String>,
    /// The agent who should call back (default: anyone on the queue).
    pub assignee_id: Option<Uuid>,
}

/// Schedule a callback as `p`; audited in its transaction.
pub async fn schedule(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    b: &CallbackInput,
) -> ApiResult<CallbackRow> {
    let call = crate::calls::load(st, p, ctx, b.call_id, Action::Read).await?;
    st.authorize(
        p,
        ctx,
        Resource::Callback,
        Action::Create,
        obj_of(call.hospital_id, call.department_id),
        None,
    )
    .await?;
    let priority = match b.priority.as_deref().filter(|s| !s.is_empty()) {
        None => Severity::Medium,
        Some(s) => Severity::parse(s)
            .ok_or_else(|| field("priority", "must be low, medium, high or critical"))?,
    };
    let reason = match b.reason.as_deref().filter(|s| !s.is_empty()) {
        None => call.reason,
        Some(s) => Reason::parse(s).ok_or_else(|| field("reason", "is not a known value"))?,
    };
    let note = b
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(field("note", "must be at most 1000 characters"));
    }
    if let Some(a) = b.assignee_id {
        let u = st.db.user(&a.to_string()).await.map_err(|e| match e {
            StoreError::NotFound => field("assignee_id", "unknown user"),
            e => e.into(),
        })?;
        let up = Principal::new(u.id, u.role, u.hospital_id, u.department_id)
            .ok()
            .filter(|_| u.is_active)
            .ok_or_else(|| field("assignee_id", "unknown user"))?;
        if !up.may(
            Resource::Callback,
            Action::Update,
            &obj_of(call.hospital_id, call.department_id),
        ) {
            return Err(field(
                "assignee_id",
                "this user cannot work on the callback",
            ));
        }
    }
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let row = store::insert(
        &mut tx,
        &NewCallback {
            hospital_id: call.hospital_id,
            department_id: call.department_id,
            call_id: Some(call.id),
            patient_id: call.patient_id,
            priority,
            reason: reason.as_str().into(),
            note,
            assignee_id: b.assignee_id,
            created_by: p.user_id(),
        },
        now,
    )
    .await?;
    let e = AppState::entry(
        p,
        ctx,
        "callback.create",
        "callback",
        &row.id.to_string(),
        Some(&row.hospital_id.to_string()),
        serde_json::json!({"call_id": call.id, "priority": priority.as_str(), "due_at": row.due_at, "assignee_id": b.assignee_id}),
    );
    commit_audited(tx, &e).await?;
    Ok(row)
}

#[utoipa::path(post, path = "/api/callbacks", tag = "call centre", request_body = CallbackInput,
    responses((status = 201, body = CallbackRow), (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn create_callback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Json(b): Json<CallbackInput>,
) -> ApiResult<(StatusCode, Json<CallbackRow>)> {
    Ok((
        StatusCode::CREATED,
        Json(schedule(&st, &p, &ctx, &b).await?),
    ))
}

/// The open callbacks in `p`'s scope in working order (due first, then priority, then age),
/// each overdue, waiting or without target; the read is audited.
pub async fn queue(st: &AppState, p: &Principal, ctx: &Ctx) -> ApiResult<Vec<QueueRow>> {
    st.authorize(p, ctx, Resource::Callback, Action::Read, own_scope(p), None)
        .await?;
    let f = crate::filter(p);
    let rows = st
        .db
        .callback_queue(
            f.hospital_id.as_deref(),
            f.department_id.as_deref(),
            Utc::now(),
        )
        .await?;
    st.audit(AppState::entry(
        p,
        ctx,
        "callback.queue.read",
        "callback",
        "",
        f.hospital_id.as_deref(),
        serde_json::json!({"count": rows.len()}),
    ))
    .await?;
    Ok(rows)
}

#[utoipa::path(get, path = "/api/callbacks", tag = "call centre",
    responses((status = 200, body = Vec<QueueRow>, description = "Open callbacks in scope, in working order (due time, then priority, then age); `queue_status` overdue | waiting | no_target"),
        (status = 403)), security(("bearer" = [])))]
pub async fn list_callbacks(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
) -> ApiResult<Json<Vec<QueueRow>>> {
    Ok(Json(queue(&st, &p, &ctx).await?))
}

/// A callback in scope for `action`, else 404/403.
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<CallbackRow> {
    let c = st.db.callback(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::Callback,
        action,
        obj_of(c.hospital_id, c.department_id),
        Some(&id.to_string()),
    )
    .await?;
    Ok(c)
}

#[utoipa::path(get, path = "/api/callbacks/{id}", tag = "call centre",
    responses((status = 200, body = QueueRow), (status = 404)), security(("bearer" = [])))]
pub async fn get_callback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<QueueRow>> {
    let c = load(&st, &p, &ctx, id, Action::Read).await?;
    st.audit(AppState::entry(
        &p,
        &ctx,
        "callback.read",
        "callback",
        &id.to_string(),
        Some(&c.hospital_id.to_string()),
        serde_json::json!({"status": c.status}),
    ))
    .await?;
    let status = px360_domain::callcentre::callback::Callback {
        id: c.id,
        priority: c.priority,
        requested_at: c.requested_at,
        due_at: c.due_at,
    }
    .status(Utc::now());
    Ok(Json(QueueRow {
        callback: c,
        queue_status: status,
    }))
}

/// Take an open callback off the queue without calling (the patient called again, asked not
/// to be called); audited.
pub async fn cancel(st: &AppState, p: &Principal, ctx: &Ctx, id: Uuid) -> ApiResult<CallbackRow> {
    let c = load(st, p, ctx, id, Action::Update).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let row = store::cancel(&mut tx, id, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => ApiError::Conflict(m),
            e => e.into(),
        })?;
    let e = AppState::entry(
        p,
        ctx,
        "callback.cancel",
        "callback",
        &id.to_string(),
        Some(&c.hospital_id.to_string()),
        serde_json::json!({"was_due_at": c.due_at}),
    );
    commit_audited(tx, &e).await?;
    Ok(row)
}

#[utoipa::path(post, path = "/api/callbacks/{id}/cancel", tag = "call centre",
    responses((status = 200, body = CallbackRow), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn post_cancel(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CallbackRow>> {
    Ok(Json(cancel(&st, &p, &ctx, id).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_callbacks, create_callback))
        .routes(routes!(get_callback))
        .routes(routes!(post_cancel))
}
