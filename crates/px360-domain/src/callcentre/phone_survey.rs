//! A survey taken by phone: the agent reads each question (and its options) in the patient's
//! language and keys the answers into the same form the web survey posts. Validation is the
//! survey engine's own ([`crate::survey::response::validate`]), so a phone response is held to
//! exactly the rules of a web one; the result is marked [`ResponseMode::Phone`] with the agent,
//! because mode affects scores (CMS adjusts HCAHPS for it) and analytics must tell them apart.

use crate::survey::key::Key;
use crate::survey::publish::PublishedSurvey;
use crate::survey::question::Lang;
use crate::survey::response::{Outcome, ResponseErrors, Submission, validate};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Web,
    Phone,
}

/// One line of the agent's script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptLine<'a> {
    pub key: &'a Key,
    pub text: &'a str,
    pub required: bool,
    /// (option key, label) to read out, for choice questions.
    pub options: Vec<(&'a Key, &'a str)>,
}

/// The questions and options in `lang`, in order. Conditional questions are included: the
/// agent screen shows or hides them as answers arrive, as the web form does.
pub fn script(survey: &PublishedSurvey, lang: Lang) -> Vec<ScriptLine<'_>> {
    survey
        .content()
        .questions
        .iter()
        .map(|q| ScriptLine {
            key: &q.key,
            text: q.text.get(lang),
            required: q.required,
            options: q
                .kind
                .options()
                .iter()
                .map(|o| (&o.key, o.label.get(lang)))
                .collect(),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneResponse {
    pub mode: ResponseMode,
    pub agent_id: Uuid,
    pub lang: Lang,
    pub template_id: Uuid,
    pub version: u32,
    pub outcome: Outcome,
}

/// Validates what the agent keyed in and marks it phone mode.
pub fn record(
    survey: &PublishedSurvey,
    lang: Lang,
    agent_id: Uuid,
    submission: &Submission,
) -> Result<PhoneResponse, ResponseErrors> {
    let outcome = validate(survey, submission)?;
    Ok(PhoneResponse {
        mode: ResponseMode::Phone,
        agent_id,
        lang,
        template_id: survey.template_id(),
        version: survey.version(),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::survey::content::tests::sample;

    fn published() -> PublishedSurvey {
        PublishedSurvey::publish(Uuid::from_u128(7), None, 1, sample()).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Submission {
        Submission::from_pairs(pairs.iter().map(|(k, v)| (*k, *v))).unwrap()
    }

    #[test]
    fn the_script_is_in_the_patients_language_with_options() {
        let s = published();
        let lines = script(&s, Lang::Ar);
        assert_eq!(lines[0].text, "سؤال nps؟");
        let why = lines.iter().find(|l| l.key.as_str() == "why").unwrap();
        assert_eq!(why.options.len(), 3);
        assert_eq!(why.options[0].1, "خيار wait");
    }

    #[test]
    fn keyed_answers_are_validated_by_the_survey_engine_and_marked_phone() {
        let s = published();
        let ok = record(
            &s,
            Lang::Ar,
            Uuid::from_u128(5),
            &form(&[
                ("nps", "10"),
                ("rating", "4"),
                ("er", "no"),
                ("doctor_listened", "always"),
            ]),
        )
        .unwrap();
        assert_eq!(ok.mode, ResponseMode::Phone);
        assert!(matches!(ok.outcome, Outcome::Complete(_)));
        let bad = record(&s, Lang::En, Uuid::nil(), &form(&[("nps", "11")]));
        assert!(bad.is_err());
    }
}
