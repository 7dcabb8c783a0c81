//! Journey templates: the list with each template's stage sequence, a form for a new template
//! (with its first stage), and a template's page where its name and stages are edited (add,
//! reorder, remove; the event code that completes each stage).
//!
//! Every change goes through the API's own handlers (`px360_api::templates`): the same RBAC
//! (group-wide templates: PX Admin; a hospital's: its Hospital Admin), the same validation and
//! the same audit records. Journeys already started keep the stage list they started with; the
//! page says so.

use crate::error::UiError;
use crate::forms::{Errors, from_api, opt};
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::{Authed, Ctx};
use px360_api::error::ApiError;
use px360_api::own_scope;
use px360_api::templates::{self as api, NewStage};
use px360_domain::rbac::{Action, Principal, Resource};
use px360_store::templates::{
    JourneyTemplate, NewJourneyTemplate, NewStageTemplate, StageChanges, TemplateChanges,
};
use serde::Deserialize;

/// One stage as the pages show it.
pub struct StageItem {
    pub id: String,
    pub position: i64,
    pub code: String,
    pub label: Label,
    pub name: String,
    pub event_code: String,
}

pub struct TemplateItem {
    pub id: String,
    pub code: String,
    pub label: Label,
    /// "Group-wide" or the owning hospital's name (data).
    pub owner: Label,
    pub stages: Vec<StageItem>,
}

fn item(
    t: &Tr,
    names: &std::collections::HashMap<String, String>,
    jt: JourneyTemplate,
) -> TemplateItem {
    TemplateItem {
        id: jt.id.to_string(),
        label: t.named(&format!("template-{}", jt.code), &jt.name),
        owner: match jt.hospital_id {
            None => Label {
                text: t.get("tpl-group-wide"),
                data: false,
            },
            Some(h) => Label::data(names.get(&h.to_string()).map_or("", String::as_str)),
        },
        code: jt.code,
        stages: jt
            .stages
            .into_iter()
            .map(|s| StageItem {
                id: s.id.to_string(),
                position: s.position,
                label: t.named(&format!("stage-{}", s.code), &s.name),
                code: s.code,
                name: s.name,
                event_code: s.completing_event_code,
            })
            .collect(),
    }
}

/// Where a new template may be placed: group-wide (PX Admin) and/or hospitals.
pub struct OwnerOption {
    pub value: String,
    pub label: Label,
    pub selected: bool,
}

/// The new-template form as submitted (kept to show it again with its errors).
#[derive(Debug, Default, Deserialize)]
pub struct NewTemplateForm {
    #[serde(default)]
    pub hospital_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub stage_code: String,
    #[serde(default)]
    pub stage_name: String,
    #[serde(default)]
    pub stage_event_code: String,
}

#[derive(Template)]
#[template(path = "journey_templates.html")]
struct ListPage {
    chrome: Chrome,
    t: Tr,
    templates: Vec<TemplateItem>,
    may_create: bool,
    owners: Vec<OwnerOption>,
    form: NewTemplateForm,
    errors: Errors,
}

fn may_create_any(p: &Principal) -> bool {
    p.may(Resource::JourneyTemplate, Action::Create, &own_scope(p))
}

async fn list_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    form: NewTemplateForm,
    errors: Errors,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let t = req.t();
    let only = p.scope().hospital_id().map(|h| h.to_string());
    let names = st.db.org_names().await?;
    let templates = st
        .db
        .journey_templates(only.as_deref())
        .await?
        .into_iter()
        .map(|jt| item(&t, &names, jt))
        .collect();
    let may_create = may_create_any(p) && p.scope().department_id().is_none();
    let mut owners = Vec::new();
    if may_create {
        if only.is_none() {
            owners.push(OwnerOption {
                value: String::new(),
                label: Label {
                    text: t.get("tpl-group-wide"),
                    data: false,
                },
                selected: form.hospital_id.is_empty(),
            });
        }
        for h in st.db.hospitals(only.as_deref()).await? {
            let id = h.id.to_string();
            owners.push(OwnerOption {
                selected: form.hospital_id == id,
                value: id,
                label: Label::data(&h.name),
            });
        }
    }
    let failed = !errors.is_empty();
    let mut r = render(&ListPage {
        chrome: Chrome::new(req, Some(s), Nav::Templates, "tpl-title"),
        t,
        templates,
        may_create,
        owners,
        form,
        errors,
    })?;
    if failed {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::JourneyTemplate,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    list_page(&st, &req, &s, NewTemplateForm::default(), Errors::default()).await
}

/// `POST /ui/templates`: a new template with its first stage, through the API's handler.
pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Form(f): Form<NewTemplateForm>,
) -> Result<Response, UiError> {
    let b = NewJourneyTemplate {
        hospital_id: opt(&f.hospital_id),
        code: f.code.trim().to_owned(),
        name: f.name.trim().to_owned(),
        stages: vec![NewStageTemplate {
            code: f.stage_code.trim().to_owned(),
            name: f.stage_name.trim().to_owned(),
            completing_event_code: f.stage_event_code.trim().to_owned(),
            survey_template_ref: None,
        }],
    };
    match api::create_template(State(st.clone()), Authed(s.principal), ctx, Json(b)).await {
        Ok((_, Json(t))) => {
            Ok(Redirect::to(&format!("/ui/templates/{}?saved=created", t.id)).into_response())
        }
        Err(e) => {
            let errors = from_api(&req.t(), "tpl", e, |field| {
                // The first stage's fields sit under their own names on this form.
                match field.strip_prefix("stages[0].") {
                    Some("completing_event_code") => "stage_event_code".into(),
                    Some(f) => format!("stage_{f}"),
                    None => field.to_owned(),
                }
            })?;
            list_page(&st, &req, &s, f, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "journey_template.html")]
struct DetailPage {
    chrome: Chrome,
    t: Tr,
    tpl: TemplateItem,
    name: String,
    may_edit: bool,
    saved: Option<&'static str>,
    errors: Errors,
    /// Which form the errors belong to (`name`, `add`, or a stage id).
    errors_of: String,
    add: AddStageForm,
}

impl DetailPage {
    /// Errors not shown next to a field of the form they belong to (a stage's place, the
    /// template's last stage): shown above the stages.
    fn summary(&self) -> Vec<String> {
        match self.errors_of.as_str() {
            "add" => self
                .errors
                .others(["code", "name", "completing_event_code", "position"]),
            "name" => self.errors.others(["name"]),
            _ => self.errors.others(["name", "completing_event_code"]),
        }
    }

    fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.errors_of == form {
            self.errors.get(field)
        } else {
            None
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AddStageForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub completing_event_code: String,
    #[serde(default)]
    pub position: String,
}

struct Shown {
    errors: Errors,
    errors_of: String,
    add: AddStageForm,
}

async fn detail_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    ctx: &Ctx,
    id: &str,
    shown: Shown,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let jt = api::load(st, p, ctx, id, Action::Read).await?;
    let owner = jt.hospital_id.map(|h| h.to_string());
    let may_edit = p.may(
        Resource::JourneyTemplate,
        Action::Update,
        &api::location(owner.as_deref()),
    );
    let t = req.t();
    let names = st.db.org_names().await?;
    let name = jt.name.clone();
    let saved = match req.param("saved") {
        Some("created") => Some("tpl-saved-created"),
        Some("name") => Some("tpl-saved-name"),
        Some("stage") => Some("tpl-saved-stage"),
        Some("added") => Some("tpl-saved-added"),
        Some("moved") => Some("tpl-saved-moved"),
        Some("removed") => Some("tpl-saved-removed"),
        _ => None,
    };
    let failed = !shown.errors.is_empty();
    let mut r = render(&DetailPage {
        chrome: Chrome::new(req, Some(s), Nav::Templates, "tpl-edit-title"),
        tpl: item(&t, &names, jt),
        t,
        name,
        may_edit,
        saved: saved.filter(|_| !failed),
        errors: shown.errors,
        errors_of: shown.errors_of,
        add: shown.add,
    })?;
    if failed {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn detail(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let shown = Shown {
        errors: Errors::default(),
        errors_of: String::new(),
        add: AddStageForm::default(),
    };
    detail_page(&st, &req, &s, &ctx, &id, shown).await
}

/// A change to one template, as its page's small forms ask for it.
struct At {
    st: AppState,
    req: Req,
    s: Session,
    ctx: Ctx,
    id: String,
}

impl At {
    /// Run one change through the API's handler (its RBAC, validation and audit record), then
    /// go back to the template's page with the confirmation `saved`, or show the page again
    /// with the errors next to the fields of `form` (`name`, `add`, or a stage id).
    async fn apply<Fut>(
        self,
        saved: &str,
        form: &str,
        add: AddStageForm,
        call: impl FnOnce(State<AppState>, Authed, Ctx) -> Fut,
    ) -> Result<Response, UiError>
    where
        Fut: Future<Output = Result<(), ApiError>>,
    {
        let result = call(
            State(self.st.clone()),
            Authed(self.s.principal),
            self.ctx.clone(),
        )
        .await;
        match result {
            Ok(()) => Ok(
                Redirect::to(&format!("/ui/templates/{}?saved={saved}", self.id)).into_response(),
            ),
            Err(e) => {
                let shown = Shown {
                    errors: from_api(&self.req.t(), "tpl", e, str::to_owned)?,
                    errors_of: form.to_owned(),
                    add,
                };
                detail_page(&self.st, &self.req, &self.s, &self.ctx, &self.id, shown).await
            }
        }
    }

    /// A stage's name, event code or place (the edit and move forms).
    async fn update_stage(
        self,
        stage_id: String,
        c: StageChanges,
        saved: &str,
    ) -> Result<Response, UiError> {
        let path = Path((self.id.clone(), stage_id.clone()));
        self.apply(
            saved,
            &stage_id,
            AddStageForm::default(),
            |st, who, ctx| async move {
                api::update_stage(st, who, ctx, path, Json(c))
                    .await
                    .map(drop)
            },
        )
        .await
    }
}

#[derive(Debug, Deserialize)]
pub struct NameForm {
    #[serde(default)]
    pub name: String,
}

pub async fn rename(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, UiError> {
    let c = TemplateChanges {
        name: Some(f.name.trim().to_owned()),
    };
    let path = Path(id.clone());
    let at = At {
        st,
        req,
        s,
        ctx,
        id,
    };
    at.apply(
        "name",
        "name",
        AddStageForm::default(),
        |st, who, ctx| async move {
            api::update_template(st, who, ctx, path, Json(c))
                .await
                .map(drop)
        },
    )
    .await
}

pub async fn add_stage(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AddStageForm>,
) -> Result<Response, UiError> {
    // A place that is not a number is sent as 0, which the API's rule refuses by name.
    let position = opt(&f.position).map(|p| p.parse::<i64>().unwrap_or(0));
    let b = NewStage {
        code: f.code.trim().to_owned(),
        name: f.name.trim().to_owned(),
        completing_event_code: f.completing_event_code.trim().to_owned(),
        survey_template_ref: None,
        position,
    };
    let path = Path(id.clone());
    let at = At {
        st,
        req,
        s,
        ctx,
        id,
    };
    at.apply("added", "add", f, |st, who, ctx| async move {
        api::add_stage(st, who, ctx, path, Json(b)).await.map(drop)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct StageForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub completing_event_code: String,
}

pub async fn edit_stage(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((id, stage_id)): Path<(String, String)>,
    Form(f): Form<StageForm>,
) -> Result<Response, UiError> {
    let c = StageChanges {
        name: Some(f.name.trim().to_owned()),
        completing_event_code: Some(f.completing_event_code.trim().to_owned()),
        ..Default::default()
    };
    At {
        st,
        req,
        s,
        ctx,
        id,
    }
    .update_stage(stage_id, c, "stage")
    .await
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    pub position: String,
}

pub async fn move_stage(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((id, stage_id)): Path<(String, String)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, UiError> {
    let c = StageChanges {
        position: Some(f.position.trim().parse::<i64>().unwrap_or(0)),
        ..Default::default()
    };
    At {
        st,
        req,
        s,
        ctx,
        id,
    }
    .update_stage(stage_id, c, "moved")
    .await
}

pub async fn remove_stage(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((id, stage_id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let path = Path((id.clone(), stage_id.clone()));
    let at = At {
        st,
        req,
        s,
        ctx,
        id,
    };
    at.apply(
        "removed",
        &stage_id,
        AddStageForm::default(),
        |st, who, ctx| async move { api::remove_stage(st, who, ctx, path).await.map(drop) },
    )
    .await
}
