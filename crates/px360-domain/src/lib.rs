//! PX360 domain: the rules that do not touch I/O.
//!
//! Owns the role hierarchy and scopes ([`rbac`]), the inbound integration-event contract and its
//! validation ([`event`]), journey stage bookkeeping ([`journey`]) and the tamper-evident audit
//! hash chain ([`audit`]). Storage and HTTP crates build on these types so that a principal with
//! an impossible scope, or an event without a source system, cannot be constructed at all.

pub mod action;
pub mod analytics;
pub mod audit;
pub mod callcentre;
pub mod event;
pub mod feedback;
pub mod journey;
pub mod plan;
pub mod qi;
pub mod rbac;
pub mod sla;
pub mod social;
pub mod survey;

/// Timestamps are stored as fixed-width RFC 3339 UTC text so that they sort lexically in SQLite
/// and PostgreSQL alike.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Current time in the storage format.
pub fn now_ts() -> String {
    ts(chrono::Utc::now())
}
