//! `/app`: the day at a glance. Every figure comes from one reader snapshot; the charts are SVG
//! drawn by the template from bar geometry computed here (no JavaScript, no chart library).

use crate::WebState;
use crate::error::WebResult;
use crate::session::{
    AnyStaff, Area, CashArea, CreditArea, CustomerAdmin, IntakeArea, Staff, reaches,
};
use crate::view::{Layout, money, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Days, NaiveDate};
use o2c_app::{Conn, Result, billing, params};

/// One bar of a chart, its geometry in the SVG's coordinates.
pub struct Bar {
    pub label: String,
    pub value: String,
    pub x: i64,
    pub y: i64,
    pub height: i64,
}

pub struct QueueLink {
    pub href: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub hint: &'static str,
}

pub struct Figures {
    pub today: String,
    pub today_orders: i64,
    pub decided_30d: i64,
    pub touchless_pct: String,
    pub currency: String,
    pub open: String,
    pub overdue: String,
    pub overdue_share: String,
    pub dso: String,
    pub aging: Vec<Bar>,
    pub cash_in: Vec<Bar>,
    pub credit_holds: i64,
    pub intake_exceptions: i64,
    pub cash_exceptions: i64,
    pub open_cases: i64,
    pub ratings_30d: i64,
    pub satisfaction: String,
}

pub const CHART_HEIGHT: i64 = 140;
const BAR_WIDTH: i64 = 44;
const GAP: i64 = 14;

fn bars(values: &[(String, i64)], currency: &str) -> Vec<Bar> {
    let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    values
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let height = (i128::from(*v) * i128::from(CHART_HEIGHT) / i128::from(max)) as i64;
            Bar {
                label: label.clone(),
                value: money(*v, currency),
                x: 10 + i as i64 * (BAR_WIDTH + GAP),
                y: 20 + CHART_HEIGHT - height,
                height,
            }
        })
        .collect()
}

fn day(d: NaiveDate, back: u64) -> String {
    (d - Days::new(back)).to_string()
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "–".into();
    }
    // One decimal, rounded half up, in integers.
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{} %", tenths / 10, tenths % 10)
}

pub fn figures(c: &mut dyn Conn, today: NaiveDate) -> Result<Figures> {
    let currency = billing::company(c)?.functional_currency;
    let cur = currency.as_str();
    let one = |c: &mut dyn Conn, sql: &str, p: &[o2c_app::Value]| -> Result<i64> {
        Ok(c.query_one(sql, p)?.int(0))
    };
    let t = today.to_string();
    let today_orders = one(
        c,
        "SELECT COUNT(*) FROM orders WHERE received_at >= $1",
        params![t.as_str()],
    )?;
    let r = c.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN touched_by_person = 0 AND status <> 'credit_hold' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM orders WHERE received_at >= $1 AND status NOT IN ('received', 'cancelled')",
        params![day(today, 30)],
    )?;
    let (decided, touchless) = (r.int(0), r.int(1));
    // Aging of open invoices in the functional currency, by days past due.
    let rows = c.query(
        "SELECT CASE WHEN due_on >= $2 THEN 0 WHEN due_on >= $3 THEN 1 WHEN due_on >= $4 THEN 2 WHEN due_on >= $5 THEN 3 ELSE 4 END AS b,
                CAST(SUM(open_minor) AS BIGINT)
         FROM invoices WHERE open_minor > 0 AND currency = $1 GROUP BY b",
        params![cur, t.as_str(), day(today, 30), day(today, 60), day(today, 90)],
    )?;
    let mut aging = [0i64; 5];
    for r in &rows {
        aging[r.int(0) as usize] = r.int(1);
    }
    let open: i64 = aging.iter().sum();
    let overdue: i64 = aging[1..].iter().sum();
    let sales_90 = one(
        c,
        "SELECT CAST(COALESCE(SUM(gross_minor), 0) AS BIGINT) FROM invoices WHERE kind = 'invoice' AND currency = $1 AND issued_on > $2",
        params![cur, day(today, 90)],
    )?;
    let dso = if sales_90 > 0 {
        format!("{} days", i128::from(open) * 90 / i128::from(sales_90))
    } else {
        "–".into()
    };
    // Cash received per week, the last eight weeks (this week last).
    let start = today - Days::new(7 * 8 - 1);
    let mut weeks = [0i64; 8];
    for r in c.query(
        "SELECT received_on, CAST(SUM(amount_minor) AS BIGINT) FROM payments WHERE received_on >= $1 AND currency = $2 GROUP BY received_on",
        params![start.to_string(), cur],
    )? {
        if let Ok(d) = NaiveDate::parse_from_str(&r.text(0), "%Y-%m-%d") {
            let w = ((d - start).num_days() / 7).clamp(0, 7) as usize;
            weeks[w] += r.int(1);
        }
    }
    let week_labels: Vec<(String, i64)> = weeks
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let from = start + Days::new(7 * i as u64);
            (from.format("%d %b").to_string(), *v)
        })
        .collect();
    let aging_labels = ["current", "1–30", "31–60", "61–90", "> 90"];
    let (ratings_30d, avg_tenths) = o2c_app::service::survey_summary(c, &day(today, 30))?;
    Ok(Figures {
        today: t.clone(),
        today_orders,
        decided_30d: decided,
        touchless_pct: percent(touchless, decided),
        open: money(open, cur),
        overdue: money(overdue, cur),
        overdue_share: percent(overdue, open),
        dso,
        aging: bars(
            &aging_labels
                .iter()
                .zip(aging)
                .map(|(l, v)| (l.to_string(), v))
                .collect::<Vec<_>>(),
            cur,
        ),
        cash_in: bars(&week_labels, cur),
        credit_holds: one(
            c,
            "SELECT COUNT(*) FROM orders WHERE status = 'credit_hold'",
            params![],
        )?,
        intake_exceptions: one(
            c,
            "SELECT COUNT(*) FROM intake_documents WHERE status = 'exception'",
            params![],
        )?,
        cash_exceptions: one(
            c,
            "SELECT COUNT(*) FROM bank_transactions WHERE match_status = 'exception'",
            params![],
        )?,
        open_cases: one(
            c,
            "SELECT COUNT(*) FROM service_cases WHERE status = 'open'",
            params![],
        )?,
        ratings_30d,
        satisfaction: avg_tenths.map_or("–".into(), |t| format!("{}.{} / 5", t / 10, t % 10)),
        currency,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    f: Figures,
    queues: Vec<QueueLink>,
    chart_height: i64,
}

pub async fn page(State(s): State<WebState>, staff: Staff<AnyStaff>) -> WebResult<Response> {
    let today = s.app.today();
    let f = s.app.read(move |c| figures(c, today)).await?;
    let mut queues = Vec::new();
    if reaches(staff.role, CreditArea::ROLES) {
        queues.push(QueueLink {
            href: "/app/credit-holds",
            label: "Credit holds",
            count: f.credit_holds,
            hint: "orders the credit rules could not approve",
        });
    }
    if reaches(staff.role, IntakeArea::ROLES) {
        queues.push(QueueLink {
            href: "/app/intake-exceptions",
            label: "Intake exceptions",
            count: f.intake_exceptions,
            hint: "order files that could not be ordered as sent",
        });
    }
    if reaches(staff.role, CashArea::ROLES) {
        queues.push(QueueLink {
            href: "/app/cash-exceptions",
            label: "Cash application",
            count: f.cash_exceptions,
            hint: "bank lines the matcher was not sure enough about",
        });
    }
    if reaches(staff.role, CustomerAdmin::ROLES) {
        queues.push(QueueLink {
            href: "/app/cases",
            label: "Customer service",
            count: f.open_cases,
            hint: "questions o2c could not answer by itself",
        });
    }
    render(&DashboardPage {
        layout: Layout::staff(&staff, "Dashboard", "/app"),
        f,
        queues,
        chart_height: CHART_HEIGHT,
    })
}
