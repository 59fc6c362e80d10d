//! Customer master data and the customer's account (open items, unapplied cash, exposure).

use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::{self, EventType, NewEvent};
use o2c_core::customer::{Address, parse_payment_terms_days};
use o2c_core::id::CustomerId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Row, params};
use serde::{Deserialize, Serialize};

/// A customer as it arrives from outside: plain strings and numbers, parsed by [`NewCustomer::parse`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRequest {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub currency: String,
    pub payment_terms_days: i64,
    pub credit_limit: String,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    name: String,
    email: Option<String>,
    currency: Currency,
    payment_terms_days: u32,
    credit_limit: Money,
    billing_address: Option<Address>,
    shipping_address: Option<Address>,
}

impl NewCustomer {
    pub fn parse(r: CustomerRequest) -> Result<NewCustomer> {
        let name = r.name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "must not be empty").into());
        }
        let currency = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
        let credit_limit =
            Money::parse(&r.credit_limit, currency).map_err(DomainError::money("credit_limit"))?;
        if credit_limit.is_negative() {
            return Err(DomainError::invalid("credit_limit", "must not be negative").into());
        }
        if r.email.as_ref().is_some_and(|e| !e.contains('@')) {
            return Err(DomainError::invalid("email", "expected an e-mail address").into());
        }
        Ok(NewCustomer {
            name,
            email: r.email,
            currency,
            payment_terms_days: parse_payment_terms_days(r.payment_terms_days)?,
            credit_limit,
            billing_address: r
                .billing_address
                .map(|a| Address::parse(a, "billing_address"))
                .transpose()?,
            shipping_address: r
                .shipping_address
                .map(|a| Address::parse(a, "shipping_address"))
                .transpose()?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub currency: Currency,
    pub payment_terms_days: i64,
    pub credit_limit: Money,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub open_receivables: Money,
    pub open_orders: Money,
    pub unapplied_cash: Money,
    /// Open receivables + approved orders not yet invoiced.
    pub exposure: Money,
    pub created_at: String,
}

const COLUMNS: &str = "id, name, email, currency, payment_terms_days, credit_limit_minor, billing_address, shipping_address, \
                       open_receivables_minor, open_orders_minor, unapplied_cash_minor, created_at";

fn from_row(r: &Row) -> Result<Customer> {
    let currency = Currency::parse(&r.text(3)).map_err(|e| AppError::Internal(e.to_string()))?;
    let m = |i| Money::new(r.int(i), currency);
    let addr = |i| {
        r.opt_text(i)
            .map(|s| serde_json::from_str::<Address>(&s))
            .transpose()
    };
    Ok(Customer {
        id: r.text(0),
        name: r.text(1),
        email: r.opt_text(2),
        currency,
        payment_terms_days: r.int(4),
        credit_limit: m(5),
        billing_address: addr(6)?,
        shipping_address: addr(7)?,
        open_receivables: m(8),
        open_orders: m(9),
        unapplied_cash: m(10),
        exposure: m(8).checked_add(m(9))?,
        created_at: r.text(11),
    })
}

pub fn create_in_tx(conn: &mut dyn Conn, ctx: &Ctx, c: &NewCustomer) -> Result<Customer> {
    let id = CustomerId::generate(ctx.ids.as_ref());
    let json = |a: &Option<Address>| a.as_ref().map(serde_json::to_string).transpose();
    conn.execute(
        "INSERT INTO customers (id, name, email, currency, payment_terms_days, credit_limit_minor, billing_address, shipping_address, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            id.as_str(),
            c.name.as_str(),
            c.email.as_deref(),
            c.currency.code(),
            c.payment_terms_days,
            c.credit_limit.minor(),
            json(&c.billing_address)?,
            json(&c.shipping_address)?,
            ctx.timestamp()
        ],
    )?;
    let customer = get(conn, id.as_str())?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CustomerCreated,
            aggregate_type: "customer",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: Some(id.as_str()),
            data: &customer,
        },
    )?;
    Ok(customer)
}

pub fn find(conn: &mut dyn Conn, id: &str) -> Result<Option<Customer>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM customers WHERE id = $1"),
        params![id],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Customer> {
    find(conn, id)?.ok_or_else(|| not_found("customer", id))
}

pub fn list(conn: &mut dyn Conn, limit: i64, offset: i64) -> Result<Vec<Customer>> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM customers ORDER BY name, id LIMIT $1 OFFSET $2"),
        params![limit, offset],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// Moves the customer's running exposure figures; every change of an open item or open order
/// goes through here so that a credit decision never needs to scan.
pub fn adjust_balances(
    conn: &mut dyn Conn,
    customer_id: &str,
    receivables_delta: i64,
    open_orders_delta: i64,
    unapplied_delta: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE customers SET open_receivables_minor = open_receivables_minor + $2,
                              open_orders_minor = open_orders_minor + $3,
                              unapplied_cash_minor = unapplied_cash_minor + $4
         WHERE id = $1",
        params![
            customer_id,
            receivables_delta,
            open_orders_delta,
            unapplied_delta
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenItem {
    pub invoice_id: String,
    pub number: String,
    pub order_id: String,
    pub issued_on: String,
    pub due_on: String,
    pub gross: Money,
    pub open: Money,
    pub payment_status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub customer: Customer,
    pub open_items: Vec<OpenItem>,
    pub open_items_total: Money,
}

pub fn account(conn: &mut dyn Conn, id: &str) -> Result<Account> {
    let customer = get(conn, id)?;
    let cur = customer.currency;
    let open_items: Vec<OpenItem> = conn
        .query(
            "SELECT id, number, order_id, issued_on, due_on, gross_minor, open_minor, payment_status
             FROM invoices WHERE customer_id = $1 AND open_minor > 0 ORDER BY due_on, number",
            params![id],
        )?
        .iter()
        .map(|r| OpenItem {
            invoice_id: r.text(0),
            number: r.text(1),
            order_id: r.text(2),
            issued_on: r.text(3),
            due_on: r.text(4),
            gross: Money::new(r.int(5), cur),
            open: Money::new(r.int(6), cur),
            payment_status: r.text(7),
        })
        .collect();
    let open_items_total = Money::sum(cur, open_items.iter().map(|i| i.open))?;
    Ok(Account {
        customer,
        open_items,
        open_items_total,
    })
}
