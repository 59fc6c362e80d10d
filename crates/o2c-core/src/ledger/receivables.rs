//! Templates of the receivables subprocess: dunning charges (and their waiver) and write-offs
//! to bad debt (and recoveries).

use super::{
    ACCOUNTS_RECEIVABLE, BAD_DEBT, DUNNING_CHARGES_RECEIVABLE, DUNNING_FEE_INCOME, JournalEntry,
    LATE_INTEREST_INCOME, LedgerError, Template, credit, debit, two_lines,
};
use crate::money::Money;

/// DUNNING_CHARGED: Dr dunning charges receivable (fee + interest) / Cr dunning fees, Cr
/// late-payment interest. Either part may be zero.
pub fn dunning_charged(
    notice_id: &str,
    fee: Money,
    interest: Money,
) -> Result<JournalEntry, LedgerError> {
    let total = fee.checked_add(interest)?;
    JournalEntry::new(
        Template::DunningCharged,
        notice_id,
        vec![
            debit(DUNNING_CHARGES_RECEIVABLE, total),
            credit(DUNNING_FEE_INCOME, fee)?,
            credit(LATE_INTEREST_INCOME, interest)?,
        ],
    )
}

/// DUNNING_WAIVED: the exact mirror of [`dunning_charged`] for a notice whose charges are waived.
pub fn dunning_waived(
    notice_id: &str,
    fee: Money,
    interest: Money,
) -> Result<JournalEntry, LedgerError> {
    let total = fee.checked_add(interest)?;
    JournalEntry::new(
        Template::DunningWaived,
        notice_id,
        vec![
            debit(DUNNING_FEE_INCOME, fee),
            debit(LATE_INTEREST_INCOME, interest),
            credit(DUNNING_CHARGES_RECEIVABLE, total)?,
        ],
    )
}

/// WRITE_OFF: Dr bad debt / Cr receivables.
pub fn write_off(write_off_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::WriteOff,
        write_off_id,
        BAD_DEBT,
        ACCOUNTS_RECEIVABLE,
        amount,
    )
}

/// WRITE_OFF_RECOVERED: the written-off amount is owed again (Dr receivables / Cr bad debt),
/// so the customer's payment applies to the invoice like any other.
pub fn write_off_recovered(recovery_id: &str, amount: Money) -> Result<JournalEntry, LedgerError> {
    two_lines(
        Template::WriteOffRecovered,
        recovery_id,
        ACCOUNTS_RECEIVABLE,
        BAD_DEBT,
        amount,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    #[test]
    fn a_dunning_charge_and_its_waiver_cancel_out_per_account() {
        let charged = dunning_charged("dun_1", eur(500), eur(123)).unwrap();
        let waived = dunning_waived("dun_1", eur(500), eur(123)).unwrap();
        let mut sums = std::collections::BTreeMap::new();
        for p in charged.postings().iter().chain(waived.postings()) {
            *sums.entry(p.account).or_insert(0i64) += p.amount.minor();
        }
        assert!(sums.values().all(|v| *v == 0), "{sums:?}");
        assert_eq!(charged.postings()[0].amount.minor(), 623);
    }

    #[test]
    fn a_charge_without_interest_has_no_interest_line() {
        let e = dunning_charged("dun_2", eur(500), eur(0)).unwrap();
        assert_eq!(e.postings().len(), 2);
    }

    #[test]
    fn a_write_off_moves_receivables_to_bad_debt_and_a_recovery_moves_them_back() {
        let w = write_off("wo_1", eur(10_000)).unwrap();
        assert_eq!(w.postings()[0].account, "6950");
        assert_eq!(w.postings()[1].account, "1100");
        assert_eq!(w.postings()[1].amount.minor(), -10_000);
        let r = write_off_recovered("wor_1", eur(4_000)).unwrap();
        assert_eq!(r.postings()[0].account, "1100");
        assert_eq!(r.postings()[0].amount.minor(), 4_000);
    }
}
