//! The binary alone: `xhuma` copied to an empty directory and started there with a clean
//! environment (no repository, no configuration, no fixtures) runs its embedded quick start,
//! and the quick-start flow (ITI-55 → ITI-38 → ITI-39) answers a built-in synthetic patient
//! with a complete, valid C-CDA document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{CT_SOAP, Reply};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn post(http: &reqwest::Client, url: String, body: String) -> Reply {
    let r = http
        .post(url)
        .header("content-type", CT_SOAP)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        body: r.bytes().await.unwrap().to_vec(),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let i = text.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let rest = &text[i..];
    &rest[..rest.find(end).unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_binary_serves_the_quick_start_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("xhuma");
    std::fs::copy(env!("CARGO_BIN_EXE_xhuma"), &bin).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("xhuma exited: {status}");
        }
        if let Ok(r) = http.get(format!("{base}/health/ready")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "xhuma never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every answer names its request id; a caller's id that is only digits (what an NHS
    // number looks like) is not kept, so the gateway answers with one it made.
    let r = http
        .get(format!("{base}/health/live"))
        .header("x-request-id", "9990000018")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "request id {id}");
    // Everything it writes stays in its working directory.
    assert!(dir.path().join("data").is_dir());

    // ITI-55 with the repository's example request (a built-in synthetic patient).
    let iti55 = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iti55-request.xml"
    ))
    .unwrap();
    let r = post(&http, format!("{base}/SOAP/iti55"), iti55).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(common::ack_code(&text), "AA", "{text}");
    assert_eq!(common::query_response_code(&text).as_deref(), Some("OK"));
    assert!(text.contains("9990000018") && text.contains("PEMBERTON"));
    common::check_hl7(&text);

    let r = post(
        &http,
        format!("{base}/SOAP/iti38"),
        common::iti38_request("9990000018"),
    )
    .await;
    assert_eq!(r.status, 200);
    let text = r.text();
    common::check_ebxml(&text);
    let home = between(&text, " home=\"urn:oid:", "\"");
    let repo = between(
        &text,
        "name=\"repositoryUniqueId\"><rim:ValueList><rim:Value>",
        "<",
    );
    let uid = common::unique_id(&text).expect("a document entry");

    let r = post(
        &http,
        format!("{base}/SOAP/iti39"),
        common::iti39_request(home, repo, &uid),
    )
    .await;
    assert_eq!(r.status, 200);
    let doc = common::retrieved_document(&r).expect("the retrieved document");
    // Nothing missing: every clinical area of the synthetic record made it into the document.
    for (what, needle) in [
        ("patient", "PEMBERTON"),
        ("allergies section", "48765-2"),
        ("penicillin allergy", "Allergy to penicillin"),
        ("medications section", "10160-0"),
        ("repeat medication", "Metformin 500mg tablets"),
        ("problems section", "11450-4"),
        ("problem", "Type 2 diabetes mellitus"),
        ("immunizations section", "11369-6"),
        ("vital signs section", "8716-3"),
        ("systolic blood pressure", "8480-6"),
    ] {
        assert!(
            doc.contains(needle),
            "{what} ({needle}) missing from the document"
        );
    }
    conformance::cda_xsd(&doc).assert_ok();
    conformance::ccda_schematron(&doc).assert_ok();
}
