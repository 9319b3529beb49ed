//! Scenarios and sweeps end to end: a scenario changes exactly what arithmetic says, the baseline
//! of a comparison is the plain baseline (common random numbers), a load sweep finds the knee
//! where theory puts it, and sharded sweeps merge back byte for byte.

use super::{capsim, example, scratch_dir};
use serde_json::Value;

/// A system with no contention and constant times: one transaction of 3 queries of 1 ms over a
/// 0.5 ms link, so an answer takes exactly 3 × (1 + 0.5) = 4.5 ms; with 10 ms added to the link,
/// 3 × (1 + 10.5) = 34.5 ms.
const NO_CONTENTION: &str = r#"{
  "name": "arithmetic", "duration": "2m", "warmup": "10s", "replications": 3, "seed": 5,
  "clients": { "c": { "open": { "rate": "20/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 1000, "endpoints": { "get": [
      { "transaction": { "pool": "p", "queries": 3, "query": "1ms" } } ] } } },
  "databases": { "db": { "cores": 1000, "max_connections": 1000 } },
  "pools": { "p": { "database": "db", "size": 1000 } },
  "links": { "api -> db": { "latency": "0.5ms" } },
  "scenarios": {
    "far": { "set": { "links.api -> db.latency.add": "10ms" } },
    "typo": { "set": { "links.api -> db.latencyy.add": "10ms" } }
  }
}"#;

fn write_model(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("model written");
    path.display().to_string()
}

fn json_of(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("output written")).expect("valid JSON")
}

#[test]
fn a_scenario_adding_link_latency_adds_exactly_queries_times_the_latency() {
    let dir = scratch_dir("scenario-arithmetic");
    let model = write_model(&dir, "m.json", NO_CONTENTION);
    let out = dir.join("out.json");
    capsim(&["run", &model, "--scenario", "far", "--json", out.to_str().unwrap(), "-q"]).expect_code(0);
    let report = json_of(&out);
    let baseline = report["baseline"]["endpoints"][0]["latency"]["mean_ms"]["mean"]
        .as_f64()
        .unwrap();
    let far = report["scenarios"][0]["result"]["endpoints"][0]["latency"]["mean_ms"]["mean"]
        .as_f64()
        .unwrap();
    assert!((baseline - 4.5).abs() < 1e-6, "baseline {baseline} ms, arithmetic 4.5 ms");
    assert!((far - 34.5).abs() < 1e-6, "scenario {far} ms, arithmetic 34.5 ms");
    let change = report["scenarios"][0]["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "api.get.p50")
        .expect("api.get.p50 compared");
    assert!(
        (change["difference"]["mean_diff"].as_f64().unwrap() - 30.0).abs() < 0.05,
        "{change}"
    );
    assert_eq!(change["difference"]["significant"], Value::Bool(true));
}

#[test]
fn a_wrong_scenario_path_is_bad_input_naming_the_nearest_key() {
    let dir = scratch_dir("scenario-typo");
    let model = write_model(&dir, "m.json", NO_CONTENTION);
    capsim(&["run", &model, "--scenario", "typo"])
        .expect_code(2)
        .stderr_has("did you mean \"latency\"");
    capsim(&["run", &model, "--scenario", "nope"])
        .expect_code(2)
        .stderr_has("no scenario named \"nope\"");
    capsim(&["validate", &model]).expect_code(2).stderr_has("scenarios.typo.set");
}

#[test]
fn the_baseline_of_a_comparison_is_the_plain_baseline_run() {
    let dir = scratch_dir("crn");
    let quickstart = example("quickstart.json");
    let (plain, compared) = (dir.join("plain.json"), dir.join("compared.json"));
    let q = quickstart.to_str().unwrap();
    capsim(&[
        "run",
        q,
        "--duration",
        "3m",
        "--replications",
        "3",
        "--json",
        plain.to_str().unwrap(),
        "-q",
    ])
    .expect_code(0);
    capsim(&[
        "run",
        q,
        "--duration",
        "3m",
        "--replications",
        "3",
        "--all-scenarios",
        "--json",
        compared.to_str().unwrap(),
        "-q",
    ])
    .expect_code(0);
    assert_eq!(json_of(&plain), json_of(&compared)["baseline"]);
}

/// Mean time in an M/M/1 system with service rate 100/s: 1/(μ − λ), in ms.
fn mm1_sojourn_ms(lambda: f64) -> f64 {
    1000.0 / (100.0 - lambda)
}

#[test]
fn an_mm1_load_sweep_finds_the_knee_where_theory_puts_it() {
    let dir = scratch_dir("mm1-knee");
    let out = dir.join("sweep.json");
    let mm1 = example("mm1.json");
    #[rustfmt::skip]
    let args = ["sweep", mm1.to_str().unwrap(), "--param", "clients.arrivals.open.rate", "--values", "10/s..90/s/10/s",
        "--metric", "server.serve.sojourn", "--duration", "30m", "--replications", "10", "--json", out.to_str().unwrap(), "-q"];
    capsim(&args).expect_code(0);
    let sweep = json_of(&out);
    let theory: Vec<(f64, f64)> = (1..10).map(|k| (10.0 * k as f64, mm1_sojourn_ms(10.0 * k as f64))).collect();
    let theory_knee = capsim::analysis::knee::knee(&theory, 0.10).expect("theory has a knee");
    assert_eq!(sweep["knee"]["index"].as_u64(), Some(theory_knee as u64), "{}", sweep["knee"]);
    // Nine simultaneous claims: each CI is widened by 1.5 (a 95 % interval becomes ≈ 99.7 %), so
    // the nine hold together with ≈ 97 % probability (Bonferroni) when the engine is right.
    for (point, (lambda, w)) in sweep["points"].as_array().unwrap().iter().zip(&theory) {
        let (mean, ci) = (
            point["metric"]["mean"].as_f64().unwrap(),
            point["metric"]["ci95"].as_f64().unwrap(),
        );
        assert!(
            (mean - w).abs() <= 1.5 * ci,
            "lambda {lambda}/s: simulated {mean} ± {ci} ms, theory {w} ms"
        );
    }
}

#[test]
fn sharded_sweeps_merge_byte_identical_to_the_whole_sweep() {
    let dir = scratch_dir("shards");
    let mm1 = example("mm1.json");
    let whole = dir.join("whole.json");
    let base = |extra: &[&str]| {
        let mut args = vec![
            "sweep".to_string(),
            mm1.display().to_string(),
            "--param".into(),
            "clients.arrivals.open.rate".into(),
            "--values".into(),
            "20/s..80/s/10/s".into(),
            "--duration".into(),
            "3m".into(),
            "--replications".into(),
            "2".into(),
            "-q".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    capsim(&base(&["--json", whole.to_str().unwrap()])).expect_code(0);
    let expected = std::fs::read(&whole).unwrap();
    for count in [1, 2, 3, 7] {
        let mut parts = Vec::new();
        for i in 1..=count {
            let part = dir.join(format!("part-{i}-of-{count}.json"));
            capsim(&base(&["--shard", &format!("{i}/{count}"), "--json", part.to_str().unwrap()])).expect_code(0);
            parts.push(part.display().to_string());
        }
        // Shards merge in any order.
        parts.reverse();
        let merged = dir.join(format!("merged-{count}.json"));
        let mut args = vec!["merge".to_string()];
        args.extend(parts.iter().cloned());
        args.extend(["--json".to_string(), merged.display().to_string()]);
        capsim(&args).expect_code(0);
        assert!(
            std::fs::read(&merged).unwrap() == expected,
            "{count} shards merged differ from the whole sweep"
        );
    }
    let lone = dir.join("part-1-of-3.json");
    capsim(&["merge", lone.to_str().unwrap()])
        .expect_code(2)
        .stderr_has("missing");
}

/// An M/M/8-like service at 50/s with a database behind it, and one scenario per timed action.
const TIMED: &str = r#"{
  "name": "timed", "duration": "60m", "warmup": "0s", "window": "5m", "replications": 4, "seed": 3,
  "clients": { "c": { "open": { "rate": "50/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 8, "endpoints": { "get": [
      { "cpu": "exp(10ms)" }, { "transaction": { "database": "db", "queries": 2, "query": "exp(2ms)" } } ] } } },
  "databases": { "db": { "cores": 2 } },
  "links": { "api -> db": { "latency": "1ms" } },
  "scenarios": {
    "surge": { "actions": [ { "at": "20m", "for": "20m", "scale_traffic": { "client": "c", "factor": 2 } } ] },
    "slow-db": { "actions": [ { "at": "20m", "for": "10m", "add_latency": { "link": "api -> db", "latency": "20ms" } } ] },
    "support-query": { "actions": [ { "at": "20m", "inject": { "database": "db", "queries": 2, "cost": "3m" } } ] },
    "outage": { "actions": [ { "at": "20m", "for": "6m", "down": { "service": "api" } } ] },
    "crash": { "actions": [ { "at": "20m", "crash": { "service": "api", "restart": "3m" } } ] }
  }
}"#;

fn timed_report() -> Value {
    let dir = scratch_dir("timed");
    let model = write_model(&dir, "timed.json", TIMED);
    let out = dir.join("out.json");
    capsim(&["run", &model, "--all-scenarios", "--json", out.to_str().unwrap(), "-q"]).expect_code(0);
    json_of(&out)
}

/// The client's per-window series of a run in the report ("baseline" or a scenario's name).
fn windows(report: &Value, run: &str) -> Vec<Value> {
    let result = if run == "baseline" {
        &report["baseline"]
    } else {
        &report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == run)
            .expect("scenario ran")["result"]
    };
    result["clients"][0]["series"].as_array().unwrap().clone()
}

#[test]
fn timed_actions_change_their_windows_only_and_undo_restores_the_baseline() {
    let report = timed_report();
    let baseline = windows(&report, "baseline");
    let surge = windows(&report, "surge");
    assert_eq!(baseline.len(), 12);
    // Before the surge the runs are the same, draw for draw (common random numbers).
    assert_eq!(baseline[..4], surge[..4]);
    // A Poisson count over 4 × 300 s at 50/s has a standard deviation of 0.2/s: 5 % is > 10 σ.
    for (w, window) in surge.iter().enumerate() {
        let expected = if (4..8).contains(&w) { 100.0 } else { 50.0 };
        let rate = window["throughput_per_s"].as_f64().unwrap();
        assert!(
            (rate - expected).abs() < 0.05 * expected,
            "window {w}: {rate}/s, expected {expected}/s"
        );
    }
    // 20 ms more per round trip, 2 queries per request: +40 ms on every request while it lasts.
    let slow = windows(&report, "slow-db");
    for w in [4, 5] {
        let added = slow[w]["p50_ms"].as_f64().unwrap() - baseline[w]["p50_ms"].as_f64().unwrap();
        assert!(
            (added - 40.0).abs() < 2.0,
            "window {w}: p50 grew by {added} ms, expected 40 ms"
        );
    }
    for w in 6..12 {
        assert!(
            (slow[w]["p50_ms"].as_f64().unwrap() - baseline[w]["p50_ms"].as_f64().unwrap()).abs() < 2.0,
            "window {w}"
        );
    }
}

#[test]
fn an_injected_query_holds_the_database_and_an_outage_refuses_its_share_of_requests() {
    let report = timed_report();
    // Two 3-minute queries take both cores at 20m: requests of that window wait up to 3 minutes.
    let held = windows(&report, "support-query");
    assert!(held[4]["p99_ms"].as_f64().unwrap() > 60_000.0, "{}", held[4]);
    assert!(held[6]["p99_ms"].as_f64().unwrap() < 1_000.0, "recovered by 30m: {}", held[6]);
    // Down for 6 of 60 minutes: a tenth of the requests are refused.
    let outage = &report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "outage")
        .unwrap()["result"];
    let error_rate = &outage["clients"][0]["error_rate"];
    let (mean, ci) = (error_rate["mean"].as_f64().unwrap(), error_rate["ci95"].as_f64().unwrap());
    // The share of Poisson arrivals in the window is 0.1 on average; requests in flight at 20m
    // finish normally, so the CI (widened by their < 0.1 % share) must hold 0.1.
    assert!((mean - 0.1).abs() <= ci + 0.001, "refused share {mean} ± {ci}, expected 0.1");
    // A crash with a 3-minute restart refuses 3 of 60 minutes of requests and resets those in flight.
    let crash = &report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "crash")
        .unwrap()["result"];
    let counts = &crash["clients"][0]["counts"];
    let refused = counts["rejected"].as_f64().unwrap() / counts["started"].as_f64().unwrap();
    assert!((refused - 0.05).abs() < 0.005, "refused share {refused}, expected 0.05");
    assert!(
        counts["errors"].as_u64().unwrap() > 0,
        "requests in flight at the crash are reset: {counts}"
    );
}

#[test]
fn recovery_claims_pass_when_the_metric_returns_to_its_band_and_fail_when_it_stays_out() {
    let dir = scratch_dir("recovery");
    let mut model: Value = serde_json::from_str(TIMED).unwrap();
    model["window"] = Value::from("1m");
    model["scenarios"]["stuck"] = serde_json::json!({
        "actions": [ { "at": "20m", "add_latency": { "link": "api -> db", "latency": "20ms" } } ] });
    model["expect"] = serde_json::json!([
        { "scenario": "slow-db", "that": "api.get.p99 recovers within 5m" },
        { "scenario": "surge", "that": "c.throughput recovers within 2m" },
        { "scenario": "stuck", "that": "c.p99 recovers within 10m" }
    ]);
    let path = write_model(&dir, "recovery.json", &model.to_string());
    let out = dir.join("check.json");
    capsim(&["check", &path, "--json", out.to_str().unwrap()])
        .expect_code(1)
        .stdout_has("2 passed, 1 failed");
    let report = json_of(&out);
    let passed: Vec<bool> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, vec![true, true, false], "{report}");
    assert!(
        report["results"][2]["note"].as_str().unwrap().contains("still outside"),
        "{report}"
    );
}
