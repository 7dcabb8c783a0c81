//! Run-chart analysis of a measure series with the IHI rules.
//!
//! Rules as taught by IHI (Perla, Provost & Murray, BMJ Qual Saf 2011;20:46–51; IHI Open School
//! QI 104): a **shift** is 6 or more consecutive points all above or all below the median;
//! a **trend** is 5 or more consecutive points all going up or all going down; a **run** is a
//! stretch of points on one side of the median, and too many or too few of them
//! ([`super::runs_limits`]) signal non-random variation; an **astronomical point** is one that
//! everyone would agree is unusual. Points exactly on the median neither count towards nor
//! break a shift or a run; equal consecutive values neither count towards nor break a trend.
//!
//! "Before and after": the median may be frozen on a baseline (the first `baseline` points)
//! and extended over the rest, so that a shift after a change shows the change worked.
//! Astronomical points are a judgement: the team flags them, and the analysis also suggests
//! points beyond the individuals-chart limits (mean ± 2.66 × mean moving range of the
//! baseline) for the team to confirm.

use super::runs_limits::{RunsLimits, limits};
use serde::Serialize;

/// Longest series analysed (five years of daily points).
pub const MAX_POINTS: usize = 2_000;
pub const SHIFT_LEN: usize = 6;
pub const TREND_LEN: usize = 5;
/// Most points a team may flag astronomical on one chart.
pub const MAX_FLAGS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RunChartError {
    #[error("qi.run_chart.empty")]
    Empty,
    #[error("qi.run_chart.too_many_points")]
    TooManyPoints,
    #[error("qi.run_chart.not_finite")]
    NotFinite { index: usize },
    #[error("qi.run_chart.bad_baseline")]
    BadBaseline,
    #[error("qi.run_chart.bad_flag")]
    BadFlag { index: usize },
}

impl RunChartError {
    /// Message code for the i18n catalogue.
    pub fn code(&self) -> &'static str {
        match self {
            RunChartError::Empty => "qi.run_chart.empty",
            RunChartError::TooManyPoints => "qi.run_chart.too_many_points",
            RunChartError::NotFinite { .. } => "qi.run_chart.not_finite",
            RunChartError::BadBaseline => "qi.run_chart.bad_baseline",
            RunChartError::BadFlag { .. } => "qi.run_chart.bad_flag",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Above,
    Below,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlaggedBy {
    Team,
    /// Beyond the individuals-chart limits: a suggestion for the team to confirm.
    Limits,
}

/// A signal of non-random variation; `start..=end` are point indexes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Signal {
    Shift {
        start: usize,
        end: usize,
        side: Side,
    },
    Trend {
        start: usize,
        end: usize,
        direction: Direction,
    },
    TooFewRuns {
        runs: usize,
        lower: usize,
    },
    TooManyRuns {
        runs: usize,
        upper: usize,
    },
    Astronomical {
        index: usize,
        flagged_by: FlaggedBy,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunChart {
    pub median: f64,
    /// Points not on the median.
    pub useful: usize,
    pub runs: usize,
    /// `None` below ten useful points: the runs rule is not applied.
    pub runs_limits: Option<(usize, usize)>,
    pub signals: Vec<Signal>,
}

impl RunChart {
    pub fn has_special_cause(&self) -> bool {
        !self.signals.is_empty()
    }
}

/// Median in linear expected time (selection, not a sort).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (lo, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if !values.len().is_multiple_of(2) {
        Some(m)
    } else {
        let below = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((below + m) / 2.0)
    }
}

/// Analyses `points`. `baseline`: freeze the median (and suggested limits) on the first this
/// many points. `team_flags`: indexes the team marked astronomical. Linear time.
pub fn analyse(
    points: &[f64],
    baseline: Option<usize>,
    team_flags: &[usize],
) -> Result<RunChart, RunChartError> {
    if points.is_empty() {
        return Err(RunChartError::Empty);
    }
    if points.len() > MAX_POINTS {
        return Err(RunChartError::TooManyPoints);
    }
    if let Some(index) = points.iter().position(|p| !p.is_finite()) {
        return Err(RunChartError::NotFinite { index });
    }
    let base = match baseline {
        None => points,
        Some(k) if (1..=points.len()).contains(&k) => &points[..k],
        Some(_) => return Err(RunChartError::BadBaseline),
    };
    if team_flags.len() > MAX_FLAGS {
        return Err(RunChartError::BadFlag { index: MAX_FLAGS });
    }
    if let Some(&index) = team_flags.iter().find(|&&i| i >= points.len()) {
        return Err(RunChartError::BadFlag { index });
    }
    let med = median(base).ok_or(RunChartError::Empty)?;
    let mut signals = Vec::new();

    // Shifts and runs: walk the useful points, skipping those on the median.
    let mut useful = 0;
    let mut runs = 0;
    let mut current: Option<(Side, usize, usize, usize)> = None; // side, start, end, count
    let close = |c: Option<(Side, usize, usize, usize)>, signals: &mut Vec<Signal>| {
        if let Some((side, start, end, count)) = c
            && count >= SHIFT_LEN
        {
            signals.push(Signal::Shift { start, end, side });
        }
    };
    for (i, &p) in points.iter().enumerate() {
        let side = if p > med {
            Side::Above
        } else if p < med {
            Side::Below
        } else {
            continue;
        };
        useful += 1;
        current = match current {
            Some((s, start, _, n)) if s == side => Some((s, start, i, n + 1)),
            other => {
                close(other, &mut signals);
                runs += 1;
                Some((side, i, i, 1))
            }
        };
    }
    close(current, &mut signals);

    // Trends: ties are skipped, a change of direction starts a new trend at the turning point.
    let mut trend: Option<(Direction, usize, usize, usize)> = None; // dir, start, end, points
    let mut prev: Option<(usize, f64)> = None;
    let close_trend = |t: Option<(Direction, usize, usize, usize)>, s: &mut Vec<Signal>| {
        if let Some((direction, start, end, n)) = t
            && n >= TREND_LEN
        {
            s.push(Signal::Trend {
                start,
                end,
                direction,
            });
        }
    };
    for (i, &p) in points.iter().enumerate() {
        let Some((pi, pv)) = prev else {
            prev = Some((i, p));
            continue;
        };
        if p == pv {
            continue;
        }
        let dir = if p > pv {
            Direction::Up
        } else {
            Direction::Down
        };
        trend = match trend {
            Some((d, start, _, n)) if d == dir => Some((d, start, i, n + 1)),
            other => {
                close_trend(other, &mut signals);
                Some((dir, pi, i, 2))
            }
        };
        prev = Some((i, p));
    }
    close_trend(trend, &mut signals);

    let lim = limits(useful);
    if let Some(RunsLimits { lower, upper }) = lim {
        if runs < lower {
            signals.push(Signal::TooFewRuns { runs, lower });
        } else if runs > upper {
            signals.push(Signal::TooManyRuns { runs, upper });
        }
    }

    for &index in team_flags {
        signals.push(Signal::Astronomical {
            index,
            flagged_by: FlaggedBy::Team,
        });
    }
    if base.len() >= 2 {
        let mean = base.iter().sum::<f64>() / base.len() as f64;
        let mr =
            base.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (base.len() - 1) as f64;
        let (lcl, ucl) = (mean - 2.66 * mr, mean + 2.66 * mr);
        for (index, &p) in points.iter().enumerate() {
            if mr > 0.0 && (p > ucl || p < lcl) && !team_flags.contains(&index) {
                signals.push(Signal::Astronomical {
                    index,
                    flagged_by: FlaggedBy::Limits,
                });
            }
        }
    }

    Ok(RunChart {
        median: med,
        useful,
        runs,
        runs_limits: lim.map(|l| (l.lower, l.upper)),
        signals,
    })
}

#[cfg(test)]
#[path = "run_chart_tests.rs"]
mod tests;
