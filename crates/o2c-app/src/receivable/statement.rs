//! Statements of account: a customer's open items, credit on account and what is due, as of a
//! day. As a PDF on demand (`o2c_docs::letter`) and by e-mail, on demand or on the customer's
//! schedule (`statement_schedule`: monthly on the 1st, weekly on Mondays); each period's
//! statement is sent once (`account_statements (customer_id, period)`), through the notification
//! queue that `o2c serve` sends.

use super::aging::{AgingQuery, open_items};
use crate::App;
use crate::context::Ctx;
use crate::error::Result;
use crate::event::EventType;
use crate::receivable::emit;
use chrono::{Datelike, NaiveDate};
use o2c_core::id::StatementId;
use o2c_core::{DomainError, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub customer_id: String,
    pub customer: String,
    pub as_of: String,
    pub items: Vec<super::aging::OpenItem>,
    pub open: Money,
    pub overdue: Money,
    pub unapplied_cash: Money,
    /// Open items less credit on account.
    pub balance_due: Money,
}

pub fn build(conn: &mut dyn Conn, customer_id: &str, as_of: NaiveDate) -> Result<Statement> {
    let c = crate::customer::get(conn, customer_id)?;
    let mut q = AgingQuery::new(as_of);
    q.customer_id = Some(customer_id.to_string());
    let items = open_items(conn, &q)?;
    let cur = c.currency;
    let open = Money::sum(cur, items.iter().map(|i| i.open))?;
    let overdue = Money::sum(
        cur,
        items.iter().filter(|i| i.days_overdue > 0).map(|i| i.open),
    )?;
    Ok(Statement {
        customer_id: c.id.clone(),
        customer: c.name.clone(),
        as_of: as_of.to_string(),
        items,
        open,
        overdue,
        unapplied_cash: c.unapplied_cash,
        balance_due: open.checked_sub(c.unapplied_cash)?,
    })
}

fn text(s: &Statement, company: &str) -> String {
    let mut out = format!(
        "Dear {},\n\nyour statement of account as of {}:\n\n",
        s.customer, s.as_of
    );
    for i in &s.items {
        out.push_str(&format!(
            "  {}  issued {}  due {}  open {}{}\n",
            i.number,
            i.issued_on,
            i.due_on,
            i.open,
            if i.days_overdue > 0 {
                format!("  ({} days overdue)", i.days_overdue)
            } else {
                String::new()
            }
        ));
    }
    if s.items.is_empty() {
        out.push_str("  nothing is open.\n");
    }
    out.push_str(&format!("\nOpen: {}. Overdue: {}. Credit on your account: {}. Balance due: {}.\n\nKind regards,\n{company}", s.open, s.overdue, s.unapplied_cash, s.balance_due));
    out
}

pub fn pdf(conn: &mut dyn Conn, customer_id: &str, as_of: NaiveDate) -> Result<Vec<u8>> {
    let s = build(conn, customer_id, as_of)?;
    let company = crate::billing::company(conn)?;
    let customer = crate::customer::get(conn, customer_id)?;
    let mut recipient = vec![customer.name.clone()];
    if let Some(a) = &customer.billing_address {
        recipient.extend([
            a.line1.clone(),
            format!("{} {}", a.postal_code, a.city),
            a.country.clone(),
        ]);
    }
    let sender = vec![
        company.name.clone(),
        format!(
            "{}, {} {}",
            company.address.line1, company.address.postal_code, company.address.city
        ),
    ];
    let rows: Vec<Vec<String>> = s
        .items
        .iter()
        .map(|i| {
            vec![
                i.number.clone(),
                i.issued_on.clone(),
                i.due_on.clone(),
                i.days_overdue.to_string(),
                i.open.to_decimal_string(),
            ]
        })
        .collect();
    let body = format!(
        "Open items as of {}. Open: {}. Overdue: {}. Credit on account: {}. Balance due: {}.",
        s.as_of, s.open, s.overdue, s.unapplied_cash, s.balance_due
    );
    Ok(o2c_docs::letter::render(&o2c_docs::letter::Letter {
        sender: &sender,
        recipient: &recipient,
        date: &s.as_of,
        subject: &format!("Statement of account, {}", s.as_of),
        body: &body,
        table: Some((&["Invoice", "Issued", "Due", "Days overdue", "Open"], &rows)),
    }))
}

/// Queues the statement of `period` (e.g. `2026-11`, `2026-W48`, or a day for one on demand) by
/// e-mail, once per period. False when already sent or the customer has no e-mail address.
pub fn send_in_tx(conn: &mut dyn Conn, ctx: &Ctx, customer_id: &str, period: &str) -> Result<bool> {
    if conn
        .query_opt(
            "SELECT id FROM account_statements WHERE customer_id = $1 AND period = $2",
            params![customer_id, period],
        )?
        .is_some()
    {
        return Ok(false);
    }
    let s = build(conn, customer_id, ctx.today())?;
    let company = crate::billing::company(conn)?.name;
    let key = format!("statement:{customer_id}:{period}");
    let queued = crate::notify::queue_in_tx(
        conn,
        ctx,
        &crate::notify::Notice {
            customer_id,
            kind: "statement",
            dedupe_key: &key,
            subject: &format!("Statement of account, {}", s.as_of),
            body: &text(&s, &company),
        },
    )?;
    if !queued {
        return Err(DomainError::invalid(
            "customer_id",
            "the customer has no e-mail address for statements",
        )
        .into());
    }
    let id = StatementId::generate(ctx.ids.as_ref());
    conn.execute(
        "INSERT INTO account_statements (id, customer_id, period, as_of, open_minor, currency, notification_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![id.as_str(), customer_id, period, s.as_of.as_str(), s.open.minor(), s.open.currency().code(), key.as_str(), ctx.timestamp()],
    )?;
    emit(
        conn,
        ctx,
        EventType::StatementSent,
        ("customer", customer_id),
        customer_id,
        json!({"statement_id": id, "period": period, "open": s.open, "balance_due": s.balance_due}),
    )?;
    Ok(true)
}

/// The period a schedule sends on `day`, if any: monthly on the 1st, weekly on Mondays.
pub fn scheduled_period(schedule: &str, day: NaiveDate) -> Option<String> {
    match schedule {
        "monthly" if day.day() == 1 => Some(day.format("%Y-%m").to_string()),
        "weekly" if day.weekday() == chrono::Weekday::Mon => Some(format!(
            "{}-W{:02}",
            day.iso_week().year(),
            day.iso_week().week()
        )),
        _ => None,
    }
}

/// Sends today's scheduled statements (customers with an address and something open).
pub async fn send_scheduled(app: &App) -> Result<usize> {
    app.write(o2c_core::Actor::Rule("statement.schedule"), |c, ctx| {
        let rows = c.query(
            "SELECT id, statement_schedule FROM customers WHERE statement_schedule <> 'none' AND open_receivables_minor > 0 AND COALESCE(billing_email, email) IS NOT NULL",
            &[],
        )?;
        let mut sent = 0;
        for r in rows {
            if let Some(period) = scheduled_period(&r.text(1), ctx.today())
                && send_in_tx(c, ctx, &r.text(0), &period)?
            {
                sent += 1;
            }
        }
        Ok(sent)
    })
    .await
}
