//! M/G/1 by Pollaczek–Khinchine, Wq = λ·E[S²] / (2·(1 − ρ)): constant service (M/D/1) and a
//! lognormal service with a coefficient of variation of 1.5.

use crate::formulas::pollaczek_khinchine_wait;
use crate::{assert_in_ci, ms, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

/// A single-worker model with Poisson arrivals at `lambda` per second and service `dist`.
fn single_server(name: &str, lambda: f64, dist: &str, seed: u64) -> RunResult {
    let json = format!(
        r#"{{
          "name": "{name}", "duration": "1h", "warmup": "2m", "replications": 20, "seed": {seed},
          "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "server.serve" }} }},
          "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "{dist}" }} ] }} }} }}
        }}"#,
        rate = rate(lambda),
    );
    run_json(&json, &format!("{name}.json"))
}

/// M/D/1: λ = 80/s, every service exactly 10 ms (ρ = 0.8, E[S²] = E[S]²).
mod md1 {
    use super::*;

    pub const LAMBDA: f64 = 80.0;
    pub const SERVICE_MS: f64 = 10.0;

    pub fn run() -> &'static RunResult {
        static RESULT: OnceLock<RunResult> = OnceLock::new();
        RESULT.get_or_init(|| single_server("md1", LAMBDA, &ms(SERVICE_MS), 3))
    }

    /// Wq in milliseconds.
    pub fn wq_ms() -> f64 {
        let s = SERVICE_MS / 1e3;
        1e3 * pollaczek_khinchine_wait(LAMBDA, s, s * s)
    }
}

/// M/G/1: λ = 60/s, lognormal service of mean 10 ms and standard deviation 15 ms (ρ = 0.6,
/// E[S²] = sd² + mean²).
mod lognormal {
    use super::*;

    pub const LAMBDA: f64 = 60.0;
    pub const MEAN_MS: f64 = 10.0;
    pub const SD_MS: f64 = 15.0;

    pub fn run() -> &'static RunResult {
        static RESULT: OnceLock<RunResult> = OnceLock::new();
        RESULT.get_or_init(|| {
            let dist = format!("lognormal(mean={}, sd={})", ms(MEAN_MS), ms(SD_MS));
            single_server("mg1_lognormal", LAMBDA, &dist, 4)
        })
    }

    /// Wq in milliseconds.
    pub fn wq_ms() -> f64 {
        let (mean, sd) = (MEAN_MS / 1e3, SD_MS / 1e3);
        1e3 * pollaczek_khinchine_wait(LAMBDA, mean, sd * sd + mean * mean)
    }
}

#[test]
fn md1_mean_wait_matches_pollaczek_khinchine() {
    assert_in_ci(
        "M/D/1 worker_wait.mean_ms",
        &md1::run().services[0].worker_wait.mean_ms,
        md1::wq_ms(),
    );
}

#[test]
fn md1_mean_sojourn_matches_pollaczek_khinchine_wait_plus_service() {
    let w_ms = md1::wq_ms() + md1::SERVICE_MS;
    assert_in_ci("M/D/1 endpoint sojourn (ms)", &md1::run().endpoints[0].sojourn_ms, w_ms);
}

#[test]
fn md1_mean_queue_length_matches_lambda_times_pollaczek_khinchine_wait() {
    let lq = md1::LAMBDA * md1::wq_ms() / 1e3;
    assert_in_ci("M/D/1 queue_length", &md1::run().services[0].queue_length, lq);
}

#[test]
fn md1_utilisation_matches_rho() {
    let rho = md1::LAMBDA * md1::SERVICE_MS / 1e3;
    assert_in_ci("M/D/1 utilisation", &md1::run().services[0].utilisation, rho);
}

#[test]
fn mg1_lognormal_mean_wait_matches_pollaczek_khinchine() {
    let got = &lognormal::run().services[0].worker_wait.mean_ms;
    assert_in_ci("M/G/1 lognormal worker_wait.mean_ms", got, lognormal::wq_ms());
}

#[test]
fn mg1_lognormal_mean_sojourn_matches_pollaczek_khinchine_wait_plus_mean_service() {
    let w_ms = lognormal::wq_ms() + lognormal::MEAN_MS;
    assert_in_ci(
        "M/G/1 lognormal endpoint sojourn (ms)",
        &lognormal::run().endpoints[0].sojourn_ms,
        w_ms,
    );
}

#[test]
fn mg1_lognormal_mean_queue_length_matches_lambda_times_pollaczek_khinchine_wait() {
    let lq = lognormal::LAMBDA * lognormal::wq_ms() / 1e3;
    assert_in_ci("M/G/1 lognormal queue_length", &lognormal::run().services[0].queue_length, lq);
}

#[test]
fn mg1_lognormal_utilisation_matches_rho() {
    let rho = lognormal::LAMBDA * lognormal::MEAN_MS / 1e3;
    assert_in_ci("M/G/1 lognormal utilisation", &lognormal::run().services[0].utilisation, rho);
}
