//! A binary min-heap of pending events keyed by one packed (due time, sequence) number.

/// The order of a pending event: its due time in the high 64 bits and its insertion sequence
/// number in the low 64, so one integer comparison orders by time and then by insertion.
pub(super) type Key = u128;

/// The key of an event due at `at` and scheduled as the `seq`-th.
#[inline]
pub(super) fn key(at: u64, seq: u64) -> Key {
    (Key::from(at) << 64) | Key::from(seq)
}

/// The due time a key carries.
#[inline]
pub(super) fn due(key: Key) -> u64 {
    (key >> 64) as u64
}

/// A key above every key an event can have (no event is scheduled `u64::MAX`-th).
pub(super) const NO_KEY: Key = Key::MAX;

/// One pending event with its key, kept as two 8-byte halves: the entry is then aligned like
/// its event and time rather than to 16 bytes (no padding beside a small event), and the halves
/// join into one [`Key`] in registers for free.
#[derive(Clone, Copy)]
pub(super) struct Keyed<E> {
    at: u64,
    seq: u64,
    pub(super) event: E,
}

impl<E> Keyed<E> {
    /// `event` under `key`.
    #[inline]
    pub(super) fn new(key: Key, event: E) -> Self {
        Keyed {
            at: due(key),
            seq: key as u64,
            event,
        }
    }

    /// The entry's key.
    #[inline]
    pub(super) fn key(&self) -> Key {
        key(self.at, self.seq)
    }
}

/// A binary min-heap of events by key: the smallest key is at the root, every parent's key is
/// below its children's. Keys are unique, so the pop order is fully defined by the keys.
///
/// Entries move into a hole instead of being swapped: one copy per level instead of three.
/// `pop` takes the last entry out, walks the hole from the root down to a leaf along the smaller
/// children (one comparison per level), and lifts the last entry back from there: coming from
/// the bottom, it almost always belongs near it.
pub(super) struct EventHeap<E> {
    entries: Vec<Keyed<E>>,
}

impl<E: Copy> EventHeap<E> {
    /// An empty heap with room for `capacity` events.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        EventHeap {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Number of events held.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The smallest key held, or [`NO_KEY`] when empty.
    #[inline]
    pub(super) fn min_key(&self) -> Key {
        self.entries.first().map_or(NO_KEY, |e| e.key())
    }

    /// Adds `event` under `key`.
    #[inline]
    pub(super) fn push(&mut self, key: Key, event: E) {
        let entry = Keyed::new(key, event);
        self.entries.push(entry);
        let pos = self.entries.len() - 1;
        self.lift(pos, entry);
    }

    /// Removes and returns the entry of smallest key.
    #[inline(always)]
    pub(super) fn pop(&mut self) -> Option<Keyed<E>> {
        let last = self.entries.pop()?;
        let Some(&root) = self.entries.first() else {
            return Some(last);
        };
        let len = self.entries.len();
        let mut hole = 0;
        loop {
            let left = 2 * hole + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right].key() < self.entries[left].key() {
                right
            } else {
                left
            };
            self.entries[hole] = self.entries[child];
            hole = child;
        }
        self.lift(hole, last);
        Some(root)
    }

    /// Puts `entry` in the hole at `pos`, or above it: parents of larger key move down.
    #[inline]
    fn lift(&mut self, mut pos: usize, entry: Keyed<E>) {
        let key = entry.key();
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.entries[parent].key() <= key {
                break;
            }
            self.entries[pos] = self.entries[parent];
            pos = parent;
        }
        self.entries[pos] = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_orders_by_due_time_then_by_sequence() {
        assert!(key(5, 9) < key(6, 0));
        assert!(key(5, 1) < key(5, 2));
        assert!(key(u64::MAX, u64::MAX - 1) < NO_KEY);
        assert_eq!(due(key(123, 456)), 123);
        assert_eq!(Keyed::new(key(123, 456), ()).key(), key(123, 456));
    }

    #[test]
    fn pops_every_key_in_increasing_order() {
        let mut heap = EventHeap::with_capacity(4);
        // A permutation of 0..1000 (7 is coprime with 1000).
        for k in 0..1000u64 {
            let v = (k * 7) % 1000;
            heap.push(key(v / 3, v), v);
        }
        assert_eq!(heap.len(), 1000);
        let popped: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.event)).collect();
        assert_eq!(popped, (0..1000).collect::<Vec<_>>());
        assert_eq!(heap.min_key(), NO_KEY);
    }

    #[test]
    fn an_entry_takes_no_more_room_than_its_time_sequence_and_event() {
        assert_eq!(
            std::mem::size_of::<Keyed<[u32; 5]>>(),
            std::mem::size_of::<(u64, u64, [u32; 5])>()
        );
    }
}
