//! The request path: a request's whole life, in the order it happens.
//!
//! 1. A client's request arrives ([`World::on_arrival`], [`World::on_user_ready`]) and becomes a
//!    job whose only step is the client's call.
//! 2. An attempt of a call is sent ([`World::start_attempt`]): a new job at the target endpoint,
//!    delivered after half the link's round trip (at once, inside the sending event, over a link
//!    that takes no time), with the caller's timeout running.
//! 3. It is delivered ([`World::on_deliver`]): the balancer picks an instance, which admits it
//!    (a worker, a place in line, or the asynchronous cap) or turns it away.
//! 4. Its endpoint's steps run one after another ([`World::run_step`]): CPU, delays, calls
//!    (back to 2), transactions (`transaction.rs`: a connection, then the queries), each maybe
//!    behind a cache (`cache.rs`: a hit skips the step).
//! 5. It finishes ([`World::finish_job`]) and answers its caller over the network.
//! 6. The caller takes the answer ([`World::on_reply`]), or stops waiting
//!    ([`World::on_attempt_timeout`]); a failed attempt is retried after a backoff
//!    ([`World::attempt_failed`], [`World::on_retry_due`]) or the call fails.
//! 7. The client's request ends ([`World::finish_client_request`]) and the client counts it.
//!
//! A queue's delivery (`consumer.rs`) is a call too: it enters at 2 and ends at 6. A caller that
//! gives up leaves its attempts working for nobody (`abandon.rs`).
//!
//! The components (clients, services, databases, queues, call policies) keep their own state and
//! say what happens at each stage; this module moves the request from one stage to the next.

use super::bulkhead::{Place, Waiter};
use super::call::backoff_wait;
use super::job::{InBulkhead, Job, JobRef, JobSlab, Outcome, Owner, Parent, Stage};
use super::resource::Admission;
use super::world::{schedule_network, Event, World};
use crate::engine::EventQueue;
use crate::model::{Call, ClientId, Dist, ServiceId, Step};

impl<'m> World<'m> {
    /// An open client's request arrives (unless a change of rate made it stale): send it and draw
    /// the next one.
    pub(super) fn on_arrival(&mut self, c: u32, generation: u32, queue: &mut EventQueue<Event>) {
        if !self.clients.arrival_is_current(ClientId(c as usize), generation) {
            return;
        }
        self.start_client_request(c, 0, queue);
        self.clients.schedule_next_arrival(ClientId(c as usize), queue);
    }

    /// A closed-loop user sends its next request.
    pub(super) fn on_user_ready(&mut self, c: u32, user: u32, queue: &mut EventQueue<Event>) {
        self.start_client_request(c, user, queue);
    }

    /// A client request starts: a job whose only work is the client's call.
    fn start_client_request(&mut self, c: u32, user: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        self.clients.request_started(ClientId(c as usize), now);
        let unit = self.units.create();
        let mut request = Job::new(Owner::Client { client: c, user }, None, now, unit);
        request.class = self.model.clients[c as usize].class.map(|k| k as u32);
        let job = self.spawn(request, now);
        self.start_attempt(job, queue);
    }

    /// Start the next attempt of the job's call: the call site's policies, rate limit and bulkhead
    /// may refuse it (or hold it in the bulkhead's line); otherwise it is sent.
    pub(super) fn start_attempt(&mut self, caller: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.jobs.get(caller) else {
            return;
        };
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
        let site = &self.model.call_sites[call.site];
        if site.has_policy() && self.policy_refuses(caller, call.site, first, now) {
            // Failed locally, without a request on the network.
            self.attempt_failed(caller, Outcome::Rejected, queue);
            return;
        }
        if let Some(limit) = site.rate_limit {
            if !self.limits.admit(limit, now) {
                // Over the call site's own rate: a 429 without a request on the network.
                self.attempt_failed(caller, Outcome::RateLimited, queue);
                return;
            }
        }
        if let Some(limit) = site.bulkhead {
            if !self.enter_bulkhead(caller, limit, queue) {
                return;
            }
        }
        self.send_attempt(caller, queue);
    }

    /// The attempt of `caller` asks its call's bulkhead `limit` for a place: true when it has one
    /// and goes; otherwise it waits in the line (its `max_wait` running) or fails as rejected.
    fn enter_bulkhead(&mut self, caller: JobRef, limit: usize, queue: &mut EventQueue<Event>) -> bool {
        let now = queue.now();
        let Some(job) = self.jobs.get(caller) else {
            return false;
        };
        let waiter = Waiter {
            job: caller,
            attempt: job.attempt,
        };
        let instance = match job.owner {
            Owner::Endpoint { instance, .. } => instance,
            _ => 0,
        };
        let jobs = &self.jobs;
        let place = self
            .bulkheads
            .enter(limit, instance, waiter, |w| World::waits_for_a_place(jobs, w));
        match place {
            Place::Taken => {
                self.limits.count(limit, now, true);
                if let Some(job) = self.jobs.get_mut(caller) {
                    job.bulkhead = InBulkhead::Holding;
                }
                true
            }
            Place::Waiting => {
                if let Some(job) = self.jobs.get_mut(caller) {
                    job.bulkhead = InBulkhead::Waiting;
                }
                if let crate::model::LimitKind::Bulkhead(b) = &self.model.limits[limit].kind {
                    if let Some(max_wait) = b.max_wait_ns {
                        let event = Event::BulkheadTimeout {
                            job: caller,
                            attempt: waiter.attempt,
                        };
                        queue.schedule_in(max_wait, event);
                    }
                }
                false
            }
            Place::Rejected => {
                self.limits.count(limit, now, false);
                self.attempt_failed(caller, Outcome::Rejected, queue);
                false
            }
        }
    }

    /// Whether a bulkhead's waiter still waits: its job lives, at the same attempt, in the line.
    fn waits_for_a_place(jobs: &JobSlab, w: &Waiter) -> bool {
        jobs.get(w.job)
            .is_some_and(|j| j.attempt == w.attempt && j.bulkhead == InBulkhead::Waiting)
    }

    /// An attempt waited its bulkhead's `max_wait` for a place: unless it got one (or its job
    /// moved on) since, it fails as rejected.
    pub(super) fn on_bulkhead_timeout(&mut self, job_ref: JobRef, attempt: u32, queue: &mut EventQueue<Event>) {
        let waiter = Waiter { job: job_ref, attempt };
        if !World::waits_for_a_place(&self.jobs, &waiter) {
            return;
        }
        self.leave_bulkhead(job_ref, queue);
        if let Some(limit) = self.bulkhead_of(job_ref) {
            self.limits.count(limit, queue.now(), false);
        }
        self.attempt_failed(job_ref, Outcome::Rejected, queue);
    }

    /// The bulkhead of the job's current call, if it has one.
    fn bulkhead_of(&self, job_ref: JobRef) -> Option<usize> {
        let job = self.jobs.get(job_ref)?;
        self.model.call_sites[self.current_call(job)?.site].bulkhead
    }

    /// The job's current attempt ended (answered, timed out, or its cache answered stale): it
    /// gives its bulkhead place back, or leaves the line it waited in.
    pub(super) fn attempt_closed(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        if self.jobs.get(job_ref).is_some_and(|j| j.bulkhead != InBulkhead::No) {
            self.leave_bulkhead(job_ref, queue);
        }
    }

    /// The job leaves its bulkhead: a place it held goes to the first live waiter, which is sent.
    fn leave_bulkhead(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(limit) = self.bulkhead_of(job_ref) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        let instance = match job.owner {
            Owner::Endpoint { instance, .. } => instance,
            _ => 0,
        };
        match std::mem::replace(&mut job.bulkhead, InBulkhead::No) {
            InBulkhead::No => {}
            InBulkhead::Waiting => self.bulkheads.left_line(limit, instance),
            InBulkhead::Holding => {
                let jobs = &self.jobs;
                let next = self.bulkheads.leave(limit, instance, |w| World::waits_for_a_place(jobs, w));
                if let Some(next) = next {
                    self.limits.count(limit, queue.now(), true);
                    if let Some(granted) = self.jobs.get_mut(next.job) {
                        granted.bulkhead = InBulkhead::Holding;
                        granted.sent_ns = queue.now();
                    }
                    self.send_attempt(next.job, queue);
                }
            }
        }
    }

    /// Put the job's current attempt on the network: a new job at the target endpoint,
    /// delivered after half the link's round trip, the caller's timeout for it and, at a call
    /// that hedges, the moment its second copy is due.
    fn send_attempt(&mut self, caller: JobRef, queue: &mut EventQueue<Event>) {
        let Some((call, attempt, at_once)) = self.send_copy(caller, false, queue) else {
            return;
        };
        if let Some(timeout) = call.timeout_ns {
            queue.schedule_fixed(timeout, Event::AttemptTimeout { job: caller, attempt });
        }
        if self.hedges.any() {
            if let Some(delay) = self.hedges.attempt_sent(call.site, queue.now()) {
                queue.schedule_in(delay, Event::HedgeDue { job: caller, attempt });
            }
        }
        if let Some(child) = at_once {
            // The caller's clocks run first: the attempt may be over before this returns.
            self.deliver_at_once(child, queue);
        }
    }

    /// The attempt has waited its hedging delay unanswered: its second copy goes (through the
    /// call site's rate limit, if any; it shares the attempt's bulkhead place), unless the
    /// attempt is over or already hedged.
    pub(super) fn on_hedge_due(&mut self, caller: JobRef, attempt: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.jobs.get(caller).filter(|j| j.attempt == attempt && j.hedge.is_none()) else {
            return;
        };
        let Some(call) = self.current_call(job) else {
            return;
        };
        if let Some(limit) = self.model.call_sites[call.site].rate_limit {
            if !self.limits.admit(limit, now) {
                // No token for the copy: the attempt goes on alone.
                return;
            }
        }
        self.hedges.hedge_sent(call.site, now);
        if let Some((_, _, Some(copy))) = self.send_copy(caller, true, queue) {
            self.deliver_at_once(copy, queue);
        }
    }

    /// Send a copy of the job's current attempt (its first, or its `hedge`) to the target
    /// endpoint: the call and the attempt it belongs to, and the copy when it arrives at once
    /// (no time on the network), for the caller to deliver after setting its own clocks.
    #[inline(always)]
    fn send_copy(
        &mut self,
        caller: JobRef,
        hedge: bool,
        queue: &mut EventQueue<Event>,
    ) -> Option<(&'m Call, u32, Option<JobRef>)> {
        let now = queue.now();
        let job = self.jobs.get(caller)?;
        let owner = job.owner;
        let call = self.current_call(job)?;
        let round_trip = self.round_trip(&call.link, owner);
        let out = round_trip / 2;
        if let Some(wasted) = self.wasted_by(caller, now) {
            wasted.calls += 1;
        }
        let job = self.jobs.get(caller)?;
        let (attempt, unit, orphaned, class) = (job.attempt, job.unit, job.orphaned, job.class);
        let parent = Parent {
            job: caller,
            attempt,
            reply_delay_ns: round_trip - out,
            reply_delay_fixed: matches!(call.link.latency, Some(Dist::Constant { .. })),
            hedge,
        };
        let owner = Owner::Endpoint {
            endpoint: call.target.0 as u32,
            instance: 0,
        };
        self.units.retain(unit);
        let mut child_job = Job::new(owner, Some(parent), now.saturating_add(out), unit);
        // The request class goes with the request (a client request has its client's), even
        // if its caller is gone by the time it arrives.
        child_job.class = class;
        child_job.orphaned = orphaned;
        child_job.awaited = true;
        let child = self.spawn(child_job, now);
        if let Some(job) = self.jobs.get_mut(caller) {
            if hedge {
                job.hedge = Some(child);
            } else {
                job.child = Some(child);
                job.hedge = None;
            }
        }
        if self.hop_at_once(out) {
            return Some((call, attempt, Some(child)));
        }
        schedule_network(queue, &call.link.latency, out, Event::Deliver(child));
        Some((call, attempt, None))
    }

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
        let sid = self.model.endpoints[endpoint as usize].service;
        let s = sid.0;
        let spec = &self.model.services[s];
        let gateway = (spec.rate_limit, self.model.endpoints[endpoint as usize].rate_limit);
        if gateway != (None, None) && !self.passes_gateway(gateway, now) {
            // The service's gateway answers 429 before any instance sees the request.
            self.endpoints[endpoint as usize].start(now);
            if let Some(job) = self.jobs.get_mut(job_ref) {
                job.started_ns = now;
            }
            self.finish_job(job_ref, Outcome::RateLimited, queue);
            return;
        }
        let picked = self.pick_instance(sid, job_ref);
        let instance = picked.unwrap_or(0);
        self.endpoints[endpoint as usize].start(now);
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.owner = Owner::Endpoint { endpoint, instance };
        job.started_ns = now;
        job.epoch = self.services.epoch(sid, instance);
        if !self.services.takes_requests(sid) || picked.is_none() {
            self.finish_job(job_ref, Outcome::Rejected, queue);
            return;
        }
        let unit_key = self.units.key(job.unit);
        let idempotency = self.services.idempotency(sid);
        if let Some(skip) = idempotency.check(&spec.idempotency, unit_key, now) {
            // Already being done or done for this unit of work: answered at once.
            if now >= self.model.warmup_ns {
                idempotency.count_skip(skip);
            }
            self.finish_job(job_ref, Outcome::Ok, queue);
            return;
        }
        // Down but still in rotation (the health check has not seen it yet): connection refused.
        let admitted = self.services.is_up(sid, instance)
            && match spec.async_max_in_flight {
                Some(cap) => self.services.in_flight(sid, instance) < cap,
                None => match self.ask_worker(sid, instance, job_ref, queue) {
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
            if let Some(action) = self.services.changed_by(sid, instance) {
                self.rollouts.record(action, now, now, Outcome::Rejected);
            }
            self.finish_job(job_ref, Outcome::Rejected, queue);
            return;
        }
        job.stage = Stage::Admitted;
        job.deduped = self.services.idempotency(sid).start(&spec.idempotency, unit_key);
        self.services.admitted(sid, instance, now);
        if spec.async_max_in_flight.is_some() || job.holds_worker {
            self.run_step(job_ref, queue);
        }
    }

    /// The instance a new request of service `s` goes to, as its balancer picks it among the
    /// instances in rotation; `None` when none is. A retry to a service with
    /// `retry_other_instance` avoids the instance that refused or failed the previous attempt.
    fn pick_instance(&mut self, sid: ServiceId, job_ref: JobRef) -> Option<u32> {
        let s = sid.0;
        let avoid = if self.model.services[s].retry_other_instance {
            let parent = self.jobs.get(job_ref).and_then(|j| j.parent);
            parent
                .and_then(|p| self.jobs.get(p.job))
                .and_then(|caller| caller.avoid)
                .and_then(|(service, instance)| (service as usize == s).then_some(instance))
        } else {
            None
        };
        self.services.pick_instance(sid, avoid)
    }

    /// Ask instance `instance` of service `s` for a worker for the job, waiting in its class's
    /// line; a line with a `max_wait` sheds the job when it has waited that long.
    fn ask_worker(&mut self, sid: ServiceId, instance: u32, job_ref: JobRef, queue: &mut EventQueue<Event>) -> Admission {
        let Some(job) = self.jobs.get(job_ref) else {
            return Admission::Rejected;
        };
        let (ticket, line) = (job.ticket, self.services.line_of(sid, job.class));
        let admission = self.services.ask_worker(sid, instance, line, queue.now(), job_ref, ticket);
        if admission == Admission::Queued {
            if let Some(max_wait) = self.model.services[sid.0].lines[line].max_wait_ns {
                queue.schedule_in(max_wait, Event::QueueTimeout { job: job_ref, ticket });
            }
        }
        admission
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
        let sid = self.model.endpoints[endpoint as usize].service;
        let line = self.services.line_of(sid, job.class);
        let jobs = &self.jobs;
        self.services
            .abandon_wait(sid, instance, line, queue.now(), |w| World::waiter_is_live(jobs, w));
        self.finish_job(job_ref, Outcome::Rejected, queue);
    }

    /// Whether a request gets through its service's rate limit, then its endpoint's (the indices
    /// of those limits, where they exist).
    fn passes_gateway(&mut self, (service, endpoint): (Option<usize>, Option<usize>), now: crate::engine::Nanos) -> bool {
        service.is_none_or(|l| self.limits.admit(l, now)) && endpoint.is_none_or(|l| self.limits.admit(l, now))
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
        let sid = self.model.endpoints[endpoint as usize].service;
        if self.services.epoch(sid, instance) != job.epoch {
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
        let share = self.model.endpoints[endpoint as usize].shares[job.step as usize];
        if share < 1.0 && rand::RngExt::random::<f64>(self.services.rng(sid)) >= share {
            // A step only some requests take: this one skips it.
            if let Some(job) = self.jobs.get_mut(job_ref) {
                job.step += 1;
            }
            self.run_step(job_ref, queue);
            return;
        }
        match step {
            Step::Cpu(cost) => {
                if !holds_worker {
                    match self.ask_worker(sid, instance, job_ref, queue) {
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
                if self.poisoned(sid.0, instance, queue) {
                    // This request crashed its instance: it is reset with the others.
                    self.finish_job(job_ref, Outcome::Error, queue);
                    return;
                }
                let took = self.services.cpu_time(sid, instance, cost);
                if let Some(wasted) = self.wasted_by(job_ref, queue.now()) {
                    wasted.cpu_ns += u128::from(took);
                }
                if self.cpus.has_cores(sid) {
                    self.cpus.start(sid, instance, job_ref, took, queue);
                } else {
                    queue.schedule_in(took, Event::StepDone(job_ref));
                }
            }
            Step::Delay(wait) => {
                let took = wait.sample_ns(self.services.rng(sid));
                queue.schedule_in(took, Event::StepDone(job_ref));
            }
            Step::Call(_) | Step::Transaction(_) if self.cache_hit(job_ref, queue) => {}
            Step::Call(_) => self.start_attempt(job_ref, queue),
            Step::Transaction(_) => self.begin_transaction(job_ref, queue),
            Step::Publish(p) => {
                for _ in 0..p.messages {
                    let delay_ns = p.delay.as_ref().map_or(0, |d| d.sample_ns(self.services.rng(sid)));
                    self.publish(p.queue, delay_ns, queue);
                }
                // The request goes on at once, its messages on their own.
                queue.schedule_in(0, Event::StepDone(job_ref));
            }
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

    /// The job's current step completed: fill the cache entry its miss was for, record its side
    /// effect, move to the next step and start it (a job left behind by a cache timeout is done).
    pub(super) fn next_step(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        // The step succeeded: a cache miss's answer fills its key.
        self.fill_over(job_ref, true, queue);
        self.record_effect(job_ref, queue.now());
        if self.jobs.get(job_ref).is_some_and(|j| j.stage == Stage::Detached) {
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
        let sid = self.model.endpoints[endpoint as usize].service;
        loop {
            let jobs = &self.jobs;
            let Some(next) = self
                .services
                .release_worker(sid, instance, queue.now(), |w| World::waiter_is_live(jobs, w))
            else {
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
        let sid = self.model.endpoints[endpoint as usize].service;
        let s = sid.0;
        if job.stage == Stage::Admitted {
            let spec = &self.model.services[s];
            let unit_key = self.units.key(job.unit);
            self.services.left(sid, instance, now);
            if job.deduped {
                self.services.idempotency(sid).end(unit_key);
            }
            if outcome == Outcome::Ok {
                self.services.idempotency(sid).completed(&spec.idempotency, unit_key, now);
                if job.orphaned && now >= self.model.warmup_ns {
                    self.services.wasted(sid).finished += 1;
                }
            }
            if outcome == Outcome::Error {
                self.remember_for_retry(job.parent, s, instance);
            }
        }
        // A rollout's rule counts the requests its changed instances served (refusals are counted
        // where they happen, in `on_deliver`).
        if job.stage == Stage::Admitted {
            if let Some(action) = self.services.changed_by(sid, instance) {
                self.rollouts.record(action, now, job.started_ns, outcome);
            }
        }
        self.endpoints[endpoint as usize].finish(now, job.started_ns, outcome);
        let Some(parent) = job.parent else {
            return;
        };
        if self.hop_at_once(parent.reply_delay_ns) {
            // No time on the network: the caller takes the answer now.
            self.reply_at_once(parent, outcome, queue);
            return;
        }
        let reply = Event::Reply {
            to: parent.job,
            attempt: parent.attempt,
            outcome,
            hedge: parent.hedge,
        };
        if parent.reply_delay_fixed {
            queue.schedule_fixed(parent.reply_delay_ns, reply);
        } else {
            queue.schedule_in(parent.reply_delay_ns, reply);
        }
    }

    /// An answer arrived (from the attempt's second copy when `hedge`). One for an attempt the
    /// caller already gave up on, or already took an answer for, is dropped; a failure while the
    /// attempt's other copy is still out waits for that copy.
    pub(super) fn on_reply(&mut self, to: JobRef, attempt: u32, outcome: Outcome, hedge: bool, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(to) else {
            return;
        };
        if job.attempt != attempt {
            return;
        }
        if outcome != Outcome::Ok {
            if let Some(copy) = job.hedge.take() {
                // One of two copies failed: the call waits for the other, now its only one.
                if !hedge {
                    job.child = Some(copy);
                }
                return;
            }
        }
        // Closing the attempt makes its pending timeout (and hedge) stale.
        job.attempt = job.attempt.wrapping_add(1);
        let in_bulkhead = job.bulkhead;
        if job.hedge.is_some() {
            // The other copy, if still out, works for nobody now.
            if let Some(other) = if hedge { job.child } else { job.hedge } {
                self.orphan(other);
            }
        }
        if outcome == Outcome::Ok && self.hedges.any() {
            self.hedge_answered(to, hedge, queue.now());
        }
        if in_bulkhead != InBulkhead::No {
            self.attempt_closed(to, queue);
        }
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
        let (owner, in_bulkhead) = (job.owner, job.bulkhead);
        if in_bulkhead != InBulkhead::No {
            self.attempt_closed(job_ref, queue);
        }
        if let Some(tally) = self.tally_of(owner) {
            tally.attempt_timeout(queue.now());
        }
        self.orphan_attempt(job_ref);
        self.record_attempt(job_ref, false, queue.now());
        self.attempt_failed(job_ref, Outcome::Timeout, queue);
    }

    /// The job's attempt was answered well, by its second copy when `hedge`: a call that hedges
    /// at a percentile learns the latency.
    fn hedge_answered(&mut self, job_ref: JobRef, hedge: bool, now: crate::engine::Nanos) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let sent_ns = job.sent_ns;
        if let Some(call) = self.current_call(job) {
            self.hedges.answered(call.site, now.saturating_sub(sent_ns), hedge, now);
        }
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
            Outcome::RateLimited => call.retry.retry_on.rate_limited,
            Outcome::Ok => false,
        };
        if retried && tries < call.retry.attempts && self.policies.allows_retry(call.site, queue.now()) {
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

    /// A client request ended: its client counts it (and a closed-loop user thinks and goes again).
    pub(super) fn finish_client_request(
        &mut self,
        job: JobRef,
        c: u32,
        user: u32,
        outcome: Outcome,
        queue: &mut EventQueue<Event>,
    ) {
        let Some(done) = self.retire(job) else {
            return;
        };
        self.clients
            .request_finished(ClientId(c as usize), user, done.started_ns, outcome, queue);
    }
}
