//! Exact results: a KPI is a ratio of integer counters, turned into a number only at the end.
//!
//! Keeping the numerator and denominator as integers means that a score computed from 365 merged
//! daily roll-ups is bit-for-bit the score computed from the raw responses, and that rounding
//! for display is exact: CMS publishes HCAHPS scores as whole numbers using standard rounding
//! (halves round up), so 66.5 must become 67 and 66.4999… must become 66, which f64 arithmetic
//! on thirds cannot promise. Technical Notes for HCAHPS Star Ratings
//! (<https://hcahpsonline.org/en/hcahps-star-ratings>): "linear mean scores … rounded to whole
//! integers" (summarised at beckershospitalreview.com, "CMS' new hospital rating system").

use serde::Serialize;
use std::cmp::Ordering;

/// `num / den` with `den > 0`, not necessarily in lowest terms: equality and ordering compare
/// values. A result,
/// never stored (the counters are), so it has no `Deserialize` that could make `den` zero.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    /// `None` when `den` is zero (no observations: the KPI is undefined, not 0) or `i128::MIN`.
    pub fn new(num: i128, den: i128) -> Option<Self> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Ratio { num, den }),
            Ordering::Less => Some(Ratio {
                num: num.checked_neg()?,
                den: den.checked_neg()?,
            }),
        }
    }

    /// `100 · part / whole`: a percentage, `None` when `whole` is zero.
    pub fn percent(part: u64, whole: u64) -> Option<Self> {
        Ratio::new(i128::from(part) * 100, i128::from(whole))
    }

    pub fn num(self) -> i128 {
        self.num
    }

    pub fn den(self) -> i128 {
        self.den
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Nearest whole number, halves away from zero (for non-negative scores this is CMS's
    /// "standard rounding": .5 rounds up). Exact integer arithmetic.
    pub fn round(self) -> i64 {
        let (n, d) = (self.num.unsigned_abs(), self.den.unsigned_abs());
        // floor((2n + d) / 2d) = floor(n/d + 1/2)
        let r = n.saturating_mul(2).saturating_add(d) / d.saturating_mul(2);
        let r = i64::try_from(r).unwrap_or(i64::MAX);
        if self.num < 0 { -r } else { r }
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        // Denominators are positive, so cross-multiplying keeps the order. Real counters keep
        // the products far inside i128; absurd ones fall back to comparing the f64 values.
        match (
            self.num.checked_mul(other.den),
            other.num.checked_mul(self.den),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    i128::try_from(a).unwrap_or(1).max(1)
}

impl Ratio {
    /// In lowest terms (keeps sums of many ratios small).
    pub fn reduced(self) -> Ratio {
        let g = gcd(self.num, self.den);
        Ratio {
            num: self.num / g,
            den: self.den / g,
        }
    }

    /// Exact sum, `None` if it does not fit in i128.
    pub fn checked_add(self, o: Ratio) -> Option<Ratio> {
        let g = gcd(self.den, o.den);
        let den = (self.den / g).checked_mul(o.den)?;
        let num = self
            .num
            .checked_mul(den / self.den)?
            .checked_add(o.num.checked_mul(den / o.den)?)?;
        Some(Ratio { num, den }.reduced())
    }

    /// The nearest multiple of 10⁻⁹ to `x`.
    fn approx(x: f64) -> Ratio {
        Ratio {
            num: (x * 1e9).round() as i128,
            den: 1_000_000_000,
        }
    }

    /// Mean of item scores, as CMS forms a composite ("the average of the items' scores"):
    /// exact, so a composite is rounded for display exactly like an item. Items with unrelated
    /// denominators can make the exact sum outgrow i128 (many items with large, coprime answer
    /// counts); then the mean is taken in f64 and kept to 10⁻⁹. `None` for no items.
    pub fn mean(values: &[Ratio]) -> Option<Ratio> {
        let k = i128::try_from(values.len()).ok().filter(|k| *k > 0)?;
        let exact = values
            .iter()
            .try_fold(Ratio { num: 0, den: 1 }, |acc, v| acc.checked_add(*v))
            .and_then(|sum| Ratio::new(sum.num, sum.den.checked_mul(k)?));
        exact.map(Ratio::reduced).or_else(|| {
            let sum: f64 = values.iter().map(|v| v.to_f64()).sum();
            Some(Ratio::approx(sum / k as f64))
        })
    }
}

/// Scores serialise as their value (JSON number), for the API and exports.
impl Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}
