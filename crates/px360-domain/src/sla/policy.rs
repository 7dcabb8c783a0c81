//! SLA policies: per hospital, targets by complaint category and severity.
//!
//! Like Zammad's SLA (first response, update and solution time, each in minutes against one
//! calendar) and Jira Service Management's goals (one goal per matching condition, each with its
//! own calendar or 24×7). We differ in two ways: each target chooses business or calendar time
//! on its own (a critical complaint's 4 h runs through the night, a low one's 3 business days do
//! not), and rules are matched most-specific-first (category + severity, then severity alone)
//! instead of by list order, so adding a category rule cannot silently shadow another.

use super::calendar::BusinessCalendar;
use super::duration::SlaDuration;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [Self::Low, Self::Medium, Self::High, Self::Critical]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Until the item is acknowledged or the patient first hears from us.
    FirstResponse,
    /// Until resolved.
    Resolution,
    /// Between two updates to the patient (Zammad's "update time").
    NextUpdate,
}

impl Goal {
    pub const ALL: [Goal; 3] = [Goal::FirstResponse, Goal::Resolution, Goal::NextUpdate];
}

/// Whether a target counts calendar hours only or every hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    Business,
    Calendar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub within: SlaDuration,
    pub basis: TimeBasis,
}

impl Target {
    pub fn business(within: SlaDuration) -> Self {
        Target {
            within,
            basis: TimeBasis::Business,
        }
    }
    pub fn calendar(within: SlaDuration) -> Self {
        Target {
            within,
            basis: TimeBasis::Calendar,
        }
    }

    /// Due instant for a clock started at `start` and never paused: the common case when an
    /// item is created and the one the store indexes.
    pub fn due_from(&self, start: DateTime<Utc>, cal: &BusinessCalendar) -> DateTime<Utc> {
        match self.basis {
            TimeBasis::Business => cal.add_business_duration(start, self.within),
            TimeBasis::Calendar => start
                .checked_add_signed(self.within.get())
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Targets {
    pub first_response: Option<Target>,
    pub resolution: Option<Target>,
    pub next_update: Option<Target>,
}

impl Targets {
    pub fn get(&self, goal: Goal) -> Option<Target> {
        match goal {
            Goal::FirstResponse => self.first_response,
            Goal::Resolution => self.resolution,
            Goal::NextUpdate => self.next_update,
        }
    }
}

/// Warning threshold as a percentage of the target, 1..=99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct WarnAt(u8);

impl WarnAt {
    pub fn new(percent: u8) -> Result<Self, PolicyError> {
        if (1..=99).contains(&percent) {
            Ok(WarnAt(percent))
        } else {
            Err(PolicyError::WarnOutOfRange(percent))
        }
    }
    pub fn percent(self) -> u8 {
        self.0
    }
}

impl Default for WarnAt {
    fn default() -> Self {
        WarnAt(75)
    }
}

impl TryFrom<u8> for WarnAt {
    type Error = PolicyError;
    fn try_from(p: u8) -> Result<Self, PolicyError> {
        WarnAt::new(p)
    }
}

impl From<WarnAt> for u8 {
    fn from(w: WarnAt) -> u8 {
        w.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("warning threshold {0}% is outside 1..=99")]
    WarnOutOfRange(u8),
    #[error("two rules for category {category:?} and severity {severity:?}")]
    DuplicateRule {
        category: Option<String>,
        severity: Severity,
    },
    #[error("rule for category {category:?} and severity {severity:?} sets no target")]
    NoTargets {
        category: Option<String>,
        severity: Severity,
    },
}

/// `category: None` applies to every category of that severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRule {
    pub category: Option<String>,
    pub severity: Severity,
    pub targets: Targets,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    warn_at: WarnAt,
    rules: Vec<PolicyRule>,
}

impl SlaPolicy {
    pub fn new(warn_at: WarnAt, rules: Vec<PolicyRule>) -> Result<Self, PolicyError> {
        for (i, r) in rules.iter().enumerate() {
            if r.targets == Targets::default() {
                return Err(PolicyError::NoTargets {
                    category: r.category.clone(),
                    severity: r.severity,
                });
            }
            if rules[..i]
                .iter()
                .any(|p| p.category == r.category && p.severity == r.severity)
            {
                return Err(PolicyError::DuplicateRule {
                    category: r.category.clone(),
                    severity: r.severity,
                });
            }
        }
        Ok(SlaPolicy { warn_at, rules })
    }

    pub fn warn_at(&self) -> WarnAt {
        self.warn_at
    }

    /// The category-specific rule if there is one, else the severity-wide rule.
    pub fn targets_for(&self, category: &str, severity: Severity) -> Option<&Targets> {
        self.rules
            .iter()
            .find(|r| r.severity == severity && r.category.as_deref() == Some(category))
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|r| r.severity == severity && r.category.is_none())
            })
            .map(|r| &r.targets)
    }

    /// The demo group's default: critical 1 h / 4 h calendar time; high 4 h / 1 business day
    /// (8 h); medium 1 / 3 business days; low 2 / 5 business days; next update every
    /// 2 business days where set.
    pub fn demo_default() -> Self {
        let b = |h| SlaDuration::hours(h).ok().map(Target::business);
        let c = |h| SlaDuration::hours(h).ok().map(Target::calendar);
        let rule = |severity, first_response, resolution, next_update| PolicyRule {
            category: None,
            severity,
            targets: Targets {
                first_response,
                resolution,
                next_update,
            },
        };
        SlaPolicy {
            warn_at: WarnAt::default(),
            rules: vec![
                rule(Severity::Critical, c(1), c(4), None),
                rule(Severity::High, b(4), b(8), b(16)),
                rule(Severity::Medium, b(8), b(24), b(16)),
                rule(Severity::Low, b(16), b(40), None),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn most_specific_rule_wins() {
        let t = |h| Targets {
            resolution: Some(Target::business(SlaDuration::hours(h).unwrap())),
            ..Targets::default()
        };
        let p = SlaPolicy::new(
            WarnAt::default(),
            vec![
                PolicyRule {
                    category: None,
                    severity: Severity::High,
                    targets: t(8),
                },
                PolicyRule {
                    category: Some("billing".into()),
                    severity: Severity::High,
                    targets: t(24),
                },
            ],
        )
        .unwrap();
        assert_eq!(p.targets_for("billing", Severity::High), Some(&t(24)));
        assert_eq!(p.targets_for("nursing", Severity::High), Some(&t(8)));
        assert_eq!(p.targets_for("nursing", Severity::Low), None);
    }

    #[test]
    fn invalid_policies_are_rejected() {
        assert_eq!(WarnAt::new(100), Err(PolicyError::WarnOutOfRange(100)));
        assert_eq!(WarnAt::new(0), Err(PolicyError::WarnOutOfRange(0)));
        let empty = PolicyRule {
            category: None,
            severity: Severity::Low,
            targets: Targets::default(),
        };
        assert!(matches!(
            SlaPolicy::new(WarnAt::default(), vec![empty]),
            Err(PolicyError::NoTargets { .. })
        ));
        let r = SlaPolicy::demo_default().rules[0].clone();
        assert!(matches!(
            SlaPolicy::new(WarnAt::default(), vec![r.clone(), r]),
            Err(PolicyError::DuplicateRule {
                severity: Severity::Critical,
                ..
            })
        ));
        let bad: Result<WarnAt, _> = serde_json::from_value(serde_json::json!(150));
        assert!(bad.is_err());
        let bad: Result<Target, _> =
            serde_json::from_value(serde_json::json!({"within": -5, "basis": "business"}));
        assert!(bad.is_err());
    }
}
