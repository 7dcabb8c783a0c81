//! Roles, scopes and the permission table.
//!
//! Every endpoint asks one question: may this principal perform `Action` on a `Resource` that
//! lives at `ObjectScope`? The answer combines a minimum role level per (resource, action) with
//! containment of the object in the principal's scope.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The eight roles of the PX360 design, with their numeric levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Nurse,
    Physician,
    PxCoordinator,
    DepartmentManager,
    HospitalAdmin,
    PxAdmin,
}

/// How wide a role's scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Group,
    Hospital,
    Department,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::PxAdmin,
        Role::HospitalAdmin,
        Role::DepartmentManager,
        Role::PxCoordinator,
        Role::Physician,
        Role::Nurse,
        Role::Staff,
        Role::Viewer,
    ];

    pub fn level(self) -> u8 {
        match self {
            Role::PxAdmin => 100,
            Role::HospitalAdmin => 80,
            Role::DepartmentManager => 60,
            Role::PxCoordinator => 50,
            Role::Physician => 40,
            Role::Nurse => 30,
            Role::Staff => 20,
            Role::Viewer => 10,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PxAdmin => "px_admin",
            Role::HospitalAdmin => "hospital_admin",
            Role::DepartmentManager => "department_manager",
            Role::PxCoordinator => "px_coordinator",
            Role::Physician => "physician",
            Role::Nurse => "nurse",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// PX Admin sees the whole group; hospital admins and PX coordinators one hospital; everyone
    /// else works inside one department.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::PxAdmin => ScopeKind::Group,
            Role::HospitalAdmin | Role::PxCoordinator => ScopeKind::Hospital,
            _ => ScopeKind::Department,
        }
    }
}

/// Where a principal may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Group,
    Hospital {
        hospital_id: Uuid,
    },
    Department {
        hospital_id: Uuid,
        department_id: Uuid,
    },
}

impl Scope {
    pub fn hospital_id(&self) -> Option<Uuid> {
        match self {
            Scope::Group => None,
            Scope::Hospital { hospital_id } | Scope::Department { hospital_id, .. } => {
                Some(*hospital_id)
            }
        }
    }

    pub fn department_id(&self) -> Option<Uuid> {
        match self {
            Scope::Department { department_id, .. } => Some(*department_id),
            _ => None,
        }
    }

    /// Does this scope contain an object located at `obj`?
    pub fn contains(&self, obj: &ObjectScope) -> bool {
        match (self, obj) {
            (Scope::Group, _) => true,
            (_, ObjectScope::Group) => false,
            (Scope::Hospital { hospital_id }, ObjectScope::Hospital { hospital_id: h })
            | (Scope::Hospital { hospital_id }, ObjectScope::Department { hospital_id: h, .. }) => {
                hospital_id == h
            }
            (Scope::Department { .. }, ObjectScope::Hospital { .. }) => false,
            (
                Scope::Department {
                    hospital_id,
                    department_id,
                },
                ObjectScope::Department {
                    hospital_id: h,
                    department_id: d,
                },
            ) => hospital_id == h && department_id == d,
        }
    }

    /// Is `inner` (a scope being granted to someone else) inside this one?
    pub fn encloses(&self, inner: &Scope) -> bool {
        self.contains(&match *inner {
            Scope::Group => ObjectScope::Group,
            Scope::Hospital { hospital_id } => ObjectScope::Hospital { hospital_id },
            Scope::Department {
                hospital_id,
                department_id,
            } => ObjectScope::Department {
                hospital_id,
                department_id,
            },
        })
    }
}

/// Where an object lives: group-wide (hospitals list, templates), in a hospital, or in a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectScope {
    Group,
    Hospital {
        hospital_id: Uuid,
    },
    Department {
        hospital_id: Uuid,
        department_id: Uuid,
    },
}

impl ObjectScope {
    pub fn new(hospital_id: Option<Uuid>, department_id: Option<Uuid>) -> Self {
        match (hospital_id, department_id) {
            (Some(hospital_id), Some(department_id)) => ObjectScope::Department {
                hospital_id,
                department_id,
            },
            (Some(hospital_id), None) => ObjectScope::Hospital { hospital_id },
            (None, _) => ObjectScope::Group,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("role {role} needs a {needed} scope")]
    Mismatch {
        role: &'static str,
        needed: &'static str,
    },
}

/// An authenticated user: role and scope always agree (checked in [`Principal::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    user_id: Uuid,
    role: Role,
    scope: Scope,
}

impl Principal {
    pub fn new(
        user_id: Uuid,
        role: Role,
        hospital_id: Option<Uuid>,
        department_id: Option<Uuid>,
    ) -> Result<Self, ScopeError> {
        let scope = scope_for(role, hospital_id, department_id)?;
        Ok(Self {
            user_id,
            role,
            scope,
        })
    }
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The single authorisation decision.
    pub fn may(&self, resource: Resource, action: Action, obj: &ObjectScope) -> bool {
        match min_level(resource, action) {
            Some(level) => self.role.level() >= level && self.scope.contains(obj),
            None => false,
        }
    }

    /// May this principal create or change an account with `role` at `scope`? Only strictly lower
    /// roles (PX Admin may create anyone), and only inside the principal's own scope.
    pub fn may_grant(&self, role: Role, scope: &Scope) -> bool {
        let lower = self.role == Role::PxAdmin || role.level() < self.role.level();
        lower && self.role.level() >= 60 && self.scope.encloses(scope)
    }
}

/// Build the scope a role requires, rejecting combinations that make no sense.
pub fn scope_for(
    role: Role,
    hospital_id: Option<Uuid>,
    department_id: Option<Uuid>,
) -> Result<Scope, ScopeError> {
    let mismatch = |needed| ScopeError::Mismatch {
        role: role.as_str(),
        needed,
    };
    match (role.scope_kind(), hospital_id, department_id) {
        (ScopeKind::Group, None, None) => Ok(Scope::Group),
        (ScopeKind::Group, _, _) => Err(mismatch("group (no hospital or department)")),
        (ScopeKind::Hospital, Some(hospital_id), None) => Ok(Scope::Hospital { hospital_id }),
        (ScopeKind::Hospital, _, _) => Err(mismatch("hospital (hospital, no department)")),
        (ScopeKind::Department, Some(hospital_id), Some(department_id)) => Ok(Scope::Department {
            hospital_id,
            department_id,
        }),
        (ScopeKind::Department, _, _) => Err(mismatch("department (hospital and department)")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Hospital,
    Department,
    Physician,
    Employee,
    Patient,
    Journey,
    /// Journey and stage templates: group-wide ([`ObjectScope::Group`]) or owned by a hospital.
    JourneyTemplate,
    User,
    ApiKey,
    Event,
    Audit,
    /// Survey templates: group-wide or owned by a hospital (organisation data, like journey
    /// templates).
    SurveyTemplate,
    /// Survey invitations (send decisions): patient data; addresses are masked below PX
    /// Coordinator.
    SurveyInvitation,
    /// Survey responses and their domain events: patient data.
    SurveyResponse,
    /// Complaints (with their timeline and attachments).
    Complaint,
    /// PX actions.
    PxAction,
    /// A hospital's SLA calendar, policies and escalation ladder.
    SlaConfig,
    /// The group-wide complaint category taxonomy.
    ComplaintCategory,
    /// KPI aggregates (analytics): everyone in scope, Viewers included; no patient data.
    Analytics,
    /// Calls logged by the call centre: patient data (who called about whom, notes).
    Call,
    /// The callback queue (patient data, like the call it came from).
    Callback,
    /// Agent statistics: staff performance, no patient data; for supervisors.
    AgentStats,
    /// Quality-improvement projects: organisation data and aggregates, no patient data.
    QiProject,
    /// General feedback (compliments, suggestions, concerns): patient data, like complaints.
    /// Staff record and read it; coordinators triage it.
    Feedback,
    /// Social media mentions and reviews: public posts, but they name people; no viewers.
    SocialMention,
    /// A hospital's social listening configuration (handles, keywords, webhook secret).
    SocialConfig,
    /// A hospital's rule turning negative free text into a PX action.
    SentimentRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// Operator actions such as replaying a parked event.
    Operate,
}

/// Minimum role level per (resource, action); `None` means nobody (through the API).
pub fn min_level(resource: Resource, action: Action) -> Option<u8> {
    use Action::*;
    use Resource::*;
    Some(match (resource, action) {
        (Hospital | Department, Read) => 10,
        (Hospital, Create | Update | Delete) => 100,
        (Department, Create | Update | Delete) => 80,
        (Physician | Employee, Read) => 20,
        (Physician | Employee, Create | Update | Delete) => 60,
        // Viewers see aggregates only: no patient-identifiable data.
        (Patient | Journey, Read) => 20,
        (Patient, Create | Update) => 30,
        (Patient, Delete) => 60,
        (Journey, Update) => 30,
        // Templates are organisation data (no patient data): everyone in scope reads them.
        (JourneyTemplate, Read) => 10,
        (JourneyTemplate, Create | Update) => 80,
        (User, Read | Create | Update | Delete) => 60,
        (ApiKey, Read | Create | Delete) => 80,
        (Event, Read | Operate) => 50,
        (Audit, Read) => 80,
        (SurveyTemplate, Read) => 10,
        (SurveyTemplate, Create | Update) => 50,
        (SurveyInvitation | SurveyResponse, Read) => 20,
        // Recording an opt-out on the patient's request.
        (SurveyInvitation, Update) => 30,
        // Complaints carry patient data: no viewers. Staff take complaints in; who may move one
        // through its lifecycle (assignee, coordinator) is the domain machine's decision.
        (Complaint, Read | Create | Update) => 20,
        (PxAction, Read | Update) => 20,
        (PxAction, Create) => 50,
        (SlaConfig, Read) => 50,
        (SlaConfig, Update) => 80,
        (ComplaintCategory, Read) => 10,
        (ComplaintCategory, Create | Update) => 100,
        (Analytics, Read) => 10,
        // Call-centre agents are Staff and up: they log calls, take phone surveys, work the
        // callback queue. Viewers see no patient data.
        (Call | Callback, Read | Create | Update) => 20,
        (AgentStats, Read) => 50,
        // Everyone in scope follows QI projects; PX Coordinators and managers run them.
        (QiProject, Read) => 10,
        (QiProject, Create | Update) => 50,
        // Staff take feedback in (the public form needs no account); triage into a complaint
        // or an action is the coordinators' work, as a complaint's first handling is.
        (Feedback, Read | Create) => 20,
        (Feedback, Update) => 50,
        (SocialMention, Read) => 20,
        (SocialMention, Create | Update) => 50,
        (SocialConfig | SentimentRule, Read) => 50,
        (SocialConfig | SentimentRule, Update) => 80,
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roles_need_matching_scopes() {
        let (h, d) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(scope_for(Role::PxAdmin, None, None).is_ok());
        assert!(scope_for(Role::PxAdmin, Some(h), None).is_err());
        assert!(scope_for(Role::HospitalAdmin, Some(h), None).is_ok());
        assert!(scope_for(Role::HospitalAdmin, Some(h), Some(d)).is_err());
        assert!(scope_for(Role::Nurse, Some(h), None).is_err());
        assert!(scope_for(Role::Nurse, Some(h), Some(d)).is_ok());
    }

    #[test]
    fn department_scope_does_not_see_sibling_department() {
        let (h, d1, d2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let nurse = Principal::new(Uuid::new_v4(), Role::Nurse, Some(h), Some(d1)).unwrap();
        let own = ObjectScope::new(Some(h), Some(d1));
        let sibling = ObjectScope::new(Some(h), Some(d2));
        assert!(nurse.may(Resource::Patient, Action::Read, &own));
        assert!(!nurse.may(Resource::Patient, Action::Read, &sibling));
        assert!(!nurse.may(
            Resource::Patient,
            Action::Read,
            &ObjectScope::new(Some(h), None)
        ));
        assert!(!nurse.may(Resource::Patient, Action::Delete, &own));
    }

    #[test]
    fn grants_only_lower_roles_inside_scope() {
        let (h, d, h2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ha = Principal::new(Uuid::new_v4(), Role::HospitalAdmin, Some(h), None).unwrap();
        assert!(ha.may_grant(
            Role::Nurse,
            &Scope::Department {
                hospital_id: h,
                department_id: d
            }
        ));
        assert!(!ha.may_grant(Role::HospitalAdmin, &Scope::Hospital { hospital_id: h }));
        assert!(!ha.may_grant(
            Role::Nurse,
            &Scope::Department {
                hospital_id: h2,
                department_id: d
            }
        ));
        let nurse = Principal::new(Uuid::new_v4(), Role::Nurse, Some(h), Some(d)).unwrap();
        assert!(!nurse.may_grant(Role::Viewer, &nurse.scope()));
    }
}
