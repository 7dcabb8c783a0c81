//! Writes the record model as a CDA document.

use fhir_stu3::Bundle;

use crate::header::{self, HeaderFacts};
use crate::ids::Ids;
use crate::model::{Entry, Section};
use crate::sections::{
    self, Build, allergies, consultations, immunizations, medications, notes, plan, problems,
};
use crate::xml::Xml;
use crate::{ConversionReport, ConvertOptions, Converted, cda};

pub(crate) fn document(bundle: &Bundle, opts: &ConvertOptions) -> Converted {
    let mut report = ConversionReport {
        unplaced: Vec::new(),
        warnings: bundle.warnings.iter().map(ToString::to_string).collect(),
    };
    let facts = HeaderFacts::gather(bundle, &mut report.warnings);
    let scope = match &facts.nhs_number {
        Some(n) => n.as_str().to_owned(),
        None => format!(
            "Patient/{}",
            facts.patient.base.id.as_deref().unwrap_or("?")
        ),
    };
    let mut b = Build::new(bundle, Ids::new(scope));
    let body = sections::build_all(&mut b, &facts);
    let set_id = facts.set_id(&b.ids);
    let range = b.dates.range();

    let mut x =
        Xml::with_capacity(32 * 1024 + body.iter().map(|s| s.entries.len()).sum::<usize>() * 4096);
    header::write(&mut x, &facts, opts, set_id, &range);
    x.open("component", &[]);
    x.open("structuredBody", &[]);
    for s in &body {
        section(&mut x, s);
    }
    x.close("structuredBody");
    x.close("component");
    x.close("ClinicalDocument");

    report.warnings.append(&mut b.warnings);
    report.warnings.append(&mut b.ids.warnings);
    report.unplaced = std::mem::take(&mut b.unplaced);
    let summary = facts.summary(opts, set_id, range);
    Converted {
        xml: x.finish(),
        report,
        summary,
        body,
    }
}

fn section(x: &mut Xml, s: &Section) {
    x.open("component", &[]);
    if s.entries.is_empty() && s.spec.entries_required {
        x.open("section", &[("nullFlavor", "NI")]);
    } else {
        x.open("section", &[]);
    }
    if let Some(t) = s.spec.template {
        cda::template(x, t);
    }
    if let Some((code, display)) = s.spec.code {
        cda::code(x, code, crate::oids::LOINC, "LOINC", display);
    }
    x.leaf("title", &[], s.spec.title);
    x.open("text", &[]);
    for n in &s.notes {
        x.leaf("paragraph", &[], n);
    }
    if s.row_count() == 0 && !s.empty_text.is_empty() {
        x.leaf("paragraph", &[], &s.empty_text);
    }
    for t in s.tables.iter().filter(|t| !t.rows.is_empty()) {
        x.open("table", &[("border", "1"), ("width", "100%")]);
        if let Some(c) = &t.caption {
            x.leaf("caption", &[], c);
        }
        x.open("thead", &[]);
        x.open("tr", &[]);
        for c in t.columns {
            x.leaf("th", &[], c);
        }
        x.close("tr");
        x.close("thead");
        x.open("tbody", &[]);
        for r in &t.rows {
            x.open("tr", &[("ID", &r.id)]);
            for c in &r.cells {
                match &c.id {
                    Some(id) => x.leaf("td", &[("ID", id)], &c.text),
                    None => x.leaf("td", &[], &c.text),
                }
            }
            x.close("tr");
        }
        x.close("tbody");
        x.close("table");
    }
    for o in &s.outlines {
        outline(x, o);
    }
    x.close("text");
    for e in &s.entries {
        x.open("entry", &[("typeCode", "DRIV")]);
        match e {
            Entry::Allergy(a) => allergies::render(x, a),
            Entry::Medication(m) => medications::render(x, m),
            Entry::Problem(p) => problems::render(x, p),
            Entry::Immunization(i) => immunizations::render(x, i),
            Entry::Encounter(e) => consultations::render(x, e),
            Entry::Note(n) => notes::render(x, n),
            Entry::Plan(p) => plan::render(x, p),
            Entry::Organizer(o) => sections::organizer::render(x, o),
            Entry::Observation(o) => sections::social::render(x, o),
            Entry::Finding(f) => sections::findings::render(x, f),
        }
        x.close("entry");
    }
    x.close("section");
    x.close("component");
}

/// A consultation's topics and headings: nested lists whose items link to the rows that
/// show them (`linkHtml`), with the section named after the link.
fn outline(x: &mut Xml, o: &crate::model::Outline) {
    x.open("paragraph", &[]);
    match &o.row {
        Some(r) => x.leaf("linkHtml", &[("href", &format!("#{r}"))], &o.title),
        None => x.leaf("content", &[("styleCode", "Bold")], &o.title),
    }
    x.close("paragraph");
    outline_items(x, &o.items);
}

fn outline_items(x: &mut Xml, items: &[crate::model::OutlineItem]) {
    if items.is_empty() {
        return;
    }
    x.open("list", &[("listType", "unordered")]);
    for it in items {
        x.open("item", &[]);
        match &it.link {
            Some(l) => x.leaf("linkHtml", &[("href", &format!("#{l}"))], &it.text),
            None => x.leaf("content", &[], &it.text),
        }
        if let Some(n) = &it.note {
            x.leaf("content", &[("styleCode", "Italics")], &format!(" ({n})"));
        }
        outline_items(x, &it.children);
        x.close("item");
    }
    x.close("list");
}
