//! Social media mentions over HTTP on both engines (issue 18): per-hospital handles and keywords
//! (validated by the matcher), JSON and CSV import with per-row errors, location by handle and
//! keyword (English and Arabic spellings, ambiguous, unmatched, own posts) and by the feed's
//! hospital, de-duplication by source and id, the webhook's HMAC-SHA256 signature checked
//! against an independent implementation (401 problem+json when missing, wrong, or no secret),
//! sentiment on every mention, scoped lists and filters, conversion into a complaint or an
//! action by the domain's rules, and the audit log (counts, never texts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use aws_lc_rs::hmac;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use serde_json::{Value, json};

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> String {
    let r = s.post(admin, "/api/users", json!({"username": name, "display_name": name, "password": "correct horse battery", "role": role, "hospital_id": h, "department_id": d})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    s.token(name, "correct horse battery").await
}

fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

async fn import(s: &TestServer, tok: &str, query: &str, ct: &str, body: &str) -> reqwest::Response {
    s.http
        .post(s.url(&format!("/api/social/mentions/import{query}")))
        .bearer_auth(tok)
        .header("content-type", ct)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn mentions(s: &TestServer, tok: &str, q: &str) -> Vec<Value> {
    let r = s
        .get(tok, &format!("/api/social/mentions?limit=200{q}"))
        .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let (h_b, _) = s.hospital(&admin, "NPH").await;
    let coord = user(&s, &admin, "mcoord", "px_coordinator", &h, None).await;
    let coord_b = user(&s, &admin, "mcoordb", "px_coordinator", &h_b, None).await;
    let nurse = user(&s, &admin, "mnurse", "nurse", &h, Some(&depts["CARD"])).await;

    // Configuration: a handle is one word; a coordinator may read but not change it.
    let cfg = format!("/api/hospitals/{h}/social-config");
    let r = s
        .send(
            &admin,
            reqwest::Method::PUT,
            &cfg,
            json!({"handles": ["two words"], "keywords": []}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = s
        .send(
            &coord,
            reqwest::Method::PUT,
            &cfg,
            json!({"handles": ["@RiversideGH"], "keywords": []}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = s
        .send(&admin, reqwest::Method::PUT, &cfg, json!({"handles": ["@RiversideGH"], "keywords": ["Riverside General", "مستشفى ريفرسايد"]}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = s
        .send(
            &admin,
            reqwest::Method::PUT,
            &format!("/api/hospitals/{h_b}/social-config"),
            json!({"handles": ["NorthfieldPark"], "keywords": ["Northfield Park"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = s.get(&coord, &cfg).await.json().await.unwrap();
    assert_eq!(c["handles"], json!(["@RiversideGH"]));
    assert_eq!(c["webhook_secret_set"], false);

    // A group-wide JSON feed, located by handles and keywords; a bad row does not lose the rest.
    let feed = json!([
        {"source": "google_reviews", "id": "g-1", "author": "sara_k", "text": "Waited five hours at Riverside General emergency, terrible and the staff were rude.", "rating": "1", "link": "https://maps.example/r/1", "time": "2026-03-01T10:00:00+03:00"},
        {"source": "x", "id": "x-1", "author": "@abu_fahad", "text": "شكراً لطاقم مُسْتَشْفَى ريفرسايد، الممرضات ما قصروا", "time": "2026-03-02T09:00:00Z"},
        {"source": "x", "id": "x-2", "author": "@q", "text": "Riverside General or Northfield Park for a knee operation?", "time": "2026-03-02T10:00:00Z"},
        {"source": "facebook", "id": "f-1", "author": "someone", "text": "Lovely weather today", "time": "2026-03-02T11:00:00Z"},
        {"source": "x", "id": "x-3", "author": "RiversideGH", "text": "Visiting hours change from Sunday", "time": "2026-03-03T08:00:00Z"},
        {"source": "x", "id": "x-4", "text": "no time given", "time": "yesterday"}
    ]);
    let body = feed.to_string();
    let r = import(&s, &admin, "", "application/json", &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let rep: Value = r.json().await.unwrap();
    assert_eq!(
        (
            rep["received"].as_i64(),
            rep["created"].as_i64(),
            rep["located"].as_i64()
        ),
        (Some(5), Some(5), Some(2)),
        "{rep}"
    );
    assert_eq!(
        rep["errors"],
        json!([{"row": 6, "code": "social.mention.bad_time"}])
    );
    // The same feed again stores nothing new.
    let rep: Value = import(&s, &admin, "", "application/json", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rep["created"].as_i64(), rep["duplicates"].as_i64()),
        (Some(0), Some(5))
    );
    // Whole-file problems are a 422 naming the file.
    assert_eq!(
        import(&s, &admin, "", "application/json", "{}")
            .await
            .status(),
        422
    );
    assert_eq!(
        import(&s, &admin, "?format=csv", "text/csv", "colour,text\n")
            .await
            .status(),
        422
    );

    let all = mentions(&s, &admin, "").await;
    assert_eq!(all.len(), 5);
    let by_id = |id: &str| all.iter().find(|m| m["external_id"] == id).unwrap().clone();
    assert_eq!(by_id("g-1")["location"], "hospital");
    assert_eq!(by_id("g-1")["hospital_id"], h.as_str());
    assert_eq!(by_id("g-1")["sentiment"], "negative");
    assert!(
        by_id("g-1")["themes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "waiting_time")
    );
    assert_eq!(by_id("x-1")["hospital_id"], h.as_str());
    assert_eq!(by_id("x-1")["sentiment"], "positive");
    assert_eq!(by_id("x-2")["location"], "ambiguous");
    assert!(by_id("x-2")["hospital_id"].is_null());
    assert_eq!(by_id("f-1")["location"], "unmatched");
    assert_eq!(by_id("x-3")["location"], "own_post");

    // A hospital's CSV feed (the coordinator's): what names no hospital is that hospital's.
    let csv = "id,source,author,text,rating,time\n\
        c-1,google_reviews,mona,\"Parking was impossible, missed my appointment\",2,2026-03-04T08:00:00Z\n\
        c-2,google_reviews,ali,Clean rooms and kind nurses,5,2026-03-04T09:00:00Z\n";
    let r = import(&s, &coord, "?format=csv", "text/csv", csv).await;
    assert_eq!(r.status(), 200);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(
        (rep["created"].as_i64(), rep["located"].as_i64()),
        (Some(2), Some(2)),
        "{rep}"
    );
    // Another hospital's coordinator cannot import into this hospital's feed.
    assert_eq!(
        import(&s, &coord_b, &format!("?hospital_id={h}"), "text/csv", csv)
            .await
            .status(),
        403
    );
    assert_eq!(import(&s, &nurse, "", "text/csv", csv).await.status(), 403);

    // Lists: the coordinator sees the hospital's mentions only; filters; department roles none.
    let mine = mentions(&s, &coord, "").await;
    assert_eq!(mine.len(), 5, "{mine:?}"); // g-1, x-1, x-3 (own post), c-1, c-2
    assert!(mine.iter().all(|m| m["hospital_id"] == h.as_str()));
    let neg = mentions(&s, &coord, "&sentiment=negative").await;
    assert!(neg.iter().all(|m| m["sentiment"] == "negative") && !neg.is_empty());
    let google = mentions(&s, &coord, "&source=google_reviews").await;
    assert_eq!(google.len(), 3);
    assert!(mentions(&s, &coord_b, "").await.is_empty());
    assert_eq!(s.get(&nurse, "/api/social/mentions").await.status(), 403);
    let g1 = by_id("g-1")["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&coord_b, &format!("/api/social/mentions/{g1}"))
            .await
            .status(),
        404
    );
    let amb = by_id("x-2")["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&coord, &format!("/api/social/mentions/{amb}"))
            .await
            .status(),
        404
    );

    // The webhook: per-hospital secret, shown once; signatures checked before anything else.
    let r = s
        .post(
            &admin,
            &format!("/api/hospitals/{h}/social-config/webhook-secret"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 32);
    let c: Value = s.get(&coord, &cfg).await.json().await.unwrap();
    assert_eq!(c["webhook_secret_set"], true);
    assert!(!c.to_string().contains(&secret));
    let hook = s.url(&format!("/api/social/webhook/{h}"));
    let pushed = json!({"source": "instagram", "id": "i-1", "author": "noura", "text": "الانتظار في العيادة طويل وايد", "time": "2026-03-05T07:00:00Z"}).to_string();
    let send = |sig: Option<String>, url: String, body: String| {
        let mut rq = s
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = sig {
            rq = rq.header("X-PX360-Signature", sig);
        }
        rq.send()
    };
    let r = send(None, hook.clone(), pushed.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let r = send(
        Some(sign(
            "a-different-secret-of-enough-length!!",
            pushed.as_bytes(),
        )),
        hook.clone(),
        pushed.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let r = send(Some("sha256=zz".into()), hook.clone(), pushed.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let good = sign(&secret, pushed.as_bytes());
    let r = send(Some(good.clone()), hook.clone(), pushed.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let rep: Value = r.json().await.unwrap();
    assert_eq!(
        (rep["created"].as_i64(), rep["located"].as_i64()),
        (Some(1), Some(1))
    );
    // Redelivered: nothing new. Another hospital without a secret: 401.
    let rep: Value = send(Some(good.clone()), hook.clone(), pushed.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["duplicates"], 1);
    let r = send(
        Some(good),
        s.url(&format!("/api/social/webhook/{h_b}")),
        pushed,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let i1 = mentions(&s, &coord, "&source=instagram").await;
    assert_eq!(i1.len(), 1);
    assert_eq!(i1[0]["received_via"], "webhook");
    assert_eq!(i1[0]["sentiment"], "negative");

    // Conversion by the domain's rules.
    let conv = |id: &str| format!("/api/social/mentions/{id}/convert");
    let r = s
        .post(
            &nurse,
            &conv(&g1),
            json!({"target": "complaint", "category_code": "waiting_time"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = s
        .post(
            &coord,
            &conv(&g1),
            json!({"target": "complaint", "category_code": "waiting_time", "severity": "high"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["status"], "complaint");
    let complaint = m["complaint_id"].as_str().unwrap().to_owned();
    let c: Value = s
        .get(&coord, &format!("/api/complaints/{complaint}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["complaint"]["source_channel"], "social_media");
    let r = s
        .post(
            &coord,
            &conv(&g1),
            json!({"target": "complaint", "category_code": "waiting_time", "severity": "high"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["complaint_id"],
        complaint.as_str()
    );
    let r = s
        .post(
            &coord,
            &conv(&g1),
            json!({"target": "action", "category_code": "waiting_time"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // Positive voice and our own posts are not cases; an ambiguous one needs a person first.
    let x1 = by_id("x-1")["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &coord,
            &conv(&x1),
            json!({"target": "action", "category_code": "communication"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("social.convert.positive"));
    let x3 = by_id("x-3")["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &coord,
            &conv(&x3),
            json!({"target": "action", "category_code": "communication"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = s
        .post(
            &admin,
            &conv(&amb),
            json!({"target": "action", "category_code": "communication"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    // Placing the ambiguous one by hand: the group's PX Admin only (the hospital's coordinator
    // does not see it), a known hospital, audited; its analysis moves with it.
    let assign = format!("/api/social/mentions/{amb}/assign");
    let r = s.post(&coord, &assign, json!({"hospital_id": h})).await;
    assert_eq!(r.status(), 404);
    let r = s
        .post(
            &admin,
            &assign,
            json!({"hospital_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = s.post(&admin, &assign, json!({"hospital_id": h})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let placed: Value = r.json().await.unwrap();
    assert_eq!(
        (placed["location"].as_str(), placed["hospital_id"].as_str()),
        (Some("hospital"), Some(h.as_str()))
    );
    let r = s.post(&admin, &assign, json!({"hospital_id": h})).await;
    assert_eq!(r.status(), 200, "a retry answers the same");
    let r = s.post(&admin, &assign, json!({"hospital_id": h_b})).await;
    assert_eq!(r.status(), 409, "located now");
    let (ta_hospital,): (Option<String>,) = sqlx::query_as(
        "SELECT hospital_id FROM text_analyses WHERE item_kind = 'social_mention' AND item_id = $1",
    )
    .bind(&amb)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(ta_hospital.as_deref(), Some(h.as_str()));
    assert_eq!(
        s.get(&coord, &format!("/api/social/mentions/{amb}"))
            .await
            .status(),
        200,
        "the hospital's coordinator sees it now"
    );
    // A located one cannot be moved.
    let r = s
        .post(
            &admin,
            &format!("/api/social/mentions/{x1}/assign"),
            json!({"hospital_id": h_b}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // The parking review (2 stars) becomes an action owned by the rules.
    let c1 = mentions(&s, &coord, "")
        .await
        .into_iter()
        .find(|m| m["external_id"] == "c-1")
        .unwrap();
    let c1 = c1["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &coord,
            &conv(&c1),
            json!({"target": "action", "category_code": "facilities"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let action = r.json::<Value>().await.unwrap()["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a: Value = s
        .get(&coord, &format!("/api/actions/{action}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["action"]["origin_kind"], "social_mention");
    assert_eq!(a["action"]["origin_id"], c1.as_str());
    // Dismissing the unmatched one (group level: PX Admin).
    let f1 = by_id("f-1")["id"].as_str().unwrap().to_owned();
    let r = s
        .post(&admin, &conv(&f1), json!({"target": "dismiss"}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "dismissed");

    // Audited as batches and conversions; no post text in the log.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    for a in [
        "social.import",
        "social.webhook",
        "social.webhook.rejected",
        "social.convert",
        "social.assign",
        "social_config.put",
        "social_config.rotate_secret",
    ] {
        assert!(
            audit.as_array().unwrap().iter().any(|e| e["action"] == a),
            "{a} audited"
        );
    }
    let text = audit.to_string();
    assert!(
        !text.contains("Waited five hours") && !text.contains("الانتظار") && !text.contains(&secret)
    );
    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(scenario);
