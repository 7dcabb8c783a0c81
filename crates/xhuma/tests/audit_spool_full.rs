//! When the audit spool cannot be written, nothing is disclosed: the answer is a SOAP Fault.
//!
//! The write failure is real: the kernel's file-size limit (RLIMIT_FSIZE, set on this test
//! process with `prlimit`) makes every spool write fail with EFBIG, as a full disk fails with
//! ENOSPC. This file holds one test so that the limit affects nothing else; the audit
//! database is a PostgreSQL of the test's own, which the limit does not reach.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/own_pg.rs"]
mod own_pg;

use common::*;
use own_pg::OwnPg;
use secrecy::SecretString;

const NHS: &str = "9690937278";

fn fsize_limit(spec: &str) {
    let ok = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--fsize={spec}"),
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "prlimit --fsize={spec}");
}

fn message_id(request: &str) -> String {
    let start = request.find("<wsa:MessageID>").unwrap() + "<wsa:MessageID>".len();
    let end = request.find("</wsa:MessageID>").unwrap();
    request[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_spool_refuses_with_a_fault_and_serves_no_document() {
    // With a handler installed the kernel fails the write with EFBIG instead of killing us.
    let _xfsz = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(25)).unwrap();
    let pg = OwnPg::start_new();
    let url = pg.url();
    let gw = gateway(move |c| c.database_url = Some(SecretString::from(url))).await;
    let r = gw.iti38(NHS).await;
    assert_eq!(r.status, 200);
    let uid = unique_id(&r.text()).unwrap();
    let served = gw.iti39(&uid).await;
    assert_eq!(served.status, 200);
    let document_marker = "ClinicalDocument";
    assert!(
        served.text().contains("<Document>") || served.text().contains(":Document>"),
        "baseline ITI-39 serves the document"
    );

    fsize_limit("1:unlimited");
    let mut refused = Vec::new();
    for (path, req) in [
        ("/SOAP/iti39", iti39_request(&gw.home(), &gw.repo(), &uid)),
        ("/SOAP/iti38", iti38_request(NHS)),
        ("/SOAP/iti55", iti55_request(NHS)),
    ] {
        let id = message_id(&req);
        let r = gw.post(path, CT_SOAP, req).await;
        let text = r.text();
        assert_eq!(r.status, 503, "{path}: {text}");
        assert!(r.content_type.starts_with("application/soap+xml"), "{path}");
        conformance::well_formed(&text).assert_ok();
        assert!(text.contains("Fault>"), "{path}: {text}");
        assert!(
            text.contains("cannot write its audit trail"),
            "{path}: {text}"
        );
        assert!(text.contains(&id), "RelatesTo the request: {text}");
        for leak in [
            document_marker,
            "<Document>",
            ":Document>",
            "RegistryObjectList",
            NHS,
        ] {
            assert!(!text.contains(leak), "{path} disclosed `{leak}`: {text}");
        }
        refused.push(id);
    }
    let p = gw.get("/preview/9690937278").await;
    assert_eq!(p.status, 503, "{}", p.text());
    assert!(
        !p.text().contains("<html"),
        "no page without an audit record"
    );
    let ready = gw.get("/health/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert!(ready.text().contains("audit spool cannot be written"));
    let metrics = gw.get("/metrics").await.text();
    assert!(metrics.contains("xhuma_audit_refused_total"), "{metrics}");

    // Space again: the next commit starts a fresh segment and requests are served.
    fsize_limit("unlimited:unlimited");
    let req = iti39_request(&gw.home(), &gw.repo(), &uid);
    let ok_id = message_id(&req);
    let r = gw.post("/SOAP/iti39", CT_SOAP, req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = &gw.running.state.flow.audit;
    audit.flush().await.unwrap();
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT message_id FROM audit_event WHERE category = 'transaction'")
            .fetch_all(audit.pool())
            .await
            .unwrap();
    let ids: Vec<String> = rows.into_iter().filter_map(|(m,)| m).collect();
    assert_eq!(ids.iter().filter(|m| **m == ok_id).count(), 1);
    for id in &refused {
        assert!(!ids.contains(id), "a refused request left no success row");
    }
    assert_eq!(gw.get("/health/ready").await.status, 200);
    gw.running.shutdown().await;
}
