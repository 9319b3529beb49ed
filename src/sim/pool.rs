//! Connection pools (pgBouncer-like): a fixed number of connections to one database, lent to
//! one transaction at a time; transactions wait in line for one, up to the acquire timeout.

use super::job::JobRef;
use super::replication::{station, PoolResult};
use super::resource::{Admission, Resource, Waiter};
use crate::engine::Nanos;
use crate::model::{DatabaseId, Pool, PoolId};

/// A connection pool.
struct PoolState {
    /// Connections and the line of transactions waiting for one.
    connections: Resource,
    /// Transactions that gave up waiting for a connection.
    acquire_timeouts: u64,
}

/// Every connection pool of the model.
pub struct Pools<'m> {
    specs: &'m [Pool],
    warmup_ns: Nanos,
    states: Vec<PoolState>,
}

impl<'m> Pools<'m> {
    /// The pools of a replication, statistics from `warmup` on in `windows` windows of `window`.
    pub fn new(specs: &'m [Pool], (warmup, window, windows): (Nanos, Nanos, usize)) -> Self {
        let states = specs
            .iter()
            .map(|p| PoolState {
                connections: Resource::new(p.size, None, false, warmup, window, windows),
                acquire_timeouts: 0,
            })
            .collect();
        Pools {
            specs,
            warmup_ns: warmup,
            states,
        }
    }

    /// A transaction of `job` (wait ticket `ticket`) asks pool `p` for a connection at `now`.
    pub fn acquire(&mut self, p: PoolId, now: Nanos, job: JobRef, ticket: u32) -> Admission {
        self.states[p.0].connections.request(now, job, ticket)
    }

    /// A connection of pool `p` is given back: the next live transaction in line gets it (and is
    /// returned), or it stays free.
    pub fn release(&mut self, p: PoolId, now: Nanos, is_live: impl Fn(&Waiter) -> bool) -> Option<Waiter> {
        self.states[p.0].connections.release(now, is_live)
    }

    /// A transaction gave up waiting for a connection of pool `p` at `now` (counted).
    pub fn acquire_timed_out(&mut self, p: PoolId, now: Nanos, is_live: impl Fn(&Waiter) -> bool) {
        let pool = &mut self.states[p.0];
        pool.connections.abandon_wait(now, is_live);
        if now >= self.warmup_ns {
            pool.acquire_timeouts += 1;
        }
    }

    /// Connections to database `d` lent out by its pools now.
    pub fn in_use_for(&self, d: DatabaseId) -> u32 {
        self.specs
            .iter()
            .zip(&self.states)
            .filter(|(spec, _)| spec.database == d)
            .map(|(_, pool)| pool.connections.busy())
            .sum()
    }

    /// Transactions waiting for a connection of pool `p`.
    pub fn waiting(&self, p: PoolId) -> u32 {
        self.states[p.0].connections.waiting()
    }

    /// Close every time-weighted statistic at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for p in &mut self.states {
            p.connections.finish(end_ns);
        }
    }

    /// What each pool measured.
    pub fn results(self) -> Vec<PoolResult> {
        self.states
            .into_iter()
            .map(|p| PoolResult {
                in_use_max: p.connections.stats.busy.max_level(),
                connections: station(&[&p.connections], None),
                acquire_timeouts: p.acquire_timeouts,
            })
            .collect()
    }
}
