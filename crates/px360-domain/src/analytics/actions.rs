//! Improvement actions: closure and overdue rates.
//!
//! - closure rate = closed / all actions;
//! - on-time closure = closed by the due date / closed;
//! - overdue rate = open past the due date / open.
//!
//! Counted by the action's creation period; [`ActionState::of`] classifies one action at a given
//! instant, and [`ActionsAcc::transition`] updates a row in place when an action changes state
//! (the scheduler moves open actions to overdue as due dates pass).

use super::Merge;
use super::ratio::Ratio;
use super::state_counts::{NotInState, move_one};
use crate::action::px_action::ActionStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Open,
    Overdue,
    ClosedOnTime,
    ClosedLate,
}

impl ActionState {
    /// The state at `now` of an action due at `due` and closed at `closed` (if closed). Closing
    /// exactly at the due instant is on time.
    pub fn of(due: DateTime<Utc>, closed: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match closed {
            Some(c) if c <= due => ActionState::ClosedOnTime,
            Some(_) => ActionState::ClosedLate,
            None if now > due => ActionState::Overdue,
            None => ActionState::Open,
        }
    }

    /// The state of an action in the lifecycle's status at `now`; `None` for a cancelled action,
    /// which counts in no rate. An action without a due date is never overdue or late. A closed
    /// action without a closing time (not expected) counts as closed on time.
    pub fn of_status(
        status: ActionStatus,
        due: Option<DateTime<Utc>>,
        closed_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let closed = match status {
            ActionStatus::Cancelled => return None,
            ActionStatus::Closed => Some(closed_at.unwrap_or(DateTime::<Utc>::MIN_UTC)),
            ActionStatus::Open | ActionStatus::InProgress | ActionStatus::PendingVerification => {
                None
            }
        };
        Some(ActionState::of(
            due.unwrap_or(DateTime::<Utc>::MAX_UTC),
            closed,
            now,
        ))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsAcc {
    pub open: u64,
    pub overdue: u64,
    pub closed_on_time: u64,
    pub closed_late: u64,
}

impl ActionsAcc {
    fn slot(&mut self, s: ActionState) -> &mut u64 {
        match s {
            ActionState::Open => &mut self.open,
            ActionState::Overdue => &mut self.overdue,
            ActionState::ClosedOnTime => &mut self.closed_on_time,
            ActionState::ClosedLate => &mut self.closed_late,
        }
    }

    pub fn add(&mut self, s: ActionState) {
        let c = self.slot(s);
        *c = c.saturating_add(1);
    }

    pub fn transition(&mut self, from: ActionState, to: ActionState) -> Result<(), NotInState> {
        if from == to {
            return Ok(());
        }
        let mut a = *self.slot(from);
        let mut b = *self.slot(to);
        move_one(&mut a, &mut b)?;
        *self.slot(from) = a;
        *self.slot(to) = b;
        Ok(())
    }

    pub fn closed(&self) -> u64 {
        self.closed_on_time.saturating_add(self.closed_late)
    }

    pub fn still_open(&self) -> u64 {
        self.open.saturating_add(self.overdue)
    }

    pub fn total(&self) -> u64 {
        self.closed().saturating_add(self.still_open())
    }

    pub fn closure_rate(&self) -> Option<Ratio> {
        Ratio::percent(self.closed(), self.total())
    }

    pub fn on_time_closure_rate(&self) -> Option<Ratio> {
        Ratio::percent(self.closed_on_time, self.closed())
    }

    pub fn overdue_rate(&self) -> Option<Ratio> {
        Ratio::percent(self.overdue, self.still_open())
    }
}

impl Merge for ActionsAcc {
    fn merge(&mut self, o: &Self) {
        self.open = self.open.saturating_add(o.open);
        self.overdue = self.overdue.saturating_add(o.overdue);
        self.closed_on_time = self.closed_on_time.saturating_add(o.closed_on_time);
        self.closed_late = self.closed_late.saturating_add(o.closed_late);
    }
}
