//! One search box: a document id goes straight to its page; otherwise invoice numbers, customer
//! names, order and payment references (the customer's PO, the bank's or the RF reference) and
//! amounts (`531.93` finds invoices of that total or open amount and payments of that amount).

use crate::WebState;
use crate::error::WebResult;
use crate::session::{AnyStaff, Staff};
use crate::view::{Layout, money, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::{Conn, Result, params};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub struct Hit {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    hits: Vec<(&'static str, Vec<Hit>)>,
    nothing: bool,
}

/// `531.93`, `531,93` or `531` as minor units with two decimals (the usual case; JPY-like
/// currencies are found by the whole number).
pub fn amount_minor(q: &str) -> Option<i64> {
    let q = q.trim().replace(',', ".");
    let (whole, frac) = q.split_once('.').unwrap_or((&q, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

const LIMIT: i64 = 25;

fn find(c: &mut dyn Conn, q: &str) -> Result<Vec<(&'static str, Vec<Hit>)>> {
    let like = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
    let upper = q.to_uppercase();
    let mut out = Vec::new();
    let invoices = c.query(
        "SELECT id, number, gross_minor, open_minor, currency, due_on FROM invoices WHERE number = $1 OR payment_reference = $1 OR number LIKE $2 ORDER BY number DESC LIMIT $3",
        params![upper.as_str(), format!("%{upper}"), LIMIT],
    )?;
    let mut inv: Vec<Hit> = invoices
        .iter()
        .map(|r| Hit {
            href: format!("/app/invoices/{}", r.text(0)),
            title: r.text(1),
            detail: format!(
                "{} · open {} · due {}",
                money(r.int(2), &r.text(4)),
                money(r.int(3), &r.text(4)),
                r.text(5)
            ),
        })
        .collect();
    let customers = c.query(
        "SELECT id, name, open_receivables_minor, currency FROM customers WHERE LOWER(name) LIKE $1 OR LOWER(email) LIKE $1 ORDER BY name LIMIT $2",
        params![like.as_str(), LIMIT],
    )?;
    out.push((
        "Customers",
        customers
            .iter()
            .map(|r| Hit {
                href: format!("/app/customers/{}", r.text(0)),
                title: r.text(1),
                detail: format!("open {}", money(r.int(2), &r.text(3))),
            })
            .collect(),
    ));
    let orders = c.query(
        "SELECT id, customer_reference, status, gross_minor, currency FROM orders WHERE customer_reference = $1 LIMIT $2",
        params![q, LIMIT],
    )?;
    let mut ord: Vec<Hit> = orders
        .iter()
        .map(|r| Hit {
            href: format!("/app/orders/{}", r.text(0)),
            title: format!("{} ({})", r.text(0), r.text(1)),
            detail: format!("{} · {}", r.text(2), money(r.int(3), &r.text(4))),
        })
        .collect();
    let payments = c.query(
        "SELECT id, amount_minor, currency, received_on, reference FROM payments WHERE reference = $1 OR provider_reference = $1 LIMIT $2",
        params![q, LIMIT],
    )?;
    let mut pay: Vec<Hit> = payments
        .iter()
        .map(|r| Hit {
            href: format!("/app/payments/{}", r.text(0)),
            title: r.opt_text(4).unwrap_or_else(|| r.text(0)),
            detail: format!("{} on {}", money(r.int(1), &r.text(2)), r.text(3)),
        })
        .collect();
    if let Some(minor) = amount_minor(q) {
        for r in c.query(
            "SELECT id, number, gross_minor, open_minor, currency, due_on FROM invoices WHERE gross_minor = $1 OR (open_minor = $1 AND open_minor > 0) ORDER BY issued_on DESC LIMIT $2",
            params![minor, LIMIT],
        )? {
            inv.push(Hit { href: format!("/app/invoices/{}", r.text(0)), title: r.text(1), detail: format!("{} · open {} · due {}", money(r.int(2), &r.text(4)), money(r.int(3), &r.text(4)), r.text(5)) });
        }
        for r in c.query(
            "SELECT id, amount_minor, currency, received_on, reference FROM payments WHERE amount_minor = $1 ORDER BY received_on DESC LIMIT $2",
            params![minor, LIMIT],
        )? {
            pay.push(Hit { href: format!("/app/payments/{}", r.text(0)), title: r.opt_text(4).unwrap_or_else(|| r.text(0)), detail: format!("{} on {}", money(r.int(1), &r.text(2)), r.text(3)) });
        }
        for r in c.query(
            "SELECT id, customer_reference, status, gross_minor, currency FROM orders WHERE gross_minor = $1 ORDER BY received_at DESC LIMIT $2",
            params![minor, LIMIT],
        )? {
            ord.push(Hit { href: format!("/app/orders/{}", r.text(0)), title: r.text(0), detail: format!("{} · {}", r.text(2), money(r.int(3), &r.text(4))) });
        }
    }
    out.insert(0, ("Invoices", inv));
    out.push(("Orders", ord));
    out.push(("Payments", pay));
    Ok(out)
}

pub async fn page(
    State(s): State<WebState>,
    staff: Staff<AnyStaff>,
    Query(q): Query<SearchQuery>,
) -> WebResult<Response> {
    let q = q.q.trim().to_string();
    for (prefix, path) in [
        ("ord_", "orders"),
        ("inv_", "invoices"),
        ("cus_", "customers"),
        ("pay_", "payments"),
    ] {
        if q.starts_with(prefix)
            && q.len() > prefix.len()
            && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Ok(Redirect::to(&format!("/app/{path}/{q}")).into_response());
        }
    }
    let hits = if q.is_empty() {
        Vec::new()
    } else {
        let qq = q.clone();
        s.app.read(move |c| find(c, &qq)).await?
    };
    render(&SearchPage {
        layout: Layout::staff(&staff, "Search", "/app/search"),
        q,
        nothing: hits.iter().all(|g| g.1.is_empty()),
        hits,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_read_as_typed() {
        assert_eq!(super::amount_minor("531.93"), Some(53193));
        assert_eq!(super::amount_minor("531,9"), Some(53190));
        assert_eq!(super::amount_minor("531"), Some(53100));
        assert_eq!(super::amount_minor("INV-1"), None);
        assert_eq!(super::amount_minor("1.234"), None);
    }
}
