//! Service level objectives: each bound compared with the measured estimate and its CI.

use super::{LatencySummary, RunResult, SloResult};
use crate::model::units::{format_duration, nanos_to_secs};
use crate::model::{Model, SloTarget};
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

/// Evaluate every SLO of the model against the merged result.
pub fn evaluate_slos(model: &Model, result: &RunResult) -> Vec<SloResult> {
    let mut out = Vec::new();
    for slo in &model.slos {
        let (latency, errors) = match slo.target {
            SloTarget::Endpoint(e) => (&result.endpoints[e.0].latency, &result.endpoints[e.0].error_rate),
            SloTarget::Client(c) => (&result.clients[c.0].latency, &result.clients[c.0].error_rate),
        };
        if let Some(bound_ns) = slo.mean {
            let bound = nanos_to_secs(bound_ns) * 1e3;
            out.push(SloResult {
                name: slo.name.clone(),
                objective: format!("mean <= {}", format_duration(bound_ns)),
                bound,
                status: status(&latency.mean_ms, bound),
                measured: latency.mean_ms.clone(),
            });
        }
        for &(q, bound_ns) in &slo.latency {
            let measured = quantile(latency, q).clone();
            let bound = nanos_to_secs(bound_ns) * 1e3;
            let label = match q {
                q if q <= 0.5 => "p50",
                q if q <= 0.9 => "p90",
                q if q <= 0.99 => "p99",
                _ => "p999",
            };
            out.push(SloResult {
                name: slo.name.clone(),
                objective: format!("{label} <= {}", format_duration(bound_ns)),
                bound,
                status: status(&measured, bound),
                measured,
            });
        }
        if let Some(bound) = slo.error_rate {
            out.push(SloResult {
                name: slo.name.clone(),
                objective: format!("error rate <= {}%", bound * 100.0),
                bound,
                status: status(errors, bound),
                measured: errors.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::SloStatus;

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
