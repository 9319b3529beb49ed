//! Sweeps over capacity (workers, instances, pool size), where latency falls as the swept value
//! grows: the verdict is the smallest value that meets every SLO, and the knee is sought from the
//! largest value down, never against a trend below zero.

use super::{capsim, scratch_dir};
use serde_json::Value;

#[test]
fn an_mmc_capacity_sweep_names_the_smallest_worker_count_that_meets_the_slo_from_erlang_c() {
    // M/M/c: λ = 8/s, exponential service of mean 250 ms (μ = 4/s per worker), a = λ/μ = 2.
    // c = 1 and 2: ρ = 2 and 1, no steady state (the queue grows for the whole run): breached.
    // Erlang C, P(wait) = (aᶜ/c! · c/(c−a)) / (Σ_{k<c} aᵏ/k! + aᶜ/c! · c/(c−a)):
    //   c = 3: (8/6 · 3) / (1 + 2 + 2 + 4) = 4/9; the wait, when there is one, is exp(cμ − λ = 4/s);
    //   c = 4: (16/24 · 2) / (1 + 2 + 2 + 4/3 + 4/3) = 0.174; wait rate 8/s.
    // The sojourn T = wait + service has P(T > t) = (1 − C)e^{−μt} + C·P(E_θ + E_μ > t):
    //   c = 3 (θ = μ = 4): P(T > t) = e^{−4t}(1 + 4Ct) = e^{−4t}(1 + 1.778t) → median 272 ms;
    //   c = 4 (θ = 8): P(T > t) = (1 + C)e^{−4t} − C·e^{−8t} = 1.174e^{−4t} − 0.174e^{−8t} → median 196 ms;
    //   c = 5: C = 0.0597 → median 179 ms.
    // An SLO of p50 ≤ 230 ms is breached at 3 workers (18 % over) and met from 4 on (15 % under).
    let dir = scratch_dir("mmc-capacity");
    let model = dir.join("mmc.json");
    std::fs::write(
        &model,
        r#"{
  "name": "mmc", "duration": "30m", "warmup": "2m", "replications": 4, "seed": 3,
  "clients": { "web": { "open": { "rate": "8/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 4, "endpoints": { "get": [ { "cpu": "exp(250ms)" } ] } } },
  "slos": { "web": { "p50": "230ms" } }
}"#,
    )
    .unwrap();
    let out = dir.join("sweep.json");
    #[rustfmt::skip]
    let args = ["sweep", model.to_str().unwrap(), "--param", "services.api.workers", "--values", "1,2,3,4,5,6",
        "--metric", "web.p50", "--json", out.to_str().unwrap()];
    let run = capsim(&args);
    run.expect_code(0);
    let sweep: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sweep["direction"], "improves_as_it_grows", "{}", run.stdout);
    assert_eq!(
        sweep["meets_every_slo_from"]["values"],
        serde_json::json!([4]),
        "{}",
        run.stdout
    );
    assert!(sweep.get("first_slo_breach").is_none(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Meets every SLO: from services.api.workers = 4 (the smallest value swept at which every SLO is met)."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("First SLO breach"), "{}", run.stdout);
    // The trend runs through 6 and 5 workers; a knee, if any, is against a positive trend.
    assert_eq!(sweep["trend_through"], serde_json::json!([5, 4]));
    if !sweep["knee"].is_null() {
        assert!(sweep["knee"]["trend"].as_f64().unwrap() > 0.0, "{}", sweep["knee"]);
    }
}
