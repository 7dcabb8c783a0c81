//! Allergies and adverse reactions → Allergies and Intolerances Section (entries required):
//! Allergy Concern Act 4.30 → Allergy-Intolerance Observation 4.7 → Reaction 4.9 with
//! Severity 4.8, and Criticality 4.145.
//!
//! The allergen (participant CSM) is a substance: `reaction.substance`, else the code when
//! it names a substance or product, else `nullFlavor="UNK"` with the GP's text. The GP's
//! concept when it is a disorder ("Peanut-induced anaphylaxis") is a translation of the
//! observation's value, never the allergen. "No known allergy" concepts are a negated
//! observation (`negationInd="true"`) with the allergen `nullFlavor="NA"`, as in HL7's
//! "No Known Allergies" example.

use fhir_stu3::{AllergyIntolerance, FhirDateTime, Resource};

use crate::cda::{self, Coded};
use crate::model::{Cell, Entry, Row, Section, SectionSpec};
use crate::oids;
use crate::sections::allergen::{allergen, is_no_known};
use crate::sections::{Build, CurrentAndEnded, Item, list_notes};
use crate::templates;
use crate::xml::Xml;

pub(crate) const SPEC: SectionSpec = SectionSpec {
    template: Some(templates::ALLERGIES_SECTION),
    code: Some(("48765-2", "Allergies and adverse reactions Document")),
    title: "Allergies and adverse reactions",
    entries_required: true,
};

const COLUMNS: &[&str] = &[
    "Allergen",
    "Type",
    "Reactions",
    "Severity",
    "Criticality",
    "Onset",
    "Recorded",
    "Ended",
    "Notes",
];

#[derive(Debug, Clone)]
pub(crate) struct ReactionEntry {
    pub id: String,
    pub manifestation: Coded,
    pub text_ref: Option<String>,
    pub onset: Option<FhirDateTime>,
    pub severity: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
pub(crate) struct AllergyEntry {
    pub concern_id: String,
    pub observation_id: String,
    pub row_id: String,
    pub type_ref: String,
    pub agent_ref: String,
    pub active: bool,
    pub recorded: Option<FhirDateTime>,
    pub onset: Option<FhirDateTime>,
    pub end: Option<FhirDateTime>,
    /// SNOMED CT code and display from the Allergy and Intolerance Type value set.
    pub allergy_type: (&'static str, &'static str),
    pub agent: Coded,
    /// The GP's concept when it is not the substance itself (a disorder, or a "no known
    /// allergy" statement): written as the value's translation.
    pub concept: Option<Coded>,
    /// "No known allergy": the observation is negated and the allergen is `NA`.
    pub negated: bool,
    pub reactions: Vec<ReactionEntry>,
    pub criticality: Option<(&'static str, &'static str)>,
}

/// The Allergy and Intolerance Type (SNOMED CT) that follows FHIR category and type, so a
/// food allergy is never filed as a drug allergy.
pub(crate) fn allergy_type(a: &AllergyIntolerance) -> (&'static str, &'static str) {
    let category = a.category.first().map(String::as_str);
    match (category, a.type_.as_deref()) {
        (Some("medication"), Some("allergy")) => ("416098002", "Allergy to drug (disorder)"),
        (Some("medication"), Some("intolerance")) => ("59037007", "Drug intolerance (disorder)"),
        (Some("medication"), _) => (
            "419511003",
            "Propensity to adverse reactions to drug (disorder)",
        ),
        (Some("food"), Some("allergy")) => ("414285001", "Allergy to food (disorder)"),
        (Some("food"), Some("intolerance")) => ("235719002", "Intolerance to food (disorder)"),
        (Some("food"), _) => (
            "418471000",
            "Propensity to adverse reactions to food (disorder)",
        ),
        (Some("environment"), Some("allergy")) => ("426232007", "Environmental allergy (disorder)"),
        (_, Some("allergy")) => ("419199007", "Allergy to substance (disorder)"),
        (Some(_), _) => (
            "418038007",
            "Propensity to adverse reactions to substance (disorder)",
        ),
        (None, _) => ("420134006", "Propensity to adverse reactions (disorder)"),
    }
}

fn severity(s: Option<&str>) -> Option<(&'static str, &'static str)> {
    match s? {
        "mild" => Some(("255604002", "Mild")),
        "moderate" => Some(("6736007", "Moderate")),
        "severe" => Some(("24484000", "Severe")),
        _ => None,
    }
}

fn criticality(s: Option<&str>) -> Option<(&'static str, &'static str)> {
    match s? {
        "low" => Some(("CRITL", "low criticality")),
        "high" => Some(("CRITH", "high criticality")),
        "unable-to-assess" => Some(("CRITU", "unable to assess criticality")),
        _ => None,
    }
}

fn is_active(a: &AllergyIntolerance) -> bool {
    a.end.is_none() && !matches!(a.clinical_status.as_deref(), Some("resolved" | "inactive"))
}

pub(crate) fn build(b: &mut Build<'_>, items: &[Item<'_>], lists: &[&fhir_stu3::List]) -> Section {
    let mut section = Section::new(SPEC);
    let (notes, empty) = list_notes(lists);
    section.notes = notes;
    section.empty_text = empty.unwrap_or_else(|| {
        if lists.is_empty() {
            "The GP record did not include an allergies list.".into()
        } else {
            "No allergies or adverse reactions are recorded in the GP record.".into()
        }
    });
    let mut tables = CurrentAndEnded::new(
        COLUMNS,
        "Current allergies and adverse reactions",
        "Ended allergies and adverse reactions",
    );
    let mut linked = false;
    for (n, item) in items.iter().enumerate() {
        let Resource::AllergyIntolerance(a) = item.resource else {
            continue;
        };
        b.place(item.resource);
        linked |= item.linked_only;
        let (row, entry) = one(b, a, n + 1);
        b.link(item.resource, &row.id, SPEC.title);
        tables.push(entry.active, row, Entry::Allergy(Box::new(entry)));
    }
    if linked {
        section.notes.push(
            "Some allergies are included because other items in the GP record (a problem or a consultation) refer to them."
                .into(),
        );
    }
    tables.finish(&mut section);
    section
}

fn one(b: &mut Build<'_>, a: &AllergyIntolerance, n: usize) -> (Row, AllergyEntry) {
    let row_id = format!("allergy-{n}");
    let negated = is_no_known(a);
    let (mut agent, concept) = if negated {
        (
            Coded::unknown(Some("No known allergy".into())),
            a.code.as_ref().map(|c| Coded::from_concept(Some(c))),
        )
    } else {
        allergen(a)
    };
    if negated {
        agent.null_flavor = "NA";
        agent.text = concept.as_ref().map(Coded::label);
    }
    let end = a.end.as_ref().and_then(|e| e.date.clone());
    let recorded = a.asserted_date.clone();
    for d in [a.onset.as_ref(), recorded.as_ref(), end.as_ref()] {
        b.dates.add(d);
    }
    let allergy_type = if !negated {
        allergy_type(a)
    } else if a
        .code
        .as_ref()
        .and_then(|c| c.code_in("http://snomed.info/sct"))
        .is_some_and(|c| c.trim() == "409137002")
    {
        ("416098002", "Allergy to drug (disorder)")
    } else {
        ("419199007", "Allergy to substance (disorder)")
    };
    let reactions: Vec<ReactionEntry> = a
        .reaction
        .iter()
        .flat_map(|r| {
            let sev = severity(r.severity.as_deref());
            let onset = r.onset.clone();
            r.manifestation.iter().map(move |m| (m, sev, onset.clone()))
        })
        .enumerate()
        .map(|(i, (m, sev, onset))| ReactionEntry {
            id: b
                .ids
                .for_resource(&a.base, "AllergyIntolerance", &format!("reaction-{i}")),
            manifestation: Coded::from_concept(Some(m)),
            text_ref: None,
            onset,
            severity: sev,
        })
        .collect();
    let reaction_text = if reactions.is_empty() {
        a.reaction
            .iter()
            .filter_map(|r| r.description.clone())
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        reactions
            .iter()
            .map(|r| r.manifestation.label())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let severity_text = a
        .reaction
        .iter()
        .filter_map(|r| {
            severity(r.severity.as_deref())
                .map(|s| s.1)
                .or(r.severity.as_deref())
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut notes: Vec<String> = a.note.iter().filter_map(|n| n.text.clone()).collect();
    if let Some(r) = a.end.as_ref().and_then(|e| e.reason.clone()) {
        notes.push(format!("Ended: {r}"));
    }
    if a.verification_status.as_deref() == Some("unconfirmed") {
        notes.push("Unconfirmed".into());
    }
    let type_ref = format!("{row_id}-type");
    let agent_ref = format!("{row_id}-agent");
    let row = Row {
        id: row_id.clone(),
        cells: vec![
            Cell::with_id(agent.label(), agent_ref.clone()),
            Cell::with_id(
                allergy_type.1.trim_end_matches(" (disorder)"),
                type_ref.clone(),
            ),
            Cell::plain(if reaction_text.is_empty() {
                "—".into()
            } else {
                reaction_text
            }),
            Cell::plain(if severity_text.is_empty() {
                "—".into()
            } else {
                severity_text
            }),
            Cell::plain(match a.criticality.as_deref() {
                Some("low") => "Low".to_owned(),
                Some("high") => "High".to_owned(),
                Some("unable-to-assess") => "Unable to assess".to_owned(),
                Some(other) => other.to_owned(),
                None => "—".to_owned(),
            }),
            Cell::plain(cda::date_text(a.onset.as_ref())),
            Cell::plain(cda::date_text(recorded.as_ref())),
            Cell::plain(if end.is_some() || !is_active(a) {
                cda::date_text(end.as_ref())
            } else {
                "—".into()
            }),
            Cell::plain(notes.join("; ")),
        ],
    };
    let entry = AllergyEntry {
        concern_id: b.ids.for_resource(&a.base, "AllergyIntolerance", "concern"),
        observation_id: b.ids.for_resource(&a.base, "AllergyIntolerance", ""),
        row_id,
        type_ref,
        agent_ref,
        active: is_active(a),
        recorded,
        onset: a.onset.clone(),
        end,
        allergy_type,
        agent,
        concept,
        negated,
        reactions,
        criticality: criticality(a.criticality.as_deref()),
    };
    (row, entry)
}

pub(crate) fn render(x: &mut Xml, e: &AllergyEntry) {
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    cda::template(x, templates::ALLERGY_CONCERN_ACT);
    cda::id(x, &e.concern_id);
    cda::code(x, "CONC", oids::ACT_CLASS, "HL7ActClass", "Concern");
    cda::text_ref(x, &e.row_id);
    cda::status(x, if e.active { "active" } else { "completed" });
    // The concern runs from when it was recorded until the allergy ended.
    let low = e.recorded.as_ref().or(e.onset.as_ref());
    cda::ivl_ts(
        x,
        "effectiveTime",
        low,
        if e.active { None } else { e.end.as_ref() },
        !e.active,
        false,
    );

    x.open("entryRelationship", &[("typeCode", "SUBJ")]);
    if e.negated {
        x.open(
            "observation",
            &[
                ("classCode", "OBS"),
                ("moodCode", "EVN"),
                ("negationInd", "true"),
            ],
        );
    } else {
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    }
    cda::template(x, templates::ALLERGY_OBSERVATION);
    cda::id(x, &e.observation_id);
    x.empty(
        "code",
        &[("code", "ASSERTION"), ("codeSystem", oids::ACT_CODE)],
    );
    cda::text_ref(x, &e.row_id);
    cda::status(x, "completed");
    cda::ivl_ts(
        x,
        "effectiveTime",
        e.onset.as_ref(),
        e.end.as_ref(),
        false,
        false,
    );
    let mut value = Coded::fixed(
        e.allergy_type.0,
        oids::SNOMED_CT,
        "SNOMED CT",
        e.allergy_type.1,
    );
    if let Some(c) = &e.concept {
        value.translations = c
            .primary
            .iter()
            .chain(&c.translations)
            .filter(|t| t.code != e.allergy_type.0)
            .cloned()
            .collect();
    }
    cda::cd(x, "value", &value, Some("CD"), Some(&e.type_ref));
    x.open("participant", &[("typeCode", "CSM")]);
    x.open("participantRole", &[("classCode", "MANU")]);
    x.open("playingEntity", &[("classCode", "MMAT")]);
    cda::cd(x, "code", &e.agent, None, Some(&e.agent_ref));
    x.close("playingEntity");
    x.close("participantRole");
    x.close("participant");
    for r in &e.reactions {
        x.open(
            "entryRelationship",
            &[("typeCode", "MFST"), ("inversionInd", "true")],
        );
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        cda::template(x, templates::REACTION_OBSERVATION);
        cda::id(x, &r.id);
        x.empty(
            "code",
            &[("code", "ASSERTION"), ("codeSystem", oids::ACT_CODE)],
        );
        cda::status(x, "completed");
        if r.onset.is_some() {
            cda::ivl_ts(x, "effectiveTime", r.onset.as_ref(), None, false, false);
        }
        cda::cd(
            x,
            "value",
            &r.manifestation,
            Some("CD"),
            r.text_ref.as_deref(),
        );
        if let Some((code, display)) = r.severity {
            x.open(
                "entryRelationship",
                &[("typeCode", "SUBJ"), ("inversionInd", "true")],
            );
            x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
            cda::template(x, templates::SEVERITY_OBSERVATION);
            cda::code(x, "SEV", oids::ACT_CODE, "ActCode", "Severity Observation");
            cda::status(x, "completed");
            cda::cd(
                x,
                "value",
                &Coded::fixed(code, oids::SNOMED_CT, "SNOMED CT", display),
                Some("CD"),
                None,
            );
            x.close("observation");
            x.close("entryRelationship");
        }
        x.close("observation");
        x.close("entryRelationship");
    }
    if let Some((code, display)) = e.criticality {
        x.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        cda::template(x, templates::CRITICALITY_OBSERVATION);
        cda::code(
            x,
            "82606-5",
            oids::LOINC,
            "LOINC",
            "Allergy or intolerance criticality",
        );
        cda::status(x, "completed");
        cda::cd(
            x,
            "value",
            &Coded::fixed(
                code,
                oids::OBSERVATION_VALUE,
                "HL7ObservationValue",
                display,
            ),
            Some("CD"),
            None,
        );
        x.close("observation");
        x.close("entryRelationship");
    }
    x.close("observation");
    x.close("entryRelationship");
    x.close("act");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allergy(category: &[&str], type_: Option<&str>) -> AllergyIntolerance {
        let json = serde_json_like(category, type_);
        let b = fhir_stu3::Bundle::parse(json.as_bytes()).expect("test bundle parses");
        match b.get("AllergyIntolerance", "a") {
            Some(Resource::AllergyIntolerance(a)) => a.clone(),
            _ => panic!("allergy missing"),
        }
    }

    fn serde_json_like(category: &[&str], type_: Option<&str>) -> String {
        let cats = category
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(",");
        let t = type_
            .map(|t| format!(",\"type\":\"{t}\""))
            .unwrap_or_default();
        format!(
            r#"{{"resourceType":"Bundle","entry":[{{"resource":{{"resourceType":"Patient","id":"p"}}}},
            {{"resource":{{"resourceType":"AllergyIntolerance","id":"a","category":[{cats}]{t}}}}}]}}"#
        )
    }

    #[test]
    fn type_follows_category_and_type() {
        assert_eq!(
            allergy_type(&allergy(&["food"], Some("allergy"))).0,
            "414285001"
        );
        assert_eq!(
            allergy_type(&allergy(&["medication"], Some("allergy"))).0,
            "416098002"
        );
        assert_eq!(
            allergy_type(&allergy(&["medication"], Some("intolerance"))).0,
            "59037007"
        );
        assert_eq!(
            allergy_type(&allergy(&["environment"], Some("allergy"))).0,
            "426232007"
        );
        assert_eq!(
            allergy_type(&allergy(&["environment"], None)).0,
            "418038007"
        );
        assert_eq!(allergy_type(&allergy(&[], None)).0, "420134006");
    }
}
