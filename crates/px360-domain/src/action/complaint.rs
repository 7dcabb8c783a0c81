//! Complaint lifecycle: new → acknowledged → in progress ⇄ waiting on patient → resolved →
//! closed, with reopen from resolved or closed (a new SLA cycle).

use super::{at_least, text_ok};
use crate::rbac::{Principal, Role};
use crate::sla::clock::{ClockRules, GoalRules, SlaEvent, SlaEventKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    New,
    Acknowledged,
    InProgress,
    WaitingOnPatient,
    Resolved,
    Closed,
}

impl ComplaintStatus {
    pub const ALL: [ComplaintStatus; 6] = [
        Self::New,
        Self::Acknowledged,
        Self::InProgress,
        Self::WaitingOnPatient,
        Self::Resolved,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::InProgress => "in_progress",
            Self::WaitingOnPatient => "waiting_on_patient",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What the lifecycle needs to know about a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub status: ComplaintStatus,
    pub assignee: Option<Uuid>,
    /// SLA cycle, 1-based; +1 per reopen.
    pub cycle: u32,
}

impl Complaint {
    pub fn new() -> Self {
        Complaint {
            status: ComplaintStatus::New,
            assignee: None,
            cycle: 1,
        }
    }
}

impl Default for Complaint {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ComplaintCommand {
    Acknowledge,
    StartWork,
    WaitOnPatient,
    PatientReplied,
    Resolve { summary: String },
    Close,
    Reopen { reason: String },
    Assign { to: Uuid },
}

impl ComplaintCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::StartWork => "start_work",
            Self::WaitOnPatient => "wait_on_patient",
            Self::PatientReplied => "patient_replied",
            Self::Resolve { .. } => "resolve",
            Self::Close => "close",
            Self::Reopen { .. } => "reopen",
            Self::Assign { .. } => "assign",
        }
    }
}

/// Audit-worthy outcomes; the store adds actor and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ComplaintEvent {
    StatusChanged {
        from: ComplaintStatus,
        to: ComplaintStatus,
    },
    Assigned {
        from: Option<Uuid>,
        to: Uuid,
    },
    Resolved {
        summary: String,
    },
    Reopened {
        cycle: u32,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("cannot {command} a complaint that is {}", from.as_str())]
    IllegalTransition {
        from: ComplaintStatus,
        command: &'static str,
    },
    #[error("a {} may not {command} this complaint", role.as_str())]
    NotPermitted { role: Role, command: &'static str },
    #[error("the complaint needs an assignee before work starts")]
    Unassigned,
    #[error("already assigned to that user")]
    AlreadyAssigned,
    #[error("{0} must be 1..={max} characters", max = super::MAX_TEXT)]
    TextRequired(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintTransition {
    pub next: Complaint,
    pub events: Vec<ComplaintEvent>,
}

/// Work on the complaint: its assignee, or PX coordinator and above.
fn may_work(c: &Complaint, by: &Principal) -> bool {
    c.assignee == Some(by.user_id()) || at_least(by, Role::PxCoordinator)
}

pub fn apply(
    c: &Complaint,
    cmd: &ComplaintCommand,
    by: &Principal,
) -> Result<ComplaintTransition, ComplaintError> {
    use ComplaintStatus::*;
    let name = cmd.name();
    let illegal = || ComplaintError::IllegalTransition {
        from: c.status,
        command: name,
    };
    let denied = || ComplaintError::NotPermitted {
        role: by.role(),
        command: name,
    };
    let mut next = *c;
    let mut events = Vec::new();
    let to = match cmd {
        ComplaintCommand::Acknowledge
        | ComplaintCommand::StartWork
        | ComplaintCommand::WaitOnPatient
        | ComplaintCommand::PatientReplied
        | ComplaintCommand::Resolve { .. } => {
            let to = match (cmd, c.status) {
                (ComplaintCommand::Acknowledge, New) => Acknowledged,
                (ComplaintCommand::StartWork, New | Acknowledged) => InProgress,
                (ComplaintCommand::WaitOnPatient, InProgress) => WaitingOnPatient,
                (ComplaintCommand::PatientReplied, WaitingOnPatient) => InProgress,
                (
                    ComplaintCommand::Resolve { .. },
                    Acknowledged | InProgress | WaitingOnPatient,
                ) => Resolved,
                _ => return Err(illegal()),
            };
            if !may_work(c, by) {
                return Err(denied());
            }
            if to == InProgress && c.assignee.is_none() {
                return Err(ComplaintError::Unassigned);
            }
            if let ComplaintCommand::Resolve { summary } = cmd {
                if !text_ok(summary) {
                    return Err(ComplaintError::TextRequired("resolution summary"));
                }
                events.push(ComplaintEvent::Resolved {
                    summary: summary.trim().to_owned(),
                });
            }
            to
        }
        ComplaintCommand::Close => {
            if c.status != Resolved {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            Closed
        }
        ComplaintCommand::Reopen { reason } => {
            if !matches!(c.status, Resolved | Closed) {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            if !text_ok(reason) {
                return Err(ComplaintError::TextRequired("reopen reason"));
            }
            next.cycle = c.cycle.saturating_add(1);
            events.push(ComplaintEvent::Reopened {
                cycle: next.cycle,
                reason: reason.trim().to_owned(),
            });
            if c.assignee.is_some() {
                InProgress
            } else {
                Acknowledged
            }
        }
        ComplaintCommand::Assign { to } => {
            if c.status == Closed {
                return Err(illegal());
            }
            if !at_least(by, Role::PxCoordinator) {
                return Err(denied());
            }
            if c.assignee == Some(*to) {
                return Err(ComplaintError::AlreadyAssigned);
            }
            next.assignee = Some(*to);
            events.push(ComplaintEvent::Assigned {
                from: c.assignee,
                to: *to,
            });
            return Ok(ComplaintTransition { next, events });
        }
    };
    next.status = to;
    events.insert(0, ComplaintEvent::StatusChanged { from: c.status, to });
    Ok(ComplaintTransition { next, events })
}

/// The SLA clock event for a lifecycle event, if it moves the clock.
pub fn sla_event(ev: &ComplaintEvent, at: DateTime<Utc>) -> Option<SlaEvent<ComplaintStatus>> {
    match ev {
        ComplaintEvent::StatusChanged { to, .. } => Some(SlaEvent {
            at,
            kind: SlaEventKind::Status { state: *to },
        }),
        _ => None,
    }
}

/// Start on intake; first response stops at acknowledgement (or any later state, or the first
/// message to the patient); waiting on the patient pauses resolution and next-update; resolved
/// and closed stop them; leaving resolved/closed (reopen) starts a new cycle.
pub fn clock_rules() -> ClockRules<ComplaintStatus> {
    use ComplaintStatus::*;
    ClockRules {
        first_response: GoalRules {
            pause_in: vec![],
            stop_in: vec![Acknowledged, InProgress, WaitingOnPatient, Resolved, Closed],
            stop_on_response: true,
            restart_on_update: false,
        },
        resolution: GoalRules {
            pause_in: vec![WaitingOnPatient],
            stop_in: vec![Resolved, Closed],
            stop_on_response: false,
            restart_on_update: false,
        },
        next_update: GoalRules {
            pause_in: vec![WaitingOnPatient],
            stop_in: vec![Resolved, Closed],
            stop_on_response: false,
            restart_on_update: true,
        },
        new_cycle_from: vec![Resolved, Closed],
    }
}

#[cfg(test)]
#[path = "complaint_tests.rs"]
pub(crate) mod tests;
