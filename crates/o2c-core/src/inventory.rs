//! Reservation strategy: prefer a warehouse that can ship the whole line, else fill from the
//! warehouses with the most available first (fewest shipments).

/// Splits `needed` units over warehouses given as (key, available) in priority order.
/// Returns what to take from each; the total may be less than `needed` (the rest is backordered).
pub fn allocate<K: Clone>(needed: i64, available: &[(K, i64)]) -> Vec<(K, i64)> {
    if needed <= 0 {
        return Vec::new();
    }
    if let Some((k, _)) = available.iter().find(|(_, a)| *a >= needed) {
        return vec![(k.clone(), needed)];
    }
    let mut by_size: Vec<&(K, i64)> = available.iter().filter(|(_, a)| *a > 0).collect();
    by_size.sort_by_key(|(_, a)| std::cmp::Reverse(*a));
    let mut rest = needed;
    let mut out = Vec::new();
    for (k, a) in by_size {
        if rest == 0 {
            break;
        }
        let take = rest.min(*a);
        out.push((k.clone(), take));
        rest -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_warehouse_that_can_ship_everything_is_preferred() {
        assert_eq!(allocate(5, &[("a", 3), ("b", 9)]), vec![("b", 5)]);
        assert_eq!(
            allocate(10, &[("a", 3), ("b", 6)]),
            vec![("b", 6), ("a", 3)]
        );
        assert!(allocate(4, &[("a", 0)]).is_empty());
    }

    proptest! {
        #[test]
        fn allocation_never_exceeds_need_or_stock(needed in 0i64..100, stock in proptest::collection::vec(-5i64..50, 0..4)) {
            let avail: Vec<(usize, i64)> = stock.iter().copied().enumerate().collect();
            let out = allocate(needed, &avail);
            let total: i64 = out.iter().map(|(_, q)| q).sum();
            let on_hand: i64 = stock.iter().filter(|a| **a > 0).sum();
            prop_assert_eq!(total, needed.min(on_hand));
            for (k, q) in out {
                prop_assert!(q > 0 && q <= avail[k].1);
            }
        }
    }
}
