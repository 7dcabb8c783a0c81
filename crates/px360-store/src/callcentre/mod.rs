//! Call-centre storage (issue 18, item 2): calls ([`calls`]), the patient lookup by MRN or
//! phone ([`lookup`]), the callback queue under the SLA engine ([`callbacks`]), surveys taken by
//! phone ([`phone_survey`]) and agent statistics ([`stats`]).
//!
//! Every decision (what a valid call is, when a callback is due, how a phone survey is
//! validated and scored, how statistics add up) is `px360_domain::callcentre`'s; this module
//! loads inputs, stores outputs and appends the audit records of its writes in the same
//! transaction where it owns the transaction. Notes, MRNs and phone numbers are patient data:
//! they are stored and returned to authorised readers, never logged or put into audit records.

pub mod callbacks;
pub mod calls;
pub mod demo;
pub mod lookup;
pub mod phone_survey;
pub mod stats;

/// The country code a national phone number (leading `0`) is read with. The demo group is in
/// Saudi Arabia; a group elsewhere changes this one constant (README, "Call centre").
pub const DEFAULT_COUNTRY_CODE: &str = "966";

/// A JSON list of short strings (themes), as stored.
pub(crate) fn string_list(col: &str, s: &str) -> sqlx::Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: e.to_string().into(),
    })
}
