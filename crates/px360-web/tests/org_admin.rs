//! Organisation and people administration over HTTP (`/ui/org/<kind>`): each form's validation
//! errors next to their fields, the dependents rule on delete, RBAC (out of scope 404, too-low
//! role a localised 403), CSRF refusals, the grant rule for accounts, and an administrator's
//! password reset forcing a change at next sign-in (UI and API).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/latin.rs"]
#[allow(dead_code)]
mod latin;

use common::{Jar, Kind, PASSWORD, Ui};
use latin::stray_latin;

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn count(ui: &Ui, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(&ui.db.pool)
        .await
        .unwrap()
}

async fn departments_forms(kind: Kind) {
    let ui = Ui::start(kind).await;
    let jar = ui.admin().await;
    let (rgh, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();

    // The hub links to every page a PX Admin may open.
    let hub = ui.page(&jar, "/ui/org").await;
    for k in [
        "hospitals",
        "departments",
        "physicians",
        "employees",
        "patients",
        "users",
    ] {
        assert!(hub.contains(&format!("href=\"/ui/org/{k}\"")), "{k}");
    }

    // Blank fields: 422, each error next to its field.
    let r = ui
        .post(
            &jar,
            "/ui/org/departments/new",
            &[("hospital_id", &rgh), ("code", " "), ("name", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"code-error\"") && html.contains("id=\"name-error\""));
    assert!(html.contains("This field is required"), "{html}");
    // The same in Arabic, with no English outside data.
    let r = ui
        .post(
            &jar,
            "/ui/org/departments/new?lang=ar",
            &[("hospital_id", &rgh), ("code", ""), ("name", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let ar = r.text().await.unwrap();
    assert!(ar.contains("هذا الحقل مطلوب"), "{ar}");
    assert_eq!(stray_latin(&ar), Vec::<String>::new());

    // Created: back to the list, audited as the API audits it, found by search.
    let before = ui.audits("create", None).await;
    let r = ui
        .post(
            &jar,
            "/ui/org/departments/new",
            &[("hospital_id", &rgh), ("code", "ONC"), ("name", "Oncology")],
        )
        .await;
    assert_eq!(r.status(), 303);
    // The list then offers the next steps of the setup, for the new department.
    let created = location(&r);
    assert!(
        created.starts_with(&format!(
            "/ui/org/departments?done=created&hospital_id={rgh}&department_id="
        )),
        "{created}"
    );
    let list = ui.page(&jar, &created).await;
    assert!(
        list.contains("id=\"next-steps\"")
            && list.contains("/ui/org/physicians/new?department_id=")
    );
    assert_eq!(ui.audits("create", None).await, before + 1);
    let list = ui.page(&jar, "/ui/org/departments?q=oncol").await;
    assert!(
        list.contains("Oncology") && !list.contains("Cardiology"),
        "search"
    );
    // A taken code: 409, named at the field.
    let r = ui
        .post(
            &jar,
            "/ui/org/departments/new",
            &[("hospital_id", &rgh), ("code", "ONC"), ("name", "Again")],
        )
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"code-error\"") && html.contains("already used"));

    // Edit.
    let onc = count(
        &ui,
        "SELECT COUNT(*) FROM departments WHERE code = $1",
        "ONC",
    )
    .await;
    assert_eq!(onc, 1);
    let (_, onc) = ui.ids("RGH", Some("ONC")).await;
    let onc = onc.unwrap();
    let r = ui
        .post(
            &jar,
            &format!("/ui/org/departments/{onc}"),
            &[("name", "Clinical Oncology")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        ui.page(&jar, "/ui/org/departments?done=saved")
            .await
            .contains("Clinical Oncology")
    );

    // Deleting a department with physicians, employees and patients: 409 naming them.
    let r = ui
        .post(&jar, &format!("/ui/org/departments/{card}/delete"), &[])
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("physician(s)") && html.contains("patient(s)"),
        "{html}"
    );
    let r = ui
        .post(
            &jar,
            &format!("/ui/org/departments/{card}/delete?lang=ar"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 409);
    let ar = r.text().await.unwrap();
    assert!(ar.contains("لا يمكن الحذف"), "{ar}");
    assert_eq!(stray_latin(&ar), Vec::<String>::new());
    // The edit page's Delete leads to a confirmation page (GET: nothing changes yet), whose
    // form posts the delete; in Arabic without English outside data.
    let confirm = ui
        .page(&jar, &format!("/ui/org/departments/{onc}/delete?lang=ar"))
        .await;
    assert!(confirm.contains(&format!("action=\"/ui/org/departments/{onc}/delete\"")));
    assert_eq!(stray_latin(&confirm), Vec::<String>::new());
    let edit = ui.page(&jar, &format!("/ui/org/departments/{onc}")).await;
    assert!(edit.contains(&format!("href=\"/ui/org/departments/{onc}/delete\"")));
    // An empty one is deleted (soft), audited as `delete`.
    let r = ui
        .post(&jar, &format!("/ui/org/departments/{onc}/delete"), &[])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("delete", Some(&onc)).await, 1);
    assert_eq!(
        count(
            &ui,
            "SELECT COUNT(*) FROM departments WHERE id = $1 AND deleted_at IS NOT NULL",
            &onc
        )
        .await,
        1
    );

    // CSRF: a cross-site POST is refused and changes nothing.
    let r = ui
        .http
        .post(ui.url("/ui/org/departments/new"))
        .header("cookie", jar.header())
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("hospital_id", rgh.as_str()),
            ("code", "EVIL"),
            ("name", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        count(
            &ui,
            "SELECT COUNT(*) FROM departments WHERE code = $1",
            "EVIL"
        )
        .await,
        0
    );
    ui.stop().await;
}
both_backends!(departments_forms);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn physicians_employees_patients_forms() {
    let ui = Ui::start(Kind::Sqlite).await;
    let jar = ui.admin().await;
    let (_, card) = ui.ids("RGH", Some("CARD")).await;
    let card = card.unwrap();

    for (kind, form_fields) in [
        (
            "physicians",
            vec!["licence_number", "given_name", "family_name"],
        ),
        (
            "employees",
            vec!["employee_number", "given_name", "family_name"],
        ),
    ] {
        let html = ui.page(&jar, &format!("/ui/org/{kind}/new")).await;
        assert!(html.contains("name=\"department_id\""), "{kind}");
        let r = ui
            .post(
                &jar,
                &format!("/ui/org/{kind}/new"),
                &[("department_id", &card)],
            )
            .await;
        assert_eq!(r.status(), 422, "{kind}");
        let html = r.text().await.unwrap();
        for f in form_fields {
            assert!(html.contains(&format!("id=\"{f}-error\"")), "{kind} {f}");
        }
    }
    let r = ui
        .post(
            &jar,
            "/ui/org/physicians/new",
            &[
                ("department_id", &card),
                ("licence_number", "GMC999"),
                ("given_name", "Sara"),
                ("family_name", "Haddad"),
                ("specialty", "Cardiology"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        ui.page(&jar, "/ui/org/physicians?q=gmc999")
            .await
            .contains("Haddad")
    );

    // Patients: the API's checks (date, language, channels) at their fields.
    let r = ui
        .post(
            &jar,
            "/ui/org/patients/new",
            &[
                ("department_id", &card),
                ("mrn", "RGH-NEW-1"),
                ("date_of_birth", "31/01/1990"),
                ("preferred_language", "english!"),
                ("contact_channels", "pigeon"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    for f in ["date_of_birth", "preferred_language", "contact_channels"] {
        assert!(html.contains(&format!("id=\"{f}-error\"")), "{f}: {html}");
    }
    let r = ui
        .post(
            &jar,
            "/ui/org/patients/new",
            &[
                ("department_id", &card),
                ("mrn", "RGH-NEW-1"),
                ("given_name", "Layla"),
                ("date_of_birth", "1990-01-31"),
                ("preferred_language", "ar"),
                ("contact_channels", "sms"),
                ("contact_channels", "whatsapp"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let stored: String =
        sqlx::query_scalar("SELECT contact_channels FROM patients WHERE mrn = 'RGH-NEW-1'")
            .fetch_one(&ui.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, r#"["sms","whatsapp"]"#);
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_on_the_admin_pages() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (_, card) = ui.ids("RGH", Some("CARD")).await;
    let (_, nph_card) = ui.ids("NPH", Some("CARD")).await;
    let (card, nph_card) = (card.unwrap(), nph_card.unwrap());
    ui.user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    ui.user("hadmin", "hospital_admin", Some("RGH"), None, None)
        .await;
    let nurse = ui.login("nurse1", PASSWORD).await;
    let hadmin = ui.login("hadmin", PASSWORD).await;

    // Out of scope: 404, whatever the role.
    for jar in [&nurse, &hadmin] {
        let r = ui
            .get(jar, &format!("/ui/org/departments/{nph_card}"))
            .await;
        assert_eq!(r.status(), 404);
    }
    // In scope, role too low: a localised 403.
    let r = ui
        .get(&nurse, &format!("/ui/org/departments/{card}?lang=ar"))
        .await;
    assert_eq!(r.status(), 403);
    let ar = r.text().await.unwrap();
    assert_eq!(stray_latin(&ar), Vec::<String>::new());
    let r = ui
        .post(&nurse, &format!("/ui/org/departments/{card}/delete"), &[])
        .await;
    assert_eq!(r.status(), 403);
    // Hospitals are administered by PX Admins only.
    assert_eq!(ui.get(&hadmin, "/ui/org/hospitals").await.status(), 403);
    let r = ui
        .post(
            &hadmin,
            "/ui/org/hospitals/new",
            &[("code", "X"), ("name", "X")],
        )
        .await;
    assert_eq!(r.status(), 403);
    // A Hospital Admin manages departments of their own hospital only.
    let list = ui.page(&hadmin, "/ui/org/departments").await;
    assert!(!list.contains("Northfield"), "other hospital listed");
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_grant_only_what_the_admin_holds() {
    let ui = Ui::start(Kind::Sqlite).await;
    let (rgh, card) = ui.ids("RGH", Some("CARD")).await;
    let (nph, _) = ui.ids("NPH", None).await;
    let card = card.unwrap();
    ui.user("hadmin", "hospital_admin", Some("RGH"), None, None)
        .await;
    let hadmin = ui.login("hadmin", PASSWORD).await;

    // Only lower roles and the own hospital are offered.
    let form = ui.page(&hadmin, "/ui/org/users/new").await;
    assert!(form.contains("value=\"nurse\"") && form.contains("value=\"department_manager\""));
    assert!(!form.contains("value=\"px_admin\"") && !form.contains("value=\"hospital_admin\""));
    assert!(form.contains(&rgh) && !form.contains(&nph));

    let base = [
        ("username", "newnurse"),
        ("display_name", "New Nurse"),
        ("password", "a-long-enough-password"),
        ("hospital_id", rgh.as_str()),
        ("department_id", card.as_str()),
    ];
    // A role above the grant (a forged form): 403, nothing created.
    let mut forged = base.to_vec();
    forged.retain(|(k, _)| *k != "department_id");
    forged.push(("role", "hospital_admin"));
    let r = ui.post(&hadmin, "/ui/org/users/new", &forged).await;
    assert_eq!(r.status(), 403);
    // Another hospital (forged): refused too.
    let mut forged = base.to_vec();
    forged.retain(|(k, _)| *k != "hospital_id" && *k != "department_id");
    forged.push(("role", "px_coordinator"));
    forged.push(("hospital_id", nph.as_str()));
    let r = ui.post(&hadmin, "/ui/org/users/new", &forged).await;
    assert!(matches!(r.status().as_u16(), 403 | 404), "{}", r.status());
    // A short password: the field error.
    let mut short = base.to_vec();
    short.retain(|(k, _)| *k != "password");
    short.push(("password", "short"));
    short.push(("role", "nurse"));
    let r = ui.post(&hadmin, "/ui/org/users/new", &short).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"password-error\""));
    // Valid: created with the role and scope chosen.
    let mut ok = base.to_vec();
    ok.push(("role", "nurse"));
    let r = ui.post(&hadmin, "/ui/org/users/new", &ok).await;
    assert_eq!(r.status(), 303);
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'newnurse'")
        .fetch_one(&ui.db.pool)
        .await
        .unwrap();
    assert_eq!(role, "nurse");
    // A taken username: 409 at the field.
    let r = ui.post(&hadmin, "/ui/org/users/new", &ok).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("id=\"username-error\""));
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_forces_a_change() {
    let ui = Ui::start(Kind::Sqlite).await;
    let id = ui
        .user("nurse1", "nurse", Some("RGH"), Some("CARD"), None)
        .await;
    let admin = ui.admin().await;

    // Deactivate, then activate again.
    let r = ui
        .post(&admin, &format!("/ui/org/users/{id}/deactivate"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let r = ui
        .post(
            &Jar::default(),
            "/ui/login",
            &[
                ("username", "nurse1"),
                ("password", PASSWORD),
                ("next", "/ui/"),
            ],
        )
        .await;
    assert_ne!(r.status(), 303, "a deactivated account signs in");
    let r = ui
        .post(&admin, &format!("/ui/org/users/{id}/activate"), &[])
        .await;
    assert_eq!(r.status(), 303);

    // A too-short temporary password is refused at its field.
    let r = ui
        .post(
            &admin,
            &format!("/ui/org/users/{id}/reset-password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"password-error\""));
    let temp = "temporary-password-1";
    let r = ui
        .post(
            &admin,
            &format!("/ui/org/users/{id}/reset-password"),
            &[("password", temp)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(ui.audits("update", Some(&id)).await, 3);

    // Signed in with the temporary password: every page leads to the account page.
    let jar = ui.login("nurse1", temp).await;
    let r = ui.get(&jar, "/ui/journeys").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/ui/account?must=1");
    let html = ui.page(&jar, "/ui/account?must=1&lang=ar").await;
    assert!(html.contains("id=\"must-change\""));
    assert_eq!(stray_latin(&html), Vec::<String>::new());

    // The API refuses everything but the account's own endpoints, with a clear problem.
    let token: serde_json::Value = ui
        .http
        .post(ui.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "nurse1", "password": temp}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let r = ui
        .http
        .get(ui.url("/api/patients"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .ends_with("password-change-required"),
        "{p}"
    );
    let r = ui
        .http
        .get(ui.url("/api/me"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Changing it through the account page ends the restriction.
    let mut jar = jar;
    let r = ui
        .post(
            &jar,
            "/ui/account/password",
            &[
                ("current_password", temp),
                ("new_password", "my-own-new-password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    jar.update(r.headers());
    assert_eq!(ui.get(&jar, "/ui/journeys").await.status(), 200);
    ui.stop().await;
}
