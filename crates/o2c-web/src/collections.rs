//! The collector's worklist: customers with overdue items ranked by risk × amount × days, with
//! what stands in the way (disputes, open follow-ups, collection agency) and the next step; a
//! promise to pay is recorded from the row (`receivable::promises`, a past date is refused).

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::queues::answer;
use crate::session::{CollectionsArea, Post, Staff};
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use o2c_app::receivable::kpis::{self, WorklistEntry};
use o2c_app::receivable::promises::{self, NewPromise};
use serde::Deserialize;

const LIMIT: usize = 200;

pub struct Row {
    pub customer_id: String,
    pub name: String,
    pub risk: String,
    pub overdue: String,
    pub overdue_plain: String,
    pub days: String,
    pub oldest: String,
    pub next_step: String,
}

#[derive(Template)]
#[template(path = "collections.html")]
struct Page {
    layout: Layout,
    rows: Vec<Row>,
    today: String,
}

fn next_step(e: &WorklistEntry) -> String {
    if e.in_collection {
        "Handed to collection: follow up with the agency.".to_string()
    } else if e.open_disputes > 0 {
        format!(
            "{} open dispute(s): settle them first (Disputes), then chase the rest.",
            e.open_disputes
        )
    } else if e.open_tasks > 0 {
        format!(
            "{} follow-up task(s) open: call and note the outcome.",
            e.open_tasks
        )
    } else if e.average_days_overdue > 60.0 {
        "Long overdue: call today and ask for a promise to pay.".to_string()
    } else {
        "Call or e-mail a reminder; record the promise you get.".to_string()
    }
}

pub async fn page(State(s): State<WebState>, staff: Staff<CollectionsArea>) -> WebResult<Response> {
    let today = s.app.today();
    let list = s.app.read(move |c| kpis::worklist(c, today, LIMIT)).await?;
    let rows = list
        .iter()
        .map(|e| Row {
            next_step: next_step(e),
            customer_id: e.customer_id.clone(),
            name: e.name.clone(),
            risk: e.risk_class.clone(),
            overdue: e.overdue.to_string(),
            overdue_plain: o2c_core::money::decimal_string(
                e.overdue.minor(),
                e.overdue.currency().exponent(),
            ),
            days: format!("{:.0}", e.average_days_overdue),
            oldest: e.oldest_due_on.clone(),
        })
        .collect();
    render(&Page {
        layout: Layout::staff(&staff, "Collections", "/app/collections"),
        rows,
        today: today.to_string(),
    })
}

#[derive(Deserialize)]
pub struct PromiseForm {
    amount: String,
    promised_on: String,
    #[serde(default)]
    note: String,
}

/// `POST /app/collections/{customer_id}/promise`: the customer's promise to pay, covering every
/// open invoice.
pub async fn promise(
    State(s): State<WebState>,
    Path(customer_id): Path<String>,
    post: Post<Staff<CollectionsArea>, PromiseForm>,
) -> WebResult<Response> {
    let p = NewPromise {
        customer_id,
        invoice_ids: Vec::new(),
        amount: post.form.amount.trim().to_string(),
        promised_on: post.form.promised_on.trim().to_string(),
        note: Some(post.form.note.trim().to_string()).filter(|n| !n.is_empty()),
    };
    let result = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            promises::make_in_tx(c, ctx, &p)
        })
        .await
        .map(|p| format!("Promise recorded: {} by {}.", p.amount, p.promised_on))
        .map_err(WebError::from);
    answer(post.htmx, "/app/collections", 6, result)
}
