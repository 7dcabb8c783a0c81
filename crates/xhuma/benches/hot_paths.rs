//! Hot paths of the gateway, in process (no sockets): a cached ITI-39 retrieve and a cached
//! ITI-38 query through the full router, and the HTML preview rendering of a 400 KB document.
//! The socket-level load test is `bench/load.sh` (wrk).
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use xhuma::config::Config;
use xhuma::security::PeerAddr;

const PATIENT: &str = "9692136744";

fn envelope(action: &str, body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><wsa:Action>{action}</wsa:Action><wsa:MessageID>urn:uuid:00000000-0000-4000-8000-000000000001</wsa:MessageID></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

fn iti38() -> String {
    envelope(
        "urn:ihe:iti:2007:CrossGatewayQuery",
        &format!(
            r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'{PATIENT}^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryType"><rim:ValueList><rim:Value>('urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"#
        ),
    )
}

fn iti39(uid: &str, home: &str, repo: &str) -> String {
    envelope(
        "urn:ihe:iti:2007:CrossGatewayRetrieve",
        &format!(
            r#"<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest><HomeCommunityId>urn:oid:{home}</HomeCommunityId><RepositoryUniqueId>{repo}</RepositoryUniqueId><DocumentUniqueId>{uid}</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest>"#
        ),
    )
}

async fn call(app: &axum::Router, path: &str, body: String) -> Vec<u8> {
    let req = Request::post(path)
        .header("content-type", "application/soap+xml; charset=UTF-8")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app, uid, xml) = rt.block_on(async {
        let mut cfg = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        cfg.sandbox.fixtures = Some(spine_sandbox::SHARED_FIXTURES_DIR.into());
        let running = xhuma::server::start(cfg).await.unwrap();
        let state = running.state.clone();
        let app = xhuma::app::router(state.clone(), None).layer(MockConnectInfo(PeerAddr(
            SocketAddr::from(([127, 0, 0, 1], 40000)),
        )));
        let text = String::from_utf8(call(&app, "/SOAP/iti38", iti38()).await).unwrap();
        let i = text.find("value=\"2.25.").unwrap() + 7;
        let uid = text[i..i + text[i..].find('"').unwrap()].to_owned();
        let doc = state.flow.stored_document(&uid).await.unwrap();
        std::mem::forget(running);
        (app, uid, doc.xml)
    });
    let home = "1.3.6.1.4.1.21367.2017.2.6.19";
    let repo = "1.3.6.1.4.1.21367.2017.2.6.19.1";
    let mut g = c.benchmark_group("gateway");
    g.bench_function("iti39_cached_400kb", |b| {
        b.to_async(&rt)
            .iter(|| call(&app, "/SOAP/iti39", iti39(&uid, home, repo)))
    });
    g.bench_function("iti38_cached", |b| {
        b.to_async(&rt).iter(|| call(&app, "/SOAP/iti38", iti38()))
    });
    g.bench_function("preview_render_400kb", |b| {
        b.iter(|| xhuma::preview::render(&xml, "GP summary"))
    });
    g.finish();
}

criterion_group!(gateway, benches);
criterion_main!(gateway);
