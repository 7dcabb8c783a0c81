//! `xhuma convert` as a user runs it: the real binary, fixture Bundles from ../shared.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn xhuma() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xhuma"))
}

fn fixture(rel: &str) -> std::path::PathBuf {
    conformance::shared_dir().join("fixtures").join(rel)
}

#[test]
fn converts_a_bundle_to_stdout_and_to_files() {
    let out = xhuma()
        .args(["convert"])
        .arg(fixture("gpconnect/xhuma/9690937278.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    conformance::cda_xsd(&xml).assert_ok();

    let dir = tempfile::tempdir().unwrap();
    let (o, r, h) = (
        dir.path().join("doc.xml"),
        dir.path().join("report.json"),
        dir.path().join("doc.html"),
    );
    let out = xhuma()
        .arg("convert")
        .arg(fixture("gpconnect/xhuma/9690937286.json"))
        .arg("-o")
        .arg(&o)
        .arg("--report")
        .arg(&r)
        .arg("--html")
        .arg(&h)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "XML goes to the file, not stdout");
    let xml = std::fs::read_to_string(&o).unwrap();
    conformance::cda_xsd(&xml).assert_ok();
    conformance::ccda_schematron(&xml).assert_ok();
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&r).unwrap()).unwrap();
    assert!(
        report["unplaced"].is_array() && report["warnings"].is_array(),
        "{report}"
    );
    let html = std::fs::read_to_string(&h).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h2>"));
}

#[test]
fn bad_input_is_one_line_on_stderr_and_a_failure_exit() {
    for (input, expect) in [
        (
            fixture("gpconnect/spec-examples/consultations_response1.malformed.json"),
            "not a usable GP Connect Bundle",
        ),
        (
            std::path::PathBuf::from("/nonexistent/bundle.json"),
            "cannot read",
        ),
    ] {
        let out = xhuma().arg("convert").arg(&input).output().unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(expect), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("x.toml");
    std::fs::write(&cfg, "listen = \"nope\"\n").unwrap();
    let out = xhuma()
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("configuration"), "{err}");
}
