//! Per-token normalisation. Working token by token keeps every evidence span pointing at the
//! original text without an offset map.

/// Arabic diacritics (tashkeel, U+064B..U+065F), superscript alef (U+0670) and tatweel (U+0640)
/// carry no sentiment and vary freely between writers, so they are dropped.
pub fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

pub fn is_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}' | '\u{0671}'..='\u{06D3}' | '\u{06FA}'..='\u{06FF}')
}

/// Folds the spelling variants that writers mix freely: alef forms (أ إ آ ٱ → ا), hamza on
/// carriers (ؤ → و, ئ → ي), alef maqsura (ى → ي), taa marbuta (ة → ه), and Persian/Urdu letters
/// seen in Gulf typing (ک → ك, ی → ي). Marks are removed.
fn fold_arabic(c: char) -> Option<char> {
    if is_arabic_mark(c) {
        return None;
    }
    Some(match c {
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ؤ' => 'و',
        'ئ' | 'ى' | 'ی' => 'ي',
        'ة' => 'ه',
        'ک' => 'ك',
        other => other,
    })
}

/// Normalised form of one word token and whether it was elongated ("حلوووو", "sooo good"),
/// which writers use for emphasis.
///
/// Arabic: runs of three or more of one letter collapse to one; runs of two stay, since real words
/// have them ("ممتاز", "ممرضة"). Latin: lower-cased, curly apostrophes folded, runs of three or more
/// collapse to two ("goood" → "good", "sooo" → "soo"; the lexicon lists the common "soo" forms).
pub fn normalise_word(raw: &str) -> (String, bool) {
    let mut out = String::with_capacity(raw.len());
    let mut elongated = false;
    // Runs are emitted when they end, since whether a run is elongation depends on its length.
    let mut run: Option<(char, usize)> = None;
    let flush = |out: &mut String, r: Option<(char, usize)>, elongated: &mut bool| {
        if let Some((c, n)) = r {
            let keep = if n >= 3 {
                *elongated = true;
                if is_arabic_letter(c) { 1 } else { 2 }
            } else {
                n
            };
            for _ in 0..keep {
                out.push(c);
            }
        }
    };
    for c in raw.chars() {
        let folded: Option<char> = if c == '\u{2019}' || c == '\u{2018}' {
            Some('\'')
        } else if is_arabic_letter(c) || is_arabic_mark(c) {
            fold_arabic(c)
        } else {
            // Only single-char lowercase mappings matter for the lexicons here.
            c.to_lowercase().next()
        };
        let Some(f) = folded else { continue };
        match run {
            Some((rc, n)) if rc == f => run = Some((rc, n + 1)),
            _ => {
                flush(&mut out, run, &mut elongated);
                run = Some((f, 1));
            }
        }
    }
    flush(&mut out, run, &mut elongated);
    (out, elongated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_alef_hamza_taa_yaa_and_marks() {
        assert_eq!(normalise_word("أحْمَد").0, "احمد");
        assert_eq!(normalise_word("إدارة").0, "اداره");
        assert_eq!(normalise_word("مستشفى").0, "مستشفي");
        assert_eq!(normalise_word("مسؤول").0, "مسوول");
        assert_eq!(normalise_word("جـــيد").0, "جيد");
        assert_eq!(normalise_word("جَيِّدٌ").0, "جيد");
    }

    #[test]
    fn collapses_elongation() {
        assert_eq!(normalise_word("حلوووو"), ("حلو".to_string(), true));
        assert_eq!(normalise_word("GOOOOD"), ("good".to_string(), true));
        assert_eq!(normalise_word("good"), ("good".to_string(), false));
        assert_eq!(normalise_word("ممتاز"), ("ممتاز".to_string(), false));
        assert_eq!(normalise_word("didn\u{2019}t").0, "didn't");
    }
}
