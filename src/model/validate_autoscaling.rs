//! Validation of autoscalers: their bounds, metric, rule and timings, and what a model may not
//! combine with them.

use super::spec::{AutoscaleMetricSpec, AutoscalingSpec, ModelSpec};
use super::validate::Checker;
use super::{ActionKind, AutoscaleMetric, Autoscaling, Dist, MessageQueue, ScalingRule, Service, TimedAction};

/// Default metric period: one minute.
const DEFAULT_PERIOD_NS: u64 = 60_000_000_000;
/// Default periods averaged per decision.
const DEFAULT_PERIODS: u32 = 3;
/// Default share of the target below which target tracking scales in.
const DEFAULT_SCALE_IN_BELOW: f64 = 0.9;
/// Default least time between two scale-outs: one minute.
const DEFAULT_SCALE_OUT_COOLDOWN_NS: u64 = 60_000_000_000;
/// Default least time between any scaling and a scale-in: five minutes.
const DEFAULT_SCALE_IN_COOLDOWN_NS: u64 = 300_000_000_000;
/// Default provisioning time of a launched instance: one minute.
const DEFAULT_PROVISIONING_S: f64 = 60.0;

/// The autoscaler of service `name` (starting with `instances`), checked; `path` is its JSON path.
pub(super) fn autoscaling(
    a: &AutoscalingSpec,
    instances: u32,
    spec: &ModelSpec,
    path: &str,
    check: &mut Checker,
) -> Option<Autoscaling> {
    let errors = check.error_count();
    let (min, max) = (a.min.0, a.max.0);
    if min > max {
        check.error(format!("{path}.min"), format!("expected at most max = {max}, got {min}"));
    }
    if !(min..=max).contains(&instances) {
        check.error(
            format!("{path}.min"),
            format!("expected min ≤ {instances} (the service's instances at the start) ≤ max, got min = {min}, max = {max}"),
        );
    }
    let metric = match a.metric {
        AutoscaleMetricSpec::Cpu => AutoscaleMetric::Cpu,
        AutoscaleMetricSpec::InFlight => AutoscaleMetric::InFlight,
        AutoscaleMetricSpec::Queue => AutoscaleMetric::Queue,
        AutoscaleMetricSpec::Backlog => match a.queue.as_deref() {
            None => {
                check.error(
                    format!("{path}.queue"),
                    "the \"backlog\" metric needs the message queue it reads",
                );
                AutoscaleMetric::Backlog(0)
            }
            Some(q) => match spec.queues.get_index_of(q) {
                Some(i) => AutoscaleMetric::Backlog(i as u32),
                None => {
                    let known: Vec<&str> = spec.queues.keys().map(String::as_str).collect();
                    check.error(
                        format!("{path}.queue"),
                        format!("no queue \"{q}\" (queues: {})", known.join(", ")),
                    );
                    AutoscaleMetric::Backlog(0)
                }
            },
        },
    };
    if a.queue.is_some() && a.metric != AutoscaleMetricSpec::Backlog {
        check.error(format!("{path}.queue"), "a queue is read only by the \"backlog\" metric");
    }
    let rule = match (&a.target, &a.steps) {
        (Some(target), None) => {
            if !(target.0 > 0.0 && target.0.is_finite()) || (metric == AutoscaleMetric::Cpu && target.0 > 1.0) {
                let expected = if metric == AutoscaleMetric::Cpu {
                    "a share of the workers' time above 0 and at most 1"
                } else {
                    "a number above 0"
                };
                check.error(format!("{path}.target"), format!("expected {expected}, got {}", target.0));
            }
            let below = a.scale_in_below.map_or(DEFAULT_SCALE_IN_BELOW, |f| f.0);
            if !(below > 0.0 && below <= 1.0) {
                check.error(
                    format!("{path}.scale_in_below"),
                    format!("expected a share of the target above 0 and at most 1, got {below}"),
                );
            }
            ScalingRule::Target {
                target: target.0,
                scale_in_below: below,
            }
        }
        (None, Some(steps)) => steps_rule(steps, path, check),
        _ => {
            check.error(
                path,
                "an autoscaler needs exactly one of \"target\" (target tracking) or \"steps\" (step scaling)",
            );
            return None;
        }
    };
    if a.scale_in_below.is_some() && a.steps.is_some() {
        check.error(
            format!("{path}.scale_in_below"),
            "applies to target tracking only; steps say when to scale in",
        );
    }
    let period_ns = a.period.map_or(DEFAULT_PERIOD_NS, |d| d.0);
    if period_ns < 1_000_000_000 || !period_ns.is_multiple_of(1_000_000_000) {
        check.error(
            format!("{path}.period"),
            "expected a whole number of seconds, at least 1s (metrics are sampled every second)",
        );
    }
    let warm_up = a.warm_up.as_ref().map(|w| {
        if !(w.cpu_factor.0 > 0.0 && w.cpu_factor.0.is_finite()) {
            check.error(
                format!("{path}.warm_up.cpu_factor"),
                format!("expected a multiplier above 0, got {}", w.cpu_factor.0),
            );
        }
        (w.lasts.0, w.cpu_factor.0)
    });
    let cost_per_hour = a.cost_per_hour.map(|c| c.0).or_else(|| {
        let knob = path.trim_end_matches(".autoscaling").to_string() + ".instances";
        spec.sizing
            .as_ref()
            .and_then(|s| s.knobs.get(&knob))
            .and_then(|k| k.cost_per_hour)
            .map(|c| c.0)
    });
    if check.error_count() > errors {
        return None;
    }
    Some(Autoscaling {
        min,
        max,
        metric,
        rule,
        period_ns,
        periods: a.periods.map_or(DEFAULT_PERIODS, |p| p.0),
        scale_out_cooldown_ns: a.scale_out_cooldown.map_or(DEFAULT_SCALE_OUT_COOLDOWN_NS, |d| d.0),
        scale_in_cooldown_ns: a.scale_in_cooldown.map_or(DEFAULT_SCALE_IN_COOLDOWN_NS, |d| d.0),
        provisioning: a
            .provisioning
            .as_ref()
            .map_or(Dist::constant(DEFAULT_PROVISIONING_S), |d| d.0.clone()),
        warm_up,
        cost_per_hour,
    })
}

/// Step scaling's thresholds, checked: each step has one of `above` / `below`, a scale-out
/// adds and a scale-in removes, and no threshold is given twice.
fn steps_rule(steps: &[super::spec::ScalingStepSpec], path: &str, check: &mut Checker) -> ScalingRule {
    let (mut above, mut below) = (Vec::new(), Vec::new());
    if steps.is_empty() {
        check.error(format!("{path}.steps"), "expected at least one step");
    }
    for (i, step) in steps.iter().enumerate() {
        let at = format!("{path}.steps[{i}]");
        match (step.above, step.below) {
            (Some(t), None) if step.add > 0 && t.is_finite() => above.push((t, step.add as u32)),
            (None, Some(t)) if step.add < 0 && t.is_finite() => below.push((t, step.add.unsigned_abs())),
            (Some(_), None) => check.error(
                format!("{at}.add"),
                format!("a step above a threshold adds instances: expected add ≥ 1, got {}", step.add),
            ),
            (None, Some(_)) => check.error(
                format!("{at}.add"),
                format!(
                    "a step below a threshold removes instances: expected add ≤ -1, got {}",
                    step.add
                ),
            ),
            _ => check.error(&at, "a step needs exactly one of \"above\" or \"below\""),
        }
    }
    above.sort_by(|a, b| b.0.total_cmp(&a.0));
    below.sort_by(|a, b| a.0.total_cmp(&b.0));
    if above.windows(2).any(|w| w[0].0 == w[1].0) || below.windows(2).any(|w| w[0].0 == w[1].0) {
        check.error(format!("{path}.steps"), "a threshold is given twice");
    }
    if let (Some(lowest_above), Some(highest_below)) = (above.last(), below.last()) {
        if highest_below.0 > lowest_above.0 {
            check.error(
                format!("{path}.steps"),
                format!(
                    "a scale-in threshold ({}) is above a scale-out threshold ({}): the autoscaler would do both",
                    highest_below.0, lowest_above.0
                ),
            );
        }
    }
    ScalingRule::Steps { above, below }
}

/// What a model may not combine with autoscaling: a backlog metric of a queue the service does
/// not consume, and timed actions that pick instances by index (crashes, crash loops, rollouts)
/// on an autoscaled service, whose instances come and go.
pub(super) fn check_combinations(
    services: &[Service],
    queues: &[MessageQueue],
    endpoint_service: impl Fn(usize) -> usize,
    actions: &[TimedAction],
    check: &mut Checker,
) {
    for (s, service) in services.iter().enumerate() {
        let Some(a) = &service.autoscaling else {
            continue;
        };
        let path = format!("services.{}.autoscaling", super::validate::key(&service.name));
        if let AutoscaleMetric::Backlog(q) = a.metric {
            if let Some(queue) = queues.get(q as usize) {
                if endpoint_service(queue.call.target.0) != s {
                    check.error(
                        format!("{path}.queue"),
                        format!(
                            "queue \"{}\" is consumed by another service: its backlog cannot scale this one",
                            queue.name
                        ),
                    );
                }
            }
        }
        for (i, action) in actions.iter().enumerate() {
            let (kind, target) = match &action.kind {
                ActionKind::Crash { service, .. } => ("crash", service.0),
                ActionKind::CrashLoop(l) => ("crash_loop", l.service.0),
                ActionKind::Rollout(r) => ("rollout", r.service.0),
                _ => continue,
            };
            if target == s {
                check.error(
                    format!("actions[{i}].{kind}.service"),
                    format!(
                        "service \"{}\" is autoscaled: a {kind} of its first instances is not supported (its instances come and go); use \"down\" or a fixed fleet",
                        service.name
                    ),
                );
            }
        }
    }
}
