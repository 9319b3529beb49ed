//! Two request classes at one worker, the critical one's line served first (non-preemptive
//! priority M/M/1): Cobham's formula gives each class's mean wait,
//! W₁ = R / (1 − ρ₁) and W₂ = R / ((1 − ρ₁)(1 − ρ₁ − ρ₂)), with R = Σ λᵢ·E[Sᵢ²] / 2 the mean
//! residual work found in service.

use crate::{assert_in_ci, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

const HIGH: f64 = 30.0;
const LOW: f64 = 40.0;
const SERVICE_S: f64 = 0.010;

fn run() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let json = format!(
            r#"{{
              "name": "priority", "duration": "30m", "warmup": "2m", "replications": 20, "seed": 8,
              "clients": {{
                "high": {{ "open": {{ "rate": "{high}" }}, "calls": "server.serve", "class": "critical" }},
                "low": {{ "open": {{ "rate": "{low}" }}, "calls": "server.serve", "class": "bulk" }}
              }},
              "services": {{ "server": {{ "workers": 1,
                "queue": {{ "classes": [ {{ "class": "critical" }}, {{ "class": "bulk" }} ] }},
                "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }}
            }}"#,
            high = rate(HIGH),
            low = rate(LOW),
        );
        run_json(&json, "priority.json")
    })
}

/// Mean waits in ms of the (high, low) classes by Cobham's formula.
fn cobham_ms() -> (f64, f64) {
    let (rho1, rho2) = (HIGH * SERVICE_S, LOW * SERVICE_S);
    // Exponential service: E[S²] = 2·E[S]².
    let residual = (HIGH + LOW) * 2.0 * SERVICE_S * SERVICE_S / 2.0;
    let w1 = residual / (1.0 - rho1);
    let w2 = residual / ((1.0 - rho1) * (1.0 - rho1 - rho2));
    (1e3 * w1, 1e3 * w2)
}

#[test]
fn each_class_waits_as_cobham_says_for_non_preemptive_priority() {
    let (w1, w2) = cobham_ms();
    let result = run();
    let client = |name: &str| result.clients.iter().find(|c| c.name == name).unwrap();
    assert_in_ci(
        "high class mean latency (ms)",
        &client("high").latency.mean_ms,
        w1 + 1e3 * SERVICE_S,
    );
    assert_in_ci(
        "low class mean latency (ms)",
        &client("low").latency.mean_ms,
        w2 + 1e3 * SERVICE_S,
    );
}

#[test]
fn priority_leaves_the_overall_mean_wait_of_m_m_1() {
    // Work-conserving and blind to service times: the mixture waits as in M/M/1, ρ·S / (1 − ρ).
    let rho = (HIGH + LOW) * SERVICE_S;
    let wq_ms = 1e3 * rho * SERVICE_S / (1.0 - rho);
    assert_in_ci("overall worker_wait.mean_ms", &run().services[0].worker_wait.mean_ms, wq_ms);
}
