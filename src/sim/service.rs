//! Services: delivery to an instance, admission (workers or an in-flight cap), running an
//! endpoint's steps in order, and answering the caller.

use super::job::{JobRef, Outcome, Owner};
use super::resource::Admission;
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::Step;

impl World<'_> {
    /// A request reaches its service: pick an instance and admit it or turn it away.
    ///
    /// 1. The balancer picks the instance.
    /// 2. A thread-per-request service asks for a worker for the whole request (queueing or
    ///    rejecting as the queue allows); an asynchronous one only checks its in-flight cap.
    /// 3. Admitted requests start their first step.
    pub(super) fn on_deliver(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(Owner::Endpoint { endpoint, .. }) = self.jobs.get(job_ref).map(|j| j.owner) else {
            return;
        };
        let s = self.model.endpoints[endpoint as usize].service.0;
        let spec = &self.model.services[s];
        let picked = self.pick_instance(s, job_ref);
        // The request class comes from the caller (a client request has its client's).
        let class = self
            .jobs
            .get(job_ref)
            .and_then(|j| j.parent)
            .and_then(|p| self.jobs.get(p.job))
            .and_then(|caller| caller.class);
        let instance = picked.unwrap_or(0);
        self.endpoints[endpoint as usize].start(now);
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.owner = Owner::Endpoint { endpoint, instance };
        job.started_ns = now;
        job.epoch = self.services[s].instances[instance as usize].epoch;
        job.class = class;
        if self.service_down[s] > 0 || picked.is_none() {
            self.finish_job(job_ref, Outcome::Rejected, queue);
            return;
        }
        let unit_key = self.units.key(job.unit);
        let state = &mut self.services[s];
        if let Some(skip) = state.idempotency.check(&spec.idempotency, unit_key, now) {
            // Already being done or done for this unit of work: answered at once.
            if now >= self.model.warmup_ns {
                state.idempotency.count_skip(skip);
            }
            self.finish_job(job_ref, Outcome::Ok, queue);
            return;
        }
        // Down but still in rotation (the health check has not seen it yet): connection refused.
        let admitted = self.services[s].instances[instance as usize].up
            && match spec.async_max_in_flight {
                Some(cap) => self.services[s].instances[instance as usize].in_flight < cap,
                None => match self.ask_worker(s, instance, job_ref, queue) {
                    Admission::Granted => {
                        if let Some(job) = self.jobs.get_mut(job_ref) {
                            job.holds_worker = true;
                        }
                        true
                    }
                    Admission::Queued => true,
                    Admission::Rejected => false,
                },
            };
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        if !admitted {
            let parent = job.parent;
            self.remember_for_retry(parent, s, instance);
            if let Some(action) = self.services[s].instances[instance as usize].changed_by {
                self.rollouts[action as usize].record(now, now, Outcome::Rejected);
            }
            self.finish_job(job_ref, Outcome::Rejected, queue);
            return;
        }
        job.admitted = true;
        let state = &mut self.services[s];
        job.deduped = state.idempotency.start(&spec.idempotency, unit_key);
        let inst = &mut state.instances[instance as usize];
        inst.in_flight += 1;
        state.rotation.set_load(instance, inst.in_flight);
        state.in_flight += 1;
        state.in_service.set(now, f64::from(state.in_flight));
        if spec.async_max_in_flight.is_some() || job.holds_worker {
            self.run_step(job_ref, queue);
        }
    }

    /// Ask instance `instance` of service `s` for a worker for the job, waiting in its class's
    /// line; a line with a `max_wait` sheds the job when it has waited that long.
    fn ask_worker(&mut self, s: usize, instance: u32, job_ref: JobRef, queue: &mut EventQueue<Event>) -> Admission {
        let Some(job) = self.jobs.get(job_ref) else {
            return Admission::Rejected;
        };
        let (ticket, line) = (job.ticket, self.line_of(s, job.class));
        let admission = self.services[s].instances[instance as usize]
            .workers
            .request_in(line, queue.now(), job_ref, ticket);
        if admission == Admission::Granted {
            self.record_worker_wait(s, queue.now(), 0);
        }
        if admission == Admission::Queued {
            if let Some(max_wait) = self.model.services[s].lines[line].max_wait_ns {
                queue.schedule_in(max_wait, Event::QueueTimeout { job: job_ref, ticket });
            }
        }
        admission
    }

    /// A request got a worker of service `s` after waiting `wait_ns`.
    fn record_worker_wait(&mut self, s: usize, now: Nanos, wait_ns: Nanos) {
        if now >= self.model.warmup_ns {
            let state = &mut self.services[s];
            state.worker_wait.record(wait_ns);
            state.waited += u64::from(wait_ns > 0);
        }
    }

    /// The waiting line of requests of `class` at service `s`: the class's own, or the last.
    fn line_of(&self, s: usize, class: Option<u32>) -> usize {
        let last = self.model.services[s].lines.len() - 1;
        class
            .and_then(|c| self.services[s].line_of_class.get(c as usize).copied())
            .unwrap_or(last)
    }

    /// The job waited its line's `max_wait` for a worker: unless it got one since, it is shed.
    pub(super) fn on_queue_timeout(&mut self, job_ref: JobRef, ticket: u32, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        let Owner::Endpoint { endpoint, instance } = job.owner else {
            return;
        };
        if job.ticket != ticket || job.holds_worker {
            return;
        }
        job.ticket = job.ticket.wrapping_add(1);
        let s = self.model.endpoints[endpoint as usize].service.0;
        let class = job.class;
        let line = self.line_of(s, class);
        let jobs = &self.jobs;
        let workers = &mut self.services[s].instances[instance as usize].workers;
        workers.abandon_wait_in(line, queue.now(), |w| World::waiter_is_live(jobs, w));
        self.finish_job(job_ref, Outcome::Rejected, queue);
    }

    /// The instance a new request of service `s` goes to, as its balancer picks it among the
    /// instances in rotation; `None` when none is. A retry to a service with
    /// `retry_other_instance` avoids the instance that refused or failed the previous attempt.
    fn pick_instance(&mut self, s: usize, job_ref: JobRef) -> Option<u32> {
        let avoid = if self.model.services[s].retry_other_instance {
            let parent = self.jobs.get(job_ref).and_then(|j| j.parent);
            parent
                .and_then(|p| self.jobs.get(p.job))
                .and_then(|caller| caller.avoid)
                .and_then(|(service, instance)| (service as usize == s).then_some(instance))
        } else {
            None
        };
        let state = &mut self.services[s];
        state.rotation.pick(avoid, &mut state.rng)
    }

    /// Instance `instance` of service `s` refused or failed a job with caller `parent`: remember
    /// it on the caller's current attempt, so that a retry can go elsewhere.
    fn remember_for_retry(&mut self, parent: Option<super::job::Parent>, s: usize, instance: u32) {
        if !self.model.services[s].retry_other_instance {
            return;
        }
        let Some(parent) = parent else {
            return;
        };
        if let Some(caller) = self.jobs.get_mut(parent.job).filter(|c| c.attempt == parent.attempt) {
            caller.avoid = Some((s as u32, instance));
        }
    }

    /// Start the job's current step, or finish the job when no step is left.
    pub(super) fn run_step(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let Owner::Endpoint { endpoint, instance } = job.owner else {
            return;
        };
        let holds_worker = job.holds_worker;
        let s = self.model.endpoints[endpoint as usize].service.0;
        if self.services[s].instances[instance as usize].epoch != job.epoch {
            // Its instance crashed since the job arrived: the request was reset.
            self.finish_job(job_ref, Outcome::Error, queue);
            return;
        }
        if self.stops_for_nobody(job_ref) {
            self.stop_for_nobody(job_ref, queue);
            return;
        }
        let Some(step) = self.step_of(job) else {
            self.finish_job(job_ref, Outcome::Ok, queue);
            return;
        };
        match step {
            Step::Cpu(cost) => {
                if !holds_worker {
                    match self.ask_worker(s, instance, job_ref, queue) {
                        Admission::Granted => {}
                        Admission::Queued => return,
                        Admission::Rejected => {
                            self.finish_job(job_ref, Outcome::Error, queue);
                            return;
                        }
                    }
                    if let Some(job) = self.jobs.get_mut(job_ref) {
                        job.holds_worker = true;
                    }
                }
                if self.poisoned(s, instance, queue) {
                    // This request crashed its instance: it is reset with the others.
                    self.finish_job(job_ref, Outcome::Error, queue);
                    return;
                }
                let took = cost.sample_ns(&mut self.services[s].rng);
                let factor = self.services[s].instances[instance as usize].cpu_factor;
                let took = if factor == 1.0 {
                    took
                } else {
                    (took as f64 * factor).min(crate::model::units::MAX_NANOS as f64) as u64
                };
                if let Some(wasted) = self.wasted_by(job_ref, queue.now()) {
                    wasted.cpu_ns += u128::from(took);
                }
                queue.schedule_in(took, Event::StepDone(job_ref));
            }
            Step::Delay(wait) => {
                let took = wait.sample_ns(&mut self.services[s].rng);
                queue.schedule_in(took, Event::StepDone(job_ref));
            }
            Step::Call(_) | Step::Transaction(_) if self.cache_hit(job_ref, queue) => {}
            Step::Call(_) => self.start_attempt(job_ref, queue),
            Step::Transaction(_) => self.begin_transaction(job_ref, queue),
        }
    }

    /// A CPU or delay step is over; an asynchronous service gives its worker back after CPU.
    pub(super) fn on_step_done(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        if let Owner::Endpoint { endpoint, .. } = job.owner {
            let service = &self.model.services[self.model.endpoints[endpoint as usize].service.0];
            if service.async_max_in_flight.is_some() && job.holds_worker {
                self.release_worker(job_ref, queue);
            }
        }
        self.next_step(job_ref, queue);
    }

    /// The job's current step completed: record its side effect, move to the next step and start
    /// it (a job left behind by a cache timeout is done).
    pub(super) fn next_step(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        self.record_effect(job_ref, queue.now());
        if self.jobs.get(job_ref).is_some_and(|j| j.detached) {
            self.retire(job_ref);
            return;
        }
        if let Some(job) = self.jobs.get_mut(job_ref) {
            job.step += 1;
            self.run_step(job_ref, queue);
        }
    }

    /// Give the job's worker back; the next live waiter of that instance gets it and goes on.
    fn release_worker(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        let Owner::Endpoint { endpoint, instance } = job.owner else {
            return;
        };
        job.holds_worker = false;
        let s = self.model.endpoints[endpoint as usize].service.0;
        loop {
            let jobs = &self.jobs;
            let workers = &mut self.services[s].instances[instance as usize].workers;
            let Some(next) = workers.release(queue.now(), |w| World::waiter_is_live(jobs, w)) else {
                return;
            };
            self.record_worker_wait(s, queue.now(), queue.now() - next.since_ns);
            if let Some(granted) = self.jobs.get_mut(next.job) {
                granted.ticket = granted.ticket.wrapping_add(1);
            }
            if self.was_reset(next.job) {
                // A request that waited through a crash fails without running; the worker goes
                // on to the next in line (a loop, not recursion: the line may be long).
                self.finish_job(next.job, Outcome::Error, queue);
                continue;
            }
            if self.stops_for_nobody(next.job) {
                // Its caller left while it waited: it does not start.
                self.stop_for_nobody(next.job, queue);
                continue;
            }
            if let Some(granted) = self.jobs.get_mut(next.job) {
                granted.holds_worker = true;
            }
            self.run_step(next.job, queue);
            return;
        }
    }

    /// The job is over: free what it holds, count it, and answer its caller over the network.
    pub(super) fn finish_job(&mut self, job_ref: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let Owner::Endpoint { endpoint, instance } = job.owner else {
            return;
        };
        if job.holds_worker {
            self.release_worker(job_ref, queue);
        }
        let Some(job) = self.retire(job_ref) else {
            return;
        };
        let s = self.model.endpoints[endpoint as usize].service.0;
        if job.admitted {
            let spec = &self.model.services[s];
            let unit_key = self.units.key(job.unit);
            let state = &mut self.services[s];
            let inst = &mut state.instances[instance as usize];
            inst.in_flight -= 1;
            state.rotation.set_load(instance, inst.in_flight);
            state.in_flight -= 1;
            state.in_service.set(now, f64::from(state.in_flight));
            if job.deduped {
                state.idempotency.end(unit_key);
            }
            if outcome == Outcome::Ok {
                state.idempotency.completed(&spec.idempotency, unit_key, now);
                if job.orphaned && now >= self.model.warmup_ns {
                    state.wasted.finished += 1;
                }
            }
            if outcome == Outcome::Error {
                self.remember_for_retry(job.parent, s, instance);
            }
        }
        // A rollout's rule counts the requests its changed instances served (refusals are counted
        // where they happen, in `on_deliver`).
        if job.admitted {
            if let Some(action) = self.services[s].instances[instance as usize].changed_by {
                self.rollouts[action as usize].record(now, job.started_ns, outcome);
            }
        }
        self.endpoints[endpoint as usize].finish(now, job.started_ns, outcome);
        if let Some(parent) = job.parent {
            let reply = Event::Reply {
                to: parent.job,
                attempt: parent.attempt,
                outcome,
            };
            if parent.reply_delay_fixed {
                queue.schedule_fixed(parent.reply_delay_ns, reply);
            } else {
                queue.schedule_in(parent.reply_delay_ns, reply);
            }
        }
    }
}
