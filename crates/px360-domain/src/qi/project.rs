//! A QI project: owner, aim, measures tied to analytics KPIs with a baseline and a target,
//! milestones, and links to actions and complaint themes. Built only through [`Project::new`],
//! so a project without an aim or with a measure whose target equals its baseline cannot exist.

use crate::analytics::rollup::Kpi;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_MEASURES: usize = 10;
pub const MAX_MILESTONES: usize = 50;
pub const MAX_LINKS: usize = 200;
pub const MAX_THEME_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Planning,
    Active,
    OnHold,
    Completed,
    Cancelled,
}

impl ProjectStatus {
    pub const ALL: [ProjectStatus; 5] = [
        ProjectStatus::Planning,
        ProjectStatus::Active,
        ProjectStatus::OnHold,
        ProjectStatus::Completed,
        ProjectStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Planning => "planning",
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on_hold",
            ProjectStatus::Completed => "completed",
            ProjectStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ProjectStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Which way is better for a measure (e.g. NPS up, complaint hours down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// A measure: an analytics KPI (so the series comes from the same roll-ups as dashboards)
/// with its baseline and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub kpi: Kpi,
    pub baseline: f64,
    pub target: f64,
}

impl Measure {
    pub fn better(&self) -> Better {
        if self.target >= self.baseline {
            Better::Higher
        } else {
            Better::Lower
        }
    }

    /// Whether `value` meets the target.
    pub fn met(&self, value: f64) -> bool {
        match self.better() {
            Better::Higher => value >= self.target,
            Better::Lower => value <= self.target,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub due: NaiveDate,
    pub done: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub hospital_id: Uuid,
    pub aim: String,
    pub status: ProjectStatus,
    pub measures: Vec<Measure>,
    pub milestones: Vec<Milestone>,
    pub action_ids: Vec<Uuid>,
    /// Complaint themes (the categories the sentiment engine and complaints use).
    pub themes: Vec<String>,
}

/// The unchecked form, as an API body would carry it.
#[derive(Debug, Clone, Default)]
pub struct ProjectDraft {
    pub aim: String,
    pub measures: Vec<Measure>,
    pub milestones: Vec<Milestone>,
    pub action_ids: Vec<Uuid>,
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProjectError {
    #[error("qi.project.aim_required")]
    AimRequired,
    #[error("qi.project.too_long")]
    TooLong,
    #[error("qi.project.no_measure")]
    NoMeasure,
    #[error("qi.project.too_many")]
    TooMany,
    #[error("qi.project.bad_measure")]
    BadMeasure { index: usize },
    #[error("qi.project.bad_milestone")]
    BadMilestone { index: usize },
    #[error("qi.project.bad_theme")]
    BadTheme { index: usize },
}

impl ProjectError {
    pub fn code(&self) -> &'static str {
        match self {
            ProjectError::AimRequired => "qi.project.aim_required",
            ProjectError::TooLong => "qi.project.too_long",
            ProjectError::NoMeasure => "qi.project.no_measure",
            ProjectError::TooMany => "qi.project.too_many",
            ProjectError::BadMeasure { .. } => "qi.project.bad_measure",
            ProjectError::BadMilestone { .. } => "qi.project.bad_milestone",
            ProjectError::BadTheme { .. } => "qi.project.bad_theme",
        }
    }
}

fn bounded(s: &str, max: usize) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t.chars().count() <= max).then(|| t.to_string())
}

impl Project {
    pub fn new(
        id: Uuid,
        owner_id: Uuid,
        hospital_id: Uuid,
        draft: ProjectDraft,
    ) -> Result<Project, ProjectError> {
        if draft.aim.trim().is_empty() {
            return Err(ProjectError::AimRequired);
        }
        let aim = bounded(&draft.aim, super::MAX_TEXT).ok_or(ProjectError::TooLong)?;
        if draft.measures.is_empty() {
            return Err(ProjectError::NoMeasure);
        }
        if draft.measures.len() > MAX_MEASURES
            || draft.milestones.len() > MAX_MILESTONES
            || draft.action_ids.len() > MAX_LINKS
            || draft.themes.len() > MAX_LINKS
        {
            return Err(ProjectError::TooMany);
        }
        for (index, m) in draft.measures.iter().enumerate() {
            if !m.baseline.is_finite() || !m.target.is_finite() || m.baseline == m.target {
                return Err(ProjectError::BadMeasure { index });
            }
        }
        let mut milestones = Vec::with_capacity(draft.milestones.len());
        for (index, m) in draft.milestones.into_iter().enumerate() {
            let title = bounded(&m.title, 200).ok_or(ProjectError::BadMilestone { index })?;
            milestones.push(Milestone { title, ..m });
        }
        let mut themes = Vec::with_capacity(draft.themes.len());
        for (index, t) in draft.themes.iter().enumerate() {
            let ok = bounded(t, MAX_THEME_LEN)
                .filter(|t| t.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            themes.push(ok.ok_or(ProjectError::BadTheme { index })?);
        }
        themes.sort();
        themes.dedup();
        let mut action_ids = draft.action_ids;
        action_ids.sort();
        action_ids.dedup();
        Ok(Project {
            id,
            owner_id,
            hospital_id,
            aim,
            status: ProjectStatus::Planning,
            measures: draft.measures,
            milestones,
            action_ids,
            themes,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn draft() -> ProjectDraft {
        ProjectDraft {
            aim: "Raise ED NPS from 20 to 40 by June".into(),
            measures: vec![Measure {
                kpi: Kpi::Nps,
                baseline: 20.0,
                target: 40.0,
            }],
            milestones: vec![Milestone {
                title: "Staff briefing".into(),
                due: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                done: None,
            }],
            action_ids: vec![Uuid::from_u128(3), Uuid::from_u128(3)],
            themes: vec!["waiting_time".into()],
        }
    }

    #[test]
    fn a_valid_draft_becomes_a_planning_project() {
        let p = Project::new(Uuid::nil(), Uuid::nil(), Uuid::nil(), draft()).unwrap();
        assert_eq!(p.status, ProjectStatus::Planning);
        assert_eq!(p.action_ids.len(), 1);
        assert_eq!(p.measures[0].better(), Better::Higher);
        assert!(p.measures[0].met(41.0));
    }

    #[test]
    fn lower_is_better_when_the_target_is_below_the_baseline() {
        let m = Measure {
            kpi: Kpi::ComplaintHoursToResolve,
            baseline: 72.0,
            target: 48.0,
        };
        assert_eq!(m.better(), Better::Lower);
        assert!(m.met(40.0) && !m.met(50.0));
    }

    #[test]
    fn bad_drafts_get_specific_codes() {
        let new = |d| Project::new(Uuid::nil(), Uuid::nil(), Uuid::nil(), d);
        let mut d = draft();
        d.aim = " ".into();
        assert_eq!(new(d).unwrap_err().code(), "qi.project.aim_required");
        let mut d = draft();
        d.measures.clear();
        assert_eq!(new(d).unwrap_err(), ProjectError::NoMeasure);
        let mut d = draft();
        d.measures[0].target = 20.0;
        assert_eq!(new(d).unwrap_err(), ProjectError::BadMeasure { index: 0 });
        let mut d = draft();
        d.themes.push("Waiting Time".into());
        assert_eq!(new(d).unwrap_err(), ProjectError::BadTheme { index: 1 });
        let mut d = draft();
        d.action_ids = vec![Uuid::nil(); MAX_LINKS + 1];
        assert_eq!(new(d).unwrap_err(), ProjectError::TooMany);
    }
}
