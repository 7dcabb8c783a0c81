//! Bounds on how much work one request may ask for.
//!
//! Everything a request can repeat (DocumentRequests, stored-query values, HL7 query
//! parameters) and every identifier we may echo or audit (MessageID, ids, slot values) is
//! bounded here, so that no single request can multiply memory or CPU use, or make our answer
//! or the audit row arbitrarily large. The XML tree itself is bounded separately
//! ([`crate::xml`]: depth and element count).

/// Per-request limits, passed to the `parse_*_with` functions. The plain `parse_*` functions
/// use [`RequestLimits::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// DocumentRequests in one ITI-39 retrieve (counted as sent, before duplicates are
    /// merged). Beyond it the whole request is answered with an `XDSRepositoryError`.
    pub max_document_requests: usize,
    /// Values of one ITI-38 stored-query parameter (e.g. the ids of GetDocuments, the codes of
    /// one code list), and repetitions of one ITI-55/47 query parameter.
    pub max_query_values: usize,
    /// Characters of one identifier or slot value: `wsa:MessageID`, ITI-39 ids, ITI-38 slot
    /// values, HL7 attribute values.
    pub max_id_chars: usize,
    /// Characters of one text value in an ITI-55/47 query (a name part, an address line).
    pub max_text_chars: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        crate::DEFAULT_LIMITS
    }
}

/// `s` cut to at most `max` characters, for quoting hostile input in an error text.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
