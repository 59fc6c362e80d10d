//! The demo's bank: customers who pay by transfer do so through the company's bank account, and
//! the day's camt.053 statement goes through cash application like a real one. Remittance texts
//! are as careless as real ones: the invoice number as printed, reshaped, the RF reference, or
//! nothing at all.

use super::generator::Rng;
use crate::cash::camt_file::camt053;
use crate::cash::{import, run};
use crate::{App, Result};
use o2c_core::matching::Payment;
use o2c_core::{Actor, Currency, Money};

/// One incoming transfer.
pub(super) struct Transfer {
    pub customer_id: String,
    pub customer_name: String,
    pub amount_minor: i64,
    pub remittance: String,
    pub rf: Option<String>,
}

/// A German IBAN for a customer: the same every time, with valid check digits.
pub(super) fn iban_for(customer_id: &str) -> String {
    let digits: String = customer_id
        .bytes()
        .fold(1469598103934665603u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        })
        .to_string()
        .chars()
        .cycle()
        .take(18)
        .collect();
    // ISO 13616: the check digits make BBAN + "DE00" (letters as numbers) ≡ 1 mod 97.
    let numeric = format!("{digits}131400");
    let rem = numeric
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("DE{:02}{digits}", 98 - rem)
}

/// How a payer writes the invoice it pays.
pub(super) fn remittance_for(rng: &mut Rng, number: &str) -> (String, bool) {
    match rng.below(10) {
        0..=3 => (format!("Invoice {number}"), false),
        4 => (number.replace('-', ""), false),
        5 => (format!("Rechnung {}", number.replace('-', " ")), false),
        6 | 7 => (String::new(), true),
        8 => (format!("{number} thank you"), false),
        _ => ("Payment".into(), false),
    }
}

/// Imports the day's statement with `transfers` and runs cash application.
pub(super) async fn statement(app: &App, transfers: Vec<Transfer>) -> Result<run::MatchReport> {
    if transfers.is_empty() {
        return Ok(run::MatchReport::default());
    }
    let today = app.today();
    let payments: Vec<Payment> = transfers
        .into_iter()
        .map(|t| Payment {
            amount: Money::new(t.amount_minor, Currency::EUR),
            value_date: today,
            counterparty_account: Some(iban_for(&t.customer_id)),
            counterparty_name: t.customer_name,
            remittance: (!t.remittance.is_empty())
                .then_some(t.remittance)
                .into_iter()
                .collect(),
            structured_refs: t.rf.into_iter().collect(),
            end_to_end_id: None,
        })
        .collect();
    let file = camt053(
        &format!("DEMO-{today}"),
        "DE89370400440532013000",
        &payments,
    );
    let actor = Actor::ApiKey("bank-feed".into());
    app.write(actor.clone(), move |c, ctx| {
        import::import_in_tx(c, ctx, file.as_bytes(), "demo bank feed")
    })
    .await?;
    run::run(app, Actor::Rule("cash.match")).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_ibans_are_valid() {
        for id in ["cus_1", "cus_01JD00000000000000000000", "x"] {
            let iban = super::iban_for(id);
            assert!(o2c_core::reference::is_valid_iban(&iban), "{iban}");
        }
    }
}
