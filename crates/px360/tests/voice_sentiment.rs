//! Sentiment and themes wiring on both engines (issue 18): every free text (feedback, complaint,
//! social mention, and a call note through the exported `px360_store::sentiment::record_text`)
//! gets sentiment, score and themes stored with it, in English and Gulf Arabic; the hospital's
//! rule (validated, audited, off by default) makes negative text raise a PX action through the
//! action centre's path, audited as a system action, exactly once per item; analytics shows the
//! themes over time, scoped like the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use chrono::Utc;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use px360_store::sentiment::{TextItem, TextKind, record_text};
use serde_json::{Value, json};
use uuid::Uuid;

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

async fn feedback(
    s: &TestServer,
    tok: &str,
    dept: &str,
    kind: &str,
    lang: &str,
    text: &str,
) -> String {
    let r = s
        .post(
            tok,
            "/api/feedback",
            json!({"department_id": dept, "kind": kind, "language": lang, "text": text}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn actions_from(s: &TestServer, admin: &str, item: &str) -> Vec<Value> {
    let all: Value = s
        .get(admin, "/api/actions?board=team&limit=500")
        .await
        .json()
        .await
        .unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["origin_kind"] == "negative_text" && a["origin_id"] == item)
        .cloned()
        .collect()
}

async fn scenario(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(&tdb.url, ServerOpts::default()).await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (h, depts) = s.hospital(&admin, "RGH").await;
    let (_, depts_b) = s.hospital(&admin, "NPH").await;
    let card = depts["CARD"].clone();
    let orth = depts["ORTH"].clone();
    let coord = user(&s, &admin, "scoord", "px_coordinator", &h, None).await;
    let hadmin = user(&s, &admin, "shadmin", "hospital_admin", &h, None).await;
    user(&s, &admin, "smgr", "department_manager", &h, Some(&card)).await;
    let viewer = user(&s, &admin, "sviewer", "viewer", &h, Some(&orth)).await;

    // Off by default: a very negative text raises nothing yet.
    let rule_path = format!("/api/hospitals/{h}/sentiment-rule");
    let r: Value = s.get(&coord, &rule_path).await.json().await.unwrap();
    assert_eq!(r["enabled"], false);
    let early = feedback(
        &s,
        &coord,
        &card,
        "concern",
        "en",
        "Terrible service, waited six hours and the staff were rude.",
    )
    .await;
    assert!(actions_from(&s, &admin, &early).await.is_empty());

    // The rule: validated; a coordinator reads it, a hospital admin changes it.
    let rule = json!({"enabled": true, "max_score": -0.3, "themes": [], "severity": "medium",
        "sources": ["feedback", "survey_comment", "social_mention", "call_note"], "category_code": null});
    assert_eq!(
        s.send(&coord, reqwest::Method::PUT, &rule_path, rule.clone())
            .await
            .status(),
        403
    );
    let mut bad = rule.clone();
    bad["max_score"] = json!(0.5);
    bad["category_code"] = json!("Not A Code");
    let r = s.send(&hadmin, reqwest::Method::PUT, &rule_path, bad).await;
    assert_eq!(r.status(), 422);
    let r = s
        .send(&hadmin, reqwest::Method::PUT, &rule_path, rule)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // Negative English feedback: an action through the action centre (owner, due date), once.
    let neg = feedback(
        &s,
        &coord,
        &card,
        "concern",
        "en",
        "Waited six hours in the emergency department and nobody told us anything. Terrible.",
    )
    .await;
    let raised = actions_from(&s, &admin, &neg).await;
    assert_eq!(raised.len(), 1, "one action for {neg}");
    assert!(raised[0]["due_at"].is_string(), "{}", raised[0]);
    assert_eq!(raised[0]["category_code"], "waiting_time");
    assert_eq!(raised[0]["department_id"], card.as_str());
    let d: Value = s
        .get(&coord, &format!("/api/feedback/{neg}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["analysis"]["sentiment"], "negative");
    assert_eq!(d["analysis"]["action_id"], raised[0]["id"]);
    assert_eq!(d["analysis"]["language"], "en");

    // Gulf Arabic, with negation and elongation: negative, waiting time and staff attitude.
    let ar = feedback(
        &s,
        &coord,
        &card,
        "concern",
        "ar",
        "الانتظار في الطوارئ طويل وايد والموظفين ما يردون علينا، خدمة سيئة جداً",
    )
    .await;
    let d: Value = s
        .get(&coord, &format!("/api/feedback/{ar}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["analysis"]["sentiment"], "negative", "{d}");
    assert_eq!(d["analysis"]["language"], "ar");
    assert!(
        d["analysis"]["themes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "waiting_time"),
        "{d}"
    );
    assert_eq!(actions_from(&s, &admin, &ar).await.len(), 1);
    // Praise raises nothing.
    let pos = feedback(
        &s,
        &coord,
        &card,
        "compliment",
        "ar",
        "الممرضات ما قصروا، شكراً لكم على الاهتمام",
    )
    .await;
    let d: Value = s
        .get(&coord, &format!("/api/feedback/{pos}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["analysis"]["sentiment"], "positive", "{d}");
    assert!(actions_from(&s, &admin, &pos).await.is_empty());

    // Complaints are analysed at intake (the rule skips them: complaint rules cover them).
    let r = s
        .post(&coord, "/api/complaints", json!({"department_id": card, "category_code": "billing", "severity": "low",
            "source_channel": "staff", "subject": "Charged twice", "description": "I was charged twice for the same scan and nobody in billing could explain why."}))
        .await;
    let complaint =
        Uuid::parse_str(r.json::<Value>().await.unwrap()["id"].as_str().unwrap()).unwrap();
    let a =
        s.db.text_analysis(TextKind::Complaint, complaint)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(a.sentiment, "negative");
    assert!(a.themes.iter().any(|t| t == "billing"), "{a:?}");
    assert!(
        actions_from(&s, &admin, &complaint.to_string())
            .await
            .is_empty()
    );

    // The exported function (call notes): stored, rule applied, and idempotent per item.
    let call = Uuid::now_v7();
    let item = TextItem {
        kind: TextKind::CallNote,
        id: call,
        hospital_id: Some(Uuid::parse_str(&h).unwrap()),
        department_id: Some(Uuid::parse_str(&card).unwrap()),
        occurred_at: Utc::now(),
    };
    let note = "Caller very upset: the pharmacy lost her prescription twice and was rude to her.";
    for round in 0..2 {
        let mut tx = s.db.writer.begin().await.unwrap();
        let rec = record_text(&mut tx, &item, note, "call_centre", Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(rec.analysis.sentiment, px360_sentiment_label("negative"));
        assert!(rec.action_id.is_some());
        assert_eq!(rec.action_created, round == 0, "round {round}");
    }
    assert_eq!(actions_from(&s, &admin, &call.to_string()).await.len(), 1);
    let stored =
        s.db.text_analysis(TextKind::CallNote, call)
            .await
            .unwrap()
            .unwrap();
    assert!(
        stored
            .themes
            .iter()
            .any(|t| t == "medication" || t == "staff_attitude"),
        "{stored:?}"
    );

    // Audited as system actions, naming the item and the rule, never the text.
    let audit: Value = s
        .get(&admin, "/api/audit?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let rule_actions: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        // `changes` is the stored JSON text.
        .filter(|e| {
            e["action"] == "px_action.create"
                && e["changes"]
                    .as_str()
                    .and_then(|c| serde_json::from_str::<Value>(c).ok())
                    .is_some_and(|c| c["origin"] == "negative_text" && c["rule"] == "sentiment")
        })
        .collect();
    assert_eq!(rule_actions.len(), 3, "{rule_actions:?}");
    assert!(rule_actions.iter().all(|e| e["actor_type"] == "system"));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "sentiment_rule.put")
    );
    assert!(!audit.to_string().contains("nobody told us"));

    // Themes over time: the hospital's, by day of the month; a viewer of another department
    // sees only that department's (none here); another hospital's is out of scope.
    let t: Value = s
        .get(
            &coord,
            &format!("/api/analytics/themes?hospital_id={h}&granularity=month&by=day"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["by"], "day");
    let wait = t["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["theme"] == "waiting_time")
        .expect("waiting_time");
    assert!(wait["total"].as_i64().unwrap() >= 3, "{t}");
    assert!(wait["negative"].as_i64().unwrap() >= 3, "{t}");
    assert_eq!(
        wait["counts"].as_array().unwrap().len(),
        t["buckets"].as_array().unwrap().len()
    );
    assert_eq!(
        wait["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap())
            .sum::<i64>(),
        wait["total"].as_i64().unwrap()
    );
    let only_feedback: Value = s
        .get(
            &coord,
            &format!("/api/analytics/themes?hospital_id={h}&sources=complaint"),
        )
        .await
        .json()
        .await
        .unwrap();
    let themes: Vec<&str> = only_feedback["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["theme"].as_str().unwrap())
        .collect();
    // Only the complaint's themes: billing, never the feedback's waiting time.
    assert!(
        themes.contains(&"billing") && !themes.contains(&"waiting_time"),
        "{only_feedback}"
    );
    let v: Value = s
        .get(&viewer, "/api/analytics/themes")
        .await
        .json()
        .await
        .unwrap();
    assert!(v["themes"].as_array().unwrap().is_empty(), "{v}");
    let r = s
        .get(
            &viewer,
            &format!("/api/analytics/themes?department_id={}", depts_b["CARD"]),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        s.get(&coord, "/api/analytics/themes?by=year")
            .await
            .status(),
        422
    );

    s.db.verify_audit_chain().await.unwrap();
    s.stop().await;
    tdb.drop_db().await;
}

fn px360_sentiment_label(s: &str) -> px360_sentiment::Sentiment {
    match s {
        "negative" => px360_sentiment::Sentiment::Negative,
        "positive" => px360_sentiment::Sentiment::Positive,
        _ => px360_sentiment::Sentiment::Neutral,
    }
}
both_backends!(scenario);
