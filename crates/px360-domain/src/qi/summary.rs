//! The one-line status of a QI project for the executive summary: each measure's latest value
//! against its target, whether its run chart shows improvement after the baseline, milestones
//! and PDSA cycles, and a red/amber/green rating.
//!
//! Rating: green when every measure meets its target or shows improvement (a shift or trend in
//! the better direction after the baseline) and no milestone is overdue; red when a milestone
//! is overdue and no measure improves; amber otherwise.

use super::pdsa::PdsaStage;
use super::project::{Better, Measure, Project, ProjectStatus};
use super::run_chart::{Direction, RunChart, Side, Signal};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    Green,
    Amber,
    Red,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureStatus {
    pub kpi: crate::analytics::rollup::Kpi,
    pub baseline: f64,
    pub target: f64,
    pub latest: Option<f64>,
    pub met: bool,
    pub improving: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectSummary {
    pub project_id: Uuid,
    pub status: ProjectStatus,
    pub rag: Rag,
    pub measures: Vec<MeasureStatus>,
    pub milestones_done: usize,
    pub milestones_total: usize,
    pub milestones_overdue: usize,
    pub pdsa_open: usize,
    pub pdsa_closed: usize,
}

/// Whether a chart analysed with the median frozen on the first `baseline` points shows a
/// shift or trend in the better direction ending after the baseline.
pub fn improving(chart: &RunChart, baseline: usize, better: Better) -> bool {
    chart.signals.iter().any(|s| match *s {
        Signal::Shift { end, side, .. } => {
            end >= baseline
                && side
                    == match better {
                        Better::Higher => Side::Above,
                        Better::Lower => Side::Below,
                    }
        }
        Signal::Trend { end, direction, .. } => {
            end >= baseline
                && direction
                    == match better {
                        Better::Higher => Direction::Up,
                        Better::Lower => Direction::Down,
                    }
        }
        _ => false,
    })
}

/// One measure's series and its analysis, in the order of [`Project::measures`].
pub struct MeasureSeries<'a> {
    pub latest: Option<f64>,
    /// The chart with its median frozen on the first `baseline_points`, if analysed.
    pub chart: Option<(&'a RunChart, usize)>,
}

pub fn summarise(
    project: &Project,
    series: &[MeasureSeries<'_>],
    pdsa: &[PdsaStage],
    today: NaiveDate,
) -> ProjectSummary {
    let measures: Vec<MeasureStatus> = project
        .measures
        .iter()
        .enumerate()
        .map(|(i, m): (usize, &Measure)| {
            let s = series.get(i);
            let latest = s.and_then(|s| s.latest);
            let improving = s
                .and_then(|s| s.chart)
                .is_some_and(|(c, b)| improving(c, b, m.better()));
            MeasureStatus {
                kpi: m.kpi,
                baseline: m.baseline,
                target: m.target,
                latest,
                met: latest.is_some_and(|v| m.met(v)),
                improving,
            }
        })
        .collect();
    let milestones_done = project
        .milestones
        .iter()
        .filter(|m| m.done.is_some())
        .count();
    let milestones_overdue = project
        .milestones
        .iter()
        .filter(|m| m.done.is_none() && m.due < today)
        .count();
    let all_good = measures.iter().all(|m| m.met || m.improving);
    let any_improving = measures.iter().any(|m| m.met || m.improving);
    let rag = if all_good && milestones_overdue == 0 {
        Rag::Green
    } else if milestones_overdue > 0 && !any_improving {
        Rag::Red
    } else {
        Rag::Amber
    };
    let pdsa_closed = pdsa.iter().filter(|s| s.is_closed()).count();
    ProjectSummary {
        project_id: project.id,
        status: project.status,
        rag,
        measures,
        milestones_done,
        milestones_total: project.milestones.len(),
        milestones_overdue,
        pdsa_open: pdsa.len() - pdsa_closed,
        pdsa_closed,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::analytics::rollup::Kpi;
    use crate::qi::pdsa::ActDecision;
    use crate::qi::project::{Milestone, ProjectDraft};
    use crate::qi::run_chart::analyse;

    fn project(due: NaiveDate) -> Project {
        Project::new(
            Uuid::from_u128(1),
            Uuid::nil(),
            Uuid::nil(),
            ProjectDraft {
                aim: "Raise NPS".into(),
                measures: vec![Measure {
                    kpi: Kpi::Nps,
                    baseline: 20.0,
                    target: 40.0,
                }],
                milestones: vec![Milestone {
                    title: "Brief staff".into(),
                    due,
                    done: None,
                }],
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_shift_up_after_the_baseline_is_green_even_below_target() {
        let pts = [
            20.0, 21.0, 19.0, 20.0, 22.0, 18.0, 30.0, 31.0, 29.0, 32.0, 30.0, 33.0,
        ];
        let chart = analyse(&pts, Some(6), &[]).unwrap();
        let s = summarise(
            &project(d("2026-12-31")),
            &[MeasureSeries {
                latest: Some(33.0),
                chart: Some((&chart, 6)),
            }],
            &[PdsaStage::Do, PdsaStage::Closed(ActDecision::Adapt)],
            d("2026-06-01"),
        );
        assert!(s.measures[0].improving && !s.measures[0].met);
        assert_eq!(s.rag, Rag::Green);
        assert_eq!((s.pdsa_open, s.pdsa_closed), (1, 1));
    }

    #[test]
    fn an_overdue_milestone_with_no_improvement_is_red() {
        let s = summarise(
            &project(d("2026-01-31")),
            &[MeasureSeries {
                latest: Some(21.0),
                chart: None,
            }],
            &[],
            d("2026-06-01"),
        );
        assert_eq!(s.milestones_overdue, 1);
        assert_eq!(s.rag, Rag::Red);
    }

    #[test]
    fn no_overdue_milestone_and_no_improvement_is_amber() {
        let s = summarise(&project(d("2026-12-31")), &[], &[], d("2026-06-01"));
        assert_eq!(s.rag, Rag::Amber);
        assert_eq!(s.measures[0].latest, None);
    }
}
