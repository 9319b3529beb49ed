//! Case study 4 (blast radius), on `models/blast-radius.json` and on small models built here:
//! a bad rule everywhere at once against a canary with automatic rollback, crash loops, request
//! classes under overload, cells against one big pool, and availability of replicas whose
//! failures are independent or share a cause. Every bound comes from the model's own numbers.

use super::example;
use capsim::results::metric::resolve;
use capsim::results::RunResult;
use capsim::scenario::ModelSource;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The example model, read once.
fn source() -> &'static ModelSource {
    static SOURCE: OnceLock<ModelSource> = OnceLock::new();
    SOURCE.get_or_init(|| ModelSource::read(example("blast-radius.json").to_str().unwrap()).unwrap())
}

/// The example model as written (`None`) or one of its scenarios, run once per test binary.
fn run(scenario: Option<&str>) -> RunResult {
    static RUNS: OnceLock<Mutex<HashMap<Option<String>, RunResult>>> = OnceLock::new();
    let runs = RUNS.get_or_init(|| Mutex::new(HashMap::new()));
    let key = scenario.map(str::to_string);
    if let Some(done) = runs.lock().unwrap().get(&key) {
        return done.clone();
    }
    let validated = match scenario {
        None => source().baseline(|_| {}).unwrap(),
        Some(name) => source()
            .variant_model(&source().scenario_variant(name).unwrap(), |_| {})
            .unwrap(),
    };
    let result = capsim::run(&validated.model, &[], None);
    assert!(result.verdict.complete, "{:?}", result.verdict.messages);
    runs.lock().unwrap().insert(key, result.clone());
    result
}

/// A metric's mean.
fn mean(result: &RunResult, metric: &str) -> f64 {
    resolve(result, metric).unwrap().estimate.mean
}

/// Requests per second that ended well for `client`, summed over the windows that start in
/// [from_s, to_s), per window.
fn goodput_between(result: &RunResult, client: &str, from_s: f64, to_s: f64) -> f64 {
    let c = result.clients.iter().find(|c| c.name == client).unwrap();
    let windows: Vec<_> = c.series.iter().filter(|w| w.start_s >= from_s && w.start_s < to_s).collect();
    assert!(!windows.is_empty());
    windows
        .iter()
        .map(|w| w.throughput_per_s * (1.0 - if w.error_rate.is_finite() { w.error_rate } else { 0.0 }))
        .sum::<f64>()
        / windows.len() as f64
}

/// An SLO's verdict in a result ("met", "breached", "uncertain").
fn slo(result: &RunResult, name: &str, objective_starts: &str) -> String {
    result
        .slos
        .iter()
        .find(|s| s.name == name && s.objective.starts_with(objective_starts))
        .unwrap_or_else(|| panic!("no SLO {name} {objective_starts}"))
        .status
        .name()
        .to_string()
}

#[test]
fn a_bad_rule_everywhere_loses_most_traffic_and_a_canary_with_rollback_loses_little() {
    let base = run(None);
    let global = run(Some("global-bad-rule"));
    let canary = run(Some("canary-with-rollback"));
    // While the 7x rule is everywhere (3m to 8m; the first window after the change is left out
    // as the queues fill), 20 workers at 7 × 50 ms serve at most 57 pages/s of the 200/s
    // offered: at least 71 % of successful traffic is lost (the case study saw 82 %), more when
    // callers give up on requests the servers still work on.
    let before = goodput_between(&base, "users", 210.0, 480.0);
    let during = goodput_between(&global, "users", 210.0, 480.0);
    assert!((before - 200.0).abs() < 5.0, "baseline goodput {before}/s");
    let lost = 1.0 - during / before;
    assert!(
        lost >= 0.78,
        "the global rule lost only {:.1} % of successful traffic",
        100.0 * lost
    );
    // Over the whole run (5 of the 9 observed minutes bad), more than half is lost.
    let whole = 1.0 - mean(&global, "users.goodput") / mean(&base, "users.goodput");
    assert!(whole > 0.4, "{whole}");

    // The canary (1 of 10 instances, a tenth of the traffic) trips the 5 % rule in its first
    // 30 s window, and the change is undone a minute later: 90 s with a tenth of requests at
    // risk is at most 10 % × 90 s / 540 s = 1.7 % of the run, and retries elsewhere save most.
    let rollout = &canary.rollouts[0];
    assert_eq!(rollout.rolled_back, canary.model.replications, "{rollout:?}");
    assert_eq!(rollout.widened, 0, "a rolled-back change never goes everywhere");
    assert_eq!(rollout.fired_after_s.as_ref().unwrap().mean, 30.0);
    assert_eq!(rollout.undone_after_s.as_ref().unwrap().mean, 90.0);
    let canary_lost = 1.0 - mean(&canary, "users.goodput") / mean(&base, "users.goodput");
    assert!(canary_lost < 0.017, "{canary_lost}");
    let errors = mean(&canary, "users.error_rate");
    assert!(
        errors < 0.017 && errors * 20.0 < mean(&global, "users.error_rate"),
        "{errors}"
    );
    assert_eq!(slo(&canary, "users", "error"), "met");
    assert_eq!(slo(&global, "users", "error"), "breached");
}

#[test]
fn crash_loops_take_away_capacity_in_proportion_to_restart_time() {
    // 10 instances of one worker at 100 ms, saturated by 80 closed-loop users (who pause 50 ms
    // after each answer, so that when every instance is down they do not retry in zero time)
    // and balanced by least outstanding requests (a restarted instance fills at once):
    // throughput is 10/s per instance up. Each instance runs 20 s on average between crashes and takes R to
    // restart, so a share R / (20 s + R) of the capacity is missing.
    for (restart_s, expected_up) in [(5.0, 8.0), (20.0, 5.0)] {
        let json = format!(
            r#"{{ "duration": "30m", "warmup": "2m", "replications": 4, "seed": 3,
              "clients": {{ "load": {{ "closed": {{ "users": 80, "think": "exp(50ms)" }}, "calls": "svc.work" }} }},
              "services": {{ "svc": {{ "instances": 10, "workers": 1, "balancer": "least_outstanding", "endpoints": {{ "work": [ {{ "cpu": "100ms" }} ] }} }} }},
              "actions": [ {{ "at": "0s", "crash_loop": {{ "service": "svc", "uptime": "exp(20s)", "restart": "{restart_s}s" }} }} ] }}"#
        );
        let source = ModelSource::from_text(json, "crash-loop.json").unwrap();
        let result = capsim::run(&source.baseline(|_| {}).unwrap().model, &[], None);
        let up = resolve(&result, "svc.instances_up").unwrap().estimate;
        assert!(
            (up.mean - expected_up).abs() < (2.0 * up.ci95).max(0.1),
            "R = {restart_s} s: {} ± {} instances up, expected {expected_up}",
            up.mean,
            up.ci95
        );
        let goodput = mean(&result, "load.goodput");
        assert!(
            (goodput - 10.0 * up.mean).abs() / (10.0 * up.mean) < 0.03,
            "R = {restart_s} s: {goodput}/s served with {} instances up",
            up.mean
        );
    }
}

#[test]
fn under_overload_the_critical_class_keeps_its_slo_while_bulk_work_is_shed() {
    let base = run(None);
    let classes = run(Some("overload-with-priorities"));
    let one_queue = run(Some("overload-one-queue"));
    // 135 requests/s offered to 100/s of capacity for 5 minutes. Served first, checkout (30/s,
    // 2.4 of 8 workers) barely notices; prefetch is shed down to what is left: 100 − 30 = 70/s.
    assert_eq!(slo(&classes, "checkout", "p99"), "met");
    assert_eq!(slo(&classes, "checkout", "error"), "met");
    assert_eq!(mean(&classes, "checkout.error_rate"), 0.0);
    let prefetch = classes.clients.iter().find(|c| c.name == "prefetch").unwrap();
    assert!(
        prefetch.counts.rejected > 0 && prefetch.counts.timeouts == 0,
        "{:?}",
        prefetch.counts
    );
    let prefetch_during = goodput_between(&classes, "prefetch", 210.0, 480.0);
    assert!(prefetch_during <= 70.0 + 2.0, "{prefetch_during}/s of prefetch served");
    assert!(
        prefetch_during > 55.0,
        "the spare capacity goes to prefetch: {prefetch_during}/s"
    );
    assert_eq!(slo(&classes, "prefetch", "error"), "breached");
    // With one shared FIFO line the queue grows past the 2 s timeout and both classes fail.
    assert_eq!(slo(&one_queue, "checkout", "error"), "breached");
    assert!(mean(&one_queue, "checkout.error_rate") > 0.3);
    assert_eq!(slo(&base, "checkout", "p99"), "met");
}

#[test]
fn a_surge_in_one_cell_leaves_the_other_cells_untouched_but_a_shared_pool_spreads_it() {
    let base = run(None);
    let cells = run(Some("surge-in-cells"));
    let pool = run(Some("surge-in-pool"));
    // Tenant a's 8x surge: 160/s against its cell's 2 workers at 40 ms (50/s).
    assert_eq!(slo(&cells, "tenant-a", "error"), "breached");
    for tenant in ["tenant-b", "tenant-c", "tenant-d"] {
        assert_eq!(slo(&cells, tenant, "p99"), "met", "{tenant}");
        assert_eq!(slo(&cells, tenant, "error"), "met", "{tenant}");
        // Nothing the surge touches reaches another cell: the same numbers in every replication.
        for stat in ["goodput", "p99", "error_rate"] {
            let metric = format!("{tenant}.{stat}");
            assert_eq!(
                resolve(&cells, &metric).unwrap().estimate.samples,
                resolve(&base, &metric).unwrap().estimate.samples,
                "{metric}"
            );
        }
    }
    // On the pool (8 workers, 200/s) the same surge makes 220/s offered: every tenant breaches.
    for tenant in ["pooled-a", "pooled-b", "pooled-c", "pooled-d"] {
        assert_eq!(slo(&pool, tenant, "error"), "breached", "{tenant}");
    }
    // Overall: the share of all four tenants' successful traffic lost.
    let lost = |result: &RunResult, tenants: &[&str]| {
        let sum = |r: &RunResult| tenants.iter().map(|t| mean(r, &format!("{t}.goodput"))).sum::<f64>();
        1.0 - sum(result) / sum(&base)
    };
    assert_eq!(
        lost(&cells, &["tenant-b", "tenant-c", "tenant-d"]),
        0.0,
        "the other cells lost nothing"
    );
    let pool_others = lost(&pool, &["pooled-b", "pooled-c", "pooled-d"]);
    assert!(pool_others > 0.05, "{pool_others}");
    // The groups report each design's tenants as one: every request failed in the cells
    // group is one of tenant a's (all replications together).
    let count = |r: &RunResult, name: &str| {
        let c = &r.clients.iter().find(|c| c.name == name).unwrap().counts;
        let failed = c.timeouts + c.rejected + c.errors;
        ((c.ok + failed) as f64, failed as f64)
    };
    let finished: f64 = ["tenant-a", "tenant-b", "tenant-c", "tenant-d"]
        .iter()
        .map(|t| count(&cells, t).0)
        .sum();
    let overall = count(&cells, "tenant-a").1 / finished;
    let group = mean(&cells, "cells.error_rate");
    assert!(
        (group - overall).abs() < 0.01,
        "cells group {group} vs {overall} from tenant a's failures"
    );
    // Overall, the big pool fails fewer requests than the cells (it lends tenant a the other
    // tenants' spare capacity); the cells keep the failures to one tenant.
    assert!(mean(&pool, "pooled.error_rate") < group);
}

/// 3 replicas, each down a share f = 10 / (40 + 10) = 0.2 of the time; `together` makes them
/// fail from one cause.
fn replicas(together: bool) -> RunResult {
    let json = format!(
        r#"{{ "duration": "4h", "warmup": "10m", "replications": 10, "seed": 5,
          "clients": {{ "readers": {{ "open": {{ "rate": "2/s" }}, "calls": "replica.read" }} }},
          "services": {{ "replica": {{ "instances": 3, "endpoints": {{ "read": [ {{ "cpu": "1ms" }} ] }} }} }},
          "actions": [ {{ "at": "0s", "crash_loop": {{ "service": "replica", "uptime": "exp(40s)", "restart": "10s", "together": {together} }} }} ] }}"#
    );
    let source = ModelSource::from_text(json, "replicas.json").unwrap();
    capsim::run(&source.baseline(|_| {}).unwrap().model, &[], None)
}

#[test]
fn availability_is_one_minus_f_to_the_n_when_independent_and_one_minus_f_when_correlated() {
    let f: f64 = 0.2;
    for (together, expected) in [(false, 1.0 - f.powi(3)), (true, 1.0 - f)] {
        let result = replicas(together);
        let available = resolve(&result, "replica.available").unwrap().estimate;
        assert!(
            (available.mean - expected).abs() <= 1.5 * available.ci95,
            "together = {together}: {} ± {}, expected {expected}",
            available.mean,
            available.ci95
        );
        // Requests see the same (arrivals see time averages); one in flight at a crash is reset
        // too, which adds at most 1 ms / 40 s.
        let failed = mean(&result, "readers.error_rate");
        assert!((failed - (1.0 - expected)).abs() < 0.3 * (1.0 - expected), "{failed}");
        let up = resolve(&result, "replica.instances_up").unwrap().estimate;
        assert!((up.mean - 3.0 * (1.0 - f)).abs() < 0.05, "{}", up.mean);
    }
}

#[test]
fn retries_steer_clear_of_the_instance_that_refused_and_health_checks_set_how_long_it_gets_traffic() {
    // One of 4 instances (picked at random) crashes at 101 s for 60 s; the balancer checks every
    // 5 s, so it sends a quarter of the first attempts to the dead instance until 105 s:
    // 4 s × 100/s / 4 = 100 refusals per replication (Poisson, sd 10; 5 for the mean of 4).
    let model = |avoid: bool| {
        let json = format!(
            r#"{{ "duration": "5m", "warmup": "30s", "replications": 4, "seed": 9,
              "clients": {{ "web": {{ "open": {{ "rate": "100/s" }}, "calls": "api.get",
                  "retry": {{ "attempts": 2, "backoff": "10ms", "jitter": "full" }} }} }},
              "services": {{ "api": {{ "instances": 4, "workers": 4, "balancer": "random", "health_check": {{ "interval": "5s" }},
                  "retry_other_instance": {avoid}, "endpoints": {{ "get": [ {{ "cpu": "exp(5ms)" }} ] }} }} }},
              "actions": [ {{ "at": "101s", "crash": {{ "service": "api", "instances": 1, "restart": "60s" }} }} ] }}"#
        );
        let source = ModelSource::from_text(json, "health.json").unwrap();
        capsim::run(&source.baseline(|_| {}).unwrap().model, &[], None)
    };
    let avoiding = model(true);
    let endpoint = avoiding.endpoints.iter().find(|e| e.name == "api.get").unwrap();
    let refused = endpoint.counts.rejected as f64 / 4.0;
    assert!((refused - 100.0).abs() < 15.0, "{refused} refusals per replication");
    // Every refused attempt was retried elsewhere, so no user saw a failure (requests reset by
    // the crash itself fail at most once too).
    let web = avoiding.clients.iter().find(|c| c.name == "web").unwrap();
    assert_eq!(web.counts.rejected, 0, "{:?}", web.counts);
    // Without avoidance a retry lands on the dead instance again a quarter of the time.
    let blind = model(false);
    let web = blind.clients.iter().find(|c| c.name == "web").unwrap();
    assert!(web.counts.rejected > 0, "{:?}", web.counts);
}

#[test]
fn a_poison_request_crash_loop_keeps_an_instance_up_one_over_one_plus_lambda_p_r_of_the_time() {
    // One instance, 20 requests/s, each crashing it with probability 0.005 when its CPU work
    // starts: up for 1 / (20 × 0.005) = 10 s on average, then down R = 5 s (requests meanwhile
    // are refused), so up 10 / 15 of the time.
    let json = r#"{ "duration": "1h", "warmup": "1m", "replications": 6, "seed": 12,
        "clients": { "web": { "open": { "rate": "20/s" }, "calls": "one.get" } },
        "services": { "one": { "workers": 4, "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
        "actions": [ { "at": "0s", "crash_loop": { "service": "one", "per_request": 0.005, "restart": "5s" } } ] }"#;
    let source = ModelSource::from_text(json.to_string(), "poison.json").unwrap();
    let result = capsim::run(&source.baseline(|_| {}).unwrap().model, &[], None);
    let up = resolve(&result, "one.available").unwrap().estimate;
    let expected = 10.0 / 15.0;
    assert!(
        (up.mean - expected).abs() <= (1.5 * up.ci95).max(0.01),
        "{} ± {} up, expected {expected}",
        up.mean,
        up.ci95
    );
    // Requests fail while it is down, and the ones that crash it fail too (1 in 200 of those served).
    let failed = mean(&result, "web.error_rate");
    let expected_failed = (1.0 - expected) + expected * 0.005;
    assert!((failed - expected_failed).abs() < 0.02, "{failed} vs {expected_failed}");
}

#[test]
fn a_latency_rollback_rule_fires_on_a_slow_canary_and_not_on_a_mild_change() {
    // 10 instances of 2 workers, 10 ms of CPU, 200 requests/s (10 % busy). The canary (1 of 10)
    // gets 20/s; at 20x its 2 workers serve 10/s, so its queue grows without bound and its p99
    // passes 200 ms within the first 10 s window; undone 5 s later. At 1.5x its p99 stays near
    // 15 ms × ln(100) = 69 ms.
    let model = |factor: f64| {
        let json = format!(
            r#"{{ "duration": "3m", "warmup": "10s", "replications": 3, "seed": 2,
              "clients": {{ "web": {{ "open": {{ "rate": "200/s" }}, "calls": "api.get" }} }},
              "services": {{ "api": {{ "instances": 10, "workers": 2, "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
              "actions": [ {{ "at": "1m", "rollout": {{ "service": "api", "cpu_factor": {factor}, "canary": 0.1,
                  "rollback": {{ "p99": "200ms", "window": "10s", "reaction": "5s" }} }} }} ] }}"#
        );
        let source = ModelSource::from_text(json, "latency-rule.json").unwrap();
        capsim::run(&source.baseline(|_| {}).unwrap().model, &[], None)
    };
    let slow = model(20.0);
    let r = &slow.rollouts[0];
    assert_eq!(r.rolled_back, 3, "{r:?}");
    assert_eq!(r.fired_after_s.as_ref().unwrap().mean, 10.0);
    assert_eq!(r.undone_after_s.as_ref().unwrap().mean, 15.0);
    let mild = model(1.5);
    assert_eq!(mild.rollouts[0].rolled_back, 0, "{:?}", mild.rollouts[0]);
    assert!(mild.rollouts[0].undone_after_s.is_none());
}

#[test]
fn a_request_whose_caller_gave_up_before_it_arrived_still_waits_in_its_classs_line() {
    // checkout's requests take 0.5 s to reach api and its clients wait only 100 ms: every one
    // arrives after its caller has gone. Their class, critical, has a line of its own where a
    // request waiting over 1 ms is shed; batch keeps api's one worker 90 % busy (0.9 s of CPU
    // a second). A critical request is shed when it finds the worker busy (for more than 1 ms),
    // so by PASTA the share shed is the worker's busy share, ~0.9. In the queue's own line,
    // which sheds nothing, none would be shed.
    let model = capsim::model::parse_model(
        r#"{ "duration": "1h", "warmup": "1m", "replications": 1, "seed": 3,
  "clients": { "checkout": { "open": { "rate": "1/s" }, "calls": "api.pay", "class": "critical", "timeout": "100ms" },
               "batch": { "open": { "rate": "1/s" }, "calls": "api.export" } },
  "links": { "checkout -> api": { "latency": "1s" } },
  "services": { "api": { "workers": 1,
      "queue": { "classes": [ { "class": "critical", "capacity": 100, "max_wait": "1ms" } ] },
      "endpoints": { "pay": [ { "cpu": "1ms" } ], "export": [ { "cpu": "0.9s" } ] } } } }"#,
        "orphans.json",
    )
    .unwrap()
    .model;
    let r = capsim::run(&model, &[], Some(1));
    let checkout = &r.clients[0].counts;
    assert_eq!(checkout.timeouts, checkout.started, "every caller gives up first");
    let pay = &r.endpoints.iter().find(|e| e.name == "api.pay").unwrap().counts;
    let shed = pay.rejected as f64 / (pay.ok + pay.rejected) as f64;
    let busy = r.services[0].utilisation.mean;
    // Each arrival finds the worker busy or not: a binomial share, within 4 standard errors.
    let bound = 4.0 * (busy * (1.0 - busy) / (pay.ok + pay.rejected) as f64).sqrt();
    assert!((shed - busy).abs() < bound, "shed {shed}, busy {busy} ± {bound}");
}
