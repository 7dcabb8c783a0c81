//! The survey template editor under `/ui/surveys` (issue 15, item 1's web UI): the list, a new
//! draft, editing a draft (questions in English and Arabic, conditions, the negative rule),
//! previews of the patient page in both languages, publish and archive.
//!
//! The rules are the store's and the domain's: `px360_store::surveys::templates` edits, freezes
//! and archives (auditing each change in its transaction with the signed-in user as actor);
//! RBAC is the API's (`Resource::SurveyTemplate`: reads in scope, group-wide templates written
//! by group-scoped roles only), with the same 404/403 split.

pub mod form;

use crate::error::UiError;
use crate::i18n::{Label, Lang, Tr};
use crate::page::{Chrome, Nav, Req, Stamp, render, stamp};
use crate::session::Session;
use crate::survey_page::{self, Mode, respond};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use form::{DraftError, EditorForm, FieldErr, KINDS, QForm, SUBJECTS, TESTS};
use px360_api::auth::Ctx;
use px360_api::{AppState, own_scope};
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_domain::survey::content::Issue;
use px360_domain::survey::lifecycle::{LifecycleError, Status};
use px360_domain::survey::publish::PublishError;
use px360_store::StoreError;
use px360_store::surveys::Actor;
use px360_store::surveys::templates::{
    NewSurveyTemplate, SurveyTemplate, SurveyTemplateChanges, SurveyTemplateError,
};
use uuid::Uuid;

const RESOURCE: Resource = Resource::SurveyTemplate;

fn actor(s: &Session, ctx: &Ctx) -> Actor {
    Actor {
        actor_type: "user",
        actor_id: Some(s.principal.user_id().to_string()),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
    }
}

/// Where a template lives for writes: group-wide ones need a group scope.
fn location(hospital: Option<Uuid>) -> ObjectScope {
    match hospital {
        None => ObjectScope::Group,
        Some(h) => ObjectScope::Hospital { hospital_id: h },
    }
}

/// Reads: group-wide templates and the caller's own hospital's are in everyone's scope.
fn read_location(p: &Principal, hospital: Option<Uuid>) -> ObjectScope {
    match hospital {
        None => own_scope(p),
        Some(h) if p.scope().hospital_id() == Some(h) => own_scope(p),
        Some(h) => location(Some(h)),
    }
}

async fn load(
    st: &AppState,
    s: &Session,
    ctx: &Ctx,
    id: &str,
    action: Action,
) -> Result<SurveyTemplate, UiError> {
    let uid = Uuid::parse_str(id).map_err(|_| UiError::NotFound)?;
    let t = st.db.survey_template(uid).await?;
    let p = &s.principal;
    let loc = match action {
        Action::Read => read_location(p, t.hospital_id),
        _ => location(t.hospital_id),
    };
    st.authorize(p, ctx, RESOURCE, action, loc, Some(id))
        .await?;
    Ok(t)
}

fn status_badge(t: &Tr, s: Status) -> (String, &'static str) {
    let class = match s {
        Status::Draft => "text-bg-secondary",
        Status::Published => "text-bg-success",
        Status::Archived => "text-bg-light border",
    };
    (t.get(&format!("surveys-status-{}", s.as_str())), class)
}

struct Row {
    id: Uuid,
    name: String,
    code: String,
    scope: Label,
    status_label: String,
    status_class: &'static str,
    version: String,
    updated: Stamp,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<Row>,
    may_create: bool,
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(p, &ctx, RESOURCE, Action::Read, own_scope(p), None)
        .await?;
    let t = req.t();
    let templates = st.db.survey_templates(p.scope().hospital_id()).await?;
    let names = if templates.is_empty() {
        Default::default()
    } else {
        st.db.org_names().await?
    };
    let rows = templates
        .into_iter()
        .map(|x| {
            let (status_label, status_class) = status_badge(&t, x.status);
            Row {
                id: x.id,
                scope: match x.hospital_id {
                    None => Label {
                        text: t.get("surveys-group-wide"),
                        data: false,
                    },
                    Some(h) => Label::data(
                        names
                            .get(&h.to_string())
                            .map(String::as_str)
                            .unwrap_or_default(),
                    ),
                },
                version: match x.published_version {
                    Some(v) => t.with(
                        "surveys-version-published",
                        &[
                            ("draft", i64::from(x.version).into()),
                            ("published", i64::from(v).into()),
                        ],
                    ),
                    None => t.with(
                        "surveys-version-draft",
                        &[("draft", i64::from(x.version).into())],
                    ),
                },
                updated: stamp(&t, &x.updated_at.to_rfc3339(), "UTC"),
                name: x.name,
                code: x.code,
                status_label,
                status_class,
            }
        })
        .collect();
    render(&ListPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Surveys, "surveys-title"),
        t,
        rows,
        may_create: p.may(RESOURCE, Action::Create, &own_scope(p)),
    })
}

#[derive(Template)]
#[template(path = "survey_edit.html")]
struct EditPage {
    chrome: Chrome,
    t: Tr,
    id: Option<Uuid>,
    action: String,
    name_shown: Option<String>,
    status: Option<(String, &'static str)>,
    version_line: Option<String>,
    notice: Option<String>,
    conflict: Option<String>,
    /// (question key, message): publish issues or size limits.
    issues: Vec<(Option<String>, String)>,
    issues_alert: bool,
    may_publish: bool,
    may_archive: bool,
    readonly: bool,
    code: String,
    name: String,
    scope: String,
    scopes: Vec<(String, String, bool)>,
    form: EditorForm,
    errors: Vec<FieldErr>,
    kinds: &'static [&'static str],
    subjects: &'static [&'static str],
    tests: &'static [&'static str],
}

impl EditPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| self.t.get(e.code))
    }
    fn qerr(&self, i: &usize, field: &str) -> Option<String> {
        self.err(&format!("q{i}_{field}"))
    }
}

/// Publish issues (and size limits) as lines for the page.
fn issue_lines(t: &Tr, issues: &[Issue]) -> Vec<(Option<String>, String)> {
    issues
        .iter()
        .map(|i| {
            let code = serde_json::to_value(i)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_default();
            let at = match (&i.question, &i.option) {
                (Some(q), Some(o)) => Some(format!("{q} / {o}")),
                (Some(q), None) => Some(q.to_string()),
                _ => None,
            };
            (at, t.get(&format!("surveys-issue-{code}")))
        })
        .collect()
}

/// Everything the edit page shows besides the form itself.
struct Shown<'a> {
    template: Option<&'a SurveyTemplate>,
    notice: Option<&'static str>,
    conflict: Option<&'static str>,
    issues: Vec<Issue>,
    issues_alert: bool,
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    shown: Shown<'_>,
    code: String,
    name: String,
    scope: String,
    form: EditorForm,
    errors: Vec<FieldErr>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let t = req.t();
    let p = &s.principal;
    let mut form = form;
    let readonly = shown.template.is_some_and(|x| {
        x.status == Status::Archived || !p.may(RESOURCE, Action::Update, &location(x.hospital_id))
    });
    if !readonly {
        // The empty block that adds a question.
        form.questions.push(QForm {
            kind: "rating".into(),
            subject: "none".into(),
            ..Default::default()
        });
    }
    let scopes = if shown.template.is_none() {
        let mut v = Vec::new();
        if p.may(RESOURCE, Action::Create, &ObjectScope::Group) {
            v.push(("group".to_owned(), t.get("surveys-group-wide"), false));
        }
        let only = p.scope().hospital_id().map(|h| h.to_string());
        for h in st.db.hospitals(only.as_deref()).await? {
            v.push((h.id.to_string(), h.name.clone(), true));
        }
        v
    } else {
        Vec::new()
    };
    let mut issues = issue_lines(&t, &shown.issues);
    if let Some(x) = shown.template
        && x.status == Status::Draft
        && shown.issues.is_empty()
    {
        issues = issue_lines(&t, &x.content.publish_issues());
    }
    let page = EditPage {
        chrome: Chrome::new(req, Some(s), Nav::Surveys, "surveys-title"),
        id: shown.template.map(|x| x.id),
        action: match shown.template {
            Some(x) => format!("/ui/surveys/{}", x.id),
            None => "/ui/surveys/new".into(),
        },
        name_shown: shown.template.map(|x| x.name.clone()),
        status: shown.template.map(|x| status_badge(&t, x.status)),
        version_line: shown.template.map(|x| match x.published_version {
            Some(v) => t.with(
                "surveys-version-published",
                &[
                    ("draft", i64::from(x.version).into()),
                    ("published", i64::from(v).into()),
                ],
            ),
            None => t.with(
                "surveys-version-draft",
                &[("draft", i64::from(x.version).into())],
            ),
        }),
        notice: shown.notice.map(|k| t.get(k)),
        conflict: shown.conflict.map(|k| t.get(k)),
        issues_alert: shown.issues_alert,
        issues,
        may_publish: !readonly && shown.template.is_some_and(|x| x.status == Status::Draft),
        may_archive: !readonly && shown.template.is_some(),
        readonly,
        code,
        name,
        scope,
        scopes,
        form,
        errors,
        kinds: &KINDS,
        subjects: &SUBJECTS,
        tests: &TESTS,
        t,
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

pub async fn new_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(p, &ctx, RESOURCE, Action::Create, own_scope(p), None)
        .await?;
    let scope = p
        .scope()
        .hospital_id()
        .map(|h| h.to_string())
        .unwrap_or_else(|| "group".into());
    let none = Shown {
        template: None,
        notice: None,
        conflict: None,
        issues: Vec::new(),
        issues_alert: false,
    };
    edit_page(
        &st,
        &req,
        &s,
        none,
        String::new(),
        String::new(),
        scope,
        EditorForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A store refusal of a name or code, next to its field.
fn store_field_error(e: &StoreError) -> Option<FieldErr> {
    match e {
        StoreError::Invalid(m) if m.starts_with("code") => Some(FieldErr {
            field: "code".into(),
            code: "surveys-code-invalid",
        }),
        StoreError::Invalid(m) if m.starts_with("name") => Some(FieldErr {
            field: "name".into(),
            code: "surveys-name-invalid",
        }),
        StoreError::Constraint(_) | StoreError::Conflict(_) => Some(FieldErr {
            field: "code".into(),
            code: "surveys-code-taken",
        }),
        _ => None,
    }
}

pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let pairs = pairs(&body);
    let scope = field(&pairs, "scope").to_owned();
    let hospital = match scope.as_str() {
        "group" => None,
        h => Some(Uuid::parse_str(h).map_err(|_| UiError::NotFound)?),
    };
    st.authorize(p, &ctx, RESOURCE, Action::Create, location(hospital), None)
        .await?;
    let code = field(&pairs, "code").trim().to_owned();
    let name = field(&pairs, "name").trim().to_owned();
    let form = EditorForm::from_pairs(&pairs);
    let none = |issues, alert| Shown {
        template: None,
        notice: None,
        conflict: None,
        issues,
        issues_alert: alert,
    };
    let content = match form.to_content() {
        Ok(c) => c,
        Err(DraftError::Fields(errs)) => {
            return edit_page(
                &st,
                &req,
                &s,
                none(Vec::new(), false),
                code,
                name,
                scope,
                form,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(DraftError::Bounds(issues)) => {
            return edit_page(
                &st,
                &req,
                &s,
                none(issues, true),
                code,
                name,
                scope,
                form,
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let new = NewSurveyTemplate {
        hospital_id: hospital,
        code: code.clone(),
        name: name.clone(),
        content,
        policy: Default::default(),
    };
    match st.db.create_survey_template(&actor(&s, &ctx), &new).await {
        Ok(t) => Ok(Redirect::to(&format!("/ui/surveys/{}?saved=created", t.id)).into_response()),
        Err(e) => match store_field_error(&e) {
            Some(fe) => {
                edit_page(
                    &st,
                    &req,
                    &s,
                    none(Vec::new(), false),
                    code,
                    name,
                    scope,
                    form,
                    vec![fe],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

fn saved_notice(req: &Req) -> Option<&'static str> {
    match req.param("saved") {
        Some("created") => Some("surveys-saved-created"),
        Some("draft") => Some("surveys-saved-draft"),
        Some("published") => Some("surveys-saved-published"),
        Some("archived") => Some("surveys-saved-archived"),
        _ => None,
    }
}

pub async fn edit(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let t = load(&st, &s, &ctx, &id, Action::Read).await?;
    let shown = Shown {
        template: Some(&t),
        notice: saved_notice(&req),
        conflict: None,
        issues: Vec::new(),
        issues_alert: false,
    };
    edit_page(
        &st,
        &req,
        &s,
        shown,
        t.code.clone(),
        t.name.clone(),
        String::new(),
        EditorForm::of(&t.content),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

fn lifecycle_conflict(e: &LifecycleError) -> &'static str {
    match e {
        LifecycleError::Archived => "surveys-conflict-archived",
        LifecycleError::AlreadyPublished => "surveys-conflict-published",
        LifecycleError::Publish(_) => "surveys-conflict-not-ready",
    }
}

pub async fn save(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, UiError> {
    let t = load(&st, &s, &ctx, &id, Action::Update).await?;
    let pairs = pairs(&body);
    let name = field(&pairs, "name").trim().to_owned();
    let form = EditorForm::from_pairs(&pairs);
    let again = |issues, alert, conflict, errs: Vec<FieldErr>, form: EditorForm, name: String| {
        let st = st.clone();
        let (req, s, t) = (&req, &s, &t);
        async move {
            let shown = Shown {
                template: Some(t),
                notice: None,
                conflict,
                issues,
                issues_alert: alert,
            };
            edit_page(
                &st,
                req,
                s,
                shown,
                t.code.clone(),
                name,
                String::new(),
                form,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let content = match form.to_content() {
        Ok(c) => c,
        Err(DraftError::Fields(errs)) => {
            return again(Vec::new(), false, None, errs, form, name).await;
        }
        Err(DraftError::Bounds(issues)) => {
            return again(issues, true, None, Vec::new(), form, name).await;
        }
    };
    let changes = SurveyTemplateChanges {
        name: Some(name.clone()),
        content: Some(content),
        policy: None,
    };
    match st
        .db
        .update_survey_template(&actor(&s, &ctx), t.id, &changes)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/ui/surveys/{}?saved=draft", t.id)).into_response()),
        Err(SurveyTemplateError::Lifecycle(e)) => {
            again(
                Vec::new(),
                false,
                Some(lifecycle_conflict(&e)),
                Vec::new(),
                form,
                name,
            )
            .await
        }
        Err(SurveyTemplateError::Store(e)) => match store_field_error(&e) {
            Some(fe) => again(Vec::new(), false, None, vec![fe], form, name).await,
            None => Err(e.into()),
        },
    }
}

pub async fn publish(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let t = load(&st, &s, &ctx, &id, Action::Update).await?;
    match st.db.publish_survey_template(&actor(&s, &ctx), t.id).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/surveys/{}?saved=published", t.id)).into_response()),
        Err(SurveyTemplateError::Lifecycle(e)) => {
            let issues = match &e {
                LifecycleError::Publish(PublishError::Invalid(v)) => v.clone(),
                _ => Vec::new(),
            };
            let shown = Shown {
                template: Some(&t),
                notice: None,
                conflict: Some(lifecycle_conflict(&e)),
                issues,
                issues_alert: true,
            };
            edit_page(
                &st,
                &req,
                &s,
                shown,
                t.code.clone(),
                t.name.clone(),
                String::new(),
                EditorForm::of(&t.content),
                Vec::new(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(SurveyTemplateError::Store(e)) => Err(e.into()),
    }
}

pub async fn archive(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let t = load(&st, &s, &ctx, &id, Action::Update).await?;
    match st.db.archive_survey_template(&actor(&s, &ctx), t.id).await {
        Ok(_) => Ok(Redirect::to(&format!("/ui/surveys/{}?saved=archived", t.id)).into_response()),
        Err(SurveyTemplateError::Lifecycle(e)) => {
            let shown = Shown {
                template: Some(&t),
                notice: None,
                conflict: Some(lifecycle_conflict(&e)),
                issues: Vec::new(),
                issues_alert: false,
            };
            edit_page(
                &st,
                &req,
                &s,
                shown,
                t.code.clone(),
                t.name.clone(),
                String::new(),
                EditorForm::of(&t.content),
                Vec::new(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(SurveyTemplateError::Store(e)) => Err(e.into()),
    }
}

/// The patient page for the current draft (or, for a published template, its content), in
/// one language, with the patient page's own look and headers.
pub async fn preview(
    State(st): State<AppState>,
    s: Session,
    ctx: Ctx,
    Path((id, lang)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let lang = Lang::parse(&lang).ok_or(UiError::NotFound)?;
    let t = load(&st, &s, &ctx, &id, Action::Read).await?;
    let back = format!("/ui/surveys/{}", t.id);
    let html = survey_page::survey_page(
        &t.content,
        lang,
        Mode::Preview { back: &back },
        &Default::default(),
        &[],
        None,
    );
    Ok(respond(StatusCode::OK, html, lang))
}
