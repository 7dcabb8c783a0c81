//! Question model: the answer types, bilingual text and the analytics subject tag.
//!
//! These are the storage forms of a draft, so they deliberately allow incomplete content (an
//! empty Arabic text while a translator is still working); `publish` is the gate that requires
//! everything to be complete and consistent.

use super::condition::ShowIf;
use super::key::Key;
use serde::{Deserialize, Serialize};

/// The languages a survey is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    Ar,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Lang::En, Lang::Ar].into_iter().find(|l| l.as_str() == s)
    }
    /// The HTML `dir` of a page in this language; scales are mirrored by laying them out in it.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ar => "rtl",
        }
    }
}

/// Text in both languages the patient page serves. Both must be non-empty to publish.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub en: String,
    pub ar: String,
}

impl Bilingual {
    pub fn new(en: impl Into<String>, ar: impl Into<String>) -> Self {
        Bilingual {
            en: en.into(),
            ar: ar.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ar => &self.ar,
        }
    }

    pub fn is_complete(&self) -> bool {
        !self.en.trim().is_empty() && !self.ar.trim().is_empty()
    }

    /// Longest of the two, in characters (limits are in characters, not bytes, so that Arabic
    /// text gets the same room as English).
    pub fn max_chars(&self) -> usize {
        self.en.chars().count().max(self.ar.chars().count())
    }
}

/// What a question is about, for analytics by physician, department or journey stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Physician,
    Department,
    Stage,
    #[default]
    None,
}

/// The HCAHPS frequency scale. Order matters: `Never < Sometimes < Usually < Always`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Never,
    Sometimes,
    Usually,
    Always,
}

impl Frequency {
    pub const ALL: [Frequency; 4] = [
        Frequency::Never,
        Frequency::Sometimes,
        Frequency::Usually,
        Frequency::Always,
    ];

    /// The form value (also the JSON value).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Never => "never",
            Frequency::Sometimes => "sometimes",
            Frequency::Usually => "usually",
            Frequency::Always => "always",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub key: Key,
    pub label: Bilingual,
}

/// The answer type. Form values: rating `1`–`5`, NPS `0`–`10`, yes/no `yes`/`no`, choices the
/// option keys, frequency `never`/`sometimes`/`usually`/`always`, free text as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum QuestionKind {
    /// 1 (worst) to 5 (best).
    Rating,
    /// 0 (not at all likely) to 10 (extremely likely).
    Nps,
    YesNo,
    SingleChoice {
        options: Vec<ChoiceOption>,
    },
    MultipleChoice {
        options: Vec<ChoiceOption>,
    },
    FreeText {
        max_length: u32,
    },
    Frequency,
}

impl QuestionKind {
    pub fn options(&self) -> &[ChoiceOption] {
        match self {
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                options
            }
            _ => &[],
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Rating => "rating",
            QuestionKind::Nps => "nps",
            QuestionKind::YesNo => "yes_no",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::FreeText { .. } => "free_text",
            QuestionKind::Frequency => "frequency",
        }
    }

    /// Inclusive numeric range of the scale, for the types that have one.
    pub fn numeric_range(&self) -> Option<(u8, u8)> {
        match self {
            QuestionKind::Rating => Some((1, 5)),
            QuestionKind::Nps => Some((0, 10)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: Key,
    pub text: Bilingual,
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_tagged_and_strict() {
        let q: Question = serde_json::from_str(
            r#"{"key":"reason","text":{"en":"Why?","ar":"لماذا؟"},
                "kind":{"type":"single_choice","options":[{"key":"wait","label":{"en":"Waiting","ar":"الانتظار"}}]},
                "required":true,"subject":"department"}"#,
        )
        .unwrap();
        assert_eq!(q.kind.name(), "single_choice");
        assert_eq!(q.kind.options().len(), 1);
        assert_eq!(q.subject, Subject::Department);
        assert!(q.text.is_complete());
        let back: Question = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back, q);
        // A typo in a field name is refused rather than silently ignored.
        assert!(
            serde_json::from_str::<Question>(
                r#"{"key":"a","text":{"en":"x","ar":"y"},"kind":{"type":"nps"},"requird":true}"#
            )
            .is_err()
        );
    }

    #[test]
    fn frequency_orders_and_parses() {
        assert!(Frequency::Never < Frequency::Sometimes && Frequency::Usually < Frequency::Always);
        assert_eq!(Frequency::parse("usually"), Some(Frequency::Usually));
        assert_eq!(Frequency::parse("Usually"), None);
        assert!(!Bilingual::new("x", " ").is_complete());
        assert_eq!(Bilingual::new("ab", "أبجد").max_chars(), 4);
        assert_eq!(Bilingual::new("Yes", "نعم").get(Lang::Ar), "نعم");
        assert_eq!(Lang::parse("ar").map(Lang::dir), Some("rtl"));
        assert_eq!(Lang::En.dir(), "ltr");
    }
}
