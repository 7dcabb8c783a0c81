//! Multi-row statements: placeholder lists and chunk sizes.
//!
//! The hot paths (event intake, batch processing, audit append) write many rows per
//! transaction. One statement per row costs a round trip each (on SQLite a hand-off to sqlx's
//! connection thread), so rows go in multi-row statements instead, in chunks: sqlx's SQLite
//! driver resolves each parameter's name with a linear scan, which makes one huge statement
//! quadratic in its parameter count.

/// Most parameters bound to one multi-row statement.
pub(crate) const MAX_PARAMS: usize = 480;

/// Rows per statement for rows of `cols` parameters (at least one).
pub(crate) fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols.max(1)).max(1)
}

/// `($first, …), (…), …`: `rows` groups of `cols` numbered placeholders, each group followed by
/// `shared` (e.g. `", $1"` for a value every row shares, bound once).
pub(crate) fn tuples(rows: usize, cols: usize, first: usize, shared: &str) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(first + r * cols + c).to_string());
        }
        s.push_str(shared);
        s.push(')');
    }
    s
}

/// `$first, $first+1, …`: `n` numbered placeholders for an `IN (…)` list.
pub(crate) fn list(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_number_across_rows() {
        assert_eq!(tuples(2, 3, 2, ""), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(tuples(1, 1, 2, ", $1"), "($2, $1)");
        assert_eq!(list(3, 4), "$4, $5, $6");
        assert_eq!(list(0, 1), "");
    }

    #[test]
    fn chunks_stay_under_the_parameter_bound() {
        assert_eq!(rows_per_statement(10) * 10, MAX_PARAMS);
        assert!(rows_per_statement(7) * 7 <= MAX_PARAMS);
        assert_eq!(rows_per_statement(1000), 1);
    }
}
