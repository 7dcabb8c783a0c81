//! SLA compliance per goal (first response, resolution): met / (met + breached).
//!
//! Cases still open and not yet past their due time are counted as `open` and left out of the
//! rate: they have neither met nor missed the goal. A case open past its due time has breached
//! (the SLA engine decides when and moves it with [`SlaAcc::resolve`]). Counted by the case's
//! opening period, so a row changes in place as its cases close.

use super::Merge;
use super::ratio::Ratio;
use super::state_counts::{NotInState, move_one};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaGoal {
    FirstResponse,
    Resolution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    Open,
    Met,
    Breached,
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

/// Both goals of a set of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaAcc {
    pub first_response: GoalCounts,
    pub resolution: GoalCounts,
}

impl SlaAcc {
    pub fn goal(&self, g: SlaGoal) -> &GoalCounts {
        match g {
            SlaGoal::FirstResponse => &self.first_response,
            SlaGoal::Resolution => &self.resolution,
        }
    }

    fn goal_mut(&mut self, g: SlaGoal) -> &mut GoalCounts {
        match g {
            SlaGoal::FirstResponse => &mut self.first_response,
            SlaGoal::Resolution => &mut self.resolution,
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
    }
}
