//! `/portal`: a customer's users see their own account only. Every query is filtered by the
//! session's customer id; a document of another customer answers 404 like a missing one.

use crate::WebState;
use crate::documents::{
    InvoiceRow, InvoiceView, OrderView, invoice_rows, invoice_view, order_view,
};
use crate::error::{WebError, WebResult};
use crate::session::{Customer, Post};
use crate::sign_in::public_base;
use crate::view::{Layout, money, render, when};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::{billing, customer, params, psp, service};
use o2c_core::document::InvoiceDocument;
use serde::Deserialize;

pub struct OrderRow {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub total: String,
    pub received: String,
    pub shipping: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct Home {
    layout: Layout,
    name: String,
    open: String,
    overdue: String,
    credit: String,
    orders: Vec<OrderRow>,
    invoices: Vec<InvoiceRow>,
    unrated: Vec<String>,
}

/// Where an order's goods are, as a customer asks it.
fn shipping_state(status: &str, planned: i64, dispatched: i64) -> String {
    match (status, planned, dispatched) {
        ("cancelled", _, _) => "cancelled".into(),
        ("credit_hold", _, _) | ("received", _, _) => "being checked".into(),
        ("rejected", _, _) => "not accepted".into(),
        (_, 0, 0) => "being prepared".into(),
        (_, 0, d) => format!("dispatched ({d} shipment{})", if d == 1 { "" } else { "s" }),
        (_, p, 0) => format!(
            "being packed ({p} shipment{})",
            if p == 1 { "" } else { "s" }
        ),
        (_, p, d) => format!("{d} dispatched, {p} being packed"),
    }
}

pub async fn home(State(s): State<WebState>, who: Customer) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let cid = who.customer_id.clone();
    let (cust, overdue, orders, invoices, unrated) = s
        .app
        .read(move |c| {
            let cust = customer::get(c, &cid)?;
            let overdue = c
                .query_one(
                    "SELECT CAST(COALESCE(SUM(open_minor), 0) AS BIGINT) FROM invoices WHERE customer_id = $1 AND open_minor > 0 AND due_on < $2",
                    params![cid.as_str(), today.as_str()],
                )?
                .int(0);
            let orders = c
                .query(
                    "SELECT o.id, o.customer_reference, o.status, o.gross_minor, o.currency, o.received_at,
                            (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id AND s.status = 'planned'),
                            (SELECT COUNT(*) FROM shipments s WHERE s.order_id = o.id AND s.status = 'dispatched')
                     FROM orders o WHERE o.customer_id = $1 ORDER BY o.received_at DESC LIMIT 50",
                    params![cid.as_str()],
                )?
                .iter()
                .map(|r| OrderRow {
                    id: r.text(0),
                    reference: r.opt_text(1).unwrap_or_default(),
                    shipping: shipping_state(&r.text(2), r.int(6), r.int(7)),
                    status: r.text(2).replace('_', " "),
                    total: money(r.int(3), &r.text(4)),
                    received: when(&r.text(5)),
                })
                .collect::<Vec<_>>();
            let invoices = invoice_rows(c, "customer_id = $1", &cid, &today)?;
            let unrated = service::unrated_deliveries(c, &cid)?;
            Ok((cust, overdue, orders, invoices, unrated))
        })
        .await?;
    render(&Home {
        layout: Layout::portal(&who, "My account", "/portal"),
        name: cust.name,
        open: cust.open_receivables.to_string(),
        overdue: money(overdue, cust.currency.code()),
        credit: cust.unapplied_cash.to_string(),
        orders,
        invoices,
        unrated,
    })
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    v: OrderView,
    base: &'static str,
    /// The survey: dispatched and not rated yet.
    can_rate: bool,
    rated: bool,
}

#[derive(Deserialize, Default)]
pub struct RatedQuery {
    #[serde(default)]
    rated: Option<String>,
}

pub async fn order(
    State(s): State<WebState>,
    who: Customer,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<RatedQuery>,
) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let cid = who.customer_id.clone();
    let (v, unrated) = s
        .app
        .read(move |c| {
            let v = order_view(c, &id, Some(&cid), &today)?;
            Ok((v, service::unrated_deliveries(c, &cid)?))
        })
        .await?;
    render(&OrderPage {
        layout: Layout::portal(&who, format!("Order {}", v.order.id), ""),
        can_rate: unrated.contains(&v.order.id),
        rated: q.rated.is_some(),
        v,
        base: "/portal",
    })
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    layout: Layout,
    v: InvoiceView,
    base: &'static str,
    can_pay: bool,
    disputed: bool,
}

#[derive(Deserialize, Default)]
pub struct InvoiceQuery {
    #[serde(default)]
    disputed: Option<u8>,
}

pub async fn invoice(
    State(s): State<WebState>,
    who: Customer,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<InvoiceQuery>,
) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let cid = who.customer_id.clone();
    let v = s
        .app
        .read(move |c| invoice_view(c, &id, Some(&cid), &today))
        .await?;
    render(&InvoicePage {
        layout: Layout::portal(&who, format!("Invoice {}", v.invoice.number), ""),
        can_pay: v.invoice.kind == "invoice" && v.invoice.open.minor() > 0,
        disputed: q.disputed.is_some(),
        v,
        base: "/portal",
    })
}

/// The document of one of the customer's invoices, rendered as `billing::delivery` does.
async fn document(
    s: &WebState,
    who: &Customer,
    id: String,
) -> WebResult<(String, InvoiceDocument)> {
    let cid = who.customer_id.clone();
    let found = s
        .app
        .read(move |c| {
            let owner = c.query_opt(
                "SELECT customer_id, number FROM invoices WHERE id = $1",
                params![id.as_str()],
            )?;
            match owner {
                Some(r) if r.text(0) == cid => {
                    Ok(Some((r.text(1), billing::document::build(c, &id)?)))
                }
                _ => Ok(None),
            }
        })
        .await?;
    found.ok_or(WebError::NotFound)
}

fn download(bytes: Vec<u8>, content_type: &'static str, file: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub async fn invoice_pdf(
    State(s): State<WebState>,
    who: Customer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (number, doc) = document(&s, &who, id).await?;
    let pdf = billing::document::render_pdf(&doc)?;
    Ok(download(pdf, "application/pdf", format!("{number}.pdf")))
}

pub async fn invoice_ubl(
    State(s): State<WebState>,
    who: Customer,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (number, doc) = document(&s, &who, id).await?;
    let xml = billing::document::render_ubl(&doc)?;
    Ok(download(
        xml.into_bytes(),
        "application/xml",
        format!("{number}.xml"),
    ))
}

#[derive(Deserialize)]
pub struct Empty {}

/// Opens a hosted checkout for what the invoice owes and sends the payer there.
pub async fn pay(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    post: Post<Customer, Empty>,
) -> WebResult<Response> {
    let base = public_base(&s, &headers);
    let cid = post.who.customer_id.clone();
    let session = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            own_invoice(c, &id, &cid)?;
            psp::create_checkout_in_tx(c, ctx, psp::local::NAME, &id, &base)
        })
        .await?;
    Ok(Redirect::to(&session.url).into_response())
}

/// Another customer's invoice is "not found", exactly like one that does not exist.
fn own_invoice(c: &mut dyn o2c_app::Conn, id: &str, customer_id: &str) -> o2c_app::Result<()> {
    let owner = c.query_opt(
        "SELECT customer_id FROM invoices WHERE id = $1",
        params![id],
    )?;
    if owner.is_none_or(|r| r.text(0) != customer_id) {
        return Err(o2c_app::error::not_found("invoice", id));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct DisputeForm {
    reason: String,
    #[serde(default)]
    line_no: String,
    #[serde(default)]
    description: String,
}

/// Raises a dispute on one of the customer's invoices (or one of its lines); dunning pauses for
/// it and it waits in the back office's disputes queue. Back to the invoice, which says so.
pub async fn dispute(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Customer, DisputeForm>,
) -> WebResult<Response> {
    let line_no = match post.form.line_no.trim() {
        "" => None,
        n => Some(
            n.parse::<i64>()
                .map_err(|_| WebError::Invalid(format!("line: `{n}` is not a line number")))?,
        ),
    };
    let r = o2c_app::receivable::disputes::RaiseDispute {
        invoice_id: id.clone(),
        line_no,
        reason: post.form.reason.trim().to_string(),
        description: Some(post.form.description.trim().to_string()).filter(|d| !d.is_empty()),
        amount: None,
        owner: None,
        due_on: None,
    };
    let cid = post.who.customer_id.clone();
    let check = id.clone();
    s.app
        .write(post.who.actor(), move |c, ctx| {
            own_invoice(c, &check, &cid)?;
            o2c_app::receivable::disputes::raise_in_tx(c, ctx, &r)
        })
        .await?;
    Ok(Redirect::to(&format!("/portal/invoices/{id}?disputed=1")).into_response())
}

#[derive(Template)]
#[template(path = "portal_contact.html")]
struct Contact {
    layout: Layout,
    customer: customer::Customer,
    company: billing::CompanyProfile,
}

pub async fn contact(State(s): State<WebState>, who: Customer) -> WebResult<Response> {
    let cid = who.customer_id.clone();
    let (customer, company) = s
        .app
        .read(move |c| Ok((customer::get(c, &cid)?, billing::company(c)?)))
        .await?;
    render(&Contact {
        layout: Layout::portal(&who, "Contact details", "/portal/contact"),
        customer,
        company,
    })
}

pub struct StatementLine {
    pub invoice_id: String,
    pub number: String,
    pub issued_on: String,
    pub due_on: String,
    pub days_overdue: i64,
    pub gross: String,
    pub open: String,
}

#[derive(Template)]
#[template(path = "portal_statement.html")]
struct Statement {
    layout: Layout,
    today: String,
    name: String,
    lines: Vec<StatementLine>,
    total: String,
    credit: String,
    balance: String,
    payments: Vec<(String, String, String)>,
}

/// The statement of account: every open item with its days overdue, credit on account, the
/// balance, and the payments of the last 90 days.
pub async fn statement(State(s): State<WebState>, who: Customer) -> WebResult<Response> {
    let today = s.app.today();
    let cid = who.customer_id.clone();
    let since = (today - chrono::Days::new(90)).to_string();
    let (account, payments) = s
        .app
        .read(move |c| {
            let account = customer::account(c, &cid)?;
            let payments = c
                .query(
                    "SELECT received_on, amount_minor, currency, COALESCE(reference, method) FROM payments
                     WHERE customer_id = $1 AND received_on >= $2 ORDER BY received_on DESC LIMIT 100",
                    params![cid.as_str(), since.as_str()],
                )?
                .iter()
                .map(|r| (r.text(0), money(r.int(1), &r.text(2)), r.text(3)))
                .collect::<Vec<_>>();
            Ok((account, payments))
        })
        .await?;
    let cur = account.customer.currency;
    let credit = account.customer.unapplied_cash;
    let balance = o2c_core::Money::new(account.open_items_total.minor() - credit.minor(), cur);
    render(&Statement {
        layout: Layout::portal(&who, "Statement of account", "/portal/statement"),
        name: account.customer.name.clone(),
        lines: account
            .open_items
            .iter()
            .map(|i| StatementLine {
                days_overdue: chrono::NaiveDate::parse_from_str(&i.due_on, "%Y-%m-%d")
                    .map(|d| (today - d).num_days().max(0))
                    .unwrap_or(0),
                invoice_id: i.invoice_id.clone(),
                number: i.number.clone(),
                issued_on: i.issued_on.clone(),
                due_on: i.due_on.clone(),
                gross: i.gross.to_string(),
                open: i.open.to_string(),
            })
            .collect(),
        total: account.open_items_total.to_string(),
        credit: credit.to_string(),
        balance: balance.to_string(),
        today: today.to_string(),
        payments,
    })
}
