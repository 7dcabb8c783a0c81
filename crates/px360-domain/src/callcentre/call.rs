//! A call record: direction, who called, the patient lookup key, reason, outcome, duration.
//! Free-text notes are not part of the record: the store keeps them beside it (patient data,
//! read under the call's own access rules) with the sentiment engine's verdict on them.

use super::lookup::PatientKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest call recorded; a longer duration is a typing error.
pub const MAX_DURATION_SECS: u32 = 4 * 3600;

/// `as_str`, `parse` and `ALL` for the snake_case names the store and the API use.
macro_rules! names {
    ($t:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($t::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Caller {
    Patient,
    Relative,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Appointment,
    Complaint,
    Compliment,
    Enquiry,
    Billing,
    SurveyFollowUp,
    Callback,
    Other,
}

/// What the call produced; the linked object's id is stored with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    ComplaintCreated,
    FeedbackCreated,
    SurveyCompleted,
    CallbackScheduled,
    NoAnswer,
    Transferred,
}

names!(Direction { Inbound => "inbound", Outbound => "outbound" });
names!(Caller { Patient => "patient", Relative => "relative", Other => "other" });
names!(Reason {
    Appointment => "appointment",
    Complaint => "complaint",
    Compliment => "compliment",
    Enquiry => "enquiry",
    Billing => "billing",
    SurveyFollowUp => "survey_follow_up",
    Callback => "callback",
    Other => "other",
});
names!(Outcome {
    Resolved => "resolved",
    ComplaintCreated => "complaint_created",
    FeedbackCreated => "feedback_created",
    SurveyCompleted => "survey_completed",
    CallbackScheduled => "callback_scheduled",
    NoAnswer => "no_answer",
    Transferred => "transferred",
});

#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub agent_id: Uuid,
    pub direction: Direction,
    pub caller: Caller,
    pub patient: Option<PatientKey>,
    pub reason: Reason,
    pub outcome: Outcome,
    pub duration_secs: u32,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("callcentre.call.bad_duration")]
    BadDuration,
    #[error("callcentre.call.patient_required")]
    PatientRequired,
    #[error("callcentre.call.answered_without_talk")]
    AnsweredWithoutTalk,
}

impl CallError {
    pub fn code(self) -> &'static str {
        match self {
            CallError::BadDuration => "callcentre.call.bad_duration",
            CallError::PatientRequired => "callcentre.call.patient_required",
            CallError::AnsweredWithoutTalk => "callcentre.call.answered_without_talk",
        }
    }
}

impl CallRecord {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        agent_id: Uuid,
        direction: Direction,
        caller: Caller,
        patient: Option<PatientKey>,
        reason: Reason,
        outcome: Outcome,
        duration_secs: u32,
        started_at: DateTime<Utc>,
    ) -> Result<CallRecord, CallError> {
        if duration_secs > MAX_DURATION_SECS {
            return Err(CallError::BadDuration);
        }
        // A complaint, feedback or survey made from a call belongs to a patient.
        let needs_patient = matches!(
            outcome,
            Outcome::ComplaintCreated | Outcome::FeedbackCreated | Outcome::SurveyCompleted
        );
        if needs_patient && patient.is_none() {
            return Err(CallError::PatientRequired);
        }
        if outcome != Outcome::NoAnswer && duration_secs == 0 {
            return Err(CallError::AnsweredWithoutTalk);
        }
        Ok(CallRecord {
            agent_id,
            direction,
            caller,
            patient,
            reason,
            outcome,
            duration_secs,
            started_at,
        })
    }

    pub fn answered(&self) -> bool {
        self.outcome != Outcome::NoAnswer
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rec(
        patient: Option<PatientKey>,
        outcome: Outcome,
        secs: u32,
    ) -> Result<CallRecord, CallError> {
        CallRecord::new(
            Uuid::nil(),
            Direction::Inbound,
            Caller::Patient,
            patient,
            Reason::Complaint,
            outcome,
            secs,
            Utc::now(),
        )
    }

    #[test]
    fn a_complaint_call_needs_a_patient_and_talk_time() {
        let k = PatientKey::mrn("M1").unwrap();
        assert!(
            rec(Some(k.clone()), Outcome::ComplaintCreated, 300)
                .unwrap()
                .answered()
        );
        assert_eq!(
            rec(None, Outcome::ComplaintCreated, 300),
            Err(CallError::PatientRequired)
        );
        assert_eq!(
            rec(Some(k), Outcome::Resolved, 0),
            Err(CallError::AnsweredWithoutTalk)
        );
        assert!(!rec(None, Outcome::NoAnswer, 0).unwrap().answered());
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert_eq!(
            Reason::parse("survey_follow_up"),
            Some(Reason::SurveyFollowUp)
        );
        assert_eq!(Direction::parse("sideways"), None);
        assert_eq!(
            rec(None, Outcome::Resolved, MAX_DURATION_SECS + 1)
                .unwrap_err()
                .code(),
            "callcentre.call.bad_duration"
        );
    }
}
