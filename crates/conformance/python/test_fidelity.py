"""Unit tests of fidelity.py on hand-made Bundle / C-CDA pairs: each kind of defect issue 12
names is reported, and a faithful document is not. Run: python3 fidelity.py --self-test"""

import unittest

import fidelity as f
import fidelity_cda as cda
import fidelity_values as values

SNOMED = "http://snomed.info/sct"
PATIENT = {"resourceType": "Patient", "id": "p"}


def cc(code, display=""):
    return {"coding": [{"system": SNOMED, "code": code, "display": display}]}


def bundle(*resources, lists=None):
    """A Bundle of `resources` plus Lists given as (list code, [references])."""
    entries = [{"resource": PATIENT}] + [{"resource": r} for r in resources]
    for i, (code, refs) in enumerate(lists or []):
        entries.append({"resource": {
            "resourceType": "List", "id": f"list{i}", "code": cc(code),
            "entry": [{"item": {"reference": r}} for r in refs],
        }})
    return {"resourceType": "Bundle", "entry": entries}


def doc(**sections):
    """A C-CDA body: section root -> entry XML strings."""
    body = "".join(
        f'<component><section><templateId root="{root}"/>'
        + "".join(f"<entry>{e}</entry>" for e in entries)
        + "</section></component>"
        for root, entries in sections.items()
    )
    return (
        '<ClinicalDocument xmlns="urn:hl7-org:v3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><component><structuredBody>'
        + body + "</structuredBody></component></ClinicalDocument>"
    ).encode()


S = {  # keyword-friendly section names
    "meds": cda.SEC_MEDICATIONS, "allergies": cda.SEC_ALLERGIES, "problems": cda.SEC_PROBLEMS,
    "imms": cda.SEC_IMMUNIZATIONS, "results": cda.SEC_RESULTS, "vitals": cda.SEC_VITALS,
    "exam": "2.16.840.1.113883.10.20.2.10",
}


def sections(**kw):
    return doc(**{S[k]: v for k, v in kw.items()})


def med_activity(code, low="20200101", status="active", sig=None):
    sig_xml = ""
    if sig is not None:
        sig_xml = (
            '<entryRelationship typeCode="COMP"><substanceAdministration>'
            f'<templateId root="{cda.T_FREE_TEXT_SIG}"/><text>{sig}</text>'
            "</substanceAdministration></entryRelationship>"
        )
    return (
        f'<substanceAdministration><templateId root="{cda.T_MED_ACTIVITY}"/>'
        f'<statusCode code="{status}"/><effectiveTime xsi:type="IVL_TS"><low value="{low}"/>'
        "</effectiveTime><consumable><manufacturedProduct><manufacturedMaterial>"
        f'<code code="{code}"/></manufacturedMaterial></manufacturedProduct></consumable>'
        f"{sig_xml}</substanceAdministration>"
    )


def statement(id_, code, ident="same", start="2020-01-01", text=None):
    med = {"resourceType": "Medication", "id": f"m{id_}", "code": cc(code)}
    ms = {
        "resourceType": "MedicationStatement", "id": id_, "status": "active",
        "identifier": [{"system": "urn:x", "value": ident}],
        "medicationReference": {"reference": f"Medication/m{id_}"},
        "effectivePeriod": {"start": start},
    }
    if text:
        ms["dosage"] = [{"text": text}]
    return med, ms


def allergy_obs(allergen='<code code="1"/>', negated=False, value="419199007"):
    neg = ' negationInd="true"' if negated else ""
    return (
        f'<act><templateId root="{cda.T_ALLERGY_CONCERN}"/><statusCode code="active"/>'
        f'<entryRelationship><observation{neg}><templateId root="{cda.T_ALLERGY_OBS}"/>'
        f'<statusCode code="completed"/><value xsi:type="CD" code="{value}"/>'
        '<participant typeCode="CSM"><participantRole><playingEntity>'
        f"{allergen}</playingEntity></participantRole></participant></observation>"
        "</entryRelationship></act>"
    )


def result_obs(code, value_xml, when="20240101", extra=""):
    return (
        f'<observation><templateId root="{cda.T_RESULT_OBS}"/><code code="{code}"/>'
        f'<statusCode code="completed"/><effectiveTime value="{when}"/>{value_xml}{extra}'
        "</observation>"
    )


def organizer(*obs):
    return ("<organizer><templateId root=\"2.16.840.1.113883.10.20.22.4.1\"/>"
            + "".join(f"<component>{o}</component>" for o in obs) + "</organizer>")


def lab(id_, code, value=None, unit=None, when="2024-01-01", rng=None):
    o = {"resourceType": "Observation", "id": id_, "code": cc(code), "effectiveDateTime": when}
    if value is not None:
        o["valueQuantity"] = {"value": value, "unit": unit}
    if rng:
        o["referenceRange"] = [{"low": {"value": rng[0], "unit": unit},
                                "high": {"value": rng[1], "unit": unit}}]
    return o


def report(id_, *results):
    return {"resourceType": "DiagnosticReport", "id": id_, "code": cc("721981007"),
            "result": [{"reference": f"Observation/{r}"} for r in results]}


MEDS = "933361000000108"
ALLERGIES = "886921000000105"
PROBLEMS = "717711000000103"
IMMS = "1102181000000102"
INVESTIGATIONS = "887191000000108"
UNCATEGORISED = "826501000000100"


class Medications(unittest.TestCase):
    def test_faithful_medication_has_no_discrepancy(self):
        m, ms = statement("1", "111", text="One daily")
        b = bundle(m, ms, lists=[(MEDS, ["MedicationStatement/1"])])
        self.assertEqual(f.check(b, sections(meds=[med_activity("111", sig="One daily")])), [])

    def test_different_drugs_sharing_an_identifier_are_both_expected(self):
        m1, ms1 = statement("1", "111")
        m2, ms2 = statement("2", "222")
        b = bundle(m1, ms1, m2, ms2,
                   lists=[(MEDS, ["MedicationStatement/1", "MedicationStatement/2"])])
        out = f.check(b, sections(meds=[med_activity("111")]))
        self.assertEqual(len(out), 1, out)
        self.assertTrue(out[0].startswith("MedicationStatement/2: medication"), out)
        self.assertIn("missing from Medications", out[0])

    def test_same_identifier_code_and_dates_is_one_item(self):
        m1, ms1 = statement("1", "111")
        m2, ms2 = statement("2", "111")
        ms2["dosage"] = [{"text": "Two daily"}]
        b = bundle(m1, ms1, m2, ms2,
                   lists=[(MEDS, ["MedicationStatement/1", "MedicationStatement/2"])])
        # Shown once, with either statement's facts.
        self.assertEqual(f.check(b, sections(meds=[med_activity("111", sig="Two daily")])), [])
        out = f.check(b, sections(meds=[med_activity("111"), med_activity("111")]))
        self.assertTrue(any("appears again" in x for x in out), out)

    def test_courses_at_different_dates_are_different_items(self):
        m1, ms1 = statement("1", "111")
        m2, ms2 = statement("2", "111", start="2021-05-01")
        b = bundle(m1, ms1, m2, ms2,
                   lists=[(MEDS, ["MedicationStatement/1", "MedicationStatement/2"])])
        both = [med_activity("111", low="20210501"), med_activity("111")]
        self.assertEqual(f.check(b, sections(meds=both)), [])
        out = f.check(b, sections(meds=[med_activity("111", low="20210501")]))
        self.assertEqual(len(out), 1, out)
        self.assertTrue(out[0].startswith("MedicationStatement/1: medication"), out)

    def test_dose_text_date_and_status(self):
        m, ms = statement("1", "111", text="Two at night")
        b = bundle(m, ms, lists=[(MEDS, ["MedicationStatement/1"])])
        out = f.check(b, sections(meds=[med_activity("111", low="20200102", status="completed",
                                                     sig="One daily")]))
        joined = "\n".join(out)
        self.assertIn("dose text \"Two at night\"", joined)
        self.assertIn("start 2020-01-01 not in the entry's effectiveTime", joined)
        self.assertIn("statusCode completed, expected active", joined)


class Allergies(unittest.TestCase):
    def nka(self):
        a = {"resourceType": "AllergyIntolerance", "id": "a", "clinicalStatus": "active",
             "code": cc("716186003", "No known allergy")}
        return bundle(a, lists=[(ALLERGIES, ["AllergyIntolerance/a"])])

    def test_no_known_allergy_as_an_allergy_is_reported(self):
        out = f.check(self.nka(), sections(allergies=[allergy_obs('<code code="716186003"/>')]))
        joined = "\n".join(out)
        self.assertIn("negationInd is absent, expected true", joined)
        self.assertIn('expected playingEntity code nullFlavor="NA"', joined)

    def test_negated_no_known_allergy_passes(self):
        entry = allergy_obs('<code nullFlavor="NA"/>', negated=True)
        self.assertEqual(f.check(self.nka(), sections(allergies=[entry])), [])

    def test_disorder_as_allergen_is_reported(self):
        a = {"resourceType": "AllergyIntolerance", "id": "a", "clinicalStatus": "active",
             "code": cc("241933001", "Peanut-induced anaphylaxis")}
        b = bundle(a, lists=[(ALLERGIES, ["AllergyIntolerance/a"])])
        out = f.check(b, sections(allergies=[allergy_obs('<code code="241933001"/>')]))
        self.assertTrue(any("the disorder 241933001 is the allergen" in x for x in out), out)
        ok = allergy_obs('<code nullFlavor="UNK"/>', value="241933001")
        self.assertEqual(f.check(b, sections(allergies=[ok])), [])


class Results(unittest.TestCase):
    def alt(self):
        o = lab("alt", "1013211000000103", 118, "u/L", rng=(5, 42))
        return bundle(o, report("r", "alt"), lists=[(INVESTIGATIONS, ["DiagnosticReport/r"])])

    def test_value_without_its_number_is_reported(self):
        obs = result_obs("1013211000000103",
                         '<value xsi:type="PQ" nullFlavor="OTH"><translation value="118"/></value>')
        out = f.check(self.alt(), sections(results=[organizer(obs)]))
        self.assertTrue(any("value 118 u/L missing" in x for x in out), out)
        self.assertTrue(any("reference range 5–42" in x for x in out), out)

    def test_value_with_ucum_unit_and_range_passes(self):
        rng = ('<referenceRange><observationRange><value xsi:type="IVL_PQ">'
               '<low value="5" unit="U/L"/><high value="42" unit="U/L"/></value>'
               "</observationRange></referenceRange>")
        obs = result_obs("1013211000000103", '<value xsi:type="PQ" value="118" unit="U/L"/>', extra=rng)
        self.assertEqual(f.check(self.alt(), sections(results=[organizer(obs)])), [])

    def test_wrong_number_is_reported(self):
        obs = result_obs("1013211000000103", '<value xsi:type="PQ" value="11.8" unit="U/L"/>')
        out = f.check(self.alt(), sections(results=[organizer(obs)]))
        self.assertTrue(any("value 118 u/L missing (has PQ 11.8 U/L)" in x for x in out), out)

    def test_result_shared_by_two_reports_appears_once(self):
        o = lab("hb", "1022431000000105", 140, "g/L")
        b = bundle(o, report("r1", "hb"), report("r2", "hb"),
                   lists=[(INVESTIGATIONS, ["DiagnosticReport/r1", "DiagnosticReport/r2"])])
        obs = result_obs("1022431000000105", '<value xsi:type="PQ" value="140" unit="g/L"/>')
        self.assertEqual(f.check(b, sections(results=[organizer(obs)])), [])
        out = f.check(b, sections(results=[organizer(obs), organizer(obs)]))
        self.assertEqual(out, ["Observation/hb: appears again as a Result Observation in Results "
                               "(codes 1022431000000105)"])


class Placement(unittest.TestCase):
    def test_unlisted_comment_note_presented_as_result(self):
        note = {"resourceType": "Observation", "id": "n", "code": cc("37331000000100", "Comment note"),
                "effectiveDateTime": "2024-01-01"}
        b = bundle(note, lists=[(MEDS, [])])
        obs = result_obs("37331000000100", '<value xsi:type="ST">hello</value>')
        out = f.check(b, sections(results=[organizer(obs)]))
        self.assertEqual(len(out), 1, out)
        self.assertIn("Observation/n: \"Comment note\" is not placed", out[0])

    def test_finding_in_results_is_reported_and_elsewhere_passes(self):
        o = {"resourceType": "Observation", "id": "s", "code": cc("449614009", "Swelling of lower limb"),
             "effectiveDateTime": "2019-03-28"}
        b = bundle(o, lists=[(UNCATEGORISED, ["Observation/s"])])
        obs = result_obs("449614009", "", when="20190328")
        out = f.check(b, sections(results=[organizer(obs)]))
        self.assertTrue(any("expected in a section other than Results" in x for x in out), out)
        self.assertEqual(f.check(b, sections(exam=[obs])), [])

    def test_immunisation_referenced_by_a_listed_problem_must_appear(self):
        imm = {"resourceType": "Immunization", "id": "i", "vaccineCode": cc("871751000000104"),
               "date": "2019-06-28", "notGiven": False}
        cond = {"resourceType": "Condition", "id": "c", "code": cc("1"), "clinicalStatus": "active",
                "extension": [{"url": "https://x/Extension-CareConnect-RelatedClinicalContent-1",
                               "valueReference": {"reference": "Immunization/i"}}]}
        b = bundle(imm, cond, lists=[(PROBLEMS, ["Condition/c"])])
        problem = (f'<act><templateId root="{cda.T_PROBLEM_CONCERN}"/><statusCode code="active"/>'
                   f'<entryRelationship><observation><templateId root="{cda.T_PROBLEM_OBS}"/>'
                   '<value xsi:type="CD" code="1"/></observation></entryRelationship></act>')
        out = f.check(b, sections(problems=[problem]))
        self.assertEqual(len(out), 1, out)
        self.assertIn("Immunization/i: immunization", out[0])
        self.assertIn("missing from Immunizations", out[0])
        imm_xml = (f'<substanceAdministration><templateId root="{cda.T_IMMUNIZATION}"/>'
                   '<effectiveTime value="20190628"/><consumable><manufacturedProduct>'
                   '<manufacturedMaterial><code code="871751000000104"/></manufacturedMaterial>'
                   "</manufacturedProduct></consumable></substanceAdministration>")
        self.assertEqual(f.check(b, sections(problems=[problem], imms=[imm_xml])), [])

    def test_immunisation_dissent_is_a_negated_immunisation(self):
        o = {"resourceType": "Observation", "id": "d",
             "code": cc("268559007", "No consent for any immunization"),
             "effectiveDateTime": "2019-03-28T10:30:00+00:00"}
        b = bundle(o, lists=[(IMMS, ["Observation/d"])])
        as_result = result_obs("268559007", "", when="20190328103000+0000")
        out = f.check(b, sections(results=[organizer(as_result)]))
        self.assertTrue(any("is a Result Observation in Results, expected in Immunizations" in x
                            for x in out), out)
        negated = (f'<substanceAdministration negationInd="true">'
                   f'<templateId root="{cda.T_IMMUNIZATION}"/>'
                   '<effectiveTime value="20190328103000+0000"/><consumable><manufacturedProduct>'
                   '<manufacturedMaterial><code nullFlavor="NA"/></manufacturedMaterial>'
                   '</manufacturedProduct></consumable><entryRelationship><observation>'
                   '<code code="PATOBJ"><translation code="268559007"/></code></observation>'
                   "</entryRelationship></substanceAdministration>")
        self.assertEqual(f.check(b, sections(imms=[negated])), [])


def vital(loinc, snomed, value, unit, when="20100714"):
    return (f'<observation><templateId root="{cda.T_VITAL_OBS}"/><code code="{loinc}">'
            f'<translation code="{snomed}"/></code><statusCode code="completed"/>'
            f'<effectiveTime value="{when}"/><value xsi:type="PQ" value="{value}" unit="{unit}"/>'
            "</observation>")


class VitalsAndOthers(unittest.TestCase):
    def bp(self):
        o = {"resourceType": "Observation", "id": "bp", "code": cc("163020007", "O/E - BP"),
             "effectiveDateTime": "2010-07-14",
             "component": [
                 {"code": cc("72313002"), "valueQuantity": {"value": 120, "unit": "mmHg"}},
                 {"code": cc("1091811000000102"), "valueQuantity": {"value": 90, "unit": "mmHg"}},
             ]}
        return bundle(o, lists=[(UNCATEGORISED, ["Observation/bp"])])

    def test_blood_pressure_is_two_readings(self):
        both = [vital("8480-6", "72313002", 120, "mm[Hg]"),
                vital("8462-4", "1091811000000102", 90, "mm[Hg]")]
        self.assertEqual(f.check(self.bp(), sections(vitals=both)), [])
        out = f.check(self.bp(), sections(vitals=both[:1]))
        self.assertEqual(len(out), 1, out)
        self.assertIn("Observation/bp: vital sign", out[0])
        swapped = [vital("8480-6", "72313002", 90, "mm[Hg]"),
                   vital("8462-4", "1091811000000102", 120, "mm[Hg]")]
        out = f.check(self.bp(), sections(vitals=swapped))
        self.assertTrue(any("value 120 mmHg missing (has PQ 90 mm[Hg])" in x for x in out), out)

    def test_vital_sign_outside_vital_signs_is_reported(self):
        both = [vital("8480-6", "72313002", 120, "mm[Hg]"),
                vital("8462-4", "1091811000000102", 90, "mm[Hg]")]
        out = f.check(self.bp(), sections(exam=both))
        self.assertEqual(len(out), 2, out)
        self.assertTrue(all("expected in Vital Signs" in x for x in out), out)

    def test_an_entry_no_source_explains_is_reported(self):
        out = f.check(bundle(lists=[(MEDS, [])]), sections(meds=[med_activity("999")]))
        self.assertEqual(out, ["CDA: Medication Activity in Medications with codes 999 "
                               "matches no source item"])

    def test_without_any_list_every_clinical_resource_is_placed(self):
        m, ms = statement("1", "111")
        self.assertEqual(f.check(bundle(m, ms), sections(meds=[med_activity("111")])), [])
        out = f.check(bundle(m, ms), sections())
        self.assertEqual(len(out), 1, out)
        self.assertIn("missing from Medications", out[0])


class Helpers(unittest.TestCase):
    def test_dates_at_the_sources_precision(self):
        self.assertTrue(values.same_instant("2019-03-28", "20190328"))
        self.assertFalse(values.same_instant("2019-03-28", "201903"))
        self.assertFalse(values.same_instant("2019-03-28T10:30:00+00:00", "20190328"))
        self.assertTrue(values.same_instant("2019-03-28T10:30:00+00:00", "20190328103000+0000"))
        self.assertTrue(values.same_instant("2019-03-28T11:30:00+01:00", "20190328103000+0000"))
        self.assertFalse(values.same_instant("2019-03-28T11:30:00+01:00", "20190328113000+0000"))
        self.assertIsNone(values.fhir_date("28/03/2019"))

    def test_units(self):
        self.assertTrue(values.unit_matches("u/L", "U/L"))
        self.assertTrue(values.unit_matches("miu/L", "m[IU]/L"))
        self.assertTrue(values.unit_matches("mu/L", "m[IU]/L"))
        self.assertTrue(values.unit_matches("units/week", "{units}/wk"))
        self.assertTrue(values.unit_matches("10^9/L", "10*9/L"))
        self.assertTrue(values.unit_matches("umol/l", "umol/L"))
        self.assertTrue(values.unit_matches("L/min", "L/min"))
        self.assertTrue(values.unit_matches("odd unit", "{odd unit}"))
        self.assertFalse(values.unit_matches("u/L", "mmol/L"))
        self.assertFalse(values.unit_matches("mmol/L", None))


if __name__ == "__main__":
    unittest.main()
