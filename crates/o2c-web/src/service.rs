//! Customer service on the pages: the portal's help form (answered at once when o2c can tell,
//! else a case), the back office's case queue, and the delivery survey on a portal order.

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::queues::answer;
use crate::session::{Customer, CustomerAdmin, Post, Staff};
use crate::view::{Layout, render, render_status, when};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::service::{self, Case, Inquiry, Topic};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "portal_help.html")]
struct HelpPage {
    layout: Layout,
    cases: Vec<Case>,
    message: Option<String>,
    result: Option<Case>,
}

async fn help_page(
    s: &WebState,
    who: &Customer,
    status: StatusCode,
    message: Option<String>,
    result: Option<Case>,
) -> WebResult<Response> {
    let cid = who.customer_id.clone();
    let cases = s
        .app
        .read(move |c| service::for_customer(c, &cid, 20))
        .await?;
    render_status(
        status,
        &HelpPage {
            layout: Layout::portal(who, "Ask us", "/portal/help"),
            cases,
            message,
            result,
        },
    )
}

pub async fn help(State(s): State<WebState>, who: Customer) -> WebResult<Response> {
    help_page(&s, &who, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct AskForm {
    topic: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    message: String,
}

pub async fn ask(State(s): State<WebState>, post: Post<Customer, AskForm>) -> WebResult<Response> {
    let who = post.who;
    let f = post.form;
    let (cid, uid) = (who.customer_id.clone(), who.user.id.clone());
    let result = async {
        let topic = Topic::parse(&f.topic)?;
        s.app
            .write(who.actor(), move |c, ctx| {
                service::inquire_in_tx(
                    c,
                    ctx,
                    &Inquiry {
                        customer_id: &cid,
                        user_id: &uid,
                        topic,
                        reference: &f.reference,
                        message: &f.message,
                    },
                )
            })
            .await
    }
    .await;
    match result.map_err(WebError::from) {
        Ok(case) => help_page(&s, &who, StatusCode::CREATED, None, Some(case)).await,
        Err(WebError::Invalid(m)) => {
            help_page(&s, &who, StatusCode::UNPROCESSABLE_ENTITY, Some(m), None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RatingForm {
    score: String,
    #[serde(default)]
    comment: String,
}

pub async fn rate(
    State(s): State<WebState>,
    Path(order_id): Path<String>,
    post: Post<Customer, RatingForm>,
) -> WebResult<Response> {
    let who = post.who;
    let score: i64 = post
        .form
        .score
        .trim()
        .parse()
        .map_err(|_| WebError::Invalid(format!("score: 1 to 5, got `{}`", post.form.score)))?;
    let (cid, uid, oid, comment) = (
        who.customer_id.clone(),
        who.user.id.clone(),
        order_id.clone(),
        post.form.comment,
    );
    s.app
        .write(who.actor(), move |c, ctx| {
            service::rate_delivery_in_tx(c, ctx, &cid, &uid, &oid, score, &comment)
        })
        .await?;
    Ok(Redirect::to(&format!("/portal/orders/{order_id}?rated=1")).into_response())
}

pub struct CaseRow {
    pub id: String,
    pub customer_id: String,
    pub customer: String,
    pub topic: String,
    pub reference: String,
    pub message: String,
    pub asked: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    layout: Layout,
    cases: Vec<CaseRow>,
}

pub async fn cases(State(s): State<WebState>, staff: Staff<CustomerAdmin>) -> WebResult<Response> {
    let cases = s
        .app
        .read(|c| service::open_cases(c, 200))
        .await?
        .into_iter()
        .map(|c| CaseRow {
            topic: c.topic.replace('_', " "),
            asked: when(&c.created_at),
            id: c.id,
            customer_id: c.customer_id,
            customer: c.customer_name,
            reference: c.reference,
            message: c.message,
        })
        .collect();
    render(&CasesPage {
        layout: Layout::staff(&staff, "Customer service", "/app/cases"),
        cases,
    })
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
}

pub async fn answer_case(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Staff<CustomerAdmin>, AnswerForm>,
) -> WebResult<Response> {
    let text = post.form.answer;
    let result = s
        .app
        .write(post.who.actor(), move |c, ctx| {
            service::answer_in_tx(c, ctx, &id, &text)
        })
        .await
        .map(|c| {
            format!(
                "Answered {}: the customer is told by e-mail and sees it in the portal.",
                c.customer_name
            )
        })
        .map_err(WebError::from);
    answer(post.htmx, "/app/cases", 5, result)
}
