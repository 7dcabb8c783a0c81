//! Keyset paging over HTTP for the newest-first lists (`GET /api/integrations/events`,
//! `GET /api/journeys`, and the UI's tables): opaque cursors and the next-page headers. The
//! positions themselves are `px360_store::page::Cursor`.

use crate::error::{ApiError, ApiResult};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use px360_domain::event::FieldError;
use px360_store::page::Cursor;

/// Keyset paging of the list endpoints (`GET /api/integrations/events`, `GET /api/journeys`).
///
/// A cursor is base64url (no padding) of a [`Cursor`] key: a storage timestamp and a row id,
/// never patient data. It only says where the next page starts; the caller's scope filter is
/// applied to every page, so a cursor taken from anywhere shows nothing outside that scope. The
/// next page is announced in headers (`Link: <…>; rel="next"` and `X-Next-Cursor`, both absent
/// on the last page) so that the body stays the plain JSON array it always was.
pub fn encode_cursor(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(c.key())
}

/// A cursor issued by [`encode_cursor`], or `None` for anything else.
pub fn decode_cursor(s: &str) -> Option<Cursor> {
    // An issued cursor is under 100 characters; longer input is not worth decoding.
    if s.len() > 256 {
        return None;
    }
    let key = URL_SAFE_NO_PAD.decode(s).ok()?;
    Cursor::from_key(std::str::from_utf8(&key).ok()?)
}

/// The `before` query parameter: absent, or a cursor this API issued; anything else is a field
/// error naming `before` (the handlers answer 422 with it, next to their other field errors).
pub(crate) fn before_param(before: Option<&str>) -> Result<Option<Cursor>, FieldError> {
    before
        .map(|s| {
            decode_cursor(s).ok_or_else(|| {
                FieldError::new(
                    "before",
                    "is not a cursor issued by this list (take it from the X-Next-Cursor or Link header of the previous page)",
                )
            })
        })
        .transpose()
}

/// `Link: <path?filters&before=…&limit=…>; rel="next"` and `X-Next-Cursor` for the page after
/// this one; no headers on the last page. `filters` are the list's other query parameters, so
/// the link continues the same list.
pub(crate) fn next_page_headers(
    path: &str,
    filters: &[(&str, Option<&str>)],
    next: Option<&Cursor>,
    limit: i64,
) -> ApiResult<HeaderMap> {
    let mut h = HeaderMap::new();
    let Some(next) = next else {
        return Ok(h);
    };
    let cursor = encode_cursor(next);
    let mut query: Vec<String> = filters
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", query_escape(v))))
        .collect();
    query.push(format!("before={cursor}"));
    query.push(format!("limit={limit}"));
    let link = format!("<{path}?{}>; rel=\"next\"", query.join("&"));
    // Every part is ASCII by construction (escaped values, base64url, digits).
    let value = |v: String| {
        HeaderValue::try_from(v).map_err(|e| ApiError::internal(format!("paging header: {e}")))
    };
    h.insert(header::LINK, value(link)?);
    h.insert(HeaderName::from_static("x-next-cursor"), value(cursor)?);
    Ok(h)
}

/// Percent-encoding of a query value (RFC 3986 unreserved characters pass unchanged).
fn query_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor::new(
            "2025-03-01T10:00:00.000000Z",
            "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        )
    }

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let c = cursor();
        let s = encode_cursor(&c);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{s}"
        );
        assert_eq!(decode_cursor(&s), Some(c));
        for bad in ["", "!!", "aGVsbG8", &format!("{s}=="), &"A".repeat(300)] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
        let e = before_param(Some("nope")).unwrap_err();
        assert_eq!(e.field, "before");
        assert_eq!(before_param(None).unwrap(), None);
    }

    #[test]
    fn next_page_headers_keep_the_filters() {
        let c = cursor();
        let h = next_page_headers(
            "/api/journeys",
            &[("patient_id", Some("a b&c/é")), ("status", None)],
            Some(&c),
            20,
        )
        .unwrap();
        let enc = encode_cursor(&c);
        assert_eq!(
            h[header::LINK],
            format!(
                "</api/journeys?patient_id=a%20b%26c%2F%C3%A9&before={enc}&limit=20>; rel=\"next\""
            )
        );
        assert_eq!(h["x-next-cursor"], enc.as_str());
        // The last page: no headers at all.
        let h = next_page_headers("/api/journeys", &[], None, 20).unwrap();
        assert!(h.is_empty());
    }
}
