//! Credit applications: a prospective customer asks for terms; the same policy approves (and
//! creates the customer with its limit) or queues the application for an analyst.

use super::policy;
use crate::context::Ctx;
use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use o2c_core::credit::{CreditOutcome, RiskClass, evaluate_application};
use o2c_core::customer::Address;
use o2c_core::id::CreditApplicationId;
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub currency: String,
    pub payment_terms_days: i64,
    pub requested_limit: String,
    /// From a credit agency or the sales rep's assessment; `medium` when unknown.
    #[serde(default)]
    pub risk_class: Option<String>,
    pub billing_address: Address,
    pub shipping_address: Address,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub id: String,
    pub status: String,
    pub name: String,
    pub requested_limit: Money,
    pub policy_version: i64,
    pub evaluation: serde_json::Value,
    pub customer_id: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub created_at: String,
}

fn customer_request(r: &ApplicationRequest, limit: &str) -> CustomerRequest {
    CustomerRequest {
        name: r.name.clone(),
        email: r.email.clone(),
        currency: r.currency.clone(),
        payment_terms_days: r.payment_terms_days,
        credit_limit: limit.to_string(),
        billing_address: Some(r.billing_address.clone()),
        shipping_address: Some(r.shipping_address.clone()),
    }
}

pub fn submit_in_tx(conn: &mut dyn Conn, ctx: &Ctx, r: &ApplicationRequest) -> Result<Application> {
    // Everything a customer needs is checked now, so an approval cannot fail later.
    let new = NewCustomer::parse(customer_request(r, &r.requested_limit).clone())?;
    let currency = Currency::parse(&r.currency).map_err(DomainError::money("currency"))?;
    let requested = Money::parse(&r.requested_limit, currency)
        .map_err(DomainError::money("requested_limit"))?;
    let risk = match &r.risk_class {
        None => RiskClass::Medium,
        Some(s) => RiskClass::parse(s).ok_or_else(|| {
            DomainError::invalid("risk_class", "expected low, medium, high or critical")
        })?,
    };
    let (version, policy) = policy::current(conn)?;
    let evaluation = evaluate_application(&policy, requested, risk)?;
    let id = CreditApplicationId::generate(ctx.ids.as_ref());
    let status = match evaluation.outcome {
        CreditOutcome::Approve => "approved",
        CreditOutcome::Hold => "pending",
        CreditOutcome::Reject => "rejected",
    };
    conn.execute(
        "INSERT INTO credit_applications (id, status, name, request, requested_limit_minor, currency, policy_version, evaluation, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![id.as_str(), status, r.name.trim(), serde_json::to_string(r)?, requested.minor(), currency.code(), version, serde_json::to_string(&evaluation)?, ctx.timestamp()],
    )?;
    emit(
        conn,
        ctx,
        id.as_str(),
        EventType::CreditApplicationReceived,
        json!({"outcome": evaluation.outcome, "rules": evaluation.fired}),
    )?;
    if evaluation.outcome == CreditOutcome::Approve {
        open_account(conn, ctx, id.as_str(), &new, risk, None)?;
    }
    get(conn, id.as_str())
}

fn emit(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &str,
    kind: EventType,
    data: serde_json::Value,
) -> Result<()> {
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind,
            aggregate_type: "credit_application",
            aggregate_id: id,
            order_id: None,
            customer_id: None,
            data,
        },
    )
}

fn open_account(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &str,
    new: &NewCustomer,
    risk: RiskClass,
    comment: Option<&str>,
) -> Result<()> {
    let c = customer::create_in_tx(conn, ctx, new)?;
    conn.execute(
        "UPDATE customers SET risk_class = $2 WHERE id = $1",
        params![c.id.as_str(), risk.as_str()],
    )?;
    conn.execute(
        "UPDATE credit_applications SET status = 'approved', customer_id = $2, decided_by = $3, comment = $4, decided_at = $5 WHERE id = $1",
        params![id, c.id.as_str(), ctx.actor.to_string(), comment, ctx.timestamp()],
    )?;
    emit(
        conn,
        ctx,
        id,
        EventType::CreditApplicationDecided,
        json!({"outcome": "approved", "customer_id": c.id, "credit_limit": c.credit_limit}),
    )
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDecision {
    /// Grant a different limit than requested.
    #[serde(default)]
    pub credit_limit: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// An analyst approves (optionally with another limit) or rejects a pending application.
pub fn decide_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    id: &str,
    approve: bool,
    d: &ApplicationDecision,
) -> Result<Application> {
    let app = get(conn, id)?;
    if app.status != "pending" {
        return Err(DomainError::IllegalStateTransition {
            document: "credit application",
            id: id.to_string(),
            state: app.status,
            action: if approve { "approve" } else { "reject" },
        }
        .into());
    }
    let request: ApplicationRequest = serde_json::from_str(
        &conn
            .query_one(
                "SELECT request FROM credit_applications WHERE id = $1",
                params![id],
            )?
            .text(0),
    )?;
    if approve {
        let limit = d
            .credit_limit
            .clone()
            .unwrap_or(request.requested_limit.clone());
        let new = NewCustomer::parse(customer_request(&request, &limit))?;
        let risk = request
            .risk_class
            .as_deref()
            .and_then(RiskClass::parse)
            .unwrap_or(RiskClass::Medium);
        open_account(conn, ctx, id, &new, risk, d.comment.as_deref())?;
    } else {
        conn.execute(
            "UPDATE credit_applications SET status = 'rejected', decided_by = $2, comment = $3, decided_at = $4 WHERE id = $1",
            params![id, ctx.actor.to_string(), d.comment.as_deref(), ctx.timestamp()],
        )?;
        emit(
            conn,
            ctx,
            id,
            EventType::CreditApplicationDecided,
            json!({"outcome": "rejected", "comment": d.comment}),
        )?;
    }
    get(conn, id)
}

const COLUMNS: &str = "id, status, name, requested_limit_minor, currency, policy_version, evaluation, customer_id, decided_by, comment, created_at";

fn from_row(r: &Row) -> Result<Application> {
    Ok(Application {
        id: r.text(0),
        status: r.text(1),
        name: r.text(2),
        requested_limit: Money::new(r.int(3), Currency::parse(&r.text(4))?),
        policy_version: r.int(5),
        evaluation: serde_json::from_str(&r.text(6))?,
        customer_id: r.opt_text(7),
        decided_by: r.opt_text(8),
        comment: r.opt_text(9),
        created_at: r.text(10),
    })
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Application> {
    from_row(
        &conn
            .query_opt(
                &format!("SELECT {COLUMNS} FROM credit_applications WHERE id = $1"),
                params![id],
            )?
            .ok_or_else(|| not_found("credit application", id))?,
    )
}

pub fn list(conn: &mut dyn Conn, status: Option<&str>, limit: i64) -> Result<Vec<Application>> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM credit_applications WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY created_at, id LIMIT $2"),
        params![status, limit],
    )?
    .iter()
    .map(from_row)
    .collect()
}
