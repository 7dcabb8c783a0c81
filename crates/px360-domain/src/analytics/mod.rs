//! Analytics without I/O: the KPI definitions, their mergeable accumulators, reporting periods,
//! trends and physician ratings. The store keeps accumulators in daily roll-up rows and merges
//! them for any period and scope; the API, dashboards and exports turn them into numbers.
//!
//! Every accumulator is a commutative monoid over plain integer counters: `Default` is the
//! empty state, `add…` counts one observation, [`Merge::merge`] combines two states, and
//! merging is associative and commutative with `merge(a, b)` equal to adding both sets of
//! observations. Scores are exact [`ratio::Ratio`]s computed only at the end.
//!
//! - [`nps`], [`csat`], [`items`] (HCAHPS-style boxes, linear mean, composites),
//!   [`survey_kpis`] (one response into all three), [`response_rate`];
//! - [`sla_compliance`], [`complaints`], [`actions`]: case-side KPIs;
//! - [`rollup`]: one row of all of them;
//! - [`period`], [`trend`]: periods in the hospital's zone, the previous period, trend arrows;
//! - [`physician`]: physician ratings, suppression and department ranking.

pub mod actions;
pub mod complaints;
pub mod csat;
pub mod items;
pub mod nps;
pub mod period;
pub mod physician;
pub mod ratio;
pub mod response_rate;
pub mod rollup;
pub mod sla_compliance;
mod state_counts;
pub mod survey_kpis;
pub mod trend;

pub use state_counts::NotInState;

/// A mergeable accumulator (commutative monoid); `Default` is the identity.
pub trait Merge: Default {
    fn merge(&mut self, other: &Self);

    /// All of `parts` merged, e.g. a month from its daily roll-ups.
    fn merge_all<'a>(parts: impl IntoIterator<Item = &'a Self>) -> Self
    where
        Self: 'a,
    {
        let mut acc = Self::default();
        for p in parts {
            acc.merge(p);
        }
        acc
    }
}

#[cfg(test)]
mod tests;
