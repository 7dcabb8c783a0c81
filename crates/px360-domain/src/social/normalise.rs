//! Folding text for matching: case, Latin diacritics and the Arabic spelling variants that
//! people type interchangeably (hamza forms of alef, taa marbuta/haa, alef maqsura/yaa,
//! tashkeel, tatweel). One pass, linear in the input; the output never has more characters
//! than the input has after decomposition.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds one character already decomposed (NFD); `None` drops it.
fn fold_char(c: char) -> Option<char> {
    match c {
        // Alef with hamza above/below, madda, wasla → bare alef. After NFD, أ/إ/آ arrive as
        // ا + a combining mark, which is dropped below; ٱ has no decomposition.
        'ٱ' => Some('ا'),
        'ة' => Some('ه'),
        'ى' => Some('ي'),
        'ـ' => None,                       // tatweel
        c if is_combining_mark(c) => None, // Latin accents, Arabic tashkeel and hamza marks
        c => Some(c),
    }
}

/// The normalised form used on both sides of every match.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Lower-case first: some capitals lower-case into a letter plus a combining mark
    // (İ → i + U+0307), which the decomposition pass must then see and drop.
    for c in text.chars().flat_map(char::to_lowercase).nfd() {
        if let Some(f) = fold_char(c) {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_latin_diacritics_fold() {
        assert_eq!(fold("Café CRÈME"), "cafe creme");
        assert_eq!(fold("İstanbul"), "istanbul");
    }

    #[test]
    fn arabic_alef_forms_taa_marbuta_and_tashkeel_fold() {
        assert_eq!(fold("أ"), "ا");
        assert_eq!(fold("إ"), "ا");
        assert_eq!(fold("آ"), "ا");
        assert_eq!(fold("ٱ"), "ا");
        assert_eq!(fold("مستشفى الحياة"), fold("مستشفي الحياه"));
        assert_eq!(fold("مُسْتَشْفَى"), fold("مستشفى"));
        assert_eq!(fold("الـــحياة"), fold("الحياة"));
        assert_eq!(fold("الإستقبال"), fold("الاستقبال"));
    }

    proptest::proptest! {
        #[test]
        fn folding_is_idempotent(s in "\\PC{0,60}") {
            let once = fold(&s);
            proptest::prop_assert_eq!(fold(&once), once);
        }
    }
}
