//! Calls as the request path sees them: which call a job is making, whose random stream and tally
//! it uses, what its call site's policies say, and the backoff before a retry. The path of an
//! attempt itself (send, timeout, answer, retry) is in `request.rs`.

use super::job::{Job, JobRef, Owner};
use super::policy::Verdict;
use super::world::World;
use crate::engine::{Nanos, Stream};
use crate::model::{Call, Jitter, Retry, Step};
use rand::RngExt;

impl<'m> World<'m> {
    /// The call the job is making now: the client's call, or its current call step.
    #[inline]
    pub(super) fn current_call(&self, job: &Job) -> Option<&'m Call> {
        match job.owner {
            Owner::Client { client, .. } => Some(&self.model.clients[client as usize].call),
            Owner::Endpoint { .. } => match self.step_of(job) {
                Some(Step::Call(call)) => Some(call),
                _ => None,
            },
            Owner::Consumer { queue, .. } => Some(&self.model.queues[queue as usize].call),
            Owner::Injected { .. } => None,
        }
    }

    /// The random stream of whoever owns the job.
    #[inline]
    pub(super) fn rng_of(&mut self, owner: Owner) -> &mut Stream {
        match owner {
            Owner::Client { client, .. } => self.clients.rng(crate::model::ClientId(client as usize)),
            Owner::Endpoint { endpoint, .. } => {
                let service = self.model.endpoints[endpoint as usize].service;
                self.services.rng(service)
            }
            Owner::Consumer { queue, .. } => self.queues.rng(queue),
            Owner::Injected { .. } => &mut self.action_rng,
        }
    }

    /// The tally that counts this owner's retries and timeouts.
    #[inline]
    pub(super) fn tally_of(&mut self, owner: Owner) -> Option<&mut super::tally::RequestTally> {
        match owner {
            Owner::Client { client, .. } => Some(self.clients.tally(crate::model::ClientId(client as usize))),
            Owner::Endpoint { endpoint, .. } => Some(&mut self.endpoints[endpoint as usize]),
            Owner::Consumer { queue, .. } => Some(self.queues.tally(queue)),
            Owner::Injected { .. } => None,
        }
    }

    /// Whether the call site's throttle or breaker refuses the attempt `caller` is about to send
    /// (counting the refusal); a first attempt is a request for the retry budget.
    pub(super) fn policy_refuses(&mut self, caller: JobRef, site: usize, first: bool, now: Nanos) -> bool {
        match self.policies.verdict(site, first, now) {
            Verdict::Refused => true,
            Verdict::Go { probe } => {
                if let Some(job) = self.jobs.get_mut(caller) {
                    job.probe = probe;
                }
                false
            }
        }
    }

    /// An attempt of `job_ref` that went on the network ended at `now`, well (`ok`) or not: tell
    /// its call site's throttle and breaker.
    #[inline]
    pub(super) fn record_attempt(&mut self, job_ref: JobRef, ok: bool, now: Nanos) {
        if !self.policies.learn_from_attempts() {
            return;
        }
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let Some(call) = self.current_call(job) else {
            return;
        };
        self.policies.attempt_ended(call.site, ok, job.sent_ns, job.probe, now);
    }
}

/// The wait before retry number `retry` (1 for the first): exponential backoff randomised by the
/// policy's jitter. None keeps it; full draws from [0, wait]; equal keeps half and draws the
/// other half; decorrelated draws from [base, 3 × the previous wait `last_ns`], capped.
pub fn backoff_wait(policy: &Retry, retry: u32, last_ns: Nanos, rng: &mut Stream) -> Nanos {
    let wait = policy.backoff_before_jitter_ns(retry);
    match policy.jitter {
        Jitter::None => wait,
        Jitter::Full => rng.random_range(0..=wait),
        Jitter::Equal => wait / 2 + rng.random_range(0..=wait - wait / 2),
        Jitter::Decorrelated => {
            let base = policy.backoff_ns;
            let high = last_ns.max(base).saturating_mul(3).max(base);
            rng.random_range(base..=high).min(policy.max_backoff_ns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// A constant 1,000 ns wait randomised by `jitter`.
    fn constant(jitter: Jitter) -> Retry {
        Retry {
            attempts: 2,
            backoff_ns: 1_000,
            multiplier: 1.0,
            max_backoff_ns: 1_000,
            jitter,
            retry_on: crate::model::RetryOn::ALL,
        }
    }

    fn jittered(wait: Nanos, jitter: Jitter, rng: &mut Stream) -> Nanos {
        let policy = Retry {
            backoff_ns: wait,
            max_backoff_ns: wait,
            ..constant(jitter)
        };
        backoff_wait(&policy, 1, 0, rng)
    }

    #[test]
    fn jitter_stays_within_its_bounds() {
        let mut rng = stream(1, 0, "jitter");
        for _ in 0..10_000 {
            assert_eq!(jittered(1_000, Jitter::None, &mut rng), 1_000);
            assert!(jittered(1_000, Jitter::Full, &mut rng) <= 1_000);
            let equal = jittered(1_000, Jitter::Equal, &mut rng);
            assert!((500..=1_000).contains(&equal), "{equal}");
        }
    }

    #[test]
    fn decorrelated_jitter_grows_from_the_previous_wait_within_its_cap() {
        let policy = Retry {
            attempts: 10,
            backoff_ns: 100,
            multiplier: 2.0,
            max_backoff_ns: 1_000,
            jitter: Jitter::Decorrelated,
            retry_on: crate::model::RetryOn::ALL,
        };
        let mut rng = stream(1, 0, "jitter");
        let mut last = 0;
        let mut reached_cap = false;
        for retry in 1..10_000 {
            let wait = backoff_wait(&policy, retry, last, &mut rng);
            // uniform(base, 3 × previous), capped: never below the base, never above 3 × last or the cap.
            assert!(wait >= 100 && wait <= (3 * last.max(100)).min(1_000), "{last} -> {wait}");
            reached_cap |= wait == 1_000;
            last = wait;
        }
        assert!(reached_cap);
    }

    #[test]
    fn exponential_backoff_with_jitter_stays_within_the_schedule() {
        let policy = Retry {
            attempts: 6,
            backoff_ns: 100,
            multiplier: 2.0,
            max_backoff_ns: 1_000,
            jitter: Jitter::None,
            retry_on: crate::model::RetryOn::ALL,
        };
        let mut rng = stream(1, 0, "jitter");
        let schedule: Vec<Nanos> = (1..=5).map(|k| backoff_wait(&policy, k, 0, &mut rng)).collect();
        assert_eq!(schedule, vec![100, 200, 400, 800, 1_000]);
        let equal = Retry {
            jitter: Jitter::Equal,
            ..policy
        };
        for k in 1..=5 {
            let w = backoff_wait(&equal, k, 0, &mut rng);
            assert!(w >= schedule[k as usize - 1] / 2 && w <= schedule[k as usize - 1]);
        }
    }

    #[test]
    fn full_jitter_averages_half_the_wait() {
        let mut rng = stream(1, 0, "jitter");
        let n = 100_000u64;
        let mean = (0..n)
            .map(|_| jittered(1_000_000, Jitter::Full, &mut rng) as f64)
            .sum::<f64>()
            / n as f64;
        // Uniform on [0, w]: mean w/2, standard error w/sqrt(12 n).
        let se = 1_000_000.0 / (12.0 * n as f64).sqrt();
        assert!((mean - 500_000.0).abs() < 4.0 * se, "{mean}");
    }
}
