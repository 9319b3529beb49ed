//! What one replication counts and measures per client and per endpoint (from the warm-up on).

use super::job::Outcome;
use crate::engine::Nanos;
use crate::stats::{LatencyHistogram, WindowSeries};

/// Requests seen by a caller or an endpoint, by outcome, with latencies.
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
    pub fn start(&mut self, now: Nanos) {
        if self.counts(now) {
            self.started += 1;
            self.arrivals.record(now, None, true);
        }
    }

    /// A request that started at `started_ns` ended at `now` with `outcome`.
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
            Outcome::Rejected => self.rejected += 1,
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
pub struct BatchTally {
    /// When each user sent its last request's answer back, if it finished.
    pub finished_at_ns: Vec<Option<Nanos>>,
    /// Requests done per user.
    pub done: Vec<u32>,
    /// Requests that did not end well, per user.
    pub failed: Vec<u32>,
}
