//! Call policies that keep state across the calls of one call site: a retry budget, client-side
//! adaptive throttling and a circuit breaker. Pure state machines driven by the simulated clock,
//! so each is tested by hand-computed cases.

use super::replication::SiteResult;
use crate::engine::{Nanos, Stream};
use crate::model::{Breaker, Budget, CallSite, Throttle};
use rand::RngExt;

/// Buckets per sliding window: the window slides in steps of a tenth of its width.
const BUCKETS: u64 = 10;

/// `K` counters over a sliding window, kept in [`BUCKETS`] time buckets.
#[derive(Clone, Debug)]
pub struct Sliding<const K: usize> {
    bucket_ns: Nanos,
    /// (bucket number, counts), oldest first; at most BUCKETS entries.
    buckets: std::collections::VecDeque<(u64, [u64; K])>,
}

impl<const K: usize> Sliding<K> {
    /// Counters over a window of `window_ns`.
    pub fn new(window_ns: Nanos) -> Self {
        Sliding {
            bucket_ns: (window_ns / BUCKETS).max(1),
            buckets: std::collections::VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Nanos) {
        let current = now / self.bucket_ns;
        while self.buckets.front().is_some_and(|(b, _)| b + BUCKETS <= current) {
            self.buckets.pop_front();
        }
    }

    /// Add one to counter `which` at `now`.
    pub fn add(&mut self, now: Nanos, which: usize) {
        self.expire(now);
        let current = now / self.bucket_ns;
        match self.buckets.back_mut() {
            Some((b, counts)) if *b == current => counts[which] += 1,
            _ => {
                let mut counts = [0; K];
                counts[which] = 1;
                self.buckets.push_back((current, counts));
            }
        }
    }

    /// The counters summed over the window ending at `now`.
    pub fn sum(&mut self, now: Nanos) -> [u64; K] {
        self.expire(now);
        let mut total = [0; K];
        for (_, counts) in &self.buckets {
            for k in 0..K {
                total[k] += counts[k];
            }
        }
        total
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

/// Retries allowed as a share of requests over a sliding window.
#[derive(Clone, Debug)]
pub struct BudgetState {
    policy: Budget,
    /// Requests (first attempts) and retries.
    counts: Sliding<2>,
}

impl BudgetState {
    /// A budget with nothing spent.
    pub fn new(policy: &Budget) -> Self {
        BudgetState {
            policy: policy.clone(),
            counts: Sliding::new(policy.window_ns),
        }
    }

    /// A call sent its first attempt.
    pub fn request(&mut self, now: Nanos) {
        self.counts.add(now, 0);
    }

    /// Whether a retry may go now; if so it is counted.
    pub fn try_retry(&mut self, now: Nanos) -> bool {
        let [requests, retries] = self.counts.sum(now);
        let window_s = self.policy.window_ns as f64 / 1e9;
        let allowed = self.policy.ratio * requests as f64 + self.policy.min_per_s * window_s;
        if (retries + 1) as f64 <= allowed + 1e-9 {
            self.counts.add(now, 1);
            true
        } else {
            false
        }
    }
}

/// Client-side adaptive throttling (Google SRE book, "Handling Overload").
#[derive(Clone, Debug)]
pub struct ThrottleState {
    k: f64,
    /// Requests attempted and requests the backend accepted.
    counts: Sliding<2>,
}

impl ThrottleState {
    /// Throttling with no history.
    pub fn new(policy: &Throttle) -> Self {
        ThrottleState {
            k: policy.k,
            counts: Sliding::new(policy.window_ns),
        }
    }

    /// The probability of rejecting the next attempt locally: max(0, (requests − k·accepts) / (requests + 1)).
    pub fn reject_probability(&mut self, now: Nanos) -> f64 {
        let [requests, accepts] = self.counts.sum(now);
        ((requests as f64 - self.k * accepts as f64) / (requests as f64 + 1.0)).max(0.0)
    }

    /// An attempt is about to go; `draw` is uniform in [0, 1). Returns whether it may go. Locally
    /// rejected attempts count as requests too, as in the book.
    pub fn admit(&mut self, now: Nanos, draw: f64) -> bool {
        let p = self.reject_probability(now);
        self.counts.add(now, 0);
        draw >= p
    }

    /// The backend accepted an attempt.
    pub fn accepted(&mut self, now: Nanos) {
        self.counts.add(now, 1);
    }
}

/// Where a circuit breaker is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BreakerPhase {
    /// Calls go through and are counted.
    Closed,
    /// Calls fail fast until `until`.
    Open {
        /// When probes may start.
        until: Nanos,
    },
    /// `left` probes may still go; `passed` have succeeded.
    HalfOpen {
        /// Probes not yet sent.
        left: u32,
        /// Probes that succeeded.
        passed: u32,
    },
}

/// What the breaker says to an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// It goes; `probe` when it is a half-open probe.
    Go {
        /// Whether the attempt is a probe.
        probe: bool,
    },
    /// It fails fast.
    Refused,
}

/// A circuit breaker's state.
#[derive(Clone, Debug)]
pub struct BreakerState {
    policy: Breaker,
    /// Calls, failures and slow calls over the window (closed only).
    counts: Sliding<3>,
    /// Where the breaker is.
    pub phase: BreakerPhase,
    /// Times it opened.
    pub opened: u64,
    /// Since when it has not been closed, if it is not.
    not_closed_since: Option<Nanos>,
    /// Time spent open or half-open, closed spells excluded.
    not_closed_ns: Nanos,
}

impl BreakerState {
    /// A closed breaker.
    pub fn new(policy: &Breaker) -> Self {
        BreakerState {
            policy: policy.clone(),
            counts: Sliding::new(policy.window_ns),
            phase: BreakerPhase::Closed,
            opened: 0,
            not_closed_since: None,
            not_closed_ns: 0,
        }
    }

    /// May an attempt go at `now`?
    pub fn permit(&mut self, now: Nanos) -> Permit {
        if let BreakerPhase::Open { until } = self.phase {
            if now < until {
                return Permit::Refused;
            }
            self.phase = BreakerPhase::HalfOpen {
                left: self.policy.probes,
                passed: 0,
            };
        }
        match &mut self.phase {
            BreakerPhase::Closed => Permit::Go { probe: false },
            BreakerPhase::HalfOpen { left, .. } if *left > 0 => {
                *left -= 1;
                Permit::Go { probe: true }
            }
            _ => Permit::Refused,
        }
    }

    /// An attempt that went ended at `now`: `ok` or not, after `latency`.
    pub fn record(&mut self, now: Nanos, ok: bool, latency: Nanos, probe: bool) {
        let slow = self.policy.slow_call_ns.is_some_and(|s| latency > s);
        match self.phase {
            BreakerPhase::Closed if !probe => {
                self.counts.add(now, 0);
                if !ok {
                    self.counts.add(now, 1);
                }
                if slow {
                    self.counts.add(now, 2);
                }
                let [calls, failures, slows] = self.counts.sum(now);
                let over = |count: u64, rate: f64| count as f64 >= rate * calls as f64;
                let trips = self.policy.failure_rate.is_some_and(|r| over(failures, r))
                    || (self.policy.slow_call_ns.is_some() && over(slows, self.policy.slow_call_rate));
                if calls >= u64::from(self.policy.min_calls) && trips {
                    self.open(now);
                }
            }
            BreakerPhase::HalfOpen { passed, .. } if probe => {
                if !ok || slow {
                    self.open(now);
                } else if passed + 1 >= self.policy.probes {
                    self.phase = BreakerPhase::Closed;
                    self.counts.clear();
                    if let Some(since) = self.not_closed_since.take() {
                        self.not_closed_ns += now - since;
                    }
                } else if let BreakerPhase::HalfOpen { passed, .. } = &mut self.phase {
                    *passed += 1;
                }
            }
            // Attempts sent before the breaker opened (or stray probes) change nothing.
            _ => {}
        }
    }

    fn open(&mut self, now: Nanos) {
        self.phase = BreakerPhase::Open {
            until: now.saturating_add(self.policy.open_ns),
        };
        self.opened += 1;
        self.counts.clear();
        self.not_closed_since.get_or_insert(now);
    }

    /// Time not closed (open or half-open) up to `end`.
    pub fn not_closed_ns(&self, end: Nanos) -> Nanos {
        self.not_closed_ns + self.not_closed_since.map_or(0, |s| end.saturating_sub(s))
    }
}

/// The policies of one call site and what they did (counted after the warm-up).
#[derive(Clone, Debug, Default)]
struct SiteState {
    /// Retry budget.
    budget: Option<BudgetState>,
    /// Adaptive throttling.
    throttle: Option<ThrottleState>,
    /// Circuit breaker.
    breaker: Option<BreakerState>,
    /// Retries the budget refused.
    budget_denied: u64,
    /// Attempts throttled locally.
    throttled: u64,
    /// Attempts the open breaker failed fast.
    breaker_refused: u64,
}

impl SiteState {
    /// Fresh state for a call site's policies.
    fn new(site: &CallSite) -> Self {
        SiteState {
            budget: site.budget.as_ref().map(BudgetState::new),
            throttle: site.throttle.as_ref().map(ThrottleState::new),
            breaker: site.breaker.as_ref().map(BreakerState::new),
            ..SiteState::default()
        }
    }
}

/// What a call site's policies say of an attempt about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Refused locally (throttled, or the breaker is open): no request goes on the network.
    Refused,
    /// It goes; `probe` when it is a half-open breaker's probe.
    Go {
        /// Whether the attempt is a probe of a half-open breaker.
        probe: bool,
    },
}

/// The policies of every call site (retry budgets, adaptive throttling, circuit breakers): the
/// request path asks them before an attempt, before a retry, and tells them how attempts ended.
pub struct CallPolicies {
    sites: Vec<SiteState>,
    /// Whether any site has a throttle or a breaker (which learn from every attempt's end).
    learns: bool,
    /// Draws of throttling decisions.
    rng: Stream,
    warmup_ns: Nanos,
}

impl CallPolicies {
    /// Fresh policies for each of the model's call sites.
    pub fn new(sites: &[CallSite], rng: Stream, warmup_ns: Nanos) -> Self {
        CallPolicies {
            sites: sites.iter().map(SiteState::new).collect(),
            learns: sites.iter().any(|s| s.throttle.is_some() || s.breaker.is_some()),
            rng,
            warmup_ns,
        }
    }

    /// Whether call site `site`'s throttle or breaker lets an attempt go now (a refusal is
    /// counted); a `first` attempt is a request for the retry budget.
    pub fn verdict(&mut self, site: usize, first: bool, now: Nanos) -> Verdict {
        let counts = now >= self.warmup_ns;
        let state = &mut self.sites[site];
        if first {
            if let Some(budget) = state.budget.as_mut() {
                budget.request(now);
            }
        }
        // Throttling first: a breaker's probe permit must not be taken by an attempt that never goes.
        if let Some(throttle) = state.throttle.as_mut() {
            let draw: f64 = self.rng.random();
            if !throttle.admit(now, draw) {
                state.throttled += u64::from(counts);
                return Verdict::Refused;
            }
        }
        if let Some(breaker) = state.breaker.as_mut() {
            match breaker.permit(now) {
                Permit::Refused => {
                    state.breaker_refused += u64::from(counts);
                    return Verdict::Refused;
                }
                Permit::Go { probe } => return Verdict::Go { probe },
            }
        }
        Verdict::Go { probe: false }
    }

    /// Whether any call site's throttle or breaker learns from attempts' ends (when none does,
    /// the caller need not look up the site of each attempt that ends).
    #[inline]
    pub fn learn_from_attempts(&self) -> bool {
        self.learns
    }

    /// An attempt at `site` sent at `sent_ns` (a breaker's probe when `probe`) ended at `now`,
    /// well (`ok`) or not: the throttle and the breaker learn of it.
    pub fn attempt_ended(&mut self, site: usize, ok: bool, sent_ns: Nanos, probe: bool, now: Nanos) {
        let state = &mut self.sites[site];
        if let Some(throttle) = state.throttle.as_mut().filter(|_| ok) {
            throttle.accepted(now);
        }
        if let Some(breaker) = state.breaker.as_mut() {
            breaker.record(now, ok, now.saturating_sub(sent_ns), probe);
        }
    }

    /// Whether call site `site`'s retry budget (if any) allows one more retry now (a refusal is
    /// counted).
    pub fn allows_retry(&mut self, site: usize, now: Nanos) -> bool {
        let counts = now >= self.warmup_ns;
        let state = &mut self.sites[site];
        let allowed = state.budget.as_mut().is_none_or(|budget| budget.try_retry(now));
        if !allowed {
            state.budget_denied += u64::from(counts);
        }
        allowed
    }

    /// What each call site's policies did, up to `end_ns`.
    pub fn results(&self, end_ns: Nanos) -> Vec<SiteResult> {
        self.sites
            .iter()
            .map(|s| SiteResult {
                budget_denied: s.budget_denied,
                throttled: s.throttled,
                breaker_refused: s.breaker_refused,
                breaker_opened: s.breaker.as_ref().map_or(0, |b| b.opened),
                breaker_not_closed_ns: s.breaker.as_ref().map_or(0, |b| b.not_closed_ns(end_ns)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn a_sliding_window_forgets_buckets_older_than_its_width() {
        let mut w: Sliding<1> = Sliding::new(10 * S);
        w.add(0, 0);
        w.add(5 * S, 0);
        assert_eq!(w.sum(9 * S), [2]);
        // The bucket of t = 0 s ([0, 1 s)) leaves the window at 10 s; the one of 5 s at 15 s.
        assert_eq!(w.sum(10 * S), [1]);
        assert_eq!(w.sum(15 * S), [0]);
    }

    #[test]
    fn the_budget_allows_retries_up_to_its_ratio_of_requests() {
        let budget = Budget {
            ratio: 0.1,
            min_per_s: 0.0,
            window_ns: 10 * S,
        };
        let mut b = BudgetState::new(&budget);
        for i in 0..100 {
            b.request(i * 10_000_000);
        }
        // 100 requests in the window allow 10 retries, no more.
        let granted = (0..50).filter(|_| b.try_retry(S)).count();
        assert_eq!(granted, 10);
        // Once the window has slid past them, requests and retries are forgotten.
        assert!(!b.try_retry(11 * S));
        let with_floor = Budget {
            min_per_s: 0.5,
            ..budget
        };
        let mut f = BudgetState::new(&with_floor);
        // 0.5/s over 10 s: 5 retries without any request.
        assert_eq!((0..20).filter(|_| f.try_retry(S)).count(), 5);
    }

    #[test]
    fn throttling_follows_the_sre_formula() {
        let mut t = ThrottleState::new(&Throttle {
            k: 2.0,
            window_ns: 120 * S,
        });
        // 10 requests, 3 accepted: p = (10 − 6) / 11.
        for i in 0..10 {
            assert!(t.admit(i, 1.0 - 1e-12));
        }
        for i in 0..3 {
            t.accepted(20 + i);
        }
        assert!((t.reject_probability(100) - 4.0 / 11.0).abs() < 1e-12);
        // A draw below p is rejected, above it goes.
        assert!(!t.admit(101, 0.3));
        // Now 11 requests, 3 accepted: p = 5/12.
        assert!(t.admit(102, 5.0 / 12.0 + 1e-9));
        // A healthy backend (every request accepted) is never throttled.
        let mut healthy = ThrottleState::new(&Throttle {
            k: 2.0,
            window_ns: 120 * S,
        });
        for i in 0..1000 {
            assert!(healthy.admit(i, 0.0));
            healthy.accepted(i);
        }
    }

    fn breaker() -> Breaker {
        Breaker {
            failure_rate: Some(0.5),
            slow_call_ns: Some(S),
            slow_call_rate: 1.0,
            window_ns: 10 * S,
            min_calls: 4,
            open_ns: 5 * S,
            probes: 2,
        }
    }

    #[test]
    fn the_breaker_opens_at_its_failure_rate_probes_and_closes() {
        let mut b = BreakerState::new(&breaker());
        // Three failures of three calls: below min_calls, still closed.
        for t in 0..3 {
            assert_eq!(b.permit(t), Permit::Go { probe: false });
            b.record(t, false, 1, false);
        }
        assert_eq!(b.phase, BreakerPhase::Closed);
        // The fourth call succeeds, but 3 failures of 4 calls is 75 % ≥ 50 %: open.
        b.record(3, true, 1, false);
        assert_eq!(b.phase, BreakerPhase::Open { until: 3 + 5 * S });
        let mut b = BreakerState::new(&breaker());
        for t in 0..4 {
            b.record(t, t % 2 == 0, 1, false);
        }
        // 2 failures of 4 = 50 %: open.
        assert_eq!(b.phase, BreakerPhase::Open { until: 3 + 5 * S });
        assert_eq!(b.opened, 1);
        assert_eq!(b.permit(2 * S), Permit::Refused);
        // After the open time: two probes, then refusals until they report.
        assert_eq!(b.permit(5 * S + 3), Permit::Go { probe: true });
        assert_eq!(b.permit(5 * S + 4), Permit::Go { probe: true });
        assert_eq!(b.permit(5 * S + 5), Permit::Refused);
        b.record(5 * S + 6, true, 1, true);
        assert!(matches!(b.phase, BreakerPhase::HalfOpen { passed: 1, .. }));
        b.record(5 * S + 7, true, 1, true);
        assert_eq!(b.phase, BreakerPhase::Closed);
        assert_eq!(b.not_closed_ns(100 * S), 5 * S + 4);
    }

    #[test]
    fn a_failed_probe_or_slow_calls_open_the_breaker_again() {
        let mut b = BreakerState::new(&breaker());
        // Slow calls (over 1 s) at 100 %: opens although every call succeeded.
        for t in 0..4 {
            b.record(t, true, 2 * S, false);
        }
        assert!(matches!(b.phase, BreakerPhase::Open { .. }));
        assert_eq!(b.permit(6 * S), Permit::Go { probe: true });
        b.record(6 * S, false, 1, true);
        assert_eq!(b.phase, BreakerPhase::Open { until: 11 * S });
        assert_eq!(b.opened, 2);
        // A call sent before the breaker opened changes nothing when it ends.
        b.record(7 * S, true, 1, false);
        assert_eq!(b.phase, BreakerPhase::Open { until: 11 * S });
    }
}
