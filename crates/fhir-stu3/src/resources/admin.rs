//! Who and where: Patient, Organization, Practitioner, PractitionerRole, Location; and the
//! List resources that group the clinical content into GP Connect clinical areas.

use super::{Base, Resource};
use crate::datatypes::{
    Address, Annotation, CodeableConcept, ContactPoint, ExtValue, HumanName, Reference,
};
use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Obj};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Patient {
    pub base: Base,
    pub name: Vec<HumanName>,
    pub telecom: Vec<ContactPoint>,
    pub gender: Option<String>,
    pub birth_date: Option<FhirDateTime>,
    pub address: Vec<Address>,
    pub general_practitioner: Vec<Reference>,
    pub managing_organization: Option<Reference>,
}

impl Patient {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            name: o.many(ctx, "name", HumanName::read),
            telecom: o.many(ctx, "telecom", ContactPoint::read),
            gender: o.string(ctx, "gender"),
            birth_date: o.datetime(ctx, "birthDate"),
            address: o.many(ctx, "address", Address::read),
            general_practitioner: o.many(ctx, "generalPractitioner", Reference::read),
            managing_organization: o.one(ctx, "managingOrganization", Reference::read),
        }
    }

    /// The official name, else the first.
    pub fn main_name(&self) -> Option<&HumanName> {
        self.name
            .iter()
            .find(|n| n.use_.as_deref() == Some("official"))
            .or_else(|| self.name.first())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Organization {
    pub base: Base,
    pub name: Option<String>,
    pub telecom: Vec<ContactPoint>,
    pub address: Vec<Address>,
}

impl Organization {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            name: o.string(ctx, "name"),
            telecom: o.many(ctx, "telecom", ContactPoint::read),
            address: o.many(ctx, "address", Address::read),
        }
    }

    /// The ODS code (`https://fhir.nhs.uk/Id/ods-organization-code`).
    pub fn ods_code(&self) -> Option<&str> {
        self.base
            .identifier
            .iter()
            .find(|i| {
                i.system
                    .as_deref()
                    .is_some_and(|s| s.ends_with("ods-organization-code"))
            })
            .and_then(|i| i.value.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Practitioner {
    pub base: Base,
    pub name: Vec<HumanName>,
}

impl Practitioner {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            name: o.many(ctx, "name", HumanName::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PractitionerRole {
    pub base: Base,
    pub practitioner: Option<Reference>,
    pub organization: Option<Reference>,
    pub code: Vec<CodeableConcept>,
}

impl PractitionerRole {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            practitioner: o.one(ctx, "practitioner", Reference::read),
            organization: o.one(ctx, "organization", Reference::read),
            code: o.many(ctx, "code", CodeableConcept::read),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Location {
    pub base: Base,
    pub name: Option<String>,
    pub address: Option<Address>,
    pub telecom: Vec<ContactPoint>,
    pub managing_organization: Option<Reference>,
}

impl Location {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            base: Base::read(ctx, o),
            name: o.string(ctx, "name"),
            address: o.one(ctx, "address", Address::read),
            telecom: o.many(ctx, "telecom", ContactPoint::read),
            managing_organization: o.one(ctx, "managingOrganization", Reference::read),
        }
    }
}

/// A GP Connect List: one clinical area (its `code`), the items in it, and why it may be
/// empty or incomplete.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct List {
    pub base: Base,
    pub status: Option<String>,
    pub mode: Option<String>,
    pub title: Option<String>,
    pub code: Option<CodeableConcept>,
    pub date: Option<FhirDateTime>,
    pub entry: Vec<ListEntry>,
    pub note: Vec<Annotation>,
    pub empty_reason: Option<CodeableConcept>,
    /// Resources carried inside the List (referenced as `#id`).
    pub contained: Vec<Resource>,
    /// `Extension-CareConnect-GPC-ListWarningCode-1` codes: `confidential-items`,
    /// `data-in-transit`, `data-awaiting-filing`, …
    pub warnings: Vec<String>,
    /// The consultation a consultation/topic/heading List belongs to.
    pub encounter: Option<Reference>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListEntry {
    pub item: Reference,
    pub deleted: bool,
}

impl List {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let base = Base::read(ctx, o);
        let warnings = base
            .extension
            .iter()
            .filter(|e| e.is("ListWarningCode"))
            .filter_map(|e| match &e.value {
                Some(ExtValue::Text(code)) => Some(code.clone()),
                Some(ExtValue::Coding(c)) => c.code.clone(),
                Some(ExtValue::CodeableConcept(cc)) => {
                    cc.coding.first().and_then(|c| c.code.clone())
                }
                _ => None,
            })
            .collect();
        let contained = o.many(ctx, "contained", |ctx: &mut Ctx<'_>, c: Obj<'_>| {
            let rt = c.string(ctx, "resourceType").unwrap_or_default();
            Resource::read(ctx, &rt, c)
        });
        Self {
            status: o.string(ctx, "status"),
            mode: o.string(ctx, "mode"),
            title: o.string(ctx, "title"),
            code: o.one(ctx, "code", CodeableConcept::read),
            date: o.datetime(ctx, "date"),
            entry: o.many(ctx, "entry", |ctx: &mut Ctx<'_>, e: Obj<'_>| ListEntry {
                item: e.one(ctx, "item", Reference::read).unwrap_or_default(),
                deleted: e.boolean(ctx, "deleted").unwrap_or(false),
            }),
            note: o.many(ctx, "note", Annotation::read),
            empty_reason: o.one(ctx, "emptyReason", CodeableConcept::read),
            contained,
            warnings,
            encounter: o.one(ctx, "encounter", Reference::read),
            base,
        }
    }

    /// The SNOMED CT code of the List (its clinical area), if any.
    pub fn area_code(&self) -> Option<&str> {
        self.code
            .as_ref()
            .and_then(|c| c.coding.iter().find_map(|c| c.code.as_deref()))
    }
}
