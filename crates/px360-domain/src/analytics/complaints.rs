//! Complaints by category, severity and source, with time to resolve.
//!
//! A cell per (category, severity, source) counts complaints received and, for those resolved,
//! the sum of resolve times and an exact histogram over fixed buckets. The mean is exact; the
//! median and 90th percentile are reported as the bucket that holds them (an upper bound such
//! as "≤ 48 h"), which merges exactly where a sketch (t-digest) would only approximate.
//! Received complaints count in the period they arrived, resolutions in the period they were
//! resolved (with their full time to resolve).

use super::Merge;
use super::ratio::Ratio;
use crate::survey::key::Key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::sla::policy::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintSource {
    Survey,
    Phone,
    Email,
    InPerson,
    Web,
    SocialMedia,
    Other,
}

/// Upper bounds (inclusive, in hours) of the time-to-resolve buckets; the last bucket is
/// "longer than 30 days".
pub const BUCKET_HOURS: [u64; 10] = [1, 4, 8, 24, 48, 72, 168, 336, 720, u64::MAX];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("a time to resolve cannot be negative")]
    NegativeDuration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveStats {
    pub received: u64,
    pub resolved: u64,
    pub resolve_seconds: u64,
    /// Resolved complaints per [`BUCKET_HOURS`] bucket.
    pub buckets: [u64; 10],
}

/// The bucket holding a percentile: its inclusive upper bound in hours, `None` for the open
/// last bucket (more than 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BucketBound {
    pub at_most_hours: Option<u64>,
}

impl ResolveStats {
    pub fn add_received(&mut self) {
        self.received = self.received.saturating_add(1);
    }

    pub fn add_resolved(&mut self, seconds: i64) -> Result<(), ComplaintError> {
        let s = u64::try_from(seconds).map_err(|_| ComplaintError::NegativeDuration)?;
        self.resolved = self.resolved.saturating_add(1);
        self.resolve_seconds = self.resolve_seconds.saturating_add(s);
        let i = BUCKET_HOURS
            .iter()
            .position(|h| s <= h.saturating_mul(3600))
            .unwrap_or(BUCKET_HOURS.len() - 1);
        if let Some(b) = self.buckets.get_mut(i) {
            *b = b.saturating_add(1);
        }
        Ok(())
    }

    /// Mean time to resolve in hours (exact seconds / resolved / 3600); `None` if none resolved.
    pub fn mean_hours(&self) -> Option<Ratio> {
        Ratio::new(
            i128::from(self.resolve_seconds),
            i128::from(self.resolved) * 3600,
        )
    }

    /// The bucket of the `q`-quantile (0 < q ≤ 1, nearest-rank: the ⌈q·n⌉-th resolve time);
    /// `None` if none resolved or `q` is outside (0, 1].
    pub fn quantile_bucket(&self, q: f64) -> Option<BucketBound> {
        let n = self.buckets.iter().fold(0u64, |a, b| a.saturating_add(*b));
        if n == 0 || !(q > 0.0 && q <= 1.0) {
            return None;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0u64;
        for (i, c) in self.buckets.iter().enumerate() {
            seen = seen.saturating_add(*c);
            if seen >= rank {
                let h = BUCKET_HOURS.get(i).copied().unwrap_or(u64::MAX);
                return Some(BucketBound {
                    at_most_hours: (h != u64::MAX).then_some(h),
                });
            }
        }
        None
    }

    pub fn median_bucket(&self) -> Option<BucketBound> {
        self.quantile_bucket(0.5)
    }

    pub fn p90_bucket(&self) -> Option<BucketBound> {
        self.quantile_bucket(0.9)
    }
}

impl Merge for ResolveStats {
    fn merge(&mut self, o: &Self) {
        self.received = self.received.saturating_add(o.received);
        self.resolved = self.resolved.saturating_add(o.resolved);
        self.resolve_seconds = self.resolve_seconds.saturating_add(o.resolve_seconds);
        for (a, b) in self.buckets.iter_mut().zip(o.buckets) {
            *a = a.saturating_add(b);
        }
    }
}

/// One cell's address. Categories are configurable keys (`[a-z0-9_]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ComplaintCell {
    pub category: Key,
    pub severity: Severity,
    pub source: ComplaintSource,
}

/// The stored form of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub cell: ComplaintCell,
    pub stats: ResolveStats,
}

/// Complaint cells. Stored as a JSON list of `{category, severity, source, stats}` (JSON maps
/// need string keys); a list with a repeated cell is merged on load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Entry>", into = "Vec<Entry>")]
pub struct ComplaintsAcc(BTreeMap<ComplaintCell, ResolveStats>);

impl From<Vec<Entry>> for ComplaintsAcc {
    fn from(v: Vec<Entry>) -> Self {
        let mut acc = ComplaintsAcc::default();
        for e in v {
            acc.0.entry(e.cell).or_default().merge(&e.stats);
        }
        acc
    }
}

impl From<ComplaintsAcc> for Vec<Entry> {
    fn from(a: ComplaintsAcc) -> Self {
        a.0.into_iter()
            .map(|(cell, stats)| Entry { cell, stats })
            .collect()
    }
}

impl ComplaintsAcc {
    pub fn cell_mut(&mut self, cell: ComplaintCell) -> &mut ResolveStats {
        self.0.entry(cell).or_default()
    }

    pub fn cells(&self) -> impl Iterator<Item = (&ComplaintCell, &ResolveStats)> {
        self.0.iter()
    }

    /// Everything, merged.
    pub fn total(&self) -> ResolveStats {
        self.group_by(|_| ()).remove(&()).unwrap_or_default()
    }

    /// Cells merged by any projection of their address.
    pub fn group_by<K: Ord>(&self, f: impl Fn(&ComplaintCell) -> K) -> BTreeMap<K, ResolveStats> {
        let mut out: BTreeMap<K, ResolveStats> = BTreeMap::new();
        for (c, s) in &self.0 {
            out.entry(f(c)).or_default().merge(s);
        }
        out
    }

    pub fn by_category(&self) -> BTreeMap<Key, ResolveStats> {
        self.group_by(|c| c.category.clone())
    }

    pub fn by_severity(&self) -> BTreeMap<Severity, ResolveStats> {
        self.group_by(|c| c.severity)
    }

    pub fn by_source(&self) -> BTreeMap<ComplaintSource, ResolveStats> {
        self.group_by(|c| c.source)
    }
}

impl Merge for ComplaintsAcc {
    fn merge(&mut self, o: &Self) {
        for (c, s) in &o.0 {
            match self.0.get_mut(c) {
                Some(m) => m.merge(s),
                None => {
                    self.0.insert(c.clone(), *s);
                }
            }
        }
    }
}
