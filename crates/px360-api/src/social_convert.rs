//! A mention becomes a complaint or an action (or is dismissed), through the API's own
//! operations, as feedback triage does: the domain decides what is allowed
//! (`px360_domain::social::convert::decide`: located at one hospital, not our own post, not
//! already converted, not positive; a star rating outranks the model's sentiment), the
//! complaint intake or `actions::create` makes the case (idempotent on the mention), and the
//! mention records the outcome once, audited.
//!
//! A mention the matcher left at group level (ambiguous or unmatched) is placed at a hospital
//! by hand ([`assign_as`], `POST /api/social/mentions/{id}/assign`): only someone who sees the
//! group's mentions may (PX Admin: unlocated mentions are group-scoped objects), the domain's
//! `social::assign` decides, the text is analysed again under the hospital (its sentiment rule
//! applies), audited `social.assign` with the previous location and candidates.

use crate::AppState;
use crate::actions::ActionInput;
use crate::auth::{Authed, Ctx};
use crate::commit_audited;
use crate::complaints::{ComplaintInput, intake, tx_err, validate_intake};
use crate::error::{ApiError, ApiResult};
use crate::social::load;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use px360_domain::action::origin::ActionOrigin;
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_domain::social::convert::{self, Polarity, Target};
use px360_domain::social::matching::Location;
use px360_domain::social::mention::{Mention, Rating, Source};
use px360_store::social::{self as store, MentionRow};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

fn field(name: &str, msg: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(name, msg)])
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"target": "complaint", "category_code": "waiting_time", "severity": "high"}))]
pub struct ConvertInput {
    /// complaint | action | dismiss
    pub target: String,
    /// A complaint category code (complaint and action).
    pub category_code: Option<String>,
    /// low | medium | high | critical (default medium).
    pub severity: Option<String>,
}

/// The domain's view of a stored mention.
pub fn domain_view(m: &MentionRow) -> (Mention, Location, Option<Polarity>) {
    let mention = Mention {
        source: Source::parse(&m.source).unwrap_or(Source::Other),
        external_id: Some(m.external_id.clone()),
        author_handle: m.author_handle.clone(),
        text: m.body.clone(),
        rating: m
            .rating
            .and_then(|r| u8::try_from(r).ok())
            .and_then(Rating::new),
        link: m.link.clone(),
        posted_at: m.posted_at,
    };
    let location = match (m.location.as_str(), m.hospital_id) {
        ("hospital", Some(h)) => Location::Hospital { hospital_id: h },
        ("own_post", Some(h)) => Location::OwnPost { hospital_id: h },
        ("ambiguous", _) => Location::Ambiguous {
            hospital_ids: m.candidates.clone(),
        },
        _ => Location::Unmatched,
    };
    let polarity = match m.sentiment.as_deref() {
        Some("negative") => Some(Polarity::Negative),
        Some("positive") => Some(Polarity::Positive),
        Some("neutral") => Some(Polarity::Neutral),
        _ => None,
    };
    (mention, location, polarity)
}

/// What the page offers for a mention: the allowed targets and the suggested one, or why none.
pub fn options(m: &MentionRow) -> Result<convert::Convertible, convert::NotConvertible> {
    let (mention, location, polarity) = domain_view(m);
    convert::decide(&mention, &location, polarity, m.status != "new")
}

/// Convert `id` as `p` (API and web UI).
pub async fn convert_as(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &ConvertInput,
) -> ApiResult<MentionRow> {
    let m = load(st, p, ctx, id, Action::Update).await?;
    let wanted = match b.target.as_str() {
        "complaint" => Some(Target::Complaint),
        "action" => Some(Target::Action),
        "dismiss" => None,
        _ => return Err(field("target", "must be complaint, action or dismiss")),
    };
    let status = match wanted {
        Some(Target::Complaint) => "complaint",
        Some(Target::Action) => "action",
        None => "dismissed",
    };
    // A retry of the same conversion answers the same; anything else once handled is 409.
    if m.status != "new" && m.status != status {
        return Err(ApiError::Conflict(format!(
            "mention already handled ({})",
            m.status
        )));
    }
    let now = Utc::now();
    let (complaint, action) = match wanted {
        None => (None, None),
        Some(t) => {
            let (mention, location, polarity) = domain_view(&m);
            let ok = convert::decide(&mention, &location, polarity, false)
                .map_err(|e| field("target", e.code()))?;
            if !ok.allowed.contains(&t) {
                return Err(field("target", "social.convert.not_allowed"));
            }
            let category = b
                .category_code
                .clone()
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| field("category_code", "is required"))?;
            let severity = b.severity.clone().unwrap_or_else(|| "medium".into());
            let hospital = ok.hospital_id;
            if t == Target::Complaint {
                let subject: String = m.body.chars().take(80).collect();
                let input = ComplaintInput {
                    hospital_id: Some(hospital),
                    department_id: None,
                    category_code: category,
                    severity: Some(severity),
                    source_channel: "social_media".into(),
                    source_system: Some("PX360_SOCIAL".into()),
                    external_ref: Some(m.id.to_string()),
                    patient_id: None,
                    physician_id: None,
                    encounter_id: None,
                    subject: subject.lines().next().unwrap_or("").trim().to_owned(),
                    description: m.body.clone(),
                    complainant_name: Some(format!("@{}", m.author_handle)).filter(|h| h.len() > 1),
                    complainant_contact: m.link.clone().filter(|l| l.chars().count() <= 200),
                    language: Some(
                        if m.body
                            .chars()
                            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
                        {
                            "ar".into()
                        } else {
                            "en".into()
                        },
                    ),
                };
                let mut n = validate_intake(st, &input).await?;
                st.authorize(
                    p,
                    ctx,
                    Resource::Complaint,
                    Action::Create,
                    ObjectScope::new(Some(hospital), None),
                    None,
                )
                .await?;
                n.created_by = Some(p.user_id());
                let e = AppState::entry(p, ctx, "", "complaint", "", None, serde_json::Value::Null);
                let (c, _) = intake(st, &n, e).await?;
                (Some(c.id), None)
            } else {
                let input = ActionInput {
                    hospital_id: Some(hospital),
                    department_id: None,
                    title: format!("Social mention ({})", m.source),
                    description: String::new(),
                    category_code: category,
                    severity,
                    owner_id: None,
                    complaint_id: None,
                };
                let origin = ActionOrigin::SocialMention { mention_id: id };
                let (a, _) = crate::actions::create(st, p, ctx, &input, Some(origin)).await?;
                (None, Some(a.id))
            }
        }
    };
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let row = store::set_status(&mut tx, id, status, complaint, action, now).await?;
    if m.status == status {
        tx.rollback().await.map_err(tx_err)?;
        return Ok(row);
    }
    let e = AppState::entry(
        p,
        ctx,
        "social.convert",
        "social_mention",
        &id.to_string(),
        m.hospital_id.map(|h| h.to_string()).as_deref(),
        serde_json::json!({"target": b.target, "complaint_id": complaint, "action_id": action}),
    );
    commit_audited(tx, &e).await?;
    Ok(row)
}

#[utoipa::path(post, path = "/api/social/mentions/{id}/convert", tag = "social", request_body = ConvertInput,
    responses((status = 200, body = MentionRow, description = "The mention with its outcome (a repeated identical conversion answers the same)"),
        (status = 403), (status = 404), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn post_convert(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<ConvertInput>,
) -> ApiResult<Json<MentionRow>> {
    Ok(Json(convert_as(&st, &p, &ctx, id, &b).await?))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"hospital_id": "0190c0de-0000-7000-8000-000000000001"}))]
pub struct AssignInput {
    /// The hospital the mention is about.
    pub hospital_id: Uuid,
}

/// Place mention `id` at a hospital as `p` (API and web UI).
pub async fn assign_as(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &AssignInput,
) -> ApiResult<MentionRow> {
    let m = load(st, p, ctx, id, Action::Update).await?;
    match st.db.hospital(&b.hospital_id.to_string()).await {
        Ok(_) => {}
        Err(px360_store::StoreError::NotFound) => {
            return Err(field("hospital_id", "unknown hospital"));
        }
        Err(e) => return Err(e.into()),
    }
    // The mention will live at the hospital: the caller must be allowed to handle it there.
    st.authorize(
        p,
        ctx,
        Resource::SocialMention,
        Action::Update,
        ObjectScope::new(Some(b.hospital_id), None),
        None,
    )
    .await?;
    let (_, location, _) = domain_view(&m);
    match px360_domain::social::assign::assign(&location, b.hospital_id) {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(m),
        Err(e) => return Err(ApiError::Conflict(e.code().into())),
    }
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let (row, rec) = store::assign(&mut tx, id, b.hospital_id, p.user_id(), now)
        .await
        .map_err(|e| match e {
            px360_store::StoreError::Conflict(_) => {
                ApiError::Conflict("social.assign.already_located".into())
            }
            e => e.into(),
        })?;
    let e = AppState::entry(
        p,
        ctx,
        "social.assign",
        "social_mention",
        &id.to_string(),
        Some(&b.hospital_id.to_string()),
        serde_json::json!({"from": m.location, "candidates": m.candidates, "hospital_id": b.hospital_id,
            "sentiment_action_id": rec.action_id}),
    );
    commit_audited(tx, &e).await?;
    Ok(row)
}

#[utoipa::path(post, path = "/api/social/mentions/{id}/assign", tag = "social", request_body = AssignInput,
    responses((status = 200, body = MentionRow, description = "The mention at its hospital (assigning again to the same hospital answers the same)"),
        (status = 403), (status = 404), (status = 409, body = crate::error::Problem, description = "Already located at a hospital"),
        (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn post_assign(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<AssignInput>,
) -> ApiResult<Json<MentionRow>> {
    Ok(Json(assign_as(&st, &p, &ctx, id, &b).await?))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_convert))
        .routes(routes!(post_assign))
}
