"""Values compared between FHIR and CDA: UCUM units (with the common UK spellings), decimal
numbers and dates at the source's precision."""

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

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
