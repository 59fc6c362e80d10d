//! The o2c HTTP interface: the REST API under `/api/v1`, RFC 9457 problem details for errors.
//! `serve` also runs the engine, so one process automates the whole cycle.

pub mod bench_intake;
pub mod extract;
pub mod problem;
pub mod routes;
pub mod state;

use axum::Router;
use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use o2c_app::App;
use problem::Problem;
use routes::*;
pub use state::ApiState;
use std::net::SocketAddr;

pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/customers", post(customer::create).get(customer::list))
        .route("/customers/{id}", get(customer::get))
        .route("/customers/{id}/account", get(customer::account))
        .route(
            "/warehouses",
            post(inventory::create_warehouse).get(inventory::list_warehouses),
        )
        .route("/products", post(inventory::create_product))
        .route("/products/{sku}", get(inventory::get_product))
        .route("/stock-receipts", post(inventory::receive_stock))
        .route("/stock-receipts/csv", post(inventory::receive_stock_file))
        .route("/stock-adjustments", post(inventory::adjust_stock))
        .route("/stock", get(inventory::stock_levels))
        .route("/stock-movements", get(inventory::stock_movements))
        .route("/orders", post(order::place).get(order::list))
        .route("/orders/{id}", get(order::get))
        .route("/orders/{id}/events", get(order::events))
        .route("/orders/{id}/cancel", post(order::cancel))
        .route("/orders/{id}/credit-release", post(credit::release))
        .route("/orders/{id}/credit-reject", post(credit::reject))
        .route("/orders/{id}/amend", post(order::amend))
        .route("/orders/{id}/reopen", post(order::reopen))
        .route("/orders/{id}/copy", post(order::copy))
        .route("/orders/{id}/credit-decisions", get(credit::decisions))
        .route("/credit/holds", get(credit::holds))
        .route("/credit/holds/{id}", get(credit::hold))
        .route(
            "/credit/policy",
            get(credit::get_policy).put(credit::set_policy),
        )
        .route(
            "/customers/{id}/credit",
            get(credit::get_profile).put(credit::set_profile),
        )
        .route("/credit/groups", post(credit::create_group))
        .route("/credit/groups/{id}", get(credit::get_group))
        .route("/credit-applications", post(credit::apply))
        .route("/credit/applications", get(credit::applications))
        .route("/credit/applications/{id}", get(credit::get_application))
        .route(
            "/credit/applications/{id}/approve",
            post(credit::approve_application),
        )
        .route(
            "/credit/applications/{id}/reject",
            post(credit::reject_application),
        )
        .route("/shipments", get(shipment::list))
        .route("/shipments/{id}", get(shipment::get))
        .route("/shipments/{id}/dispatch", post(fulfilment::dispatch))
        .route("/shipments/{id}/packages", post(fulfilment::pack))
        .route("/shipments/{id}/delivered", post(fulfilment::delivered))
        .route("/shipments/{id}/rates", get(shipping::rates))
        .route("/pick-lists", post(fulfilment::create_pick_list))
        .route("/pick-lists/{id}", get(fulfilment::get_pick_list))
        .route("/outbound-documents", get(fulfilment::list_outbound))
        .route("/outbound-documents/{id}", get(fulfilment::get_outbound))
        .route(
            "/outbound-documents/{id}/content",
            get(fulfilment::outbound_content),
        )
        .route(
            "/carriers",
            post(shipping::create_carrier).get(shipping::list_carriers),
        )
        .route("/carriers/{code}/webhooks", post(shipping::carrier_webhook))
        .route("/invoices", get(invoice::list))
        .route("/invoices/{id}", get(billing::get_invoice))
        .route(
            "/invoices/{id}/credit-notes",
            post(billing::issue_credit_note).get(billing::credit_notes),
        )
        .route("/invoices/{id}/deliveries", get(billing::deliveries))
        .route("/billing/runs", post(billing::billing_run))
        .route(
            "/company",
            get(billing::get_company).put(billing::set_company),
        )
        .route(
            "/customers/{id}/billing",
            get(billing::get_billing_profile).put(billing::set_billing_profile),
        )
        .route("/customers/{id}/prices", put(billing::set_customer_price))
        .route("/price-lists", post(billing::create_price_list))
        .route("/price-lists/{id}", get(billing::get_price_list))
        .route(
            "/tax-rates",
            get(billing::list_tax_rates).put(billing::set_tax_rate),
        )
        .route("/payments", post(payment::record))
        .route("/payments/{id}", get(payment::get))
        .route("/payments/{id}/applications", post(payment::apply))
        .route("/ledger/trial-balance", get(ledger::trial_balance))
        .route(
            "/bank-statements",
            // Statement files are large (a day of a busy account is tens of megabytes).
            post(cash::import_statement)
                .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)),
        )
        .route("/bank-lines", get(cash::list_lines))
        .route("/bank-lines/{id}", get(cash::get_line))
        .route("/bank-lines/{id}/accept", post(cash::accept))
        .route("/bank-lines/{id}/split", post(cash::split))
        .route("/bank-lines/{id}/not-ours", post(cash::not_ours))
        .route("/cash/runs", post(cash::run_matching))
        .route("/remittances", post(cash::import_remittance))
        .route(
            "/customers/{id}/notifications",
            get(cash::customer_notifications),
        )
        .route("/cash/policy", get(cash::get_policy).put(cash::set_policy))
        .route("/cash/csv-mapping", put(cash::set_csv_mapping))
        .route(
            "/fx-rates",
            get(ledger::list_fx_rates).put(ledger::set_fx_rates),
        )
        // Payment capture: methods, hosted checkout and webhooks, SEPA, returns, refunds.
        .route(
            "/customers/{id}/payment-methods",
            get(psp::get_methods).put(psp::set_methods),
        )
        .route("/invoices/{id}/checkout", post(psp::checkout))
        .route("/checkout-sessions/{id}", get(psp::get_session))
        .route("/psp/webhooks/{provider}", post(psp::webhook))
        .route("/psp/{provider}/payouts", post(psp::record_payout))
        .route("/psp/payouts", get(psp::list_payouts))
        .route("/psp/payouts/{id}", get(psp::get_payout))
        .route(
            "/sepa/collections",
            post(psp::collect).get(psp::collections),
        )
        .route("/sepa/collections/{id}", get(psp::collection))
        .route("/payments/{id}/return", post(psp::return_payment))
        .route("/customers/{id}/refunds", post(psp::refund))
        .route("/refunds/{id}", get(psp::get_refund))
        // Order intake: CSV files and EDI interchanges, their exceptions queue, cross-references.
        .route(
            "/intake/csv",
            post(intake::receive_csv).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/intake/edi",
            post(intake::receive_edi).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/intake/email",
            post(intake::receive_email)
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/intake/documents", get(intake::list_documents))
        .route("/intake/documents/{id}", get(intake::get_document))
        .route(
            "/intake/documents/{id}/ack",
            get(intake::get_acknowledgment),
        )
        .route("/intake/documents/{id}/replay", post(intake::replay))
        .route("/intake/documents/{id}/reject", post(intake::dismiss))
        .route("/intake/exceptions", get(intake::list_exceptions))
        .route(
            "/intake/policy",
            get(intake::get_policy).put(intake::set_policy),
        )
        .route(
            "/customers/{id}/partners",
            get(intake::get_partners).put(intake::set_partners),
        )
        .route(
            "/customers/{id}/items",
            get(intake::get_items).put(intake::set_items),
        )
        .route("/api-keys", post(admin::create_key).get(admin::list_keys))
        .route("/engine/failures", get(admin::engine_failures))
        // Outgoing webhooks: endpoints, deliveries, the dead-letter list and replay.
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/{id}", axum::routing::delete(webhooks::remove))
        .route("/webhooks/deliveries", get(webhooks::deliveries))
        .route("/webhooks/deliveries/{id}/replay", post(webhooks::replay))
        .merge(receivable_routes());
    Router::new()
        .nest("/api/v1", api)
        .route("/health", get(|| async { "ok" }))
        // The built-in test provider's hosted page (public, like a PSP's).
        .route(
            "/psp/local/checkout/{session}",
            get(psp::local_page).post(psp::local_decide),
        )
        .route("/problems/{code}", get(describe_problem))
        .fallback(|| async {
            Problem::new(
                "route-not-found",
                "no such route; the API lives under /api/v1",
            )
        })
        .with_state(ApiState::new(app))
}

/// Receivables: aging, disputes, promises, notes, dunning, write-offs, worklist, key figures.
fn receivable_routes() -> Router<ApiState> {
    use routes::receivable as r;
    Router::new()
        .route("/reports/aging", get(r::aging_report))
        .route("/reports/disputes", get(r::dispute_report))
        .route("/disputes", post(r::raise_dispute).get(r::list_disputes))
        .route("/disputes/{id}", get(r::get_dispute))
        .route("/disputes/{id}/review", post(r::review_dispute))
        .route("/disputes/{id}/resolve", post(r::resolve_dispute))
        .route("/promises", post(r::make_promise).get(r::list_promises))
        .route("/promises/check", post(r::check_promises))
        .route(
            "/customers/{id}/notes",
            post(r::add_note).get(r::list_notes),
        )
        .route("/collections/tasks", get(r::list_tasks))
        .route("/collections/tasks/{id}/done", post(r::complete_task))
        .merge(collection_routes())
}

fn collection_routes() -> Router<ApiState> {
    use routes::receivable_collect as r;
    Router::new()
        .route("/dunning/profiles", get(r::list_profiles))
        .route("/dunning/profiles/{name}", put(r::set_profile))
        .route(
            "/customers/{id}/dunning",
            get(r::get_customer_dunning).put(r::set_customer_dunning),
        )
        .route("/dunning/runs", post(r::dunning_run))
        .route(
            "/dunning/notices",
            post(r::dun_invoices).get(r::list_notices),
        )
        .route("/dunning/notices/{id}", get(r::get_notice))
        .route("/dunning/notices/{id}/letter.pdf", get(r::notice_pdf))
        .route("/dunning/notices/{id}/waive", post(r::waive_notice))
        .route("/invoices/{id}/write-off", post(r::write_off))
        .route("/write-offs", get(r::list_write_offs))
        .route("/write-offs/{id}/recover", post(r::recover))
        .route("/reports/kpis", get(r::kpi_report))
        .route("/collections/worklist", get(r::worklist))
        .route("/customers/{id}/statement", get(r::get_statement))
        .route("/customers/{id}/statement.pdf", get(r::statement_pdf))
        .route("/customers/{id}/statement/send", post(r::send_statement))
}

async fn describe_problem(Path(code): Path<String>) -> impl IntoResponse {
    match problem::lookup(&code) {
        Some((status, title)) => format!("{code}: {title} (HTTP {status})\n").into_response(),
        None => Problem::new("not-found", format!("no problem type `{code}`")).into_response(),
    }
}

/// Binds `addr` and serves the API, with the engine running beside it, until Ctrl-C.
pub async fn serve(app: App, addr: SocketAddr) -> anyhow::Result<()> {
    serve_with(app, addr, Router::new()).await
}

/// As [`serve`], with more routes beside the API (the web pages: `o2c_web::router`).
pub async fn serve_with(app: App, addr: SocketAddr, pages: Router) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %listener.local_addr()?, "o2c listening");
    serve_on_with(app, listener, pages, shutdown_signal()).await
}

pub async fn serve_on(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_on_with(app, listener, Router::new(), shutdown).await
}

/// Serves the API and `pages` on `listener`; handlers see the peer address (`ConnectInfo`),
/// which sign-in throttling counts by.
pub async fn serve_on_with(
    app: App,
    listener: tokio::net::TcpListener,
    pages: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = tokio::spawn(app.clone().run_engine());
    let routes = router(app).merge(pages);
    let result = axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    engine.abort();
    Ok(result?)
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
