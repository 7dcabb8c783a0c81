//! Keyset paging for the newest-first lists (integration events, journeys).
//!
//! A page is "the `limit` rows strictly older than a position", ordered by the list's timestamp
//! and then its id, both descending. The id breaks ties: a batch stamps many rows with one
//! timestamp, and a position of the timestamp alone would skip or repeat them at a page edge.
//! Unlike OFFSET, a page costs the same however far back it is, and rows arriving meanwhile do
//! not shift the pages already seen.
//!
//! A position names only a storage timestamp and a row id. It decides nothing about access: the
//! caller's scope filter is applied to every page, so a position pointing into another
//! hospital's rows finds nothing there.

/// The sort key of the last row of a page: the next page holds rows strictly older than it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Storage timestamp (`received_at` of an event, `started_at` of a journey).
    pub at: String,
    pub id: String,
}

/// Separates the two parts of [`Cursor::key`]; it occurs in neither a timestamp nor a UUID.
const SEP: char = '|';

impl Cursor {
    pub fn new(at: &str, id: &str) -> Self {
        Self {
            at: at.to_owned(),
            id: id.to_owned(),
        }
    }

    /// Plain-text form of the position (`<timestamp>|<id>`); the HTTP layers wrap it in
    /// base64url to make it opaque to clients.
    pub fn key(&self) -> String {
        format!("{}{SEP}{}", self.at, self.id)
    }

    /// Parse [`Cursor::key`] text. Only canonical storage timestamps and lowercase hyphenated
    /// UUIDs (what `ts` and `new_id` write) are accepted, so a cursor can carry nothing else
    /// and every accepted one compares like the stored values it came from.
    pub fn from_key(key: &str) -> Option<Self> {
        let (at, id) = key.split_once(SEP)?;
        let parsed = chrono::DateTime::parse_from_rfc3339(at).ok()?;
        if crate::ts(parsed.with_timezone(&chrono::Utc)) != at {
            return None;
        }
        if uuid::Uuid::try_parse(id).ok()?.hyphenated().to_string() != id {
            return None;
        }
        Some(Self::new(at, id))
    }
}

/// One page of a newest-first list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Build a page from up to `limit + 1` fetched rows: the extra row only tells that another
    /// page exists, so the last page is known without a further, empty request.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Self { rows, next }
    }
}

/// The WHERE clause of a list query, from the filters actually present: every combination is
/// then a plain index range on both engines, independent of how a backend plans
/// `($1 IS NULL OR …)` (see migration 0004 for the indexes).
#[derive(Default)]
pub(crate) struct Filters<'a> {
    conds: Vec<String>,
    binds: Vec<&'a str>,
}

impl<'a> Filters<'a> {
    /// `column = value` when a value is given. Columns are literals of the calling query.
    pub(crate) fn eq(&mut self, column: &'static str, value: Option<&'a str>) {
        if let Some(v) = value {
            self.binds.push(v);
            self.conds.push(format!("{column} = ${}", self.binds.len()));
        }
    }

    /// Rows strictly older than the cursor in `(at, id)` order. A row-value comparison, which
    /// both engines turn into one index range on `(…, at, id)`.
    pub(crate) fn before(&mut self, at: &'static str, id: &'static str, c: Option<&'a Cursor>) {
        if let Some(c) = c {
            self.binds.push(&c.at);
            self.binds.push(&c.id);
            let n = self.binds.len();
            self.conds
                .push(format!("({at}, {id}) < (${}, ${n})", n - 1));
        }
    }

    /// A condition of the calling query with one value, when given: `{}` in `template` (a
    /// literal of the calling query) becomes the value's placeholder (`c.created_at >= {}`).
    pub(crate) fn bound(&mut self, template: &'static str, value: Option<&'a str>) {
        if let Some(v) = value {
            self.binds.push(v);
            let mark = format!("${}", self.binds.len());
            self.conds.push(template.replace("{}", &mark));
        }
    }

    /// A fixed condition of the calling query (a literal, e.g. `deleted_at IS NULL`).
    pub(crate) fn raw(&mut self, cond: &'static str) {
        self.conds.push(cond.to_owned());
    }

    /// Case-insensitive substring search over `columns` (any may match) with a pattern made by
    /// [`like_pattern`]. `LOWER(…) LIKE` behaves the same on both engines.
    pub(crate) fn like(&mut self, columns: &[&'static str], pattern: Option<&'a str>) {
        if let Some(p) = pattern {
            self.binds.push(p);
            let n = self.binds.len();
            let any: Vec<String> = columns
                .iter()
                .map(|c| format!("LOWER({c}) LIKE ${n} ESCAPE '\\'"))
                .collect();
            self.conds.push(format!("({})", any.join(" OR ")));
        }
    }

    /// `WHERE …` (or nothing) for the conditions so far.
    pub(crate) fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conds.join(" AND "))
        }
    }

    /// The placeholder number after the filters' own (for `LIMIT`).
    pub(crate) fn next_mark(&self) -> usize {
        self.binds.len() + 1
    }

    /// Values for `$1..` in order.
    pub(crate) fn binds(&self) -> &[&'a str] {
        &self.binds
    }
}

/// `%text%` in lower case, with `%`, `_` and the escape character taken literally; `None` for a
/// blank search (no filter).
pub fn like_pattern(search: &str) -> Option<String> {
    let s = search.trim().to_lowercase();
    if s.is_empty() {
        return None;
    }
    let mut out = String::from("%");
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const AT: &str = "2025-03-01T10:00:00.123456Z";
    const ID: &str = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn key_round_trips() {
        let c = Cursor::new(AT, ID);
        assert_eq!(Cursor::from_key(&c.key()), Some(c));
    }

    #[test]
    fn only_storage_timestamps_and_uuids_are_accepted() {
        for bad in [
            "",
            AT,
            "|",
            &format!("{AT}|"),
            &format!("|{ID}"),
            // Not the storage format: no fraction, another offset, another precision.
            &format!("2025-03-01T10:00:00Z|{ID}"),
            &format!("2025-03-01T12:00:00.123456+02:00|{ID}"),
            &format!("2025-03-01T10:00:00.123Z|{ID}"),
            // Ids: not a UUID, upper case, braces, patient data.
            &format!("{AT}|RGH-CARD-0001"),
            &format!("{AT}|{}", ID.to_uppercase()),
            &format!("{AT}|{{{ID}}}"),
            &format!("{AT}|{ID}|x"),
        ] {
            assert_eq!(Cursor::from_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_page_knows_whether_another_follows() {
        let key = |n: &u32| Cursor::new(AT, &format!("{n}"));
        let p = Page::from_rows(vec![1, 2, 3], 2, key);
        assert_eq!(p.rows, vec![1, 2]);
        assert_eq!(p.next.unwrap().id, "2");
        let p = Page::from_rows(vec![1, 2], 2, key);
        assert_eq!(p.rows, vec![1, 2]);
        assert!(p.next.is_none());
        let p = Page::from_rows(Vec::<u32>::new(), 2, key);
        assert!(p.rows.is_empty() && p.next.is_none());
    }

    #[test]
    fn search_patterns_are_literal() {
        assert_eq!(like_pattern("  "), None);
        assert_eq!(like_pattern("Card").as_deref(), Some("%card%"));
        assert_eq!(like_pattern("50%_a\\").as_deref(), Some("%50\\%\\_a\\\\%"));
        let mut f = Filters::default();
        f.raw("deleted_at IS NULL");
        f.like(&["code", "name"], Some("%x%"));
        assert_eq!(
            f.sql(),
            "WHERE deleted_at IS NULL AND (LOWER(code) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\')"
        );
    }

    #[test]
    fn filters_number_their_placeholders() {
        let c = Cursor::new(AT, ID);
        let mut f = Filters::default();
        assert_eq!(f.sql(), "");
        f.eq("hospital_id", Some("h"));
        f.eq("status", None);
        f.before("received_at", "id", Some(&c));
        assert_eq!(
            f.sql(),
            "WHERE hospital_id = $1 AND (received_at, id) < ($2, $3)"
        );
        assert_eq!(f.binds(), &["h", AT, ID]);
        assert_eq!(f.next_mark(), 4);
    }
}
