//! Organisation administration: hospitals (PX Admin), departments, physicians, employees and
//! patients — lists with search and keyset paging, create, edit and soft delete.
//!
//! Every write goes through the API's own operation for the resource, so the RBAC gate (out of
//! scope 404, too-low role 403), the validation, the dependents rule and the audit records are
//! the API's; this module only builds the forms and shows the answers.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::org_form::{
    Action as FormAction, Cell, Field, FormData, FormPage, Kind, ListPage, ListRow, Opt, Refusal,
    notice, refusal,
};
use crate::page::{Chrome, Nav, PAGE_SIZE, Pager, Req, before};
use crate::session::Session;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::{AppState, filter, own_scope};
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};
use px360_store::employees::{EmployeeChanges, EmployeeRow, NewEmployee};
use px360_store::org::{
    Channel, DepartmentChanges, DepartmentRow, HospitalChanges, HospitalRow, ListQuery,
    NewPhysician, PatientFields, PatientRow, PhysicianChanges, PhysicianRow,
};
use std::collections::HashMap;
use uuid::Uuid;

/// The administrable kinds, by their URL segment (`/ui/org/<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Hospitals,
    Departments,
    Physicians,
    Employees,
    Patients,
    Users,
}

impl OrgKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "hospitals" => OrgKind::Hospitals,
            "departments" => OrgKind::Departments,
            "physicians" => OrgKind::Physicians,
            "employees" => OrgKind::Employees,
            "patients" => OrgKind::Patients,
            "users" => OrgKind::Users,
            _ => return None,
        })
    }

    pub fn slug(self) -> &'static str {
        match self {
            OrgKind::Hospitals => "hospitals",
            OrgKind::Departments => "departments",
            OrgKind::Physicians => "physicians",
            OrgKind::Employees => "employees",
            OrgKind::Patients => "patients",
            OrgKind::Users => "users",
        }
    }

    pub fn resource(self) -> Resource {
        match self {
            OrgKind::Hospitals => Resource::Hospital,
            OrgKind::Departments => Resource::Department,
            OrgKind::Physicians => Resource::Physician,
            OrgKind::Employees => Resource::Employee,
            OrgKind::Patients => Resource::Patient,
            OrgKind::Users => Resource::User,
        }
    }

    pub fn list_path(self) -> String {
        format!("/ui/org/{}", self.slug())
    }

    /// Which kinds `p` may open at all (the hub's links): hospitals only for whoever may create
    /// them (PX Admin), the others for whoever may read them in their own scope.
    pub fn visible(self, p: &Principal) -> bool {
        match self {
            OrgKind::Hospitals => p.may(Resource::Hospital, Action::Create, &ObjectScope::Group),
            k => p.may(k.resource(), Action::Read, &own_scope(p)),
        }
    }
}

fn kind_of(s: &str) -> Result<OrgKind, UiError> {
    OrgKind::parse(s).ok_or(UiError::NotFound)
}

/// Hospital and department names in the principal's scope (for lists and selects).
pub struct Names {
    pub hospitals: Vec<HospitalRow>,
    pub departments: Vec<DepartmentRow>,
}

impl Names {
    pub async fn load(st: &AppState, p: &Principal) -> Result<Self, UiError> {
        let f = filter(p);
        Ok(Names {
            hospitals: st.db.hospitals(f.hospital_id.as_deref()).await?,
            departments: st.db.departments(&f).await?,
        })
    }

    pub fn hospital(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.hospitals.iter().find(|h| h.id == id))
            .map(|h| h.name.clone())
            .unwrap_or_default()
    }

    pub fn department(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.departments.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    }

    /// `Department (Hospital)` choices; `none` adds an empty first choice.
    pub fn department_options(&self, selected: &str, none: Option<String>) -> Vec<Opt> {
        let hname: HashMap<Uuid, &str> = self
            .hospitals
            .iter()
            .map(|h| (h.id, h.name.as_str()))
            .collect();
        let mut v: Vec<Opt> = none
            .map(|n| Opt {
                value: String::new(),
                label: Label {
                    text: n,
                    data: false,
                },
                selected: selected.is_empty(),
            })
            .into_iter()
            .collect();
        v.extend(self.departments.iter().map(|d| {
            let id = d.id.to_string();
            Opt {
                selected: id == selected,
                label: Label::data(&format!(
                    "{} ({})",
                    d.name,
                    hname.get(&d.hospital_id).copied().unwrap_or("")
                )),
                value: id,
            }
        }));
        v
    }

    pub fn hospital_options(&self, selected: &str, none: Option<String>) -> Vec<Opt> {
        let mut v: Vec<Opt> = none
            .map(|n| Opt {
                value: String::new(),
                label: Label {
                    text: n,
                    data: false,
                },
                selected: selected.is_empty(),
            })
            .into_iter()
            .collect();
        v.extend(self.hospitals.iter().map(|h| {
            let id = h.id.to_string();
            Opt {
                selected: id == selected,
                label: Label::data(&h.name),
                value: id,
            }
        }));
        v
    }
}

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
    let names = Names::load(&st, p).await?;
    let f = filter(p);
    let edit = |loc: ObjectScope, id: Uuid| {
        p.may(kind.resource(), Action::Update, &loc)
            .then(|| format!("{}/{id}", kind.list_path()))
    };
    let (columns, rows, next) = match kind {
        OrgKind::Hospitals => {
            let pg = st.db.org_page::<HospitalRow>(&f, &q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|h| ListRow {
                    cells: vec![
                        Cell::code(&h.code),
                        Cell::data(&h.name),
                        Cell::label(t.zone(h.timezone.name())),
                    ],
                    edit: edit(px360_api::obj_of(h.id, None), h.id),
                })
                .collect();
            (vec!["col-code", "col-name", "col-timezone"], rows, pg.next)
        }
        OrgKind::Departments => {
            let pg = st.db.org_page::<DepartmentRow>(&f, &q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|d| ListRow {
                    cells: vec![
                        Cell::code(&d.code),
                        Cell::data(&d.name),
                        Cell::data(&names.hospital(Some(d.hospital_id))),
                    ],
                    edit: edit(px360_api::obj_of(d.hospital_id, Some(d.id)), d.id),
                })
                .collect();
            (vec!["col-code", "col-name", "col-hospital"], rows, pg.next)
        }
        OrgKind::Physicians => {
            let pg = st.db.org_page::<PhysicianRow>(&f, &q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|ph| ListRow {
                    cells: vec![
                        Cell::data(&format!("{} {}", ph.given_name, ph.family_name)),
                        Cell::code(&ph.licence_number),
                        Cell::data(ph.specialty.as_deref().unwrap_or("")),
                        Cell::data(&names.department(Some(ph.department_id))),
                    ],
                    edit: edit(
                        px360_api::obj_of(ph.hospital_id, Some(ph.department_id)),
                        ph.id,
                    ),
                })
                .collect();
            (
                vec!["col-name", "col-licence", "col-specialty", "col-department"],
                rows,
                pg.next,
            )
        }
        OrgKind::Employees => {
            let pg = st.db.org_page::<EmployeeRow>(&f, &q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|e| ListRow {
                    cells: vec![
                        Cell::code(&e.employee_number),
                        Cell::data(&format!("{} {}", e.given_name, e.family_name)),
                        Cell::data(e.job_title.as_deref().unwrap_or("")),
                        Cell::data(&names.department(Some(e.department_id))),
                    ],
                    edit: edit(
                        px360_api::obj_of(e.hospital_id, Some(e.department_id)),
                        e.id,
                    ),
                })
                .collect();
            (
                vec![
                    "orgadm-col-number",
                    "col-name",
                    "orgadm-col-job-title",
                    "col-department",
                ],
                rows,
                pg.next,
            )
        }
        OrgKind::Patients => {
            let pg = st.db.org_page::<PatientRow>(&f, &q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|pt| ListRow {
                    cells: vec![
                        Cell::code(&pt.mrn),
                        Cell::data(
                            format!(
                                "{} {}",
                                pt.given_name.as_deref().unwrap_or(""),
                                pt.family_name.as_deref().unwrap_or("")
                            )
                            .trim(),
                        ),
                        Cell::data(&names.department(pt.department_id)),
                        Cell::label(language_label(&t, pt.preferred_language.as_str())),
                    ],
                    edit: edit(px360_api::obj_of(pt.hospital_id, pt.department_id), pt.id),
                })
                .collect();
            (
                vec![
                    "orgadm-col-mrn",
                    "col-name",
                    "col-department",
                    "orgadm-col-language",
                ],
                rows,
                pg.next,
            )
        }
        OrgKind::Users => {
            let pg = st.db.org_page::<px360_store::auth::UserRow>(&f, &q).await?;
            let rows = crate::people::rows(&t, p, &names, &pg.rows);
            (crate::people::COLUMNS.to_vec(), rows, pg.next)
        }
    };
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
    })
}

/// May `p` open this kind's list at all? The API's list gate (denials audited); hospitals are
/// administered by PX Admins only.
async fn gate_list(st: &AppState, p: &Principal, ctx: &Ctx, kind: OrgKind) -> Result<(), UiError> {
    let scope = match kind {
        OrgKind::Hospitals => ObjectScope::Group,
        _ => own_scope(p),
    };
    let action = match kind {
        OrgKind::Hospitals => Action::Create,
        _ => Action::Read,
    };
    st.authorize(p, ctx, kind.resource(), action, scope, None)
        .await?;
    Ok(())
}

fn may_create(p: &Principal, kind: OrgKind) -> bool {
    match kind {
        OrgKind::Hospitals => p.may(Resource::Hospital, Action::Create, &ObjectScope::Group),
        OrgKind::Users => !px360_api::users::grantable_roles(p).is_empty(),
        k => p.may(k.resource(), Action::Create, &own_scope(p)),
    }
}

fn title_key(kind: OrgKind) -> &'static str {
    match kind {
        OrgKind::Hospitals => "hospitals",
        OrgKind::Departments => "departments",
        OrgKind::Physicians => "physicians",
        OrgKind::Employees => "orgadm-employees",
        OrgKind::Patients => "orgadm-patients",
        OrgKind::Users => "orgadm-users",
    }
}

fn language_label(t: &Tr, code: &str) -> Label {
    t.label(&format!("orgadm-lang-{code}"), code)
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
    create_page(&req, &s, kind, &names, &FormData::default())?.render_with(StatusCode::OK)
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
    let result: Result<(), ApiError> = match kind {
        OrgKind::Hospitals => {
            let b = px360_api::hospitals::NewHospital {
                code: form.get("code"),
                name: form.get("name"),
                timezone: form.opt("timezone"),
            };
            px360_api::hospitals::create(&st, p, &ctx, &b)
                .await
                .map(drop)
        }
        OrgKind::Departments => {
            let b = px360_api::departments::NewDepartment {
                hospital_id: form.opt("hospital_id"),
                code: form.get("code"),
                name: form.get("name"),
            };
            px360_api::departments::create(&st, p, &ctx, &b)
                .await
                .map(drop)
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
                .map(drop)
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
                .map(drop)
        }
        OrgKind::Patients => {
            let b = px360_api::patients::NewPatient {
                hospital_id: None,
                mrn: form.get("mrn"),
                fields: patient_fields(&form),
            };
            px360_api::patients::create(&st, p, &ctx, &b)
                .await
                .map(drop)
        }
        OrgKind::Users => crate::people::create(&st, p, &ctx, &form).await,
    };
    match result {
        Ok(()) => Ok(done(kind, "created")),
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

fn patient_fields(form: &FormData) -> PatientFields {
    PatientFields {
        department_id: form.opt("department_id"),
        given_name: form.opt("given_name"),
        family_name: form.opt("family_name"),
        date_of_birth: form.opt("date_of_birth"),
        preferred_language: form.opt("preferred_language"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        contact_channels: Some(form.all("contact_channels")),
    }
}

fn channel_options(t: &Tr, chosen: &[String]) -> Vec<Opt> {
    Channel::ALL
        .iter()
        .map(|c| Opt {
            value: c.as_str().to_owned(),
            label: Label {
                text: t.get(&format!("orgadm-channel-{}", c.as_str())),
                data: false,
            },
            selected: chosen.iter().any(|x| x == c.as_str()),
        })
        .collect()
}

fn language_options(t: &Tr, chosen: &str) -> Vec<Opt> {
    let mut codes = vec!["en", "ar"];
    if !chosen.is_empty() && !codes.contains(&chosen) {
        codes.push(chosen);
    }
    codes
        .into_iter()
        .map(|c| Opt {
            value: c.to_owned(),
            label: language_label(t, c),
            selected: c == chosen || (chosen.is_empty() && c == "en"),
        })
        .collect()
}

/// The fields of a kind's form, filled from `v` (the posted values, or the object's).
fn fields(t: &Tr, kind: OrgKind, names: &Names, v: &FormData, new: bool) -> Vec<Field> {
    let dept = |required: bool| {
        Field::text(t, "department_id", "col-department", "", required).kind(Kind::Select(
            names.department_options(
                &v.get("department_id"),
                (!required).then(|| t.get("orgadm-none")),
            ),
        ))
    };
    let mut out = Vec::new();
    match kind {
        OrgKind::Hospitals => {
            if new {
                out.push(Field::code(t, "code", "col-code", &v.get("code")));
            }
            out.push(Field::text(t, "name", "col-name", &v.get("name"), true));
            let tz = v.opt("timezone").unwrap_or_else(|| "Asia/Riyadh".into());
            out.push(Field {
                ltr: true,
                ..Field::text(t, "timezone", "orgadm-timezone-iana", &tz, true)
            });
        }
        OrgKind::Departments => {
            if new {
                out.push(
                    Field::text(t, "hospital_id", "col-hospital", "", true).kind(Kind::Select(
                        names.hospital_options(&v.get("hospital_id"), None),
                    )),
                );
                out.push(Field::code(t, "code", "col-code", &v.get("code")));
            }
            out.push(Field::text(t, "name", "col-name", &v.get("name"), true));
        }
        OrgKind::Physicians => {
            out.push(dept(true));
            if new {
                out.push(Field::code(
                    t,
                    "licence_number",
                    "col-licence",
                    &v.get("licence_number"),
                ));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "specialty",
                "col-specialty",
                &v.get("specialty"),
                false,
            ));
        }
        OrgKind::Employees => {
            out.push(dept(true));
            if new {
                out.push(Field::code(
                    t,
                    "employee_number",
                    "orgadm-col-number",
                    &v.get("employee_number"),
                ));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "job_title",
                "orgadm-col-job-title",
                &v.get("job_title"),
                false,
            ));
        }
        OrgKind::Patients => {
            out.push(dept(true));
            if new {
                out.push(Field::code(t, "mrn", "orgadm-col-mrn", &v.get("mrn")));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                false,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                false,
            ));
            out.push(Field {
                ltr: true,
                ..Field::text(
                    t,
                    "date_of_birth",
                    "orgadm-date-of-birth",
                    &v.get("date_of_birth"),
                    false,
                )
                .kind(Kind::Date)
            });
            out.push(
                Field::text(t, "preferred_language", "orgadm-col-language", "", true).kind(
                    Kind::Select(language_options(t, &v.get("preferred_language"))),
                ),
            );
            out.push(Field {
                ltr: true,
                ..Field::text(t, "email", "orgadm-email", &v.get("email"), false).kind(Kind::Email)
            });
            out.push(Field {
                ltr: true,
                ..Field::text(t, "phone", "orgadm-phone", &v.get("phone"), false)
            });
            out.push(
                Field::text(t, "contact_channels", "orgadm-channels", "", false)
                    .kind(Kind::Checks(channel_options(t, &v.all("contact_channels")))),
            );
        }
        OrgKind::Users => {}
    }
    out
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

/// An existing object's values as a form (what the edit page starts from), after the gate for
/// `Update` (out of scope 404, too-low role 403).
async fn current(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    kind: OrgKind,
    id: &str,
) -> Result<FormData, UiError> {
    let pairs: Vec<(&str, String)> = match kind {
        OrgKind::Hospitals => {
            let h = px360_api::hospitals::load(st, p, ctx, id, Action::Update).await?;
            vec![("name", h.name), ("timezone", h.timezone.name().to_owned())]
        }
        OrgKind::Departments => {
            let d = px360_api::departments::load(st, p, ctx, id, Action::Update).await?;
            vec![("name", d.name)]
        }
        OrgKind::Physicians => {
            let ph = px360_api::physicians::load(st, p, ctx, id, Action::Update).await?;
            vec![
                ("department_id", ph.department_id.to_string()),
                ("given_name", ph.given_name),
                ("family_name", ph.family_name),
                ("specialty", ph.specialty.unwrap_or_default()),
            ]
        }
        OrgKind::Employees => {
            let e = px360_api::employees::load(st, p, ctx, id, Action::Update).await?;
            vec![
                ("department_id", e.department_id.to_string()),
                ("given_name", e.given_name),
                ("family_name", e.family_name),
                ("job_title", e.job_title.unwrap_or_default()),
            ]
        }
        OrgKind::Patients => {
            let pt = px360_api::patients::load(st, p, ctx, id, Action::Update).await?;
            let mut v = vec![
                (
                    "department_id",
                    pt.department_id.map(|d| d.to_string()).unwrap_or_default(),
                ),
                ("given_name", pt.given_name.unwrap_or_default()),
                ("family_name", pt.family_name.unwrap_or_default()),
                ("date_of_birth", pt.date_of_birth.unwrap_or_default()),
                (
                    "preferred_language",
                    pt.preferred_language.as_str().to_owned(),
                ),
                ("email", pt.email.unwrap_or_default()),
                ("phone", pt.phone.unwrap_or_default()),
            ];
            v.extend(
                pt.contact_channels
                    .0
                    .iter()
                    .map(|c| ("contact_channels", c.as_str().to_owned())),
            );
            v
        }
        OrgKind::Users => crate::people::current(st, p, ctx, id).await?,
    };
    Ok(FormData(
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    ))
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
