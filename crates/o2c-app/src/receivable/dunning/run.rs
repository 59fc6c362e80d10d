//! The dunning run: for each customer, every open item whose next level has come (disputed and
//! promised items, blocked customers and accounts in collection skipped, each with its reason),
//! one notice at the highest level reached with the level's fee and each item's interest. A
//! dry run says who would get which notice and why, and writes nothing. The scheduled run is
//! once a day (`dunning_runs.run_on` is unique); a manual notice names its invoices.

use super::{Profile, default_profile, profile};
use crate::context::Ctx;
use crate::error::{AppError, Result, not_found};
use crate::event::EventType;
use crate::receivable::{aging::days_between, emit, notes};
use chrono::NaiveDate;
use o2c_core::dunning::{self, Level, NoticeText};
use o2c_core::id::{DunningDeliveryId, DunningNoticeId, DunningRunId};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, Row, params};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct PlannedItem {
    pub invoice_id: String,
    pub number: String,
    pub due_on: String,
    pub days_overdue: i64,
    pub level: i64,
    pub open: Money,
    pub interest: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedNotice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_id: Option<String>,
    pub customer_id: String,
    pub customer: String,
    pub profile: String,
    pub level: i64,
    pub channel: String,
    pub language: String,
    pub items: Vec<PlannedItem>,
    pub overdue: Money,
    pub fee: Money,
    pub interest: Money,
    pub total: Money,
    pub blocks_credit: bool,
    pub hands_to_collection: bool,
    /// Why: which level each item reached and since when.
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: Option<String>,
    pub on: String,
    pub dry_run: bool,
    /// The scheduled run of this day had already happened: nothing new was sent.
    pub already_ran: bool,
    pub notices: Vec<PlannedNotice>,
    pub skipped: Vec<Skipped>,
}

struct Item {
    id: String,
    number: String,
    customer_id: String,
    currency: Currency,
    due_on: String,
    open: i64,
    level: i64,
    last_dunned_on: Option<String>,
    customer: String,
    profile_id: Option<String>,
    blocked: bool,
    in_collection: bool,
    language: String,
    disputed: bool,
    promised: bool,
}

fn item(r: &Row) -> Result<Item> {
    Ok(Item {
        id: r.text(0),
        number: r.text(1),
        customer_id: r.text(2),
        currency: Currency::parse(&r.text(3)).map_err(DomainError::money("currency"))?,
        due_on: r.text(4),
        open: r.int(5),
        level: r.int(6),
        last_dunned_on: r.opt_text(7),
        customer: r.text(8),
        profile_id: r.opt_text(9),
        blocked: r.int(10) != 0,
        in_collection: r.int(11) != 0,
        language: r.text(12),
        disputed: r.int(13) != 0,
        promised: r.int(14) != 0,
    })
}

const SELECT: &str = "SELECT i.id, i.number, i.customer_id, i.currency, i.due_on, i.open_minor, i.dunning_level, i.last_dunned_on,
        c.name, c.dunning_profile_id, c.dunning_blocked, c.in_collection, c.language,
        CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status IN ('open', 'under_review')) THEN 1 ELSE 0 END,
        CASE WHEN EXISTS (SELECT 1 FROM payment_promise_items pi JOIN payment_promises p ON p.id = pi.promise_id
                          WHERE pi.invoice_id = i.id AND p.status = 'open') THEN 1 ELSE 0 END
     FROM invoices i JOIN customers c ON c.id = i.customer_id";

/// Plans (and unless `dry_run`, issues) the scheduled run of `on`.
pub fn run_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    on: NaiveDate,
    dry_run: bool,
) -> Result<RunReport> {
    if !dry_run {
        if let Some(r) = conn.query_opt(
            "SELECT id FROM dunning_runs WHERE run_on = $1",
            params![on.to_string()],
        )? {
            return Ok(RunReport {
                run_id: Some(r.text(0)),
                on: on.to_string(),
                dry_run,
                already_ran: true,
                notices: vec![],
                skipped: vec![],
            });
        }
        crate::receivable::promises::check_in_tx(conn, ctx)?;
    }
    let mut profiles: BTreeMap<String, Profile> = BTreeMap::new();
    let default = default_profile(conn)?;
    for p in super::profiles(conn)? {
        profiles.insert(p.id.clone(), p);
    }
    let earliest = profiles
        .values()
        .flat_map(|p| p.levels.iter().map(|l| l.days))
        .min()
        .unwrap_or(0);
    let horizon = on + chrono::Days::new((-earliest).max(0) as u64);
    let sql = format!(
        "{SELECT} WHERE i.open_minor > 0 AND i.kind = 'invoice' AND i.due_on <= $1 ORDER BY i.customer_id, i.due_on, i.number"
    );
    let items: Vec<Item> = conn
        .query(&sql, params![horizon.to_string()])?
        .iter()
        .map(item)
        .collect::<Result<_>>()?;
    let mut report = RunReport {
        run_id: None,
        on: on.to_string(),
        dry_run,
        already_ran: false,
        notices: vec![],
        skipped: vec![],
    };
    let mut i = 0;
    while i < items.len() {
        let j = items[i..]
            .iter()
            .position(|x| x.customer_id != items[i].customer_id)
            .map_or(items.len(), |k| i + k);
        let group = &items[i..j];
        i = j;
        let p = group[0]
            .profile_id
            .as_ref()
            .and_then(|id| profiles.get(id))
            .unwrap_or(&default);
        if let Some(n) = plan_customer(group, p, on, false, &mut report.skipped)? {
            report.notices.push(n);
        }
    }
    if dry_run {
        return Ok(report);
    }
    let run_id = DunningRunId::generate(ctx.ids.as_ref())
        .as_str()
        .to_string();
    issue_all(
        conn,
        ctx,
        &run_id,
        &on.to_string(),
        on,
        &mut report,
        &profiles,
        &default,
    )?;
    Ok(report)
}

/// A notice now for the named invoices of one customer, each at its next level: refuses an
/// invoice that is paid, not yet due, disputed or under a promise.
pub fn dun_invoices_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    invoice_ids: &[String],
) -> Result<RunReport> {
    let on = ctx.today();
    if invoice_ids.is_empty() {
        return Err(DomainError::invalid("invoice_ids", "name at least one invoice").into());
    }
    let mut items = Vec::new();
    for (k, id) in invoice_ids.iter().enumerate() {
        let sql = format!("{SELECT} WHERE i.id = $1 OR i.number = $1");
        let it = item(
            &conn
                .query_opt(&sql, params![id.as_str()])?
                .ok_or_else(|| not_found("invoice", id))?,
        )?;
        let inv = crate::receivable::lock_invoice(conn, &it.id)?;
        inv.require_open("dun it")?;
        if it.due_on.as_str() > on.to_string().as_str() {
            return Err(DomainError::InvoiceNotDue {
                invoice: it.number,
                due_on: it.due_on,
                action: "dun it",
            }
            .into());
        }
        let field = format!("invoice_ids[{k}]");
        if it.disputed {
            return Err(DomainError::invalid(
                field,
                format!(
                    "invoice {} is disputed: resolve the dispute first",
                    it.number
                ),
            )
            .into());
        }
        if it.promised {
            return Err(DomainError::invalid(
                field,
                format!("invoice {} is under a promise to pay", it.number),
            )
            .into());
        }
        if items
            .first()
            .is_some_and(|f: &Item| f.customer_id != it.customer_id)
        {
            return Err(DomainError::invalid(
                field,
                "all invoices of one notice belong to one customer",
            )
            .into());
        }
        items.push(it);
    }
    let p = match &items[0].profile_id {
        Some(id) => profile(conn, id)?,
        None => default_profile(conn)?,
    };
    let mut report = RunReport {
        run_id: None,
        on: on.to_string(),
        dry_run: false,
        already_ran: false,
        notices: vec![],
        skipped: vec![],
    };
    if let Some(n) = plan_customer(&items, &p, on, true, &mut report.skipped)? {
        report.notices.push(n);
    }
    let run_id = DunningRunId::generate(ctx.ids.as_ref())
        .as_str()
        .to_string();
    let mut profiles = BTreeMap::new();
    profiles.insert(p.id.clone(), p.clone());
    issue_all(
        conn,
        ctx,
        &run_id,
        &format!("{on}/manual/{run_id}"),
        on,
        &mut report,
        &profiles,
        &p,
    )?;
    Ok(report)
}

/// One customer's notice, or why there is none. `forced`: every item at its next level (a
/// manual notice), whatever the calendar says.
fn plan_customer(
    group: &[Item],
    p: &Profile,
    on: NaiveDate,
    forced: bool,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<PlannedNotice>> {
    let first = &group[0];
    let skip = |skipped: &mut Vec<Skipped>, invoice: Option<&str>, reason: String| {
        skipped.push(Skipped {
            customer_id: first.customer_id.clone(),
            invoice: invoice.map(String::from),
            reason,
        })
    };
    if first.blocked {
        skip(skipped, None, "dunning is blocked for this customer".into());
        return Ok(None);
    }
    if first.in_collection {
        skip(skipped, None, "the account is with collection".into());
        return Ok(None);
    }
    let cur = first.currency;
    let mut items = Vec::new();
    let mut why = Vec::new();
    let mut top: Option<&Level> = None;
    for it in group {
        if it.disputed {
            skip(skipped, Some(&it.number), "disputed".into());
            continue;
        }
        if it.promised {
            skip(skipped, Some(&it.number), "under a promise to pay".into());
            continue;
        }
        let days = days_between(&it.due_on, on)?;
        let level = if forced {
            p.levels
                .get(it.level.min(p.levels.len() as i64 - 1) as usize)
                .filter(|l| l.level > it.level)
        } else {
            dunning::next_level(&p.levels, days, it.level)
        };
        let Some(level) = level else { continue };
        let since = match &it.last_dunned_on {
            Some(d) if d.as_str() > it.due_on.as_str() => d.clone(),
            _ => it.due_on.clone(),
        };
        let interest = dunning::interest(
            Money::new(it.open, cur),
            level.interest_micro()?,
            days_between(&since, on)?,
        )?;
        why.push(format!(
            "{} {} days overdue → level {}",
            it.number, days, level.level
        ));
        items.push(PlannedItem {
            invoice_id: it.id.clone(),
            number: it.number.clone(),
            due_on: it.due_on.clone(),
            days_overdue: days,
            level: level.level,
            open: Money::new(it.open, cur),
            interest,
        });
        if top.is_none_or(|t| level.level > t.level) {
            top = Some(level);
        }
    }
    let Some(level) = top else { return Ok(None) };
    let overdue = Money::sum(cur, items.iter().map(|i| i.open))?;
    let min = level
        .min_overdue_in(cur)
        .map_err(DomainError::money("min_overdue"))?;
    if overdue.minor() < min.minor() {
        skip(
            skipped,
            None,
            format!(
                "{overdue} open at level {} is below the level's minimum of {min}",
                level.level
            ),
        );
        return Ok(None);
    }
    let fee = level.fee_in(cur).map_err(DomainError::money("fee"))?;
    let interest = Money::sum(cur, items.iter().map(|i| i.interest))?;
    let total = overdue.checked_add(fee)?.checked_add(interest)?;
    Ok(Some(PlannedNotice {
        notice_id: None,
        customer_id: first.customer_id.clone(),
        customer: first.customer.clone(),
        profile: p.name.clone(),
        level: level.level,
        channel: level.channel.as_str().to_string(),
        language: first.language.clone(),
        items,
        overdue,
        fee,
        interest,
        total,
        blocks_credit: level.block_credit,
        hands_to_collection: level.hand_to_collection,
        why: why.join("; "),
    }))
}

#[allow(clippy::too_many_arguments)]
fn issue_all(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    run_id: &str,
    run_on: &str,
    on: NaiveDate,
    report: &mut RunReport,
    profiles: &BTreeMap<String, Profile>,
    default: &Profile,
) -> Result<()> {
    conn.execute(
        "INSERT INTO dunning_runs (id, run_on, notices, skipped, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![run_id, run_on, report.notices.len(), report.skipped.len(), ctx.actor.to_string(), ctx.timestamp()],
    )?;
    let company = crate::billing::company(conn)?.name;
    for n in &mut report.notices {
        let p = profiles
            .values()
            .find(|p| p.name == n.profile)
            .unwrap_or(default);
        let level = p
            .levels
            .iter()
            .find(|l| l.level == n.level)
            .ok_or_else(|| AppError::Internal("level vanished".into()))?;
        n.notice_id = Some(issue(conn, ctx, run_id, on, n, level, p, &company)?);
    }
    report.run_id = Some(run_id.to_string());
    crate::event::emit(
        conn,
        ctx,
        crate::event::NewEvent {
            kind: EventType::DunningRunCompleted,
            aggregate_type: "dunning_run",
            aggregate_id: run_id,
            order_id: None,
            customer_id: None,
            data: json!({"on": run_on, "notices": report.notices.len(), "skipped": report.skipped.len()}),
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn issue(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    run_id: &str,
    on: NaiveDate,
    n: &PlannedNotice,
    level: &Level,
    p: &Profile,
    company: &str,
) -> Result<String> {
    let id = DunningNoticeId::generate(ctx.ids.as_ref())
        .as_str()
        .to_string();
    let cur = n.total.currency();
    let lines: Vec<String> = n
        .items
        .iter()
        .map(|i| {
            format!(
                "  {}  due {}  {} days  {}",
                i.number, i.due_on, i.days_overdue, i.open
            )
        })
        .collect();
    let (subject, body) = dunning::render(
        level,
        &n.language,
        &NoticeText {
            company,
            customer: &n.customer,
            level: n.level,
            items: lines,
            overdue: n.overdue,
            fee: n.fee,
            interest: n.interest,
            total: n.total,
        },
    );
    conn.execute(
        "INSERT INTO dunning_notices (id, run_id, customer_id, profile_id, level, channel, language, currency, overdue_minor, fee_minor, interest_minor, subject, body, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'issued', $14)",
        params![id.as_str(), run_id, n.customer_id.as_str(), p.id.as_str(), n.level, n.channel.as_str(), n.language.as_str(), cur.code(),
                n.overdue.minor(), n.fee.minor(), n.interest.minor(), subject.as_str(), body.as_str(), ctx.timestamp()],
    )?;
    for i in &n.items {
        conn.execute(
            "INSERT INTO dunning_notice_items (notice_id, invoice_id, customer_id, level, open_minor, days_overdue, interest_minor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![id.as_str(), i.invoice_id.as_str(), n.customer_id.as_str(), i.level, i.open.minor(), i.days_overdue, i.interest.minor()],
        )?;
        conn.execute(
            "UPDATE invoices SET dunning_level = $2, last_dunned_on = $3 WHERE id = $1",
            params![i.invoice_id.as_str(), i.level, on.to_string()],
        )?;
    }
    if n.fee.is_positive() || n.interest.is_positive() {
        let functional = crate::fx::functional_currency(conn)?;
        let rate = crate::fx::rate_on(conn, functional, cur, &on.to_string())?;
        let entry = o2c_core::ledger::dunning_charged(&id, n.fee, n.interest)?.translate(
            functional,
            rate,
            &[],
        )?;
        crate::ledger::post(conn, ctx, &entry, Some(&n.customer_id))?;
    }
    emit(
        conn,
        ctx,
        EventType::DunningNoticeIssued,
        ("dunning_notice", &id),
        &n.customer_id,
        json!({"level": n.level, "channel": n.channel, "items": n.items, "fee": n.fee, "interest": n.interest, "total": n.total, "run_id": run_id}),
    )?;
    if n.blocks_credit {
        conn.execute(
            "UPDATE customers SET credit_blocked = 1 WHERE id = $1",
            params![n.customer_id.as_str()],
        )?;
        emit(
            conn,
            ctx,
            EventType::CustomerDunningChanged,
            ("customer", &n.customer_id),
            &n.customer_id,
            json!({"credit_blocked": true, "by_notice": id}),
        )?;
    }
    if n.hands_to_collection {
        conn.execute(
            "UPDATE customers SET in_collection = 1 WHERE id = $1",
            params![n.customer_id.as_str()],
        )?;
        emit(
            conn,
            ctx,
            EventType::HandedToCollection,
            ("customer", &n.customer_id),
            &n.customer_id,
            json!({"by_notice": id, "overdue": n.overdue}),
        )?;
        notes::open_task_in_tx(
            conn,
            ctx,
            &n.customer_id,
            "collection",
            &format!("handed to collection by notice {id}: {} overdue", n.overdue),
            Some(&id),
            on,
        )?;
    }
    queue_delivery(conn, ctx, &id, &n.customer_id, &n.channel)?;
    Ok(id)
}

/// One delivery per notice on its channel; an e-mail or SMS notice to a customer without an
/// address or phone number goes out as a letter instead.
fn queue_delivery(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    notice_id: &str,
    customer_id: &str,
    channel: &str,
) -> Result<()> {
    let c = conn.query_one(
        "SELECT COALESCE(billing_email, email), phone, name FROM customers WHERE id = $1",
        params![customer_id],
    )?;
    let (channel, recipient) = match (channel, c.opt_text(0), c.opt_text(1)) {
        ("email", Some(to), _) => ("email", to),
        ("sms", _, Some(phone)) => ("sms", phone),
        _ => ("letter", c.text(2)),
    };
    let id = DunningDeliveryId::generate(ctx.ids.as_ref())
        .as_str()
        .to_string();
    conn.execute(
        "INSERT INTO dunning_deliveries (id, notice_id, customer_id, channel, recipient, status, attempts, next_attempt_at, message_id, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $6)",
        params![id.as_str(), notice_id, customer_id, channel, recipient.as_str(), ctx.timestamp(), format!("<{id}@o2c>")],
    )?;
    Ok(())
}

/// Waives a notice's fee and interest: the mirror entry, once.
pub fn waive_in_tx(conn: &mut dyn Conn, ctx: &Ctx, notice_id: &str) -> Result<Notice> {
    let sql = format!(
        "SELECT customer_id, status, fee_minor, interest_minor, currency FROM dunning_notices WHERE id = $1{}",
        conn.for_update()
    );
    let r = conn
        .query_opt(&sql, params![notice_id])?
        .ok_or_else(|| not_found("dunning notice", notice_id))?;
    if r.text(1) != "issued" {
        return Err(DomainError::IllegalStateTransition {
            document: "dunning notice",
            id: notice_id.into(),
            state: r.text(1),
            action: "waive its charges",
        }
        .into());
    }
    let cur = Currency::parse(&r.text(4)).map_err(DomainError::money("currency"))?;
    let (fee, interest) = (Money::new(r.int(2), cur), Money::new(r.int(3), cur));
    conn.execute("UPDATE dunning_notices SET status = 'waived', waived_at = $2, waived_by = $3 WHERE id = $1", params![notice_id, ctx.timestamp(), ctx.actor.to_string()])?;
    if fee.is_positive() || interest.is_positive() {
        // At the rate the charge was booked at, so both entries cancel in the functional currency too.
        let rate_row = conn.query_one("SELECT fx_rate, functional_currency FROM journal_entries WHERE document_id = $1 AND template = 'DUNNING_CHARGED'", params![notice_id])?;
        let rate = crate::fx::stored(rate_row.opt_text(0))?;
        let functional =
            Currency::parse(&rate_row.text(1)).map_err(DomainError::money("currency"))?;
        let entry = o2c_core::ledger::dunning_waived(notice_id, fee, interest)?.translate(
            functional,
            rate,
            &[],
        )?;
        crate::ledger::post(conn, ctx, &entry, Some(&r.text(0)))?;
    }
    emit(
        conn,
        ctx,
        EventType::DunningNoticeWaived,
        ("dunning_notice", notice_id),
        &r.text(0),
        json!({"fee": fee, "interest": interest}),
    )?;
    get(conn, notice_id)
}

#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: String,
    pub run_id: String,
    pub customer_id: String,
    pub level: i64,
    pub channel: String,
    pub language: String,
    pub overdue: Money,
    pub fee: Money,
    pub interest: Money,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub created_at: String,
    pub items: Vec<serde_json::Value>,
    pub deliveries: Vec<serde_json::Value>,
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<Notice> {
    let r = conn
        .query_opt(
            "SELECT id, run_id, customer_id, level, channel, language, currency, overdue_minor, fee_minor, interest_minor, subject, body, status, created_at FROM dunning_notices WHERE id = $1",
            params![id],
        )?
        .ok_or_else(|| not_found("dunning notice", id))?;
    let cur = Currency::parse(&r.text(6)).map_err(DomainError::money("currency"))?;
    let items = conn
        .query("SELECT n.invoice_id, i.number, n.level, n.open_minor, n.days_overdue, n.interest_minor FROM dunning_notice_items n JOIN invoices i ON i.id = n.invoice_id WHERE n.notice_id = $1 ORDER BY i.number", params![id])?
        .iter()
        .map(|x| json!({"invoice_id": x.text(0), "number": x.text(1), "level": x.int(2), "open": Money::new(x.int(3), cur), "days_overdue": x.int(4), "interest": Money::new(x.int(5), cur)}))
        .collect();
    let deliveries = conn
        .query("SELECT id, channel, recipient, status, attempts, last_error, output_path, sent_at FROM dunning_deliveries WHERE notice_id = $1 ORDER BY id", params![id])?
        .iter()
        .map(|x| json!({"id": x.text(0), "channel": x.text(1), "recipient": x.text(2), "status": x.text(3), "attempts": x.int(4), "last_error": x.opt_text(5), "file": x.opt_text(6), "sent_at": x.opt_text(7)}))
        .collect();
    Ok(Notice {
        id: r.text(0),
        run_id: r.text(1),
        customer_id: r.text(2),
        level: r.int(3),
        channel: r.text(4),
        language: r.text(5),
        overdue: Money::new(r.int(7), cur),
        fee: Money::new(r.int(8), cur),
        interest: Money::new(r.int(9), cur),
        subject: r.text(10),
        body: r.text(11),
        status: r.text(12),
        created_at: r.text(13),
        items,
        deliveries,
    })
}

pub fn list(conn: &mut dyn Conn, customer_id: Option<&str>) -> Result<Vec<Notice>> {
    let ids: Vec<String> = conn
        .query("SELECT id FROM dunning_notices WHERE ($1 = '' OR customer_id = $1) ORDER BY created_at DESC, id LIMIT 500", params![customer_id.unwrap_or("")])?
        .iter()
        .map(|r| r.text(0))
        .collect();
    ids.iter().map(|id| get(conn, id)).collect()
}
