//! One roll-up row's KPI state: what the store keeps per (day, hospital, department, journey,
//! stage, channel, language) and merges for any longer period or wider scope.

use super::Merge;
use super::actions::ActionsAcc;
use super::complaints::ComplaintsAcc;
use super::response_rate::ResponseRateAcc;
use super::sla_compliance::SlaAcc;
use super::survey_kpis::SurveyKpis;
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
