//! What autoscalers did across replications: instances in service over time, instance-hours and
//! their cost, scaling activity, and how long each service was under-provisioned.

use super::merge::{estimate, window_starts, MeanRows};
use crate::model::{AutoscaleMetric, Model, ScalingRule};
use crate::sim::ReplicationResult;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// An autoscaled service's fleet across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutoscaleSummary {
    /// The service.
    pub name: String,
    /// How it scales, e.g. "cpu target 0.6, 2–20 instances".
    pub rule: String,
    /// Mean instances in service (taking requests).
    pub instances: Estimate,
    /// Most instances in service at once.
    pub instances_max: Estimate,
    /// Instance-hours paid for (in service or provisioning) from the warm-up on.
    pub instance_hours: Estimate,
    /// Their cost at the instance-hour price, when the model gives one.
    pub cost: Option<Estimate>,
    /// Scale-outs decided.
    pub scale_outs: Estimate,
    /// Scale-ins decided.
    pub scale_ins: Estimate,
    /// Time whose metric periods were above the target (the fleet was smaller than its target
    /// wanted), seconds.
    pub under_provisioned_s: Estimate,
    /// Per window.
    pub series: Vec<AutoscaleWindow>,
}

/// One window of an autoscaled fleet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutoscaleWindow {
    /// Start of the window, seconds.
    pub start_s: f64,
    /// Mean instances in service, over the window and the replications.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub instances: f64,
}

/// How service `s`'s autoscaler decides, in a few words.
fn rule_text(model: &Model, s: usize) -> String {
    let Some(a) = &model.services[s].autoscaling else {
        return String::new();
    };
    let metric = match a.metric {
        AutoscaleMetric::Cpu => "cpu".to_string(),
        AutoscaleMetric::InFlight => "in_flight".into(),
        AutoscaleMetric::Queue => "queue".into(),
        AutoscaleMetric::Backlog(q) => format!("backlog of {}", model.queues[q as usize].name),
    };
    let rule = match &a.rule {
        ScalingRule::Target { target, .. } => format!("{metric} target {target}"),
        ScalingRule::Steps { above, below } => format!("{metric} in {} steps", above.len() + below.len()),
    };
    format!("{rule}, {}–{} instances", a.min, a.max)
}

/// The autoscaled services of `model` over `reps` (observed seconds per replication from
/// `observed_s`), with their windows from `folds`.
pub(super) fn summaries(
    model: &Model,
    reps: &[ReplicationResult],
    observed_s: &dyn Fn(&ReplicationResult) -> f64,
    folds: &[MeanRows],
) -> Vec<AutoscaleSummary> {
    model
        .services
        .iter()
        .enumerate()
        .filter_map(|(s, service)| {
            let a = service.autoscaling.as_ref()?;
            let of: Vec<(&crate::sim::replication::AutoscaleResult, f64)> = reps
                .iter()
                .filter_map(|r| Some((r.autoscalers.get(s)?.as_ref()?, observed_s(r))))
                .collect();
            let hours = estimate(&of, |(r, secs)| r.billed_mean * secs / 3600.0);
            let means = folds.get(s).map(MeanRows::means).unwrap_or_default();
            Some(AutoscaleSummary {
                name: service.name.clone(),
                rule: rule_text(model, s),
                instances: estimate(&of, |(r, _)| r.in_service_mean),
                instances_max: estimate(&of, |(r, _)| r.in_service_max),
                cost: a
                    .cost_per_hour
                    .map(|price| estimate(&of, |(r, secs)| r.billed_mean * secs / 3600.0 * price)),
                instance_hours: hours,
                scale_outs: estimate(&of, |(r, _)| r.scale_outs as f64),
                scale_ins: estimate(&of, |(r, _)| r.scale_ins as f64),
                under_provisioned_s: estimate(&of, |(r, _)| r.above_target_ns as f64 / 1e9),
                series: window_starts(model, means.len())
                    .into_iter()
                    .zip(means)
                    .map(|(start_s, instances)| AutoscaleWindow { start_s, instances })
                    .collect(),
            })
        })
        .collect()
}
