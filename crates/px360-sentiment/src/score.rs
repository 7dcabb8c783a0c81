//! Matching lexicon terms and combining their weights.
//!
//! Two passes over the tokens, each linear: (1) longest-phrase matching (at most
//! [`MAX_PHRASE`] lookups per token), (2) weighting each sentiment hit by the few hits next to it
//! in the same clause (negators, intensifiers) and by contrast words.

use crate::lexicon::{Contrast, Entry, LEXICON, MAX_PHRASE};
use crate::theme::ThemeSet;
use crate::tokenise::{Kind, Token, tokenise};
use crate::{Analysis, Sentiment, Span, SpanKind, detect_language};

/// A negator flips sentiment words up to this many tokens after it ("not very good", "ما كان زين").
const NEGATION_WINDOW: usize = 3;
/// Intensifiers reach this far either way: English puts them before ("very good"), Arabic
/// mostly after ("زين وايد", "نظيف جداً") and Gulf speech before too ("وايد زين").
const INTENSIFIER_WINDOW: usize = 2;
/// Negated sentiment is flipped and damped: "not bad" is milder than "good" (as in VADER).
const NEGATION_FACTOR: f32 = -0.74;
const ELONGATION_FACTOR: f32 = 1.3;
const MAX_INTENSITY: f32 = 2.5;
const BEFORE_CONTRAST: f32 = 0.5;
const AFTER_CONTRAST: f32 = 1.5;
const CONCESSION: f32 = 0.5;
const BANG: f32 = 0.3;
/// Scores within this distance of 0 are neutral.
const NEUTRAL_BAND: f32 = 0.05;
/// Normalisation constant of `s / sqrt(s² + α)`, mapping a weight sum into (−1, 1).
const ALPHA: f32 = 15.0;

struct Hit<'a> {
    first: usize,
    last: usize,
    clause: usize,
    start: usize,
    end: usize,
    elongated: bool,
    entry: &'a Entry,
}

fn word_or_emoji(t: &Token) -> Option<&str> {
    match &t.kind {
        Kind::Word { norm, .. } => Some(norm.as_str()),
        Kind::Emoji(e) => Some(e.as_str()),
        Kind::Break { .. } => None,
    }
}

pub fn analyse(text: &str) -> Analysis {
    let toks = tokenise(text);
    let lex = &*LEXICON;

    let mut hits: Vec<Hit> = Vec::new();
    // Kept apart from `hits`, which stay ordered and non-overlapping for the distance checks.
    let mut theme_phrases: Vec<(usize, usize, ThemeSet)> = Vec::new();
    let mut clause = 0usize;
    let mut bangs = 0usize;
    let mut key = String::new();
    let mut i = 0;
    while i < toks.len() {
        let Some(first) = word_or_emoji(&toks[i]) else {
            if let Kind::Break { bang } = toks[i].kind {
                bangs += usize::from(bang);
            }
            clause += 1;
            i += 1;
            continue;
        };
        let mut found: Option<(usize, &Entry)> = None;
        let mut longest = lex.longest_phrase_from(first).min(MAX_PHRASE);
        // A phrase that only names a theme ("waiting area") must not hide the sentiment or
        // negation of the words inside it, so it is recorded and matching goes on within it.
        'phrases: loop {
            for n in (2..=longest).rev() {
                if i + n > toks.len() {
                    continue;
                }
                key.clear();
                key.push_str(first);
                let complete = toks[i + 1..i + n].iter().all(|t| match word_or_emoji(t) {
                    Some(w) => {
                        key.push(' ');
                        key.push_str(w);
                        true
                    }
                    None => false,
                });
                if complete && let Some(e) = lex.phrase(&key) {
                    if e.theme_only() {
                        theme_phrases.push((toks[i].start, toks[i + n - 1].end, e.themes));
                        longest = n - 1;
                        continue 'phrases;
                    }
                    found = Some((n, e));
                    break;
                }
            }
            break;
        }
        if found.is_none() {
            let e = match &toks[i].kind {
                Kind::Word { norm, .. } => lex.word(norm),
                _ => lex.phrase(first),
            };
            found = e.map(|e| (1, e));
        }
        match found {
            Some((n, entry)) => {
                let span = &toks[i..i + n];
                hits.push(Hit {
                    first: i,
                    last: i + n - 1,
                    clause,
                    start: toks[i].start,
                    end: toks[i + n - 1].end,
                    elongated: span.iter().any(|t| {
                        matches!(
                            t.kind,
                            Kind::Word {
                                elongated: true,
                                ..
                            }
                        )
                    }),
                    entry,
                });
                i += n;
            }
            None => i += 1,
        }
    }

    let last_but = hits
        .iter()
        .rposition(|h| h.entry.contrast == Some(Contrast::But));
    let mut themes = ThemeSet::default();
    let mut evidence = Vec::new();
    let mut sum = 0.0f32;
    for (start, end, set) in theme_phrases {
        for t in set.iter() {
            evidence.push(Span {
                start,
                end,
                kind: SpanKind::Theme { theme: t },
            });
        }
        themes.union(set);
    }
    for (k, h) in hits.iter().enumerate() {
        for t in h.entry.themes.iter() {
            evidence.push(Span {
                start: h.start,
                end: h.end,
                kind: SpanKind::Theme { theme: t },
            });
        }
        themes.union(h.entry.themes);
        let Some(mut w) = h.entry.sentiment else {
            continue;
        };

        let near_before = hits[..k].iter().rev().take_while(|o| {
            o.clause == h.clause && h.first - o.last <= NEGATION_WINDOW.max(INTENSIFIER_WINDOW)
        });
        let mut intensity = 1.0f32;
        let mut negated = false;
        let mut conceded = false;
        let mut negation_open = true;
        for o in near_before {
            // A negator governs the first sentiment term after it only ("not clean, blood on
            // the floor" must not flip "blood").
            if negation_open && o.entry.negator && h.first - o.last <= NEGATION_WINDOW {
                negated = true;
            }
            if o.entry.sentiment.is_some() && !o.entry.negator {
                negation_open = false;
            }
            if let Some(m) = o.entry.intensifier
                && h.first - o.last <= INTENSIFIER_WINDOW
            {
                intensity *= m;
            }
        }
        for o in hits[k + 1..]
            .iter()
            .take_while(|o| o.clause == h.clause && o.first - h.last <= INTENSIFIER_WINDOW)
        {
            if let Some(m) = o.entry.intensifier {
                intensity *= m;
            }
        }
        // A concession word anywhere earlier in the clause ("although we waited a while, …").
        for o in hits[..k].iter().rev().take_while(|o| o.clause == h.clause) {
            if o.entry.contrast == Some(Contrast::Although) {
                conceded = true;
            }
        }
        if h.elongated {
            intensity *= ELONGATION_FACTOR;
        }
        w *= intensity.min(MAX_INTENSITY);
        if negated {
            w *= NEGATION_FACTOR;
        }
        if conceded {
            w *= CONCESSION;
        }
        match last_but {
            Some(b) if k < b => w *= BEFORE_CONTRAST,
            Some(b) if k > b => w *= AFTER_CONTRAST,
            _ => {}
        }
        sum += w;
        evidence.push(Span {
            start: h.start,
            end: h.end,
            kind: SpanKind::Sentiment { weight: w },
        });
    }
    evidence.sort_by_key(|s| (s.start, s.end));
    if sum != 0.0 {
        sum += sum.signum() * BANG * bangs.min(3) as f32;
    }
    let score = (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0);
    let sentiment = if score >= NEUTRAL_BAND {
        Sentiment::Positive
    } else if score <= -NEUTRAL_BAND {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    Analysis {
        language: detect_language(text),
        sentiment,
        score,
        themes: themes.iter().collect(),
        evidence,
        truncated: false,
    }
}
