//! The work queues: each line with the reason it waits, a suggested action and the buttons to
//! act. A button posts with htmx and the answer replaces the line (a plain form post without
//! JavaScript redirects back to the queue).

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::session::{CashArea, CreditArea, IntakeArea, Post, Staff};
use crate::view::{Layout, money, render, render_status, when};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::cash::exceptions as cash_queue;
use o2c_app::credit::{self, ReviewDecision, queue};
use o2c_app::intake;
use serde::Deserialize;

const QUEUE_LIMIT: i64 = 200;

pub struct HoldRow {
    pub order_id: String,
    pub customer_id: String,
    pub customer: String,
    pub amount: String,
    pub exposure: String,
    pub limit: String,
    pub reason: String,
    pub suggestion: String,
    pub received: String,
}

#[derive(Template)]
#[template(path = "credit_holds.html")]
struct HoldsPage {
    layout: Layout,
    holds: Vec<HoldRow>,
}

pub async fn credit_holds(
    State(s): State<WebState>,
    staff: Staff<CreditArea>,
) -> WebResult<Response> {
    let holds = s.app.read(|c| queue::holds(c, QUEUE_LIMIT)).await?;
    let holds = holds
        .into_iter()
        .map(|h| {
            // The queue's exposure is what was open before this order.
            let over = h.exposure.minor() + h.gross.minor() - h.credit_limit.minor();
            let cur = h.gross.currency().code().to_string();
            let suggestion = if over > 0 {
                format!(
                    "Over the limit by {}: release if the account pays on time (or raise the limit), else reject.",
                    money(over, &cur)
                )
            } else {
                "Within the limit now: release, unless the reason below still stands.".to_string()
            };
            HoldRow {
                amount: h.gross.to_string(),
                exposure: money(h.exposure.minor() + h.gross.minor(), &cur),
                limit: h.credit_limit.to_string(),
                received: when(&h.received_at),
                order_id: h.order_id,
                customer_id: h.customer_id,
                customer: h.customer_name,
                reason: h.reason,
                suggestion,
            }
        })
        .collect();
    render(&HoldsPage {
        layout: Layout::staff(&staff, "Credit holds", "/app/credit-holds"),
        holds,
    })
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    comment: String,
}

/// What replaces a queue line after an action.
#[derive(Template)]
#[template(path = "queue_done.html")]
struct Done {
    colspan: u8,
    ok: bool,
    message: String,
}

pub fn answer(
    htmx: bool,
    back: &str,
    colspan: u8,
    result: WebResult<String>,
) -> WebResult<Response> {
    match (htmx, result) {
        (true, Ok(message)) => render(&Done {
            colspan,
            ok: true,
            message,
        }),
        (true, Err(WebError::Invalid(message))) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &Done {
                colspan,
                ok: false,
                message,
            },
        ),
        (false, Ok(_)) => Ok(Redirect::to(back).into_response()),
        (_, Err(e)) => Err(e),
    }
}

pub async fn credit_decide(
    State(s): State<WebState>,
    Path((order_id, decision)): Path<(String, String)>,
    post: Post<Staff<CreditArea>, CommentForm>,
) -> WebResult<Response> {
    let decision = match decision.as_str() {
        "release" => ReviewDecision::Approve,
        "reject" => ReviewDecision::Reject,
        _ => return Err(WebError::NotFound),
    };
    let comment = Some(post.form.comment.trim().to_string()).filter(|c| !c.is_empty());
    let result = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            credit::review_in_tx(c, ctx, &order_id, decision, comment.as_deref())
        })
        .await
        .map(|o| match decision {
            ReviewDecision::Approve => {
                format!("Released: order {} goes on to the warehouse.", o.id)
            }
            ReviewDecision::Reject => format!("Rejected: order {} will not be shipped.", o.id),
        })
        .map_err(WebError::from);
    answer(post.htmx, "/app/credit-holds", 6, result)
}

pub struct IntakeRow {
    pub id: String,
    pub channel: String,
    pub source: String,
    pub sender: String,
    pub received: String,
    pub reasons: Vec<(String, String, String)>,
    pub attempts: i64,
}

#[derive(Template)]
#[template(path = "intake_exceptions.html")]
struct IntakePage {
    layout: Layout,
    docs: Vec<IntakeRow>,
}

pub async fn intake_exceptions(
    State(s): State<WebState>,
    staff: Staff<IntakeArea>,
) -> WebResult<Response> {
    let docs = s
        .app
        .read(|c| intake::exceptions::list(c, QUEUE_LIMIT, 0))
        .await?
        .into_iter()
        .map(|d| IntakeRow {
            channel: format!("{:?}", d.channel).to_lowercase(),
            source: d.source,
            sender: d.sender.unwrap_or_default(),
            received: when(&d.received_at),
            reasons: d
                .errors
                .into_iter()
                .map(|e| (e.code, e.at, e.message))
                .collect(),
            attempts: d.attempts,
            id: d.id,
        })
        .collect();
    render(&IntakePage {
        layout: Layout::staff(&staff, "Intake exceptions", "/app/intake-exceptions"),
        docs,
    })
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn intake_replay(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Staff<IntakeArea>, Empty>,
) -> WebResult<Response> {
    let result = intake::process(&s.app, post.who.actor(), id)
        .await
        .map_err(WebError::from)
        .and_then(|d| match d.status.as_str() {
            "exception" => Err(WebError::Invalid(format!(
                "Still waiting: {}",
                d.errors
                    .iter()
                    .map(|e| format!("{} ({})", e.message, e.at))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
            status => Ok(format!(
                "Replayed: {status}{}",
                if d.orders.is_empty() {
                    String::new()
                } else {
                    format!(", {} order(s) placed", d.orders.len())
                }
            )),
        });
    answer(post.htmx, "/app/intake-exceptions", 5, result)
}

pub struct SuggestionView {
    pub index: usize,
    pub customer_id: String,
    pub kind: String,
    pub score: u16,
    pub invoices: String,
}

pub struct CashRow {
    pub id: String,
    pub amount: String,
    pub value_date: String,
    pub payer: String,
    pub remittance: String,
    pub reason: String,
    pub suggestions: Vec<SuggestionView>,
}

#[derive(Template)]
#[template(path = "cash_exceptions.html")]
struct CashPage {
    layout: Layout,
    lines: Vec<CashRow>,
}

pub async fn cash_exceptions(
    State(s): State<WebState>,
    staff: Staff<CashArea>,
) -> WebResult<Response> {
    let lines = s
        .app
        .read(|c| cash_queue::list(c, "exception", QUEUE_LIMIT, 0))
        .await?
        .into_iter()
        .map(|l| CashRow {
            amount: l.amount.to_string(),
            value_date: l.value_date,
            payer: [l.counterparty_name, l.counterparty_account]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            remittance: l.remittance.join(" "),
            reason: l.reason.unwrap_or_default(),
            suggestions: l
                .suggestions
                .into_iter()
                .enumerate()
                .map(|(index, sg)| SuggestionView {
                    index,
                    invoices: sg
                        .allocations
                        .iter()
                        .map(|p| format!("{} {}", p.invoice_number, p.amount))
                        .collect::<Vec<_>>()
                        .join(", "),
                    customer_id: sg.customer_id,
                    kind: sg.kind,
                    score: sg.score,
                })
                .collect(),
            id: l.id,
        })
        .collect();
    render(&CashPage {
        layout: Layout::staff(&staff, "Cash application", "/app/cash-exceptions"),
        lines,
    })
}

#[derive(Deserialize)]
pub struct AcceptForm {
    suggestion: usize,
}

pub async fn cash_accept(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Staff<CashArea>, AcceptForm>,
) -> WebResult<Response> {
    let index = post.form.suggestion;
    let result = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            cash_queue::accept_in_tx(c, ctx, &id, index)
        })
        .await
        .map(|l| format!("Applied {} ({}).", l.amount, l.status))
        .map_err(WebError::from);
    answer(post.htmx, "/app/cash-exceptions", 5, result)
}

#[derive(Deserialize)]
pub struct NotOursForm {
    #[serde(default)]
    reason: String,
}

pub async fn cash_not_ours(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Staff<CashArea>, NotOursForm>,
) -> WebResult<Response> {
    let reason = match post.form.reason.trim() {
        "" => "not a payment to us".to_string(),
        r => r.to_string(),
    };
    let result = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            cash_queue::not_ours_in_tx(c, ctx, &id, &reason)
        })
        .await
        .map(|l| format!("Marked not ours: {} is owed back to the sender.", l.amount))
        .map_err(WebError::from);
    answer(post.htmx, "/app/cash-exceptions", 5, result)
}
