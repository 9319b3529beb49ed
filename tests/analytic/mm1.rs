//! M/M/1: Poisson arrivals at λ = 80/s to one worker with exponential service of mean 10 ms
//! (μ = 100/s, ρ = 0.8). The time in system is exponential with rate μ − λ.

use crate::{assert_in_ci, assert_in_widened_ci, ms, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

/// Arrival rate, per second.
const LAMBDA: f64 = 80.0;
/// Mean service time, milliseconds.
const MEAN_SERVICE_MS: f64 = 10.0;
/// Service rate, per second.
const MU: f64 = 1e3 / MEAN_SERVICE_MS;
/// Utilisation.
const RHO: f64 = LAMBDA / MU;

/// Relative resolution of capsim's latency histograms (3 significant digits: a quantile is within
/// 0.1 % of the latency it stands for; see `stats::histogram`).
const HISTOGRAM_RESOLUTION: f64 = 1e-3;

/// One run shared by every claim below: 20 replications of 1 h (2 min warm-up), about 5.6 million
/// requests after the warm-up.
fn mm1() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let json = format!(
            r#"{{
              "name": "mm1", "duration": "1h", "warmup": "2m", "replications": 20, "seed": 1,
              "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "server.serve" }} }},
              "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp({mean})" }} ] }} }} }}
            }}"#,
            rate = rate(LAMBDA),
            mean = ms(MEAN_SERVICE_MS),
        );
        run_json(&json, "mm1.json")
    })
}

#[test]
fn mm1_mean_sojourn_matches_1_over_mu_minus_lambda() {
    let w_ms = 1e3 / (MU - LAMBDA);
    let r = mm1();
    assert_in_ci("M/M/1 endpoint sojourn (ms)", &r.endpoints[0].sojourn_ms, w_ms);
    // Every request succeeds, and no link separates client and server: the same mean everywhere.
    assert_in_ci("M/M/1 endpoint mean latency (ms)", &r.endpoints[0].latency.mean_ms, w_ms);
    assert_in_ci("M/M/1 client mean latency (ms)", &r.clients[0].latency.mean_ms, w_ms);
}

#[test]
fn mm1_mean_number_in_system_matches_rho_over_1_minus_rho() {
    assert_in_ci("M/M/1 in_service", &mm1().services[0].in_service, RHO / (1.0 - RHO));
}

#[test]
fn mm1_mean_queue_length_matches_rho_squared_over_1_minus_rho() {
    assert_in_ci("M/M/1 queue_length", &mm1().services[0].queue_length, RHO * RHO / (1.0 - RHO));
}

#[test]
fn mm1_mean_wait_for_the_worker_matches_rho_over_mu_minus_lambda() {
    let wq_ms = 1e3 * RHO / (MU - LAMBDA);
    assert_in_ci("M/M/1 worker_wait.mean_ms", &mm1().services[0].worker_wait.mean_ms, wq_ms);
}

#[test]
fn mm1_share_of_arrivals_that_wait_matches_rho() {
    // PASTA: an arrival finds the server busy with the time-average probability ρ.
    assert_in_ci(
        "M/M/1 worker_wait.waited_share",
        &mm1().services[0].worker_wait.waited_share,
        RHO,
    );
}

#[test]
fn mm1_utilisation_matches_rho() {
    assert_in_ci("M/M/1 utilisation", &mm1().services[0].utilisation, RHO);
}

#[test]
fn mm1_throughput_matches_arrival_rate() {
    assert_in_ci("M/M/1 endpoint throughput (/s)", &mm1().endpoints[0].throughput_per_s, LAMBDA);
}

#[test]
fn mm1_median_sojourn_matches_ln2_over_mu_minus_lambda() {
    // The sojourn is exponential with rate μ − λ: its median is ln 2 / (μ − λ). The reported
    // median is a histogram bucket's value, within HISTOGRAM_RESOLUTION of the sample median, so
    // the interval is widened by that relative resolution.
    let median_ms = 1e3 * std::f64::consts::LN_2 / (MU - LAMBDA);
    assert_in_widened_ci(
        "M/M/1 median sojourn (ms)",
        &mm1().endpoints[0].latency.p50_ms,
        median_ms,
        HISTOGRAM_RESOLUTION * median_ms,
        "histogram relative resolution 0.1 %",
    );
}

#[test]
fn mm1_p99_sojourn_matches_ln100_over_mu_minus_lambda() {
    // The same exponential law at its 99th percentile: ln 100 / (μ − λ).
    let p99_ms = 1e3 * 100f64.ln() / (MU - LAMBDA);
    assert_in_widened_ci(
        "M/M/1 p99 sojourn (ms)",
        &mm1().endpoints[0].latency.p99_ms,
        p99_ms,
        HISTOGRAM_RESOLUTION * p99_ms,
        "histogram relative resolution 0.1 %",
    );
}
