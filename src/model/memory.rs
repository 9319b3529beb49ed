//! The memory a run needs, estimated before it starts, so that a run that would not fit is
//! refused (naming what to change) instead of being killed by the operating system.
//!
//! Replications are merged as they finish (`results::Merger`), so what grows with the
//! replication count is only what a merged replication keeps. The parts:
//! 1. **A replication being simulated** holds its time series — per window, per client,
//!    endpoint and queue consumer, a latency histogram (HDR, 2 significant digits:
//!    [`WINDOW_HISTOGRAM_BYTES`]) and event counts; per station (each instance's workers, each
//!    database lane, each pool, each queue) levels — and its whole-run histograms
//!    ([`FULL_HISTOGRAM_BYTES`] each). A metastability watch copies it once more while its own
//!    windows are read.
//! 2. **Its requests in flight**: at most `max_in_flight` requests, each a chain of jobs as deep
//!    as the deepest chain of calls (twice the chain below a hedged call), plus their events
//!    ([`REQUEST_JOB_BYTES`] per job). A replication reaches it only when it goes unstable, but
//!    then it does.
//! 3. **A finished replication waiting for an earlier one** (at most [`FINISHED_PER_THREAD`] per
//!    thread are held, the one being simulated included) holds its time series until they are
//!    added to the running sums.
//! 4. **The running sums**: one set of time series (of the replications that ran, or of those
//!    cut short while none ran), whose histograms' counts may outgrow 4 bytes
//!    ([`SUMMED_WINDOW_HISTOGRAM_BYTES`]).
//! 5. **Each merged replication** keeps its counts and settled histograms: at most
//!    [`KEPT_COMPONENT_BYTES`] per component, plus the finishing time of each closed user of a
//!    batch.
//!
//! The total is (4) + (5) × replications + ((1) + (2) + (3)) × threads, without (3) for one
//! thread (it finishes its replications in order: each is merged at once); the thread count is
//! chosen to fit (results do not depend on it), and a run that does not fit with one thread is
//! refused.

use super::{Model, Step};

/// Bytes of one window of a latency series in a replication: an HDR histogram of 2 significant
/// digits (256 sub-buckets for each power of two up to the largest latency: 23 of them reach
/// 1 s) whose counts take 4 bytes each — a replication's window counts fewer values than its
/// event budget, so none reaches 2^32 while the budget is below it — 12 KiB, and the window's
/// counts.
pub const WINDOW_HISTOGRAM_BYTES: u64 = 12 * 1024 + 128;

/// Bytes of the same window in the running sums over replications, or in a replication whose
/// event budget reaches 2^32: its counts may outgrow 4 bytes and take 8 (24 KiB).
pub const SUMMED_WINDOW_HISTOGRAM_BYTES: u64 = 24 * 1024 + 128;

/// Bytes of one whole-run histogram of a replication (3 significant digits: 2048 sub-buckets of
/// 8 bytes for each power of two, 20 of them reach 1 s, 160 KiB): request latencies per client,
/// endpoint and queue consumer, waits per service and pool, query times per database.
pub const FULL_HISTOGRAM_BYTES: u64 = 160 * 1024;

/// Bytes of one window of a count series (requests ending or arriving) without latencies.
pub const WINDOW_EVENTS_BYTES: u64 = 128;

/// Bytes of one window of a level series (time-weighted busy units or waiting jobs).
pub const WINDOW_LEVEL_BYTES: u64 = 16;

/// Bytes a merged replication keeps per component (client, endpoint, service, database, pool,
/// queue, side effect, call site, rollout): its counts and its histograms settled to a few
/// quantiles. `results::merger` checks the components stay within it.
pub const KEPT_COMPONENT_BYTES: u64 = 768;

/// Bytes a merged replication keeps besides its components (its stop, coverage, shares).
pub const KEPT_REPLICATION_BYTES: u64 = 1024;

/// Replications per thread held at once, being simulated or finished and waiting for an earlier
/// one to be merged (see `capsim::replications`).
pub const FINISHED_PER_THREAD: u64 = 2;

/// Bytes of one key of a cache's key space in a replication: its place in the LRU list (two
/// indices), when it was filled, and the fill in flight it waits for (see `sim::key_space`).
pub const KEY_BYTES: u64 = 20;

/// Bytes of one job in flight: its slab entry plus its share of pending events (a timeout and a
/// reply or step, ~48 bytes each in the queue). `sim::job` checks the entry stays within it.
pub const REQUEST_JOB_BYTES: u64 = 384;

/// The memory a run needs, in bytes, by part (see the module's doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryNeed {
    /// One replication's time series (windows × series).
    pub series_per_replication: u64,
    /// The running sums of the replications' time series (counts of 8 bytes).
    pub series_summed: u64,
    /// One replication's whole-run histograms while it is simulated.
    pub histograms_per_replication: u64,
    /// One replication's cache entries while it is simulated (key spaces × [`KEY_BYTES`]).
    pub caches_per_replication: u64,
    /// What a merged replication keeps.
    pub kept_per_replication: u64,
    /// One replication's requests in flight at `max_in_flight`.
    pub in_flight_per_thread: u64,
    /// Replications merged (twice the model's for a watch judged against the run without its
    /// trigger).
    pub replications: u64,
    /// Copies of a replication a thread holds while splitting it (2 with a metastability watch).
    pub copies: u64,
    /// Windows per series.
    pub windows: u64,
    /// Latency series per replication (clients, endpoints, queue consumers).
    pub latency_series: u64,
    /// Jobs in the deepest chain of calls (a client request and every call below it).
    pub chain_depth: u64,
}

impl MemoryNeed {
    /// Bytes each replication thread needs when there are several: one replication simulated
    /// (and copied with a watch) with its requests in flight, and the series of a finished one
    /// waiting for an earlier one, still simulated on another thread, to be merged.
    pub fn per_thread(&self) -> u64 {
        self.simulated()
            .saturating_add(self.series_per_replication.saturating_mul(FINISHED_PER_THREAD - 1))
    }

    /// Bytes of one replication being simulated: its series and histograms (copied with a
    /// watch) and its requests in flight.
    fn simulated(&self) -> u64 {
        self.series_per_replication
            .saturating_add(self.histograms_per_replication)
            .saturating_mul(self.copies)
            .saturating_add(self.in_flight_per_thread)
            .saturating_add(self.caches_per_replication)
    }

    /// Bytes needed whatever the threads: the running sums (one set of series) and the merged
    /// replications.
    pub fn merged(&self) -> u64 {
        self.series_summed
            .saturating_add(self.kept_per_replication.saturating_mul(self.replications))
    }

    /// Bytes needed with `threads` replications simulated at once. One thread finishes its
    /// replications in order, so none waits: it holds only the one it simulates.
    pub fn total(&self, threads: u64) -> u64 {
        if threads <= 1 {
            self.merged().saturating_add(self.simulated())
        } else {
            self.merged().saturating_add(self.per_thread().saturating_mul(threads))
        }
    }

    /// The most threads (at most `wanted`, at least 1) whose run fits in `budget` bytes; None
    /// when not even one does.
    pub fn threads_within(&self, budget: u64, wanted: u64) -> Option<u64> {
        if self.total(1) > budget {
            return None;
        }
        let left = budget.saturating_sub(self.merged());
        let fit = left.checked_div(self.per_thread()).unwrap_or(wanted);
        Some(fit.clamp(1, wanted.max(1)))
    }
}

/// Bytes a sweep keeps per point and per result component (client, endpoint, service, database,
/// pool, queue, side effect) until the sweep is written: the point's model, its summaries and
/// their JSON. Measured: ~21 KB per component (a 3-component model, 10 windows).
pub const SWEEP_POINT_COMPONENT_BYTES: u64 = 32 * 1024;

/// Bytes a sweep keeps per point, per window and per result component: the time series of the
/// point's result and their JSON. Measured: ~850 bytes (1,000 windows × 3 components).
pub const SWEEP_POINT_WINDOW_BYTES: u64 = 1024;

/// Bytes a sweep keeps for each point of `model` until the sweep is written (every point's
/// full result is part of the sweep's output).
pub fn sweep_point(model: &Model) -> u64 {
    let components = (model.clients.len()
        + model.endpoints.len()
        + model.services.len()
        + model.databases.len()
        + model.pools.len()
        + model.queues.len()
        + model.effects.len()
        + model.limits.len()) as u64;
    let windows = model.window_count() as u64;
    components.saturating_mul(SWEEP_POINT_COMPONENT_BYTES.saturating_add(windows.saturating_mul(SWEEP_POINT_WINDOW_BYTES)))
}

/// Why a sweep whose `points` (the ones this run makes) of `model` would keep more than `budget`
/// bytes beside one run's needs does not fit, naming what to change; None when it fits.
pub fn sweep_refusal(model: &Model, points: usize, budget: u64) -> Option<String> {
    use super::units::format_bytes;
    let per_point = sweep_point(model);
    let need = estimate(model)
        .total(1)
        .saturating_add(per_point.saturating_mul(points as u64));
    (need > budget).then(|| {
        format!(
            "this sweep needs about {} with one thread: {points} points, each keeping its results until the sweep is \
             written ({}: {} windows), beside one run's {}; more than the {} allowed: sweep fewer points, use a coarser \
             \"window\", split it with --shard I/N (each shard keeps only its own points) and `capsim merge` them, \
             or raise limits.max_memory (--max-memory) if the machine has the memory",
            format_bytes(need),
            format_bytes(per_point),
            model.window_count(),
            format_bytes(estimate(model).total(1)),
            format_bytes(budget)
        )
    })
}

/// Estimate what `model` needs (see the module's doc for the parts).
pub fn estimate(model: &Model) -> MemoryNeed {
    let windows = model.window_count() as u64;
    let latency_series = (model.clients.len() + model.endpoints.len() + model.queues.len()) as u64;
    let instances: u64 = model.services.iter().map(|s| u64::from(s.max_instances())).sum();
    let lanes: u64 = model.databases.iter().map(|d| 1 + d.groups.len() as u64).sum();
    // Busy and waiting levels per station; connection levels per database; queue backlogs.
    let level_series = 2 * (instances + lanes + model.pools.len() as u64 + model.queues.len() as u64)
        + model.databases.len() as u64
        + model.effects.len() as u64
        // Admitted and rejected per limit.
        + model.limits.len() as u64;
    // Answers and arrivals per latency series; a replication's window histograms count in 4
    // bytes while its event budget keeps every count below 2^32.
    let histogram = if model.max_events <= u64::from(u32::MAX) {
        WINDOW_HISTOGRAM_BYTES
    } else {
        SUMMED_WINDOW_HISTOGRAM_BYTES
    };
    let levels = level_series * WINDOW_LEVEL_BYTES;
    let per_window = latency_series * (histogram + WINDOW_EVENTS_BYTES) + levels;
    let per_window_summed = latency_series * (SUMMED_WINDOW_HISTOGRAM_BYTES + WINDOW_EVENTS_BYTES) + levels;
    let full_histograms =
        latency_series + model.services.len() as u64 + 2 * model.databases.len() as u64 + model.pools.len() as u64;
    let chain_depth = 1 + deepest_chain(model);
    let components = model.clients.len()
        + model.endpoints.len()
        + model.services.len()
        + model.databases.len()
        + model.pools.len()
        + model.queues.len()
        + model.effects.len()
        + model.call_sites.len()
        + model.actions.len()
        + model.limits.len();
    // A bulkhead keeps its places and line per instance of its caller (its waiters are requests
    // in flight, counted with them).
    let compartments: u64 = model
        .limits
        .iter()
        .map(|l| match &l.kind {
            super::LimitKind::Bulkhead(b) => u64::from(b.instances),
            super::LimitKind::RateLimit(_) => 0,
        })
        .sum();
    // A closed user with a fixed number of requests keeps its finishing time and counts.
    let batch_users: u64 = model
        .clients
        .iter()
        .map(|c| match &c.arrivals {
            super::Arrivals::Closed {
                users,
                requests: Some(_),
                ..
            } => u64::from(*users),
            _ => 0,
        })
        .sum();
    MemoryNeed {
        series_per_replication: windows.saturating_mul(per_window),
        series_summed: windows.saturating_mul(per_window_summed),
        histograms_per_replication: full_histograms * FULL_HISTOGRAM_BYTES,
        caches_per_replication: model.key_spaces.iter().map(|k| u64::from(k.keys) * KEY_BYTES).sum(),
        kept_per_replication: KEPT_REPLICATION_BYTES
            + components as u64 * KEPT_COMPONENT_BYTES
            + batch_users * 24
            + window_judged_bytes(model),
        in_flight_per_thread: u64::from(model.max_in_flight)
            .saturating_mul(chain_depth)
            .saturating_mul(REQUEST_JOB_BYTES)
            .saturating_add(compartments * 48),
        replications: u64::from(model.replications) * if watch_runs_twice(model) { 2 } else { 1 },
        copies: if model.metastability.is_some() { 2 } else { 1 },
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
/// endpoint it calls and every synchronous call below it (calls form no cycle); a hedged call
/// counts its two copies, each with the chain below it.
fn deepest_chain(model: &Model) -> u64 {
    fn depth(model: &Model, e: usize, memo: &mut Vec<Option<u64>>) -> u64 {
        if let Some(d) = memo[e] {
            return d;
        }
        let below = model.endpoints[e]
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Call(call) => Some(copies(model, call) * depth(model, call.target.0, memo)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        memo[e] = Some(1 + below);
        1 + below
    }
    let mut memo = vec![None; model.endpoints.len()];
    let from_clients = model.clients.iter().map(|c| &c.call);
    let from_queues = model.queues.iter().map(|q| &q.call);
    let roots: Vec<&super::Call> = from_clients.chain(from_queues).collect();
    roots
        .into_iter()
        .map(|call| copies(model, call) * depth(model, call.target.0, &mut memo))
        .max()
        .unwrap_or(0)
}

/// Copies of one attempt of `call` in flight at once: two when it hedges.
fn copies(model: &Model, call: &super::Call) -> u64 {
    if model.call_sites[call.site].hedge.is_some() {
        2
    } else {
        1
    }
}

/// Why `need` does not fit in `budget` bytes even with one thread, naming what to change.
pub fn refusal(model: &Model, need: &MemoryNeed, budget: u64) -> String {
    use super::units::format_bytes;
    let held = if need.copies > 1 {
        "for the replication being simulated, held twice (it is copied for the metastability watch)"
    } else {
        "for the replication being simulated"
    };
    let merged = need.kept_per_replication.saturating_mul(need.replications);
    let replications = if need.replications == 1 {
        "replication"
    } else {
        "replications"
    };
    // Fewer replications help only where what the merged ones keep weighs.
    let fewer = if merged.saturating_mul(4) > need.total(1) {
        "fewer replications, "
    } else {
        ""
    };
    // Close to the budget, one decimal would print the need and the budget alike: say it in MB.
    let needed = match (format_bytes(need.total(1)), format_bytes(budget)) {
        (a, b) if a == b => format!("{} MB", need.total(1) / 1_000_000),
        (a, _) => a,
    };
    let caches = if need.caches_per_replication > 0 {
        format!(", {} for the caches' keys", format_bytes(need.caches_per_replication))
    } else {
        String::new()
    };
    format!(
        "this run needs about {needed} with one thread: the time series ({} windows × {} latency series) take {} \
         {held} and {} for the running sums over replications, plus {} of whole-run histograms{caches}, {} for up to {} requests in flight ({} jobs deep) \
         and {} for the {} {replications} merged; more than the {} allowed: use {fewer}a coarser \"window\", \
         a lower limits.max_in_flight, or raise limits.max_memory (--max-memory) if the machine has the memory",
        need.windows,
        need.latency_series,
        format_bytes(need.series_per_replication),
        format_bytes(need.series_summed),
        format_bytes(need.histograms_per_replication.saturating_mul(need.copies)),
        format_bytes(need.in_flight_per_thread),
        model.max_in_flight,
        need.chain_depth,
        format_bytes(merged),
        need.replications,
        format_bytes(budget)
    )
}

/// What a merged replication keeps for SLOs judged on windows: one value per objective of every
/// SLO (a list's header and 8 bytes each), or nothing when every SLO is judged on the run.
fn window_judged_bytes(model: &Model) -> u64 {
    if model.slos.iter().all(|s| s.judge == super::Judge::Run) {
        return 0;
    }
    let objectives: usize = model
        .slos
        .iter()
        .map(|s| {
            usize::from(s.mean.is_some())
                + s.latency.len()
                + usize::from(s.error_rate.is_some())
                + usize::from(s.waited.is_some())
        })
        .sum();
    24 + 8 * objectives as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(series: u64, kept: u64, replications: u64) -> MemoryNeed {
        MemoryNeed {
            series_per_replication: series,
            series_summed: series,
            histograms_per_replication: 100,
            caches_per_replication: 0,
            kept_per_replication: kept,
            in_flight_per_thread: 1000,
            replications,
            copies: 1,
            windows: 10,
            latency_series: 2,
            chain_depth: 2,
        }
    }

    #[test]
    fn a_thread_holds_two_replications_series_and_the_run_one_set_of_sums() {
        // Sums (10,000) + merged (3 × 50) + per thread: simulated (10,000 + 100 + 1000 in
        // flight) and, with several threads, a finished one waiting (10,000).
        let n = need(10_000, 50, 3);
        assert_eq!(n.merged(), 10_150);
        assert_eq!(n.per_thread(), 21_100);
        assert_eq!(n.total(2), 10_150 + 2 * 21_100);
        assert_eq!(n.threads_within(10_150 + 2 * 21_100 + 5, 8), Some(2));
        // One thread merges each replication as it finishes: nothing waits.
        assert_eq!(n.total(1), 10_150 + 11_100);
        assert_eq!(n.threads_within(10_150 + 11_100, 8), Some(1));
        assert_eq!(n.threads_within(10_150 + 11_099, 8), None);
    }

    #[test]
    fn window_histograms_count_in_four_bytes_up_to_an_event_budget_of_two_to_the_32() {
        // One client and one endpoint: 2 latency series; 60 windows of 1 s; one worker line,
        // whose busy and waiting levels are the 2 level series.
        let model_with = |budget: u64| {
            let text = format!(
                r#"{{ "duration": "1m", "warmup": "0s", "window": "1s", "limits": {{ "max_events": {budget} }},
                    "clients": {{ "web": {{ "open": {{ "rate": "1/s" }}, "calls": "api.get" }} }},
                    "services": {{ "api": {{ "endpoints": {{ "get": [ {{ "cpu": "1ms" }} ] }} }} }} }}"#
            );
            estimate(&crate::model::parse_model(&text, "m.json").unwrap().model)
        };
        let levels = 2 * WINDOW_LEVEL_BYTES;
        let narrow = 60 * (2 * (12 * 1024 + 128 + WINDOW_EVENTS_BYTES) + levels);
        let wide = 60 * (2 * (24 * 1024 + 128 + WINDOW_EVENTS_BYTES) + levels);
        let at_most = model_with(u64::from(u32::MAX));
        assert_eq!((at_most.windows, at_most.latency_series), (60, 2));
        assert_eq!((at_most.series_per_replication, at_most.series_summed), (narrow, wide));
        // One event more and a replication's counts may pass 2^32: 8 bytes each.
        let beyond = model_with(u64::from(u32::MAX) + 1);
        assert_eq!((beyond.series_per_replication, beyond.series_summed), (wide, wide));
    }

    #[test]
    fn fewer_replications_are_suggested_only_where_the_merged_ones_weigh() {
        let model = crate::model::parse_model(
            r#"{ "clients": { "web": { "open": { "rate": "1/s" }, "calls": "api.get" } },
                "services": { "api": { "endpoints": { "get": [ { "cpu": "1ms" } ] } } } }"#,
            "m.json",
        )
        .unwrap()
        .model;
        let series_bound = refusal(&model, &need(10_000, 50, 3), 1);
        assert!(
            series_bound.contains("for the running sums over replications"),
            "{series_bound}"
        );
        assert!(!series_bound.contains("fewer replications"), "{series_bound}");
        // Just above the budget, the need is said precisely enough to differ from it.
        let close = need(900_000_000, 50, 3);
        let budget = close.total(1) - 1_000_000;
        assert!(refusal(&model, &close, budget).contains(&format!("needs about {} MB", close.total(1) / 1_000_000)));
        let replications_bound = refusal(&model, &need(10, 50_000, 10_000), 1);
        assert!(
            replications_bound.contains("use fewer replications, a coarser"),
            "{replications_bound}"
        );
    }
}
