//! Languages (English, Arabic) and the Fluent message lookup used by every template.
//!
//! The language comes from `?lang=` (remembered in a cookie), then the cookie, then
//! `Accept-Language`, then English. Messages live in `locales/<lang>/main.ftl`, compiled into the
//! binary by `fluent-templates`.

use axum::http::HeaderMap;
use axum::http::header;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use unic_langid::{LanguageIdentifier, langid};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        // Must name an existing locale folder (shared/STACK.md, gotcha 12).
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they are numbers, which read correctly
        // in either direction, and the marks would end up inside attribute values.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static AR: LanguageIdentifier = langid!("ar");

/// Name of the cookie remembering the chosen language.
pub const LANG_COOKIE: &str = "px360_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ar,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }

    /// Text direction for `<html dir=…>`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ar => "rtl",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ar,
            Lang::Ar => Lang::En,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Ar => &AR,
        }
    }

    /// The first supported language of an `Accept-Language` header, honouring its order of
    /// preference (q-values are ignored: browsers list languages in preference order).
    pub fn from_accept_language(h: &HeaderMap) -> Option<Lang> {
        h.get(header::ACCEPT_LANGUAGE)?
            .to_str()
            .ok()?
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| Lang::parse(tag.split('-').next().unwrap_or("")))
    }
}

/// Text for a page: a catalogue message in the page's language, or stored data shown as it is
/// (`data`: templates wrap it in `<bdi class="px-data">`, the data-marking convention).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub text: String,
    pub data: bool,
}

impl Label {
    pub fn data(text: &str) -> Label {
        Label {
            text: text.to_owned(),
            data: true,
        }
    }
}

/// Message lookup for one language; templates call `t.get("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The message for `key`; the key itself when it is missing (a test keeps both files
    /// complete, so this only shows during development).
    pub fn get(&self, key: &str) -> String {
        LOCALES
            .try_lookup(self.0.id(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The message for `key`, or `fallback` (stored data such as a template name) when the
    /// catalogue has no entry.
    pub fn get_or(&self, key: &str, fallback: &str) -> String {
        LOCALES
            .try_lookup(self.0.id(), key)
            .unwrap_or_else(|| fallback.to_owned())
    }

    /// The message for `key`, or the stored `fallback` (a template name, an old row's English
    /// text) marked as data, so the page shows it isolated as data rather than as a message.
    pub fn label(&self, key: &str, fallback: &str) -> Label {
        match LOCALES.try_lookup(self.0.id(), key) {
            Some(text) => Label { text, data: false },
            None => Label::data(fallback),
        }
    }

    /// A stored name the catalogue translates while it is the seeded one (the demo's journey
    /// templates and stages, `template-<code>` / `stage-<code>`): the catalogue's text when the
    /// stored name is still the catalogue's English text, otherwise the stored name as data, so
    /// a name an administrator chose shows as chosen even when its code is a seeded one's.
    pub fn named(&self, key: &str, stored: &str) -> Label {
        match LOCALES.try_lookup(Lang::En.id(), key) {
            Some(en) if en == stored => self.label(key, stored),
            _ => Label::data(stored),
        }
    }

    /// A time zone's name in this language (`tz-Asia-Riyadh`); zones the catalogue does not
    /// name show their IANA name as data.
    pub fn zone(&self, iana: &str) -> Label {
        self.label(&format!("tz-{}", iana.replace('/', "-")), iana)
    }

    /// A message whose arguments are stored values (codes, licences): the text split into
    /// catalogue parts and data parts, so that templates mark the values as data. `None` when
    /// the catalogue has no such message.
    pub fn with_data(&self, key: &str, args: &[(&'static str, String)]) -> Option<Vec<Label>> {
        // Each value goes in as a private-use marker and is put back as a data part.
        let marked: Vec<(&'static str, FluentValue<'static>)> = args
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (*k, FluentValue::from(format!("\u{E000}{i}\u{E001}"))))
            .collect();
        let map: HashMap<Cow<'static, str>, FluentValue> = marked
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        let text = LOCALES.try_lookup_with_args(self.0.id(), key, &map)?;
        let mut parts = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find('\u{E000}') {
            let after = &rest[start + '\u{E000}'.len_utf8()..];
            let Some(end) = after.find('\u{E001}') else {
                break;
            };
            if start > 0 {
                parts.push(Label {
                    text: rest[..start].to_owned(),
                    data: false,
                });
            }
            let value = after[..end]
                .parse::<usize>()
                .ok()
                .and_then(|i| args.get(i))
                .map_or("", |(_, v)| v.as_str());
            parts.push(Label::data(value));
            rest = &after[end + '\u{E001}'.len_utf8()..];
        }
        if !rest.is_empty() {
            parts.push(Label {
                text: rest.to_owned(),
                data: false,
            });
        }
        Some(parts)
    }

    /// A message with one numeric argument (plural rules apply, e.g. Arabic's six categories).
    pub fn count(&self, key: &str, name: &'static str, n: i64) -> String {
        self.with(key, &[(name, FluentValue::from(n))])
    }

    pub fn with(&self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES
            .try_lookup_with_args(self.0.id(), key, &map)
            .unwrap_or_else(|| key.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(src: &str) -> BTreeSet<String> {
        let all: Vec<String> = src
            .lines()
            .filter(|l| {
                !l.starts_with('#') && !l.starts_with(' ') && !l.starts_with('}') && l.contains('=')
            })
            .map(|l| l.split('=').next().unwrap().trim().to_owned())
            .collect();
        let set: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(set.len(), all.len(), "a key is defined twice");
        set
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let en = keys(include_str!("../locales/en/main.ftl"));
        let ar = keys(include_str!("../locales/ar/main.ftl"));
        assert!(en.len() > 50, "parsed {} keys", en.len());
        let missing_ar: Vec<_> = en.difference(&ar).collect();
        let missing_en: Vec<_> = ar.difference(&en).collect();
        assert!(missing_ar.is_empty(), "missing in ar: {missing_ar:?}");
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
    }

    #[test]
    fn arabic_messages_are_translated() {
        let en = keys(include_str!("../locales/en/main.ftl"));
        // Codes and names that are the same in both languages.
        let same = ["app-name", "event-none"];
        let args = [
            ("count", FluentValue::from(3)),
            ("done", FluentValue::from(1)),
            ("total", FluentValue::from(4)),
            ("name", FluentValue::from("x")),
            ("code", FluentValue::from("CARD")),
            ("licence", FluentValue::from("GMC1")),
            ("event_code", FluentValue::from("OP_SEEN")),
            ("list", FluentValue::from("2")),
            ("draft", FluentValue::from(2)),
            ("published", FluentValue::from(1)),
            // Complaint and action pages.
            ("from", FluentValue::from("a")),
            ("to", FluentValue::from("b")),
            ("h", FluentValue::from(2)),
            ("m", FluentValue::from(5)),
            ("span", FluentValue::from("2")),
            ("channel", FluentValue::from("c")),
            ("kb", FluentValue::from(200)),
            ("reference", FluentValue::from("C1")),
            ("position", FluentValue::from(1)),
            ("stage", FluentValue::from("x")),
            ("template", FluentValue::from("y")),
            // Analytics (sample size, trend); missing from the list before issue 18.
            ("n", FluentValue::from(30)),
            ("delta", FluentValue::from(2)),
            // Social media import report.
            ("created", FluentValue::from(1)),
            ("duplicates", FluentValue::from(2)),
            ("located", FluentValue::from(3)),
            ("row", FluentValue::from(4)),
            // A negative survey response's reasons on its action.
            ("question", FluentValue::from("q1")),
            ("value", FluentValue::from("6")),
        ];
        for k in en.iter().filter(|k| !same.contains(&k.as_str())) {
            let (e, a) = (Tr(Lang::En).with(k, &args), Tr(Lang::Ar).with(k, &args));
            assert_ne!(e, *k, "{k} has no English message");
            assert_ne!(e, a, "{k} is not translated");
            assert!(
                a.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) || k == "lang-switch",
                "{k} has no Arabic text: {a}"
            );
        }
    }

    #[test]
    fn arabic_plurals() {
        let t = Tr(Lang::Ar);
        assert!(t.count("events-count", "count", 2).contains("حدثان"));
        assert!(t.count("events-count", "count", 1).contains("حدث واحد"));
        assert!(t.count("events-count", "count", 5).contains("أحداث"));
        assert_eq!(
            Tr(Lang::En).count("events-count", "count", 1),
            "One event shown"
        );
    }

    #[test]
    fn message_arguments_come_back_as_data() {
        let parts = Tr(Lang::Ar)
            .with_data(
                "warning-detail-unknown_physician",
                &[("licence", "GMC121".into())],
            )
            .unwrap();
        let data: Vec<_> = parts.iter().filter(|p| p.data).collect();
        assert_eq!(data, [&Label::data("GMC121")]);
        assert!(
            parts
                .iter()
                .filter(|p| !p.data)
                .all(|p| !p.text.contains("GMC"))
        );
        assert!(parts.len() >= 2, "{parts:?}");
        assert_eq!(Tr(Lang::En).with_data("no-such-key", &[]), None);
    }

    #[test]
    fn accept_language_order() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR, ar-SA;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::from_accept_language(&h), Some(Lang::Ar));
        h.insert(header::ACCEPT_LANGUAGE, "de".parse().unwrap());
        assert_eq!(Lang::from_accept_language(&h), None);
    }
}
