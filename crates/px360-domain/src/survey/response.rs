//! Validating a submitted answer set (an HTML form's fields) against a published survey.
//!
//! One pass in question order: each question's show-if is evaluated on the answers accepted so
//! far; hidden questions' values are dropped (a patient who changed an earlier answer may leave
//! stale values behind), shown questions are parsed by type, and required ones count as missing
//! only when shown. Errors carry message codes for the i18n catalogue, never English text, and
//! never echo what the patient typed.

use super::answer::{Answer, Answers};
use super::content::MAX_OPTIONS;
use super::key::{Key, MAX_KEY_LEN};
use super::publish::PublishedSurvey;
use super::question::{Frequency, QuestionKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Bounds on a raw submission, checked while collecting it.
pub const MAX_FIELDS: usize = 1000;
pub const MAX_VALUE_BYTES: usize = 20_000;
/// All names and values together; larger than any honest answer set (100 questions with long
/// comments) and small enough to keep per-request memory flat.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024;

/// Form fields grouped by name. Build with [`Submission::from_pairs`]; fields that are not
/// questions (a CSRF token, the submit button) must be removed by the caller first, because
/// unknown names are rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submission(BTreeMap<String, Vec<String>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("too many form fields")]
    TooManyFields,
    #[error("form field too long")]
    ValueTooLong,
    #[error("form too large")]
    TooLarge,
}

impl Submission {
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, SubmissionError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut total = 0usize;
        for (n, (k, v)) in pairs.into_iter().enumerate() {
            if n >= MAX_FIELDS {
                return Err(SubmissionError::TooManyFields);
            }
            let (k, v) = (k.into(), v.into());
            if k.len() > MAX_VALUE_BYTES || v.len() > MAX_VALUE_BYTES {
                return Err(SubmissionError::ValueTooLong);
            }
            total += k.len() + v.len();
            if total > MAX_TOTAL_BYTES {
                return Err(SubmissionError::TooLarge);
            }
            map.entry(k).or_default().push(v);
        }
        Ok(Submission(map))
    }
}

/// Message codes (Fluent ids) for a rejected answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    #[serde(rename = "survey-answer-required")]
    Required,
    #[serde(rename = "survey-answer-not-a-number")]
    NotANumber,
    #[serde(rename = "survey-answer-out-of-range")]
    OutOfRange,
    #[serde(rename = "survey-answer-not-an-option")]
    NotAnOption,
    #[serde(rename = "survey-answer-one-value-only")]
    OneValueOnly,
    #[serde(rename = "survey-answer-too-long")]
    TooLong,
    #[serde(rename = "survey-answer-invalid-text")]
    InvalidText,
    #[serde(rename = "survey-answer-unknown-question")]
    UnknownQuestion,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Required => "survey-answer-required",
            ErrorCode::NotANumber => "survey-answer-not-a-number",
            ErrorCode::OutOfRange => "survey-answer-out-of-range",
            ErrorCode::NotAnOption => "survey-answer-not-an-option",
            ErrorCode::OneValueOnly => "survey-answer-one-value-only",
            ErrorCode::TooLong => "survey-answer-too-long",
            ErrorCode::InvalidText => "survey-answer-invalid-text",
            ErrorCode::UnknownQuestion => "survey-answer-unknown-question",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The question key; for an unknown field its name cut to 40 characters.
    pub key: String,
    pub code: ErrorCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{} answers were not accepted", .errors.len())]
pub struct ResponseErrors {
    pub errors: Vec<FieldError>,
}

/// Answers accepted, but required shown questions are still unanswered: saved as a partial
/// response, not scored, not evaluated by the negative rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialResponse {
    answers: Answers,
    missing: Vec<Key>,
}

/// Every shown required question answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteResponse {
    answers: Answers,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Partial(PartialResponse),
    Complete(CompleteResponse),
}

impl PartialResponse {
    pub fn answers(&self) -> &Answers {
        &self.answers
    }
    /// Required questions, shown under the current answers, without an answer.
    pub fn missing(&self) -> &[Key] {
        &self.missing
    }
}

impl CompleteResponse {
    pub fn answers(&self) -> &Answers {
        &self.answers
    }
    pub fn into_answers(self) -> Answers {
        self.answers
    }
}

impl Outcome {
    pub fn answers(&self) -> &Answers {
        match self {
            Outcome::Partial(p) => &p.answers,
            Outcome::Complete(c) => &c.answers,
        }
    }

    /// For the final "submit" button: a partial outcome becomes `Required` errors.
    pub fn require_complete(self) -> Result<CompleteResponse, ResponseErrors> {
        match self {
            Outcome::Complete(c) => Ok(c),
            Outcome::Partial(p) => Err(ResponseErrors {
                errors: p
                    .missing
                    .into_iter()
                    .map(|k| FieldError {
                        key: k.into(),
                        code: ErrorCode::Required,
                    })
                    .collect(),
            }),
        }
    }
}

/// Validates a submission. Time is linear in the number of questions plus fields (each lookup
/// is logarithmic in bounded maps).
pub fn validate(
    survey: &PublishedSurvey,
    submission: &Submission,
) -> Result<Outcome, ResponseErrors> {
    let questions = &survey.content().questions;
    let known: std::collections::BTreeSet<&str> =
        questions.iter().map(|q| q.key.as_str()).collect();
    let mut errors = Vec::new();
    for name in submission.0.keys() {
        if !known.contains(name.as_str()) {
            errors.push(FieldError {
                key: name.chars().take(MAX_KEY_LEN).collect(),
                code: ErrorCode::UnknownQuestion,
            });
        }
    }
    let mut answers = Answers::default();
    let mut missing = Vec::new();
    for q in questions {
        if let Some(cond) = &q.show_if
            && !cond.holds(&answers)
        {
            continue;
        }
        // Empty inputs are how an HTML form says "not answered".
        let values: Vec<&str> = submission
            .0
            .get(q.key.as_str())
            .into_iter()
            .flatten()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if q.required {
                missing.push(q.key.clone());
            }
            continue;
        }
        match parse_answer(&q.kind, &values) {
            Ok(a) => answers.insert(q.key.clone(), a),
            Err(code) => errors.push(FieldError {
                key: q.key.to_string(),
                code,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ResponseErrors { errors });
    }
    Ok(if missing.is_empty() {
        Outcome::Complete(CompleteResponse { answers })
    } else {
        Outcome::Partial(PartialResponse { answers, missing })
    })
}

fn single<'a>(values: &[&'a str]) -> Result<&'a str, ErrorCode> {
    match values {
        [v] => Ok(v),
        _ => Err(ErrorCode::OneValueOnly),
    }
}

fn number(values: &[&str], lo: u8, hi: u8) -> Result<u8, ErrorCode> {
    let v = single(values)?;
    if v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::NotANumber);
    }
    let n: u16 = v.parse().map_err(|_| ErrorCode::NotANumber)?;
    if n < u16::from(lo) || n > u16::from(hi) {
        return Err(ErrorCode::OutOfRange);
    }
    u8::try_from(n).map_err(|_| ErrorCode::OutOfRange)
}

fn parse_answer(kind: &QuestionKind, values: &[&str]) -> Result<Answer, ErrorCode> {
    match kind {
        QuestionKind::Rating => number(values, 1, 5).map(Answer::Rating),
        QuestionKind::Nps => number(values, 0, 10).map(Answer::Nps),
        QuestionKind::YesNo => match single(values)? {
            "yes" => Ok(Answer::YesNo(true)),
            "no" => Ok(Answer::YesNo(false)),
            _ => Err(ErrorCode::NotAnOption),
        },
        QuestionKind::Frequency => Frequency::parse(single(values)?)
            .map(Answer::Frequency)
            .ok_or(ErrorCode::NotAnOption),
        QuestionKind::SingleChoice { options } => {
            let v = single(values)?;
            options
                .iter()
                .find(|o| o.key.as_str() == v)
                .map(|o| Answer::Choice(o.key.clone()))
                .ok_or(ErrorCode::NotAnOption)
        }
        QuestionKind::MultipleChoice { options } => {
            if values.len() > MAX_OPTIONS {
                return Err(ErrorCode::NotAnOption);
            }
            let mut chosen = Vec::with_capacity(values.len());
            for v in values {
                let o = options
                    .iter()
                    .find(|o| o.key.as_str() == *v)
                    .ok_or(ErrorCode::NotAnOption)?;
                chosen.push(o.key.clone());
            }
            chosen.sort();
            chosen.dedup();
            Ok(Answer::Choices(chosen))
        }
        QuestionKind::FreeText { max_length } => {
            let v = single(values)?;
            if v.chars().count() > *max_length as usize {
                return Err(ErrorCode::TooLong);
            }
            // Control characters other than line breaks and tabs have no place in a comment
            // and would corrupt exports.
            if v.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(ErrorCode::InvalidText);
            }
            Ok(Answer::Text(v.to_owned()))
        }
    }
}
