//! Remittance advice: the payer's own list of what a payment pays (X12 820, CSV). Stored on
//! import; the matching run joins an advice to its bank line (same amount and currency, and the
//! trace number on the line or a value date close to the advice's) and reads the invoices it
//! names as references of the line.

use crate::context::Ctx;
use crate::error::Result;
use crate::event::{self, EventType, NewEvent};
use chrono::NaiveDate;
use o2c_core::id::RemittanceAdviceId;
use o2c_core::{Currency, DomainError};
use o2c_edi::Remittance;
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemittanceReport {
    pub format: String,
    pub advices: usize,
    /// Advices already imported (same trace number, or same file and position).
    pub duplicates: usize,
    pub invoices_named: usize,
    pub warnings: Vec<String>,
}

/// Reads an X12 820 interchange (from `ISA`) or a CSV remittance file.
pub fn parse(bytes: &[u8], default_currency: Currency) -> Result<(String, Vec<Remittance>)> {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        .unwrap_or(0);
    let bad = |e: o2c_edi::EdiError| DomainError::MalformedStatement(e.to_string());
    if bytes[text_start..].starts_with(b"ISA") {
        let mut out = Vec::new();
        for ic in o2c_edi::read_interchanges(bytes).map_err(bad)? {
            out.extend(o2c_edi::read_820s(&ic, default_currency).map_err(bad)?);
        }
        Ok(("x12-820".into(), out))
    } else {
        let out = o2c_edi::read_csv_remittances(bytes, default_currency).map_err(bad)?;
        Ok(("csv".into(), out))
    }
}

pub fn import_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    bytes: &[u8],
    source: &str,
) -> Result<RemittanceReport> {
    let functional = crate::fx::functional_currency(conn)?;
    let (format, advices) = parse(bytes, functional)?;
    if advices.is_empty() {
        return Err(
            DomainError::MalformedStatement("the file holds no remittance advice".into()).into(),
        );
    }
    let sha: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut report = RemittanceReport {
        format: format.clone(),
        advices: 0,
        duplicates: 0,
        invoices_named: 0,
        warnings: Vec::new(),
    };
    for (i, r) in advices.iter().enumerate() {
        let key = match &r.payment.trace_number {
            Some(t) => format!(
                "trace:{}:{}:{}",
                r.payer_id.as_deref().unwrap_or(""),
                t,
                r.payment.amount.minor()
            ),
            None => format!("file:{sha}:{i}"),
        };
        if conn
            .query_opt(
                "SELECT 1 FROM remittance_advices WHERE advice_key = $1",
                params![key.as_str()],
            )?
            .is_some()
        {
            report.duplicates += 1;
            continue;
        }
        let numbers: Vec<&str> = r
            .items
            .iter()
            .map(|it| it.invoice_number.as_str())
            .collect();
        let id = RemittanceAdviceId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO remittance_advices (id, advice_key, format, payer_name, payer_id, amount_minor, currency, effective_date, trace_number, invoice_numbers, items, status, source, imported_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13)",
            params![
                id.as_str(),
                key.as_str(),
                format.as_str(),
                r.payer_name.as_deref(),
                r.payer_id.as_deref(),
                r.payment.amount.minor(),
                r.payment.amount.currency().code(),
                r.payment.effective_date.map(|d| d.to_string()),
                r.payment.trace_number.as_deref(),
                serde_json::to_string(&numbers)?,
                serde_json::to_string(&r.items)?,
                source,
                ctx.timestamp()
            ],
        )?;
        report.advices += 1;
        report.invoices_named += numbers.len();
        report
            .warnings
            .extend(r.warnings.iter().map(|w| format!("advice {}: {w}", i + 1)));
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::RemittanceImported,
            aggregate_type: "remittance_file",
            aggregate_id: &sha,
            order_id: None,
            customer_id: None,
            data: json!({"format": format, "advices": report.advices, "duplicates": report.duplicates, "source": source}),
        },
    )?;
    Ok(report)
}

/// An open advice as the matching run uses it.
pub struct OpenAdvice {
    pub id: String,
    pub trace_number: Option<String>,
    pub effective_date: Option<NaiveDate>,
    pub invoice_numbers: Vec<String>,
}

/// Open advices by (currency, amount).
pub fn open_advices(conn: &mut dyn Conn) -> Result<HashMap<(String, i64), Vec<OpenAdvice>>> {
    let mut out: HashMap<(String, i64), Vec<OpenAdvice>> = HashMap::new();
    for r in conn.query(
        "SELECT id, currency, amount_minor, trace_number, effective_date, invoice_numbers FROM remittance_advices WHERE status = 'open'",
        params![],
    )? {
        out.entry((r.text(1), r.int(2))).or_default().push(OpenAdvice {
            id: r.text(0),
            trace_number: r.opt_text(3),
            effective_date: r
                .opt_text(4)
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            invoice_numbers: serde_json::from_str(&r.text(5)).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The one advice a bank line carries out: same amount, and its trace number on the line, or
/// else the only one valued within a week of the line.
pub fn advice_for<'a>(
    advices: &'a HashMap<(String, i64), Vec<OpenAdvice>>,
    used: &std::collections::HashSet<String>,
    payment: &o2c_core::matching::Payment,
    bank_reference_text: &str,
) -> Option<&'a OpenAdvice> {
    let list = advices.get(&(
        payment.amount.currency().code().to_string(),
        payment.amount.minor(),
    ))?;
    let open: Vec<&OpenAdvice> = list.iter().filter(|a| !used.contains(&a.id)).collect();
    let text: String = payment
        .remittance
        .iter()
        .chain(payment.end_to_end_id.iter())
        .map(String::as_str)
        .chain([bank_reference_text])
        .collect::<Vec<_>>()
        .join(" ");
    let traced: Vec<&&OpenAdvice> = open
        .iter()
        .filter(|a| {
            a.trace_number
                .as_deref()
                .is_some_and(|t| t.len() >= 4 && text.contains(t))
        })
        .collect();
    if traced.len() == 1 {
        return Some(traced[0]);
    }
    let near: Vec<&&OpenAdvice> = open
        .iter()
        .filter(|a| {
            a.effective_date
                .is_some_and(|d| (d - payment.value_date).num_days().abs() <= 7)
        })
        .collect();
    (near.len() == 1).then(|| *near[0])
}
