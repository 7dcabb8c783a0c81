//! Physician ratings from the questions tagged `subject: physician`, with minimum-sample
//! suppression and ranking within a department.
//!
//! A physician's rating is the composite of their physician items (the mean of the items'
//! linear means and top-box percentages, as for any composite), over the responses about them.
//! Below `min_sample` responses (default 30) the rating is [`PhysicianRating::InsufficientData`]:
//! a handful of answers says little and can identify patients.
//!
//! Ranking uses the displayed (whole-number, standard-rounded) linear mean, so two physicians
//! shown with the same score share a rank; ranks are competition ranks (1, 2, 2, 4) and
//! suppressed physicians are listed after the ranked ones without a rank.

use super::Merge;
use super::items::CompositeScores;
use super::survey_kpis::SurveyKpis;
use crate::survey::answer::Answers;
use crate::survey::key::Key;
use crate::survey::publish::PublishedSurvey;
use crate::survey::question::Subject;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_MIN_SAMPLE: u64 = 30;

/// The physician part of a roll-up row: survey KPIs over physician-tagged questions only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhysicianAcc(pub SurveyKpis);

impl PhysicianAcc {
    /// Adds a response about this physician; only its physician-tagged answers count.
    pub fn add_response(&mut self, survey: &PublishedSurvey, answers: &Answers) {
        self.0
            .add_response(survey, answers, Some(&[Subject::Physician]));
    }

    /// Responses with at least one answered physician question.
    pub fn responses(&self) -> u64 {
        self.0.responses
    }

    pub fn rating(&self, min_sample: u64) -> PhysicianRating {
        let n = self.0.responses;
        let keys: Vec<Key> = self.0.items.0.keys().cloned().collect();
        match self.0.items.composite(&keys) {
            Some(scores) if n >= min_sample => PhysicianRating::Rated { n, scores },
            _ => PhysicianRating::InsufficientData { n },
        }
    }
}

impl Merge for PhysicianAcc {
    fn merge(&mut self, o: &Self) {
        self.0.merge(&o.0);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhysicianRating {
    Rated { n: u64, scores: CompositeScores },
    InsufficientData { n: u64 },
}

impl PhysicianRating {
    /// The displayed linear mean (whole number), `None` when suppressed.
    pub fn shown_score(&self) -> Option<i64> {
        match self {
            PhysicianRating::Rated { scores, .. } => Some(scores.linear_mean.round()),
            PhysicianRating::InsufficientData { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub physician: Uuid,
    pub rating: PhysicianRating,
    /// 1 = best; `None` when suppressed.
    pub rank: Option<u32>,
}

/// Ranks a department's physicians: best shown score first, ties share a rank, then the
/// suppressed ones (fewest responses last). Ties and suppressed entries are ordered by id so
/// the order is stable. O(n log n).
pub fn rank_department(ratings: Vec<(Uuid, PhysicianRating)>) -> Vec<Ranked> {
    let mut v: Vec<(Uuid, PhysicianRating, Option<i64>)> = ratings
        .into_iter()
        .map(|(id, r)| (id, r, r.shown_score()))
        .collect();
    let n_of = |r: &PhysicianRating| match r {
        PhysicianRating::Rated { n, .. } | PhysicianRating::InsufficientData { n } => *n,
    };
    v.sort_by(|a, b| match (a.2, b.2) {
        (Some(x), Some(y)) => y.cmp(&x).then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => n_of(&b.1).cmp(&n_of(&a.1)).then(a.0.cmp(&b.0)),
    });
    let mut out = Vec::with_capacity(v.len());
    let mut prev: Option<(i64, u32)> = None;
    for (i, (id, rating, shown)) in v.into_iter().enumerate() {
        let rank = shown.map(|s| match prev {
            Some((p, r)) if p == s => r,
            _ => {
                let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
                prev = Some((s, r));
                r
            }
        });
        out.push(Ranked {
            physician: id,
            rating,
            rank,
        });
    }
    out
}
