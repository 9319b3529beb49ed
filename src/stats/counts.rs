//! Event counts per fixed-width time window after the warm-up, several counters side by side.

use super::series::Cursor;

type Nanos = u64;

/// `K` counters per window; window `i` covers `[start + i·width, start + (i+1)·width)`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct CountSeries<const K: usize> {
    start_ns: Nanos,
    window_ns: Nanos,
    #[serde(with = "flat_rows")]
    rows: Vec<[u64; K]>,
    /// The window of the latest count: the next count, mostly in the same window, lands with two
    /// comparisons instead of a division.
    #[serde(skip, default = "no_window")]
    cursor: Cursor,
}

/// The cursor of a series read back from a shard: on no window yet.
fn no_window() -> Cursor {
    Cursor::NOWHERE
}

/// The rows written as one flat list of counts (serde has no arrays of a generic length): a
/// replication's counts travel in a shard file this way.
mod flat_rows {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, const K: usize>(rows: &[[u64; K]], s: S) -> Result<S::Ok, S::Error> {
        rows.iter().flatten().copied().collect::<Vec<u64>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const K: usize>(d: D) -> Result<Vec<[u64; K]>, D::Error> {
        let flat = Vec::<u64>::deserialize(d)?;
        if K == 0 || flat.len() % K != 0 {
            return Err(serde::de::Error::custom(format!("{} counts are not rows of {K}", flat.len())));
        }
        Ok(flat.chunks_exact(K).map(|row| std::array::from_fn(|i| row[i])).collect())
    }
}

impl<const K: usize> CountSeries<K> {
    /// `windows` windows of `window_ns` from `start_ns`, all counts zero.
    pub fn new(start_ns: Nanos, window_ns: Nanos, windows: usize) -> Self {
        CountSeries {
            start_ns,
            window_ns: window_ns.max(1),
            rows: vec![[0; K]; windows],
            cursor: Cursor::NOWHERE,
        }
    }

    /// Add one to counter `which` in the window holding `now_ns` (ignored outside the windows).
    #[inline]
    pub fn add(&mut self, now_ns: Nanos, which: usize) {
        if !self.cursor.holds(now_ns) && !self.move_cursor(now_ns) {
            return;
        }
        self.rows[self.cursor.i][which] += 1;
    }

    /// Move the cursor to the window holding `now_ns`; false (the cursor stays) when none does.
    #[cold]
    fn move_cursor(&mut self, now_ns: Nanos) -> bool {
        match Cursor::at(self.start_ns, self.window_ns, self.rows.len(), now_ns) {
            Some(cursor) => {
                self.cursor = cursor;
                true
            }
            None => false,
        }
    }

    /// The counts of every window.
    pub fn rows(&self) -> &[[u64; K]] {
        &self.rows
    }

    /// Add another series' counts window by window (same grid).
    pub fn merge(&mut self, other: &CountSeries<K>) {
        for (a, b) in self.rows.iter_mut().zip(&other.rows) {
            for k in 0..K {
                a[k] += b[k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_window_and_nothing_outside_is_kept() {
        let mut s: CountSeries<2> = CountSeries::new(100, 10, 3);
        for t in [99, 100, 109, 110, 129, 130, 10_000] {
            s.add(t, 0);
        }
        s.add(125, 1);
        // Back to an earlier window (counts need not come in time order).
        s.add(101, 1);
        assert_eq!(s.rows(), &[[2, 1], [1, 0], [1, 1]]);
    }
}
