//! Services: delivery to an instance, admission (workers or an in-flight cap), running an
//! endpoint's steps in order, and answering the caller.

use super::job::{JobRef, Outcome, Owner};
use super::resource::Admission;
use super::world::{Event, World};
use crate::engine::EventQueue;
use crate::model::{Balancer, Step};
use rand::RngExt;

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
        let picked = self.pick_instance(s);
        let instance = picked.unwrap_or(0);
        self.endpoints[endpoint as usize].start(now);
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.owner = Owner::Endpoint { endpoint, instance };
        job.started_ns = now;
        job.epoch = self.services[s].instances[instance as usize].epoch;
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
        let inst = &mut state.instances[instance as usize];
        let admitted = match spec.async_max_in_flight {
            Some(cap) => inst.in_flight < cap,
            None => match inst.workers.request(now, job_ref, job.ticket) {
                Admission::Granted => {
                    job.holds_worker = true;
                    true
                }
                Admission::Queued => true,
                Admission::Rejected => false,
            },
        };
        if !admitted {
            self.finish_job(job_ref, Outcome::Rejected, queue);
            return;
        }
        job.admitted = true;
        job.deduped = state.idempotency.start(&spec.idempotency, unit_key);
        inst.in_flight += 1;
        state.in_flight += 1;
        state.in_service.set(now, f64::from(state.in_flight));
        if spec.async_max_in_flight.is_some() || job.holds_worker {
            self.run_step(job_ref, queue);
        }
    }

    /// The instance a new request of service `s` goes to.
    /// The instance a new request of service `s` goes to; `None` when every instance is down
    /// (restarting after a crash). Instances that are down are skipped.
    fn pick_instance(&mut self, s: usize) -> Option<u32> {
        let state = &mut self.services[s];
        let n = state.instances.len() as u32;
        let up = state.instances.iter().filter(|i| i.up).count() as u32;
        if up == 0 {
            return None;
        }
        if n == 1 {
            return Some(0);
        }
        let chosen = match self.model.services[s].balancer {
            Balancer::RoundRobin => loop {
                let i = state.next_instance;
                state.next_instance = (i + 1) % n;
                if state.instances[i as usize].up {
                    break i;
                }
            },
            Balancer::Random => {
                let k = state.rng.random_range(0..up) as usize;
                state
                    .instances
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.up)
                    .nth(k)
                    .map_or(0, |(i, _)| i as u32)
            }
            Balancer::LeastOutstanding => {
                let mut best: Option<usize> = None;
                for (i, inst) in state.instances.iter().enumerate().filter(|(_, i)| i.up) {
                    if best.is_none_or(|b| inst.in_flight < state.instances[b].in_flight) {
                        best = Some(i);
                    }
                }
                best.unwrap_or(0) as u32
            }
        };
        Some(chosen)
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
        let ticket = job.ticket;
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
                    let now = queue.now();
                    let workers = &mut self.services[s].instances[instance as usize].workers;
                    match workers.request(now, job_ref, ticket) {
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
                let took = cost.sample_ns(&mut self.services[s].rng);
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
        if job.admitted {
            let s = self.model.endpoints[endpoint as usize].service.0;
            let spec = &self.model.services[s];
            let unit_key = self.units.key(job.unit);
            let state = &mut self.services[s];
            state.instances[instance as usize].in_flight -= 1;
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
