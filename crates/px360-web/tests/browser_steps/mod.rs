//! What the browser tests of the administration pages do step by step (`browser_setup`,
//! `browser_acceptance`): choose an option, read a value, open the navigation bar's
//! Administration menu, submit a form, wait (with a screenshot when waiting fails), sign in.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::Ui;
use browser_test::Browser;

/// Choose an option of a select by its value, as a keyboard or mouse would (WebDriver has no
/// "select" command; the harness types and clicks only).
pub async fn choose(b: &Browser, select: &str, value: &str) {
    let ok = b
        .eval(&format!(
            "const s = document.querySelector({}); s.value = {}; \
             s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value === {};",
            js(select),
            js(value),
            js(value)
        ))
        .await
        .unwrap();
    assert_eq!(ok.as_bool(), Some(true), "{select} = {value}");
}

pub fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The value of a form control.
pub async fn value(b: &Browser, css: &str) -> String {
    b.eval(&format!(
        "return document.querySelector({}).value;",
        js(css)
    ))
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Open the "Administration" menu of the navigation bar (a `<details>`) and follow one of its
/// links.
pub async fn admin_menu(b: &Browser, href: &str) {
    if !b
        .eval(&format!(
            "return document.querySelector(\"nav .px-menu details:has(a[href='{href}'])\").open;"
        ))
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
    {
        b.click(&format!(
            "nav .px-menu details:has(a[href='{href}']) > summary"
        ))
        .await
        .unwrap();
    }
    b.click(&format!("nav .px-menu a[href='{href}']"))
        .await
        .unwrap();
    b.wait_until(&format!("return location.pathname === '{href}';"))
        .await
        .unwrap();
}

pub async fn submit(b: &Browser, form: &str) {
    b.click(&format!("{form} button[type=submit]"))
        .await
        .unwrap();
}

pub async fn wait(b: &Browser, script: &str) {
    if let Err(e) = b.wait_until(script).await {
        let at = b.current_url().await.unwrap_or_default();
        let _ = b.screenshot("failed").await;
        panic!("{e} (at {at})");
    }
}

pub async fn sign_in(b: &Browser, ui: &Ui, lang: &str, user: &str, password: &str) {
    b.goto(&ui.url(&format!("/ui/login?lang={lang}")))
        .await
        .unwrap();
    b.type_into("#username", user).await.unwrap();
    b.type_into("#password", password).await.unwrap();
    submit(b, "form[action='/ui/login']").await;
    wait(b, "return location.pathname !== '/ui/login';").await;
}
