//! When a PX action is created, with which severity, who should own it, and when it is due.
//!
//! The issue: actions come from negative survey responses (the surveys' domain event), from
//! complaints (configurable per category and severity) and by hand; the owner is chosen by rules
//! (e.g. the department's manager); due dates come from the SLA. Resolving an owner rule to a
//! person is a directory lookup, so this module returns the query ([`OwnerQuery`]) and the store
//! answers it.

use crate::rbac::Role;
use crate::sla::calendar::BusinessCalendar;
use crate::sla::policy::{Severity, SlaPolicy};
use crate::survey::negative::SurveyResponseNegative;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Category used to look up SLA targets for actions raised from surveys.
pub const SURVEY_CATEGORY: &str = "survey_negative";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionOrigin {
    NegativeSurvey {
        response_id: Uuid,
        template_id: Uuid,
    },
    Complaint {
        complaint_id: Uuid,
    },
    Manual,
    /// Triaged from a feedback item by a coordinator.
    Feedback {
        feedback_id: Uuid,
    },
    /// Converted from a social mention.
    SocialMention {
        mention_id: Uuid,
    },
    /// Raised by a hospital's sentiment rule for a negative free text (survey comment,
    /// feedback, social mention, call note, complaint): `item_kind` names which.
    NegativeText {
        item_kind: String,
        item_id: Uuid,
    },
}

/// Who should own a new action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "role", rename_all = "snake_case")]
pub enum OwnerRule {
    /// The manager of the item's department, falling back to the hospital's PX coordinator when
    /// the item has no department.
    DepartmentManager,
    /// Someone holding this role in the item's hospital.
    HospitalRole(Role),
}

/// What the store must look up: a user with `role` in this department or hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OwnerQuery {
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// Complaints of this category (or any, when `None`) at or above `min_severity` raise an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintTrigger {
    pub category: Option<String>,
    pub min_severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreationRules {
    /// Severity of actions raised from negative survey responses; `None` raises none.
    pub negative_survey: Option<Severity>,
    pub complaints: Vec<ComplaintTrigger>,
    pub owner: OwnerRule,
}

impl Default for CreationRules {
    /// Every negative response raises a medium action; high and critical complaints raise one
    /// of their own severity; the department manager owns it.
    fn default() -> Self {
        CreationRules {
            negative_survey: Some(Severity::Medium),
            complaints: vec![ComplaintTrigger {
                category: None,
                min_severity: Severity::High,
            }],
            owner: OwnerRule::DepartmentManager,
        }
    }
}

/// A decision to create an action; the store resolves `owner` and inserts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewAction {
    pub origin: ActionOrigin,
    pub severity: Severity,
    pub owner: OwnerQuery,
    pub created_at: DateTime<Utc>,
    /// From the policy's resolution target for this category and severity, if it has one.
    pub due_at: Option<DateTime<Utc>>,
}

/// Where the source item lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub hospital_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

impl CreationRules {
    fn owner(&self, at: Placement) -> OwnerQuery {
        let role = match (self.owner, at.department_id) {
            (OwnerRule::DepartmentManager, Some(_)) => Role::DepartmentManager,
            (OwnerRule::DepartmentManager, None) => Role::PxCoordinator,
            (OwnerRule::HospitalRole(r), _) => r,
        };
        OwnerQuery {
            role,
            hospital_id: at.hospital_id,
            department_id: at.department_id.filter(|_| role == Role::DepartmentManager),
        }
    }

    fn plan(
        &self,
        origin: ActionOrigin,
        category: &str,
        severity: Severity,
        at: Placement,
        created_at: DateTime<Utc>,
        sla: (&SlaPolicy, &BusinessCalendar),
    ) -> NewAction {
        let due_at = sla
            .0
            .targets_for(category, severity)
            .and_then(|t| t.resolution)
            .map(|t| t.due_from(created_at, sla.1));
        NewAction {
            origin,
            severity,
            owner: self.owner(at),
            created_at,
            due_at,
        }
    }

    /// An action for a negative survey response, if the rules raise one.
    pub fn for_negative_survey(
        &self,
        ev: &SurveyResponseNegative,
        department_id: Option<Uuid>,
        sla: (&SlaPolicy, &BusinessCalendar),
    ) -> Option<NewAction> {
        let severity = self.negative_survey?;
        let at = Placement {
            hospital_id: ev.hospital_id,
            department_id,
        };
        let origin = ActionOrigin::NegativeSurvey {
            response_id: ev.response_id,
            template_id: ev.template_id,
        };
        Some(self.plan(origin, SURVEY_CATEGORY, severity, at, ev.occurred_at, sla))
    }

    /// An action raised by a person from an item (feedback triage, a social mention): always
    /// raised, owned and due by the same rules as the automatic ones.
    pub fn by_hand(
        &self,
        origin: ActionOrigin,
        category: &str,
        severity: Severity,
        at: Placement,
        created_at: DateTime<Utc>,
        sla: (&SlaPolicy, &BusinessCalendar),
    ) -> NewAction {
        self.plan(origin, category, severity, at, created_at, sla)
    }

    /// An action for a complaint, if a trigger matches its category and severity.
    pub fn for_complaint(
        &self,
        complaint_id: Uuid,
        category: &str,
        severity: Severity,
        at: Placement,
        created_at: DateTime<Utc>,
        sla: (&SlaPolicy, &BusinessCalendar),
    ) -> Option<NewAction> {
        self.complaints
            .iter()
            .any(|t| {
                t.category.as_deref().is_none_or(|c| c == category) && severity >= t.min_severity
            })
            .then(|| {
                let origin = ActionOrigin::Complaint { complaint_id };
                self.plan(origin, category, severity, at, created_at, sla)
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sla::calendar::presets::riyadh;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn negative(hospital: Option<Uuid>) -> SurveyResponseNegative {
        SurveyResponseNegative {
            response_id: Uuid::from_u128(7),
            template_id: Uuid::from_u128(8),
            hospital_id: hospital,
            version: 1,
            content_hash: "h".into(),
            reasons: vec![],
            occurred_at: utc("2026-01-08T13:00:00Z"), // Thursday 16:00 Riyadh
        }
    }

    #[test]
    fn negative_survey_raises_a_department_managers_action_due_by_the_sla() {
        let policy = SlaPolicy::demo_default();
        let cal = riyadh(&[]);
        let (h, d) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let rules = CreationRules::default();
        let a = rules
            .for_negative_survey(&negative(Some(h)), Some(d), (&policy, &cal))
            .unwrap();
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!(
            a.owner,
            OwnerQuery {
                role: Role::DepartmentManager,
                hospital_id: Some(h),
                department_id: Some(d)
            }
        );
        // Medium resolution: 24 business hours from Thursday 16:00 → 1 h Thu, 8 h Sun, Mon,
        // 7 h Tue → Tuesday 16:00 local.
        assert_eq!(a.due_at, Some(utc("2026-01-13T13:00:00Z")));
        // Without a department the hospital's PX coordinator owns it.
        let a = rules
            .for_negative_survey(&negative(Some(h)), None, (&policy, &cal))
            .unwrap();
        assert_eq!(a.owner.role, Role::PxCoordinator);
        assert_eq!(a.owner.department_id, None);
        let off = CreationRules {
            negative_survey: None,
            ..CreationRules::default()
        };
        assert!(
            off.for_negative_survey(&negative(Some(h)), None, (&policy, &cal))
                .is_none()
        );
    }

    #[test]
    fn complaints_raise_actions_by_category_and_severity() {
        let policy = SlaPolicy::demo_default();
        let cal = riyadh(&[]);
        let at = Placement {
            hospital_id: Some(Uuid::from_u128(1)),
            department_id: None,
        };
        let t = utc("2026-01-11T05:00:00Z");
        let rules = CreationRules {
            negative_survey: None,
            complaints: vec![
                ComplaintTrigger {
                    category: Some("safety".into()),
                    min_severity: Severity::Low,
                },
                ComplaintTrigger {
                    category: None,
                    min_severity: Severity::Critical,
                },
            ],
            owner: OwnerRule::HospitalRole(Role::HospitalAdmin),
        };
        let id = Uuid::from_u128(9);
        assert!(
            rules
                .for_complaint(id, "safety", Severity::Low, at, t, (&policy, &cal))
                .is_some()
        );
        assert!(
            rules
                .for_complaint(id, "billing", Severity::High, at, t, (&policy, &cal))
                .is_none()
        );
        let a = rules
            .for_complaint(id, "billing", Severity::Critical, at, t, (&policy, &cal))
            .unwrap();
        assert_eq!(a.origin, ActionOrigin::Complaint { complaint_id: id });
        assert_eq!(a.owner.role, Role::HospitalAdmin);
        // Critical resolution is 4 calendar hours.
        assert_eq!(a.due_at, Some(utc("2026-01-11T09:00:00Z")));
    }
}
