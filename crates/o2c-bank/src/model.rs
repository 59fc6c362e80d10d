//! The one statement model every format is read into.
//!
//! This is what `o2c import statement FILE --dry-run --json` prints, so field names are part of
//! the interface: rename nothing. Optional fields are always present in JSON (as `null`) so the
//! shape never depends on the bank. Cash application works per [`Transaction`]: a batch entry
//! (one booking for several payments) carries one transaction per payment.

use chrono::{NaiveDate, NaiveDateTime};
use o2c_core::money::{Currency, Money};
use serde::Serialize;

/// The file format a statement was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// ISO 20022 camt.053 bank-to-customer statement (end of day, booked).
    Camt053,
    /// ISO 20022 camt.054 debit/credit notification (single bookings, often batch details).
    Camt054,
    /// ISO 20022 camt.052 account report (intraday).
    Camt052,
    /// SWIFT MT940 customer statement.
    Mt940,
    /// BAI2 cash management balance report (US/UK banks).
    Bai2,
    /// Bank CSV export read through a saved [`crate::CsvMapping`].
    Csv,
}

impl Format {
    /// Human name, as used in messages ("camt.053", "MT940").
    pub fn name(self) -> &'static str {
        match self {
            Format::Camt053 => "camt.053",
            Format::Camt054 => "camt.054",
            Format::Camt052 => "camt.052",
            Format::Mt940 => "MT940",
            Format::Bai2 => "BAI2",
            Format::Csv => "CSV",
        }
    }
}

/// One statement (camt `Stmt`/`Ntfctn`/`Rpt`, one MT940 message, one BAI2 account record, one
/// CSV file) of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Format the statement was read from.
    pub format: Format,
    /// Id of the file or message that carried the statement (camt `GrpHdr/MsgId`, MT940 `:20:`,
    /// BAI2 sender and file id, CSV `csv:` + a hash of the file's bytes).
    pub message_id: String,
    /// Id of the statement itself (camt `Stmt/Id`, MT940 `:28C:`, BAI2 account and as-of date).
    pub statement_id: String,
    /// When the bank created the statement, in the bank's own clock (any UTC offset is dropped:
    /// many banks omit it, so it cannot be relied on).
    pub created_at: Option<NaiveDateTime>,
    /// The account the statement is for.
    pub account: Account,
    /// The account's currency; balances and booked entries in it are checked against each other.
    pub currency: Currency,
    /// Booked balance at the start (camt OPBD or PRCD, MT940 `:60F:`/`:60M:`, BAI2 010), signed.
    pub opening_balance: Option<Balance>,
    /// Booked balance at the end (camt CLBD, MT940 `:62F:`/`:62M:`, BAI2 015), signed.
    pub closing_balance: Option<Balance>,
    /// Bookings in file order.
    pub entries: Vec<Entry>,
    /// Things a person should look at that did not stop the import: balances that do not
    /// reconcile, control totals that do not match, dates or encodings read leniently.
    pub warnings: Vec<String>,
}

/// The statement's account as the bank names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// IBAN, when the bank gave one (checked with the ISO 13616 check digits).
    pub iban: Option<String>,
    /// Any other account identifier (national account number, `BLZ/Konto`, BAI2 account number).
    pub other_id: Option<String>,
    /// Account name or owner name, where given.
    pub name: Option<String>,
    /// BIC of the bank that keeps the account, where given.
    pub servicer_bic: Option<String>,
}

/// A balance on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Signed: negative when the account is overdrawn (debit balance).
    pub amount: Money,
    /// The day the balance refers to.
    pub date: NaiveDate,
}

/// Whether money came in or went out of the statement's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money in.
    Credit,
    /// Money out.
    Debit,
}

/// Booking status of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Booked on the account (camt BOOK; every MT940, BAI2 and CSV line).
    Booked,
    /// Announced but not yet booked (camt PDNG).
    Pending,
    /// Anything else (camt INFO, FUTR, proprietary): never counted in balances.
    Other,
}

/// One booking on the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Always positive (or zero); see `direction`.
    pub amount: Money,
    /// Credit or debit.
    pub direction: Direction,
    /// Booked, pending or other.
    pub status: Status,
    /// Day the bank booked the entry.
    pub booking_date: Option<NaiveDate>,
    /// Day the money counts for interest (value date).
    pub value_date: Option<NaiveDate>,
    /// True when the entry reverses an earlier one (camt RvslInd, MT940 RC/RD).
    pub reversal: bool,
    /// The bank's own reference for the booking (camt AcctSvcrRef, MT940 `//` reference, BAI2
    /// bank reference).
    pub bank_reference: Option<String>,
    /// Bank transaction code: camt `Domain/Family/SubFamily` or proprietary code, MT940
    /// transaction type (`NTRF`), BAI2 type code.
    pub bank_transaction_code: Option<String>,
    /// The payments inside the booking: one, or several for a batch entry.
    pub transactions: Vec<Transaction>,
}

/// One payment inside an entry: the unit cash application matches against open items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// Always positive (or zero). For a single-transaction entry this is the entry amount.
    pub amount: Money,
    /// Credit or debit (a batch may mix them in camt v3 and later).
    pub direction: Direction,
    /// End-to-end id set by the payer (`NOTPROVIDED` is read as none).
    pub end_to_end_id: Option<String>,
    /// Instruction id (camt InstrId, MT940 account-owner reference or `KREF+`, BAI2 customer
    /// reference).
    pub instruction_id: Option<String>,
    /// SWIFT gpi UETR (camt.05x.001.08).
    pub uetr: Option<String>,
    /// The other party: the debtor of a credit, the creditor of a debit.
    pub counterparty_name: Option<String>,
    /// The other party's account: IBAN or another identifier.
    pub counterparty_account: Option<String>,
    /// BIC of the other party's bank.
    pub counterparty_bic: Option<String>,
    /// Free-text remittance lines, as the bank split them.
    pub remittance_unstructured: Vec<String>,
    /// Structured creditor references (and referenced document numbers).
    pub remittance_structured: Vec<StructuredReference>,
    /// Further booking text (camt AddtlTxInf or AddtlNtryInf, MT940 posting text).
    pub additional_info: Option<String>,
    /// Why the money came back: the ISO 20022 return reason of a returned payment or direct
    /// debit (camt `RtrInf/Rsn/Cd`, e.g. `AM04`, `MD06`), or its proprietary code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<String>,
}

/// A structured payment reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructuredReference {
    /// `SCOR` (ISO 11649 RF reference), `QRR` (Swiss QR reference), `ISR` (Swiss ESR/ISR),
    /// a referenced-document type such as `CINV`, or the bank's proprietary code.
    pub kind: String,
    /// Issuer of the reference scheme, where given.
    pub issuer: Option<String>,
    /// The reference itself, as written.
    pub reference: String,
}

impl Transaction {
    /// A transaction with only amount and direction set.
    pub(crate) fn bare(amount: Money, direction: Direction) -> Transaction {
        Transaction {
            amount,
            direction,
            end_to_end_id: None,
            instruction_id: None,
            uetr: None,
            counterparty_name: None,
            counterparty_account: None,
            counterparty_bic: None,
            remittance_unstructured: Vec::new(),
            remittance_structured: Vec::new(),
            additional_info: None,
            return_reason: None,
        }
    }
}

impl Transaction {
    /// Adds the RF creditor references (check digits verified) found in the free-text
    /// remittance as structured `SCOR` references, so cash application sees them even when the
    /// bank passed them on only as text.
    pub(crate) fn add_rf_references_from_text(&mut self) {
        let found: Vec<String> = self
            .remittance_unstructured
            .iter()
            .flat_map(|line| crate::text::rf_references_in(line))
            .collect();
        for reference in found {
            if !self
                .remittance_structured
                .iter()
                .any(|r| r.reference == reference)
            {
                self.remittance_structured.push(StructuredReference {
                    kind: "SCOR".to_string(),
                    issuer: None,
                    reference,
                });
            }
        }
    }
}

impl Statement {
    /// Opening balance plus booked credits minus booked debits, compared with the closing
    /// balance. A mismatch is a warning, never an error: test files and some banks' exports do not
    /// reconcile, and refusing them would hide their payments.
    pub(crate) fn check_balance(&mut self) {
        let (Some(opening), Some(closing)) = (self.opening_balance, self.closing_balance) else {
            return;
        };
        for (what, balance) in [("opening", opening), ("closing", closing)] {
            if balance.amount.currency() != self.currency {
                self.warnings.push(format!(
                    "the {what} balance is in {} but the statement is in {}: balances not checked",
                    balance.amount.currency(),
                    self.currency
                ));
                return;
            }
        }
        let mut credits = Money::zero(self.currency);
        let mut debits = Money::zero(self.currency);
        for entry in self.entries.iter().filter(|e| e.status == Status::Booked) {
            let total = match entry.direction {
                Direction::Credit => &mut credits,
                Direction::Debit => &mut debits,
            };
            match total.checked_add(entry.amount) {
                Ok(sum) => *total = sum,
                Err(e) => {
                    self.warnings.push(format!(
                        "booked entries cannot be summed ({e}): balances not checked"
                    ));
                    return;
                }
            }
        }
        let computed = opening
            .amount
            .checked_add(credits)
            .and_then(|m| m.checked_sub(debits));
        match computed {
            Ok(computed) if computed == closing.amount => {}
            Ok(computed) => {
                let difference = closing
                    .amount
                    .checked_sub(computed)
                    .map(|d| d.to_string())
                    .unwrap_or_else(|_| "out of range".to_string());
                self.warnings.push(format!(
                    "balances do not reconcile: opening {} + booked credits {} - booked debits {} = {}, \
                     but the closing balance is {} (difference {difference})",
                    opening.amount, credits, debits, computed, closing.amount
                ));
            }
            Err(e) => self
                .warnings
                .push(format!("balances cannot be computed ({e}): not checked")),
        }
    }

    /// Net of booked entries in the statement currency (credits minus debits).
    pub fn booked_net(&self) -> Option<Money> {
        self.entries
            .iter()
            .filter(|e| e.status == Status::Booked)
            .try_fold(Money::zero(self.currency), |sum, e| match e.direction {
                Direction::Credit => sum.checked_add(e.amount).ok(),
                Direction::Debit => sum.checked_sub(e.amount).ok(),
            })
    }
}
