//! Double-entry ledger: typed accounts, entries that can only be built balanced, and the named
//! templates every posting comes from. Append-only: a correction is a new, linked entry.

use crate::money::{Currency, Money, MoneyError};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Account {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: AccountType,
}

pub const BANK: Account = Account {
    code: "1000",
    name: "Bank",
    kind: AccountType::Asset,
};
/// The receivables control account: its balance equals the sum of customers' open items.
pub const ACCOUNTS_RECEIVABLE: Account = Account {
    code: "1100",
    name: "Accounts receivable",
    kind: AccountType::Asset,
};
/// Cash received and not yet applied to an invoice: owed back to the customer until applied.
pub const CUSTOMER_CREDITS: Account = Account {
    code: "2000",
    name: "Unapplied cash (customer credits)",
    kind: AccountType::Liability,
};
pub const TAX_PAYABLE: Account = Account {
    code: "2100",
    name: "Output tax payable",
    kind: AccountType::Liability,
};
pub const SALES_REVENUE: Account = Account {
    code: "4000",
    name: "Sales revenue",
    kind: AccountType::Income,
};

pub const CHART: &[Account] = &[
    BANK,
    ACCOUNTS_RECEIVABLE,
    CUSTOMER_CREDITS,
    TAX_PAYABLE,
    SALES_REVENUE,
];

pub fn account(code: &str) -> Option<Account> {
    CHART.iter().copied().find(|a| a.code == code)
}

/// Named posting templates. Every journal entry names the template that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Template {
    #[serde(rename = "INVOICE_ISSUED")]
    InvoiceIssued,
    #[serde(rename = "PAYMENT_RECEIVED")]
    PaymentReceived,
    #[serde(rename = "CASH_APPLIED")]
    CashApplied,
    #[serde(rename = "CREDIT_NOTE_ISSUED")]
    CreditNoteIssued,
}

impl Template {
    pub fn name(&self) -> &'static str {
        match self {
            Template::InvoiceIssued => "INVOICE_ISSUED",
            Template::PaymentReceived => "PAYMENT_RECEIVED",
            Template::CashApplied => "CASH_APPLIED",
            Template::CreditNoteIssued => "CREDIT_NOTE_ISSUED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("journal entry does not balance: debits minus credits = {0}")]
    Unbalanced(Money),
    #[error("journal entry has no postings")]
    Empty,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// One line of an entry: a positive amount debits the account, a negative one credits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub account: &'static str,
    pub amount: Money,
}

/// A balanced journal entry in one currency. The only constructor checks the balance, so an
/// unbalanced entry cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    template: Template,
    document_id: String,
    currency: Currency,
    postings: Vec<Posting>,
}

impl JournalEntry {
    pub fn new(
        template: Template,
        document_id: &str,
        postings: Vec<Posting>,
    ) -> Result<JournalEntry, LedgerError> {
        let postings: Vec<Posting> = postings
            .into_iter()
            .filter(|p| !p.amount.is_zero())
            .collect();
        let currency = postings
            .first()
            .ok_or(LedgerError::Empty)?
            .amount
            .currency();
        let total = Money::sum(currency, postings.iter().map(|p| p.amount))?;
        if !total.is_zero() {
            return Err(LedgerError::Unbalanced(total));
        }
        Ok(JournalEntry {
            template,
            document_id: document_id.to_string(),
            currency,
            postings,
        })
    }
    pub fn template(&self) -> Template {
        self.template
    }
    pub fn document_id(&self) -> &str {
        &self.document_id
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }
}

fn debit(account: Account, amount: Money) -> Posting {
    Posting {
        account: account.code,
        amount,
    }
}
fn credit(account: Account, amount: Money) -> Result<Posting, MoneyError> {
    Ok(Posting {
        account: account.code,
        amount: amount.checked_neg()?,
    })
}

/// INVOICE_ISSUED: Dr receivables (gross) / Cr revenue (net) / Cr output tax (tax).
pub fn invoice_issued(
    invoice_id: &str,
    net: Money,
    tax: Money,
) -> Result<JournalEntry, LedgerError> {
    let gross = net.checked_add(tax)?;
    JournalEntry::new(
        Template::InvoiceIssued,
        invoice_id,
        vec![
            debit(ACCOUNTS_RECEIVABLE, gross),
            credit(SALES_REVENUE, net)?,
            credit(TAX_PAYABLE, tax)?,
        ],
    )
}

/// PAYMENT_RECEIVED: Dr bank / Cr unapplied cash. Application to invoices is a separate step.
pub fn payment_received(payment_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        Template::PaymentReceived,
        payment_id,
        vec![debit(BANK, amount), credit(CUSTOMER_CREDITS, amount)?],
    )
}

/// CASH_APPLIED: Dr unapplied cash / Cr receivables.
pub fn cash_applied(application_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        Template::CashApplied,
        application_id,
        vec![
            debit(CUSTOMER_CREDITS, amount),
            credit(ACCOUNTS_RECEIVABLE, amount)?,
        ],
    )
}

/// CREDIT_NOTE_ISSUED: Dr revenue (net) / Dr output tax (tax) / Cr receivables (what the
/// corrected invoice still had open) / Cr customer credits (the rest, owed back to the customer).
pub fn credit_note_issued(
    credit_note_id: &str,
    net: Money,
    tax: Money,
    applied_to_invoice: Money,
) -> Result<JournalEntry, LedgerError> {
    let gross = net.checked_add(tax)?;
    let to_account = gross.checked_sub(applied_to_invoice)?;
    JournalEntry::new(
        Template::CreditNoteIssued,
        credit_note_id,
        vec![
            debit(SALES_REVENUE, net),
            debit(TAX_PAYABLE, tax),
            credit(ACCOUNTS_RECEIVABLE, applied_to_invoice)?,
            credit(CUSTOMER_CREDITS, to_account)?,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_unbalanced_entry_cannot_be_built() {
        let eur = |m| Money::new(m, Currency::EUR);
        let err = JournalEntry::new(
            Template::InvoiceIssued,
            "inv_1",
            vec![
                debit(ACCOUNTS_RECEIVABLE, eur(100)),
                credit(SALES_REVENUE, eur(99)).unwrap(),
            ],
        )
        .unwrap_err();
        assert_eq!(err, LedgerError::Unbalanced(eur(1)));
        assert_eq!(
            JournalEntry::new(Template::CashApplied, "x", vec![]).unwrap_err(),
            LedgerError::Empty
        );
    }

    #[test]
    fn an_entry_in_two_currencies_is_refused() {
        let r = JournalEntry::new(
            Template::PaymentReceived,
            "pay_1",
            vec![
                debit(BANK, Money::new(5, Currency::EUR)),
                credit(CUSTOMER_CREDITS, Money::new(5, Currency::USD)).unwrap(),
            ],
        );
        assert!(matches!(
            r,
            Err(LedgerError::Money(MoneyError::CurrencyMismatch { .. }))
        ));
    }

    proptest! {
        #[test]
        fn templates_always_balance(net in 0i64..1_000_000_000, tax in 0i64..100_000_000, paid in 1i64..1_000_000_000) {
            let eur = |m| Money::new(m, Currency::EUR);
            for entry in [
                invoice_issued("inv_1", eur(net), eur(tax)),
                payment_received("pay_1", eur(paid)),
                cash_applied("app_1", eur(paid)),
                credit_note_issued("crn_1", eur(net), eur(tax), eur(paid.min(net + tax))),
            ] {
                match entry {
                    Ok(e) => {
                        let sum: i64 = e.postings().iter().map(|p| p.amount.minor()).sum();
                        prop_assert_eq!(sum, 0);
                    }
                    Err(LedgerError::Empty) => prop_assert!(net == 0 && tax == 0),
                    Err(other) => prop_assert!(false, "{other}"),
                }
            }
        }

        #[test]
        fn random_postings_are_accepted_only_when_balanced(amounts in proptest::collection::vec(-1_000_000i64..1_000_000, 1..8)) {
            let postings: Vec<Posting> = amounts.iter().map(|m| Posting { account: BANK.code, amount: Money::new(*m, Currency::EUR) }).collect();
            let sum: i64 = amounts.iter().sum();
            let nonzero = amounts.iter().any(|m| *m != 0);
            let result = JournalEntry::new(Template::CashApplied, "x", postings);
            prop_assert_eq!(result.is_ok(), sum == 0 && nonzero);
        }
    }
}
