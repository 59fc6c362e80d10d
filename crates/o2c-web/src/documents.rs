//! Order, customer, invoice and payment pages, each with its timeline from the event log.
//! The same loaders serve the portal, which passes its customer id so that a document of
//! another customer is "not found" (never shown, never told apart from a missing one).

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::session::{AnyStaff, CustomerAdmin, Post, Staff};
use crate::sign_in::public_base;
use crate::view::{Layout, actor_label, event_label, money, render, render_status, when};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use o2c_app::{Conn, Result, customer, invoice, order, params, payment, users};
use serde::Deserialize;

pub struct TimelineItem {
    pub when: String,
    pub what: String,
    pub who: String,
    pub kind: String,
}

/// Events of one order (`order_id`) or one document (`aggregate_id`), oldest first.
pub fn timeline(c: &mut dyn Conn, column: &str, id: &str) -> Result<Vec<TimelineItem>> {
    let column = if column == "order_id" {
        "order_id"
    } else {
        "aggregate_id"
    };
    Ok(c.query(
        &format!(
            "SELECT e.occurred_at, e.type, e.actor_kind, e.actor_id, u.name FROM events e
             LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
             WHERE e.{column} = $1 ORDER BY e.seq LIMIT 500"
        ),
        params![id],
    )?
    .iter()
    .map(|r| TimelineItem {
        when: when(&r.text(0)),
        what: event_label(&r.text(1)),
        who: match r.opt_text(4) {
            Some(name) => format!("{name} ({})", r.text(3)),
            None => actor_label(&r.text(2), &r.text(3)),
        },
        kind: r.text(1),
    })
    .collect())
}

pub struct ShipmentView {
    pub id: String,
    pub status: String,
    pub dispatched: String,
}

pub struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub issued_on: String,
    pub due_on: String,
    pub gross: String,
    pub open: String,
    pub status: String,
    pub overdue: bool,
}

pub struct OrderView {
    pub order: order::Order,
    pub customer_name: String,
    pub shipments: Vec<ShipmentView>,
    pub invoices: Vec<InvoiceRow>,
    pub timeline: Vec<TimelineItem>,
}

fn check_owner(owner: &str, only: Option<&str>) -> Result<()> {
    match only {
        Some(c) if c != owner => Err(o2c_app::error::not_found("document", "")),
        _ => Ok(()),
    }
}

pub fn invoice_rows(
    c: &mut dyn Conn,
    sql_where: &str,
    id: &str,
    today: &str,
) -> Result<Vec<InvoiceRow>> {
    Ok(c.query(
        &format!("SELECT id, number, kind, issued_on, due_on, gross_minor, open_minor, currency, payment_status FROM invoices WHERE {sql_where} ORDER BY issued_on DESC, number DESC LIMIT 200"),
        params![id],
    )?
    .iter()
    .map(|r| InvoiceRow {
        overdue: r.int(6) > 0 && r.text(4).as_str() < today,
        id: r.text(0),
        number: r.text(1),
        kind: r.text(2).replace('_', " "),
        issued_on: r.text(3),
        due_on: r.text(4),
        gross: money(r.int(5), &r.text(7)),
        open: money(r.int(6), &r.text(7)),
        status: r.text(8),
    })
    .collect())
}

pub fn order_view(
    c: &mut dyn Conn,
    id: &str,
    only: Option<&str>,
    today: &str,
) -> Result<OrderView> {
    let order = order::get(c, id)?;
    check_owner(&order.customer_id, only)?;
    let customer_name = c
        .query_one(
            "SELECT name FROM customers WHERE id = $1",
            params![order.customer_id.as_str()],
        )?
        .text(0);
    let shipments = c
        .query("SELECT id, status, dispatched_at FROM shipments WHERE order_id = $1 ORDER BY created_at", params![id])?
        .iter()
        .map(|r| ShipmentView {
            id: r.text(0),
            status: r.text(1),
            dispatched: r.opt_text(2).map(|t| when(&t)).unwrap_or_default(),
        })
        .collect();
    let invoices = invoice_rows(
        c,
        "id IN (SELECT invoice_id FROM invoice_orders WHERE order_id = $1) OR order_id = $1",
        id,
        today,
    )?;
    let timeline = timeline(c, "order_id", id)?;
    Ok(OrderView {
        order,
        customer_name,
        shipments,
        invoices,
        timeline,
    })
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    v: OrderView,
    base: &'static str,
    can_rate: bool,
    rated: bool,
}

pub async fn order(
    State(s): State<WebState>,
    staff: Staff<AnyStaff>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let v = s
        .app
        .read(move |c| order_view(c, &id, None, &today))
        .await?;
    render(&OrderPage {
        layout: Layout::staff(&staff, format!("Order {}", v.order.id), ""),
        v,
        base: "/app",
        can_rate: false,
        rated: false,
    })
}

pub struct InvoiceView {
    pub invoice: invoice::Invoice,
    pub customer_name: String,
    pub overdue: bool,
    pub timeline: Vec<TimelineItem>,
    pub payments: Vec<(String, String, String)>,
}

pub fn invoice_view(
    c: &mut dyn Conn,
    id: &str,
    only: Option<&str>,
    today: &str,
) -> Result<InvoiceView> {
    let invoice = invoice::get(c, id)?;
    check_owner(&invoice.customer_id, only)?;
    let customer_name = c
        .query_one(
            "SELECT name FROM customers WHERE id = $1",
            params![invoice.customer_id.as_str()],
        )?
        .text(0);
    let payments = c
        .query(
            "SELECT a.payment_id, a.amount_minor, a.applied_at FROM payment_applications a WHERE a.invoice_id = $1 AND a.reversed_by IS NULL ORDER BY a.applied_at",
            params![invoice.id.as_str()],
        )?
        .iter()
        .map(|r| (r.text(0), money(r.int(1), invoice.currency.code()), when(&r.text(2))))
        .collect();
    let timeline = timeline(c, "aggregate_id", &invoice.id)?;
    Ok(InvoiceView {
        overdue: invoice.open.minor() > 0 && invoice.due_on.as_str() < today,
        invoice,
        customer_name,
        timeline,
        payments,
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

pub async fn invoice(
    State(s): State<WebState>,
    staff: Staff<AnyStaff>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let v = s
        .app
        .read(move |c| invoice_view(c, &id, None, &today))
        .await?;
    render(&InvoicePage {
        layout: Layout::staff(&staff, format!("Invoice {}", v.invoice.number), ""),
        v,
        base: "/app",
        can_pay: false,
        disputed: false,
    })
}

pub struct CustomerView {
    pub customer: customer::Customer,
    pub orders: Vec<(String, String, String, String)>,
    pub invoices: Vec<InvoiceRow>,
    pub payments: Vec<(String, String, String, String)>,
    pub users: Vec<users::User>,
    pub timeline: Vec<TimelineItem>,
}

pub fn customer_view(c: &mut dyn Conn, id: &str, today: &str) -> Result<CustomerView> {
    let customer = customer::get(c, id)?;
    let orders = c
        .query(
            "SELECT id, status, gross_minor, currency, received_at FROM orders WHERE customer_id = $1 ORDER BY received_at DESC LIMIT 50",
            params![id],
        )?
        .iter()
        .map(|r| (r.text(0), r.text(1).replace('_', " "), money(r.int(2), &r.text(3)), when(&r.text(4))))
        .collect();
    let invoices = invoice_rows(c, "customer_id = $1", id, today)?;
    let payments = c
        .query(
            "SELECT id, received_on, amount_minor, currency, unapplied_minor, method FROM payments WHERE customer_id = $1 ORDER BY received_on DESC LIMIT 50",
            params![id],
        )?
        .iter()
        .map(|r| (r.text(0), r.text(1), money(r.int(2), &r.text(3)), format!("{} · {} unapplied", r.text(5), money(r.int(4), &r.text(3)))))
        .collect();
    let users = users::for_customer(c, id)?;
    let timeline = timeline(c, "aggregate_id", id)?;
    Ok(CustomerView {
        customer,
        orders,
        invoices,
        payments,
        users,
        timeline,
    })
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    layout: Layout,
    v: CustomerView,
    can_invite: bool,
    message: Option<String>,
    notice: Option<String>,
}

async fn customer_page(
    s: &WebState,
    staff: &Staff<AnyStaff>,
    id: String,
    status: StatusCode,
    message: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let today = s.app.today().to_string();
    let v = s.app.read(move |c| customer_view(c, &id, &today)).await?;
    render_status(
        status,
        &CustomerPage {
            layout: Layout::staff(staff, v.customer.name.clone(), ""),
            can_invite: crate::session::reaches(
                staff.role,
                <CustomerAdmin as crate::session::Area>::ROLES,
            ),
            v,
            message,
            notice,
        },
    )
}

pub async fn customer(
    State(s): State<WebState>,
    staff: Staff<AnyStaff>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    customer_page(&s, &staff, id, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    name: String,
}

/// Invites a customer's user to the portal (an e-mail with a one-time sign-in link).
pub async fn invite(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    post: Post<Staff<CustomerAdmin>, InviteForm>,
) -> WebResult<Response> {
    let base = public_base(&s, &headers);
    let staff = post.who;
    let (email, name, cid) = (post.form.email, post.form.name, id.clone());
    let result = s
        .app
        .write(staff.actor(), move |c, ctx| {
            users::invite_in_tx(c, ctx, &cid, &email, &name, &base)
        })
        .await;
    // The page is shown with the reader's guard; the inviter's role was checked by `Post`.
    let viewer = Staff::<AnyStaff>::from_user(staff.user, staff.role, staff.csrf);
    match result {
        Ok(u) => {
            let notice = format!(
                "Invitation sent to {}: a sign-in link valid for 72 hours.",
                u.email
            );
            customer_page(&s, &viewer, id, StatusCode::CREATED, None, Some(notice)).await
        }
        Err(e) => match WebError::from(e) {
            WebError::Invalid(m) => {
                customer_page(
                    &s,
                    &viewer,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(m),
                    None,
                )
                .await
            }
            other => Err(other),
        },
    }
}

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage {
    layout: Layout,
    p: payment::Payment,
    numbers: Vec<(String, String, String, String)>,
    timeline: Vec<TimelineItem>,
}

pub async fn payment(
    State(s): State<WebState>,
    staff: Staff<AnyStaff>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (p, numbers, timeline) = s
        .app
        .read(move |c| {
            let p = payment::get(c, &id)?;
            let mut numbers = Vec::new();
            for a in &p.applications {
                let n = c
                    .query_one(
                        "SELECT number FROM invoices WHERE id = $1",
                        params![a.invoice_id.as_str()],
                    )?
                    .text(0);
                numbers.push((
                    a.invoice_id.clone(),
                    n,
                    a.amount.to_string(),
                    format!("{} · {}", when(&a.applied_at), a.applied_by),
                ));
            }
            let timeline = timeline(c, "aggregate_id", &p.id)?;
            Ok((p, numbers, timeline))
        })
        .await?;
    render(&PaymentPage {
        layout: Layout::staff(&staff, format!("Payment {}", p.id), ""),
        p,
        numbers,
        timeline,
    })
}
