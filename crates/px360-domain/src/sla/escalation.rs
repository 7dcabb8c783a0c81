//! Escalation: a ladder of levels, each with a trigger on the SLA state, producing decisions.
//!
//! Zammad escalates by notifying at breach only; Jira Service Management leaves escalation to
//! automation rules ("when SLA breached, then…"), which fire once per rule run and re-fire on
//! retries unless the rule author guards them. Here a decision is a pure function of the
//! evaluated history: a level already recorded in the current cycle (an `Escalated` event) is
//! never produced again, so retries and several workers converge on one escalation per level.
//! Only running goals escalate: a paused clock (waiting on the patient) is not our delay, and a
//! stopped one is over.

use super::clock::{Evaluation, SlaState};
use super::policy::Goal;
use crate::rbac::Role;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// Longest accepted wait after a breach before a level fires.
pub const MAX_AFTER_BREACH_HOURS: u32 = 24 * 30;

/// Who is notified at a level: the item's assignee (a person) or everyone holding a role in the
/// item's scope (department manager of its department, hospital admin of its hospital, PX admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "role", rename_all = "snake_case")]
pub enum EscalationTarget {
    Assignee,
    Role(Role),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "hours", rename_all = "snake_case")]
pub enum Trigger {
    /// The warning threshold (e.g. 75 %) was crossed.
    AtRisk,
    /// The target was exceeded.
    Breached,
    /// This many calendar hours after the breach (wall-clock: the ladder exists for the cases
    /// nobody is working on).
    BreachedFor(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscalationStep {
    pub level: u8,
    pub to: EscalationTarget,
    pub trigger: Trigger,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    #[error("an escalation ladder needs at least one step")]
    Empty,
    #[error("levels must be numbered 1, 2, 3… in order; step {index} has level {level}")]
    BadLevel { index: usize, level: u8 },
    #[error("step at level {level} fires earlier than the level before it")]
    NotEscalating { level: u8 },
    #[error("step at level {level} waits more than {MAX_AFTER_BREACH_HOURS} h after breach")]
    TooLate { level: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    steps: Vec<EscalationStep>,
}

fn trigger_rank(t: Trigger) -> (u8, u32) {
    match t {
        Trigger::AtRisk => (0, 0),
        Trigger::Breached => (1, 0),
        Trigger::BreachedFor(h) => (1, h),
    }
}

impl Ladder {
    pub fn new(steps: Vec<EscalationStep>) -> Result<Self, LadderError> {
        if steps.is_empty() {
            return Err(LadderError::Empty);
        }
        for (i, s) in steps.iter().enumerate() {
            if usize::from(s.level) != i + 1 {
                return Err(LadderError::BadLevel {
                    index: i,
                    level: s.level,
                });
            }
            if let Trigger::BreachedFor(h) = s.trigger
                && h > MAX_AFTER_BREACH_HOURS
            {
                return Err(LadderError::TooLate { level: s.level });
            }
            if i > 0 && trigger_rank(s.trigger) < trigger_rank(steps[i - 1].trigger) {
                return Err(LadderError::NotEscalating { level: s.level });
            }
        }
        Ok(Ladder { steps })
    }

    /// The chain: assignee warned at risk → department manager at breach → hospital
    /// admin 4 h later → PX admin 24 h later.
    pub fn standard() -> Self {
        let step = |level, to, trigger| EscalationStep { level, to, trigger };
        Ladder {
            steps: vec![
                step(1, EscalationTarget::Assignee, Trigger::AtRisk),
                step(
                    2,
                    EscalationTarget::Role(Role::DepartmentManager),
                    Trigger::Breached,
                ),
                step(
                    3,
                    EscalationTarget::Role(Role::HospitalAdmin),
                    Trigger::BreachedFor(4),
                ),
                step(
                    4,
                    EscalationTarget::Role(Role::PxAdmin),
                    Trigger::BreachedFor(24),
                ),
            ],
        }
    }

    pub fn steps(&self) -> &[EscalationStep] {
        &self.steps
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EscalationReason {
    pub goal: Goal,
    pub trigger: Trigger,
}

/// One decision to record (as an `Escalated` event) and notify on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Escalate {
    pub cycle: u32,
    pub level: u8,
    pub to: EscalationTarget,
    pub reason: EscalationReason,
    /// When the trigger fired: deterministic, independent of when the worker ran.
    pub at: DateTime<Utc>,
}

fn fires_at(s: &SlaState, t: Trigger) -> Option<DateTime<Utc>> {
    match t {
        Trigger::AtRisk => s.at_risk_at,
        Trigger::Breached => s.breached_at,
        Trigger::BreachedFor(h) => s
            .breached_at?
            .checked_add_signed(TimeDelta::hours(i64::from(h))),
    }
}

/// The escalations due at `now` in the current cycle that the history has not recorded yet,
/// lowest level first. A worker that was down catches up with every missed level at once, each
/// with the instant it should have fired.
pub fn decide(eval: &Evaluation, ladder: &Ladder, now: DateTime<Utc>) -> Vec<Escalate> {
    let Some(cycle) = eval.current() else {
        return Vec::new();
    };
    let running: Vec<&SlaState> = cycle
        .goals
        .iter()
        .filter(|g| g.stopped_at.is_none() && !g.paused)
        .collect();
    ladder
        .steps
        .iter()
        .filter(|step| !cycle.escalated.contains(&step.level))
        .filter_map(|step| {
            let (at, goal) = running
                .iter()
                .filter_map(|g| fires_at(g, step.trigger).map(|at| (at, g.goal)))
                .min()?;
            (at <= now).then_some(Escalate {
                cycle: cycle.number,
                level: step.level,
                to: step.to,
                reason: EscalationReason {
                    goal,
                    trigger: step.trigger,
                },
                at,
            })
        })
        .collect()
}

/// The next instant at which [`decide`] would produce something new, for the scheduler; `None`
/// when no running goal can trigger a pending level without a state change first.
pub fn next_escalation_at(eval: &Evaluation, ladder: &Ladder) -> Option<DateTime<Utc>> {
    let cycle = eval.current()?;
    let mut best: Option<DateTime<Utc>> = None;
    for step in ladder
        .steps
        .iter()
        .filter(|s| !cycle.escalated.contains(&s.level))
    {
        for g in cycle
            .goals
            .iter()
            .filter(|g| g.stopped_at.is_none() && !g.paused)
        {
            // A trigger not yet reached fires at the predicted warning/due instant.
            let t = fires_at(g, step.trigger).or(match step.trigger {
                Trigger::AtRisk => g.next_change_at.filter(|_| g.at_risk_at.is_none()),
                Trigger::Breached => g.due_at,
                Trigger::BreachedFor(h) => g
                    .due_at
                    .and_then(|d| d.checked_add_signed(TimeDelta::hours(i64::from(h)))),
            });
            if let Some(t) = t {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
    }
    best
}

#[cfg(test)]
#[path = "escalation_tests.rs"]
mod tests;
