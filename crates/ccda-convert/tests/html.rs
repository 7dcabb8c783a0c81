//! The HTML view shows the same record as the CDA narrative: the same sections in the same
//! order, the same paragraphs, table rows (ids) and cell texts, the same consultation links;
//! it is well-formed XHTML, self-contained (no script, no external resource) and escapes
//! what the GP record says.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Expect, all_fixtures, convert, expectation, fixture};
use quick_xml::events::Event;

/// The narrative as a flat sequence: section titles, paragraphs, captions, header cells,
/// rows (their id), cells and links, with whitespace normalised. `start` is the element
/// after which the record's sections begin (`structuredBody` / `main`).
fn flatten(xml: &str, start: &str, html: bool) -> Vec<String> {
    let map = |n: &str| -> Option<&'static str> {
        Some(match (n, html) {
            ("title", false) | ("h2", true) => "title",
            ("paragraph", false) | ("p", true) => "para",
            ("caption", _) => "caption",
            ("th", _) => "head",
            ("td", _) => "cell",
            ("tr", _) => "row",
            ("linkHtml", false) | ("a", true) => "link",
            _ => return None,
        })
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut open: Vec<(Option<&'static str>, String, String)> = Vec::new();
    let mut started = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if name == start {
                    started = true;
                }
                let attr = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.value.into_owned())
                        .unwrap_or_default()
                };
                let kind = if started { map(&name) } else { None };
                let key = match kind {
                    Some("row") => attr(if html { "id" } else { "ID" }),
                    Some("link") => attr("href"),
                    _ => String::new(),
                };
                open.push((kind, key, String::new()));
            }
            Event::Text(t) => {
                let s: String = (*t).to_owned();
                for o in open.iter_mut().filter(|o| o.0.is_some()) {
                    o.2.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let s = format!("&{};", &*r);
                for o in open.iter_mut().filter(|o| o.0.is_some()) {
                    o.2.push_str(&s);
                }
            }
            Event::End(_) => {
                let (kind, key, text) = open.pop().unwrap();
                if let Some(k) = kind {
                    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    out.push(if k == "row" {
                        format!("row {key}")
                    } else {
                        format!("{k} {key} {text}")
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn the_html_view_has_the_narrative_of_every_fixture() {
    let mut checked = 0;
    for p in all_fixtures()
        .into_iter()
        .filter(|p| expectation(p) == Expect::Converts)
    {
        let out = convert(&std::fs::read(&p).unwrap());
        let html = out.html();
        let cda = flatten(&out.xml, "structuredBody", false);
        let view = flatten(&html, "main", true);
        assert_eq!(cda, view, "{}", common::short(&p));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"lang="en-GB""#));
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"));
        checked += cda.iter().filter(|l| l.starts_with("row ")).count();
    }
    assert!(checked > 1000, "only {checked} rows compared");
}

#[test]
fn the_html_view_is_well_formed_and_printable() {
    let out = convert(&fixture("gp2gp/gpc-access-structured.json"));
    let html = out.html();
    conformance::well_formed(&html).assert_ok();
    assert!(html.contains("@media print"));
    for t in [
        "Encounters",
        "Consultation notes",
        "Plan of treatment",
        "About this record",
    ] {
        assert!(html.contains(&format!("<h2>{t}</h2>")), "{t}");
    }
}

#[test]
fn the_html_view_escapes_the_record() {
    let bundle = r#"{"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Patient","id":"p","name":[{"family":"O'Brien <b>","given":["Ann & Co"]}]}},
      {"resource":{"resourceType":"List","id":"l","code":{"coding":[{"system":"http://snomed.info/sct","code":"714311000000108"}]},
        "entry":[{"item":{"reference":"ProcedureRequest/d"}}]}},
      {"resource":{"resourceType":"ProcedureRequest","id":"d","status":"active","intent":"plan",
        "code":{"text":"<script>alert(1)</script> review"},"occurrenceDateTime":"2030-01-02"}}]}"#;
    let out = convert(bundle.as_bytes());
    let html = out.html();
    conformance::well_formed(&html).assert_ok();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; review"));
    assert!(html.contains("Ann &amp; Co O'Brien &lt;b&gt;"));
}
