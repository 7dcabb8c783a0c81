//! Limits for the "too many / too few runs" rule.
//!
//! The IHI table (Perla, Provost & Murray, "The run chart: a simple analytical tool for learning
//! from variation in healthcare processes", BMJ Qual Saf 2011;20:46–51, Table 1) is derived from
//! Swed & Eisenhart (1943), "Tables for testing randomness of grouping in a sequence of
//! alternatives", Ann. Math. Stat. 14:66–87, at a 5% two-sided level with the useful
//! observations split evenly above and below the median. Rather than transcribe the table we
//! compute the same distribution exactly, so that every n is covered and no typo can hide.
//! Runs rule applies from [`MIN_USEFUL`] useful observations (the table starts at 10).

/// Fewer useful observations than this: the runs rule is not applied (as in the IHI table).
pub const MIN_USEFUL: usize = 10;

/// Probability in each tail.
const TAIL: f64 = 0.025;

/// Fewer runs than `lower` is "too few"; more than `upper` is "too many".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunsLimits {
    pub lower: usize,
    pub upper: usize,
}

/// Limits for `useful` observations (points not on the median), or `None` below
/// [`MIN_USEFUL`]. Linear time in `useful`.
pub fn limits(useful: usize) -> Option<RunsLimits> {
    if useful < MIN_USEFUL {
        return None;
    }
    let n1 = useful / 2;
    let n2 = useful - n1;
    // ln k! for k ≤ useful: the binomials below overflow f64 long before 1,000 points.
    let mut ln_fact = Vec::with_capacity(useful + 1);
    ln_fact.push(0.0_f64);
    for k in 1..=useful {
        ln_fact.push(ln_fact[k - 1] + (k as f64).ln());
    }
    let ln_c = |n: usize, k: usize| -> Option<f64> {
        (k <= n).then(|| ln_fact[n] - ln_fact[k] - ln_fact[n - k])
    };
    let ln_total = ln_c(useful, n1).unwrap_or(0.0);
    let term = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a + b - ln_total).exp(),
        _ => 0.0,
    };
    // Swed–Eisenhart: P(R = 2k) = 2·C(n1−1,k−1)·C(n2−1,k−1)/C(n,n1);
    // P(R = 2k+1) = [C(n1−1,k)·C(n2−1,k−1) + C(n1−1,k−1)·C(n2−1,k)]/C(n,n1).
    let pmf = |r: usize| -> f64 {
        let k = r / 2;
        if k == 0 {
            return 0.0;
        }
        if r.is_multiple_of(2) {
            2.0 * term(ln_c(n1 - 1, k - 1), ln_c(n2 - 1, k - 1))
        } else {
            term(ln_c(n1 - 1, k), ln_c(n2 - 1, k - 1)) + term(ln_c(n1 - 1, k - 1), ln_c(n2 - 1, k))
        }
    };
    let mut cum = 0.0;
    let mut lower = 2;
    for r in 2..=useful {
        cum += pmf(r);
        if cum > TAIL {
            lower = r;
            break;
        }
    }
    let mut cum = 0.0;
    let mut upper = useful;
    for r in (2..=useful).rev() {
        cum += pmf(r);
        if cum > TAIL {
            upper = r;
            break;
        }
    }
    Some(RunsLimits { lower, upper })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_ten_useful_points_the_rule_does_not_apply() {
        assert_eq!(limits(9), None);
    }

    #[test]
    fn matches_the_published_table_where_it_agrees_with_swed_eisenhart() {
        // Rows of Perla et al. 2011, Table 1.
        for (n, lo, hi) in [
            (10, 3, 9),
            (15, 5, 12),
            (30, 11, 21),
            (40, 15, 27),
            (50, 19, 33),
        ] {
            assert_eq!(
                limits(n),
                Some(RunsLimits {
                    lower: lo,
                    upper: hi
                }),
                "n = {n}"
            );
        }
    }

    #[test]
    fn limits_are_symmetric_and_grow_with_n() {
        let mut prev = limits(10).expect("n = 10");
        for n in 11..=1_000 {
            let l = limits(n).expect("n ≥ 10");
            assert!(l.lower >= prev.lower && l.upper >= prev.upper, "n = {n}");
            assert!(l.lower <= l.upper);
            prev = l;
        }
    }
}
