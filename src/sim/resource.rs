//! A group of identical units (workers, database cores, pooled connections) with a waiting line.

use super::job::JobRef;
use crate::engine::Nanos;
use crate::stats::{LatencyHistogram, LevelSeries};
use std::collections::VecDeque;

/// A job waiting for a unit, with the ticket it held when it started waiting.
#[derive(Clone, Copy, Debug)]
pub struct Waiter {
    /// The waiting job.
    pub job: JobRef,
    /// The job's wait ticket when it queued: a changed ticket means it stopped waiting.
    pub ticket: u32,
    /// When it started waiting.
    pub since_ns: Nanos,
}

/// The answer to a request for a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A unit was free and is now held.
    Granted,
    /// No unit was free; the job waits in line.
    Queued,
    /// No unit was free and the line is full.
    Rejected,
}

/// How the units, the line and the waits have behaved, from the warm-up on.
pub struct ResourceStats {
    /// Time from request to grant of every grant (zero when a unit was free).
    pub wait: LatencyHistogram,
    /// Grants that had to wait (a non-zero wait).
    pub waited: u64,
    /// Units in use over time, per window.
    pub busy: LevelSeries,
    /// Jobs waiting over time, per window.
    pub waiting: LevelSeries,
}

/// Which waiter of a line a free unit takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LineOrder {
    /// The oldest.
    Fifo,
    /// The newest.
    Lifo,
    /// The oldest, but the newest once the line has not been empty for longer than this
    /// (adaptive LIFO: under overload the freshest requests, whose callers still wait, go first).
    AdaptiveLifo(Nanos),
}

/// The rule of one waiting line: its order and bound.
#[derive(Clone, Copy, Debug)]
pub struct LineRule {
    /// Which waiter goes first.
    pub order: LineOrder,
    /// Most live waiters; unbounded when `None`.
    pub capacity: Option<u32>,
}

struct Line {
    rule: LineRule,
    waiters: VecDeque<Waiter>,
    live: u32,
    /// When the line last had no live waiter.
    empty_since_ns: Nanos,
}

/// `capacity` identical units and one or more waiting lines in priority order (a free unit
/// serves the first line with a live waiter), each FIFO, LIFO or adaptive LIFO, bounded or not.
///
/// Waiters that give up are not searched for: their ticket changes and they are skipped when
/// they reach the head of the line (lazy cancellation). A line is compacted when such stale
/// entries outnumber the live ones, so memory stays proportional to the live waiters.
pub struct Resource {
    capacity: u32,
    busy: u32,
    lines: Vec<Line>,
    live_waiting: u32,
    warmup_ns: Nanos,
    /// Whether waits go to `stats.wait` (else the owner records them: see
    /// [`Resource::without_wait_histogram`]).
    keep_waits: bool,
    /// Observations since the warm-up.
    pub stats: ResourceStats,
}

impl Resource {
    /// `capacity` units; one line of at most `line_capacity` waiters (unbounded when `None`);
    /// LIFO when `lifo`; statistics from `warmup_ns` on, in windows of `window_ns`.
    pub fn new(
        capacity: u32,
        line_capacity: Option<u32>,
        lifo: bool,
        warmup_ns: Nanos,
        window_ns: Nanos,
        windows: usize,
    ) -> Resource {
        let rule = LineRule {
            order: if lifo { LineOrder::Lifo } else { LineOrder::Fifo },
            capacity: line_capacity,
        };
        Resource::with_lines(capacity, &[rule], warmup_ns, window_ns, windows)
    }

    /// `capacity` units and one line per rule, the first served first.
    pub fn with_lines(capacity: u32, rules: &[LineRule], warmup_ns: Nanos, window_ns: Nanos, windows: usize) -> Resource {
        Resource {
            capacity,
            busy: 0,
            lines: rules
                .iter()
                .map(|&rule| Line {
                    rule,
                    waiters: VecDeque::new(),
                    live: 0,
                    empty_since_ns: 0,
                })
                .collect(),
            live_waiting: 0,
            warmup_ns,
            keep_waits: true,
            stats: ResourceStats {
                wait: LatencyHistogram::new(),
                waited: 0,
                busy: LevelSeries::new(warmup_ns, window_ns, windows),
                waiting: LevelSeries::new(warmup_ns, window_ns, windows),
            },
        }
    }

    /// The same resource without a wait histogram of its own: the owner records the waits (zero
    /// when [`Self::request_in`] grants at once, now − `since_ns` of the waiter [`Self::release`]
    /// returns). A service's instances share one histogram this way, so 100,000 instances do not
    /// hold 100,000 histograms.
    pub fn without_wait_histogram(mut self) -> Resource {
        self.keep_waits = false;
        self
    }

    /// Units.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Units in use.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Jobs waiting (not counting those that gave up).
    pub fn waiting(&self) -> u32 {
        self.live_waiting
    }

    /// Ask for a unit for `job` holding wait ticket `ticket`, waiting in the first line if none is free.
    pub fn request(&mut self, now: Nanos, job: JobRef, ticket: u32) -> Admission {
        self.request_in(0, now, job, ticket)
    }

    /// Ask for a unit for `job` holding wait ticket `ticket`, waiting in line `line` if none is free.
    pub fn request_in(&mut self, line: usize, now: Nanos, job: JobRef, ticket: u32) -> Admission {
        if self.busy < self.capacity {
            self.set_busy(now, self.busy + 1);
            self.record_wait(now, 0);
            return Admission::Granted;
        }
        let l = &mut self.lines[line];
        if l.rule.capacity.is_some_and(|cap| l.live >= cap) {
            return Admission::Rejected;
        }
        l.waiters.push_back(Waiter {
            job,
            ticket,
            since_ns: now,
        });
        l.live += 1;
        self.set_waiting(now, self.live_waiting + 1);
        Admission::Queued
    }

    /// Give a unit back. If a live waiter is in some line, the first such line's next waiter
    /// gets the unit and is returned; `is_live` tells whether a waiter still waits.
    pub fn release(&mut self, now: Nanos, is_live: impl Fn(&Waiter) -> bool) -> Option<Waiter> {
        for l in &mut self.lines {
            if l.live == 0 {
                continue;
            }
            let newest = match l.rule.order {
                LineOrder::Fifo => false,
                LineOrder::Lifo => true,
                LineOrder::AdaptiveLifo(after) => now.saturating_sub(l.empty_since_ns) > after,
            };
            while let Some(w) = if newest { l.waiters.pop_back() } else { l.waiters.pop_front() } {
                if is_live(&w) {
                    l.live -= 1;
                    if l.live == 0 {
                        l.empty_since_ns = now;
                    }
                    self.live_waiting -= 1;
                    self.stats.waiting.set(now, f64::from(self.live_waiting));
                    self.record_wait(now, now - w.since_ns);
                    return Some(w);
                }
            }
        }
        self.set_busy(now, self.busy.saturating_sub(1));
        None
    }

    /// A waiter of the first line gave up (its ticket has already changed); `is_live` as for
    /// [`Self::release`].
    pub fn abandon_wait(&mut self, now: Nanos, is_live: impl Fn(&Waiter) -> bool) {
        self.abandon_wait_in(0, now, is_live);
    }

    /// A waiter of line `line` gave up (its ticket has already changed).
    pub fn abandon_wait_in(&mut self, line: usize, now: Nanos, is_live: impl Fn(&Waiter) -> bool) {
        let l = &mut self.lines[line];
        l.live = l.live.saturating_sub(1);
        if l.live == 0 {
            l.empty_since_ns = now;
        }
        if l.waiters.len() > 2 * l.live as usize + 64 {
            l.waiters.retain(is_live);
        }
        self.set_waiting(now, self.live_waiting.saturating_sub(1));
    }

    /// Close the statistics at the end of the run.
    pub fn finish(&mut self, end_ns: Nanos) {
        self.stats.busy.finish(end_ns);
        self.stats.waiting.finish(end_ns);
    }

    fn set_busy(&mut self, now: Nanos, busy: u32) {
        self.busy = busy;
        self.stats.busy.set(now, f64::from(busy));
    }

    fn set_waiting(&mut self, now: Nanos, waiting: u32) {
        self.live_waiting = waiting;
        self.stats.waiting.set(now, f64::from(waiting));
    }

    fn record_wait(&mut self, now: Nanos, wait_ns: Nanos) {
        if self.keep_waits && now >= self.warmup_ns {
            self.stats.wait.record(wait_ns);
            self.stats.waited += u64::from(wait_ns > 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::job::{Job, JobSlab, Owner};

    fn jobs(n: usize) -> (JobSlab, Vec<JobRef>) {
        let mut slab = JobSlab::default();
        let refs = (0..n)
            .map(|_| slab.insert(Job::new(Owner::Client { client: 0, user: 0 }, None, 0, 0)))
            .collect();
        (slab, refs)
    }

    fn rule(order: LineOrder, capacity: Option<u32>) -> LineRule {
        LineRule { order, capacity }
    }

    #[test]
    fn a_free_unit_serves_the_first_line_with_a_live_waiter_and_each_line_has_its_own_bound() {
        let (_, j) = jobs(5);
        let mut r = Resource::with_lines(1, &[rule(LineOrder::Fifo, None), rule(LineOrder::Fifo, Some(1))], 0, 1_000, 1);
        assert_eq!(r.request_in(1, 0, j[0], 0), Admission::Granted);
        assert_eq!(r.request_in(1, 1, j[1], 0), Admission::Queued);
        assert_eq!(r.request_in(1, 2, j[2], 0), Admission::Rejected, "the low line holds one");
        assert_eq!(r.request_in(0, 3, j[3], 0), Admission::Queued);
        assert_eq!(r.request_in(0, 4, j[4], 0), Admission::Queued, "the high line is unbounded");
        let order: Vec<_> = (0..3).map(|t| r.release(10 + t, |_| true).unwrap().job).collect();
        assert_eq!(order, vec![j[3], j[4], j[1]]);
        assert_eq!(r.waiting(), 0);
    }

    #[test]
    fn adaptive_lifo_serves_the_oldest_until_the_line_has_not_been_empty_for_its_threshold() {
        let (_, j) = jobs(4);
        let mut r = Resource::with_lines(1, &[rule(LineOrder::AdaptiveLifo(100), None)], 0, 1_000, 1);
        assert_eq!(r.request(0, j[0], 0), Admission::Granted);
        r.request(10, j[1], 0);
        r.request(20, j[2], 0);
        // The line was last empty at 0: within 100 ns of that, the oldest goes first.
        assert_eq!(r.release(50, |_| true).unwrap().job, j[1]);
        r.request(60, j[3], 0);
        // Never empty since t = 0: past 100 ns the newest goes first.
        assert_eq!(r.release(200, |_| true).unwrap().job, j[3]);
        assert_eq!(r.release(210, |_| true).unwrap().job, j[2]);
        assert!(r.release(220, |_| true).is_none(), "no one left: the unit is free");
        assert_eq!(r.busy(), 0);
    }
}
