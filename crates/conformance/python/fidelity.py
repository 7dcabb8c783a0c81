#!/usr/bin/env python3
"""Independent fidelity check: does a C-CDA document faithfully carry a GP Connect Bundle?

    fidelity.py BUNDLE.json CDA.xml   -> JSON array of discrepancies on stdout, one per item
    fidelity.py --self-test           -> runs the checker's own unit tests (test_fidelity.py)

Written without the converter's code or tables: the expectations come from the FHIR data, the
placement rule of the issue-12 contract, GP Connect's List codes and the C-CDA R2.1 templates.
The document is read back with lxml, item by item, through templateIds (never our narrative
tables, except to resolve an entry's own `text/reference`, which is how C-CDA carries free text).

Each discrepancy reads `Type/id: <what>`; `CDA: <what>` when no source resource explains an entry.
"""

import json
import re
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

H = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"h": H}

# --- C-CDA R2.1 templates (root OIDs) -------------------------------------------------------
SEC_ALLERGIES = "2.16.840.1.113883.10.20.22.2.6.1"
SEC_MEDICATIONS = "2.16.840.1.113883.10.20.22.2.1.1"
SEC_PROBLEMS = "2.16.840.1.113883.10.20.22.2.5.1"
SEC_IMMUNIZATIONS = "2.16.840.1.113883.10.20.22.2.2.1"
SEC_RESULTS = "2.16.840.1.113883.10.20.22.2.3.1"
SEC_VITALS = "2.16.840.1.113883.10.20.22.2.4.1"
SEC_SOCIAL = "2.16.840.1.113883.10.20.22.2.17"
SEC_ENCOUNTERS = "2.16.840.1.113883.10.20.22.2.22.1"
SEC_PLAN = "2.16.840.1.113883.10.20.22.2.10"
SECTION_NAMES = {
    SEC_ALLERGIES: "Allergies",
    SEC_MEDICATIONS: "Medications",
    SEC_PROBLEMS: "Problems",
    SEC_IMMUNIZATIONS: "Immunizations",
    SEC_RESULTS: "Results",
    SEC_VITALS: "Vital Signs",
    SEC_SOCIAL: "Social History",
    SEC_ENCOUNTERS: "Encounters",
    "2.16.840.1.113883.10.20.22.2.65": "Notes",
    "2.16.840.1.113883.10.20.2.10": "Physical Exam",
    "2.16.840.1.113883.10.20.22.2.20": "History of Past Illness",
}

T_ALLERGY_OBS = "2.16.840.1.113883.10.20.22.4.7"
T_ALLERGY_CONCERN = "2.16.840.1.113883.10.20.22.4.30"
T_MED_ACTIVITY = "2.16.840.1.113883.10.20.22.4.16"
T_FREE_TEXT_SIG = "2.16.840.1.113883.10.20.22.4.147"
T_PROBLEM_OBS = "2.16.840.1.113883.10.20.22.4.4"
T_PROBLEM_CONCERN = "2.16.840.1.113883.10.20.22.4.3"
T_IMMUNIZATION = "2.16.840.1.113883.10.20.22.4.52"
T_RESULT_OBS = "2.16.840.1.113883.10.20.22.4.2"
T_VITAL_OBS = "2.16.840.1.113883.10.20.22.4.27"
T_SMOKING = "2.16.840.1.113883.10.20.22.4.78"
T_SOCIAL_OBS = "2.16.840.1.113883.10.20.22.4.38"
T_ENCOUNTER = "2.16.840.1.113883.10.20.22.4.49"
T_NOTE = "2.16.840.1.113883.10.20.22.4.202"
# The clinical statements that stand for one source item. Anything nested inside one of them
# (an encounter diagnosis's problem, a reaction) belongs to that item.
ITEM_TEMPLATES = {
    T_ALLERGY_OBS,
    T_MED_ACTIVITY,
    T_PROBLEM_OBS,
    T_IMMUNIZATION,
    T_RESULT_OBS,
    T_VITAL_OBS,
    T_SMOKING,
    T_SOCIAL_OBS,
    T_ENCOUNTER,
    T_NOTE,
}
# Which entry stands for which kind of source item (pass 2 files an item in a wrong section
# only on an entry of its own kind).
KIND_TEMPLATES = {
    "allergy": {T_ALLERGY_OBS},
    "problem": {T_PROBLEM_OBS},
    "medication": {T_MED_ACTIVITY},
    "immunization": {T_IMMUNIZATION},
    "immunization refusal": {T_IMMUNIZATION, T_RESULT_OBS, T_PROBLEM_OBS},
    "encounter": {T_ENCOUNTER},
}
TEMPLATE_TYPES = {
    T_ALLERGY_OBS: "AllergyIntolerance",
    T_MED_ACTIVITY: "MedicationStatement",
    T_PROBLEM_OBS: "Condition",
    T_IMMUNIZATION: "Immunization",
    T_ENCOUNTER: "Encounter",
}
TEMPLATE_NAMES = {
    T_ALLERGY_OBS: "Allergy Observation",
    T_MED_ACTIVITY: "Medication Activity",
    T_PROBLEM_OBS: "Problem Observation",
    T_IMMUNIZATION: "Immunization Activity",
    T_RESULT_OBS: "Result Observation",
    T_VITAL_OBS: "Vital Sign Observation",
    T_SMOKING: "Smoking Status",
    T_SOCIAL_OBS: "Social History Observation",
    T_ENCOUNTER: "Encounter Activity",
    T_NOTE: "Note Activity",
}

# --- GP Connect / SNOMED CT concepts ----------------------------------------------------------
LIST_IMMUNISATIONS = "1102181000000102"
COMMENT_NOTE = "37331000000100"
NOTE_LOINC = "34109-9"
NO_KNOWN_ALLERGY = {"716186003", "409137002", "429625007", "428607008", "428197003"}
NO_KNOWN_DRUG_ALLERGY = {"409137002"}
NO_PROBLEMS = {"160245001"}
IMMUNISATION_DISSENT = re.compile(
    r"consent|dissent|declin|refus|not given|contraindicat", re.IGNORECASE
)
# Vital signs (C-CDA Vital Signs value set concepts as GP systems record them in SNOMED CT).
BP_PANEL = {"75367002", "163020007", "386534000", "251076008", "163033001", "163035008"}
VITAL_CODES = {
    # systolic / diastolic
    "72313002", "271649006", "163030003", "400974009", "407554009",
    "1091811000000102", "271650006", "163031004", "400975005", "407555005",
    # pulse / heart rate, respiratory rate
    "78564009", "364075005", "8499008", "86290005", "271625008",
    # body temperature
    "703421000", "386725007", "276885007", "415882003", "415945006", "415922000",
    # oxygen saturation
    "431314004", "103228002", "1097811000000106", "852651000000100", "852661000000102",
    # height, weight, BMI, head circumference
    "50373000", "248333004", "27113001", "363808001", "60621009", "301331008", "363812007",
} | BP_PANEL
# What names a disorder or reaction rather than a substance (SNOMED CT semantic tags and the
# words of the concepts GP systems use as an allergy's code).
DISORDER_WORDS = re.compile(
    r"allerg|anaphyla|intoleran|reaction|sensitiv|induced|adverse|\((disorder|finding)\)",
    re.IGNORECASE,
)
SOCIAL_WORDS = re.compile(r"smok|tobacco|cigar|alcohol|drink", re.IGNORECASE)
ADMIN_TYPES = {
    "Patient", "Organization", "Practitioner", "PractitionerRole", "Location", "Medication", "List",
}
CHECKED_TYPES = {
    "AllergyIntolerance", "MedicationStatement", "Condition", "Immunization", "Observation",
    "Encounter",
}

# Common UK unit spellings → UCUM (the contract's examples). Compared case-insensitively after
# the mapping, with UCUM annotations `{…}` ignored, as UCUM gives them no meaning.
UNIT_MAP = {
    "u/l": "U/L",
    "iu/l": "[IU]/L",
    "miu/l": "m[IU]/L",
    "mu/l": "m[IU]/L",
    "units/week": "{units}/wk",
    "mmhg": "mm[Hg]",
    "c": "Cel",
    "degc": "Cel",
    "breaths per minute": "/min",
    "per minute": "/min",
    "beats per minute": "/min",
    "bpm": "/min",
    "10^9/l": "10*9/L",
    "10^12/l": "10*12/L",
}


def strip_annotations(u):
    return re.sub(r"\{[^}]*\}", "", u).lower()


def unit_matches(source, actual):
    """True when `actual` (the CDA's @unit) carries the source's unit."""
    if source is None or source == "":
        return True  # nothing to carry; any unit (usually 1) will do
    if actual is None:
        return False
    mapped = UNIT_MAP.get(source.strip().lower(), source.strip())
    if strip_annotations(mapped) == strip_annotations(actual) and strip_annotations(actual) != "":
        return True
    if mapped.lower() == actual.lower():
        return True
    # An unmappable unit kept as an annotation built from the original text.
    inner = re.sub(r"[{}]", "", source).strip()
    m = re.fullmatch(r"\{(.*)\}", actual.strip())
    return bool(m) and m.group(1).strip().lower() == inner.lower()


def num(s):
    try:
        return Decimal(str(s))
    except (InvalidOperation, ValueError, TypeError):
        return None


# --- dates ------------------------------------------------------------------------------------
FHIR_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
CDA_TS = re.compile(r"^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$")


def fhir_date(s):
    """(digits, tz-offset-minutes or None) at the source's precision, or None if invalid."""
    if not isinstance(s, str):
        return None
    m = FHIR_DATE.match(s.strip())
    if not m:
        return None
    y, mo, d, hh, mi, ss, tz = m.groups()
    digits = "".join(p for p in (y, mo, d, hh, mi, ss) if p)
    if hh and not ss:
        digits += "00"
    off = None
    if tz:
        off = 0 if tz == "Z" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 60 + int(tz[4:6]))
    return digits, off


def cda_ts(s):
    m = CDA_TS.match(s or "")
    if not m:
        return None
    digits, tz = m.groups()
    off = None
    if tz:
        off = (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 60 + int(tz[3:5]))
    return digits, off


def to_utc(digits, off):
    if off is None or len(digits) < 12:
        return None
    dt = datetime.strptime(digits[:12], "%Y%m%d%H%M") - timedelta(minutes=off)
    return dt.replace(tzinfo=timezone.utc).strftime("%Y%m%d%H%M") + digits[12:]


def same_instant(src, ts):
    """Does CDA TS `ts` state FHIR date `src` at the source's precision?"""
    a, b = fhir_date(src), cda_ts(ts)
    if not a or not b:
        return False
    if a[0] == b[0]:
        # The same wall-clock digits in two different zones are two different instants.
        return a[1] is None or b[1] is None or a[1] == b[1]
    ua, ub = to_utc(*a), to_utc(*b)
    return ua is not None and ua == ub


# --- the Bundle side --------------------------------------------------------------------------
def codes_of(cc, skip_null=False):
    """Every code of a CodeableConcept (stripped: some GP systems pad them)."""
    out = []
    for c in (cc or {}).get("coding", []) or []:
        code = (c.get("code") or "").strip()
        if skip_null and "NullFlavor" in (c.get("system") or ""):
            continue
        if code:
            out.append(code)
    return out


def display_of(cc):
    cc = cc or {}
    for c in cc.get("coding", []) or []:
        if c.get("display"):
            return c["display"]
    return cc.get("text") or ""


class Bundle:
    def __init__(self, data):
        self.res = {}  # "Type/id" -> resource
        self.by_url = {}
        self.order = []
        self.lists = []
        self.contained = {}  # ("Type/id" of container, "#id") -> key
        for i, e in enumerate(data.get("entry", []) or []):
            r = e.get("resource")
            if not isinstance(r, dict) or not r.get("resourceType"):
                continue
            # Resources without an id (some spec examples' Lists) still need a key of their own.
            key = f"{r['resourceType']}/{r.get('id') or f'(entry {i})'}"
            self.add(key, r)
            if e.get("fullUrl"):
                self.by_url[e["fullUrl"]] = key
            for c in r.get("contained", []) or []:
                if isinstance(c, dict) and c.get("resourceType") and c.get("id"):
                    ckey = f"{c['resourceType']}/{c['id']}"
                    if ckey in self.res:
                        ckey = f"{key}#{c['id']}"
                    self.add(ckey, c)
                    self.contained[(key, "#" + c["id"])] = ckey
            if r["resourceType"] == "List":
                self.lists.append(key)

    def add(self, key, r):
        self.res[key] = r
        self.order.append(key)

    def resolve(self, ref, ctx=None):
        if not isinstance(ref, dict):
            return None
        s = ref.get("reference")
        if not isinstance(s, str) or not s:
            return None
        if s.startswith("#"):
            return self.contained.get((ctx, s))
        if s in self.by_url:
            return self.by_url[s]
        parts = s.rstrip("/").split("/")
        if len(parts) >= 2:
            # Type/id, also at the end of an absolute URL or before /_history/n.
            if len(parts) >= 4 and parts[-2] == "_history":
                parts = parts[:-2]
            key = f"{parts[-2]}/{parts[-1]}"
            if key in self.res:
                return key
        return None

    def clinical_refs(self, key):
        """What a resource references clinically (the contract's closure)."""
        r = self.res[key]
        t = r["resourceType"]
        refs = []
        for x in r.get("extension", []) or []:
            url = x.get("url", "")
            if url.endswith("RelatedClinicalContent-1") or url.endswith("ActualProblem-1"):
                refs.append(x.get("valueReference"))
        if t == "DiagnosticReport":
            refs += r.get("result", []) or []
            refs += r.get("specimen", []) or []
            refs += r.get("basedOn", []) or []
        if t == "Observation":
            refs += [rel.get("target") for rel in r.get("related", []) or []]
            refs.append(r.get("specimen"))
        if t in ("MedicationStatement", "MedicationRequest"):
            refs += r.get("basedOn", []) or []
        if t == "Condition":
            for ev in r.get("evidence", []) or []:
                refs += ev.get("detail", []) or []
        return [k for k in (self.resolve(x, key) for x in refs) if k]

    def placed(self):
        """The contract's placement rule: List seeds, then the clinical closure."""
        seeds = []
        list_members = {}  # key -> set of List codes naming it
        for lk in self.lists:
            lst = self.res[lk]
            lcodes = set(codes_of(lst.get("code")))
            for e in lst.get("entry", []) or []:
                if e.get("deleted") is True:
                    continue
                k = self.resolve(e.get("item"), lk)
                if k:
                    seeds.append(k)
                    list_members.setdefault(k, set()).update(lcodes)
            enc = self.resolve(lst.get("encounter"), lk)
            if enc:
                seeds.append(enc)
        if not self.lists:
            seeds = [k for k in self.order if self.res[k]["resourceType"] not in ADMIN_TYPES]
        placed, stack = [], list(reversed(seeds))
        seen = set()
        while stack:
            k = stack.pop()
            if k in seen or self.res[k]["resourceType"] in ADMIN_TYPES:
                continue
            seen.add(k)
            placed.append(k)
            stack.extend(reversed(self.clinical_refs(k)))
        return placed, list_members

    def medication_codes(self, ms):
        med = ms.get("medicationCodeableConcept")
        if med:
            return codes_of(med)
        k = self.resolve(ms.get("medicationReference"))
        return codes_of(self.res[k].get("code")) if k else []

    def dates(self, key):
        r = self.res[key]
        out = [r.get(f) for f in ("effectiveDateTime", "onsetDateTime", "date", "assertedDate")]
        for f in ("effectivePeriod", "period"):
            out += [(r.get(f) or {}).get("start"), (r.get(f) or {}).get("end")]
        return [d for d in out if d]

    def main_codes(self, key):
        r = self.res[key]
        t = r["resourceType"]
        if t == "MedicationStatement":
            return self.medication_codes(r)
        if t == "Immunization":
            # The vaccination procedure (GP Connect extension) names the vaccine when the
            # vaccineCode is a nullFlavor.
            codes = codes_of(r.get("vaccineCode"), skip_null=True)
            for x in r.get("extension", []) or []:
                if x.get("url", "").endswith("VaccinationProcedure-1"):
                    codes += codes_of(x.get("valueCodeableConcept"))
            return codes
        if t == "Encounter":
            return [c for ty in r.get("type", []) or [] for c in codes_of(ty)]
        return codes_of(r.get("code"))


class Expected:
    """One item the document must contain."""

    def __init__(self, key, kind, sections, codes, label):
        self.key = key
        self.kind = kind
        self.sections = sections  # set of section roots, or "not-results"
        self.codes = set(codes)
        self.label = label
        self.dates = []  # (what, FHIR date)
        self.status = None  # set of acceptable statusCodes
        self.concern_status = None
        self.negated = False
        self.allergen_not = set()  # codes that must not be the allergen
        self.allergen_na = False
        self.dose_texts = []
        self.quantity = None  # (comparator, value, unit)
        self.string = None
        self.range = []  # (low, high, unit)
        self.interpretation = set()
        self.optional = False
        self.alts = []  # resources that are the same item (identity rule)

    def allows(self, section):
        if self.sections == "not-results":
            return section != SEC_RESULTS
        return section in self.sections


def expectations(bundle):
    placed, list_members = bundle.placed()
    placed_set = set(placed)
    # Observations that a placed report carries, directly or through has-member groups.
    in_report = set()
    for k in placed:
        if bundle.res[k]["resourceType"] != "DiagnosticReport":
            continue
        stack = [bundle.resolve(x, k) for x in bundle.res[k].get("result", []) or []]
        while stack:
            o = stack.pop()
            if not o or o in in_report:
                continue
            in_report.add(o)
            for rel in bundle.res[o].get("related", []) or []:
                if rel.get("type", "has-member") == "has-member":
                    stack.append(bundle.resolve(rel.get("target"), o))

    out, seen_identity = [], {}
    for k in placed:
        r = bundle.res[k]
        t = r["resourceType"]
        if t not in CHECKED_TYPES:
            continue
        codes = bundle.main_codes(k)
        e = expect_one(bundle, k, r, codes, in_report, list_members.get(k, set()))
        if not e:
            continue
        # Identity: same type, identifier (system and value) and clinical code = one item,
        # shown once; the entry may carry any of the group's facts.
        first = codes[0] if codes else None
        idks = [(t, i.get("system"), i.get("value"), first)
                for i in r.get("identifier", []) or [] if i.get("value")]
        same = next((seen_identity[x] for x in idks if x in seen_identity), None)
        if same is not None and not isinstance(e, list):
            same.alts.append(e)
            continue
        for x in idks:
            seen_identity.setdefault(x, e)
        out.append(e)
    unplaced = [
        k for k in bundle.order
        if k not in placed_set and bundle.res[k]["resourceType"] in CHECKED_TYPES
    ]
    return out, unplaced


def expect_one(bundle, k, r, codes, in_report, lists):
    t = r["resourceType"]
    label = display_of(r.get("code") or r.get("vaccineCode")) or ",".join(codes)
    if t == "AllergyIntolerance":
        e = Expected(k, "allergy", {SEC_ALLERGIES}, codes, label)
        nka = set(codes) & NO_KNOWN_ALLERGY or display_of(r.get("code")).lower().startswith(
            "no known"
        )
        if nka:
            e.negated = True
            e.allergen_na = True
            e.codes = {"416098002" if set(codes) & NO_KNOWN_DRUG_ALLERGY else "419199007"} | set(codes)
        else:
            substances = [
                c for rx in r.get("reaction", []) or [] for c in codes_of(rx.get("substance"))
            ]
            if substances and not set(substances) & set(codes):
                e.allergen_not = set(codes)
            elif not substances and DISORDER_WORDS.search(display_of(r.get("code"))):
                # "Allergy to peanuts", "Peanut-induced anaphylaxis": a disorder, not a
                # substance; the allergen is then unknown (nullFlavor) or a real substance.
                e.allergen_not = set(codes)
        e.dates.append(("onset", r.get("onsetDateTime")))
        for x in r.get("extension", []) or []:
            if x.get("url", "").endswith("AllergyIntoleranceEnd-1"):
                for y in x.get("extension", []) or []:
                    if y.get("url") == "endDateTime":
                        e.dates.append(("end", y.get("valueDateTime")))
        cs = r.get("clinicalStatus")
        if cs == "active":
            e.concern_status = {"active"}
        elif cs in ("resolved", "inactive"):
            e.concern_status = {"completed"}
        return e
    if t == "Condition":
        negated = bool(set(codes) & NO_PROBLEMS)
        e = Expected(k, "problem", {SEC_PROBLEMS}, codes, label)
        e.negated = negated
        e.dates.append(("onset", r.get("onsetDateTime")))
        e.dates.append(("abatement", r.get("abatementDateTime")))
        cs = r.get("clinicalStatus")
        if cs == "active":
            e.concern_status = {"active"}
        elif cs in ("inactive", "resolved", "remission"):
            e.concern_status = {"completed"}
        return e
    if t == "MedicationStatement":
        med = bundle.res.get(bundle.resolve(r.get("medicationReference")) or "", {})
        e = Expected(k, "medication", {SEC_MEDICATIONS}, codes, display_of(med.get("code")))
        period = r.get("effectivePeriod") or {}
        e.dates += [("start", period.get("start")), ("end", period.get("end"))]
        e.status = {
            "active": {"active"},
            "completed": {"completed"},
            "stopped": {"aborted", "completed"},
            "entered-in-error": {"nullified"},
            "intended": {"new", "active"},
        }.get(r.get("status"))
        e.dose_texts = [d["text"] for d in r.get("dosage", []) or [] if d.get("text")]
        return e
    if t == "Immunization":
        e = Expected(k, "immunization", {SEC_IMMUNIZATIONS}, codes, label)
        e.negated = r.get("notGiven") is True
        e.dates.append(("date", r.get("date")))
        return e
    if t == "Encounter":
        e = Expected(k, "encounter", {SEC_ENCOUNTERS}, codes, display_of((r.get("type") or [{}])[0]))
        period = r.get("period") or {}
        e.dates += [("start", period.get("start")), ("end", period.get("end"))]
        return e
    # Observation
    eff = r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start")
    if k in in_report:
        e = Expected(k, "result", {SEC_RESULTS}, codes, label)
        has_value = any(x.startswith("value") for x in r)
        groups = any(rel.get("type", "has-member") == "has-member" for rel in r.get("related", []) or [])
        e.optional = groups and not has_value  # a test group may be the organizer itself
    elif LIST_IMMUNISATIONS in lists and (
        IMMUNISATION_DISSENT.search(label) or not r.get("valueQuantity")
    ):
        e = Expected(k, "immunization refusal", {SEC_IMMUNIZATIONS}, codes, label)
        e.negated = True
    elif set(codes) & VITAL_CODES and (r.get("valueQuantity") or r.get("component")):
        if set(codes) & BP_PANEL or r.get("component"):
            return expect_components(k, r, codes, label, eff)
        e = Expected(k, "vital sign", {SEC_VITALS}, codes, label)
    elif SOCIAL_WORDS.search(label) or any(
        "social" in (c.get("code") or "") for cat in r.get("category", []) or []
        for c in cat.get("coding", []) or []
    ):
        e = Expected(k, "social history", {SEC_SOCIAL}, codes, label)
    elif COMMENT_NOTE in codes:
        # A Note Activity's code is LOINC 34109-9 (Note); the GP's concept only says "comment".
        e = Expected(k, "note", "not-results", set(codes) | {NOTE_LOINC}, label)
    else:
        # Findings, history, examination: anywhere but Results (the contract leaves the
        # section to the converter).
        e = Expected(k, "observation", "not-results", codes, label)
    e.dates.append(("effective", eff))
    observation_value(e, r)
    return e


def observation_value(e, r):
    q = r.get("valueQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        e.quantity = (q.get("comparator"), num(q.get("value")), q.get("unit") or q.get("code"))
    if isinstance(r.get("valueString"), str):
        e.string = r["valueString"]
    if r.get("valueCodeableConcept"):
        e.codes_value = set(codes_of(r["valueCodeableConcept"]))
    for rr in r.get("referenceRange", []) or []:
        low, high = rr.get("low") or {}, rr.get("high") or {}
        if low.get("value") is not None or high.get("value") is not None:
            e.range.append((num(low.get("value")), num(high.get("value")),
                            low.get("unit") or high.get("unit") or (q or {}).get("unit")))
    e.interpretation = {
        c.get("code") for c in (r.get("interpretation") or {}).get("coding", []) or []
        if "0078" in (c.get("system") or "") and c.get("code")
    }


def expect_components(k, r, codes, label, eff):
    """A blood pressure panel: its systolic and diastolic readings are the vital signs."""
    comps = [c for c in r.get("component", []) or [] if c.get("valueQuantity")]
    if not comps:
        return None
    out = []
    for c in comps:
        ccodes = codes_of(c.get("code"))
        e = Expected(k, "vital sign", {SEC_VITALS}, ccodes, display_of(c.get("code")))
        e.dates.append(("effective", eff))
        observation_value(e, c)
        out.append(e)
    return out


# --- the document side ------------------------------------------------------------------------
def roots(el):
    return {t.get("root") for t in el.findall(f"{{{H}}}templateId")}


def xsi_type(el):
    return el.get(f"{{{XSI}}}type") or ""


class Actual:
    def __init__(self, el, section, doc_ids):
        self.el = el
        self.section = section
        self.templates = roots(el) & ITEM_TEMPLATES
        self.template = next(iter(self.templates), el.tag.split("}")[-1])
        self.negated = el.get("negationInd") == "true"
        own = [c for c in el.iter() if not isinstance(c.tag, str) or not self.nested(c)]
        self.codes = set()
        for c in own:
            if isinstance(c.tag, str) and c.get("code") is not None and c.tag.split("}")[-1] in (
                "code", "value", "translation"
            ):
                self.codes.add(c.get("code").strip())
        self.ts = []
        for et in el.findall(f"{{{H}}}effectiveTime"):
            for x in [et] + list(et):
                if x.get("value"):
                    self.ts.append(x.get("value"))
        st = el.find(f"{{{H}}}statusCode")
        self.status = st.get("code") if st is not None else None
        self.concern_status = None
        p = el.getparent()
        while p is not None:
            if roots(p) & {T_ALLERGY_CONCERN, T_PROBLEM_CONCERN}:
                cst = p.find(f"{{{H}}}statusCode")
                self.concern_status = cst.get("code") if cst is not None else None
                break
            p = p.getparent()
        self.allergen = []
        self.allergen_na = False
        for pe in el.xpath("h:participant[@typeCode='CSM']/h:participantRole/h:playingEntity/h:code",
                           namespaces=NS):
            self.allergen.append(pe.get("code"))
            self.allergen += [t.get("code") for t in pe.findall(f"{{{H}}}translation")]
            if pe.get("nullFlavor") in ("NA", "UNK", "NI") and pe.get("code") is None:
                self.allergen_na = True
        self.values = el.findall(f"{{{H}}}value")
        self.ranges = el.xpath("h:referenceRange/h:observationRange/h:value", namespaces=NS)
        self.interpretation = {i.get("code") for i in el.findall(f"{{{H}}}interpretationCode")}
        self.texts = []
        for sig in el.xpath(".//h:substanceAdministration[h:templateId/@root=$t]/h:text",
                            namespaces=NS, t=T_FREE_TEXT_SIG):
            self.texts.append(resolve_text(sig, doc_ids))
        self.matched = None

    def nested(self, node):
        p = node
        while p is not None and p is not self.el:
            if isinstance(p.tag, str) and roots(p) & ITEM_TEMPLATES:
                return True
            p = p.getparent()
        return False

    def describe(self):
        name = TEMPLATE_NAMES.get(self.template, self.template)
        return f"{name} in {SECTION_NAMES.get(self.section, self.section)}"


def resolve_text(text_el, doc_ids):
    """An entry's text: inline, or the narrative element its reference points to (C-CDA's way)."""
    parts = ["".join(text_el.itertext())]
    ref = text_el.find(f"{{{H}}}reference")
    if ref is not None and (ref.get("value") or "").startswith("#"):
        target = doc_ids.get(ref.get("value")[1:])
        if target is not None:
            parts.append("".join(target.itertext()))
    return " ".join(" ".join(parts).split())


def read_document(xml_bytes):
    doc = etree.fromstring(xml_bytes)
    doc_ids = {e.get("ID"): e for e in doc.iter() if isinstance(e.tag, str) and e.get("ID")}
    items = []
    for sec in doc.iter(f"{{{H}}}section"):
        sroots = roots(sec)
        root = next((r for r in sroots if r in SECTION_NAMES), next(iter(sroots), "?"))
        if SEC_PLAN in sroots:
            continue  # referrals and diary entries: not part of this check
        for entry in sec.findall(f"{{{H}}}entry"):
            found = [
                e for e in entry.iter()
                if isinstance(e.tag, str) and roots(e) & ITEM_TEMPLATES
            ]
            for e in found:
                item = Actual(e, root, doc_ids)
                if not item.nested(e.getparent()):
                    items.append(item)
    return items


# --- comparing --------------------------------------------------------------------------------
def candidates(exp, items):
    return [a for a in items if a.matched is None and exp.codes & a.codes]


def by_content(exp, items):
    """Entries in the right section with the item's date and value, when its code was lost."""
    dates = [d for _, d in exp.dates if d and fhir_date(d)]
    if not dates or (exp.codes and not exp.quantity):
        return []  # without a number, a date alone is too weak to name the entry
    out = []
    for a in items:
        if a.matched is not None or not exp.allows(a.section):
            continue
        if not all(any(same_instant(d, ts) for ts in a.ts) for d in dates):
            continue
        if exp.quantity and not compare_quantity(exp, a) == []:
            continue
        out.append(a)
    return out


def score(exp, a):
    s = 0
    for _, d in exp.dates:
        if d and any(same_instant(d, ts) for ts in a.ts):
            s += 2
    if exp.quantity and any(num(v.get("value")) == exp.quantity[1] for v in a.values):
        s += 3
    if exp.quantity:
        for v in a.values:
            for b in v:
                if num(b.get("value")) == exp.quantity[1]:
                    s += 3
    if exp.negated == a.negated:
        s += 1
    if exp.status and a.status in exp.status:
        s += 1
    if exp.concern_status and a.concern_status in exp.concern_status:
        s += 1
    if exp.allows(a.section):
        s += 10
    return s


def compare(exp, a):
    """What differs between an expected item and the entry matched to it."""
    out = []
    if not exp.allows(a.section):
        want = ("a section other than Results" if exp.sections == "not-results"
                else " or ".join(SECTION_NAMES.get(s, s) for s in sorted(exp.sections)))
        out.append(f"{exp.kind} \"{exp.label}\" is a {a.describe()}, expected in {want}")
    for what, d in exp.dates:
        if d is None:
            continue
        if fhir_date(d) is None:
            continue  # a malformed source date: nothing to compare
        if not any(same_instant(d, ts) for ts in a.ts):
            out.append(f"{exp.kind} \"{exp.label}\": {what} {d} not in the entry's effectiveTime "
                       f"(has {', '.join(a.ts) or 'none'})")
    if exp.negated != a.negated:
        out.append(f"{exp.kind} \"{exp.label}\": negationInd is "
                   f"{'true' if a.negated else 'absent'}, expected {'true' if exp.negated else 'not negated'}")
    if exp.status and a.status not in exp.status:
        out.append(f"{exp.kind} \"{exp.label}\": statusCode {a.status}, expected {'/'.join(sorted(exp.status))}")
    if exp.concern_status and a.concern_status not in exp.concern_status:
        out.append(f"{exp.kind} \"{exp.label}\": concern statusCode {a.concern_status}, "
                   f"expected {'/'.join(sorted(exp.concern_status))}")
    if exp.allergen_na and not a.allergen_na:
        out.append(f"{exp.kind} \"{exp.label}\": allergen is {','.join(filter(None, a.allergen)) or '?'}, "
                   "expected playingEntity code nullFlavor=\"NA\"")
    bad = exp.allergen_not & set(a.allergen)
    if bad:
        out.append(f"{exp.kind} \"{exp.label}\": the disorder {','.join(sorted(bad))} is the allergen "
                   "(participant CSM), expected the substance")
    for t in exp.dose_texts:
        norm = " ".join(t.split())
        if not any(norm in x for x in a.texts):
            out.append(f"{exp.kind} \"{exp.label}\": dose text \"{norm}\" not in a Free Text Sig")
    if exp.quantity:
        out += compare_quantity(exp, a)
    if exp.string is not None:
        want = " ".join(exp.string.split())
        got = [" ".join("".join(v.itertext()).split()) for v in a.values if xsi_type(v) == "ST"]
        if want not in got:
            out.append(f"{exp.kind} \"{exp.label}\": value \"{want[:60]}\" not an ST value")
    codes_value = getattr(exp, "codes_value", None)
    if codes_value:
        got = {v.get("code") for v in a.values} | {
            t.get("code") for v in a.values for t in v.findall(f"{{{H}}}translation")}
        if not codes_value & got:
            out.append(f"{exp.kind} \"{exp.label}\": coded value {','.join(sorted(codes_value))} missing")
    for low, high, unit in exp.range:
        if not any(range_matches(low, high, unit, v) for v in a.ranges):
            out.append(f"{exp.kind} \"{exp.label}\": reference range {low}–{high} {unit or ''} "
                       "not an IVL_PQ observationRange")
    if exp.interpretation and not exp.interpretation & a.interpretation:
        out.append(f"{exp.kind} \"{exp.label}\": interpretation {','.join(sorted(exp.interpretation))} "
                   f"missing (has {','.join(sorted(filter(None, a.interpretation))) or 'none'})")
    return out


def compare_quantity(exp, a):
    comparator, value, unit = exp.quantity
    shown = f"{value} {unit or ''}".strip()
    for v in a.values:
        t = xsi_type(v)
        if t == "PQ" and not comparator and num(v.get("value")) == value:
            if unit_matches(unit, v.get("unit")):
                return []
            return [f"{exp.kind} \"{exp.label}\": value {shown} has unit {v.get('unit')!r}, "
                    f"not a UCUM form of {unit!r}"]
        if t == "IVL_PQ":
            for b in v:
                if num(b.get("value")) == value:
                    if unit_matches(unit, b.get("unit")):
                        return []
                    return [f"{exp.kind} \"{exp.label}\": value {shown} has unit {b.get('unit')!r}"]
    got = ", ".join(
        f"{xsi_type(v)} {v.get('value') or v.get('nullFlavor') or ''} {v.get('unit') or ''}".strip()
        for v in a.values) or "none"
    return [f"{exp.kind} \"{exp.label}\": value {comparator or ''}{shown} missing (has {got})"]


def range_matches(low, high, unit, v):
    if xsi_type(v) != "IVL_PQ":
        return False
    lo, hi = v.find(f"{{{H}}}low"), v.find(f"{{{H}}}high")
    for want, got in ((low, lo), (high, hi)):
        if want is None:
            continue
        if got is None or num(got.get("value")) != want or not unit_matches(unit, got.get("unit")):
            return False
    return True


def want_text(exp):
    if exp.sections == "not-results":
        return "a section other than Results"
    return " or ".join(SECTION_NAMES.get(s, s) for s in sorted(exp.sections))


def check(bundle_data, xml_bytes):
    bundle = Bundle(bundle_data)
    expected, unplaced = expectations(bundle)
    flat = []
    for e in expected:
        flat.extend(e if isinstance(e, list) else [e])
    items = read_document(xml_bytes)
    out = []

    def take(exp, best, lost_code=False):
        best.matched = exp
        found = []
        if lost_code:
            found.append(f"{exp.kind} \"{exp.label}\": the GP's code "
                         f"{','.join(sorted(exp.codes))} is not on its {best.describe()} "
                         f"(codes {','.join(sorted(best.codes)) or 'none'})")
        diffs = compare(exp, best)
        # An item standing for several identical resources may show any one's facts.
        if diffs and any(not compare(alt, best) for alt in exp.alts):
            diffs = []
        out.extend(f"{exp.key}: {d}" for d in found + diffs)

    # Most constrained first, so that a shared code does not steal another item's entry;
    # items bound to one section go before those the converter may file anywhere but Results.
    flat.sort(key=lambda e: (e.sections == "not-results",
                             len([a for a in items if e.codes & a.codes])))
    # Pass 1: the item in a section where it belongs.
    pending = []
    for exp in flat:
        cands = [a for a in candidates(exp, items) if exp.allows(a.section)]
        lost_code = False
        if not cands:
            cands = by_content(exp, items)
            lost_code = bool(cands) and bool(exp.codes)
        if cands:
            take(exp, max(cands, key=lambda a: score(exp, a)), lost_code)
        else:
            pending.append(exp)
    # Pass 2: the item filed in the wrong section; then what is missing altogether.
    for exp in pending:
        fits = KIND_TEMPLATES.get(exp.kind)
        cands = [a for a in candidates(exp, items) if fits is None or a.template in fits]
        if cands and not exp.optional:
            take(exp, max(cands, key=lambda a: score(exp, a)))
            continue
        if exp.optional:
            continue
        taken = [a for a in items if exp.codes & a.codes]
        where = (f" (its code is only on entries matched to other items: "
                 f"{', '.join(sorted({a.describe() for a in taken}))})" if taken else "")
        same = (f"; it also stands for {', '.join(a.key for a in exp.alts)} (same identifier "
                "and code)" if exp.alts else "")
        out.append(f"{exp.key}: {exp.kind} \"{exp.label}\" missing from {want_text(exp)}"
                   f"{where}{same}")
    # Everything left over is an entry no placed item explains.
    by_code = {}
    for k in unplaced:
        for c in bundle.main_codes(k):
            by_code.setdefault(c, []).append(k)
    placed_codes = {}
    for e in flat:
        for c in e.codes:
            placed_codes.setdefault(c, []).append(e.key)
    for a in items:
        if a.matched is not None:
            continue
        src = next((by_code[c] for c in sorted(a.codes) if c in by_code), None)
        if not src:
            # An uncoded entry (an encounter without a type): an unplaced resource of its kind
            # and date.
            kind = TEMPLATE_TYPES.get(a.template, "Observation")
            src = [k for k in unplaced if k.startswith(kind + "/")
                   and any(same_instant(d, ts) for d in bundle.dates(k) for ts in a.ts)][:1]
        if src:
            k = src.pop(0) if len(src) > 1 else src[0]
            name = display_of(bundle.res[k].get("code")) or k.split("/")[0]
            out.append(f"{k}: \"{name}\" is not placed (no clinical-area List or listed item "
                       f"references it) but presented as a {a.describe()}")
            continue
        dup = next((placed_codes[c] for c in sorted(a.codes) if c in placed_codes), None)
        codes = ",".join(sorted(a.codes))[:80]
        if dup:
            out.append(f"{dup[0]}: appears again as a {a.describe()} (codes {codes})")
        else:
            out.append(f"CDA: {a.describe()} with codes {codes or 'none'} matches no source item")
    return out


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        import os
        import unittest

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        suite = unittest.defaultTestLoader.loadTestsFromName("test_fidelity")
        ok = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(suite).wasSuccessful()
        return 0 if ok else 1
    if len(argv) != 3:
        print("usage: fidelity.py BUNDLE.json CDA.xml | --self-test", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        bundle_data = json.load(f)
    if argv[2] == "-":
        xml = sys.stdin.buffer.read()
    else:
        with open(argv[2], "rb") as f:
            xml = f.read()
    json.dump(check(bundle_data, xml), sys.stdout, indent=0, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
