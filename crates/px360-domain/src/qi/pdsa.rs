//! PDSA cycles: Plan → Do → Study → Act, then adopted, adapted (a new cycle follows) or
//! abandoned. Each stage records its note; a cycle cannot skip a stage or go back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PdsaStage {
    Plan,
    Do,
    Study,
    Act,
    Closed(ActDecision),
}

/// What the Act stage decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActDecision {
    Adopt,
    Adapt,
    Abandon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PdsaCommand {
    /// Plan written: start doing.
    StartDo,
    /// Test done: study the data.
    StartStudy,
    /// Study done: decide.
    StartAct,
    Close(ActDecision),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PdsaError {
    #[error("qi.pdsa.invalid_transition")]
    InvalidTransition {
        from: PdsaStage,
        command: PdsaCommand,
    },
    #[error("qi.pdsa.note_required")]
    NoteRequired,
}

impl PdsaError {
    pub fn code(&self) -> &'static str {
        match self {
            PdsaError::InvalidTransition { .. } => "qi.pdsa.invalid_transition",
            PdsaError::NoteRequired => "qi.pdsa.note_required",
        }
    }
}

impl ActDecision {
    pub const ALL: [ActDecision; 3] =
        [ActDecision::Adopt, ActDecision::Adapt, ActDecision::Abandon];

    pub fn as_str(self) -> &'static str {
        match self {
            ActDecision::Adopt => "adopt",
            ActDecision::Adapt => "adapt",
            ActDecision::Abandon => "abandon",
        }
    }

    pub fn parse(s: &str) -> Option<ActDecision> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl PdsaStage {
    /// The stored name: `plan`, `do`, `study`, `act` or `closed` (the decision is kept apart).
    pub fn name(self) -> &'static str {
        match self {
            PdsaStage::Plan => "plan",
            PdsaStage::Do => "do",
            PdsaStage::Study => "study",
            PdsaStage::Act => "act",
            PdsaStage::Closed(_) => "closed",
        }
    }

    /// The stage from its stored name and decision (a closed cycle needs its decision).
    pub fn from_parts(name: &str, decision: Option<&str>) -> Option<PdsaStage> {
        Some(match name {
            "plan" => PdsaStage::Plan,
            "do" => PdsaStage::Do,
            "study" => PdsaStage::Study,
            "act" => PdsaStage::Act,
            "closed" => PdsaStage::Closed(ActDecision::parse(decision?)?),
            _ => return None,
        })
    }

    pub fn is_closed(self) -> bool {
        matches!(self, PdsaStage::Closed(_))
    }

    /// The next stage; `note` is what the stage being left recorded (plan, observations,
    /// learning, decision), required and bounded by [`super::MAX_TEXT`].
    pub fn apply(self, command: PdsaCommand, note: &str) -> Result<PdsaStage, PdsaError> {
        let next = match (self, command) {
            (PdsaStage::Plan, PdsaCommand::StartDo) => PdsaStage::Do,
            (PdsaStage::Do, PdsaCommand::StartStudy) => PdsaStage::Study,
            (PdsaStage::Study, PdsaCommand::StartAct) => PdsaStage::Act,
            (PdsaStage::Act, PdsaCommand::Close(d)) => PdsaStage::Closed(d),
            (from, command) => return Err(PdsaError::InvalidTransition { from, command }),
        };
        let t = note.trim();
        if t.is_empty() || t.chars().count() > super::MAX_TEXT {
            return Err(PdsaError::NoteRequired);
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cycle_goes_plan_do_study_act_and_closes() {
        let s = PdsaStage::Plan
            .apply(PdsaCommand::StartDo, "call patients 48 h after discharge")
            .unwrap()
            .apply(PdsaCommand::StartStudy, "30 calls made")
            .unwrap()
            .apply(PdsaCommand::StartAct, "readmissions down")
            .unwrap()
            .apply(PdsaCommand::Close(ActDecision::Adapt), "extend to ward 3")
            .unwrap();
        assert_eq!(s, PdsaStage::Closed(ActDecision::Adapt));
        assert!(s.is_closed());
        assert_eq!(PdsaStage::from_parts(s.name(), Some("adapt")), Some(s));
        assert_eq!(PdsaStage::from_parts("closed", None), None);
        assert_eq!(PdsaStage::from_parts("do", None), Some(PdsaStage::Do));
    }

    #[test]
    fn stages_cannot_be_skipped_or_reopened() {
        assert!(matches!(
            PdsaStage::Plan.apply(PdsaCommand::StartStudy, "x"),
            Err(PdsaError::InvalidTransition { .. })
        ));
        let closed = PdsaStage::Closed(ActDecision::Adopt);
        assert!(closed.apply(PdsaCommand::StartDo, "x").is_err());
    }

    #[test]
    fn each_stage_needs_a_bounded_note() {
        assert_eq!(
            PdsaStage::Plan.apply(PdsaCommand::StartDo, "  "),
            Err(PdsaError::NoteRequired)
        );
        let long = "a".repeat(super::super::MAX_TEXT + 1);
        assert_eq!(
            PdsaStage::Plan
                .apply(PdsaCommand::StartDo, &long)
                .unwrap_err()
                .code(),
            "qi.pdsa.note_required"
        );
    }
}
