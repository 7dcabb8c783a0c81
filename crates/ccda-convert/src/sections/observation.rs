//! One FHIR Observation as one CDA `observation` (Result Observation 4.2, Vital Sign
//! Observation 4.27, Social History 4.38 / Smoking Status 4.78 share the shape): the value in
//! its CDA type (PQ, IVL_PQ for comparators, ST, CD) with its number always in `@value`,
//! units as UCUM (`ucum.rs`) or an annotation plus the original text, reference ranges, interpretation and comment; plus the
//! clinician-readable text of each for the narrative.

use fhir_stu3::{
    CodeableConcept, FhirDateTime, Observation, ObservationValue, Quantity, Reference,
};

use crate::cda::{self, Coded};
use crate::oids;
use crate::sections::Build;
use crate::templates::{self, Template};
use crate::ucum;
use crate::xml::Xml;

/// HL7 ObservationInterpretation (v2 table 0078 in FHIR STU3).
const INTERPRETATION: &str = "2.16.840.1.113883.5.83";

/// A unit as CDA can carry it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unit {
    /// No unit: a count or ratio.
    None,
    /// A valid case-sensitive UCUM expression (`ucum.rs`).
    Ucum(String),
    /// A unit the source gave that does not map to UCUM: written as a UCUM annotation of
    /// its text, with the text itself as `translation/originalText`.
    Other(String),
}

/// A number with its unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pq {
    pub value: String,
    pub unit: Unit,
    /// The unit as the source wrote it, shown in the narrative.
    pub shown: Option<String>,
}

/// The value of an observation, typed as CDA writes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Pq(Pq),
    /// `<`, `<=`, `>`, `>=`: a one-sided interval (`inclusive` false for strict).
    Bound {
        pq: Pq,
        upper: bool,
        inclusive: bool,
    },
    /// `valueRange`: an interval (IVL_PQ), a missing side open (`NINF`/`PINF`).
    Range {
        low: Option<Pq>,
        high: Option<Pq>,
    },
    /// `valueRatio`: RTO_PQ_PQ.
    Ratio {
        numerator: Pq,
        denominator: Pq,
    },
    St(String),
    Cd(Coded),
    /// Nothing recorded (`nullFlavor`, e.g. `NI`).
    Null(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    pub low: Option<Pq>,
    pub high: Option<Pq>,
    pub text: Option<String>,
}

/// One CDA observation built from FHIR.
#[derive(Debug, Clone)]
pub(crate) struct Obs {
    pub id: String,
    /// The narrative row the observation's `text` references.
    pub row_id: String,
    pub code: Coded,
    /// Narrative cell the code's `originalText` references.
    pub code_ref: Option<String>,
    pub status: &'static str,
    pub effective: Option<FhirDateTime>,
    pub value: Value,
    /// Narrative cell a coded value's `originalText` references.
    pub value_ref: Option<String>,
    pub interpretation: Option<(String, String)>,
    pub ranges: Vec<Range>,
    /// The narrative cell of a free-text comment, written as a Comment Activity (4.64).
    pub comment_ref: Option<String>,
}

/// The unit of a FHIR quantity: its UCUM code when the system says UCUM, else its code or
/// unit text, mapped and checked by [`ucum::ucum`]. A code in another system (SNOMED CT
/// product units) is not a unit spelling.
fn unit_of(q: &Quantity) -> Unit {
    let system = q.system.as_deref().map(str::trim);
    let code = q
        .code
        .as_deref()
        .filter(|_| system.is_none_or(|s| s == "http://unitsofmeasure.org"));
    for candidate in [code, q.unit.as_deref()].into_iter().flatten() {
        if let Some(u) = ucum::ucum(candidate) {
            return Unit::Ucum(u);
        }
    }
    match q.unit.as_deref().or(code).map(str::trim) {
        Some(u) if !u.is_empty() && u != "1" => Unit::Other(u.to_owned()),
        _ => Unit::None,
    }
}

/// The unit as the source wrote it, for the narrative (`units/week`, not `{units}/wk`).
fn unit_text(q: &Quantity) -> Option<String> {
    q.unit
        .as_deref()
        .or(q.code.as_deref())
        .map(str::trim)
        .filter(|u| !u.is_empty() && *u != "1")
        .map(str::to_owned)
}

pub(crate) fn pq_of(q: &Quantity) -> Option<Pq> {
    let unit = unit_of(q);
    Some(Pq {
        value: q.value.as_ref()?.as_str().to_owned(),
        shown: (unit != Unit::None).then(|| unit_text(q)).flatten(),
        unit,
    })
}

impl Pq {
    pub(crate) fn text(&self) -> String {
        match (&self.shown, &self.unit) {
            (_, Unit::None) => self.value.clone(),
            (Some(s), _) => format!("{} {s}", self.value),
            (None, Unit::Ucum(u) | Unit::Other(u)) => format!("{} {u}", self.value),
        }
    }
}

/// The CDA value of a FHIR quantity, honouring its comparator.
fn quantity_value(q: &Quantity) -> Value {
    let Some(pq) = pq_of(q) else {
        return Value::Null("NI");
    };
    match q.comparator.as_deref().map(str::trim) {
        Some("<") => Value::Bound {
            pq,
            upper: true,
            inclusive: false,
        },
        Some("<=") => Value::Bound {
            pq,
            upper: true,
            inclusive: true,
        },
        Some(">") => Value::Bound {
            pq,
            upper: false,
            inclusive: false,
        },
        Some(">=") => Value::Bound {
            pq,
            upper: false,
            inclusive: true,
        },
        _ => Value::Pq(pq),
    }
}

impl Value {
    pub(crate) fn from_fhir(v: Option<&ObservationValue>) -> Self {
        match v {
            Some(ObservationValue::Quantity(q)) => quantity_value(q),
            Some(ObservationValue::String(s)) if !s.trim().is_empty() => Self::St(s.clone()),
            Some(ObservationValue::CodeableConcept(cc)) => Self::Cd(Coded::from_concept(Some(cc))),
            Some(ObservationValue::Boolean(b)) => Self::St(if *b { "Yes" } else { "No" }.into()),
            Some(ObservationValue::Integer(i)) => Self::Pq(Pq {
                value: i.to_string(),
                unit: Unit::None,
                shown: None,
            }),
            Some(ObservationValue::DateTime(d)) => Self::St(cda::date_text(Some(d))),
            Some(ObservationValue::Period(p)) => Self::St(format!(
                "{} to {}",
                cda::date_text(p.start.as_ref()),
                cda::date_text(p.end.as_ref())
            )),
            Some(ObservationValue::Range { low, high }) => {
                match (low.as_ref().and_then(pq_of), high.as_ref().and_then(pq_of)) {
                    (None, None) => Self::Null("NI"),
                    (low, high) => Self::Range { low, high },
                }
            }
            Some(ObservationValue::Ratio {
                numerator,
                denominator,
            }) => match (
                numerator.as_ref().and_then(pq_of),
                denominator.as_ref().and_then(pq_of),
            ) {
                (Some(numerator), Some(denominator)) => Self::Ratio {
                    numerator,
                    denominator,
                },
                // Half a ratio is not a quantity: its number stays readable as text.
                (Some(n), None) => Self::St(format!("{} / ?", n.text())),
                (None, Some(d)) => Self::St(format!("? / {}", d.text())),
                (None, None) => Self::Null("NI"),
            },
            Some(ObservationValue::Other(kind)) => Self::St(format!("(a {kind} value, not shown)")),
            _ => Self::Null("NI"),
        }
    }

    /// Narrative text of the value.
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Pq(pq) => pq.text(),
            Self::Bound {
                pq,
                upper,
                inclusive,
            } => {
                let op = match (upper, inclusive) {
                    (true, false) => "<",
                    (true, true) => "≤",
                    (false, false) => ">",
                    (false, true) => "≥",
                };
                format!("{op} {}", pq.text())
            }
            Self::Range { low, high } => match (low, high) {
                (Some(l), Some(h)) => format!("{} – {}", l.text(), h.text()),
                (Some(l), None) => format!("≥ {}", l.text()),
                (None, Some(h)) => format!("≤ {}", h.text()),
                (None, None) => "—".into(),
            },
            Self::Ratio {
                numerator,
                denominator,
            } => format!("{} / {}", numerator.text(), denominator.text()),
            Self::St(s) => s.clone(),
            Self::Cd(c) => c.label(),
            Self::Null(_) => "—".into(),
        }
    }
}

/// FHIR STU3 interpretation (v2 0078 codes) → HL7 ObservationInterpretation code and label.
pub(crate) fn interpretation(cc: Option<&CodeableConcept>) -> Option<(String, String)> {
    let cc = cc?;
    let coding = cc.coding.iter().find(|c| {
        c.system
            .as_deref()
            .is_some_and(|s| s.ends_with("v2/0078") || s.ends_with("ObservationInterpretation"))
    })?;
    let code = coding.code.as_deref()?.trim();
    let known = [
        ("N", "Normal"),
        ("A", "Abnormal"),
        ("AA", "Critical abnormal"),
        ("H", "High"),
        ("HH", "Critical high"),
        ("L", "Low"),
        ("LL", "Critical low"),
        (">", "Off scale high"),
        ("<", "Off scale low"),
        ("POS", "Positive"),
        ("NEG", "Negative"),
        ("IND", "Indeterminate"),
        ("U", "Significant change up"),
        ("D", "Significant change down"),
        ("R", "Resistant"),
        ("S", "Susceptible"),
        ("I", "Intermediate"),
    ];
    let (c, d) = known.iter().find(|(c, _)| *c == code)?;
    Some(((*c).to_owned(), (*d).to_owned()))
}

/// The interpretation of an observation: its `interpretation` (v2 0078), else the line
/// TPP writes into the comment for a lab's flag ("Interpretation Code: Above high reference
/// limit"). A flag without a v2 0078 equivalent ("Potentially abnormal") stays text only.
pub(crate) fn interpretation_of(o: &Observation) -> Option<(String, String)> {
    interpretation(o.interpretation.as_ref()).or_else(|| {
        let flag = o
            .comment
            .as_deref()?
            .lines()
            .find_map(|l| l.trim().strip_prefix("Interpretation Code:"))?
            .trim();
        let (code, display) = match flag.to_ascii_lowercase().as_str() {
            "above high reference limit" => ("H", "High"),
            "below low reference limit" => ("L", "Low"),
            "normal" => ("N", "Normal"),
            "outside reference range" | "abnormal" => ("A", "Abnormal"),
            _ => return None,
        };
        Some((code.to_owned(), display.to_owned()))
    })
}

/// Narrative text of an observation's interpretation (see [`interpretation_of`]).
pub(crate) fn interpretation_text_of(o: &Observation) -> String {
    match interpretation_text(o.interpretation.as_ref()) {
        t if t.is_empty() => interpretation_of(o).map(|(_, d)| d).unwrap_or_default(),
        t => t,
    }
}

/// Text of an interpretation for the narrative, whatever its coding.
pub(crate) fn interpretation_text(cc: Option<&CodeableConcept>) -> String {
    match (interpretation(cc), cc.and_then(CodeableConcept::label)) {
        (_, Some(t)) => t.to_owned(),
        (Some((_, d)), None) => d,
        (None, None) => String::new(),
    }
}

/// Reference ranges. A bound without a unit (usual in GP data) is in the result's unit: a
/// unit-less PQ would mean "a count", which it is not.
pub(crate) fn ranges(o: &Observation) -> Vec<Range> {
    let result_unit = match &o.value {
        Some(ObservationValue::Quantity(q)) => Some((unit_of(q), unit_text(q))),
        _ => None,
    };
    let bound = |q: Option<&Quantity>| {
        let mut pq = pq_of(q?)?;
        if pq.unit == Unit::None
            && let Some((u, shown)) = &result_unit
        {
            pq.unit = u.clone();
            pq.shown = shown.clone().filter(|_| *u != Unit::None);
        }
        Some(pq)
    };
    o.reference_range
        .iter()
        .map(|r| Range {
            low: bound(r.low.as_ref()),
            high: bound(r.high.as_ref()),
            text: r.text.clone().filter(|t| !t.trim().is_empty()),
        })
        .filter(|r| r.low.is_some() || r.high.is_some() || r.text.is_some())
        .collect()
}

pub(crate) fn ranges_text(rs: &[Range]) -> String {
    rs.iter()
        .map(|r| match (&r.low, &r.high, &r.text) {
            (_, _, Some(t)) if r.low.is_none() && r.high.is_none() => t.clone(),
            (Some(l), Some(h), _) => format!("{} – {}", l.value, h.text()),
            (Some(l), None, _) => format!("≥ {}", l.text()),
            (None, Some(h), _) => format!("≤ {}", h.text()),
            (None, None, _) => String::new(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// FHIR Observation/DiagnosticReport status → C-CDA Result Status.
pub(crate) fn status(s: Option<&str>) -> &'static str {
    match s {
        Some("registered" | "preliminary" | "partial") => "active",
        Some("cancelled" | "entered-in-error") => "cancelled",
        _ => "completed",
    }
}

/// Who performed an observation or report: a person or an organisation, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Performer {
    pub name: String,
    pub person: bool,
}

/// The performer a reference names (organisation, practitioner or role), if it has a name.
pub(crate) fn performer(b: &Build<'_>, r: &Reference) -> Option<Performer> {
    use fhir_stu3::Resource;
    let person = |name: Option<String>| name.map(|name| Performer { name, person: true });
    let named = match b.resolve(Some(r), None) {
        Some(Resource::Organization(o)) => o.name.clone().map(|name| Performer {
            name,
            person: false,
        }),
        Some(Resource::Practitioner(p)) => {
            person(p.name.first().map(fhir_stu3::HumanName::display))
        }
        Some(Resource::PractitionerRole(pr)) => match b.resolve(pr.practitioner.as_ref(), None) {
            Some(Resource::Practitioner(p)) => {
                person(p.name.first().map(fhir_stu3::HumanName::display))
            }
            _ => person(pr.practitioner.as_ref().and_then(|p| p.display.clone())),
        },
        _ => None,
    };
    named.filter(|p| !p.name.trim().is_empty()).or_else(|| {
        r.display
            .clone()
            .filter(|d| !d.trim().is_empty())
            .map(|name| Performer {
                name,
                person: r
                    .reference
                    .as_deref()
                    .is_some_and(|s| s.contains("Practitioner")),
            })
    })
}

fn pq_el(x: &mut Xml, tag: &str, pq: &Pq, extra: &[(&str, &str)], xsi: Option<&str>) {
    let mut attrs: Vec<(&str, &str)> = Vec::with_capacity(4);
    if let Some(t) = xsi {
        attrs.push(("xsi:type", t));
    }
    match &pq.unit {
        Unit::Ucum(u) => {
            attrs.push(("value", &pq.value));
            attrs.push(("unit", u));
            attrs.extend_from_slice(extra);
            x.empty(tag, &attrs);
        }
        Unit::None => {
            attrs.push(("value", &pq.value));
            attrs.extend_from_slice(extra);
            x.empty(tag, &attrs);
        }
        // The number stays in `@value` where every consumer reads it; the unit is an
        // annotation (UCUM unit 1, so no unit is claimed) and, as in HL7's
        // "Results-Unit-Non-UCUM" example, the unit as the lab sent it is a translation's
        // originalText.
        Unit::Other(u) => {
            let annotation = ucum::annotation(u);
            attrs.push(("value", &pq.value));
            attrs.push(("unit", &annotation));
            attrs.extend_from_slice(extra);
            x.open(tag, &attrs);
            x.open(
                "translation",
                &[("value", pq.value.as_str()), ("nullFlavor", "OTH")],
            );
            x.leaf("originalText", &[], u);
            x.close("translation");
            x.close(tag);
        }
    }
}

pub(crate) fn write_value(x: &mut Xml, v: &Value, text_ref: Option<&str>) {
    match v {
        Value::Pq(pq) => pq_el(x, "value", pq, &[], Some("PQ")),
        Value::Bound {
            pq,
            upper,
            inclusive,
        } => {
            x.open("value", &[("xsi:type", "IVL_PQ")]);
            let inc = if *inclusive { "true" } else { "false" };
            if *upper {
                x.empty("low", &[("nullFlavor", "NINF")]);
                pq_el(x, "high", pq, &[("inclusive", inc)], None);
            } else {
                pq_el(x, "low", pq, &[("inclusive", inc)], None);
                x.empty("high", &[("nullFlavor", "PINF")]);
            }
            x.close("value");
        }
        Value::Range { low, high } => {
            x.open("value", &[("xsi:type", "IVL_PQ")]);
            match low {
                Some(l) => pq_el(x, "low", l, &[], None),
                None => x.empty("low", &[("nullFlavor", "NINF")]),
            }
            match high {
                Some(h) => pq_el(x, "high", h, &[], None),
                None => x.empty("high", &[("nullFlavor", "PINF")]),
            }
            x.close("value");
        }
        Value::Ratio {
            numerator,
            denominator,
        } => {
            x.open("value", &[("xsi:type", "RTO_PQ_PQ")]);
            pq_el(x, "numerator", numerator, &[], None);
            pq_el(x, "denominator", denominator, &[], None);
            x.close("value");
        }
        Value::St(s) => x.leaf("value", &[("xsi:type", "ST")], s),
        Value::Cd(c) => cda::cd(x, "value", c, Some("CD"), text_ref),
        Value::Null(nf) => x.empty("value", &[("xsi:type", "CD"), ("nullFlavor", nf)]),
    }
}

fn write_ranges(x: &mut Xml, rs: &[Range]) {
    for r in rs {
        x.open("referenceRange", &[]);
        x.open("observationRange", &[]);
        if let Some(t) = &r.text {
            x.leaf("text", &[], t);
        }
        if r.low.is_some() || r.high.is_some() {
            x.open("value", &[("xsi:type", "IVL_PQ")]);
            match &r.low {
                Some(l) => pq_el(x, "low", l, &[], None),
                None => x.empty("low", &[("nullFlavor", "NINF")]),
            }
            match &r.high {
                Some(h) => pq_el(x, "high", h, &[], None),
                None => x.empty("high", &[("nullFlavor", "PINF")]),
            }
            x.close("value");
        } else {
            x.empty("value", &[("xsi:type", "IVL_PQ"), ("nullFlavor", "OTH")]);
        }
        x.close("observationRange");
        x.close("referenceRange");
    }
}

/// Writes `<observation>` with `template` (the template decides what the code and value
/// must be; the caller has chosen them).
pub(crate) fn write(x: &mut Xml, o: &Obs, template: Template) {
    x.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    cda::template(x, template);
    cda::id(x, &o.id);
    cda::cd(x, "code", &o.code, None, o.code_ref.as_deref());
    cda::text_ref(x, &o.row_id);
    cda::status(x, o.status);
    cda::ts(x, "effectiveTime", o.effective.as_ref());
    write_value(x, &o.value, o.value_ref.as_deref());
    if let Some((code, display)) = &o.interpretation {
        x.empty(
            "interpretationCode",
            &[
                ("code", code),
                ("codeSystem", INTERPRETATION),
                ("codeSystemName", "ObservationInterpretation"),
                ("displayName", display),
            ],
        );
    }
    if let Some(r) = &o.comment_ref {
        comment(x, r);
    }
    write_ranges(x, &o.ranges);
    x.close("observation");
}

/// Comment Activity (4.64) on the observation, its text in the narrative cell `r`; linked
/// with `REFR` as in HL7's examples.
fn comment(x: &mut Xml, r: &str) {
    x.open("entryRelationship", &[("typeCode", "REFR")]);
    x.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    cda::template(x, templates::COMMENT_ACTIVITY);
    cda::code(x, "48767-8", oids::LOINC, "LOINC", "Annotation comment");
    cda::text_ref(x, r);
    cda::status(x, "completed");
    x.close("act");
    x.close("entryRelationship");
}
