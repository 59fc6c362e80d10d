//! The demo's bank: customers who pay by transfer do so through the company's bank account, and
//! the day's camt.053 statement goes through cash application like a real one. Remittance texts
//! are as careless as real ones: the invoice number as printed, reshaped, the RF reference, or
//! nothing at all.

use super::generator::Rng;
use crate::cash::{import, run};
use crate::{App, Result};
use o2c_core::Actor;
use o2c_core::money::decimal_string;
use std::fmt::Write;

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
    let mut x = String::new();
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>DEMO-{today}</MsgId><CreDtTm>{today}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>DEMO-{today}</Id><CreDtTm>{today}T06:00:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
"#
    );
    for (i, t) in transfers.iter().enumerate() {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
        let _ = write!(
            x,
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{today}</Dt></BookgDt><ValDt><Dt>{today}</Dt></ValDt><AcctSvcrRef>DEMO{i}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{}</Nm></Dbtr><DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct></RltdPties><RmtInf>",
            decimal_string(t.amount_minor, 2),
            esc(&t.customer_name),
            iban_for(&t.customer_id),
        );
        if !t.remittance.is_empty() {
            let _ = write!(x, "<Ustrd>{}</Ustrd>", esc(&t.remittance));
        }
        if let Some(rf) = &t.rf {
            let _ = write!(
                x,
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{rf}</Ref></CdtrRefInf></Strd>"
            );
        }
        x.push_str("</RmtInf></TxDtls></NtryDtls></Ntry>\n");
    }
    x.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    let actor = Actor::ApiKey("bank-feed".into());
    app.write(actor.clone(), move |c, ctx| {
        import::import_in_tx(c, ctx, x.as_bytes(), "demo bank feed")
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
