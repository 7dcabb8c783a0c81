use super::k;
use crate::analytics::Merge;
use crate::analytics::actions::ActionState;
use crate::analytics::complaints::{ComplaintCell, ComplaintSource, Severity};
use crate::analytics::items::{ItemsAcc, Scale};
use crate::analytics::period::{Granularity, Period};
use crate::analytics::physician::{PhysicianRating, Ranked, rank_department};
use crate::analytics::ratio::Ratio;
use crate::analytics::rollup::Rollup;
use crate::analytics::sla_compliance::{SlaGoal, SlaOutcome};
use crate::survey::answer::Answer;
use crate::survey::question::Frequency;
use crate::survey::scoring::{NpsCategory, group_nps};
use chrono::{Datelike, NaiveDate, Weekday};
use proptest::prelude::*;
use uuid::Uuid;

/// One observation of any KPI in a roll-up row.
#[derive(Debug, Clone)]
enum Obs {
    Invitation(bool),
    Nps(u8),
    Rating(u8),
    Item(u8, Answer),
    Sla(bool, u8),
    Complaint(u8, u8, Option<i64>),
    Action(u8),
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        (0usize..4).prop_map(|i| Answer::Frequency(Frequency::ALL[i])),
        (0u8..=10).prop_map(Answer::Nps),
        any::<bool>().prop_map(Answer::YesNo),
        (1u8..=5).prop_map(Answer::Rating),
    ]
}

fn obs() -> impl Strategy<Value = Obs> {
    prop_oneof![
        any::<bool>().prop_map(Obs::Invitation),
        (0u8..=10).prop_map(Obs::Nps),
        (1u8..=5).prop_map(Obs::Rating),
        (0u8..3, answer()).prop_map(|(i, a)| Obs::Item(i, a)),
        (any::<bool>(), 0u8..3).prop_map(|(g, o)| Obs::Sla(g, o)),
        (0u8..3, 0u8..4, proptest::option::of(0i64..5_000_000))
            .prop_map(|(c, s, t)| Obs::Complaint(c, s, t)),
        (0u8..4).prop_map(Obs::Action),
    ]
}

fn add(r: &mut Rollup, o: &Obs) {
    match o {
        Obs::Invitation(a) => r.response_rate.add_invitation(*a),
        Obs::Nps(n) => r.survey.nps.add(*n).unwrap(),
        Obs::Rating(x) => r.survey.csat.add(*x).unwrap(),
        Obs::Item(i, a) => {
            assert!(r.survey.items.add(&k(&format!("q{i}")), a));
        }
        Obs::Sla(g, o) => {
            let g = if *g {
                SlaGoal::FirstResponse
            } else {
                SlaGoal::Resolution
            };
            let o = [SlaOutcome::Open, SlaOutcome::Met, SlaOutcome::Breached][usize::from(*o)];
            r.sla.add(g, o);
        }
        Obs::Complaint(c, s, t) => {
            let cell = ComplaintCell {
                category: k(["wait", "staff", "food"][usize::from(*c)]),
                severity: [
                    Severity::Low,
                    Severity::Medium,
                    Severity::High,
                    Severity::Critical,
                ][usize::from(*s)],
                source: ComplaintSource::Phone,
            };
            let stats = r.complaints.cell_mut(cell);
            stats.add_received();
            if let Some(t) = t {
                stats.add_resolved(*t).unwrap();
            }
        }
        Obs::Action(s) => r.actions.add(
            [
                ActionState::Open,
                ActionState::Overdue,
                ActionState::ClosedOnTime,
                ActionState::ClosedLate,
            ][usize::from(*s)],
        ),
    }
}

fn rollup(os: &[Obs]) -> Rollup {
    let mut r = Rollup::default();
    os.iter().for_each(|o| add(&mut r, o));
    r
}

fn in_0_100(x: Option<Ratio>) -> bool {
    x.is_none_or(|x| x >= Ratio::new(0, 1).unwrap() && x <= Ratio::new(100, 1).unwrap())
}

proptest! {
    #[test]
    fn merge_is_associative_commutative_and_equals_adding_everything(
        a in proptest::collection::vec(obs(), 0..40),
        b in proptest::collection::vec(obs(), 0..40),
        c in proptest::collection::vec(obs(), 0..40),
    ) {
        let (ra, rb, rc) = (rollup(&a), rollup(&b), rollup(&c));
        let mut ab = ra.clone();
        ab.merge(&rb);
        let mut ba = rb.clone();
        ba.merge(&ra);
        prop_assert_eq!(&ab, &ba);
        let mut ab_c = ab.clone();
        ab_c.merge(&rc);
        let mut bc = rb.clone();
        bc.merge(&rc);
        let mut a_bc = ra.clone();
        a_bc.merge(&bc);
        prop_assert_eq!(&ab_c, &a_bc);
        let all: Vec<Obs> = a.iter().chain(&b).chain(&c).cloned().collect();
        prop_assert_eq!(&ab_c, &rollup(&all));
        let mut with_empty = ra.clone();
        with_empty.merge(&Rollup::default());
        prop_assert_eq!(&with_empty, &ra);
        // The stored form is lossless.
        let json = serde_json::to_string(&ab_c).unwrap();
        prop_assert_eq!(serde_json::from_str::<Rollup>(&json).unwrap(), ab_c);
    }

    #[test]
    fn every_rate_is_within_bounds(os in proptest::collection::vec(obs(), 0..80)) {
        let r = rollup(&os);
        prop_assert!(in_0_100(r.response_rate.rate()));
        prop_assert!(in_0_100(r.survey.csat.csat()));
        prop_assert!(in_0_100(r.sla.first_response.compliance()));
        prop_assert!(in_0_100(r.sla.resolution.compliance()));
        prop_assert!(in_0_100(r.actions.closure_rate()));
        prop_assert!(in_0_100(r.actions.overdue_rate()));
        prop_assert!(in_0_100(r.actions.on_time_closure_rate()));
        if let Some(n) = r.survey.nps.nps() {
            prop_assert!(n.to_f64() >= -100.0 && n.to_f64() <= 100.0);
            prop_assert!((-100..=100).contains(&n.round()));
        }
        for (_, scale, s) in r.survey.items.scores() {
            for x in [Some(s.top), s.middle, Some(s.bottom), Some(s.linear_mean)] {
                prop_assert!(in_0_100(x));
            }
            let sum = s.top.to_f64() + s.middle.map_or(0.0, Ratio::to_f64) + s.bottom.to_f64();
            prop_assert!((sum - 100.0).abs() < 1e-9);
            prop_assert_eq!(s.middle.is_some(), scale != Scale::YesNo);
        }
        let total = r.complaints.total();
        if let (Some(m), Some(p90)) = (total.median_bucket(), total.p90_bucket()) {
            // The median's bucket is never above the 90th percentile's.
            prop_assert!(m.at_most_hours.unwrap_or(u64::MAX) <= p90.at_most_hours.unwrap_or(u64::MAX));
        }
    }

    #[test]
    fn nps_matches_the_survey_scorings_group_nps(xs in proptest::collection::vec(0u8..=10, 0..60)) {
        let mut acc = crate::analytics::nps::NpsAcc::default();
        xs.iter().for_each(|x| acc.add(*x).unwrap());
        let want = group_nps(xs.iter().filter_map(|x| NpsCategory::of(*x)));
        match (acc.nps(), want) {
            (Some(got), Some(want)) => prop_assert!((got.to_f64() - want).abs() < 1e-9),
            (got, want) => prop_assert_eq!(got.is_none(), want.is_none()),
        }
    }

    #[test]
    fn linear_mean_is_the_mean_of_the_scorings_linear_scores(xs in proptest::collection::vec(answer(), 1..50)) {
        // One scale per key, as the scorer sees them.
        let mut acc = ItemsAcc::default();
        let mut sums = std::collections::BTreeMap::<Scale, (f64, u64)>::new();
        for a in &xs {
            let (scale, _) = Scale::of(a).unwrap();
            acc.add(&k("q"), a);
            let e = sums.entry(scale).or_default();
            e.0 += crate::survey::scoring::linear_score(a).unwrap();
            e.1 += 1;
        }
        for (_, scale, s) in acc.scores() {
            let (sum, n) = sums[&scale];
            prop_assert_eq!(s.n, n);
            prop_assert!((s.linear_mean.to_f64() - sum / n as f64).abs() < 1e-9);
        }
    }

    #[test]
    fn suppression_and_ranking(
        ns in proptest::collection::vec((0u64..60, 0usize..4), 0..25),
        min in 0u64..60,
    ) {
        let p = super::published();
        let words = ["never", "sometimes", "usually", "always"];
        let mut ratings = Vec::new();
        for (i, (n, w)) in ns.iter().enumerate() {
            let a = super::answers(&p, &[("nps", "9"), ("rating", "3"), ("doctor_listened", words[*w])]);
            let mut acc = crate::analytics::physician::PhysicianAcc::default();
            for _ in 0..*n {
                acc.add_response(&p, &a);
            }
            let rating = acc.rating(min);
            // Rated exactly when there are answers and at least `min` of them.
            prop_assert_eq!(matches!(rating, PhysicianRating::Rated { .. }), *n > 0 && *n >= min);
            ratings.push((Uuid::from_u128(i as u128), rating));
        }
        let ranked: Vec<Ranked> = rank_department(ratings.clone());
        prop_assert_eq!(ranked.len(), ratings.len());
        let mut last: Option<(i64, u32)> = None;
        let mut seen_unranked = false;
        for (pos, r) in ranked.iter().enumerate() {
            match (r.rank, r.rating.shown_score()) {
                (Some(rank), Some(score)) => {
                    prop_assert!(!seen_unranked);
                    if let Some((ls, lr)) = last {
                        prop_assert!(score <= ls);
                        prop_assert_eq!(rank == lr, score == ls);
                    } else {
                        prop_assert_eq!(rank, 1);
                    }
                    // Competition ranking: a new rank is the 1-based position.
                    if last.is_none_or(|(ls, _)| ls != score) {
                        prop_assert_eq!(rank as usize, pos + 1);
                    }
                    last = Some((score, rank));
                }
                (None, None) => seen_unranked = true,
                _ => prop_assert!(false, "rank without score or score without rank"),
            }
        }
    }

    #[test]
    fn periods_tile_the_calendar(
        days in 0i64..40_000,
        g in prop_oneof![Just(Granularity::Day), Just(Granularity::Week), Just(Granularity::Month), Just(Granularity::Quarter)],
        ws in 0u8..7,
    ) {
        let d = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
        let ws = Weekday::try_from(ws).unwrap();
        let p = Period::containing(d, g, ws);
        prop_assert!(p.contains(d));
        prop_assert_eq!(Period::containing(p.start, g, ws), p);
        prop_assert_eq!(p.previous().end(), p.start);
        prop_assert_eq!(p.next().previous(), p);
        prop_assert_eq!(Period::parse(&p.label(), ws), Ok(p));
        let n = p.days().count();
        let (lo, hi) = match g {
            Granularity::Day => (1, 1),
            Granularity::Week => (7, 7),
            Granularity::Month => (28, 31),
            Granularity::Quarter => (90, 92),
        };
        prop_assert!((lo..=hi).contains(&n));
        if g == Granularity::Week {
            prop_assert_eq!(p.start.weekday(), ws);
        }
    }

    #[test]
    fn rounding_is_to_the_nearest_with_halves_up(num in 0i128..10_000_000, den in 1i128..100_000) {
        let r = Ratio::new(num, den).unwrap();
        let got = i128::from(r.round());
        // |got − num/den| ≤ ½, and exactly ½ only when rounding up.
        let twice_diff = 2 * (got * den - num);
        prop_assert!(twice_diff.abs() <= den);
        if twice_diff.abs() == den {
            prop_assert!(twice_diff > 0);
        }
        let neg = Ratio::new(-num, den).unwrap();
        prop_assert_eq!(neg.round(), -r.round());
    }

    #[test]
    fn exact_means_agree_with_f64(xs in proptest::collection::vec((0i128..1_000_000, 1i128..100_000), 1..12)) {
        let rs: Vec<Ratio> = xs.iter().map(|(n, d)| Ratio::new(*n, *d).unwrap()).collect();
        let m = Ratio::mean(&rs).unwrap();
        let f = rs.iter().map(|r| r.to_f64()).sum::<f64>() / rs.len() as f64;
        prop_assert!((m.to_f64() - f).abs() <= 1e-9 * f.abs().max(1.0));
    }
}
