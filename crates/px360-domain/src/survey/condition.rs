//! Show-if conditions: a question is shown only when an EARLIER question's answer passes a test.
//!
//! Referring only backwards keeps evaluation a single pass in question order (no cycles, linear
//! time) and matches what a patient sees on a one-page form: a question appears below the
//! answer that revealed it.

use super::answer::Answers;
use super::key::Key;
use super::question::{Frequency, QuestionKind};
use serde::{Deserialize, Serialize};

pub const MAX_CONDITION_VALUES: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    pub key: Key,
    pub test: Test,
}

/// `{"equals": "yes"}`, `{"one_of": ["wait", "noise"]}`, `{"at_most": 6}`, `{"at_least": 9}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    Equals(String),
    OneOf(Vec<String>),
    /// Numeric (rating or NPS) answer ≤ n.
    AtMost(u8),
    /// Numeric (rating or NPS) answer ≥ n.
    AtLeast(u8),
}

/// Why a test cannot apply to the question it refers to (checked at publish).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMismatch {
    /// Comparison on a question without a numeric scale.
    NotNumeric,
    /// A number outside the question's scale.
    OutOfRange,
    /// A value that the referenced question can never have.
    ImpossibleValue,
    /// Free text cannot be tested.
    FreeText,
    TooManyValues,
}

impl ShowIf {
    /// Whether the question carrying this condition is shown, given the answers so far. An
    /// unanswered or hidden reference hides the question.
    pub fn holds(&self, answers: &Answers) -> bool {
        let Some(a) = answers.get(&self.key) else {
            return false;
        };
        match &self.test {
            Test::Equals(v) => a.has_value(v),
            Test::OneOf(vs) => vs.iter().any(|v| a.has_value(v)),
            Test::AtMost(n) => a.number().is_some_and(|x| x <= *n),
            Test::AtLeast(n) => a.number().is_some_and(|x| x >= *n),
        }
    }
}

impl Test {
    pub fn check_against(&self, kind: &QuestionKind) -> Result<(), TestMismatch> {
        match self {
            Test::Equals(v) => check_values(kind, std::slice::from_ref(v)),
            Test::OneOf(vs) => check_values(kind, vs),
            Test::AtMost(n) | Test::AtLeast(n) => {
                let (lo, hi) = kind.numeric_range().ok_or(TestMismatch::NotNumeric)?;
                if (lo..=hi).contains(n) {
                    Ok(())
                } else {
                    Err(TestMismatch::OutOfRange)
                }
            }
        }
    }
}

/// Every value must be a form value that `kind` can produce; shared by show-if tests and the
/// negative rule's `answer_in`.
pub fn check_values(kind: &QuestionKind, values: &[String]) -> Result<(), TestMismatch> {
    if values.is_empty() || values.len() > MAX_CONDITION_VALUES {
        return Err(TestMismatch::TooManyValues);
    }
    for v in values {
        let ok = match kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                let (lo, hi) = kind.numeric_range().unwrap_or((0, 0));
                v.parse::<u8>().is_ok_and(|n| (lo..=hi).contains(&n))
            }
            QuestionKind::YesNo => v == "yes" || v == "no",
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                options.iter().any(|o| o.key.as_str() == v)
            }
            QuestionKind::FreeText { .. } => return Err(TestMismatch::FreeText),
            QuestionKind::Frequency => Frequency::parse(v).is_some(),
        };
        if !ok {
            return Err(TestMismatch::ImpossibleValue);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::answer::Answer;
    use super::*;

    fn k(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn tests_evaluate_on_the_referenced_answer() {
        let mut a = Answers::default();
        a.insert(k("nps"), Answer::Nps(5));
        a.insert(k("why"), Answer::Choices(vec![k("noise"), k("wait")]));
        a.insert(k("er"), Answer::YesNo(true));
        let t = |key: &str, test| ShowIf { key: k(key), test }.holds(&a);
        assert!(t("nps", Test::AtMost(6)));
        assert!(!t("nps", Test::AtLeast(9)));
        assert!(t("nps", Test::Equals("5".into())));
        assert!(t("why", Test::Equals("wait".into())));
        assert!(t("why", Test::OneOf(vec!["food".into(), "noise".into()])));
        assert!(!t("why", Test::OneOf(vec!["food".into()])));
        assert!(t("er", Test::Equals("yes".into())));
        assert!(!t("er", Test::AtMost(1)), "yes/no has no number");
        assert!(
            !t("missing", Test::Equals("yes".into())),
            "unanswered hides"
        );
    }

    #[test]
    fn tests_are_checked_against_the_question_type() {
        assert_eq!(Test::AtMost(6).check_against(&QuestionKind::Nps), Ok(()));
        assert_eq!(
            Test::AtMost(6).check_against(&QuestionKind::Rating),
            Err(TestMismatch::OutOfRange)
        );
        assert_eq!(
            Test::AtLeast(1).check_against(&QuestionKind::YesNo),
            Err(TestMismatch::NotNumeric)
        );
        assert_eq!(
            Test::Equals("maybe".into()).check_against(&QuestionKind::YesNo),
            Err(TestMismatch::ImpossibleValue)
        );
        assert_eq!(
            Test::Equals("x".into()).check_against(&QuestionKind::FreeText { max_length: 10 }),
            Err(TestMismatch::FreeText)
        );
        assert_eq!(
            Test::OneOf(vec![]).check_against(&QuestionKind::Frequency),
            Err(TestMismatch::TooManyValues)
        );
        assert_eq!(
            Test::OneOf(vec!["never".into(), "sometimes".into()])
                .check_against(&QuestionKind::Frequency),
            Ok(())
        );
        let json = r#"{"key":"nps","test":{"at_most":6}}"#;
        let s: ShowIf = serde_json::from_str(json).unwrap();
        assert_eq!(s.test, Test::AtMost(6));
    }
}
