//! Routes and the OpenAPI document cannot drift: over real HTTP, every documented operation is
//! served (never the "no route" fallback, never 405), and on every documented path each method
//! the document does not list answers 405 (so no undocumented handler hides there). With every
//! route registered through `utoipa_axum::routes!` (px360-api's `route_registration` test), no
//! undocumented path exists either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{Kind, ServerOpts, TestDb, TestServer};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_documented_and_every_operation_served() {
    let tdb = TestDb::new(Kind::Sqlite).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..Default::default()
        },
    )
    .await;
    let doc: Value = s
        .http
        .get(s.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    let id = "0190a0a0-0000-7000-8000-000000000000";
    let mut checked = 0;
    for (path, ops) in paths {
        let url = s.url(&path.replace("{id}", id).replace("{stage_id}", id));
        let ops = ops.as_object().unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            let r = s
                .http
                .request(method.to_uppercase().parse().unwrap(), &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            if ops.contains_key(method) {
                assert_ne!(status, 405, "{method} {path} documented but not served");
                assert!(
                    !body.contains("urn:problem:no-route"),
                    "{method} {path} documented but not routed"
                );
                checked += 1;
            } else {
                assert_eq!(status, 405, "{method} {path} served but not documented");
            }
        }
    }
    assert!(checked >= 45, "{checked} operations");
    // Unknown paths get the problem+json fallback.
    let r = s.http.get(s.url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("urn:problem:no-route"));
    s.stop().await;
    tdb.drop_db().await;
}
