//! Interrupted runs: a wall-clock limit or SIGTERM stops a long run quickly with its partial
//! results marked incomplete (exit 3), and no output is ever left truncated under its final name.

use super::{example, scratch_dir};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// An M/M/1 run long enough (a thousand simulated hours) never to finish on its own in a test.
fn long_run(json: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capsim"));
    cmd.args([
        "run",
        example("mm1.json").to_str().unwrap(),
        "--duration",
        "1000h",
        "--json",
        json.to_str().unwrap(),
        "-q",
    ])
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

fn verdict(json: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(json).expect("results written");
    serde_json::from_str::<Value>(&text).expect("complete JSON")["verdict"].clone()
}

#[test]
fn a_wall_clock_limit_stops_the_run_and_keeps_partial_results() {
    let dir = scratch_dir("max-wall");
    let json = dir.join("out.json");
    let out = long_run(&json, &["--max-wall", "1s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-wall"));
    let v = verdict(&json);
    assert_eq!(v["complete"], Value::Bool(false));
    assert!(v["messages"][0].as_str().unwrap().contains("interrupted"), "{v}");
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_stops_the_run_and_writes_complete_partial_results() {
    let dir = scratch_dir("sigterm");
    let json = dir.join("out.json");
    let child = long_run(&json, &[]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(verdict(&json)["complete"], Value::Bool(false));
}

#[test]
fn a_killed_run_leaves_no_truncated_file_under_the_final_name() {
    let dir = scratch_dir("sigkill");
    let json = dir.join("out.json");
    // Kill while it runs and again while it may be writing: the final name holds a complete file or nothing.
    for wait_ms in [300, 900] {
        let child = long_run(&json, &["--max-wall", "800ms"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        signal(child.id(), "KILL");
        let _ = child.wait_with_output();
        if json.exists() {
            verdict(&json);
        }
    }
}

/// M/M/1 at `rate` for `duration` (warm-up 0), to run replications by hand.
fn mm1_at(rate: &str, duration: &str, replications: u32) -> capsim::model::Validated {
    let text = format!(
        r#"{{ "name": "mm1", "duration": "{duration}", "warmup": "0s", "replications": {replications}, "seed": 1,
             "clients": {{ "arrivals": {{ "open": {{ "rate": "{rate}" }}, "calls": "server.serve" }} }},
             "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }} }}"#
    );
    capsim::model::parse_model(&text, "mm1.json").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_replication_that_never_started_is_left_out_not_averaged_in_as_zero() {
    use std::sync::atomic::AtomicBool;
    let validated = mm1_at("80/s", "10m", 2);
    let model = &validated.model;
    // Replication 0 runs to the end; replication 1 is interrupted before its first event.
    let ran = capsim::sim::run_replication(model, 0, &AtomicBool::new(false));
    let never = capsim::sim::run_replication(model, 1, &AtomicBool::new(true));
    let finished = ran.clients[0].tally.finished as f64;
    let result = capsim::results::summarize(model, &[], vec![ran, never]);
    let c = &result.verdict.replications;
    assert_eq!(
        (c.ran.clone(), c.not_started.clone(), c.estimated_from.clone()),
        (vec![0], vec![1], vec![0])
    );
    assert!(c.is_partial() && !result.verdict.complete);
    let throughput = &result.clients[0].throughput_per_s;
    // The estimate is replication 0's own rate (finished / 600 s), not the mean with a zero.
    assert_eq!(throughput.n, 1);
    assert_eq!(throughput.mean, finished / 600.0);
    // And it is the offered 80/s within 4 standard deviations of a Poisson count over 600 s
    // (averaged with a zero it would be about 40/s).
    let sd = (80.0f64 * 600.0).sqrt() / 600.0;
    assert!((throughput.mean - 80.0).abs() < 4.0 * sd, "{}", throughput.mean);
}

/// A model whose scenario "starved" has an event budget too small to get past the warm-up:
/// every replication of the scenario stops before it measures anything.
const STARVED: &str = r#"{
  "name": "starved", "duration": "2m", "warmup": "1m", "replications": 3, "seed": 4,
  "clients": { "arrivals": { "open": { "rate": "50/s" }, "calls": "server.serve" } },
  "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } },
  "limits": { "max_events": 2000000000 },
  "scenarios": { "starved": { "set": { "limits.max_events": 100 } } }
}"#;

#[test]
fn a_scenario_that_never_started_is_not_run_rather_than_minus_100_percent() {
    let dir = scratch_dir("not-run");
    let model = dir.join("starved.json");
    std::fs::write(&model, STARVED).unwrap();
    let json = dir.join("out.json");
    let run = super::capsim(&[
        "run",
        model.to_str().unwrap(),
        "--scenario",
        "starved",
        "--json",
        json.to_str().unwrap(),
    ]);
    run.expect_code(3).stdout_has("NOT RUN");
    assert!(!run.stdout.contains("-100 %"), "{}", run.stdout);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let scenario = &report["scenarios"][0];
    assert_eq!(
        scenario["result"]["verdict"]["replications"]["not_started"],
        serde_json::json!([0, 1, 2])
    );
    for m in scenario["comparison"].as_array().unwrap() {
        assert_eq!(m["difference"]["n"], 0, "{m}");
        assert_eq!(m["difference"]["significant"], false, "{m}");
    }
}

#[test]
fn csv_files_of_a_run_stopped_by_the_event_budget_say_so_in_every_row() {
    let dir = scratch_dir("csv-partial");
    let run = super::capsim(&[
        "run",
        example("mm1.json").to_str().unwrap(),
        "--duration",
        "3m",
        "--replications",
        "2",
        "--max-events",
        "15000",
        "--csv",
        dir.to_str().unwrap(),
        "-q",
    ]);
    run.expect_code(3);
    for file in ["summary.csv", "timeseries.csv", "cascade.csv"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().ends_with(",complete"), "{file}");
        for line in lines {
            assert!(line.ends_with(",false"), "{file}: {line}");
        }
    }
}

#[test]
fn check_cut_short_by_the_event_budget_exits_3_with_junit_errors_not_failures() {
    let dir = scratch_dir("check-partial");
    let junit = dir.join("junit.xml");
    let run = super::capsim(&[
        "check",
        example("quickstart.json").to_str().unwrap(),
        "--duration",
        "5m",
        "--warmup",
        "1m",
        "--replications",
        "2",
        "--max-events",
        "1000",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    run.expect_code(3).stdout_has("NOT JUDGED");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<error ") && !xml.contains("<failure"), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
}

/// `capsim sweep` of M/M/1 over 10/s..90/s with an event budget of 15,000 events per
/// replication over 3 minutes (warm-up 2): 2 events per request (its arrival and the end of its
/// CPU; the hops between client and server take no time), so a point at λ runs out
/// at 15000 / (2 λ) seconds — after the end (180 s) up to 41/s, within the measured minute at
/// 50/s and 60/s (150 s, 125 s), and within the warm-up from 70/s on.
pub(super) fn budget_sweep(extra: &[&str]) -> super::Run {
    let mut args = vec![
        "sweep",
        "models/mm1.json",
        "--param",
        "clients.arrivals.open.rate",
        "--values",
        "10/s..90/s/10/s",
        "--metric",
        "server.serve.sojourn",
        "--duration",
        "3m",
        "--replications",
        "2",
        "--max-events",
        "15000",
    ];
    args.extend_from_slice(extra);
    super::capsim(&args)
}

#[test]
fn a_sweep_leaves_points_cut_short_out_of_its_verdicts_and_prints_no_nan() {
    let dir = scratch_dir("sweep-partial");
    let json = dir.join("sweep.json");
    let run = budget_sweep(&["--json", json.to_str().unwrap()]);
    run.expect_code(3).stdout_has("INCOMPLETE: 5 of 9 points");
    assert!(!run.stdout.to_lowercase().contains("nan"), "{}", run.stdout);
    let sweep: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(sweep["partial_points"], serde_json::json!([4, 5, 6, 7, 8]));
    if let Some(knee) = sweep["knee"]["index"].as_u64() {
        assert!(knee < 4, "the knee is at a point cut short: {}", sweep["knee"]);
    }
}

#[test]
fn the_knee_is_judged_without_a_point_that_was_cut_short() {
    // W = 1/(mu - lambda) at mu = 100/s, lambda = 10, 20, …, 90/s; point 1 (20/s) was cut short
    // and measured 0. Without it, the trend runs through 10/s and 30/s: at 40/s W is 5 % above
    // it, at 50/s 14.5 %: the knee (10 %) is at 50/s, index 4. With it, the "trend" would fall
    // and every later point would be a knee from 30/s on.
    use capsim::analysis::sweep::{SweepHeader, SweepPoint};
    let header = SweepHeader {
        schema_version: capsim::results::SCHEMA_VERSION,
        model: "mm1".into(),
        scenario: String::new(),
        params: vec!["clients.arrivals.open.rate".into()],
        metric: "server.serve.sojourn".into(),
        threshold: 0.1,
        total_points: 9,
        round_trips: Default::default(),
        fingerprint: None,
    };
    // A valid result of the M/M/1 model (no replications run: every component, no values);
    // point 1's says its replication 0 was cut short.
    let model = mm1_at("10/s", "1m", 2);
    let result = capsim::results::summarize(&model.model, &[], Vec::new());
    let points: Vec<SweepPoint> = (0..9)
        .map(|i| {
            let rate = 10.0 * (i + 1) as f64;
            let cut = i == 1;
            let mut result = result.clone();
            if cut {
                result.verdict.replications.cut_short = vec![0];
            }
            let w = if cut { 0.0 } else { 1.0 / (100.0 - rate) };
            SweepPoint {
                index: i,
                values: vec![serde_json::json!(rate)],
                metric: capsim::stats::Estimate::from_samples(&[w, w]),
                slos_breached: Vec::new(),
                result,
            }
        })
        .collect();
    let finished = capsim::analysis::sweep::finish(header, points);
    assert_eq!(finished.knee.as_ref().map(|k| k.index), Some(4), "{:?}", finished.knee);
    assert_eq!(finished.partial_points, [1]);
}

#[test]
fn a_comparison_pairs_only_replications_complete_in_both_runs() {
    use std::sync::atomic::AtomicBool;
    let (go, stop) = (AtomicBool::new(false), AtomicBool::new(true));
    let base = mm1_at("80/s", "2m", 3);
    let busier = mm1_at("90/s", "2m", 3);
    let rate = |r: &capsim::sim::ReplicationResult| r.clients[0].tally.finished as f64 / 120.0;
    let baseline: Vec<_> = (0..3).map(|r| capsim::sim::run_replication(&base.model, r, &go)).collect();
    // The scenario's replication 1 never starts: only replications 0 and 2 are pairs.
    let scenario: Vec<_> = (0..3)
        .map(|r| capsim::sim::run_replication(&busier.model, r, if r == 1 { &stop } else { &go }))
        .collect();
    let expected = ((rate(&scenario[0]) - rate(&baseline[0])) + (rate(&scenario[2]) - rate(&baseline[2]))) / 2.0;
    let baseline = capsim::results::summarize(&base.model, &[], baseline);
    let scenario = capsim::results::summarize(&busier.model, &[], scenario);
    let compared = capsim::analysis::compare::compare(&baseline, &scenario);
    let throughput = compared.iter().find(|m| m.metric == "arrivals.throughput").unwrap();
    assert_eq!(throughput.difference.n, 2);
    assert!(
        (throughput.difference.mean_diff - expected).abs() < 1e-9,
        "{:?} vs {expected}",
        throughput.difference
    );
}

#[test]
fn time_series_average_each_window_over_the_replications_that_reached_it() {
    use std::sync::atomic::AtomicBool;
    // Two replications cut short by event budgets of 16,000 and 32,000 events (about 4 per
    // request at 80/s: near 50 s and 100 s), in 10 s windows; none ran to the end.
    let model = |budget: u64| {
        let text = format!(
            r#"{{ "name": "mm1", "duration": "10m", "warmup": "0s", "window": "10s", "replications": 2, "seed": 1,
                 "clients": {{ "arrivals": {{ "open": {{ "rate": "80/s" }}, "calls": "server.serve" }} }},
                 "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
                 "limits": {{ "max_events": {budget} }} }}"#
        );
        capsim::model::parse_model(&text, "mm1.json").unwrap_or_else(|e| panic!("{e}"))
    };
    let (short, long) = (model(16_000), model(32_000));
    let go = AtomicBool::new(false);
    let r0 = capsim::sim::run_replication(&short.model, 0, &go);
    let r1 = capsim::sim::run_replication(&long.model, 1, &go);
    let (end0, end1) = (r0.end_ns as f64 / 1e9, r1.end_ns as f64 / 1e9);
    let busy1: Vec<f64> = r1.services[0].busy_series.clone();
    assert!(end0 + 20.0 < end1, "{end0} {end1}");
    let result = capsim::results::summarize(&long.model, &[], vec![r0, r1]);
    assert_eq!(result.verdict.replications.cut_short, vec![0, 1]);
    // Windows that only replication 1 reached: its own rate, 80/s within 5 standard deviations
    // of a Poisson count over 10 s (averaged with replication 0's absence it would be ~40/s),
    // and its own utilisation.
    let mut checked = 0;
    for (i, w) in result.clients[0].series.iter().enumerate() {
        if w.start_s >= end0 && w.start_s + 10.0 <= end1 {
            let sd = (80.0f64 * 10.0).sqrt() / 10.0;
            assert!(
                (w.throughput_per_s - 80.0).abs() < 5.0 * sd,
                "window {i}: {}",
                w.throughput_per_s
            );
            assert_eq!(result.services[0].series.utilisation[i], busy1[i], "window {i}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "{checked}");
}

#[test]
fn a_run_cut_short_by_the_event_budget_is_byte_identical_whatever_the_thread_count() {
    let dir = scratch_dir("partial-threads");
    let outputs: Vec<Vec<u8>> = ["1", "3"]
        .iter()
        .map(|threads| {
            let json = dir.join(format!("out-{threads}.json"));
            super::capsim(&[
                "run",
                "models/mm1.json",
                "--duration",
                "3m",
                "--replications",
                "4",
                "--max-events",
                "25000",
                "--threads",
                threads,
                "--json",
                json.to_str().unwrap(),
                "-q",
            ])
            .expect_code(3);
            std::fs::read(&json).unwrap()
        })
        .collect();
    assert!(outputs[0] == outputs[1], "partial results depend on the thread count");
    let v: Value = serde_json::from_slice(&outputs[0]).unwrap();
    assert_eq!(v["verdict"]["replications"]["cut_short"], serde_json::json!([0, 1, 2, 3]));
}

#[test]
fn queue_and_side_effect_rates_per_window_count_only_the_replications_that_reached_the_window() {
    use std::sync::atomic::AtomicBool;
    // Messages published at 40/s, each consumed by a 1 ms job that sends an email; two
    // replications cut short by different event budgets, in 10 s windows; none ran to the end.
    let model = |budget: u64| {
        let text = format!(
            r#"{{ "duration": "10m", "warmup": "0s", "window": "10s", "replications": 2, "seed": 5,
                 "services": {{ "worker": {{ "workers": 4, "endpoints": {{ "run": [ {{ "cpu": "1ms", "effect": "email" }} ] }} }} }},
                 "queues": {{ "q": {{ "producers": {{ "app": {{ "rate": "40/s" }} }}, "visibility_timeout": "30s",
                     "consumer": {{ "calls": "worker.run", "concurrency": 4 }} }} }},
                 "limits": {{ "max_events": {budget} }} }}"#
        );
        capsim::model::parse_model(&text, "queue.json").unwrap_or_else(|e| panic!("{e}"))
    };
    let (short, long) = (model(10_000), model(20_000));
    let go = AtomicBool::new(false);
    let r0 = capsim::sim::run_replication(&short.model, 0, &go);
    let r1 = capsim::sim::run_replication(&long.model, 1, &go);
    let (end0, end1) = (r0.end_ns as f64 / 1e9, r1.end_ns as f64 / 1e9);
    assert!(end0 + 20.0 < end1, "{end0} {end1}");
    let result = capsim::results::summarize(&long.model, &[], vec![r0, r1]);
    assert_eq!(result.verdict.replications.cut_short, vec![0, 1]);
    // Windows that only replication 1 reached carry its own rates: 40/s within 5 standard
    // deviations of a Poisson count over 10 s (averaged with replication 0's absence they would
    // be ~20/s); the window each one stopped in counts the share it simulated.
    let sd = (40.0f64 * 10.0).sqrt() / 10.0;
    let (queue, effect) = (&result.queues[0].series, &result.effects[0].series);
    let mut checked = 0;
    for (i, w) in queue.iter().enumerate() {
        if w.start_s >= end0 && w.start_s + 10.0 <= end1 {
            assert!(
                (w.published_per_s - 40.0).abs() < 5.0 * sd,
                "window {i}: {}",
                w.published_per_s
            );
            assert!((effect[i].per_s - 40.0).abs() < 5.0 * sd, "window {i}: {}", effect[i].per_s);
            checked += 1;
        }
        if w.start_s >= end1 {
            assert!(
                w.published_per_s.is_nan() && effect[i].per_s.is_nan(),
                "window {i} was never simulated"
            );
        }
    }
    assert!(checked >= 2, "{checked} windows between {end0} s and {end1} s");
    let stopped = queue
        .iter()
        .position(|w| w.start_s < end1 && w.start_s + 10.0 > end1)
        .expect("a window holds the stop");
    assert!(
        (queue[stopped].published_per_s - 40.0).abs() < 8.0 * sd,
        "{}",
        queue[stopped].published_per_s
    );
}
