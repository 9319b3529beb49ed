//! M/M/c (Erlang C): Poisson arrivals at λ = 300/s to c = 4 workers sharing one FIFO queue,
//! exponential service of mean 10 ms (μ = 100/s per worker, offered load a = 3 erlangs, ρ = 0.75).

use crate::formulas::erlang_c;
use crate::{assert_in_ci, ms, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

/// Arrival rate, per second.
const LAMBDA: f64 = 300.0;
/// Mean service time, milliseconds.
const MEAN_SERVICE_MS: f64 = 10.0;
/// Service rate of one worker, per second.
const MU: f64 = 1e3 / MEAN_SERVICE_MS;
/// Workers.
const C: u32 = 4;
/// Offered load, erlangs.
const A: f64 = LAMBDA / MU;

/// One run shared by every claim below: 20 replications of 30 min (2 min warm-up).
fn mmc() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let json = format!(
            r#"{{
              "name": "mmc", "duration": "30m", "warmup": "2m", "replications": 20, "seed": 2,
              "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "servers.serve" }} }},
              "services": {{ "servers": {{ "workers": {C}, "endpoints": {{ "serve": [ {{ "cpu": "exp({mean})" }} ] }} }} }}
            }}"#,
            rate = rate(LAMBDA),
            mean = ms(MEAN_SERVICE_MS),
        );
        run_json(&json, "mmc.json")
    })
}

/// Mean wait in queue, seconds: Wq = C(c, a) / (cμ − λ).
fn wq_s() -> f64 {
    erlang_c(C, A) / (f64::from(C) * MU - LAMBDA)
}

#[test]
fn mmc_probability_of_waiting_matches_erlang_c() {
    // PASTA: the share of arrivals that find every worker busy is the time-average probability.
    assert_in_ci(
        "M/M/4 worker_wait.waited_share",
        &mmc().services[0].worker_wait.waited_share,
        erlang_c(C, A),
    );
}

#[test]
fn mmc_mean_wait_matches_erlang_c_over_c_mu_minus_lambda() {
    assert_in_ci(
        "M/M/4 worker_wait.mean_ms",
        &mmc().services[0].worker_wait.mean_ms,
        1e3 * wq_s(),
    );
}

#[test]
fn mmc_mean_sojourn_matches_wait_plus_mean_service() {
    assert_in_ci(
        "M/M/4 endpoint sojourn (ms)",
        &mmc().endpoints[0].sojourn_ms,
        1e3 * wq_s() + MEAN_SERVICE_MS,
    );
}

#[test]
fn mmc_mean_queue_length_matches_lambda_times_wait() {
    // Lq = λ·Wq = C(c, a)·ρ / (1 − ρ).
    assert_in_ci("M/M/4 queue_length", &mmc().services[0].queue_length, LAMBDA * wq_s());
}

#[test]
fn mmc_utilisation_matches_offered_load_over_c() {
    assert_in_ci("M/M/4 utilisation", &mmc().services[0].utilisation, A / f64::from(C));
}
