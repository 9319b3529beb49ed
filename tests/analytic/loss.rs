//! M/M/c/c and M/G/c/c loss systems (Erlang B): c = 5 workers and no waiting room
//! (`"queue": {"capacity": 0}`), Poisson arrivals at λ = 300/s, mean service 10 ms (a = 3 erlangs).
//! An arrival that finds every worker busy is rejected; rejected requests count as failures, so
//! the per-replication error rate is the share of arrivals blocked.

use crate::formulas::erlang_b;
use crate::{assert_in_ci, ms, rate, run_json};
use capsim::results::RunResult;
use std::sync::OnceLock;

/// Arrival rate, per second.
const LAMBDA: f64 = 300.0;
/// Mean service time, milliseconds.
const MEAN_SERVICE_MS: f64 = 10.0;
/// Workers, and at most as many requests in the service.
const C: u32 = 5;
/// Offered load, erlangs.
const A: f64 = LAMBDA * MEAN_SERVICE_MS / 1e3;

/// A loss system with service `dist`: 20 replications of 30 min (2 min warm-up).
fn loss_system(name: &str, dist: &str, seed: u64) -> RunResult {
    let json = format!(
        r#"{{
          "name": "{name}", "duration": "30m", "warmup": "2m", "replications": 20, "seed": {seed},
          "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "servers.serve" }} }},
          "services": {{ "servers": {{ "workers": {C}, "queue": {{ "capacity": 0 }},
                                      "endpoints": {{ "serve": [ {{ "cpu": "{dist}" }} ] }} }} }}
        }}"#,
        rate = rate(LAMBDA),
    );
    run_json(&json, &format!("{name}.json"))
}

/// Exponential service: M/M/5/5.
fn mmcc() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| loss_system("mmcc", &format!("exp({})", ms(MEAN_SERVICE_MS)), 5))
}

/// Lognormal service of the same mean (coefficient of variation 1.5): M/G/5/5.
fn mgcc() -> &'static RunResult {
    static RESULT: OnceLock<RunResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let dist = format!("lognormal(mean={}, sd={})", ms(MEAN_SERVICE_MS), ms(1.5 * MEAN_SERVICE_MS));
        loss_system("mgcc", &dist, 6)
    })
}

#[test]
fn mmcc_blocking_probability_matches_erlang_b() {
    let r = mmcc();
    let b = erlang_b(C, A);
    let counts = &r.endpoints[0].counts;
    // The only failures of a loss system are rejections at admission.
    assert!(counts.rejected > 0, "no request was rejected: {counts:?}");
    assert_eq!((counts.errors, counts.timeouts), (0, 0), "{counts:?}");
    assert_in_ci("M/M/5/5 endpoint error_rate", &r.endpoints[0].error_rate, b);
    assert_in_ci("M/M/5/5 client error_rate", &r.clients[0].error_rate, b);
}

#[test]
fn mmcc_mean_busy_workers_matches_carried_load() {
    // Carried load a·(1 − B) erlangs: the mean number of busy workers, all of the service.
    let carried = A * (1.0 - erlang_b(C, A));
    let r = mmcc();
    assert_in_ci("M/M/5/5 in_service", &r.services[0].in_service, carried);
    assert_in_ci("M/M/5/5 utilisation", &r.services[0].utilisation, carried / f64::from(C));
}

#[test]
fn mmcc_loss_system_never_queues() {
    let s = &mmcc().services[0];
    assert_eq!(
        (s.queue_length.mean, s.queue_length.ci95),
        (0.0, 0.0),
        "queue_length {:?}",
        s.queue_length
    );
    assert_eq!(s.queue_length_max.max, 0.0, "queue_length_max {:?}", s.queue_length_max);
    assert_eq!(
        s.worker_wait.waited_share.max, 0.0,
        "waited_share {:?}",
        s.worker_wait.waited_share
    );
}

#[test]
fn erlang_b_blocking_is_insensitive_to_the_service_distribution() {
    // Erlang B depends on the service law only through its mean (M/G/c/c insensitivity).
    let r = mgcc();
    assert_in_ci(
        "M/G/5/5 lognormal endpoint error_rate",
        &r.endpoints[0].error_rate,
        erlang_b(C, A),
    );
    assert_in_ci(
        "M/G/5/5 lognormal in_service",
        &r.services[0].in_service,
        A * (1.0 - erlang_b(C, A)),
    );
}
