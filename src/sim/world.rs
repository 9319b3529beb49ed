//! The simulated world: the state of every component in one replication, and the event dispatch.

use super::autoscaler::Autoscalers;
use super::bulkhead::Bulkheads;
use super::cache::Caches;
use super::client::Clients;
use super::cpu::Cpus;
use super::crash_loop::CrashLoops;
use super::database::Databases;
use super::hedge::Hedges;
use super::job::{Job, JobRef, JobSlab, Outcome, Owner, Parent};
use super::mqueue::MessageQueues;
use super::policy::CallPolicies;
use super::pool::Pools;
use super::rate_limit::Limits;
use super::resource::Waiter;
use super::rollout::{Change, Rollouts};
use super::service::Services;
use super::tally::{EffectTally, RequestTally};
use super::unit::{Units, NO_UNIT};
use crate::engine::{stream, EventQueue, Nanos, Process, Stream};
use crate::model::{Dist, Model, Step};

/// Hops over links that take no time taken at once, one inside another, before the next goes
/// through the event queue (at the same instant): deep enough for any call chain a model draws,
/// shallow enough for a thread's stack.
const MAX_HOPS_AT_ONCE: u32 = 64;

/// Everything that can happen, each naming the job (and attempt or ticket) it concerns.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next request of an open client arrives.
    Arrival {
        /// Index of the client.
        client: u32,
        /// The client's arrival generation when drawn: a change of rate makes it stale.
        generation: u32,
    },
    /// A timed action starts or is undone.
    Action {
        /// Index in the model's timed actions.
        index: u32,
        /// True when the action ends and its change is undone.
        undo: bool,
    },
    /// A closed-loop user sends its next request.
    UserReady {
        /// Index of the client.
        client: u32,
        /// Index of the user.
        user: u32,
    },
    /// A request reaches its service (after the network).
    Deliver(JobRef),
    /// A CPU or delay step is over.
    StepDone(JobRef),
    /// An answer reaches its caller (after the network).
    Reply {
        /// The caller.
        to: JobRef,
        /// The caller's attempt this answers.
        attempt: u32,
        /// How the attempt ended.
        outcome: Outcome,
        /// Whether the answer is from the attempt's second copy (a hedge).
        hedge: bool,
    },
    /// An attempt of a call that hedges has waited its hedging delay.
    HedgeDue {
        /// The caller.
        job: JobRef,
        /// The attempt that waits.
        attempt: u32,
    },
    /// The caller stops waiting for an attempt.
    AttemptTimeout {
        /// The caller.
        job: JobRef,
        /// The attempt it stops waiting for.
        attempt: u32,
    },
    /// The backoff before a retry is over.
    RetryDue {
        /// The caller.
        job: JobRef,
        /// The caller's attempt generation when the retry was scheduled.
        attempt: u32,
    },
    /// A query reaches the database (after the network).
    QueryAtDatabase(JobRef),
    /// A database core has finished a query.
    QueryDone(JobRef),
    /// A query's result reaches the service (after the network).
    QueryBack(JobRef),
    /// A cache stops waiting for the backend of a miss and answers from its stale copy.
    CacheTimeout {
        /// The job.
        job: JobRef,
        /// The step whose backend it waited for.
        step: u32,
    },
    /// The fill a cache look-up waited for is over (coalescing).
    CacheFill {
        /// The waiting job.
        job: JobRef,
        /// The step that looked the cache up.
        step: u32,
        /// Whether the backend answered (else the fill failed).
        ok: bool,
    },
    /// A request stops waiting for a worker: it waited its line's `max_wait` and is shed.
    QueueTimeout {
        /// The waiting job.
        job: JobRef,
        /// Its wait ticket when it started waiting.
        ticket: u32,
    },
    /// A transaction stops waiting for a pooled connection.
    AcquireTimeout {
        /// The waiting job.
        job: JobRef,
        /// Its wait ticket when it started waiting.
        ticket: u32,
    },
    /// A steady producer publishes a message.
    Publish {
        /// Index of the queue.
        queue: u32,
        /// Index of the steady producer.
        producer: u32,
    },
    /// A scheduled burst publishes its next message.
    BurstMessage {
        /// Index of the queue.
        queue: u32,
        /// Index of the burst in the queue's bursts.
        burst: u32,
        /// Messages of the burst published so far.
        sent: u32,
    },
    /// A received message's invisibility is over.
    MessageVisible {
        /// Index of the queue.
        queue: u32,
        /// The message (stale once it is deleted, whoever has its slot now).
        message: super::mqueue::MessageRef,
        /// The message's visibility generation when the timer was set.
        visibility: u32,
    },
    /// Something happens to an instance: a crash of a crash loop, a restart, a health check.
    Instance {
        /// Index of the service.
        service: u32,
        /// Index of the instance.
        instance: u32,
        /// What happens.
        what: InstanceEvent,
    },
    /// A processor of an instance with cores of its own moves on.
    Cpu {
        /// Index of the service.
        service: u32,
        /// Index of the instance.
        instance: u32,
        /// What happens.
        what: CpuEvent,
    },
    /// Something happens to an autoscaled service.
    Autoscale {
        /// Index of the service.
        service: u32,
        /// What happens.
        what: AutoscaleEvent,
    },
    /// An attempt waiting for a place in its call's bulkhead has waited its `max_wait`.
    BulkheadTimeout {
        /// The caller.
        job: JobRef,
        /// The attempt that waits.
        attempt: u32,
    },
    /// A rollout moves on.
    Rollout {
        /// Index of the rollout's timed action.
        action: u32,
        /// What happens.
        what: RolloutEvent,
    },
}

/// What happens to an instance.
#[derive(Clone, Copy, Debug)]
pub enum InstanceEvent {
    /// The crash loop of timed action `action` crashes it (and, for a loop whose instances fail
    /// together, the others), unless it crashed since: `life` is its crash count when scheduled.
    LoopCrash {
        /// Index of the crash loop's timed action.
        action: u32,
        /// The instance's crash count when the crash was drawn.
        life: u32,
    },
    /// It comes back after a crash of a crash loop, unless it crashed again since.
    Restart {
        /// Index of the crash loop's timed action.
        action: u32,
        /// The instance's crash count at the crash.
        life: u32,
    },
    /// The balancer checks its health: in rotation if up, out if down.
    HealthCheck,
}

/// What happens to an instance's cores.
#[derive(Clone, Copy, Debug)]
pub enum CpuEvent {
    /// First in, first out: this job's CPU step is done.
    Done(JobRef),
    /// Processor sharing: the first step to finish at the present speed is done, unless the
    /// processor changed since (a later generation).
    Next(u32),
}

/// What happens to an autoscaled service.
#[derive(Clone, Copy, Debug)]
pub enum AutoscaleEvent {
    /// Its metric is sampled (every second); at the end of a period the autoscaler decides.
    Tick,
    /// A launched instance slot is provisioned, unless that launch was cancelled (`life` is the
    /// slot's launch count when it was launched).
    Provisioned {
        /// The instance slot.
        instance: u32,
        /// The slot's launch count at the launch.
        life: u32,
    },
    /// A new instance's warm-up is over.
    WarmedUp {
        /// The instance slot.
        instance: u32,
        /// The slot's launch count at the launch.
        life: u32,
    },
}

/// What happens to a rollout.
#[derive(Clone, Copy, Debug)]
pub enum RolloutEvent {
    /// The canary has baked: the change goes to every instance.
    Widen,
    /// The rollback rule looks at the window just ended.
    Evaluate,
    /// The change is undone everywhere.
    Undo,
}

/// The state of one replication.
pub struct World<'m> {
    /// The model simulated.
    pub(super) model: &'m Model,
    /// Requests in flight.
    pub(super) jobs: JobSlab,
    /// Live jobs that a live caller waits for (see [`World::requests_in_flight`]).
    awaited_jobs: usize,
    /// The clients: arrivals, users and what became of their requests.
    pub(super) clients: Clients<'m>,
    /// The services: instances, workers, balancers, idempotency stores.
    pub(super) services: Services<'m>,
    /// Per endpoint (service side).
    pub(super) endpoints: Vec<RequestTally>,
    /// The caches in front of steps.
    pub(super) caches: Caches,
    /// The databases: cores, direct connections, rows written.
    pub(super) databases: Databases<'m>,
    /// The connection pools.
    pub(super) pools: Pools<'m>,
    /// Set when the run must stop (the model is unstable).
    pub(super) stop: Option<String>,
    /// Round-trip time added to each link by timed actions.
    pub(super) link_extra_ns: Vec<Nanos>,
    /// Whether each timed action that scales traffic is in force.
    pub(super) action_active: Vec<bool>,
    /// Draws of injected queries' costs.
    pub(super) action_rng: Stream,
    /// Units of work alive.
    pub(super) units: Units,
    /// The message queues.
    pub(super) queues: MessageQueues<'m>,
    /// The call sites' retry budgets, throttles and breakers.
    pub(super) policies: CallPolicies,
    /// Per side effect.
    pub(super) effects: Vec<EffectTally>,
    /// The crash loops.
    pub(super) crash_loops: CrashLoops<'m>,
    /// The rollouts: where their change is, and their rollback rules' windows.
    pub(super) rollouts: Rollouts<'m>,
    /// The services' autoscalers.
    pub(super) autoscalers: Autoscalers,
    /// The cores of services that have fewer than their workers.
    pub(super) cpus: Cpus,
    /// Steps a processor event finished (kept to reuse its memory).
    cpu_done: Vec<JobRef>,
    /// Hops taken at once (deliveries, answers, queries and their results over links that take
    /// no time) now running one inside another; see [`World::hop_at_once`].
    hops_at_once: u32,
    /// The rate limits' buckets and every limit's counts.
    pub(super) limits: Limits,
    /// The bulkheads' places and lines.
    pub(super) bulkheads: Bulkheads,
    /// The hedging call sites' delays and counts.
    pub(super) hedges: Hedges,
}

impl<'m> World<'m> {
    /// Build the world of replication `replication` and schedule the first arrivals.
    pub fn new(model: &'m Model, replication: u32, queue: &mut EventQueue<Event>) -> World<'m> {
        let (warmup, window) = (model.warmup_ns, model.window_ns);
        let windows = model.window_count();
        let rng = |kind: &str, name: &str| stream(model.seed, replication, &format!("{kind}:{name}"));
        let services = Services::new(&model.services, model.classes.len(), (warmup, window, windows), rng);
        let databases = Databases::new(&model.databases, &model.pools, (warmup, window, windows), |name| {
            rng("database", name)
        });
        let pools = Pools::new(&model.pools, (warmup, window, windows));
        let clients = Clients::new(
            &model.clients,
            model.duration_ns,
            || RequestTally::new(warmup, window, windows),
            |name| rng("client", name),
        );
        let endpoints = model
            .endpoints
            .iter()
            .map(|_| RequestTally::new(warmup, window, windows))
            .collect();
        let mut world = World {
            model,
            jobs: JobSlab::default(),
            awaited_jobs: 0,
            clients,
            services,
            endpoints,
            caches: Caches::new(
                model.services.iter().map(|s| rng("cache", &s.name)).collect(),
                model.endpoints.len(),
                &model.key_spaces,
                (warmup, window, windows),
            ),
            databases,
            pools,
            stop: None,
            hops_at_once: 0,
            link_extra_ns: vec![0; model.links.len()],
            action_active: vec![false; model.actions.len()],
            action_rng: rng("actions", "injected"),
            units: Units::default(),
            queues: MessageQueues::new(&model.queues, model.duration_ns, (warmup, window, windows), |name| {
                rng("queue", name)
            }),
            policies: CallPolicies::new(&model.call_sites, rng("policies", "throttle"), warmup),
            effects: model
                .effects
                .iter()
                .map(|_| EffectTally::new(warmup, window, windows))
                .collect(),
            crash_loops: CrashLoops::new(&model.actions, |i| rng("action", &i.to_string())),
            rollouts: Rollouts::new(&model.actions, model.services.iter().map(|s| s.instances).collect()),
            autoscalers: Autoscalers::new(&model.services, (warmup, window, windows), |name| rng("autoscaler", name)),
            cpus: Cpus::new(&model.services, warmup),
            cpu_done: Vec::new(),
            limits: Limits::new(&model.limits, (warmup, window, windows)),
            bulkheads: Bulkheads::new(&model.limits),
            hedges: Hedges::new(&model.call_sites, warmup),
        };
        world.clients.schedule_first_arrivals(queue);
        world.queues.schedule_producers(queue);
        world.schedule_actions(queue);
        world.schedule_autoscalers(queue);
        world
    }

    /// Close every time-weighted statistic at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        self.services.finish(end_ns);
        self.databases.finish(end_ns);
        self.pools.finish(end_ns);
        self.clients.finish(end_ns);
        for e in &mut self.endpoints {
            e.series.finish(end_ns);
            e.arrivals.finish(end_ns);
        }
        self.queues.finish(end_ns);
        self.autoscalers.finish(end_ns);
    }

    /// Remove a finished job and let go of its unit of work. An attempt it still waited for is
    /// awaited by nobody from now on.
    pub(super) fn retire(&mut self, job_ref: JobRef) -> Option<Retired> {
        let job = self.jobs.remove_with(job_ref, Retired::of)?;
        if job.fill != super::key_space::NONE {
            // Retired before its backend answered: the cache entry is not filled.
            self.caches.abandon(job.fill);
        }
        if job.awaited {
            self.awaited_jobs -= 1;
        }
        if let Some(child) = job.child {
            self.stop_awaiting_copy(child, job_ref);
        }
        if let Some(hedge) = job.hedge {
            self.stop_awaiting_copy(hedge, job_ref);
        }
        if job.unit != NO_UNIT {
            self.units.release(job.unit);
        }
        Some(job)
    }

    /// `copy`, an attempt of `caller` (unless its slot went to another job since), is awaited by
    /// nobody any more.
    fn stop_awaiting_copy(&mut self, copy: JobRef, caller: JobRef) {
        if self.jobs.get(copy).and_then(|c| c.parent).is_some_and(|p| p.job == caller) {
            self.stop_awaiting(copy);
        }
    }

    /// Nobody waits for `job` any more: it counts as a request in flight of its own.
    pub(super) fn stop_awaiting(&mut self, job: JobRef) {
        if let Some(j) = self.jobs.get_mut(job) {
            if std::mem::replace(&mut j.awaited, false) {
                self.awaited_jobs -= 1;
            }
        }
    }

    /// Requests in flight: jobs that no live caller is waiting for — client requests, queue
    /// deliveries, injected queries, and work whose caller gave up. A call chain counts once
    /// however deep it is (its jobs are at most this many × the deepest chain of calls).
    pub fn requests_in_flight(&self) -> usize {
        self.jobs.live() - self.awaited_jobs
    }

    /// Whether a hop (a delivery, an answer, a query or its result) that takes `delay` on the
    /// network is taken at once, inside the event that sent it, rather than as an event of its
    /// own: when it takes no time, unless `MAX_HOPS_AT_ONCE` such hops already run one inside
    /// another (a long chain of calls answered at once, like a step list of idempotent calls to
    /// a store that skips them, then goes on from the event queue at the same instant instead of
    /// deeper into the stack).
    #[inline]
    pub(super) fn hop_at_once(&self, delay: Nanos) -> bool {
        delay == 0 && self.hops_at_once < MAX_HOPS_AT_ONCE
    }

    /// Take a hop over a link that takes no time at once: `arrive` (what happens at the other
    /// end) runs inside the current event, one hop deeper.
    #[inline]
    pub(super) fn hop_now(&mut self, arrive: impl FnOnce(&mut Self)) {
        self.hops_at_once += 1;
        arrive(self);
        self.hops_at_once -= 1;
    }

    /// Deliver `job`, sent over a link that takes no time, at once.
    pub(super) fn deliver_at_once(&mut self, job: JobRef, queue: &mut EventQueue<Event>) {
        self.hop_now(|w| w.on_deliver(job, queue));
    }

    /// Give a caller its answer, sent over a link that takes no time, at once.
    pub(super) fn reply_at_once(&mut self, parent: Parent, outcome: Outcome, queue: &mut EventQueue<Event>) {
        self.hop_now(|w| w.on_reply(parent.job, parent.attempt, outcome, parent.hedge, queue));
    }

    /// Store a new job (which holds a reference to its unit of work), stopping the run when more
    /// requests are in flight than the model allows.
    #[inline]
    pub(super) fn spawn(&mut self, job: Job, now: Nanos) -> JobRef {
        if job.awaited {
            self.awaited_jobs += 1;
        }
        let r = self.jobs.insert(job);
        if self.requests_in_flight() > self.model.max_in_flight as usize && self.stop.is_none() {
            self.stop = Some(self.unstable_verdict(now));
        }
        r
    }

    /// Why the run is unstable: requests in flight and the longest waiting line.
    #[cold]
    fn unstable_verdict(&self, now: Nanos) -> String {
        let mut longest: (u32, String) = (0, String::new());
        for s in 0..self.model.services.len() {
            let waiting = self.services.waiting(crate::model::ServiceId(s));
            if waiting > longest.0 {
                longest = (waiting, format!("service {}", self.model.services[s].name));
            }
        }
        for d in 0..self.model.databases.len() {
            let waiting = self.databases.waiting(crate::model::DatabaseId(d));
            if waiting > longest.0 {
                longest = (waiting, format!("database {}", self.model.databases[d].name));
            }
        }
        for p in 0..self.model.pools.len() {
            let waiting = self.pools.waiting(crate::model::PoolId(p));
            if waiting > longest.0 {
                longest = (waiting, format!("pool {}", self.model.pools[p].name));
            }
        }
        let mut verdict = format!(
            "unstable: more than {} requests in flight at t = {}",
            self.model.max_in_flight,
            crate::model::units::format_duration(now)
        );
        if longest.0 > 0 {
            verdict.push_str(&format!("; longest queue: {} with {} waiting", longest.1, longest.0));
        }
        verdict
    }

    /// Whether a waiter in some line still waits: its job lives and holds the same ticket.
    pub(super) fn waiter_is_live(jobs: &JobSlab, w: &Waiter) -> bool {
        jobs.get(w.job).is_some_and(|j| j.ticket == w.ticket)
    }

    /// The steps of the job's endpoint (a client request has none: its call is the client's).
    pub(super) fn step_of(&self, job: &Job) -> Option<&'m Step> {
        match job.owner {
            Owner::Endpoint { endpoint, .. } => self.model.endpoints[endpoint as usize].steps.get(job.step as usize),
            Owner::Client { .. } | Owner::Injected { .. } | Owner::Consumer { .. } => None,
        }
    }
}

impl World<'_> {
    /// Carry out what a rollout decided on its service's instances.
    pub(super) fn apply(&mut self, change: Change) {
        match change {
            Change::None => {}
            Change::Apply {
                action,
                service,
                instances,
                factor,
            } => self.services.change(service, instances, factor, action),
            Change::Undo { action, service } => self.services.undo_change(service, action),
        }
    }
}

/// What a finished job leaves behind for whoever finishes it: the job's slot is freed without
/// moving the whole job out of it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Retired {
    /// Who the job worked for.
    pub owner: Owner,
    /// Whom it answers.
    pub parent: Option<super::job::Parent>,
    /// When it started.
    pub started_ns: Nanos,
    /// Where it was in its life.
    pub stage: super::job::Stage,
    /// Its unit of work.
    pub unit: u32,
    /// Whether its unit was in its service's dedupe store.
    pub deduped: bool,
    /// Whether its caller had stopped waiting.
    pub orphaned: bool,
    /// Whether a live caller waited for it.
    awaited: bool,
    /// The cache fill its step was making.
    fill: u32,
    /// Its current downstream attempt.
    child: Option<JobRef>,
    /// The second copy of that attempt.
    hedge: Option<JobRef>,
}

impl Retired {
    /// What `job` leaves behind.
    #[inline]
    fn of(job: &Job) -> Retired {
        Retired {
            owner: job.owner,
            parent: job.parent,
            started_ns: job.started_ns,
            stage: job.stage,
            unit: job.unit,
            deduped: job.deduped,
            orphaned: job.orphaned,
            awaited: job.awaited,
            fill: job.fill,
            child: job.child,
            hedge: job.hedge,
        }
    }
}

/// Schedule an event that crosses a link: a constant latency is the same for every crossing, so
/// the event can go to the queue's fixed-delay lane. (A zero delay is mostly taken at once, see
/// [`World::hop_at_once`]; past that bound it stays in the heap: an event due now sifts straight
/// to the top, cheaper than checking lanes on every pop.)
#[inline]
pub(super) fn schedule_network(queue: &mut EventQueue<Event>, link: &Option<Dist>, delay: Nanos, event: Event) {
    match link {
        Some(Dist::Constant { .. }) => queue.schedule_fixed(delay, event),
        _ => queue.schedule_in(delay, event),
    }
}

impl Process for World<'_> {
    type Event = Event;

    fn handle(&mut self, event: Event, queue: &mut EventQueue<Event>) -> Option<String> {
        match event {
            Event::Arrival { client, generation } => self.on_arrival(client, generation, queue),
            Event::Action { index, undo } => self.on_action(index, undo, queue),
            Event::UserReady { client, user } => self.on_user_ready(client, user, queue),
            Event::Deliver(job) => self.on_deliver(job, queue),
            Event::StepDone(job) => self.on_step_done(job, queue),
            Event::Reply {
                to,
                attempt,
                outcome,
                hedge,
            } => self.on_reply(to, attempt, outcome, hedge, queue),
            Event::HedgeDue { job, attempt } => self.on_hedge_due(job, attempt, queue),
            Event::AttemptTimeout { job, attempt } => self.on_attempt_timeout(job, attempt, queue),
            Event::RetryDue { job, attempt } => self.on_retry_due(job, attempt, queue),
            Event::QueryAtDatabase(job) => self.on_query_at_database(job, queue),
            Event::QueryDone(job) => self.on_query_done(job, queue),
            Event::QueryBack(job) => self.on_query_back(job, queue),
            Event::AcquireTimeout { job, ticket } => self.on_acquire_timeout(job, ticket, queue),
            Event::Publish { queue: q, producer } => self.on_publish(q, producer, queue),
            Event::BurstMessage { queue: q, burst, sent } => self.on_burst_message(q, burst, sent, queue),
            Event::MessageVisible {
                queue: q,
                message,
                visibility,
            } => self.on_message_visible(q, message, visibility, queue),
            Event::CacheTimeout { job, step } => self.on_cache_timeout(job, step, queue),
            Event::CacheFill { job, step, ok } => self.on_cache_fill(job, step, ok, queue),
            Event::QueueTimeout { job, ticket } => self.on_queue_timeout(job, ticket, queue),
            Event::BulkheadTimeout { job, attempt } => self.on_bulkhead_timeout(job, attempt, queue),
            Event::Instance { service, instance, what } => self.on_instance_event(service, instance, what, queue),
            Event::Autoscale { service, what } => self.on_autoscale(service, what, queue),
            Event::Cpu { service, instance, what } => {
                let mut done = std::mem::take(&mut self.cpu_done);
                self.cpus
                    .on_event(crate::model::ServiceId(service as usize), instance, what, queue, &mut done);
                for job in done.drain(..) {
                    self.on_step_done(job, queue);
                }
                self.cpu_done = done;
            }
            Event::Rollout { action, what } => {
                let change = self.rollouts.on_event(action, what, queue);
                self.apply(change);
            }
        }
        if self.caches.any_abandoned() {
            self.caches.settle_abandoned(queue);
        }
        self.stop.take()
    }
}
