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
import sys

from fidelity_cda import (
    FITS,
    H,
    KIND_TEMPLATES,
    SECTION_NAMES,
    TEMPLATE_NAMES,
    TEMPLATE_TYPES,
    read_document,
    xsi_type,
)
from fidelity_fhir import Bundle, display_of, expectations
from fidelity_values import fhir_date, num, same_instant, unit_matches


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
        fits = FITS.get(exp.kind)
        if a.matched is not None or not exp.allows(a.section):
            continue
        if fits is not None and a.template not in fits:
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
    if exp.quantity:
        # The number as PQ, or as a bound of an IVL_PQ (comparators).
        numbers = [num(x.get("value")) for v in a.values for x in [v, *v]]
        if exp.quantity[1] in numbers:
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
    fits = FITS.get(exp.kind)
    if not exp.allows(a.section):
        out.append(f"{exp.kind} \"{exp.label}\" is a {a.describe()}, expected in {want_text(exp)}")
    elif fits and a.template not in fits:
        names = " or ".join(sorted(TEMPLATE_NAMES[t] for t in fits))
        out.append(f"{exp.kind} \"{exp.label}\" is a {a.describe()}, expected a {names}")
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
    codes_value = exp.codes_value
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
        exp.matched = best
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

    # Pass 1: each item on an entry in a section where it belongs. Pairs are taken best
    # first (dates, value, status agree), so that items sharing a code (two courses of one
    # drug, a problem and its header copies) each get their own entry. Items bound to one
    # section go before those the converter may file anywhere but Results.
    pairs = []
    for i, exp in enumerate(flat):
        for j, a in enumerate(items):
            fits = FITS.get(exp.kind)
            if (exp.codes & a.codes and exp.allows(a.section)
                    and (fits is None or a.template in fits)):
                pairs.append((exp.sections != "not-results", score(exp, a), -i, -j))
    pairs.sort(reverse=True)
    for _, _, i, j in pairs:
        exp, a = flat[-i], items[-j]
        if exp.matched is None and a.matched is None:
            take(exp, a)
    pending = []
    for exp in flat:
        if exp.matched is not None:
            continue
        cands = by_content(exp, items)
        if cands:
            take(exp, max(cands, key=lambda a: score(exp, a)), lost_code=bool(exp.codes))
        else:
            pending.append(exp)
    # Pass 2: the item filed in the wrong section; then what is missing altogether.
    for exp in pending:
        fits = KIND_TEMPLATES.get(exp.kind)
        cands = [a for a in candidates(exp, items)
                 if fits is None or a.template in fits or exp.allows(a.section)]
        if cands and not exp.optional:
            take(exp, max(cands, key=lambda a: score(exp, a)))
            continue
        if exp.optional:
            continue
        taken = [a for a in items if exp.codes & a.codes]
        where = (f" (entries with its code: "
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
