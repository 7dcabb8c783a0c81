//! Bulk import of mentions from JSON (an array of objects with the [`MentionInput`] fields) or
//! CSV (a header row naming `source, id, author, text, rating, link, time` in any order; `id`,
//! `author`, `rating` and `link` may be absent). A bad row is reported by its number and code and never
//! loses the good rows; only a file that is not JSON/CSV at all, too large, or has a bad
//! header fails as a whole.

use super::mention::{Mention, MentionError, MentionInput};
use serde::Serialize;

/// Largest import body.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Most rows in one import.
pub const MAX_ROWS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowErrorCode {
    /// The row is not an object with the expected fields, or a CSV record with the wrong
    /// number of fields.
    Malformed,
    Field(MentionError),
}

impl RowErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            RowErrorCode::Malformed => "social.import.malformed_row",
            RowErrorCode::Field(e) => e.code(),
        }
    }
}

/// `row` is 1-based: the array index + 1 in JSON, the data line after the header in CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub code: RowErrorCode,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    pub mentions: Vec<Mention>,
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("social.import.too_large")]
    TooLarge,
    #[error("social.import.too_many_rows")]
    TooManyRows,
    #[error("social.import.not_json_array")]
    NotJsonArray,
    #[error("social.import.bad_header")]
    BadHeader,
}

impl ImportError {
    pub fn code(self) -> &'static str {
        match self {
            ImportError::TooLarge => "social.import.too_large",
            ImportError::TooManyRows => "social.import.too_many_rows",
            ImportError::NotJsonArray => "social.import.not_json_array",
            ImportError::BadHeader => "social.import.bad_header",
        }
    }
}

impl Imported {
    fn push(&mut self, row: usize, parsed: Result<MentionInput, RowErrorCode>) {
        match parsed.and_then(|i| Mention::try_from(i).map_err(RowErrorCode::Field)) {
            Ok(m) => self.mentions.push(m),
            Err(code) => self.errors.push(RowError { row, code }),
        }
    }
}

pub fn from_json(body: &[u8]) -> Result<Imported, ImportError> {
    if body.len() > MAX_BYTES {
        return Err(ImportError::TooLarge);
    }
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|_| ImportError::NotJsonArray)?;
    if rows.len() > MAX_ROWS {
        return Err(ImportError::TooManyRows);
    }
    let mut out = Imported::default();
    for (i, v) in rows.into_iter().enumerate() {
        let parsed = serde_json::from_value::<MentionInput>(v).map_err(|_| RowErrorCode::Malformed);
        out.push(i + 1, parsed);
    }
    Ok(out)
}

const COLUMNS: [&str; 7] = ["source", "author", "text", "rating", "link", "time", "id"];
const REQUIRED: [&str; 3] = ["source", "text", "time"];

pub fn from_csv(body: &[u8]) -> Result<Imported, ImportError> {
    if body.len() > MAX_BYTES {
        return Err(ImportError::TooLarge);
    }
    // A UTF-8 byte-order mark is what spreadsheet exports put first.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let header = rdr.headers().map_err(|_| ImportError::BadHeader)?.clone();
    let mut index: [Option<usize>; 7] = [None; 7];
    for (pos, name) in header.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        let col = COLUMNS
            .iter()
            .position(|c| *c == name)
            .ok_or(ImportError::BadHeader)?;
        if index[col].replace(pos).is_some() {
            return Err(ImportError::BadHeader);
        }
    }
    if REQUIRED.iter().any(|r| {
        COLUMNS
            .iter()
            .position(|c| c == r)
            .is_none_or(|i| index[i].is_none())
    }) {
        return Err(ImportError::BadHeader);
    }
    let mut out = Imported::default();
    for (i, rec) in rdr.records().enumerate() {
        if i >= MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        let parsed = match rec {
            Ok(r) if r.len() == header.len() => {
                let get = |col: usize| index[col].and_then(|p| r.get(p)).map(str::to_string);
                Ok(MentionInput {
                    source: get(0).unwrap_or_default(),
                    author: get(1).unwrap_or_default(),
                    text: get(2).unwrap_or_default(),
                    rating: get(3),
                    link: get(4),
                    time: get(5).unwrap_or_default(),
                    id: get(6),
                })
            }
            // Wrong field count, or bytes that are not UTF-8.
            _ => Err(RowErrorCode::Malformed),
        };
        out.push(i + 1, parsed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::social::mention::Source;

    #[test]
    fn json_keeps_good_rows_and_numbers_bad_ones() {
        let body = br#"[
          {"source":"x","author":"@a","text":"great nurses","time":"2026-03-01T10:00:00Z"},
          {"source":"x","text":"","time":"2026-03-01T10:00:00Z"},
          42,
          {"source":"facebook","author":"b","text":"slow pharmacy","rating":"2","time":"2026-03-02T10:00:00Z","extra":1},
          {"source":"facebook","author":"b","text":"slow pharmacy","rating":"2","time":"2026-03-02T10:00:00Z"}
        ]"#;
        let r = from_json(body).unwrap();
        assert_eq!(r.mentions.len(), 2);
        assert_eq!(r.mentions[1].source, Source::Facebook);
        assert_eq!(
            r.errors,
            [
                RowError {
                    row: 2,
                    code: RowErrorCode::Field(MentionError::TextRequired)
                },
                RowError {
                    row: 3,
                    code: RowErrorCode::Malformed
                },
                RowError {
                    row: 4,
                    code: RowErrorCode::Malformed
                },
            ]
        );
        assert_eq!(r.errors[0].code.code(), "social.mention.text_required");
    }

    #[test]
    fn json_that_is_not_an_array_fails_whole() {
        assert_eq!(from_json(b"{}"), Err(ImportError::NotJsonArray));
        assert_eq!(from_json(b"[{"), Err(ImportError::NotJsonArray));
        assert_eq!(
            from_json(&vec![b' '; MAX_BYTES + 1]),
            Err(ImportError::TooLarge)
        );
    }

    #[test]
    fn csv_with_quotes_arabic_and_bad_rows() {
        let body = "\u{feff}time,source,author,text,rating\n\
            2026-03-01T10:00:00Z,x,@a,\"Kind staff, clean rooms\",5\n\
            2026-03-01T11:00:00Z,x,@b,too few fields\n\
            2026-03-01T12:00:00Z,google_reviews,c,الانتظار طويل جدا في الطوارئ,1\n\
            not a time,x,d,hello,\n";
        let r = from_csv(body.as_bytes()).unwrap();
        assert_eq!(r.mentions.len(), 2);
        assert_eq!(r.mentions[0].text, "Kind staff, clean rooms");
        assert_eq!(r.mentions[1].rating.unwrap().get(), 1);
        assert_eq!(
            r.errors,
            [
                RowError {
                    row: 2,
                    code: RowErrorCode::Malformed
                },
                RowError {
                    row: 4,
                    code: RowErrorCode::Field(MentionError::BadTime)
                },
            ]
        );
    }

    #[test]
    fn csv_header_must_name_known_columns_once_with_the_required_ones() {
        assert_eq!(from_csv(b"source,text\n"), Err(ImportError::BadHeader));
        assert_eq!(
            from_csv(b"source,text,time,colour\n"),
            Err(ImportError::BadHeader)
        );
        assert_eq!(
            from_csv(b"source,text,time,text\n"),
            Err(ImportError::BadHeader)
        );
        let empty = from_csv(b"source,text,time\n").unwrap();
        assert!(empty.mentions.is_empty() && empty.errors.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_rows_are_accounted_for(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2_000)
        ) {
            let _ = from_json(&body);
            let mut csv = b"source,author,text,rating,link,time\n".to_vec();
            csv.extend_from_slice(&body);
            let r = from_csv(&csv).unwrap();
            let rows = r.mentions.len() + r.errors.len();
            for (i, e) in r.errors.iter().enumerate() {
                proptest::prop_assert!(e.row >= 1 && e.row <= rows, "row {} of {}", i, rows);
            }
        }
    }
}
