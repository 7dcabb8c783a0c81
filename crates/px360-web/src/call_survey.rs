//! A survey taken by phone (`/ui/calls/{id}/survey`): the agent picks a published survey, the
//! page shows its questions and answer choices in the patient's language (the survey page's own
//! question model, `survey_page::view::build`) for the agent to read out, and the answers go to
//! the API's `phone_surveys::take` (validated by the survey engine, scored, mode phone). The
//! script is survey content in the patient's language, so it is marked as data with its own
//! `lang` and `dir` inside a page in the agent's language.

use crate::error::UiError;
use crate::i18n::{Lang, Tr};
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use crate::survey_page::form::Values;
use crate::survey_page::view::{QuestionView, build};
use crate::work::Pick;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::phone_surveys::{PhoneSurveyInput, ScriptQuery, take, view};
use px360_domain::survey::response::{ErrorCode, FieldError};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "call_survey.html")]
struct Page {
    chrome: Chrome,
    t: Tr,
    id: String,
    templates: Vec<Pick>,
    languages: Vec<Pick>,
    template_id: String,
    /// The script: patient's language code and direction, title, questions.
    script: Option<(String, String, String)>,
    questions: Vec<QuestionView>,
    problems: Vec<String>,
}

const CODES: [ErrorCode; 8] = [
    ErrorCode::Required,
    ErrorCode::NotANumber,
    ErrorCode::OutOfRange,
    ErrorCode::NotAnOption,
    ErrorCode::OneValueOnly,
    ErrorCode::TooLong,
    ErrorCode::InvalidText,
    ErrorCode::UnknownQuestion,
];

fn parse_id(id: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(id).map_err(|_| UiError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn show(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: Uuid,
    template: Option<Uuid>,
    language: Option<String>,
    values: &Values,
    errors: &[FieldError],
    problems: Vec<String>,
) -> Result<Response, UiError> {
    let t = req.t();
    let v = match view(
        st,
        &s.principal,
        ctx,
        id,
        &ScriptQuery {
            template_id: template,
            language: language.clone(),
        },
    )
    .await
    {
        Ok(v) => v,
        // A template that is not (or no longer) published here: the choice again.
        Err(ApiError::Validation(_)) => {
            view(st, &s.principal, ctx, id, &ScriptQuery::default()).await?
        }
        Err(e) => return Err(e.into()),
    };
    let call = st.db.call(id).await?;
    let chosen = v
        .script
        .as_ref()
        .map(|x| x.template_id.to_string())
        .unwrap_or_default();
    let mut templates = vec![Pick::msg("", t.get("call-survey-choose"), &chosen)];
    templates.extend(
        v.templates
            .iter()
            .map(|x| Pick::data(&x.id.to_string(), &x.name, &chosen)),
    );
    let asked = language.clone().unwrap_or_default();
    let languages = vec![
        Pick::msg("", t.get("call-survey-patient-language"), &asked),
        Pick::msg("en", t.get("language-en"), &asked),
        Pick::msg("ar", t.get("language-ar"), &asked),
    ];
    let (script, questions) = match &v.script {
        Some(sc) => {
            let ver = px360_store::callcentre::phone_survey::version_for(
                &st.db,
                sc.template_id,
                call.hospital_id,
            )
            .await?
            .ok_or(UiError::NotFound)?;
            let pl = Lang::parse(&sc.language).unwrap_or_default();
            let built = build(ver.survey.content(), pl, values, errors);
            (
                Some((sc.language.clone(), pl.dir().to_owned(), sc.title.clone())),
                built.questions,
            )
        }
        None => (None, Vec::new()),
    };
    let status = if errors.is_empty() && problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut r = render(&Page {
        chrome: Chrome::new(req, Some(s), Nav::Calls, "call-survey-title"),
        id: id.to_string(),
        templates,
        languages,
        template_id: chosen,
        script,
        questions,
        problems,
        t,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let template = req.param("template").and_then(|x| Uuid::parse_str(x).ok());
    let language = req
        .param("language")
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    show(
        &st,
        &req,
        &s,
        &ctx,
        id,
        template,
        language,
        &Values::new(),
        &[],
        Vec::new(),
    )
    .await
}

pub async fn submit(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, UiError> {
    let id = parse_id(&id)?;
    let t = req.t();
    let mut template = None;
    let mut language = None;
    let mut values = Values::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if k == "template_id" {
            template = Uuid::parse_str(v.trim()).ok();
        } else if k == "language" {
            language = Some(v).filter(|l| !l.is_empty());
        } else {
            values.entry(k).or_default().push(v);
        }
    }
    let Some(template_id) = template else {
        return show(
            &st,
            &req,
            &s,
            &ctx,
            id,
            None,
            language,
            &values,
            &[],
            vec![t.get("call-survey-error-template_id")],
        )
        .await;
    };
    let answers: BTreeMap<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
        .collect();
    let input = PhoneSurveyInput {
        template_id,
        language: language.clone(),
        answers,
    };
    match take(&st, &s.principal, &ctx, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/calls/{id}?done=survey")).into_response()),
        Err(ApiError::Validation(errs)) => {
            let mut per_question = Vec::new();
            let mut problems = Vec::new();
            for e in errs {
                match CODES.iter().find(|c| c.as_str() == e.message) {
                    Some(code) => per_question.push(FieldError {
                        key: e.field.clone(),
                        code: *code,
                    }),
                    None => problems.push(t.get(&format!("call-survey-error-{}", e.field))),
                }
            }
            if !per_question.is_empty() {
                problems.insert(0, t.get("call-survey-error-answers"));
            }
            show(
                &st,
                &req,
                &s,
                &ctx,
                id,
                Some(template_id),
                language,
                &values,
                &per_question,
                problems,
            )
            .await
        }
        Err(ApiError::Conflict(_)) => {
            show(
                &st,
                &req,
                &s,
                &ctx,
                id,
                Some(template_id),
                language,
                &values,
                &[],
                vec![t.get("call-survey-error-taken")],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
