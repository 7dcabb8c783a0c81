#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

fn rule_signals(c: &RunChart) -> Vec<Signal> {
    c.signals
        .iter()
        .copied()
        .filter(|s| !matches!(s, Signal::Astronomical { .. }))
        .collect()
}

#[test]
fn median_of_odd_and_even_series() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[]), None);
}

#[test]
fn six_points_above_a_frozen_baseline_median_is_a_shift() {
    let pts = [
        5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0, // baseline, median 5.5
        8.0, 8.0, 9.0, 8.0, 9.0, 8.0,
    ];
    let c = analyse(&pts, Some(8), &[]).unwrap();
    assert_eq!(c.median, 5.5);
    assert!(c.signals.contains(&Signal::Shift {
        start: 7,
        end: 13,
        side: Side::Above
    }));
}

#[test]
fn five_points_on_one_side_is_not_a_shift() {
    let pts = [1.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 3.0];
    let c = analyse(&pts, None, &[]).unwrap();
    assert!(!c.signals.iter().any(|s| matches!(s, Signal::Shift { .. })));
    // Two runs in ten useful points: too few (limit 3).
    assert_eq!(c.runs, 2);
    assert!(
        c.signals
            .contains(&Signal::TooFewRuns { runs: 2, lower: 3 })
    );
}

#[test]
fn points_on_the_median_neither_count_nor_break_a_shift() {
    let pts = [
        6.0, 6.0, 6.0, 5.0, 6.0, 6.0, 6.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 5.0, 5.0,
    ];
    let c = analyse(&pts, None, &[]).unwrap();
    assert_eq!(c.median, 5.0);
    assert_eq!(c.useful, 12);
    assert_eq!(c.runs, 2);
    let shifts: Vec<_> = c
        .signals
        .iter()
        .filter(|s| matches!(s, Signal::Shift { .. }))
        .collect();
    assert_eq!(
        shifts,
        [
            &Signal::Shift {
                start: 0,
                end: 6,
                side: Side::Above
            },
            &Signal::Shift {
                start: 7,
                end: 12,
                side: Side::Below
            }
        ]
    );
}

#[test]
fn five_increasing_points_with_a_tie_are_a_trend() {
    let pts = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0];
    let c = analyse(&pts, None, &[]).unwrap();
    assert_eq!(
        rule_signals(&c),
        [Signal::Trend {
            start: 0,
            end: 5,
            direction: Direction::Up
        }]
    );
}

#[test]
fn four_decreasing_points_are_not_a_trend_but_five_are() {
    let four = analyse(&[9.0, 8.0, 7.0, 6.0, 7.0], None, &[]).unwrap();
    assert!(rule_signals(&four).is_empty());
    let five = analyse(&[9.0, 8.0, 7.0, 6.0, 5.0, 7.0], None, &[]).unwrap();
    assert_eq!(
        rule_signals(&five),
        [Signal::Trend {
            start: 0,
            end: 4,
            direction: Direction::Down
        }]
    );
}

#[test]
fn alternating_points_are_too_many_runs() {
    let pts: Vec<f64> = (0..10)
        .map(|i| if i % 2 == 0 { 1.0 } else { 3.0 })
        .collect();
    let c = analyse(&pts, None, &[]).unwrap();
    assert_eq!(c.runs, 10);
    assert_eq!(c.runs_limits, Some((3, 9)));
    assert_eq!(
        rule_signals(&c),
        [Signal::TooManyRuns { runs: 10, upper: 9 }]
    );
}

#[test]
fn random_looking_series_has_no_signal() {
    let pts = [
        52.0, 48.0, 55.0, 50.0, 47.0, 53.0, 49.0, 51.0, 46.0, 54.0, 50.5, 48.5,
    ];
    let c = analyse(&pts, None, &[]).unwrap();
    assert!(!c.has_special_cause(), "{:?}", c.signals);
}

#[test]
fn astronomical_points_come_from_the_team_and_from_limits() {
    let mut pts = vec![10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0];
    pts.push(40.0);
    let c = analyse(&pts, Some(8), &[2]).unwrap();
    assert!(c.signals.contains(&Signal::Astronomical {
        index: 2,
        flagged_by: FlaggedBy::Team
    }));
    assert!(c.signals.contains(&Signal::Astronomical {
        index: 8,
        flagged_by: FlaggedBy::Limits
    }));
}

#[test]
fn bad_input_gets_specific_errors() {
    assert_eq!(analyse(&[], None, &[]), Err(RunChartError::Empty));
    assert_eq!(
        analyse(&[1.0, f64::NAN], None, &[]),
        Err(RunChartError::NotFinite { index: 1 })
    );
    assert_eq!(
        analyse(&vec![1.0; MAX_POINTS + 1], None, &[]),
        Err(RunChartError::TooManyPoints)
    );
    assert_eq!(
        analyse(&[1.0, 2.0], Some(3), &[]),
        Err(RunChartError::BadBaseline)
    );
    assert_eq!(
        analyse(&[1.0, 2.0], None, &[2]),
        Err(RunChartError::BadFlag { index: 2 })
    );
    assert_eq!(RunChartError::Empty.code(), "qi.run_chart.empty");
}

proptest! {
    #[test]
    fn analysis_is_total_and_signals_point_inside_the_series(
        pts in proptest::collection::vec(-1e6f64..1e6, 1..200)
    ) {
        let c = analyse(&pts, None, &[]).unwrap();
        let lo = pts.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(lo <= c.median && c.median <= hi);
        prop_assert!(c.runs <= c.useful);
        for s in &c.signals {
            match *s {
                Signal::Shift { start, end, .. } | Signal::Trend { start, end, .. } => {
                    prop_assert!(start < end && end < pts.len());
                }
                Signal::Astronomical { index, .. } => prop_assert!(index < pts.len()),
                _ => {}
            }
        }
    }
}
