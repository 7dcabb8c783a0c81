//! Smoking and alcohol observations → Social History Section. A smoking status the C-CDA
//! "Current Smoking Status" value set can express becomes a Smoking Status observation
//! (4.78, LOINC 72166-2) with the GP's SNOMED CT code as a translation; any other smoking or
//! alcohol observation is a Social History Observation (4.38) with its own code and value.

use fhir_stu3::Observation;

use crate::cda::{self, Code, Coded};
use crate::codesystems::CodeSystem;
use crate::model::{Cell, Entry, Row, Section, SectionSpec, Table};
use crate::oids;
use crate::sections::Build;
use crate::sections::observation::{self, Obs, Value};
use crate::templates::{self, Template};

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::SOCIAL_HISTORY_SECTION),
    code: Some(("29762-2", "Social history Narrative")),
    title: "Social history",
    entries_required: false,
};

const COLUMNS: &[&str] = &["Date", "Item", "Value", "Comments"];

/// A social history observation and the template it is written with.
#[derive(Debug, Clone)]
pub(crate) struct SocialEntry {
    pub obs: Obs,
    pub template: Template,
}

fn snomed(o: &Observation) -> Option<&str> {
    o.code
        .as_ref()
        .and_then(|c| c.code_in("http://snomed.info/sct"))
        .map(str::trim)
}

fn label(o: &Observation) -> String {
    o.code
        .as_ref()
        .and_then(|c| c.label())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// UK smoking concepts → the Current Smoking Status value set (SNOMED CT).
fn smoking_status(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "266919005" | "221000119102" => ("266919005", "Never smoked tobacco"),
        "8517006" | "160617001" | "281018007" | "160625004" | "48031000119106" => {
            ("8517006", "Ex-smoker")
        }
        "77176002" | "65568007" | "59978006" | "82302008" | "160604004" => ("77176002", "Smoker"),
        "449868002" => ("449868002", "Smokes tobacco daily"),
        "428041000124106" | "230059006" => ("428041000124106", "Occasional tobacco smoker"),
        "160603005" | "428061000124105" => ("428061000124105", "Light tobacco smoker"),
        "160605003" | "160606002" | "428071000124103" => {
            ("428071000124103", "Heavy tobacco smoker")
        }
        "266927001" => ("266927001", "Tobacco smoking consumption unknown"),
        _ => return None,
    })
}

fn is_smoking(o: &Observation) -> bool {
    snomed(o).is_some_and(|c| smoking_status(c).is_some()) || {
        let l = label(o);
        l.contains("smok") || l.contains("tobacco") || l.contains("cigar")
    }
}

/// Whether an observation is social history this section shows (smoking, alcohol).
pub(crate) fn is_social(o: &Observation) -> bool {
    is_smoking(o) || label(o).contains("alcohol")
}

/// 4.38 asks for a LOINC translation of a code in any other system: the LOINC history
/// concept the observation belongs to.
fn with_loinc(mut c: Coded, o: &Observation) -> Coded {
    if c.primary
        .as_ref()
        .is_some_and(|p| p.system.oid == oids::LOINC)
    {
        return c;
    }
    let (code, display) = if is_smoking(o) {
        ("11367-0", "History of Tobacco use")
    } else if label(o).contains("alcohol") {
        ("11331-6", "History of Alcohol use")
    } else {
        ("29762-2", "Social history Narrative")
    };
    c.translations.push(Code {
        code: code.into(),
        system: CodeSystem {
            oid: std::borrow::Cow::Borrowed(oids::LOINC),
            name: "LOINC",
        },
        display: Some(display.into()),
    });
    c
}

pub(crate) fn build(b: &mut Build<'_>, obs: &[(&fhir_stu3::Resource, &Observation)]) -> Section {
    let mut section = Section::new(SPEC);
    section.empty_text = "No smoking or alcohol history is recorded in the GP record.".into();
    let mut table = Table {
        caption: None,
        columns: COLUMNS,
        rows: Vec::new(),
    };
    for (i, &(res, o)) in obs.iter().enumerate() {
        let row_id = format!("social-{}", i + 1);
        b.link(res, &row_id, SPEC.title);
        let source = Coded::from_concept(o.code.as_ref());
        let item_ref = format!("{row_id}-item");
        let effective = o.effective.clone().or_else(|| o.issued.clone());
        b.dates.add(effective.as_ref());
        let comment = o
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let status_code = snomed(o).and_then(smoking_status);
        let (template, code, value) = match status_code {
            // The status is the observation's code in GP data; C-CDA puts it in the value.
            Some((code, display)) if is_smoking(o) => {
                let mut value = Coded::fixed(code, oids::SNOMED_CT, "SNOMED CT", display);
                if let Some(p) = source.primary.clone().filter(|p| p.code != code) {
                    value.translations.push(p);
                }
                value.text = source.text.clone();
                (
                    templates::SMOKING_STATUS,
                    Coded {
                        primary: Some(Code {
                            code: "72166-2".into(),
                            system: CodeSystem {
                                oid: std::borrow::Cow::Borrowed(oids::LOINC),
                                name: "LOINC",
                            },
                            display: Some("Tobacco smoking status NHIS".into()),
                        }),
                        translations: Vec::new(),
                        text: None,
                        null_flavor: "UNK",
                    },
                    Value::Cd(value),
                )
            }
            _ => {
                let mut value = Value::from_fhir(o.value.as_ref());
                if matches!(value, Value::Null(_)) {
                    value = Value::St(source.label());
                }
                (
                    templates::SOCIAL_HISTORY_OBSERVATION,
                    with_loinc(source.clone(), o),
                    value,
                )
            }
        };
        let value_ref = matches!(value, Value::Cd(_)).then(|| item_ref.clone());
        let comment_ref = comment.map(|_| format!("{row_id}-comment"));
        table.rows.push(Row {
            id: row_id.clone(),
            cells: vec![
                Cell::plain(cda::date_text(effective.as_ref())),
                Cell::with_id(source.label(), item_ref.clone()),
                Cell::plain(match &o.value {
                    Some(_) => Value::from_fhir(o.value.as_ref()).text(),
                    None => "—".into(),
                }),
                match (comment, &comment_ref) {
                    (Some(c), Some(id)) => Cell::with_id(c, id.clone()),
                    _ => Cell::plain(""),
                },
            ],
        });
        let code_ref =
            (template == templates::SOCIAL_HISTORY_OBSERVATION).then(|| item_ref.clone());
        let obs = Obs {
            id: b.ids.for_resource(&o.base, "Observation", ""),
            row_id,
            code,
            code_ref,
            status: "completed",
            effective,
            value,
            value_ref,
            interpretation: observation::interpretation(o.interpretation.as_ref()),
            ranges: Vec::new(),
            comment_ref,
        };
        section
            .entries
            .push(Entry::Observation(Box::new(SocialEntry { obs, template })));
    }
    section.tables.push(table);
    section
}

pub(crate) fn render(x: &mut crate::xml::Xml, e: &SocialEntry) {
    observation::write(x, &e.obs, e.template);
}
