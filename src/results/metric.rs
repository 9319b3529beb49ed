//! Metrics by name, as people write them in expectations and sweeps: `api.checkout.p99`,
//! `web.error_rate`, `pool.pgbouncer.wait.p95`, `api.utilisation`, `pg.query.p99`.

use crate::results::{LatencySummary, RunResult, WaitSummary};
use crate::stats::Estimate;

/// What a metric's values are measured in, to read bounds and print values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds (latencies, waits); bounds are durations like "300ms".
    Millis,
    /// A share from 0 to 1 (error rates, utilisation); bounds like "1%" or 0.01.
    Share,
    /// Seconds (batch makespan); bounds are durations like "15m".
    Seconds,
    /// A plain number (requests per second, queue length).
    Count,
}

impl Unit {
    /// The unit's name in JSON outputs: "ms", "share", "s" or "count".
    pub fn name(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Share => "share",
            Unit::Seconds => "s",
            Unit::Count => "count",
        }
    }

    /// The unit of a name written by [`Unit::name`] (anything else is a count).
    pub fn from_name(name: &str) -> Unit {
        match name {
            "ms" => Unit::Millis,
            "share" => Unit::Share,
            "s" => Unit::Seconds,
            _ => Unit::Count,
        }
    }
}

/// Which way a metric moves when the system gets worse: latency, utilisation, queues, error
/// rates, backlogs and amplification rise; throughput, goodput, deliveries, queries served,
/// instances up, availability and a batch's slack fall. The metastability verdict ("worse than
/// the baseline", not merely different) and a sweep's direction both read it from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Higher is worse (latency, utilisation, queue, error rate, backlog).
    RisesWhenWorse,
    /// Lower is worse (throughput, goodput, available).
    FallsWhenWorse,
}

impl Direction {
    /// Whether `value` is worse than `reference` in this direction (false when either is NaN).
    pub fn is_worse(self, value: f64, reference: f64) -> bool {
        match self {
            Direction::RisesWhenWorse => value > reference,
            Direction::FallsWhenWorse => value < reference,
        }
    }

    /// The worse of the two ends of a band [low, high]: the edge a value must cross to be worse.
    pub fn edge(self, band: [f64; 2]) -> f64 {
        match self {
            Direction::RisesWhenWorse => band[1],
            Direction::FallsWhenWorse => band[0],
        }
    }
}

/// The direction of the metric named `name` ("api.checkout.p99", "web.throughput"), from its
/// statistic (the last part of the name) in the [`catalog`](super::catalog); a name the catalog
/// does not know rises when worse.
pub fn direction(name: &str) -> Direction {
    let stat = name.trim().rsplit('.').next().unwrap_or_default();
    super::catalog::CATALOG
        .iter()
        .flat_map(super::catalog::Kind::statistics)
        .find(|s| s.name.rsplit('.').next() == Some(stat))
        .map_or(Direction::RisesWhenWorse, |s| s.direction)
}

/// A metric resolved against a result: its estimate and unit.
#[derive(Clone, Debug)]
pub struct MetricValue {
    /// The value across replications.
    pub estimate: Estimate,
    /// Its unit.
    pub unit: Unit,
}

fn latency(l: &LatencySummary, stat: &str) -> Option<Estimate> {
    Some(
        match stat {
            "p50" => &l.p50_ms,
            "p90" => &l.p90_ms,
            "p99" => &l.p99_ms,
            "p999" => &l.p999_ms,
            "max" => &l.max_ms,
            "mean" => &l.mean_ms,
            _ => return None,
        }
        .clone(),
    )
}

fn wait(w: &WaitSummary, stat: &str) -> Option<Estimate> {
    match stat {
        "wait.mean" => Some(w.mean_ms.clone()),
        "wait.p99" => Some(w.p99_ms.clone()),
        "waited" => Some(w.waited_share.clone()),
        _ => None,
    }
}

/// `estimate` as the value of statistic `stat` of a component of `kind`, in the catalog's unit.
fn valued(kind: &str, name: &str, stat: &str, estimate: Option<Estimate>) -> Result<MetricValue, String> {
    match (super::catalog::statistic(kind, stat).filter(|s| s.summary), estimate) {
        (Some(s), Some(estimate)) => Ok(MetricValue { estimate, unit: s.unit }),
        _ => Err(unknown(kind, name, stat)),
    }
}

/// Resolve `name` against `result`, or explain what exists.
pub fn resolve(result: &RunResult, name: &str) -> Result<MetricValue, String> {
    let name = name.trim();
    let name = ["client.", "endpoint.", "service.", "database.", "pool."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    // Limits first: their names have dots ("api.rate_limit", "api.checkout->pay.charge.bulkhead").
    for l in &result.limits {
        if let Some(stat) = name.strip_prefix(l.name.as_str()).and_then(|r| r.strip_prefix('.')) {
            let estimate = match stat {
                "admitted" => Some(l.admitted_per_s.clone()),
                "rejected" => Some(l.rejected_per_s.clone()),
                "rejected_share" => Some(l.rejected_share.clone()),
                _ => None,
            };
            return valued("limits", name, stat, estimate);
        }
    }
    // Hedges too: "web.hedge", "api.search->index.query.hedge".
    for h in &result.hedges {
        if let Some(stat) = name.strip_prefix(h.name.as_str()).and_then(|r| r.strip_prefix('.')) {
            return valued("hedges", name, stat, h.statistic(stat));
        }
    }
    // Caches first: an unnamed one is "api.menu[1]", and no name of a cache is another
    // component's.
    for c in &result.caches {
        if let Some(stat) = name.strip_prefix(c.name.as_str()).and_then(|r| r.strip_prefix('.')) {
            let estimate = match stat {
                "hit_ratio" => Some(c.hit_ratio.clone()),
                "misses" => Some(c.misses_per_s.clone()),
                "coalesced" => Some(c.coalesced_per_s.clone()),
                _ => None,
            };
            return valued("caches", name, stat, estimate);
        }
    }
    // Endpoints first: "api.checkout.p99" has a dot in the component name.
    for e in &result.endpoints {
        if let Some(stat) = name.strip_prefix(e.name.as_str()).and_then(|r| r.strip_prefix('.')) {
            let estimate = match stat {
                "error_rate" => Some(e.error_rate.clone()),
                "throughput" => Some(e.throughput_per_s.clone()),
                "sojourn" => Some(e.sojourn_ms.clone()),
                s => latency(&e.latency, s),
            };
            return valued("endpoints", name, stat, estimate);
        }
    }
    let (component, stat) = name
        .split_once('.')
        .ok_or_else(|| format!("expected \"component.statistic\" like \"api.checkout.p99\", got \"{name}\""))?;
    if let Some(c) = result.clients.iter().find(|c| c.name == component) {
        let estimate = match stat {
            "error_rate" => Some(c.error_rate.clone()),
            "throughput" => Some(c.throughput_per_s.clone()),
            "goodput" => Some(c.goodput_per_s.clone()),
            "makespan" | "slack" => {
                let batch = c
                    .batch
                    .as_ref()
                    .ok_or_else(|| format!("client \"{component}\" sends no fixed number of requests"))?;
                let e = if stat == "makespan" {
                    Some(batch.makespan_s.clone())
                } else {
                    batch.slack_s.clone()
                };
                Some(e.ok_or_else(|| format!("client \"{component}\" has no deadline"))?)
            }
            s => latency(&c.latency, s),
        };
        return valued("clients", name, stat, estimate);
    }
    if let Some(g) = result.groups.iter().find(|g| g.name == component) {
        let estimate = match stat {
            "error_rate" => Some(g.error_rate.clone()),
            "throughput" => Some(g.throughput_per_s.clone()),
            "goodput" => Some(g.goodput_per_s.clone()),
            _ => None,
        };
        return valued("groups of clients", name, stat, estimate);
    }
    if let Some(s) = result.services.iter().find(|s| s.name == component) {
        let estimate = match stat {
            "utilisation" => Some(s.utilisation.clone()),
            "queue" => Some(s.queue_length.clone()),
            "in_service" => Some(s.in_service.clone()),
            "wasted_cpu" => Some(s.wasted.cpu_s.clone()),
            "instances_up" => Some(s.instances_up.clone()),
            "available" => Some(s.available.clone()),
            _ => result
                .autoscalers
                .iter()
                .find(|a| a.name == component)
                .and_then(|a| a.statistic(stat))
                .or_else(|| {
                    result
                        .cpus
                        .iter()
                        .find(|c| c.name == component)
                        .and_then(|c| c.statistic(stat))
                })
                .or_else(|| wait(&s.worker_wait, stat)),
        };
        return valued("services", name, stat, estimate);
    }
    if let Some(d) = result.databases.iter().find(|d| d.name == component) {
        let estimate = match stat {
            "utilisation" => Some(d.utilisation.clone()),
            "queue" => Some(d.queue_length.clone()),
            "queries" => Some(d.queries_per_s.clone()),
            "connections" => Some(d.connections_in_use.clone()),
            s => s.strip_prefix("query.").and_then(|q| latency(&d.query_time, q)),
        };
        return valued("databases", name, stat, estimate);
    }
    if let Some(p) = result.pools.iter().find(|p| p.name == component) {
        let estimate = match stat {
            "utilisation" => Some(p.utilisation.clone()),
            "waiting" => Some(p.waiting.clone()),
            _ => wait(&p.acquire_wait, stat),
        };
        return valued("pools", name, stat, estimate);
    }
    if let Some(q) = result.queues.iter().find(|q| q.name == component) {
        let estimate = match stat {
            "amplification" => Some(q.amplification.clone()),
            "goodput" => Some(q.goodput_per_s.clone()),
            "deliveries" => Some(q.deliveries_per_s.clone()),
            "backlog" => Some(q.backlog.clone()),
            "error_rate" => Some(q.delivery_error_rate.clone()),
            _ => None,
        };
        return valued("queues", name, stat, estimate);
    }
    if let Some(e) = result.effects.iter().find(|e| e.name == component) {
        let estimate = (stat == "per_unit").then(|| e.per_unit.clone());
        return valued("side effects", name, stat, estimate);
    }
    if component == "blast_radius" {
        let b = &result.cascade.blast_radius;
        let estimate = match stat {
            "endpoints" => Some(b.endpoint_share_by_replication.clone()),
            "traffic" => Some(b.traffic_share_by_replication.clone()),
            _ => None,
        };
        return valued("blast_radius", name, stat, estimate);
    }
    let mut names: Vec<&str> = result.clients.iter().map(|c| c.name.as_str()).collect();
    names.extend(result.endpoints.iter().map(|e| e.name.as_str()));
    names.extend(result.services.iter().map(|s| s.name.as_str()));
    names.extend(result.databases.iter().map(|d| d.name.as_str()));
    names.extend(result.pools.iter().map(|p| p.name.as_str()));
    names.extend(result.queues.iter().map(|q| q.name.as_str()));
    names.extend(result.effects.iter().map(|e| e.name.as_str()));
    names.extend(result.groups.iter().map(|g| g.name.as_str()));
    names.extend(result.limits.iter().map(|l| l.name.as_str()));
    names.extend(result.hedges.iter().map(|h| h.name.as_str()));
    names.extend(result.caches.iter().map(|c| c.name.as_str()));
    Err(format!(
        "no component \"{component}\" in \"{name}\" (components: {})",
        names.join(", ")
    ))
}

/// Statistic `stat` of metric `name` is not one of its kind's.
fn unknown(kind: &str, name: &str, stat: &str) -> String {
    format!(
        "unknown statistic \"{stat}\" in \"{name}\" ({})",
        super::catalog::listing(Some(kind), false)
    )
}

/// Read a bound written for a metric of `unit`: "300ms" for latencies, "1%" or 0.01 for shares,
/// "15m" for seconds, a number for counts. Returns the bound in the metric's unit.
pub fn parse_bound(text: &str, unit: Unit) -> Result<f64, String> {
    let text = text.trim();
    match unit {
        Unit::Millis => crate::model::units::parse_duration(text)
            .map(|ns| ns as f64 / 1e6)
            .map_err(|why| format!("{why}, got \"{text}\"")),
        Unit::Seconds => crate::model::units::parse_duration(text)
            .map(|ns| ns as f64 / 1e9)
            .map_err(|why| format!("{why}, got \"{text}\"")),
        Unit::Share => crate::model::units::parse_ratio(text).map_err(|why| format!("{why}, got \"{text}\"")),
        Unit::Count => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("expected a number, got \"{text}\"")),
    }
}

/// A value of `unit` for people: "12.3 ms", "4.5 %", "3.2 s", "17.0".
pub fn format_value(value: f64, unit: Unit) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    match unit {
        Unit::Millis => format!("{} ms", significant(value)),
        Unit::Share => format!("{} %", significant(value * 100.0)),
        Unit::Seconds => format!("{} s", significant(value)),
        Unit::Count => significant(value),
    }
}

/// Three significant digits, without exponent.
pub fn significant(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$}")
}

/// The metric per time window, as (window start in seconds, value): the window columns of the
/// [registry](super::columns::WINDOWS) that are statistics of the component's kind (for clients
/// and endpoints `p50`, `p99`, `throughput`, `error_rate`; for services, databases and pools
/// `utilisation` and `queue` / `waiting`; …). Empty windows give NaN.
pub fn series(result: &RunResult, name: &str) -> Result<Vec<(f64, f64)>, String> {
    let name = name.trim();
    let windows = |component: &str, stat: &str| {
        super::columns::WINDOWS
            .iter()
            .find_map(|table| table.series(result, component, stat))
    };
    // Limits, caches and endpoints first: their names may have dots ("api.rate_limit",
    // "api.menu[1].hit_ratio", "api.checkout.p99").
    let found = if let Some(l) = result
        .limits
        .iter()
        .find(|l| name.strip_prefix(l.name.as_str()).is_some_and(|r| r.starts_with('.')))
    {
        windows(&l.name, &name[l.name.len() + 1..])
    } else if let Some(c) = result
        .caches
        .iter()
        .find(|c| name.strip_prefix(c.name.as_str()).is_some_and(|r| r.starts_with('.')))
    {
        windows(&c.name, &name[c.name.len() + 1..])
    } else if let Some(e) = result
        .endpoints
        .iter()
        .find(|e| name.strip_prefix(e.name.as_str()).is_some_and(|r| r.starts_with('.')))
    {
        windows(&e.name, &name[e.name.len() + 1..])
    } else {
        let (component, stat) = name.split_once('.').unwrap_or((name, ""));
        windows(component, stat)
    };
    found.ok_or_else(|| {
        format!(
            "\"{name}\" has no time series; statistics with one: {}",
            super::catalog::listing(None, true)
        )
    })
}

/// How long after `from_s` the metric's windows come back, for good, to no worse than the band
/// the baseline's windows span (widened by 10 % of its edge): the start of the first window at
/// or after `from_s` from which no window is worse than the band's edge in the metric's
/// `direction` (a latency below its usual range, or a throughput above it while a backlog
/// drains, is not "not recovered"), minus `from_s`, in seconds. `None` when the last window is
/// still worse. Empty windows count as recovered.
pub fn recovery_s(scenario: &[(f64, f64)], baseline: &[(f64, f64)], from_s: f64, direction: Direction) -> Option<f64> {
    let finite = baseline.iter().map(|w| w.1).filter(|v| v.is_finite());
    let edge = match direction {
        Direction::RisesWhenWorse => {
            let high = finite.fold(f64::NEG_INFINITY, f64::max);
            high + 0.1 * high.abs()
        }
        Direction::FallsWhenWorse => {
            let low = finite.fold(f64::INFINITY, f64::min);
            low - 0.1 * low.abs()
        }
    };
    let worse = |v: f64| v.is_finite() && edge.is_finite() && direction.is_worse(v, edge);
    let after: Vec<&(f64, f64)> = scenario.iter().filter(|w| w.0 >= from_s - 1e-9).collect();
    let first_good = after.iter().rposition(|w| worse(w.1)).map_or(0, |bad| bad + 1);
    after.get(first_good).map(|w| (w.0 - from_s).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::{direction, recovery_s, Direction};

    #[test]
    fn throughput_goodput_and_availability_fall_when_worse_everything_else_rises() {
        for name in [
            "web.throughput",
            "web.goodput",
            "api.available",
            "q.deliveries",
            "pg.queries",
            "batch.slack",
        ] {
            assert_eq!(direction(name), Direction::FallsWhenWorse, "{name}");
        }
        for name in [
            "api.checkout.p99",
            "api.utilisation",
            "pg.queue",
            "web.error_rate",
            "q.backlog",
            "pool.p.wait.p99",
        ] {
            assert_eq!(direction(name), Direction::RisesWhenWorse, "{name}");
        }
        assert!(Direction::FallsWhenWorse.is_worse(1.0, 2.0) && !Direction::RisesWhenWorse.is_worse(1.0, 2.0));
        assert!(!Direction::RisesWhenWorse.is_worse(f64::NAN, 2.0));
    }

    #[test]
    fn recovery_is_the_first_window_from_which_the_metric_stays_in_the_baseline_band() {
        let baseline: Vec<(f64, f64)> = (0..10).map(|i| (60.0 * i as f64, 10.0 + (i % 2) as f64)).collect();
        // Out of the band [9, 12.1] from 180 s to 299 s, back from 300 s; a blip at 420 s.
        let mut scenario = baseline.clone();
        scenario[3].1 = 50.0;
        scenario[4].1 = 30.0;
        let rises = Direction::RisesWhenWorse;
        assert_eq!(recovery_s(&scenario, &baseline, 240.0, rises), Some(60.0));
        scenario[7].1 = 13.0;
        assert_eq!(recovery_s(&scenario, &baseline, 240.0, rises), Some(240.0));
        scenario[9].1 = 40.0;
        assert_eq!(recovery_s(&scenario, &baseline, 240.0, rises), None);
        assert_eq!(recovery_s(&baseline, &baseline, 240.0, rises), Some(0.0));
    }

    #[test]
    fn only_windows_worse_than_the_band_delay_recovery() {
        // Band [10, 11]: its worse edge is 12.1 for a latency and 9 for a throughput.
        let baseline: Vec<(f64, f64)> = (0..10).map(|i| (60.0 * i as f64, 10.0 + (i % 2) as f64)).collect();
        let mut scenario = baseline.clone();
        // A latency far below its usual range after the action, and a throughput above it
        // (a backlog draining): both recovered at once.
        scenario[5].1 = 1.0;
        scenario[6].1 = 30.0;
        assert_eq!(
            recovery_s(&scenario, &baseline, 240.0, Direction::RisesWhenWorse),
            Some(180.0)
        );
        assert_eq!(
            recovery_s(&scenario, &baseline, 240.0, Direction::FallsWhenWorse),
            Some(120.0)
        );
        // At the edges themselves, still recovered.
        scenario[5].1 = 9.0;
        scenario[6].1 = 12.1;
        assert_eq!(recovery_s(&scenario, &baseline, 240.0, Direction::RisesWhenWorse), Some(0.0));
        assert_eq!(recovery_s(&scenario, &baseline, 240.0, Direction::FallsWhenWorse), Some(0.0));
    }
}
