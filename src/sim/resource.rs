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

/// `capacity` identical units and a FIFO or LIFO line of bounded or unbounded length.
///
/// Waiters that give up are not searched for: their ticket changes and they are skipped when
/// they reach the head of the line (lazy cancellation). The line is compacted when such stale
/// entries outnumber the live ones, so memory stays proportional to the live waiters.
pub struct Resource {
    capacity: u32,
    busy: u32,
    line: VecDeque<Waiter>,
    live_waiting: u32,
    line_capacity: Option<u32>,
    lifo: bool,
    warmup_ns: Nanos,
    /// Observations since the warm-up.
    pub stats: ResourceStats,
}

impl Resource {
    /// `capacity` units; a line of at most `line_capacity` waiters (unbounded when `None`);
    /// LIFO when `lifo`; statistics from `warmup_ns` on, in windows of `window_ns`.
    pub fn new(
        capacity: u32,
        line_capacity: Option<u32>,
        lifo: bool,
        warmup_ns: Nanos,
        window_ns: Nanos,
        windows: usize,
    ) -> Resource {
        Resource {
            capacity,
            busy: 0,
            line: VecDeque::new(),
            live_waiting: 0,
            line_capacity,
            lifo,
            warmup_ns,
            stats: ResourceStats {
                wait: LatencyHistogram::new(),
                waited: 0,
                busy: LevelSeries::new(warmup_ns, window_ns, windows),
                waiting: LevelSeries::new(warmup_ns, window_ns, windows),
            },
        }
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

    /// Ask for a unit for `job` holding wait ticket `ticket`.
    pub fn request(&mut self, now: Nanos, job: JobRef, ticket: u32) -> Admission {
        if self.busy < self.capacity {
            self.set_busy(now, self.busy + 1);
            self.record_wait(now, 0);
            return Admission::Granted;
        }
        if self.line_capacity.is_some_and(|cap| self.live_waiting >= cap) {
            return Admission::Rejected;
        }
        self.line.push_back(Waiter {
            job,
            ticket,
            since_ns: now,
        });
        self.set_waiting(now, self.live_waiting + 1);
        Admission::Queued
    }

    /// Give a unit back. If a live waiter is in line it gets the unit and is returned;
    /// `is_live` tells whether a waiter still waits.
    pub fn release(&mut self, now: Nanos, is_live: impl Fn(&Waiter) -> bool) -> Option<Waiter> {
        while let Some(w) = if self.lifo {
            self.line.pop_back()
        } else {
            self.line.pop_front()
        } {
            if is_live(&w) {
                self.set_waiting(now, self.live_waiting - 1);
                self.record_wait(now, now - w.since_ns);
                return Some(w);
            }
        }
        self.set_busy(now, self.busy.saturating_sub(1));
        None
    }

    /// A waiter gave up (its ticket has already changed); `is_live` as for [`Self::release`].
    pub fn abandon_wait(&mut self, now: Nanos, is_live: impl Fn(&Waiter) -> bool) {
        self.set_waiting(now, self.live_waiting.saturating_sub(1));
        if self.line.len() > 2 * self.live_waiting as usize + 64 {
            self.line.retain(is_live);
        }
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
        if now >= self.warmup_ns {
            self.stats.wait.record(wait_ns);
            self.stats.waited += u64::from(wait_ns > 0);
        }
    }
}
