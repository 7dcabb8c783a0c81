//! The resources GP Connect returns, each with the elements the converter reads.

mod admin;
mod clinical;
mod investigations;
mod medication;
mod other;

pub use admin::{List, ListEntry, Location, Organization, Patient, Practitioner, PractitionerRole};
pub use clinical::{
    AllergyEnd, AllergyIntolerance, Condition, Immunization, Reaction, VaccinationProtocol,
};
pub use investigations::{
    DiagnosticReport, Observation, ObservationComponent, ObservationValue, ReferenceRange, Related,
    Specimen,
};
pub use medication::{
    DispenseRequest, Dosage, Medication, MedicationRef, MedicationRequest, MedicationStatement,
    RepeatInformation, StatusReason, Timing,
};
pub use other::{
    DocumentReference, Encounter, EncounterParticipant, ProcedureRequest, ReferralRequest,
};

use crate::datatypes::{Extension, Identifier};
use crate::read::{Ctx, Obj};

/// What every resource has: its logical id, business identifiers and extensions.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Base {
    pub id: Option<String>,
    pub identifier: Vec<Identifier>,
    pub extension: Vec<Extension>,
    pub profile: Vec<String>,
}

impl Base {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        if o.raw("fhir_comments").is_some() {
            ctx.warn(
                o.path.key("fhir_comments"),
                "a DSTU2-style fhir_comments element; ignored",
            );
        }
        let profile = o
            .one(ctx, "meta", |ctx: &mut Ctx<'_>, m: Obj<'_>| {
                m.strings(ctx, "profile")
            })
            .unwrap_or_default();
        Self {
            id: o.string(ctx, "id"),
            identifier: o.many(ctx, "identifier", Identifier::read),
            extension: if o.raw("extension").is_some() {
                o.many(ctx, "extension", Extension::read)
            } else {
                Vec::new()
            },
            profile,
        }
    }

    /// The extension named `name` (see [`crate::extension_name`]).
    pub fn ext(&self, name: &str) -> Option<&Extension> {
        crate::datatypes::find_ext(&self.extension, name)
    }
}

/// One resource of the Bundle.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[allow(clippy::large_enum_variant)]
pub enum Resource {
    Patient(Patient),
    Organization(Organization),
    Practitioner(Practitioner),
    PractitionerRole(PractitionerRole),
    Location(Location),
    List(List),
    AllergyIntolerance(AllergyIntolerance),
    MedicationStatement(MedicationStatement),
    MedicationRequest(MedicationRequest),
    Medication(Medication),
    Condition(Condition),
    Immunization(Immunization),
    Observation(Observation),
    DiagnosticReport(DiagnosticReport),
    Specimen(Specimen),
    ProcedureRequest(ProcedureRequest),
    ReferralRequest(ReferralRequest),
    Encounter(Encounter),
    DocumentReference(DocumentReference),
    /// A resource type this model does not read (e.g. `OperationOutcome`), kept so that
    /// nothing is dropped silently.
    Other {
        resource_type: String,
        base: Base,
    },
}

impl Resource {
    pub(crate) fn read(ctx: &mut Ctx<'_>, resource_type: &str, o: Obj<'_>) -> Self {
        let r = Self::read_typed(ctx, resource_type, o);
        // A profile that does not name the resource type is a typo or a foreign profile:
        // the resource is still read by its resourceType.
        let rt = r.resource_type().to_ascii_lowercase();
        for p in &r.base().profile {
            let last = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
            if !last.contains(&rt) {
                ctx.warn(
                    o.path.key("meta").key("profile"),
                    format!(
                        "the profile {p} does not name a {}; read as {0}",
                        r.resource_type()
                    ),
                );
            }
        }
        r
    }

    fn read_typed(ctx: &mut Ctx<'_>, resource_type: &str, o: Obj<'_>) -> Self {
        match resource_type {
            "Patient" => Self::Patient(Patient::read(ctx, o)),
            "Organization" => Self::Organization(Organization::read(ctx, o)),
            "Practitioner" => Self::Practitioner(Practitioner::read(ctx, o)),
            "PractitionerRole" => Self::PractitionerRole(PractitionerRole::read(ctx, o)),
            "Location" => Self::Location(Location::read(ctx, o)),
            "List" => Self::List(List::read(ctx, o)),
            "AllergyIntolerance" => Self::AllergyIntolerance(AllergyIntolerance::read(ctx, o)),
            "MedicationStatement" => Self::MedicationStatement(MedicationStatement::read(ctx, o)),
            "MedicationRequest" => Self::MedicationRequest(MedicationRequest::read(ctx, o)),
            "Medication" => Self::Medication(Medication::read(ctx, o)),
            "Condition" => Self::Condition(Condition::read(ctx, o)),
            "Immunization" => Self::Immunization(Immunization::read(ctx, o)),
            "Observation" => Self::Observation(Observation::read(ctx, o)),
            "DiagnosticReport" => Self::DiagnosticReport(DiagnosticReport::read(ctx, o)),
            "Specimen" => Self::Specimen(Specimen::read(ctx, o)),
            "ProcedureRequest" => Self::ProcedureRequest(ProcedureRequest::read(ctx, o)),
            "ReferralRequest" => Self::ReferralRequest(ReferralRequest::read(ctx, o)),
            "Encounter" => Self::Encounter(Encounter::read(ctx, o)),
            "DocumentReference" => Self::DocumentReference(DocumentReference::read(ctx, o)),
            other => {
                ctx.warn(
                    o.path,
                    format!("resource type {other} is not part of this model; kept unread"),
                );
                Self::Other {
                    resource_type: other.to_owned(),
                    base: Base::read(ctx, o),
                }
            }
        }
    }

    pub fn resource_type(&self) -> &str {
        match self {
            Self::Patient(_) => "Patient",
            Self::Organization(_) => "Organization",
            Self::Practitioner(_) => "Practitioner",
            Self::PractitionerRole(_) => "PractitionerRole",
            Self::Location(_) => "Location",
            Self::List(_) => "List",
            Self::AllergyIntolerance(_) => "AllergyIntolerance",
            Self::MedicationStatement(_) => "MedicationStatement",
            Self::MedicationRequest(_) => "MedicationRequest",
            Self::Medication(_) => "Medication",
            Self::Condition(_) => "Condition",
            Self::Immunization(_) => "Immunization",
            Self::Observation(_) => "Observation",
            Self::DiagnosticReport(_) => "DiagnosticReport",
            Self::Specimen(_) => "Specimen",
            Self::ProcedureRequest(_) => "ProcedureRequest",
            Self::ReferralRequest(_) => "ReferralRequest",
            Self::Encounter(_) => "Encounter",
            Self::DocumentReference(_) => "DocumentReference",
            Self::Other { resource_type, .. } => resource_type,
        }
    }

    pub fn base(&self) -> &Base {
        match self {
            Self::Patient(r) => &r.base,
            Self::Organization(r) => &r.base,
            Self::Practitioner(r) => &r.base,
            Self::PractitionerRole(r) => &r.base,
            Self::Location(r) => &r.base,
            Self::List(r) => &r.base,
            Self::AllergyIntolerance(r) => &r.base,
            Self::MedicationStatement(r) => &r.base,
            Self::MedicationRequest(r) => &r.base,
            Self::Medication(r) => &r.base,
            Self::Condition(r) => &r.base,
            Self::Immunization(r) => &r.base,
            Self::Observation(r) => &r.base,
            Self::DiagnosticReport(r) => &r.base,
            Self::Specimen(r) => &r.base,
            Self::ProcedureRequest(r) => &r.base,
            Self::ReferralRequest(r) => &r.base,
            Self::Encounter(r) => &r.base,
            Self::DocumentReference(r) => &r.base,
            Self::Other { base, .. } => base,
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.base().id.as_deref()
    }

    /// `Type/id` (or `Type/?` when the resource has no id).
    pub fn type_and_id(&self) -> String {
        format!("{}/{}", self.resource_type(), self.id().unwrap_or("?"))
    }
}
