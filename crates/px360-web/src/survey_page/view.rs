//! The patient's page as data for `templates/survey/page.html`: one survey version (or, in the
//! editor's preview, a draft) in one language, with the values entered so far and the errors of the last attempt.
//!
//! Layout decisions that live here rather than in CSS:
//! - scales (rating, NPS, HCAHPS frequency, yes/no) are laid out in the page's reading
//!   direction: the lowest value first, so in Arabic 0 sits at the right and 10 at the left,
//!   with the anchor words ("not at all likely" … "extremely likely") following the same way;
//! - Arabic pages write the scale digits in Arabic-Indic digits (٠–١٠); the submitted values are
//!   always ASCII;
//! - a question with a show-if condition is always in the HTML, carrying its condition in
//!   `data-` attributes: without JavaScript the patient sees it with a note "only if it applies"
//!   (the server does not require it unless its condition holds); with JavaScript
//!   (`assets/survey/survey.js`) it is hidden and disabled until its condition holds.

use super::form::Values;
use crate::i18n::{Lang, Tr};
use px360_domain::survey::condition::Test;
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::question::{Frequency, Lang as SurveyLang, Question, QuestionKind};
use px360_domain::survey::response::{ErrorCode, FieldError};

pub fn survey_lang(l: Lang) -> SurveyLang {
    match l {
        Lang::En => SurveyLang::En,
        Lang::Ar => SurveyLang::Ar,
    }
}

/// `n` in the page's digits.
pub fn digits(n: u32, lang: Lang) -> String {
    let s = n.to_string();
    match lang {
        Lang::En => s,
        Lang::Ar => s
            .chars()
            .map(|c| {
                c.to_digit(10)
                    .and_then(|d| char::from_u32(0x0660 + d))
                    .unwrap_or(c)
            })
            .collect(),
    }
}

/// One radio button or checkbox.
pub struct Choice {
    pub id: String,
    pub value: String,
    pub label: String,
    /// The label is survey content (an option's text) rather than a catalogue message.
    pub data: bool,
    pub checked: bool,
}

/// A show-if condition for the progressive-enhancement script.
pub struct Cond {
    pub key: String,
    pub test: &'static str,
    /// Space-separated form values (keys and numbers contain no spaces).
    pub values: String,
}

pub struct QuestionView {
    /// Input name: the question key.
    pub key: String,
    /// Element id of the question's fieldset (`q-<key>`), the target of error-summary links.
    pub id: String,
    pub number: String,
    pub text: String,
    pub required: bool,
    /// `scale` (rating, NPS, frequency, yes/no: one row in reading direction), `radio`,
    /// `check` or `text`.
    pub control: &'static str,
    /// CSS modifier of a scale: `px-scale-5`, `px-scale-11`, `px-scale-4`, `px-scale-2`.
    pub scale_class: &'static str,
    pub choices: Vec<Choice>,
    /// Words at the low and high end of a numeric scale.
    pub anchors: Option<(String, String)>,
    pub text_value: String,
    pub max_length: u32,
    pub error: Option<String>,
    pub cond: Option<Cond>,
}

impl QuestionView {
    pub fn error_id(&self) -> String {
        format!("{}-error", self.id)
    }
    pub fn anchors_id(&self) -> String {
        format!("{}-anchors", self.id)
    }
    /// `aria-describedby` of the fieldset: the scale's anchor words and the error, if any.
    pub fn described_by(&self) -> String {
        let mut v = Vec::new();
        if self.anchors.is_some() {
            v.push(self.anchors_id());
        }
        if self.error.is_some() {
            v.push(self.error_id());
        }
        v.join(" ")
    }
}

/// A link in the error summary at the top of the page.
pub struct SummaryItem {
    pub href: String,
    /// The question's text (survey content).
    pub question: String,
    pub error: String,
}

pub struct Built {
    pub questions: Vec<QuestionView>,
    pub summary: Vec<SummaryItem>,
    /// Errors not tied to a shown question (a field the survey does not have).
    pub general: Option<String>,
}

fn error_text(t: &Tr, code: ErrorCode) -> String {
    t.get(code.as_str())
}

fn cond_of(q: &Question) -> Option<Cond> {
    let c = q.show_if.as_ref()?;
    let (test, values) = match &c.test {
        Test::Equals(v) => ("one_of", v.clone()),
        Test::OneOf(vs) => ("one_of", vs.join(" ")),
        Test::AtMost(n) => ("at_most", n.to_string()),
        Test::AtLeast(n) => ("at_least", n.to_string()),
    };
    Some(Cond {
        key: c.key.to_string(),
        test,
        values,
    })
}

/// The page's questions with `values` filled in and `errors` placed next to their question.
pub fn build(content: &SurveyContent, lang: Lang, values: &Values, errors: &[FieldError]) -> Built {
    let t = Tr(lang);
    let sl = survey_lang(lang);
    let mut questions = Vec::new();
    let mut summary = Vec::new();
    for (i, q) in content.questions.iter().enumerate() {
        let key = q.key.to_string();
        let id = format!("q-{key}");
        let given: &[String] = values.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let is = |v: &str| given.iter().any(|g| g.trim() == v);
        let choice = |value: String, label: String, data: bool| Choice {
            id: format!("{id}-{value}"),
            checked: is(&value),
            value,
            label,
            data,
        };
        let numbers = |lo: u8, hi: u8| -> Vec<Choice> {
            (lo..=hi)
                .map(|n| choice(n.to_string(), digits(u32::from(n), lang), false))
                .collect()
        };
        let (control, scale_class, choices, anchors) = match &q.kind {
            QuestionKind::Rating => (
                "scale",
                "px-scale-5",
                numbers(1, 5),
                Some((t.get("survey-rating-low"), t.get("survey-rating-high"))),
            ),
            QuestionKind::Nps => (
                "scale",
                "px-scale-11",
                numbers(0, 10),
                Some((t.get("survey-nps-low"), t.get("survey-nps-high"))),
            ),
            QuestionKind::Frequency => (
                "scale",
                "px-scale-4",
                Frequency::ALL
                    .into_iter()
                    .map(|f| {
                        choice(
                            f.as_str().to_owned(),
                            t.get(&format!("survey-frequency-{}", f.as_str())),
                            false,
                        )
                    })
                    .collect(),
                None,
            ),
            QuestionKind::YesNo => (
                "scale",
                "px-scale-2",
                vec![
                    choice("yes".into(), t.get("survey-yes"), false),
                    choice("no".into(), t.get("survey-no"), false),
                ],
                None,
            ),
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => (
                if matches!(q.kind, QuestionKind::SingleChoice { .. }) {
                    "radio"
                } else {
                    "check"
                },
                "",
                options
                    .iter()
                    .map(|o| choice(o.key.to_string(), o.label.get(sl).to_owned(), true))
                    .collect(),
                None,
            ),
            QuestionKind::FreeText { .. } => ("text", "", Vec::new(), None),
        };
        let max_length = match q.kind {
            QuestionKind::FreeText { max_length } => max_length,
            _ => 0,
        };
        let error = errors
            .iter()
            .find(|e| e.key == key)
            .map(|e| error_text(&t, e.code));
        if let Some(e) = &error {
            summary.push(SummaryItem {
                href: format!("#{id}"),
                question: q.text.get(sl).to_owned(),
                error: e.clone(),
            });
        }
        questions.push(QuestionView {
            number: digits(i as u32 + 1, lang),
            text: q.text.get(sl).to_owned(),
            required: q.required,
            control,
            scale_class,
            choices,
            anchors,
            text_value: if control == "text" {
                given.first().cloned().unwrap_or_default()
            } else {
                String::new()
            },
            max_length,
            error,
            cond: cond_of(q),
            key,
            id,
        });
    }
    // Fields that are not questions of this version (a stale form from an older version, a
    // hand-made request): one general message, never the field's name.
    let general = errors
        .iter()
        .any(|e| e.code == ErrorCode::UnknownQuestion)
        .then(|| error_text(&t, ErrorCode::UnknownQuestion));
    Built {
        questions,
        summary,
        general,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::survey_page::tests::published;

    #[test]
    fn arabic_digits_and_scale_order() {
        assert_eq!(digits(10, Lang::Ar), "١٠");
        assert_eq!(digits(7, Lang::En), "7");
        let s = published();
        let b = build(s.content(), Lang::Ar, &Values::new(), &[]);
        let nps = &b.questions[0];
        assert_eq!(nps.control, "scale");
        // Lowest first in the document: laid out right to left on an Arabic page.
        let labels: Vec<&str> = nps.choices.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"٠"));
        assert_eq!(labels.last(), Some(&"١٠"));
        assert_eq!(nps.choices[10].value, "10");
        assert!(nps.anchors.is_some());
    }

    #[test]
    fn values_and_errors_land_on_their_question() {
        let s = published();
        let mut v = Values::new();
        v.insert("why".into(), vec!["wait".into(), "staff".into()]);
        v.insert("comment".into(), vec!["slow".into()]);
        let errors = [
            FieldError {
                key: "rating".into(),
                code: ErrorCode::Required,
            },
            FieldError {
                key: "bogus".into(),
                code: ErrorCode::UnknownQuestion,
            },
        ];
        let b = build(s.content(), Lang::En, &v, &errors);
        let why = b.questions.iter().find(|q| q.key == "why").unwrap();
        let checked: Vec<&str> = why
            .choices
            .iter()
            .filter(|c| c.checked)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(checked, vec!["wait", "staff"]);
        assert_eq!(why.cond.as_ref().unwrap().test, "at_most");
        let rating = b.questions.iter().find(|q| q.key == "rating").unwrap();
        assert!(rating.error.is_some());
        assert_eq!(rating.described_by(), "q-rating-anchors q-rating-error");
        assert_eq!(b.summary.len(), 1);
        assert_eq!(b.summary[0].href, "#q-rating");
        assert!(b.general.is_some());
        let comment = b.questions.iter().find(|q| q.key == "comment").unwrap();
        assert_eq!(comment.text_value, "slow");
        assert_eq!(comment.max_length, 500);
    }
}
