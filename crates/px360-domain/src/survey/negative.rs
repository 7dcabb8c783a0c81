//! The negative-response rule of a template: a list of conditions, any of which marks a complete
//! response negative. A negative response becomes a [`SurveyResponseNegative`] domain event that
//! the action centre consumes.
//!
//! JSON form (`"negative_rule"` in the template):
//! ```json
//! {"any_of": [{"nps_at_most": 6}, {"any_rating_at_most": 2},
//!             {"answer_in": {"key": "er_wait", "values": ["over_4h"]}},
//!             {"yes_no": {"key": "would_return", "is": false}},
//!             {"any_frequency_at_most": "sometimes"}]}
//! ```

use super::answer::Answer;
use super::condition::check_values;
use super::content::{Issue, IssueCode, SurveyContent};
use super::key::Key;
use super::publish::PublishedSurvey;
use super::question::{Frequency, QuestionKind};
use super::response::CompleteResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeRule {
    #[serde(rename = "any_of", default)]
    pub conditions: Vec<NegativeCondition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NegativeCondition {
    /// Any NPS answer ≤ n (n in 0–9; 6 is the detractor boundary).
    NpsAtMost(u8),
    /// Any 1–5 rating ≤ n (n in 1–4).
    AnyRatingAtMost(u8),
    /// The answer to one choice, yes/no, rating, NPS or frequency question is one of `values`
    /// (for multiple choice: any of them was chosen).
    AnswerIn { key: Key, values: Vec<String> },
    /// A yes/no question answered `is`.
    YesNo { key: Key, is: bool },
    /// Any HCAHPS frequency answer at or below this point (`sometimes` = "Never" or
    /// "Sometimes", the HCAHPS bottom box).
    AnyFrequencyAtMost(Frequency),
}

/// One condition that fired, on one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegativeReason {
    pub question_key: Key,
    pub condition: NegativeCondition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negative {
    /// In question order; never empty.
    pub reasons: Vec<NegativeReason>,
}

/// Domain event emitted once per negative response. Carries keys and rule conditions, never
/// answers' free text or patient identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResponseNegative {
    pub response_id: Uuid,
    pub template_id: Uuid,
    pub hospital_id: Option<Uuid>,
    pub version: u32,
    pub content_hash: String,
    pub reasons: Vec<NegativeReason>,
    pub occurred_at: DateTime<Utc>,
}

impl SurveyResponseNegative {
    pub const EVENT_TYPE: &'static str = "survey.response.negative";
}

impl NegativeRule {
    pub(crate) fn issues(&self, content: &SurveyContent) -> Vec<Issue> {
        let has = |f: fn(&QuestionKind) -> bool| content.questions.iter().any(|q| f(&q.kind));
        let mut out = Vec::new();
        for c in &self.conditions {
            match c {
                NegativeCondition::NpsAtMost(n) => {
                    if *n > 9 {
                        out.push(Issue::survey(IssueCode::RuleThresholdOutOfRange));
                    }
                    if !has(|k| matches!(k, QuestionKind::Nps)) {
                        out.push(Issue::survey(IssueCode::RuleNeverApplies));
                    }
                }
                NegativeCondition::AnyRatingAtMost(n) => {
                    if !(1..=4).contains(n) {
                        out.push(Issue::survey(IssueCode::RuleThresholdOutOfRange));
                    }
                    if !has(|k| matches!(k, QuestionKind::Rating)) {
                        out.push(Issue::survey(IssueCode::RuleNeverApplies));
                    }
                }
                NegativeCondition::AnyFrequencyAtMost(f) => {
                    if *f == Frequency::Always {
                        out.push(Issue::survey(IssueCode::RuleThresholdOutOfRange));
                    }
                    if !has(|k| matches!(k, QuestionKind::Frequency)) {
                        out.push(Issue::survey(IssueCode::RuleNeverApplies));
                    }
                }
                NegativeCondition::AnswerIn { key, values } => match content.question(key) {
                    None => out.push(Issue::question(key, IssueCode::RuleUnknownQuestion)),
                    Some(q) => {
                        if let Err(m) = check_values(&q.kind, values) {
                            out.push(Issue::question(key, IssueCode::RuleMismatch(m)));
                        }
                    }
                },
                NegativeCondition::YesNo { key, .. } => match content.question(key) {
                    None => out.push(Issue::question(key, IssueCode::RuleUnknownQuestion)),
                    Some(q) if q.kind != QuestionKind::YesNo => out.push(Issue::question(
                        key,
                        IssueCode::RuleMismatch(super::condition::TestMismatch::ImpossibleValue),
                    )),
                    Some(_) => {}
                },
            }
        }
        out
    }

    /// Which conditions fire on a complete response. Linear in questions × conditions (both
    /// bounded).
    pub fn evaluate(
        &self,
        survey: &PublishedSurvey,
        response: &CompleteResponse,
    ) -> Option<Negative> {
        let answers = response.answers();
        let mut reasons = Vec::new();
        for q in &survey.content().questions {
            let Some(a) = answers.get(&q.key) else {
                continue;
            };
            for c in &self.conditions {
                let fires = match (c, a) {
                    (NegativeCondition::NpsAtMost(n), Answer::Nps(x)) => x <= n,
                    (NegativeCondition::AnyRatingAtMost(n), Answer::Rating(x)) => x <= n,
                    (NegativeCondition::AnyFrequencyAtMost(f), Answer::Frequency(x)) => x <= f,
                    (NegativeCondition::AnswerIn { key, values }, a) => {
                        key == &q.key && values.iter().any(|v| a.has_value(v))
                    }
                    (NegativeCondition::YesNo { key, is }, Answer::YesNo(b)) => {
                        key == &q.key && b == is
                    }
                    _ => false,
                };
                if fires {
                    reasons.push(NegativeReason {
                        question_key: q.key.clone(),
                        condition: c.clone(),
                    });
                }
            }
        }
        (!reasons.is_empty()).then_some(Negative { reasons })
    }
}

impl Negative {
    pub fn into_event(
        self,
        survey: &PublishedSurvey,
        response_id: Uuid,
        occurred_at: DateTime<Utc>,
    ) -> SurveyResponseNegative {
        SurveyResponseNegative {
            response_id,
            template_id: survey.template_id(),
            hospital_id: survey.hospital_id(),
            version: survey.version(),
            content_hash: survey.content_hash().to_owned(),
            reasons: self.reasons,
            occurred_at,
        }
    }
}
