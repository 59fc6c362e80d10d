//! ISO 20022 camt.053 statements, camt.054 notifications and camt.052 reports, versions
//! .001.02 to .001.08.
//!
//! The three share one entry layout (`Ntry`), so one reader serves them; they differ in the
//! message and statement element names. Version differences handled here: `Sts` is a code in
//! v2-v7 and a `Cd`/`Prtry` choice in v8; parties are `Dbtr/Nm` up to v7 and `Dbtr/Pty/Nm` in
//! v8; BICs are `BIC` in v2-v4 and `BICFI` later; `TxDtls/Amt` exists from v3, v2 has only
//! `AmtDtls`.

use crate::amount::{self, XML_AMOUNT};
use crate::error::{Problem, StatementError};
use crate::model::{
    Account, Balance, Direction, Entry, Format, Statement, Status, StructuredReference, Transaction,
};
use crate::text::{non_empty, reference};
use crate::xml::{Node, XmlReader};
use chrono::{NaiveDate, NaiveDateTime};
use o2c_core::money::{Currency, Money};
use o2c_core::reference::is_valid_rf;

/// Element names of one camt message type.
struct Layout {
    message: &'static str,
    statement: &'static str,
}

fn layout(format: Format) -> Layout {
    match format {
        Format::Camt054 => Layout {
            message: "BkToCstmrDbtCdtNtfctn",
            statement: "Ntfctn",
        },
        Format::Camt052 => Layout {
            message: "BkToCstmrAcctRpt",
            statement: "Rpt",
        },
        _ => Layout {
            message: "BkToCstmrStmt",
            statement: "Stmt",
        },
    }
}

/// Reads every statement of a camt message whose format [`crate::detect`] already established.
pub(crate) fn parse(bytes: &[u8], format: Format) -> Result<Vec<Statement>, StatementError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let input = std::str::from_utf8(bytes).map_err(|e| {
        let line = crate::text::line_of(bytes, e.valid_up_to());
        StatementError::at_element(line, "Document", Problem::NotUtf8)
    })?;
    let names = layout(format);
    let mut reader = XmlReader::new(input);
    let message_line = open_message(&mut reader, &names)?;
    let mut group_header = None;
    let mut statements = Vec::new();
    while let Some(tag) = reader.next_child(names.message)? {
        match tag.name() {
            "GrpHdr" => group_header = Some(reader.subtree(tag, "GrpHdr")?),
            name if name == names.statement => {
                statements.push(read_statement(&mut reader, tag.line, &names, format)?);
            }
            _ => {
                reader.subtree(tag, names.message)?;
            }
        }
    }
    close_document(&mut reader, message_line)?;
    let missing = |name| {
        StatementError::at_element(
            message_line,
            names.message,
            Problem::MissingElement { name },
        )
    };
    let header = group_header.ok_or_else(|| missing("GrpHdr"))?;
    if statements.is_empty() {
        return Err(missing(names.statement));
    }
    let message_id = required_text(&header, "MsgId", "GrpHdr")?.to_string();
    let created_at = optional_datetime(header.child("CreDtTm"), "GrpHdr/CreDtTm")?;
    for statement in &mut statements {
        statement.message_id.clone_from(&message_id);
        statement.created_at = statement.created_at.or(created_at);
    }
    Ok(statements)
}

/// Reads up to the message element (`BkToCstmrStmt`, …) and returns its line.
fn open_message(reader: &mut XmlReader<'_>, names: &Layout) -> Result<usize, StatementError> {
    let Some(root) = reader.next_child("")? else {
        return Err(StatementError::UnknownFormat);
    };
    let message = reader.next_child("Document")?.ok_or_else(|| {
        StatementError::at_element(
            root.line,
            "Document",
            Problem::MissingElement {
                name: names.message,
            },
        )
    })?;
    if message.name() != names.message {
        return Err(StatementError::at_element(
            message.line,
            format!("Document/{}", message.name()),
            Problem::UnexpectedElement {
                found: message.name().to_string(),
                expected: "the message element of the namespace's message type",
            },
        ));
    }
    Ok(message.line)
}

/// Reads past the rest of the document, which must end there.
fn close_document(reader: &mut XmlReader<'_>, message_line: usize) -> Result<(), StatementError> {
    while let Some(tag) = reader.next_child("Document")? {
        reader.subtree(tag, "Document")?;
    }
    if reader.next_child("")?.is_some() {
        return Err(StatementError::at_element(
            message_line,
            "Document",
            Problem::XmlSyntax {
                message: "more than one root element".to_string(),
            },
        ));
    }
    Ok(())
}

fn optional_datetime(
    node: Option<&Node<'_>>,
    path: &str,
) -> Result<Option<NaiveDateTime>, StatementError> {
    node.map(|n| {
        amount::parse_iso_datetime(n.text())
            .map_err(|p| StatementError::at_element(n.line, path, p))
    })
    .transpose()
}

/// Reads one `Stmt`/`Ntfctn`/`Rpt`, entry by entry.
fn read_statement(
    reader: &mut XmlReader<'_>,
    line: usize,
    names: &Layout,
    format: Format,
) -> Result<Statement, StatementError> {
    let ctx = names.statement;
    let mut header = Vec::new();
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    while let Some(tag) = reader.next_child(ctx)? {
        if tag.name() == "Ntry" {
            let node = reader.subtree(tag, "Ntry")?;
            let (entry, warning) = read_entry(&node)?;
            entries.push(entry);
            warnings.extend(warning);
        } else {
            header.push(reader.subtree(tag, ctx)?);
        }
    }
    let find = |name: &str| header.iter().find(|n| n.name == name);
    let missing = |name: &'static str| {
        StatementError::at_element(line, ctx, Problem::MissingElement { name })
    };
    let statement_id = find("Id")
        .map(|n| n.text().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("Id"))?;
    let created_at = optional_datetime(find("CreDtTm"), &format!("{ctx}/CreDtTm"))?;
    let acct = find("Acct").ok_or_else(|| missing("Acct"))?;
    let (opening, closing) = opening_and_closing(&header, ctx)?;
    let currency = match acct.child("Ccy") {
        Some(ccy) => amount::currency(ccy.text())
            .map_err(|p| StatementError::at_element(ccy.line, format!("{ctx}/Acct/Ccy"), p))?,
        None => opening
            .or(closing)
            .map(|b: Balance| b.amount.currency())
            .or_else(|| entries.first().map(|e: &Entry| e.amount.currency()))
            .ok_or_else(|| {
                StatementError::at_element(
                    acct.line,
                    format!("{ctx}/Acct"),
                    Problem::NoCurrency {
                        detail: "no Acct/Ccy, no opening or closing balance and no entry",
                    },
                )
            })?,
    };
    let mut statement = Statement {
        format,
        message_id: String::new(),
        statement_id,
        created_at,
        account: read_account(acct),
        currency,
        opening_balance: opening,
        closing_balance: closing,
        entries,
        warnings,
    };
    statement.check_balance();
    Ok(statement)
}

/// The booked opening and closing balances. Every `Bal` is read, so a malformed one refuses
/// the file even when it is of a type not kept.
fn opening_and_closing(
    header: &[Node<'_>],
    ctx: &str,
) -> Result<(Option<Balance>, Option<Balance>), StatementError> {
    // OPBD is the opening balance; some banks give only PRCD, the previous closing balance.
    let (mut opbd, mut prcd, mut closing) = (None, None, None);
    for bal in header.iter().filter(|n| n.name == "Bal") {
        let (code, balance) = read_balance(bal, ctx)?;
        let slot = match code {
            "OPBD" => &mut opbd,
            "PRCD" => &mut prcd,
            "CLBD" => &mut closing,
            _ => continue,
        };
        slot.get_or_insert(balance);
    }
    Ok((opbd.or(prcd), closing))
}

fn read_account(acct: &Node<'_>) -> Account {
    let iban = acct.text_at(&["Id", "IBAN"]).map(str::to_string);
    Account {
        other_id: acct
            .text_at(&["Id", "Othr", "Id"])
            .map(str::to_string)
            .filter(|_| iban.is_none()),
        iban,
        name: acct
            .text_at(&["Nm"])
            .or_else(|| acct.text_at(&["Ownr", "Nm"]))
            .map(str::to_string),
        servicer_bic: acct
            .text_at(&["Svcr", "FinInstnId", "BICFI"])
            .or_else(|| acct.text_at(&["Svcr", "FinInstnId", "BIC"]))
            .map(str::to_string),
    }
}

fn read_balance<'n>(bal: &'n Node<'_>, ctx: &str) -> Result<(&'n str, Balance), StatementError> {
    let path = format!("{ctx}/Bal");
    let code = bal.text_at(&["Tp", "CdOrPrtry", "Cd"]).unwrap_or("");
    let amount = money(bal, &path)?;
    let signed = match direction(bal, &path)? {
        Direction::Credit => amount,
        Direction::Debit => amount.checked_neg().map_err(|_| {
            StatementError::at_element(
                bal.line,
                &path,
                Problem::AmountOutOfRange {
                    value: amount.to_string(),
                },
            )
        })?,
    };
    let date = date_choice(bal.child("Dt"), &format!("{path}/Dt"))?.ok_or_else(|| {
        StatementError::at_element(bal.line, &path, Problem::MissingElement { name: "Dt" })
    })?;
    Ok((
        code,
        Balance {
            amount: signed,
            date,
        },
    ))
}

/// One `Ntry`, and a warning when its batch had to be kept whole.
fn read_entry(ntry: &Node<'_>) -> Result<(Entry, Option<String>), StatementError> {
    let ctx = "Ntry";
    let amount = money(ntry, ctx)?;
    let direction = direction(ntry, ctx)?;
    let sts = ntry.child("Sts").ok_or_else(|| {
        StatementError::at_element(ntry.line, ctx, Problem::MissingElement { name: "Sts" })
    })?;
    let status = match sts.text_at(&["Cd"]).unwrap_or_else(|| sts.text()) {
        "BOOK" => Status::Booked,
        "PDNG" => Status::Pending,
        _ => Status::Other,
    };
    let additional = ntry.text_at(&["AddtlNtryInf"]);
    let details: Vec<&Node<'_>> = ntry
        .children_named("NtryDtls")
        .flat_map(|d| d.children_named("TxDtls"))
        .collect();
    let mut warning = None;
    let transactions = if details.is_empty() {
        let mut tx = Transaction::bare(amount, direction);
        tx.additional_info = additional.map(str::to_string);
        vec![tx]
    } else {
        let read: Vec<(Transaction, bool)> = details
            .iter()
            .map(|tx| read_transaction(tx, direction, amount, additional))
            .collect::<Result<_, _>>()?;
        let (transactions, kept_whole) = split_batch(read, amount, direction);
        if kept_whole {
            warning = Some(format!(
                "line {}, Ntry: batch of {} transactions without their amounts: read as one \
                 transaction of the entry amount {amount}, with the remittance of all",
                ntry.line,
                details.len()
            ));
        }
        transactions
    };
    let entry = Entry {
        amount,
        direction,
        status,
        booking_date: date_choice(ntry.child("BookgDt"), "Ntry/BookgDt")?,
        value_date: date_choice(ntry.child("ValDt"), "Ntry/ValDt")?,
        reversal: matches!(ntry.text_at(&["RvslInd"]), Some("true" | "1")),
        bank_reference: ntry.text_at(&["AcctSvcrRef"]).map(str::to_string),
        bank_transaction_code: ntry.child("BkTxCd").and_then(transaction_code),
        transactions,
    };
    Ok((entry, warning))
}

/// Gives every transaction of a batch its amount. camt v2 makes `TxDtls` amounts optional: one
/// missing amount is the entry amount less the others; with more missing the payments cannot be
/// told apart, so the batch stays one transaction of the entry amount (with all references)
/// rather than inventing a split. Returns whether it was kept whole.
fn split_batch(
    read: Vec<(Transaction, bool)>,
    entry_amount: Money,
    entry_direction: Direction,
) -> (Vec<Transaction>, bool) {
    let missing = read.iter().filter(|(_, has_amount)| !has_amount).count();
    if missing == 0 || read.len() == 1 {
        return (read.into_iter().map(|(tx, _)| tx).collect(), false);
    }
    if missing == 1 && read.iter().all(|(tx, _)| tx.direction == entry_direction) {
        let others = read
            .iter()
            .filter(|(_, has_amount)| *has_amount)
            .try_fold(Money::zero(entry_amount.currency()), |sum, (tx, _)| {
                sum.checked_add(tx.amount)
            });
        if let Ok(rest) = others.and_then(|o| entry_amount.checked_sub(o))
            && !rest.is_negative()
        {
            let txs = read
                .into_iter()
                .map(|(mut tx, has_amount)| {
                    if !has_amount {
                        tx.amount = rest;
                    }
                    tx
                })
                .collect();
            return (txs, false);
        }
    }
    let mut whole = Transaction::bare(entry_amount, entry_direction);
    for (tx, _) in read {
        whole
            .remittance_unstructured
            .extend(tx.remittance_unstructured);
        whole.remittance_structured.extend(tx.remittance_structured);
        whole.additional_info = whole.additional_info.or(tx.additional_info);
    }
    (vec![whole], true)
}

/// One `TxDtls`, and whether it carried its own amount (if not, it holds the entry amount).
fn read_transaction(
    tx: &Node<'_>,
    entry_direction: Direction,
    entry_amount: Money,
    entry_info: Option<&str>,
) -> Result<(Transaction, bool), StatementError> {
    let ctx = "Ntry/NtryDtls/TxDtls";
    let amount_node = tx
        .child("Amt")
        .map(|n| (n, "Amt"))
        .or_else(|| {
            tx.at(&["AmtDtls", "TxAmt", "Amt"])
                .map(|n| (n, "AmtDtls/TxAmt/Amt"))
        })
        .or_else(|| {
            tx.at(&["AmtDtls", "InstdAmt", "Amt"])
                .map(|n| (n, "AmtDtls/InstdAmt/Amt"))
        });
    let (amount, has_amount) = match amount_node {
        Some((node, path)) => (amount_of(node, &format!("{ctx}/{path}"))?, true),
        None => (entry_amount, false),
    };
    let direction = match tx.child("CdtDbtInd") {
        Some(_) => direction(tx, ctx)?,
        None => entry_direction,
    };
    let (party, account, agent) = match direction {
        Direction::Credit => ("Dbtr", "DbtrAcct", "DbtrAgt"),
        Direction::Debit => ("Cdtr", "CdtrAcct", "CdtrAgt"),
    };
    let ultimate = match direction {
        Direction::Credit => "UltmtDbtr",
        Direction::Debit => "UltmtCdtr",
    };
    let parties = tx.child("RltdPties");
    let name =
        parties.and_then(|p| party_name(p.child(party)).or_else(|| party_name(p.child(ultimate))));
    let account_id = parties.and_then(|p| p.child(account)).and_then(|a| {
        a.text_at(&["Id", "IBAN"])
            .or_else(|| a.text_at(&["Id", "Othr", "Id"]))
    });
    let bic_of = |f: &Node<'_>| {
        f.text_at(&["BICFI"])
            .or_else(|| f.text_at(&["BIC"]))
            .map(str::to_string)
    };
    let bic = tx
        .at(&["RltdAgts", agent, "FinInstnId"])
        .and_then(bic_of)
        .or_else(|| {
            parties
                .and_then(|p| p.at(&[party, "Agt", "FinInstnId"]))
                .and_then(bic_of)
        });
    let mut transaction = Transaction::bare(amount, direction);
    transaction.end_to_end_id = tx.text_at(&["Refs", "EndToEndId"]).and_then(reference);
    transaction.instruction_id = tx.text_at(&["Refs", "InstrId"]).and_then(reference);
    transaction.uetr = tx.text_at(&["Refs", "UETR"]).map(str::to_string);
    transaction.counterparty_name = name;
    transaction.counterparty_account = account_id.map(str::to_string);
    transaction.counterparty_bic = bic;
    transaction.additional_info = tx
        .text_at(&["AddtlTxInf"])
        .or(entry_info)
        .map(str::to_string);
    if let Some(rmt) = tx.child("RmtInf") {
        read_remittance(rmt, &mut transaction);
    }
    transaction.return_reason = tx
        .text_at(&["RtrInf", "Rsn", "Cd"])
        .or_else(|| tx.text_at(&["RtrInf", "Rsn", "Prtry"]))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    Ok((transaction, has_amount))
}

/// `Nm` up to v7, `Pty/Nm` in v8, or the name of a bank acting as the party (v8 `Agt`).
fn party_name(party: Option<&Node<'_>>) -> Option<String> {
    let p = party?;
    p.text_at(&["Nm"])
        .or_else(|| p.text_at(&["Pty", "Nm"]))
        .or_else(|| p.text_at(&["Agt", "FinInstnId", "Nm"]))
        .map(str::to_string)
}

fn read_remittance(rmt: &Node<'_>, tx: &mut Transaction) {
    for line in rmt
        .children_named("Ustrd")
        .filter_map(|n| non_empty(n.text()))
    {
        tx.remittance_unstructured.push(line);
    }
    for strd in rmt.children_named("Strd") {
        for cri in strd.children_named("CdtrRefInf") {
            let Some(reference) = cri.text_at(&["Ref"]) else {
                continue;
            };
            let kind = match (
                cri.text_at(&["Tp", "CdOrPrtry", "Cd"]),
                cri.text_at(&["Tp", "CdOrPrtry", "Prtry"]),
            ) {
                (Some(code), _) => code.to_string(),
                // Swiss banks name the ESR/ISR reference in words.
                (None, Some("ISR Reference")) => "ISR".to_string(),
                (None, Some(proprietary)) => proprietary.to_string(),
                (None, None) if is_valid_rf(reference) => "SCOR".to_string(),
                (None, None) => "UNSPECIFIED".to_string(),
            };
            tx.remittance_structured.push(StructuredReference {
                kind,
                issuer: cri.text_at(&["Tp", "Issr"]).map(str::to_string),
                reference: reference.to_string(),
            });
        }
        for doc in strd.children_named("RfrdDocInf") {
            let Some(number) = doc.text_at(&["Nb"]) else {
                continue;
            };
            let kind = doc
                .text_at(&["Tp", "CdOrPrtry", "Cd"])
                .or_else(|| doc.text_at(&["Tp", "CdOrPrtry", "Prtry"]))
                .unwrap_or("RfrdDoc");
            tx.remittance_structured.push(StructuredReference {
                kind: kind.to_string(),
                issuer: doc.text_at(&["Tp", "Issr"]).map(str::to_string),
                reference: number.to_string(),
            });
        }
        for line in strd
            .children_named("AddtlRmtInf")
            .filter_map(|n| non_empty(n.text()))
        {
            tx.remittance_unstructured.push(line);
        }
    }
}

/// `PMNT/RCDT/ESCT` for an ISO code, else the proprietary code.
fn transaction_code(btc: &Node<'_>) -> Option<String> {
    if let Some(domain) = btc.text_at(&["Domn", "Cd"]) {
        let family = btc.text_at(&["Domn", "Fmly", "Cd"]).unwrap_or("");
        let sub = btc.text_at(&["Domn", "Fmly", "SubFmlyCd"]).unwrap_or("");
        return Some(format!("{domain}/{family}/{sub}"));
    }
    btc.text_at(&["Prtry", "Cd"]).map(str::to_string)
}

fn required_text<'n>(
    node: &'n Node<'_>,
    name: &'static str,
    ctx: &str,
) -> Result<&'n str, StatementError> {
    node.text_at(&[name])
        .ok_or_else(|| StatementError::at_element(node.line, ctx, Problem::MissingElement { name }))
}

/// The `Amt` child of `parent` with its `Ccy` attribute.
fn money(parent: &Node<'_>, ctx: &str) -> Result<Money, StatementError> {
    let node = parent.child("Amt").ok_or_else(|| {
        StatementError::at_element(parent.line, ctx, Problem::MissingElement { name: "Amt" })
    })?;
    amount_of(node, &format!("{ctx}/Amt"))
}

fn amount_of(node: &Node<'_>, path: &str) -> Result<Money, StatementError> {
    let at = |problem| StatementError::at_element(node.line, path, problem);
    let code = node
        .attr("Ccy")
        .ok_or_else(|| at(Problem::MissingAttribute { name: "Ccy" }))?;
    let currency: Currency = amount::currency(code).map_err(at)?;
    amount::parse_amount(node.text(), XML_AMOUNT, currency).map_err(at)
}

fn direction(parent: &Node<'_>, ctx: &str) -> Result<Direction, StatementError> {
    let node = parent.child("CdtDbtInd").ok_or_else(|| {
        StatementError::at_element(
            parent.line,
            ctx,
            Problem::MissingElement { name: "CdtDbtInd" },
        )
    })?;
    match node.text() {
        "CRDT" => Ok(Direction::Credit),
        "DBIT" => Ok(Direction::Debit),
        other => Err(StatementError::at_element(
            node.line,
            format!("{ctx}/CdtDbtInd"),
            Problem::InvalidCode {
                value: other.to_string(),
                expected: "CRDT or DBIT",
            },
        )),
    }
}

/// `Dt` or `DtTm` inside a date choice element.
fn date_choice(choice: Option<&Node<'_>>, path: &str) -> Result<Option<NaiveDate>, StatementError> {
    let Some(choice) = choice else {
        return Ok(None);
    };
    if let Some(dt) = choice.child("Dt") {
        return amount::parse_iso_date(dt.text())
            .map(Some)
            .map_err(|p| StatementError::at_element(dt.line, format!("{path}/Dt"), p));
    }
    if let Some(dt) = choice.child("DtTm") {
        return amount::parse_iso_datetime(dt.text())
            .map(|d| Some(d.date()))
            .map_err(|p| StatementError::at_element(dt.line, format!("{path}/DtTm"), p));
    }
    Ok(None)
}
