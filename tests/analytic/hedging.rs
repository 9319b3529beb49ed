//! Hedged requests on a heavy-tailed call, against the distribution worked out in advance.
//!
//! The backend answers after X ~ Pareto(scale 10 ms, shape 2), never queued: P(X > x) =
//! (10 ms / x)². Its p95 is d = 10/√0.05 = 44.72 ms and its p99 100 ms. Hedged after d, a call
//! takes R = min(X₁, d + X₂) with X₁, X₂ independent, so for t ≥ d + 10 ms
//! P(R > t) = (10/t)² (10/(t − d))², and the p99 (that product at 1 %) solves t(t − d) = 10³ ms²:
//! t = (d + √(d² + 4000)) / 2 = 61.09 ms. A copy goes for the share P(X > d) = 5 % of the calls
//! (the extra load), and it answers first when X₁ > d + X₂: given X₁ > d, X₁ is Pareto from d,
//! so that share is E[(d / (d + X₂))²].

use crate::{assert_in_ci, assert_in_widened_ci, run_json};
use capsim::results::RunResult;

/// The Pareto's scale, milliseconds.
const SCALE_MS: f64 = 10.0;
/// Latency percentiles come from a histogram of relative resolution 0.1 %.
const HISTOGRAM_RESOLUTION: f64 = 1e-3;

/// Clients at 200/s call a backend whose answer takes Pareto(10 ms, 2), hedged as `hedge`.
fn hedged(hedge: &str) -> RunResult {
    let json = format!(
        r#"{{ "name": "hedge", "duration": "30m", "warmup": "1m", "replications": 20, "seed": 11,
          "clients": {{ "web": {{ "open": {{ "rate": "200/s" }}, "calls": "backend.get", "hedge": {hedge} }} }},
          "services": {{ "backend": {{ "async": {{ "max_in_flight": 100000 }},
              "endpoints": {{ "get": [ {{ "delay": "pareto(shape=2, scale=10ms)" }} ] }} }} }} }}"#
    );
    run_json(&json, "hedge.json")
}

/// P(X > x) for the backend's Pareto.
fn tail(x_ms: f64) -> f64 {
    if x_ms <= SCALE_MS {
        1.0
    } else {
        (SCALE_MS / x_ms).powi(2)
    }
}

/// E[(d / (d + X))²] by the midpoint rule on the quantile scale (X = 10 / √(1 − u)).
fn copy_wins(d_ms: f64) -> f64 {
    let n = 200_000;
    (0..n)
        .map(|i| {
            let u = (f64::from(i) + 0.5) / f64::from(n);
            let x = SCALE_MS / (1.0 - u).sqrt();
            (d_ms / (d_ms + x)).powi(2)
        })
        .sum::<f64>()
        / f64::from(n)
}

#[test]
fn hedging_after_the_p95_cuts_a_pareto_p99_from_100_to_61_ms_for_5_percent_more_calls() {
    // "44.72136ms" is d to the nanosecond the model can state.
    let d = 44.72136;
    let p99 = (d + (d * d + 4.0 * SCALE_MS.powi(3)).sqrt()) / 2.0;
    assert!((p99 - 61.09).abs() < 0.01 && (tail(p99) * tail(p99 - d) - 0.01).abs() < 1e-9);
    let r = hedged(r#"{ "after": "44.72136ms" }"#);
    let p99_ms = &r.clients[0].latency.p99_ms;
    assert_in_widened_ci(
        "hedged p99 (ms)",
        p99_ms,
        p99,
        HISTOGRAM_RESOLUTION * p99,
        "histogram relative resolution 0.1 %",
    );
    let h = &r.hedges[0];
    assert_eq!((h.name.as_str(), h.setting.as_str()), ("web.hedge", "after 44.7ms"));
    assert_in_ci("extra load", &h.extra_load, tail(d));
    assert_in_ci("share of copies answering first", &h.won_share, copy_wins(d));
    // The copies are calls at the backend: 5 % more than the clients send.
    let backend = r.endpoints[0].throughput_per_s.mean;
    assert!((backend / 200.0 - 1.05).abs() < 0.002, "backend takes {backend}/s");
    // Without the hedge the p99 is the backend's own, 100 ms.
    let plain = run_json(
        r#"{ "name": "plain", "duration": "30m", "warmup": "1m", "replications": 20, "seed": 11,
          "clients": { "web": { "open": { "rate": "200/s" }, "calls": "backend.get" } },
          "services": { "backend": { "async": { "max_in_flight": 100000 },
              "endpoints": { "get": [ { "delay": "pareto(shape=2, scale=10ms)" } ] } } } }"#,
        "plain.json",
    );
    assert_in_widened_ci(
        "unhedged p99 (ms)",
        &plain.clients[0].latency.p99_ms,
        100.0,
        HISTOGRAM_RESOLUTION * 100.0,
        "histogram relative resolution 0.1 %",
    );
}

#[test]
fn hedging_at_p95_learns_the_p95_from_the_calls_own_answers() {
    // The delay is a nearest-rank p95 of the last 1,000 answers, so it is the p95 up to that
    // estimate's own error: one standard error of a sample quantile, √(p(1 − p)/n) / f(x_p),
    // is 3.08 ms here (f(x) = 2·10²/x³), and the share of calls past it moves by √(p(1 − p)/n)
    // = 0.69 %. The p99 moves with the delay: dt/dd = (1 + d/√(d² + 4000)) / 2 = 0.79.
    let (p, n): (f64, f64) = (0.05, 1_000.0);
    let d = SCALE_MS / p.sqrt();
    let share_error = (p * (1.0 - p) / n).sqrt();
    let density = 2.0 * SCALE_MS.powi(2) / d.powi(3);
    let delay_error = share_error / density;
    assert!((delay_error - 3.08).abs() < 0.01, "{delay_error}");
    let root = (d * d + 4.0 * SCALE_MS.powi(3)).sqrt();
    let p99 = (d + root) / 2.0;
    let slope = (1.0 + d / root) / 2.0;
    let r = hedged(r#"{ "at": "p95" }"#);
    let h = &r.hedges[0];
    assert_eq!(h.setting, "at p95");
    let why = "one standard error of a p95 from 1,000 answers";
    assert_in_widened_ci("learned delay (ms)", &h.delay_ms, d, delay_error, why);
    assert_in_widened_ci("extra load", &h.extra_load, p, share_error, why);
    assert_in_widened_ci(
        "hedged p99 (ms)",
        &r.clients[0].latency.p99_ms,
        p99,
        slope * delay_error + HISTOGRAM_RESOLUTION * p99,
        "the delay's error carried to the p99, and the histogram's resolution",
    );
}
