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

/// A metric resolved against a result: its estimate and unit.
#[derive(Clone, Debug)]
pub struct MetricValue {
    /// The value across replications.
    pub estimate: Estimate,
    /// Its unit.
    pub unit: Unit,
}

/// The statistics every metric name can end with, for messages.
pub const KNOWN: &str = "for clients and endpoints: p50, p90, p99, p999, max, mean, error_rate, throughput \
    (endpoints also sojourn; batch clients makespan, slack); for services: utilisation, queue, in_service, \
    wait.mean, wait.p99; for databases: utilisation, queue, queries, connections, query.p50/p90/p99/mean; \
    for pools: utilisation, waiting, wait.mean, wait.p99, waited";

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

fn wait(w: &WaitSummary, stat: &str) -> Option<MetricValue> {
    match stat {
        "wait.mean" => Some(ms(w.mean_ms.clone())),
        "wait.p99" => Some(ms(w.p99_ms.clone())),
        "waited" => Some(share(w.waited_share.clone())),
        _ => None,
    }
}

fn ms(estimate: Estimate) -> MetricValue {
    MetricValue {
        estimate,
        unit: Unit::Millis,
    }
}
fn share(estimate: Estimate) -> MetricValue {
    MetricValue {
        estimate,
        unit: Unit::Share,
    }
}
fn count(estimate: Estimate) -> MetricValue {
    MetricValue {
        estimate,
        unit: Unit::Count,
    }
}

/// Resolve `name` against `result`, or explain what exists.
pub fn resolve(result: &RunResult, name: &str) -> Result<MetricValue, String> {
    let name = name.trim();
    let name = ["client.", "endpoint.", "service.", "database.", "pool."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    // Endpoints first: "api.checkout.p99" has a dot in the component name.
    for e in &result.endpoints {
        if let Some(stat) = name.strip_prefix(e.name.as_str()).and_then(|r| r.strip_prefix('.')) {
            return match stat {
                "error_rate" => Ok(share(e.error_rate.clone())),
                "throughput" => Ok(count(e.throughput_per_s.clone())),
                "sojourn" => Ok(ms(e.sojourn_ms.clone())),
                s => latency(&e.latency, s).map(ms).ok_or_else(|| unknown(name, stat)),
            };
        }
    }
    let (component, stat) = name
        .split_once('.')
        .ok_or_else(|| format!("expected \"component.statistic\" like \"api.checkout.p99\", got \"{name}\""))?;
    if let Some(c) = result.clients.iter().find(|c| c.name == component) {
        return match stat {
            "error_rate" => Ok(share(c.error_rate.clone())),
            "throughput" => Ok(count(c.throughput_per_s.clone())),
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
                e.map(|estimate| MetricValue {
                    estimate,
                    unit: Unit::Seconds,
                })
                .ok_or_else(|| format!("client \"{component}\" has no deadline"))
            }
            s => latency(&c.latency, s).map(ms).ok_or_else(|| unknown(name, stat)),
        };
    }
    if let Some(s) = result.services.iter().find(|s| s.name == component) {
        return match stat {
            "utilisation" => Ok(share(s.utilisation.clone())),
            "queue" => Ok(count(s.queue_length.clone())),
            "in_service" => Ok(count(s.in_service.clone())),
            _ => wait(&s.worker_wait, stat).ok_or_else(|| unknown(name, stat)),
        };
    }
    if let Some(d) = result.databases.iter().find(|d| d.name == component) {
        return match stat {
            "utilisation" => Ok(share(d.utilisation.clone())),
            "queue" => Ok(count(d.queue_length.clone())),
            "queries" => Ok(count(d.queries_per_s.clone())),
            "connections" => Ok(count(d.connections_in_use.clone())),
            s => s
                .strip_prefix("query.")
                .and_then(|q| latency(&d.query_time, q))
                .map(ms)
                .ok_or_else(|| unknown(name, stat)),
        };
    }
    if let Some(p) = result.pools.iter().find(|p| p.name == component) {
        return match stat {
            "utilisation" => Ok(share(p.utilisation.clone())),
            "waiting" => Ok(count(p.waiting.clone())),
            _ => wait(&p.acquire_wait, stat).ok_or_else(|| unknown(name, stat)),
        };
    }
    let mut names: Vec<&str> = result.clients.iter().map(|c| c.name.as_str()).collect();
    names.extend(result.endpoints.iter().map(|e| e.name.as_str()));
    names.extend(result.services.iter().map(|s| s.name.as_str()));
    names.extend(result.databases.iter().map(|d| d.name.as_str()));
    names.extend(result.pools.iter().map(|p| p.name.as_str()));
    Err(format!(
        "no component \"{component}\" in \"{name}\" (components: {})",
        names.join(", ")
    ))
}

fn unknown(name: &str, stat: &str) -> String {
    format!("unknown statistic \"{stat}\" in \"{name}\" ({KNOWN})")
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
