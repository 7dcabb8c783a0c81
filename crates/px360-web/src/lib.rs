//! PX360 operator web UI: server-rendered pages for the PX and integration teams, in English and
//! Arabic (right-to-left).
//!
//! Everything reuses the API's security: its login, refresh and logout handlers issue and
//! revoke the tokens kept in the session cookies, its bearer-token extractor verifies them, and
//! every page and object goes through [`AppState::authorize`] (denials audited; out-of-scope
//! objects 404, too-low roles 403). Templates are askama (`templates/`), messages Fluent
//! (`locales/`), and Bootstrap and htmx are embedded in the binary (`assets/`).
//!
//! Serve the router with `into_make_service_with_connect_info::<SocketAddr>()`: the login rate
//! limit keys on the peer address, like the API's.

mod account;
mod action_board;
mod action_detail;
mod action_evidence;
mod analytics;
mod analytics_voice;
pub mod assets;
mod audit;
mod call_detail;
mod call_survey;
mod callback_queue;
mod calls;
mod case_form;
mod complaint_detail;
mod complaint_form;
mod complaint_forms;
mod complaint_list;
mod csrf;
mod dashboard;
pub mod error;
mod events;
mod feedback_form;
mod feedback_inbox;
mod forms;
pub mod i18n;
mod integrations;
mod journey_templates;
mod journeys;
mod login;
mod multipart;
mod org;
mod org_fields;
mod org_form;
mod org_kind;
mod org_names;
mod org_pages;
mod org_rows;
pub mod outbox;
pub mod page;
mod people;
mod qi_detail;
mod qi_pages;
pub mod session;
mod social_pages;
pub mod survey_editor;
pub mod survey_page;
mod voice_settings;
mod work;

use axum::Router;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Redirect;
use axum::routing::{get, post};
use px360_api::AppState;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;

/// The UI under `/ui/…`, plus `/` redirecting to it. Merge it next to `px360_api::router`.
pub fn router(st: AppState) -> Router {
    // Pages that need a signed-in user; `error::pages` runs inside the session layer so error
    // pages show the user's navigation.
    let pages = Router::new()
        .route("/ui/", get(dashboard::page))
        .route("/ui/events", get(events::list))
        .route("/ui/events/{id}", get(events::detail))
        .route("/ui/events/{id}/replay", post(events::replay))
        .route("/ui/journeys", get(journeys::list))
        .route("/ui/org", get(org::page))
        // Organisation and people administration (org_pages.rs, people.rs).
        .route("/ui/org/{kind}", get(org_pages::list))
        .route(
            "/ui/org/{kind}/new",
            get(org_pages::new_form).post(org_pages::create),
        )
        .route(
            "/ui/org/{kind}/{id}",
            get(org_pages::edit_form).post(org_pages::update),
        )
        .route(
            "/ui/org/{kind}/{id}/{op}",
            get(org_pages::confirm_op).post(org_pages::op),
        )
        .route("/ui/account", get(account::form))
        .route("/ui/account/name", post(account::save_name))
        .route("/ui/account/password", post(account::save_password))
        .route("/ui/account/weekly-report", post(account::save_weekly))
        // Administration: journey templates, integrations, audit log.
        .route(
            "/ui/templates",
            get(journey_templates::list).post(journey_templates::create),
        )
        .route("/ui/templates/{id}", get(journey_templates::detail))
        .route("/ui/templates/{id}/name", post(journey_templates::rename))
        .route(
            "/ui/templates/{id}/stages",
            post(journey_templates::add_stage),
        )
        .route(
            "/ui/templates/{id}/stages/{stage_id}",
            post(journey_templates::edit_stage),
        )
        .route(
            "/ui/templates/{id}/stages/{stage_id}/move",
            post(journey_templates::move_stage),
        )
        .route(
            "/ui/templates/{id}/stages/{stage_id}/remove",
            post(journey_templates::remove_stage),
        )
        .route("/ui/integrations", get(integrations::list))
        .route("/ui/integrations/keys", post(integrations::create_key))
        .route(
            "/ui/integrations/keys/{id}/revoke",
            get(integrations::confirm_revoke).post(integrations::revoke),
        )
        .route(
            "/ui/integrations/test-event",
            post(integrations::test_event),
        )
        .route("/ui/audit", get(audit::page))
        .route("/ui/outbox", get(outbox::page))
        .route("/ui/analytics", get(analytics::page))
        .route("/ui/analytics/summary", get(analytics::summary))
        .route("/ui/analytics/comments", get(analytics::comments))
        .route("/ui/analytics/export", get(analytics::download))
        .route("/ui/surveys", get(survey_editor::list))
        .route(
            "/ui/surveys/new",
            get(survey_editor::new_form).post(survey_editor::create),
        )
        .route(
            "/ui/surveys/{id}",
            get(survey_editor::edit).post(survey_editor::save),
        )
        .route("/ui/surveys/{id}/publish", post(survey_editor::publish))
        .route("/ui/surveys/{id}/archive", post(survey_editor::archive))
        .route(
            "/ui/surveys/{id}/preview/{lang}",
            get(survey_editor::preview),
        )
        // Complaints and the PX action board (complaint_list.rs, complaint_detail.rs,
        // action_board.rs, action_detail.rs).
        .route("/ui/complaints", get(complaint_list::list))
        .route(
            "/ui/complaints/new",
            get(complaint_list::new_form).post(complaint_list::create),
        )
        .route("/ui/complaints/{id}", get(complaint_detail::detail))
        .route(
            "/ui/complaints/{id}/command",
            post(complaint_forms::command),
        )
        .route("/ui/complaints/{id}/assign", post(complaint_forms::assign))
        .route("/ui/complaints/{id}/updates", post(complaint_forms::note))
        .route(
            "/ui/complaints/{id}/attachments",
            post(complaint_forms::upload),
        )
        .route("/ui/attachments/{id}", get(complaint_forms::download))
        .route("/ui/actions", get(action_board::board))
        .route(
            "/ui/actions/new",
            get(action_board::new_form).post(action_board::create),
        )
        .route("/ui/actions/{id}", get(action_detail::detail))
        .route("/ui/actions/{id}/command", post(action_detail::command))
        .route("/ui/actions/{id}/evidence", post(action_evidence::evidence))
        // Call centre (calls.rs, call_detail.rs, call_survey.rs, callback_queue.rs).
        .route("/ui/calls", get(calls::page).post(calls::create))
        .route("/ui/calls/{id}", get(call_detail::detail))
        .route("/ui/calls/{id}/complaint", post(call_detail::complaint))
        .route("/ui/calls/{id}/callback", post(call_detail::callback))
        .route("/ui/calls/{id}/feedback", post(call_detail::feedback))
        .route(
            "/ui/calls/{id}/survey",
            get(call_survey::page).post(call_survey::submit),
        )
        .route("/ui/callbacks", get(callback_queue::page))
        .route(
            "/ui/callbacks/{id}/cancel",
            post(callback_queue::cancel_one),
        )
        .route("/ui/analytics/call-centre", get(callback_queue::stats))
        // Quality-improvement projects (qi_pages.rs, qi_detail.rs).
        .route("/ui/qi", get(qi_pages::list_page))
        .route(
            "/ui/qi/new",
            get(qi_pages::new_form).post(qi_pages::create_post),
        )
        .route("/ui/qi/{id}", get(qi_detail::detail))
        .route(
            "/ui/qi/{id}/edit",
            get(qi_pages::edit_form).post(qi_pages::edit_post),
        )
        .route("/ui/qi/{id}/cycles", post(qi_detail::new_cycle))
        .route("/ui/qi/{id}/cycles/{cycle}", post(qi_detail::move_one))
        // Feedback, social media and the voice analytics (issue 18).
        .route("/ui/feedback-inbox", get(feedback_inbox::list))
        .route("/ui/feedback-inbox/{id}", get(feedback_inbox::detail))
        .route(
            "/ui/feedback-inbox/{id}/triage",
            post(feedback_inbox::post_triage),
        )
        .route("/ui/feedback-qr", get(feedback_inbox::qr_page))
        .route("/ui/feedback-qr/{hospital}", get(feedback_inbox::qr_image))
        .route("/ui/social", get(social_pages::list))
        .route("/ui/social/import", post(social_pages::import))
        .route(
            "/ui/social/settings",
            get(voice_settings::form).post(voice_settings::save),
        )
        .route("/ui/social/{id}", get(social_pages::detail))
        .route("/ui/social/{id}/convert", post(social_pages::convert))
        .route("/ui/social/{id}/assign", post(social_pages::assign))
        .route("/ui/analytics/voice", get(analytics_voice::page))
        .route_layer(from_fn(error::pages))
        .route_layer(from_fn_with_state(st.clone(), session::require));

    // The API's login limit (burst per client IP, then one attempt per period), on the form's
    // POST only: showing the form is free.
    let mut login = get(login::form).post(login::submit);
    if let Some(conf) = GovernorConfigBuilder::default()
        .key_extractor(px360_api::client_ip::ClientIpKey)
        .period(st.cfg.login_period)
        .burst_size(st.cfg.login_burst)
        .methods(vec![Method::POST])
        .finish()
    {
        login = login.layer(GovernorLayer::new(conf));
    }
    // The public complaint form: the same per-IP limit as sign-in on its POST.
    let mut complain = get(complaint_form::form).post(complaint_form::submit);
    if let Some(conf) = GovernorConfigBuilder::default()
        .key_extractor(px360_api::client_ip::ClientIpKey)
        .period(st.cfg.login_period)
        .burst_size(st.cfg.login_burst)
        .methods(vec![Method::POST])
        .finish()
    {
        complain = complain.layer(GovernorLayer::new(conf));
    }
    // The public feedback form of the QR codes: the same per-IP limit on its POST.
    let feedback_limit = || {
        GovernorConfigBuilder::default()
            .key_extractor(px360_api::client_ip::ClientIpKey)
            .period(st.cfg.login_period)
            .burst_size(st.cfg.login_burst)
            .methods(vec![Method::POST])
            .finish()
    };
    let mut feedback_h = get(feedback_form::form_hospital).post(feedback_form::submit_hospital);
    let mut feedback_d = get(feedback_form::form_department).post(feedback_form::submit_department);
    // One limiter (one per-IP budget) for both paths of the form.
    if let Some(conf) = feedback_limit() {
        let layer = GovernorLayer::new(conf);
        feedback_h = feedback_h.layer(layer.clone());
        feedback_d = feedback_d.layer(layer);
    }
    let public = Router::new()
        .route("/ui/feedback/{hospital}", feedback_h)
        .route("/ui/feedback/{hospital}/{department}", feedback_d)
        .route("/ui/feedback-thanks", get(feedback_form::thanks))
        .route("/ui/complaint", complain)
        .route("/ui/complaint/thanks", get(complaint_form::thanks))
        .route("/ui/login", login)
        .route("/ui/logout", post(login::logout))
        .route("/ui/{*rest}", get(error::not_found))
        .route_layer(from_fn(error::pages));

    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/assets/{*path}", get(assets::serve))
        .merge(pages)
        .merge(public)
        // The patient's survey link (public, rate-limited, its own error pages).
        .merge(survey_page::routes::routes())
        .layer(from_fn_with_state(st.clone(), csrf::protect))
        .layer(from_fn(page::context))
        .layer(from_fn(page::security_headers))
        // Outermost: the login limit and the audit read the resolved client address.
        .layer(from_fn_with_state(
            st.cfg.trusted_proxies.clone(),
            px360_api::client_ip::resolve,
        ))
        .with_state(st)
}
