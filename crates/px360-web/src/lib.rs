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
pub mod assets;
mod complaint_form;
mod csrf;
mod dashboard;
pub mod error;
mod events;
pub mod i18n;
mod journeys;
mod login;
mod org;
pub mod page;
pub mod session;

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
        .route("/ui/account", get(account::form))
        .route("/ui/account/name", post(account::save_name))
        .route("/ui/account/password", post(account::save_password))
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
    let public = Router::new()
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
