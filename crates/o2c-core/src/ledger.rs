//! Double-entry ledger: typed accounts, entries that can only be built balanced, and the named
//! templates every posting comes from. Append-only: a correction is a new, linked entry.

use crate::fx::FxRate;
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
/// Money on the bank statement that is not yet known to be whose: the cash-application
/// exceptions queue. Its balance equals the unmatched incoming bank lines.
pub const UNIDENTIFIED_RECEIPTS: Account = Account {
    code: "2050",
    name: "Unidentified receipts (suspense)",
    kind: AccountType::Liability,
};
/// Receipts marked "not ours": owed back to whoever sent them.
pub const RECEIPTS_TO_RETURN: Account = Account {
    code: "2060",
    name: "Receipts to be returned",
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

/// Early-payment discounts customers took within their terms (a reduction of revenue).
pub const DISCOUNTS_ALLOWED: Account = Account {
    code: "4100",
    name: "Early-payment discounts allowed",
    kind: AccountType::Income,
};
/// Small short payments written off (bank charges, rounding) by the cash-application policy.
pub const PAYMENT_DIFFERENCES: Account = Account {
    code: "6890",
    name: "Payment differences written off",
    kind: AccountType::Expense,
};
/// Realised exchange differences: credit = gain, debit = loss. Only ever has an amount in the
/// functional currency (its lines carry zero in the document currency).
pub const FX_DIFFERENCES: Account = Account {
    code: "4900",
    name: "Realised exchange gains and losses",
    kind: AccountType::Income,
};

/// Card and wallet payments captured by the payment-service provider and not yet paid out to
/// the bank: the PSP's payout (less fees and refunds) moves it to [`BANK`].
pub const PSP_CLEARING: Account = Account {
    code: "1010",
    name: "Card and wallet clearing (PSP)",
    kind: AccountType::Asset,
};
/// SEPA direct debits sent to the bank for collection and not yet credited by it; a returned
/// debit comes back out of it.
pub const DIRECT_DEBITS_IN_COLLECTION: Account = Account {
    code: "1020",
    name: "Direct debits in collection",
    kind: AccountType::Asset,
};
/// What the PSP and the bank charge for capturing, returning or refunding payments.
pub const PAYMENT_FEES: Account = Account {
    code: "6900",
    name: "Payment fees",
    kind: AccountType::Expense,
};

/// Dunning fees and interest charged to customers and not yet paid or waived. Kept apart from
/// [`ACCOUNTS_RECEIVABLE`], whose balance is the sum of invoices' open items.
pub const DUNNING_CHARGES_RECEIVABLE: Account = Account {
    code: "1150",
    name: "Dunning fees and interest receivable",
    kind: AccountType::Asset,
};
pub const DUNNING_FEE_INCOME: Account = Account {
    code: "4710",
    name: "Dunning fees",
    kind: AccountType::Income,
};
/// Interest on overdue invoices charged with dunning notices.
pub const LATE_INTEREST_INCOME: Account = Account {
    code: "4720",
    name: "Late-payment interest",
    kind: AccountType::Income,
};
/// Receivables written off as uncollectable (with approval); a recovery credits it back.
pub const BAD_DEBT: Account = Account {
    code: "6950",
    name: "Bad debt written off",
    kind: AccountType::Expense,
};

pub const CHART: &[Account] = &[
    BANK,
    ACCOUNTS_RECEIVABLE,
    CUSTOMER_CREDITS,
    TAX_PAYABLE,
    SALES_REVENUE,
    FX_DIFFERENCES,
    UNIDENTIFIED_RECEIPTS,
    RECEIPTS_TO_RETURN,
    DISCOUNTS_ALLOWED,
    PAYMENT_DIFFERENCES,
    PSP_CLEARING,
    DIRECT_DEBITS_IN_COLLECTION,
    PAYMENT_FEES,
    DUNNING_CHARGES_RECEIVABLE,
    DUNNING_FEE_INCOME,
    LATE_INTEREST_INCOME,
    BAD_DEBT,
];

/// Accounts holding money owed or held: converted exactly, never used to absorb rounding.
const MONETARY: &[&str] = &[
    BANK.code,
    ACCOUNTS_RECEIVABLE.code,
    CUSTOMER_CREDITS.code,
    UNIDENTIFIED_RECEIPTS.code,
    RECEIPTS_TO_RETURN.code,
    PSP_CLEARING.code,
    DIRECT_DEBITS_IN_COLLECTION.code,
    DUNNING_CHARGES_RECEIVABLE.code,
];

pub fn account(code: &str) -> Option<Account> {
    CHART.iter().copied().find(|a| a.code == code)
}

mod receivables;
pub use receivables::{dunning_charged, dunning_waived, write_off, write_off_recovered};

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
    #[serde(rename = "BANK_RECEIPT")]
    BankReceipt,
    #[serde(rename = "RECEIPT_IDENTIFIED")]
    ReceiptIdentified,
    #[serde(rename = "RECEIPT_NOT_OURS")]
    ReceiptNotOurs,
    #[serde(rename = "DISCOUNT_TAKEN")]
    DiscountTaken,
    #[serde(rename = "DIFFERENCE_WRITTEN_OFF")]
    DifferenceWrittenOff,
    #[serde(rename = "PSP_SETTLED")]
    PspSettled,
    #[serde(rename = "DEBIT_COLLECTED")]
    DebitCollected,
    #[serde(rename = "COLLECTION_SETTLED")]
    CollectionSettled,
    #[serde(rename = "PSP_PAID_OUT")]
    PspPaidOut,
    #[serde(rename = "FEE_CHARGED")]
    FeeCharged,
    #[serde(rename = "REFUND_PAID")]
    RefundPaid,
    #[serde(rename = "PAYMENT_RETURNED")]
    PaymentReturned,
    #[serde(rename = "APPLICATION_REVERSED")]
    ApplicationReversed,
    #[serde(rename = "DUNNING_CHARGED")]
    DunningCharged,
    #[serde(rename = "DUNNING_WAIVED")]
    DunningWaived,
    #[serde(rename = "WRITE_OFF")]
    WriteOff,
    #[serde(rename = "WRITE_OFF_RECOVERED")]
    WriteOffRecovered,
}

impl Template {
    pub fn name(&self) -> &'static str {
        match self {
            Template::InvoiceIssued => "INVOICE_ISSUED",
            Template::PaymentReceived => "PAYMENT_RECEIVED",
            Template::CashApplied => "CASH_APPLIED",
            Template::CreditNoteIssued => "CREDIT_NOTE_ISSUED",
            Template::BankReceipt => "BANK_RECEIPT",
            Template::ReceiptIdentified => "RECEIPT_IDENTIFIED",
            Template::ReceiptNotOurs => "RECEIPT_NOT_OURS",
            Template::DiscountTaken => "DISCOUNT_TAKEN",
            Template::DifferenceWrittenOff => "DIFFERENCE_WRITTEN_OFF",
            Template::PspSettled => "PSP_SETTLED",
            Template::DebitCollected => "DEBIT_COLLECTED",
            Template::CollectionSettled => "COLLECTION_SETTLED",
            Template::PspPaidOut => "PSP_PAID_OUT",
            Template::FeeCharged => "FEE_CHARGED",
            Template::RefundPaid => "REFUND_PAID",
            Template::PaymentReturned => "PAYMENT_RETURNED",
            Template::ApplicationReversed => "APPLICATION_REVERSED",
            Template::DunningCharged => "DUNNING_CHARGED",
            Template::DunningWaived => "DUNNING_WAIVED",
            Template::WriteOff => "WRITE_OFF",
            Template::WriteOffRecovered => "WRITE_OFF_RECOVERED",
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
/// `functional_minor` is the same line in the functional currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub account: &'static str,
    pub amount: Money,
    pub functional_minor: i64,
}

/// A journal entry in one document currency, balanced in it and in the functional currency.
/// The constructors check both balances, so an unbalanced entry cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    template: Template,
    document_id: String,
    currency: Currency,
    functional: Currency,
    rate: FxRate,
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
            functional: currency,
            rate: FxRate::ONE,
            postings,
        })
    }

    /// The same entry translated into the functional currency at `rate`. Monetary accounts
    /// (bank, receivables, customer credits) get their exact conversion, or the one given in
    /// `exact` (account, functional amount) when the caller holds the balance at another rate
    /// (see [`FxRate::relief`]); the rounding difference goes to the largest other line, or
    /// to [`FX_DIFFERENCES`] when there is none.
    pub fn translate(
        mut self,
        functional: Currency,
        rate: FxRate,
        exact: &[(&str, i64)],
    ) -> Result<JournalEntry, LedgerError> {
        if self.currency == functional {
            return Ok(self);
        }
        for p in &mut self.postings {
            p.functional_minor = match exact.iter().find(|(a, _)| *a == p.account) {
                Some((_, f)) => *f,
                None => rate.to_functional(p.amount.minor(), self.currency, functional)?,
            };
        }
        let residual: i64 = self.postings.iter().map(|p| p.functional_minor).sum();
        if residual != 0 {
            let absorber = self
                .postings
                .iter_mut()
                .filter(|p| !MONETARY.contains(&p.account))
                .max_by_key(|p| p.amount.minor().unsigned_abs());
            match absorber {
                Some(p) => p.functional_minor -= residual,
                None => self.postings.push(Posting {
                    account: FX_DIFFERENCES.code,
                    amount: Money::zero(self.currency),
                    functional_minor: -residual,
                }),
            }
        }
        self.functional = functional;
        self.rate = rate;
        Ok(self)
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
    pub fn functional(&self) -> Currency {
        self.functional
    }
    pub fn rate(&self) -> FxRate {
        self.rate
    }
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }
}

fn debit(account: Account, amount: Money) -> Posting {
    Posting {
        account: account.code,
        amount,
        functional_minor: amount.minor(),
    }
}
fn credit(account: Account, amount: Money) -> Result<Posting, MoneyError> {
    let amount = amount.checked_neg()?;
    Ok(Posting {
        account: account.code,
        amount,
        functional_minor: amount.minor(),
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

/// BANK_RECEIPT: Dr bank / Cr unidentified receipts. Every incoming bank line, on import.
pub fn bank_receipt(transaction_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::BankReceipt,
        transaction_id,
        BANK,
        UNIDENTIFIED_RECEIPTS,
        amount,
    )
}

/// RECEIPT_IDENTIFIED: Dr unidentified receipts / Cr unapplied cash of the customer it came from.
pub fn receipt_identified(payment_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::ReceiptIdentified,
        payment_id,
        UNIDENTIFIED_RECEIPTS,
        CUSTOMER_CREDITS,
        amount,
    )
}

/// RECEIPT_NOT_OURS: Dr unidentified receipts / Cr receipts to be returned.
pub fn receipt_not_ours(transaction_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::ReceiptNotOurs,
        transaction_id,
        UNIDENTIFIED_RECEIPTS,
        RECEIPTS_TO_RETURN,
        amount,
    )
}

/// DISCOUNT_TAKEN: Dr discounts allowed / Cr receivables.
pub fn discount_taken(invoice_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::DiscountTaken,
        invoice_id,
        DISCOUNTS_ALLOWED,
        ACCOUNTS_RECEIVABLE,
        amount,
    )
}

/// DIFFERENCE_WRITTEN_OFF: Dr the write-off account (by default [`PAYMENT_DIFFERENCES`]) /
/// Cr receivables.
pub fn difference_written_off(
    invoice_id: &str,
    amount: Money,
    account: Account,
) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::DifferenceWrittenOff,
        invoice_id,
        account,
        ACCOUNTS_RECEIVABLE,
        amount,
    )
}

fn two_lines(
    template: Template,
    document_id: &str,
    dr: Account,
    cr: Account,
    amount: Money,
) -> Result<JournalEntry, LedgerError> {
    JournalEntry::new(
        template,
        document_id,
        vec![debit(dr, amount), credit(cr, amount)?],
    )
}

/// CASH_APPLIED across two rates: Dr unapplied cash at the payment's rate / Cr receivables at
/// the invoice's rate, both in the document currency; the difference in the functional
/// currency is the realised exchange gain (credit) or loss (debit).
pub fn cash_applied_fx(
    application_id: &str,
    amount: Money,
    functional: Currency,
    credits_relief: i64,
    receivable_relief: i64,
) -> Result<JournalEntry, LedgerError> {
    let entry = cash_applied(application_id, amount)?;
    if entry.currency == functional {
        return Ok(entry);
    }
    let mut entry = entry.translate(
        functional,
        FxRate::ONE,
        &[
            (CUSTOMER_CREDITS.code, credits_relief),
            (ACCOUNTS_RECEIVABLE.code, -receivable_relief),
        ],
    )?;
    entry.rate = FxRate::ONE;
    Ok(entry)
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

/// PSP_SETTLED: Dr PSP clearing / Cr unapplied cash: a card or wallet payment the provider
/// captured for the customer; it pays out to the bank later.
pub fn psp_settled(payment_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::PspSettled,
        payment_id,
        PSP_CLEARING,
        CUSTOMER_CREDITS,
        amount,
    )
}

/// DEBIT_COLLECTED: Dr direct debits in collection / Cr unapplied cash: a SEPA debit sent to the
/// bank in a collection file.
/// COLLECTION_SETTLED: Dr unidentified receipts / Cr direct debits in collection: the bank
/// credited a collection file's money.
pub fn collection_settled(
    transaction_id: &str,
    amount: Money,
) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::CollectionSettled,
        transaction_id,
        UNIDENTIFIED_RECEIPTS,
        DIRECT_DEBITS_IN_COLLECTION,
        amount,
    )
}

/// PSP_PAID_OUT: Dr unidentified receipts / Cr PSP clearing: the bank credited a provider's
/// payout (its captured payments less fees and card refunds).
pub fn psp_paid_out(transaction_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::PspPaidOut,
        transaction_id,
        UNIDENTIFIED_RECEIPTS,
        PSP_CLEARING,
        amount,
    )
}

pub fn debit_collected(payment_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::DebitCollected,
        payment_id,
        DIRECT_DEBITS_IN_COLLECTION,
        CUSTOMER_CREDITS,
        amount,
    )
}

/// FEE_CHARGED: Dr payment fees / Cr the account the fee was taken from (PSP clearing for a
/// capture fee, the bank or the collection account for a return charge).
pub fn fee_charged(
    document_id: &str,
    amount: Money,
    taken_from: Account,
) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::FeeCharged,
        document_id,
        PAYMENT_FEES,
        taken_from,
        amount,
    )
}

/// REFUND_PAID: Dr unapplied cash / Cr the account the money leaves by (bank for a transfer, PSP
/// clearing for a refund to the card).
pub fn refund_paid(
    refund_id: &str,
    amount: Money,
    paid_from: Account,
) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::RefundPaid,
        refund_id,
        CUSTOMER_CREDITS,
        paid_from,
        amount,
    )
}

/// PAYMENT_RETURNED: Dr unapplied cash / Cr the account the payment was received into: a
/// returned direct debit or a reversed card payment takes the money back out.
pub fn payment_returned(
    payment_id: &str,
    amount: Money,
    received_into: Account,
) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::PaymentReturned,
        payment_id,
        CUSTOMER_CREDITS,
        received_into,
        amount,
    )
}

/// APPLICATION_REVERSED: Dr receivables / Cr unapplied cash, the mirror of CASH_APPLIED when
/// the payment behind an application comes back. `credits_increase` and `receivable_increase`
/// are the functional amounts at the payment's and the invoice's rates (see
/// [`FxRate::relief`]); their difference is an exchange difference, as on application.
pub fn application_reversed_fx(
    reversal_id: &str,
    amount: Money,
    functional: Currency,
    credits_increase: i64,
    receivable_increase: i64,
) -> Result<JournalEntry, LedgerError> {
    let entry = two_lines(
        Template::ApplicationReversed,
        reversal_id,
        ACCOUNTS_RECEIVABLE,
        CUSTOMER_CREDITS,
        amount,
    )?;
    if entry.currency == functional {
        return Ok(entry);
    }
    let mut entry = entry.translate(
        functional,
        FxRate::ONE,
        &[
            (ACCOUNTS_RECEIVABLE.code, receivable_increase),
            (CUSTOMER_CREDITS.code, -credits_increase),
        ],
    )?;
    entry.rate = FxRate::ONE;
    Ok(entry)
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

    fn functional_sum(e: &JournalEntry) -> i64 {
        e.postings().iter().map(|p| p.functional_minor).sum()
    }

    #[test]
    fn a_foreign_invoice_keeps_its_receivable_exact_and_rounds_into_revenue() {
        let usd = |m| Money::new(m, Currency::USD);
        let rate = FxRate::parse("1.0823").unwrap();
        let e = invoice_issued("inv_1", usd(10_001), usd(1_901))
            .unwrap()
            .translate(Currency::EUR, rate, &[])
            .unwrap();
        assert_eq!(functional_sum(&e), 0);
        let ar = &e.postings()[0];
        assert_eq!(ar.account, ACCOUNTS_RECEIVABLE.code);
        assert_eq!(
            ar.functional_minor,
            rate.to_functional(11_902, Currency::USD, Currency::EUR)
                .unwrap()
        );
        assert_eq!(e.functional(), Currency::EUR);
        assert_eq!(e.rate(), rate);
    }

    #[test]
    fn applying_at_another_rate_books_the_difference_as_gain_or_loss() {
        let usd = Money::new(108_230, Currency::USD);
        // Invoice booked at 1.0823 (1,000.00 EUR), paid when 1 EUR bought 1.0500 USD
        // (1,030.76 EUR): a gain of 30.76 EUR, a credit on the exchange account.
        let paid = FxRate::parse("1.05")
            .unwrap()
            .to_functional(108_230, Currency::USD, Currency::EUR)
            .unwrap();
        let e = cash_applied_fx("app_1", usd, Currency::EUR, paid, 100_000).unwrap();
        assert_eq!(functional_sum(&e), 0);
        let fx = e
            .postings()
            .iter()
            .find(|p| p.account == FX_DIFFERENCES.code)
            .unwrap();
        assert_eq!(fx.functional_minor, -3_076);
        assert!(fx.amount.is_zero());
        let doc: i64 = e.postings().iter().map(|p| p.amount.minor()).sum();
        assert_eq!(doc, 0);
        // Same rate: no exchange line at all.
        let same = cash_applied_fx("app_2", usd, Currency::EUR, 100_000, 100_000).unwrap();
        assert!(
            same.postings()
                .iter()
                .all(|p| p.account != FX_DIFFERENCES.code)
        );
    }

    #[test]
    fn reversing_an_application_undoes_it_in_both_currencies() {
        let usd = Money::new(108_230, Currency::USD);
        let paid = FxRate::parse("1.05")
            .unwrap()
            .to_functional(108_230, Currency::USD, Currency::EUR)
            .unwrap();
        let applied = cash_applied_fx("app_1", usd, Currency::EUR, paid, 100_000).unwrap();
        let reversed = application_reversed_fx("app_1", usd, Currency::EUR, paid, 100_000).unwrap();
        assert_eq!(functional_sum(&reversed), 0);
        for account in [ACCOUNTS_RECEIVABLE, CUSTOMER_CREDITS, FX_DIFFERENCES] {
            let net = |f: fn(&Posting) -> i64| -> i64 {
                applied
                    .postings()
                    .iter()
                    .chain(reversed.postings())
                    .filter(|p| p.account == account.code)
                    .map(f)
                    .sum()
            };
            assert_eq!(net(|p| p.amount.minor()), 0, "{}", account.code);
            assert_eq!(net(|p| p.functional_minor), 0, "{}", account.code);
        }
    }

    proptest! {
        #[test]
        fn translated_entries_balance_in_both_currencies(net in 0i64..1_000_000_000, tax in 0i64..100_000_000, rate in 1_000_000i64..2_000_000_000_000) {
            let usd = |m| Money::new(m, Currency::USD);
            let rate = FxRate::parse(&format!("{}.{:010}", rate / 10_000_000_000, rate % 10_000_000_000)).unwrap();
            if let Ok(e) = invoice_issued("inv_1", usd(net), usd(tax)) {
                let e = e.translate(Currency::EUR, rate, &[]).unwrap();
                prop_assert_eq!(functional_sum(&e), 0);
                prop_assert_eq!(e.postings()[0].functional_minor, rate.to_functional(net + tax, Currency::USD, Currency::EUR).unwrap());
            }
        }

        #[test]
        fn templates_always_balance(net in 0i64..1_000_000_000, tax in 0i64..100_000_000, paid in 1i64..1_000_000_000) {
            let eur = |m| Money::new(m, Currency::EUR);
            for entry in [
                invoice_issued("inv_1", eur(net), eur(tax)),
                payment_received("pay_1", eur(paid)),
                cash_applied("app_1", eur(paid)),
                credit_note_issued("crn_1", eur(net), eur(tax), eur(paid.min(net + tax))),
                psp_settled("pay_1", eur(paid)),
                debit_collected("pay_1", eur(paid)),
                fee_charged("pay_1", eur(paid), PSP_CLEARING),
                refund_paid("rfd_1", eur(paid), BANK),
                payment_returned("pay_1", eur(paid), DIRECT_DEBITS_IN_COLLECTION),
                application_reversed_fx("app_1", eur(paid), Currency::EUR, paid, paid),
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
            let postings: Vec<Posting> = amounts.iter().map(|m| Posting { account: BANK.code, amount: Money::new(*m, Currency::EUR), functional_minor: *m }).collect();
            let sum: i64 = amounts.iter().sum();
            let nonzero = amounts.iter().any(|m| *m != 0);
            let result = JournalEntry::new(Template::CashApplied, "x", postings);
            prop_assert_eq!(result.is_ok(), sum == 0 && nonzero);
        }
    }
}
