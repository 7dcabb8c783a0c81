//! The Arabic-page checker: every text a user sees on an Arabic page comes from the message
//! catalogue, so any Latin letter outside data is an untranslated string.
//!
//! Data (names, codes, technical text) is marked in the templates by the convention of
//! `templates/macros.html`: an element with class `px-data` (its whole subtree is data). Text
//! declared to be in another language (`lang="en"` on the language switch) is exempt too, and
//! so is the product name.

use scraper::{ElementRef, Html, Node};

/// The product name: a brand, written the same in both languages.
const BRAND: &str = "PX360";

/// Attributes whose values a user sees or hears.
const VISIBLE_ATTRS: [&str; 4] = ["title", "placeholder", "aria-label", "alt"];

fn has_latin(s: &str) -> bool {
    s.replace(BRAND, "").chars().any(|c| {
        c.is_ascii_alphabetic() || (('\u{00C0}'..='\u{024F}').contains(&c) && c.is_alphabetic())
    })
}

fn exempt(el: &ElementRef) -> bool {
    let v = el.value();
    v.classes().any(|c| c == "px-data")
        || v.attr("lang")
            .is_some_and(|l| !l.to_ascii_lowercase().starts_with("ar"))
        || matches!(v.name(), "script" | "style" | "template")
}

/// Where a node sits: `html > body > main > p`.
fn path(el: &ElementRef) -> String {
    let mut names: Vec<String> = el
        .ancestors()
        .filter_map(ElementRef::wrap)
        .map(|e| e.value().name().to_owned())
        .collect();
    names.reverse();
    names.push(el.value().name().to_owned());
    names.join(" > ")
}

fn walk(el: ElementRef, out: &mut Vec<String>) {
    if exempt(&el) {
        return;
    }
    let v = el.value();
    let button = v.name() == "button"
        || (v.name() == "input" && matches!(v.attr("type"), Some("submit" | "button" | "reset")));
    for name in VISIBLE_ATTRS
        .iter()
        .chain(if button { &["value"][..] } else { &[][..] })
    {
        if let Some(val) = v.attr(name)
            && has_latin(val)
        {
            out.push(format!("{} [{name}]: {val:?}", path(&el)));
        }
    }
    for child in el.children() {
        match child.value() {
            Node::Text(t) if has_latin(t) => {
                out.push(format!("{}: {:?}", path(&el), t.trim()));
            }
            Node::Element(_) => {
                if let Some(c) = ElementRef::wrap(child) {
                    walk(c, out);
                }
            }
            _ => {}
        }
    }
}

/// Every visible text or attribute with Latin letters outside data, with where it is.
pub fn stray_latin(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut out = Vec::new();
    walk(doc.root_element(), &mut out);
    out
}

/// `stray_latin` on a page fragment (an htmx response).
pub fn stray_latin_fragment(html: &str) -> Vec<String> {
    let doc = Html::parse_fragment(html);
    let mut out = Vec::new();
    walk(doc.root_element(), &mut out);
    out
}
