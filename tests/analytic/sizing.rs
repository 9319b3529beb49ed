//! `capsim size` against staffing answers worked out in advance from queueing theory:
//! - Erlang C: the fewest servers of an M/M/c whose share of requests that wait is within a
//!   target (P(wait) = C(c, a)), and whose p90, p99 or mean time in system is within a bound, at
//!   several loads (the exact sojourn distribution of M/M/c FIFO, built on Erlang C);
//! - Erlang B: the fewest servers of a loss system whose blocking is within a bound;
//! - two knobs with different unit costs (instances × workers of a randomly balanced service:
//!   each instance is an M/M/w fed λ/n): the cheapest pair whose mean time in system is within
//!   a bound, found by enumerating the formula over the whole grid, which `size` must find with
//!   far fewer simulations;
//! - a scenario that binds: adding 150 % traffic raises the answer, and the binding constraint
//!   names the scenario.
//!
//! Every case asserts first that its bound is at least 5 % away from the theory at the answer
//! and at the value one step cheaper, so a correct simulator decides both with a confidence
//! interval (these runs' CIs are about 1 % wide) and the expected answer is unambiguous.

use crate::formulas::{erlang_b, erlang_c, mmc_mean_sojourn, mmc_sojourn_quantile};
use capsim::analysis::size::{Sizing, SizingStatus};
use capsim::scenario::ModelSource;
use capsim::workflow::size::{declared, prepare};
use capsim::workflow::Runner;

/// Service rate of every case: exponential service of mean 10 ms.
const MU: f64 = 100.0;

/// Size the model given as JSON text with its own `sizing` section.
fn size(json: &str) -> Sizing {
    let source = ModelSource::from_text(json.to_string(), "sizing.json").expect("a valid model");
    let plan = declared(&source)
        .expect("a readable sizing section")
        .expect("a sizing section");
    prepare(&source, &plan, |_| {})
        .expect("every knob value valid")
        .run(&Runner::new(), None, |_| {})
}

/// An M/M/c (one instance, `workers` sized over 1..32) at `lambda`, with `slo` on its endpoint
/// (`slos` when it starts with `"`: the whole of the model's SLOs), and a scenario of 150 %
/// traffic.
fn mmc(lambda: f64, slo: &str, scenarios: &str) -> String {
    let slos = if slo.starts_with('"') {
        slo.to_string()
    } else {
        format!(r#""servers.serve": {slo}"#)
    };
    format!(
        r#"{{ "name": "mmc", "duration": "10m", "warmup": "1m", "replications": 10, "seed": 3,
          "clients": {{ "arrivals": {{ "open": {{ "rate": "{lambda}/s" }}, "calls": "servers.serve" }} }},
          "services": {{ "servers": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          "slos": {{ {slos} }},
          "scenarios": {{ "traffic-150": {{ "set": {{ "clients.arrivals.open.rate.scale": 1.5 }} }} }},
          "sizing": {{ "currency": "USD", "scenarios": [{scenarios}],
                      "knobs": {{ "services.servers.workers": {{ "values": "1..32", "cost_per_hour": 0.5 }} }} }} }}"#
    )
}

/// The smallest c in 1..=32 with `measure(c)` at most `bound`, asserting that the bound is at
/// least 5 % away from the measure at c and at c − 1 (so the answer is decidable).
fn smallest(bound: f64, measure: impl Fn(u32) -> f64) -> u32 {
    let c = (1..=32).find(|&c| measure(c) <= bound).expect("a staffing in range");
    assert!(measure(c) <= 0.95 * bound, "c = {c}: {} too close to {bound}", measure(c));
    assert!(
        c == 1 || measure(c - 1) >= 1.05 * bound,
        "c = {}: {} too close to {bound}",
        c - 1,
        measure(c - 1)
    );
    c
}

/// The recommended value of the first knob, as a number.
fn answer(s: &Sizing) -> u32 {
    assert_eq!(s.status, SizingStatus::Sized, "{s:#?}");
    s.knobs[0].value.as_deref().expect("a value").parse().expect("a whole number")
}

#[test]
fn the_fewest_servers_meeting_a_latency_percentile_are_those_erlang_c_gives_at_several_loads() {
    // (λ per second, quantile, bound in ms): answers 5, 10 and 20 servers.
    for (lambda, q, bound_ms, label) in [
        (300.0, 0.9, 30.0, "p90"),
        (800.0, 0.99, 55.0, "p99"),
        (1800.0, 0.9, 30.0, "p90"),
    ] {
        let expected = smallest(bound_ms, |c| 1e3 * mmc_sojourn_quantile(q, c, lambda, MU));
        let sized = size(&mmc(lambda, &format!(r#"{{ "{label}": "{bound_ms}ms" }}"#), ""));
        assert_eq!(answer(&sized), expected, "λ = {lambda}/s, {label} <= {bound_ms} ms");
        // One server fewer breaks the objective, and the answer says so.
        let binding = sized.knobs[0].binding.as_ref().expect("a binding objective");
        assert_eq!(binding.objective, format!("{label} <= {bound_ms}ms"));
    }
}

#[test]
fn the_fewest_servers_keeping_the_share_of_requests_that_wait_below_a_target_are_those_erlang_c_gives() {
    // P(wait) = C(c, a): at a = 3, 23.6 % wait with 5 servers and 9.9 % with 6, so a target of
    // 15 % needs 6; at a = 8, a target of 10 % needs 13 (C = 7.6 %; 12 give 14.0 %).
    for (lambda, target) in [(300.0, 0.15), (800.0, 0.10)] {
        let a = lambda / MU;
        let expected = smallest(target, |c| if f64::from(c) > a { erlang_c(c, a) } else { 1.0 });
        let sized = size(&mmc(lambda, &format!(r#""servers": {{ "waited": {target} }}"#), ""));
        assert_eq!(answer(&sized), expected, "a = {a} erlangs, P(wait) <= {target}");
        let binding = sized.knobs[0].binding.as_ref().expect("a binding objective");
        assert_eq!(binding.objective, format!("waited <= {}%", (target * 100.0).round()));
    }
}

#[test]
fn the_fewest_servers_meeting_a_mean_latency_are_those_erlang_c_gives() {
    // λ = 600/s (a = 6): the mean time in system is 16.1 ms at 7 servers, 11.8 ms at 8.
    let expected = smallest(13.5, |c| 1e3 * mmc_mean_sojourn(c, 600.0, MU));
    let sized = size(&mmc(600.0, r#"{ "mean": "13.5ms" }"#, ""));
    assert_eq!(answer(&sized), expected);
}

#[test]
fn the_fewest_servers_of_a_loss_system_meeting_a_blocking_bound_are_those_erlang_b_gives() {
    // A loss system (no waiting room): the error rate is the blocking probability B(c, a).
    // Answers: 8 servers at a = 3 (B = 0.8 %; 7 give 2.2 %), 15 at a = 10 (3.6 %; 14 give 5.7 %).
    for (lambda, bound) in [(300.0, 0.02), (1000.0, 0.05)] {
        let a = lambda / MU;
        let expected = smallest(bound, |c| erlang_b(c, a));
        let json = mmc(lambda, &format!(r#"{{ "error_rate": {bound} }}"#), "")
            .replace(r#""workers": 1,"#, r#""workers": 1, "queue": { "capacity": 0 },"#);
        assert_eq!(answer(&size(&json)), expected, "a = {a} erlangs, blocking <= {bound}");
    }
}

#[test]
fn a_scenario_that_needs_more_servers_raises_the_answer_and_is_named_as_binding() {
    // p90 <= 30 ms: 5 servers at 300/s (p90 25.0 ms; 4 give 32.9), 6 at 450/s (27.9 ms; 5 give 54.0).
    let slo = r#"{ "p90": "30ms" }"#;
    let alone = smallest(30.0, |c| 1e3 * mmc_sojourn_quantile(0.9, c, 300.0, MU));
    let with_peak = smallest(30.0, |c| 1e3 * mmc_sojourn_quantile(0.9, c, 450.0, MU));
    assert!(with_peak > alone);
    assert_eq!(answer(&size(&mmc(300.0, slo, ""))), alone);
    let sized = size(&mmc(300.0, slo, r#""traffic-150""#));
    assert_eq!(answer(&sized), with_peak);
    assert_eq!(sized.runs, ["baseline", "traffic-150"]);
    let binding = sized.knobs[0].binding.as_ref().expect("a binding objective");
    assert_eq!(binding.run, "traffic-150");
    assert_eq!(sized.cost_per_hour, Some(0.5 * f64::from(with_peak)));
}

#[test]
fn the_cheapest_pair_of_instances_and_workers_is_found_with_far_fewer_simulations_than_the_grid() {
    // λ = 1000/s over n instances chosen at random (each an M/M/w fed λ/n); an instance costs
    // 1.0 per hour, a worker 0.3. The cheapest (n, w) with mean time in system <= 13 ms, by
    // enumerating the 8 × 8 grid: (2, 7) at 4.1 per hour (11.6 ms).
    let (lambda, bound_ms) = (1000.0, 13.0);
    let mean_ms = |n: u32, w: u32| 1e3 * mmc_mean_sojourn(w, lambda / f64::from(n), MU);
    let mut grid: Vec<(f64, u32, u32)> = Vec::new();
    for n in 1..=8 {
        for w in 1..=8 {
            let t = mean_ms(n, w);
            // No configuration of the grid is within 5 % of the bound: every verdict is clear.
            assert!((t - bound_ms).abs() >= 0.05 * bound_ms, "(n, w) = ({n}, {w}): {t} ms");
            if t <= bound_ms {
                grid.push((1.0 * f64::from(n) + 0.3 * f64::from(w), n, w));
            }
        }
    }
    grid.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (cost, n, w) = grid[0];
    assert!(grid[1].0 - cost > 0.1, "a unique cheapest pair");
    assert_eq!((n, w), (2, 7));
    let json = format!(
        r#"{{ "name": "fleet", "duration": "10m", "warmup": "1m", "replications": 10, "seed": 5,
          "clients": {{ "arrivals": {{ "open": {{ "rate": "{lambda}/s" }}, "calls": "api.serve" }} }},
          "services": {{ "api": {{ "instances": 1, "workers": 1, "balancer": "random",
                                  "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          "slos": {{ "api.serve": {{ "mean": "{bound_ms}ms" }} }},
          "sizing": {{ "knobs": {{ "services.api.instances": {{ "values": "1..8", "cost_per_hour": 1.0 }},
                                 "services.api.workers": {{ "values": "1..8", "cost_per_hour": 0.3 }} }} }} }}"#
    );
    let sized = size(&json);
    assert_eq!(sized.status, SizingStatus::Sized, "{sized:#?}");
    let values: Vec<&str> = sized.knobs.iter().map(|k| k.value.as_deref().unwrap_or("")).collect();
    assert_eq!(values, ["2", "7"]);
    assert!((sized.cost_per_hour.expect("a cost") - cost).abs() < 1e-9);
    // Far fewer configurations than the grid's 64.
    assert!(sized.configurations <= 24, "{} configurations judged", sized.configurations);
    // One step cheaper on either knob breaks the mean.
    for k in &sized.knobs {
        let step = k.cheaper.as_ref().expect("a cheaper neighbour");
        assert!(step.breaks.iter().any(|o| o.objective == "mean <= 13ms"), "{step:#?}");
    }
}
