//! MTOM/XOP (`multipart/related; type="application/xop+xml"`) reading and writing.
//!
//! A small synchronous parser rather than `multer`: the gateway already holds the whole body
//! (axum `Bytes`), multer is stream/async-oriented, and MTOM needs only part splitting, three
//! headers and `cid:` resolution (RFC 2387, RFC 2392, W3C XOP).

use std::collections::HashMap;

/// Why an MTOM body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtomError {
    #[error("the multipart Content-Type has no boundary parameter")]
    NoBoundary,
    #[error("the multipart body has no part delimited by its boundary")]
    NoParts,
    #[error("a MIME part has no blank line between its headers and content")]
    BadPart,
    #[error("the start parameter names Content-ID {0}, which no part has")]
    NoStartPart(String),
    #[error("the multipart type is `{0}`, expected application/xop+xml")]
    NotXop(String),
    #[error(
        "the multipart boundary is {0} characters long; RFC 2046 allows 1 to {MAX_BOUNDARY_LEN}"
    )]
    BadBoundary(usize),
}

/// RFC 2046 §5.1.1: `boundary := 0*69<bchars> bcharsnospace`, so 1 to 70 characters. Holding
/// to it also bounds the cost of every delimiter search.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// A parsed `multipart/related` MTOM package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtomPackage {
    /// The root part: the SOAP envelope (XOP infoset with `xop:Include` references).
    pub root: Vec<u8>,
    /// Other parts by Content-ID (without angle brackets).
    pub attachments: HashMap<String, Attachment>,
}

/// One non-root MIME part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Media type (lower-cased, without parameters) and its parameters (names lower-cased,
/// values unquoted).
pub fn parse_content_type(value: &str) -> (String, HashMap<String, String>) {
    let mut parts = split_params(value).into_iter();
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut params = HashMap::new();
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            params.insert(k.trim().to_ascii_lowercase(), v.replace("\\\"", "\""));
        }
    }
    (media, params)
}

/// Splits on `;` outside quoted strings.
fn split_params(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                cur.push(c);
            }
            '\\' if quoted => {
                escaped = true;
                cur.push(c);
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn strip_angle(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s)
}

/// Linear-time substring search (memchr's Two-Way/SIMD `memmem`): no input can make it
/// quadratic, unlike a naive window scan.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    memchr::memmem::find(&hay[from..], needle).map(|p| p + from)
}

/// Parses an MTOM body given the parameters of its Content-Type.
pub fn parse(body: &[u8], params: &HashMap<String, String>) -> Result<MtomPackage, MtomError> {
    let boundary = params.get("boundary").ok_or(MtomError::NoBoundary)?;
    if let Some(t) = params.get("type")
        && !t.eq_ignore_ascii_case("application/xop+xml")
    {
        return Err(MtomError::NotXop(t.clone()));
    }
    let blen = boundary.chars().count();
    if blen == 0 || blen > MAX_BOUNDARY_LEN {
        return Err(MtomError::BadBoundary(blen));
    }
    let delim = format!("--{boundary}").into_bytes();
    // Built once: every delimiter search after the first reuses its preprocessing.
    let finder = memchr::memmem::Finder::new(&delim);
    let find_delim = |from: usize| finder.find(body.get(from..)?).map(|p| p + from);
    let mut pos = find_delim(0).ok_or(MtomError::NoParts)?;
    let mut parts: Vec<(HashMap<String, String>, Vec<u8>)> = Vec::new();
    loop {
        let after = pos + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        // Skip transport padding and the line break after the delimiter.
        let Some(line_end) = body.get(after..).and_then(|b| memchr::memchr(b'\n', b)) else {
            break;
        };
        let start = after + line_end + 1;
        let Some(next) = find_delim(start) else {
            break;
        };
        // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        let mut end = next;
        if end >= 1 && body[end - 1] == b'\n' {
            end -= 1;
            if end >= 1 && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        let part = body.get(start..end.max(start)).unwrap_or_default();
        parts.push(split_part(part)?);
        pos = next;
    }
    if parts.is_empty() {
        return Err(MtomError::NoParts);
    }
    let root_idx = match params.get("start") {
        Some(start) => {
            let want = strip_angle(start);
            parts
                .iter()
                .position(|(h, _)| h.get("content-id").map(|c| strip_angle(c)) == Some(want))
                .ok_or_else(|| MtomError::NoStartPart(want.to_owned()))?
        }
        None => 0,
    };
    let mut attachments = HashMap::new();
    let mut root = Vec::new();
    for (i, (headers, content)) in parts.into_iter().enumerate() {
        if i == root_idx {
            root = content;
        } else if let Some(id) = headers.get("content-id") {
            attachments.insert(
                strip_angle(id).to_owned(),
                Attachment {
                    content_type: headers.get("content-type").cloned(),
                    bytes: content,
                },
            );
        }
    }
    Ok(MtomPackage { root, attachments })
}

fn split_part(part: &[u8]) -> Result<(HashMap<String, String>, Vec<u8>), MtomError> {
    let (head_end, body_start) = match (find(part, b"\r\n\r\n", 0), find(part, b"\n\n", 0)) {
        (Some(a), Some(b)) if b < a => (b, b + 2),
        (Some(a), _) => (a, a + 4),
        (None, Some(b)) => (b, b + 2),
        // A part may legally have no headers at all: then it starts with the blank line.
        (None, None) if part.starts_with(b"\r\n") => (0, 2),
        (None, None) => return Err(MtomError::BadPart),
    };
    let head = String::from_utf8_lossy(&part[..head_end]);
    let mut headers = HashMap::new();
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    Ok((headers, part[body_start..].to_vec()))
}

/// Resolves an `xop:Include/@href` (`cid:` URL, RFC 2392: percent-encoded) to a Content-ID.
pub fn cid_to_content_id(href: &str) -> Option<String> {
    let rest = href.trim().strip_prefix("cid:")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = rest.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// One part to write after the root.
pub(crate) struct OutPart<'a> {
    pub content_id: String,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Writes a `multipart/related` MTOM package; returns (Content-Type header value, body).
pub(crate) fn write(
    boundary: &str,
    root_id: &str,
    soap_action: &str,
    envelope: &str,
    parts: &[OutPart<'_>],
) -> (String, Vec<u8>) {
    let content_type = format!(
        "multipart/related; boundary=\"{boundary}\"; type=\"application/xop+xml\"; \
         start=\"<{root_id}>\"; start-info=\"application/soap+xml\"; action=\"{soap_action}\""
    );
    let mut body = Vec::with_capacity(
        envelope.len() + parts.iter().map(|p| p.bytes.len()).sum::<usize>() + 512,
    );
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        format!(
            "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; action=\"{soap_action}\"\r\n\
             Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(envelope.as_bytes());
    for p in parts {
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Type: {}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{}>\r\n\r\n",
                p.content_type, p.content_id
            )
            .as_bytes(),
        );
        body.extend_from_slice(p.bytes);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (content_type, body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_type_params_are_unquoted_and_case_folded() {
        let (m, p) = parse_content_type(
            r#"Multipart/Related; Boundary="a;b"; type="application/xop+xml"; start="<r@x>""#,
        );
        assert_eq!(m, "multipart/related");
        assert_eq!(p["boundary"], "a;b");
        assert_eq!(p["start"], "<r@x>");
    }

    #[test]
    fn round_trip_with_binary_attachment() {
        let bin: Vec<u8> = (0u8..=255).chain(b"\r\n--b\r\n".iter().copied()).collect();
        let (ct, body) = write(
            "MIMEBoundary_x1",
            "root@x",
            "urn:a",
            "<e/>",
            &[OutPart {
                content_id: "doc 1@x".into(),
                content_type: "text/xml",
                bytes: &bin,
            }],
        );
        let (_, params) = parse_content_type(&ct);
        let pkg = parse(&body, &params).unwrap();
        assert_eq!(pkg.root, b"<e/>");
        assert_eq!(pkg.attachments["doc 1@x"].bytes, bin);
        assert_eq!(cid_to_content_id("cid:doc%201@x").unwrap(), "doc 1@x");
    }

    #[test]
    fn boundaries_longer_than_rfc_2046_allows_are_refused() {
        let b = "a".repeat(71);
        let (_, params) = parse_content_type(&format!("multipart/related; boundary={b}"));
        let body = format!("--{b}\r\n\r\n<e/>\r\n--{b}--");
        assert_eq!(
            parse(body.as_bytes(), &params),
            Err(MtomError::BadBoundary(71))
        );
        let (_, params) = parse_content_type("multipart/related; boundary=\"\"");
        assert_eq!(parse(b"--\r\n", &params), Err(MtomError::BadBoundary(0)));
        let b = "a".repeat(70);
        let (_, params) = parse_content_type(&format!("multipart/related; boundary={b}"));
        let body = format!("--{b}\r\n\r\n<e/>\r\n--{b}--");
        assert_eq!(parse(body.as_bytes(), &params).unwrap().root, b"<e/>");
    }

    #[test]
    fn lf_only_line_breaks_are_accepted() {
        let body = b"--b\nContent-ID: <r>\n\n<e/>\n--b--\n";
        let (_, params) = parse_content_type("multipart/related; boundary=b");
        assert_eq!(parse(body, &params).unwrap().root, b"<e/>");
    }
}
