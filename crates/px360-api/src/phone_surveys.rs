//! Surveys taken by phone during a call: the agent picks a published survey template, reads its
//! questions in the patient's language (`px360_domain::callcentre::phone_survey::script`) and
//! keys the answers in; they are validated by the survey engine itself
//! (`phone_survey::record`), scored and stored as a response with mode `phone` behind an
//! invitation with channel `phone` (`px360_store::callcentre::phone_survey`), so analytics and
//! the action centre count it like a web response. One survey per call.

use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::calls::{field, load};
use crate::complaints::tx_err;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use px360_domain::callcentre::call::CallError;
use px360_domain::callcentre::phone_survey::{record, script};
use px360_domain::event::FieldError;
use px360_domain::rbac::{Action, Principal};
use px360_domain::survey::question::Lang;
use px360_domain::survey::response::Submission;
use px360_store::callcentre::calls::{self as call_store, Link};
use px360_store::callcentre::phone_survey::{self as store, PhoneSurvey, PhoneSurveyRecorded};
use px360_store::surveys::Language;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// A survey an agent may take by phone in a hospital.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhoneTemplate {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub version: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScriptOption {
    pub key: String,
    pub label: String,
}

/// One question as the agent reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScriptQuestion {
    pub key: String,
    pub text: String,
    pub required: bool,
    /// `rating` (1–5), `nps` (0–10), `frequency` (never … always), `yes_no`,
    /// `single_choice`, `multiple_choice` or `free_text`.
    pub kind: String,
    pub options: Vec<ScriptOption>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhoneScript {
    pub template_id: Uuid,
    pub version: u32,
    /// The patient's language: `en` or `ar`.
    pub language: String,
    pub title: String,
    pub questions: Vec<ScriptQuestion>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhoneSurveyView {
    /// Published templates of the call's hospital (and group-wide ones).
    pub templates: Vec<PhoneTemplate>,
    /// The chosen template's script (with `template_id`).
    pub script: Option<PhoneScript>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ScriptQuery {
    pub template_id: Option<Uuid>,
    /// `en` or `ar` (default: the patient's preferred language).
    pub language: Option<String>,
}

/// Published templates usable in `hospital`.
pub async fn templates(st: &AppState, hospital: Uuid) -> ApiResult<Vec<PhoneTemplate>> {
    let mut out = Vec::new();
    for t in st.db.survey_templates(Some(hospital)).await? {
        if t.published_version.is_none() {
            continue;
        }
        if let Some(v) = st.db.current_survey_version(t.id).await? {
            out.push(PhoneTemplate {
                id: t.id,
                code: t.code,
                name: t.name,
                version: v.version,
            });
        }
    }
    Ok(out)
}

fn kind_name(k: &px360_domain::survey::question::QuestionKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The patient's language for the survey: asked, else their preference (anything but Arabic
/// reads as English, as for web invitations).
async fn language(
    st: &AppState,
    patient: Option<Uuid>,
    asked: Option<&str>,
) -> ApiResult<Language> {
    if let Some(a) = asked.filter(|a| !a.is_empty()) {
        return Language::parse(a).ok_or_else(|| field("language", "must be en or ar"));
    }
    Ok(match patient {
        Some(id) => {
            let pt = st.db.patient(&id.to_string()).await?;
            Language::from_preference(pt.preferred_language.as_str())
        }
        None => Language::En,
    })
}

fn lang_of(l: Language) -> Lang {
    match l {
        Language::En => Lang::En,
        Language::Ar => Lang::Ar,
    }
}

/// The templates and, with `template_id`, the script in the patient's language.
pub async fn view(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    call: Uuid,
    q: &ScriptQuery,
) -> ApiResult<PhoneSurveyView> {
    let c = load(st, p, ctx, call, Action::Update).await?;
    let templates = templates(st, c.hospital_id).await?;
    let script = match q.template_id {
        None => None,
        Some(t) => {
            let v = store::version_for(&st.db, t, c.hospital_id)
                .await?
                .ok_or_else(|| {
                    field("template_id", "is not a published survey of this hospital")
                })?;
            let lang = language(st, c.patient_id, q.language.as_deref()).await?;
            let l = lang_of(lang);
            Some(PhoneScript {
                template_id: t,
                version: v.version,
                language: lang.as_str().into(),
                title: v.survey.content().title.get(l).to_owned(),
                questions: script(&v.survey, l)
                    .into_iter()
                    .zip(v.survey.content().questions.iter())
                    .map(|(line, q)| ScriptQuestion {
                        key: line.key.as_str().to_owned(),
                        text: line.text.to_owned(),
                        required: line.required,
                        kind: kind_name(&q.kind),
                        options: line
                            .options
                            .iter()
                            .map(|(k, label)| ScriptOption {
                                key: k.as_str().to_owned(),
                                label: (*label).to_owned(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        }
    };
    Ok(PhoneSurveyView { templates, script })
}

#[utoipa::path(get, path = "/api/calls/{id}/phone-survey", tag = "call centre", params(ScriptQuery),
    responses((status = 200, body = PhoneSurveyView), (status = 404), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn get_phone_survey(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<ScriptQuery>,
) -> ApiResult<Json<PhoneSurveyView>> {
    Ok(Json(view(&st, &p, &ctx, id, &q).await?))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PhoneSurveyInput {
    pub template_id: Uuid,
    /// `en` or `ar` (default: the patient's preferred language).
    pub language: Option<String>,
    /// Answers by question key: a value, or a list for a multiple choice (the same values the
    /// web form posts: `"9"`, `"always"`, `"yes"`, option keys, text).
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// The answers as the survey engine's form submission.
fn submission(answers: &BTreeMap<String, serde_json::Value>) -> ApiResult<Submission> {
    let mut pairs = Vec::new();
    let one = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        _ => None,
    };
    for (k, v) in answers {
        let values: Vec<String> = match v {
            serde_json::Value::Array(a) => a.iter().filter_map(one).collect(),
            serde_json::Value::Null => continue,
            v => one(v).into_iter().collect(),
        };
        for x in values {
            pairs.push((k.clone(), x));
        }
    }
    Submission::from_pairs(pairs).map_err(|e| field("answers", &e.to_string()))
}

/// Validate, score and store the answers an agent keyed in, link them to the call; audited.
pub async fn take(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    call: Uuid,
    b: &PhoneSurveyInput,
) -> ApiResult<PhoneSurveyRecorded> {
    let c = load(st, p, ctx, call, Action::Update).await?;
    if c.patient_id.is_none() {
        return Err(field("patient_id", CallError::PatientRequired.code()));
    }
    if c.survey_response_id.is_some() {
        return Err(ApiError::Conflict(
            "this call already has a phone survey".into(),
        ));
    }
    let version = store::version_for(&st.db, b.template_id, c.hospital_id)
        .await?
        .ok_or_else(|| field("template_id", "is not a published survey of this hospital"))?;
    let lang = language(st, c.patient_id, b.language.as_deref()).await?;
    let sub = submission(&b.answers)?;
    let phone =
        record(&version.survey, lang_of(lang), p.user_id(), &sub).map_err(|e| answer_errors(&e))?;
    let response = phone
        .outcome
        .require_complete()
        .map_err(|e| answer_errors(&e))?;
    let now = Utc::now();
    let mut tx = st.db.writer.begin().await.map_err(tx_err)?;
    let rec = store::record(
        &mut tx,
        PhoneSurvey {
            hospital_id: c.hospital_id,
            department_id: c.department_id,
            patient_id: c.patient_id,
            call_id: c.id,
            agent_id: p.user_id(),
            version: &version,
            language: lang,
            response,
        },
        now,
    )
    .await?;
    call_store::link(&mut tx, c.id, Link::SurveyResponse(rec.response_id), now).await?;
    let h = c.hospital_id.to_string();
    let audit = [
        AppState::entry(
            p,
            ctx,
            "survey.response.phone",
            "survey_response",
            &rec.response_id.to_string(),
            Some(&h),
            serde_json::json!({"call_id": c.id, "invitation_id": rec.invitation_id, "template_id": b.template_id,
                               "version": rec.version, "language": lang.as_str(), "negative": rec.is_negative}),
        ),
        AppState::entry(
            p,
            ctx,
            "call.link",
            "call",
            &c.id.to_string(),
            Some(&h),
            serde_json::json!({"survey_response_id": rec.response_id}),
        ),
    ];
    px360_store::audit::append_many(&mut tx, &audit).await?;
    tx.commit().await.map_err(tx_err)?;
    Ok(rec)
}

/// Each rejected answer as a field error named by its question key, with the survey engine's
/// message code (`survey-answer-required`, `survey-answer-out-of-range`, …).
fn answer_errors(e: &px360_domain::survey::response::ResponseErrors) -> ApiError {
    ApiError::Validation(
        e.errors
            .iter()
            .map(|x| FieldError::new(x.key.clone(), x.code.as_str()))
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/calls/{id}/phone-survey", tag = "call centre", request_body = PhoneSurveyInput,
    responses((status = 201, body = PhoneSurveyRecorded), (status = 404), (status = 409), (status = 422, body = crate::error::Problem)), security(("bearer" = [])))]
pub async fn post_phone_survey(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Json(b): Json<PhoneSurveyInput>,
) -> ApiResult<(StatusCode, Json<PhoneSurveyRecorded>)> {
    Ok((
        StatusCode::CREATED,
        Json(take(&st, &p, &ctx, id, &b).await?),
    ))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_phone_survey, post_phone_survey))
}
