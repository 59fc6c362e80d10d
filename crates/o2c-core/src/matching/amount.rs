//! Which of a customer's open items add up to a payment: consecutive runs in due order (what a
//! payment run settles), then any combination, bounded in size and search steps. A second
//! combination with the same sum is what makes a match ambiguous, so the search looks for two.

/// Combinations found, as positions into the searched slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubsetSearch {
    pub solutions: Vec<Vec<usize>>,
    /// False when the step budget ran out before every combination was tried.
    pub complete: bool,
}

/// Combinations of `min_items..=max_items` of the (positive) `amounts` that sum to `target`,
/// at most `max_solutions` of them. Up to [`HALVES_UP_TO`] amounts the search meets in the
/// middle and is always complete; beyond, it walks combinations for at most `budget` steps.
pub(crate) fn subsets(
    amounts: &[i64],
    target: i64,
    min_items: usize,
    max_items: usize,
    max_solutions: usize,
    budget: u32,
) -> SubsetSearch {
    let positive = amounts.iter().filter(|&&a| a > 0);
    let (count, total) = positive.fold((0usize, 0i64), |(n, t), &a| (n + 1, t.saturating_add(a)));
    if target <= 0 || total < target || count < min_items {
        return SubsetSearch {
            solutions: Vec::new(),
            complete: true,
        };
    }
    // A few items at a time are cheaper to walk than to tabulate.
    if amounts.len() <= HALVES_UP_TO && max_items > 3 {
        return halves(amounts, target, min_items.max(1), max_items, max_solutions);
    }
    walk(amounts, target, min_items, max_items, max_solutions, budget)
}

/// Amounts searched by meeting in the middle: two halves of 2^12 sums each at most.
const HALVES_UP_TO: usize = 24;

/// Every sum of each half, then the pairs that add up to `target`: 2·2^(n/2) sums instead of
/// 2^n combinations, and no budget to run out of.
fn halves(
    amounts: &[i64],
    target: i64,
    min_items: usize,
    max_items: usize,
    max_solutions: usize,
) -> SubsetSearch {
    let positive: Vec<usize> = (0..amounts.len()).filter(|&i| amounts[i] > 0).collect();
    let values: Vec<i64> = positive.iter().map(|&i| amounts[i]).collect();
    let h = values.len() / 2;
    let (a, b) = values.split_at(h);
    let mut left = sums(a, target);
    left.sort_unstable();
    let mut solutions = Vec::new();
    'outer: for (sb, mb) in sums(b, target) {
        let need = target - sb;
        let from = left.partition_point(|&(s, _)| s < need);
        for &(sa, ma) in left[from..].iter().take_while(|&&(s, _)| s == need) {
            debug_assert_eq!(sa + sb, target);
            let mask = u64::from(ma) | (u64::from(mb) << h);
            let n = mask.count_ones() as usize;
            if n < min_items || n > max_items {
                continue;
            }
            solutions.push(
                (0..values.len())
                    .filter(|&k| mask & (1 << k) != 0)
                    .map(|k| positive[k])
                    .collect(),
            );
            if solutions.len() >= max_solutions {
                break 'outer;
            }
        }
    }
    SubsetSearch {
        solutions,
        complete: true,
    }
}

/// (sum, mask) of every combination of `xs` (at most 12) whose sum is at most `cap`.
fn sums(xs: &[i64], cap: i64) -> Vec<(i64, u32)> {
    let mut all = vec![0i64; 1 << xs.len()];
    let mut out = Vec::with_capacity(all.len());
    out.push((0, 0));
    for mask in 1u32..(1 << xs.len()) {
        let low = mask.trailing_zeros() as usize;
        let s = all[(mask & (mask - 1)) as usize].saturating_add(xs[low]);
        all[mask as usize] = s;
        if s <= cap {
            out.push((s, mask));
        }
    }
    out
}

/// Depth first over the amounts sorted largest first, pruned by what the rest can still add.
fn walk(
    amounts: &[i64],
    target: i64,
    min_items: usize,
    max_items: usize,
    max_solutions: usize,
    budget: u32,
) -> SubsetSearch {
    let mut order: Vec<usize> = (0..amounts.len()).filter(|&i| amounts[i] > 0).collect();
    order.sort_by(|&a, &b| amounts[b].cmp(&amounts[a]).then(a.cmp(&b)));
    let sorted: Vec<i64> = order.iter().map(|&i| amounts[i]).collect();
    let mut prefix = Vec::with_capacity(sorted.len() + 1);
    prefix.push(0i64);
    for a in &sorted {
        prefix.push(prefix.last().copied().unwrap_or(0).saturating_add(*a));
    }
    let mut search = Search {
        sorted: &sorted,
        prefix: &prefix,
        target_items: (min_items.max(1), max_items),
        max_solutions,
        steps_left: budget,
        chosen: Vec::with_capacity(max_items),
        found: Vec::new(),
        complete: true,
    };
    if target > 0 && max_items > 0 {
        search.dfs(0, target);
    }
    SubsetSearch {
        solutions: search
            .found
            .into_iter()
            .map(|s| {
                let mut v: Vec<usize> = s.into_iter().map(|k| order[k]).collect();
                v.sort_unstable();
                v
            })
            .collect(),
        complete: search.complete,
    }
}

struct Search<'a> {
    sorted: &'a [i64],
    prefix: &'a [i64],
    target_items: (usize, usize),
    max_solutions: usize,
    steps_left: u32,
    chosen: Vec<usize>,
    found: Vec<Vec<usize>>,
    complete: bool,
}

impl Search<'_> {
    /// Sum of the `r` largest amounts from position `from` on (the slice is sorted, largest first).
    fn best_from(&self, from: usize, r: usize) -> i64 {
        let to = (from + r).min(self.sorted.len());
        self.prefix[to] - self.prefix[from]
    }

    fn done(&self) -> bool {
        !self.complete || self.found.len() >= self.max_solutions
    }

    fn dfs(&mut self, from: usize, remaining: i64) {
        if self.steps_left == 0 {
            self.complete = false;
            return;
        }
        self.steps_left -= 1;
        let room = self.target_items.1 - self.chosen.len();
        if room == 0 || self.best_from(from, room) < remaining {
            return;
        }
        for m in from..self.sorted.len() {
            let a = self.sorted[m];
            if a > remaining {
                continue;
            }
            if self.best_from(m, room) < remaining {
                break;
            }
            self.chosen.push(m);
            if a == remaining {
                if self.chosen.len() >= self.target_items.0 {
                    self.found.push(self.chosen.clone());
                }
            } else {
                self.dfs(m + 1, remaining - a);
            }
            self.chosen.pop();
            if self.done() {
                return;
            }
        }
    }
}

/// Runs of consecutive `amounts` (positive, in due order) of `min_len..=max_len` items that sum
/// to `target`, as half-open ranges.
pub(crate) fn consecutive_runs(
    amounts: &[i64],
    target: i64,
    min_len: usize,
    max_len: usize,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut sum = 0i64;
    for end in 0..amounts.len() {
        sum = sum.saturating_add(amounts[end]);
        while sum > target || end + 1 - start > max_len {
            sum -= amounts[start];
            start += 1;
        }
        if sum == target && end + 1 - start >= min_len {
            out.push((start, end + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_unique_combination_is_found_and_called_complete() {
        let r = subsets(&[1000, 2550, 399, 12000], 2949, 1, 8, 2, 10_000);
        assert_eq!(r.solutions, vec![vec![1, 2]]);
        assert!(r.complete);
    }

    #[test]
    fn equal_amounts_make_two_solutions() {
        let r = subsets(&[500, 500, 700], 1200, 1, 8, 2, 10_000);
        assert_eq!(r.solutions.len(), 2);
    }

    #[test]
    fn the_budget_bounds_the_walk_over_many_amounts() {
        let amounts: Vec<i64> = (1..=40).map(|i| i * 10).collect();
        let r = subsets(&amounts, 1, 1, 12, 2, 50);
        assert!(r.solutions.is_empty() && r.complete, "pruned at once");
        let r = subsets(&amounts, 1_505, 1, 12, 2, 50);
        assert!(
            r.solutions.is_empty() && !r.complete,
            "unreachable, not provably"
        );
    }

    #[test]
    fn halves_respect_the_item_bounds() {
        let amounts = [100, 200, 300, 600];
        let r = subsets(&amounts, 600, 2, 8, 5, 0);
        let mut s = r.solutions.clone();
        s.sort();
        assert_eq!(
            s,
            vec![vec![0, 1, 2]],
            "600 alone is one item, below the minimum of two"
        );
        assert!(r.complete);
    }

    #[test]
    fn consecutive_runs_are_found_in_due_order() {
        assert_eq!(
            consecutive_runs(&[100, 200, 300, 400], 500, 2, 8),
            vec![(1, 3)]
        );
        assert_eq!(consecutive_runs(&[100, 200, 300], 300, 2, 8), vec![(0, 2)]);
    }

    proptest! {
        #[test]
        fn every_solution_sums_to_the_target(amounts in proptest::collection::vec(1i64..5_000, 0..30), pick in proptest::collection::vec(any::<bool>(), 30)) {
            let target: i64 = amounts.iter().zip(&pick).filter(|(_, p)| **p).map(|(a, _)| a).sum();
            let r = subsets(&amounts, target, 1, 30, 3, 10_000_000);
            prop_assert!(r.complete);
            if target > 0 {
                prop_assert!(!r.solutions.is_empty());
            }
            for s in r.solutions {
                prop_assert_eq!(s.iter().map(|&i| amounts[i]).sum::<i64>(), target);
            }
        }

        #[test]
        fn halves_and_the_walk_agree(amounts in proptest::collection::vec(1i64..300, 0..16), target in 1i64..1_500) {
            let count = |r: SubsetSearch| { let mut s = r.solutions; s.sort(); s };
            let a = count(halves(&amounts, target, 1, 5, 1_000));
            let b = count(walk(&amounts, target, 1, 5, 1_000, u32::MAX));
            prop_assert_eq!(a, b);
        }
    }
}
