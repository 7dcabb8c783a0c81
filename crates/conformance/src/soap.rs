//! Pulling the payload out of a SOAP envelope for schema validation.
//!
//! `xmllint --xpath` drops namespace declarations made on the Envelope or Body, which real
//! traffic (and our own responses) use; this copies the Body's first child and re-declares
//! every namespace in scope on it.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The local name of the document's root element.
pub(crate) fn root_local_name(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Some(e.local_name().as_ref().to_owned());
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

/// A namespace-complete copy of the first element inside `soap:Body`. Panics (this is test
/// support) if the envelope has no Body child.
pub fn soap_body_child(envelope: &str) -> String {
    try_soap_body_child(envelope).unwrap_or_else(|e| panic!("soap_body_child: {e}"))
}

fn try_soap_body_child(envelope: &str) -> Result<String, String> {
    let mut reader = Reader::from_str(envelope);
    // Namespace declarations of the open ancestors, innermost last.
    let mut scopes: Vec<Vec<(String, String)>> = Vec::new();
    let mut in_body_depth: Option<usize> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                let decls = ns_decls(&e);
                if in_body_depth.is_some_and(|d| d == scopes.len()) {
                    return copy_with_scope(envelope, before, &mut reader, &scopes, &decls, false);
                }
                scopes.push(decls);
                if e.local_name().as_ref() == "Body" && in_body_depth.is_none() {
                    in_body_depth = Some(scopes.len());
                }
            }
            Event::Empty(e) if in_body_depth.is_some_and(|d| d == scopes.len()) => {
                let decls = ns_decls(&e);
                return copy_with_scope(envelope, before, &mut reader, &scopes, &decls, true);
            }
            Event::End(_) => {
                scopes.pop();
            }
            Event::Eof => return Err("no element inside soap:Body".into()),
            _ => {}
        }
    }
}

fn ns_decls(e: &quick_xml::events::BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .filter(|a| a.key.as_ref() == "xmlns" || a.key.as_ref().starts_with("xmlns:"))
        .map(|a| (a.key.as_ref().to_owned(), a.value.clone().into_owned()))
        .collect()
}

fn copy_with_scope(
    src: &str,
    start: usize,
    reader: &mut Reader<&[u8]>,
    scopes: &[Vec<(String, String)>],
    own: &[(String, String)],
    empty: bool,
) -> Result<String, String> {
    let start_tag_end = reader.buffer_position() as usize;
    let end = if empty {
        start_tag_end
    } else {
        let mut depth = 1usize;
        loop {
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        break reader.buffer_position() as usize;
                    }
                }
                Event::Eof => return Err("unterminated Body child".into()),
                _ => {}
            }
        }
    };
    // Inherited declarations, inner scopes winning, minus those the element redeclares.
    let mut inherited: Vec<(String, String)> = Vec::new();
    for scope in scopes.iter().rev() {
        for (k, v) in scope {
            if !own.iter().any(|(ok, _)| ok == k) && !inherited.iter().any(|(ik, _)| ik == k) {
                inherited.push((k.clone(), v.clone()));
            }
        }
    }
    let element = &src[start..end];
    let name_end = element
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .ok_or("malformed start tag")?;
    let mut out = String::with_capacity(element.len() + 256);
    out.push_str(&element[..name_end]);
    for (k, v) in inherited {
        out.push(' ');
        out.push_str(&k);
        out.push_str("=\"");
        out.push_str(&v);
        out.push('"');
    }
    out.push_str(&element[name_end..]);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn redeclares_envelope_namespaces_on_the_body_child() {
        let env = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:q="urn:q"><s:Header/><s:Body><q:Req a="1"><q:x/></q:Req></s:Body></s:Envelope>"#;
        let body = soap_body_child(env);
        assert!(body.starts_with("<q:Req "), "{body}");
        assert!(body.contains(" xmlns:q=\"urn:q\""), "{body}");
        assert!(body.ends_with("</q:Req>"));
    }

    #[test]
    fn root_name() {
        assert_eq!(
            root_local_name("<?xml version=\"1.0\"?><a:B xmlns:a=\"x\"/>").unwrap(),
            "B"
        );
    }
}
