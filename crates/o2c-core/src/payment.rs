//! Applying cash: oldest open item first, never more than the payment has or the item owes.

/// Allocates `available` over open items (key, open amount) in the order given.
pub fn allocate_oldest_first<K: Clone>(available: i64, open_items: &[(K, i64)]) -> Vec<(K, i64)> {
    let mut rest = available.max(0);
    let mut out = Vec::new();
    for (k, open) in open_items {
        if rest == 0 {
            break;
        }
        let take = rest.min(*open);
        if take > 0 {
            out.push((k.clone(), take));
            rest -= take;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn applications_never_exceed_the_payment_or_an_item(avail in 0i64..10_000, items in proptest::collection::vec(0i64..5_000, 0..6)) {
            let open: Vec<(usize, i64)> = items.iter().copied().enumerate().collect();
            let out = allocate_oldest_first(avail, &open);
            let total: i64 = out.iter().map(|(_, a)| a).sum();
            prop_assert_eq!(total, avail.min(items.iter().sum()));
            for (k, a) in out { prop_assert!(a > 0 && a <= open[k].1); }
        }
    }
}
