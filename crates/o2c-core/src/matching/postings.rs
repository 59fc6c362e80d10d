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
    /// Keys added after the build: one item inline, or `MANY | i` for `overflow[i]`.
    extra: KeyMap<u32>,
    overflow: Vec<Vec<u32>>,
}

const MANY: u32 = 1 << 31;

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
            self.add_extra(key, item);
        } else {
            self.pending.push((key, item));
        }
    }

    fn add_extra(&mut self, key: u64, item: u32) {
        match self.extra.get(&key).copied() {
            None => {
                self.extra.insert(key, item);
            }
            Some(v) if v & MANY != 0 => {
                let list = &mut self.overflow[(v & !MANY) as usize];
                if !list.contains(&item) {
                    list.push(item);
                }
            }
            Some(v) if v != item => {
                self.overflow.push(vec![v, item]);
                let at = u32::try_from(self.overflow.len() - 1).expect("fewer than 2^31 lists");
                self.extra.insert(key, MANY | at);
            }
            Some(_) => {}
        }
    }

    /// Sorts what was added so far into the read-only table; later additions go beside it.
    pub fn freeze(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        // About eight to sixteen keys per bucket: a directory small enough to stay in cache,
        // and a bucket of keys two cache lines long, so a key costs about one memory access.
        self.bits = (usize::BITS - pending.len().leading_zeros())
            .saturating_sub(4)
            .clamp(1, 30);
        let buckets = 1usize << self.bits;
        let bucket = |k: u64| (k >> (64 - self.bits)) as usize;
        // Keys are uniform hashes: counting them into their buckets sorts them by their top
        // bits in two passes, and each bucket is short enough to finish by insertion.
        let mut starts = vec![0u32; buckets + 1];
        for &(k, _) in &pending {
            starts[bucket(k) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let mut sorted = vec![(0u64, 0u32); pending.len()];
        for &(k, item) in &pending {
            let at = &mut next[bucket(k)];
            sorted[*at as usize] = (k, item);
            *at += 1;
        }
        drop(pending);
        self.keys = Vec::with_capacity(sorted.len());
        self.items = Vec::with_capacity(sorted.len());
        self.dir = Vec::with_capacity(buckets + 1);
        for b in 0..buckets {
            self.dir.push(self.keys.len() as u32);
            let run = &mut sorted[starts[b] as usize..starts[b + 1] as usize];
            run.sort_unstable();
            let mut last = None;
            for &(k, item) in run.iter() {
                if last != Some((k, item)) {
                    self.keys.push(k);
                    self.items.push(item);
                    last = Some((k, item));
                }
            }
        }
        self.dir.push(self.keys.len() as u32);
        self.frozen = true;
    }

    pub fn get(&self, key: u64) -> Hits<'_> {
        let added = match self.extra.get(&key) {
            None => &[][..],
            Some(v) if v & MANY != 0 => &self.overflow[(v & !MANY) as usize],
            Some(v) => std::slice::from_ref(v),
        };
        if self.dir.is_empty() {
            return Hits { built: &[], added };
        }
        let bucket = (key >> (64 - self.bits)) as usize;
        let (lo, hi) = (self.dir[bucket] as usize, self.dir[bucket + 1] as usize);
        // A bucket is a few cache lines read front to back: a straight scan lets the memory
        // system fetch them together, where a binary search would wait for each in turn.
        let keys = &self.keys[lo..hi];
        let from = keys.iter().position(|&k| k >= key).unwrap_or(keys.len());
        let to = from + keys[from..].iter().take_while(|&&k| k == key).count();
        Hits {
            built: &self.items[lo + from..lo + to],
            added,
        }
    }
}

/// Caller's item keys to positions: a plain table when the keys are dense (database row ids
/// usually are), hashed otherwise.
#[derive(Default)]
pub(crate) struct KeyPositions {
    dense: Vec<u32>,
    sparse: KeyMap<u32>,
}

const ABSENT: u32 = u32::MAX;

impl KeyPositions {
    /// Positions of `keys` (position = index). `Err(position)` of a key seen twice.
    pub fn new(keys: &[u64]) -> Result<KeyPositions, u32> {
        let mut p = KeyPositions::default();
        let max = keys.iter().copied().max().unwrap_or(0);
        if max < 4 * keys.len() as u64 + 1024 {
            p.dense = vec![ABSENT; max as usize + 1];
        } else {
            p.sparse.reserve(keys.len());
        }
        for (at, &k) in keys.iter().enumerate() {
            if p.get(k).is_some() {
                return Err(at as u32);
            }
            p.insert(k, at as u32);
        }
        Ok(p)
    }

    pub fn insert(&mut self, key: u64, at: u32) {
        match self.dense.get_mut(key as usize) {
            Some(slot) => *slot = at,
            None => {
                self.sparse.insert(super::normalize::mix(key), at);
            }
        }
    }

    pub fn get(&self, key: u64) -> Option<u32> {
        match self.dense.get(key as usize) {
            Some(&at) => (at != ABSENT).then_some(at),
            None => self.sparse.get(&super::normalize::mix(key)).copied(),
        }
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
        assert_eq!(p.get(u64::MAX).iter().next(), Some(4));
        assert_eq!(p.get(8).len(), 1);
        assert_eq!(p.get(6).len(), 0);
    }

    #[test]
    fn keys_dense_or_not_find_their_positions() {
        for keys in [vec![5u64, 1, 3], vec![u64::MAX - 1, 7, 1 << 40]] {
            let mut p = KeyPositions::new(&keys).unwrap();
            assert_eq!(p.get(keys[2]), Some(2));
            assert_eq!(p.get(2), None);
            p.insert(99, 3);
            assert_eq!(p.get(99), Some(3));
        }
        assert_eq!(KeyPositions::new(&[4, 2, 4]).err(), Some(2));
    }
}
