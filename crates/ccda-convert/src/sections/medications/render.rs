//! CDA XML for a medication entry: Medication Activity 4.16 and what it contains.

use super::{Frequency, MedicationEntry};
use crate::cda;
use crate::oids;
use crate::templates;
use crate::xml::Xml;

fn medication_information(x: &mut Xml, e: &MedicationEntry) {
    x.open("manufacturedProduct", &[("classCode", "MANU")]);
    cda::template(x, templates::MEDICATION_INFORMATION);
    x.open("manufacturedMaterial", &[]);
    cda::cd(x, "code", &e.medication, None, Some(&e.medication_ref));
    x.close("manufacturedMaterial");
    x.close("manufacturedProduct");
}

pub(crate) fn render(x: &mut Xml, e: &MedicationEntry) {
    let mut attrs = vec![("classCode", "SBADM"), ("moodCode", "EVN")];
    if e.negated {
        attrs.push(("negationInd", "true"));
    }
    x.open("substanceAdministration", &attrs);
    cda::template(x, templates::MEDICATION_ACTIVITY);
    cda::id(x, &e.id);
    cda::text_ref(x, &e.row_id);
    cda::status(x, e.status);
    cda::ivl_ts(
        x,
        "effectiveTime",
        e.start.as_ref(),
        e.end.as_ref(),
        e.status != "active",
        true,
    );
    match &e.frequency {
        Some(Frequency::Period { value, unit }) => {
            x.open(
                "effectiveTime",
                &[
                    ("xsi:type", "PIVL_TS"),
                    ("institutionSpecified", "true"),
                    ("operator", "A"),
                ],
            );
            x.empty("period", &[("value", value), ("unit", unit)]);
            x.close("effectiveTime");
        }
        Some(Frequency::Event(code)) => {
            x.open(
                "effectiveTime",
                &[("xsi:type", "EIVL_TS"), ("operator", "A")],
            );
            x.empty("event", &[("code", code)]);
            x.close("effectiveTime");
        }
        None => {}
    }
    if let Some(r) = &e.route {
        cda::cd(x, "routeCode", r, None, None);
    }
    // Medication Activity requires doseQuantity; an unknown dose is UNK, not invented.
    cda::pq(x, "doseQuantity", e.dose.as_ref());
    x.open("consumable", &[]);
    medication_information(x, e);
    x.close("consumable");
    if let Some(r) = &e.sig_ref {
        x.open("entryRelationship", &[("typeCode", "COMP")]);
        x.open(
            "substanceAdministration",
            &[("classCode", "SBADM"), ("moodCode", "EVN")],
        );
        cda::template(x, templates::MEDICATION_FREE_TEXT_SIG);
        cda::code(
            x,
            "76662-6",
            oids::LOINC,
            "LOINC",
            "Medication Instructions",
        );
        cda::text_ref(x, r);
        x.open("consumable", &[]);
        x.open("manufacturedProduct", &[]);
        x.empty("manufacturedLabeledDrug", &[("nullFlavor", "NA")]);
        x.close("manufacturedProduct");
        x.close("consumable");
        x.close("substanceAdministration");
        x.close("entryRelationship");
    }
    if let Some((id, r)) = &e.instruction {
        x.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        x.open("act", &[("classCode", "ACT"), ("moodCode", "INT")]);
        cda::template(x, templates::INSTRUCTION);
        cda::id(x, id);
        cda::code(x, "409073007", oids::SNOMED_CT, "SNOMED CT", "Education");
        cda::text_ref(x, r);
        cda::status(x, "completed");
        x.close("act");
        x.close("entryRelationship");
    }
    if let Some(s) = &e.supply {
        x.open("entryRelationship", &[("typeCode", "REFR")]);
        x.open("supply", &[("classCode", "SPLY"), ("moodCode", "INT")]);
        cda::template(x, templates::MEDICATION_SUPPLY_ORDER);
        cda::id(x, &s.id);
        cda::status(
            x,
            if e.status == "active" {
                "active"
            } else {
                "completed"
            },
        );
        cda::ivl_ts(
            x,
            "effectiveTime",
            s.start.as_ref(),
            s.end.as_ref(),
            true,
            true,
        );
        if let Some(n) = s.repeats {
            x.empty("repeatNumber", &[("value", &n.to_string())]);
        }
        let qty = s.quantity.as_ref().and_then(|q| {
            q.value
                .clone()
                .or_else(|| q.text.as_deref().and_then(fhir_stu3::Decimal::parse))
        });
        if let Some(v) = qty {
            // A measured supply (50 gram) keeps its unit; a count of product units (28
            // tablet) has none.
            match s.quantity.as_ref().and_then(cda::ucum) {
                Some(u) => x.empty("quantity", &[("value", v.as_str()), ("unit", u.as_str())]),
                None => x.empty("quantity", &[("value", v.as_str())]),
            }
        }
        x.open("product", &[]);
        medication_information(x, e);
        x.close("product");
        x.close("supply");
        x.close("entryRelationship");
    }
    if let Some(reason) = &e.prn {
        x.open("precondition", &[("typeCode", "PRCN")]);
        x.open("criterion", &[]);
        cda::template(x, templates::PRECONDITION);
        x.empty(
            "code",
            &[("code", "ASSERTION"), ("codeSystem", oids::ACT_CODE)],
        );
        match reason {
            Some(c) => cda::cd(x, "value", c, Some("CD"), None),
            None => x.empty("value", &[("xsi:type", "CD"), ("nullFlavor", "NI")]),
        }
        x.close("criterion");
        x.close("precondition");
    }
    x.close("substanceAdministration");
}
