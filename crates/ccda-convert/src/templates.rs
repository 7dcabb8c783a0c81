//! C-CDA R2.1 template ids. Each versioned template is written together with its root-only
//! R1.1-compatible id, as the Schematron's `hasCompatibleR1.1TemplateId` rules expect.

/// A template: root OID and, for versioned templates, the extension date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Template {
    pub root: &'static str,
    pub extension: Option<&'static str>,
}

const fn t(root: &'static str, extension: &'static str) -> Template {
    Template {
        root,
        extension: Some(extension),
    }
}

const fn r(root: &'static str) -> Template {
    Template {
        root,
        extension: None,
    }
}

pub(crate) const US_REALM_HEADER: Template = t("2.16.840.1.113883.10.20.22.1.1", "2015-08-01");
pub(crate) const CCD: Template = t("2.16.840.1.113883.10.20.22.1.2", "2015-08-01");

pub(crate) const ALLERGIES_SECTION: Template = t("2.16.840.1.113883.10.20.22.2.6.1", "2015-08-01");
pub(crate) const MEDICATIONS_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.1.1", "2014-06-09");
pub(crate) const PROBLEMS_SECTION: Template = t("2.16.840.1.113883.10.20.22.2.5.1", "2015-08-01");
pub(crate) const IMMUNIZATIONS_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.2.1", "2015-08-01");
pub(crate) const RESULTS_SECTION: Template = t("2.16.840.1.113883.10.20.22.2.3.1", "2015-08-01");
pub(crate) const VITAL_SIGNS_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.4.1", "2015-08-01");
pub(crate) const PHYSICAL_EXAM_SECTION: Template = t("2.16.840.1.113883.10.20.2.10", "2015-08-01");
pub(crate) const PAST_MEDICAL_HISTORY_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.20", "2015-08-01");
pub(crate) const SOCIAL_HISTORY_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.17", "2015-08-01");

pub(crate) const ALLERGY_CONCERN_ACT: Template = t("2.16.840.1.113883.10.20.22.4.30", "2015-08-01");
pub(crate) const ALLERGY_OBSERVATION: Template = t("2.16.840.1.113883.10.20.22.4.7", "2014-06-09");
pub(crate) const REACTION_OBSERVATION: Template = t("2.16.840.1.113883.10.20.22.4.9", "2014-06-09");
pub(crate) const SEVERITY_OBSERVATION: Template = t("2.16.840.1.113883.10.20.22.4.8", "2014-06-09");
pub(crate) const CRITICALITY_OBSERVATION: Template = r("2.16.840.1.113883.10.20.22.4.145");

pub(crate) const MEDICATION_ACTIVITY: Template = t("2.16.840.1.113883.10.20.22.4.16", "2014-06-09");
pub(crate) const MEDICATION_INFORMATION: Template =
    t("2.16.840.1.113883.10.20.22.4.23", "2014-06-09");
pub(crate) const MEDICATION_FREE_TEXT_SIG: Template = r("2.16.840.1.113883.10.20.22.4.147");
pub(crate) const INSTRUCTION: Template = t("2.16.840.1.113883.10.20.22.4.20", "2014-06-09");
pub(crate) const MEDICATION_SUPPLY_ORDER: Template =
    t("2.16.840.1.113883.10.20.22.4.17", "2014-06-09");
pub(crate) const PRECONDITION: Template = t("2.16.840.1.113883.10.20.22.4.25", "2014-06-09");

pub(crate) const PROBLEM_CONCERN_ACT: Template = t("2.16.840.1.113883.10.20.22.4.3", "2015-08-01");
pub(crate) const PROBLEM_OBSERVATION: Template = t("2.16.840.1.113883.10.20.22.4.4", "2015-08-01");
pub(crate) const PROBLEM_STATUS: Template = t("2.16.840.1.113883.10.20.22.4.6", "2019-06-20");

pub(crate) const IMMUNIZATION_ACTIVITY: Template =
    t("2.16.840.1.113883.10.20.22.4.52", "2015-08-01");
pub(crate) const IMMUNIZATION_MEDICATION_INFORMATION: Template =
    t("2.16.840.1.113883.10.20.22.4.54", "2014-06-09");
pub(crate) const IMMUNIZATION_REFUSAL_REASON: Template = r("2.16.840.1.113883.10.20.22.4.53");

pub(crate) const ENCOUNTERS_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.22.1", "2015-08-01");
pub(crate) const ENCOUNTER_ACTIVITY: Template = t("2.16.840.1.113883.10.20.22.4.49", "2015-08-01");
pub(crate) const SERVICE_DELIVERY_LOCATION: Template = r("2.16.840.1.113883.10.20.22.4.32");
pub(crate) const NOTES_SECTION: Template = t("2.16.840.1.113883.10.20.22.2.65", "2016-11-01");
pub(crate) const NOTE_ACTIVITY: Template = t("2.16.840.1.113883.10.20.22.4.202", "2016-11-01");
pub(crate) const AUTHOR_PARTICIPATION: Template = r("2.16.840.1.113883.10.20.22.4.119");
pub(crate) const PLAN_OF_TREATMENT_SECTION: Template =
    t("2.16.840.1.113883.10.20.22.2.10", "2014-06-09");
pub(crate) const PLANNED_ENCOUNTER: Template = t("2.16.840.1.113883.10.20.22.4.40", "2014-06-09");
pub(crate) const PLANNED_ACT: Template = t("2.16.840.1.113883.10.20.22.4.39", "2014-06-09");
pub(crate) const INDICATION: Template = t("2.16.840.1.113883.10.20.22.4.19", "2014-06-09");

pub(crate) const RESULT_ORGANIZER: Template = t("2.16.840.1.113883.10.20.22.4.1", "2015-08-01");
pub(crate) const RESULT_OBSERVATION: Template = t("2.16.840.1.113883.10.20.22.4.2", "2015-08-01");
pub(crate) const VITAL_SIGNS_ORGANIZER: Template =
    t("2.16.840.1.113883.10.20.22.4.26", "2015-08-01");
pub(crate) const VITAL_SIGN_OBSERVATION: Template =
    t("2.16.840.1.113883.10.20.22.4.27", "2014-06-09");
pub(crate) const SMOKING_STATUS: Template = t("2.16.840.1.113883.10.20.22.4.78", "2014-06-09");
pub(crate) const SOCIAL_HISTORY_OBSERVATION: Template =
    t("2.16.840.1.113883.10.20.22.4.38", "2015-08-01");
pub(crate) const COMMENT_ACTIVITY: Template = r("2.16.840.1.113883.10.20.22.4.64");
