//! The administrable organisation kinds (`/ui/org/<kind>`): their URL segment, resource, titles,
//! and who may open and create them. Shared by the pages (`org_pages`), their forms
//! (`org_fields`) and lists (`org_rows`).

use crate::error::UiError;
use px360_api::auth::Ctx;
use px360_api::{AppState, own_scope};
use px360_domain::rbac::{Action, ObjectScope, Principal, Resource};

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

pub fn kind_of(s: &str) -> Result<OrgKind, UiError> {
    OrgKind::parse(s).ok_or(UiError::NotFound)
}

/// May `p` open this kind's list at all? The API's list gate (denials audited); hospitals are
/// administered by PX Admins only.
pub async fn gate_list(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    kind: OrgKind,
) -> Result<(), UiError> {
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

pub fn may_create(p: &Principal, kind: OrgKind) -> bool {
    match kind {
        OrgKind::Hospitals => p.may(Resource::Hospital, Action::Create, &ObjectScope::Group),
        OrgKind::Users => !px360_api::users::grantable_roles(p).is_empty(),
        k => p.may(k.resource(), Action::Create, &own_scope(p)),
    }
}

pub fn title_key(kind: OrgKind) -> &'static str {
    match kind {
        OrgKind::Hospitals => "hospitals",
        OrgKind::Departments => "departments",
        OrgKind::Physicians => "physicians",
        OrgKind::Employees => "orgadm-employees",
        OrgKind::Patients => "orgadm-patients",
        OrgKind::Users => "orgadm-users",
    }
}
