//! A step taken by a share of requests (`"share"`): the others skip it. Worked in advance: with a
//! 1 ms cpu step and a 100 ms delay taken by a quarter of requests, and no waiting, a request takes
//! 1 ms with probability 3/4 and 101 ms with probability 1/4 — mean 26 ms, median 1 ms, p90 101 ms.

use super::{capsim, scratch_dir};
use serde_json::Value;

const MODEL: &str = r#"{
  "name": "share", "duration": "10m", "warmup": "10s", "replications": 8, "seed": 3,
  "clients": { "users": { "open": { "rate": "20/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 64, "endpoints": { "get": [
      { "cpu": "1ms" }, { "delay": "100ms", "share": SHARE } ] } } }
}"#;

#[test]
fn a_step_taken_by_a_quarter_of_requests_adds_a_quarter_of_its_time() {
    let dir = scratch_dir("step-share");
    let model = dir.join("share.json");
    std::fs::write(&model, MODEL.replace("SHARE", "0.25")).unwrap();
    let run = capsim(&["run", &model.display().to_string(), "--json", "-", "--quiet"]);
    run.expect_code(0);
    let result: Value = serde_json::from_str(&run.stdout).unwrap();
    let latency = &result["endpoints"][0]["latency"];
    let mean = latency["mean_ms"]["mean"].as_f64().unwrap();
    let ci95 = latency["mean_ms"]["ci95"].as_f64().unwrap();
    // 99.9 % interval from the 95 % one (normal quantiles 3.29 / 1.96).
    assert!((mean - 26.0).abs() <= ci95 * 3.29 / 1.96, "mean {mean} ms ± {ci95}");
    // Three quarters of requests take exactly 1 ms, a quarter 101 ms (HDR: within 0.1 %).
    let p50 = latency["p50_ms"]["mean"].as_f64().unwrap();
    let p90 = latency["p90_ms"]["mean"].as_f64().unwrap();
    assert!((p50 - 1.0).abs() <= 0.001, "p50 {p50}");
    assert!((p90 - 101.0).abs() <= 0.101, "p90 {p90}");
}

#[test]
fn a_share_outside_0_to_1_is_refused_naming_the_step() {
    let dir = scratch_dir("step-share-bad");
    for bad in ["0", "1.5"] {
        let model = dir.join(format!("bad-{bad}.json"));
        std::fs::write(&model, MODEL.replace("SHARE", bad)).unwrap();
        capsim(&["validate", &model.display().to_string()])
            .expect_code(2)
            .stderr_has(&format!(
                "services.api.endpoints.get[1].share: expected a share of requests above 0 and at most 1, got {bad}"
            ));
    }
}
