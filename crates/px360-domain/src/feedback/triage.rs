//! Triage of a feedback item, and where compliments go.
//!
//! A coordinator turns an item into a complaint, an action or an acknowledgement with one
//! click ([`triage`]). An action is planned by the action centre's own rules
//! ([`CreationRules::by_hand`]: owner and SLA due time), so feedback-raised actions cannot drift
//! from the others. A complaint is a new complaint lifecycle
//! ([`crate::action::complaint::Complaint::new`]) with this placement, category and severity; a
//! compliment is never a case. Compliments are routed ([`route_compliment`]) to the named staff
//! member's manager, or to the department manager when nobody is named.

use super::kind::FeedbackKind;
use super::submission::Feedback;
use crate::action::origin::{ActionOrigin, CreationRules, NewAction, Placement};
use crate::rbac::Role;
use crate::sla::calendar::BusinessCalendar;
use crate::sla::policy::{Severity, SlaPolicy};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub const MAX_CATEGORY: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageCommand {
    ToComplaint {
        category: String,
        severity: Severity,
    },
    ToAction {
        category: String,
        severity: Severity,
    },
    Acknowledge,
}

/// What the store creates for a complaint raised from feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewComplaint {
    pub feedback_id: Uuid,
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
    pub category: String,
    pub severity: Severity,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriageDecision {
    Complaint(NewComplaint),
    Action(NewAction),
    Acknowledge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("feedback.triage.compliment_not_a_case")]
    ComplimentNotACase,
    #[error("feedback.triage.bad_category")]
    BadCategory,
}

impl TriageError {
    pub fn code(self) -> &'static str {
        match self {
            TriageError::ComplimentNotACase => "feedback.triage.compliment_not_a_case",
            TriageError::BadCategory => "feedback.triage.bad_category",
        }
    }
}

fn category_ok(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= MAX_CATEGORY
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub fn triage(
    feedback_id: Uuid,
    feedback: &Feedback,
    command: TriageCommand,
    rules: &CreationRules,
    now: DateTime<Utc>,
    sla: (&SlaPolicy, &BusinessCalendar),
) -> Result<TriageDecision, TriageError> {
    let case = !matches!(command, TriageCommand::Acknowledge);
    if case && feedback.kind == FeedbackKind::Compliment {
        return Err(TriageError::ComplimentNotACase);
    }
    Ok(match command {
        TriageCommand::Acknowledge => TriageDecision::Acknowledge,
        TriageCommand::ToComplaint { category, severity } => {
            if !category_ok(&category) {
                return Err(TriageError::BadCategory);
            }
            TriageDecision::Complaint(NewComplaint {
                feedback_id,
                hospital_id: feedback.hospital_id,
                department_id: feedback.department_id,
                category,
                severity,
                created_at: now,
            })
        }
        TriageCommand::ToAction { category, severity } => {
            if !category_ok(&category) {
                return Err(TriageError::BadCategory);
            }
            let at = Placement {
                hospital_id: Some(feedback.hospital_id),
                department_id: feedback.department_id,
            };
            TriageDecision::Action(rules.by_hand(
                ActionOrigin::Feedback { feedback_id },
                &category,
                severity,
                at,
                now,
                sla,
            ))
        }
    })
}

/// Who a compliment goes to; the store resolves it to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum ComplimentRoute {
    /// The line manager of this staff member (the directory knows who that is).
    ManagerOfStaff { staff_id: Uuid },
    /// A name the patient typed: the department manager reads it and passes it on.
    DepartmentManager {
        hospital_id: Uuid,
        department_id: Option<Uuid>,
        role: Role,
    },
}

/// `None` for anything but a compliment.
pub fn route_compliment(feedback: &Feedback) -> Option<ComplimentRoute> {
    if feedback.kind != FeedbackKind::Compliment {
        return None;
    }
    if let Some(staff_id) = feedback.staff.as_ref().and_then(|s| s.id) {
        return Some(ComplimentRoute::ManagerOfStaff { staff_id });
    }
    // Without a department the hospital's PX coordinator stands in, as for actions.
    let role = if feedback.department_id.is_some() {
        Role::DepartmentManager
    } else {
        Role::PxCoordinator
    };
    Some(ComplimentRoute::DepartmentManager {
        hospital_id: feedback.hospital_id,
        department_id: feedback.department_id,
        role,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::feedback::submission::NamedStaff;
    use crate::sla::calendar::presets::riyadh;
    use crate::survey::question::Lang;

    fn fb(kind: FeedbackKind, staff: Option<NamedStaff>) -> Feedback {
        Feedback {
            kind,
            lang: Lang::En,
            text: "t".into(),
            hospital_id: Uuid::from_u128(1),
            department_id: Some(Uuid::from_u128(2)),
            contact: None,
            staff,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_concern_becomes_an_action_owned_and_due_by_the_action_rules() {
        let (policy, cal) = (SlaPolicy::demo_default(), riyadh(&[]));
        let d = triage(
            Uuid::from_u128(9),
            &fb(FeedbackKind::Concern, None),
            TriageCommand::ToAction {
                category: "parking".into(),
                severity: Severity::Medium,
            },
            &CreationRules::default(),
            utc("2026-01-08T13:00:00Z"),
            (&policy, &cal),
        )
        .unwrap();
        let TriageDecision::Action(a) = d else {
            panic!("action expected")
        };
        assert_eq!(
            a.origin,
            ActionOrigin::Feedback {
                feedback_id: Uuid::from_u128(9)
            }
        );
        assert_eq!(a.owner.role, Role::DepartmentManager);
        // Same due time as origin.rs's medium case: Tuesday 16:00 Riyadh.
        assert_eq!(a.due_at, Some(utc("2026-01-13T13:00:00Z")));
    }

    #[test]
    fn a_concern_becomes_a_complaint_and_a_compliment_never_a_case() {
        let (policy, cal) = (SlaPolicy::demo_default(), riyadh(&[]));
        let now = utc("2026-01-08T13:00:00Z");
        let cmd = TriageCommand::ToComplaint {
            category: "staff_attitude".into(),
            severity: Severity::High,
        };
        let rules = CreationRules::default();
        let d = triage(
            Uuid::nil(),
            &fb(FeedbackKind::Concern, None),
            cmd.clone(),
            &rules,
            now,
            (&policy, &cal),
        );
        assert!(matches!(
            d,
            Ok(TriageDecision::Complaint(NewComplaint {
                severity: Severity::High,
                ..
            }))
        ));
        assert_eq!(
            triage(
                Uuid::nil(),
                &fb(FeedbackKind::Compliment, None),
                cmd,
                &rules,
                now,
                (&policy, &cal)
            ),
            Err(TriageError::ComplimentNotACase)
        );
        assert_eq!(
            triage(
                Uuid::nil(),
                &fb(FeedbackKind::Compliment, None),
                TriageCommand::Acknowledge,
                &rules,
                now,
                (&policy, &cal)
            ),
            Ok(TriageDecision::Acknowledge)
        );
        let bad = TriageCommand::ToAction {
            category: "Bad Cat".into(),
            severity: Severity::Low,
        };
        assert_eq!(
            triage(
                Uuid::nil(),
                &fb(FeedbackKind::Suggestion, None),
                bad,
                &rules,
                now,
                (&policy, &cal)
            )
            .unwrap_err()
            .code(),
            "feedback.triage.bad_category"
        );
    }

    #[test]
    fn compliments_go_to_the_named_staff_members_manager() {
        let staff = NamedStaff {
            id: Some(Uuid::from_u128(5)),
            name: None,
        };
        assert_eq!(
            route_compliment(&fb(FeedbackKind::Compliment, Some(staff))),
            Some(ComplimentRoute::ManagerOfStaff {
                staff_id: Uuid::from_u128(5)
            })
        );
        let typed = NamedStaff {
            id: None,
            name: Some("Sara".into()),
        };
        assert!(matches!(
            route_compliment(&fb(FeedbackKind::Compliment, Some(typed))),
            Some(ComplimentRoute::DepartmentManager {
                role: Role::DepartmentManager,
                ..
            })
        ));
        assert_eq!(route_compliment(&fb(FeedbackKind::Concern, None)), None);
    }
}
