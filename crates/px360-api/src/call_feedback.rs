//! Feedback taken on a call (issue 18, item 2): `POST /api/calls/{id}/feedback` records the
//! compliment, suggestion or concern the caller gave through the feedback store's own intake
//! (validated by `px360_domain::feedback::submission`, sentiment and themes stored, the
//! hospital's sentiment rule applied, a compliment routed to the named staff member's manager,
//! counted by the feedback analytics) with channel `call_centre`, and links it both ways (the
//! call's `feedback_id`, the feedback's `call_id`). One feedback per call: a retry returns the
//! one already taken. Needs the call's update right and the feedback create right where the
//! call lives; audited (`feedback.create`, `call.link`) without the text.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::calls::{field, load};
use crate::complaints::tx_err;
use crate::error::ApiResult;
use crate::feedback::{COUNTRY_CODE, check_target, form_errors};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use px360_domain::callcentre::call::CallError;
use px360_domain::feedback::qr::QrTarget;
use px360_domain::feedback::submission::{Feedback, FeedbackForm};
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::callcentre::calls::{self as calls_store, Call, Link};
use px360_store::feedback::{self as fb_store, FeedbackRow};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// What the caller said, as the agent records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"kind": "compliment", "text": "The nurse on ward 3 was very kind.", "staff_id": null}))]
pub struct CallFeedbackInput {
    /// compliment | suggestion | concern
    pub kind: String,
    /// What the caller said (patient data).
    pub text: String,
    /// en | ar (default: the patient's language).
    pub language: Option<String>,
    /// The department it is about (default: the patient's, else the call's).
    pub department_id: Option<Uuid>,
    /// A named employee of the hospital (of the department, when one is given).
    pub staff_id: Option<Uuid>,
    /// The name the caller gave, when not one of the listed staff.
    pub staff_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallFeedback {
    pub call: Call,
    pub feedback: FeedbackRow,
    /// False when the call already had its feedback (a retry): nothing new was stored.
    pub created: bool,
}

/// Take feedback on call `id` as `p` (API and the call's page).
pub async fn feedback_from_call(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    id: Uuid,
    b: &CallFeedbackInput,
) -> ApiResult<CallFeedback> {
    let call = load(st, p, ctx, id, Action::Update).await?;
    if let Some(fid) = call.feedback_id {
        return Ok(CallFeedback {
            feedback: st.db.feedback(fid).await?,
            call,
            created: false,
        });
    }
    let Some(patient_id) = call.patient_id else {
        return Err(field("patient_id", CallError::PatientRequired.code()));
    };
    let patient = st.db.patient(&patient_id.to_string()).await?;
    let department = match b.department_id {
        Some(d) => Some(d),
        None => patient
            .department_id
            .filter(|_| patient.hospital_id == call.hospital_id)
            .or(call.department_id),
    };
    if let Some(d) = b.department_id {
        match st.db.department(&d.to_string()).await {
            Ok(dep) if dep.hospital_id == call.hospital_id => {}
            Ok(_) | Err(px360_store::StoreError::NotFound) => {
                return Err(field(
                    "department_id",
                    "unknown department of this hospital",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    st.authorize(
        p,
        ctx,
        Resource::Feedback,
        Action::Create,
        crate::obj_of(call.hospital_id, department),
        None,
    )
    .await?;
    let target = QrTarget {
        hospital_id: call.hospital_id,
        department_id: department,
    };
    let staff = b.staff_id.map(|s| s.to_string());
    let mut errs = check_target(st, &target, staff.as_deref()).await?;
    let language = b
        .language
        .clone()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| {
            px360_store::surveys::Language::from_preference(patient.preferred_language.as_str())
                .as_str()
                .to_owned()
        });
    let form = FeedbackForm {
        kind: b.kind.clone(),
        lang: language,
        text: b.text.clone(),
        staff_id: staff.unwrap_or_default(),
        staff_name: b.staff_name.clone().unwrap_or_default(),
        ..FeedbackForm::default()
    };
    let f = match Feedback::parse(target, &form, COUNTRY_CODE) {
        Ok(f) if errs.is_empty() => f,
        Ok(_) => return Err(form_errors(errs)),
        Err(mut e) => {
            e.append(&mut errs);
            return Err(form_errors(e));
        }
    };
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    // The call is locked first: a concurrent request waits here and then sees the feedback.
    if let Some(fid) = calls_store::claim_for_feedback(&mut tx, id).await? {
        tx.rollback().await.map_err(tx_err)?;
        return Ok(CallFeedback {
            feedback: st.db.feedback(fid).await?,
            call: st.db.call(id).await?,
            created: false,
        });
    }
    let r = fb_store::insert_from_call(&mut tx, &f, id, p.user_id(), now).await?;
    let call = calls_store::link(&mut tx, id, Link::Feedback(r.feedback.id), now).await?;
    let h = call.hospital_id.to_string();
    let fid = r.feedback.id.to_string();
    let audit = [
        AppState::entry(
            p,
            ctx,
            "feedback.create",
            "feedback",
            &fid,
            Some(&h),
            serde_json::json!({
                "reference": r.feedback.reference, "kind": r.feedback.kind.as_str(), "channel": "call_centre",
                "call_id": id, "department_id": r.feedback.department_id, "staff_id": r.feedback.staff_id,
                "routed_to": r.routed_to, "sentiment_action_id": r.sentiment.action_id,
            }),
        ),
        AppState::entry(
            p,
            ctx,
            "call.link",
            "call",
            &id.to_string(),
            Some(&h),
            serde_json::json!({"feedback_id": r.feedback.id, "reference": r.feedback.reference}),
        ),
    ];
    px360_store::audit::append_many(&mut tx, &audit).await?;
    tx.commit().await.map_err(tx_err)?;
    Ok(CallFeedback {
        call,
        feedback: r.feedback,
        created: true,
    })
}

#[utoipa::path(post, path = "/api/calls/{id}/feedback", tag = "call centre", request_body = CallFeedbackInput,
    responses((status = 201, body = CallFeedback, description = "Taken now"), (status = 200, body = CallFeedback, description = "The call already had its feedback (a retry)"),
        (status = 403), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn post_feedback(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<CallFeedbackInput>,
) -> ApiResult<(StatusCode, Json<CallFeedback>)> {
    let r = feedback_from_call(&st, &p, &ctx, id, &b).await?;
    let status = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r)))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_feedback))
}
