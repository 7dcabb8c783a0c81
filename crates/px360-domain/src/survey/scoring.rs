//! Scores of one response and group helpers.
//!
//! Definitions:
//! - **NPS category** of a 0–10 answer: promoter 9–10, passive 7–8, detractor 0–6; group NPS =
//!   % promoters − % detractors (−100 … 100).
//! - **CSAT top-two-box** of a 1–5 rating: 4 or 5 counts as satisfied; a group's CSAT is the
//!   percentage of such answers.
//! - **HCAHPS top-box**: the most positive answer, "Always" on the frequency scale ("A Note About
//!   HCAHPS Boxes", <https://hcahpsonline.org/en/summary-analyses>).
//! - **Linear mean score** (0–100), as CMS uses for HCAHPS Star Ratings
//!   (<https://hcahpsonline.org/en/hcahps-star-ratings>, Star Ratings Technical Notes): the least
//!   positive answer scores 0, the most positive 100 and the answers in between are evenly
//!   spaced, so Never/Sometimes/Usually/Always = 0, 33⅓, 66⅔, 100 and a 0–10 rating scores
//!   10 × answer. A 1–5 rating is spaced the same way: (answer − 1) × 25. CMS's patient-mix and
//!   mode adjustments apply to publicly reported hospital scores, not to one response, and are
//!   out of scope here.
//!
//! Yes/no, choice and free-text answers are not scored.

use super::answer::{Answer, Answers};
use super::key::Key;
use super::publish::PublishedSurvey;
use super::question::Frequency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NpsCategory {
    Promoter,
    Passive,
    Detractor,
}

impl NpsCategory {
    /// `None` outside 0–10.
    pub fn of(answer: u8) -> Option<Self> {
        match answer {
            9..=10 => Some(NpsCategory::Promoter),
            7..=8 => Some(NpsCategory::Passive),
            0..=6 => Some(NpsCategory::Detractor),
            _ => None,
        }
    }
}

/// Group NPS (−100 … 100) of a set of categories; `None` for an empty set.
pub fn group_nps(categories: impl IntoIterator<Item = NpsCategory>) -> Option<f64> {
    let (mut n, mut pro, mut det) = (0u64, 0u64, 0u64);
    for c in categories {
        n += 1;
        match c {
            NpsCategory::Promoter => pro += 1,
            NpsCategory::Detractor => det += 1,
            NpsCategory::Passive => {}
        }
    }
    (n > 0).then(|| (pro as f64 - det as f64) * 100.0 / n as f64)
}

/// Percentage (0–100) of `true` values; `None` for an empty set. For CSAT (top-two-box flags)
/// and HCAHPS top-box rates.
pub fn percent_true(flags: impl IntoIterator<Item = bool>) -> Option<f64> {
    let (mut n, mut t) = (0u64, 0u64);
    for f in flags {
        n += 1;
        t += u64::from(f);
    }
    (n > 0).then(|| t as f64 * 100.0 / n as f64)
}

/// Arithmetic mean; `None` for an empty set.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut n, mut sum) = (0u64, 0.0);
    for v in values {
        n += 1;
        sum += v;
    }
    (n > 0).then(|| sum / n as f64)
}

pub fn csat_top_two_box(rating: u8) -> bool {
    rating >= 4
}

pub fn hcahps_top_box(f: Frequency) -> bool {
    f == Frequency::Always
}

/// 0–100 linear score of a scored answer; `None` for unscored types.
pub fn linear_score(a: &Answer) -> Option<f64> {
    match a {
        Answer::Rating(r) => Some((f64::from(*r) - 1.0) * 25.0),
        Answer::Nps(n) => Some(f64::from(*n) * 10.0),
        Answer::Frequency(f) => Some(match f {
            Frequency::Never => 0.0,
            Frequency::Sometimes => 100.0 / 3.0,
            Frequency::Usually => 200.0 / 3.0,
            Frequency::Always => 100.0,
        }),
        _ => None,
    }
}

/// Scores of one scored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    pub key: Key,
    pub linear: f64,
    /// Rating: 4–5; NPS: promoter; frequency: Always.
    pub top_box: bool,
}

/// What is stored with a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseScores {
    /// The first NPS question's answer (the survey's "recommend" item).
    pub nps: Option<u8>,
    pub nps_category: Option<NpsCategory>,
    /// % of answered 1–5 ratings in the top two boxes.
    pub csat_top_two_box: Option<f64>,
    /// % of answered frequency items answered "Always".
    pub hcahps_top_box: Option<f64>,
    /// Mean linear score over all scored items.
    pub linear_mean: Option<f64>,
    /// In question order.
    pub items: Vec<ItemScore>,
}

pub fn score(survey: &PublishedSurvey, answers: &Answers) -> ResponseScores {
    let mut items = Vec::new();
    let mut nps = None;
    let (mut csat, mut hcahps) = (Vec::new(), Vec::new());
    for q in &survey.content().questions {
        let Some(a) = answers.get(&q.key) else {
            continue;
        };
        let Some(linear) = linear_score(a) else {
            continue;
        };
        let top_box = match a {
            Answer::Rating(r) => {
                csat.push(csat_top_two_box(*r));
                csat_top_two_box(*r)
            }
            Answer::Nps(n) => {
                nps.get_or_insert(*n);
                NpsCategory::of(*n) == Some(NpsCategory::Promoter)
            }
            Answer::Frequency(f) => {
                hcahps.push(hcahps_top_box(*f));
                hcahps_top_box(*f)
            }
            _ => false,
        };
        items.push(ItemScore {
            key: q.key.clone(),
            linear,
            top_box,
        });
    }
    ResponseScores {
        nps,
        nps_category: nps.and_then(NpsCategory::of),
        csat_top_two_box: percent_true(csat),
        hcahps_top_box: percent_true(hcahps),
        linear_mean: mean(items.iter().map(|i| i.linear)),
        items,
    }
}
