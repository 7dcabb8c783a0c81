//! A survey taken by phone, stored as the survey engine stores a web one so that scoring,
//! analytics and the action centre treat it alike: an invitation row with channel `phone`
//! (decision `send`, reason `phone`, already `answered`; its journey id is the call's, so the
//! invitation points back at the call, and it carries the call's department, which the
//! analytics roll-ups count it for) and one submitted response with `mode = 'phone'` and
//! the agent. Answers are scored with `px360_domain::survey::scoring`, the survey's negative
//! rule applied and a negative response raises the same `survey.response.negative` event as
//! on the web. The caller validated the answers with
//! `px360_domain::callcentre::phone_survey::record` and holds the transaction.

use crate::surveys::templates::SurveyVersion;
use crate::surveys::{Language, json};
use crate::{Result, StoreError, ts};
use chrono::{DateTime, Utc};
use px360_domain::survey::negative::SurveyResponseNegative;
use px360_domain::survey::response::CompleteResponse;
use px360_domain::survey::scoring::{self, NpsCategory, ResponseScores};
use serde::Serialize;
use sqlx::AnyConnection;
use uuid::Uuid;

/// What was stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhoneSurveyRecorded {
    pub invitation_id: Uuid,
    pub response_id: Uuid,
    /// Always `phone`.
    pub mode: String,
    pub language: Language,
    pub version: u32,
    pub is_negative: bool,
    #[schema(value_type = Object)]
    pub scores: ResponseScores,
}

pub struct PhoneSurvey<'a> {
    pub hospital_id: Uuid,
    /// The call's department: analytics counts the survey for it (a phone survey has no
    /// journey to take one from).
    pub department_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub call_id: Uuid,
    pub agent_id: Uuid,
    pub version: &'a SurveyVersion,
    pub language: Language,
    pub response: CompleteResponse,
}

fn nps_name(c: NpsCategory) -> Option<String> {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

pub async fn record(
    c: &mut AnyConnection,
    s: PhoneSurvey<'_>,
    at: DateTime<Utc>,
) -> Result<PhoneSurveyRecorded> {
    let survey = &s.version.survey;
    let scores = scoring::score(survey, s.response.answers());
    let negative = survey.negative(&s.response);
    let now = ts(at);
    let invitation = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO survey_invitations (id, hospital_id, patient_id, journey_instance_id, stage_instance_id, template_id, version_id, decision, reason, \
         channel, language, status, send_at, answered_at, status_at, created_at, updated_at, department_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'send', 'phone', 'phone', $8, 'answered', $9, $9, $9, $9, $9, $10)",
    )
    .bind(invitation.to_string())
    .bind(s.hospital_id.to_string())
    .bind(s.patient_id.map(|p| p.to_string()))
    .bind(s.call_id.to_string())
    // A phone survey completes no journey stage: the stage key is the invitation itself, unique.
    .bind(invitation.to_string())
    .bind(s.version.template_id.to_string())
    .bind(s.version.id.to_string())
    .bind(s.language.as_str())
    .bind(&now)
    .bind(s.department_id.map(|d| d.to_string()))
    .execute(&mut *c)
    .await?;
    let response = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO survey_responses (id, invitation_id, hospital_id, template_id, version_id, version, content_hash, language, answers, is_partial, \
         scores, nps_category, is_negative, negative_reasons, started_at, updated_at, submitted_at, mode, agent_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $14, $14, 'phone', $15)",
    )
    .bind(response.to_string())
    .bind(invitation.to_string())
    .bind(s.hospital_id.to_string())
    .bind(s.version.template_id.to_string())
    .bind(s.version.id.to_string())
    .bind(i64::from(survey.version()))
    .bind(survey.content_hash())
    .bind(s.language.as_str())
    .bind(json(s.response.answers()))
    .bind(json(&scores))
    .bind(scores.nps_category.and_then(nps_name))
    .bind(i64::from(negative.is_some()))
    .bind(negative.as_ref().map(|n| json(&n.reasons)))
    .bind(&now)
    .bind(s.agent_id.to_string())
    .execute(&mut *c)
    .await?;
    let is_negative = negative.is_some();
    if let Some(n) = negative {
        let event = n.into_event(survey, response, at);
        sqlx::query(
            "INSERT INTO survey_events (id, hospital_id, kind, response_id, invitation_id, template_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (response_id, kind) DO NOTHING",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(s.hospital_id.to_string())
        .bind(SurveyResponseNegative::EVENT_TYPE)
        .bind(response.to_string())
        .bind(invitation.to_string())
        .bind(s.version.template_id.to_string())
        .bind(json(&event))
        .bind(&now)
        .execute(&mut *c)
        .await?;
    }
    metrics::counter!("px360_survey_responses_total").increment(1);
    Ok(PhoneSurveyRecorded {
        invitation_id: invitation,
        response_id: response,
        mode: "phone".into(),
        language: s.language,
        version: survey.version(),
        is_negative,
        scores,
    })
}

/// The version a phone survey uses: the template's current published one (archived or never
/// published: none), and the template must be group-wide or the call's hospital's.
pub async fn version_for(
    db: &crate::Db,
    template: Uuid,
    hospital: Uuid,
) -> Result<Option<SurveyVersion>> {
    let t = match db.survey_template(template).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if t.hospital_id.is_some_and(|h| h != hospital) {
        return Ok(None);
    }
    db.current_survey_version(template).await
}
