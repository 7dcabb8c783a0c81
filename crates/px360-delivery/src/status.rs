//! What the providers tell us after a send: delivery statuses and opt-out replies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::address::PhoneNumber;
use crate::message::Channel;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed { code: String },
}

/// A delivery-status callback, already verified and parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub provider_message_id: String,
    pub status: DeliveryStatus,
    /// When the provider says it happened, or when we received it if the provider gives
    /// no time (Twilio's status callbacks carry none).
    pub at: DateTime<Utc>,
}

/// A patient asked to stop messages on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub channel: Channel,
    pub address: PhoneNumber,
}

/// English keywords are the carrier-standard set that Twilio also honours
/// (https://help.twilio.com/articles/223134027); the Arabic ones are "stop", "cancel",
/// "unsubscribe" as Saudi senders document them. The whole reply must be the keyword, as
/// carriers match it, so "please don't stop" is not an opt-out.
const EN_KEYWORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];
const AR_KEYWORDS: &[&str] = &["ايقاف", "توقف", "الغاء", "الغاء الاشتراك", "قف"];

/// Upper bound on a reply we bother to normalise: keywords are short.
const MAX_KEYWORD_REPLY: usize = 64;

/// Normalises Arabic spelling variants that patients type interchangeably: hamza forms of
/// alef, tatweel and short-vowel marks.
fn normalise_arabic(c: char) -> Option<char> {
    match c {
        'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
        'ـ' => None,                                  // tatweel
        '\u{064B}'..='\u{0652}' | '\u{0670}' => None, // harakat
        _ => Some(c),
    }
}

pub fn is_opt_out_keyword(reply: &str) -> bool {
    if reply.len() > MAX_KEYWORD_REPLY * 4 {
        return false;
    }
    let cleaned: String = reply
        .chars()
        .filter_map(normalise_arabic)
        .filter(|c| !(c.is_ascii_punctuation() || matches!(c, '؟' | '،' | '.' | '!')))
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 {
        return false;
    }
    let joined = words.join(" ");
    let upper = joined.to_uppercase();
    EN_KEYWORDS.contains(&upper.as_str()) || AR_KEYWORDS.contains(&joined.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords() {
        for yes in [
            "STOP",
            "stop",
            " Stop. ",
            "unsubscribe",
            "إيقاف",
            "ايقاف",
            "إلغاء",
            "إلغاء الاشتراك",
            "توقف!",
            "إيـقاف",
        ] {
            assert!(is_opt_out_keyword(yes), "{yes}");
        }
        for no in [
            "",
            "please don't stop",
            "stopping",
            "شكرا",
            "5",
            "STOP STOP STOP STOP",
        ] {
            assert!(!is_opt_out_keyword(no), "{no}");
        }
    }
}
