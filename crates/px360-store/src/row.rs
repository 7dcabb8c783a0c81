//! Typed columns at the store boundary.
//!
//! Both engines are reached through `sqlx::Any`, which only carries integers, floats and text:
//! ids are stored as UUID text, timestamps as fixed-width RFC 3339 text ([`crate::ts`]), flags
//! as 0/1 integers, enums as their snake_case names. These helpers decode such a column into its
//! type (a malformed value is a decode error naming the column, never a panic), so row types
//! expose `Uuid`, `DateTime<Utc>`, `bool` and enums rather than strings.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

fn bad(col: &str, what: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: format!("not {what}").into(),
    }
}

pub fn uuid(r: &AnyRow, col: &str) -> sqlx::Result<Uuid> {
    let s: String = r.try_get(col)?;
    Uuid::parse_str(&s).map_err(|_| bad(col, "a UUID"))
}

pub fn opt_uuid(r: &AnyRow, col: &str) -> sqlx::Result<Option<Uuid>> {
    let s: Option<String> = r.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|_| bad(col, "a UUID")))
        .transpose()
}

/// Parse a stored timestamp (RFC 3339; the storage format is always UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn time(r: &AnyRow, col: &str) -> sqlx::Result<DateTime<Utc>> {
    let s: String = r.try_get(col)?;
    parse_time(&s).ok_or_else(|| bad(col, "an RFC 3339 timestamp"))
}

pub fn opt_time(r: &AnyRow, col: &str) -> sqlx::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = r.try_get(col)?;
    s.map(|s| parse_time(&s).ok_or_else(|| bad(col, "an RFC 3339 timestamp")))
        .transpose()
}

/// A 0/1 integer flag.
pub fn flag(r: &AnyRow, col: &str) -> sqlx::Result<bool> {
    let v: i64 = r.try_get(col)?;
    Ok(v != 0)
}

/// A text column holding one of an enum's names.
pub fn named<T>(r: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> sqlx::Result<T> {
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| bad(col, "a known name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_format_round_trips() {
        let t = parse_time("2026-01-31T09:30:00.123456Z").expect("parses");
        assert_eq!(crate::ts(t), "2026-01-31T09:30:00.123456Z");
        assert!(parse_time("2026-01-31 09:30").is_none());
    }
}
