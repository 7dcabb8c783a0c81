//! The patient's form: parsing a posted body into the domain's [`Submission`] (plus what the
//! patient entered, to show it again next to an error), and a stored answer set back into form
//! values for a page that resumes a saved response.
//!
//! The only non-question field is [`SAVE_FIELD`] (sent by the "save and finish later" button;
//! the "send" button has no name, so a value-less form, or Enter in a field, sends). Its name
//! contains a hyphen, which no question key can (`[a-z0-9_]`), so it can never shadow a question.

use px360_domain::survey::answer::{Answer, Answers};
use px360_domain::survey::response::{Submission, SubmissionError};
use std::collections::BTreeMap;

/// Present when the patient pressed "save and finish later".
pub const SAVE_FIELD: &str = "px-save";

/// Form values by input name, in the order they were entered (what the page shows again).
pub type Values = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// "Save and finish later": whatever is valid is kept, required questions may be empty.
    Save,
    /// "Send my answers": every shown required question must be answered.
    Submit,
}

#[derive(Debug)]
pub struct Posted {
    pub intent: Intent,
    pub submission: Submission,
    pub values: Values,
}

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse(body: &[u8]) -> Result<Posted, SubmissionError> {
    let mut intent = Intent::Submit;
    let mut pairs = Vec::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if k == SAVE_FIELD {
            intent = Intent::Save;
            continue;
        }
        pairs.push((k.into_owned(), v.into_owned()));
    }
    // The domain enforces the bounds (field count, value and total size) before anything is
    // kept for display.
    let submission = Submission::from_pairs(pairs.iter().cloned())?;
    let mut values = Values::new();
    for (k, v) in pairs {
        values.entry(k).or_default().push(v);
    }
    Ok(Posted {
        intent,
        submission,
        values,
    })
}

/// The form values that reproduce a stored answer set (a resumed, partially saved response).
pub fn values_of(answers: &Answers) -> Values {
    answers
        .iter()
        .map(|(k, a)| {
            let v = match a {
                Answer::Rating(n) | Answer::Nps(n) => vec![n.to_string()],
                Answer::YesNo(b) => vec![if *b { "yes" } else { "no" }.to_owned()],
                Answer::Choice(c) => vec![c.to_string()],
                Answer::Choices(cs) => cs.iter().map(|c| c.to_string()).collect(),
                Answer::Text(t) => vec![t.clone()],
                Answer::Frequency(f) => vec![f.as_str().to_owned()],
            };
            (k.to_string(), v)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::survey_page::tests::published;
    use px360_domain::survey::response::{Outcome, validate};

    #[test]
    fn a_posted_form_becomes_domain_answers_and_back() {
        let body = "nps=4&why=wait&why=noise&rating=2&er=yes&er_wait=over_4h&\
                    doctor_listened=usually&comment=%D8%B4%D9%83%D8%B1%D8%A7";
        let p = parse(body.as_bytes()).unwrap();
        assert_eq!(p.intent, Intent::Submit);
        assert!(!p.values.contains_key(SAVE_FIELD));
        let survey = published();
        let Outcome::Complete(c) = validate(&survey, &p.submission).unwrap() else {
            panic!("complete")
        };
        let back = values_of(c.answers());
        assert_eq!(back["why"], vec!["noise", "wait"]);
        assert_eq!(back["comment"], vec!["شكرا"]);
        assert_eq!(back["er"], vec!["yes"]);
        assert_eq!(back["nps"], vec!["4"]);
        assert_eq!(back["doctor_listened"], vec!["usually"]);
    }

    #[test]
    fn saving_is_an_explicit_choice_and_bounds_hold() {
        assert_eq!(parse(b"nps=9&px-save=1").unwrap().intent, Intent::Save);
        assert_eq!(parse(b"nps=9").unwrap().intent, Intent::Submit);
        assert_eq!(parse(b"").unwrap().intent, Intent::Submit);
        let many = (0..1001)
            .map(|i| format!("f{i}=1"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            parse(many.as_bytes()).unwrap_err(),
            SubmissionError::TooManyFields
        );
        let long = format!("comment={}", "a".repeat(20_001));
        assert_eq!(
            parse(long.as_bytes()).unwrap_err(),
            SubmissionError::ValueTooLong
        );
    }

    #[test]
    fn broken_encoding_does_not_panic() {
        // Invalid percent-escapes and UTF-8 are decoded lossily and then refused by validation.
        let p = parse(b"nps=%FF%FE&%ZZ=1&rating").unwrap();
        let survey = published();
        assert!(validate(&survey, &p.submission).is_err());
    }
}
