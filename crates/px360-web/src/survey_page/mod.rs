//! The patient's survey page (issue 15, item 4): a published survey version rendered as a plain
//! HTML form, mobile-first, in English or Arabic (right to left, scales in reading direction),
//! and the short pages around it (thank you, expired, already answered, unknown link).
//!
//! - [`form`]: a posted body → the domain's `Submission`; stored answers → form values;
//! - [`view`]: questions as data for the templates (`templates/survey/`);
//! - this module: the pages and the headers every patient-facing response carries.
//!
//! Patient pages stand alone (no operator navigation, no Bootstrap): one small stylesheet and
//! one optional script, both from this origin (`assets/survey/`), under a Content-Security-Policy
//! that allows nothing else.

pub mod form;
pub mod routes;
pub mod unsubscribe;
pub mod view;

use crate::assets;
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use form::Values;
use px360_domain::survey::content::SurveyContent;
use px360_domain::survey::response::FieldError;
use view::{QuestionView, SummaryItem};

pub const SURVEY_CSS: &str = "survey/survey.css";
pub const SURVEY_JS: &str = "survey/survey.js";

/// The `<head>` of every patient page.
pub struct Head {
    pub lang: &'static str,
    pub dir: &'static str,
    pub title: String,
    pub css: String,
    /// Empty: no script (message pages).
    pub js: String,
}

impl Head {
    fn new(lang: Lang, title: String, script: bool) -> Head {
        Head {
            lang: lang.code(),
            dir: lang.dir(),
            title,
            css: assets::url(SURVEY_CSS),
            js: if script {
                assets::url(SURVEY_JS)
            } else {
                String::new()
            },
        }
    }
}

/// The link to the same page in the other language.
pub struct Switch {
    pub href: String,
    pub label: String,
    pub lang: &'static str,
}

impl Switch {
    /// `path?lang=<other>`; the label is written in the other language (it is for a reader of
    /// that language), hence `lang=` on the link.
    pub fn to_other(path: &str, lang: Lang) -> Switch {
        let other = lang.other();
        Switch {
            href: format!("{path}?lang={}", other.code()),
            label: Tr(lang).get("lang-switch"),
            lang: other.code(),
        }
    }
}

#[derive(Template)]
#[template(path = "survey/page.html")]
struct SurveyPage {
    head: Head,
    t: Tr,
    switch: Option<Switch>,
    /// In the editor's preview: the editor's URL.
    preview: Option<String>,
    title: String,
    notice: Option<String>,
    summary: Vec<SummaryItem>,
    general: Option<String>,
    action: String,
    questions: Vec<QuestionView>,
}

/// How the page is shown.
pub enum Mode<'a> {
    /// To the patient: posts to `action`; the language switch links back to `path`.
    Live { action: &'a str },
    /// In the template editor: buttons disabled, a banner linking `back` to the editor, no
    /// language switch (the editor links both languages).
    Preview { back: &'a str },
}

/// The survey form. `notice`: a catalogue key shown above the form (answers saved).
pub fn survey_page(
    content: &SurveyContent,
    lang: Lang,
    mode: Mode<'_>,
    values: &Values,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Result<String, askama::Error> {
    let t = Tr(lang);
    let built = view::build(content, lang, values, errors);
    let title = content.title.get(view::survey_lang(lang)).to_owned();
    let (action, switch, preview) = match mode {
        Mode::Live { action } => (
            action.to_owned(),
            Some(Switch::to_other(action, lang)),
            None,
        ),
        Mode::Preview { back } => (String::new(), None, Some(back.to_owned())),
    };
    SurveyPage {
        head: Head::new(lang, title.clone(), true),
        t,
        switch,
        preview,
        title,
        notice: notice.map(|k| t.get(k)),
        summary: built.summary,
        general: built.general,
        action,
        questions: built.questions,
    }
    .render()
}

/// The pages that replace the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    Thanks,
    Expired,
    /// Answered already (or withdrawn): single use.
    Used,
    /// No such link (mistyped, or never issued).
    Unknown,
    /// Too many requests from this address.
    Busy,
    /// Something failed on our side; the answers were not lost if they had been saved.
    Failed,
    /// A posted form that cannot be read (too many fields, too large).
    Unreadable,
}

impl Message {
    fn name(self) -> &'static str {
        match self {
            Message::Thanks => "thanks",
            Message::Expired => "expired",
            Message::Used => "used",
            Message::Unknown => "unknown",
            Message::Busy => "busy",
            Message::Failed => "failed",
            Message::Unreadable => "unreadable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Message::Thanks | Message::Used => StatusCode::OK,
            Message::Expired => StatusCode::GONE,
            Message::Unknown => StatusCode::NOT_FOUND,
            Message::Busy => StatusCode::TOO_MANY_REQUESTS,
            Message::Failed => StatusCode::SERVICE_UNAVAILABLE,
            Message::Unreadable => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Template)]
#[template(path = "survey/message.html")]
struct MessagePage {
    head: Head,
    t: Tr,
    switch: Option<Switch>,
    kind: &'static str,
    heading: String,
    body: String,
}

pub fn message_page(msg: Message, lang: Lang, path: Option<&str>) -> Result<String, askama::Error> {
    let t = Tr(lang);
    let heading = t.get(&format!("survey-{}-title", msg.name()));
    MessagePage {
        head: Head::new(lang, heading.clone(), false),
        t,
        switch: path.map(|p| Switch::to_other(p, lang)),
        kind: msg.name(),
        heading,
        body: t.get(&format!("survey-{}-body", msg.name())),
    }
    .render()
}

/// Headers of every patient-facing response: nothing but this origin's stylesheet and script,
/// no framing, no referrer (the URL carries the token), never cached, never indexed.
pub fn patient_headers(h: &mut HeaderMap) {
    let set: [(HeaderName, &'static str); 6] = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (HeaderName::from_static("x-robots-tag"), "noindex, nofollow"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// A patient page as a response with [`patient_headers`]. A template failure (a bug, never
/// input) becomes the localised "something went wrong" page, and if even that fails, a bare
/// status: never an error dump.
pub fn respond(status: StatusCode, html: Result<String, askama::Error>, lang: Lang) -> Response {
    let mut r = match html {
        Ok(h) => (status, Html(h)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "survey.page_render_failed");
            match message_page(Message::Failed, lang, None) {
                Ok(h) => (Message::Failed.status(), Html(h)).into_response(),
                Err(_) => Message::Failed.status().into_response(),
            }
        }
    };
    patient_headers(r.headers_mut());
    r
}

/// A message page as a response.
pub fn message(msg: Message, lang: Lang, path: Option<&str>) -> Response {
    respond(msg.status(), message_page(msg, lang, path), lang)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use px360_domain::survey::condition::{ShowIf, Test};
    use px360_domain::survey::key::Key;
    use px360_domain::survey::negative::NegativeRule;
    use px360_domain::survey::publish::PublishedSurvey;
    use px360_domain::survey::question::{
        Bilingual, ChoiceOption, Question, QuestionKind, Subject,
    };
    use px360_domain::survey::response::ErrorCode;

    fn k(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn q(key: &str, kind: QuestionKind, required: bool, show_if: Option<ShowIf>) -> Question {
        Question {
            key: k(key),
            text: Bilingual::new(format!("Question {key}?"), format!("سؤال {key}؟")),
            kind,
            required,
            subject: Subject::None,
            show_if,
        }
    }

    fn opts(keys: &[&str]) -> Vec<ChoiceOption> {
        keys.iter()
            .map(|o| ChoiceOption {
                key: k(o),
                label: Bilingual::new(format!("Option {o}"), format!("خيار {o}")),
            })
            .collect()
    }

    /// Every question type, two conditions.
    pub fn published() -> PublishedSurvey {
        let content = SurveyContent::new(
            Bilingual::new("Your visit", "زيارتك"),
            vec![
                q("nps", QuestionKind::Nps, true, None),
                q(
                    "why",
                    QuestionKind::MultipleChoice {
                        options: opts(&["wait", "noise", "staff"]),
                    },
                    true,
                    Some(ShowIf {
                        key: k("nps"),
                        test: Test::AtMost(6),
                    }),
                ),
                q("rating", QuestionKind::Rating, true, None),
                q("er", QuestionKind::YesNo, false, None),
                q(
                    "er_wait",
                    QuestionKind::SingleChoice {
                        options: opts(&["under_1h", "1h_4h", "over_4h"]),
                    },
                    true,
                    Some(ShowIf {
                        key: k("er"),
                        test: Test::Equals("yes".into()),
                    }),
                ),
                q("doctor_listened", QuestionKind::Frequency, true, None),
                q(
                    "comment",
                    QuestionKind::FreeText { max_length: 500 },
                    false,
                    None,
                ),
            ],
            NegativeRule::default(),
        );
        PublishedSurvey::publish(uuid::Uuid::nil(), None, 1, content).unwrap()
    }

    #[test]
    fn the_form_names_inputs_after_keys_and_works_without_script() {
        let s = published();
        let html = survey_page(
            s.content(),
            Lang::Ar,
            Mode::Live { action: "/s/abc" },
            &Values::new(),
            &[],
            None,
        )
        .unwrap();
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
        assert!(html.contains(r#"<form method="post" action="/s/abc""#));
        for key in [
            "nps",
            "why",
            "rating",
            "er",
            "er_wait",
            "doctor_listened",
            "comment",
        ] {
            assert!(html.contains(&format!(r#"name="{key}""#)), "{key}");
        }
        assert!(html.contains(r#"type="checkbox" id="q-why-wait" name="why" value="wait""#));
        assert!(html.contains(r#"<label for="q-nps-10">١٠</label>"#));
        assert!(
            html.contains(r#"data-show-key="nps" data-show-test="at_most" data-show-values="6""#)
        );
        assert!(html.contains(r#"href="/s/abc?lang=en""#));
        assert!(!html.contains("style="), "no inline styles (CSP)");
        assert!(!html.contains("<script>"), "no inline scripts (CSP)");
    }

    #[test]
    fn errors_are_shown_next_to_the_question_in_the_page_language() {
        let s = published();
        let errors = [FieldError {
            key: "rating".into(),
            code: ErrorCode::Required,
        }];
        let html = survey_page(
            s.content(),
            Lang::Ar,
            Mode::Preview {
                back: "/ui/surveys/x",
            },
            &Values::new(),
            &errors,
            None,
        )
        .unwrap();
        assert!(html.contains(r#"aria-describedby="q-rating-anchors q-rating-error""#));
        assert!(html.contains(r#"id="q-rating-error""#));
        assert!(html.contains(&Tr(Lang::Ar).get("survey-answer-required")));
        assert!(html.contains("disabled"), "preview cannot submit");
    }

    #[test]
    fn message_pages_exist_in_both_languages() {
        for m in [
            Message::Thanks,
            Message::Expired,
            Message::Used,
            Message::Unknown,
            Message::Busy,
            Message::Failed,
            Message::Unreadable,
        ] {
            for lang in [Lang::En, Lang::Ar] {
                let html = message_page(m, lang, Some("/s/x")).unwrap();
                let t = Tr(lang);
                let title = t.get(&format!("survey-{}-title", m.name()));
                assert_ne!(
                    title,
                    format!("survey-{}-title", m.name()),
                    "catalogue has it"
                );
                assert!(html.contains(&title));
            }
        }
    }
}
