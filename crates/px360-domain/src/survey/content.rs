//! The editable content of a survey template (its draft), its JSON storage form with a schema
//! version, size bounds, and the full consistency check that publishing requires.

use super::condition::TestMismatch;
use super::key::Key;
use super::negative::NegativeRule;
use super::question::{Bilingual, Question, QuestionKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Storage schema of [`SurveyContent`]. Bump it, and convert in `from_json`, when the JSON form
/// changes incompatibly; published versions stay readable for as long as responses refer to
/// them.
pub const SCHEMA_VERSION: u32 = 1;

// Bounds keep every input (API body, stored row) small enough that parsing, validation and the
// patient page stay cheap; they are generous for real patient-experience surveys (HCAHPS has 29
// items).
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
pub const MAX_QUESTIONS: usize = 100;
pub const MAX_OPTIONS: usize = 30;
pub const MIN_OPTIONS: usize = 2;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_QUESTION_CHARS: usize = 1000;
pub const MAX_OPTION_CHARS: usize = 200;
pub const MAX_FREE_TEXT_ANSWER: u32 = 5000;
pub const MAX_RULES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Schema;

#[derive(Debug, thiserror::Error)]
#[error("unsupported survey schema version {0} (this build reads {SCHEMA_VERSION})")]
pub struct UnsupportedSchema(u32);

impl TryFrom<u32> for Schema {
    type Error = UnsupportedSchema;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        if v == SCHEMA_VERSION {
            Ok(Schema)
        } else {
            Err(UnsupportedSchema(v))
        }
    }
}

impl From<Schema> for u32 {
    fn from(_: Schema) -> u32 {
        SCHEMA_VERSION
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyContent {
    pub schema: Schema,
    pub title: Bilingual,
    pub questions: Vec<Question>,
    #[serde(default)]
    pub negative_rule: NegativeRule,
}

/// What is wrong with a template, located by question (and option) key, with a code for the
/// i18n catalogue of the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `None` for the survey as a whole (title, rule without a question, limits).
    pub question: Option<Key>,
    pub option: Option<Key>,
    /// Serialised inline: `{"question": "why", "option": null, "code": "condition_mismatch",
    /// "detail": "impossible_value"}`.
    #[serde(flatten)]
    pub code: IssueCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code", content = "detail")]
pub enum IssueCode {
    NoQuestions,
    TooManyQuestions,
    TooFewOptions,
    TooManyOptions,
    TextTooLong,
    MissingTranslation,
    DuplicateKey,
    DuplicateOptionKey,
    FreeTextLengthInvalid,
    /// A show-if refers to this or a later question.
    ConditionNotEarlier,
    ConditionUnknownQuestion,
    ConditionMismatch(TestMismatch),
    TooManyRules,
    RuleUnknownQuestion,
    RuleMismatch(TestMismatch),
    /// The rule looks at a question type the survey does not have (e.g. `nps_at_most` without
    /// an NPS question), so it could never fire.
    RuleNeverApplies,
    RuleThresholdOutOfRange,
}

impl Issue {
    pub(crate) fn survey(code: IssueCode) -> Self {
        Issue {
            question: None,
            option: None,
            code,
        }
    }
    pub(crate) fn question(key: &Key, code: IssueCode) -> Self {
        Issue {
            question: Some(key.clone()),
            option: None,
            code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("survey document larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("survey document is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("survey document exceeds its limits")]
    Bounds(Vec<Issue>),
}

impl SurveyContent {
    pub fn new(title: Bilingual, questions: Vec<Question>, negative_rule: NegativeRule) -> Self {
        SurveyContent {
            schema: Schema,
            title,
            questions,
            negative_rule,
        }
    }

    /// Parses a stored or submitted draft. Size limits are enforced here (so a draft can never
    /// grow without bound); completeness and consistency only at publish.
    pub fn from_json(s: &str) -> Result<Self, ContentError> {
        if s.len() > MAX_DOCUMENT_BYTES {
            return Err(ContentError::TooLarge);
        }
        let c: SurveyContent = serde_json::from_str(s)?;
        let issues = c.bound_issues();
        if issues.is_empty() {
            Ok(c)
        } else {
            Err(ContentError::Bounds(issues))
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn question(&self, key: &Key) -> Option<&Question> {
        self.questions.iter().find(|q| &q.key == key)
    }

    /// Size limits only.
    pub fn bound_issues(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        if self.questions.len() > MAX_QUESTIONS {
            out.push(Issue::survey(IssueCode::TooManyQuestions));
        }
        if self.title.max_chars() > MAX_TITLE_CHARS {
            out.push(Issue::survey(IssueCode::TextTooLong));
        }
        if self.negative_rule.conditions.len() > MAX_RULES {
            out.push(Issue::survey(IssueCode::TooManyRules));
        }
        for q in self.questions.iter().take(MAX_QUESTIONS) {
            if q.text.max_chars() > MAX_QUESTION_CHARS {
                out.push(Issue::question(&q.key, IssueCode::TextTooLong));
            }
            let opts = q.kind.options();
            if opts.len() > MAX_OPTIONS {
                out.push(Issue::question(&q.key, IssueCode::TooManyOptions));
            }
            for o in opts.iter().take(MAX_OPTIONS) {
                if o.label.max_chars() > MAX_OPTION_CHARS {
                    out.push(Issue {
                        question: Some(q.key.clone()),
                        option: Some(o.key.clone()),
                        code: IssueCode::TextTooLong,
                    });
                }
            }
            if let QuestionKind::FreeText { max_length } = q.kind
                && !(1..=MAX_FREE_TEXT_ANSWER).contains(&max_length)
            {
                out.push(Issue::question(&q.key, IssueCode::FreeTextLengthInvalid));
            }
        }
        out
    }

    /// Everything publishing requires: bounds, both languages, unique keys, enough options,
    /// show-if conditions on earlier questions with values those questions can have, and a
    /// negative rule that refers to real questions of the right type.
    pub fn publish_issues(&self) -> Vec<Issue> {
        let mut out = self.bound_issues();
        if !out.is_empty() {
            // Over-limit content is not inspected further: keeps the check itself bounded.
            return out;
        }
        if self.questions.is_empty() {
            out.push(Issue::survey(IssueCode::NoQuestions));
        }
        if !self.title.is_complete() {
            out.push(Issue::survey(IssueCode::MissingTranslation));
        }
        // Position of each key's first occurrence: "earlier" is decided by position.
        let mut position: BTreeMap<&Key, usize> = BTreeMap::new();
        for (i, q) in self.questions.iter().enumerate() {
            if position.insert(&q.key, i).is_some() {
                out.push(Issue::question(&q.key, IssueCode::DuplicateKey));
            }
        }
        for (i, q) in self.questions.iter().enumerate() {
            if !q.text.is_complete() {
                out.push(Issue::question(&q.key, IssueCode::MissingTranslation));
            }
            let opts = q.kind.options();
            if matches!(
                q.kind,
                QuestionKind::SingleChoice { .. } | QuestionKind::MultipleChoice { .. }
            ) && opts.len() < MIN_OPTIONS
            {
                out.push(Issue::question(&q.key, IssueCode::TooFewOptions));
            }
            let mut seen = BTreeSet::new();
            for o in opts {
                let issue = |code| Issue {
                    question: Some(q.key.clone()),
                    option: Some(o.key.clone()),
                    code,
                };
                if !seen.insert(&o.key) {
                    out.push(issue(IssueCode::DuplicateOptionKey));
                }
                if !o.label.is_complete() {
                    out.push(issue(IssueCode::MissingTranslation));
                }
            }
            if let Some(cond) = &q.show_if {
                match position.get(&cond.key) {
                    None => out.push(Issue::question(&q.key, IssueCode::ConditionUnknownQuestion)),
                    Some(&p) if p >= i => {
                        out.push(Issue::question(&q.key, IssueCode::ConditionNotEarlier))
                    }
                    Some(&p) => {
                        if let Err(m) = cond.test.check_against(&self.questions[p].kind) {
                            out.push(Issue::question(&q.key, IssueCode::ConditionMismatch(m)));
                        }
                    }
                }
            }
        }
        out.extend(self.negative_rule.issues(self));
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::super::condition::{ShowIf, Test};
    use super::super::negative::NegativeCondition;
    use super::super::question::{ChoiceOption, Subject};
    use super::*;

    pub fn k(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    pub fn q(key: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            key: k(key),
            text: Bilingual::new(format!("Question {key}?"), format!("سؤال {key}؟")),
            kind,
            required,
            subject: Subject::None,
            show_if: None,
        }
    }

    pub fn opts(keys: &[&str]) -> Vec<ChoiceOption> {
        keys.iter()
            .map(|o| ChoiceOption {
                key: k(o),
                label: Bilingual::new(format!("Option {o}"), format!("خيار {o}")),
            })
            .collect()
    }

    /// A small survey using every question type and every kind of condition.
    pub fn sample() -> SurveyContent {
        let mut why = q(
            "why",
            QuestionKind::MultipleChoice {
                options: opts(&["wait", "noise", "staff"]),
            },
            true,
        );
        why.show_if = Some(ShowIf {
            key: k("nps"),
            test: Test::AtMost(6),
        });
        let mut er_wait = q(
            "er_wait",
            QuestionKind::SingleChoice {
                options: opts(&["under_1h", "1h_4h", "over_4h"]),
            },
            true,
        );
        er_wait.show_if = Some(ShowIf {
            key: k("er"),
            test: Test::Equals("yes".into()),
        });
        er_wait.subject = Subject::Department;
        let mut doctor = q("doctor_listened", QuestionKind::Frequency, true);
        doctor.subject = Subject::Physician;
        SurveyContent::new(
            Bilingual::new("Your visit", "زيارتك"),
            vec![
                q("nps", QuestionKind::Nps, true),
                why,
                q("rating", QuestionKind::Rating, true),
                q("er", QuestionKind::YesNo, false),
                er_wait,
                doctor,
                q("comment", QuestionKind::FreeText { max_length: 500 }, false),
            ],
            NegativeRule {
                conditions: vec![
                    NegativeCondition::NpsAtMost(6),
                    NegativeCondition::AnyRatingAtMost(2),
                    NegativeCondition::AnswerIn {
                        key: k("er_wait"),
                        values: vec!["over_4h".into()],
                    },
                    NegativeCondition::YesNo {
                        key: k("er"),
                        is: true,
                    },
                    NegativeCondition::AnyFrequencyAtMost(
                        super::super::question::Frequency::Sometimes,
                    ),
                ],
            },
        )
    }

    fn codes(c: &SurveyContent) -> Vec<(Option<String>, IssueCode)> {
        c.publish_issues()
            .into_iter()
            .map(|i| (i.question.map(String::from), i.code))
            .collect()
    }

    #[test]
    fn the_sample_is_publishable_and_round_trips_through_json() {
        let c = sample();
        assert_eq!(c.publish_issues(), vec![]);
        let json = c.to_json();
        assert!(json.starts_with(r#"{"schema":1,"#), "{json}");
        assert_eq!(SurveyContent::from_json(&json).unwrap(), c);
    }

    #[test]
    fn unknown_schema_versions_and_oversized_documents_are_refused() {
        let json = sample()
            .to_json()
            .replacen(r#""schema":1"#, r#""schema":2"#, 1);
        let e = SurveyContent::from_json(&json).unwrap_err().to_string();
        assert!(e.contains("unsupported survey schema version 2"), "{e}");
        let big = " ".repeat(MAX_DOCUMENT_BYTES + 1);
        assert!(matches!(
            SurveyContent::from_json(&big),
            Err(ContentError::TooLarge)
        ));
        let mut c = sample();
        c.questions[0].text.en = "x".repeat(MAX_QUESTION_CHARS + 1);
        assert!(matches!(
            SurveyContent::from_json(&c.to_json()),
            Err(ContentError::Bounds(ref v)) if v[0].code == IssueCode::TextTooLong
        ));
        // Arabic gets the same room in characters, although it takes twice the bytes.
        c.questions[0].text.en = "x".into();
        c.questions[0].text.ar = "ع".repeat(MAX_QUESTION_CHARS);
        assert!(SurveyContent::from_json(&c.to_json()).is_ok());
    }

    #[test]
    fn drafts_may_be_incomplete_but_publishing_names_every_gap() {
        let mut c = sample();
        c.questions[2].text.ar.clear();
        c.title.en = " ".into();
        if let QuestionKind::MultipleChoice { options } = &mut c.questions[1].kind {
            options[1].label.ar.clear();
            options[2].key = k("wait");
        }
        // Incomplete drafts still store.
        assert!(SurveyContent::from_json(&c.to_json()).is_ok());
        let got = codes(&c);
        assert!(got.contains(&(None, IssueCode::MissingTranslation)));
        assert!(got.contains(&(Some("rating".into()), IssueCode::MissingTranslation)));
        assert!(got.contains(&(Some("why".into()), IssueCode::MissingTranslation)));
        assert!(got.contains(&(Some("why".into()), IssueCode::DuplicateOptionKey)));
    }

    #[test]
    fn keys_must_be_unique_and_conditions_must_look_back() {
        let mut c = sample();
        c.questions[3].key = k("rating");
        let got = codes(&c);
        assert!(got.contains(&(Some("rating".into()), IssueCode::DuplicateKey)));

        let mut c = sample();
        c.questions[1].show_if.as_mut().unwrap().key = k("rating"); // later question
        c.questions[4].show_if.as_mut().unwrap().key = k("nowhere");
        let got = codes(&c);
        assert!(got.contains(&(Some("why".into()), IssueCode::ConditionNotEarlier)));
        assert!(got.contains(&(Some("er_wait".into()), IssueCode::ConditionUnknownQuestion)));

        let mut c = sample();
        c.questions[0].show_if = Some(ShowIf {
            key: k("nps"),
            test: Test::AtLeast(1),
        }); // itself
        c.questions[4].show_if.as_mut().unwrap().test = Test::Equals("maybe".into());
        let got = codes(&c);
        assert!(got.contains(&(Some("nps".into()), IssueCode::ConditionNotEarlier)));
        assert!(got.contains(&(
            Some("er_wait".into()),
            IssueCode::ConditionMismatch(TestMismatch::ImpossibleValue)
        )));
    }

    #[test]
    fn choice_questions_need_options_and_free_text_a_sane_limit() {
        let mut c = sample();
        c.questions.push(q(
            "one",
            QuestionKind::SingleChoice {
                options: opts(&["only"]),
            },
            false,
        ));
        assert!(codes(&c).contains(&(Some("one".into()), IssueCode::TooFewOptions)));
        c.questions
            .push(q("txt", QuestionKind::FreeText { max_length: 0 }, false));
        // A limit outside 1–5000 is a bound issue: the draft is refused at once.
        assert_eq!(
            codes(&c),
            vec![(Some("txt".into()), IssueCode::FreeTextLengthInvalid)]
        );
        assert!(matches!(
            SurveyContent::from_json(&c.to_json()),
            Err(ContentError::Bounds(_))
        ));
        c.questions.clear();
        assert!(codes(&c).contains(&(None, IssueCode::NoQuestions)));
    }

    #[test]
    fn issues_serialise_flat_for_the_editor() {
        let i = Issue::question(
            &k("why"),
            IssueCode::ConditionMismatch(TestMismatch::ImpossibleValue),
        );
        assert_eq!(
            serde_json::to_value(&i).unwrap(),
            serde_json::json!({"question": "why", "option": null,
                               "code": "condition_mismatch", "detail": "impossible_value"})
        );
        assert_eq!(
            serde_json::to_value(Issue::survey(IssueCode::NoQuestions)).unwrap(),
            serde_json::json!({"question": null, "option": null, "code": "no_questions"})
        );
    }

    #[test]
    fn too_many_questions_is_a_bound_issue() {
        let mut c = sample();
        for i in 0..MAX_QUESTIONS {
            c.questions
                .push(q(&format!("q{i}"), QuestionKind::Rating, false));
        }
        assert_eq!(
            c.publish_issues(),
            vec![Issue::survey(IssueCode::TooManyQuestions)]
        );
    }
}
