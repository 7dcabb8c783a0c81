//! Social media mentions and reviews: import (JSON or CSV), the signed webhook, lists, detail
//! and conversion into a complaint or an action.
//!
//! Every mention is located by the domain's matcher over all hospitals' handles and keywords; a
//! mention that names no hospital, arriving on a hospital's feed (that hospital's webhook, or an
//! import for that hospital), belongs to that hospital (a review on its own page rarely names
//! it). Mentions are stored once per (source, id): a re-import or a redelivered webhook changes
//! nothing. Each batch is audited once (counts, never texts). Mentions are hospital-level
//! objects: department roles do not see them, and unlocated ones are the group's (PX Admin).

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use crate::paging::{before_param, next_page_headers};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use chrono::Utc;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_domain::social::import::{self, Imported};
use px360_domain::social::matching::{Location, Matcher};
use px360_domain::social::webhook;
use px360_store::audit::AuditEntry;
use px360_store::social::{self as store, MentionFilter, MentionRow};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

/// One rejected row of an import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// 1-based: the array index + 1 (JSON) or the data line after the header (CSV).
    pub row: usize,
    /// e.g. `social.mention.bad_time`
    pub code: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows that parsed.
    pub received: usize,
    /// Mentions stored by this request.
    pub created: usize,
    /// Mentions already stored (same source and id): unchanged.
    pub duplicates: usize,
    /// Stored mentions located at one hospital.
    pub located: usize,
    /// Actions the hospitals' sentiment rules raised.
    pub actions_raised: usize,
    pub errors: Vec<RowProblem>,
}

/// Locate, store and audit a parsed batch in one transaction. `feed`: the hospital whose feed
/// this is (its unlocated mentions are its own).
pub async fn store_batch(
    st: &AppState,
    parsed: Imported,
    feed: Option<Uuid>,
    via: &str,
    by: Option<Uuid>,
    mut audit: AuditEntry,
) -> ApiResult<ImportReport> {
    let terms = st.db.social_terms().await?;
    // Stored terms were validated one hospital at a time; together they can only fail by
    // number, which then locates nothing rather than refusing the feed.
    let matcher = Matcher::new(&terms).ok();
    let mut report = ImportReport {
        received: parsed.mentions.len(),
        errors: parsed
            .errors
            .iter()
            .map(|e| RowProblem {
                row: e.row,
                code: e.code.code().to_owned(),
            })
            .collect(),
        ..ImportReport::default()
    };
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    for m in &parsed.mentions {
        let mut loc = matcher
            .as_ref()
            .map_or(Location::Unmatched, |mt| mt.locate(m));
        if let (Location::Unmatched, Some(h)) = (&loc, feed) {
            loc = Location::Hospital { hospital_id: h };
        }
        let s = store::insert(&mut tx, m, &loc, via, by, now).await?;
        if s.created {
            report.created += 1;
            report.located += usize::from(matches!(loc, Location::Hospital { .. }));
            report.actions_raised += usize::from(s.action_created);
        } else {
            report.duplicates += 1;
        }
    }
    audit.action = format!("social.{via}");
    audit.object_type = Some("social_mentions");
    audit.object_id = feed.map(|h| h.to_string());
    audit.hospital_id = feed.map(|h| h.to_string());
    audit.changes = Some(serde_json::json!({
        "received": report.received, "created": report.created, "duplicates": report.duplicates,
        "located": report.located, "actions_raised": report.actions_raised, "rejected_rows": report.errors.len(),
    }));
    commit_audited(tx, &audit).await?;
    Ok(report)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// json | csv (default: from the Content-Type, else json).
    pub format: Option<String>,
    /// The hospital whose feed this is (default: the caller's; the group's PX Admin may omit it
    /// for a group-wide feed located by handles and keywords only).
    pub hospital_id: Option<Uuid>,
}

/// Parse an upload as JSON or CSV (whole-file problems are a 422 naming `file`).
pub fn parse_upload(format: &str, body: &[u8]) -> ApiResult<Imported> {
    match format {
        "csv" => import::from_csv(body),
        "json" => import::from_json(body),
        _ => return Err(field("format", "must be json or csv")),
    }
    .map_err(|e| field("file", e.code()))
}

/// Import as `p` (API and web UI): authorised at the feed's hospital (or the group).
pub async fn import_as(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    hospital: Option<Uuid>,
    format: &str,
    body: &[u8],
) -> ApiResult<ImportReport> {
    let feed = hospital.or(p.scope().hospital_id());
    if let Some(h) = feed {
        st.db.hospital(&h.to_string()).await?;
    }
    st.authorize(
        p,
        ctx,
        Resource::SocialMention,
        Action::Create,
        ObjectScope::new(feed, None),
        // A creation names no existing object: a denial is 403, as for complaints.
        None,
    )
    .await?;
    let parsed = parse_upload(format, body)?;
    let e = AppState::entry(
        p,
        ctx,
        "",
        "social_mentions",
        "",
        None,
        serde_json::Value::Null,
    );
    store_batch(st, parsed, feed, "import", Some(p.user_id()), e).await
}

#[utoipa::path(post, path = "/api/social/mentions/import", tag = "social", params(ImportQuery),
    request_body(content = String, content_type = "application/json", description = "A JSON array of {source, id?, author?, text, rating?, link?, time} objects, or (text/csv) a CSV file whose header names those columns"),
    responses((status = 200, body = ImportReport, description = "Counts and per-row errors; good rows are stored even when others are rejected"),
        (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn post_import(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = q.format.clone().unwrap_or_else(|| {
        if ct.starts_with("text/csv") {
            "csv".into()
        } else {
            "json".into()
        }
    });
    Ok(Json(
        import_as(&st, &p, &ctx, q.hospital_id, &format, &body).await?,
    ))
}

#[utoipa::path(post, path = "/api/social/webhook/{id}", tag = "social",
    params(("X-PX360-Signature" = String, Header, description = "`sha256=` + hex HMAC-SHA256 of the raw body with the hospital's webhook secret")),
    request_body(content = String, content_type = "application/json", description = "A JSON array of mentions (or one mention object), as for the import"),
    responses((status = 200, body = ImportReport), (status = 401, body = crate::error::Problem, description = "Missing or bad signature, or no secret configured"),
        (status = 422, body = crate::error::Problem), (status = 429)))]
pub async fn post_webhook(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(hospital): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let sig = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    // An unknown hospital and one without a secret answer as a bad signature does: the
    // endpoint discloses nothing to an unsigned caller.
    let secret = st.db.social_webhook_secret(hospital).await?;
    let verified = secret
        .as_deref()
        .map(|s| webhook::verify(s.as_bytes(), sig, &body));
    match verified {
        Some(Ok(())) => {}
        other => {
            let code = match other {
                Some(Err(e)) => e.code(),
                _ => "social.webhook.not_configured",
            };
            metrics::counter!("px360_social_webhook_rejected_total").increment(1);
            st.audit_quiet(AuditEntry {
                actor_type: "webhook",
                ip: ctx.ip.clone(),
                user_agent: ctx.user_agent.clone(),
                action: "social.webhook.rejected".into(),
                object_type: Some("hospital"),
                object_id: Some(hospital.to_string()),
                changes: Some(serde_json::json!({"reason": code})),
                ..AuditEntry::default()
            })
            .await;
            return Err(ApiError::Unauthenticated(
                "missing or bad X-PX360-Signature (sha256=<hex HMAC-SHA256 of the body>)",
            ));
        }
    }
    // One object is a batch of one.
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace());
    let parsed = if trimmed.is_some_and(|i| body[i] == b'{') {
        let mut v = Vec::with_capacity(body.len() + 2);
        v.push(b'[');
        v.extend_from_slice(&body);
        v.push(b']');
        import::from_json(&v)
    } else {
        import::from_json(&body)
    }
    .map_err(|e| field("body", e.code()))?;
    let actor = AuditEntry {
        actor_type: "webhook",
        actor_id: Some(format!("social:{hospital}")),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..AuditEntry::default()
    };
    Ok(Json(
        store_batch(&st, parsed, Some(hospital), "webhook", None, actor).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MentionQuery {
    /// x | facebook | instagram | google_reviews | tiktok | other
    pub source: Option<String>,
    /// new | complaint | action | dismissed
    pub status: Option<String>,
    /// hospital | ambiguous | unmatched | own_post
    pub location: Option<String>,
    /// negative | neutral | positive
    pub sentiment: Option<String>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
    pub before: Option<String>,
}

/// A page of mentions in `p`'s scope (API and web UI).
pub async fn list(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    q: &MentionQuery,
) -> ApiResult<px360_store::page::Page<MentionRow>> {
    st.authorize(
        p,
        ctx,
        Resource::SocialMention,
        Action::Read,
        crate::own_hospital(p),
        None,
    )
    .await?;
    let before = before_param(q.before.as_deref()).map_err(|e| ApiError::Validation(vec![e]))?;
    let f = MentionFilter {
        hospital_id: p.scope().hospital_id().map(|h| h.to_string()),
        source: q.source.clone(),
        status: q.status.clone(),
        location: q.location.clone(),
        sentiment: q.sentiment.clone(),
    };
    Ok(st
        .db
        .mentions(&f, before.as_ref(), q.limit.unwrap_or(50).clamp(1, 200))
        .await?)
}

#[utoipa::path(get, path = "/api/social/mentions", tag = "social", params(MentionQuery),
    responses((status = 200, body = Vec<MentionRow>, description = "Mentions in scope, newest post first, with sentiment and themes",
        headers(("X-Next-Cursor" = String, description = "The `before` value of the next page"))),
        (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list_mentions(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<MentionQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<MentionRow>>)> {
    let page = list(&st, &p, &ctx, &q).await?;
    let headers = next_page_headers(
        "/api/social/mentions",
        &[
            ("source", q.source.as_deref()),
            ("status", q.status.as_deref()),
            ("location", q.location.as_deref()),
            ("sentiment", q.sentiment.as_deref()),
        ],
        page.next.as_ref(),
        q.limit.unwrap_or(50).clamp(1, 200),
    )?;
    Ok((headers, Json(page.rows)))
}

/// A mention in scope for `action`, else 404/403 (audited by `authorize`).
pub async fn load(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    action: Action,
) -> ApiResult<MentionRow> {
    let m = st.db.mention(id).await?;
    st.authorize(
        p,
        ctx,
        Resource::SocialMention,
        action,
        ObjectScope::new(m.hospital_id, None),
        Some(&id.to_string()),
    )
    .await?;
    Ok(m)
}

#[utoipa::path(get, path = "/api/social/mentions/{id}", tag = "social",
    responses((status = 200, body = MentionRow), (status = 404)), security(("bearer" = [])))]
pub async fn get_mention(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<MentionRow>> {
    Ok(Json(load(&st, &p, &ctx, id, Action::Read).await?))
}

pub(crate) fn routes(cfg: &crate::ApiConfig) -> OpenApiRouter<AppState> {
    let mut hook = OpenApiRouter::new().routes(routes!(post_webhook));
    if let Some(c) = tower_governor::governor::GovernorConfigBuilder::default()
        .key_extractor(crate::client_ip::ClientIpKey)
        .period(cfg.events_period)
        .burst_size(cfg.events_burst)
        .finish()
    {
        hook = hook.layer(tower_governor::GovernorLayer::new(c));
    }
    OpenApiRouter::new()
        .merge(hook)
        .routes(routes!(post_import))
        .routes(routes!(list_mentions))
        .routes(routes!(get_mention))
        .merge(crate::social_convert::routes())
}
