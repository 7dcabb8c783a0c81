//! The editor's form for a survey draft, without JavaScript: the title in both languages, one
//! block of fields per question (plus one empty block to add a question), and the negative
//! rule. Field names are `q<i>_<field>`; the form round-trips (a refused draft comes back with
//! exactly what was typed, and the errors next to their fields).
//!
//! Options are typed one per line as `key | English | العربية`, show-if values separated by
//! spaces or commas. The negative rule is the domain's JSON form (`{"any_of": [...]}`), which
//! is rare to edit and has five condition shapes.

use px360_domain::survey::condition::{ShowIf, Test};
use px360_domain::survey::content::{ContentError, Issue, MAX_QUESTIONS, SurveyContent};
use px360_domain::survey::key::Key;
use px360_domain::survey::negative::NegativeRule;
use px360_domain::survey::question::{Bilingual, ChoiceOption, Question, QuestionKind, Subject};
use std::collections::HashMap;

pub const KINDS: [&str; 7] = [
    "rating",
    "nps",
    "yes_no",
    "single_choice",
    "multiple_choice",
    "free_text",
    "frequency",
];
pub const SUBJECTS: [&str; 4] = ["none", "physician", "department", "stage"];
pub const TESTS: [&str; 5] = ["none", "equals", "one_of", "at_most", "at_least"];
const DEFAULT_MAX_LENGTH: u32 = 1000;

/// One question's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QForm {
    pub key: String,
    pub kind: String,
    pub en: String,
    pub ar: String,
    pub required: bool,
    pub subject: String,
    pub options: String,
    pub max_length: String,
    pub if_key: String,
    pub if_test: String,
    pub if_values: String,
    pub remove: bool,
}

impl QForm {
    fn blank(&self) -> bool {
        self.key.trim().is_empty()
            && self.en.trim().is_empty()
            && self.ar.trim().is_empty()
            && self.options.trim().is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditorForm {
    pub title_en: String,
    pub title_ar: String,
    pub questions: Vec<QForm>,
    pub negative_rule: String,
}

/// A refused field: its form name and a catalogue key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErr {
    pub field: String,
    pub code: &'static str,
}

/// Why a draft could not be stored.
#[derive(Debug)]
pub enum DraftError {
    Fields(Vec<FieldErr>),
    /// Over the domain's size limits.
    Bounds(Vec<Issue>),
}

fn kind_name(k: &QuestionKind) -> &'static str {
    k.name()
}

fn subject_name(s: Subject) -> &'static str {
    match s {
        Subject::Physician => "physician",
        Subject::Department => "department",
        Subject::Stage => "stage",
        Subject::None => "none",
    }
}

impl EditorForm {
    /// The fields showing a stored draft.
    pub fn of(c: &SurveyContent) -> EditorForm {
        EditorForm {
            title_en: c.title.en.clone(),
            title_ar: c.title.ar.clone(),
            questions: c
                .questions
                .iter()
                .map(|q| {
                    let (if_key, if_test, if_values) = match &q.show_if {
                        None => (String::new(), "none".to_owned(), String::new()),
                        Some(s) => {
                            let (t, v) = match &s.test {
                                Test::Equals(v) => ("equals", v.clone()),
                                Test::OneOf(vs) => ("one_of", vs.join(" ")),
                                Test::AtMost(n) => ("at_most", n.to_string()),
                                Test::AtLeast(n) => ("at_least", n.to_string()),
                            };
                            (s.key.to_string(), t.to_owned(), v)
                        }
                    };
                    QForm {
                        key: q.key.to_string(),
                        kind: kind_name(&q.kind).to_owned(),
                        en: q.text.en.clone(),
                        ar: q.text.ar.clone(),
                        required: q.required,
                        subject: subject_name(q.subject).to_owned(),
                        options: q
                            .kind
                            .options()
                            .iter()
                            .map(|o| format!("{} | {} | {}", o.key, o.label.en, o.label.ar))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        max_length: match q.kind {
                            QuestionKind::FreeText { max_length } => max_length.to_string(),
                            _ => String::new(),
                        },
                        if_key,
                        if_test,
                        if_values,
                        remove: false,
                    }
                })
                .collect(),
            negative_rule: if c.negative_rule.conditions.is_empty() {
                String::new()
            } else {
                serde_json::to_string_pretty(&c.negative_rule).unwrap_or_default()
            },
        }
    }

    /// The fields as posted. Question blocks are read in index order; a gap ends the list.
    pub fn from_pairs(pairs: &[(String, String)]) -> EditorForm {
        let map: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let get = |k: &str| map.get(k).map(|v| v.to_string()).unwrap_or_default();
        let mut questions = Vec::new();
        // One more than the limit, so that "too many questions" is reported, not truncated.
        for i in 0..=MAX_QUESTIONS {
            let f = |name: &str| format!("q{i}_{name}");
            if !map.contains_key(f("key").as_str()) {
                break;
            }
            questions.push(QForm {
                key: get(&f("key")).trim().to_owned(),
                kind: get(&f("kind")),
                en: get(&f("en")),
                ar: get(&f("ar")),
                required: map.contains_key(f("required").as_str()),
                subject: get(&f("subject")),
                options: get(&f("options")),
                max_length: get(&f("max_length")),
                if_key: get(&f("if_key")).trim().to_owned(),
                if_test: get(&f("if_test")),
                if_values: get(&f("if_values")),
                remove: map.contains_key(f("remove").as_str()),
            });
        }
        EditorForm {
            title_en: get("title_en"),
            title_ar: get("title_ar"),
            questions,
            negative_rule: get("negative_rule"),
        }
    }

    /// The draft these fields describe. Blank and removed question blocks are dropped.
    /// Completeness (both languages, options, conditions) is the publish check's business: an
    /// incomplete draft is stored; only what cannot be represented is refused here.
    pub fn to_content(&self) -> Result<SurveyContent, DraftError> {
        let mut errs = Vec::new();
        let mut questions = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            if q.remove || q.blank() {
                continue;
            }
            let mut err = |name: &str, code: &'static str| {
                errs.push(FieldErr {
                    field: format!("q{i}_{name}"),
                    code,
                })
            };
            let key = Key::parse(&q.key).map_err(|_| err("key", "survey-editor-bad-key"));
            let mut options = Vec::new();
            for line in q.options.lines().filter(|l| !l.trim().is_empty()) {
                let parts: Vec<&str> = line.split('|').map(str::trim).collect();
                match (parts.as_slice(), parts.first().map(|k| Key::parse(k))) {
                    ([_, en, ar], Some(Ok(k))) => options.push(ChoiceOption {
                        key: k,
                        label: Bilingual::new(*en, *ar),
                    }),
                    _ => {
                        err("options", "survey-editor-bad-option");
                        break;
                    }
                }
            }
            let kind = match q.kind.as_str() {
                "rating" => Some(QuestionKind::Rating),
                "nps" => Some(QuestionKind::Nps),
                "yes_no" => Some(QuestionKind::YesNo),
                "frequency" => Some(QuestionKind::Frequency),
                "single_choice" => Some(QuestionKind::SingleChoice { options }),
                "multiple_choice" => Some(QuestionKind::MultipleChoice { options }),
                "free_text" => {
                    let m = q.max_length.trim();
                    if m.is_empty() {
                        Some(QuestionKind::FreeText {
                            max_length: DEFAULT_MAX_LENGTH,
                        })
                    } else if let Ok(max_length) = m.parse::<u32>() {
                        Some(QuestionKind::FreeText { max_length })
                    } else {
                        err("max_length", "survey-editor-bad-number");
                        None
                    }
                }
                _ => {
                    err("kind", "survey-editor-bad-kind");
                    None
                }
            };
            let subject = match q.subject.as_str() {
                "physician" => Subject::Physician,
                "department" => Subject::Department,
                "stage" => Subject::Stage,
                _ => Subject::None,
            };
            let values: Vec<String> = q
                .if_values
                .split([' ', ','])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            let number = |v: &[String]| match v {
                [n] => n.parse::<u8>().ok(),
                _ => None,
            };
            let no_test = matches!(q.if_test.as_str(), "" | "none");
            let test = match q.if_test.as_str() {
                "" | "none" => None,
                "equals" if values.len() == 1 => Some(Test::Equals(values[0].clone())),
                "one_of" if !values.is_empty() => Some(Test::OneOf(values.clone())),
                "at_most" => number(&values).map(Test::AtMost),
                "at_least" => number(&values).map(Test::AtLeast),
                _ => None,
            };
            if !no_test && test.is_none() {
                err("if_values", "survey-editor-bad-condition");
            }
            let show_if = match test {
                None => None,
                Some(test) => match Key::parse(&q.if_key) {
                    Ok(key) => Some(ShowIf { key, test }),
                    Err(_) => {
                        err("if_key", "survey-editor-bad-key");
                        None
                    }
                },
            };
            if let (Ok(key), Some(kind)) = (key, kind) {
                questions.push(Question {
                    key,
                    text: Bilingual::new(q.en.trim(), q.ar.trim()),
                    kind,
                    required: q.required,
                    subject,
                    show_if,
                });
            }
        }
        let negative_rule = match self.negative_rule.trim() {
            "" => NegativeRule::default(),
            s => match serde_json::from_str::<NegativeRule>(s) {
                Ok(r) => r,
                Err(_) => {
                    errs.push(FieldErr {
                        field: "negative_rule".into(),
                        code: "survey-editor-bad-rule",
                    });
                    NegativeRule::default()
                }
            },
        };
        if !errs.is_empty() {
            return Err(DraftError::Fields(errs));
        }
        let c = SurveyContent::new(
            Bilingual::new(self.title_en.trim(), self.title_ar.trim()),
            questions,
            negative_rule,
        );
        // The size limits, as the store would apply them.
        match SurveyContent::from_json(&c.to_json()) {
            Ok(c) => Ok(c),
            Err(ContentError::Bounds(issues)) => Err(DraftError::Bounds(issues)),
            Err(_) => Err(DraftError::Fields(vec![FieldErr {
                field: "title_en".into(),
                code: "survey-editor-bad-draft",
            }])),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::survey_page::tests::published;

    fn pairs(f: &EditorForm) -> Vec<(String, String)> {
        let mut v = vec![
            ("title_en".to_owned(), f.title_en.clone()),
            ("title_ar".to_owned(), f.title_ar.clone()),
            ("negative_rule".to_owned(), f.negative_rule.clone()),
        ];
        for (i, q) in f.questions.iter().enumerate() {
            let mut p = |n: &str, val: &str| v.push((format!("q{i}_{n}"), val.to_owned()));
            p("key", &q.key);
            p("kind", &q.kind);
            p("en", &q.en);
            p("ar", &q.ar);
            p("subject", &q.subject);
            p("options", &q.options);
            p("max_length", &q.max_length);
            p("if_key", &q.if_key);
            p("if_test", &q.if_test);
            p("if_values", &q.if_values);
            if q.required {
                p("required", "on");
            }
        }
        v
    }

    #[test]
    fn every_question_type_round_trips_through_the_form() {
        let s = published();
        let f = EditorForm::of(s.content());
        let back = EditorForm::from_pairs(&pairs(&f));
        assert_eq!(back, f);
        assert_eq!(&back.to_content().unwrap(), s.content());
    }

    #[test]
    fn blank_and_removed_blocks_are_dropped_and_mistakes_located() {
        let s = published();
        let mut f = EditorForm::of(s.content());
        f.questions.push(QForm::default()); // the empty "add a question" block
        f.questions[6].remove = true; // the comment
        let mut p = pairs(&f);
        p.push(("q6_remove".into(), "on".into()));
        let c = EditorForm::from_pairs(&p).to_content().unwrap();
        assert_eq!(c.questions.len(), 6);

        f.questions[1].options = "wait | Waiting".into();
        f.questions[2].key = "Bad Key".into();
        f.questions[4].if_test = "at_most".into();
        f.questions[4].if_values = "x".into();
        f.negative_rule = "{\"any_of\": [{\"nps_at_most\": \"six\"}]}".into();
        let Err(DraftError::Fields(errs)) = f.to_content() else {
            panic!("refused")
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["q1_options", "q2_key", "q4_if_values", "negative_rule"]
        );
    }

    #[test]
    fn incomplete_drafts_are_kept_for_later() {
        let f = EditorForm {
            title_en: "Draft".into(),
            questions: vec![QForm {
                key: "nps".into(),
                kind: "nps".into(),
                en: "How likely…?".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let c = f.to_content().unwrap();
        assert!(!c.publish_issues().is_empty(), "not publishable yet");
    }
}
