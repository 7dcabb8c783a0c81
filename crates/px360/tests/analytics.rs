//! Analytics API over HTTP on both backends, with generated responses: each role's numbers are
//! exactly its scope's (recounted here with plain SQL), a hospital outside the scope is 404,
//! Viewers get aggregates but no comments, role Physician sees only their own ratings and
//! comments, minimum-sample suppression and department ranks, and CSV / XLSX exports (the XLSX
//! read back by Python's zipfile: an Arabic sheet is right-to-left) are audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use chrono::Utc;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use px360_store::analytics::generate::GenerateSpec;
use serde_json::{Value, json};

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> (String, String) {
    let r = s
        .post(admin, "/api/users", json!({"username": name, "display_name": name, "password": "correct horse battery", "role": role, "hospital_id": h, "department_id": d}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, s.token(name, "correct horse battery").await)
}

/// Invitations sent in a hospital (and department), counted from the raw table.
async fn invitations(s: &TestServer, h: Option<&str>, d: Option<&str>) -> u64 {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM survey_invitations i LEFT JOIN journey_instances ji ON ji.id = i.journey_instance_id \
         WHERE i.decision = 'send' AND ($1 IS NULL OR i.hospital_id = $1) AND ($2 IS NULL OR ji.department_id = $2)",
    )
    .bind(h)
    .bind(d)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    n as u64
}

async fn me_of(s: &TestServer, tok: &str) -> String {
    let me: Value = s.get(tok, "/api/me").await.json().await.unwrap();
    me["user_id"].as_str().unwrap().to_owned()
}

fn tile<'a>(k: &'a Value, kpi: &str) -> &'a Value {
    k["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kpi"] == kpi)
        .unwrap()
}

/// The current quarter's KPIs (the generated data lies in the day before now).
async fn kpis(s: &TestServer, tok: &str, q: &str) -> Value {
    let r = s
        .get(tok, &format!("/api/analytics/kpis?granularity=quarter{q}"))
        .await;
    assert_eq!(r.status(), 200, "{q}");
    r.json().await.unwrap()
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    // Inside the current quarter: generated over the hours before now.
    let today = Utc::now();
    s.db.analytics_generate(&GenerateSpec {
        count: 1500,
        days: 1,
        seed: 5,
        end: today,
        batch: 500,
    })
    .await
    .unwrap();
    s.db.analytics_refresh().await.unwrap();
    let (h_a, da) = s.hospital(&admin, "RGH").await;
    let (h_b, _) = s.hospital(&admin, "NPH").await;
    let card = da["CARD"].clone();

    // PX Admin: the group.
    let k = kpis(&s, &admin, "").await;
    // Generated within the last day: it may straddle a quarter boundary only on its first day.
    let group = invitations(&s, None, None).await;
    assert_eq!(tile(&k, "response_rate")["n"], group);
    assert!(tile(&k, "nps")["value"].is_number());
    assert!(
        ["insufficient_data", "change"]
            .contains(&tile(&k, "nps")["trend"]["kind"].as_str().unwrap())
    );

    // Hospital admin: own hospital by default, another hospital is 404.
    let (_, ha) = user(&s, &admin, "ha", "hospital_admin", &h_a, None).await;
    let k = kpis(&s, &ha, "").await;
    assert_eq!(
        tile(&k, "response_rate")["n"],
        invitations(&s, Some(&h_a), None).await
    );
    let r = s
        .get(&ha, &format!("/api/analytics/kpis?hospital_id={h_b}"))
        .await;
    assert_eq!(r.status(), 404);
    let by: Value = s
        .get(
            &ha,
            "/api/analytics/breakdown?granularity=quarter&by=hospital",
        )
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = by["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [h_a.as_str()], "only the own hospital's rows");

    // Department manager: asking for the hospital gives the department's numbers.
    let (_, dm) = user(&s, &admin, "dm", "department_manager", &h_a, Some(&card)).await;
    let k = kpis(&s, &dm, &format!("&hospital_id={h_a}")).await;
    assert_eq!(
        tile(&k, "response_rate")["n"],
        invitations(&s, Some(&h_a), Some(&card)).await
    );
    let r = s
        .get(
            &dm,
            &format!("/api/analytics/kpis?department_id={}", da["ORTH"]),
        )
        .await;
    assert_eq!(r.status(), 404);

    // HCAHPS items and composite.
    let items: Value = s
        .get(&dm, "/api/analytics/items?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"listened") && keys.contains(&"recommend"),
        "{keys:?}"
    );
    assert!(items["composite"]["linear_mean"].as_f64().unwrap() > 0.0);

    // Viewer: aggregates yes, comments no.
    let (_, viewer) = user(&s, &admin, "viewer1", "viewer", &h_a, Some(&card)).await;
    assert_eq!(s.get(&viewer, "/api/analytics/kpis").await.status(), 200);
    assert_eq!(
        s.get(&viewer, "/api/analytics/comments").await.status(),
        403
    );
    let c: Value = s
        .get(&dm, "/api/analytics/comments?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        c["masked"], false,
        "a department manager reads comments unmasked"
    );
    assert!(!c["comments"].as_array().unwrap().is_empty());
    let (_, nurse) = user(&s, &admin, "nurse1", "nurse", &h_a, Some(&card)).await;
    let c: Value = s
        .get(&nurse, "/api/analytics/comments?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["masked"], true, "below PX Coordinator: masked");
    assert!(!c["comments"].as_array().unwrap().is_empty());
    assert!(c["comments"][0].get("patient_id").is_none());

    // Physician ratings: ranked within the department once past the minimum sample.
    let ph: Value = s
        .get(&admin, "/api/analytics/physicians?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ph["min_sample"], 30);
    let rows = ph["physicians"].as_array().unwrap();
    assert!(rows.len() >= 8, "{}", rows.len());
    for r in rows {
        assert_eq!(r["rated"], r["n"].as_u64().unwrap() >= 30, "{r}");
        assert_eq!(r["rank"].is_null(), r["rated"] == false);
    }
    let mut by_dept: std::collections::BTreeMap<&str, Vec<&Value>> = Default::default();
    for r in rows {
        by_dept
            .entry(r["department_id"].as_str().unwrap())
            .or_default()
            .push(r);
    }
    for (_, v) in by_dept {
        let ranked: Vec<&&Value> = v.iter().filter(|r| r["rated"] == true).collect();
        if let Some(first) = ranked.first() {
            assert_eq!(first["rank"], 1);
        }
        for w in ranked.windows(2) {
            assert!(
                w[0]["scores"]["linear_mean_shown"].as_i64()
                    >= w[1]["scores"]["linear_mean_shown"].as_i64()
            );
        }
    }
    // English answers only (a third): most physicians fall below the minimum sample.
    let en: Value = s
        .get(
            &admin,
            "/api/analytics/physicians?granularity=quarter&language=en",
        )
        .await
        .json()
        .await
        .unwrap();
    let en = en["physicians"].as_array().unwrap();
    assert!(
        en.iter()
            .any(|r| r["rated"] == false && r["scores"].is_null()),
        "{en:?}"
    );
    assert!(
        en.iter()
            .all(|r| (r["rated"] == true) == (r["n"].as_u64().unwrap() >= 30))
    );

    // Role Physician: only their own ratings and comments.
    let mine = rows
        .iter()
        .find(|r| r["department_id"] == card.as_str())
        .unwrap();
    let mine_id = mine["physician_id"].as_str().unwrap();
    let (uid, doc) = user(&s, &admin, "doc", "physician", &h_a, Some(&card)).await;
    // Linked through the API by the hospital admin (audited); a Viewer may not, and only a
    // Physician account of the same hospital can be linked.
    let link = format!("/api/physicians/{mine_id}/user");
    let r = s.api.send(&viewer, reqwest::Method::PUT, &link, Some(json!({"user_id": uid}))).await;
    assert_eq!(r.status(), 403);
    let r = s.api.send(&ha, reqwest::Method::PUT, &link, Some(json!({"user_id": me_of(&s, &dm).await}))).await;
    assert_eq!(r.status(), 422, "a department manager is not a physician");
    let r = s.api.send(&ha, reqwest::Method::PUT, &link, Some(json!({"user_id": uid}))).await;
    assert_eq!(r.status(), 204);
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'physician.link_user'")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(links, 1);
    let own: Value = s
        .get(&doc, "/api/analytics/physicians?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = own["physicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["physician_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine_id]);
    let oc: Value = s
        .get(&doc, "/api/analytics/comments?granularity=quarter")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        oc["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["physician_id"] == mine_id)
    );

    // Bad input is a problem+json, not a 500.
    for q in [
        "period=2026-13",
        "granularity=year",
        "hospital_id=nope",
        "channel=a%20b",
    ] {
        let r = s.get(&admin, &format!("/api/analytics/kpis?{q}")).await;
        assert_eq!(r.status(), 422, "{q}");
    }
    assert_eq!(
        s.get(&admin, "/api/analytics/breakdown?by=planet")
            .await
            .status(),
        422
    );

    // Exports: CSV and an RTL XLSX for Arabic, audited.
    let r = s
        .get(
            &ha,
            "/api/analytics/export?table=breakdown&by=department&granularity=quarter",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    // Bytes, not text(): reqwest's decoding would drop the BOM this checks.
    let csv = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    assert!(
        csv.starts_with("\u{feff}Value of the dimension,Invitations"),
        "{csv}"
    );
    assert!(csv.contains(&*card));
    let r = s
        .get(
            &ha,
            "/api/analytics/export?table=items&format=xlsx&lang=ar&granularity=quarter",
        )
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("items.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); s=z.read('xl/worksheets/sheet1.xml').decode(); t=z.read('xl/sharedStrings.xml').decode(); print('rtl' if 'rightToLeft=\"1\"' in s else 'ltr'); print('ar' if 'المتوسط الخطي' in t else 'en')")
        .arg(&file)
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "rtl\nar\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exports: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'analytics.export'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(exports, 2);

    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);
