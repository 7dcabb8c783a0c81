//! Uncategorised observations with a vital-sign meaning → Vital Signs Section (entries
//! required): one Vital Signs Organizer (4.26) per time of measurement, one Vital Sign
//! Observation (4.27) per reading, coded in LOINC (`vital_codes.rs`) with the GP's SNOMED CT
//! code as a translation. A blood pressure panel becomes its systolic and diastolic readings.
//! Only a reading with a number in the unit the vital sign is measured in counts: anything
//! else stays with the other observations in Results.

use fhir_stu3::{List, Observation, ObservationValue};

use crate::cda::{self, Code, Coded};
use crate::codesystems;
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::sections::observation::{self, Obs, Pq, Unit, Value};
use crate::sections::organizer::{Kind, Organizer};
use crate::sections::vital_codes::{self, Vital};
use crate::sections::{Build, list_notes};
use crate::templates;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::VITAL_SIGNS_SECTION),
    code: Some(("8716-3", "Vital signs")),
    title: "Vital signs",
    entries_required: true,
};

const COLUMNS: &[&str] = &["Date", "Vital sign", "Value", "Interpretation", "Comments"];

fn snomed(cc: Option<&fhir_stu3::CodeableConcept>) -> Option<&str> {
    cc.and_then(|c| c.code_in("http://snomed.info/sct"))
        .map(str::trim)
}

/// A reading in the unit its vital sign is measured in.
fn reading(
    code: Option<&fhir_stu3::CodeableConcept>,
    value: Option<&ObservationValue>,
) -> Option<(Vital, Pq)> {
    let v = vital_codes::vital(snomed(code)?)?;
    let Some(ObservationValue::Quantity(q)) = value else {
        return None;
    };
    if q.comparator.is_some() {
        return None;
    }
    let pq = observation::pq_of(q)?;
    match &pq.unit {
        Unit::Ucum(u) if vital_codes::expected_unit(v, u) => Some((v, pq)),
        _ => None,
    }
}

fn bp_components(o: &Observation) -> Vec<(usize, Vital, Pq)> {
    o.component
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (v, pq) = reading(c.code.as_ref(), c.value.as_ref())?;
            (v == vital_codes::SYSTOLIC || v == vital_codes::DIASTOLIC).then_some((i, v, pq))
        })
        .collect()
}

/// Whether an observation is a vital-sign reading (or a blood pressure panel of readings).
pub(crate) fn is_vital_sign(o: &Observation) -> bool {
    if snomed(o.code.as_ref()).is_some_and(vital_codes::is_bp_panel) {
        return !bp_components(o).is_empty();
    }
    reading(o.code.as_ref(), o.value.as_ref()).is_some()
}

fn loinc(v: Vital, source: &Coded) -> Coded {
    let mut translations: Vec<Code> = source.primary.iter().cloned().collect();
    translations.extend(source.translations.iter().cloned());
    Coded {
        primary: Some(Code {
            code: v.loinc.to_owned(),
            system: codesystems::lookup("http://loinc.org").unwrap_or(codesystems::CodeSystem {
                oid: std::borrow::Cow::Borrowed(crate::oids::LOINC),
                name: "LOINC",
            }),
            display: Some(v.display.to_owned()),
        }),
        translations,
        text: source.text.clone().or_else(|| Some(v.display.to_owned())),
        null_flavor: "UNK",
    }
}

/// One reading to write: the observation it comes from and what it measured.
struct Reading<'a> {
    res: &'a fhir_stu3::Resource,
    o: &'a Observation,
    role: String,
    source: Coded,
    vital: Vital,
    pq: Pq,
    comment: Option<&'a str>,
}

pub(crate) fn build(
    b: &mut Build<'_>,
    obs: &[(&fhir_stu3::Resource, &Observation)],
    lists: &[&List],
) -> Section {
    let mut section = Section::new(SPEC);
    let (notes, _) = list_notes(lists);
    section.notes = notes;
    section.empty_text = if lists.is_empty() {
        "No vital signs are recorded in the parts of the GP record sent.".into()
    } else {
        "No vital signs are recorded in the GP record.".into()
    };
    let mut readings: Vec<Reading<'_>> = Vec::new();
    for &(res, o) in obs {
        let comment = o.comment.as_deref().filter(|c| !c.trim().is_empty());
        if snomed(o.code.as_ref()).is_some_and(vital_codes::is_bp_panel) {
            for (k, (i, v, pq)) in bp_components(o).into_iter().enumerate() {
                readings.push(Reading {
                    res,
                    o,
                    role: format!("component-{i}"),
                    source: Coded::from_concept(o.component[i].code.as_ref()),
                    vital: v,
                    pq,
                    comment: if k == 0 { comment } else { None },
                });
            }
        } else if let Some((v, pq)) = reading(o.code.as_ref(), o.value.as_ref()) {
            readings.push(Reading {
                res,
                o,
                role: String::new(),
                source: Coded::from_concept(o.code.as_ref()),
                vital: v,
                pq,
                comment,
            });
        }
    }
    // Readings taken at the same time form one organizer, as in HL7's examples.
    let mut groups: Vec<(String, Vec<Reading<'_>>)> = Vec::new();
    for r in readings {
        let when =
            r.o.effective
                .as_ref()
                .map_or("", |d| d.raw.as_str())
                .to_owned();
        match groups.iter_mut().find(|(w, _)| *w == when) {
            Some((_, g)) => g.push(r),
            None => groups.push((when, vec![r])),
        }
    }
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    let mut n = 0;
    for (_, group) in groups {
        let first = group[0].o;
        let mut components = Vec::with_capacity(group.len());
        for r in &group {
            n += 1;
            let row_id = format!("vital-{n}");
            b.link(r.res, &row_id, SPEC.title);
            let effective = r.o.effective.clone().or_else(|| r.o.issued.clone());
            b.dates.add(effective.as_ref());
            let code_ref = format!("{row_id}-name");
            let comment_ref = r.comment.map(|_| format!("{row_id}-comment"));
            let interpretation = observation::interpretation(r.o.interpretation.as_ref());
            table.rows.push(Row {
                id: row_id.clone(),
                cells: vec![
                    Cell::plain(cda::date_text(effective.as_ref())),
                    Cell::with_id(
                        r.source
                            .text
                            .clone()
                            .unwrap_or_else(|| r.vital.display.to_owned()),
                        code_ref.clone(),
                    ),
                    Cell::plain(r.pq.text()),
                    Cell::plain(observation::interpretation_text(
                        r.o.interpretation.as_ref(),
                    )),
                    match (r.comment, &comment_ref) {
                        (Some(c), Some(id)) => Cell::with_id(c.trim(), id.clone()),
                        _ => Cell::plain(""),
                    },
                ],
            });
            components.push(Obs {
                id: b.ids.for_resource(&r.o.base, "Observation", &r.role),
                row_id,
                code: loinc(r.vital, &r.source),
                code_ref: Some(code_ref),
                status: observation::status(r.o.status.as_deref()),
                effective,
                value: Value::Pq(r.pq.clone()),
                value_ref: None,
                interpretation,
                ranges: observation::ranges(r.o),
                comment_ref,
            });
        }
        let low = first.effective.clone().or_else(|| first.issued.clone());
        section.entries.push(Entry::Organizer(Box::new(Organizer {
            kind: Kind::VitalSigns,
            id: b
                .ids
                .for_resource(&first.base, "Observation", "vital-signs"),
            code: Coded::unknown(None),
            code_ref: None,
            status: "completed",
            low,
            high: None,
            specimens: Vec::new(),
            performer: first
                .performer
                .first()
                .and_then(|p| observation::performer(b, p)),
            components,
        })));
    }
    section.tables.push(table);
    section
}
