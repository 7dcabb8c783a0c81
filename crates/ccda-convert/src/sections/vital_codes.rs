//! SNOMED CT (UK) vital-sign concepts → the LOINC codes of the C-CDA Vital Sign Result Type
//! value set (2.16.840.1.113883.3.88.12.80.62), and the UCUM unit each is written in.
//! This is the one place the mapping lives; a concept not listed is not a vital sign.

/// A vital sign as C-CDA codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vital {
    pub loinc: &'static str,
    pub display: &'static str,
}

pub(crate) const SYSTOLIC: Vital = Vital {
    loinc: "8480-6",
    display: "Systolic blood pressure",
};
pub(crate) const DIASTOLIC: Vital = Vital {
    loinc: "8462-4",
    display: "Diastolic blood pressure",
};
const HEART_RATE: Vital = Vital {
    loinc: "8867-4",
    display: "Heart rate",
};
const RESPIRATORY_RATE: Vital = Vital {
    loinc: "9279-1",
    display: "Respiratory rate",
};
const TEMPERATURE: Vital = Vital {
    loinc: "8310-5",
    display: "Body temperature",
};
const SPO2: Vital = Vital {
    loinc: "59408-5",
    display: "Oxygen saturation in Arterial blood by Pulse oximetry",
};
const HEIGHT: Vital = Vital {
    loinc: "8302-2",
    display: "Body height",
};
const WEIGHT: Vital = Vital {
    loinc: "29463-7",
    display: "Body weight",
};
const BMI: Vital = Vital {
    loinc: "39156-5",
    display: "Body mass index (BMI) [Ratio]",
};
const HEAD_CIRCUMFERENCE: Vital = Vital {
    loinc: "9843-4",
    display: "Head Occipital-frontal circumference",
};

/// SNOMED CT concepts that are a blood pressure panel (their components are the readings).
pub(crate) fn is_bp_panel(snomed: &str) -> bool {
    matches!(
        snomed,
        "163020007" // O/E - blood pressure reading
            | "75367002" // Blood pressure
            | "386534000" // Arterial blood pressure
            | "251076008" // Cuff blood pressure
            | "413606001" // Average home systolic/diastolic
            | "198081000000101" // Ambulatory blood pressure
    )
}

/// The vital sign a SNOMED CT concept measures.
pub(crate) fn vital(snomed: &str) -> Option<Vital> {
    Some(match snomed.trim() {
        "72313002" | "271649006" | "163030003" | "400974009" | "407554009" | "407556006" => {
            SYSTOLIC
        }
        "1091811000000102" | "271650006" | "163031004" | "400975005" | "407555005"
        | "407557002" => DIASTOLIC,
        "364075005" | "78564009" | "162986007" | "271637005" => HEART_RATE,
        "86290005" | "162913005" => RESPIRATORY_RATE,
        "703421000" | "386725007" | "276885007" | "415945006" | "415882003" | "415974002" => {
            TEMPERATURE
        }
        "1097811000000106" | "431314004" | "103228002" => SPO2,
        "50373000" | "248333004" | "162755006" | "1153637007" => HEIGHT,
        "27113001" | "162763007" | "363808001" => WEIGHT,
        "60621009" | "301331008" => BMI,
        "363812007" => HEAD_CIRCUMFERENCE,
        _ => return None,
    })
}

/// Whether a UCUM unit measures what the vital sign measures (any spelling UCUM gives the
/// same kind of quantity: `{beats}/min` and `/min`, `kPa` and `mm[Hg]`, `[lb_av]` and `kg`).
/// Oxygen saturation is a plain fraction, so only `%` says it is one.
pub(crate) fn expected_unit(v: Vital, ucum: &str) -> bool {
    let like = match v.loinc {
        "8480-6" | "8462-4" => "mm[Hg]",
        "8867-4" | "9279-1" => "/min",
        "8310-5" => "Cel",
        "59408-5" => return ucum == "%",
        "8302-2" | "9843-4" => "cm",
        "29463-7" => "kg",
        "39156-5" => "kg/m2",
        _ => return false,
    };
    crate::ucum::commensurable(ucum, like)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_concepts_map_and_others_do_not() {
        assert_eq!(vital("72313002"), Some(SYSTOLIC));
        assert_eq!(vital(" 86290005").map(|v| v.loinc), Some("9279-1"));
        assert_eq!(vital("1097811000000106").map(|v| v.loinc), Some("59408-5"));
        assert_eq!(vital("49727002"), None); // Cough
        assert!(is_bp_panel("163020007"));
        assert!(expected_unit(SYSTOLIC, "mm[Hg]"));
        assert!(expected_unit(SYSTOLIC, "kPa"));
        assert!(!expected_unit(SYSTOLIC, "%"));
        assert!(expected_unit(HEART_RATE, "{beats}/min"));
        assert!(expected_unit(RESPIRATORY_RATE, "{resps}/min"));
        assert!(!expected_unit(HEART_RATE, "mmol/L"));
        assert!(expected_unit(TEMPERATURE, "[degF]"));
        assert!(expected_unit(WEIGHT, "[stone_av]"));
        assert!(!expected_unit(WEIGHT, "cm"));
        assert!(!expected_unit(SPO2, "{ratio}"));
    }
}
