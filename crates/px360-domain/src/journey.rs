//! Stage bookkeeping for one journey instance.
//!
//! Rule: completing the stage at position p marks earlier still-pending stages `skipped`
//! (the patient moved on); a late event for a skipped stage still completes it, so out-of-order
//! delivery from hospital systems does not lose information.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Pending,
    Completed,
    Skipped,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Pending => "pending",
            StageStatus::Completed => "completed",
            StageStatus::Skipped => "skipped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Completed, Self::Skipped]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A journey instance's status: active until its last pending stage is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JourneyStatus {
    Active,
    Completed,
}

impl JourneyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyStatus::Active => "active",
            JourneyStatus::Completed => "completed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Completed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageState {
    pub stage_instance_id: Uuid,
    pub position: i64,
    pub completing_event_code: String,
    pub status: StageStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Complete `complete`; mark `skip` skipped; `journey_done` when nothing is pending after.
    Complete {
        complete: Uuid,
        skip: Vec<Uuid>,
        journey_done: bool,
    },
    AlreadyCompleted(Uuid),
    NoMatchingStage,
}

pub fn apply(stages: &[StageState], event_code: &str) -> Outcome {
    let Some(target) = stages
        .iter()
        .find(|s| s.completing_event_code == event_code)
    else {
        return Outcome::NoMatchingStage;
    };
    if target.status == StageStatus::Completed {
        return Outcome::AlreadyCompleted(target.stage_instance_id);
    }
    let skip: Vec<Uuid> = stages
        .iter()
        .filter(|s| s.position < target.position && s.status == StageStatus::Pending)
        .map(|s| s.stage_instance_id)
        .collect();
    let journey_done = stages.iter().all(|s| {
        s.stage_instance_id == target.stage_instance_id
            || s.status != StageStatus::Pending
            || skip.contains(&s.stage_instance_id)
    });
    Outcome::Complete {
        complete: target.stage_instance_id,
        skip,
        journey_done,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn st(pos: i64, code: &str, status: StageStatus) -> StageState {
        StageState {
            stage_instance_id: Uuid::new_v4(),
            position: pos,
            completing_event_code: code.into(),
            status,
        }
    }

    #[test]
    fn completing_later_stage_skips_earlier_pending() {
        let s = vec![
            st(1, "A", StageStatus::Pending),
            st(2, "B", StageStatus::Pending),
            st(3, "C", StageStatus::Pending),
        ];
        match apply(&s, "B") {
            Outcome::Complete {
                complete,
                skip,
                journey_done,
            } => {
                assert_eq!(complete, s[1].stage_instance_id);
                assert_eq!(skip, vec![s[0].stage_instance_id]);
                assert!(!journey_done);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn last_stage_finishes_journey_and_repeats_are_noops() {
        let s = vec![
            st(1, "A", StageStatus::Completed),
            st(2, "B", StageStatus::Skipped),
            st(3, "C", StageStatus::Pending),
        ];
        assert!(matches!(
            apply(&s, "C"),
            Outcome::Complete {
                journey_done: true,
                ..
            }
        ));
        assert_eq!(
            apply(&s, "A"),
            Outcome::AlreadyCompleted(s[0].stage_instance_id)
        );
        assert!(matches!(apply(&s, "B"), Outcome::Complete { .. }));
        assert_eq!(apply(&s, "Z"), Outcome::NoMatchingStage);
    }
}
