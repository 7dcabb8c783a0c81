//! Which constraint a failed write broke, in the same shape on SQLite and PostgreSQL, so the API
//! can answer 409/422 naming the field instead of a 500.
//!
//! Only table and column names are extracted: PostgreSQL's `detail` also carries the offending
//! values (possibly an MRN), which must never reach a client or the log.

use sqlx::error::DatabaseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
}

/// A broken constraint: its kind, table and columns as far as the engine reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub table: Option<String>,
    pub columns: Vec<String>,
}

impl Violation {
    /// `table.column` of the column a client would change to resolve the violation: the last
    /// column of a composite key (`(hospital_id, code)` → `code`), e.g. `departments.code`.
    pub fn key(&self) -> Option<String> {
        let col = self.columns.last()?;
        Some(match &self.table {
            Some(t) => format!("{t}.{col}"),
            None => col.clone(),
        })
    }

    /// The request field to name: the column a client controls.
    pub fn field(&self) -> Option<&str> {
        self.columns.last().map(String::as_str)
    }

    pub fn from_db(e: &dyn DatabaseError) -> Option<Self> {
        let kind = match e.kind() {
            sqlx::error::ErrorKind::UniqueViolation => ViolationKind::Unique,
            sqlx::error::ErrorKind::ForeignKeyViolation => ViolationKind::ForeignKey,
            sqlx::error::ErrorKind::NotNullViolation => ViolationKind::NotNull,
            sqlx::error::ErrorKind::CheckViolation => ViolationKind::Check,
            _ => return None,
        };
        if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            let columns = match (pg.column(), pg.detail()) {
                (Some(c), _) => vec![c.to_owned()],
                (None, Some(d)) => pg_key_columns(d),
                _ => Vec::new(),
            };
            return Some(Self {
                kind,
                table: pg.table().map(str::to_owned),
                columns,
            });
        }
        let (table, columns) = sqlite_columns(e.message());
        Some(Self {
            kind,
            table,
            columns,
        })
    }
}

/// `Key (hospital_id, code)=(…) already exists.` → `["hospital_id", "code"]` (values dropped).
fn pg_key_columns(detail: &str) -> Vec<String> {
    detail
        .strip_prefix("Key (")
        .and_then(|r| r.split_once(")="))
        .map(|(cols, _)| cols.split(',').map(|c| c.trim().to_owned()).collect())
        .unwrap_or_default()
}

/// `UNIQUE constraint failed: departments.hospital_id, departments.code` → table and columns.
/// (SQLite names no columns for foreign keys: `FOREIGN KEY constraint failed`.)
fn sqlite_columns(message: &str) -> (Option<String>, Vec<String>) {
    let Some((_, list)) = message.split_once("constraint failed: ") else {
        return (None, Vec::new());
    };
    let mut table = None;
    let columns = list
        .split(',')
        .filter_map(|c| {
            let (t, col) = c.trim().split_once('.')?;
            table = Some(t.to_owned());
            Some(col.to_owned())
        })
        .collect();
    (table, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_detail_yields_columns_not_values() {
        assert_eq!(
            pg_key_columns("Key (hospital_id, mrn)=(abc, RGH-CARD-0001) already exists."),
            ["hospital_id", "mrn"]
        );
        assert!(pg_key_columns("something else").is_empty());
    }

    #[test]
    fn sqlite_message_yields_table_and_columns() {
        assert_eq!(
            sqlite_columns("UNIQUE constraint failed: departments.hospital_id, departments.code"),
            (
                Some("departments".to_owned()),
                vec!["hospital_id".to_owned(), "code".to_owned()]
            )
        );
        assert_eq!(
            sqlite_columns("FOREIGN KEY constraint failed"),
            (None, Vec::new())
        );
    }
}
