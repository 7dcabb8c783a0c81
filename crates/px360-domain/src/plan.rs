//! The pure half of batch event processing: from the claimed events and what the database
//! holds about them ([`Known`]), decide every change ([`Plan`]). No I/O, so the journey rules
//! are tested here without a database; `px360-store` loads [`Known`] and turns the plan into
//! statements. The processing warnings and per-event results live here too, as the planner and
//! the store's event-by-event path both produce them.

use crate::event::EventPayload;
use crate::journey::{Outcome as StageOutcome, StageState, StageStatus, apply};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A claimed event as the planner reads it (the payload is parsed separately).
#[derive(Debug, Clone)]
pub struct PlanEvent {
    pub id: String,
    pub hospital_id: String,
    pub event_code: String,
    pub encounter_id: String,
    pub patient_identifier: String,
    /// Payload JSON text as stored.
    pub payload: String,
    pub received_at: String,
}

/// A processing warning. `code` and `args` are the stable, language-neutral part (the UI
/// renders them from its message catalogue, `warning-detail-<code>`); `detail` is the English
/// text for API clients and logs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Warning {
    pub code: String,
    pub detail: String,
    /// The values the message names (`code`, `licence`, `event_code`, and `scope` =
    /// `template` | `journey` for `no_matching_stage`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
}

impl Warning {
    fn new(code: &str, detail: String, args: &[(&str, &str)]) -> Self {
        Self {
            code: code.into(),
            detail,
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    pub fn unknown_department(code: &str) -> Self {
        Self::new(
            "unknown_department",
            format!("no department with code {code} in this hospital"),
            &[("code", code)],
        )
    }

    pub fn unknown_physician(licence: &str) -> Self {
        Self::new(
            "unknown_physician",
            format!("no physician with licence {licence} in this hospital"),
            &[("licence", licence)],
        )
    }

    /// The identifier itself is patient data: it stays out of the warning.
    pub fn unknown_patient() -> Self {
        Self::new(
            "unknown_patient",
            "no patient with this identifier in this hospital; journey kept under the identifier"
                .into(),
            &[],
        )
    }

    /// No template at all has a stage completed by the event code.
    pub fn no_template_stage(event_code: &str) -> Self {
        Self::new(
            "no_matching_stage",
            format!("no journey template has a stage completed by {event_code}"),
            &[("event_code", event_code), ("scope", "template")],
        )
    }

    /// The encounter's journey has no stage completed by the event code.
    pub fn no_journey_stage(event_code: &str) -> Self {
        Self::new(
            "no_matching_stage",
            format!("journey has no stage completed by {event_code}"),
            &[("event_code", event_code), ("scope", "journey")],
        )
    }

    pub fn stage_already_completed(event_code: &str) -> Self {
        Self::new(
            "stage_already_completed",
            format!(
                "the stage completed by {event_code} was already completed by an earlier event"
            ),
            &[("event_code", event_code)],
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub warnings: Vec<Warning>,
    pub completed_stage: Option<String>,
    pub received_at: String,
}

/// What the database holds about a batch's events, loaded in one query per kind.
#[derive(Debug, Default)]
pub struct Known {
    /// (hospital id, department code) → department id.
    pub departments: HashMap<(String, String), String>,
    /// (hospital id, licence number) of live physicians.
    pub physicians: HashSet<(String, String)>,
    /// (hospital id, MRN) → patient id.
    pub patients: HashMap<(String, String), String>,
    /// Live templates usable by the batch's hospitals, stages in position order.
    pub templates: Vec<Template>,
    /// Journeys already started for the batch's encounters, with their stages.
    pub journeys: Vec<Journey>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub id: String,
    /// `None` = group-wide.
    pub hospital_id: Option<String>,
    pub code: String,
    pub stages: Vec<TemplateStage>,
}

#[derive(Debug, Clone)]
pub struct TemplateStage {
    pub id: String,
    pub position: i64,
    pub completing_event_code: String,
}

/// A journey instance as the plan leaves it.
#[derive(Debug, Clone)]
pub struct Journey {
    pub id: String,
    pub hospital_id: String,
    pub encounter_id: String,
    pub template_id: String,
    /// Started by this batch (to be inserted, with its stages, in their final state).
    pub new: Option<NewJourney>,
    /// Completed by this batch.
    pub completed: bool,
    /// Clinical completion time (the completing event's timestamp) when `completed`.
    pub completed_at: Option<String>,
    pub stages: Vec<Stage>,
}

/// What a journey started by this batch records about the event that started it.
#[derive(Debug, Clone)]
pub struct NewJourney {
    pub department_id: Option<String>,
    pub patient_id: Option<String>,
    pub patient_identifier: String,
    /// Clinical start time: the starting event's timestamp.
    pub started_at: String,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub id: Uuid,
    pub template_stage_id: String,
    pub position: i64,
    pub completing_event_code: String,
    pub status: StageStatus,
    pub completed_by: Option<String>,
    /// Clinical completion time (the completing event's timestamp), set when this batch
    /// completes the stage.
    pub completed_at: Option<String>,
    /// Status changed by this batch (an update, for a stage that already exists).
    pub changed: bool,
}

#[derive(Debug)]
pub struct Plan {
    /// Every journey the batch touched or loaded; `new` and `changed` say what to write.
    pub journeys: Vec<Journey>,
    /// Per event, in arrival order.
    pub results: Vec<(String, Processed)>,
}

/// Apply events in order. Later events of the batch see the changes of earlier ones (a journey
/// started two events ago, a stage just completed), exactly as one-by-one processing would.
pub fn plan(events: &[(&PlanEvent, &EventPayload)], known: Known) -> Plan {
    let Known {
        departments,
        physicians,
        patients,
        templates,
        mut journeys,
    } = known;
    let mut results = Vec::with_capacity(events.len());
    for (e, payload) in events {
        let h = &e.hospital_id;
        let clinical_at = crate::ts(payload.timestamp);
        let mut warnings = Vec::new();
        let mut department = None;
        if let Some(dc) = &payload.department_code {
            department = departments.get(&(h.clone(), dc.clone())).cloned();
            if department.is_none() {
                warnings.push(Warning::unknown_department(dc));
            }
        }
        if let Some(lic) = &payload.physician_licence
            && !physicians.contains(&(h.clone(), lic.clone()))
        {
            warnings.push(Warning::unknown_physician(lic));
        }
        let patient = patients
            .get(&(h.clone(), e.patient_identifier.clone()))
            .cloned();
        if patient.is_none() {
            warnings.push(Warning::unknown_patient());
        }

        let code = &e.event_code;
        let encounter = &e.encounter_id;
        let same_encounter = |j: &Journey| &j.hospital_id == h && &j.encounter_id == encounter;
        let journey = match journeys.iter().position(|j| {
            same_encounter(j) && j.stages.iter().any(|s| &s.completing_event_code == code)
        }) {
            Some(i) => Some(i),
            None => match choose_template(&templates, h, code) {
                None => {
                    warnings.push(Warning::no_template_stage(code));
                    None
                }
                // A journey of that template may exist without the stage (the template gained
                // it later): the event then lands on that journey as "no matching stage".
                Some(t) => Some(
                    match journeys
                        .iter()
                        .position(|j| same_encounter(j) && j.template_id == t.id)
                    {
                        Some(i) => i,
                        None => {
                            journeys.push(start(
                                t,
                                e,
                                department.clone(),
                                patient.clone(),
                                clinical_at.clone(),
                            ));
                            journeys.len() - 1
                        }
                    },
                ),
            },
        };

        let mut completed_stage = None;
        if let Some(j) = journey.and_then(|i| journeys.get_mut(i)) {
            let states: Vec<StageState> = j
                .stages
                .iter()
                .map(|s| StageState {
                    stage_instance_id: s.id,
                    position: s.position,
                    completing_event_code: s.completing_event_code.clone(),
                    status: s.status,
                })
                .collect();
            match apply(&states, code) {
                StageOutcome::Complete {
                    complete,
                    skip,
                    journey_done,
                } => {
                    for s in &mut j.stages {
                        if s.id == complete {
                            s.status = StageStatus::Completed;
                            s.completed_by = Some(e.id.clone());
                            s.completed_at = Some(clinical_at.clone());
                            s.changed = true;
                        } else if skip.contains(&s.id) {
                            s.status = StageStatus::Skipped;
                            s.changed = true;
                        }
                    }
                    if journey_done && !j.completed {
                        j.completed = true;
                        j.completed_at = Some(clinical_at.clone());
                    }
                    completed_stage = Some(complete.to_string());
                }
                StageOutcome::AlreadyCompleted(_) => {
                    warnings.push(Warning::stage_already_completed(code))
                }
                StageOutcome::NoMatchingStage => warnings.push(Warning::no_journey_stage(code)),
            }
        }
        results.push((
            e.id.clone(),
            Processed {
                warnings,
                completed_stage,
                received_at: e.received_at.clone(),
            },
        ));
    }
    Plan { journeys, results }
}

/// The hospital's own template before a group-wide one, then by template code; never another
/// hospital's (the loader only loads the batch's hospitals, this checks again).
fn choose_template<'t>(
    templates: &'t [Template],
    hospital: &str,
    code: &str,
) -> Option<&'t Template> {
    templates
        .iter()
        .filter(|t| t.hospital_id.as_deref().is_none_or(|th| th == hospital))
        .filter(|t| t.stages.iter().any(|s| s.completing_event_code == code))
        .min_by(|a, b| (a.hospital_id.is_none(), &a.code).cmp(&(b.hospital_id.is_none(), &b.code)))
}

fn start(
    t: &Template,
    e: &PlanEvent,
    department_id: Option<String>,
    patient_id: Option<String>,
    started_at: String,
) -> Journey {
    Journey {
        id: Uuid::now_v7().to_string(),
        hospital_id: e.hospital_id.clone(),
        encounter_id: e.encounter_id.clone(),
        template_id: t.id.clone(),
        new: Some(NewJourney {
            department_id,
            patient_id,
            patient_identifier: e.patient_identifier.clone(),
            started_at,
        }),
        completed: false,
        completed_at: None,
        stages: t
            .stages
            .iter()
            .map(|s| Stage {
                id: Uuid::now_v7(),
                template_stage_id: s.id.clone(),
                position: s.position,
                completing_event_code: s.completing_event_code.clone(),
                status: StageStatus::Pending,
                completed_by: None,
                completed_at: None,
                changed: false,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
