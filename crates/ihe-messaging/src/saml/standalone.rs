//! Cuts an element out of its document as a standalone document that means the same.
//!
//! The assertion's bytes alone are not a document: the prefixes it uses (`saml2:`, `ds:`,
//! `xsi:`) are often declared on the SOAP Envelope or the `wsse:Security` header. The
//! namespace declarations in scope at the assertion's start tag are copied onto it. Exclusive
//! canonicalisation renders only the namespaces an element visibly uses, whether declared on
//! it or inherited, so the signed bytes of the standalone assertion are the bytes signed in
//! place; and nothing outside the assertion (a wrapper, a second assertion) is left in the
//! document the signature is verified on.

use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One `xmlns` / `xmlns:p` declaration: the prefix (empty for the default namespace) and the
/// attribute value as written (still escaped, so it can be copied verbatim).
type Decl = (String, String);

/// The element at `span` of `source` as its own document, or `None` when `source` is not the
/// well-formed document `span` was taken from.
pub(super) fn document(source: &[u8], span: Range<usize>) -> Option<String> {
    let text = std::str::from_utf8(source).ok()?;
    let (text, bom) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    let start = span.start.checked_sub(bom)?;
    let end = span.end.checked_sub(bom)?;
    let element = text.get(start..end)?;
    let in_scope = in_scope_at(text, start)?;

    let own = own_declarations(element)?;
    let name_end = element
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_whitespace() || *c == '>' || *c == '/')
        .map(|(i, _)| i)?;
    let mut out = String::with_capacity(element.len() + 256);
    out.push_str(&element[..name_end]);
    for (prefix, value) in in_scope {
        if own.contains(&prefix) {
            continue;
        }
        out.push_str(" xmlns");
        if !prefix.is_empty() {
            out.push(':');
            out.push_str(&prefix);
        }
        // The value is copied as written; it was quoted with whichever quote it does not
        // contain, so the other one is safe here too.
        let quote = if value.contains('"') { '\'' } else { '"' };
        out.push('=');
        out.push(quote);
        out.push_str(&value);
        out.push(quote);
    }
    out.push_str(&element[name_end..]);
    Some(out)
}

/// The namespace declarations in scope just before byte `at` (an element's start tag), the
/// innermost declaration of each prefix only.
fn in_scope_at(text: &str, at: usize) -> Option<Vec<Decl>> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Vec<Decl>> = Vec::new();
    loop {
        let pos = usize::try_from(reader.buffer_position()).ok()?;
        if pos == at {
            break;
        }
        if pos > at {
            return None;
        }
        match reader.read_event().ok()? {
            Event::Start(s) => open.push(declarations(&s)?),
            Event::End(_) => {
                open.pop()?;
            }
            Event::Eof => return None,
            _ => {}
        }
    }
    let mut scope: Vec<Decl> = Vec::new();
    for (prefix, value) in open.into_iter().flatten() {
        match scope.iter_mut().find(|(p, _)| *p == prefix) {
            Some(slot) => slot.1 = value,
            None => scope.push((prefix, value)),
        }
    }
    // `xmlns=""` undeclares the default namespace: nothing to copy for it.
    scope.retain(|(p, v)| !(p.is_empty() && v.is_empty()));
    Some(scope)
}

/// The prefixes the element's own start tag declares.
fn own_declarations(element: &str) -> Option<Vec<String>> {
    let mut reader = Reader::from_str(element);
    loop {
        match reader.read_event().ok()? {
            Event::Start(s) | Event::Empty(s) => {
                return Some(declarations(&s)?.into_iter().map(|(p, _)| p).collect());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn declarations(start: &BytesStart<'_>) -> Option<Vec<Decl>> {
    let mut out = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.ok()?;
        let key = attr.key.as_ref();
        if key == "xmlns" {
            out.push((String::new(), attr.value.into_owned()));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            out.push((prefix.to_owned(), attr.value.into_owned()));
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cut(doc: &str, needle: &str, end_tag: &str) -> String {
        let start = doc.find(needle).unwrap();
        let end = doc.rfind(end_tag).unwrap() + end_tag.len();
        document(doc.as_bytes(), start..end).unwrap()
    }

    #[test]
    fn inherited_declarations_are_copied_and_own_ones_win() {
        let doc = r#"<e:Env xmlns:e="urn:env" xmlns:s="urn:outer" xmlns="urn:default"><h xmlns:s="urn:saml" xmlns:x='a"b'><s:A xmlns:x="urn:own" ID="1"><s:B/></s:A></h></e:Env>"#;
        let a = cut(doc, "<s:A", "</s:A>");
        assert_eq!(
            a,
            r#"<s:A xmlns:e="urn:env" xmlns:s="urn:saml" xmlns="urn:default" xmlns:x="urn:own" ID="1"><s:B/></s:A>"#
        );
        assert!(crate::xml::parse(a.as_bytes()).is_ok());
    }

    #[test]
    fn siblings_declarations_are_not_in_scope() {
        let doc = r#"<r><p xmlns:z="urn:z"/><q xmlns:y="urn:y"></q><a:A xmlns:a="urn:a"/></r>"#;
        let a = cut(doc, "<a:A", "/>");
        assert_eq!(a, r#"<a:A xmlns:a="urn:a"/>"#);
    }

    #[test]
    fn a_span_that_is_not_a_start_tag_is_refused() {
        let doc = r#"<r><a/></r>"#;
        assert!(document(doc.as_bytes(), 1..5).is_none());
    }
}
