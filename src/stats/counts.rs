//! Event counts per fixed-width time window after the warm-up, several counters side by side.

type Nanos = u64;

/// `K` counters per window; window `i` covers `[start + i·width, start + (i+1)·width)`.
#[derive(Clone, Debug)]
pub struct CountSeries<const K: usize> {
    start_ns: Nanos,
    window_ns: Nanos,
    rows: Vec<[u64; K]>,
}

impl<const K: usize> CountSeries<K> {
    /// `windows` windows of `window_ns` from `start_ns`, all counts zero.
    pub fn new(start_ns: Nanos, window_ns: Nanos, windows: usize) -> Self {
        CountSeries {
            start_ns,
            window_ns: window_ns.max(1),
            rows: vec![[0; K]; windows],
        }
    }

    /// Add one to counter `which` in the window holding `now_ns` (ignored outside the windows).
    pub fn add(&mut self, now_ns: Nanos, which: usize) {
        let Some(offset) = now_ns.checked_sub(self.start_ns) else {
            return;
        };
        if let Some(row) = usize::try_from(offset / self.window_ns)
            .ok()
            .and_then(|i| self.rows.get_mut(i))
        {
            row[which] += 1;
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
        assert_eq!(s.rows(), &[[2, 0], [1, 0], [1, 1]]);
    }
}
