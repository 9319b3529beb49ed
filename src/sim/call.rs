//! Synchronous calls: one attempt at a time over a link, the caller's timeout, retries with
//! exponential backoff and jitter. Client requests and endpoint call steps share this code.

use super::job::{Job, JobRef, Outcome, Owner, Parent};
use super::policy::Permit;
use super::world::{schedule_network, Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{Call, Dist, Jitter, Retry, Step};
use rand::RngExt;

impl<'m> World<'m> {
    /// The call the job is making now: the client's call, or its current call step.
    fn current_call(&self, job: &Job) -> Option<&'m Call> {
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
    pub(super) fn rng_of(&mut self, owner: Owner) -> &mut Stream {
        match owner {
            Owner::Client { client, .. } => &mut self.clients[client as usize].rng,
            Owner::Endpoint { endpoint, .. } => {
                let service = self.model.endpoints[endpoint as usize].service.0;
                &mut self.services[service].rng
            }
            Owner::Consumer { queue, .. } => &mut self.queues[queue as usize].rng,
            Owner::Injected { .. } => &mut self.action_rng,
        }
    }

    /// Send the next attempt of the job's call: a new job at the target endpoint, delivered after
    /// half the link's round trip, and the caller's timeout for it.
    pub(super) fn start_attempt(&mut self, caller: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.jobs.get(caller) else {
            return;
        };
        let owner = job.owner;
        let Some(call) = self.current_call(job) else {
            return;
        };
        let first = job.tries == 0;
        let Some(job) = self.jobs.get_mut(caller) else {
            return;
        };
        job.tries += 1;
        job.attempt = job.attempt.wrapping_add(1);
        job.sent_ns = now;
        job.probe = false;
        if self.model.call_sites[call.site].has_policy() && self.policy_refuses(caller, call.site, first, now) {
            // Failed locally, without a request on the network.
            self.attempt_failed(caller, Outcome::Rejected, queue);
            return;
        }
        let round_trip = self.round_trip(&call.link, owner);
        let out = round_trip / 2;
        if let Some(wasted) = self.wasted_by(caller, now) {
            wasted.calls += 1;
        }
        let Some(job) = self.jobs.get(caller) else {
            return;
        };
        let (attempt, unit, orphaned) = (job.attempt, job.unit, job.orphaned);
        let parent = Parent {
            job: caller,
            attempt,
            reply_delay_ns: round_trip - out,
            reply_delay_fixed: matches!(call.link.latency, Some(Dist::Constant { .. })),
        };
        let owner = Owner::Endpoint {
            endpoint: call.target.0 as u32,
            instance: 0,
        };
        self.units.retain(unit);
        let mut child_job = Job::new(owner, Some(parent), now.saturating_add(out), unit);
        child_job.orphaned = orphaned;
        child_job.awaited = true;
        let child = self.spawn(child_job, now);
        if let Some(job) = self.jobs.get_mut(caller) {
            job.child = Some(child);
        }
        schedule_network(queue, &call.link.latency, out, Event::Deliver(child));
        if let Some(timeout) = call.timeout_ns {
            queue.schedule_fixed(timeout, Event::AttemptTimeout { job: caller, attempt });
        }
    }

    /// An answer arrived. One for an attempt the caller already gave up on is dropped.
    pub(super) fn on_reply(&mut self, to: JobRef, attempt: u32, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(to) else {
            return;
        };
        if job.attempt != attempt {
            return;
        }
        // Closing the attempt makes its pending timeout stale.
        job.attempt = job.attempt.wrapping_add(1);
        self.record_attempt(to, outcome == Outcome::Ok, queue.now());
        if outcome == Outcome::Ok {
            if let Some(job) = self.jobs.get_mut(to) {
                job.tries = 0;
                job.last_backoff_ns = 0;
            }
            self.call_succeeded(to, queue);
        } else {
            self.attempt_failed(to, outcome, queue);
        }
    }

    /// The caller stops waiting for the attempt, unless it has been answered already.
    pub(super) fn on_attempt_timeout(&mut self, job_ref: JobRef, attempt: u32, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        if job.attempt != attempt {
            return;
        }
        job.attempt = job.attempt.wrapping_add(1);
        let (owner, child) = (job.owner, job.child);
        if let Some(tally) = self.tally_of(owner) {
            tally.attempt_timeout(queue.now());
        }
        if let Some(child) = child {
            self.orphan(child);
        }
        self.record_attempt(job_ref, false, queue.now());
        self.attempt_failed(job_ref, Outcome::Timeout, queue);
    }

    /// An attempt failed: retry after a backoff if attempts are left, else the call fails.
    fn attempt_failed(&mut self, job_ref: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let (owner, tries, attempt, last) = (job.owner, job.tries, job.attempt, job.last_backoff_ns);
        let Some(call) = self.current_call(job) else {
            return;
        };
        let retried = match outcome {
            Outcome::Timeout => call.retry.retry_on.timeout,
            Outcome::Rejected => call.retry.retry_on.rejected,
            Outcome::Error => call.retry.retry_on.error,
            Outcome::Ok => false,
        };
        if retried && tries < call.retry.attempts && self.budget_allows_retry(call.site, queue.now()) {
            let wait = backoff_wait(&call.retry, tries, last, self.rng_of(owner));
            if let Some(job) = self.jobs.get_mut(job_ref) {
                job.last_backoff_ns = wait;
            }
            if let Some(tally) = self.tally_of(owner) {
                tally.retry(queue.now());
            }
            queue.schedule_in(wait, Event::RetryDue { job: job_ref, attempt });
        } else {
            self.call_failed(job_ref, outcome, queue);
        }
    }

    /// The backoff is over: send the next attempt, unless the job has moved on.
    pub(super) fn on_retry_due(&mut self, job: JobRef, attempt: u32, queue: &mut EventQueue<Event>) {
        if self.jobs.get(job).is_some_and(|j| j.attempt == attempt) {
            self.start_attempt(job, queue);
        }
    }

    /// The call succeeded: a client request is done; an endpoint job moves to its next step.
    fn call_succeeded(&mut self, job: JobRef, queue: &mut EventQueue<Event>) {
        match self.jobs.get(job).map(|j| j.owner) {
            Some(Owner::Client { client, user }) => self.finish_client_request(job, client, user, Outcome::Ok, queue),
            Some(Owner::Endpoint { .. }) => self.next_step(job, queue),
            Some(Owner::Consumer { .. }) => self.delivery_done(job, Outcome::Ok, queue),
            Some(Owner::Injected { .. }) | None => {}
        }
    }

    /// The call failed for good: a client request ends with the last attempt's outcome; an
    /// endpoint job fails with an error.
    fn call_failed(&mut self, job: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        match self.jobs.get(job).map(|j| j.owner) {
            Some(Owner::Client { client, user }) => self.finish_client_request(job, client, user, outcome, queue),
            Some(Owner::Endpoint { .. }) => self.step_failed(job, queue),
            Some(Owner::Consumer { .. }) => self.delivery_done(job, outcome, queue),
            Some(Owner::Injected { .. }) | None => {}
        }
    }

    /// The tally that counts this owner's retries and timeouts.
    fn tally_of(&mut self, owner: Owner) -> Option<&mut super::tally::RequestTally> {
        match owner {
            Owner::Client { client, .. } => Some(&mut self.clients[client as usize].tally),
            Owner::Endpoint { endpoint, .. } => Some(&mut self.endpoints[endpoint as usize]),
            Owner::Consumer { queue, .. } => Some(&mut self.queues[queue as usize].tally),
            Owner::Injected { .. } => None,
        }
    }

    /// Whether the call site's throttle or breaker refuses the attempt `caller` is about to send
    /// (counting the refusal); a first attempt is a request for the retry budget.
    fn policy_refuses(&mut self, caller: JobRef, site: usize, first: bool, now: Nanos) -> bool {
        let counts = now >= self.model.warmup_ns;
        let state = &mut self.sites[site];
        if first {
            if let Some(budget) = state.budget.as_mut() {
                budget.request(now);
            }
        }
        // Throttling first: a breaker's probe permit must not be taken by an attempt that never goes.
        if let Some(throttle) = state.throttle.as_mut() {
            let draw: f64 = self.policy_rng.random();
            if !throttle.admit(now, draw) {
                state.throttled += u64::from(counts);
                return true;
            }
        }
        if let Some(breaker) = state.breaker.as_mut() {
            match breaker.permit(now) {
                Permit::Refused => {
                    state.breaker_refused += u64::from(counts);
                    return true;
                }
                Permit::Go { probe } => {
                    if let Some(job) = self.jobs.get_mut(caller) {
                        job.probe = probe;
                    }
                }
            }
        }
        false
    }

    /// An attempt of `job_ref` that went on the network ended at `now`, well (`ok`) or not: tell
    /// its call site's throttle and breaker.
    fn record_attempt(&mut self, job_ref: JobRef, ok: bool, now: Nanos) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let Some(call) = self.current_call(job) else {
            return;
        };
        let (sent, probe) = (job.sent_ns, job.probe);
        let state = &mut self.sites[call.site];
        if let Some(throttle) = state.throttle.as_mut().filter(|_| ok) {
            throttle.accepted(now);
        }
        if let Some(breaker) = state.breaker.as_mut() {
            breaker.record(now, ok, now.saturating_sub(sent), probe);
        }
    }

    /// Whether the call site's retry budget (if any) allows one more retry now.
    fn budget_allows_retry(&mut self, site: usize, now: Nanos) -> bool {
        let counts = now >= self.model.warmup_ns;
        let state = &mut self.sites[site];
        let allowed = state.budget.as_mut().is_none_or(|budget| budget.try_retry(now));
        if !allowed {
            state.budget_denied += u64::from(counts);
        }
        allowed
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
