//! Bulkheads: a cap on one call's attempts in flight at once, per instance of the calling side
//! (a semaphore inside each process, as in Resilience4j), with an optional line for a place.
//! An attempt takes a place when it is sent and gives it back when it ends (its answer, its
//! timeout, or its cache answering stale); over the cap it waits in the line, if there is one and
//! it has room, or is rejected at once. A waiter whose `max_wait` passes is rejected.
//!
//! Places and lines are in arrays indexed by (bulkhead, caller instance). Waiters are kept in
//! order with the attempt number they wait for; a waiter that stopped waiting is recognised when
//! reached (its job moved on), never searched for, and the line is compacted when such stale
//! entries outnumber the live ones.

use super::job::JobRef;
use crate::model::{Bulkhead, Limit, LimitKind};
use std::collections::VecDeque;

/// An attempt waiting for a place: the calling job and its attempt number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    /// The caller.
    pub job: JobRef,
    /// Its attempt that waits.
    pub attempt: u32,
}

/// What a bulkhead says to an attempt about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// It has a place: it goes.
    Taken,
    /// It waits in the line.
    Waiting,
    /// No place and no room in the line: rejected.
    Rejected,
}

/// One caller instance's places and line at one bulkhead.
#[derive(Clone, Debug, Default)]
struct Compartment {
    /// Places taken.
    in_flight: u32,
    /// Waiters still waiting.
    waiting: u32,
    /// Waiters in order, stale ones included.
    line: VecDeque<Waiter>,
}

/// Every bulkhead's places and lines.
pub struct Bulkheads {
    /// Per limit of the model: its settings and the index of its first compartment (bulkheads only).
    bulkheads: Vec<Option<(Bulkhead, usize)>>,
    /// Per (bulkhead, caller instance).
    compartments: Vec<Compartment>,
}

impl Bulkheads {
    /// Every place free, every line empty.
    pub fn new(limits: &[Limit]) -> Self {
        let mut next = 0;
        let bulkheads = limits
            .iter()
            .map(|l| match &l.kind {
                LimitKind::Bulkhead(b) => {
                    let first = next;
                    next += b.instances as usize;
                    Some((*b, first))
                }
                LimitKind::RateLimit(_) => None,
            })
            .collect();
        Bulkheads {
            bulkheads,
            compartments: vec![Compartment::default(); next],
        }
    }

    fn compartment(&mut self, limit: usize, instance: u32) -> (&Bulkhead, &mut Compartment) {
        let (b, first) = self.bulkheads[limit].as_ref().expect("a bulkhead");
        let i = first + (instance.min(b.instances - 1) as usize);
        (b, &mut self.compartments[i])
    }

    /// Ask bulkhead `limit` for a place for `waiter`, sent by caller instance `instance`.
    pub fn enter(&mut self, limit: usize, instance: u32, waiter: Waiter, live: impl Fn(&Waiter) -> bool) -> Place {
        let (b, c) = self.compartment(limit, instance);
        if c.in_flight < b.max_concurrent {
            c.in_flight += 1;
            return Place::Taken;
        }
        if c.waiting >= b.queue {
            return Place::Rejected;
        }
        c.waiting += 1;
        c.line.push_back(waiter);
        if c.line.len() > 2 * c.waiting as usize + 16 {
            c.line.retain(|w| live(w));
        }
        Place::Waiting
    }

    /// A waiter of bulkhead `limit` stopped waiting (its `max_wait`, or its caller moved on).
    pub fn left_line(&mut self, limit: usize, instance: u32) {
        let (_, c) = self.compartment(limit, instance);
        c.waiting = c.waiting.saturating_sub(1);
    }

    /// An attempt of caller instance `instance` gave its place back: the first live waiter takes
    /// it (returned, to be sent), else the place is free.
    pub fn leave(&mut self, limit: usize, instance: u32, live: impl Fn(&Waiter) -> bool) -> Option<Waiter> {
        let (_, c) = self.compartment(limit, instance);
        while let Some(w) = c.line.pop_front() {
            if live(&w) {
                c.waiting -= 1;
                return Some(w);
            }
        }
        c.in_flight = c.in_flight.saturating_sub(1);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::job::{Job, JobSlab, Owner};

    fn limits(queue: u32) -> Vec<Limit> {
        vec![Limit {
            name: "a->b.bulkhead".into(),
            kind: LimitKind::Bulkhead(Bulkhead {
                max_concurrent: 2,
                queue,
                max_wait_ns: None,
                instances: 2,
            }),
        }]
    }

    fn waiters(n: usize) -> (JobSlab, Vec<Waiter>) {
        let mut slab = JobSlab::default();
        let w = (0..n)
            .map(|_| Waiter {
                job: slab.insert(Job::new(Owner::Client { client: 0, user: 0 }, None, 0, 0)),
                attempt: 1,
            })
            .collect();
        (slab, w)
    }

    #[test]
    fn without_a_line_the_attempt_over_the_cap_is_rejected_and_each_instance_has_its_own_places() {
        let mut b = Bulkheads::new(&limits(0));
        let (_, w) = waiters(4);
        let all = |_: &Waiter| true;
        assert_eq!(b.enter(0, 0, w[0], all), Place::Taken);
        assert_eq!(b.enter(0, 0, w[1], all), Place::Taken);
        assert_eq!(b.enter(0, 0, w[2], all), Place::Rejected);
        assert_eq!(b.enter(0, 1, w[3], all), Place::Taken);
        assert_eq!(b.leave(0, 0, all), None);
        assert_eq!(b.enter(0, 0, w[2], all), Place::Taken);
    }

    #[test]
    fn a_freed_place_goes_to_the_first_waiter_still_waiting() {
        let mut b = Bulkheads::new(&limits(2));
        let (mut slab, w) = waiters(5);
        let all = |_: &Waiter| true;
        b.enter(0, 0, w[0], all);
        b.enter(0, 0, w[1], all);
        assert_eq!(b.enter(0, 0, w[2], all), Place::Waiting);
        assert_eq!(b.enter(0, 0, w[3], all), Place::Waiting);
        // The line holds 2: the next is rejected.
        assert_eq!(b.enter(0, 0, w[4], all), Place::Rejected);
        // w[2] gives up waiting; the freed place goes to w[3], the next to nobody.
        slab.remove(w[2].job);
        b.left_line(0, 0);
        let live = |x: &Waiter| slab.get(x.job).is_some();
        assert_eq!(b.leave(0, 0, live), Some(w[3]));
        assert_eq!(b.leave(0, 0, live), None);
        // One place taken (w[3]'s), one free.
        assert_eq!(b.enter(0, 0, w[4], live), Place::Taken);
        assert_eq!(b.enter(0, 0, w[4], live), Place::Waiting);
    }
}
