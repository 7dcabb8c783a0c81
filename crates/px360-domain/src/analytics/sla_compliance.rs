//! SLA compliance per goal of the SLA engine ([`Goal`]: first response, resolution, next
//! update): met / (met + breached).
//!
//! Goals still running (on track, at risk, paused) are counted as `open` and left out of the
//! rate: they have neither met nor missed the goal. The SLA engine decides when a goal is met or
//! breached ([`SlaOutcome::of`] maps its [`SlaStatus`]) and the row is updated in place with
//! [`SlaAcc::resolve`]. Counted by the case's opening period.

use super::Merge;
use super::ratio::Ratio;
use super::state_counts::{NotInState, move_one};
use crate::sla::clock::SlaStatus;
use crate::sla::policy::Goal;
use serde::{Deserialize, Serialize};

/// The SLA engine's goal type.
pub type SlaGoal = Goal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    Open,
    Met,
    Breached,
}

impl SlaOutcome {
    /// The outcome of a goal in the SLA engine's status.
    pub fn of(status: SlaStatus) -> Self {
        match status {
            SlaStatus::Met => SlaOutcome::Met,
            SlaStatus::Breached => SlaOutcome::Breached,
            SlaStatus::OnTrack | SlaStatus::AtRisk | SlaStatus::Paused => SlaOutcome::Open,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalCounts {
    pub open: u64,
    pub met: u64,
    pub breached: u64,
}

impl GoalCounts {
    fn slot(&mut self, o: SlaOutcome) -> &mut u64 {
        match o {
            SlaOutcome::Open => &mut self.open,
            SlaOutcome::Met => &mut self.met,
            SlaOutcome::Breached => &mut self.breached,
        }
    }

    /// % met of the decided (met + breached); `None` when none is decided yet.
    pub fn compliance(&self) -> Option<Ratio> {
        Ratio::percent(self.met, self.met.saturating_add(self.breached))
    }
}

/// Every goal of a set of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaAcc {
    pub first_response: GoalCounts,
    pub resolution: GoalCounts,
    pub next_update: GoalCounts,
}

impl SlaAcc {
    pub fn goal(&self, g: SlaGoal) -> &GoalCounts {
        match g {
            Goal::FirstResponse => &self.first_response,
            Goal::Resolution => &self.resolution,
            Goal::NextUpdate => &self.next_update,
        }
    }

    fn goal_mut(&mut self, g: SlaGoal) -> &mut GoalCounts {
        match g {
            Goal::FirstResponse => &mut self.first_response,
            Goal::Resolution => &mut self.resolution,
            Goal::NextUpdate => &mut self.next_update,
        }
    }

    /// Counts a case's goal in its current outcome.
    pub fn add(&mut self, g: SlaGoal, o: SlaOutcome) {
        let s = self.goal_mut(g).slot(o);
        *s = s.saturating_add(1);
    }

    /// An open goal was met or breached.
    pub fn resolve(&mut self, g: SlaGoal, to: SlaOutcome) -> Result<(), NotInState> {
        if to == SlaOutcome::Open {
            return Ok(());
        }
        let c = self.goal_mut(g);
        let mut open = c.open;
        let mut target = *c.slot(to);
        move_one(&mut open, &mut target)?;
        c.open = open;
        *c.slot(to) = target;
        Ok(())
    }
}

impl Merge for GoalCounts {
    fn merge(&mut self, o: &Self) {
        self.open = self.open.saturating_add(o.open);
        self.met = self.met.saturating_add(o.met);
        self.breached = self.breached.saturating_add(o.breached);
    }
}

impl Merge for SlaAcc {
    fn merge(&mut self, o: &Self) {
        self.first_response.merge(&o.first_response);
        self.resolution.merge(&o.resolution);
        self.next_update.merge(&o.next_update);
    }
}
