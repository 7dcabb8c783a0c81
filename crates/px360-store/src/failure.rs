//! The stored text of a failed processing attempt (`inbound_events.last_error`):
//! `[<code>] <detail>`. The code is stable and language-neutral, so the UI shows the failure
//! from its message catalogue (`event-error-<code>`) in the reader's language; the detail is
//! the technical English text for operators and API clients. Rows written before codes were
//! recorded have no `[…]` prefix and show their text as it is.

use crate::StoreError;

/// Why an attempt failed, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCode {
    /// The stored payload could not be read back (it was valid JSON at intake).
    PayloadUnreadable,
    /// A value the event refers to is missing or malformed.
    Invalid,
    /// A unique key clashed with a concurrent writer.
    Conflict,
    /// An object the event needs has gone.
    NotFound,
    /// The database failed (connection, timeout, lock).
    Database,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::PayloadUnreadable => "payload_unreadable",
            FailureCode::Invalid => "invalid",
            FailureCode::Conflict => "conflict",
            FailureCode::NotFound => "not_found",
            FailureCode::Database => "database",
        }
    }

    /// The code of an apply error (`payload`: the error came from reading the payload).
    pub fn of(e: &StoreError, payload: bool) -> FailureCode {
        match e {
            _ if payload => FailureCode::PayloadUnreadable,
            StoreError::Invalid(_) => FailureCode::Invalid,
            StoreError::Conflict(_) => FailureCode::Conflict,
            StoreError::NotFound => FailureCode::NotFound,
            _ => FailureCode::Database,
        }
    }
}

/// The text to store: `[code] detail`.
pub fn failure_text(code: FailureCode, detail: &str) -> String {
    format!("[{}] {detail}", code.as_str())
}

/// Split a stored `last_error` into its code (if it has one) and its detail. Codes are
/// lower-case ASCII words; anything else in brackets is part of an old row's text.
pub fn split_failure(stored: &str) -> (Option<&str>, &str) {
    if let Some(rest) = stored.strip_prefix('[')
        && let Some((code, detail)) = rest.split_once("] ")
        && !code.is_empty()
        && code.len() <= 40
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return (Some(code), detail);
    }
    (None, stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips() {
        let e = StoreError::Invalid("stored payload: EOF".into());
        let s = failure_text(FailureCode::of(&e, true), &e.to_string());
        assert_eq!(s, "[payload_unreadable] invalid: stored payload: EOF");
        assert_eq!(
            split_failure(&s),
            (Some("payload_unreadable"), "invalid: stored payload: EOF")
        );
        assert_eq!(FailureCode::of(&e, false), FailureCode::Invalid);
        assert_eq!(
            FailureCode::of(&StoreError::NotFound, false).as_str(),
            "not_found"
        );
    }

    #[test]
    fn old_rows_keep_their_text() {
        assert_eq!(
            split_failure("stored payload: boom"),
            (None, "stored payload: boom")
        );
        assert_eq!(split_failure("[Not a code] x"), (None, "[Not a code] x"));
        assert_eq!(split_failure("[] x"), (None, "[] x"));
        assert_eq!(split_failure("[code]"), (None, "[code]"));
    }
}
