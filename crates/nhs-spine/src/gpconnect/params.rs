//! The `Parameters` body of `$gpc.getstructuredrecord` and the clinical areas it asks for.

use chrono::{Duration, NaiveDate};
use nhs_number::{NHS_NUMBER_SYSTEM, NhsNumber};
use serde::Deserialize;
use serde_json::{Value, json};

const OPERATION_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-GetStructuredRecord-Operation-1";

/// Which clinical areas to request. Every area is on by default; switch off what the gateway's
/// documents do not use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClinicalAreas {
    pub allergies: bool,
    /// `includeAllergies.includeResolvedAllergies`
    pub include_resolved_allergies: bool,
    pub medication: bool,
    /// `includeMedication.includePrescriptionIssues`
    pub include_prescription_issues: bool,
    /// `includeMedication.medicationSearchFromDate` = today minus this many days; all when unset.
    pub medication_lookback_days: Option<u32>,
    pub problems: bool,
    pub immunisations: bool,
    pub consultations: bool,
    /// `includeConsultations.includeNumberOfMostRecent`; all consultations when unset.
    pub consultations_most_recent: Option<u32>,
    pub uncategorised_data: bool,
    pub investigations: bool,
    pub referrals: bool,
    pub diary_entries: bool,
}

impl Default for ClinicalAreas {
    fn default() -> Self {
        Self {
            allergies: true,
            include_resolved_allergies: true,
            medication: true,
            include_prescription_issues: true,
            medication_lookback_days: None,
            problems: true,
            immunisations: true,
            consultations: true,
            consultations_most_recent: None,
            uncategorised_data: true,
            investigations: true,
            referrals: true,
            diary_entries: true,
        }
    }
}

impl ClinicalAreas {
    /// True when at least one area is requested (GP Connect answers only the patient otherwise).
    pub fn any(&self) -> bool {
        self.allergies
            || self.medication
            || self.problems
            || self.immunisations
            || self.consultations
            || self.uncategorised_data
            || self.investigations
            || self.referrals
            || self.diary_entries
    }
}

pub(crate) fn build(nhs: &NhsNumber, areas: &ClinicalAreas, today: NaiveDate) -> Value {
    let mut parameter = vec![json!({
        "name": "patientNHSNumber",
        "valueIdentifier": { "system": NHS_NUMBER_SYSTEM, "value": nhs.as_str() }
    })];
    if areas.allergies {
        parameter.push(json!({
            "name": "includeAllergies",
            "part": [{ "name": "includeResolvedAllergies", "valueBoolean": areas.include_resolved_allergies }]
        }));
    }
    if areas.medication {
        let mut part = vec![json!({
            "name": "includePrescriptionIssues",
            "valueBoolean": areas.include_prescription_issues
        })];
        if let Some(days) = areas.medication_lookback_days {
            let from = today - Duration::days(i64::from(days));
            part.push(json!({
                "name": "medicationSearchFromDate",
                "valueDate": from.format("%Y-%m-%d").to_string()
            }));
        }
        parameter.push(json!({ "name": "includeMedication", "part": part }));
    }
    if areas.problems {
        parameter.push(json!({ "name": "includeProblems" }));
    }
    if areas.immunisations {
        parameter.push(json!({ "name": "includeImmunisations" }));
    }
    if areas.consultations {
        match areas.consultations_most_recent.filter(|n| *n > 0) {
            Some(n) => parameter.push(json!({
                "name": "includeConsultations",
                "part": [{ "name": "includeNumberOfMostRecent", "valuePositiveInt": n }]
            })),
            None => parameter.push(json!({ "name": "includeConsultations" })),
        }
    }
    if areas.uncategorised_data {
        parameter.push(json!({ "name": "includeUncategorisedData" }));
    }
    if areas.investigations {
        parameter.push(json!({ "name": "includeInvestigations" }));
    }
    if areas.referrals {
        parameter.push(json!({ "name": "includeReferrals" }));
    }
    if areas.diary_entries {
        parameter.push(json!({ "name": "includeDiaryEntries" }));
    }
    json!({
        "resourceType": "Parameters",
        "meta": { "profile": [OPERATION_PROFILE] },
        "parameter": parameter
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn all_areas_by_default_with_required_parts() {
        let nhs = NhsNumber::parse("9690937286").unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let p = build(&nhs, &ClinicalAreas::default(), today);
        let names: Vec<_> = p["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 10);
        assert_eq!(names[0], "patientNHSNumber");
        assert_eq!(
            p["parameter"][1]["part"][0]["name"],
            "includeResolvedAllergies"
        );
        assert_eq!(
            p["parameter"][2]["part"][0]["name"],
            "includePrescriptionIssues"
        );
    }

    #[test]
    fn medication_lookback_and_area_selection() {
        let nhs = NhsNumber::parse("9690937286").unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let areas = ClinicalAreas {
            allergies: false,
            medication_lookback_days: Some(365),
            problems: false,
            immunisations: false,
            consultations: false,
            uncategorised_data: false,
            investigations: false,
            referrals: false,
            diary_entries: false,
            ..ClinicalAreas::default()
        };
        let p = build(&nhs, &areas, today);
        assert_eq!(p["parameter"].as_array().unwrap().len(), 2);
        assert_eq!(p["parameter"][1]["part"][1]["valueDate"], "2024-03-01");
    }
}
