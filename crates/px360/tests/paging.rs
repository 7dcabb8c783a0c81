//! Keyset paging of `GET /api/integrations/events` and `GET /api/journeys` over real HTTP, on
//! SQLite and PostgreSQL: every row exactly once and in order across pages (many rows share a
//! timestamp, and such groups straddle page edges), the `Link`/`X-Next-Cursor` headers (absent
//! on the last page, filters kept), 422 for malformed cursors, and scope: a cursor is only a
//! position, so a Hospital Admin or a nurse paging from anywhere, even from a position taken
//! from another hospital's rows, sees nothing outside their scope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{ADMIN_PASSWORD, Kind, ServerOpts, TestDb, TestServer};
use px360_api::paging::{decode_cursor, encode_cursor};
use px360_store::page::Cursor;
use serde_json::{Value, json};

/// One inserted row as the lists must return it.
#[derive(Clone, Debug)]
struct Row {
    id: String,
    at: String,
    hospital: String,
    department: Option<String>,
    status: &'static str,
}

/// Expected order of a list: `(timestamp, id)` descending. Both databases compare these text
/// columns bytewise (the test cluster's collation is C.UTF-8, and SQLite's default is binary).
fn newest_first(rows: impl Iterator<Item = Row>) -> Vec<String> {
    let mut v: Vec<Row> = rows.collect();
    v.sort_by(|a, b| (&b.at, &b.id).cmp(&(&a.at, &a.id)));
    v.into_iter().map(|r| r.id).collect()
}

/// base64url without padding (RFC 4648 §5), to forge cursors; the test crate does not depend
/// on a base64 crate.
fn b64url(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for k in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * k)) & 63) as usize]));
        }
    }
    out
}

/// Storage timestamp `secs` seconds after a fixed instant.
fn at(secs: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    px360_store::ts(base + chrono::Duration::seconds(secs))
}

/// Random (v4) ids, so that the tie-break order differs from the insertion order.
fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

struct Seen {
    ids: Vec<String>,
    page_sizes: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Follow {
    /// The `Link: <…>; rel="next"` target as given.
    Link,
    /// The first request's URL with `before=<X-Next-Cursor>` appended.
    Cursor,
}

/// Walk a list from `first` to its last page and check the paging headers on the way.
async fn walk(s: &TestServer, token: &str, first: &str, follow: Follow) -> Seen {
    let mut seen = Seen {
        ids: Vec::new(),
        page_sizes: Vec::new(),
    };
    let mut url = first.to_owned();
    for _ in 0..100 {
        let r = s.get(token, &url).await;
        assert_eq!(r.status(), 200, "GET {url}");
        let cursor = r
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let link = r
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        let page = page.as_array().expect("the body is still a JSON array");
        seen.page_sizes.push(page.len());
        seen.ids
            .extend(page.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        let (Some(cursor), Some(link)) = (cursor, link.clone()) else {
            assert!(link.is_none(), "Link without X-Next-Cursor: {link:?}");
            return seen;
        };
        // The cursor carries a storage timestamp and a row id, nothing else.
        let c = decode_cursor(&cursor).unwrap_or_else(|| panic!("cursor {cursor:?}"));
        assert_eq!(c.id, seen.ids.last().unwrap().as_str(), "cursor = last row");
        let target = link
            .strip_prefix('<')
            .and_then(|l| l.strip_suffix(">; rel=\"next\""))
            .unwrap_or_else(|| panic!("Link format: {link}"));
        assert!(target.contains(&format!("before={cursor}")), "{link}");
        assert!(target.contains("&limit="), "{link}");
        url = match follow {
            Follow::Link => target.to_owned(),
            Follow::Cursor => {
                let sep = if first.contains('?') { '&' } else { '?' };
                format!("{first}{sep}before={cursor}")
            }
        };
    }
    panic!("more than 100 pages from {first}");
}

/// Assert a full walk saw exactly `want`, in order, in pages of `limit` (the last one shorter
/// or, when the rows divide evenly, full and still the last: no empty trailing page).
fn assert_walk(seen: &Seen, want: &[String], limit: usize, what: &str) {
    let mut unique = seen.ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.ids.len(), "{what}: a row appeared twice");
    assert_eq!(seen.ids.len(), want.len(), "{what}: rows seen");
    assert!(seen.ids == want, "{what}: rows out of order");
    let pages = want.len().div_ceil(limit).max(1);
    assert_eq!(
        seen.page_sizes.len(),
        pages,
        "{what}: {:?}",
        seen.page_sizes
    );
    let (last, full) = seen.page_sizes.split_last().unwrap();
    assert!(
        full.iter().all(|n| *n == limit),
        "{what}: {:?}",
        seen.page_sizes
    );
    assert!(*last >= 1 || want.is_empty(), "{what}: empty last page");
}

async fn user(
    s: &TestServer,
    admin: &str,
    name: &str,
    role: &str,
    h: &str,
    d: Option<&str>,
) -> String {
    let pw = format!("{name} password for tests");
    let r = s
        .post(
            admin,
            "/api/users",
            json!({"username": name, "display_name": name, "password": pw, "role": role,
                   "hospital_id": h, "department_id": d}),
        )
        .await;
    assert_eq!(r.status(), 201, "create {name}");
    s.token(name, &pw).await
}

async fn assert_bad_cursor(s: &TestServer, token: &str, path: &str, before: &str) {
    let r = s.get(token, &format!("{path}before={before}")).await;
    assert_eq!(r.status(), 422, "{path} before={before:?}");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "before", "{p}");
}

/// Cursors that must be refused: not base64url, not a key, a key whose id is not a UUID (a
/// client must not be able to smuggle e.g. an MRN through), a non-storage timestamp, empty.
fn malformed_cursors() -> Vec<String> {
    let b = b64url;
    // The forger writes what the API writes, so the cases below fail for their content.
    let c = Cursor::new(&at(0), &random_id());
    assert_eq!(b(&c.key()), encode_cursor(&c));
    vec![
        "not*base64".into(),
        b("hello"),
        b(&format!("{}|RGH-CARD-0001", at(0))),
        b(&format!("2025-03-01 08:00:00|{}", random_id())),
        b(&format!("{}|{}", at(0), random_id())) + "==",
        String::new(),
        "A".repeat(300),
    ]
}

async fn events_paging(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..ServerOpts::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, _) = s.hospital(&admin, "RGH").await;
    let (nph, _) = s.hospital(&admin, "NPH").await;
    let mut keys = std::collections::HashMap::new();
    for h in [&rgh, &nph] {
        let k =
            s.db.create_api_key(h, "paging", &["*".into()], None)
                .await
                .unwrap();
        keys.insert(h.clone(), k.key.id.to_string());
    }

    // 175 events of two hospitals, interleaved. Mostly five per timestamp (an intake batch),
    // and one batch of 60 sharing a single timestamp across the page edges. Statuses vary so
    // the status filter pages too; processed/parked rows are left alone by the sweeper.
    let rows: Vec<Row> = (0..175)
        .map(|i| Row {
            id: random_id(),
            at: at(if (40..100).contains(&i) { 8 } else { i / 5 }),
            hospital: if i % 4 == 3 { nph.clone() } else { rgh.clone() },
            department: None,
            status: if i % 3 == 0 { "parked" } else { "processed" },
        })
        .collect();
    let mut tx = s.db.writer.begin().await.unwrap();
    for (i, r) in rows.iter().enumerate() {
        sqlx::query("INSERT INTO inbound_events (id, hospital_id, api_key_id, source_system, event_code, encounter_id, patient_identifier, payload, occurred_at, received_at, status) VALUES ($1, $2, $3, 'EPIC', 'OP_CHECKIN', $4, 'RGH-CARD-0001', '{}', $5, $5, $6)")
            .bind(&r.id)
            .bind(&r.hospital)
            .bind(&keys[&r.hospital])
            .bind(format!("ENC-PAGE-{i}"))
            .bind(&r.at)
            .bind(r.status)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let all = newest_first(rows.iter().cloned());
    let of = |h: &str| newest_first(rows.iter().filter(|r| r.hospital == h).cloned());

    // PX Admin: the whole group, following the Link header, then X-Next-Cursor.
    let seen = walk(
        &s,
        &admin,
        "/api/integrations/events?limit=50",
        Follow::Link,
    )
    .await;
    assert_walk(&seen, &all, 50, "group via Link");
    let seen = walk(
        &s,
        &admin,
        "/api/integrations/events?limit=50",
        Follow::Cursor,
    )
    .await;
    assert_walk(&seen, &all, 50, "group via X-Next-Cursor");
    // 175 = 7 × 25: the seventh page is full and is the last (no empty eighth page).
    let seen = walk(
        &s,
        &admin,
        "/api/integrations/events?limit=25",
        Follow::Link,
    )
    .await;
    assert_walk(&seen, &all, 25, "group, pages of 25");
    // The default page (100) and one page holding everything: no paging headers.
    let r = s.get(&admin, "/api/integrations/events").await;
    assert!(r.headers().contains_key("link"));
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        100
    );
    let r = s.get(&admin, "/api/integrations/events?limit=175").await;
    assert!(!r.headers().contains_key("link") && !r.headers().contains_key("x-next-cursor"));

    // Hospital Admin of RGH: only RGH's events, all of them, in order.
    let ha = user(&s, &admin, "rgh-ha", "hospital_admin", &rgh, None).await;
    let seen = walk(&s, &ha, "/api/integrations/events?limit=50", Follow::Link).await;
    assert_walk(&seen, &of(&rgh), 50, "hospital admin");
    // The status filter stays in the Link, page after page.
    let parked = newest_first(
        rows.iter()
            .filter(|r| r.hospital == rgh && r.status == "parked")
            .cloned(),
    );
    assert!(parked.len() > 20);
    let seen = walk(
        &s,
        &ha,
        "/api/integrations/events?status=parked&limit=20",
        Follow::Link,
    )
    .await;
    assert_walk(&seen, &parked, 20, "hospital admin, parked");
    // A position taken from another hospital's row (inside the 60-row batch): the next page
    // holds RGH's older rows only; the cursor moved, the scope did not.
    let foreign = rows
        .iter()
        .filter(|r| r.hospital == nph && r.at == at(8))
        .nth(5)
        .unwrap();
    let c = encode_cursor(&Cursor::new(&foreign.at, &foreign.id));
    let older: Vec<String> = of(&rgh)
        .into_iter()
        .filter(|id| {
            let r = rows.iter().find(|r| &r.id == id).unwrap();
            (&r.at, &r.id) < (&foreign.at, &foreign.id)
        })
        .collect();
    let seen = walk(
        &s,
        &ha,
        &format!("/api/integrations/events?limit=50&before={c}"),
        Follow::Link,
    )
    .await;
    assert_walk(
        &seen,
        &older,
        50,
        "hospital admin from another hospital's position",
    );
    assert!(seen.ids.iter().all(|id| !of(&nph).contains(id)));

    // Malformed cursors: 422 naming `before`; with a bad status too, both fields at once.
    for bad in malformed_cursors() {
        assert_bad_cursor(&s, &admin, "/api/integrations/events?", &bad).await;
    }
    let r = s
        .get(&admin, "/api/integrations/events?status=lost&before=xyz")
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "before"], "{p}");

    // The OpenAPI document describes the parameter and the headers.
    let spec: Value = s
        .http
        .get(s.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/api/integrations/events", "/api/journeys"] {
        let op = &spec["paths"][path]["get"];
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            params.contains(&"before") && params.contains(&"limit"),
            "{path}: {params:?}"
        );
        let headers = &op["responses"]["200"]["headers"];
        assert!(
            headers["Link"].is_object() && headers["X-Next-Cursor"].is_object(),
            "{path}: {headers}"
        );
        assert!(op["responses"]["422"].is_object(), "{path}");
    }
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(events_paging);

async fn journeys_paging(kind: Kind) {
    let tdb = TestDb::new(kind).await;
    let s = TestServer::start(
        &tdb.url,
        ServerOpts {
            worker: false,
            beat: false,
            ..ServerOpts::default()
        },
    )
    .await;
    let admin = s.token("admin", ADMIN_PASSWORD).await;
    let (rgh, rd) = s.hospital(&admin, "RGH").await;
    let (nph, nd) = s.hospital(&admin, "NPH").await;
    let template: String =
        sqlx::query_scalar("SELECT id FROM journey_templates WHERE code = 'OUTPATIENT_VISIT'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let patient: String = sqlx::query_scalar("SELECT id FROM patients WHERE mrn = 'RGH-CARD-0001'")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    let places = [
        (&rgh, &rd["CARD"]),
        (&rgh, &rd["ORTH"]),
        (&nph, &nd["CARD"]),
        (&rgh, &rd["CARD"]),
    ];
    // 140 journeys; the worker starts a batch's journeys at one `started_at`: here 70 share one.
    let rows: Vec<Row> = (0..140)
        .map(|i| {
            let (h, d) = places[i % 4];
            Row {
                id: random_id(),
                at: at(if (20..90).contains(&i) {
                    7
                } else {
                    i as i64 / 3
                }),
                hospital: h.clone(),
                department: Some(d.clone()),
                status: "active",
            }
        })
        .collect();
    // One patient's journeys (RGH cardiology rows), two of them inside the large batch.
    let of_patient = [0usize, 4, 48, 60, 99];
    let mut tx = s.db.writer.begin().await.unwrap();
    for (i, r) in rows.iter().enumerate() {
        sqlx::query("INSERT INTO journey_instances (id, hospital_id, department_id, patient_id, patient_identifier, journey_template_id, encounter_id, status, started_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'RGH-CARD-0001', $5, $6, 'active', $7, $7, $7)")
            .bind(&r.id)
            .bind(&r.hospital)
            .bind(&r.department)
            .bind(of_patient.contains(&i).then_some(patient.as_str()))
            .bind(&template)
            .bind(format!("ENC-J-{i}"))
            .bind(&r.at)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let all = newest_first(rows.iter().cloned());
    let seen = walk(&s, &admin, "/api/journeys?limit=50", Follow::Link).await;
    assert_walk(&seen, &all, 50, "journeys, group");
    let seen = walk(&s, &admin, "/api/journeys", Follow::Cursor).await;
    assert_walk(&seen, &all, 50, "journeys, default page size");

    // A Hospital Admin of RGH: both RGH departments, no NPH journey.
    let ha = user(&s, &admin, "rgh-ha", "hospital_admin", &rgh, None).await;
    let own = newest_first(rows.iter().filter(|r| r.hospital == rgh).cloned());
    let seen = walk(&s, &ha, "/api/journeys?limit=30", Follow::Link).await;
    assert_walk(&seen, &own, 30, "journeys, hospital admin");

    // A nurse of RGH cardiology: that department only.
    let nurse = user(&s, &admin, "rgh-nurse", "nurse", &rgh, Some(&rd["CARD"])).await;
    let card = newest_first(
        rows.iter()
            .filter(|r| r.department.as_deref() == Some(rd["CARD"].as_str()))
            .cloned(),
    );
    let seen = walk(&s, &nurse, "/api/journeys?limit=20", Follow::Link).await;
    assert_walk(&seen, &card, 20, "journeys, nurse");
    // From another hospital's position: still only the nurse's department.
    let foreign = rows.iter().filter(|r| r.hospital == nph).nth(8).unwrap();
    let c = encode_cursor(&Cursor::new(&foreign.at, &foreign.id));
    let seen = walk(
        &s,
        &nurse,
        &format!("/api/journeys?before={c}&limit=20"),
        Follow::Link,
    )
    .await;
    let older: Vec<String> = card
        .iter()
        .filter(|id| {
            let r = rows.iter().find(|r| &r.id == *id).unwrap();
            (&r.at, &r.id) < (&foreign.at, &foreign.id)
        })
        .cloned()
        .collect();
    assert!(!older.is_empty());
    assert_walk(
        &seen,
        &older,
        20,
        "journeys, nurse from another hospital's position",
    );

    // The patient filter is kept in the Link (and percent-encoded).
    let mine = newest_first(of_patient.iter().map(|i| rows[*i].clone()));
    let seen = walk(
        &s,
        &admin,
        &format!("/api/journeys?patient_id={patient}&limit=2"),
        Follow::Link,
    )
    .await;
    assert_walk(&seen, &mine, 2, "journeys of one patient");
    let r = s
        .get(
            &admin,
            &format!("/api/journeys?patient_id={patient}&limit=2"),
        )
        .await;
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("</api/journeys?patient_id={patient}&before=")),
        "{link}"
    );
    // An empty list is one (last) page.
    let r = s
        .get(&admin, "/api/journeys?patient_id=a%20b%26c&limit=1")
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers().contains_key("link"),
        "no journeys, no next page"
    );

    for bad in malformed_cursors() {
        assert_bad_cursor(&s, &admin, "/api/journeys?", &bad).await;
    }
    s.stop().await;
    tdb.drop_db().await;
}
both_backends!(journeys_paging);
