//! The JSON model format as written by people: serde types, checked field by field while parsing.
//!
//! These `*Spec` types only describe the file. [`super::validate`] turns them into a resolved
//! [`super::Model`] with typed ids, where every name refers to something that exists.

use super::values::{DistValue, DurationValue, Factor, NonNegativeInt, PositiveInt, RateValue};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A whole model: the system, how long to simulate it and what must hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short name of the model, used in titles.
    pub name: Option<String>,
    /// What the model represents and where its numbers come from.
    pub description: Option<String>,
    /// Simulated time per replication (default "1h").
    pub duration: Option<DurationValue>,
    /// Initial period excluded from statistics (default: 5 % of the duration).
    pub warmup: Option<DurationValue>,
    /// Independent replications, run in parallel (default 5).
    pub replications: Option<PositiveInt>,
    /// Seed of every random stream (default 1).
    pub seed: Option<u64>,
    /// Width of the time-series windows (default: the duration after warm-up split in 60).
    pub window: Option<DurationValue>,
    /// Bounds that stop a run which would otherwise exhaust the machine.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Traffic sources, by name.
    #[serde(default)]
    pub clients: IndexMap<String, ClientSpec>,
    /// Services with worker pools, queues and endpoints, by name.
    #[serde(default)]
    pub services: IndexMap<String, ServiceSpec>,
    /// Databases, by name.
    #[serde(default)]
    pub databases: IndexMap<String, DatabaseSpec>,
    /// Connection pools in front of databases (pgBouncer in transaction mode), by name.
    #[serde(default)]
    pub pools: IndexMap<String, PoolSpec>,
    /// Network latency between components: keys "a -> b" (either direction) or "default".
    #[serde(default)]
    pub links: IndexMap<String, LinkSpec>,
    /// Service level objectives by "service.endpoint" or client name.
    #[serde(default)]
    pub slos: IndexMap<String, SloSpec>,
    /// Changes at given simulated times, in every run of this model (scenarios can add more).
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// Named what-if scenarios: changes to this model, compared with it by `capsim run --scenario`.
    #[serde(default)]
    pub scenarios: IndexMap<String, ScenarioSpec>,
    /// Claims about the results that must hold, checked by `capsim check`.
    #[serde(default)]
    pub expect: Vec<crate::analysis::expect::ExpectSpec>,
    /// Named sweeps, run by `capsim sweep --sweep NAME` (the first one by default).
    #[serde(default)]
    pub sweeps: IndexMap<String, SweepSpec>,
}

/// A sweep: parameters by path, each over values; every combination is run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// What the sweep explores.
    pub description: Option<String>,
    /// Path → values: a list, or a range like "0ms..10ms/1ms" or "0.5..1.5/0.25".
    pub params: IndexMap<String, serde_json::Value>,
    /// The metric whose knee is sought (default: the first client's p99).
    pub metric: Option<String>,
    /// How far above its low-load trend the metric must be to make a knee (default "10%").
    pub threshold: Option<String>,
    /// A scenario to sweep on top of (default: the baseline).
    pub scenario: Option<String>,
}

/// A what-if scenario: changes applied to the model by path.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// What the scenario represents.
    pub description: Option<String>,
    /// Changes by path: `"links.api -> pg.latency.add": "10ms"`, `"clients.web.open.rate.scale": 1.5`,
    /// `"pools.pgbouncer.size": 40` (a path without `.add`/`.scale` sets the value).
    #[serde(default)]
    pub set: IndexMap<String, serde_json::Value>,
    /// Timed actions added to the model's own.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
}

/// A change at a simulated time: exactly one of `add_latency`, `scale_traffic`, `inject`, `down`,
/// `crash`, `crash_loop`, `rollout`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// When the change starts (simulated time since the start of the run).
    pub at: DurationValue,
    /// How long it lasts before it is undone (it stays when absent).
    #[serde(rename = "for")]
    pub lasts: Option<DurationValue>,
    /// Add latency to every round trip over a link.
    pub add_latency: Option<AddLatencySpec>,
    /// Multiply an open client's arrival rate.
    pub scale_traffic: Option<ScaleTrafficSpec>,
    /// Send queries to a database from outside the modelled services (an expensive ad-hoc query).
    pub inject: Option<InjectSpec>,
    /// Take a service down: every request to it is refused.
    pub down: Option<DownSpec>,
    /// Crash instances of a service: they restart after a while, and what they were doing is lost.
    pub crash: Option<CrashSpec>,
    /// Instances crash again and again (a bug): each restart takes time, during which their
    /// capacity is missing. With `for`, the bug is fixed after that long.
    pub crash_loop: Option<CrashLoopSpec>,
    /// Roll a change out to a service's instances: everywhere at once, or to a canary first, with
    /// an optional automatic rollback. With `for`, people revert it by hand after that long.
    pub rollout: Option<RolloutSpec>,
}

/// Instances that crash repeatedly and take a while to restart each time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrashLoopSpec {
    /// The service.
    pub service: String,
    /// How many of its instances are affected, the first ones (default: all).
    pub instances: Option<PositiveInt>,
    /// Time an instance runs between its restart and its next crash, e.g. "exp(2m)".
    pub uptime: Option<DistValue>,
    /// Probability that a request crashes its instance when its CPU work starts (a poison request), from 0 to 1.
    pub per_request: Option<Factor>,
    /// Time an instance takes to come back after a crash, e.g. "30s".
    pub restart: DistValue,
    /// Each consecutive crash multiplies the restart time by this (crash-loop backoff; default 1: none).
    /// An instance that stays up for `max_restart` starts again from `restart`.
    pub backoff: Option<Factor>,
    /// Longest restart time with backoff (default "5m").
    pub max_restart: Option<DurationValue>,
    /// When true, the affected instances crash and restart together: one shared cause (a config
    /// push, a shared dependency) instead of independent failures.
    pub together: Option<bool>,
}

/// A change rolled out to a service's instances.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutSpec {
    /// The service.
    pub service: String,
    /// The change: every CPU step on a changed instance costs this many times more (a regex that
    /// backtracks, a slow code path), e.g. 20.
    pub cpu_factor: Factor,
    /// Share of the instances changed first, from 0 to 1 (at least one instance); when absent the
    /// change goes to every instance at once.
    pub canary: Option<Factor>,
    /// How long the canary runs before the change goes to every instance (default: it stays on the canary).
    pub bake: Option<DurationValue>,
    /// Undo the change everywhere when the changed instances look unhealthy.
    pub rollback: Option<RollbackSpec>,
}

/// An automatic rollback rule, evaluated on the requests that finished on changed instances.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackSpec {
    /// Fire when more than this share of their requests failed over a window, from 0 to 1.
    pub error_rate: Option<Factor>,
    /// Fire when the 99th percentile latency of their successful requests over a window is above this.
    pub p99: Option<DurationValue>,
    /// Width of the windows the rule looks at, from the start of the rollout (default "1m").
    pub window: Option<DurationValue>,
    /// Time from the rule firing to the change being undone everywhere (default "0s").
    pub reaction: Option<DurationValue>,
}

/// Instances that crash and restart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrashSpec {
    /// The service.
    pub service: String,
    /// How many of its instances crash (default: all).
    pub instances: Option<PositiveInt>,
    /// How long an instance takes to come back.
    pub restart: DurationValue,
}

/// Added latency on a link.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLatencySpec {
    /// The link, "a -> b" (either direction).
    pub link: String,
    /// Added round-trip time.
    pub latency: DurationValue,
}

/// A change of traffic.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleTrafficSpec {
    /// The open client.
    pub client: String,
    /// The multiplier of its rate.
    pub factor: Factor,
}

/// Queries injected into a database.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InjectSpec {
    /// The database.
    pub database: String,
    /// How many queries, all sent at once (default 1).
    pub queries: Option<PositiveInt>,
    /// Core time of each query before the data-size factor, e.g. "5m".
    pub cost: DistValue,
}

/// A service taken down.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownSpec {
    /// The service.
    pub service: String,
}

/// Bounds on one replication.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Most events one replication may handle (default 2e9).
    pub max_events: Option<u64>,
    /// Most requests in flight at once before the run is declared unstable (default 1,000,000).
    pub max_in_flight: Option<PositiveInt>,
}

/// A traffic source: exactly one of `open` or `closed`, and the endpoint it calls.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Open arrivals: requests arrive at a rate whatever the system does (Poisson).
    pub open: Option<OpenSpec>,
    /// Closed loop: N users, each waiting for its response, then thinking, then sending again.
    pub closed: Option<ClosedSpec>,
    /// The endpoint called, as "service.endpoint".
    pub calls: String,
    /// How long the client waits for one attempt before giving up.
    pub timeout: Option<DurationValue>,
    /// Retries of failed or timed-out attempts.
    pub retry: Option<RetrySpec>,
    /// The request class of its requests, inherited by every call they lead to: a service queue
    /// with `classes` gives each class its own line, served in priority order.
    pub class: Option<String>,
    /// Clients of the same group are also reported together (throughput, goodput, error rate):
    /// e.g. every tenant of a design with cells, for the overall impact of a failure in one cell.
    pub group: Option<String>,
}

/// Open (Poisson) arrivals.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenSpec {
    /// Mean arrival rate (multiplied by the profile's factor at each moment).
    pub rate: RateValue,
    /// How the rate varies over the run; constant when absent.
    pub profile: Option<ProfileSpec>,
}

/// A time-varying traffic factor, piecewise over the run (e.g. lunch and dinner peaks).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Points (time since the start, or since the start of each period, and factor), in time order.
    pub points: Vec<ProfilePointSpec>,
    /// "step": the factor holds until the next point; "linear" (default): interpolated between points.
    pub shape: Option<ProfileShape>,
    /// Repeat the profile with this period (e.g. "24h"); when absent the last factor holds to the end.
    pub period: Option<DurationValue>,
}

/// One point of a traffic profile.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePointSpec {
    /// When the point applies.
    pub at: DurationValue,
    /// The multiplier of the base rate from then on.
    pub factor: Factor,
}

/// How a profile moves between its points.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProfileShape {
    /// The factor holds until the next point.
    Step,
    /// The factor changes linearly from one point to the next.
    Linear,
}

/// Closed-loop users.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedSpec {
    /// Number of users, each with at most one request outstanding.
    pub users: PositiveInt,
    /// Pause between a response and the next request (default 0).
    pub think: Option<DistValue>,
    /// Requests each user sends strictly one after another, then stops (default: no end).
    pub requests: Option<PositiveInt>,
    /// When the users start (default 0).
    pub start: Option<DurationValue>,
    /// Time after the start by which each user's requests should be done.
    pub deadline: Option<DurationValue>,
}

/// Retry policy for one call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Total attempts, the first included (default 3).
    pub attempts: Option<PositiveInt>,
    /// Wait before the first retry (default "100ms").
    pub backoff: Option<DurationValue>,
    /// Growth of the wait at each further retry (default 2).
    pub multiplier: Option<Factor>,
    /// Longest wait between attempts (default "10s").
    pub max_backoff: Option<DurationValue>,
    /// Randomisation of the wait (default "full").
    pub jitter: Option<JitterSpec>,
}

/// How a backoff wait is randomised.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JitterSpec {
    /// Exactly the computed wait.
    None,
    /// Uniform between 0 and the computed wait.
    Full,
    /// Half the computed wait plus a uniform share of the other half.
    Equal,
}

/// A service: instances, each with its own workers and queue, serving endpoints.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Identical instances behind a balancer (default 1).
    pub instances: Option<PositiveInt>,
    /// Workers (threads) per instance (default 1).
    pub workers: Option<PositiveInt>,
    /// Queue of requests waiting for a worker, per instance (default: unbounded FIFO).
    pub queue: Option<QueueSpec>,
    /// How requests are spread over instances (default "round_robin").
    pub balancer: Option<BalancerSpec>,
    /// Periodic health checks: the balancer learns that an instance is down or back only at its
    /// next check (without them it knows at once).
    pub health_check: Option<HealthCheckSpec>,
    /// A retry goes to another instance than the one that refused or failed the previous attempt
    /// (default false).
    pub retry_other_instance: Option<bool>,
    /// When present, the service is asynchronous: only CPU steps hold a worker.
    #[serde(rename = "async")]
    pub asynchronous: Option<AsyncSpec>,
    /// Endpoints by name, each a list of steps run in order.
    pub endpoints: IndexMap<String, Vec<StepSpec>>,
}

/// A waiting line in front of a group of workers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Most requests waiting; a request arriving to a full queue is rejected (default: unbounded).
    pub capacity: Option<NonNegativeInt>,
    /// Which waiting request a free worker takes (default "fifo").
    pub discipline: Option<DisciplineSpec>,
    /// With "adaptive_lifo": the newest request goes first once the line has not been empty for
    /// this long (default "100ms").
    pub lifo_after: Option<DurationValue>,
    /// A request that waits longer than this for a worker is shed (rejected), e.g. "50ms".
    pub max_wait: Option<DurationValue>,
    /// Lines of their own for request classes, highest priority first: a free worker serves the
    /// first line with a request waiting. Requests of other classes, or of none, wait in the
    /// queue's own line (`capacity`, `discipline`, `max_wait` above), served last.
    pub classes: Option<Vec<ClassLineSpec>>,
}

/// The line of one request class in a service's queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassLineSpec {
    /// The class, as named by clients' `class`.
    pub class: String,
    /// Most requests of the class waiting; more are rejected (default: unbounded).
    pub capacity: Option<NonNegativeInt>,
    /// Which waiting request of the class a free worker takes (default "fifo").
    pub discipline: Option<DisciplineSpec>,
    /// With "adaptive_lifo": newest first once the line has not been empty for this long (default "100ms").
    pub lifo_after: Option<DurationValue>,
    /// A request of the class that waits longer than this for a worker is shed (rejected).
    pub max_wait: Option<DurationValue>,
}

/// Queue discipline.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DisciplineSpec {
    /// First in, first out.
    Fifo,
    /// Last in, first out (the newest request first).
    Lifo,
    /// First in, first out while the line empties now and then; last in, first out once it has
    /// not been empty for `lifo_after` (under overload the freshest requests, whose callers are
    /// still waiting, are served first).
    AdaptiveLifo,
}

/// Load balancing over a service's instances.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BalancerSpec {
    /// Each instance in turn.
    RoundRobin,
    /// An instance drawn uniformly at random.
    Random,
    /// The instance with the fewest requests in flight (ties: the lowest index).
    LeastOutstanding,
    /// Of two instances drawn at random, the one with fewer requests in flight.
    PowerOfTwo,
}

/// Health checks of a service's instances.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    /// Time between two checks: a crashed instance keeps getting (and refusing) requests until
    /// the next check, and a restarted one gets none until the next check.
    pub interval: DurationValue,
}

/// Settings of an asynchronous (event-loop) service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncSpec {
    /// Most requests in flight per instance; more are rejected.
    pub max_in_flight: PositiveInt,
}

/// One step of an endpoint: exactly one of `cpu`, `delay`, `call`, `transaction`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// CPU work: holds a worker for a duration drawn from this distribution.
    pub cpu: Option<DistValue>,
    /// A wait that uses no CPU (e.g. a third-party API): holds the worker only in a synchronous service.
    pub delay: Option<DistValue>,
    /// A synchronous call to "service.endpoint".
    pub call: Option<String>,
    /// With `call`: how long to wait for one attempt.
    pub timeout: Option<DurationValue>,
    /// With `call`: retries of failed or timed-out attempts.
    pub retry: Option<RetrySpec>,
    /// Database work holding one connection for all its queries.
    pub transaction: Option<TransactionSpec>,
}

/// Database work: queries in sequence over one connection, network round trips included.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionSpec {
    /// The connection pool to take the connection from.
    pub pool: Option<String>,
    /// Or a database to connect to directly (one connection for the step).
    pub database: Option<String>,
    /// Queries run one after another (default 1).
    pub queries: Option<PositiveInt>,
    /// Database time of one query before the data-size factor.
    pub query: DistValue,
}

/// A database: cores serving queries, and a connection limit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// Queries processed at once (default 1).
    pub cores: Option<PositiveInt>,
    /// Most open connections (default 100).
    pub max_connections: Option<PositiveInt>,
    /// Multiplies every query's cost: the size of the data relative to when costs were measured (default 1).
    pub data_factor: Option<Factor>,
    /// Slowdown as more queries are active at once (Universal Scalability Law).
    pub contention: Option<ContentionSpec>,
}

/// The Universal Scalability Law: with n queries active at the database, each query's cost is
/// multiplied by 1 + sigma·(n − 1) + kappa·n·(n − 1), so throughput n / (1 + sigma·(n−1) + kappa·n·(n−1))
/// peaks and then falls as concurrency grows.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentionSpec {
    /// Contention (serialisation on shared resources: locks, latches), e.g. 0.02.
    pub sigma: Factor,
    /// Coherency (crosstalk between active queries: cache-line and buffer invalidation), e.g. 0.0005.
    pub kappa: Option<Factor>,
}

/// A connection pool (pgBouncer in transaction mode).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// The database the pool's connections go to.
    pub database: String,
    /// Connections to the database.
    pub size: PositiveInt,
    /// How long a transaction waits for a connection before failing (default: forever).
    pub acquire_timeout: Option<DurationValue>,
}

/// Network latency between two components.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Round-trip time of one request and its response: half is spent each way.
    pub latency: DistValue,
}

/// What must hold for an endpoint ("service.endpoint") or a client: latency percentiles and error rate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// Median latency at most this.
    pub p50: Option<DurationValue>,
    /// 90th percentile latency at most this.
    pub p90: Option<DurationValue>,
    /// 99th percentile latency at most this.
    pub p99: Option<DurationValue>,
    /// 99.9th percentile latency at most this.
    pub p999: Option<DurationValue>,
    /// Share of requests that fail (timeout, rejected, error) at most this, from 0 to 1.
    pub error_rate: Option<Factor>,
}
