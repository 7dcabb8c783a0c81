//! Sentiment and themes for patient feedback in English and Arabic (MSA and Gulf spellings).
//!
//! Lexicon-based and pure: the word lists in `lexicon/` are embedded at compile time, nothing is
//! read or downloaded at run time. [`analyse`] runs in time linear in its input, which is
//! truncated at [`MAX_INPUT_BYTES`]. The README (below, and run as a doctest) has the method and
//! evaluation numbers.
#![doc = include_str!("../README.md")]

mod lexicon;
mod normalise;
mod rule;
mod score;
mod theme;
mod tokenise;

use serde::{Deserialize, Serialize};

pub use lexicon::LexiconError;
pub use rule::{Rule, is_actionable};
pub use theme::Theme;

/// Longer input is cut at the last char boundary before this many bytes (about 4,000 Arabic or
/// 8,000 Latin letters: far beyond a comment, small enough to bound the work per call).
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Ar,
    Mixed,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Negative,
    Neutral,
    Positive,
}

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SpanKind {
    /// A sentiment term with its weight after negation, intensifiers and contrast.
    Sentiment { weight: f32 },
    /// A term that names a theme.
    Theme { theme: Theme },
}

/// A byte range of the analysed text (`text[start..end]`) and why it counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    #[serde(flatten)]
    pub kind: SpanKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub language: Language,
    pub sentiment: Sentiment,
    /// −1 (most negative) ..= 1 (most positive); 0 when nothing carried sentiment.
    pub score: f32,
    /// Distinct themes, in [`Theme::ALL`] order.
    pub themes: Vec<Theme>,
    /// Terms that decided the result, in text order.
    pub evidence: Vec<Span>,
    /// True when the input was longer than [`MAX_INPUT_BYTES`] and only its start was analysed.
    pub truncated: bool,
}

/// Analyses one comment.
pub fn analyse(text: &str) -> Analysis {
    let (text, truncated) = truncate(text);
    let mut a = score::analyse(text);
    a.truncated = truncated;
    a
}

/// Checks the embedded lexicons; an empty list means every line was understood.
pub fn lexicon_errors() -> Vec<LexiconError> {
    lexicon::Lexicon::parse().1
}

fn truncate(text: &str) -> (&str, bool) {
    if text.len() <= MAX_INPUT_BYTES {
        return (text, false);
    }
    let mut end = MAX_INPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

fn detect_language(text: &str) -> Language {
    let (mut ar, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if normalise::is_arabic_letter(c) {
            ar += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    let total = ar + latin;
    if total == 0 {
        Language::Unknown
    } else if ar * 10 >= total * 7 {
        Language::Ar
    } else if latin * 10 >= total * 7 {
        Language::En
    } else {
        Language::Mixed
    }
}
