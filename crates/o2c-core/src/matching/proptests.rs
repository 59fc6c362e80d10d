//! Properties of every proposal, on random books and payments: the money adds up, and a tie is
//! never applied.

use super::tests::{BRANDT, BRANDT_IBAN, NORDWIND, invoice, pay, payers};
use super::*;
use proptest::prelude::*;

fn arb_case() -> impl Strategy<Value = (Vec<i64>, i64, Vec<usize>, bool)> {
    (
        proptest::collection::vec(1i64..400_000, 1..9),
        1i64..900_000,
        proptest::collection::vec(0usize..12, 0..3),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn allocations_never_exceed_the_payment_or_what_an_item_owes(
        (amounts, paid, named, known) in arb_case(),
        exact in any::<bool>(),
    ) {
        let items: Vec<OpenItem> = amounts
            .iter()
            .enumerate()
            .map(|(i, &a)| invoice(100 + i as i64, if i % 3 == 0 { NORDWIND } else { BRANDT }, a, 10 + i as u32))
            .collect();
        let paid = if exact { amounts.iter().take(2).sum() } else { paid };
        let text: Vec<String> = named.iter().filter(|&&n| n < items.len()).map(|&n| items[n].number.clone()).collect();
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        let ix = MatchIndex::build(&items, &payers()).expect("distinct keys");
        let p = pay(paid, &text, "Brandt Logistik", known.then_some(BRANDT_IBAN));
        let proposal = propose(&ix, &p, &Policy::default());
        for c in &proposal.candidates {
            let s = &c.settlement;
            let cash: i64 = s.allocations.iter().map(|a| a.amount.minor()).sum();
            let credit = s.on_account.map_or(0, |m| m.minor());
            prop_assert_eq!(cash + credit, paid, "cash and credit are the payment: {:?}", s);
            for it in &items {
                let taken: i64 = s.allocations.iter().chain(&s.discounts).chain(&s.deductions)
                    .filter(|a| a.item == it.key).map(|a| a.amount.minor()).sum::<i64>()
                    + s.write_off.iter().filter(|w| w.item == it.key).map(|w| w.amount.minor()).sum::<i64>();
                prop_assert!(taken >= 0 && taken <= it.open.minor(), "{:?} takes {} of {}", s, taken, it.open);
            }
        }
        if let Some(c) = proposal.applied() {
            let mut ix = ix;
            prop_assert!(ix.record(&c.settlement).is_ok());
        }
    }

    #[test]
    fn nothing_is_applied_when_the_best_two_are_equally_good(
        (amounts, paid, named, known) in arb_case(),
        twins in 1usize..4,
    ) {
        // Twins: the same amount owed several times by one customer.
        let mut items: Vec<OpenItem> = amounts
            .iter()
            .enumerate()
            .map(|(i, &a)| invoice(100 + i as i64, BRANDT, a, 10 + i as u32))
            .collect();
        for t in 0..twins {
            items.push(invoice(200 + t as i64, BRANDT, paid, 12));
        }
        let text: Vec<String> = named.iter().filter(|&&n| n < amounts.len()).map(|&n| items[n].number.clone()).collect();
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        let ix = MatchIndex::build(&items, &payers()).expect("distinct keys");
        let policy = Policy::default();
        let proposal = propose(&ix, &pay(paid, &text, "Brandt Logistik", known.then_some(BRANDT_IBAN)), &policy);
        if let [a, b, ..] = &proposal.candidates[..]
            && a.score == b.score
        {
            prop_assert!(proposal.applied().is_none());
        }
        if proposal.applied().is_some() {
            let runner_up = proposal.candidates.get(1).map_or(0, |c| c.score);
            prop_assert!(proposal.candidates[0].score >= runner_up + policy.min_margin);
        }
        if twins >= 2 && text.is_empty() {
            prop_assert!(proposal.applied().is_none(), "{:?}", proposal.candidates.first());
        }
    }
}
