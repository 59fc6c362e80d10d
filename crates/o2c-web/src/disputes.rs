//! The disputes queue: every open or reviewed dispute with its reason, the amount contested and a
//! suggested action; buttons to take it under review, credit it (a credit note for the invoice) or
//! reject it (the item is chased again). The actions are `receivable::disputes`' use-cases, so the
//! event log names the person.

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::queues::answer;
use crate::session::{CollectionsArea, Post, Staff};
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use o2c_app::receivable::disputes::{self, Assign, Resolution};
use serde::Deserialize;

const LIMIT: i64 = 200;

pub struct DisputeRow {
    pub id: String,
    pub invoice_id: String,
    pub invoice_number: String,
    pub customer_id: String,
    pub what: String,
    pub amount: String,
    pub reason: String,
    pub description: String,
    pub status: String,
    pub owner: String,
    pub due_on: String,
    pub suggestion: &'static str,
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct DisputesPage {
    layout: Layout,
    disputes: Vec<DisputeRow>,
}

fn suggestion(reason: &str, from_deduction: bool) -> &'static str {
    match (reason, from_deduction) {
        (_, true) => "The customer paid short: check the reason with them, then credit or reject.",
        ("pricing", _) => {
            "Compare the invoiced price with the price list and the order; credit the difference if ours is wrong."
        }
        ("quantity", _) => {
            "Check the shipment's packages against the invoice; credit what was not delivered."
        }
        ("damage", _) => "Ask for photos or the carrier's damage report; credit if confirmed.",
        ("late_delivery", _) => {
            "Check the promised date against the delivery; credit per the agreement, else reject."
        }
        ("duplicate_billing", _) => {
            "Look for the same order on another invoice; credit the duplicate."
        }
        _ => "Read the customer's description, take it under review and decide.",
    }
}

pub async fn page(State(s): State<WebState>, staff: Staff<CollectionsArea>) -> WebResult<Response> {
    let (open, review) = s
        .app
        .read(|c| {
            Ok((
                disputes::list(c, Some("open"), None, LIMIT)?,
                disputes::list(c, Some("under_review"), None, LIMIT)?,
            ))
        })
        .await?;
    let disputes = open
        .into_iter()
        .chain(review)
        .map(|d| DisputeRow {
            suggestion: suggestion(&d.reason, d.deduction_id.is_some()),
            what: match d.line_no {
                Some(n) => format!("line {n}"),
                None => "whole invoice".to_string(),
            },
            amount: d.amount.to_string(),
            reason: d.reason.replace('_', " "),
            status: d.status.replace('_', " "),
            owner: d.owner.unwrap_or_default(),
            due_on: d.due_on.unwrap_or_default(),
            id: d.id,
            invoice_id: d.invoice_id,
            invoice_number: d.invoice_number,
            customer_id: d.customer_id,
            description: d.description,
        })
        .collect();
    render(&DisputesPage {
        layout: Layout::staff(&staff, "Disputes", "/app/disputes"),
        disputes,
    })
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    note: String,
}

/// `POST /app/disputes/{id}/{action}`: `review`, `credit` (the whole invoice) or `reject`.
pub async fn decide(
    State(s): State<WebState>,
    Path((id, action)): Path<(String, String)>,
    post: Post<Staff<CollectionsArea>, DecideForm>,
) -> WebResult<Response> {
    let note = match post.form.note.trim() {
        "" => None,
        n => Some(n.to_string()),
    };
    let owner = post.who.actor().to_string();
    let result = match action.as_str() {
        "review" => {
            s.app
                .write(post.who.actor(), move |c, ctx| {
                    let a = Assign {
                        owner: Some(owner.clone()),
                        due_on: None,
                    };
                    disputes::review_in_tx(c, ctx, &id, &a)
                })
                .await
        }
        "credit" | "reject" => {
            let r = if action == "credit" {
                Resolution::Credit { lines: None, note }
            } else {
                Resolution::Reject { note }
            };
            s.app
                .write(post.who.actor(), move |c, ctx| {
                    disputes::resolve_in_tx(c, ctx, &id, &r)
                })
                .await
        }
        _ => return Err(WebError::NotFound),
    }
    .map(|d| match (d.status.as_str(), d.resolution.as_deref()) {
        ("under_review", _) => format!("Under review by {}.", d.owner.unwrap_or_default()),
        (_, Some("credited")) => {
            format!("Credited: invoice {} has a credit note.", d.invoice_number)
        }
        _ => format!("Rejected: invoice {} is chased again.", d.invoice_number),
    })
    .map_err(WebError::from);
    answer(post.htmx, "/app/disputes", 6, result)
}
