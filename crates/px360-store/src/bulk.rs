//! Multi-row statements: placeholders and chunk sizes.
//!
//! The hot paths (event intake, batch processing, audit append) write many rows per
//! transaction. One statement per row costs a round trip each (on SQLite a hand-off to sqlx's
//! connection thread), so rows go in multi-row statements instead, in chunks.
//!
//! Placeholders are numbered `$1, $2, …` on PostgreSQL and plain `?` on SQLite, always bound in
//! textual order. sqlx resolves each numbered SQLite placeholder by name, a linear scan per
//! parameter (quadratic in a multi-row statement: a tenth of the CPU at 480 parameters), while
//! plain `?` are bound by position.

use crate::Backend;

/// Most parameters bound to one multi-row statement.
pub(crate) const MAX_PARAMS: usize = 900;

/// Rows per statement for rows of `cols` parameters (at least one).
pub(crate) fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols.max(1)).max(1)
}

/// Placeholder writer for one statement: each call hands out the next placeholders in order,
/// so values must be bound in the order the placeholders appear in the SQL text.
pub(crate) struct Marks {
    backend: Backend,
    next: usize,
}

impl Marks {
    pub(crate) fn new(backend: Backend) -> Self {
        Self { backend, next: 1 }
    }

    /// For a statement on this connection.
    pub(crate) fn on(conn: &sqlx::AnyConnection) -> Self {
        let sqlite = conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME;
        Self::new(if sqlite {
            Backend::Sqlite
        } else {
            Backend::Postgres
        })
    }

    /// One placeholder.
    pub(crate) fn one(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        match self.backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// `n` placeholders, comma-separated (an `IN (…)` list).
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `(…), (…)`: `rows` groups of `cols` placeholders (a `VALUES` list), each group ending in
    /// `literal` (constant SQL, e.g. `", 'received'"`, or empty).
    pub(crate) fn tuples(&mut self, rows: usize, cols: usize, literal: &str) -> String {
        (0..rows)
            .map(|_| format!("({}{literal})", self.list(cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_in_order_across_calls() {
        let mut m = Marks::new(Backend::Postgres);
        assert_eq!(m.one(), "$1");
        assert_eq!(m.tuples(2, 2, ""), "($2, $3), ($4, $5)");
        assert_eq!(m.list(2), "$6, $7");
        assert_eq!(m.list(0), "");
    }

    #[test]
    fn sqlite_uses_positional_marks() {
        let mut m = Marks::new(Backend::Sqlite);
        assert_eq!(m.one(), "?");
        assert_eq!(m.tuples(2, 2, ", 'x'"), "(?, ?, 'x'), (?, ?, 'x')");
        assert_eq!(m.list(3), "?, ?, ?");
    }

    #[test]
    fn chunks_stay_under_the_parameter_bound() {
        assert_eq!(rows_per_statement(10) * 10, MAX_PARAMS);
        assert!(rows_per_statement(7) * 7 <= MAX_PARAMS);
        assert_eq!(rows_per_statement(1000), 1);
    }
}
