//! `GET/POST /s/{token}/unsubscribe`: the unsubscribe link every message carries.
//!
//! - GET asks for confirmation, in the invitation's language (a `?lang=` choice overrides it),
//!   naming the channel the message came by; nothing changes on a GET (mail scanners and link
//!   previews follow links);
//! - POST (a plain form: no JavaScript needed) records the opt-out through
//!   `Db::survey_unsubscribe` (audited, pending messages on that channel cancelled) and confirms;
//! - an unknown token: the "survey not found" page. An expired or answered link still
//!   unsubscribes: stopping messages must always be possible.
//!
//! Public like the survey page: rate-limited per address, same-origin checked on POST (the
//! router's CSRF layer), never logged with its token.

use super::{Head, Message, Switch, message, respond};
use crate::i18n::{Lang, Tr};
use crate::page::Req;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use px360_api::AppState;
use px360_store::surveys::{Channel, Language, TokenError};

#[derive(Template)]
#[template(path = "survey/unsubscribe.html")]
struct UnsubscribePage {
    head: Head,
    t: Tr,
    switch: Option<Switch>,
    heading: String,
    body: String,
    /// Where the confirmation form posts; `None` once done.
    action: Option<String>,
    kind: &'static str,
}

fn path_of(token: &str) -> String {
    format!("/s/{token}/unsubscribe")
}

fn lang_of(l: Language) -> Lang {
    match l {
        Language::En => Lang::En,
        Language::Ar => Lang::Ar,
    }
}

/// The channel as the patient calls it, in their language.
fn channel_name(t: &Tr, c: Option<Channel>) -> String {
    t.get(match c {
        Some(Channel::Email) => "survey-channel-email",
        Some(Channel::Sms) => "survey-channel-sms",
        Some(Channel::Whatsapp) => "survey-channel-whatsapp",
        None => "survey-channel-any",
    })
}

fn page(lang: Lang, path: &str, channel: Option<Channel>, done: bool) -> Response {
    let t = Tr(lang);
    let name = channel_name(&t, channel);
    let (heading, body, action, kind) = if done {
        (
            t.get("survey-unsubscribed-title"),
            t.with("survey-unsubscribed-body", &[("name", name.into())]),
            None,
            "unsubscribed",
        )
    } else {
        (
            t.get("survey-unsubscribe-title"),
            t.with("survey-unsubscribe-body", &[("name", name.into())]),
            Some(path.to_owned()),
            "unsubscribe",
        )
    };
    let html = UnsubscribePage {
        head: Head::new(lang, heading.clone(), false),
        t,
        switch: Some(Switch::to_other(path, lang)),
        heading,
        body,
        action,
        kind,
    }
    .render();
    respond(StatusCode::OK, html, lang)
}

pub async fn confirm(State(st): State<AppState>, Path(token): Path<String>, req: Req) -> Response {
    let path = path_of(&token);
    if token.len() > 128 {
        return message(Message::Unknown, req.lang, None);
    }
    match st.db.survey_link_channel(&token).await {
        Ok(Some((l, channel))) => {
            let lang = if req.lang_asked { req.lang } else { lang_of(l) };
            page(lang, &path, channel, false)
        }
        Ok(None) => message(Message::Unknown, req.lang, Some(&path)),
        Err(e) => {
            tracing::error!(error = %e, "survey.unsubscribe_store_error");
            message(Message::Failed, req.lang, None)
        }
    }
}

pub async fn unsubscribe(
    State(st): State<AppState>,
    Path(token): Path<String>,
    req: Req,
) -> Response {
    let path = path_of(&token);
    if token.len() > 128 {
        return message(Message::Unknown, req.lang, None);
    }
    let lang = match st.db.survey_link_channel(&token).await {
        Ok(Some((l, _))) if !req.lang_asked => lang_of(l),
        _ => req.lang,
    };
    match st.db.survey_unsubscribe(&token).await {
        Ok(channel) => page(lang, &path, Some(channel), true),
        Err(TokenError::Store(e)) => {
            tracing::error!(error = %e, "survey.unsubscribe_store_error");
            message(Message::Failed, lang, None)
        }
        Err(_) => message(Message::Unknown, lang, Some(&path)),
    }
}
