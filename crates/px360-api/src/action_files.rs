//! Evidence files of a PX action: a photo of the repaired equipment, the minutes of a meeting,
//! a revised leaflet. The owner uploads the file to the action (`POST
//! /api/actions/{id}/attachments`, the same checks as a complaint's: PDF, PNG, JPEG or text,
//! named and checked by its leading bytes, content-addressed storage verified on read), then
//! names it in `add_evidence` with a note. Downloading goes through `GET /api/attachments/{id}`,
//! which gates on the action's scope and audits the access.

use crate::AppState;
use crate::actions::load;
use crate::auth::{Authed, Ctx};
use crate::complaints::tx_err;
use crate::error::ApiResult;
use crate::uploads::{Stored, UploadQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use px360_domain::rbac::{Action as Act, Principal};
use px360_store::attachments::Attachment;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The owner kind of an action's files in `attachments`.
pub const OWNER: &str = "action";

/// Store `body` as a file of action `id` for `p` (who may change the action), audited
/// `attachment.upload`. Shared by the API and the action page's evidence form.
pub async fn upload(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> ApiResult<Attachment> {
    let a = load(st, p, ctx, id, Act::Update).await?;
    let up =
        Stored::check_and_put(st, (OWNER, id), a.hospital_id, name, content_type, body).await?;
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let f = up.insert(&mut tx, p).await?;
    up.commit(tx, p, ctx, &f).await?;
    Ok(f)
}

/// Whether file `f` may be named as evidence of action `id`: the action's own files, or those
/// of the complaint the action was raised for (a photo the patient sent, say).
pub fn may_cite(f: &Attachment, action: &px360_store::actions::Action) -> bool {
    (f.owner_kind == OWNER && f.owner_id == action.id)
        || (f.owner_kind == "complaint"
            && action.origin_kind == "complaint"
            && action.origin_id == Some(f.owner_id))
}

#[utoipa::path(post, path = "/api/actions/{id}/attachments", tag = "actions", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes; its Content-Type must be application/pdf, image/png, image/jpeg or text/plain and match the content"),
    responses((status = 201, body = Attachment), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn upload_action_attachment(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let ct = crate::uploads::media_type(&headers);
    let f = upload(&st, &p, &ctx, id, &q.name, ct, &body).await?;
    Ok((StatusCode::CREATED, Json(f)))
}

#[utoipa::path(get, path = "/api/actions/{id}/attachments", tag = "actions",
    responses((status = 200, body = Vec<Attachment>), (status = 404)), security(("bearer" = [])))]
pub async fn list_action_attachments(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<Attachment>>> {
    load(&st, &p, &ctx, id, Act::Read).await?;
    Ok(Json(st.db.attachments_of(OWNER, id).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_action_attachment, list_action_attachments))
}
