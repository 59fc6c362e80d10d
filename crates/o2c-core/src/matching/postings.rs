//! Keys to item positions, built for a million items in a fraction of a second and read in two
//! memory accesses: during the build, (key, item) pairs are only appended; `freeze` sorts them
//! once and lays a directory over the keys' top bits. What is added later (an invoice issued
//! during a run, a payer learned) goes to a small hash map beside it.

use super::normalize::KeyMap;

#[derive(Default)]
pub(crate) struct Postings {
    pending: Vec<(u64, u32)>,
    frozen: bool,
    keys: Vec<u64>,
    items: Vec<u32>,
    /// `dir[b]..dir[b + 1]` is the range of keys whose top `bits` bits are `b`.
    dir: Vec<u32>,
    bits: u32,
    extra: KeyMap<Vec<u32>>,
}

/// The items under one key: those from the build and those added after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hits<'a> {
    built: &'a [u32],
    added: &'a [u32],
}

impl<'a> Hits<'a> {
    pub fn len(&self) -> usize {
        self.built.len() + self.added.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn first(&self) -> Option<u32> {
        self.built.first().or(self.added.first()).copied()
    }
    pub fn iter(self) -> impl Iterator<Item = u32> + 'a {
        self.built.iter().chain(self.added).copied()
    }
}

impl Postings {
    pub fn with_capacity(n: usize) -> Postings {
        Postings {
            pending: Vec::with_capacity(n),
            ..Postings::default()
        }
    }

    pub fn add(&mut self, key: u64, item: u32) {
        if self.frozen {
            let list = self.extra.entry(key).or_default();
            if !list.contains(&item) {
                list.push(item);
            }
        } else {
            self.pending.push((key, item));
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Sorts what was added so far into the read-only table; later additions go beside it.
    pub fn freeze(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable();
        pending.dedup();
        // About two buckets per key: most keys that are absent end at an empty bucket.
        self.bits = (usize::BITS - pending.len().leading_zeros() + 1).clamp(1, 30);
        let buckets = 1usize << self.bits;
        self.keys = Vec::with_capacity(pending.len());
        self.items = Vec::with_capacity(pending.len());
        self.dir = Vec::with_capacity(buckets + 1);
        for &(k, item) in &pending {
            let bucket = (k >> (64 - self.bits)) as usize;
            while self.dir.len() <= bucket {
                self.dir.push(self.keys.len() as u32);
            }
            self.keys.push(k);
            self.items.push(item);
        }
        while self.dir.len() <= buckets {
            self.dir.push(self.keys.len() as u32);
        }
        self.frozen = true;
    }

    pub fn get(&self, key: u64) -> Hits<'_> {
        let added = self.extra.get(&key).map_or(&[][..], Vec::as_slice);
        if self.dir.is_empty() {
            return Hits { built: &[], added };
        }
        let bucket = (key >> (64 - self.bits)) as usize;
        let (lo, hi) = (self.dir[bucket] as usize, self.dir[bucket + 1] as usize);
        let keys = &self.keys[lo..hi];
        let from = keys.partition_point(|&k| k < key);
        let to = from + keys[from..].iter().take_while(|&&k| k == key).count();
        Hits {
            built: &self.items[lo + from..lo + to],
            added,
        }
    }

    /// Keys that name more than one item in the built table, with those items.
    pub fn shared_keys(&self) -> impl Iterator<Item = (u64, &[u32])> + '_ {
        self.keys
            .chunk_by(|a, b| a == b)
            .scan(0usize, move |at, run| {
                let start = *at;
                *at += run.len();
                Some((run[0], &self.items[start..*at]))
            })
            .filter(|(_, items)| items.len() > 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_added_is_found_before_and_after_the_freeze() {
        let mut p = Postings::with_capacity(8);
        for (k, i) in [(5u64 << 60, 1), (7, 2), (7, 3), (u64::MAX, 4), (7, 2)] {
            p.add(k, i);
        }
        p.freeze();
        p.add(7, 9);
        p.add(8, 10);
        assert_eq!(p.get(7).iter().collect::<Vec<_>>(), vec![2, 3, 9]);
        assert_eq!(p.get(5 << 60).iter().collect::<Vec<_>>(), vec![1]);
        assert_eq!(p.get(u64::MAX).first(), Some(4));
        assert_eq!(p.get(8).len(), 1);
        assert!(p.get(6).is_empty());
        assert_eq!(p.shared_keys().count(), 1);
    }
}
