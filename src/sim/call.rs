//! Synchronous calls: one attempt at a time over a link, the caller's timeout, retries with
//! exponential backoff and jitter. Client requests and endpoint call steps share this code.

use super::job::{Job, JobRef, Outcome, Owner, Parent};
use super::world::{schedule_network, Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{Call, Dist, Jitter, Step};
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
        let round_trip = self.round_trip(&call.link, owner);
        let out = round_trip / 2;
        let Some(job) = self.jobs.get_mut(caller) else {
            return;
        };
        job.tries += 1;
        job.attempt = job.attempt.wrapping_add(1);
        let attempt = job.attempt;
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
        let child = self.spawn(Job::new(owner, Some(parent), now.saturating_add(out)), now);
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
        if outcome == Outcome::Ok {
            job.tries = 0;
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
        let owner = job.owner;
        if let Some(tally) = self.tally_of(owner) {
            tally.attempt_timeout(queue.now());
        }
        self.attempt_failed(job_ref, Outcome::Timeout, queue);
    }

    /// An attempt failed: retry after a backoff if attempts are left, else the call fails.
    fn attempt_failed(&mut self, job_ref: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let (owner, tries, attempt) = (job.owner, job.tries, job.attempt);
        let Some(call) = self.current_call(job) else {
            return;
        };
        if tries < call.retry.attempts {
            let wait = call.retry.backoff_before_jitter_ns(tries);
            let wait = jittered(wait, call.retry.jitter, self.rng_of(owner));
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
            Some(Owner::Injected { .. }) | None => {}
        }
    }

    /// The call failed for good: a client request ends with the last attempt's outcome; an
    /// endpoint job fails with an error.
    fn call_failed(&mut self, job: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        match self.jobs.get(job).map(|j| j.owner) {
            Some(Owner::Client { client, user }) => self.finish_client_request(job, client, user, outcome, queue),
            Some(Owner::Endpoint { .. }) => self.step_failed(job, queue),
            Some(Owner::Injected { .. }) | None => {}
        }
    }

    /// The tally that counts this owner's retries and timeouts.
    fn tally_of(&mut self, owner: Owner) -> Option<&mut super::tally::RequestTally> {
        match owner {
            Owner::Client { client, .. } => Some(&mut self.clients[client as usize].tally),
            Owner::Endpoint { endpoint, .. } => Some(&mut self.endpoints[endpoint as usize]),
            Owner::Injected { .. } => None,
        }
    }
}

/// Randomise a backoff wait: none keeps it; full draws from [0, wait]; equal keeps half and
/// draws the other half.
pub fn jittered(wait: Nanos, jitter: Jitter, rng: &mut Stream) -> Nanos {
    match jitter {
        Jitter::None => wait,
        Jitter::Full => rng.random_range(0..=wait),
        Jitter::Equal => wait / 2 + rng.random_range(0..=wait - wait / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

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
