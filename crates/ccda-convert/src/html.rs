//! The human view: the same record model the CDA narrative is written from, as one
//! self-contained, printable page (inline CSS, no script, no external resources). Sections,
//! tables, rows and consultation outlines appear in the same order and with the same text as
//! in the document's narrative; row ids are the narrative `ID`s, so links work the same way.
//!
//! The page is XHTML-compatible (every element closed, text and attributes escaped) so it can
//! be checked with an XML parser and served as `text/html`.

use crate::DocumentSummary;
use crate::model::{Outline, OutlineItem, Section};
use crate::xml::escape_into;

const STYLE: &str = "\
body{font-family:Arial,Helvetica,sans-serif;font-size:11pt;color:#212b32;margin:1.5em auto;max-width:60em;padding:0 1em}\
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;border-bottom:2px solid #005eb8;padding-bottom:.2em;margin-top:1.6em}\
dl.patient{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:0 0 1em}dl.patient dt{font-weight:bold}dl.patient dd{margin:0}\
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}caption{text-align:left;font-weight:bold;padding:.3em 0}\
th,td{border:1px solid #aeb7bd;padding:.3em .45em;text-align:left;vertical-align:top}th{background:#f0f4f5}\
p.empty{font-style:italic}span.where{font-style:italic;color:#4c6272}a{color:#005eb8}\
@media print{body{margin:0;max-width:none;font-size:10pt}a{color:inherit;text-decoration:none}tr{page-break-inside:avoid}h2{page-break-after:avoid}}";

struct Html(String);

impl Html {
    fn text(&mut self, s: &str) {
        escape_into(&mut self.0, s, false);
    }

    fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(tag);
        for (k, v) in attrs {
            self.0.push(' ');
            self.0.push_str(k);
            self.0.push_str("=\"");
            escape_into(&mut self.0, v, true);
            self.0.push('"');
        }
        self.0.push('>');
    }

    fn close(&mut self, tag: &str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push_str(">\n");
    }

    fn leaf(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(tag, attrs);
        self.text(text);
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
    }
}

fn patient(h: &mut Html, s: &DocumentSummary) {
    let name = {
        let mut parts: Vec<&str> = s.patient_given.iter().map(String::as_str).collect();
        parts.extend(s.patient_family.as_deref());
        if parts.is_empty() {
            "Name not recorded".to_owned()
        } else {
            parts.join(" ")
        }
    };
    h.leaf("h1", &[], &name);
    h.open("dl", &[("class", "patient")]);
    let nhs = s
        .patient_nhs_number
        .as_ref()
        .map_or_else(|| "Not recorded".to_owned(), |n| n.as_str().to_owned());
    let birth = s
        .birth_date
        .as_deref()
        .map_or_else(|| "Not recorded".to_owned(), ts_display);
    let gender = match s.gender.as_deref() {
        Some("M") => "Male",
        Some("F") => "Female",
        Some(_) => "Other or unknown",
        None => "Not recorded",
    };
    let practice = match (&s.custodian_name, &s.custodian_ods_code) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => "Not recorded".to_owned(),
    };
    for (k, v) in [
        ("NHS number", nhs.as_str()),
        ("Date of birth", birth.as_str()),
        ("Gender", gender),
        ("GP practice", practice.as_str()),
        (
            "Summary created",
            &s.creation_time.format("%-d %B %Y %H:%M").to_string(),
        ),
    ] {
        h.leaf("dt", &[], k);
        h.leaf("dd", &[], v);
    }
    h.close("dl");
}

/// `YYYYMMDD` → `1 March 2019` (other precisions as given).
fn ts_display(ts: &str) -> String {
    chrono::NaiveDate::parse_from_str(ts.get(..8).unwrap_or(ts), "%Y%m%d")
        .map_or_else(|_| ts.to_owned(), |d| d.format("%-d %B %Y").to_string())
}

fn section(h: &mut Html, s: &Section) {
    h.open("section", &[]);
    h.leaf("h2", &[], s.spec.title);
    for n in &s.notes {
        h.leaf("p", &[], n);
    }
    if s.row_count() == 0 && !s.empty_text.is_empty() {
        h.leaf("p", &[("class", "empty")], &s.empty_text);
    }
    for t in s.tables.iter().filter(|t| !t.rows.is_empty()) {
        h.open("table", &[]);
        if let Some(c) = &t.caption {
            h.leaf("caption", &[], c);
        }
        h.open("thead", &[]);
        h.open("tr", &[]);
        for c in t.columns {
            h.leaf("th", &[("scope", "col")], c);
        }
        h.close("tr");
        h.close("thead");
        h.open("tbody", &[]);
        for r in &t.rows {
            h.open("tr", &[("id", &r.id)]);
            for c in &r.cells {
                match &c.id {
                    Some(id) => h.leaf("td", &[("id", id)], &c.text),
                    None => h.leaf("td", &[], &c.text),
                }
            }
            h.close("tr");
        }
        h.close("tbody");
        h.close("table");
    }
    for o in &s.outlines {
        outline(h, o);
    }
    h.close("section");
}

fn outline(h: &mut Html, o: &Outline) {
    h.open("p", &[]);
    match &o.row {
        Some(r) => h.leaf("a", &[("href", &format!("#{r}"))], &o.title),
        None => h.leaf("strong", &[], &o.title),
    }
    h.close("p");
    items(h, &o.items);
}

fn items(h: &mut Html, list: &[OutlineItem]) {
    if list.is_empty() {
        return;
    }
    h.open("ul", &[]);
    for it in list {
        h.open("li", &[]);
        match &it.link {
            Some(l) => h.leaf("a", &[("href", &format!("#{l}"))], &it.text),
            None => h.text(&it.text),
        }
        if let Some(n) = &it.note {
            h.leaf("span", &[("class", "where")], &format!(" ({n})"));
        }
        items(h, &it.children);
        h.close("li");
    }
    h.close("ul");
}

pub(crate) fn page(summary: &DocumentSummary, body: &[Section]) -> String {
    let mut h = Html(String::with_capacity(
        16 * 1024 + body.iter().map(Section::row_count).sum::<usize>() * 512,
    ));
    h.0.push_str("<!DOCTYPE html>\n");
    h.open(
        "html",
        &[
            ("xmlns", "http://www.w3.org/1999/xhtml"),
            ("lang", "en-GB"),
            ("xml:lang", "en-GB"),
        ],
    );
    h.open("head", &[]);
    h.open("meta", &[("charset", "utf-8")]);
    h.close("meta");
    h.open(
        "meta",
        &[
            ("name", "viewport"),
            ("content", "width=device-width, initial-scale=1"),
        ],
    );
    h.close("meta");
    h.leaf("title", &[], &summary.title);
    h.leaf("style", &[], STYLE);
    h.close("head");
    h.open("body", &[]);
    h.open("header", &[]);
    h.leaf("p", &[], &summary.title);
    patient(&mut h, summary);
    h.close("header");
    h.open("main", &[]);
    for s in body {
        section(&mut h, s);
    }
    h.close("main");
    h.close("body");
    h.close("html");
    h.0
}
