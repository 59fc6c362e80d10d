//! Writes incoming payments as a camt.053.001.02 statement of one account: the file the demo's
//! bank feed and the cash-application benchmark import through the real path.

use o2c_core::matching::Payment;
use std::fmt::Write;

/// One statement of `account_iban` holding `payments` as booked credits, entry i = payment i
/// (bank reference `{message_id}-{i}`). Amounts in the payments' currency.
pub fn camt053(message_id: &str, account_iban: &str, payments: &[Payment]) -> String {
    let currency = payments
        .first()
        .map_or(o2c_core::Currency::EUR, |p| p.amount.currency());
    let created = payments
        .iter()
        .map(|p| p.value_date)
        .max()
        .map_or_else(String::new, |d| d.to_string());
    let mut x = String::with_capacity(payments.len() * 900 + 512);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>{created}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{id}</Id><CreDtTm>{created}T06:00:00</CreDtTm>
<Acct><Id><IBAN>{account_iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
"#,
        id = esc(message_id),
    );
    for (i, p) in payments.iter().enumerate() {
        let _ = write!(
            x,
            "<Ntry><Amt Ccy=\"{currency}\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{d}</Dt></BookgDt><ValDt><Dt>{d}</Dt></ValDt><AcctSvcrRef>{}-{i}</AcctSvcrRef><NtryDtls><TxDtls>",
            p.amount.to_decimal_string(),
            esc(message_id),
            d = p.value_date,
        );
        if let Some(e2e) = &p.end_to_end_id {
            let _ = write!(x, "<Refs><EndToEndId>{}</EndToEndId></Refs>", esc(e2e));
        }
        x.push_str("<RltdPties>");
        if !p.counterparty_name.is_empty() {
            let _ = write!(x, "<Dbtr><Nm>{}</Nm></Dbtr>", esc(&p.counterparty_name));
        }
        if let Some(a) = &p.counterparty_account {
            let compact = super::normalize_account(a);
            if o2c_core::reference::is_valid_iban(&compact) {
                let _ = write!(x, "<DbtrAcct><Id><IBAN>{compact}</IBAN></Id></DbtrAcct>");
            } else {
                let _ = write!(
                    x,
                    "<DbtrAcct><Id><Othr><Id>{}</Id></Othr></Id></DbtrAcct>",
                    esc(a)
                );
            }
        }
        x.push_str("</RltdPties><RmtInf>");
        for u in &p.remittance {
            let _ = write!(x, "<Ustrd>{}</Ustrd>", esc(u));
        }
        for r in &p.structured_refs {
            let _ = write!(
                x,
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{}</Ref></CdtrRefInf></Strd>",
                esc(r)
            );
        }
        x.push_str("</RmtInf></TxDtls></NtryDtls></Ntry>\n");
    }
    x.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    x
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use o2c_core::{Currency, Money};

    #[test]
    fn what_is_written_reads_back_as_the_same_payments() {
        let p = Payment {
            amount: Money::new(11_900, Currency::EUR),
            value_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            counterparty_name: "Müller & Söhne".into(),
            counterparty_account: Some("DE02 1203 0000 0000 2020 51".into()),
            remittance: vec!["Invoice INV-2026-000001 <thanks>".into()],
            structured_refs: vec!["RF18539007547034".into()],
            end_to_end_id: Some("E2E-1".into()),
        };
        let file = camt053("FEED-1", "DE89370400440532013000", &[p.clone()]);
        let st = o2c_bank::parse(file.as_bytes()).unwrap();
        let t = &st[0].entries[0].transactions[0];
        assert_eq!(t.amount, p.amount);
        assert_eq!(t.counterparty_name.as_deref(), Some("Müller & Söhne"));
        assert_eq!(
            t.counterparty_account.as_deref(),
            Some("DE02120300000000202051")
        );
        assert_eq!(t.remittance_unstructured, p.remittance);
        assert_eq!(t.remittance_structured[0].reference, "RF18539007547034");
        assert_eq!(st[0].entries[0].bank_reference.as_deref(), Some("FEED-1-0"));
    }
}
