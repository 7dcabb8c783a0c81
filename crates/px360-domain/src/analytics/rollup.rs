//! One roll-up row's KPI state: what the store keeps per (day, hospital, department, journey,
//! stage, channel, language) and merges for any longer period or wider scope.

use super::Merge;
use super::actions::ActionsAcc;
use super::complaints::ComplaintsAcc;
use super::ratio::Ratio;
use super::response_rate::ResponseRateAcc;
use super::sla_compliance::SlaAcc;
use super::survey_kpis::SurveyKpis;
use super::trend::{Sample, Trend, TrendRule};
use crate::survey::key::Key;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rollup {
    pub response_rate: ResponseRateAcc,
    pub survey: SurveyKpis,
    pub sla: SlaAcc,
    pub complaints: ComplaintsAcc,
    pub actions: ActionsAcc,
}

impl Merge for Rollup {
    fn merge(&mut self, o: &Self) {
        self.response_rate.merge(&o.response_rate);
        self.survey.merge(&o.survey);
        self.sla.merge(&o.sla);
        self.complaints.merge(&o.complaints);
        self.actions.merge(&o.actions);
    }
}

/// The headline numbers of a row, one dashboard tile each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    ResponseRate,
    Nps,
    Csat,
    /// Top-box % of all answered items, as a composite (mean of the items).
    TopBox,
    /// Linear mean 0–100 of all answered items, as a composite.
    LinearMean,
    SlaFirstResponse,
    SlaResolution,
    ComplaintsReceived,
    /// Mean hours from a complaint to its resolution.
    ComplaintHoursToResolve,
    ActionClosure,
    ActionOverdue,
}

impl Kpi {
    pub const ALL: [Kpi; 11] = [
        Kpi::ResponseRate,
        Kpi::Nps,
        Kpi::Csat,
        Kpi::TopBox,
        Kpi::LinearMean,
        Kpi::SlaFirstResponse,
        Kpi::SlaResolution,
        Kpi::ComplaintsReceived,
        Kpi::ComplaintHoursToResolve,
        Kpi::ActionClosure,
        Kpi::ActionOverdue,
    ];
}

/// A tile: the value (`None` when there is nothing to compute it from), the whole number shown,
/// and the number of observations behind it (for trends and suppression).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tile {
    pub kpi: Kpi,
    pub value: Option<f64>,
    pub shown: Option<i64>,
    pub n: u64,
}

impl Rollup {
    pub fn tile(&self, kpi: Kpi) -> Tile {
        let exact = |r: Option<Ratio>, n: u64| Tile {
            kpi,
            value: r.map(Ratio::to_f64),
            shown: r.map(Ratio::round),
            n,
        };
        let all_items = || {
            let keys: Vec<Key> = self.survey.items.0.keys().cloned().collect();
            self.survey.items.composite(&keys)
        };
        let decided = |g: &super::sla_compliance::GoalCounts| g.met.saturating_add(g.breached);
        let complaints = self.complaints.total();
        match kpi {
            Kpi::ResponseRate => exact(self.response_rate.rate(), self.response_rate.invitations()),
            Kpi::Nps => exact(self.survey.nps.nps(), self.survey.nps.n()),
            Kpi::Csat => exact(self.survey.csat.csat(), self.survey.csat.total),
            Kpi::TopBox => exact(all_items().map(|c| c.top), self.survey.responses),
            Kpi::LinearMean => exact(all_items().map(|c| c.linear_mean), self.survey.responses),
            Kpi::SlaFirstResponse => exact(
                self.sla.first_response.compliance(),
                decided(&self.sla.first_response),
            ),
            Kpi::SlaResolution => exact(
                self.sla.resolution.compliance(),
                decided(&self.sla.resolution),
            ),
            Kpi::ComplaintsReceived => exact(
                Ratio::new(i128::from(complaints.received), 1),
                complaints.received,
            ),
            Kpi::ComplaintHoursToResolve => exact(complaints.mean_hours(), complaints.resolved),
            Kpi::ActionClosure => exact(self.actions.closure_rate(), self.actions.total()),
            Kpi::ActionOverdue => exact(self.actions.overdue_rate(), self.actions.still_open()),
        }
    }

    /// Every tile with its trend against `previous` (the same scope's previous period).
    pub fn tiles_with_trends(&self, previous: &Rollup, rule: &TrendRule) -> Vec<(Tile, Trend)> {
        Kpi::ALL
            .iter()
            .map(|k| {
                let (now, before) = (self.tile(*k), previous.tile(*k));
                let sample = |t: Tile| Sample {
                    value: t.value,
                    n: t.n,
                };
                (now, rule.trend(sample(now), sample(before)))
            })
            .collect()
    }
}
