//! Timestamps in JSON answers: the fixed-width RFC 3339 UTC form the store writes
//! (`2026-01-31T09:30:00.000000Z`), so typed rows serialise exactly as the stored text did and
//! clients see one format everywhere (`#[serde(with = "crate::time_format")]`).

use chrono::{DateTime, Utc};
use serde::Serializer;

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&px360_store::ts(*t))
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&px360_store::ts(*t)),
            None => s.serialize_none(),
        }
    }
}

/// A time zone as its IANA name (`"Asia/Riyadh"`), as the stored text was.
pub fn zone<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}
