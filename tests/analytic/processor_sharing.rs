//! CPU cores apart from workers. With ample workers and one core shared by processor sharing a
//! service is an M/G/1-PS queue, whose means are insensitive to the service distribution: mean
//! sojourn 1/(μ − λ) for exponential work, a job of size x takes x/(1 − ρ) on average, and the
//! number in system is geometric (mean ρ/(1 − ρ), so ρ²/(1 − ρ) beyond the one core). On fewer
//! cores than workers, CPU-bound work saturates at the cores' throughput, not the workers'.

use crate::{assert_in_ci, run_json};

#[test]
fn mm1_ps_mean_sojourn_matches_1_over_mu_minus_lambda() {
    // λ = 60/s, exponential work of 10 ms (μ = 100/s) on one core shared by up to 1000 workers.
    let json = r#"{ "name": "mm1-ps", "duration": "1h", "warmup": "2m", "replications": 20, "seed": 3,
        "clients": { "arrivals": { "open": { "rate": "60/s" }, "calls": "server.serve" } },
        "services": { "server": { "workers": 1000, "cores": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } } }"#;
    let r = run_json(json, "mm1-ps.json");
    assert_in_ci(
        "M/M/1-PS mean sojourn (ms)",
        &r.endpoints[0].latency.mean_ms,
        1e3 / (100.0 - 60.0),
    );
    assert_in_ci("M/M/1-PS core utilisation", &r.cpus[0].utilisation, 0.6);
}

#[test]
fn ps_response_time_is_linear_in_job_size_and_the_run_queue_is_geometric() {
    // Two sizes on one core: 40/s of 5 ms and 8/s of 50 ms, ρ = 0.2 + 0.4 = 0.6. E[T | x] =
    // x / (1 − ρ): 12.5 ms and 125 ms. Steps beyond the core: ρ/(1 − ρ) − ρ = 0.9.
    let json = r#"{ "name": "mg1-ps", "duration": "1h", "warmup": "2m", "replications": 32, "seed": 4,
        "clients": { "small": { "open": { "rate": "40/s" }, "calls": "cpu.small" },
                     "large": { "open": { "rate": "8/s" }, "calls": "cpu.large" } },
        "services": { "cpu": { "workers": 1000, "cores": 1, "endpoints": {
            "small": [ { "cpu": "5ms" } ], "large": [ { "cpu": "50ms" } ] } } } }"#;
    let r = run_json(json, "mg1-ps.json");
    assert_in_ci("PS mean latency of 5 ms jobs", &r.clients[0].latency.mean_ms, 5.0 / 0.4);
    assert_in_ci("PS mean latency of 50 ms jobs", &r.clients[1].latency.mean_ms, 50.0 / 0.4);
    assert_in_ci("PS steps beyond the core", &r.cpus[0].run_queue, 0.6 / 0.4 - 0.6);
    assert_in_ci("PS core utilisation", &r.cpus[0].utilisation, 0.6);
}

#[test]
fn four_cores_under_sixteen_workers_saturate_at_four_cores_worth() {
    // 64 closed-loop users, 16 workers, each request 10 ms of CPU then a 5 ms wait that uses no
    // core. With a core per worker the workers bound it: 16 / 15 ms = 1067/s. With 4 cores the
    // cores do: 4 / 10 ms = 400/s — all 4 stay busy unless 13 of the 16 requests in a worker
    // wait at once (2 do on average), so the throughput is 400/s up to a negligible share.
    for sharing in ["ps", "fifo"] {
        let json = format!(
            r#"{{ "name": "puma", "duration": "20m", "warmup": "1m", "replications": 5, "seed": 6,
              "clients": {{ "users": {{ "closed": {{ "users": 64 }}, "calls": "web.get" }} }},
              "services": {{ "web": {{ "workers": 16, "cores": 4, "cpu_sharing": "{sharing}",
                  "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }}, {{ "delay": "5ms" }} ] }} }} }} }}"#
        );
        // Closed users without think time are an overload warning by design: parsed, not run_json.
        let validated = capsim::model::parse_model(&json, "puma.json").expect("a valid model");
        let r = capsim::run(&validated.model, &[], None);
        let throughput = &r.clients[0].throughput_per_s;
        assert!(
            (throughput.mean - 400.0).abs() <= throughput.ci95.max(400.0 * 1e-3),
            "{sharing}: {throughput:?}"
        );
        assert!(r.cpus[0].utilisation.mean > 0.999, "{sharing}: {:?}", r.cpus[0].utilisation);
    }
}
