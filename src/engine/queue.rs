//! A time-ordered event queue whose ties are broken by insertion order.

use super::Nanos;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// Most fixed-delay lanes; delays seen after these are full go to the heap.
const MAX_LANES: usize = 8;

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

/// Events scheduled with one and the same delay: their due times never decrease, so a FIFO
/// holds them in order and costs O(1) per event instead of a heap's O(log n).
struct Lane<E> {
    delay: Nanos,
    entries: VecDeque<Entry<E>>,
}

/// Where the earliest pending event is.
#[derive(Clone, Copy)]
enum Source {
    Heap,
    Lane(usize),
}

/// The future event list. Events due at the same time pop in the order they were scheduled.
///
/// Most events sit in a binary heap. Events scheduled with [`EventQueue::schedule_fixed`] (timeouts
/// and constant network delays, which are many and mostly cancelled) go to a FIFO lane per
/// delay value instead. Every entry carries its (due time, sequence) key and `pop` takes the
/// smallest key over the heap and the lane heads, so the order is exactly the same as with the
/// heap alone: lanes change the cost, never the run.
///
/// Cancellation is lazy: the queue never searches for an event to remove. A payload that guards
/// something (a timeout, say) carries that thing's generation, and the handler drops it when the
/// generation no longer matches.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    lanes: Vec<Lane<E>>,
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
            lanes: Vec::new(),
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

    /// Schedule `event` after `delay`, a delay the caller uses again and again (a timeout, a
    /// constant network latency): such events are kept in a FIFO lane for that delay.
    pub fn schedule_fixed(&mut self, delay: Nanos, event: E) {
        let at = self.now.saturating_add(delay);
        let lane = match self.lanes.iter().position(|l| l.delay == delay) {
            Some(i) => i,
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push(Lane {
                    delay,
                    entries: VecDeque::with_capacity(256),
                });
                self.lanes.len() - 1
            }
            None => return self.schedule_at(at, event),
        };
        self.lanes[lane].entries.push_back(Entry {
            at,
            seq: self.next_seq,
            event,
        });
        self.next_seq += 1;
    }

    /// Where the earliest pending event is, and its due time.
    fn earliest(&self) -> Option<(Source, Nanos)> {
        let mut best = self.heap.peek().map(|e| (Source::Heap, e.at, e.seq));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(head) = lane.entries.front() {
                if best.is_none_or(|(_, at, seq)| (head.at, head.seq) < (at, seq)) {
                    best = Some((Source::Lane(i), head.at, head.seq));
                }
            }
        }
        best.map(|(source, at, _)| (source, at))
    }

    /// Due time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.earliest().map(|(_, at)| at)
    }

    /// Remove the earliest pending event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        let entry = match self.earliest()?.0 {
            Source::Heap => self.heap.pop()?,
            Source::Lane(i) => self.lanes[i].entries.pop_front()?,
        };
        debug_assert!(entry.at >= self.now, "clock went backwards");
        self.now = entry.at;
        Some((entry.at, entry.event))
    }

    /// Number of pending events (stale cancelled timers included).
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|l| l.entries.len()).sum::<usize>()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    fn fixed_delay_lanes_pop_in_the_same_order_as_the_heap_alone() {
        let mut mixed = EventQueue::new();
        let mut heap_only = EventQueue::new();
        let mut order = (Vec::new(), Vec::new());
        for step in 0..2_000u64 {
            let delay = [5, 7, 5, 3, 11, 7][(step % 6) as usize] + step % 4;
            if step % 3 == 0 {
                mixed.schedule_fixed(delay, step);
            } else {
                mixed.schedule_in(delay, step);
            }
            heap_only.schedule_in(delay, step);
            if step % 2 == 1 {
                order.0.push(mixed.pop());
                order.1.push(heap_only.pop());
            }
        }
        order.0.extend(std::iter::from_fn(|| mixed.pop()).map(Some));
        order.1.extend(std::iter::from_fn(|| heap_only.pop()).map(Some));
        assert_eq!(order.0, order.1);
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
