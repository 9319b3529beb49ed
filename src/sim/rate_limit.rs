//! Rate limits and bulkheads: the limits of a model, wherever they sit (in front of a service,
//! on a client's sending, on a call step), each with what it let through and what it turned
//! away, over the run and per window.
//!
//! A rate limit is a token bucket: tokens refill continuously at the rate up to the burst, the
//! bucket starts full, and a request takes one token or is rejected (`rate_limited`, a 429). A
//! bulkhead's places and line are in `bulkhead.rs`; its counts are kept here with the buckets',
//! so every limit is reported the same way.

use super::replication::{limit_column, LimitResult};
use crate::engine::Nanos;
use crate::model::{Limit, LimitKind, RateLimit};
use crate::stats::CountSeries;

/// Tokens below a whole one by at most this are a whole one: refilling for exactly 1/rate
/// seconds gives a token, whatever the rounding of the rate.
const TOKEN_EPSILON: f64 = 1e-9;

/// A token bucket over the simulated clock.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Tokens added per nanosecond.
    per_ns: f64,
    /// Most tokens held.
    burst: f64,
    /// Tokens held at `at_ns`.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at_ns: Nanos,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: &RateLimit) -> Self {
        TokenBucket {
            per_ns: limit.rate_per_s / 1e9,
            burst: f64::from(limit.burst),
            tokens: f64::from(limit.burst),
            at_ns: 0,
        }
    }

    /// Whether a request at `now` gets a token (and takes it).
    pub fn take(&mut self, now: Nanos) -> bool {
        let elapsed = now.saturating_sub(self.at_ns) as f64;
        self.tokens = (self.tokens + elapsed * self.per_ns).min(self.burst);
        self.at_ns = self.at_ns.max(now);
        if self.tokens >= 1.0 - TOKEN_EPSILON {
            self.tokens = (self.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }
}

/// What one limit did.
struct LimitState {
    /// A rate limit's bucket (`None` for a bulkhead).
    bucket: Option<TokenBucket>,
    /// Admitted and rejected since the warm-up.
    totals: [u64; 2],
    /// The same per window.
    series: CountSeries<2>,
}

/// Every rate limit's bucket and every limit's counts.
pub struct Limits {
    states: Vec<LimitState>,
    warmup_ns: Nanos,
}

impl Limits {
    /// Full buckets and no counts; statistics from `warmup` on.
    pub fn new(limits: &[Limit], (warmup, window, windows): (Nanos, Nanos, usize)) -> Self {
        Limits {
            states: limits
                .iter()
                .map(|l| LimitState {
                    bucket: match &l.kind {
                        LimitKind::RateLimit(r) => Some(TokenBucket::new(r)),
                        LimitKind::Bulkhead(_) => None,
                    },
                    totals: [0; 2],
                    series: CountSeries::new(warmup, window, windows),
                })
                .collect(),
            warmup_ns: warmup,
        }
    }

    /// Whether rate limit `limit` lets a request through at `now` (counted either way).
    pub fn admit(&mut self, limit: usize, now: Nanos) -> bool {
        let passed = self.states[limit].bucket.as_mut().is_none_or(|b| b.take(now));
        self.count(limit, now, passed);
        passed
    }

    /// Count a request that limit `limit` let through (`passed`) or turned away at `now`.
    pub fn count(&mut self, limit: usize, now: Nanos, passed: bool) {
        let which = if passed {
            limit_column::ADMITTED
        } else {
            limit_column::REJECTED
        };
        let state = &mut self.states[limit];
        state.series.add(now, which);
        if now >= self.warmup_ns {
            state.totals[which] += 1;
        }
    }

    /// What each limit did.
    pub fn results(self) -> Vec<LimitResult> {
        self.states
            .into_iter()
            .map(|s| LimitResult {
                totals: s.totals,
                series: s.series,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = 1_000_000_000;

    #[test]
    fn a_full_bucket_passes_its_burst_at_once_then_one_request_per_refill() {
        // 4 tokens a second, burst 3: three pass at t = 0, the fourth is rejected.
        let mut b = TokenBucket::new(&RateLimit {
            rate_per_s: 4.0,
            burst: 3,
        });
        assert!(b.take(0) && b.take(0) && b.take(0));
        assert!(!b.take(0));
        // A token takes 1/4 s: not yet 1 ms before, then exactly one at 250 ms.
        assert!(!b.take(S / 4 - 1_000_000));
        assert!(b.take(S / 4));
        assert!(!b.take(S / 4));
        // Quiet for 10 s: the bucket holds its burst, no more.
        assert_eq!((0..10).filter(|_| b.take(10 * S)).count(), 3);
    }

    #[test]
    fn a_rate_that_is_no_whole_number_of_nanoseconds_still_refills_in_one_interval() {
        // 3 per second: a token every 333,333,333.3 ns.
        let mut b = TokenBucket::new(&RateLimit {
            rate_per_s: 3.0,
            burst: 1,
        });
        assert!(b.take(0));
        assert!(!b.take(333_333_000));
        assert!(b.take(333_333_334));
        // Drained, then asked every 10 ms for 30 s: 90 tokens are minted and, the bucket never
        // near its burst of 10, none is lost: 90 pass.
        let mut d = TokenBucket::new(&RateLimit {
            rate_per_s: 3.0,
            burst: 10,
        });
        assert_eq!((0..11).filter(|_| d.take(0)).count(), 10);
        let passed = (1..=3000).filter(|k| d.take(k * 10_000_000)).count();
        assert_eq!(passed, 90);
        // With a burst of 1 the time between a token and the next ask is lost: one every 340 ms.
        let passed = (1..=3000).filter(|k| b.take(333_333_334 + k * 10_000_000)).count();
        assert_eq!(passed, 88);
    }

    #[test]
    fn limits_count_what_they_admit_and_reject_after_the_warm_up() {
        let limits = [Limit {
            name: "api.rate_limit".into(),
            kind: LimitKind::RateLimit(RateLimit {
                rate_per_s: 1.0,
                burst: 1,
            }),
        }];
        let mut l = Limits::new(&limits, (S, S, 4));
        // Before the warm-up: the token is taken, nothing counted in the totals.
        assert!(l.admit(0, 0));
        assert!(!l.admit(0, S / 2));
        assert!(l.admit(0, 2 * S));
        assert!(!l.admit(0, 2 * S));
        assert!(!l.admit(0, 2 * S));
        let r = l.results();
        assert_eq!(r[0].totals, [1, 2]);
    }
}
