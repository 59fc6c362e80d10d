//! Customer service: an inquiry ("where is my order", "a copy of invoice X") is answered at once
//! from what o2c knows when the reference names one of the customer's own documents, and
//! otherwise becomes a case in the back office's queue; and the one-question satisfaction survey
//! after delivery (a dispatched order, rated once, 1 to 5).

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use o2c_core::DomainError;
use o2c_store::{Conn, Row, params};
use serde::Serialize;

/// What the customer asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    OrderStatus,
    InvoiceCopy,
    Other,
}

impl Topic {
    pub fn parse(s: &str) -> Result<Topic> {
        match s {
            "order_status" => Ok(Topic::OrderStatus),
            "invoice_copy" => Ok(Topic::InvoiceCopy),
            "other" => Ok(Topic::Other),
            _ => Err(DomainError::invalid(
                "topic",
                format!("`{s}`: expected order_status, invoice_copy or other"),
            )
            .into()),
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Topic::OrderStatus => "order_status",
            Topic::InvoiceCopy => "invoice_copy",
            Topic::Other => "other",
        }
    }
}

pub struct Inquiry<'a> {
    pub customer_id: &'a str,
    pub user_id: &'a str,
    pub topic: Topic,
    /// An order id or PO number, or an invoice number.
    pub reference: &'a str,
    pub message: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub topic: String,
    pub reference: String,
    pub message: String,
    /// `answered` (by the rule or a person) or `open` (waiting in the queue).
    pub status: String,
    pub answer: Option<String>,
    /// A page of the portal the answer points to (the order or the invoice).
    pub link: Option<String>,
    pub answered_by: Option<String>,
    pub created_at: String,
}

const RULE: &str = "service.auto_answer";

/// The answer o2c can give by itself, with the portal page it points to.
fn auto_answer(conn: &mut dyn Conn, q: &Inquiry<'_>) -> Result<Option<(String, String)>> {
    let reference = q.reference.trim();
    match q.topic {
        Topic::OrderStatus => {
            // A named order (id or PO), else the customer's only order still under way.
            let rows = if reference.is_empty() {
                conn.query(
                    "SELECT id FROM orders WHERE customer_id = $1 AND status NOT IN ('closed', 'cancelled', 'rejected') ORDER BY received_at DESC LIMIT 2",
                    params![q.customer_id],
                )?
            } else {
                conn.query(
                    "SELECT id FROM orders WHERE customer_id = $1 AND (id = $2 OR customer_reference = $2) ORDER BY received_at DESC LIMIT 2",
                    params![q.customer_id, reference],
                )?
            };
            if rows.len() != 1 {
                return Ok(None);
            }
            let id = rows[0].text(0);
            Ok(Some((
                order_status_text(conn, &id)?,
                format!("/portal/orders/{id}"),
            )))
        }
        Topic::InvoiceCopy => {
            let row = conn.query_opt(
                "SELECT id, number, kind FROM invoices WHERE customer_id = $1 AND (id = $2 OR number = $3)",
                params![q.customer_id, reference, reference.to_uppercase()],
            )?;
            Ok(row.map(|r| {
                let what = if r.text(2) == "credit_note" { "credit note" } else { "invoice" };
                (
                    format!(
                        "Here is your copy of {what} {}: download the PDF or the e-invoice (UBL) from its page.",
                        r.text(1)
                    ),
                    format!("/portal/invoices/{}", r.text(0)),
                )
            }))
        }
        Topic::Other => Ok(None),
    }
}

/// "Order ord_… (PO 4711) is dispatched: shipment shp_… left on 2026-11-23. Invoiced: INV-…."
pub fn order_status_text(conn: &mut dyn Conn, order_id: &str) -> Result<String> {
    let o = conn.query_one(
        "SELECT status, customer_reference FROM orders WHERE id = $1",
        params![order_id],
    )?;
    let status = match o.text(0).as_str() {
        "received" | "credit_hold" => "being checked".to_string(),
        "approved" | "reserved" => "being prepared for shipping".to_string(),
        "backordered" => "waiting for stock".to_string(),
        "partially_shipped" => "partly dispatched".to_string(),
        "shipped" => "dispatched".to_string(),
        "closed" => "delivered and paid".to_string(),
        other => other.replace('_', " "),
    };
    let po = o
        .opt_text(1)
        .map(|p| format!(" (PO {p})"))
        .unwrap_or_default();
    let mut text = format!("Order {order_id}{po} is {status}.");
    for s in conn.query(
        "SELECT id, dispatched_at FROM shipments WHERE order_id = $1 AND dispatched_at IS NOT NULL ORDER BY dispatched_at",
        params![order_id],
    )? {
        text.push_str(&format!(" Shipment {} left on {}.", s.text(0), &s.text(1)[..10]));
    }
    let numbers: Vec<String> = conn
        .query(
            "SELECT number FROM invoices WHERE order_id = $1 OR id IN (SELECT invoice_id FROM invoice_orders WHERE order_id = $1) ORDER BY number",
            params![order_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    if !numbers.is_empty() {
        text.push_str(&format!(" Invoiced: {}.", numbers.join(", ")));
    }
    Ok(text)
}

/// Records an inquiry from the portal: answered at once when o2c can tell, else an open case.
pub fn inquire_in_tx(conn: &mut dyn Conn, ctx: &Ctx, q: &Inquiry<'_>) -> Result<Case> {
    if q.reference.chars().count() > 100 {
        return Err(DomainError::invalid("reference", "at most 100 characters").into());
    }
    if q.message.chars().count() > 4000 {
        return Err(DomainError::invalid("message", "at most 4000 characters").into());
    }
    if q.topic == Topic::Other && q.message.trim().is_empty() {
        return Err(DomainError::invalid("message", "say what you need").into());
    }
    let id = format!("case_{}", ctx.ids.next_raw());
    let answer = auto_answer(conn, q)?;
    let (status, answered_by) = match &answer {
        Some(_) => ("answered", Some(format!("rule:{RULE}"))),
        None => ("open", None),
    };
    conn.execute(
        "INSERT INTO service_cases (id, customer_id, user_id, channel, topic, reference, message, status, answer, link, answered_by, created_at, answered_at)
         VALUES ($1, $2, $3, 'portal', $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params![id.as_str(), q.customer_id, q.user_id, q.topic.as_str(), q.reference.trim(), q.message.trim(), status,
                answer.as_ref().map(|a| a.0.as_str()), answer.as_ref().map(|a| a.1.as_str()), answered_by,
                ctx.timestamp(), answer.as_ref().map(|_| ctx.timestamp())],
    )?;
    let emit = |conn: &mut dyn Conn, ctx: &Ctx, kind| {
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind,
                aggregate_type: "service_case",
                aggregate_id: &id,
                order_id: None,
                customer_id: Some(q.customer_id),
                data: serde_json::json!({"topic": q.topic.as_str(), "reference": q.reference.trim()}),
            },
        )
    };
    emit(conn, ctx, EventType::ServiceCaseOpened)?;
    if answer.is_some() {
        emit(conn, &ctx.as_rule(RULE), EventType::ServiceCaseAnswered)?;
    }
    get(conn, &id)
}

/// A person answers an open case; the customer's user is told by e-mail.
pub fn answer_in_tx(conn: &mut dyn Conn, ctx: &Ctx, case_id: &str, answer: &str) -> Result<Case> {
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(DomainError::invalid("answer", "must not be empty").into());
    }
    let case = get(conn, case_id)?;
    if case.status != "open" {
        return Err(DomainError::IllegalStateTransition {
            document: "case",
            id: case_id.to_string(),
            state: case.status,
            action: "answer it again",
        }
        .into());
    }
    conn.execute(
        "UPDATE service_cases SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'",
        params![answer, ctx.actor.to_string(), ctx.timestamp(), case_id],
    )?;
    let ntf = format!("ntf_{}", ctx.ids.next_raw());
    conn.execute(
        "INSERT INTO notifications (id, customer_id, kind, dedupe_key, recipient, subject, body, status, attempts, next_attempt_at, message_id, created_at)
         SELECT $1, c.customer_id, 'service_answer', $1, u.email, 'Your question to us', $2, 'pending', 0, $3, $4, $3
         FROM service_cases c JOIN users u ON u.id = c.user_id WHERE c.id = $5",
        params![ntf.as_str(), format!("Hello,\n\nyou asked: {}\n\nOur answer:\n{answer}\n", case.message), ctx.timestamp(), format!("<{ntf}@o2c>"), case_id],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::ServiceCaseAnswered,
            aggregate_type: "service_case",
            aggregate_id: case_id,
            order_id: None,
            customer_id: Some(&case.customer_id),
            data: serde_json::json!({"answer": answer}),
        },
    )?;
    get(conn, case_id)
}

const COLUMNS: &str = "s.id, s.customer_id, c.name, s.topic, s.reference, s.message, s.status, s.answer, s.link, s.answered_by, s.created_at";

fn from_row(r: &Row) -> Case {
    Case {
        id: r.text(0),
        customer_id: r.text(1),
        customer_name: r.text(2),
        topic: r.text(3),
        reference: r.text(4),
        message: r.text(5),
        status: r.text(6),
        answer: r.opt_text(7),
        link: r.opt_text(8),
        answered_by: r.opt_text(9),
        created_at: r.text(10),
    }
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Case> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM service_cases s JOIN customers c ON c.id = s.customer_id WHERE s.id = $1"),
        params![id],
    )?
    .map(|r| from_row(&r))
    .ok_or_else(|| not_found("case", id))
}

/// The queue: open cases, oldest first.
pub fn open_cases(conn: &mut dyn Conn, limit: i64) -> Result<Vec<Case>> {
    Ok(conn
        .query(
            &format!("SELECT {COLUMNS} FROM service_cases s JOIN customers c ON c.id = s.customer_id WHERE s.status = 'open' ORDER BY s.created_at LIMIT $1"),
            params![limit],
        )?
        .iter()
        .map(from_row)
        .collect())
}

pub fn for_customer(conn: &mut dyn Conn, customer_id: &str, limit: i64) -> Result<Vec<Case>> {
    Ok(conn
        .query(
            &format!("SELECT {COLUMNS} FROM service_cases s JOIN customers c ON c.id = s.customer_id WHERE s.customer_id = $1 ORDER BY s.created_at DESC LIMIT $2"),
            params![customer_id, limit],
        )?
        .iter()
        .map(from_row)
        .collect())
}

/// The survey: a dispatched order of the customer, rated once from 1 to 5.
pub fn rate_delivery_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    user_id: &str,
    order_id: &str,
    score: i64,
    comment: &str,
) -> Result<()> {
    if !(1..=5).contains(&score) {
        return Err(DomainError::invalid("score", format!("1 to 5, got {score}")).into());
    }
    if comment.chars().count() > 2000 {
        return Err(DomainError::invalid("comment", "at most 2000 characters").into());
    }
    let delivered = conn.query_opt(
        "SELECT 1 FROM orders o WHERE o.id = $1 AND o.customer_id = $2
           AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id AND s.dispatched_at IS NOT NULL)",
        params![order_id, customer_id],
    )?;
    if delivered.is_none() {
        return Err(not_found("delivered order", order_id));
    }
    let done = conn.execute(
        "INSERT INTO delivery_ratings (order_id, customer_id, user_id, score, comment, rated_at)
         SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM delivery_ratings WHERE order_id = $1)",
        params![order_id, customer_id, user_id, score, Some(comment.trim()).filter(|c| !c.is_empty()), ctx.timestamp()],
    )?;
    if done == 0 {
        return Err(
            DomainError::invalid("order", format!("{order_id} has been rated already")).into(),
        );
    }
    event::emit_for_order(
        conn,
        ctx,
        order_id,
        customer_id,
        EventType::DeliveryRated,
        serde_json::json!({"score": score}),
    )
}

/// Dispatched orders of the customer not rated yet (the survey's prompt), newest first.
pub fn unrated_deliveries(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<String>> {
    Ok(conn
        .query(
            "SELECT o.id FROM orders o WHERE o.customer_id = $1
               AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id AND s.dispatched_at IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM delivery_ratings r WHERE r.order_id = o.id)
             ORDER BY o.received_at DESC LIMIT 5",
            params![customer_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

/// Ratings since `since` (a timestamp): how many, and the average in tenths (43 = 4.3).
pub fn survey_summary(conn: &mut dyn Conn, since: &str) -> Result<(i64, Option<i64>)> {
    let r = conn.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(score), 0) AS BIGINT) FROM delivery_ratings WHERE rated_at >= $1",
        params![since],
    )?;
    let (n, sum) = (r.int(0), r.int(1));
    Ok((n, (n > 0).then(|| (sum * 10 + n / 2) / n)))
}
