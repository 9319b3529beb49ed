//! Database contention by the Universal Scalability Law: with n queries always active, each takes
//! cost × (1 + σ(n − 1) + κ·n(n − 1)), so throughput is n / (cost × that factor).

use super::run_json;

/// N closed-loop users with no think time and no network, each sending one constant 10 ms query
/// at a time through a pool large enough for all: in steady state every query starts with all N
/// queries active at the database.
fn closed_loop(users: u32, sigma: f64, kappa: f64) -> String {
    format!(
        r#"{{
  "name": "usl", "duration": "5m", "warmup": "10s", "replications": 2, "seed": 4,
  "clients": {{ "users": {{ "closed": {{ "users": {users} }}, "calls": "app.q" }} }},
  "services": {{ "app": {{ "workers": 64, "endpoints": {{ "q": [ {{ "transaction": {{ "pool": "p", "query": "10ms" }} }} ] }} }} }},
  "databases": {{ "db": {{ "cores": 64, "contention": {{ "sigma": {sigma}, "kappa": {kappa} }} }} }},
  "pools": {{ "p": {{ "database": "db", "size": 64 }} }}
}}"#
    )
}

#[test]
fn usl_contention_stretches_each_query_by_one_plus_sigma_n_minus_1_plus_kappa_n_n_minus_1() {
    for (users, sigma, kappa) in [(1, 0.05, 0.001), (8, 0.05, 0.001), (32, 0.02, 0.0005)] {
        let result = run_json(&closed_loop(users, sigma, kappa), "usl.json");
        let n = f64::from(users);
        let factor = 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
        let latency = &result.endpoints[0].latency.mean_ms;
        // Deterministic in steady state: constant costs, no randomness left. The only slack is
        // rounding each query's time to whole nanoseconds.
        assert!(
            (latency.mean - 10.0 * factor).abs() < 1e-4,
            "{users} users: {} ms, USL says {} ms",
            latency.mean,
            10.0 * factor
        );
        let throughput = result.clients[0].throughput_per_s.mean;
        let usl = n / (0.010 * factor);
        assert!(
            (throughput - usl).abs() / usl < 0.005,
            "{users} users: {throughput}/s, USL says {usl}/s"
        );
    }
}

#[test]
fn usl_throughput_peaks_and_then_falls_as_concurrency_grows() {
    // With sigma = 0.05 and kappa = 0.002 the USL peak is at sqrt((1 − σ)/κ) ≈ 21.8 users.
    let throughput = |users| {
        run_json(&closed_loop(users, 0.05, 0.002), "usl.json").clients[0]
            .throughput_per_s
            .mean
    };
    let (low, peak, high) = (throughput(8), throughput(22), throughput(60));
    assert!(
        peak > low && peak > high,
        "8 users {low}/s, 22 users {peak}/s, 60 users {high}/s"
    );
}
