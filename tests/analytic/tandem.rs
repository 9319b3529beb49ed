//! An open tandem (Jackson) network of two M/M/1 stations: Poisson arrivals at λ = 100/s to
//! station a (exponential CPU of mean 6 ms, μa ≈ 166.7/s), then to station b (exponential CPU of
//! mean 8 ms, μb = 125/s).
//!
//! Station a is asynchronous (`"async"`): only its CPU step holds its worker, which it gives back
//! before the call to b (see `on_step_done` in src/sim/service.rs). A thread-per-request service
//! would hold a's worker during b's service, which is not a Jackson network. The in-flight cap is
//! far above anything reached, so nothing is rejected. By Burke's theorem a's departures are
//! Poisson, so b is an M/M/1 queue too, and the stations behave as if independent.

use crate::{assert_in_ci, ms, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

/// Arrival rate, per second.
const LAMBDA: f64 = 100.0;
/// Mean CPU time at a, milliseconds.
const MEAN_A_MS: f64 = 6.0;
/// Mean CPU time at b, milliseconds.
const MEAN_B_MS: f64 = 8.0;

/// Utilisation of a station with mean service `mean_ms`.
fn rho(mean_ms: f64) -> f64 {
    LAMBDA * mean_ms / 1e3
}

/// Mean time in an M/M/1 station with mean service `mean_ms`, milliseconds: 1/(μ − λ).
fn sojourn_ms(mean_ms: f64) -> f64 {
    1e3 / (1e3 / mean_ms - LAMBDA)
}

/// One run shared by every claim below: 20 replications of 1 h (2 min warm-up). Services are
/// listed a then b, so `services[0]` is a and `services[1]` is b (likewise endpoints).
fn tandem() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let json = format!(
            r#"{{
              "name": "tandem", "duration": "1h", "warmup": "2m", "replications": 20, "seed": 7,
              "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "a.x" }} }},
              "services": {{
                "a": {{ "workers": 1, "async": {{ "max_in_flight": 1000000 }},
                       "endpoints": {{ "x": [ {{ "cpu": "exp({a})" }}, {{ "call": "b.y" }} ] }} }},
                "b": {{ "workers": 1, "endpoints": {{ "y": [ {{ "cpu": "exp({b})" }} ] }} }}
              }}
            }}"#,
            rate = rate(LAMBDA),
            a = ms(MEAN_A_MS),
            b = ms(MEAN_B_MS),
        );
        let r = run_json(&json, "tandem.json");
        assert_eq!((r.services[0].name.as_str(), r.services[1].name.as_str()), ("a", "b"));
        assert_eq!(r.endpoints[0].counts.rejected, 0, "the in-flight cap of a was reached");
        r
    })
}

#[test]
fn tandem_end_to_end_mean_matches_sum_of_station_sojourns() {
    let w_ms = sojourn_ms(MEAN_A_MS) + sojourn_ms(MEAN_B_MS);
    let r = tandem();
    assert_in_ci("tandem a.x sojourn (ms)", &r.endpoints[0].sojourn_ms, w_ms);
    assert_in_ci("tandem client mean latency (ms)", &r.clients[0].latency.mean_ms, w_ms);
}

#[test]
fn tandem_station_a_queue_matches_mm1() {
    let (rho_a, s) = (rho(MEAN_A_MS), &tandem().services[0]);
    assert_in_ci("tandem a queue_length", &s.queue_length, rho_a * rho_a / (1.0 - rho_a));
    assert_in_ci(
        "tandem a worker_wait.mean_ms",
        &s.worker_wait.mean_ms,
        rho_a * sojourn_ms(MEAN_A_MS),
    );
    assert_in_ci("tandem a utilisation", &s.utilisation, rho_a);
}

#[test]
fn tandem_station_b_queue_matches_mm1() {
    let (rho_b, r) = (rho(MEAN_B_MS), tandem());
    let s = &r.services[1];
    assert_in_ci("tandem b queue_length", &s.queue_length, rho_b * rho_b / (1.0 - rho_b));
    assert_in_ci("tandem b in_service", &s.in_service, rho_b / (1.0 - rho_b));
    assert_in_ci(
        "tandem b worker_wait.mean_ms",
        &s.worker_wait.mean_ms,
        rho_b * sojourn_ms(MEAN_B_MS),
    );
    assert_in_ci("tandem b.y sojourn (ms)", &r.endpoints[1].sojourn_ms, sojourn_ms(MEAN_B_MS));
}

#[test]
fn tandem_requests_in_a_match_sum_of_station_means() {
    // A request is in a from its arrival until b answers: L = ρa/(1 − ρa) + ρb/(1 − ρb).
    let (rho_a, rho_b) = (rho(MEAN_A_MS), rho(MEAN_B_MS));
    let l = rho_a / (1.0 - rho_a) + rho_b / (1.0 - rho_b);
    assert_in_ci("tandem a in_service", &tandem().services[0].in_service, l);
}
