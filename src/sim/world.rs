//! The simulated world: the state of every component in one replication, and the event dispatch.

use super::balancer::Rotation;
use super::cache::CacheTally;
use super::job::{Job, JobRef, JobSlab, Outcome, Owner};
use super::mqueue::QueueState;
use super::policy::SiteState;
use super::resource::{LineOrder, LineRule, Resource, Waiter};
use super::rollout::RolloutState;
use super::tally::{BatchTally, EffectTally, IdempotencyState, RequestTally, WastedWork};
use super::unit::{Units, NO_UNIT};
use crate::engine::{stream, EventQueue, Nanos, Process, Stream};
use crate::model::{Arrivals, Database, Discipline, Dist, Model, Step};
use crate::stats::{LatencyHistogram, LevelSeries, TimeWeighted};

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

/// One instance of a service: its workers and its requests in flight.
pub struct Instance {
    /// Workers and their waiting line.
    pub workers: Resource,
    /// Requests admitted and not finished.
    pub in_flight: u32,
    /// Whether the instance takes requests (false while it restarts after a crash).
    pub up: bool,
    /// How many times it crashed: requests that arrived before a crash are reset.
    pub epoch: u32,
    /// Multiplier of its CPU steps (a rolled-out change).
    pub cpu_factor: f64,
    /// The rollout (timed action index) whose change it runs, if any.
    pub changed_by: Option<u32>,
    /// Crashes in a row of a crash loop (for its backoff).
    pub consecutive_crashes: u32,
    /// When it last came up.
    pub up_since_ns: Nanos,
}

/// A service's instances and balancer state.
pub struct ServiceState {
    /// The instances.
    pub instances: Vec<Instance>,
    /// The instances the balancer sends to, and its choice.
    pub rotation: Rotation,
    /// The waiting line of each request class (the last line for classes without one).
    pub line_of_class: Vec<usize>,
    /// Instances up (not restarting).
    pub up: u32,
    /// Instances up over time.
    pub up_level: TimeWeighted,
    /// 1 while no instance is up, else 0, over time.
    pub none_up: TimeWeighted,
    /// Crashes since the warm-up.
    pub crashes: u64,
    /// Waits for a worker, all instances together, since the warm-up.
    pub worker_wait: LatencyHistogram,
    /// Grants of a worker that had to wait, since the warm-up.
    pub waited: u64,
    /// Requests admitted and not finished, all instances together.
    pub in_flight: u32,
    /// Requests in the service (all instances) over time, for Little's law.
    pub in_service: TimeWeighted,
    /// Draws of CPU times, delays, link latencies, jitter and balancing.
    pub rng: Stream,
    /// Work done for callers who had already left.
    pub wasted: WastedWork,
    /// Idempotency stores and what they skipped.
    pub idempotency: IdempotencyState,
    /// Draws of cache hits and hit times.
    pub cache_rng: Stream,
}

/// A database's cores and connections.
pub struct DatabaseState {
    /// Cores and the line of queries waiting for one: the shared cores first, then one lane per
    /// resource group.
    pub lanes: Vec<Resource>,
    /// Rows written by transactions since the start (they stay).
    pub rows_written: f64,
    /// Direct (unpooled) connections open.
    pub direct_in_use: u32,
    /// Direct connections allowed: max_connections less what pools hold.
    pub direct_limit: u32,
    /// Connections in use (pooled and direct) over time, per window.
    pub connections_series: LevelSeries,
    /// Queries finished since the warm-up.
    pub queries: u64,
    /// Time of each query at the database: waiting for a core plus running.
    pub query_time: LatencyHistogram,
    /// Direct connections refused because the database was full.
    pub refused_connections: u64,
    /// Draws of query costs.
    pub rng: Stream,
}

impl DatabaseState {
    /// The cores that run queries of resource group `group` (the shared ones for none).
    pub fn lane_mut(&mut self, group: Option<usize>) -> &mut Resource {
        &mut self.lanes[group.map_or(0, |g| g + 1)]
    }

    /// The data size now, relative to when costs were measured: the data factor plus the rows
    /// written over the rows measured.
    pub fn data_size(&self, spec: &Database) -> f64 {
        spec.data_factor + spec.rows.map_or(0.0, |rows| self.rows_written / rows)
    }

    /// How much more a query costs now than at the start, from the rows written since.
    pub fn growth_factor(&self, spec: &Database) -> f64 {
        let start = spec.cost_scaling.multiplier(spec.data_factor);
        let now = spec.cost_scaling.multiplier(self.data_size(spec));
        if start > 0.0 {
            now / start
        } else {
            1.0
        }
    }
}

/// A connection pool.
pub struct PoolState {
    /// Connections and the line of transactions waiting for one.
    pub connections: Resource,
    /// Transactions that gave up waiting for a connection.
    pub acquire_timeouts: u64,
}

/// A client's state and tallies.
pub struct ClientState {
    /// Requests and their outcomes.
    pub tally: RequestTally,
    /// Progress of users with a fixed number of requests.
    pub batch: Option<BatchTally>,
    /// Draws of arrivals, think times, link latencies and jitter.
    pub rng: Stream,
}

/// The state of one replication.
pub struct World<'m> {
    /// The model simulated.
    pub model: &'m Model,
    /// Requests in flight.
    pub jobs: JobSlab,
    /// Live jobs that a live caller waits for (see [`World::requests_in_flight`]).
    awaited_jobs: usize,
    /// Per client.
    pub clients: Vec<ClientState>,
    /// Per service.
    pub services: Vec<ServiceState>,
    /// Per endpoint (service side).
    pub endpoints: Vec<RequestTally>,
    /// Per endpoint: what its caches did.
    pub cache_tallies: Vec<CacheTally>,
    /// Per database.
    pub databases: Vec<DatabaseState>,
    /// Per pool.
    pub pools: Vec<PoolState>,
    /// Set when the run must stop (the model is unstable).
    pub stop: Option<String>,
    /// Round-trip time added to each link by timed actions.
    pub link_extra_ns: Vec<Nanos>,
    /// Multiplier of each client's arrival rate set by timed actions.
    pub traffic_factor: Vec<f64>,
    /// Generation of each open client's pending arrival: a change of rate redraws it.
    pub arrival_generation: Vec<u32>,
    /// Timed actions currently taking each service down.
    pub service_down: Vec<u32>,
    /// Whether each timed action is in force.
    pub action_active: Vec<bool>,
    /// Draws of injected queries' costs.
    pub action_rng: Stream,
    /// Units of work alive.
    pub units: Units,
    /// Per message queue.
    pub queues: Vec<QueueState>,
    /// Per call site: retry budget, throttling and breaker state.
    pub sites: Vec<SiteState>,
    /// Per side effect.
    pub effects: Vec<EffectTally>,
    /// Draws of throttling decisions.
    pub policy_rng: Stream,
    /// Draws of each timed action of its own (crash loops), by action index.
    pub action_streams: Vec<Stream>,
    /// Crash loops in force that crash instances of each service on requests.
    pub poison_loops: Vec<u32>,
    /// The state of each rollout, by timed action index (unused for other actions).
    pub rollouts: Vec<RolloutState>,
}

/// The waiting lines of an instance of service `s`, in priority order.
fn line_rules(s: &crate::model::Service) -> Vec<LineRule> {
    s.lines
        .iter()
        .map(|l| LineRule {
            order: match l.discipline {
                Discipline::Fifo => LineOrder::Fifo,
                Discipline::Lifo => LineOrder::Lifo,
                Discipline::AdaptiveLifo => LineOrder::AdaptiveLifo(l.lifo_after_ns),
            },
            capacity: l.capacity,
        })
        .collect()
}

/// A time-weighted level starting at `level`.
fn level(warmup: Nanos, level: f64) -> TimeWeighted {
    let mut t = TimeWeighted::new(warmup);
    t.set(0, level);
    t
}

impl<'m> World<'m> {
    /// Build the world of replication `replication` and schedule the first arrivals.
    pub fn new(model: &'m Model, replication: u32, queue: &mut EventQueue<Event>) -> World<'m> {
        let (warmup, window) = (model.warmup_ns, model.window_ns);
        let windows = model.window_count();
        let rng = |kind: &str, name: &str| stream(model.seed, replication, &format!("{kind}:{name}"));
        let services = model
            .services
            .iter()
            .map(|s| ServiceState {
                instances: (0..s.instances)
                    .map(|_| Instance {
                        workers: Resource::with_lines(s.workers, &line_rules(s), warmup, window, windows)
                            .without_wait_histogram(),
                        in_flight: 0,
                        up: true,
                        epoch: 0,
                        cpu_factor: 1.0,
                        changed_by: None,
                        consecutive_crashes: 0,
                        up_since_ns: 0,
                    })
                    .collect(),
                rotation: Rotation::new(s.instances, s.balancer),
                line_of_class: (0..model.classes.len())
                    .map(|c| s.lines.iter().position(|l| l.class == Some(c)).unwrap_or(s.lines.len() - 1))
                    .collect(),
                up: s.instances,
                up_level: level(warmup, f64::from(s.instances)),
                none_up: level(warmup, 0.0),
                crashes: 0,
                worker_wait: LatencyHistogram::new(),
                waited: 0,
                in_flight: 0,
                in_service: TimeWeighted::new(warmup),
                rng: rng("service", &s.name),
                wasted: WastedWork::default(),
                idempotency: IdempotencyState::default(),
                cache_rng: rng("cache", &s.name),
            })
            .collect();
        let databases = model
            .databases
            .iter()
            .enumerate()
            .map(|(d, db)| {
                let pooled: u32 = model.pools.iter().filter(|p| p.database.0 == d).map(|p| p.size).sum();
                DatabaseState {
                    lanes: std::iter::once(db.shared_cores())
                        .chain(db.groups.iter().map(|g| g.cores))
                        .map(|cores| Resource::new(cores, None, false, warmup, window, windows))
                        .collect(),
                    rows_written: 0.0,
                    direct_in_use: 0,
                    direct_limit: db.max_connections.saturating_sub(pooled),
                    connections_series: LevelSeries::new(warmup, window, windows),
                    queries: 0,
                    query_time: LatencyHistogram::new(),
                    refused_connections: 0,
                    rng: rng("database", &db.name),
                }
            })
            .collect();
        let pools = model
            .pools
            .iter()
            .map(|p| PoolState {
                connections: Resource::new(p.size, None, false, warmup, window, windows),
                acquire_timeouts: 0,
            })
            .collect();
        let clients = model
            .clients
            .iter()
            .map(|c| ClientState {
                tally: RequestTally::new(warmup, window, windows),
                batch: match c.arrivals {
                    Arrivals::Closed {
                        users,
                        requests: Some(_),
                        ..
                    } => Some(BatchTally {
                        finished_at_ns: vec![None; users as usize],
                        done: vec![0; users as usize],
                        failed: vec![0; users as usize],
                    }),
                    _ => None,
                },
                rng: rng("client", &c.name),
            })
            .collect();
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
            cache_tallies: vec![CacheTally::default(); model.endpoints.len()],
            databases,
            pools,
            stop: None,
            link_extra_ns: vec![0; model.links.len()],
            traffic_factor: vec![1.0; model.clients.len()],
            arrival_generation: vec![0; model.clients.len()],
            service_down: vec![0; model.services.len()],
            action_active: vec![false; model.actions.len()],
            action_rng: rng("actions", "injected"),
            units: Units::default(),
            queues: model
                .queues
                .iter()
                .map(|q| QueueState::new(warmup, window, windows, rng("queue", &q.name)))
                .collect(),
            sites: model.call_sites.iter().map(SiteState::new).collect(),
            effects: model
                .effects
                .iter()
                .map(|_| EffectTally::new(warmup, window, windows))
                .collect(),
            policy_rng: rng("policies", "throttle"),
            action_streams: (0..model.actions.len()).map(|i| rng("action", &i.to_string())).collect(),
            poison_loops: vec![0; model.services.len()],
            rollouts: model.actions.iter().map(|_| RolloutState::default()).collect(),
        };
        world.schedule_first_arrivals(queue);
        world.schedule_producers(queue);
        world.schedule_actions(queue);
        world
    }

    /// Close every time-weighted statistic at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for s in &mut self.services {
            for i in &mut s.instances {
                i.workers.finish(end_ns);
            }
        }
        for d in &mut self.databases {
            d.lanes.iter_mut().for_each(|lane| lane.finish(end_ns));
            d.connections_series.finish(end_ns);
        }
        for p in &mut self.pools {
            p.connections.finish(end_ns);
        }
        for c in &mut self.clients {
            c.tally.series.finish(end_ns);
            c.tally.arrivals.finish(end_ns);
        }
        for e in &mut self.endpoints {
            e.series.finish(end_ns);
            e.arrivals.finish(end_ns);
        }
        for q in &mut self.queues {
            q.finish(end_ns);
        }
    }

    /// Remove a finished job and let go of its unit of work. An attempt it still waited for is
    /// awaited by nobody from now on.
    pub(super) fn retire(&mut self, job_ref: JobRef) -> Option<Job> {
        let job = self.jobs.remove(job_ref)?;
        if job.awaited {
            self.awaited_jobs -= 1;
        }
        if let Some(child) = job.child {
            if self.jobs.get(child).and_then(|c| c.parent).is_some_and(|p| p.job == job_ref) {
                self.stop_awaiting(child);
            }
        }
        if job.unit != NO_UNIT {
            self.units.release(job.unit);
        }
        Some(job)
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

    /// Store a new job (which holds a reference to its unit of work), stopping the run when more
    /// requests are in flight than the model allows.
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
    fn unstable_verdict(&self, now: Nanos) -> String {
        let mut longest: (u32, String) = (0, String::new());
        for (s, state) in self.services.iter().enumerate() {
            let waiting: u32 = state.instances.iter().map(|i| i.workers.waiting()).sum();
            if waiting > longest.0 {
                longest = (waiting, format!("service {}", self.model.services[s].name));
            }
        }
        for (d, state) in self.databases.iter().enumerate() {
            let waiting = state.lanes.iter().map(Resource::waiting).sum::<u32>();
            if waiting > longest.0 {
                longest = (waiting, format!("database {}", self.model.databases[d].name));
            }
        }
        for (p, state) in self.pools.iter().enumerate() {
            if state.connections.waiting() > longest.0 {
                longest = (state.connections.waiting(), format!("pool {}", self.model.pools[p].name));
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

/// Schedule an event that crosses a link: a constant latency is the same for every crossing, so
/// the event can go to the queue's fixed-delay lane. (Zero delays stay in the heap: an event due
/// now sifts straight to the top, cheaper than checking lanes on every pop.)
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
            Event::Reply { to, attempt, outcome } => self.on_reply(to, attempt, outcome, queue),
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
            Event::QueueTimeout { job, ticket } => self.on_queue_timeout(job, ticket, queue),
            Event::Instance { service, instance, what } => self.on_instance_event(service, instance, what, queue),
            Event::Rollout { action, what } => self.on_rollout_event(action, what, queue),
        }
        self.stop.take()
    }
}
