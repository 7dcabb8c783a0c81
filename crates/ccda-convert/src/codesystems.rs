//! FHIR code system URIs → HL7 OIDs. Only systems with a registered OID are mapped (Egton
//! codes included: HL7 UK's 2.16.840.1.113883.2.1.6.3, as GP2GP writes them): a code in any
//! other system is never written with an invented or empty `@codeSystem`; its text is kept
//! as `originalText` instead.

use std::borrow::Cow;

/// A code system the converter can write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeSystem {
    pub oid: Cow<'static, str>,
    pub name: &'static str,
}

const SNOMED: CodeSystem = CodeSystem {
    oid: Cow::Borrowed(crate::oids::SNOMED_CT),
    name: "SNOMED CT",
};

/// The OID for a FHIR `Coding.system` (or `urn:oid:` system), if it has one.
pub(crate) fn lookup(system: &str) -> Option<CodeSystem> {
    let s = system.trim().trim_end_matches('/');
    Some(match s {
        // dm+d codes are SNOMED CT concepts (the UK drug extension).
        "http://snomed.info/sct"
        | "https://snomed.info/sct"
        | "https://dmd.nhs.uk"
        | "https://fhir.nhs.uk/Id/dmd" => SNOMED,
        "http://loinc.org" => CodeSystem {
            oid: Cow::Borrowed(crate::oids::LOINC),
            name: "LOINC",
        },
        "http://read.info/readv2" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.6.2"),
            name: "Read Codes v2",
        },
        "http://read.info/ctv3" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.3.2.4.14"),
            name: "Read Codes CTV3",
        },
        "https://fhir.hl7.org.uk/Id/emis-drug-codes" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.6.9"),
            name: "EMIS drug codes",
        },
        // EMIS/Egton local codes: HL7 UK's external coding-scheme branch, the OID that NHS
        // England's GP2GP adaptors write for this system in EHR extracts (CodeSystemsUtil in
        // NHSDigital/nia-patient-switching-standard-adaptor and the GP2GP adaptor).
        "https://fhir.hl7.org.uk/Id/egton-codes" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.6.3"),
            name: "Egton codes",
        },
        "https://fhir.hl7.org.uk/Id/multilex-drug-codes" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.6.4"),
            name: "Multilex drug codes",
        },
        "https://fhir.hl7.org.uk/Id/resipuk-gemscript-drug-codes" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.2.1.6.15"),
            name: "Gemscript drug codes",
        },
        "http://unitsofmeasure.org" => CodeSystem {
            oid: Cow::Borrowed("2.16.840.1.113883.6.8"),
            name: "UCUM",
        },
        other => {
            let oid = other.strip_prefix("urn:oid:")?;
            if !is_oid(oid) {
                return None;
            }
            if oid == crate::oids::SNOMED_CT {
                SNOMED
            } else {
                // An OID the source named itself: keep it, with no display name we could vouch for.
                return Some(CodeSystem {
                    oid: Cow::Owned(oid.to_owned()),
                    name: "",
                });
            }
        }
    })
}

/// Whether `s` is a syntactically valid OID (as `II/@root` and `@codeSystem` require).
pub(crate) fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|arc| {
            !arc.is_empty()
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'))
        })
        && s.contains('.')
}

/// SNOMED CT identifiers are 6–18 digits; placeholders such as `TBD` are not codes.
pub(crate) fn plausible_code(cs: &CodeSystem, code: &str) -> bool {
    if cs.oid == crate::oids::SNOMED_CT {
        (6..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
    } else {
        !code.trim().is_empty() && !code.contains(char::is_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_systems() {
        assert_eq!(
            lookup("http://snomed.info/sct").map(|c| c.oid).as_deref(),
            Some("2.16.840.1.113883.6.96")
        );
        assert_eq!(
            lookup("http://read.info/readv2").map(|c| c.oid).as_deref(),
            Some("2.16.840.1.113883.2.1.6.2")
        );
        assert_eq!(
            lookup("https://fhir.hl7.org.uk/Id/egton-codes")
                .map(|c| c.oid)
                .as_deref(),
            Some("2.16.840.1.113883.2.1.6.3")
        );
        assert_eq!(lookup("https://example.org/Id/local-codes"), None);
        assert_eq!(
            lookup("urn:oid:1.2.3").map(|c| c.oid).as_deref(),
            Some("1.2.3")
        );
        assert_eq!(lookup("urn:oid:http://x"), None);
        assert!(is_oid("2.16.840.1.113883.2.1.4.1"));
        assert!(!is_oid("https://fhir.nhs.uk/Id/nhs-number"));
        assert!(!is_oid("1.02.3"));
        assert!(!plausible_code(&SNOMED, "TBD"));
    }
}
