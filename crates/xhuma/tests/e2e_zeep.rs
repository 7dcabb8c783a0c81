//! A real SOAP client that no one here wrote (Python's zeep, driven through `python3`) calls
//! the running gateway: ITI-55, ITI-38 and ITI-39 with zeep's own envelopes and parsing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn zeep_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import zeep, lxml"])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_client_discovers_queries_and_retrieves() {
    if !zeep_available() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("python3 with zeep and lxml is required under CI");
        }
        eprintln!("SKIP: python3 with zeep/lxml not installed; the zeep test did not run");
        return;
    }
    let gw = gateway(|_| {}).await;
    let out = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zeep_client.py");
    let shared = conformance::shared_dir();
    let base = gw.base.clone();
    let out_dir = out.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .arg(&base)
            .arg("9690937278")
            .arg(&shared)
            .arg(&out_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "zeep client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["iti55_status"], 200, "{summary}");
    assert_eq!(summary["iti38_status"], 200, "{summary}");
    assert_eq!(
        summary["iti38_response_status"],
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    );
    assert_eq!(
        summary["iti39_registry_status"],
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    );
    assert!(
        summary["wrong_endpoint"]
            .as_str()
            .unwrap()
            .starts_with("fault:"),
        "{summary}"
    );
    assert!(
        summary["wrong_endpoint"]
            .as_str()
            .unwrap()
            .contains("Sender"),
        "{summary}"
    );
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap();
    let iti55 = read("iti55.xml");
    assert_eq!(ack_code(&iti55), "AA");
    check_hl7(&iti55);
    check_ebxml(&read("iti38.xml"));
    let doc = read("document.xml");
    conformance::cda_xsd(&doc).assert_ok();
    conformance::ccda_schematron(&doc).assert_ok();
    gw.running.shutdown().await;
}
