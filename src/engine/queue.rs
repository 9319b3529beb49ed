//! A time-ordered event queue whose ties are broken by insertion order.

use super::heap::{due, key, EventHeap, Key, Keyed, NO_KEY};
use super::Nanos;
use std::collections::VecDeque;

/// Most fixed-delay lanes; delays seen after these are full go to the heap.
const MAX_LANES: usize = 8;

/// In [`EventQueue::lane_head_at`]: the far heap, not a lane.
const FAR: usize = usize::MAX;

/// How far ahead of now an event is due, at least, to wait in the far heap: a simulated second,
/// long beside a request's steps (micro- to milliseconds), short beside a user's think time.
pub const FAR_NS: Nanos = 1_000_000_000;

/// Events scheduled with one and the same delay: their due times never decrease, so a FIFO
/// holds them in order and costs O(1) per event instead of a heap's O(log n).
struct Lane<E> {
    entries: VecDeque<Keyed<E>>,
}

/// The future event list. Events due at the same time pop in the order they were scheduled.
///
/// Most events sit in a binary heap, or two: events due at least [`FAR_NS`] after they are
/// scheduled (idle users' think times, queue messages' visibility timeouts, periodic ticks) go
/// to a heap of their own, so the heap of the events due soon stays small and its pops and pushes
/// walk few levels. Events scheduled with [`EventQueue::schedule_fixed`] (timeouts
/// and constant network delays, which are many and mostly cancelled) go to a FIFO lane per
/// delay value instead. Every entry carries its (due time, sequence) key and `pop` takes the
/// smallest key over the heaps and the lane heads, so the order is exactly the same as with one
/// heap alone: the second heap and the lanes change the cost, never the run. The smallest key
/// outside the near heap (over the lane heads and the far heap) is kept at hand, so looking at
/// the earliest event costs one comparison however many lanes there are.
///
/// Cancellation is lazy: the queue never searches for an event to remove. A payload that guards
/// something (a timeout, say) carries that thing's generation, and the handler drops it when the
/// generation no longer matches.
pub struct EventQueue<E> {
    /// Events due less than `far_ns` after they were scheduled.
    heap: EventHeap<E>,
    /// Events due `far_ns` or more after they were scheduled.
    far: EventHeap<E>,
    /// How far ahead an event goes to the far heap.
    far_ns: Nanos,
    lanes: Vec<Lane<E>>,
    /// The key of each lane's head ([`NO_KEY`] for an empty lane), side by side so that finding
    /// the smallest is one short scan.
    heads: Vec<Key>,
    /// Each lane's delay, side by side so that finding a delay's lane is one short scan.
    delays: Vec<Nanos>,
    /// The smallest key over the lane heads and the far heap ([`NO_KEY`] when all are empty):
    /// the one comparison a pop makes before it takes the near heap's earliest event.
    lane_head: Key,
    /// The lane whose head has key `lane_head`, or [`FAR`] for the far heap.
    lane_head_at: usize,
    /// The smallest key in the far heap ([`NO_KEY`] when it is empty).
    far_head: Key,
    next_seq: u64,
    now: Nanos,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::with_far_horizon(FAR_NS)
    }

    /// An empty queue at time zero whose events due `far_ns` or more ahead wait in the far heap.
    pub fn with_far_horizon(far_ns: Nanos) -> Self {
        EventQueue {
            heap: EventHeap::with_capacity(1024),
            far: EventHeap::with_capacity(1024),
            far_ns,
            lanes: Vec::new(),
            heads: Vec::new(),
            delays: Vec::with_capacity(MAX_LANES),
            lane_head: NO_KEY,
            lane_head_at: 0,
            far_head: NO_KEY,
            next_seq: 0,
            now: 0,
        }
    }

    /// The current simulated time: the due time of the last event popped.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The key of the next event scheduled at `at`, counting it as scheduled.
    #[inline]
    fn next_key(&mut self, at: Nanos) -> Key {
        let k = key(at, self.next_seq);
        self.next_seq += 1;
        k
    }

    /// Schedule `event` at absolute time `at`. A time in the past is moved to now, so the clock
    /// never runs backwards.
    #[inline(always)]
    pub fn schedule_at(&mut self, at: Nanos, event: E) {
        let k = self.next_key(at.max(self.now));
        if at.saturating_sub(self.now) < self.far_ns {
            self.heap.push(k, event);
        } else {
            self.push_far(k, event);
        }
    }

    /// Put an event due far ahead in the far heap (rarer than the near: kept out of line).
    #[inline(never)]
    fn push_far(&mut self, k: Key, event: E) {
        self.far.push(k, event);
        self.far_head = self.far.min_key();
        if self.far_head < self.lane_head {
            (self.lane_head, self.lane_head_at) = (self.far_head, FAR);
        }
    }

    /// Schedule `event` after `delay` nanoseconds from now (saturating at the end of time).
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: Nanos, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// Schedule `event` after `delay`, a delay the caller uses again and again (a timeout, a
    /// constant network latency): such events are kept in a FIFO lane for that delay.
    pub fn schedule_fixed(&mut self, delay: Nanos, event: E) {
        let at = self.now.saturating_add(delay);
        let lane = match self.delays.iter().position(|&d| d == delay) {
            Some(i) => i,
            None if self.lanes.len() < MAX_LANES => self.open_lane(delay),
            None => return self.schedule_at(at, event),
        };
        let k = self.next_key(at);
        let entries = &mut self.lanes[lane].entries;
        // A later key than every entry of the lane: it changes the lane's head only if empty.
        if entries.is_empty() {
            self.heads[lane] = k;
            if k < self.lane_head {
                (self.lane_head, self.lane_head_at) = (k, lane);
            }
        }
        entries.push_back(Keyed::new(k, event));
    }

    /// A new lane for `delay`, its index.
    #[cold]
    fn open_lane(&mut self, delay: Nanos) -> usize {
        self.lanes.push(Lane {
            entries: VecDeque::with_capacity(256),
        });
        self.heads.push(NO_KEY);
        self.delays.push(delay);
        self.lanes.len() - 1
    }

    /// The key of the earliest pending event ([`NO_KEY`] when nothing is pending).
    #[inline]
    fn earliest_key(&self) -> Key {
        self.heap.min_key().min(self.lane_head)
    }

    /// Due time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        let k = self.earliest_key();
        (k != NO_KEY).then(|| due(k))
    }

    /// Remove the earliest pending event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.pop_due_by(Nanos::MAX)
    }

    /// Remove the earliest pending event if it is due at `horizon` or before, and advance the
    /// clock to it; `None` (nothing removed) when nothing is pending or the earliest event is
    /// due later.
    #[inline]
    pub fn pop_due_by(&mut self, horizon: Nanos) -> Option<(Nanos, E)> {
        let from_heap = self.heap.min_key();
        let entry = if from_heap < self.lane_head {
            if due(from_heap) > horizon {
                return None;
            }
            self.heap.pop()?
        } else {
            if self.lane_head == NO_KEY || due(self.lane_head) > horizon {
                return None;
            }
            let entry = if self.lane_head_at == FAR {
                self.pop_far()?
            } else {
                let entries = &mut self.lanes[self.lane_head_at].entries;
                let entry = entries.pop_front()?;
                self.heads[self.lane_head_at] = entries.front().map_or(NO_KEY, Keyed::key);
                entry
            };
            self.find_lane_head();
            entry
        };
        let at = due(entry.key());
        debug_assert!(at >= self.now, "clock went backwards");
        self.now = at;
        Some((at, entry.event))
    }

    /// Take the earliest event of the far heap (rarer than the near: kept out of line).
    #[inline(never)]
    fn pop_far(&mut self) -> Option<Keyed<E>> {
        let entry = self.far.pop();
        self.far_head = self.far.min_key();
        entry
    }

    /// Finds the smallest lane head again, after one was popped.
    fn find_lane_head(&mut self) {
        (self.lane_head, self.lane_head_at) = (self.far_head, FAR);
        for (i, &head) in self.heads.iter().enumerate() {
            if head < self.lane_head {
                (self.lane_head, self.lane_head_at) = (head, i);
            }
        }
    }

    /// Number of pending events (stale cancelled timers included).
    pub fn len(&self) -> usize {
        self.heap.len() + self.far.len() + self.lanes.iter().map(|l| l.entries.len()).sum::<usize>()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn fixed_delay_lanes_and_the_far_heap_pop_in_the_same_order_as_one_heap_alone() {
        // Delays of 8 or more wait in the far heap.
        let mut mixed = EventQueue::with_far_horizon(8);
        let mut heap_only = EventQueue::with_far_horizon(Nanos::MAX);
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

    /// One step of a random schedule: what to do, with a time or delay.
    #[derive(Clone, Debug)]
    enum Step {
        At(u64),
        In(u64),
        Fixed(u64),
        Pop,
        PopDueBy(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..400u64).prop_map(Step::At),
            (0..50u64).prop_map(Step::In),
            // More delays than lanes: the last ones go to the heap.
            prop::sample::select(vec![0u64, 3, 5, 7, 10, 11, 13, 20, 30, 40]).prop_map(Step::Fixed),
            Just(Step::Pop),
            (0..60u64).prop_map(Step::PopDueBy),
        ]
    }

    /// The reference: every pending (due time, sequence, id), the earliest found by a full scan.
    struct Naive {
        pending: Vec<(u64, u64, u32)>,
        seq: u64,
        now: u64,
    }

    impl Naive {
        fn schedule(&mut self, at: u64, id: u32) {
            self.pending.push((at.max(self.now), self.seq, id));
            self.seq += 1;
        }
        fn pop_due_by(&mut self, horizon: u64) -> Option<(u64, u32)> {
            let i = (0..self.pending.len()).min_by_key(|&i| (self.pending[i].0, self.pending[i].1))?;
            if self.pending[i].0 > horizon {
                return None;
            }
            let (at, _, id) = self.pending.remove(i);
            self.now = at;
            Some((at, id))
        }
    }

    proptest! {
        #[test]
        fn any_schedule_pops_exactly_like_a_scan_for_the_smallest_time_and_sequence(
            steps in prop::collection::vec(step(), 1..400),
            far_ns in 1..80u64,
        ) {
            let mut q = EventQueue::with_far_horizon(far_ns);
            let mut naive = Naive { pending: Vec::new(), seq: 0, now: 0 };
            for (id, s) in steps.iter().enumerate() {
                let id = id as u32;
                match *s {
                    Step::At(at) => {
                        q.schedule_at(at, id);
                        naive.schedule(at, id);
                    }
                    Step::In(d) => {
                        q.schedule_in(d, id);
                        naive.schedule(naive.now + d, id);
                    }
                    Step::Fixed(d) => {
                        q.schedule_fixed(d, id);
                        naive.schedule(naive.now + d, id);
                    }
                    Step::Pop => prop_assert_eq!(q.pop(), naive.pop_due_by(u64::MAX)),
                    Step::PopDueBy(ahead) => {
                        let horizon = naive.now + ahead;
                        prop_assert_eq!(q.pop_due_by(horizon), naive.pop_due_by(horizon));
                    }
                }
                prop_assert_eq!(q.now(), naive.now);
                prop_assert_eq!(q.len(), naive.pending.len());
                let earliest = naive.pending.iter().map(|p| (p.0, p.1)).min().map(|p| p.0);
                prop_assert_eq!(q.peek_time(), earliest);
            }
            while let Some(popped) = q.pop() {
                prop_assert_eq!(Some(popped), naive.pop_due_by(u64::MAX));
            }
            prop_assert!(naive.pending.is_empty());
        }
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
