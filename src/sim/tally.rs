//! What one replication counts and measures per client and per endpoint (from the warm-up on).

use super::job::Outcome;
use crate::engine::Nanos;
use crate::stats::{LatencyHistogram, WindowSeries};

/// Requests seen by a caller or an endpoint, by outcome, with latencies.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct RequestTally {
    /// Requests started (client) or arrived (endpoint) since the warm-up.
    pub started: u64,
    /// Requests that ended well.
    pub ok: u64,
    /// Requests whose last attempt timed out (clients only).
    pub timeouts: u64,
    /// Requests refused at admission.
    pub rejected: u64,
    /// Requests that failed along the way.
    pub errors: u64,
    /// Retries made (attempts beyond the first) by this client, or by this endpoint's calls.
    pub retries: u64,
    /// Attempts that timed out, retried or not (for an endpoint: of its downstream calls).
    pub attempt_timeouts: u64,
    /// Latency of successful requests.
    pub latency_ok: LatencyHistogram,
    /// Sum of the time spent by every finished request, whatever its outcome (for Little's law).
    pub sojourn_all_ns: u128,
    /// Requests finished, whatever the outcome.
    pub finished: u64,
    /// Counts and latencies per time window.
    pub series: WindowSeries,
    /// Requests started (client) or arrived (endpoint) per time window.
    pub arrivals: WindowSeries,
    warmup_ns: Nanos,
}

impl RequestTally {
    /// An empty tally counting from `warmup_ns`, with windows of `window_ns`.
    pub fn new(warmup_ns: Nanos, window_ns: Nanos, windows: usize) -> RequestTally {
        RequestTally {
            started: 0,
            ok: 0,
            timeouts: 0,
            rejected: 0,
            errors: 0,
            retries: 0,
            attempt_timeouts: 0,
            latency_ok: LatencyHistogram::new(),
            sojourn_all_ns: 0,
            finished: 0,
            series: WindowSeries::new(warmup_ns, window_ns, windows),
            arrivals: WindowSeries::new(warmup_ns, window_ns, windows),
            warmup_ns,
        }
    }

    /// Whether `now` is past the warm-up.
    fn counts(&self, now: Nanos) -> bool {
        now >= self.warmup_ns
    }

    /// A request started at `now`.
    #[inline]
    pub fn start(&mut self, now: Nanos) {
        if self.counts(now) {
            self.started += 1;
            self.arrivals.record(now, None, true);
        }
    }

    /// A request that started at `started_ns` ended at `now` with `outcome`.
    #[inline]
    pub fn finish(&mut self, now: Nanos, started_ns: Nanos, outcome: Outcome) {
        if !self.counts(now) {
            return;
        }
        let latency = now - started_ns;
        self.finished += 1;
        self.sojourn_all_ns += u128::from(latency);
        match outcome {
            Outcome::Ok => {
                self.ok += 1;
                self.latency_ok.record(latency);
            }
            Outcome::Timeout => self.timeouts += 1,
            Outcome::Rejected | Outcome::RateLimited => self.rejected += 1,
            Outcome::Error => self.errors += 1,
        }
        let ok = outcome == Outcome::Ok;
        self.series.record(now, ok.then_some(latency), ok);
    }

    /// A retry was scheduled at `now`.
    pub fn retry(&mut self, now: Nanos) {
        if self.counts(now) {
            self.retries += 1;
        }
    }

    /// An attempt timed out at `now`.
    pub fn attempt_timeout(&mut self, now: Nanos) {
        if self.counts(now) {
            self.attempt_timeouts += 1;
        }
    }
}

/// Progress of a closed-loop client whose users each send a fixed number of requests.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct BatchTally {
    /// When each user sent its last request's answer back, if it finished.
    pub finished_at_ns: Vec<Option<Nanos>>,
    /// Requests done per user.
    pub done: Vec<u32>,
    /// Requests that did not end well, per user.
    pub failed: Vec<u32>,
}

/// Work a service did for callers who had already stopped waiting (counted after the warm-up).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct WastedWork {
    /// CPU time of steps started for nobody, in nanoseconds.
    pub cpu_ns: u128,
    /// Queries sent for nobody.
    pub queries: u64,
    /// Downstream call attempts sent for nobody.
    pub calls: u64,
    /// Requests that ran to the end for nobody.
    pub finished: u64,
    /// Requests stopped because their caller had left.
    pub stopped: u64,
}

/// Counts of one side effect (after the warm-up).
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct EffectTally {
    /// Times it happened.
    pub count: u64,
    /// Times it happened again for a unit of work that had it already.
    pub duplicates: u64,
    /// Times it happened in a request whose caller had left.
    pub for_nobody: u64,
    /// Per window: count and duplicates.
    pub series: crate::stats::CountSeries<2>,
    warmup_ns: Nanos,
}

impl EffectTally {
    /// No effect yet.
    pub fn new(warmup_ns: Nanos, window_ns: Nanos, windows: usize) -> Self {
        EffectTally {
            count: 0,
            duplicates: 0,
            for_nobody: 0,
            series: crate::stats::CountSeries::new(warmup_ns, window_ns, windows),
            warmup_ns,
        }
    }

    /// The effect happened at `now`.
    pub fn record(&mut self, now: Nanos, duplicate: bool, for_nobody: bool) {
        self.series.add(now, 0);
        if duplicate {
            self.series.add(now, 1);
        }
        if now >= self.warmup_ns {
            self.count += 1;
            self.duplicates += u64::from(duplicate);
            self.for_nobody += u64::from(for_nobody);
        }
    }
}

/// Why an idempotency check skipped a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The same unit is being worked on here.
    InFlight,
    /// The same unit was completed here.
    Completed,
}

/// A service's idempotency stores (keys are units of work) and what they skipped.
#[derive(Default)]
pub struct IdempotencyState {
    in_flight: std::collections::HashMap<u64, u32>,
    completed: std::collections::HashMap<u64, Nanos>,
    /// Completed keys in the order they were stored, for eviction (stale entries are skipped).
    completed_order: std::collections::VecDeque<(u64, Nanos)>,
    /// Requests skipped because their unit was in flight (after the warm-up).
    pub skipped_in_flight: u64,
    /// Requests skipped because their unit was completed (after the warm-up).
    pub skipped_completed: u64,
}

impl IdempotencyState {
    /// Whether a request for unit `key` arriving at `now` is skipped, and why.
    #[inline]
    pub fn check(&mut self, spec: &crate::model::Idempotency, key: u64, now: Nanos) -> Option<Skip> {
        if spec.dedupe_capacity.is_none() && spec.completed.is_none() {
            return None;
        }
        self.look_up(spec, key, now)
    }

    /// [`IdempotencyState::check`] for a service with a store to look in.
    #[inline(never)]
    fn look_up(&mut self, spec: &crate::model::Idempotency, key: u64, now: Nanos) -> Option<Skip> {
        if spec.dedupe_capacity.is_some() && self.in_flight.contains_key(&key) {
            return Some(Skip::InFlight);
        }
        let store = spec.completed.as_ref()?;
        let at = *self.completed.get(&key)?;
        store
            .ttl_ns
            .is_none_or(|ttl| now < at.saturating_add(ttl))
            .then_some(Skip::Completed)
    }

    /// Count a skipped request.
    pub fn count_skip(&mut self, skip: Skip) {
        match skip {
            Skip::InFlight => self.skipped_in_flight += 1,
            Skip::Completed => self.skipped_completed += 1,
        }
    }

    /// An admitted request for `key` starts; true when the in-flight store tracks it (it has a
    /// dedupe store with room).
    #[inline]
    pub fn start(&mut self, spec: &crate::model::Idempotency, key: u64) -> bool {
        match spec.dedupe_capacity {
            Some(capacity) => self.track(key, capacity),
            None => false,
        }
    }

    /// Track a request for `key` in an in-flight store of `capacity` units, if it has room.
    #[inline(never)]
    fn track(&mut self, key: u64, capacity: u32) -> bool {
        if let Some(n) = self.in_flight.get_mut(&key) {
            *n += 1;
            return true;
        }
        if self.in_flight.len() as u64 >= u64::from(capacity) {
            return false;
        }
        self.in_flight.insert(key, 1);
        true
    }

    /// A tracked request for `key` ended.
    pub fn end(&mut self, key: u64) {
        if let Some(n) = self.in_flight.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.in_flight.remove(&key);
            }
        }
    }

    /// Unit `key` was completed at `now`: remember it (forgetting the oldest or expired keys).
    #[inline]
    pub fn completed(&mut self, spec: &crate::model::Idempotency, key: u64, now: Nanos) {
        if let Some(store) = spec.completed.as_ref() {
            self.remember(store, key, now);
        }
    }

    /// Remember that unit `key` was completed at `now` in `store`.
    #[inline(never)]
    fn remember(&mut self, store: &crate::model::resilience::CompletedStore, key: u64, now: Nanos) {
        self.completed.insert(key, now);
        self.completed_order.push_back((key, now));
        while let Some(&(oldest, at)) = self.completed_order.front() {
            let expired = store.ttl_ns.is_some_and(|ttl| now >= at.saturating_add(ttl));
            let stale = self.completed.get(&oldest) != Some(&at);
            if !(stale || expired || self.completed.len() as u64 > u64::from(store.capacity)) {
                break;
            }
            self.completed_order.pop_front();
            if !stale {
                self.completed.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::resilience::CompletedStore;
    use crate::model::Idempotency;

    #[test]
    fn dedupe_skips_a_unit_in_flight_and_the_completed_store_forgets_its_oldest_key() {
        let spec = Idempotency {
            dedupe_capacity: Some(2),
            completed: Some(CompletedStore {
                capacity: 2,
                ttl_ns: Some(100),
            }),
        };
        let mut s = IdempotencyState::default();
        assert!(s.start(&spec, 1));
        assert_eq!(s.check(&spec, 1, 0), Some(Skip::InFlight));
        assert!(s.start(&spec, 2));
        // The in-flight store is full: a third key is not tracked (no dedupe for it).
        assert!(!s.start(&spec, 3));
        s.end(1);
        s.end(2);
        assert_eq!(s.check(&spec, 1, 0), None);
        s.completed(&spec, 1, 10);
        s.completed(&spec, 2, 20);
        assert_eq!(s.check(&spec, 1, 30), Some(Skip::Completed));
        // A third completed key evicts the oldest (1).
        s.completed(&spec, 4, 30);
        assert_eq!(s.check(&spec, 1, 30), None);
        assert_eq!(s.check(&spec, 2, 30), Some(Skip::Completed));
        // Past its ttl a key is no longer skipped.
        assert_eq!(s.check(&spec, 2, 120), None);
    }
}
