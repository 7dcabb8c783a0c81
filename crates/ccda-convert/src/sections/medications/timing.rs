//! Dosage timing → C-CDA frequency: `PIVL_TS` for "n times per period", `EIVL_TS` for
//! event-related timing (before meals, at bedtime…).

/// How often: a period (PIVL_TS) or an event (EIVL_TS).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frequency {
    Period { value: String, unit: &'static str },
    Event(&'static str),
}

pub(crate) fn pivl(t: &fhir_stu3::Timing) -> Option<Frequency> {
    let period: f64 = t.period.as_ref()?.as_str().parse().ok()?;
    let freq = t.frequency.unwrap_or(1).max(1) as f64;
    let (hours, unit) = match t.period_unit.as_deref()? {
        "min" => (1.0 / 60.0, "min"),
        "h" => (1.0, "h"),
        "d" => (24.0, "h"),
        "wk" => (168.0, "h"),
        "mo" => (1.0, "mo"),
        "a" => (1.0, "a"),
        _ => return None,
    };
    let v = if unit == "h" {
        period * hours / freq
    } else {
        period / freq
    };
    let mut s = format!("{v:.3}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    Some(Frequency::Period { value: s, unit })
}

pub(crate) fn eivl(t: &fhir_stu3::Timing) -> Option<Frequency> {
    // Only FHIR event codes that are also HL7 TimingEvent codes (MORN/NIGHT are not).
    const EVENTS: &[&str] = &[
        "AC", "ACD", "ACM", "ACV", "C", "CD", "CM", "CV", "HS", "IC", "ICD", "ICM", "ICV", "PC",
        "PCD", "PCM", "PCV", "WAKE",
    ];
    let w = t.when.first()?;
    EVENTS
        .iter()
        .find(|e| **e == w.as_str())
        .map(|e| Frequency::Event(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::{Decimal, Timing};

    fn timing(freq: i64, period: &str, unit: &str) -> Timing {
        Timing {
            frequency: Some(freq),
            period: Decimal::parse(period),
            period_unit: Some(unit.into()),
            ..Timing::default()
        }
    }

    #[test]
    fn frequencies() {
        let p = |v: &str, u| {
            Some(Frequency::Period {
                value: v.into(),
                unit: u,
            })
        };
        assert_eq!(pivl(&timing(1, "1", "d")), p("24", "h"));
        assert_eq!(pivl(&timing(3, "1", "d")), p("8", "h"));
        assert_eq!(pivl(&timing(1, "2", "h")), p("2", "h"));
        assert_eq!(pivl(&timing(1, "1", "wk")), p("168", "h"));
        let mut t = Timing {
            when: vec!["AC".into()],
            ..Timing::default()
        };
        assert_eq!(eivl(&t), Some(Frequency::Event("AC")));
        t.when = vec!["MORN".into()];
        assert_eq!(eivl(&t), None);
    }
}
