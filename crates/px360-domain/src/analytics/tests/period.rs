use crate::analytics::period::{Calendar, Granularity::*, Period};
use crate::analytics::trend::{Direction, Sample, Trend, TrendRule};
use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::{America, Asia, Europe};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

#[test]
fn riyadh_weeks_start_on_sunday_in_local_time() {
    let cal = Calendar::new(Asia::Riyadh, Weekday::Sun);
    // 21:30 UTC on Saturday 5 December is 00:30 on Sunday the 6th in Riyadh (UTC+3).
    let p = cal.period_of(utc(2026, 12, 5, 21, 30), Week);
    assert_eq!(p.start, d(2026, 12, 6));
    assert_eq!(p.end(), d(2026, 12, 13));
    assert_eq!(p.label(), "2026-12-06/W");
    assert_eq!(
        cal.utc_bounds(&p),
        (utc(2026, 12, 5, 21, 0), utc(2026, 12, 12, 21, 0))
    );
    assert_eq!(p.previous().start, d(2026, 11, 29));
    assert_eq!(p.next().start, d(2026, 12, 13));
    assert_eq!(p.days().count(), 7);
    // 20:59 UTC is still Saturday there: the previous week.
    assert_eq!(cal.period_of(utc(2026, 12, 5, 20, 59), Week), p.previous());
    // The same instant in a Monday (ISO) and a Saturday calendar.
    let iso = Period::containing(d(2026, 12, 6), Week, Weekday::Mon);
    assert_eq!(iso.start, d(2026, 11, 30));
    let sat = Period::containing(d(2026, 12, 6), Week, Weekday::Sat);
    assert_eq!(sat.start, d(2026, 12, 5));
}

#[test]
fn iso_week_labels_use_the_iso_year() {
    // Sunday 3 January 2021 belongs to ISO week 53 of 2020.
    let p = Period::containing(d(2021, 1, 3), Week, Weekday::Mon);
    assert_eq!(p.start, d(2020, 12, 28));
    assert_eq!(p.label(), "2020-W53");
    assert_eq!(p.next().label(), "2021-W01");
}

#[test]
fn months_and_quarters_across_london_clock_changes() {
    let cal = Calendar::new(Europe::London, Weekday::Mon);
    // 23:30 UTC on 31 March 2026 is 00:30 BST on 1 April.
    let april = cal.period_of(utc(2026, 3, 31, 23, 30), Month);
    assert_eq!(
        (april.start, april.label()),
        (d(2026, 4, 1), "2026-04".to_string())
    );
    let march = april.previous();
    // March starts at GMT midnight and ends at BST midnight: 31 days minus one hour.
    assert_eq!(
        cal.utc_bounds(&march),
        (utc(2026, 3, 1, 0, 0), utc(2026, 3, 31, 23, 0))
    );
    // The spring-forward day (29 March 2026) is 23 hours long, the autumn one (25 October) 25.
    let (s, e) = cal.utc_bounds(&Period::containing(d(2026, 3, 29), Day, Weekday::Mon));
    assert_eq!((e - s).num_hours(), 23);
    let (s, e) = cal.utc_bounds(&Period::containing(d(2026, 10, 25), Day, Weekday::Mon));
    assert_eq!((e - s).num_hours(), 25);
    let q = Period::containing(d(2026, 11, 15), Quarter, Weekday::Mon);
    assert_eq!(
        (q.start, q.end(), q.label()),
        (d(2026, 10, 1), d(2027, 1, 1), "2026-Q4".into())
    );
    assert_eq!(q.previous().start, d(2026, 7, 1));
    assert_eq!(q.days().count(), 92);
    assert_eq!(
        Period::containing(d(2024, 2, 29), Quarter, Weekday::Mon)
            .days()
            .count(),
        91
    );
    assert_eq!(
        Period::containing(d(2024, 2, 29), Month, Weekday::Mon)
            .days()
            .count(),
        29
    );
    assert!(q.contains(d(2026, 12, 31)) && !q.contains(d(2027, 1, 1)));
    let jan = Period::containing(d(2027, 1, 20), Month, Weekday::Mon);
    assert_eq!(jan.previous().start, d(2026, 12, 1));
    assert_eq!(
        Period::containing(d(2026, 5, 31), Month, Weekday::Mon)
            .next()
            .start,
        d(2026, 6, 1)
    );
}

#[test]
fn a_day_whose_midnight_does_not_exist_starts_after_the_gap() {
    // Santiago sprang forward from 00:00 to 01:00 on 11 September 2022.
    let cal = Calendar::new(America::Santiago, Weekday::Mon);
    let day = Period::containing(d(2022, 9, 11), Day, Weekday::Mon);
    // It starts at 01:00 −03 (04:00 UTC), where the 10th, a full 24 h day at −04, ended.
    let (s, e) = cal.utc_bounds(&day);
    assert_eq!((s, (e - s).num_hours()), (utc(2022, 9, 11, 4, 0), 23));
    let (s, e) = cal.utc_bounds(&day.previous());
    assert_eq!((s, (e - s).num_hours()), (utc(2022, 9, 10, 4, 0), 24));
}

#[test]
fn trends_need_a_minimum_sample_and_ignore_small_moves() {
    let rule = TrendRule::default();
    let s = |v: f64, n: u64| Sample { value: Some(v), n };
    assert_eq!(
        rule.trend(s(55.0, 40), s(50.0, 30)),
        Trend::Change {
            direction: Direction::Up,
            delta: 5.0
        }
    );
    assert_eq!(
        rule.trend(s(45.0, 40), s(50.0, 30)),
        Trend::Change {
            direction: Direction::Down,
            delta: -5.0
        }
    );
    assert_eq!(
        rule.trend(s(50.5, 40), s(50.0, 30)),
        Trend::Change {
            direction: Direction::Flat,
            delta: 0.5
        }
    );
    assert_eq!(
        rule.trend(s(90.0, 29), s(10.0, 300)),
        Trend::InsufficientData
    );
    assert_eq!(
        rule.trend(s(90.0, 300), s(10.0, 29)),
        Trend::InsufficientData
    );
    assert_eq!(
        rule.trend(s(90.0, 300), Sample { value: None, n: 0 }),
        Trend::InsufficientData
    );
    let json = serde_json::to_string(&rule.trend(s(55.0, 40), s(50.0, 30))).unwrap();
    assert_eq!(json, r#"{"kind":"change","direction":"up","delta":5.0}"#);
}

#[test]
fn labels_parse_back_and_bad_ones_are_refused() {
    use crate::analytics::period::PeriodError;
    for (label, ws) in [
        ("2026-12-06", Weekday::Sun),
        ("2026-W49", Weekday::Mon),
        ("2020-W53", Weekday::Mon),
        ("2026-12-06/W", Weekday::Sun),
        ("2026-12", Weekday::Sun),
        ("2026-Q4", Weekday::Sun),
        ("2026-Q1", Weekday::Mon),
    ] {
        let p = Period::parse(label, ws).unwrap();
        assert_eq!(p.label(), label);
    }
    assert_eq!(
        Period::parse("2026-Q4", Weekday::Sun).unwrap().start,
        d(2026, 10, 1)
    );
    let bad = PeriodError::BadLabel;
    for label in [
        "",
        "2026",
        "2026-13",
        "2026-Q5",
        "2026-Q0",
        "2026-W54",
        "2021-W53",
        "2026-1-5",
        "x-W1",
        "2026-12-06/X",
        "2026-W4",
    ] {
        assert_eq!(
            Period::parse(label, Weekday::Mon),
            Err(bad.clone()),
            "{label}"
        );
    }
    // A Monday is not where a Sunday calendar's week starts, and ISO labels need Monday weeks.
    assert_eq!(
        Period::parse("2026-12-07/W", Weekday::Sun),
        Err(PeriodError::NotAWeekStart(Weekday::Sun))
    );
    assert_eq!(
        Period::parse("2026-W49", Weekday::Sun),
        Err(PeriodError::NotAWeekStart(Weekday::Sun))
    );
    assert!(PeriodError::BadLabel.to_string().contains("2026-Q4"));
}
