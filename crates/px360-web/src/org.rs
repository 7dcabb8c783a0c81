//! Organisation in the principal's scope: hospitals, departments and (for roles that may read
//! them) physicians; the hub linking to the administration pages the user may open.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::org_kind::OrgKind;
use crate::page::{Chrome, Nav, Req, render};
use crate::session::Session;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use px360_api::auth::Ctx;
use px360_api::{AppState, filter, own_scope};
use px360_domain::rbac::{Action, Resource};
use std::collections::HashMap;
use uuid::Uuid;

pub struct HospitalRow {
    pub code: String,
    pub name: String,
    pub timezone: Label,
}

pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub hospital: String,
}

pub struct PhysicianRow {
    pub name: String,
    pub licence: String,
    pub specialty: String,
    pub department: String,
    pub hospital: String,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    chrome: Chrome,
    t: Tr,
    hospitals: Vec<HospitalRow>,
    departments: Vec<DepartmentRow>,
    physicians: Option<Vec<PhysicianRow>>,
    /// The administration pages this user may open (label, href).
    admin: Vec<(String, String)>,
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    let scope = own_scope(p);
    st.authorize(p, &ctx, Resource::Hospital, Action::Read, scope, None)
        .await?;
    let t = req.t();
    let f = filter(p);
    let hospitals = st.db.hospitals(f.hospital_id.as_deref()).await?;
    let departments = st.db.departments(&f).await?;
    let hname: HashMap<Uuid, &str> = hospitals.iter().map(|h| (h.id, h.name.as_str())).collect();
    let dname: HashMap<Uuid, &str> = departments
        .iter()
        .map(|d| (d.id, d.name.as_str()))
        .collect();
    let name = |m: &HashMap<Uuid, &str>, id: Uuid| m.get(&id).copied().unwrap_or("").to_owned();
    // Physicians need level 20: viewers see the structure only.
    let physicians = if p.may(Resource::Physician, Action::Read, &scope) {
        Some(
            st.db
                .physicians(&f)
                .await?
                .into_iter()
                .map(|ph| PhysicianRow {
                    name: format!("{} {}", ph.given_name, ph.family_name),
                    licence: ph.licence_number,
                    specialty: ph.specialty.unwrap_or_default(),
                    department: name(&dname, ph.department_id),
                    hospital: name(&hname, ph.hospital_id),
                })
                .collect(),
        )
    } else {
        None
    };
    let departments = departments
        .iter()
        .map(|d| DepartmentRow {
            code: d.code.clone(),
            name: d.name.clone(),
            hospital: name(&hname, d.hospital_id),
        })
        .collect();
    render(&OrgPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Org, "org-title"),
        t,
        hospitals: hospitals
            .into_iter()
            .map(|h| HospitalRow {
                code: h.code,
                name: h.name,
                timezone: t.zone(h.timezone.name()),
            })
            .collect(),
        departments,
        physicians,
        admin: [
            OrgKind::Hospitals,
            OrgKind::Departments,
            OrgKind::Physicians,
            OrgKind::Employees,
            OrgKind::Patients,
            OrgKind::Users,
        ]
        .into_iter()
        .filter(|k| k.visible(p))
        .map(|k| (t.get(&format!("orgadm-hub-{}", k.slug())), k.list_path()))
        .collect(),
    })
}
