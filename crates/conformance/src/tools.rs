//! Running the external validators.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::Checked;

pub(crate) fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

#[track_caller]
pub(crate) fn missing(tool: &str) {
    if on_ci() {
        panic!("conformance tool `{tool}` is missing and CI=true: install it (see .ci/run)");
    }
    eprintln!(
        "\n\x1b[1;33m!!! SKIPPED a conformance check: `{tool}` is not installed. \
         Install it (apt-get install -y libxml2-utils xsltproc; pip install lxml) or run .ci/run. !!!\x1b[0m\n"
    );
}

fn has(cmd: &str, probe: &[&str]) -> bool {
    Command::new(cmd)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(crate) fn xmllint_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| has("xmllint", &["--version"]))
}

/// Runs `cmd` with `input` on stdin; returns (success, stdout, stderr).
pub(crate) fn run_with_stdin(
    cmd: &mut Command,
    input: &[u8],
) -> std::io::Result<(bool, String, String)> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Write on a thread: a validator may fill its output pipe before reading all its input.
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?;
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| std::io::Error::other("stdin writer panicked"))??;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

pub(crate) fn xmllint_schema(xsd: &Path, xml: &str) -> Checked {
    if !xmllint_available() {
        return Checked::ToolMissing { tool: "xmllint" };
    }
    let result = run_with_stdin(
        Command::new("xmllint")
            .arg("--nonet")
            .arg("--noout")
            .arg("--schema")
            .arg(xsd)
            .arg("-"),
        xml.as_bytes(),
    );
    match result {
        Ok((true, _, _)) => Checked::Valid,
        Ok((false, _, stderr)) => Checked::Invalid {
            validator: "xmllint --schema",
            messages: stderr
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.ends_with("fails to validate"))
                .map(str::to_owned)
                .collect(),
        },
        Err(e) => Checked::Invalid {
            validator: "xmllint --schema",
            messages: vec![format!("could not run xmllint: {e}")],
        },
    }
}

pub(crate) fn xmllint_well_formed(xml: &str) -> Checked {
    if !xmllint_available() {
        return Checked::ToolMissing { tool: "xmllint" };
    }
    match run_with_stdin(
        Command::new("xmllint").args(["--nonet", "--noout", "-"]),
        xml.as_bytes(),
    ) {
        Ok((true, _, _)) => Checked::Valid,
        Ok((false, _, stderr)) => Checked::Invalid {
            validator: "xmllint",
            messages: stderr.lines().map(str::to_owned).collect(),
        },
        Err(e) => Checked::Invalid {
            validator: "xmllint",
            messages: vec![format!("could not run xmllint: {e}")],
        },
    }
}

pub(crate) fn python_lxml_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| has("python3", &["-c", "import lxml.isoschematron"]))
}

pub(crate) fn xsltproc_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| has("xsltproc", &["--version"]))
}
