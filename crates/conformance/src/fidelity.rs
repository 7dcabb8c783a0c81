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
    serde_json::from_str::<Vec<String>>(&stdout)
        .map(Some)
        .map_err(|e| format!("fidelity.py printed no JSON array of strings ({e}): {stdout:.200}"))
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
