//! The fidelity check of issue 12: `python/fidelity.py` reads a C-CDA document back with lxml and
//! compares it, item by item, with the GP Connect Bundle it came from. It shares no code or
//! table with the converter, so a converter bug cannot hide in the check.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{missing, python_lxml_available, run_with_stdin};

/// The checker script (and its unit tests beside it).
pub fn script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/python/fidelity.py"))
}

/// Compares `xml` (the C-CDA produced from `bundle`) with the Bundle file. `Ok(Some(lines))`
/// holds one discrepancy per line (`Type/id: what`), empty when the document is faithful.
/// `Ok(None)` means python3 with lxml is missing: a loud skip locally, a panic under
/// `CI=true`. `Err` means the checker itself failed (bad JSON, a crash): never a pass.
#[track_caller]
pub fn fidelity(bundle: &Path, xml: &str) -> Result<Option<Vec<String>>, String> {
    if !python_lxml_available() {
        missing("python3 with lxml");
        return Ok(None);
    }
    let (ok, stdout, stderr) = run_with_stdin(
        Command::new("python3").arg(script()).arg(bundle).arg("-"),
        xml.as_bytes(),
    )
    .map_err(|e| format!("could not run python3: {e}"))?;
    if !ok {
        return Err(format!(
            "fidelity.py failed on {}: {stderr}",
            bundle.display()
        ));
    }
    parse_string_array(&stdout)
        .map(Some)
        .ok_or_else(|| format!("fidelity.py printed no JSON array of strings: {stdout:.200}"))
}

/// Runs the checker's own unit tests (`python/test_fidelity.py`: hand-made Bundle/C-CDA pairs).
/// `Ok(None)` when python3 with lxml is missing (see [`fidelity`]); `Err` with unittest's
/// output when a test fails.
#[track_caller]
pub fn fidelity_self_test() -> Result<Option<String>, String> {
    if !python_lxml_available() {
        missing("python3 with lxml");
        return Ok(None);
    }
    let out = Command::new("python3")
        .arg(script())
        .arg("--self-test")
        .output()
        .map_err(|e| format!("could not run python3: {e}"))?;
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(Some(report))
    } else {
        Err(report)
    }
}

/// The checker prints a JSON array of strings; this reads exactly that (no JSON dependency
/// for one shape).
fn parse_string_array(s: &str) -> Option<Vec<String>> {
    let mut chars = s.trim().chars().peekable();
    let mut out = Vec::new();
    let skip_ws = |c: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while c.peek().is_some_and(|x| x.is_whitespace()) {
            c.next();
        }
    };
    if chars.next()? != '[' {
        return None;
    }
    skip_ws(&mut chars);
    if chars.peek() == Some(&']') {
        chars.next();
        return chars.next().is_none().then_some(out);
    }
    loop {
        skip_ws(&mut chars);
        if chars.next()? != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    'n' => item.push('\n'),
                    't' => item.push('\t'),
                    'r' => item.push('\r'),
                    'b' => item.push('\u{8}'),
                    'f' => item.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                        let unit = u32::from_str_radix(&hex, 16).ok()?;
                        // Surrogate pairs are not produced (ensure_ascii=False); refuse them.
                        item.push(char::from_u32(unit)?);
                    }
                    other => item.push(other),
                },
                c => item.push(c),
            }
        }
        out.push(item);
        skip_ws(&mut chars);
        match chars.next()? {
            ',' => continue,
            ']' => break,
            _ => return None,
        }
    }
    skip_ws(&mut chars);
    chars.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_string_array;

    #[test]
    fn reads_the_checkers_output() {
        assert_eq!(parse_string_array("[]"), Some(vec![]));
        assert_eq!(
            parse_string_array("[\n\"A/1: x \\\"y\\\"\",\n\"B/2: \\u00e9\"\n]\n"),
            Some(vec!["A/1: x \"y\"".to_owned(), "B/2: é".to_owned()])
        );
        assert_eq!(parse_string_array("[\"a\""), None);
        assert_eq!(parse_string_array("{}"), None);
        assert_eq!(parse_string_array("[] x"), None);
    }
}
