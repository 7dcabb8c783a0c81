//! CDA datatypes (II, CD/CE with translations and originalText, TS, IVL_TS, PQ) built from
//! FHIR values and written with [`Xml`].

use fhir_stu3::{CodeableConcept, FhirDateTime, Quantity};

use crate::codesystems::{self, CodeSystem};
use crate::templates::Template;
use crate::xml::Xml;

/// One code in a known code system.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Code {
    pub code: String,
    pub system: CodeSystem,
    pub display: Option<String>,
}

/// A coded value: a primary code with translations, or a nullFlavor; plus the text a human
/// reads (written in the narrative and referenced as `originalText`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Coded {
    pub primary: Option<Code>,
    pub translations: Vec<Code>,
    pub text: Option<String>,
    /// Used when there is no primary code: `OTH` (coded in a system we cannot name) or `UNK`.
    pub null_flavor: &'static str,
}

impl Coded {
    /// From a FHIR CodeableConcept: SNOMED CT first, the other known systems as
    /// translations; codes in systems without an OID are left out (their text stays).
    pub(crate) fn from_concept(cc: Option<&CodeableConcept>) -> Self {
        let Some(cc) = cc else {
            return Self::unknown(None);
        };
        let mut codes: Vec<Code> = Vec::with_capacity(cc.coding.len());
        let mut unknown_system = false;
        for c in &cc.coding {
            let (Some(system), Some(code)) = (c.system.as_deref(), c.code.as_deref()) else {
                continue;
            };
            // GP systems sometimes pad a code with spaces (" 86290005").
            let code = code.trim();
            match codesystems::lookup(system) {
                Some(cs) if codesystems::plausible_code(&cs, code) => {
                    if !codes.iter().any(|k| k.code == code && k.system == cs) {
                        codes.push(Code {
                            code: code.trim().to_owned(),
                            system: cs,
                            display: c.display.clone(),
                        });
                    }
                }
                _ => unknown_system = true,
            }
        }
        // SNOMED CT is the UK's clinical terminology and what receiving EHRs can map.
        if let Some(i) = codes
            .iter()
            .position(|c| c.system.oid == crate::oids::SNOMED_CT)
            && i != 0
        {
            let s = codes.remove(i);
            codes.insert(0, s);
        }
        let mut it = codes.into_iter();
        let primary = it.next();
        Self {
            null_flavor: if primary.is_none() && (unknown_system || !cc.coding.is_empty()) {
                "OTH"
            } else {
                "UNK"
            },
            primary,
            translations: it.collect(),
            text: cc.label().map(str::to_owned),
        }
    }

    pub(crate) fn unknown(text: Option<String>) -> Self {
        Self {
            primary: None,
            translations: Vec::new(),
            text,
            null_flavor: "UNK",
        }
    }

    /// A fixed code from a value set this crate knows.
    pub(crate) fn fixed(
        code: &str,
        oid: &'static str,
        system_name: &'static str,
        display: &str,
    ) -> Self {
        Self {
            primary: Some(Code {
                code: code.to_owned(),
                system: CodeSystem {
                    oid: std::borrow::Cow::Borrowed(oid),
                    name: system_name,
                },
                display: Some(display.to_owned()),
            }),
            translations: Vec::new(),
            text: Some(display.to_owned()),
            null_flavor: "UNK",
        }
    }

    /// Narrative text: the source's text, else the display, else a dash.
    pub(crate) fn label(&self) -> String {
        self.text
            .clone()
            .or_else(|| self.primary.as_ref().and_then(|p| p.display.clone()))
            .unwrap_or_else(|| "Not recorded".to_owned())
    }
}

fn code_attrs<'a>(c: &'a Code, out: &mut Vec<(&'static str, &'a str)>) {
    out.push(("code", &c.code));
    out.push(("codeSystem", &c.system.oid));
    if !c.system.name.is_empty() {
        out.push(("codeSystemName", c.system.name));
    }
    if let Some(d) = &c.display {
        out.push(("displayName", d));
    }
}

/// Writes a CD/CE element. `xsi_type` is set for `value` elements; `text_ref` is the
/// narrative ID its originalText points at.
pub(crate) fn cd(
    x: &mut Xml,
    tag: &str,
    c: &Coded,
    xsi_type: Option<&str>,
    text_ref: Option<&str>,
) {
    let mut attrs: Vec<(&str, &str)> = Vec::with_capacity(6);
    if let Some(t) = xsi_type {
        attrs.push(("xsi:type", t));
    }
    match &c.primary {
        Some(p) => code_attrs(p, &mut attrs),
        None => attrs.push(("nullFlavor", c.null_flavor)),
    }
    let has_children = text_ref.is_some() || !c.translations.is_empty();
    if !has_children {
        x.empty(tag, &attrs);
        return;
    }
    x.open(tag, &attrs);
    if let Some(r) = text_ref {
        x.open("originalText", &[]);
        x.empty("reference", &[("value", &format!("#{r}"))]);
        x.close("originalText");
    }
    for t in &c.translations {
        let mut a = Vec::with_capacity(4);
        code_attrs(t, &mut a);
        x.empty("translation", &a);
    }
    x.close(tag);
}

/// A fixed code (templates' `code` elements).
pub(crate) fn code(x: &mut Xml, code: &str, system: &str, system_name: &str, display: &str) {
    x.empty(
        "code",
        &[
            ("code", code),
            ("codeSystem", system),
            ("codeSystemName", system_name),
            ("displayName", display),
        ],
    );
}

pub(crate) fn template(x: &mut Xml, t: Template) {
    x.empty("templateId", &[("root", t.root)]);
    if let Some(ext) = t.extension {
        x.empty("templateId", &[("root", t.root), ("extension", ext)]);
    }
}

pub(crate) fn id(x: &mut Xml, root: &str) {
    x.empty("id", &[("root", root)]);
}

pub(crate) fn text_ref(x: &mut Xml, r: &str) {
    x.open("text", &[]);
    x.empty("reference", &[("value", &format!("#{r}"))]);
    x.close("text");
}

pub(crate) fn status(x: &mut Xml, code: &str) {
    x.empty("statusCode", &[("code", code)]);
}

/// The HL7 TS literal of a FHIR date, if it could be parsed.
pub(crate) fn ts_value(d: Option<&FhirDateTime>) -> Option<String> {
    d.and_then(|d| d.value.as_ref()).map(|v| v.to_hl7())
}

/// `<tag value="…"/>`, or `nullFlavor="UNK"` when absent or unparseable.
pub(crate) fn ts(x: &mut Xml, tag: &str, d: Option<&FhirDateTime>) {
    match ts_value(d) {
        Some(v) => x.empty(tag, &[("value", &v)]),
        None => x.empty(tag, &[("nullFlavor", "UNK")]),
    }
}

/// `<tag><low/>[<high/>]</tag>`. `high` is written when given (UNK if unparseable) or
/// when `high_required`.
pub(crate) fn ivl_ts(
    x: &mut Xml,
    tag: &str,
    low: Option<&FhirDateTime>,
    high: Option<&FhirDateTime>,
    high_required: bool,
    xsi_type: bool,
) {
    if xsi_type {
        x.open(tag, &[("xsi:type", "IVL_TS")]);
    } else {
        x.open(tag, &[]);
    }
    ts(x, "low", low);
    if high.is_some() || high_required {
        ts(x, "high", high);
    }
    x.close(tag);
}

/// The UCUM unit of a dose or supply (`crate::ucum`): its code when the system is UCUM (or
/// unstated), else its unit text. Product units ("tablet", SNOMED CT coded) are not UCUM:
/// `None`, and the quantity is written without a unit (a count of the product).
pub(crate) fn ucum(q: &Quantity) -> Option<String> {
    let system = q.system.as_deref().map(str::trim);
    let code = q
        .code
        .as_deref()
        .filter(|_| system.is_none_or(|s| s == "http://unitsofmeasure.org"));
    [code, q.unit.as_deref()]
        .into_iter()
        .flatten()
        .find_map(crate::ucum::ucum)
}

/// A PQ element. A dose in a product unit ("tablet") is written unit-less: in C-CDA a
/// dose without unit counts units of the (pre-coordinated) product.
pub(crate) fn pq(x: &mut Xml, tag: &str, q: Option<&Quantity>) {
    match q.and_then(|q| q.value.as_ref().map(|v| (q, v))) {
        Some((q, v)) => match ucum(q) {
            Some(u) => x.empty(tag, &[("value", v.as_str()), ("unit", u.as_str())]),
            None => x.empty(tag, &[("value", v.as_str())]),
        },
        None => x.empty(tag, &[("nullFlavor", "UNK")]),
    }
}

/// Text for a narrative cell from a FHIR date: readable when parsed, the raw text when
/// not (so nothing the GP recorded is lost), a dash when absent.
pub(crate) fn date_text(d: Option<&FhirDateTime>) -> String {
    match d {
        Some(d) => match &d.value {
            Some(v) => v.to_display(),
            None => format!("{} (as recorded; not a valid date)", d.raw),
        },
        None => "—".to_owned(),
    }
}

/// Narrative text for a quantity: `28 day`, `1 tablet`.
pub(crate) fn quantity_text(q: Option<&Quantity>) -> Option<String> {
    let q = q?;
    if let Some(t) = &q.text {
        let unit = q.unit.as_deref().unwrap_or("");
        return Some(format!("{t} {unit}").trim().to_owned());
    }
    let v = q.value.as_ref()?;
    let unit = q.unit.as_deref().or(q.code.as_deref()).unwrap_or("");
    Some(format!("{} {unit}", v.as_str()).trim().to_owned())
}

/// C-CDA binds routeCode to the FDA route value set; GP data use SNOMED CT, so the SNOMED
/// code is a translation under `nullFlavor="OTH"`.
pub(crate) fn route(cc: Option<&fhir_stu3::CodeableConcept>) -> Option<Coded> {
    let mut c = Coded::from_concept(Some(cc?));
    if let Some(p) = c.primary.take() {
        c.translations.insert(0, p);
    }
    c.null_flavor = "OTH";
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::Coding;

    fn coding(system: &str, code: &str, display: &str) -> Coding {
        Coding {
            system: Some(system.into()),
            code: Some(code.into()),
            display: Some(display.into()),
            ..Coding::default()
        }
    }

    fn write(c: &Coded) -> String {
        let mut x = Xml::with_capacity(256);
        cd(&mut x, "value", c, Some("CD"), Some("row-1"));
        x.finish()
    }

    #[test]
    fn unknown_system_keeps_text_under_a_null_flavor() {
        let cc = CodeableConcept {
            coding: vec![coding(
                "https://example.org/Id/local-codes",
                "ALLERGY138185NEMIS",
                "Adverse reaction",
            )],
            text: None,
        };
        let c = Coded::from_concept(Some(&cc));
        assert_eq!(c.label(), "Adverse reaction");
        let xml = write(&c);
        assert!(
            xml.contains(r#"<value xsi:type="CD" nullFlavor="OTH">"#),
            "{xml}"
        );
        assert!(xml.contains(r##"<reference value="#row-1"/>"##), "{xml}");
        assert!(!xml.contains("codeSystem"), "{xml}");
    }

    #[test]
    fn egton_codes_are_structured_translations() {
        let cc = CodeableConcept {
            coding: vec![
                coding(
                    "https://fhir.hl7.org.uk/Id/egton-codes",
                    "EMISNQAD18",
                    "Adverse reaction to drug",
                ),
                coding(
                    "http://snomed.info/sct",
                    "62014003",
                    "Adverse reaction to drug",
                ),
            ],
            text: None,
        };
        let xml = write(&Coded::from_concept(Some(&cc)));
        assert!(xml.contains(r#"code="62014003""#), "{xml}");
        assert!(
            xml.contains(
                r#"<translation code="EMISNQAD18" codeSystem="2.16.840.1.113883.2.1.6.3" codeSystemName="Egton codes""#
            ),
            "{xml}"
        );
    }

    #[test]
    fn snomed_is_primary_and_drug_codes_are_translations() {
        let cc = CodeableConcept {
            coding: vec![
                coding(
                    "https://fhir.hl7.org.uk/Id/emis-drug-codes",
                    "SETR5004",
                    "Sertraline",
                ),
                coding(
                    "http://snomed.info/sct",
                    "9751511000001104",
                    "Sertraline 100mg tablets",
                ),
                coding("http://snomed.info/sct", "TBD", "placeholder"),
            ],
            text: None,
        };
        let xml = write(&Coded::from_concept(Some(&cc)));
        assert!(
            xml.contains(r#"code="9751511000001104" codeSystem="2.16.840.1.113883.6.96""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<translation code="SETR5004" codeSystem="2.16.840.1.113883.2.1.6.9""#),
            "{xml}"
        );
        assert!(!xml.contains("TBD"), "{xml}");
    }
}
