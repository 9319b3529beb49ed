//! Metrics by name, as people write them in expectations and sweeps: `api.checkout.p99`,
//! `web.error_rate`, `pool.pgbouncer.wait.p95`, `api.utilisation`, `pg.query.p99`.

use crate::results::RunResult;
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

/// Resolve `name` against `result`, or explain what exists: the component and its statistic are
/// found in the registry of columns ([`super::columns::LOOKUP`]), the unit in the catalog.
pub fn resolve(result: &RunResult, name: &str) -> Result<MetricValue, String> {
    let name = name.trim();
    let name = ["client.", "endpoint.", "service.", "database.", "pool."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    let Some((kind, component, stat)) = super::columns::component_of(result, name) else {
        let (component, _) = name
            .split_once('.')
            .ok_or_else(|| format!("expected \"component.statistic\" like \"api.checkout.p99\", got \"{name}\""))?;
        let mut names: Vec<&str> = Vec::new();
        for table in super::columns::LOOKUP {
            for n in table.names(result) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        return Err(format!(
            "no component \"{component}\" in \"{name}\" (components: {})",
            names.join(", ")
        ));
    };
    let estimate = super::columns::look_up(result, kind, component, stat);
    match (super::catalog::statistic(kind, stat).filter(|s| s.summary), estimate) {
        (Some(s), Some(estimate)) => Ok(MetricValue {
            estimate: estimate.clone(),
            unit: s.unit,
        }),
        (Some(_), None) if kind == "clients" && matches!(stat, "makespan" | "slack") => {
            let batch = result
                .clients
                .iter()
                .find(|c| c.name == component)
                .and_then(|c| c.batch.as_ref());
            Err(match batch {
                None => format!("client \"{component}\" sends no fixed number of requests"),
                Some(_) => format!("client \"{component}\" has no deadline"),
            })
        }
        _ => Err(unknown(kind, name, stat)),
    }
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
    // The component as look-ups find it: names may have dots ("api.rate_limit",
    // "api.menu[1].hit_ratio", "api.checkout.p99").
    let found = match super::columns::component_of(result, name) {
        Some((_, component, stat)) => windows(component, stat),
        None => {
            let (component, stat) = name.split_once('.').unwrap_or((name, ""));
            windows(component, stat)
        }
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
