//! A time-ordered event queue whose ties are broken by insertion order.

use super::Nanos;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One pending event: due time, insertion sequence number, payload.
struct Entry<E> {
    at: Nanos,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest event, and of two events due
    /// at the same nanosecond the one scheduled first: the same seed gives the same run everywhere.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// The future event list. Events due at the same time pop in the order they were scheduled.
///
/// Cancellation is lazy: the queue never searches for an event to remove. A payload that guards
/// something (a timeout, say) carries that thing's generation, and the handler drops it when the
/// generation no longer matches.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now: Nanos,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            next_seq: 0,
            now: 0,
        }
    }

    /// The current simulated time: the due time of the last event popped.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Schedule `event` at absolute time `at`. A time in the past is moved to now, so the clock
    /// never runs backwards.
    pub fn schedule_at(&mut self, at: Nanos, event: E) {
        let at = at.max(self.now);
        self.heap.push(Entry {
            at,
            seq: self.next_seq,
            event,
        });
        self.next_seq += 1;
    }

    /// Schedule `event` after `delay` nanoseconds from now (saturating at the end of time).
    pub fn schedule_in(&mut self, delay: Nanos, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// Due time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| e.at)
    }

    /// Remove the earliest pending event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let entry = self.heap.pop()?;
        debug_assert!(entry.at >= self.now, "clock went backwards");
        self.now = entry.at;
        Some((entry.at, entry.event))
    }

    /// Number of pending events (stale cancelled timers included).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule_at(20, "c");
        q.schedule_at(10, "a");
        q.schedule_at(20, "d");
        q.schedule_at(10, "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(10, "a"), (10, "b"), (20, "c"), (20, "d")]);
    }

    #[test]
    fn scheduling_in_the_past_never_moves_the_clock_backwards() {
        let mut q = EventQueue::new();
        q.schedule_at(100, 1);
        assert_eq!(q.pop(), Some((100, 1)));
        q.schedule_at(5, 2);
        assert_eq!(q.pop(), Some((100, 2)));
        assert_eq!(q.now(), 100);
    }
}
