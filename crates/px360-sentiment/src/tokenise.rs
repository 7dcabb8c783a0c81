//! Splits text into words, emojis and clause breaks in one pass, keeping byte spans.

use crate::normalise::{is_arabic_letter, is_arabic_mark, normalise_word};

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A normalised word; `elongated` when letters were repeated for emphasis.
    Word { norm: String, elongated: bool },
    /// An emoji or emoticon, keyed as written (variation selectors dropped).
    Emoji(String),
    /// Clause punctuation: negation scope and intensifiers stop here. `bang` for '!'.
    Break { bang: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

fn is_word_char(c: char) -> bool {
    // Cheap range checks first: the general Unicode table lookup dominated Arabic profiles.
    c.is_ascii_alphanumeric()
        || is_arabic_letter(c)
        || is_arabic_mark(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_emoji(c: char) -> bool {
    matches!(c, '\u{1F300}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2B50}' | '\u{2B55}')
}

fn is_break(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '?' | '!' | '\n' | '،' | '؛' | '؟' | '(' | ')' | '"' | '…'
    )
}

const EMOTICONS: [&str; 8] = [":-)", ":-(", ":)", ":(", ":D", ";)", ":'(", ":/"];

pub fn tokenise(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_word_char(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = iter.peek() {
                // An apostrophe inside a word ("didn't") belongs to it.
                let apostrophe = (d == '\'' || d == '\u{2019}')
                    && text[j + d.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphabetic);
                if is_word_char(d) || apostrophe {
                    end = j + d.len_utf8();
                    iter.next();
                } else {
                    break;
                }
            }
            // Links (common in social mentions) carry no sentiment, and their paths would match
            // words or the ":/" emoticon: skip to the next whitespace.
            let rest = &text[end..];
            if rest.starts_with("://") || (&text[i..end] == "www" && rest.starts_with('.')) {
                while iter.next_if(|&(_, d)| !d.is_whitespace()).is_some() {}
                continue;
            }
            let (norm, elongated) = normalise_word(&text[i..end]);
            if !norm.is_empty() {
                out.push(Token {
                    kind: Kind::Word { norm, elongated },
                    start: i,
                    end,
                });
            }
        } else if is_emoji(c) {
            out.push(Token {
                kind: Kind::Emoji(c.to_string()),
                start: i,
                end: i + c.len_utf8(),
            });
        } else if let Some(e) = (c == ':' || c == ';')
            .then(|| EMOTICONS.iter().find(|e| text[i..].starts_with(**e)))
            .flatten()
        {
            // Skip the emoticon's remaining chars.
            for _ in 1..e.chars().count() {
                iter.next();
            }
            out.push(Token {
                kind: Kind::Emoji((*e).to_string()),
                start: i,
                end: i + e.len(),
            });
        } else if is_break(c) {
            out.push(Token {
                kind: Kind::Break { bang: c == '!' },
                start: i,
                end: i + c.len_utf8(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> Vec<String> {
        tokenise(t)
            .into_iter()
            .map(|t| match t.kind {
                Kind::Word { norm, .. } => norm,
                Kind::Emoji(e) => e,
                Kind::Break { .. } => "|".into(),
            })
            .collect()
    }

    #[test]
    fn splits_words_emojis_and_breaks() {
        assert_eq!(
            words("Didn’t like it :( 😡!"),
            ["didn't", "like", "it", ":(", "😡", "|"]
        );
        assert_eq!(
            words("الأكل زين، بس بارد"),
            ["الاكل", "زين", "|", "بس", "بارد"]
        );
        assert_eq!(words("❤️"), ["❤"]);
    }

    #[test]
    fn links_are_skipped() {
        assert_eq!(
            words("bad https://x.com/terrible/awful :/ www.worst.com good"),
            ["bad", ":/", "good"]
        );
    }

    #[test]
    fn spans_point_at_original_text() {
        let text = "الخدمة ممتـــازة";
        let toks = tokenise(text);
        assert_eq!(&text[toks[1].start..toks[1].end], "ممتـــازة");
    }
}
