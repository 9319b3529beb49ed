//! The memory a run needs, estimated before it starts, so that a run that would not fit is
//! refused (naming what to change) instead of being killed by the operating system.
//!
//! Two parts grow with the model:
//! 1. **Results**: every replication keeps its histograms ([`FULL_HISTOGRAM_BYTES`] each) and
//!    time series until the replications are merged —
//!    per window, per client, endpoint and queue consumer, a latency histogram (HDR, 2 significant
//!    digits: [`WINDOW_HISTOGRAM_BYTES`]) and event counts; per station (each instance's
//!    workers, each database lane, each pool, each queue) levels. The merge holds one more set.
//! 2. **Requests in flight** in each replication being simulated: at most `max_in_flight`
//!    requests, each a chain of jobs as deep as the deepest chain of calls, plus their events
//!    ([`REQUEST_JOB_BYTES`] per job). A replication reaches it only when it goes unstable, but
//!    then it does.
//!
//! The total is results × (replications + 1) + in flight × threads; the thread count is chosen to
//! fit (results do not depend on it), and a run that does not fit with one thread is refused.

use super::{Model, Step};

/// Bytes of one window of a latency series: an HDR histogram of 2 significant digits (256
/// sub-buckets of 8 bytes for each power of two up to the largest latency: 23 of them reach 1 s,
/// 24 KiB) and the window's counts.
pub const WINDOW_HISTOGRAM_BYTES: u64 = 24 * 1024 + 128;

/// Bytes of one whole-run histogram of a replication (3 significant digits: 2048 sub-buckets of
/// 8 bytes for each power of two, 20 of them reach 1 s, 160 KiB): request latencies per client,
/// endpoint and queue consumer, waits per service and pool, query times per database.
pub const FULL_HISTOGRAM_BYTES: u64 = 160 * 1024;

/// Bytes of one window of a count series (requests ending or arriving) without latencies.
pub const WINDOW_EVENTS_BYTES: u64 = 128;

/// Bytes of one window of a level series (time-weighted busy units or waiting jobs).
pub const WINDOW_LEVEL_BYTES: u64 = 16;

/// Bytes of one job in flight: its slab entry plus its share of pending events (a timeout and a
/// reply or step, ~48 bytes each in the queue). `sim::job` checks the entry stays within it.
pub const REQUEST_JOB_BYTES: u64 = 384;

/// The memory a run needs, in bytes, by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryNeed {
    /// One replication's results (time series and histograms).
    pub per_replication: u64,
    /// One replication's requests in flight at `max_in_flight`.
    pub in_flight_per_thread: u64,
    /// Replications kept until the merge, plus the merged set.
    pub result_sets: u64,
    /// Windows per series.
    pub windows: u64,
    /// Latency series per replication (clients, endpoints, queue consumers).
    pub latency_series: u64,
    /// Jobs in the deepest chain of calls (a client request and every call below it).
    pub chain_depth: u64,
}

impl MemoryNeed {
    /// Bytes needed with `threads` replications simulated at once.
    pub fn total(&self, threads: u64) -> u64 {
        self.per_replication
            .saturating_mul(self.result_sets)
            .saturating_add(self.in_flight_per_thread.saturating_mul(threads))
    }

    /// The most threads (at most `wanted`, at least 1) whose run fits in `budget` bytes; None
    /// when not even one does.
    pub fn threads_within(&self, budget: u64, wanted: u64) -> Option<u64> {
        let results = self.per_replication.saturating_mul(self.result_sets);
        let left = budget.checked_sub(results)?;
        let fit = left.checked_div(self.in_flight_per_thread).unwrap_or(wanted);
        (fit >= 1).then(|| fit.min(wanted.max(1)))
    }
}

/// Estimate what `model` needs (see the module's doc for the parts).
pub fn estimate(model: &Model) -> MemoryNeed {
    let windows = super::validate::window_count(model) as u64;
    let latency_series = (model.clients.len() + model.endpoints.len() + model.queues.len()) as u64;
    let instances: u64 = model.services.iter().map(|s| u64::from(s.instances)).sum();
    let lanes: u64 = model.databases.iter().map(|d| 1 + d.groups.len() as u64).sum();
    // Busy and waiting levels per station; connection levels per database; queue backlogs.
    let level_series = 2 * (instances + lanes + model.pools.len() as u64 + model.queues.len() as u64)
        + model.databases.len() as u64
        + model.effects.len() as u64;
    // Answers and arrivals per latency series.
    let per_window = latency_series * (WINDOW_HISTOGRAM_BYTES + WINDOW_EVENTS_BYTES) + level_series * WINDOW_LEVEL_BYTES;
    let full_histograms =
        latency_series + model.services.len() as u64 + 2 * model.databases.len() as u64 + model.pools.len() as u64;
    let chain_depth = 1 + deepest_chain(model);
    MemoryNeed {
        per_replication: windows
            .saturating_mul(per_window)
            .saturating_add(full_histograms * FULL_HISTOGRAM_BYTES),
        in_flight_per_thread: u64::from(model.max_in_flight)
            .saturating_mul(chain_depth)
            .saturating_mul(REQUEST_JOB_BYTES),
        // A metastability watch under a load profile also keeps the run without its trigger.
        result_sets: u64::from(model.replications) * if watch_runs_twice(model) { 2 } else { 1 } + 1,
        windows,
        latency_series,
        chain_depth,
    }
}

/// Whether the run also simulates the model without its trigger (a metastability watch under a
/// load profile, judged against the same windows of that run).
fn watch_runs_twice(model: &Model) -> bool {
    model.metastability.is_some()
        && model
            .clients
            .iter()
            .any(|c| matches!(&c.arrivals, super::Arrivals::Open { profile: Some(_), .. }))
}

/// Jobs in the deepest chain of calls below any caller (a client, a queue consumer): the
/// endpoint it calls and every synchronous call below it (calls form no cycle).
fn deepest_chain(model: &Model) -> u64 {
    fn depth(model: &Model, e: usize, memo: &mut Vec<Option<u64>>) -> u64 {
        if let Some(d) = memo[e] {
            return d;
        }
        let below = model.endpoints[e]
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Call(call) => Some(depth(model, call.target.0, memo)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        memo[e] = Some(1 + below);
        1 + below
    }
    let mut memo = vec![None; model.endpoints.len()];
    let from_clients = model.clients.iter().map(|c| c.call.target.0);
    let from_queues = model.queues.iter().map(|q| q.call.target.0);
    let roots: Vec<usize> = from_clients.chain(from_queues).collect();
    roots.into_iter().map(|e| depth(model, e, &mut memo)).max().unwrap_or(0)
}

/// Why `need` does not fit in `budget` bytes even with one thread, naming what to change.
pub fn refusal(model: &Model, need: &MemoryNeed, budget: u64) -> String {
    use super::units::format_bytes;
    format!(
        "this run needs about {} ({} replications kept until they are merged, each {}: {} windows × {} latency series; \
         plus {} for up to {} requests in flight, {} jobs deep), more than the {} allowed: use fewer replications, \
         a coarser \"window\", a lower limits.max_in_flight, or raise limits.max_memory (--max-memory) if the machine has the memory",
        format_bytes(need.total(1)),
        model.replications,
        format_bytes(need.per_replication),
        need.windows,
        need.latency_series,
        format_bytes(need.in_flight_per_thread),
        model.max_in_flight,
        need.chain_depth,
        format_bytes(budget)
    )
}
