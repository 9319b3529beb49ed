//! Service level objectives: each bound compared with the measured estimate and its CI, judged
//! on the whole run or on time windows (peak-aware), with the stretches of time each objective's
//! windows breached it.

use super::cascade::Windows;
use super::{LatencySummary, RunResult, SloResult};
use crate::model::units::{format_duration, nanos_to_secs, Nanos};
use crate::model::{Judge, Model, Slo, SloTarget};
use crate::stats::Estimate;

/// How an SLO objective fared (written in JSON as [`SloStatus::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloStatus {
    /// The whole confidence interval is within the bound.
    Met,
    /// The whole confidence interval is past the bound.
    Breached,
    /// The interval straddles the bound (or nothing was measured): more replications would tell.
    Uncertain,
}

impl SloStatus {
    /// The status as written in JSON: "met", "breached" or "uncertain".
    pub fn name(self) -> &'static str {
        match self {
            SloStatus::Met => "met",
            SloStatus::Breached => "breached",
            SloStatus::Uncertain => "uncertain",
        }
    }
}

/// A share as a percentage without the float noise of the product (0.15 → 15, not
/// 15.000000000000002).
fn percent(share: f64) -> f64 {
    (share * 100.0 * 1e9).round() / 1e9
}

/// Whether an objective (as written in results: "error rate <= 1%", "waited <= 20%") is
/// measured as a share, not in milliseconds.
pub fn objective_is_share(objective: &str) -> bool {
    objective.starts_with("error rate") || objective.starts_with("waited")
}

impl SloResult {
    /// When its windows breached it, for people: "breached 20m–35m (15m)", "breached 20m–35m,
    /// 50m–52m (17m in all)"; empty when no window did.
    pub fn breaches_text(&self) -> String {
        use crate::model::units::format_duration_f64 as t;
        if self.breached_s.is_empty() {
            return String::new();
        }
        let spans: Vec<String> = self.breached_s.iter().map(|[a, b]| format!("{}–{}", t(*a), t(*b))).collect();
        let total: f64 = self.breached_s.iter().map(|[a, b]| b - a).sum();
        let all = if spans.len() == 1 { "" } else { " in all" };
        format!("breached {} ({}{all})", spans.join(", "), t(total))
    }
}

/// Met when the whole CI is within the bound, breached when the whole CI is past it,
/// uncertain otherwise.
pub fn status(measured: &Estimate, bound: f64) -> SloStatus {
    if measured.n == 0 {
        SloStatus::Uncertain
    } else if measured.high() <= bound {
        SloStatus::Met
    } else if measured.low() > bound {
        SloStatus::Breached
    } else {
        SloStatus::Uncertain
    }
}

/// The latency estimate for quantile `q` (one of 0.5, 0.9, 0.99, 0.999).
fn quantile(latency: &LatencySummary, q: f64) -> &Estimate {
    if q <= 0.5 {
        &latency.p50_ms
    } else if q <= 0.9 {
        &latency.p90_ms
    } else if q <= 0.99 {
        &latency.p99_ms
    } else {
        &latency.p999_ms
    }
}

/// One objective of an SLO.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Objective {
    /// Mean latency of successful requests at most this.
    Mean(Nanos),
    /// Latency quantile q at most this.
    Quantile(f64, Nanos),
    /// Share of requests failing at most this.
    ErrorRate(f64),
    /// Share of a service's requests waiting for a worker at most this.
    Waited(f64),
}

impl Objective {
    /// The objective as written in results: "mean <= 50ms", "p99 <= 300ms", "error rate <= 1%".
    fn text(self) -> String {
        match self {
            Objective::Mean(bound) => format!("mean <= {}", format_duration(bound)),
            Objective::Quantile(q, bound) => {
                let label = match q {
                    q if q <= 0.5 => "p50",
                    q if q <= 0.9 => "p90",
                    q if q <= 0.99 => "p99",
                    _ => "p999",
                };
                format!("{label} <= {}", format_duration(bound))
            }
            Objective::ErrorRate(bound) => format!("error rate <= {}%", percent(bound)),
            Objective::Waited(bound) => format!("waited <= {}%", percent(bound)),
        }
    }

    /// The bound in the measured unit: ms, or a share.
    fn bound(self) -> f64 {
        match self {
            Objective::Mean(b) | Objective::Quantile(_, b) => nanos_to_secs(b) * 1e3,
            Objective::ErrorRate(b) | Objective::Waited(b) => b,
        }
    }

    /// Its value in window `i` of `windows`; `None` when the window cannot judge it: no
    /// successful answer (mean), fewer than 1/(1 − q) of them (a quantile is never just the
    /// slowest one), or fewer than 1/bound finished requests (an error rate: one failure alone
    /// never breaches it; a bound of 0 is judged on the run only).
    fn in_window(self, windows: &Windows, row: &crate::stats::SeriesRow, i: usize) -> Option<f64> {
        match self {
            Objective::Mean(_) => (row.ok > 0).then(|| windows.answers.mean_ms(i)),
            Objective::Quantile(q, _) => ((row.ok as f64) >= 1.0 / (1.0 - q)).then(|| windows.answers.quantile_ms(i, q)),
            Objective::ErrorRate(bound) => {
                (bound > 0.0 && row.count as f64 * bound >= 1.0).then(|| row.errors as f64 / row.count as f64)
            }
            Objective::Waited(_) => None,
        }
    }
}

/// The objectives of `slo`, in the order results list them: mean, quantiles, error rate.
fn objectives(slo: &Slo) -> Vec<Objective> {
    let mut out: Vec<Objective> = slo.mean.map(Objective::Mean).into_iter().collect();
    out.extend(slo.latency.iter().map(|&(q, b)| Objective::Quantile(q, b)));
    out.extend(slo.error_rate.map(Objective::ErrorRate));
    out.extend(slo.waited.map(Objective::Waited));
    out
}

/// The windows of an SLO's component.
fn windows_of<'w>(slo: &Slo, clients: &'w [Option<Windows>], endpoints: &'w [Option<Windows>]) -> Option<&'w Windows> {
    match slo.target {
        SloTarget::Endpoint(e) => endpoints.get(e.0),
        SloTarget::Client(c) => clients.get(c.0),
        SloTarget::Service(_) => None,
    }
    .and_then(Option::as_ref)
}

/// One replication's value of every objective judged on windows (`Judge::WorstWindow` or a share
/// of windows), in the order of [`evaluate_slos`]'s results, from its own windows: the worst
/// window's value, or the share-quantile of its windows' values (NaN for an objective judged on
/// the run, or when no window could judge it).
pub fn own_window_values(model: &Model, clients: &[Option<Windows>], endpoints: &[Option<Windows>]) -> Vec<f64> {
    let mut out = Vec::new();
    for slo in &model.slos {
        let windows = windows_of(slo, clients, endpoints).filter(|_| slo.judge != Judge::Run);
        let rows = windows.map(|w| w.answers.windows()).unwrap_or_default();
        for objective in objectives(slo) {
            let Some(windows) = windows else {
                out.push(f64::NAN);
                continue;
            };
            let mut values: Vec<f64> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, row)| objective.in_window(windows, row, i))
                .filter(|v| v.is_finite())
                .collect();
            values.sort_by(f64::total_cmp);
            out.push(match (slo.judge, values.last()) {
                (_, None) => f64::NAN,
                (Judge::ShareOfWindows(p), Some(_)) => {
                    // The smallest value at least a share p of the windows are within.
                    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
                    values[rank - 1]
                }
                (_, Some(&worst)) => worst,
            });
        }
    }
    out
}

/// An objective's estimate over the whole run (one value per replication).
fn over_the_run(result: &RunResult, target: SloTarget, objective: Objective) -> Estimate {
    let (latency, errors) = match target {
        SloTarget::Endpoint(e) => (&result.endpoints[e.0].latency, &result.endpoints[e.0].error_rate),
        SloTarget::Client(c) => (&result.clients[c.0].latency, &result.clients[c.0].error_rate),
        // A service's only objective is the share of its requests that waited (validation).
        SloTarget::Service(s) => return result.services[s.0].worker_wait.waited_share.clone(),
    };
    match objective {
        Objective::Mean(_) => latency.mean_ms.clone(),
        Objective::Quantile(q, _) => quantile(latency, q).clone(),
        Objective::ErrorRate(_) | Objective::Waited(_) => errors.clone(),
    }
}

/// Evaluate every SLO of the model against the merged result: objectives judged on the run
/// from the result's estimates, objectives judged on windows from `window_values` (one
/// [`own_window_values`] per replication); and for every objective, the stretches of time its
/// windows breached it, with the replications' windows pooled (`clients`, `endpoints`).
pub fn evaluate_slos(
    model: &Model,
    result: &RunResult,
    clients: &[Option<Windows>],
    endpoints: &[Option<Windows>],
    window_values: &[Vec<f64>],
) -> Vec<SloResult> {
    let mut out = Vec::new();
    let window_s = nanos_to_secs(model.window_ns);
    for slo in &model.slos {
        let windows = windows_of(slo, clients, endpoints);
        let rows = windows.map(|w| w.answers.windows()).unwrap_or_default();
        for objective in objectives(slo) {
            let at = out.len();
            let measured = if slo.judge == Judge::Run {
                over_the_run(result, slo.target, objective)
            } else {
                Estimate::from_samples(
                    &window_values
                        .iter()
                        .map(|v| v.get(at).copied().unwrap_or(f64::NAN))
                        .collect::<Vec<_>>(),
                )
            };
            let mut breached_s: Vec<[f64; 2]> = Vec::new();
            if let Some(windows) = windows {
                for (i, row) in rows.iter().enumerate() {
                    let breached = objective.in_window(windows, row, i).is_some_and(|v| v > objective.bound());
                    if !breached {
                        continue;
                    }
                    let (from, to) = (row.start_s, row.start_s + window_s);
                    match breached_s.last_mut() {
                        Some(last) if (last[1] - from).abs() < 1e-9 => last[1] = to,
                        _ => breached_s.push([from, to]),
                    }
                }
            }
            let bound = objective.bound();
            out.push(SloResult {
                name: slo.name.clone(),
                objective: objective.text() + &slo.judge.label(),
                bound,
                status: status(&measured, bound),
                measured,
                breached_s,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Objective, SloStatus, Windows};
    use crate::stats::{SeriesRow, WindowSeries};

    #[test]
    fn a_window_judges_an_error_rate_only_with_enough_requests_that_one_failure_stays_within_it() {
        let empty = || WindowSeries::new(0, 60_000_000_000, 1);
        let windows = Windows {
            answers: empty(),
            arrivals: empty(),
        };
        let row = |count: u64, errors: u64| SeriesRow {
            start_s: 0.0,
            count,
            ok: count - errors,
            errors,
            mean_ms: f64::NAN,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
        };
        let one_percent = Objective::ErrorRate(0.01);
        // 99 requests: one failure would be 1.01 % — not judged.
        assert_eq!(one_percent.in_window(&windows, &row(99, 1), 0), None);
        // 100 requests: one failure is exactly the bound; two are past it.
        assert_eq!(one_percent.in_window(&windows, &row(100, 1), 0), Some(0.01));
        assert_eq!(one_percent.in_window(&windows, &row(100, 2), 0), Some(0.02));
        // A bound of 0 is judged on the run only.
        assert_eq!(Objective::ErrorRate(0.0).in_window(&windows, &row(1000, 5), 0), None);
    }

    #[test]
    fn slo_statuses_are_written_as_their_names_and_an_unknown_one_is_refused_when_read_back() {
        for s in [SloStatus::Met, SloStatus::Breached, SloStatus::Uncertain] {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.name()));
            assert_eq!(serde_json::from_value::<SloStatus>(serde_json::json!(s.name())).unwrap(), s);
        }
        // A misspelt status in a results file read back (a merged sweep's point) is an error
        // naming it, not a status that no verdict recognises.
        let err = serde_json::from_value::<SloStatus>(serde_json::json!("breach")).unwrap_err();
        assert!(err.to_string().contains("unknown variant `breach`"), "{err}");
    }
}
