//! The local outbox (`/ui/outbox`): the messages the embedded default "delivered" instead of
//! sending them anywhere, newest first: when, channel, the masked recipient, the patient's
//! language, the message text with its links clickable. With it the quick start shows the whole
//! chain: post the demo journey's events, open the message here, follow its survey link, answer.
//!
//! Who may see it: as the API's `/api/survey-local-outbox`, PX Coordinator and above with a
//! hospital (their hospital's messages) or group scope (all). Each message carries a live survey
//! link, and whoever holds the link can answer as the patient, so department-scoped and lower
//! roles are refused (403) and every reading is audited. Recipients are stored masked (the full
//! address is never copied into the outbox), so nobody reads a full address here.

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::page::{Chrome, Nav, Req, Stamp, render, stamp};
use crate::session::Session;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use px360_api::auth::Ctx;
use px360_api::error::ApiError;
use px360_api::{AppState, own_scope};
use px360_domain::rbac::{Action, Principal, Resource, Role};
use px360_store::surveys::{Channel, Language};
use px360_store::ts;

/// Newest messages shown.
pub const SHOWN: i64 = 100;

/// The roles and scopes that may read the local outbox (see the module comment).
pub fn may_read(p: &Principal) -> bool {
    p.role().level() >= Role::PxCoordinator.level()
        && p.scope().department_id().is_none()
        && p.may(Resource::SurveyInvitation, Action::Read, &own_scope(p))
}

/// A piece of a message's text: plain, or a link.
pub struct Piece {
    pub text: String,
    pub href: Option<String>,
}

/// Splits `text` into plain runs and `http(s)://` links (a link ends at whitespace).
pub fn linkify(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let at = [rest.find("https://"), rest.find("http://")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = at else {
            if !rest.is_empty() {
                out.push(Piece {
                    text: rest.to_owned(),
                    href: None,
                });
            }
            return out;
        };
        if at > 0 {
            out.push(Piece {
                text: rest[..at].to_owned(),
                href: None,
            });
        }
        let link = &rest[at..];
        let end = link.find(char::is_whitespace).unwrap_or(link.len());
        out.push(Piece {
            text: link[..end].to_owned(),
            href: Some(link[..end].to_owned()),
        });
        rest = &link[end..];
    }
}

pub struct OutboxRow {
    pub at: Stamp,
    pub channel: String,
    pub recipient: String,
    pub language: String,
    /// `en` / `ar`: the message's own language, for `lang` and `dir`.
    pub lang: &'static str,
    pub dir: &'static str,
    pub hospital: Label,
    pub subject: Option<String>,
    pub body: Vec<Piece>,
    pub link: String,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    t: Tr,
    rows: Vec<OutboxRow>,
    /// "The newest 100 messages."
    newest: String,
}

fn channel_key(c: Channel) -> &'static str {
    match c {
        Channel::Email => "orgadm-channel-email",
        Channel::Sms => "orgadm-channel-sms",
        Channel::Whatsapp => "orgadm-channel-whatsapp",
    }
}

pub async fn page(
    State(st): State<AppState>,
    req: Req,
    s: Session,
    ctx: Ctx,
) -> Result<Response, UiError> {
    let p = &s.principal;
    st.authorize(
        p,
        &ctx,
        Resource::SurveyInvitation,
        Action::Read,
        own_scope(p),
        None,
    )
    .await?;
    if !may_read(p) {
        return Err(ApiError::Forbidden.into());
    }
    let hospital = p.scope().hospital_id();
    // The read is audited first: the page hands out live survey links.
    st.audit(AppState::entry(
        p,
        &ctx,
        "survey.local_outbox.read",
        "survey_local_outbox",
        "local_outbox",
        hospital.map(|h| h.to_string()).as_deref(),
        serde_json::json!({ "limit": SHOWN }),
    ))
    .await?;
    let messages = st.db.survey_local_outbox(hospital, SHOWN).await?;
    let (names, zones) = if messages.is_empty() {
        Default::default()
    } else {
        (st.db.org_names().await?, st.db.hospital_zones().await?)
    };
    let t = req.t();
    let rows = messages
        .into_iter()
        .map(|m| {
            let h = m.hospital_id.to_string();
            let zone = zones.get(&h).map_or("UTC", String::as_str);
            let (lang, dir) = match m.language {
                Language::En => ("en", "ltr"),
                Language::Ar => ("ar", "rtl"),
            };
            OutboxRow {
                at: stamp(&t, &ts(m.created_at), zone),
                channel: t.get(channel_key(m.channel)),
                recipient: m.recipient,
                language: t.get(&format!("orgadm-lang-{lang}")),
                lang,
                dir,
                hospital: Label::data(names.get(&h).map_or("", String::as_str)),
                subject: m.subject,
                body: linkify(&m.body),
                link: m.link,
            }
        })
        .collect();
    render(&OutboxPage {
        chrome: Chrome::new(&req, Some(&s), Nav::Outbox, "outbox-title"),
        newest: t.with("outbox-newest", &[("count", SHOWN.into())]),
        t,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_a_message_become_anchors() {
        let p = linkify(
            "Hello.\nhttps://px.example/s/ab12\n\nStop: https://px.example/s/ab12/unsubscribe\n",
        );
        let links: Vec<&str> = p.iter().filter_map(|p| p.href.as_deref()).collect();
        assert_eq!(
            links,
            [
                "https://px.example/s/ab12",
                "https://px.example/s/ab12/unsubscribe"
            ]
        );
        let all: String = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            all,
            "Hello.\nhttps://px.example/s/ab12\n\nStop: https://px.example/s/ab12/unsubscribe\n"
        );
        assert!(linkify("no link").iter().all(|p| p.href.is_none()));
        assert!(linkify("").is_empty());
    }
}
