//! o2c's pages: the back office under `/app` (one menu per role, the work queues, documents with
//! their event-log timeline) and the customer portal under `/portal`. Server-rendered with
//! askama; htmx (vendored, served from `/static`) swaps a queue row in place after an action.
//! `o2c serve` mounts [`router`] next to the API (`o2c_http::serve_on_with`).

pub mod admin;
pub mod collections;
pub mod dashboard;
pub mod disputes;
pub mod documents;
pub mod error;
pub mod portal;
pub mod queues;
pub mod search;
pub mod service;
pub mod session;
pub mod sign_in;
pub mod view;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use o2c_app::App;

/// What every handler gets.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// `O2C_PUBLIC_URL`: where browsers reach o2c (invitation links, checkout); also decides
    /// whether cookies are marked `Secure` (an `https://` address).
    pub public_url: Option<String>,
}

impl WebState {
    pub fn new(app: App) -> WebState {
        let public_url = std::env::var("O2C_PUBLIC_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(|u| u.trim().trim_end_matches('/').to_string());
        WebState { app, public_url }
    }
}

pub const HTMX_PATH: &str = "/static/htmx-2.0.11.min.js";

pub fn router(app: App) -> Router {
    let state = WebState::new(app);
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route(HTMX_PATH, get(htmx))
        .route("/static/o2c.css", get(css))
        // Staff
        .route(
            "/app/sign-in",
            get(sign_in::staff_form).post(sign_in::staff_submit),
        )
        .route("/app/sign-out", post(sign_in::sign_out))
        .route("/app", get(dashboard::page))
        .route("/app/search", get(search::page))
        .route("/app/credit-holds", get(queues::credit_holds))
        .route(
            "/app/credit-holds/{order_id}/{decision}",
            post(queues::credit_decide),
        )
        .route("/app/intake-exceptions", get(queues::intake_exceptions))
        .route(
            "/app/intake-exceptions/{id}/replay",
            post(queues::intake_replay),
        )
        .route("/app/cash-exceptions", get(queues::cash_exceptions))
        .route(
            "/app/cash-exceptions/{id}/accept",
            post(queues::cash_accept),
        )
        .route(
            "/app/cash-exceptions/{id}/not-ours",
            post(queues::cash_not_ours),
        )
        .route("/app/disputes", get(disputes::page))
        .route("/app/disputes/{id}/{action}", post(disputes::decide))
        .route("/app/collections", get(collections::page))
        .route(
            "/app/collections/{customer_id}/promise",
            post(collections::promise),
        )
        .route("/app/orders/{id}", get(documents::order))
        .route("/app/customers/{id}", get(documents::customer))
        .route("/app/customers/{id}/invite", post(documents::invite))
        .route("/app/invoices/{id}", get(documents::invoice))
        .route("/app/payments/{id}", get(documents::payment))
        .route("/app/cases", get(service::cases))
        .route("/app/cases/{id}/answer", post(service::answer_case))
        .route("/app/users", get(admin::users).post(admin::create_user))
        .route("/app/users/{id}", post(admin::change_user))
        .route("/app/api-keys", get(admin::keys).post(admin::create_key))
        // Customers
        .route(
            "/portal/sign-in",
            get(sign_in::portal_form).post(sign_in::portal_request_link),
        )
        .route(
            "/portal/link/{token}",
            get(sign_in::portal_link).post(sign_in::portal_link_use),
        )
        .route("/portal/sign-out", post(sign_in::sign_out))
        .route("/portal", get(portal::home))
        .route("/portal/orders/{id}", get(portal::order))
        .route("/portal/invoices/{id}", get(portal::invoice))
        .route("/portal/invoices/{id}/pdf", get(portal::invoice_pdf))
        .route("/portal/invoices/{id}/ubl", get(portal::invoice_ubl))
        .route("/portal/invoices/{id}/pay", post(portal::pay))
        .route("/portal/invoices/{id}/dispute", post(portal::dispute))
        .route("/portal/contact", get(portal::contact))
        .route("/portal/statement", get(portal::statement))
        .route("/portal/help", get(service::help).post(service::ask))
        .route("/portal/orders/{id}/rating", post(service::rate))
        .route("/app/{*rest}", get(error::not_found_page))
        .route("/portal/{*rest}", get(error::not_found_page))
        .with_state(state)
}

async fn htmx() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        include_str!("../static/htmx-2.0.11.min.js"),
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/o2c.css"),
    )
}
