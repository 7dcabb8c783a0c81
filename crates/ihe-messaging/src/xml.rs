//! A small namespace-resolved element tree built with quick-xml's `NsReader`, plus output
//! escaping.
//!
//! Inbound messages are parsed into this tree once and then navigated by (namespace, local
//! name), so prefixes, default namespaces, whitespace and pretty-printing cannot change what we
//! read. The tree keeps only what SOAP/HL7v3/ebXML readers need: element names, attributes,
//! concatenated text and byte spans into the source (used to hand the raw SAML assertion on).

use std::ops::Range;

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Nesting deeper than this is not a real IHE message; refusing it bounds stack and memory use
/// for hostile input.
const MAX_DEPTH: usize = 128;
/// More elements than this in one message is refused for the same reason (the largest IHE
/// request we expect has a few hundred).
const MAX_ELEMENTS: usize = 200_000;

/// Why a byte sequence is not an XML document we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the message is not well-formed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("the message is not UTF-8 encoded")]
    NotUtf8,
    #[error("the message has no root element")]
    NoRoot,
    #[error("the message nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the message has more than {MAX_ELEMENTS} elements")]
    TooLarge,
    #[error("the prefix `{0}` is used but never declared")]
    UnknownPrefix(String),
    /// A namespace name that is not a URI reference (Namespaces in XML 1.0 §2.2): we may echo
    /// it, and strict parsers (libxml2) refuse such a document.
    #[error("a namespace name is not a URI reference (it has characters a URI cannot contain)")]
    BadNamespace,
    /// A character XML 1.0 does not allow (a control character, U+FFFE, U+FFFF), raw or as a
    /// character reference. Refused rather than carried on, so that no field we echo can make
    /// our answer ill-formed.
    #[error(
        "the message contains the character U+{code:04X} at byte {position}, which XML 1.0 does not allow"
    )]
    ForbiddenChar { position: u64, code: u32 },
}

/// XML 1.0 `Char` production (§2.2). Surrogates cannot occur in a Rust `char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character XML 1.0 forbids, with its byte offset.
fn first_forbidden(s: &str) -> Option<(usize, char)> {
    s.char_indices().find(|&(_, c)| !is_xml_char(c))
}

/// A namespace name we accept: empty (undeclaring a default namespace) or an absolute URI
/// (relative ones are deprecated by the W3C) of RFC 3986 characters: a scheme, `:`, then
/// unreserved, reserved (without `[`/`]`, which only IPv6 hosts use) and `%XX` escapes, with
/// at most one `#`. Anything else (space, `<>"{}|\^` and backquote, control characters,
/// non-ASCII) cannot be in a URI, and strict parsers refuse it in our echo.
fn is_namespace_uri(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let b = rest.as_bytes();
    let escapes_ok = b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    scheme_ok
        && escapes_ok
        && rest.matches('#').count() <= 1
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-._~:/?#@!$&'()*+,;=%".contains(&c))
}

fn forbidden(position: usize, c: char) -> XmlError {
    XmlError::ForbiddenChar {
        position: u64::try_from(position).unwrap_or(u64::MAX),
        code: u32::from(c),
    }
}

/// One attribute, with its namespace resolved (attributes without a prefix have no namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ns: String,
    pub local: String,
    pub value: String,
}

/// One element with its resolved name, attributes, children and direct text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: String,
    pub local: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Concatenation of the element's own text and CDATA children (not descendants').
    pub text: String,
    /// Byte range of the whole element in the parsed source.
    pub span: Range<usize>,
}

impl Element {
    /// True when this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns == ns
    }

    /// Unprefixed attribute by local name (the usual case for HL7 and ebXML).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Attribute in a namespace (e.g. `soap:mustUnderstand`).
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// First child `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// All children `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// Follows a path of children in one namespace.
    pub fn path(&self, ns: &str, path: &[&str]) -> Option<&Element> {
        let mut cur = self;
        for step in path {
            cur = cur.child(ns, step)?;
        }
        Some(cur)
    }

    /// Trimmed own text, `None` when empty.
    pub fn text_trimmed(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// First child element in any namespace, skipping nothing (used for SOAP Body).
    pub fn first_child(&self) -> Option<&Element> {
        self.children.first()
    }

    /// Depth-first search for the first descendant `{ns}local`.
    pub fn descendant(&self, ns: &str, local: &str) -> Option<&Element> {
        for c in &self.children {
            if c.is(ns, local) {
                return Some(c);
            }
            if let Some(found) = c.descendant(ns, local) {
                return Some(found);
            }
        }
        None
    }
}

/// Parses a whole document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(input).map_err(|_| XmlError::NotUtf8)?;
    // A UTF-8 byte order mark is legal before the XML declaration.
    let (text, bom) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    // One linear pass: raw forbidden characters anywhere make the document not well-formed.
    if let Some((at, c)) = first_forbidden(text) {
        return Err(forbidden(at + bom, c));
    }
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| XmlError::Malformed {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            ev @ (Event::Start(_) | Event::Empty(_)) if root.is_none() || !stack.is_empty() => {
                let (start, is_empty) = match ev {
                    Event::Start(s) => (s, false),
                    Event::Empty(s) => (s, true),
                    _ => continue,
                };
                let (ns, _) = reader.resolver().resolve_element(start.name());
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let ns = resolved(ns)?;
                let mut el = Element {
                    ns,
                    local: start.local_name().as_ref().to_owned(),
                    span: (before + bom)..(after + bom),
                    ..Element::default()
                };
                for attr in start.attributes().with_checks(true) {
                    let attr = attr.map_err(|e| XmlError::Malformed {
                        position: u64::try_from(before).unwrap_or(u64::MAX),
                        message: e.to_string(),
                    })?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        let uri = attr
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| XmlError::Malformed {
                                position: u64::try_from(before).unwrap_or(u64::MAX),
                                message: e.to_string(),
                            })?;
                        if !is_namespace_uri(&uri) {
                            return Err(XmlError::BadNamespace);
                        }
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(key);
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| XmlError::Malformed {
                            position: u64::try_from(before).unwrap_or(u64::MAX),
                            message: e.to_string(),
                        })?;
                    // Character references are resolved here, so check the result too.
                    if let Some((_, c)) = first_forbidden(&value) {
                        return Err(forbidden(before + bom, c));
                    }
                    el.attrs.push(Attr {
                        ns: resolved(ans)?,
                        local: local.as_ref().to_owned(),
                        value: value.into_owned(),
                    });
                }
                if is_empty {
                    attach(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::Start(_) | Event::Empty(_) => {
                return Err(XmlError::Malformed {
                    position: u64::try_from(before).unwrap_or(u64::MAX),
                    message: "a second root element follows the first".into(),
                });
            }
            Event::End(_) => {
                let Some(mut el) = stack.pop() else {
                    return Err(XmlError::Malformed {
                        position: u64::try_from(before).unwrap_or(u64::MAX),
                        message: "an end tag without a start tag".into(),
                    });
                };
                el.span.end = after + bom;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(XmlError::Malformed {
                        position: u64::try_from(before).unwrap_or(u64::MAX),
                        message: "text outside the root element".into(),
                    });
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let Some(top) = stack.last_mut() else {
                    continue;
                };
                let resolved_char = r.resolve_char_ref().map_err(|e| XmlError::Malformed {
                    position: u64::try_from(before).unwrap_or(u64::MAX),
                    message: e.to_string(),
                })?;
                if let Some(c) = resolved_char {
                    if !is_xml_char(c) {
                        return Err(forbidden(before + bom, c));
                    }
                    top.text.push(c);
                } else {
                    let name = r.xml10_content();
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(v) => top.text.push_str(v),
                        None => {
                            return Err(XmlError::Malformed {
                                position: u64::try_from(before).unwrap_or(u64::MAX),
                                message: format!("undeclared entity `&{name};`"),
                            });
                        }
                    }
                }
            }
            Event::DocType(_) => {
                // DTDs enable entity expansion attacks and are never part of SOAP (SOAP 1.2
                // Part 1 §5: a message must not contain a document type declaration).
                return Err(XmlError::Malformed {
                    position: u64::try_from(before).unwrap_or(u64::MAX),
                    message: "a document type declaration is not allowed in a SOAP message".into(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed {
            position: u64::try_from(text.len()).unwrap_or(u64::MAX),
            message: "the document ends before its elements are closed".into(),
        });
    }
    root.ok_or(XmlError::NoRoot)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn resolved(ns: ResolveResult<'_>) -> Result<String, XmlError> {
    match ns {
        ResolveResult::Bound(n) => Ok(n.as_ref().to_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(XmlError::UnknownPrefix(p)),
    }
}

/// Escapes text content and attribute values (all five predefined entities).
pub fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Re-serialises an element whose namespace is the output's default namespace `default_ns`
/// (so descendants in it get no prefix). `xsi` must be declared by the caller. Used to echo
/// HL7 `queryByParameter`: prefixes in `xsi:type` values are dropped because every HL7 data
/// type lives in the default namespace of the output.
pub fn write_element(el: &Element, default_ns: &str, out: &mut String) {
    let foreign = el.ns != default_ns;
    out.push('<');
    if foreign {
        out.push_str("n:");
    }
    out.push_str(&el.local);
    if foreign {
        out.push_str(" xmlns:n=\"");
        out.push_str(&esc(&el.ns));
        out.push('"');
    }
    // Prefixes for attributes in other namespaces, unique within this start tag (two
    // namespaces must never share a prefix, and one prefix is declared only once).
    let mut declared: Vec<(&str, String)> = Vec::new();
    for a in &el.attrs {
        out.push(' ');
        let value = if a.ns == XSI_NS {
            out.push_str("xsi:");
            if a.local == "type" {
                a.value.rsplit(':').next().unwrap_or_default().to_owned()
            } else {
                a.value.clone()
            }
        } else {
            if a.ns == XML_NS {
                out.push_str("xml:");
            } else if foreign && a.ns == el.ns {
                out.push_str("n:");
            } else if !a.ns.is_empty() {
                // Rare (foreign attributes); declare a prefix just for it.
                match declared.iter().find(|(ns, _)| *ns == a.ns) {
                    Some((_, p)) => {
                        out.push_str(p);
                        out.push(':');
                    }
                    None => {
                        let p = format!("na{}", declared.len());
                        out.push_str("xmlns:");
                        out.push_str(&p);
                        out.push_str("=\"");
                        out.push_str(&esc(&a.ns));
                        out.push_str("\" ");
                        out.push_str(&p);
                        out.push(':');
                        declared.push((&a.ns, p));
                    }
                }
            }
            a.value.clone()
        };
        out.push_str(&a.local);
        out.push_str("=\"");
        out.push_str(&esc(&value));
        out.push('"');
    }
    let text = el.text.trim();
    if el.children.is_empty() && text.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    out.push_str(&esc(text));
    for c in &el.children {
        write_element(c, default_ns, out);
    }
    out.push_str("</");
    if foreign {
        out.push_str("n:");
    }
    out.push_str(&el.local);
    out.push('>');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_whitespace_do_not_matter() {
        let a = parse(b"<a:r xmlns:a=\"urn:x\"><a:c k=\"v\">t</a:c></a:r>").unwrap();
        let b = parse(
            "\u{feff}<?xml version=\"1.0\"?>\n<r xmlns=\"urn:x\">\n  <c k=\"v\"\n>t</c>\n</r>\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(a.child("urn:x", "c").unwrap().text, "t");
        assert_eq!(b.child("urn:x", "c").unwrap().attr("k"), Some("v"));
        assert_eq!(a.children.len(), b.children.len());
    }

    #[test]
    fn references_cdata_and_spans() {
        let src = b"<r><c>a&amp;b&#x41;<![CDATA[<x>]]></c><e/></r>";
        let r = parse(src).unwrap();
        let c = &r.children[0];
        assert_eq!(c.text, "a&bA<x>");
        assert_eq!(&src[c.span.clone()], b"<c>a&amp;b&#x41;<![CDATA[<x>]]></c>");
        assert_eq!(&src[r.children[1].span.clone()], b"<e/>");
    }

    #[test]
    fn hostile_input_is_refused() {
        assert!(matches!(
            parse(b"<!DOCTYPE r><r/>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(
            parse(b"<r>&ext;</r>"),
            Err(XmlError::Malformed { .. })
        ));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        assert!(matches!(
            parse(b"<r/><r/>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse(b"<p:r/>"), Err(XmlError::UnknownPrefix(_))));
        assert_eq!(parse(b"  "), Err(XmlError::NoRoot));
    }

    #[test]
    fn characters_xml_forbids_are_refused_raw_and_as_references() {
        for doc in [
            &b"<r>a\x01b</r>"[..],
            b"<r>\x00</r>",
            "<r>\u{FFFF}</r>".as_bytes(),
            "<r a=\"\u{FFFE}\"/>".as_bytes(),
            b"<r>&#x1;</r>",
            b"<r>&#0;</r>",
            b"<r a=\"&#x1F;\"/>",
            b"<r>&#xFFFF;</r>",
            b"<r>&#xD800;</r>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        assert!(matches!(
            parse(b"<r>&#x1;</r>"),
            Err(XmlError::ForbiddenChar { code: 1, .. })
        ));
        assert_eq!(
            parse(b"<r>&#x9;&#xA;&#x10000;</r>").unwrap().text,
            "\t\n\u{10000}"
        );
    }

    #[test]
    fn namespace_names_must_be_absolute_uris() {
        for ok in [
            "",
            "urn:hl7-org:v3",
            "http://www.w3.org/2005/08/addressing",
            "urn:a%20b#f",
        ] {
            assert!(is_namespace_uri(ok), "{ok}");
        }
        for bad in [
            "*D{",
            "\"H:?",
            "]n",
            "a b:c",
            "rel/ative",
            "1x:y",
            "urn:%zz",
            "urn:a#b#c",
            "urn:é",
        ] {
            assert!(!is_namespace_uri(bad), "{bad}");
        }
        assert_eq!(parse(b"<r xmlns:z=\"]n\"/>"), Err(XmlError::BadNamespace));
    }

    #[test]
    fn attributes_of_two_foreign_namespaces_get_distinct_prefixes() {
        let r = parse(b"<q xmlns=\"urn:hl7-org:v3\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" a:x=\"1\" b:y=\"2\" a:z=\"3\"/>").unwrap();
        let mut out = String::new();
        write_element(&r, "urn:hl7-org:v3", &mut out);
        assert_eq!(
            out,
            "<q xmlns:na0=\"urn:a\" na0:x=\"1\" xmlns:na1=\"urn:b\" na1:y=\"2\" na0:z=\"3\"/>"
        );
        let back = parse(out.as_bytes()).unwrap();
        assert_eq!(back.attr_ns("urn:b", "y"), Some("2"));
    }

    #[test]
    fn echo_rewrites_into_default_namespace() {
        let r = parse(
            b"<n1:q xmlns:n1=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><n1:v xsi:type=\"n1:INT\" value=\"1\"/><o:x xmlns:o=\"urn:o\">&lt;</o:x></n1:q>",
        )
        .unwrap();
        let mut out = String::new();
        write_element(&r, "urn:hl7-org:v3", &mut out);
        assert_eq!(
            out,
            "<q><v xsi:type=\"INT\" value=\"1\"/><n:x xmlns:n=\"urn:o\">&lt;</n:x></q>"
        );
    }
}
