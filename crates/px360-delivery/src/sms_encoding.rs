//! SMS segment arithmetic (3GPP TS 23.038 / 23.040). Text made only of the GSM 7-bit
//! default alphabet travels at 160 septets in one segment, 153 per segment when
//! concatenated (the user-data header takes 7); anything else, Arabic included, goes as
//! UCS-2: 70 UTF-16 units in one segment, 67 per segment when concatenated. Providers bill
//! per segment, so the worker checks the count before sending.

/// GSM 03.38 default alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table (escape + character: two septets each).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

/// Linear in the text; the alphabet lookups are over fixed, short tables.
pub fn count_segments(text: &str) -> SegmentCount {
    let mut septets = 0usize;
    let mut gsm7 = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    let (encoding, units, single, multi) = if gsm7 {
        (SmsEncoding::Gsm7, septets, 160, 153)
    } else {
        (SmsEncoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    // An empty message still costs one segment.
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    SegmentCount {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_boundaries() {
        assert_eq!(count_segments(&"a".repeat(160)).segments, 1);
        assert_eq!(count_segments(&"a".repeat(161)).segments, 2);
        assert_eq!(count_segments(&"a".repeat(306)).segments, 2);
        assert_eq!(count_segments(&"a".repeat(307)).segments, 3);
        assert_eq!(count_segments("").segments, 1);
    }

    #[test]
    fn extension_characters_take_two_septets() {
        let c = count_segments(&"€".repeat(80));
        assert_eq!(
            (c.encoding, c.units, c.segments),
            (SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(count_segments(&"€".repeat(81)).segments, 2);
    }

    #[test]
    fn arabic_is_ucs2() {
        let c = count_segments("شكراً لزيارتكم مستشفى الملك فهد");
        assert_eq!(c.encoding, SmsEncoding::Ucs2);
        assert_eq!(c.segments, 1);
        let long = "ب".repeat(71);
        assert_eq!(count_segments(&long).segments, 2);
        assert_eq!(count_segments(&"ب".repeat(134)).segments, 2);
        assert_eq!(count_segments(&"ب".repeat(135)).segments, 3);
        // One Arabic letter in English text turns the whole message into UCS-2.
        assert_eq!(count_segments(&format!("{}ب", "a".repeat(70))).segments, 2);
    }

    #[test]
    fn emoji_count_two_utf16_units() {
        let c = count_segments("🙂");
        assert_eq!((c.encoding, c.units), (SmsEncoding::Ucs2, 2));
    }
}
