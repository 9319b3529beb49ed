//! The JSON model format as written by people: serde types, checked field by field while parsing.
//!
//! These `*Spec` types only describe the file. [`super::validate`] turns them into a resolved
//! [`super::Model`] with typed ids, where every name refers to something that exists.

use super::values::{ByteSize, DistValue, DurationValue, Factor, NonNegativeInt, PopularityValue, PositiveInt, RateValue};
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
    /// Message queues (SQS-like) with their producers and consumer, by name.
    #[serde(default)]
    pub queues: IndexMap<String, MessageQueueSpec>,
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
    pub expect: Vec<ExpectSpec>,
    /// Named sweeps, run by `capsim sweep --sweep NAME` (the first one by default).
    #[serde(default)]
    pub sweeps: IndexMap<String, SweepSpec>,
    /// Whether the system returns to its baseline after a trigger (bursts, timed actions).
    pub metastability: Option<MetastabilitySpec>,
    /// What `capsim size` sizes: capacity knobs with their ranges and unit costs, and the
    /// scenarios the answer must survive besides the baseline.
    pub sizing: Option<SizingSpec>,
    /// The traces the model is calibrated against: `capsim calibrate` and the `calibration.*`
    /// claims of `capsim check` replay the model at their rates and compare.
    pub calibration: Option<CalibrationSpec>,
}

/// Traces from production a model is compared with (see `capsim calibrate`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalibrationSpec {
    /// Trace files (OTLP JSON, .gz too, Zipkin v2 or Jaeger JSON), relative to the model's directory.
    pub traces: Vec<String>,
    /// The share of traces recorded (head sampling), above 0 and at most 1 (default 1).
    pub sampling_rate: Option<Factor>,
    /// Replications of the replay (default 20).
    pub replications: Option<PositiveInt>,
}

/// Capacity knobs to size and what their answer must survive (see `capsim size`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizingSpec {
    /// What the sizing decides.
    pub description: Option<String>,
    /// The currency costs are written in ("USD", "EUR"); only shown.
    pub currency: Option<String>,
    /// Model path → its values and the cost of one unit: `"services.api.instances":
    /// { "values": "1..40", "cost_per_hour": 0.17 }`. More of a knob must mean more capacity.
    pub knobs: IndexMap<String, KnobSpec>,
    /// Scenarios the answer must also meet every SLO under, besides the baseline.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// Replications a candidate is first judged with (default: 5, or the model's when fewer).
    pub screen_replications: Option<PositiveInt>,
    /// Most replications for a verdict the confidence interval leaves uncertain when confirming
    /// the answer (default: 4 × the model's).
    pub max_replications: Option<PositiveInt>,
}

/// One capacity knob: the values it may take and what one unit costs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnobSpec {
    /// Increasing values: a list (`[4, 8, 16, 32]`) or a range (`"1..40"`, `"5..200/5"`).
    pub values: serde_json::Value,
    /// Cost of one unit per hour (an instance, a core, a connection), in the sizing's currency
    /// (default 0: free, sized only to meet the SLOs).
    pub cost_per_hour: Option<Factor>,
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
/// `crash`, `crash_loop`, `rollout`, `flush`.
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
    /// Empty a cache with a key space: every entry is dropped at once (the look-ups after it miss
    /// until their keys are filled again: a stampede on the backend).
    pub flush: Option<FlushSpec>,
}

/// A cache emptied at once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlushSpec {
    /// The cache's `name`.
    pub cache: String,
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
    /// Send the queries again at this interval, while the action lasts (its `for`) or to the end
    /// of the run (default: once).
    pub every: Option<DurationValue>,
    /// The database resource group whose cores run the queries (default: the shared cores).
    pub group: Option<String>,
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
    /// Most requests in flight at once before the run is declared unstable (default 100,000 plus
    /// the closed-loop users).
    pub max_in_flight: Option<PositiveInt>,
    /// Most memory a run may need, by the estimate made before it starts (default "2GB"); a run
    /// that would need more is refused, naming what to change.
    pub max_memory: Option<ByteSize>,
}

/// A traffic source: exactly one of `open` or `closed`, and the endpoint it calls.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Open arrivals: requests arrive at a rate whatever the system does (Poisson).
    pub open: Option<OpenSpec>,
    /// Closed loop: N users, each waiting for its response, then thinking, then sending again.
    pub closed: Option<ClosedSpec>,
    /// A load test: synthetic traffic that follows a real open client's rate and profile.
    pub load_test: Option<LoadTestSpec>,
    /// Its requests are synthetic (a load test): reported apart from real users and left out of
    /// the traffic share of the blast radius (default false; true for `load_test`).
    pub synthetic: Option<bool>,
    /// The endpoint called, as "service.endpoint".
    pub calls: String,
    /// How long the client waits for one attempt before giving up.
    pub timeout: Option<DurationValue>,
    /// Retries of failed or timed-out attempts.
    pub retry: Option<RetrySpec>,
    /// Client-side adaptive throttling of the calls.
    pub throttle: Option<ThrottleSpec>,
    /// A circuit breaker in front of the calls.
    pub breaker: Option<BreakerSpec>,
    /// A token bucket on the client's own sending: an attempt over the rate fails at once as
    /// `rate_limited` (a 429 the client gives itself).
    pub rate_limit: Option<RateLimitSpec>,
    /// A cap on the client's attempts in flight at once; more wait in a line or are rejected.
    pub bulkhead: Option<BulkheadSpec>,
    /// Hedged requests: a second copy of an attempt still unanswered after a delay; the first
    /// answer wins and the other copy is left to its service's `on_caller_gone`.
    pub hedge: Option<HedgeSpec>,
    /// The request class of its requests, inherited by every call they lead to: a service queue
    /// with `classes` gives each class its own line, served in priority order.
    pub class: Option<String>,
    /// Clients of the same group are also reported together (throughput, goodput, error rate):
    /// e.g. every tenant of a design with cells, for the overall impact of a failure in one cell.
    pub group: Option<String>,
}

/// A load test run in production: synthetic requests on top of a real client's traffic.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadTestSpec {
    /// The real (open) client whose rate and profile the test follows.
    pub of: String,
    /// The traffic with the test is this multiple of the real traffic at every moment (1.5: the
    /// test adds half the real rate, bringing the dinner peak to 150 %); at least 1.
    pub scale: Factor,
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
    #[serde(default)]
    pub points: Vec<ProfilePointSpec>,
    /// Or a named daily shape (period 24h, factors relative to the day's peak): "lunch_and_dinner",
    /// "office_hours", "evening" or "flat".
    pub daily: Option<DailyShape>,
    /// With a period: the time within the period at the start of the run, e.g. "17h" to start a
    /// daily profile at 17:00 (default 0).
    pub clock: Option<DurationValue>,
    /// "step": the factor holds until the next point; "linear" (default): interpolated between points.
    pub shape: Option<ProfileShape>,
    /// Repeat the profile with this period (e.g. "24h"); when absent the last factor holds to the end.
    pub period: Option<DurationValue>,
}

/// A named daily traffic shape: factors relative to the day's peak, linear between hours.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DailyShape {
    /// Food delivery: a lunch peak (0.55 at 12:30) and the dinner peak (1.0 at 19:00).
    LunchAndDinner,
    /// Office work: 1.0 from 09:00 to 17:00, quiet at night.
    OfficeHours,
    /// Streaming and leisure: rising through the day to 1.0 at 21:00.
    Evening,
    /// The same all day (1.0).
    Flat,
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
    /// Retries allowed as a share of requests (as in gRPC and Finagle); unlimited when absent.
    pub budget: Option<BudgetSpec>,
    /// Which failed attempts are retried (default all four: `["timeout", "rejected", "error",
    /// "rate_limited"]`).
    pub retry_on: Option<Vec<RetryOnSpec>>,
}

/// A kind of failed attempt a retry policy may retry.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryOnSpec {
    /// The caller stopped waiting for the attempt (its timeout).
    Timeout,
    /// The attempt was refused: a full queue, a service down or in no rotation, a throttle or an
    /// open breaker of the caller's own.
    Rejected,
    /// The attempt failed along the way: a downstream call failed, no connection could be had.
    Error,
    /// The attempt was over a rate limit (HTTP 429): the service's, the caller's or the client's
    /// own token bucket. Retried only when listed (or when `retry_on` is left out).
    RateLimited,
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
    /// Uniform between the base backoff and three times the previous wait, capped
    /// (`min(max_backoff, uniform(backoff, 3 × previous))`); the multiplier is not used.
    Decorrelated,
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
    /// CPU cores per instance, apart from its workers (16 Puma threads on 4 vCPUs): CPU steps
    /// share the cores while delays and waits on calls, queries and workers use none (default:
    /// a core per worker, no sharing).
    pub cores: Option<PositiveInt>,
    /// How CPU steps share the cores (default "ps"): "ps" (processor sharing: with n steps on c
    /// cores each runs at min(1, c/n) speed) or "fifo" (a step waits for a free core, then runs
    /// at full speed).
    pub cpu_sharing: Option<CpuSharingSpec>,
    /// When present, the service is asynchronous: only CPU steps hold a worker.
    #[serde(rename = "async")]
    pub asynchronous: Option<AsyncSpec>,
    /// What a request does when its caller stops waiting (default "finish").
    pub on_caller_gone: Option<CallerGoneSpec>,
    /// Checks that skip work already being done or already done for the same unit of work.
    pub idempotency: Option<IdempotencySpec>,
    /// Instances added and removed as a metric moves (target tracking or step scaling);
    /// `instances` is then the count at the start.
    pub autoscaling: Option<AutoscalingSpec>,
    /// A token bucket in front of the whole service (an API gateway's limit, shared by its
    /// instances and endpoints): a request over the rate is answered 429 (`rate_limited`) at once.
    pub rate_limit: Option<RateLimitSpec>,
    /// Token buckets in front of single endpoints, by endpoint name (checked after the service's
    /// own `rate_limit`): a request to the endpoint over its rate is answered 429 at once.
    pub endpoint_rate_limits: Option<IndexMap<String, RateLimitSpec>>,
    /// Endpoints by name, each a list of steps run in order.
    pub endpoints: IndexMap<String, Vec<StepSpec>>,
}

/// How CPU steps share an instance's cores.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CpuSharingSpec {
    /// Processor sharing: every step in progress runs, at min(1, cores / steps) speed.
    Ps,
    /// First in, first out: a step waits for a free core, then runs at full speed.
    Fifo,
}

/// An autoscaler: every `period` it averages its metric per instance in service over the last
/// `periods` periods and launches or retires instances, between `min` and `max`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Fewest instances (in service or being provisioned).
    pub min: PositiveInt,
    /// Most instances (in service or being provisioned).
    pub max: PositiveInt,
    /// What is measured per instance in service: "cpu" (the share of its workers' time spent in
    /// CPU steps), "in_flight" (requests admitted and not finished), "queue" (requests waiting
    /// for a worker) or "backlog" (visible messages of `queue`, a queue this service consumes).
    pub metric: AutoscaleMetricSpec,
    /// With metric "backlog": the message queue.
    pub queue: Option<String>,
    /// Target tracking: the metric's value per instance to keep (e.g. 0.6 for "cpu"). The
    /// autoscaler wants ceil(instances × metric / target) instances.
    pub target: Option<Factor>,
    /// Step scaling instead of a target: instances added when the metric is above a threshold
    /// or removed when it is below one, e.g. `[{"above": 0.8, "add": 2}, {"above": 0.6, "add":
    /// 1}, {"below": 0.3, "add": -1}]`. The furthest threshold crossed applies; after a change
    /// (and after each launch comes into service) `periods` whole periods are measured again
    /// before the next decision.
    pub steps: Option<Vec<ScalingStepSpec>>,
    /// Length of one metric period (default "1m").
    pub period: Option<DurationValue>,
    /// Periods averaged for a decision (default 3).
    pub periods: Option<PositiveInt>,
    /// Target tracking scales in only while the metric is below this share of the target
    /// (default 0.9), so a steady load does not flap.
    pub scale_in_below: Option<Factor>,
    /// Least time between a scale-out and the next one (default "60s").
    pub scale_out_cooldown: Option<DurationValue>,
    /// Least time between any scaling and a scale-in (default "300s").
    pub scale_in_cooldown: Option<DurationValue>,
    /// Time from a launch to the instance taking requests (default "60s"; a distribution draws
    /// each launch's).
    pub provisioning: Option<DistValue>,
    /// A new instance's first moments: its CPU steps take longer (a cold JIT, empty local caches).
    pub warm_up: Option<WarmUpSpec>,
    /// Price of one instance-hour (default: the `cost_per_hour` of a sizing knob on this
    /// service's instances, if the model has one).
    pub cost_per_hour: Option<Factor>,
}

/// The metric an autoscaler tracks.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AutoscaleMetricSpec {
    /// The share of workers' time spent in CPU steps, per instance.
    Cpu,
    /// Requests admitted and not finished, per instance (sampled every second).
    InFlight,
    /// Requests waiting for a worker, per instance (sampled every second).
    Queue,
    /// Visible messages of a queue per instance of its consuming service (sampled every second).
    Backlog,
}

/// One step of step scaling: a threshold crossed and the instances it adds (or removes).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingStepSpec {
    /// Applies when the metric is above this.
    pub above: Option<f64>,
    /// Applies when the metric is below this.
    pub below: Option<f64>,
    /// Instances added (negative: removed).
    pub add: i32,
}

/// How a newly provisioned instance starts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarmUpSpec {
    /// How long the warm-up lasts after the instance takes requests.
    #[serde(rename = "for")]
    pub lasts: DurationValue,
    /// Multiplier of its CPU steps' time meanwhile (e.g. 3).
    pub cpu_factor: Factor,
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

/// One step of an endpoint: exactly one of `cpu`, `delay`, `call`, `transaction`, `publish`,
/// optionally with the side `effect` it has.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// CPU work: holds a worker for a duration drawn from this distribution.
    pub cpu: Option<DistValue>,
    /// A wait that uses no CPU (e.g. a third-party API): holds the worker only in a synchronous
    /// service. With `publish`: each message becomes visible to the queue's consumer only this
    /// long after it is sent (SQS DelaySeconds); the request does not wait.
    pub delay: Option<DistValue>,
    /// A synchronous call to "service.endpoint".
    pub call: Option<String>,
    /// With `call`: how long to wait for one attempt.
    pub timeout: Option<DurationValue>,
    /// With `call`: retries of failed or timed-out attempts.
    pub retry: Option<RetrySpec>,
    /// With `call`: client-side adaptive throttling.
    pub throttle: Option<ThrottleSpec>,
    /// With `call`: a circuit breaker in front of the call.
    pub breaker: Option<BreakerSpec>,
    /// With `call`: a token bucket on this call site's attempts; one over the rate fails at once
    /// as `rate_limited`.
    pub rate_limit: Option<RateLimitSpec>,
    /// With `call`: a cap on this call's attempts in flight at once from each instance of the
    /// service; more wait in a line (when it has one) or are rejected at once.
    pub bulkhead: Option<BulkheadSpec>,
    /// With `call`: hedged requests — a second copy of an attempt still unanswered after a
    /// delay; the first answer wins, the other copy is left to its service's `on_caller_gone`.
    pub hedge: Option<HedgeSpec>,
    /// A side effect (e.g. "email") that happens when this step completes; counted per unit of work.
    pub effect: Option<String>,
    /// Database work holding one connection for all its queries.
    pub transaction: Option<TransactionSpec>,
    /// Send messages to a queue (a name under `queues`) and go on at once: the queue's load
    /// follows the traffic that publishes.
    pub publish: Option<String>,
    /// With `publish`: messages sent per request that runs the step (default 1).
    pub messages: Option<PositiveInt>,
    /// With `call` or `transaction`: a cache in front of it; hits skip the call or transaction.
    pub cache: Option<CacheSpec>,
    /// The share of requests that run this step, above 0 and at most 1 (default 1); the others
    /// skip it (a call made only for some requests, a query only on some paths).
    pub share: Option<Factor>,
}

/// A cache in front of a call or a transaction: exactly one of `hit_ratio` (a fixed share of
/// hits) or `keys` (a key space whose hit ratio emerges: look-ups draw keys by popularity, a
/// miss fills its key when the backend answers, entries leave by LRU eviction, expiry or a flush).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// Share of requests answered by the cache, from 0 to 1; the others fall through (misses).
    pub hit_ratio: Option<Factor>,
    /// Or the number of keys the step's look-ups are spread over (at most 10,000,000): the cache
    /// starts empty and a miss fills its key when the backend step succeeds.
    pub keys: Option<PositiveInt>,
    /// With `keys`: how look-ups pick keys, "uniform" (default) or "zipf(s)" (key i, counted
    /// from 1, is looked up in proportion to 1/i^s; s at least 0, e.g. "zipf(0.8)").
    pub popularity: Option<PopularityValue>,
    /// With `keys`: most keys held at once; filling one more evicts the least recently used
    /// (default: unbounded, every key fits).
    pub capacity: Option<PositiveInt>,
    /// With `keys`: how long an entry stays after it was filled; a look-up after that is a miss
    /// (default: entries never expire).
    pub ttl: Option<DurationValue>,
    /// With `keys`: concurrent misses of one key wait for the first miss's backend answer instead
    /// of all going to the backend (request coalescing, default false).
    pub coalesce: Option<bool>,
    /// With `keys`: start full with the most popular keys (as many as fit), filled at time 0,
    /// instead of empty (default false: a cold start).
    pub warm: Option<bool>,
    /// With `keys`: a name, so a `flush` action can empty the cache and so steps whose caches
    /// have the same name share its contents (they must declare the same key space: `keys`,
    /// `popularity`, `capacity`, `ttl`, `coalesce`, `warm`).
    pub name: Option<String>,
    /// Time of a hit (default "0.5ms").
    pub hit: Option<DistValue>,
    /// When a miss fails (the call fails or times out, no database connection can be had), answer
    /// from the stale copy instead of failing (default false).
    pub serve_stale: Option<bool>,
    /// With `serve_stale`: answer from the stale copy when the backend has not answered a miss
    /// within this time (its work goes on, unwaited for).
    pub timeout: Option<DurationValue>,
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
    /// Rows each finished transaction adds to the database's data (they stay: nobody cleans them
    /// up), so query costs grow as the run goes on; needs the database's `data.rows`.
    pub writes: Option<Factor>,
    /// The database resource group whose cores run its queries (default: the shared cores).
    pub group: Option<String>,
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
    /// How query cost grows with the size of the data, and how many rows the measured costs saw.
    pub data: Option<DataSpec>,
    /// Cores set apart for some queries (a resource group, a lane): queries of a group run only on
    /// its cores, the others only on the rest.
    #[serde(default)]
    pub resource_groups: IndexMap<String, ResourceGroupSpec>,
}

/// The data behind a database's query costs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// Rows when the query costs were measured (`data_factor` 1); needed for `n_log_n` and for
    /// transactions that write.
    pub rows: Option<Factor>,
    /// Cost multiplier as a function of the data size s (relative to measurement): "linear"
    /// (default, s), "n_log_n" (s·ln(s·rows)/ln(rows)) or a table [[s, multiplier], …]
    /// interpolated linearly (the nearest point's multiplier outside it).
    pub cost: Option<CostScalingSpec>,
}

/// How query cost grows with the data size.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum CostScalingSpec {
    /// "linear" or "n_log_n".
    Named(CostScalingName),
    /// Points [data size, cost multiplier] in increasing size.
    Table(Vec<[Factor; 2]>),
}

/// A named cost growth.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CostScalingName {
    /// Cost proportional to the data size (a scan).
    Linear,
    /// Cost proportional to n·log n (a sort, or a scan with index look-ups).
    NLogN,
}

/// Cores reserved for one group of queries.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupSpec {
    /// Cores of the database reserved for the group (taken from the shared ones).
    pub cores: PositiveInt,
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

/// One expectation as written in the model's `expect` list.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// The claim, `METRIC OP BOUND` with OP one of <, <=, >, >=: "api.checkout.p99 < 300ms",
    /// "shoppers.error_rate <= 1%", "api.utilisation < 0.7", "backoffice.makespan < 15m".
    pub that: String,
    /// The scenario the claim is about ("a,b" applies a then b); the model as written when absent.
    pub scenario: Option<String>,
    /// Why the claim matters, for people reading the model.
    pub description: Option<String>,
}

/// What must hold for an endpoint ("service.endpoint") or a client: mean latency, latency
/// percentiles and error rate; for a service (keyed by its name): the share of requests that
/// wait for a worker.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// Mean latency of successful requests at most this.
    pub mean: Option<DurationValue>,
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
    /// A service's SLO: share of its requests that wait for a worker at most this, from 0 to 1.
    pub waited: Option<Factor>,
    /// What the objectives are judged on: "run" (the whole run after the warm-up, the
    /// default), "worst_window" (each replication's worst time window) or "95% of windows"
    /// (the objective must hold in that share of each replication's windows).
    pub judge: Option<String>,
}

/// What a request does when its caller stops waiting for it.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallerGoneSpec {
    /// Keep working to the end, side effects included (the work is wasted).
    Finish,
    /// Stop at the next step or query.
    Stop,
}

/// Idempotency checks of a service, keyed by the unit of work (a client request, a queue message).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySpec {
    /// Skip (answer at once, successfully) a request whose unit is already being worked on here.
    pub dedupe: Option<StoreSpec>,
    /// Skip a request whose unit was already completed here.
    pub skip_completed: Option<StoreSpec>,
}

/// The store behind an idempotency check.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Most keys kept (default: unbounded). A full in-flight store tracks no new key; a full
    /// completed store forgets its oldest key.
    pub capacity: Option<PositiveInt>,
    /// How long a completed key is remembered (default: forever; only for `skip_completed`).
    pub ttl: Option<DurationValue>,
}

/// A retry budget: retries within a sliding window at most `ratio` × requests + `min_per_s` × window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Retries allowed per request, e.g. 0.1.
    pub ratio: Factor,
    /// Retries per second always allowed (default 0).
    pub min_per_s: Option<Factor>,
    /// The sliding window (default "10s").
    pub window: Option<DurationValue>,
}

/// A token bucket: tokens refill continuously at `rate` up to `burst`, the bucket starts full, and
/// each request takes one token or, when none is left, is rejected as `rate_limited` (HTTP 429).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Tokens added per unit of time: the sustained rate let through, e.g. "100/s".
    pub rate: RateValue,
    /// Most tokens held: requests let through at once after a quiet spell (default: one second
    /// of `rate`, at least 1).
    pub burst: Option<PositiveInt>,
}

/// A bulkhead: at most `max_concurrent` attempts of one call in flight at once (per instance of
/// the calling service); another waits in a line when one is configured, else is rejected.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkheadSpec {
    /// Attempts in flight at once.
    pub max_concurrent: PositiveInt,
    /// Most attempts waiting for a place; one more is rejected (default: unbounded when
    /// `max_wait` is set, else 0: rejected at once).
    pub queue: Option<NonNegativeInt>,
    /// Longest wait for a place before the attempt is rejected (default: no limit).
    pub max_wait: Option<DurationValue>,
}

/// Hedged requests ("The Tail at Scale"): when an attempt is still unanswered after a delay, a
/// second copy is sent to another pick of the balancer; the first successful answer wins (a
/// failed copy waits for the other), the other copy works on for nobody. Exactly one of `after`
/// or `at`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HedgeSpec {
    /// A fixed delay before the second copy ("50ms").
    pub after: Option<DurationValue>,
    /// A percentile of the call's own answered latency, e.g. "p95": the delay follows the last
    /// 1,000 successful answers (refreshed every 100); no copy is sent before the first 100.
    pub at: Option<String>,
}

/// Client-side adaptive throttling (Google SRE book): before each attempt, reject it locally with
/// probability max(0, (requests − k·accepts) / (requests + 1)) over a sliding window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    /// The multiplier k of accepted requests (default 2).
    pub k: Option<Factor>,
    /// The sliding window (default "2m").
    pub window: Option<DurationValue>,
}

/// A circuit breaker: opens when the share of failed (or slow) calls over a window reaches a
/// threshold, fails calls fast while open, then lets probes through (half-open).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Share of failed calls over the window that opens the breaker, e.g. 0.5.
    pub failure_rate: Option<Factor>,
    /// A call slower than this counts as slow.
    pub slow_call: Option<DurationValue>,
    /// Share of slow calls over the window that opens the breaker (default 1 when `slow_call` is set).
    pub slow_call_rate: Option<Factor>,
    /// The sliding window (default "10s").
    pub window: Option<DurationValue>,
    /// Fewest calls in the window before the breaker may open (default 20).
    pub min_calls: Option<PositiveInt>,
    /// How long it stays open before letting probes through (default "5s").
    pub open_for: DurationValue,
    /// Probe calls let through when half-open; all must succeed to close (default 1).
    pub probes: Option<PositiveInt>,
}

/// A message queue with SQS semantics.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageQueueSpec {
    /// Who publishes messages, by name.
    #[serde(default)]
    pub producers: IndexMap<String, ProducerSpec>,
    /// How long a received message stays invisible before another receive can take it.
    pub visibility_timeout: DurationValue,
    /// After a failed delivery, how long before the message is visible again (default: the
    /// visibility timeout).
    pub error_visibility_timeout: Option<DurationValue>,
    /// Receives after which a message goes to the dead-letter queue instead (default: never).
    pub max_receives: Option<PositiveInt>,
    /// The consumer that delivers each message as a call.
    pub consumer: ConsumerSpec,
}

/// A producer of messages: steady Poisson traffic, scheduled bursts, or both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    /// Mean rate of steady publishing.
    pub rate: Option<RateValue>,
    /// Scheduled bursts (a cron job publishing one message per unit of work).
    #[serde(default)]
    pub bursts: Vec<BurstSpec>,
}

/// Messages published at a scheduled time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    /// When the burst starts.
    pub at: DurationValue,
    /// How many messages.
    pub messages: PositiveInt,
    /// Spread evenly over this long (default: all at once).
    pub over: Option<DurationValue>,
}

/// The consumer of a queue: a daemon that receives messages and delivers each as a call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    /// The endpoint called with each message, "service.endpoint".
    pub calls: String,
    /// Messages delivered at once (HTTP connections of the daemon).
    pub concurrency: PositiveInt,
    /// How long the consumer waits for the call; forever when absent. A timeout is a failure:
    /// the message comes back after the error visibility timeout.
    pub timeout: Option<DurationValue>,
}

/// Whether the system returns to its baseline after a trigger.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetastabilitySpec {
    /// The metric whose windows are watched, e.g. "search.utilisation" or "website.p99".
    pub metric: String,
    /// When the triggers `capsim metastability` explores start (default: the model's first timed
    /// action, else after the warm-up and 10 windows).
    pub at: Option<DurationValue>,
    /// The triggers `capsim metastability` explores, by name (default: a load spike on the open
    /// clients, added latency on each link, cores taken from each database, one instance down
    /// of each service that has several).
    pub triggers: Option<IndexMap<String, TriggerSpec>>,
    /// Most replications one trigger size is judged with when its verdict stays uncertain
    /// (default 32).
    pub max_replications: Option<PositiveInt>,
}

/// A trigger `capsim metastability` tries: exactly one of `spike`, `latency`, `slowdown`,
/// `cores`, `down`; a `size` (one value, or `[smallest, largest]` to find the boundary between);
/// and how long it lasts (`for`: one duration or a list, one curve each; not for `down`, whose
/// size is its duration).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// A load spike: the open clients' rates multiplied by the size (a factor, e.g. 3).
    pub spike: Option<SpikeTriggerSpec>,
    /// Latency added to every round trip over a link: the size is the added time, e.g. "200ms".
    pub latency: Option<LatencyTriggerSpec>,
    /// A service slowed down: every CPU step costs the size times more (a factor, e.g. 4).
    pub slowdown: Option<ServiceTriggerSpec>,
    /// Cores of a database taken by work from outside the model (a reindex, a backup): the size is
    /// how many.
    pub cores: Option<DatabaseTriggerSpec>,
    /// Instances of a service down (crashed): the size is how long until they are back, e.g. "5m".
    pub down: Option<DownTriggerSpec>,
    /// One size, or `[smallest, largest]`: the range searched for the boundary.
    pub size: serde_json::Value,
    /// How long the trigger lasts: a duration, or a list of durations (one curve each).
    #[serde(rename = "for")]
    pub lasts: Option<serde_json::Value>,
}

/// The clients a load spike multiplies.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpikeTriggerSpec {
    /// The open clients (default: all of them).
    pub clients: Option<Vec<String>>,
}

/// The link a latency trigger slows.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyTriggerSpec {
    /// The link, "a -> b".
    pub link: String,
}

/// The service a slowdown trigger slows.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTriggerSpec {
    /// The service.
    pub service: String,
}

/// The database whose cores a trigger takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseTriggerSpec {
    /// The database.
    pub database: String,
}

/// The instances a down trigger takes down.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownTriggerSpec {
    /// The service.
    pub service: String,
    /// How many of its instances (default 1).
    pub instances: Option<PositiveInt>,
}

impl<'de> Deserialize<'de> for CostScalingSpec {
    /// A name or a table, with one message that says which forms are accepted.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let expected = "expected \"linear\", \"n_log_n\" or a table [[size, multiplier], …] of numbers from 0 to 1e9";
        let value = serde_json::Value::deserialize(d)?;
        if let Some(name) = value.as_str() {
            return match name {
                "linear" => Ok(CostScalingSpec::Named(CostScalingName::Linear)),
                "n_log_n" => Ok(CostScalingSpec::Named(CostScalingName::NLogN)),
                _ => Err(D::Error::custom(format!("{expected}, got \"{name}\""))),
            };
        }
        let number = |v: &serde_json::Value| v.as_f64().filter(|x| (0.0..=1e9).contains(x)).map(Factor);
        let rows = value.as_array().map(|rows| {
            rows.iter()
                .map(|row| match row.as_array().map(Vec::as_slice) {
                    Some([size, multiplier]) => Some([number(size)?, number(multiplier)?]),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        });
        match rows {
            Some(Some(table)) => Ok(CostScalingSpec::Table(table)),
            _ => Err(D::Error::custom(format!("{expected}, got {value}"))),
        }
    }
}
