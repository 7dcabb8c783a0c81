//! PX action lifecycle: open → in progress → (pending verification) → closed, cancel, reopen.
//!
//! An action has one owner (chosen by rules, e.g. the department's manager, before it reaches
//! this machine), a due date from the SLA, a log of evidence, and cannot close without evidence.
//! High and critical actions need a second person to verify the closure: someone other than the
//! owner and the submitter, at department manager level or above.

use super::{at_least, text_ok};
use crate::rbac::{Principal, Role};
use crate::sla::clock::{ClockRules, GoalRules, SlaEvent, SlaEventKind};
use crate::sla::policy::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    PendingVerification,
    Closed,
    Cancelled,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 5] = [
        Self::Open,
        Self::InProgress,
        Self::PendingVerification,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::PendingVerification => "pending_verification",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What the lifecycle needs to know about an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PxAction {
    pub status: ActionStatus,
    pub owner: Uuid,
    pub severity: Severity,
    pub evidence_count: u32,
    /// Who asked for closure, while pending verification.
    pub submitted_by: Option<Uuid>,
    pub cycle: u32,
}

impl PxAction {
    pub fn new(owner: Uuid, severity: Severity) -> Self {
        PxAction {
            status: ActionStatus::Open,
            owner,
            severity,
            evidence_count: 0,
            submitted_by: None,
            cycle: 1,
        }
    }

    pub fn needs_verification(&self) -> bool {
        matches!(self.severity, Severity::High | Severity::Critical)
    }
}

/// Evidence is a note and optionally an attachment stored outside the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub note: String,
    pub attachment_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ActionCommand {
    Start,
    AddEvidence { evidence: Evidence },
    SubmitForClosure,
    Verify,
    RejectClosure { reason: String },
    Reassign { to: Uuid },
    Cancel { reason: String },
    Reopen { reason: String },
}

impl ActionCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::AddEvidence { .. } => "add_evidence",
            Self::SubmitForClosure => "submit_for_closure",
            Self::Verify => "verify",
            Self::RejectClosure { .. } => "reject_closure",
            Self::Reassign { .. } => "reassign",
            Self::Cancel { .. } => "cancel",
            Self::Reopen { .. } => "reopen",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ActionEvent {
    StatusChanged {
        from: ActionStatus,
        to: ActionStatus,
    },
    EvidenceAdded {
        evidence: Evidence,
        count: u32,
    },
    SubmittedForVerification {
        by: Uuid,
    },
    Verified {
        by: Uuid,
    },
    ClosureRejected {
        by: Uuid,
        reason: String,
    },
    Reassigned {
        from: Uuid,
        to: Uuid,
    },
    Cancelled {
        reason: String,
    },
    Reopened {
        cycle: u32,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("cannot {command} an action that is {}", from.as_str())]
    IllegalTransition {
        from: ActionStatus,
        command: &'static str,
    },
    #[error("a {} may not {command} this action", role.as_str())]
    NotPermitted { role: Role, command: &'static str },
    #[error("an action cannot close without evidence")]
    EvidenceRequired,
    #[error("closure must be verified by someone other than the owner and the submitter")]
    SecondPersonRequired,
    #[error("the action is already owned by that user")]
    SameOwner,
    #[error("{0} must be 1..={max} characters", max = super::MAX_TEXT)]
    TextRequired(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionTransition {
    pub next: PxAction,
    pub events: Vec<ActionEvent>,
}

fn may_work(a: &PxAction, by: &Principal) -> bool {
    a.owner == by.user_id() || at_least(by, Role::DepartmentManager)
}

pub fn apply(
    a: &PxAction,
    cmd: &ActionCommand,
    by: &Principal,
) -> Result<ActionTransition, ActionError> {
    use ActionStatus::*;
    let name = cmd.name();
    let illegal = || ActionError::IllegalTransition {
        from: a.status,
        command: name,
    };
    let denied = || ActionError::NotPermitted {
        role: by.role(),
        command: name,
    };
    let mut next = *a;
    let mut events = Vec::new();
    let to = match cmd {
        ActionCommand::Start => {
            if a.status != Open {
                return Err(illegal());
            }
            if !may_work(a, by) {
                return Err(denied());
            }
            InProgress
        }
        ActionCommand::AddEvidence { evidence } => {
            if !matches!(a.status, Open | InProgress) {
                return Err(illegal());
            }
            if !may_work(a, by) {
                return Err(denied());
            }
            if !text_ok(&evidence.note) {
                return Err(ActionError::TextRequired("evidence note"));
            }
            next.evidence_count = a.evidence_count.saturating_add(1);
            events.push(ActionEvent::EvidenceAdded {
                evidence: Evidence {
                    note: evidence.note.trim().to_owned(),
                    attachment_id: evidence.attachment_id,
                },
                count: next.evidence_count,
            });
            return Ok(ActionTransition { next, events });
        }
        ActionCommand::SubmitForClosure => {
            if a.status != InProgress {
                return Err(illegal());
            }
            if !may_work(a, by) {
                return Err(denied());
            }
            if a.evidence_count == 0 {
                return Err(ActionError::EvidenceRequired);
            }
            if a.needs_verification() {
                next.submitted_by = Some(by.user_id());
                events.push(ActionEvent::SubmittedForVerification { by: by.user_id() });
                PendingVerification
            } else {
                Closed
            }
        }
        ActionCommand::Verify | ActionCommand::RejectClosure { .. } => {
            if a.status != PendingVerification {
                return Err(illegal());
            }
            if !at_least(by, Role::DepartmentManager) {
                return Err(denied());
            }
            if by.user_id() == a.owner || Some(by.user_id()) == a.submitted_by {
                return Err(ActionError::SecondPersonRequired);
            }
            next.submitted_by = None;
            if let ActionCommand::RejectClosure { reason } = cmd {
                if !text_ok(reason) {
                    return Err(ActionError::TextRequired("rejection reason"));
                }
                events.push(ActionEvent::ClosureRejected {
                    by: by.user_id(),
                    reason: reason.trim().to_owned(),
                });
                InProgress
            } else {
                events.push(ActionEvent::Verified { by: by.user_id() });
                Closed
            }
        }
        ActionCommand::Reassign { to } => {
            if matches!(a.status, Closed | Cancelled) {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            if *to == a.owner {
                return Err(ActionError::SameOwner);
            }
            next.owner = *to;
            events.push(ActionEvent::Reassigned {
                from: a.owner,
                to: *to,
            });
            return Ok(ActionTransition { next, events });
        }
        ActionCommand::Cancel { reason } => {
            if matches!(a.status, Closed | Cancelled) {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            if !text_ok(reason) {
                return Err(ActionError::TextRequired("cancellation reason"));
            }
            next.submitted_by = None;
            events.push(ActionEvent::Cancelled {
                reason: reason.trim().to_owned(),
            });
            Cancelled
        }
        ActionCommand::Reopen { reason } => {
            if a.status != Closed {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            if !text_ok(reason) {
                return Err(ActionError::TextRequired("reopen reason"));
            }
            next.cycle = a.cycle.saturating_add(1);
            events.push(ActionEvent::Reopened {
                cycle: next.cycle,
                reason: reason.trim().to_owned(),
            });
            InProgress
        }
    };
    next.status = to;
    events.insert(0, ActionEvent::StatusChanged { from: a.status, to });
    Ok(ActionTransition { next, events })
}

pub fn sla_event(ev: &ActionEvent, at: DateTime<Utc>) -> Option<SlaEvent<ActionStatus>> {
    match ev {
        ActionEvent::StatusChanged { to, .. } => Some(SlaEvent {
            at,
            kind: SlaEventKind::Status { state: *to },
        }),
        _ => None,
    }
}

/// First response = the owner starts work; resolution runs until closed or cancelled
/// (verification is our own work, so it does not pause); reopening a closed action starts a
/// new cycle. Actions have no patient to update, so next-update stops with resolution.
pub fn clock_rules() -> ClockRules<ActionStatus> {
    use ActionStatus::*;
    let done = vec![Closed, Cancelled];
    ClockRules {
        first_response: GoalRules {
            pause_in: vec![],
            stop_in: vec![InProgress, PendingVerification, Closed, Cancelled],
            stop_on_response: false,
            restart_on_update: false,
        },
        resolution: GoalRules {
            pause_in: vec![],
            stop_in: done.clone(),
            stop_on_response: false,
            restart_on_update: false,
        },
        next_update: GoalRules {
            pause_in: vec![],
            stop_in: done,
            stop_on_response: false,
            restart_on_update: true,
        },
        new_cycle_from: vec![Closed],
    }
}

#[cfg(test)]
#[path = "px_action_tests.rs"]
mod tests;
