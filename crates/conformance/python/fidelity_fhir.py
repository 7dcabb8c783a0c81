"""The Bundle side: which items a GP Connect structured record places in the document (the
issue-12 placement rule), and what each must look like there."""

import re

from fidelity_cda import (
    SEC_ALLERGIES,
    SEC_ENCOUNTERS,
    SEC_IMMUNIZATIONS,
    SEC_MEDICATIONS,
    SEC_PROBLEMS,
    SEC_RESULTS,
    SEC_SOCIAL,
    SEC_VITALS,
)
from fidelity_values import num


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
        self.codes_value = set()  # a coded value (valueCodeableConcept)
        self.range = []  # (low, high, unit)
        self.interpretation = set()
        self.optional = False
        self.alts = []  # resources that are the same item (identity rule)
        self.matched = None

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
        # Identity: same type, identifier (system and value), clinical code and dates = one
        # item, shown once; the entry may carry any of the group's facts. (Dates too: three
        # courses of Citalopram under one identifier are three items, as issue 12 counts them.)
        first = (codes[0] if codes else None, tuple(bundle.dates(k)))
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
        for x in r.get("extension", []) or []:
            if x.get("url", "").endswith("VaccinationProcedure-1"):
                label = display_of(x.get("valueCodeableConcept")) or label
        e = Expected(k, "immunization", {SEC_IMMUNIZATIONS}, codes, label)
        e.negated = r.get("notGiven") is True
        e.dates.append(("date", r.get("date")))
        e.status = {"completed": {"completed"}, "entered-in-error": {"nullified"}}.get(
            r.get("status"))
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


OBSERVATION_STATUS = {
    "final": {"completed"},
    "amended": {"completed"},
    "corrected": {"completed"},
    "preliminary": {"active"},
    "registered": {"active"},
    "cancelled": {"cancelled", "aborted"},
    "entered-in-error": {"nullified"},
}


def observation_value(e, r):
    if e.kind != "immunization refusal" and r.get("status"):
        e.status = OBSERVATION_STATUS.get(r["status"])
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
