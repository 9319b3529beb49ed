//! `capsim check` end to end: expectations written in the model decide the exit code (0 all
//! held, 1 one failed, 2 bad input), scenarios are checked on their own runs, and the JUnit and
//! JSON reports say the same as the terminal.

use super::{capsim, scratch_dir, Run};
use serde_json::{json, Value};
use std::path::Path;

/// An M/M/1 at utilisation 0.5 (50/s, 10 ms mean service): p99 of the time in the system is
/// ln(100) / (100/s − 50/s) ≈ 92 ms. Scenario "four-times" gives the server 4 workers, which
/// brings utilisation per worker to 0.125. `expect` is filled in by each test (left out when null).
fn mm1(expect: Value) -> String {
    let mut model = json!({
        "name": "mm1-check", "duration": "2m", "warmup": "10s", "replications": 3, "seed": 11,
        "clients": { "arrivals": { "open": { "rate": "50/s" }, "calls": "server.serve" } },
        "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } },
        "scenarios": {
            "four-times": { "set": { "services.server.workers.scale": 4 } },
            "busier": { "set": { "clients.arrivals.open.rate.scale": 1.2 } }
        }
    });
    if !expect.is_null() {
        model["expect"] = expect;
    }
    serde_json::to_string_pretty(&model).expect("the model serializes")
}

/// Write `text` as a model in a fresh directory; returns the directory and the model's path.
fn model_file(test: &str, text: &str) -> (std::path::PathBuf, String) {
    let dir = scratch_dir(test);
    let path = dir.join("model.json");
    std::fs::write(&path, text).expect("the model is written");
    let path = path.display().to_string();
    (dir, path)
}

fn check(test: &str, expect: Value, extra: &[&str]) -> Run {
    let (_, path) = model_file(test, &mm1(expect));
    capsim(&[&["check", path.as_str(), "--threads", "2"][..], extra].concat())
}

/// The lines of stdout that start with `prefix`.
fn lines_starting<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn a_model_made_to_pass_exits_0_with_one_line_per_expectation_and_a_summary() {
    let run = check(
        "check-pass",
        json!([
            { "that": "server.serve.p99 < 1s", "description": "theory says 92 ms" },
            { "that": "arrivals.error_rate <= 1%" },
            { "that": "server.utilisation > 0.3" }
        ]),
        &[],
    );
    run.expect_code(0);
    assert_eq!(lines_starting(&run, "PASS  ").len(), 3, "{}", run.stdout);
    run.stdout_has("PASS  server.serve.p99 < 1s  measured ");
    run.stdout_has(" ms ±");
    assert_eq!(run.stdout.lines().last(), Some("3 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn a_model_made_to_fail_exits_1_and_says_which_expectation_failed() {
    let run = check(
        "check-fail",
        json!([{ "that": "server.serve.p99 < 1s" }, { "that": "server.serve.p99 < 1ms" }]),
        &[],
    );
    run.expect_code(1);
    run.stdout_has("PASS  server.serve.p99 < 1s  measured");
    run.stdout_has("FAIL  server.serve.p99 < 1ms  measured");
    assert!(run.stdout.lines().any(|l| l == "1 passed, 1 failed"), "{}", run.stdout);
}

#[test]
fn a_scenario_expectation_is_checked_on_the_scenario_s_run() {
    let claim = "server.utilisation < 30%";
    // Only four workers bring utilisation under 30 %: the same claim fails on the baseline.
    let run = check(
        "check-scenario",
        json!([{ "that": claim, "scenario": "four-times" }, { "that": claim }]),
        &["--json", "-"],
    );
    run.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("--json - writes the report to stdout");
    let results = report["results"].as_array().expect("a list of results");
    assert_eq!(results[0]["scenario"], "four-times");
    assert_eq!(results[0]["passed"], true, "{report:#}");
    assert_eq!(results[1]["scenario"], Value::Null);
    assert_eq!(results[1]["passed"], false, "{report:#}");
    let (scenario, baseline) = (
        results[0]["measured"]["mean"].as_f64().unwrap(),
        results[1]["measured"]["mean"].as_f64().unwrap(),
    );
    assert!(
        (scenario - 0.125).abs() < 0.03 && (baseline - 0.5).abs() < 0.05,
        "{scenario} {baseline}"
    );
    assert_eq!(results[0]["bound"], 0.3);
    assert_eq!(results[0]["unit"], "share");
    // With the report on stdout, the verdict lines go to stderr.
    run.stderr_has(&format!("PASS  {claim} [four-times]  measured "));
    run.stderr_has("1 passed, 1 failed");

    let alone = check(
        "check-scenario-alone",
        json!([{ "that": claim, "scenario": "four-times" }]),
        &[],
    );
    alone.expect_code(0);
    alone.stdout_has(&format!("PASS  {claim} [four-times]"));
}

#[test]
fn combined_scenarios_and_overrides_apply_as_in_run() {
    let run = check(
        "check-combined",
        json!([{ "that": "server.utilisation < 30%", "scenario": "four-times, busier" }]),
        &["--replications", "2", "--duration", "1m", "--seed", "3"],
    );
    run.expect_code(0);
    run.stdout_has("[four-times+busier]");
}

#[test]
fn junit_and_json_reports_name_every_expectation_and_the_failure() {
    let (dir, path) = model_file(
        "check-junit",
        &mm1(json!([
            { "that": "server.serve.p99 < 1s" },
            { "that": "server.serve.p99 < 1ms" },
            { "that": "server.utilisation < 30%", "scenario": "four-times" }
        ])),
    );
    let junit = dir.join("junit.xml");
    let json_out = dir.join("check.json");
    capsim(&[
        "check",
        &path,
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json_out.to_str().unwrap(),
    ])
    .expect_code(1);
    let xml = std::fs::read_to_string(&junit).expect("--junit writes the file");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite "),
        "{xml}"
    );
    assert!(xml.contains(r#"name="capsim: mm1-check" tests="3" failures="1""#), "{xml}");
    assert!(xml.contains(r#"classname="capsim.mm1-check""#), "{xml}");
    for name in [
        "[baseline] server.serve.p99 &lt; 1s",
        "[baseline] server.serve.p99 &lt; 1ms",
        "[four-times] server.utilisation &lt; 30%",
    ] {
        assert!(xml.contains(&format!("name=\"{name}\"")), "no test case {name:?} in\n{xml}");
    }
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("</testcase>").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let failing_case = xml.split("<testcase ").find(|c| c.contains("p99 &lt; 1ms")).unwrap();
    assert!(
        failing_case.contains("<failure message=\"measured ") && failing_case.contains(", bound 1.00 ms\""),
        "{xml}"
    );

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).expect("--json writes the file")).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["model"], "mm1-check");
    let passed: Vec<bool> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false, true]);
    assert_eq!(report["results"][1]["index"], 1);
    assert_eq!(report["results"][1]["that"], "server.serve.p99 < 1ms");
}

#[test]
fn malformed_claims_exit_2_naming_the_path_and_the_operators() {
    check(
        "check-malformed",
        json!([{ "that": "server.serve.p99 < 1s" }, { "that": "server.serve.p99 ~ 1s" }]),
        &[],
    )
    .expect_code(2)
    .stderr_has("expect[1].that")
    .stderr_has("<, <=, >, >=");
    check("check-no-bound", json!([{ "that": "server.serve.p99 <" }]), &[])
        .expect_code(2)
        .stderr_has("expect[0].that");
    check("check-bad-bound", json!([{ "that": "server.utilisation < 30ms" }]), &[])
        .expect_code(2)
        .stderr_has("expect[0].that")
        .stderr_has("30ms");
    check(
        "check-unknown-field",
        json!([{ "that": "server.serve.p99 < 1s", "scenaro": "x" }]),
        &[],
    )
    .expect_code(2)
    .stderr_has("expect[0].scenaro");
}

#[test]
fn unknown_metrics_exit_2_before_anything_runs() {
    let run = check(
        "check-unknown-metric",
        json!([{ "that": "server.serve.p99 < 1s" }, { "that": "sever.utilisation < 1" }, { "that": "server.serve.p98 < 1s" }]),
        &["--duration", "100h"],
    );
    run.expect_code(2)
        .stderr_has("expect[1].that")
        .stderr_has("no component \"sever\"")
        .stderr_has("expect[2].that")
        .stderr_has("unknown statistic \"p98\"");
    assert!(!run.stdout.contains("PASS") && !run.stdout.contains("FAIL"), "{}", run.stdout);
}

#[test]
fn unknown_scenarios_and_missing_expectations_exit_2() {
    check(
        "check-unknown-scenario",
        json!([{ "that": "server.serve.p99 < 1s", "scenario": "four-times,eight-times" }]),
        &[],
    )
    .expect_code(2)
    .stderr_has("expect[0].scenario")
    .stderr_has("no scenario named \"eight-times\"")
    .stderr_has("four-times, busier");
    check("check-empty", json!([]), &[])
        .expect_code(2)
        .stderr_has("no expectations");
    check("check-not-a-list", json!("server.serve.p99 < 1s"), &[])
        .expect_code(2)
        .stderr_has("expect");
    let (_, path) = model_file("check-absent", &mm1(Value::Null));
    capsim(&["check", &path]).expect_code(2).stderr_has("no expectations");
    capsim(&["check", &path, "--replications", "0"])
        .expect_code(2)
        .stderr_has("--replications");
}

#[test]
fn check_with_the_same_seed_gives_the_same_report() {
    let (dir, path) = model_file("check-repeat", &mm1(json!([{ "that": "server.serve.mean < 25ms" }])));
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    capsim(&["check", &path, "--threads", "1", "--json", a.to_str().unwrap()]).expect_code(0);
    capsim(&["check", &path, "--threads", "2", "--json", b.to_str().unwrap()]).expect_code(0);
    let read = |p: &Path| std::fs::read(p).expect("the report is written");
    assert_eq!(read(&a), read(&b));
}
