//! One replication, start to finish: build the world, run the engine, collect what it measured.

use super::cache::CacheTally;
use super::job::{Owner, Stage};
use super::key_space::KeySpaceTally;
use super::resource::Resource;
use super::tally::{BatchTally, EffectTally, RequestTally, WastedWork};
use super::world::World;
use crate::engine::{run, EventQueue, Nanos, RunLimits, StopReason};
use crate::model::Model;
use crate::stats::{CountSeries, LatencyHistogram, LevelSeries};
use std::sync::atomic::AtomicBool;

/// What one replication measured, raw enough to be merged across replications.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct ReplicationResult {
    /// Index of the replication (its random streams derive from it).
    pub replication: u32,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Events handled.
    pub events: u64,
    /// Simulated time at which statistics end (the horizon, or where the run stopped).
    pub end_ns: Nanos,
    /// Per client.
    pub clients: Vec<ClientResult>,
    /// Per endpoint.
    pub endpoints: Vec<EndpointResult>,
    /// Per service.
    pub services: Vec<StationResult>,
    /// Per database.
    pub databases: Vec<DatabaseResult>,
    /// Per pool.
    pub pools: Vec<PoolResult>,
    /// Per message queue.
    pub queues: Vec<QueueResult>,
    /// Per side effect.
    pub effects: Vec<EffectTally>,
    /// Per cache with a key space.
    pub caches: Vec<KeySpaceTally>,
    /// Per call site.
    pub sites: Vec<SiteResult>,
    /// Per service: work done for callers who had left.
    pub wasted: Vec<WastedWork>,
    /// Per service: requests skipped by idempotency checks (unit in flight, unit completed).
    pub skipped: Vec<(u64, u64)>,
    /// Per service: instances up and crashes.
    pub lives: Vec<LifeResult>,
    /// Per rollout action, in the order of the model's timed actions.
    pub rollouts: Vec<RolloutResult>,
    /// Per service: what its autoscaler did (`None` for a fixed fleet).
    pub autoscalers: Vec<Option<AutoscaleResult>>,
    /// Per service: what its cores did (`None` for a core per worker).
    pub cpus: Vec<Option<CpuResult>>,
    /// Per rate limit or bulkhead, in the order of the model's limits.
    pub limits: Vec<LimitResult>,
    /// Per call site: what hedging did (`None` where it does not hedge).
    #[serde(default)]
    pub hedges: Vec<Option<HedgeResult>>,
}

/// What hedging did at one call site since the warm-up.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct HedgeResult {
    /// Attempts sent (first copies).
    pub attempts: u64,
    /// Attempts sent with a delay in force (a percentile trigger has none before its first
    /// answers).
    pub armed: u64,
    /// Second copies sent: the extra load.
    pub hedges: u64,
    /// Attempts the second copy answered first (successfully).
    pub won: u64,
    /// Sum of the delays in force over the armed attempts, nanoseconds (exact in a float up to
    /// 2⁵³ ns, 104 days of delays).
    pub delay_sum_ns: f64,
}

/// What a rate limit or a bulkhead let through and turned away.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct LimitResult {
    /// Admitted and rejected since the warm-up (see [`limit_column`]).
    pub totals: [u64; 2],
    /// The same per window.
    pub series: CountSeries<2>,
}

/// Columns of [`QueueResult::totals`] and [`QueueResult::series`] (the queue's counts by kind).
pub mod queue_column {
    /// Messages published.
    pub const PUBLISHED: usize = 0;
    /// Receives (deliveries started).
    pub const RECEIVES: usize = 1;
    /// First receives of a message.
    pub const FIRST_RECEIVES: usize = 2;
    /// Messages deleted after a successful delivery.
    pub const DELETED: usize = 3;
    /// Messages moved to the dead-letter queue.
    pub const DEAD_LETTERED: usize = 4;
}

/// Columns of [`LimitResult::totals`] and [`LimitResult::series`].
pub mod limit_column {
    /// Requests (or call attempts) let through.
    pub const ADMITTED: usize = 0;
    /// Requests turned away: over the rate, or no place in the bulkhead (nor in its line).
    pub const REJECTED: usize = 1;
}

/// A message queue's counts and levels.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct QueueResult {
    /// The consumer's deliveries.
    pub tally: RequestTally,
    /// Totals since the warm-up, by [`queue_column`].
    pub totals: [u64; 5],
    /// Counts per window, same columns.
    pub series: CountSeries<5>,
    /// Mean visible messages per window.
    pub backlog_series: Vec<f64>,
    /// Mean received (invisible) messages per window.
    pub invisible_series: Vec<f64>,
    /// Mean visible messages.
    pub backlog_mean: f64,
    /// Messages left in the queue at the end.
    pub left_at_end: u64,
}

/// What a call site's policies did.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct SiteResult {
    /// Retries the budget refused.
    pub budget_denied: u64,
    /// Attempts throttled locally.
    pub throttled: u64,
    /// Attempts failed fast by the open breaker.
    pub breaker_refused: u64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
    /// Time the breaker was not closed, nanoseconds.
    pub breaker_not_closed_ns: Nanos,
}

/// How a service's instances fared: up or restarting.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct LifeResult {
    /// Mean instances up.
    pub up_mean: f64,
    /// Share of the time at least one instance was up.
    pub available: f64,
    /// Crashes since the warm-up.
    pub crashes: u64,
}

/// What a service's cores did in one replication, from the warm-up on.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct CpuResult {
    /// Mean cores busy, all instances.
    pub busy_mean: f64,
    /// Mean CPU steps waiting for a core, or sharing beyond the cores.
    pub queued_mean: f64,
}

/// What an autoscaler did in one replication, from the warm-up on.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct AutoscaleResult {
    /// Mean instances in service (taking requests).
    pub in_service_mean: f64,
    /// Most instances in service at once.
    pub in_service_max: f64,
    /// Mean instances paid for: in service or being provisioned.
    pub billed_mean: f64,
    /// Scale-outs decided.
    pub scale_outs: u64,
    /// Scale-ins decided.
    pub scale_ins: u64,
    /// Instances launched.
    pub launched: u64,
    /// Time whose metric periods were above the target (under-provisioned), nanoseconds.
    pub above_target_ns: Nanos,
    /// Mean instances in service per window.
    pub in_service_series: Vec<f64>,
}

/// What a rollout did in one replication.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct RolloutResult {
    /// Index of its timed action.
    pub action: u32,
    /// When its rollback rule fired, if it did.
    pub fired_at_ns: Option<Nanos>,
    /// When the change was undone (by the rule or by hand), if it was.
    pub undone_at_ns: Option<Nanos>,
    /// Whether it went beyond the canary to every instance.
    pub widened: bool,
}

/// A client's requests.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct ClientResult {
    /// Requests and outcomes since the warm-up.
    pub tally: RequestTally,
    /// Requests still in flight at the end.
    pub in_flight_at_end: u64,
    /// For users with a fixed number of requests: when each finished.
    pub batch: Option<BatchTally>,
}

/// An endpoint's requests (service side).
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct EndpointResult {
    /// Requests and outcomes since the warm-up.
    pub tally: RequestTally,
    /// What its caches did.
    pub cache: CacheTally,
    /// Requests still in flight at the end.
    pub in_flight_at_end: u64,
}

/// Time averages of a group of units (workers, cores, connections) and its waiting line.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct StationResult {
    /// Units.
    pub capacity: u64,
    /// Mean units in use.
    pub busy_mean: f64,
    /// Mean jobs waiting.
    pub waiting_mean: f64,
    /// Most jobs waiting at once.
    pub waiting_max: f64,
    /// Mean jobs inside: waiting or being served (for a service: admitted and not finished,
    /// downstream waits included).
    pub inside_mean: f64,
    /// Waits for a unit.
    pub wait: LatencyHistogram,
    /// Grants that had to wait (a non-zero wait).
    pub waited: u64,
    /// Mean units in use per window.
    pub busy_series: Vec<f64>,
    /// Mean jobs waiting per window.
    pub waiting_series: Vec<f64>,
}

/// A database's cores, queries and connections.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct DatabaseResult {
    /// Cores and the query line.
    pub cores: StationResult,
    /// Queries finished.
    pub queries: u64,
    /// Time of queries at the database (wait + run).
    pub query_time: LatencyHistogram,
    /// Mean connections in use.
    pub connections_mean: f64,
    /// Most connections in use at once.
    pub connections_max: f64,
    /// Mean connections in use per window.
    pub connections_series: Vec<f64>,
    /// Direct connections refused: the database was at max_connections.
    pub refused_connections: u64,
    /// Data size at the end, relative to when costs were measured.
    pub data_size_end: f64,
    /// How much more a query cost at the end than at the start, from rows written.
    pub cost_growth_end: f64,
}

/// A pool's connections.
#[derive(serde::Serialize, serde::Deserialize, Clone)]
pub struct PoolResult {
    /// Connections and the line of transactions.
    pub connections: StationResult,
    /// Most connections in use at once.
    pub in_use_max: f64,
    /// Transactions that gave up waiting.
    pub acquire_timeouts: u64,
}

/// The time-average level of each window.
pub(super) fn means(series: &LevelSeries) -> Vec<f64> {
    series.windows().iter().map(|row| row.mean).collect()
}

/// Sum the statistics of several resources (the instances of a service) into one station.
pub(super) fn station(resources: &[&Resource], inside_mean: Option<f64>) -> StationResult {
    let mut wait = LatencyHistogram::new();
    let mut busy_series: Vec<f64> = Vec::new();
    let mut waiting_series: Vec<f64> = Vec::new();
    let add = |into: &mut Vec<f64>, rows: Vec<f64>| {
        if into.is_empty() {
            *into = rows;
        } else {
            into.iter_mut().zip(rows).for_each(|(a, b)| *a += b);
        }
    };
    let (mut busy_mean, mut waiting_mean, mut waiting_max, mut capacity, mut waited) = (0.0, 0.0, 0.0, 0, 0);
    for r in resources {
        capacity += u64::from(r.capacity());
        busy_mean += r.stats.busy.mean();
        waiting_mean += r.stats.waiting.mean();
        waiting_max += r.stats.waiting.max_level();
        wait.merge(&r.stats.wait);
        waited += r.stats.waited;
        add(&mut busy_series, means(&r.stats.busy));
        add(&mut waiting_series, means(&r.stats.waiting));
    }
    StationResult {
        capacity,
        busy_mean,
        waiting_mean,
        waiting_max,
        inside_mean: inside_mean.unwrap_or(busy_mean + waiting_mean),
        wait,
        waited,
        busy_series,
        waiting_series,
    }
}

/// Run replication `replication` of `model`: a pure function of the model and the index, unless
/// `interrupt` is raised (then it stops early and says so).
///
/// 1. Build the world; it schedules the first arrivals.
/// 2. Run the engine to the model's duration or until a bound stops it.
/// 3. Close the time averages at the time reached and collect the tallies.
pub fn run_replication(model: &Model, replication: u32, interrupt: &AtomicBool) -> ReplicationResult {
    let mut queue = EventQueue::new();
    let mut world = World::new(model, replication, &mut queue);
    let limits = RunLimits {
        horizon: model.duration_ns,
        max_events: model.max_events,
    };
    let (stop, events) = run(&mut world, &mut queue, limits, interrupt);
    let end_ns = match stop {
        StopReason::Horizon | StopReason::Exhausted => model.duration_ns,
        StopReason::EventBudget { at } | StopReason::Stopped { at, .. } | StopReason::Interrupted { at } => {
            at.max(model.warmup_ns)
        }
    };
    world.finish(end_ns);

    let mut client_in_flight = vec![0u64; model.clients.len()];
    let mut endpoint_in_flight = vec![0u64; model.endpoints.len()];
    for job in world.jobs.iter() {
        match job.owner {
            Owner::Client { client, .. } => client_in_flight[client as usize] += 1,
            // A request still on the network has not arrived, so its endpoint has not counted it.
            Owner::Endpoint { endpoint, .. } if job.stage == Stage::Admitted => endpoint_in_flight[endpoint as usize] += 1,
            Owner::Endpoint { .. } | Owner::Injected { .. } | Owner::Consumer { .. } => {}
        }
    }
    let lives = world.services.lives(end_ns);
    let rollouts = world.rollouts.results();
    let autoscalers = world.autoscalers.results();
    let cpus = world.cpus.results(end_ns);
    let World {
        clients,
        services,
        endpoints,
        caches,
        databases,
        pools,
        queues,
        effects,
        policies,
        limits,
        hedges,
        ..
    } = world;
    let queues = queues.results();
    let sites = policies.results(end_ns);
    let wasted = services.wasted_work();
    let skipped = services.skipped();
    let (cache_tallies, key_spaces) = caches.results();
    ReplicationResult {
        replication,
        stop,
        events,
        end_ns,
        clients: clients.results(client_in_flight),
        endpoints: endpoints
            .into_iter()
            .zip(endpoint_in_flight)
            .zip(cache_tallies)
            .map(|((tally, in_flight_at_end), cache)| EndpointResult {
                tally,
                cache,
                in_flight_at_end,
            })
            .collect(),
        services: services.stations(end_ns),
        databases: databases.results(),
        pools: pools.results(),
        queues,
        effects,
        caches: key_spaces,
        sites,
        wasted,
        skipped,
        lives,
        rollouts,
        autoscalers,
        cpus,
        limits: limits.results(),
        hedges: hedges.results(),
    }
}
