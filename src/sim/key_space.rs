//! A cache's key space in one replication: which keys hold an entry, in least-recently-used
//! order, and when each was filled. Keys are the integers 0..N (0 the most popular), so the LRU
//! list is intrusive: two arrays of neighbours' indices, and a `filled_at` per key (an absent key
//! has none). A look-up, a fill, an eviction and an expiry are O(1) and allocate nothing; the
//! memory is O(N), reserved when the replication starts (`model::memory` counts it).
//!
//! Expiry is lazy: an entry older than the TTL is dropped when a look-up finds it (counted as an
//! expiration, and the look-up misses) or when a fill replaces it. A fill of a key that holds a
//! fresh entry keeps that entry (the first answer wins, as memcached's `add`), so a miss's fill
//! never extends the life of an entry filled since the miss.

use crate::engine::{Nanos, Stream};
use crate::model::{KeySpace, Popularity};
use crate::stats::CountSeries;
use rand::RngExt;
use rand_distr::Distribution;

/// No key, no fill: the end of a list, a key with no fill in flight.
pub const NONE: u32 = u32::MAX;

/// `filled_at` of a key that holds no entry.
const ABSENT: Nanos = Nanos::MAX;

/// 1 when `now` is measured (from the warm-up on), else 0.
fn count_after(now: Nanos, warmup_ns: Nanos) -> u64 {
    u64::from(now >= warmup_ns)
}

/// Columns of [`KeySpaceTally::series`].
pub mod column {
    /// Look-ups answered by an entry.
    pub const HITS: usize = 0;
    /// Look-ups that went to the backend.
    pub const MISSES: usize = 1;
    /// Look-ups that waited for another miss's fill of their key.
    pub const COALESCED: usize = 2;
}

/// What a key space's look-ups did, from the warm-up on.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct KeySpaceTally {
    /// Look-ups answered by an entry.
    pub hits: u64,
    /// Look-ups that went to the backend.
    pub misses: u64,
    /// Look-ups that waited for another miss's fill of their key (coalescing).
    pub coalesced: u64,
    /// Misses whose backend failed, answered from the stale copy.
    pub stale: u64,
    /// Entries evicted to make room (least recently used first).
    pub evictions: u64,
    /// Entries found expired (by a look-up, or by a fill replacing them).
    pub expirations: u64,
    /// Per window: hits, misses, coalesced (see [`column`]).
    pub series: CountSeries<3>,
}

/// What a look-up found for its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// A fresh entry: a hit.
    Hit,
    /// No entry (or an expired one): the look-up misses.
    Miss,
    /// No entry, and a coalescing cache's fill of the key is in flight: the look-up waits for it.
    Filling(u32),
}

/// How look-ups draw keys: O(1) per draw, nothing allocated.
#[derive(Clone, Copy, Debug)]
enum Sampler {
    Uniform(u32),
    Zipf(rand_distr::Zipf<f64>),
}

/// One key space's entries in one replication.
pub struct KeySpaceState {
    /// Towards the most recently used, per key (NONE at the head or when absent).
    prev: Vec<u32>,
    /// Towards the least recently used, per key (NONE at the tail or when absent).
    next: Vec<u32>,
    /// When each key's entry was filled; ABSENT without one.
    filled_at: Vec<Nanos>,
    /// Per key, the fill in flight its coalesced misses wait for (empty without coalescing).
    filling: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: evicted first.
    tail: u32,
    /// Entries held.
    len: u32,
    capacity: u32,
    ttl_ns: Option<Nanos>,
    sampler: Sampler,
    warmup_ns: Nanos,
    /// What it did.
    pub tally: KeySpaceTally,
}

impl KeySpaceState {
    /// Empty, or full with the most popular keys filled at time 0 when the space is `warm`.
    pub fn new(space: &KeySpace, (warmup_ns, window_ns, windows): (Nanos, Nanos, usize)) -> Self {
        let n = space.keys as usize;
        let sampler = match space.popularity {
            Popularity::Uniform => Sampler::Uniform(space.keys),
            Popularity::Zipf(s) => match rand_distr::Zipf::new(f64::from(space.keys), s) {
                Ok(z) => Sampler::Zipf(z),
                // Validation keeps s finite and at least 0, and keys at least 1.
                Err(_) => Sampler::Uniform(space.keys),
            },
        };
        let mut state = KeySpaceState {
            prev: vec![NONE; n],
            next: vec![NONE; n],
            filled_at: vec![ABSENT; n],
            filling: if space.coalesce { vec![NONE; n] } else { Vec::new() },
            head: NONE,
            tail: NONE,
            len: 0,
            capacity: space.capacity,
            ttl_ns: space.ttl_ns,
            sampler,
            warmup_ns,
            tally: KeySpaceTally {
                hits: 0,
                misses: 0,
                coalesced: 0,
                stale: 0,
                evictions: 0,
                expirations: 0,
                series: CountSeries::new(warmup_ns, window_ns, windows),
            },
        };
        if space.warm {
            // The least popular of them first, so key 0 ends at the head (most recently used).
            for key in (0..space.capacity.min(space.keys)).rev() {
                state.push_front(key, 0);
            }
        }
        state
    }

    /// Draw the key of a look-up.
    pub fn draw(&self, rng: &mut Stream) -> u32 {
        match self.sampler {
            Sampler::Uniform(n) => rng.random_range(0..n),
            // Zipf draws ranks 1..=n as floats; rank 1 is key 0.
            Sampler::Zipf(z) => (z.sample(rng) as u32).clamp(1, self.prev.len() as u32) - 1,
        }
    }

    /// Look `key` up at `now`: a fresh entry is a hit (and becomes the most recently used); an
    /// expired one is dropped and the look-up misses, or waits for a coalescing fill in flight.
    /// Counts the look-up.
    pub fn look_up(&mut self, key: u32, now: Nanos) -> Found {
        let k = key as usize;
        if self.filled_at[k] != ABSENT {
            if self.fresh(k, now) {
                self.unlink(key);
                self.link_front(key);
                self.count(now, column::HITS);
                return Found::Hit;
            }
            self.remove(key);
            self.tally.expirations += count_after(now, self.warmup_ns);
        }
        match self.filling.get(k).copied() {
            Some(fill) if fill != NONE => {
                self.count(now, column::COALESCED);
                Found::Filling(fill)
            }
            _ => {
                self.count(now, column::MISSES);
                Found::Miss
            }
        }
    }

    /// A coalescing cache's miss of `key` starts fill `fill`: later misses of the key wait for it.
    pub fn start_fill(&mut self, key: u32, fill: u32) {
        if let Some(f) = self.filling.get_mut(key as usize) {
            *f = fill;
        }
    }

    /// Fill `fill` of `key` is over (answered or failed): later misses of the key go to the
    /// backend again.
    pub fn end_fill(&mut self, key: u32, fill: u32) {
        if let Some(f) = self.filling.get_mut(key as usize).filter(|f| **f == fill) {
            *f = NONE;
        }
    }

    /// The backend answered a miss of `key` at `now`: the key gets an entry, unless it holds a
    /// fresh one already; a full cache evicts its least recently used entry.
    pub fn fill(&mut self, key: u32, now: Nanos) {
        let k = key as usize;
        if self.filled_at[k] != ABSENT {
            if self.fresh(k, now) {
                return;
            }
            self.remove(key);
            self.tally.expirations += count_after(now, self.warmup_ns);
        }
        if self.len >= self.capacity {
            let victim = self.tail;
            if victim != NONE {
                self.remove(victim);
                self.tally.evictions += count_after(now, self.warmup_ns);
            }
        }
        self.push_front(key, now);
    }

    /// Drop every entry (fills in flight still fill when their answers come).
    pub fn flush(&mut self) {
        self.prev.fill(NONE);
        self.next.fill(NONE);
        self.filled_at.fill(ABSENT);
        self.head = NONE;
        self.tail = NONE;
        self.len = 0;
    }

    /// Entries held.
    #[cfg(test)]
    fn len(&self) -> u32 {
        self.len
    }

    /// A look-up found its key's entry gone to the backend, which failed: it was answered from
    /// the stale copy at `now`.
    pub fn served_stale(&mut self, now: Nanos) {
        self.tally.stale += count_after(now, self.warmup_ns);
    }

    /// Whether key `k`'s entry is fresh at `now`.
    fn fresh(&self, k: usize, now: Nanos) -> bool {
        self.ttl_ns.is_none_or(|ttl| now.saturating_sub(self.filled_at[k]) < ttl)
    }

    fn count(&mut self, now: Nanos, which: usize) {
        self.tally.series.add(now, which);
        let n = count_after(now, self.warmup_ns);
        match which {
            column::HITS => self.tally.hits += n,
            column::MISSES => self.tally.misses += n,
            _ => self.tally.coalesced += n,
        }
    }

    /// Give `key` an entry filled at `now`, the most recently used.
    fn push_front(&mut self, key: u32, now: Nanos) {
        self.filled_at[key as usize] = now;
        self.len += 1;
        self.link_front(key);
    }

    /// Drop `key`'s entry.
    fn remove(&mut self, key: u32) {
        self.unlink(key);
        self.filled_at[key as usize] = ABSENT;
        self.len -= 1;
    }

    fn link_front(&mut self, key: u32) {
        let k = key as usize;
        self.prev[k] = NONE;
        self.next[k] = self.head;
        if self.head != NONE {
            self.prev[self.head as usize] = key;
        } else {
            self.tail = key;
        }
        self.head = key;
    }

    fn unlink(&mut self, key: u32) {
        let k = key as usize;
        let (p, n) = (self.prev[k], self.next[k]);
        if p != NONE {
            self.next[p as usize] = n;
        } else {
            self.head = n;
        }
        if n != NONE {
            self.prev[n as usize] = p;
        } else {
            self.tail = p;
        }
        self.prev[k] = NONE;
        self.next[k] = NONE;
    }

    /// The keys from the most to the least recently used.
    #[cfg(test)]
    fn order(&self) -> Vec<u32> {
        let mut keys = Vec::new();
        let mut k = self.head;
        while k != NONE {
            keys.push(k);
            k = self.next[k as usize];
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(keys: u32, capacity: u32, ttl_ns: Option<Nanos>, coalesce: bool, warm: bool) -> KeySpace {
        KeySpace {
            name: "menu".into(),
            keys,
            popularity: Popularity::Uniform,
            capacity,
            ttl_ns,
            coalesce,
            warm,
        }
    }

    fn state(s: &KeySpace) -> KeySpaceState {
        KeySpaceState::new(s, (0, 1_000, 10))
    }

    #[test]
    fn a_full_cache_evicts_the_least_recently_used_entry() {
        let mut c = state(&space(10, 3, None, false, false));
        for key in [1, 2, 3] {
            assert_eq!(c.look_up(key, 1), Found::Miss);
            c.fill(key, 2);
        }
        // 1 is used again, so 2 is now the least recently used.
        assert_eq!(c.look_up(1, 3), Found::Hit);
        c.fill(4, 4);
        assert_eq!(c.order(), [4, 1, 3]);
        assert_eq!(c.look_up(2, 5), Found::Miss);
        assert_eq!((c.tally.hits, c.tally.misses, c.tally.evictions), (1, 4, 1));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn an_entry_expires_its_ttl_after_it_was_filled_and_a_fresh_one_is_not_refilled() {
        let mut c = state(&space(10, 10, Some(100), false, false));
        c.fill(7, 50);
        // A second answer for the same miss burst keeps the first entry's age.
        c.fill(7, 80);
        assert_eq!(c.look_up(7, 149), Found::Hit);
        assert_eq!(c.look_up(7, 150), Found::Miss);
        assert_eq!(c.tally.expirations, 1);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn a_coalescing_cache_makes_later_misses_of_a_key_wait_for_its_fill() {
        let mut c = state(&space(10, 10, None, true, false));
        assert_eq!(c.look_up(3, 1), Found::Miss);
        c.start_fill(3, 42);
        assert_eq!(c.look_up(3, 2), Found::Filling(42));
        assert_eq!(c.look_up(4, 2), Found::Miss);
        c.end_fill(3, 42);
        c.fill(3, 5);
        assert_eq!(c.look_up(3, 6), Found::Hit);
        assert_eq!((c.tally.hits, c.tally.misses, c.tally.coalesced), (1, 2, 1));
    }

    #[test]
    fn a_warm_cache_starts_with_the_most_popular_keys_and_a_flush_empties_it() {
        let mut c = state(&space(10, 4, None, false, true));
        assert_eq!(c.order(), [0, 1, 2, 3]);
        assert_eq!(c.look_up(3, 1), Found::Hit);
        assert_eq!(c.look_up(4, 1), Found::Miss);
        c.flush();
        assert_eq!(c.len(), 0);
        assert_eq!(c.look_up(0, 2), Found::Miss);
        c.fill(0, 3);
        assert_eq!(c.order(), [0]);
    }

    #[test]
    fn zipf_draws_stay_within_the_keys_and_favour_key_0() {
        let mut s = space(100, 100, None, false, false);
        s.popularity = Popularity::Zipf(1.2);
        let c = state(&s);
        let mut rng = crate::engine::stream(1, 0, "cache:test");
        let mut counts = [0u32; 100];
        for _ in 0..100_000 {
            counts[c.draw(&mut rng) as usize] += 1;
        }
        // p(0) / p(1) = 2^1.2 ≈ 2.30.
        let ratio = f64::from(counts[0]) / f64::from(counts[1]);
        assert!((ratio - 2f64.powf(1.2)).abs() < 0.1, "{ratio}");
        assert!(counts.iter().all(|&c| c > 0));
    }
}
