//! Result Organizer (4.1) and Vital Signs Organizer (4.26): a group of observations with
//! the time span, specimen and performer they share.

use fhir_stu3::FhirDateTime;

use crate::cda::{self, Coded};
use crate::oids;
use crate::sections::observation::{self, Obs};
use crate::templates;
use crate::xml::Xml;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A DiagnosticReport (`BATTERY`) or a single observation filed on its own (`CLUSTER`).
    Result { battery: bool },
    /// Vital signs taken together.
    VitalSigns,
}

#[derive(Debug, Clone)]
pub(crate) struct Specimen {
    pub id: String,
    pub code: Coded,
}

#[derive(Debug, Clone)]
pub(crate) struct Organizer {
    pub kind: Kind,
    pub id: String,
    /// For results: the report's or test's code (vital signs have a fixed code).
    pub code: Coded,
    pub code_ref: Option<String>,
    pub status: &'static str,
    pub low: Option<FhirDateTime>,
    pub high: Option<FhirDateTime>,
    pub specimens: Vec<Specimen>,
    /// The laboratory or clinician who performed the tests.
    pub performer: Option<observation::Performer>,
    pub components: Vec<Obs>,
}

pub(crate) fn render(x: &mut Xml, o: &Organizer) {
    let class = match o.kind {
        Kind::Result { battery: true } => "BATTERY",
        _ => "CLUSTER",
    };
    x.open("organizer", &[("classCode", class), ("moodCode", "EVN")]);
    match o.kind {
        Kind::Result { .. } => cda::template(x, templates::RESULT_ORGANIZER),
        Kind::VitalSigns => cda::template(x, templates::VITAL_SIGNS_ORGANIZER),
    }
    cda::id(x, &o.id);
    match o.kind {
        Kind::Result { .. } => cda::cd(x, "code", &o.code, None, o.code_ref.as_deref()),
        Kind::VitalSigns => {
            x.open(
                "code",
                &[
                    ("code", "46680005"),
                    ("codeSystem", oids::SNOMED_CT),
                    ("codeSystemName", "SNOMED CT"),
                    ("displayName", "Vital signs"),
                ],
            );
            x.empty(
                "translation",
                &[
                    ("code", "74728-7"),
                    ("codeSystem", oids::LOINC),
                    ("codeSystemName", "LOINC"),
                    (
                        "displayName",
                        "Vital signs, weight, height, head circumference, oximetry, BMI, and BSA panel",
                    ),
                ],
            );
            x.close("code");
        }
    }
    cda::status(x, o.status);
    cda::ivl_ts(
        x,
        "effectiveTime",
        o.low.as_ref(),
        o.high.as_ref().or(o.low.as_ref()),
        false,
        false,
    );
    for s in &o.specimens {
        x.open("specimen", &[("typeCode", "SPC")]);
        x.open("specimenRole", &[("classCode", "SPEC")]);
        cda::id(x, &s.id);
        x.open("specimenPlayingEntity", &[]);
        cda::cd(x, "code", &s.code, None, None);
        x.close("specimenPlayingEntity");
        x.close("specimenRole");
        x.close("specimen");
    }
    if let Some(p) = &o.performer {
        x.open("performer", &[("typeCode", "PRF")]);
        x.open("assignedEntity", &[]);
        x.empty("id", &[("nullFlavor", "NI")]);
        let tag = if p.person {
            "assignedPerson"
        } else {
            "representedOrganization"
        };
        x.open(tag, &[]);
        x.leaf("name", &[], &p.name);
        x.close(tag);
        x.close("assignedEntity");
        x.close("performer");
    }
    let tpl = match o.kind {
        Kind::Result { .. } => templates::RESULT_OBSERVATION,
        Kind::VitalSigns => templates::VITAL_SIGN_OBSERVATION,
    };
    for c in &o.components {
        x.open("component", &[]);
        observation::write(x, c, tpl);
        x.close("component");
    }
    x.close("organizer");
}
