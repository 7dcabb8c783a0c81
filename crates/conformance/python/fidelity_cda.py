"""Reading a C-CDA R2.1 document back: the templates of the items issue 12 checks, and each
entry that stands for one source item with its codes, times, status, values and texts."""

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
# The template an item must have in its own section (None: any, the contract leaves it open).
FITS = {
    "allergy": {T_ALLERGY_OBS},
    "problem": {T_PROBLEM_OBS},
    "medication": {T_MED_ACTIVITY},
    "immunization": {T_IMMUNIZATION},
    "immunization refusal": {T_IMMUNIZATION},
    "encounter": {T_ENCOUNTER},
    "result": {T_RESULT_OBS},
    "vital sign": {T_VITAL_OBS},
    "social history": {T_SMOKING, T_SOCIAL_OBS},
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
        # The entry's clinical codes: where the IG puts an item's concept (code, value,
        # allergen, drug or vaccine, an allergy's reactions, an immunisation's refusal reason),
        # each with its translations. Not indications or other related acts.
        paths = ["h:code", "h:value", "h:participant/h:participantRole/h:playingEntity/h:code",
                 "h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code"]
        if T_ALLERGY_OBS in self.templates:
            paths.append("h:entryRelationship/h:observation/h:value")
        if T_IMMUNIZATION in self.templates:
            paths.append("h:entryRelationship/h:observation/h:code")
        self.codes = set()
        for c in el.xpath(" | ".join(paths), namespaces=NS):
            for x in [c] + c.findall(f"{{{H}}}translation"):
                if x.get("code"):
                    self.codes.add(x.get("code").strip())
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
            top = next((e for e in entry if isinstance(e.tag, str)), None)
            if not found and top is not None and top.tag != f"{{{H}}}organizer":
                # A clinical statement of no template we know still claims a place in the
                # record: it must match a source item too.
                items.append(Actual(top, root, doc_ids))
    return items
