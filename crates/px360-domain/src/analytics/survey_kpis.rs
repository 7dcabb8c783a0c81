//! Survey KPIs of a set of responses: NPS, CSAT and the HCAHPS-style item counts, folded one
//! validated response at a time.

use super::Merge;
use super::csat::CsatAcc;
use super::items::ItemsAcc;
use super::nps::NpsAcc;
use crate::survey::answer::{Answer, Answers};
use crate::survey::publish::PublishedSurvey;
use crate::survey::question::Subject;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyKpis {
    pub responses: u64,
    pub nps: NpsAcc,
    pub csat: CsatAcc,
    pub items: ItemsAcc,
}

impl SurveyKpis {
    /// Adds one response. NPS is the survey's first NPS question (the "recommend" item, as in
    /// [`crate::survey::scoring::score`]); CSAT counts every 1–5 rating; every scored answer is
    /// counted under its question key. `subjects` limits the questions to those about the given
    /// subjects (`None`: all), e.g. `Some(&[Subject::Physician])` for physician ratings.
    pub fn add_response(
        &mut self,
        survey: &PublishedSurvey,
        answers: &Answers,
        subjects: Option<&[Subject]>,
    ) {
        let mut nps_seen = false;
        let mut any = false;
        for q in &survey.content().questions {
            if subjects.is_some_and(|s| !s.contains(&q.subject)) {
                continue;
            }
            let Some(a) = answers.get(&q.key) else {
                continue;
            };
            match a {
                Answer::Nps(n) if !nps_seen => {
                    nps_seen = self.nps.add(*n).is_ok();
                }
                Answer::Rating(r) => {
                    // Validated answers are 1–5; anything else is simply not counted.
                    let _ = self.csat.add(*r);
                }
                _ => {}
            }
            any |= self.items.add(&q.key, a);
        }
        if any {
            self.responses = self.responses.saturating_add(1);
        }
    }
}

impl Merge for SurveyKpis {
    fn merge(&mut self, o: &Self) {
        self.responses = self.responses.saturating_add(o.responses);
        self.nps.merge(&o.nps);
        self.csat.merge(&o.csat);
        self.items.merge(&o.items);
    }
}
