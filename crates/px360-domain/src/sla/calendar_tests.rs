#![allow(clippy::unwrap_used)]
use super::presets::{riyadh, saudi_holidays_2026};
use super::*;
use proptest::prelude::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
fn h(n: u32) -> SlaDuration {
    SlaDuration::hours(n).unwrap()
}
fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn iv(s: &str) -> WorkingInterval {
    WorkingInterval::parse(s).unwrap()
}
const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

fn london_office(holidays: &[Holiday]) -> BusinessCalendar {
    let hours = WeeklyHours::uniform(&WEEKDAYS, &[iv("09:00-17:00")]).unwrap();
    BusinessCalendar::new(chrono_tz::Europe::London, hours, holidays).unwrap()
}
/// 24×7 in London with one far-away holiday, so the always-open shortcut is not taken.
fn london_24h() -> BusinessCalendar {
    let hol = [Holiday::day("far", date(2030, 1, 1))];
    BusinessCalendar::new(chrono_tz::Europe::London, WeeklyHours::always(), &hol).unwrap()
}

#[test]
fn riyadh_friday_saturday_weekend() {
    let cal = riyadh(&[]);
    // Thu 2026-01-08 16:00 +03 = 13:00Z; 1 h on Thursday, 1 h from Sunday 08:00.
    let due = cal.add_business_duration(utc("2026-01-08T13:00:00Z"), h(2));
    assert_eq!(due, utc("2026-01-11T06:00:00Z"));
    assert_eq!(
        cal.business_duration_between(utc("2026-01-08T13:00:00Z"), due),
        TimeDelta::hours(2)
    );
}

#[test]
fn split_shift_skips_lunch() {
    let cal = riyadh(&[]);
    // Sun 2026-01-11 11:30 +03 + 1 h → 13:30 +03.
    let due = cal.add_business_duration(utc("2026-01-11T08:30:00Z"), h(1));
    assert_eq!(due, utc("2026-01-11T10:30:00Z"));
    assert!(!cal.is_open(utc("2026-01-11T09:30:00Z")));
    assert!(cal.is_open(utc("2026-01-11T10:00:00Z")));
}

#[test]
fn national_day_and_eid_are_skipped() {
    let cal = riyadh(&saudi_holidays_2026());
    // Tue 22 Sep 16:00 +03; Wed 23 Sep is National Day → Thu 24 Sep 09:00 +03.
    assert_eq!(
        cal.add_business_duration(utc("2026-09-22T13:00:00Z"), h(2)),
        utc("2026-09-24T06:00:00Z")
    );
    // Wed 18 Mar 16:00; Eid al-Fitr 19–24 Mar, weekend inside it → Wed 25 Mar 09:00 +03.
    assert_eq!(
        cal.add_business_duration(utc("2026-03-18T13:00:00Z"), h(2)),
        utc("2026-03-25T06:00:00Z")
    );
    assert_eq!(
        cal.business_duration_between(utc("2026-03-18T13:00:00Z"), utc("2026-03-25T06:00:00Z")),
        TimeDelta::hours(2)
    );
}

#[test]
fn thirty_business_days() {
    let cal = riyadh(&saudi_holidays_2026());
    // Sun 4 Jan 2026 08:00 +03; 30 working days of 8 h = 6 weeks, no holiday until 22 Feb.
    let start = utc("2026-01-04T05:00:00Z");
    let due = cal.add_business_duration(start, h(240));
    assert_eq!(due, utc("2026-02-12T14:00:00Z")); // Thu 12 Feb 17:00 +03
    assert_eq!(
        cal.business_duration_between(start, due),
        TimeDelta::hours(240)
    );
}

#[test]
fn london_office_across_both_dst_changes() {
    let cal = london_office(&[]);
    // Fri 27 Mar 2026 16:00 GMT; clocks go forward Sun 29 Mar → Mon 10:00 BST = 09:00Z.
    assert_eq!(
        cal.add_business_duration(utc("2026-03-27T16:00:00Z"), h(2)),
        utc("2026-03-30T09:00:00Z")
    );
    // Fri 23 Oct 2026 16:00 BST = 15:00Z; clocks go back Sun 25 Oct → Mon 10:00 GMT.
    assert_eq!(
        cal.add_business_duration(utc("2026-10-23T15:00:00Z"), h(2)),
        utc("2026-10-26T10:00:00Z")
    );
    // A whole DST week still has 40 business hours.
    assert_eq!(
        cal.business_duration_between(utc("2026-03-23T00:00:00Z"), utc("2026-03-30T00:00:00Z")),
        TimeDelta::hours(40)
    );
}

#[test]
fn london_24h_days_are_23_and_25_hours() {
    let cal = london_24h();
    let spring =
        cal.business_duration_between(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z"));
    assert_eq!(spring, TimeDelta::hours(23));
    let autumn =
        cal.business_duration_between(utc("2026-10-24T23:00:00Z"), utc("2026-10-26T00:00:00Z"));
    assert_eq!(autumn, TimeDelta::hours(25));
    // 24×7 business time is elapsed time, across the transitions.
    let a = utc("2026-03-27T10:00:00Z");
    assert_eq!(
        cal.add_business_duration(a, h(100)),
        a + TimeDelta::hours(100)
    );
}

#[test]
fn interval_inside_dst_gap_and_overlap() {
    let hours = WeeklyHours::new([(Weekday::Sun, vec![iv("00:30-02:30")])]).unwrap();
    let cal = BusinessCalendar::new(chrono_tz::Europe::London, hours, &[]).unwrap();
    // Spring: 00:30 GMT → 02:30 BST is one real hour.
    assert_eq!(
        cal.business_duration_between(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")),
        TimeDelta::hours(1)
    );
    // Autumn: 00:30 BST → 02:30 GMT is three real hours.
    assert_eq!(
        cal.business_duration_between(utc("2026-10-24T12:00:00Z"), utc("2026-10-25T12:00:00Z")),
        TimeDelta::hours(3)
    );
    // An interval starting inside the gap starts at the transition (01:00Z).
    let hours = WeeklyHours::new([(Weekday::Sun, vec![iv("01:30-03:00")])]).unwrap();
    let cal = BusinessCalendar::new(chrono_tz::Europe::London, hours, &[]).unwrap();
    assert_eq!(
        cal.add_business_duration(
            utc("2026-03-28T12:00:00Z"),
            SlaDuration::minutes(1).unwrap()
        ),
        utc("2026-03-29T01:01:00Z")
    );
}

#[test]
fn zero_and_negative() {
    let cal = riyadh(&[]);
    let t = utc("2026-01-09T10:00:00Z"); // Friday, closed
    assert_eq!(cal.add_business_duration(t, SlaDuration::ZERO), t);
    let a = utc("2026-01-08T06:00:00Z");
    assert_eq!(
        cal.business_duration_between(t, a),
        -cal.business_duration_between(a, t)
    );
}

#[test]
fn extreme_instants_saturate() {
    let cal = riyadh(&[]);
    let far = DateTime::<Utc>::MAX_UTC - TimeDelta::days(2);
    let big = SlaDuration::new(TimeDelta::days(MAX_SLA_DAYS_FOR_TEST)).unwrap();
    assert_eq!(
        cal.add_business_duration(far, big),
        DateTime::<Utc>::MAX_UTC
    );
    let _ = cal.business_duration_between(
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MIN_UTC + TimeDelta::days(3),
    );
}
const MAX_SLA_DAYS_FOR_TEST: i64 = crate::sla::duration::MAX_SLA_DAYS;

#[test]
fn parse_errors_are_specific() {
    assert_eq!(
        WorkingInterval::parse("8-12"),
        Err(CalendarError::BadInterval("8-12".into()))
    );
    assert_eq!(
        WorkingInterval::parse("12:00-08:00"),
        Err(CalendarError::EmptyInterval("12:00-08:00".into()))
    );
    assert!(WorkingInterval::parse("20:00-24:00").is_ok());
    assert!(WorkingInterval::parse("24:00-24:00").is_err());
    assert!(WorkingInterval::parse("10:60-11:00").is_err());
    assert_eq!(
        WeeklyHours::new([(Weekday::Mon, vec![iv("08:00-12:00"), iv("11:00-13:00")])]),
        Err(CalendarError::Overlap(Weekday::Mon))
    );
    assert_eq!(
        BusinessCalendar::new(chrono_tz::UTC, WeeklyHours::new([]).unwrap(), &[]).err(),
        Some(CalendarError::NoWorkingTime)
    );
    assert!(matches!(
        Holiday::new("x", date(2026, 2, 2), date(2026, 2, 1)),
        Err(CalendarError::HolidayReversed { .. })
    ));
    assert!(matches!(
        Holiday::new("x", date(2026, 1, 1), date(2027, 6, 1)),
        Err(CalendarError::HolidayTooLong { .. })
    ));
    let spec: CalendarSpec = serde_json::from_value(serde_json::json!({
        "time_zone": "Asia/Riyadh",
        "hours": {"sun": ["08:00-12:00", "13:00-17:00"], "thu": ["08:00-12:00"]},
        "holidays": [{"name": "Eid al-Fitr", "from": "2026-03-19", "to": "2026-03-24"}]
    }))
    .unwrap();
    let cal = BusinessCalendar::from_spec(&spec).unwrap();
    assert_eq!(cal.week_length(), TimeDelta::hours(12));
    let mut bad = spec.clone();
    bad.time_zone = "Mars/Olympus".into();
    assert_eq!(
        BusinessCalendar::from_spec(&bad).err(),
        Some(CalendarError::UnknownTimeZone("Mars/Olympus".into()))
    );
    let mut bad = spec.clone();
    bad.hours.insert("someday".into(), vec![]);
    assert_eq!(
        BusinessCalendar::from_spec(&bad).err(),
        Some(CalendarError::UnknownWeekday("someday".into()))
    );
    let mut bad = spec;
    bad.holidays[0].to = Some("24 March".into());
    assert_eq!(
        BusinessCalendar::from_spec(&bad).err(),
        Some(CalendarError::BadDate("24 March".into()))
    );
}

// ---- reference model and properties ----

/// Independent, slow reference: every local date's intervals mapped with chrono directly
/// (earliest start, latest end), no week skipping and no regular-day shortcut.
fn reference_intervals(
    tz: Tz,
    hours: &WeeklyHours,
    holidays: &[Holiday],
    from: NaiveDate,
    days: u32,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for i in 0..days {
        let d = from + chrono::Days::new(u64::from(i));
        if holidays.iter().any(|h| h.first <= d && d <= h.last) {
            continue;
        }
        for iv in hours.intervals(d.weekday()) {
            let at = |secs: u32| d.and_time(NaiveTime::MIN) + TimeDelta::seconds(i64::from(secs));
            let a = tz
                .from_local_datetime(&at(iv.start))
                .earliest()
                .unwrap()
                .with_timezone(&Utc);
            let b = tz
                .from_local_datetime(&at(iv.end))
                .latest()
                .unwrap()
                .with_timezone(&Utc);
            let b = if iv.end == DAY_SECS {
                tz.from_local_datetime(&at(iv.end))
                    .earliest()
                    .unwrap()
                    .with_timezone(&Utc)
            } else {
                b
            };
            out.push((a, b));
        }
    }
    out
}

fn reference_add(
    ivs: &[(DateTime<Utc>, DateTime<Utc>)],
    start: DateTime<Utc>,
    dur: TimeDelta,
) -> DateTime<Utc> {
    let mut rem = dur;
    if rem == TimeDelta::zero() {
        return start;
    }
    for &(a, b) in ivs {
        let a = a.max(start);
        if b <= a {
            continue;
        }
        if rem <= b - a {
            return a + rem;
        }
        rem -= b - a;
    }
    panic!("reference horizon too short");
}

fn arb_case() -> impl Strategy<Value = (usize, DateTime<Utc>, i64, Vec<(u32, u32)>)> {
    (
        0usize..3,
        // Any minute of 2026 (both London DST changes, the Saudi holidays).
        0i64..(365 * 24 * 60),
        0i64..(45 * 8 * 60),
        proptest::collection::vec((0u32..365, 0u32..6), 0..12),
    )
        .prop_map(|(zone, m, dur, hols)| {
            (
                zone,
                utc("2026-01-01T00:00:00Z") + TimeDelta::minutes(m),
                dur,
                hols,
            )
        })
}

fn build(zone: usize, hols: &[(u32, u32)]) -> (Tz, WeeklyHours, Vec<Holiday>) {
    let holidays: Vec<Holiday> = hols
        .iter()
        .map(|&(day, len)| {
            let first = date(2026, 1, 1) + chrono::Days::new(u64::from(day));
            Holiday::new("h", first, first + chrono::Days::new(u64::from(len))).unwrap()
        })
        .collect();
    match zone {
        0 => (
            chrono_tz::Europe::London,
            WeeklyHours::uniform(&WEEKDAYS, &[iv("08:00-12:00"), iv("13:00-17:30")]).unwrap(),
            holidays,
        ),
        1 => (
            chrono_tz::Asia::Riyadh,
            WeeklyHours::uniform(
                &[
                    Weekday::Sun,
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                ],
                &[iv("08:00-12:00"), iv("13:00-17:00")],
            )
            .unwrap(),
            holidays,
        ),
        _ => (chrono_tz::Europe::London, WeeklyHours::always(), holidays),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn add_matches_reference_and_round_trips((zone, start, mins, hols) in arb_case()) {
        let (tz, hours, holidays) = build(zone, &hols);
        let cal = BusinessCalendar::new(tz, hours.clone(), &holidays).unwrap();
        let dur = TimeDelta::minutes(mins);
        let due = cal.add_business_duration(start, SlaDuration::new(dur).unwrap());
        let from = start.with_timezone(&tz).date_naive() - chrono::Days::new(1);
        let ivs = reference_intervals(tz, &hours, &holidays, from, 500);
        prop_assert_eq!(due, reference_add(&ivs, start, dur));
        prop_assert_eq!(cal.business_duration_between(start, due), dur);
        // Holiday-skipping: a positive target never lands on a holiday or outside hours.
        if mins > 0 {
            let local = due.with_timezone(&tz).date_naive();
            let just_before = due - TimeDelta::nanoseconds(1);
            prop_assert!(cal.is_open(just_before));
            prop_assert!(!holidays.iter().any(|h| h.first <= local && local <= h.last) || zone == 2 && due.with_timezone(&tz).time() == NaiveTime::MIN);
        }
    }

    #[test]
    fn monotonic_and_additive((zone, start, mins, hols) in arb_case(), extra in 0i64..(3 * 24 * 60), split in 0i64..(45 * 8 * 60)) {
        let (tz, hours, holidays) = build(zone, &hols);
        let cal = BusinessCalendar::new(tz, hours, &holidays).unwrap();
        let d1 = SlaDuration::new(TimeDelta::minutes(mins)).unwrap();
        let d2 = SlaDuration::new(TimeDelta::minutes(mins + extra)).unwrap();
        let t1 = cal.add_business_duration(start, d1);
        let t2 = cal.add_business_duration(start, d2);
        prop_assert!(t1 <= t2);
        let later = start + TimeDelta::minutes(extra);
        prop_assert!(cal.add_business_duration(later, d1) >= t1);
        // between is additive over any split point, so pausing and resuming loses nothing.
        let mid = start + TimeDelta::minutes(split.min(mins + extra));
        prop_assert_eq!(
            cal.business_duration_between(start, t2),
            cal.business_duration_between(start, mid) + cal.business_duration_between(mid, t2)
        );
        // add is associative in the duration.
        let step = cal.add_business_duration(start, d1);
        prop_assert_eq!(cal.add_business_duration(step, SlaDuration::new(TimeDelta::minutes(extra)).unwrap()), t2);
    }

    #[test]
    fn dst_safe_24h_is_elapsed_time(
        m in 0i64..(365 * 24 * 60),
        len in 0i64..(60 * 24 * 60),
        // Santiago skips local midnight in spring; Lord Howe shifts by 30 minutes.
        tz in prop::sample::select(vec![chrono_tz::Europe::London, chrono_tz::America::Santiago, chrono_tz::Australia::Lord_Howe]),
    ) {
        let hol = [Holiday::day("far", date(2030, 1, 1))];
        let cal = BusinessCalendar::new(tz, WeeklyHours::always(), &hol).unwrap();
        let a = utc("2026-01-01T00:00:00Z") + TimeDelta::minutes(m);
        let b = a + TimeDelta::minutes(len);
        prop_assert_eq!(cal.business_duration_between(a, b), b - a);
        prop_assert_eq!(cal.add_business_duration(a, SlaDuration::new(b - a).unwrap()), b);
    }
}
