//! The embedded lexicons: parsing and lookup (with light affix stripping).
//!
//! Format, one entry per line, tab separated, `#` starts a comment:
//! `term <TAB> kind [<TAB> value]` where kind is
//! `s` sentiment weight (−4..4), `t` theme id, `n` negator, `i` intensifier multiplier,
//! `c` contrast (the clause after it counts more), `k` concession ("although": its clause counts
//! less). A term may be a phrase of up to [`MAX_PHRASE`] words and may appear on several lines
//! (for example a sentiment and a theme). Terms are normalised like the text, so any alef, hamza,
//! taa marbuta or diacritic spelling in the file matches every spelling in comments.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::theme::{Theme, ThemeSet};
use crate::tokenise::{Kind, tokenise};

pub const MAX_PHRASE: usize = 4;

const SOURCES: [(&str, &str); 3] = [
    ("en.tsv", include_str!("../lexicon/en.tsv")),
    ("ar.tsv", include_str!("../lexicon/ar.tsv")),
    ("emoji.tsv", include_str!("../lexicon/emoji.tsv")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contrast {
    /// "but", "لكن", "بس": what follows outweighs what came before.
    But,
    /// "although", "رغم": the clause it opens is weakened.
    Although,
}

#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub sentiment: Option<f32>,
    pub themes: ThemeSet,
    pub negator: bool,
    pub intensifier: Option<f32>,
    pub contrast: Option<Contrast>,
}

impl Entry {
    /// Names a theme and nothing else.
    pub fn theme_only(&self) -> bool {
        !self.themes.is_empty()
            && self.sentiment.is_none()
            && !self.negator
            && self.intensifier.is_none()
            && self.contrast.is_none()
    }

    fn is_empty(&self) -> bool {
        self.sentiment.is_none()
            && self.themes.is_empty()
            && !self.negator
            && self.intensifier.is_none()
            && self.contrast.is_none()
    }
}

pub struct Lexicon {
    map: HashMap<String, Entry>,
    /// First word of every phrase → the longest phrase it starts (in words), so that most
    /// tokens skip phrase lookups altogether.
    heads: HashMap<String, usize>,
}

/// A line that could not be read, with its file and line number.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconError {
    pub file: &'static str,
    pub line: usize,
    pub reason: String,
}

pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::parse().0);

fn key_of(term: &str) -> Option<String> {
    let toks = tokenise(term);
    if toks.is_empty() || toks.len() > MAX_PHRASE {
        return None;
    }
    let mut parts = Vec::with_capacity(toks.len());
    for t in toks {
        match t.kind {
            Kind::Word { norm, .. } => parts.push(norm),
            Kind::Emoji(e) => parts.push(e),
            Kind::Break { .. } => return None,
        }
    }
    Some(parts.join(" "))
}

impl Lexicon {
    /// Parses the embedded files. Bad lines are skipped at run time and returned so that a test
    /// keeps the data clean.
    pub fn parse() -> (Lexicon, Vec<LexiconError>) {
        let mut map: HashMap<String, Entry> = HashMap::new();
        let mut heads: HashMap<String, usize> = HashMap::new();
        let mut errors = Vec::new();
        for (file, src) in SOURCES {
            for (n, line) in src.lines().enumerate() {
                let line = line.trim_end();
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                let mut err = |reason: String| {
                    errors.push(LexiconError {
                        file,
                        line: n + 1,
                        reason,
                    })
                };
                let cols: Vec<&str> = line.split('\t').collect();
                let (term, kind, value) = (
                    cols[0].trim(),
                    cols.get(1).map(|s| s.trim()),
                    cols.get(2).map(|s| s.trim()),
                );
                let Some(key) = key_of(term) else {
                    err(format!(
                        "term {term:?} is empty, punctuation or longer than {MAX_PHRASE} words"
                    ));
                    continue;
                };
                let num = value.and_then(|v| v.parse::<f32>().ok());
                let words = key.split(' ').count();
                if words > 1 {
                    let head = key.split(' ').next().unwrap_or_default().to_string();
                    let longest = heads.entry(head).or_insert(0);
                    *longest = (*longest).max(words);
                }
                let e = map.entry(key).or_default();
                match (kind, value) {
                    (Some("s"), _) if num.is_some_and(|v| (-4.0..=4.0).contains(&v)) => {
                        e.sentiment = num
                    }
                    (Some("i"), _) if num.is_some_and(|v| (0.0..=3.0).contains(&v)) => {
                        e.intensifier = num
                    }
                    (Some("t"), Some(id)) => match Theme::parse(id) {
                        Some(t) => e.themes.insert(t),
                        None => err(format!("unknown theme {id:?}")),
                    },
                    (Some("n"), None) => e.negator = true,
                    (Some("c"), None) => e.contrast = Some(Contrast::But),
                    (Some("k"), None) => e.contrast = Some(Contrast::Although),
                    _ => err(format!("bad kind/value {kind:?} {value:?}")),
                }
            }
        }
        map.retain(|_, e| !e.is_empty());
        let mut lex = Lexicon { map, heads };
        lex.inherit_stem_sentiment();
        (lex, errors)
    }

    /// The longest phrase (in words) starting with this word; 1 when none does.
    pub fn longest_phrase_from(&self, head: &str) -> usize {
        self.heads.get(head).copied().unwrap_or(1)
    }

    pub fn phrase(&self, key: &str) -> Option<&Entry> {
        self.map.get(key)
    }

    /// A word listed only as a theme ("cleaned") would otherwise hide the sentiment of its stem
    /// ("clean"), and "not cleaned" would not be flipped: such entries take the stem's sentiment
    /// once, at load.
    fn inherit_stem_sentiment(&mut self) {
        let inherited: Vec<(String, f32)> = self
            .map
            .iter()
            // Latin participles only: "cleaned" is an evaluation, "cleaning" a topic, and Arabic
            // theme nouns ("ألمي") inheriting a sentiment were flipped by negated verbs before them.
            .filter(|(k, e)| {
                e.theme_only() && !k.contains(' ') && k.is_ascii() && k.ends_with("ed")
            })
            .filter_map(|(k, _)| {
                self.stem(k)
                    .and_then(|e| e.sentiment)
                    .map(|v| (k.clone(), v))
            })
            .collect();
        for (k, v) in inherited {
            if let Some(e) = self.map.get_mut(&k) {
                e.sentiment = Some(v);
            }
        }
    }

    /// One word: exact, then with common affixes removed. Arabic clitics (و ف ب ل ك ال …) and
    /// pronoun/plural suffixes are stripped only while at least three letters remain, so short
    /// words never collapse onto unrelated entries.
    pub fn word(&self, w: &str) -> Option<&Entry> {
        if let Some(e) = self.map.get(w) {
            return Some(e);
        }
        self.stem(w)
    }

    /// The entry of `w` with affixes removed (never `w` itself).
    fn stem(&self, w: &str) -> Option<&Entry> {
        let arabic = w
            .chars()
            .next()
            .is_some_and(crate::normalise::is_arabic_letter);
        if arabic {
            self.arabic_stem(w)
        } else {
            self.latin_stem(w)
        }
    }

    fn arabic_stem(&self, w: &str) -> Option<&Entry> {
        const PREFIXES: [&str; 14] = [
            "", "وبال", "وال", "بال", "فال", "كال", "ولل", "لل", "ال", "و", "ف", "ب", "ل", "ك",
        ];
        const SUFFIXES: [&str; 14] = [
            "", "هم", "ها", "كم", "نا", "ني", "وا", "ون", "ين", "ات", "ه", "ي", "ك", "ت",
        ];
        let long_enough = |s: &str| s.chars().nth(2).is_some();
        for p in PREFIXES {
            let Some(rest) = strip_prefix(w, p) else {
                continue;
            };
            if !long_enough(rest) {
                continue;
            }
            for s in SUFFIXES {
                if p.is_empty() && s.is_empty() {
                    continue;
                }
                let Some(stem) = strip_suffix(rest, s) else {
                    continue;
                };
                if !long_enough(stem) {
                    continue;
                }
                if let Some(e) = self.map.get(stem) {
                    return Some(e);
                }
            }
        }
        None
    }

    fn latin_stem(&self, w: &str) -> Option<&Entry> {
        if w.ends_with("n't") {
            return self.map.get("not");
        }
        for s in ["'s", "s", "es", "ed", "d", "ing", "ly"] {
            if let Some(stem) = w.strip_suffix(s)
                && stem.len() >= 3
                && let Some(e) = self.map.get(stem)
            {
                return Some(e);
            }
        }
        None
    }
}

// Byte loops rather than `str::strip_prefix`: these compare two to eight bytes, and the libc
// memcmp call behind the std version dominated profiles of Arabic comments. Matching a whole
// `&str` keeps the cut on a char boundary.
fn strip_prefix<'a>(w: &'a str, p: &str) -> Option<&'a str> {
    let (wb, pb) = (w.as_bytes(), p.as_bytes());
    (wb.len() >= pb.len() && wb.iter().zip(pb).all(|(a, b)| a == b)).then(|| &w[pb.len()..])
}

fn strip_suffix<'a>(w: &'a str, s: &str) -> Option<&'a str> {
    let (wb, sb) = (w.as_bytes(), s.as_bytes());
    (wb.len() >= sb.len() && wb.iter().rev().zip(sb.iter().rev()).all(|(a, b)| a == b))
        .then(|| &w[..wb.len() - sb.len()])
}
