//! Units of measure: the text a GP system wrote → a UCUM expression a receiving system can
//! compute with, checked by a UCUM implementation (`octofhir-ucum`, UCUM 2.2 tables), not by
//! a list of units we happen to know.
//!
//! Order matters, because a few GP spellings are valid UCUM that means something else:
//! `u/L` is atomic mass units per litre and `C` is the coulomb. So:
//! 1. the text is tidied (white space, `µ`, `²`, `x10^9` …) without changing its meaning;
//! 2. [`EXACT`] spellings that UCUM reads differently from the GP are mapped first;
//! 3. any other valid (case-sensitive) UCUM expression is kept as it is, with the litre
//!    written `L` (UCUM's `l` and `L` are the same unit);
//! 4. text in capitals is UCUM's case-insensitive form (`MMOL/L`, `MG/DL`): it is read as such
//!    (`KG` is the kilogram, not the kilogauss) after the UK spellings of [`ALIASES`];
//! 5. [`ALIASES`] maps the common UK spellings that are not UCUM (`miu/L`, `units/week`).
//!
//! Anything else is not a unit we can vouch for: the caller keeps the number with
//! [`annotation`] as its unit (UCUM reads an annotation alone as the unit 1) and the
//! original text beside it.

use octofhir_ucum::{Case, EvalResult, evaluate, evaluate_with_case, parse_expression};

/// Valid UCUM whose UCUM meaning is not what a GP system means by it (matched exactly,
/// before validation).
const EXACT: &[(&str, &str)] = &[
    // UCUM `u` is the unified atomic mass unit; labs mean the enzyme unit.
    ("u/L", "U/L"),
    ("u/l", "U/L"),
    ("u", "U"),
    // Milli-atomic-mass units in UCUM; TSH "mu/L" is milli-international units.
    ("mu/L", "m[IU]/L"),
    ("mu/l", "m[IU]/L"),
    // UCUM `C` is the coulomb; as a body temperature unit it is Celsius.
    ("C", "Cel"),
    // UCUM `st` is the stere (a cubic metre); GP weights in stones.
    ("st", "[stone_av]"),
    // Sentence case turns milli and pico into mega and peta.
    ("Mmol/L", "mmol/L"),
    ("Mmol/l", "mmol/L"),
    ("Mmol/mol", "mmol/mol"),
    ("Mg", "mg"),
    ("Mg/L", "mg/L"),
    ("Mg/l", "mg/L"),
    ("Mg/dL", "mg/dL"),
    ("Mg/dl", "mg/dL"),
    ("Mg/mmol", "mg/mmol"),
    ("Pg", "pg"),
    ("Pmol/L", "pmol/L"),
    ("Pmol/l", "pmol/L"),
];

/// UK lab and GP spellings that are not UCUM, matched case-insensitively (keys in lower
/// case, single spaces) after [`tidy`].
const ALIASES: &[(&str, &str)] = &[
    // pressure, temperature
    ("mmhg", "mm[Hg]"),
    ("mm hg", "mm[Hg]"),
    ("mm[hg]", "mm[Hg]"),
    ("cmh2o", "cm[H2O]"),
    ("cm h2o", "cm[H2O]"),
    ("kpa", "kPa"),
    ("c", "Cel"),
    ("cel", "Cel"),
    ("degc", "Cel"),
    ("deg c", "Cel"),
    ("degrees c", "Cel"),
    ("degree c", "Cel"),
    ("degrees celsius", "Cel"),
    ("celsius", "Cel"),
    ("centigrade", "Cel"),
    ("degf", "[degF]"),
    ("deg f", "[degF]"),
    ("degrees f", "[degF]"),
    ("fahrenheit", "[degF]"),
    // rates
    ("bpm", "{beats}/min"),
    ("beats/min", "{beats}/min"),
    ("beats per minute", "{beats}/min"),
    ("beats per min", "{beats}/min"),
    ("breaths/min", "{breaths}/min"),
    ("breaths per minute", "{breaths}/min"),
    ("breaths per min", "{breaths}/min"),
    ("per minute", "/min"),
    ("per min", "/min"),
    ("/minute", "/min"),
    ("per hour", "/h"),
    ("/hr", "/h"),
    ("per day", "/d"),
    ("/day", "/d"),
    ("/24h", "/d"),
    ("/24hr", "/d"),
    ("per week", "/wk"),
    ("/week", "/wk"),
    ("mm/hr", "mm/h"),
    ("mm/hour", "mm/h"),
    ("mm in 1 hour", "mm/h"),
    ("mm in 1hr", "mm/h"),
    ("l/min", "L/min"),
    ("lpm", "L/min"),
    ("litres/min", "L/min"),
    ("liters/min", "L/min"),
    ("litres per minute", "L/min"),
    ("ml/min", "mL/min"),
    ("mg/24h", "mg/d"),
    ("mg/24hr", "mg/d"),
    ("g/24h", "g/d"),
    ("g/24hr", "g/d"),
    ("mmol/24h", "mmol/d"),
    ("mmol/24hr", "mmol/d"),
    ("umol/24h", "umol/d"),
    ("ml/24h", "mL/d"),
    ("l/24h", "L/d"),
    // alcohol and other counted things without a UCUM unit: an annotation of unity
    ("units/week", "{units}/wk"),
    ("units/wk", "{units}/wk"),
    ("units per week", "{units}/wk"),
    ("unit/week", "{units}/wk"),
    ("units a week", "{units}/wk"),
    ("u/week", "{units}/wk"),
    ("units/day", "{units}/d"),
    ("units per day", "{units}/d"),
    ("unit/day", "{units}/d"),
    ("cigarettes/day", "{cigarettes}/d"),
    ("cigarettes per day", "{cigarettes}/d"),
    ("cigs/day", "{cigarettes}/d"),
    ("per cent", "%"),
    ("percent", "%"),
    ("ratio", "{ratio}"),
    ("score", "{score}"),
    ("copies/ml", "{copies}/mL"),
    ("cells/ul", "{cells}/uL"),
    ("/hpf", "/[HPF]"),
    ("/lpf", "/[LPF]"),
    // enzyme and international units
    ("u/l", "U/L"),
    ("iu/l", "[IU]/L"),
    ("iu/ml", "[IU]/mL"),
    ("iu/dl", "[IU]/dL"),
    ("iu", "[IU]"),
    ("miu/l", "m[IU]/L"),
    ("miu/ml", "m[IU]/mL"),
    ("mu/l", "m[IU]/L"),
    ("mu/ml", "m[IU]/mL"),
    ("uiu/ml", "u[IU]/mL"),
    ("ku/l", "kU/L"),
    ("kiu/l", "k[IU]/L"),
    ("u/ml", "U/mL"),
    // cell counts
    ("10*9/l", "10*9/L"),
    ("10*12/l", "10*12/L"),
    ("10*6/l", "10*6/L"),
    ("10*3/ul", "10*3/uL"),
    ("thous/mcl", "10*3/uL"),
    ("thou/mcl", "10*3/uL"),
    ("mill/mcl", "10*6/uL"),
    // kidney function
    ("ml/min/1.73m2", "mL/min/{1.73_m2}"),
    ("ml/min/1.73 m2", "mL/min/{1.73_m2}"),
    ("ml/min/1.73m*2", "mL/min/{1.73_m2}"),
    ("ml/min/1.73sqm", "mL/min/{1.73_m2}"),
    ("ml/min/1.73 sqm", "mL/min/{1.73_m2}"),
    ("ml/min/{1.73m2}", "mL/min/{1.73_m2}"),
    ("ml/min/1.73", "mL/min/{1.73_m2}"),
    ("mosm/kg", "mosm/kg"),
    ("mosmol/kg", "mosm/kg"),
    // amounts, concentrations
    ("mcg", "ug"),
    ("mcg/l", "ug/L"),
    ("mcg/ml", "ug/mL"),
    ("mcmol/l", "umol/L"),
    ("microgram", "ug"),
    ("micrograms", "ug"),
    ("milligram", "mg"),
    ("milligrams", "mg"),
    ("gram", "g"),
    ("grams", "g"),
    ("gm", "g"),
    ("kilogram", "kg"),
    ("kilograms", "kg"),
    ("kgs", "kg"),
    ("litre", "L"),
    ("litres", "L"),
    ("liter", "L"),
    ("liters", "L"),
    ("millilitre", "mL"),
    ("millilitres", "mL"),
    ("milliliter", "mL"),
    ("milliliters", "mL"),
    ("mls", "mL"),
    ("cc", "mL"),
    ("mmol/l", "mmol/L"),
    ("umol/l", "umol/L"),
    ("nmol/l", "nmol/L"),
    ("pmol/l", "pmol/L"),
    ("mg/dl", "mg/dL"),
    ("g/dl", "g/dL"),
    ("g/l", "g/L"),
    ("mg/l", "mg/L"),
    ("ug/l", "ug/L"),
    ("ng/l", "ng/L"),
    ("ng/ml", "ng/mL"),
    ("pg/ml", "pg/mL"),
    ("mmol/mol", "mmol/mol"),
    ("mg/mmol", "mg/mmol"),
    ("kg/m2", "kg/m2"),
    ("kg/m*2", "kg/m2"),
    ("kg/sq m", "kg/m2"),
    ("fl", "fL"),
    ("pg", "pg"),
    // lengths, weights in imperial units
    ("cms", "cm"),
    ("metres", "m"),
    ("meters", "m"),
    ("in", "[in_i]"),
    ("inch", "[in_i]"),
    ("inches", "[in_i]"),
    ("ft", "[ft_i]"),
    ("feet", "[ft_i]"),
    ("lb", "[lb_av]"),
    ("lbs", "[lb_av]"),
    ("pound", "[lb_av]"),
    ("pounds", "[lb_av]"),
    ("oz", "[oz_av]"),
    ("stone", "[stone_av]"),
    ("stones", "[stone_av]"),
    // time
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("mins", "min"),
    ("minute", "min"),
    ("minutes", "min"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
    ("day", "d"),
    ("days", "d"),
    ("week", "wk"),
    ("weeks", "wk"),
    ("month", "mo"),
    ("months", "mo"),
    ("yr", "a"),
    ("yrs", "a"),
    ("year", "a"),
    ("years", "a"),
];

/// The UCUM expression for a unit as a GP system wrote it; `None` when it is not a unit we
/// can vouch for (the caller then keeps the text, see [`annotation`]).
pub(crate) fn ucum(unit: &str) -> Option<String> {
    let t = tidy(unit);
    // A bare number is a valid UCUM factor, but as a GP "unit" it is a code or a typo.
    if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some((_, u)) = EXACT.iter().find(|(k, _)| *k == t) {
        return Some((*u).to_owned());
    }
    let capitals = capitals(&t);
    if !capitals && let Some(sense) = eval(&t, Case::Sensitive) {
        return Some(litre_as_l(&t, &sense));
    }
    let key = t.to_ascii_lowercase();
    if let Some((_, u)) = ALIASES.iter().find(|(k, _)| *k == key) {
        return Some((*u).to_owned());
    }
    if capitals {
        // UCUM's case-insensitive form: written in the case-sensitive form it stands for.
        if let (Some(ci), Some(cs)) = (eval(&t, Case::Insensitive), eval(&key, Case::Sensitive))
            && ci == cs
        {
            return Some(litre_as_l(&key, &cs));
        }
        if let Some(sense) = eval(&t, Case::Sensitive) {
            return Some(litre_as_l(&t, &sense));
        }
    }
    None
}

/// Text in capitals only (`MMOL/L`): UCUM's case-insensitive form, not case-sensitive UCUM.
fn capitals(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_uppercase()) && !t.bytes().any(|b| b.is_ascii_lowercase())
}

/// Whether two valid UCUM expressions measure the same kind of quantity (`{beats}/min` and
/// `/min`, `kPa` and `mm[Hg]`, `[degF]` and `Cel`).
pub(crate) fn commensurable(a: &str, b: &str) -> bool {
    match (eval(a, Case::Sensitive), eval(b, Case::Sensitive)) {
        (Some(a), Some(b)) => a.is_commensurable(&b),
        _ => false,
    }
}

/// A UCUM annotation that carries a unit we could not map (`{THOUS/MCL}`): printable ASCII
/// without braces or white space, as UCUM §6 allows. UCUM reads it as the unit 1, so the
/// number is kept without claiming a unit the source did not give; the original text
/// travels beside it.
pub(crate) fn annotation(unit: &str) -> String {
    let mut s = String::with_capacity(unit.len() + 2);
    for c in unit.trim().chars() {
        match c {
            '{' | '}' => {}
            'µ' | 'μ' => s.push('u'),
            '²' => s.push('2'),
            '³' => s.push('3'),
            '°' => s.push_str("deg"),
            c if c.is_whitespace() => s.push('_'),
            c if c.is_ascii_graphic() => s.push(c),
            _ => s.push('_'),
        }
        if s.len() >= 60 {
            break;
        }
    }
    if s.trim_matches('_').is_empty() {
        s = "unit".into();
    }
    format!("{{{s}}}")
}

/// Parses and evaluates without the library's error suggestions (a fuzzy search over every
/// unit, up to milliseconds per unknown unit).
fn eval(expression: &str, case: Case) -> Option<EvalResult> {
    let parsed = parse_expression(expression).ok()?;
    match case {
        Case::Sensitive => evaluate(&parsed).ok(),
        Case::Insensitive => evaluate_with_case(&parsed, case).ok(),
    }
}

/// Rewrites what does not change a unit's meaning: surrounding and repeated white space,
/// `µ`, superscripts, `×`/`x` before a power of ten and `^` in it (`x10^9/L` → `10*9/L`).
fn tidy(unit: &str) -> String {
    let mut s = String::with_capacity(unit.len());
    let mut chars = unit.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                s.push(' ');
            }
            'µ' | 'μ' => s.push('u'),
            '×' => s.push('x'),
            '°' => s.push_str("deg"),
            // `10^9` is `10*9`; `m^2` is `m2`.
            '^' if power_of_ten(&s) => s.push('*'),
            '^' => {}
            _ => match superscript(c) {
                // 10⁹ is 10*9; m² is m2.
                Some(d) if power_of_ten(&s) => {
                    s.push('*');
                    s.push(d);
                }
                Some(d) => s.push(d),
                None => s.push(c),
            },
        }
    }
    // `x10*9/L`, `X10^9/L`: the multiplication sign is not part of the unit.
    match s.strip_prefix(['x', 'X']) {
        Some(rest) if rest.trim_start().starts_with("10") => rest.trim_start().to_owned(),
        _ => s,
    }
}

/// Whether `s` ends in a factor 10 (that a power follows): `10`, `x10`, `/10`.
fn power_of_ten(s: &str) -> bool {
    s.strip_suffix("10")
        .is_some_and(|before| before.is_empty() || before.ends_with(['/', '.', '(', 'x', 'X', ' ']))
}

fn superscript(c: char) -> Option<char> {
    Some(match c {
        '⁰' => '0',
        '¹' => '1',
        '²' => '2',
        '³' => '3',
        '⁴' => '4',
        '⁵' => '5',
        '⁶' => '6',
        '⁷' => '7',
        '⁸' => '8',
        '⁹' => '9',
        _ => return None,
    })
}

/// `mmol/l` → `mmol/L`: UCUM defines `l` and `L` as the same litre, and receivers that
/// compare unit strings expect `L`. Kept as written unless the result means the same.
fn litre_as_l(unit: &str, sense: &EvalResult) -> String {
    let b = unit.as_bytes();
    let mut out = String::with_capacity(unit.len());
    let mut depth = 0usize;
    let boundary = |i: usize| i == 0 || matches!(b[i - 1], b'/' | b'.' | b'(');
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let ends = i + 1 == b.len() || matches!(b[i + 1], b'/' | b'.' | b')' | b'0'..=b'9');
        let prefixed = i >= 1
            && matches!(
                b[i - 1],
                b'm' | b'u' | b'd' | b'c' | b'n' | b'p' | b'f' | b'k' | b'h'
            )
            && boundary(i - 1);
        if c == b'l' && depth == 0 && ends && (boundary(i) || prefixed) {
            out.push('L');
        } else {
            out.push(c as char);
        }
    }
    match eval(&out, Case::Sensitive) {
        Some(same) if &same == sense => out,
        _ => unit.to_owned(),
    }
}

#[cfg(test)]
mod tests;
