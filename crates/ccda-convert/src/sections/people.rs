//! Who and what a consultation, note, referral or diary entry names: practitioners and
//! organisations resolved from references (for `performer`/`author` and the narrative),
//! and a clinician-readable label for any clinical resource.

use fhir_stu3::{HumanName, MedicationRef, Reference, Resource};

use crate::cda;
use crate::sections::Build;
use crate::templates;
use crate::xml::Xml;

/// A person or organisation named by a reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Party {
    Person(HumanName),
    Organisation(String),
    /// Only a display text (or an unresolvable reference).
    Text(String),
}

impl Party {
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Person(n) => n.display(),
            Self::Organisation(s) | Self::Text(s) => s.clone(),
        }
    }
}

/// Resolves a Practitioner, PractitionerRole, Organization or Location reference.
pub(crate) fn party(b: &Build<'_>, r: Option<&Reference>) -> Option<Party> {
    let r = r?;
    let resolved = r
        .reference
        .as_deref()
        .and_then(|rf| b.bundle.resolve(rf, None));
    let from_resource = match resolved {
        Some(Resource::Practitioner(p)) => p.name.first().cloned().map(Party::Person),
        Some(Resource::PractitionerRole(pr)) => {
            return party(b, pr.practitioner.as_ref().or(pr.organization.as_ref()));
        }
        Some(Resource::Organization(o)) => o.name.clone().map(Party::Organisation),
        Some(Resource::Location(l)) => l.name.clone().map(Party::Organisation),
        _ => None,
    };
    from_resource
        .filter(|p| !p.text().trim().is_empty())
        .or_else(|| {
            r.display
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(|d| Party::Text(d.to_owned()))
        })
}

/// `<assignedEntity>`/`<assignedAuthor>` content: no id we could vouch for (practitioner
/// identifiers are SDS user ids, not OIDs), and the person's or organisation's name.
fn assigned(x: &mut Xml, tag: &str, p: &Party) {
    x.open(tag, &[]);
    x.empty("id", &[("nullFlavor", "NI")]);
    match p {
        Party::Person(n) => {
            x.open("assignedPerson", &[]);
            crate::header::name(x, Some(n));
            x.close("assignedPerson");
        }
        Party::Text(t) => {
            x.open("assignedPerson", &[]);
            x.leaf("name", &[], t);
            x.close("assignedPerson");
        }
        Party::Organisation(o) => {
            x.open("representedOrganization", &[]);
            x.leaf("name", &[], o);
            x.close("representedOrganization");
        }
    }
    x.close(tag);
}

pub(crate) fn performer(x: &mut Xml, p: &Party) {
    x.open("performer", &[]);
    assigned(x, "assignedEntity", p);
    x.close("performer");
}

/// Author Participation (4.119).
pub(crate) fn author(x: &mut Xml, p: &Party, time: Option<&fhir_stu3::FhirDateTime>) {
    x.open("author", &[]);
    cda::template(x, templates::AUTHOR_PARTICIPATION);
    cda::ts(x, "time", time);
    assigned(x, "assignedAuthor", p);
    x.close("author");
}

/// Text naming a clinical resource, for a consultation's headings.
pub(crate) fn label(b: &Build<'_>, r: &Resource) -> String {
    let concept =
        |c: Option<&fhir_stu3::CodeableConcept>| c.and_then(|c| c.label()).map(str::to_owned);
    let medication = |m: Option<&MedicationRef>| match m? {
        MedicationRef::Concept(c) => c.label().map(str::to_owned),
        MedicationRef::Reference(rf) => match b.resolve(Some(rf), None) {
            Some(Resource::Medication(m)) => concept(m.code.as_ref()),
            _ => rf.display.clone(),
        },
    };
    let text = match r {
        Resource::Condition(c) => concept(c.code.as_ref()),
        Resource::AllergyIntolerance(a) => concept(a.code.as_ref()),
        Resource::Immunization(i) => concept(i.vaccine_code.as_ref()),
        Resource::MedicationStatement(m) => medication(m.medication.as_ref()),
        Resource::MedicationRequest(m) => medication(m.medication.as_ref()),
        // A free-text note is named by its first words (the Notes section has it in full).
        Resource::Observation(o) => match o.comment.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() && crate::sections::notes::is_comment_note(r) => {
                Some(match c.char_indices().nth(80) {
                    Some((i, _)) => format!("Note: {}…", &c[..i]),
                    None => format!("Note: {c}"),
                })
            }
            _ => concept(o.code.as_ref()),
        },
        Resource::DiagnosticReport(d) => concept(d.code.as_ref()),
        Resource::ProcedureRequest(p) => concept(p.code.as_ref()),
        Resource::ReferralRequest(rr) => concept(
            rr.specialty
                .as_ref()
                .or(rr.type_.as_ref())
                .or(rr.service_requested.first())
                .or(rr.reason_code.first()),
        )
        .map(|t| format!("Referral: {t}")),
        Resource::DocumentReference(d) => {
            concept(d.type_.as_ref()).or_else(|| d.description.clone())
        }
        Resource::Encounter(e) => concept(e.type_.first()),
        _ => None,
    };
    text.unwrap_or_else(|| format!("{} (no description)", r.resource_type()))
}
