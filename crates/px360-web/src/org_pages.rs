//! Organisation administration: hospitals (PX Admin), departments, physicians, employees and
//! patients — lists with search and keyset paging, create, edit and soft delete.
//!
//! Every write goes through the API's own operation for the resource, so the RBAC gate (out of
//! scope 404, too-low role 403), the validation, the dependents rule and the audit records are
//! the API's; this module only routes the forms and shows the answers. The kinds are in
//! `org_kind`, the forms' fields in `org_fields`, the lists' rows in `org_rows`.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::org_fields::{current, fields, patient_fields};
use crate::org_form::{
    Action as FormAction, DeletePage, FormData, FormPage, ListPage, Refusal, notice, refusal,
};
use crate::org_kind::{OrgKind, gate_list, kind_of, may_create, title_key};
use crate::org_names::Names;
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, before};
use crate::session::Session;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::own_scope;
use px360_domain::rbac::Action;
use px360_store::employees::{EmployeeChanges, NewEmployee};
use px360_store::org::{
    DepartmentChanges, HospitalChanges, ListQuery, NewPhysician, PhysicianChanges,
};

/// The list page of a kind: search (`q`), keyset paging (`before`), rows the user may edit
/// linked to their form.
pub async fn list(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(kind): Path<String>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let p = &s.principal;
    gate_list(&st, p, &ctx, kind).await?;
    let t = req.t();
    let q = ListQuery {
        search: req.param("q").map(str::to_owned),
        before: before(&req),
        limit: PAGE_SIZE,
    };
    let (columns, rows, next) = crate::org_rows::rows(&st, &t, p, kind, &q).await?;
    let new = may_create(p, kind).then(|| format!("{}/new", kind.list_path()));
    crate::page::render(&ListPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Org, title_key(kind)),
        t,
        heading: t.get(title_key(kind)),
        path: kind.list_path(),
        search: q.search.clone().unwrap_or_default(),
        columns: columns.into_iter().map(|c| t.get(c)).collect(),
        rows,
        pager: Pager::new(&req, q.before.as_ref(), next.as_ref(), None),
        new,
        notice: notice(&t, req.param("done")),
        next: next_steps(&t, &req, kind),
    })
}

/// After a hospital or a department is created, the next steps of its setup, as links whose
/// forms start with it chosen.
fn next_steps(t: &Tr, req: &Req, kind: OrgKind) -> Vec<(String, String)> {
    if req.param("done") != Some("created") {
        return Vec::new();
    }
    let id = |name: &str| {
        req.param(name)
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
            .map(|u| u.to_string())
    };
    let links: Vec<(&str, String)> = match (kind, id("hospital_id"), id("department_id")) {
        (OrgKind::Hospitals, Some(h), _) => vec![(
            "orgadm-next-department",
            format!("/ui/org/departments/new?hospital_id={h}"),
        )],
        (OrgKind::Departments, Some(h), Some(d)) => vec![
            (
                "orgadm-next-physician",
                format!("/ui/org/physicians/new?department_id={d}"),
            ),
            (
                "orgadm-next-user",
                format!("/ui/org/users/new?hospital_id={h}&department_id={d}"),
            ),
            ("orgadm-next-template", "/ui/templates".to_owned()),
        ],
        _ => Vec::new(),
    };
    links
        .into_iter()
        .map(|(key, href)| (t.get(key), href))
        .collect()
}

/// The blank form for a new object.
pub async fn new_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(kind): Path<String>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let p = &s.principal;
    gate_list(&st, p, &ctx, kind).await?;
    if !may_create(p, kind) {
        return Err(UiError::Forbidden);
    }
    let names = Names::load(&st, p).await?;
    // A link may preselect the hospital or department (`?hospital_id=…`: the next step after
    // creating one); the choices offered are still only those in the user's scope.
    let v = FormData(req.query.clone());
    create_page(&req, &s, kind, &names, &v)?.render_with(StatusCode::OK)
}

/// Create from the posted form through the API's operation; errors come back onto the form.
pub async fn create(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path(kind): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let p = &s.principal;
    let form = FormData(form);
    let result: Result<Option<String>, ApiError> = match kind {
        OrgKind::Hospitals => {
            let b = px360_api::hospitals::NewHospital {
                code: form.get("code"),
                name: form.get("name"),
                timezone: form.opt("timezone"),
            };
            px360_api::hospitals::create(&st, p, &ctx, &b)
                .await
                .map(|h| Some(format!("hospital_id={}", h.id)))
        }
        OrgKind::Departments => {
            let b = px360_api::departments::NewDepartment {
                hospital_id: form.opt("hospital_id"),
                code: form.get("code"),
                name: form.get("name"),
            };
            px360_api::departments::create(&st, p, &ctx, &b)
                .await
                .map(|d| {
                    Some(format!(
                        "hospital_id={}&department_id={}",
                        d.hospital_id, d.id
                    ))
                })
        }
        OrgKind::Physicians => {
            let b = NewPhysician {
                department_id: form.get("department_id"),
                licence_number: form.get("licence_number"),
                given_name: form.get("given_name"),
                family_name: form.get("family_name"),
                specialty: form.opt("specialty"),
            };
            px360_api::physicians::create(&st, p, &ctx, &b)
                .await
                .map(|_| None)
        }
        OrgKind::Employees => {
            let b = NewEmployee {
                department_id: form.get("department_id"),
                employee_number: form.get("employee_number"),
                given_name: form.get("given_name"),
                family_name: form.get("family_name"),
                job_title: form.opt("job_title"),
                user_id: None,
            };
            px360_api::employees::create(&st, p, &ctx, &b)
                .await
                .map(|_| None)
        }
        OrgKind::Patients => {
            let b = px360_api::patients::NewPatient {
                hospital_id: None,
                mrn: form.get("mrn"),
                fields: patient_fields(&form),
            };
            px360_api::patients::create(&st, p, &ctx, &b)
                .await
                .map(|_| None)
        }
        OrgKind::Users => crate::people::create(&st, p, &ctx, &form)
            .await
            .map(|()| None),
    };
    match result {
        // The list then links to the next step of a hospital's setup (`next` names the new
        // object: the department form for a new hospital, and so on).
        Ok(Some(next)) => {
            Ok(Redirect::to(&format!("{}?done=created&{next}", kind.list_path())).into_response())
        }
        Ok(None) => Ok(done(kind, "created")),
        Err(e) => {
            let t = req.t();
            let names = Names::load(&st, p).await?;
            let page = create_page(&req, &s, kind, &names, &form)?;
            refused(&t, page, e)
        }
    }
}

/// Back to the list with a confirmation.
fn done(kind: OrgKind, what: &str) -> Response {
    Redirect::to(&format!("{}?done={what}", kind.list_path())).into_response()
}

/// Show a refusal: on the form (fields, dependents, conflicts) or as an error page.
pub fn refused(t: &Tr, page: FormPage, e: ApiError) -> Result<Response, UiError> {
    match refusal(t, e) {
        Refusal::Fields(status, errs) => page.with_errors(t, &errs).render_with(status),
        Refusal::Form(status, msg) => FormPage {
            problem: Some(msg),
            ..page
        }
        .render_with(status),
        Refusal::Page(e) => Err(e),
    }
}

fn create_page(
    req: &Req,
    s: &Session,
    kind: OrgKind,
    names: &Names,
    v: &FormData,
) -> Result<FormPage, UiError> {
    let t = req.t();
    let fields = match kind {
        OrgKind::Users => crate::people::fields(&t, &s.principal, names, v, true),
        k => fields(&t, k, names, v, true),
    };
    Ok(FormPage {
        chrome: Chrome::new(req, Some(s), Nav::Org, title_key(kind)),
        t,
        heading: format!("{} · {}", t.get(title_key(kind)), t.get("orgadm-new")),
        back: kind.list_path(),
        action: format!("{}/new", kind.list_path()),
        fields,
        submit: t.get("orgadm-create"),
        problem: None,
        notice: None,
        actions: Vec::new(),
    })
}

async fn edit_page(
    st: &AppState,
    req: &Req,
    s: &Session,
    kind: OrgKind,
    id: &str,
    v: &FormData,
) -> Result<FormPage, UiError> {
    let t = req.t();
    let p = &s.principal;
    let names = Names::load(st, p).await?;
    let base = format!("{}/{id}", kind.list_path());
    let (fields, mut actions) = match kind {
        OrgKind::Users => (
            crate::people::fields(&t, p, &names, v, false),
            crate::people::actions(&t, &base, v),
        ),
        k => (fields(&t, k, &names, v, false), Vec::new()),
    };
    if p.may(kind.resource(), Action::Delete, &own_scope(p)) || kind == OrgKind::Hospitals {
        actions.push(FormAction {
            action: format!("{base}/delete"),
            label: t.get("orgadm-delete"),
            class: "btn-outline-danger",
            field: None,
            link: true,
        });
    }
    Ok(FormPage {
        chrome: Chrome::new(req, Some(s), Nav::Org, title_key(kind)),
        t,
        heading: format!("{} · {}", t.get(title_key(kind)), t.get("orgadm-edit")),
        back: kind.list_path(),
        action: base,
        fields,
        submit: t.get("orgadm-save"),
        problem: None,
        notice: notice(&t, req.param("done")),
        actions,
    })
}

pub async fn edit_form(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let v = current(&st, &s.principal, &ctx, kind, &id).await?;
    edit_page(&st, &req, &s, kind, &id, &v)
        .await?
        .render_with(StatusCode::OK)
}

/// Only what the form changed is sent, so an unchanged department is not a "move".
fn changed(old: &FormData, new: &FormData, name: &str) -> Option<String> {
    let v = new.opt(name);
    if v.as_deref().unwrap_or("") == old.get(name) {
        None
    } else {
        v
    }
}

pub async fn update(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((kind, id)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let p = &s.principal;
    let old = current(&st, p, &ctx, kind, &id).await?;
    let form = FormData(form);
    let ch = |n: &str| changed(&old, &form, n);
    let result: Result<(), ApiError> = match kind {
        OrgKind::Hospitals => {
            let c = HospitalChanges {
                name: ch("name"),
                timezone: ch("timezone"),
            };
            px360_api::hospitals::update(&st, p, &ctx, &id, &c)
                .await
                .map(drop)
        }
        OrgKind::Departments => {
            let c = DepartmentChanges { name: ch("name") };
            px360_api::departments::update(&st, p, &ctx, &id, &c)
                .await
                .map(drop)
        }
        OrgKind::Physicians => {
            let c = PhysicianChanges {
                department_id: ch("department_id"),
                given_name: ch("given_name"),
                family_name: ch("family_name"),
                specialty: ch("specialty"),
            };
            px360_api::physicians::update(&st, p, &ctx, &id, &c)
                .await
                .map(drop)
        }
        OrgKind::Employees => {
            let c = EmployeeChanges {
                department_id: ch("department_id"),
                given_name: ch("given_name"),
                family_name: ch("family_name"),
                job_title: ch("job_title"),
                user_id: None,
            };
            px360_api::employees::update(&st, p, &ctx, &id, &c)
                .await
                .map(drop)
        }
        OrgKind::Patients => {
            let mut f = patient_fields(&form);
            f.department_id = ch("department_id");
            px360_api::patients::update(&st, p, &ctx, &id, &f)
                .await
                .map(drop)
        }
        OrgKind::Users => crate::people::update(&st, p, &ctx, &id, &old, &form).await,
    };
    match result {
        Ok(()) => Ok(done(kind, "saved")),
        Err(e) => {
            let t = req.t();
            let page = edit_page(&st, &req, &s, kind, &id, &form).await?;
            refused(&t, page, e)
        }
    }
}

/// The small forms of an edit page: delete (all kinds), and for accounts activate/deactivate
/// and an administrator's password reset.
pub async fn op(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((kind, id, op)): Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let p = &s.principal;
    let form = FormData(form);
    let (result, what) = match (kind, op.as_str()) {
        (OrgKind::Hospitals, "delete") => (
            px360_api::hospitals::delete(&st, p, &ctx, &id).await,
            "deleted",
        ),
        (OrgKind::Departments, "delete") => (
            px360_api::departments::delete(&st, p, &ctx, &id).await,
            "deleted",
        ),
        (OrgKind::Physicians, "delete") => (
            px360_api::physicians::delete(&st, p, &ctx, &id).await,
            "deleted",
        ),
        (OrgKind::Employees, "delete") => (
            px360_api::employees::delete(&st, p, &ctx, &id).await,
            "deleted",
        ),
        (OrgKind::Patients, "delete") => (
            px360_api::patients::delete(&st, p, &ctx, &id).await,
            "deleted",
        ),
        (OrgKind::Users, op) => crate::people::op(&st, p, &ctx, &id, op, &form).await?,
        _ => return Err(UiError::NotFound),
    };
    match result {
        Ok(()) if what == "deleted" => Ok(done(kind, what)),
        Ok(()) => {
            Ok(Redirect::to(&format!("{}/{id}?done={what}", kind.list_path())).into_response())
        }
        Err(e) => {
            let t = req.t();
            let v = current(&st, p, &ctx, kind, &id).await?;
            let mut page = edit_page(&st, &req, &s, kind, &id, &v).await?;
            // The reset's password field lives in its own small form.
            let reset_error = match &e {
                ApiError::Validation(errs) => errs
                    .iter()
                    .find(|x| x.field == "password")
                    .map(|fe| crate::org_form::field_message(&t, fe)),
                _ => None,
            };
            if let Some(msg) = reset_error
                && let Some(f) = page.actions.iter_mut().find_map(|a| a.field.as_mut())
            {
                f.error = Some(msg);
                return page.render_with(StatusCode::UNPROCESSABLE_ENTITY);
            }
            refused(&t, page, e)
        }
    }
}

/// `GET …/delete`: the confirmation step before a delete, after the same gate as the edit
/// page (out of scope 404, too-low role 403).
pub async fn confirm_op(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
    Path((kind, id, op)): Path<(String, String, String)>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    if op != "delete" {
        return Err(UiError::NotFound);
    }
    let p = &s.principal;
    let v = current(&st, p, &ctx, kind, &id).await?;
    if kind != OrgKind::Hospitals && !p.may(kind.resource(), Action::Delete, &own_scope(p)) {
        return Err(UiError::Forbidden);
    }
    let t = req.t();
    let name = [
        v.get("name"),
        v.get("display_name"),
        format!("{} {}", v.get("given_name"), v.get("family_name")),
    ]
    .into_iter()
    .map(|n| n.trim().to_owned())
    .find(|n| !n.is_empty())
    .unwrap_or_default();
    let base = format!("{}/{id}", kind.list_path());
    crate::page::render(&DeletePage {
        chrome: Chrome::new(&req, Some(&s), Nav::Org, title_key(kind)),
        t,
        heading: format!("{} · {}", t.get(title_key(kind)), t.get("orgadm-delete")),
        name,
        effect: match kind {
            OrgKind::Hospitals => "orgadm-delete-effect-hospital",
            OrgKind::Departments => "orgadm-delete-effect-department",
            _ => "orgadm-delete-effect",
        },
        action: format!("{base}/delete"),
        back: base,
    })
}
