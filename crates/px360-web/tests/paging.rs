//! The paged lists of the web UI over real HTTP: /ui/events (with its status filter and htmx
//! swaps) and /ui/journeys, 50 rows a page with "Older"/"Newest" links; every row once and in
//! order even where many rows share a timestamp; scope re-applied on every page; Arabic
//! navigation right to left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Jar, Kind, PASSWORD, Ui};
use px360_api::paging::encode_cursor;
use px360_store::page::Cursor;

const PAGE: usize = 50;

struct Ev {
    id: String,
    at: String,
    hospital: &'static str,
    status: &'static str,
}

fn at(secs: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    px360_store::ts(base + chrono::Duration::seconds(secs))
}

/// Expected order: `(timestamp, id)` descending (bytewise on both databases, see the API test).
fn newest_first<'a>(evs: impl Iterator<Item = &'a Ev>) -> Vec<String> {
    let mut v: Vec<&Ev> = evs.collect();
    v.sort_by(|a, b| (&b.at, &b.id).cmp(&(&a.at, &a.id)));
    v.into_iter().map(|e| e.id.clone()).collect()
}

/// 130 events, a third of them NPH's; 60 in the middle share one timestamp (one intake
/// batch), so page edges fall inside it. Every second one is parked.
async fn insert_events(ui: &Ui) -> Vec<Ev> {
    let mut keys = std::collections::HashMap::new();
    for code in ["RGH", "NPH"] {
        let (h, _) = ui.ids(code, None).await;
        let k = ui
            .db
            .create_api_key(&h, "paging", &["*".into()], None)
            .await
            .unwrap();
        keys.insert(code, (h, k.key.id.to_string()));
    }
    let evs: Vec<Ev> = (0..130)
        .map(|i| Ev {
            id: uuid::Uuid::new_v4().to_string(),
            at: at(if (30..90).contains(&i) { 6 } else { i / 5 }),
            hospital: if i % 3 == 2 { "NPH" } else { "RGH" },
            status: if i % 2 == 0 { "parked" } else { "processed" },
        })
        .collect();
    let mut tx = ui.db.writer.begin().await.unwrap();
    for (i, e) in evs.iter().enumerate() {
        let (h, key) = &keys[e.hospital];
        sqlx::query("INSERT INTO inbound_events (id, hospital_id, api_key_id, source_system, event_code, encounter_id, patient_identifier, payload, occurred_at, received_at, status) VALUES ($1, $2, $3, 'EPIC', 'OP_CHECKIN', $4, 'RGH-CARD-0001', '{}', $5, $5, $6)")
            .bind(&e.id)
            .bind(h)
            .bind(key)
            .bind(format!("ENC-W-{i}"))
            .bind(&e.at)
            .bind(e.status)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    evs
}

/// Event ids in the order the table lists them (their detail links).
fn event_ids(html: &str) -> Vec<String> {
    html.split("href=\"/ui/events/")
        .skip(1)
        .map(|rest| rest[..36].to_owned())
        .collect()
}

/// The `href` of the pager link with this `rel` (`next` = Older, `first` = Newest).
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let rest = &html[html.find(&format!("rel=\"{rel}\" href=\""))?..];
    let rest = &rest[rest.find("href=\"")? + 6..];
    Some(rest[..rest.find('"')?].replace("&#38;", "&"))
}

/// Follow "Older" from `first` to the last page; check "Newest" on the way.
async fn walk(ui: &Ui, jar: &Jar, first: &str, read: fn(&str) -> Vec<String>) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = first.to_owned();
    loop {
        let html = ui.page(jar, &url).await;
        let newest = pager_link(&html, "first");
        if pages.is_empty() {
            assert_eq!(newest, None, "{url}: no Newest link on the newest page");
        } else {
            let want = first.split("&before=").next().unwrap();
            assert_eq!(newest.as_deref(), Some(want), "{url}: Newest");
        }
        pages.push(read(&html));
        match pager_link(&html, "next") {
            Some(next) => url = next,
            None => return pages,
        }
        assert!(pages.len() < 50, "runaway paging from {first}");
    }
}

fn assert_pages(pages: &[Vec<String>], want: &[String], what: &str) {
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(
        pages.len(),
        want.len().div_ceil(PAGE).max(1),
        "{what}: {sizes:?}"
    );
    let (_, full) = sizes.split_last().unwrap();
    assert!(full.iter().all(|n| *n == PAGE), "{what}: {sizes:?}");
    let seen: Vec<String> = pages.concat();
    assert!(seen == want, "{what}: every row once, in order");
}

async fn events_are_paged(kind: Kind) {
    let ui = Ui::start(kind).await;
    let evs = insert_events(&ui).await;
    let jar = ui.admin().await;

    let all = newest_first(evs.iter());
    let pages = walk(&ui, &jar, "/ui/events", event_ids).await;
    assert_pages(&pages, &all, "PX Admin");
    let html = ui.page(&jar, "/ui/events").await;
    assert!(html.contains("50 events shown"), "the page size");
    let older = pager_link(&html, "next").unwrap();
    assert!(older.starts_with("/ui/events?before="), "{older}");
    assert!(html.contains("Older <span aria-hidden=\"true\">→</span>"));

    // The status filter stays in the links.
    let parked = newest_first(evs.iter().filter(|e| e.status == "parked"));
    let pages = walk(&ui, &jar, "/ui/events?status=parked", event_ids).await;
    assert_pages(&pages, &parked, "parked");
    let html = ui.page(&jar, "/ui/events?status=parked").await;
    let older_parked = pager_link(&html, "next").unwrap();
    assert!(older_parked.starts_with("/ui/events?status=parked&before="));

    // htmx: the links swap the table like the filter does (plain links without JavaScript);
    // following one returns the fragment with its own pager.
    let h = older_parked.replace('&', "&#38;");
    assert!(html.contains(&format!(
        "rel=\"next\" href=\"{h}\" hx-get=\"{h}\" hx-target=\"#event-rows\" hx-push-url=\"true\""
    )));
    let r = ui
        .http
        .get(ui.url(&older))
        .header("cookie", jar.header())
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["vary"], "HX-Request");
    let frag = r.text().await.unwrap();
    assert!(
        !frag.contains("<html") && !frag.contains("<select"),
        "{frag}"
    );
    assert_eq!(event_ids(&frag), all[PAGE..2 * PAGE].to_vec());
    assert_eq!(pager_link(&frag, "first").as_deref(), Some("/ui/events"));
    assert!(frag.contains("rel=\"first\" href=\"/ui/events\" hx-get=\"/ui/events\" hx-target=\"#event-rows\" hx-push-url=\"true\""));

    // A malformed cursor shows the newest page (as an unknown status shows all statuses).
    let html = ui.page(&jar, "/ui/events?before=not-a-cursor").await;
    assert_eq!(event_ids(&html), all[..PAGE].to_vec());
    assert_eq!(pager_link(&html, "first"), None);

    // A Hospital Admin pages through their hospital only, also from a position taken from
    // another hospital's event.
    ui.user("rgh-admin", "hospital_admin", Some("RGH"), None, None)
        .await;
    let ha = ui.login("rgh-admin", PASSWORD).await;
    let own = newest_first(evs.iter().filter(|e| e.hospital == "RGH"));
    let pages = walk(&ui, &ha, "/ui/events", event_ids).await;
    assert_pages(&pages, &own, "Hospital Admin");
    let foreign = evs
        .iter()
        .filter(|e| e.hospital == "NPH" && e.at == at(6))
        .nth(4)
        .unwrap();
    let c = encode_cursor(&Cursor::new(&foreign.at, &foreign.id));
    let html = ui.page(&ha, &format!("/ui/events?before={c}")).await;
    let want: Vec<String> = own
        .iter()
        .filter(|id| {
            let e = evs.iter().find(|e| &e.id == *id).unwrap();
            (&e.at, &e.id) < (&foreign.at, &foreign.id)
        })
        .take(PAGE)
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(event_ids(&html), want);
    ui.stop().await;
}
both_backends!(events_are_paged);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journeys_are_paged_in_both_directions() {
    let ui = Ui::start(Kind::Sqlite).await;
    // 75 journeys: `Ui::journey` stamps them with the current time, so consecutive ones often
    // share a timestamp; make 40 of them share one exactly, across the page edge.
    for i in 0..75 {
        ui.journey(
            "RGH",
            "CARD",
            &format!("ENC-P{i:03}"),
            &["completed", "pending", "pending", "pending"],
        )
        .await;
    }
    sqlx::query("UPDATE journey_instances SET started_at = $1 WHERE encounter_id >= 'ENC-P020' AND encounter_id < 'ENC-P060'")
        .bind(at(0))
        .execute(&ui.db.writer)
        .await
        .unwrap();
    let order: Vec<(String, String, String)> =
        sqlx::query_as("SELECT encounter_id, started_at, id FROM journey_instances")
            .fetch_all(&ui.db.pool)
            .await
            .unwrap();
    let mut order = order;
    order.sort_by(|a, b| (&b.1, &b.2).cmp(&(&a.1, &a.2)));
    let want: Vec<String> = order.into_iter().map(|(e, _, _)| e).collect();
    let encounters = |html: &str| -> Vec<String> {
        html.split(">ENC-P")
            .skip(1)
            .map(|rest| format!("ENC-P{}", &rest[..3]))
            .collect()
    };

    ui.user("nurse", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let jar = ui.login("nurse", PASSWORD).await;
    let pages = walk(&ui, &jar, "/ui/journeys", encounters).await;
    assert_pages(&pages, &want, "journeys");

    // Arabic: right to left, and the arrows point along the reading direction ("Older" sits
    // at the left end and points left; "Newest" at the right end points right).
    let r = ui.get(&jar, "/ui/journeys?lang=ar").await;
    assert_eq!(r.status(), 200);
    let mut ar = jar.clone();
    ar.update(r.headers());
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(html.contains("aria-label=\"التنقل بين الصفحات\""));
    assert!(
        html.contains("الأقدم <span aria-hidden=\"true\">←</span>"),
        "{html}"
    );
    let older = pager_link(&html, "next").unwrap();
    assert!(older.starts_with("/ui/journeys?before="), "{older}");
    let html = ui.page(&ar, &older).await;
    assert!(html.contains("dir=\"rtl\""));
    assert!(
        html.contains("<span aria-hidden=\"true\">→</span> الأحدث"),
        "{html}"
    );
    assert_eq!(pager_link(&html, "first").as_deref(), Some("/ui/journeys"));
    assert_eq!(encounters(&html), want[PAGE..].to_vec());
    // The language switch keeps the position.
    assert!(html.contains(&format!(
        "href=\"{}&#38;lang=en\"",
        older.replace('&', "&#38;")
    )));

    // The Arabic events page has the same navigation.
    ui.event("RGH", "OP_CHECKIN", "ENC-AR", "RGH-CARD-0001")
        .await;
    let admin = ui.admin().await;
    let mut admin_ar = admin.clone();
    admin_ar.0.insert("px360_lang".into(), "ar".into());
    let html = ui.page(&admin_ar, "/ui/events").await;
    assert!(html.contains("dir=\"rtl\"") && html.contains("حدث واحد"));
    assert_eq!(pager_link(&html, "next"), None, "one event: no pager");
    ui.stop().await;
}
