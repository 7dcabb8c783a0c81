//! Analytics pages over real HTTP (SQLite and PostgreSQL) with generated responses: tiles,
//! drill-down links group → hospital → department → physicians → comments, the executive
//! summary, Arabic pages without stray English, Viewers without comments, role Physician
//! limited to their own ratings, downloads audited, bad filters answered with a notice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Kind, PASSWORD, Ui, links};
use latin::stray_latin;

pub async fn with_data(kind: Kind) -> Ui {
    Ui::with_responses(kind, 900, 1, 3).await
}

async fn pages(kind: Kind) {
    let ui = with_data(kind).await;
    let admin = ui.admin().await;
    let (rgh, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();

    // Group → hospitals.
    let html = ui.page(&admin, "/ui/analytics?granularity=quarter").await;
    assert!(
        html.contains("id=\"px-tiles\"") && html.contains("id=\"px-drill\""),
        "{html}"
    );
    assert!(html.contains("data-charts="));
    let l = links(&html);
    let to_hospital = l
        .iter()
        .find(|x| x.contains(&format!("hospital_id={rgh}")))
        .expect("hospital link")
        .clone();
    // Hospital → departments.
    let html = ui
        .page(
            &admin,
            &to_hospital.replace("&amp;", "&").replace("&#38;", "&"),
        )
        .await;
    let l = links(&html);
    let to_dept = l
        .iter()
        .find(|x| x.contains(&format!("department_id={card}")))
        .unwrap_or_else(|| panic!("department link: {l:?}"))
        .clone();
    // Department → physicians with ranks or "insufficient data", and their comments.
    let html = ui
        .page(&admin, &to_dept.replace("&amp;", "&").replace("&#38;", "&"))
        .await;
    assert!(html.contains("id=\"px-physicians\""), "{html}");
    let l = links(&html);
    let to_comments = l
        .iter()
        .find(|x| x.contains("/ui/analytics/comments") && x.contains("physician_id="))
        .expect("comments link")
        .clone();
    let html = ui
        .page(
            &admin,
            &to_comments.replace("&amp;", "&").replace("&#38;", "&"),
        )
        .await;
    assert!(
        html.contains("id=\"px-comments\"") || html.contains("analytics"),
        "{html}"
    );

    // Arabic: no stray English on any analytics page.
    for path in [
        "/ui/analytics?granularity=quarter&lang=ar".to_owned(),
        format!(
            "{}&lang=ar",
            to_hospital.replace("&amp;", "&").replace("&#38;", "&")
        ),
        format!(
            "{}&lang=ar",
            to_dept.replace("&amp;", "&").replace("&#38;", "&")
        ),
        "/ui/analytics/summary?granularity=quarter&lang=ar".to_owned(),
        "/ui/analytics/comments?granularity=quarter&lang=ar".to_owned(),
        "/ui/analytics?period=not-a-period&lang=ar".to_owned(),
    ] {
        let html = ui.page(&admin, &path).await;
        assert_eq!(stray_latin(&html), Vec::<String>::new(), "{path}");
    }

    // A bad filter is a notice, not an error page.
    let r = ui
        .get(&admin, "/ui/analytics?period=2026-13&hospital_id=x")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("alert-warning"));

    // The executive summary lists both demo hospitals.
    let html = ui
        .page(&admin, "/ui/analytics/summary?granularity=quarter")
        .await;
    assert!(html.matches("/ui/analytics?").count() >= 2, "{html}");

    // Downloads: the same tables as the API, audited.
    let r = ui
        .get(
            &admin,
            "/ui/analytics/export?granularity=quarter&table=kpis&format=csv",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("response_rate"));
    let r = ui
        .get(
            &admin,
            "/ui/analytics/export?granularity=quarter&table=items&format=xlsx&lang=ar",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..2], b"PK");
    assert_eq!(ui.audits("analytics.export", None).await, 2);

    // Viewer: tiles, no comments (link hidden, page 403).
    ui.user("viewer-a", "viewer", Some("RGH"), Some("CARD"), None)
        .await;
    let viewer = ui.login("viewer-a", PASSWORD).await;
    let html = ui.page(&viewer, "/ui/analytics").await;
    assert!(html.contains("id=\"px-tiles\"") && !html.contains("/ui/analytics/comments"));
    assert_eq!(
        ui.get(&viewer, "/ui/analytics/comments").await.status(),
        403
    );
    // Another hospital is hidden from a hospital-scoped viewer.
    let (nph, _) = ui.ids("NPH", None).await;
    assert_eq!(
        ui.get(&viewer, &format!("/ui/analytics?hospital_id={nph}"))
            .await
            .status(),
        404
    );

    // Role Physician: only their own row.
    let uid = ui
        .user("doc-a", "physician", Some("RGH"), Some("CARD"), None)
        .await;
    let phys: String = sqlx::query_scalar(
        "SELECT id FROM physicians WHERE department_id = $1 ORDER BY licence_number LIMIT 1",
    )
    .bind(&card)
    .fetch_one(&ui.db.pool)
    .await
    .unwrap();
    ui.db
        .link_physician_user(phys.parse().unwrap(), Some(uid.parse().unwrap()))
        .await
        .unwrap();
    let doc = ui.login("doc-a", PASSWORD).await;
    let html = ui.page(&doc, "/ui/analytics?granularity=quarter").await;
    assert_eq!(
        html.matches("<tr>").count(),
        2,
        "header and own row: {html}"
    );
    ui.stop().await;
}

mod analytics_pages {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::pages(super::Kind::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::pages(super::Kind::Postgres).await;
    }
}
