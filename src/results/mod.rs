//! The results of a run: every replication merged into one serializable [`RunResult`], the
//! single source for the terminal table, JSON, CSV and any later report.
//!
//! Each metric is an [`Estimate`]: the mean across replications of the per-replication value,
//! with its 95 % confidence interval (Student t), so differences can be judged.

mod autoscaling;
mod cascade;
pub mod catalog;
pub mod columns;
mod coverage;
mod cpu;
mod hedging;
mod merge;
mod merger;
pub mod metastability;
pub mod metric;
pub mod resilience;
pub mod slo;

pub use autoscaling::{AutoscaleSummary, AutoscaleWindow};
pub use coverage::Coverage;
pub use cpu::CpuSummary;
pub use hedging::HedgeSummary;
pub use merge::summarize;
pub use merger::{watched_windows, Finished, Merger};
pub use resilience::{
    CallSiteSummary, EffectSummary, LimitSummary, Metastability, QueueSummary, ReplicationMetastability, WastedSummary,
};
pub use slo::SloStatus;

use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// Version of the JSON layout below; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a run measured, merged across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Version of this layout.
    pub schema_version: u32,
    /// The model and run settings.
    pub model: ModelInfo,
    /// Whether the run completed, or stopped at a bound (unstable model, event budget).
    pub verdict: Verdict,
    /// Warnings from validation (e.g. offered load above capacity).
    pub warnings: Vec<String>,
    /// Events handled, all replications together.
    pub events: u64,
    /// Per client: what users experienced end to end.
    pub clients: Vec<ClientSummary>,
    /// Per endpoint: service-side latency and outcomes.
    pub endpoints: Vec<EndpointSummary>,
    /// Per service: workers and queues.
    pub services: Vec<ServiceSummary>,
    /// Per database: cores, queries and connections.
    pub databases: Vec<DatabaseSummary>,
    /// Per connection pool.
    pub pools: Vec<PoolSummary>,
    /// Per message queue.
    pub queues: Vec<QueueSummary>,
    /// Per side effect.
    pub effects: Vec<EffectSummary>,
    /// Per cache with a key space (left out without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<KeySpaceSummary>,
    /// Per call site with a policy (retry budget, throttling, breaker).
    pub call_sites: Vec<CallSiteSummary>,
    /// Per rate limit or bulkhead: what it let through and turned away (absent when the model
    /// has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitSummary>,
    /// Service level objectives and whether they held.
    pub slos: Vec<SloResult>,
    /// Whether the watched metric came back to its baseline after the trigger (when the model asks).
    pub metastability: Option<Metastability>,
    /// Which SLOs breached after the trigger (the first timed action), when, and through which
    /// dependencies; the blast radius.
    pub cascade: Cascade,
    /// Rollouts and what their rollback rules did.
    pub rollouts: Vec<RolloutSummary>,
    /// Groups of clients, reported together.
    pub groups: Vec<GroupSummary>,
    /// Autoscaled services: their fleets over time, instance-hours and cost (absent when no
    /// service autoscales).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<AutoscaleSummary>,
    /// Services with fewer cores than workers: their cores (absent when none has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<CpuSummary>,
    /// Calls that hedge: the extra load and what it won (absent when no call hedges).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hedges: Vec<HedgeSummary>,
}

/// Clients reported together: their requests as one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupSummary {
    /// The group's name.
    pub name: String,
    /// Its clients.
    pub clients: Vec<String>,
    /// Finished requests per second, all its clients together.
    pub throughput_per_s: Estimate,
    /// Requests that ended well per second.
    pub goodput_per_s: Estimate,
    /// Share of its finished requests that did not end well.
    pub error_rate: Estimate,
}

/// The failure cascade after a trigger, judged window by window against each SLO.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cascade {
    /// What triggered it: the first timed action, or the start of measurement without one.
    pub trigger: String,
    /// When, seconds since the start of the run.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub trigger_s: f64,
    /// Width of the windows the SLOs are judged in, seconds: the resolution of the timeline.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub window_s: f64,
    /// Components whose SLO breached after the trigger, in the order they breached.
    pub timeline: Vec<CascadeEntry>,
    /// How far the failure reached.
    pub blast_radius: BlastRadius,
}

/// One component of the cascade.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CascadeEntry {
    /// The SLO's key: "service.endpoint" or a client name.
    pub name: String,
    /// "endpoint" or "client".
    pub kind: String,
    /// Start of the first window in breach (not before the trigger), seconds since the start.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub first_breach_s: f64,
    /// The same, seconds after the trigger.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub after_trigger_s: f64,
    /// The objective breached first, e.g. "p99 <= 400ms" ("answers" when none came at all).
    pub objective: String,
    /// What that window measured.
    pub measured: String,
    /// Windows in breach after the trigger.
    pub breached_windows: u64,
    /// The stretches of consecutive windows in breach, [start, end] in seconds since the start.
    #[serde(deserialize_with = "crate::stats::nan::pairs")]
    pub breached_s: Vec<[f64; 2]>,
    /// End of the last window in breach when later windows were fine again, seconds (null when
    /// it was still breached at the end of the run).
    pub recovered_s: Option<f64>,
    /// The dependencies that carried the failure, from the component to what the trigger hit
    /// (through breached components where such a path exists); empty when none leads there.
    pub path: Vec<String>,
}

/// How far a failure reached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlastRadius {
    /// Endpoints with an SLO.
    pub endpoints_with_slo: u64,
    /// Of those, the ones whose SLO breached after the trigger.
    pub endpoints_breached: u64,
    /// Their share (null without endpoint SLOs).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub endpoint_share: f64,
    /// SLO'd components (endpoints and clients) that breached.
    pub components_breached: u64,
    /// Requests of real (not synthetic) clients that ended after the trigger, all replications.
    pub real_requests_after_trigger: u64,
    /// Of those, the ones that ended in a window where their client's SLO, or that of the
    /// endpoint it calls, was breached.
    pub real_requests_affected: u64,
    /// Their share (null without real traffic).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub traffic_share: f64,
    /// The endpoint share judged in each replication on its own, across replications (for
    /// confidence intervals and paired comparisons; a replication's windows hold fewer requests,
    /// so fewer latency percentiles can be judged than pooled).
    pub endpoint_share_by_replication: Estimate,
    /// The traffic share judged in each replication on its own, across replications.
    pub traffic_share_by_replication: Estimate,
}

/// The model and the run's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model name.
    pub name: String,
    /// Model description.
    pub description: String,
    /// Simulated seconds per replication.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub duration_s: f64,
    /// Seconds excluded from statistics at the start.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub warmup_s: f64,
    /// Width of a time-series window, in seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub window_s: f64,
    /// Replications run.
    pub replications: u32,
    /// Seed of the random streams.
    pub seed: u64,
    /// When the last timed action ends (its undo, or its start when it has none), seconds;
    /// null without timed actions. Recovery is measured from here.
    pub actions_end_s: Option<f64>,
    /// The timed actions, for plots and reports.
    pub actions: Vec<ActionInfo>,
}

/// A timed action of the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActionInfo {
    /// What it does, e.g. "inject 1 queries into pg".
    pub what: String,
    /// When it starts, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// When it is undone, seconds (null when it stays).
    pub end_s: Option<f64>,
}

/// Whether the run could be completed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Verdict {
    /// True when every replication reached the end of the simulated duration.
    pub complete: bool,
    /// True when some replication stopped because requests piled up without bound.
    pub unstable: bool,
    /// One line per replication that stopped early, saying why and when.
    pub messages: Vec<String>,
    /// Which replications ran to the end, were cut short or never started, and which ones the
    /// estimates cover (each estimate's `n` counts those with a value).
    #[serde(default)]
    pub replications: Coverage,
}

/// Latency statistics in milliseconds, each across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Mean.
    pub mean_ms: Estimate,
    /// Median.
    pub p50_ms: Estimate,
    /// 90th percentile.
    pub p90_ms: Estimate,
    /// 99th percentile.
    pub p99_ms: Estimate,
    /// 99.9th percentile.
    pub p999_ms: Estimate,
    /// Largest seen.
    pub max_ms: Estimate,
}

/// Requests by outcome, totals over all replications (after the warm-up).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Requests started (client) or arrived (endpoint).
    pub started: u64,
    /// Ended well.
    pub ok: u64,
    /// The caller's last attempt timed out (clients).
    pub timeouts: u64,
    /// Refused at admission.
    pub rejected: u64,
    /// Failed along the way.
    pub errors: u64,
    /// Retries made.
    pub retries: u64,
    /// Attempts that timed out (for an endpoint: of its own downstream calls).
    pub attempt_timeouts: u64,
    /// Still in flight when the run ended.
    pub in_flight_at_end: u64,
}

/// One time window of request traffic, merged over replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrafficWindow {
    /// Start of the window, seconds since the start of the run.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Finished requests per second (per replication).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub throughput_per_s: f64,
    /// Share of finished requests that failed.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub error_rate: f64,
    /// Median latency of successful requests, ms (null when none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub p50_ms: f64,
    /// 99th percentile latency of successful requests, ms (null when none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub p99_ms: f64,
}

/// A client: what its users experienced, end to end, retries included.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientSummary {
    /// Name.
    pub name: String,
    /// "open" or "closed".
    pub kind: String,
    /// The endpoint it calls.
    pub calls: String,
    /// Synthetic requests (a load test), reported apart from real users.
    pub synthetic: bool,
    /// Finished requests per second.
    pub throughput_per_s: Estimate,
    /// Requests that ended well per second: the traffic users actually got served.
    pub goodput_per_s: Estimate,
    /// Share of finished requests that did not end well.
    pub error_rate: Estimate,
    /// Latency of successful requests.
    pub latency: LatencySummary,
    /// Totals by outcome.
    pub counts: Counts,
    /// For closed-loop users with a fixed number of requests: when they finished.
    pub batch: Option<BatchSummary>,
    /// Per time window.
    pub series: Vec<TrafficWindow>,
}

/// Progress of users that each send a fixed number of requests one after another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchSummary {
    /// Users.
    pub users: u32,
    /// Requests per user.
    pub requests_per_user: u32,
    /// Share of users that sent all their requests within the run.
    pub finished_share: Estimate,
    /// Share of the batch's requests that did not end well (they still count as done).
    pub failed_share: Estimate,
    /// Time from the start to the last user's last answer, seconds; a user still sending when
    /// the run ends counts as done then (so this is a lower bound when `finished_share` < 1).
    pub makespan_s: Estimate,
    /// The deadline after the start, seconds (null when none).
    pub deadline_s: Option<f64>,
    /// Share of users done by the deadline.
    pub met_deadline_share: Option<Estimate>,
    /// Deadline minus makespan, seconds: negative when the batch was late.
    pub slack_s: Option<Estimate>,
}

/// An endpoint, seen from the service: arrivals to answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// "service.endpoint".
    pub name: String,
    /// Requests finished per second.
    pub throughput_per_s: Estimate,
    /// Share of finished requests that did not end well.
    pub error_rate: Estimate,
    /// Latency of successful requests.
    pub latency: LatencySummary,
    /// Mean time in the service of every finished request, whatever its outcome, ms.
    pub sojourn_ms: Estimate,
    /// Totals by outcome.
    pub counts: Counts,
    /// What the caches in front of its steps did (null without a cache).
    pub cache: Option<CacheSummary>,
    /// Per time window.
    pub series: Vec<TrafficWindow>,
}

/// Cache lookups of an endpoint, totals over all replications (after the warm-up).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CacheSummary {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that fell through to the backend.
    pub misses: u64,
    /// Misses whose backend failed, answered from the stale copy (degraded mode).
    pub stale: u64,
    /// Hits over lookups (null when none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub hit_ratio: f64,
}

/// A cache with a key space: what its look-ups found, every step that shares it together.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeySpaceSummary {
    /// Its name ("service.endpoint[step]" when the model gives none).
    pub name: String,
    /// Keys in its key space.
    pub keys: u32,
    /// Most entries held at once.
    pub capacity: u32,
    /// How look-ups pick keys: "uniform" or "zipf(s)".
    pub popularity: String,
    /// Look-ups answered by an entry (total).
    pub hits: u64,
    /// Look-ups that went to the backend (total).
    pub misses: u64,
    /// Look-ups that waited for another miss's fill of their key (total; coalescing).
    pub coalesced: u64,
    /// Misses whose backend failed, answered from the stale copy (total).
    pub stale: u64,
    /// Entries evicted to make room, least recently used first (total).
    pub evictions: u64,
    /// Entries found expired (total).
    pub expirations: u64,
    /// Hits over look-ups, per replication.
    pub hit_ratio: Estimate,
    /// Look-ups sent to the backend per second.
    pub misses_per_s: Estimate,
    /// Look-ups that waited for a fill in flight per second.
    pub coalesced_per_s: Estimate,
    /// Per time window.
    pub series: Vec<CacheWindow>,
}

/// One window of a cache with a key space, merged over replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CacheWindow {
    /// Start of the window, seconds since the start of the run.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Hits over look-ups (null without look-ups).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub hit_ratio: f64,
    /// Look-ups sent to the backend per second (per replication).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub misses_per_s: f64,
    /// Look-ups that waited for a fill in flight per second (per replication).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub coalesced_per_s: f64,
}

/// Waiting for a unit (worker, core, connection).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WaitSummary {
    /// Mean wait, ms.
    pub mean_ms: Estimate,
    /// 99th percentile wait, ms.
    pub p99_ms: Estimate,
    /// Share of grants that had to wait at all.
    pub waited_share: Estimate,
}

/// Level time series of a station, mean across replications per window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StationSeries {
    /// Start of each window, seconds.
    #[serde(deserialize_with = "crate::stats::nan::numbers")]
    pub start_s: Vec<f64>,
    /// Mean share of units busy per window.
    #[serde(deserialize_with = "crate::stats::nan::numbers")]
    pub utilisation: Vec<f64>,
    /// Mean jobs waiting per window.
    #[serde(deserialize_with = "crate::stats::nan::numbers")]
    pub waiting: Vec<f64>,
}

/// A service's workers and queues (all instances together).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Name.
    pub name: String,
    /// Instances (at the start, for an autoscaled service).
    pub instances: u32,
    /// An autoscaled service's fewest and most instances (absent for a fixed fleet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaled: Option<[u32; 2]>,
    /// Workers per instance.
    pub workers: u32,
    /// Mean share of workers busy.
    pub utilisation: Estimate,
    /// Mean requests waiting for a worker.
    pub queue_length: Estimate,
    /// Most requests waiting at once (summed over instances' maxima).
    pub queue_length_max: Estimate,
    /// Mean requests in the service (waiting, working or waiting on downstream).
    pub in_service: Estimate,
    /// Waiting for a worker.
    pub worker_wait: WaitSummary,
    /// Mean instances up (not restarting after a crash).
    pub instances_up: Estimate,
    /// Share of the time at least one instance was up.
    pub available: Estimate,
    /// Crashes, all replications together.
    pub crashes: u64,
    /// Over time.
    pub series: StationSeries,
    /// Work done for callers who had left, and work skipped by idempotency checks.
    pub wasted: WastedSummary,
}

/// What a rollout did across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RolloutSummary {
    /// The rollout, e.g. "web CPU ×20 rollout, canary 1 of 20".
    pub what: String,
    /// When it started, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Replications in which the rollback rule fired.
    pub rolled_back: u32,
    /// Replications in which the change reached every instance after the canary.
    pub widened: u32,
    /// Time from the start to the rule firing, seconds, over the replications where it fired
    /// (null when it never did).
    pub fired_after_s: Option<Estimate>,
    /// Time from the start to the change being undone (by the rule or by hand), seconds, over the
    /// replications where it was (null when it never was).
    pub undone_after_s: Option<Estimate>,
}

/// A database.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatabaseSummary {
    /// Name.
    pub name: String,
    /// Cores.
    pub cores: u32,
    /// Mean share of cores busy.
    pub utilisation: Estimate,
    /// Mean queries waiting for a core.
    pub queue_length: Estimate,
    /// Queries per second.
    pub queries_per_s: Estimate,
    /// Time of a query at the database (wait for a core + run).
    pub query_time: LatencySummary,
    /// Mean connections in use (pooled and direct).
    pub connections_in_use: Estimate,
    /// Most connections in use at once.
    pub connections_max: Estimate,
    /// Direct connections refused at max_connections (total).
    pub refused_connections: u64,
    /// Data size at the end of the run, relative to when query costs were measured (the data
    /// factor, plus rows written over the rows measured).
    pub data_size_end: Estimate,
    /// How much more a query cost at the end than at the start, from the rows written.
    pub cost_growth_end: Estimate,
    /// Over time.
    pub series: StationSeries,
    /// Connections in use per window.
    #[serde(deserialize_with = "crate::stats::nan::numbers")]
    pub connections_series: Vec<f64>,
}

/// A connection pool.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PoolSummary {
    /// Name.
    pub name: String,
    /// Connections.
    pub size: u32,
    /// Mean share of connections in use.
    pub utilisation: Estimate,
    /// Most connections in use at once.
    pub in_use_max: Estimate,
    /// Mean transactions waiting for a connection.
    pub waiting: Estimate,
    /// Waiting for a connection.
    pub acquire_wait: WaitSummary,
    /// Transactions that gave up waiting (total).
    pub acquire_timeouts: u64,
    /// Over time.
    pub series: StationSeries,
}

/// One objective of an SLO and how it fared.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SloResult {
    /// The SLO's key ("api.checkout" or a client name).
    pub name: String,
    /// The objective, e.g. "p99 <= 300ms".
    pub objective: String,
    /// The bound, in the measured unit (ms, or a share for error rates).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub bound: f64,
    /// What was measured, across replications.
    pub measured: Estimate,
    /// "met" (the whole CI is within the bound), "breached" (the whole CI is past it) or
    /// "uncertain" (the CI straddles the bound: more replications would tell).
    pub status: SloStatus,
    /// The stretches of time, [from, to] in seconds of the run, whose windows (pooled over the
    /// replications) breached the objective: an objective met over the run can be breached at
    /// its peak.
    #[serde(default)]
    pub breached_s: Vec<[f64; 2]>,
}
