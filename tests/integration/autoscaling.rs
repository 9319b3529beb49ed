//! Autoscaling: a service's instances follow a metric, with the delays real autoscalers have.
//!
//! The model of most tests: one client at 100 requests/s to a service of 8 workers per instance,
//! each request one exponential CPU step of 10 ms mean, so the CPU load is 1 worker busy (1/8 =
//! 0.125 of an instance). At 10 m the traffic triples: 3 workers busy (0.375 of an instance).
//! The autoscaler tracks "cpu" with a target of 0.25, averaging 3 periods of 1 minute, and a
//! launch is in service 60 s later. Worked out in advance, with period loads L (workers busy / 8):
//! - at 11m the last three periods are 0.125, 0.125, 0.375: mean 0.208, wanted ⌈0.208 / 0.25⌉ = 1:
//!   hold;
//! - at 12m they are 0.125, 0.375, 0.375: mean 0.292, wanted ⌈1.17⌉ = 2: one launch, in service
//!   at 13m;
//! - from then on the periods are 0.375 (the load does not depend on the instances): wanted
//!   ⌈1.5⌉ = 2, and no scale-in (wanted = the fleet).
//!
//! So the fleet is 1 instance until 13m and 2 after: 1.35 instances on average over 20 minutes,
//! 28 instance-minutes paid (the launch is paid from 12m), and 3 periods above the target
//! (11m, 12m and 13m, the one instance at 0.375). The period means have a relative standard error
//! below 1 % (18,000 CPU times a minute), far from every threshold above, so every replication
//! follows this timeline exactly.

use super::refused;
use capsim::results::{RunResult, SloStatus};

/// The step model, with `autoscaling` and `extra` (more top-level members) spliced in.
fn step_model(autoscaling: &str, extra: &str) -> String {
    format!(
        r#"{{ "name": "step", "duration": "20m", "warmup": "0s", "window": "1m", "replications": 4, "seed": 3,
          "clients": {{ "web": {{ "open": {{ "rate": "100/s" }}, "calls": "api.get" }} }},
          "services": {{ "api": {{ "instances": 1, "workers": 8, "autoscaling": {autoscaling},
                                   "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          "actions": [ {{ "at": "10m", "scale_traffic": {{ "client": "web", "factor": 3 }} }} ]
          {extra} }}"#
    )
}

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "autoscaling.json").expect("a valid model");
    capsim::run(&validated.model, &[], None)
}

/// The instances in service in each 1-minute window.
fn fleet(result: &RunResult) -> Vec<f64> {
    result.autoscalers[0].series.iter().map(|w| w.instances).collect()
}

const TARGET: &str =
    r#"{ "min": 1, "max": 5, "metric": "cpu", "target": 0.25, "period": "1m", "periods": 3, "provisioning": "60s" }"#;

#[test]
fn a_step_in_load_gives_the_scale_out_timeline_worked_by_hand() {
    let result = run(&step_model(TARGET, ""));
    let mut expected = vec![1.0; 13];
    expected.extend([2.0; 7]);
    assert_eq!(fleet(&result), expected);
    let a = &result.autoscalers[0];
    assert_eq!(a.scale_outs.mean, 1.0);
    assert_eq!(a.scale_ins.mean, 0.0);
    assert!((a.instances.mean - 1.35).abs() < 1e-9, "{}", a.instances.mean);
    assert!(
        (a.instance_hours.mean - 28.0 / 60.0).abs() < 1e-9,
        "{}",
        a.instance_hours.mean
    );
    assert_eq!(a.under_provisioned_s.mean, 180.0);
    // The services table shows the range of the fleet, not its first instance alone.
    assert_eq!(result.services[0].autoscaled, Some([1, 5]));
    // Utilisation is over the instances in service: 2 workers busy on average over 20 minutes
    // (1 for 10, 3 for 10), over 8 × 1.35 workers.
    let u = &result.services[0].utilisation;
    assert!((u.mean - 2.0 / (8.0 * 1.35)).abs() < 3.0 * u.ci95.max(0.002), "{u:?}");
}

#[test]
fn a_new_instance_warming_up_serves_slower_for_its_warm_up() {
    // The launch is in service at 13m and warms up for 2 minutes at 1.5 × CPU. Round robin
    // sends each instance 150 requests/s: 1.5 workers busy on the warm one, 2.25 on the new one
    // until 15m (3.75 of 16 workers: 23.4 %), then 1.5 + 1.5 (18.75 %). The extra CPU keeps the
    // decisions as worked out above (period loads 0.469 at most: wanted ⌈1.75⌉ = 2). Each
    // window's utilisation is a mean of 72,000 exponential CPU times (4 replications): a relative
    // standard error of 0.4 %, so 3 % is over 7 standard errors.
    let autoscaling = TARGET.replace(
        r#""provisioning": "60s""#,
        r#""provisioning": "60s", "warm_up": { "for": "2m", "cpu_factor": 1.5 }"#,
    );
    let result = run(&step_model(&autoscaling, ""));
    let mut expected = vec![1.0; 13];
    expected.extend([2.0; 7]);
    assert_eq!(fleet(&result), expected);
    let utilisation = &result.services[0].series.utilisation;
    for (window, want) in [(13, 3.75 / 16.0), (14, 3.75 / 16.0), (15, 3.0 / 16.0), (19, 3.0 / 16.0)] {
        let got = utilisation[window];
        assert!((got / want - 1.0).abs() < 0.03, "window {window}: {got} vs {want}");
    }
}

#[test]
fn a_drop_in_load_retires_an_instance_at_the_first_decision_that_sees_it_and_loses_nothing() {
    // Two instances at 300 requests/s (period loads 0.375: wanted ⌈1.5⌉ = 2) until the traffic
    // falls to a third at 10m (0.125). At 11m the mean is 0.292 (wanted 2: hold); at 12m it is
    // 0.208: wanted 1, and 0.104 per instance is below 0.9 × 0.25, so one instance is retired at
    // 12m. What it was serving finishes: no request fails.
    let json = step_model(TARGET, "")
        .replace(r#""rate": "100/s""#, r#""rate": "300/s""#)
        .replace(r#""instances": 1,"#, r#""instances": 2,"#)
        .replace(r#""factor": 3"#, r#""factor": 0.3333333333333333"#);
    let result = run(&json);
    let mut expected = vec![2.0; 12];
    expected.extend([1.0; 8]);
    assert_eq!(fleet(&result), expected);
    let a = &result.autoscalers[0];
    assert_eq!((a.scale_ins.mean, a.scale_outs.mean), (1.0, 0.0));
    assert_eq!(result.clients[0].error_rate.mean, 0.0);
}

#[test]
fn step_scaling_adds_the_step_of_the_furthest_threshold_crossed() {
    // At 12m the 3-period metric per instance is 0.292 (as above): above 0.25, below 0.5, so the
    // "+2" step applies: 3 instances from 13m; then 0.375 / 3 = 0.125 crosses nothing.
    let steps = r#"{ "min": 1, "max": 5, "metric": "cpu", "period": "1m", "periods": 3, "provisioning": "60s",
                     "steps": [ { "above": 0.5, "add": 4 }, { "above": 0.25, "add": 2 }, { "below": 0.05, "add": -1 } ] }"#;
    let result = run(&step_model(steps, ""));
    let mut expected = vec![1.0; 13];
    expected.extend([3.0; 7]);
    assert_eq!(fleet(&result), expected);
    assert_eq!(result.autoscalers[0].scale_outs.mean, 1.0);
}

#[test]
fn a_steady_load_does_not_flap() {
    // 500 requests/s of 20 ms each on 32 workers per instance: 10 requests in flight (Little),
    // hardly any waiting. Target 4 in flight per instance: wanted ⌈10 / 4⌉ = 3 from the first
    // decision (3m) on, in service at 4m. With 3 instances the metric is 3.33, below 0.9 × 4 =
    // 3.6, yet ⌈2.5⌉ = 3 is the fleet, so nothing is retired. A 3-minute mean of 180 samples of
    // about Poisson(10) in flight has a standard error of 0.24 (0.06 in instances): 2.5 is 8
    // standard errors from 2 and from 3. Two hours, and not one more scaling.
    let json = r#"{ "name": "steady", "duration": "2h", "warmup": "0s", "window": "1m", "replications": 3, "seed": 11,
        "clients": { "web": { "open": { "rate": "500/s" }, "calls": "api.get" } },
        "services": { "api": { "instances": 1, "workers": 32,
            "autoscaling": { "min": 1, "max": 10, "metric": "in_flight", "target": 4, "provisioning": "60s" },
            "endpoints": { "get": [ { "cpu": "exp(20ms)" } ] } } } }"#;
    let result = run(json);
    let a = &result.autoscalers[0];
    assert_eq!((a.scale_outs.mean, a.scale_outs.ci95), (1.0, 0.0));
    assert_eq!((a.scale_ins.mean, a.scale_ins.ci95), (0.0, 0.0));
    assert_eq!(a.instances_max.mean, 3.0);
    let fleet = fleet(&result);
    assert_eq!(&fleet[..4], &[1.0; 4]);
    assert!(fleet[4..].iter().all(|&n| n == 3.0), "{fleet:?}");
}

/// A surge to 500 requests/s at 10m for 10 minutes against instances of 4 workers (400 requests/s
/// each), with the autoscaler's minimum `min`, and a p99 ≤ 200 ms SLO on the run.
fn surge(min: u32) -> RunResult {
    let json = format!(
        r#"{{ "name": "surge", "duration": "30m", "warmup": "0s", "window": "1m", "replications": 4, "seed": 5,
          "clients": {{ "web": {{ "open": {{ "rate": "100/s" }}, "calls": "api.get" }} }},
          "services": {{ "api": {{ "instances": {min}, "workers": 4,
              "autoscaling": {{ "min": {min}, "max": 5, "metric": "cpu", "target": 0.5, "provisioning": "2m" }},
              "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          "actions": [ {{ "at": "10m", "for": "10m", "scale_traffic": {{ "client": "web", "factor": 5 }} }} ],
          "slos": {{ "web": {{ "p99": "200ms" }} }} }}"#
    );
    run(&json)
}

#[test]
fn a_ramp_faster_than_provisioning_breaches_the_slo_and_a_larger_minimum_fixes_it() {
    // One instance saturates at the surge (ρ = 1.25): the first decision that sees it is at 12m
    // (periods 0.25, 1, 1 → mean 0.75, wanted ⌈1.5⌉ = 2) and the launch serves from 14m, so for
    // 4 minutes 100 requests/s pile up (24,000): seconds of waiting for far more than 1 % of the
    // run's requests. With a minimum of 2 (800 requests/s) each instance is an M/M/4 at 250/s
    // (ρ = 0.625): p99 below 100 ms, and the minimum holds the fleet through the quiet start.
    let one = surge(1);
    assert_eq!(one.slos[0].status, SloStatus::Breached, "{:?}", one.slos[0]);
    assert!(one.autoscalers[0].scale_outs.mean >= 1.0);
    let two = surge(2);
    assert_eq!(two.slos[0].status, SloStatus::Met, "{:?}", two.slos[0]);
    assert!(two.autoscalers[0].series.iter().all(|w| w.instances >= 2.0));
}

#[test]
fn instance_hours_are_priced_from_the_sizing_knob_when_the_autoscaler_has_no_price() {
    let sizing = r#", "sizing": { "knobs": { "services.api.instances": { "values": "1..5", "cost_per_hour": 0.5 } } }"#;
    let result = run(&step_model(TARGET, sizing));
    let cost = result.autoscalers[0].cost.as_ref().expect("a cost");
    assert!((cost.mean - 0.5 * 28.0 / 60.0).abs() < 1e-9, "{cost:?}");
    let own = TARGET.replace(r#""min": 1"#, r#""min": 1, "cost_per_hour": 2"#);
    let result = run(&step_model(&own, sizing));
    let cost = result.autoscalers[0].cost.as_ref().expect("a cost");
    assert!((cost.mean - 2.0 * 28.0 / 60.0).abs() < 1e-9, "{cost:?}");
}

#[test]
fn autoscaler_statistics_resolve_by_name_with_a_series_of_instances() {
    let result = run(&step_model(TARGET, ""));
    let hours = capsim::results::metric::resolve(&result, "api.instance_hours").expect("resolves");
    assert!((hours.estimate.mean - 28.0 / 60.0).abs() < 1e-9);
    let series = capsim::results::metric::series(&result, "api.instances").expect("a series");
    assert_eq!(series.len(), 20);
    assert_eq!(series[12], (720.0, 1.0));
    assert_eq!(series[13], (780.0, 2.0));
}

#[test]
fn a_fixed_fleet_has_no_autoscaling_output() {
    let result = run(&step_model("null", ""));
    assert!(result.autoscalers.is_empty());
    let text = serde_json::to_string(&result).unwrap();
    assert!(!text.contains("autoscalers"), "the JSON of a fixed fleet is unchanged");
}

#[test]
fn bad_autoscalers_are_refused_with_their_json_path() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{ "min": 3, "max": 2, "metric": "cpu", "target": 0.5 }"#,
            "",
            "services.api.autoscaling.min: expected at most max = 2, got 3",
        ),
        (
            r#"{ "min": 2, "max": 4, "metric": "cpu", "target": 0.5 }"#,
            "",
            "services.api.autoscaling.min: expected min ≤ 1 (the service's instances at the start) ≤ max, got min = 2, max = 4",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu" }"#,
            "",
            "services.api.autoscaling: an autoscaler needs exactly one of \"target\"",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "target": 1.5 }"#,
            "",
            "services.api.autoscaling.target: expected a share of the workers' time above 0 and at most 1, got 1.5",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "backlog", "target": 10 }"#,
            "",
            "services.api.autoscaling.queue: the \"backlog\" metric needs the message queue it reads",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "target": 0.5, "period": "500ms" }"#,
            "",
            "services.api.autoscaling.period: expected a whole number of seconds, at least 1s",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "steps": [ { "above": 0.5, "add": -1 } ] }"#,
            "",
            "services.api.autoscaling.steps[0].add: a step above a threshold adds instances",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "steps": [ { "above": 0.3, "add": 1 }, { "below": 0.6, "add": -1 } ] }"#,
            "",
            "a scale-in threshold (0.6) is above a scale-out threshold (0.3)",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "target": 0.5, "warm_up": { "for": "1m", "cpu_factor": 0 } }"#,
            "",
            "services.api.autoscaling.warm_up.cpu_factor: expected a multiplier above 0",
        ),
        (
            r#"{ "min": 1, "max": 4, "metric": "cpu", "target": 0.5, "metric2": 1 }"#,
            "",
            "unknown field `metric2`",
        ),
    ];
    for (autoscaling, extra, fragment) in cases {
        let message = refused(&step_model(autoscaling, extra));
        assert!(message.contains(fragment), "expected «{fragment}» in:\n{message}");
    }
    // A crash of an autoscaled service's first instances is refused: its instances come and go.
    let crash = step_model(TARGET, "").replace(
        r#"[ { "at": "10m", "scale_traffic""#,
        r#"[ { "at": "5m", "crash": { "service": "api", "instances": 1, "restart": "30s" } }, { "at": "10m", "scale_traffic""#,
    );
    let message = refused(&crash);
    assert!(
        message.contains("actions[0].crash.service: service \"api\" is autoscaled"),
        "{message}"
    );
}

#[test]
fn a_backlog_metric_reads_the_queue_the_service_consumes() {
    // 600 messages arrive in the first second; the consumer delivers one at a time and each takes
    // exactly 1 s of CPU, so the backlog at second k is about 600 − k. The first decision (3m)
    // averages the samples at 1..180 s: about 600 − 90.5 = 509.5 visible messages for one
    // instance, a target of 100 per instance: wanted ⌈5.1⌉ = 6, five launches serving from 4m.
    // At 5m the mean is about 390 over 2.67 instances in service (146 each, above 90: no
    // scale-in); at 6m 330 over 4.33 (76 each) would scale in, but the scale-in cooldown (5
    // minutes since the launch at 3m) holds the fleet at 6 until 8m.
    let json = r#"{ "name": "backlog", "duration": "10m", "warmup": "0s", "window": "1m", "replications": 2, "seed": 2,
        "services": { "worker": { "instances": 1, "workers": 1,
            "autoscaling": { "min": 1, "max": 10, "metric": "backlog", "queue": "jobs", "target": 100, "provisioning": "60s" },
            "endpoints": { "process": [ { "cpu": "1s" } ] } } },
        "queues": { "jobs": {
            "producers": { "cron": { "bursts": [ { "at": "0s", "messages": 600, "over": "1s" } ] } },
            "visibility_timeout": "30s",
            "consumer": { "calls": "worker.process", "concurrency": 1 } } } }"#;
    let result = run(json);
    let fleet = fleet(&result);
    assert_eq!(&fleet[..6], &[1.0, 1.0, 1.0, 1.0, 6.0, 6.0], "{fleet:?}");
    assert_eq!(result.autoscalers[0].scale_outs.mean, 1.0);
}
