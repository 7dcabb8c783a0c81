//! Matching a mention to a hospital by its configured handles and keywords.
//!
//! Patterns and text are folded with [`super::normalise::fold`] (case, Latin diacritics,
//! Arabic alef/taa marbuta/alef maqsura forms, tashkeel), then one Aho–Corasick automaton finds
//! every pattern in one pass: linear in the text plus the matches, whatever the number of
//! hospitals. A match counts only on word boundaries, so "er" does not match "water".
//!
//! Decision: a `@handle` in the text is a strong match and wins over keywords; one hospital
//! matched is a location, several are ambiguous (for a person to choose); a mention posted by
//! one of our own handles is our own post, not patient voice.

use super::mention::Mention;
use super::normalise::fold;
use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub const MAX_PATTERNS: usize = 20_000;
pub const MAX_PATTERN_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HospitalTerms {
    pub hospital_id: Uuid,
    /// Account handles, with or without `@`.
    pub handles: Vec<String>,
    /// Names and keywords in either language.
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error("social.matcher.too_many_patterns")]
    TooManyPatterns,
    #[error("social.matcher.bad_pattern")]
    BadPattern { hospital: usize },
}

impl MatcherError {
    pub fn code(self) -> &'static str {
        match self {
            MatcherError::TooManyPatterns => "social.matcher.too_many_patterns",
            MatcherError::BadPattern { .. } => "social.matcher.bad_pattern",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    Hospital {
        hospital_id: Uuid,
    },
    Ambiguous {
        hospital_ids: Vec<Uuid>,
    },
    Unmatched,
    /// Posted by one of our configured handles.
    OwnPost {
        hospital_id: Uuid,
    },
}

#[derive(Debug)]
pub struct Matcher {
    automaton: AhoCorasick,
    /// Per pattern: the hospitals it names, and whether it is a `@handle`.
    owners: Vec<(Vec<Uuid>, bool)>,
    /// Folded handle (no `@`) → hospital, for the author check.
    handles: HashMap<String, Uuid>,
}

fn clean(p: &str) -> Option<String> {
    let f = fold(p.trim());
    (!f.is_empty() && f.chars().count() <= MAX_PATTERN_LEN).then_some(f)
}

fn is_arabic_letter(c: char) -> bool {
    ('\u{0621}'..='\u{064A}').contains(&c)
}

impl Matcher {
    pub fn new(config: &[HospitalTerms]) -> Result<Matcher, MatcherError> {
        let total: usize = config
            .iter()
            .map(|h| h.handles.len() + h.keywords.len())
            .sum();
        if total > MAX_PATTERNS {
            return Err(MatcherError::TooManyPatterns);
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<(Vec<Uuid>, bool)> = Vec::new();
        let mut handles = HashMap::new();
        let mut add = |p: String, h: Uuid, is_handle: bool| {
            let i = *index.entry(p.clone()).or_insert_with(|| {
                patterns.push(p);
                owners.push((Vec::new(), is_handle));
                owners.len() - 1
            });
            if !owners[i].0.contains(&h) {
                owners[i].0.push(h);
            }
        };
        for (hi, h) in config.iter().enumerate() {
            let bad = MatcherError::BadPattern { hospital: hi };
            for handle in &h.handles {
                let f = clean(handle.trim().trim_start_matches('@')).ok_or(bad)?;
                if f.chars().any(char::is_whitespace) {
                    return Err(bad);
                }
                handles.insert(f.clone(), h.hospital_id);
                add(format!("@{f}"), h.hospital_id, true);
            }
            for k in &h.keywords {
                add(clean(k).ok_or(bad)?, h.hospital_id, false);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|_| MatcherError::TooManyPatterns)?;
        Ok(Matcher {
            automaton,
            owners,
            handles,
        })
    }

    /// Hospitals named in `text`: (strong via `@handle`, weak via keyword). Linear time.
    pub fn scan(&self, text: &str) -> (BTreeSet<Uuid>, BTreeSet<Uuid>) {
        let folded = fold(text);
        let (mut strong, mut weak) = (BTreeSet::new(), BTreeSet::new());
        for m in self.automaton.find_overlapping_iter(&folded) {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            let mut back = folded[..m.start()].chars().rev();
            let before = back.next();
            // Arabic attaches one-letter proclitics (و and, ب at/in, ل for, ف so, ك like) to
            // the next word: "بمستشفى الحياة" names the hospital as much as "مستشفى الحياة".
            let proclitic = matches!(before, Some('و' | 'ب' | 'ل' | 'ف' | 'ك'))
                && folded[m.start()..].starts_with(is_arabic_letter)
                && !word(back.next());
            let after = folded[m.end()..].chars().next();
            if (word(before) && !proclitic) || word(after) {
                continue;
            }
            let (hs, is_handle) = &self.owners[m.pattern().as_usize()];
            let set = if *is_handle { &mut strong } else { &mut weak };
            set.extend(hs.iter().copied());
        }
        (strong, weak)
    }

    pub fn locate(&self, mention: &Mention) -> Location {
        if let Some(&hospital_id) = self.handles.get(&fold(&mention.author_handle)) {
            return Location::OwnPost { hospital_id };
        }
        let (strong, weak) = self.scan(&mention.text);
        let pick = if strong.is_empty() { weak } else { strong };
        let mut ids: Vec<Uuid> = pick.into_iter().collect();
        match ids.len() {
            0 => Location::Unmatched,
            1 => Location::Hospital {
                hospital_id: ids.remove(0),
            },
            _ => Location::Ambiguous { hospital_ids: ids },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::social::mention::{Mention, Source};
    use chrono::Utc;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    fn matcher() -> Matcher {
        Matcher::new(&[
            HospitalTerms {
                hospital_id: A,
                handles: vec!["@AlHayatHosp".into()],
                keywords: vec!["Al Hayat Hospital".into(), "مستشفى الحياة".into()],
            },
            HospitalTerms {
                hospital_id: B,
                handles: vec!["NoorMedical".into()],
                keywords: vec!["Noor Medical".into(), "مستشفى النور".into(), "ER".into()],
            },
        ])
        .unwrap()
    }

    fn mention(author: &str, text: &str) -> Mention {
        Mention {
            external_id: None,
            source: Source::X,
            author_handle: author.into(),
            text: text.into(),
            rating: None,
            link: None,
            posted_at: Utc::now(),
        }
    }

    #[test]
    fn keywords_match_case_and_arabic_spelling_insensitively() {
        let m = matcher();
        for text in [
            "Waited 4 hours at AL HAYAT hospital today",
            "الانتظار طويل في مستشفي الحياه",
            "شكرا لطاقم مُسْتَشْفَى الحياة",
            "كنت بمستشفى الحياة امس",
            "ومستشفى الحياة ممتاز",
        ] {
            assert_eq!(
                m.locate(&mention("pt", text)),
                Location::Hospital { hospital_id: A },
                "{text}"
            );
        }
    }

    #[test]
    fn matches_need_word_boundaries() {
        let m = matcher();
        assert_eq!(
            m.locate(&mention("pt", "the water was cold")),
            Location::Unmatched
        );
        assert_eq!(
            m.locate(&mention("pt", "the ER was full")),
            Location::Hospital { hospital_id: B }
        );
    }

    #[test]
    fn a_handle_in_the_text_wins_over_keywords_and_several_are_ambiguous() {
        let m = matcher();
        assert_eq!(
            m.locate(&mention("pt", "@noormedical better than Al Hayat Hospital")),
            Location::Hospital { hospital_id: B }
        );
        assert_eq!(
            m.locate(&mention("pt", "Al Hayat Hospital or Noor Medical?")),
            Location::Ambiguous {
                hospital_ids: vec![A, B]
            }
        );
    }

    #[test]
    fn our_own_posts_are_recognised() {
        assert_eq!(
            matcher().locate(&mention("alhayathosp", "Visiting hours change")),
            Location::OwnPost { hospital_id: A }
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        let bad = HospitalTerms {
            hospital_id: A,
            handles: vec!["two words".into()],
            keywords: vec![],
        };
        assert_eq!(
            Matcher::new(&[bad]).unwrap_err(),
            MatcherError::BadPattern { hospital: 0 }
        );
        let empty = HospitalTerms {
            hospital_id: A,
            handles: vec![],
            keywords: vec!["  ".into()],
        };
        assert_eq!(
            Matcher::new(&[empty]).unwrap_err().code(),
            "social.matcher.bad_pattern"
        );
    }
}
