//! The journey rules of batch processing, without a database.

use super::{Journey, Known, PlanEvent as Claimed, Stage, Template, TemplateStage, plan};
use crate::event::EventPayload;
use crate::journey::StageStatus;
use uuid::Uuid;

fn event(id: &str, hospital: &str, code: &str, encounter: &str) -> Claimed {
    Claimed {
        id: id.into(),
        hospital_id: hospital.into(),
        event_code: code.into(),
        encounter_id: encounter.into(),
        patient_identifier: "MRN-1".into(),
        payload: String::new(),
        received_at: format!("2026-01-01T00:00:0{}Z", id.len()),
    }
}

fn payload(dept: Option<&str>, lic: Option<&str>) -> EventPayload {
    serde_json::from_value(serde_json::json!({
        "department_code": dept, "physician_licence": lic, "timestamp": "2026-01-01T00:00:00Z"
    }))
    .expect("payload")
}

fn template(id: &str, hospital: Option<&str>, codes: &[&str]) -> Template {
    Template {
        id: id.into(),
        hospital_id: hospital.map(Into::into),
        code: id.to_uppercase(),
        stages: codes
            .iter()
            .enumerate()
            .map(|(i, c)| TemplateStage {
                id: format!("{id}-st{i}"),
                position: i as i64 + 1,
                completing_event_code: (*c).into(),
            })
            .collect(),
    }
}

fn known() -> Known {
    let mut k = Known::default();
    k.departments
        .insert(("h1".into(), "CARD".into()), "dept-1".into());
    k.physicians.insert(("h1".into(), "GMC1".into()));
    k.patients
        .insert(("h1".into(), "MRN-1".into()), "pat-1".into());
    k.templates = vec![template("op", None, &["CHECKIN", "SEEN", "CHECKOUT"])];
    k
}

fn codes(e: &[(String, super::Processed)]) -> Vec<Vec<&str>> {
    e.iter()
        .map(|(_, p)| p.warnings.iter().map(|w| w.code.as_str()).collect())
        .collect()
}

#[test]
fn later_events_of_a_batch_see_the_journey_an_earlier_one_started() {
    let (a, b) = (
        event("a", "h1", "CHECKIN", "enc"),
        event("bb", "h1", "SEEN", "enc"),
    );
    let p = payload(Some("CARD"), Some("GMC1"));
    let plan = plan(&[(&a, &p), (&b, &p)], known());
    assert_eq!(plan.journeys.len(), 1, "one journey for the encounter");
    let j = &plan.journeys[0];
    let new = j.new.as_ref().expect("started by the batch");
    assert_eq!(new.department_id.as_deref(), Some("dept-1"));
    assert_eq!(new.patient_id.as_deref(), Some("pat-1"));
    let st: Vec<_> = j
        .stages
        .iter()
        .map(|s| (s.status, s.completed_by.as_deref()))
        .collect();
    assert_eq!(
        st,
        [
            (StageStatus::Completed, Some("a")),
            (StageStatus::Completed, Some("bb")),
            (StageStatus::Pending, None)
        ]
    );
    assert!(!j.completed);
    assert_eq!(codes(&plan.results), [Vec::<&str>::new(), vec![]]);
    assert!(
        plan.results
            .iter()
            .all(|(_, p)| p.completed_stage.is_some())
    );
}

#[test]
fn a_later_stage_skips_the_pending_ones_before_it_and_can_finish_the_journey() {
    let (a, b) = (
        event("a", "h1", "SEEN", "enc"),
        event("bb", "h1", "CHECKOUT", "enc"),
    );
    let p = payload(None, None);
    let plan = plan(&[(&a, &p), (&b, &p)], known());
    let j = &plan.journeys[0];
    let st: Vec<_> = j.stages.iter().map(|s| s.status).collect();
    assert_eq!(
        st,
        [
            StageStatus::Skipped,
            StageStatus::Completed,
            StageStatus::Completed
        ]
    );
    assert!(j.completed);
}

#[test]
fn unknown_references_become_warnings_and_the_journey_still_starts() {
    let e = event("a", "h1", "CHECKIN", "enc");
    let mut e2 = event("bb", "h1", "CHECKIN", "enc2");
    e2.patient_identifier = "MRN-404".into();
    let p = payload(Some("NOPE"), Some("GMC404"));
    let plan = plan(&[(&e, &p), (&e2, &p)], known());
    assert_eq!(
        codes(&plan.results),
        [
            vec!["unknown_department", "unknown_physician"],
            vec!["unknown_department", "unknown_physician", "unknown_patient"]
        ]
    );
    assert_eq!(plan.journeys.len(), 2);
    let unknown = plan.journeys[1].new.as_ref().expect("new");
    assert_eq!(unknown.patient_id, None);
    assert_eq!(unknown.patient_identifier, "MRN-404");
    // The identifier is patient data: never in a warning's text.
    assert!(
        plan.results[1]
            .1
            .warnings
            .iter()
            .all(|w| !w.detail.contains("MRN-404"))
    );
}

#[test]
fn a_code_no_template_knows_is_a_warning_and_starts_nothing() {
    let e = event("a", "h1", "LAB_RESULT", "enc");
    let plan = plan(&[(&e, &payload(None, None))], known());
    assert!(plan.journeys.is_empty());
    assert_eq!(codes(&plan.results), [vec!["no_matching_stage"]]);
    assert_eq!(plan.results[0].1.completed_stage, None);
}

#[test]
fn the_hospitals_own_template_wins_and_another_hospitals_is_never_used() {
    let mut k = known();
    k.templates.push(template("h1op", Some("h1"), &["CHECKIN"]));
    k.templates.push(template("aaa", Some("h2"), &["CHECKIN"]));
    let (a, b) = (
        event("a", "h1", "CHECKIN", "e1"),
        event("bb", "h3", "CHECKIN", "e2"),
    );
    let p = payload(None, None);
    let plan = plan(&[(&a, &p), (&b, &p)], k);
    assert_eq!(plan.journeys[0].template_id, "h1op");
    assert_eq!(plan.journeys[1].template_id, "op", "group-wide, not h2's");
}

fn existing(template_id: &str, codes: &[(&str, StageStatus)]) -> Journey {
    Journey {
        id: "j-old".into(),
        hospital_id: "h1".into(),
        encounter_id: "enc".into(),
        template_id: template_id.into(),
        new: None,
        completed: false,
        completed_at: None,
        stages: codes
            .iter()
            .enumerate()
            .map(|(i, (c, s))| Stage {
                id: Uuid::now_v7(),
                template_stage_id: format!("st{i}"),
                position: i as i64 + 1,
                completing_event_code: (*c).into(),
                status: *s,
                completed_by: None,
                completed_at: None,
                changed: false,
            })
            .collect(),
    }
}

#[test]
fn an_existing_journey_is_continued_and_only_changed_stages_are_marked() {
    let mut k = known();
    k.journeys.push(existing(
        "op",
        &[
            ("CHECKIN", StageStatus::Completed),
            ("SEEN", StageStatus::Pending),
            ("CHECKOUT", StageStatus::Pending),
        ],
    ));
    let (a, b) = (
        event("a", "h1", "CHECKIN", "enc"),
        event("bb", "h1", "CHECKOUT", "enc"),
    );
    let p = payload(None, None);
    let plan = plan(&[(&a, &p), (&b, &p)], k);
    assert_eq!(plan.journeys.len(), 1, "no second journey");
    let j = &plan.journeys[0];
    assert!(j.new.is_none() && j.completed);
    let changed: Vec<_> = j.stages.iter().map(|s| (s.changed, s.status)).collect();
    assert_eq!(
        changed,
        [
            (false, StageStatus::Completed),
            (true, StageStatus::Skipped),
            (true, StageStatus::Completed)
        ]
    );
    assert_eq!(
        codes(&plan.results),
        [vec!["stage_already_completed"], vec![]]
    );
}

#[test]
fn a_stage_added_to_the_template_after_the_journey_started_is_not_matched() {
    let mut k = known();
    k.templates = vec![template("op", None, &["CHECKIN", "SEEN", "SURVEYED"])];
    k.journeys.push(existing(
        "op",
        &[
            ("CHECKIN", StageStatus::Pending),
            ("SEEN", StageStatus::Pending),
        ],
    ));
    let e = event("a", "h1", "SURVEYED", "enc");
    let plan = plan(&[(&e, &payload(None, None))], k);
    assert_eq!(
        plan.journeys.len(),
        1,
        "the encounter keeps its one journey of the template"
    );
    assert_eq!(codes(&plan.results), [vec!["no_matching_stage"]]);
    assert!(plan.journeys[0].stages.iter().all(|s| !s.changed));
}
