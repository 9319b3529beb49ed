//! The team's spreadsheet and the model that goes beyond it: `capsim latency-table` prints the
//! case study's numbers exactly, `capsim init` writes a model that validates, and that model,
//! simulated without contention, reproduces the measured durations — and the spreadsheet's
//! predictions when the database moves 10 ms away.

use super::{capsim, example, scratch_dir};
use capsim::analysis::spreadsheet::{parse_workloads, starting_model, StartSettings};
use serde_json::Value;
use std::path::Path;

/// The case study's workloads file.
fn workloads() -> String {
    example("workloads.csv").display().to_string()
}

fn write_csv(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("CSV written");
    path.display().to_string()
}

#[test]
fn latency_table_prints_the_case_study_numbers_exactly() {
    let run = capsim(&["latency-table", &workloads(), "--added", "5ms,10ms"]);
    run.expect_code(0);
    for fragment in [
        "API::Payments::Create",
        "Workers::SubmitPayments",
        "1,124,000",
        "150ms",
        "2810s",
        "270ms ×1.80",
        "390ms ×2.60",
        "8430s ×3.00",
        "14050s ×5.00",
    ] {
        run.stdout_has(fragment);
    }
}

#[test]
fn latency_table_writes_csv_and_json_with_exact_values() {
    let dir = scratch_dir("latency-table");
    let csv = dir.join("table.csv");
    let json = dir.join("table.json");
    capsim(&[
        "latency-table",
        &workloads(),
        "--added",
        "5ms",
        "--added",
        "10ms",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .expect_code(0)
    .stdout_has("14050s");
    let text = std::fs::read_to_string(&csv).expect("--csv wrote the file");
    assert!(
        text.contains("Workers::SubmitPayments,1124000,2810s,5ms,8430s,3,2810,0.005,8430\n"),
        "{text}"
    );
    assert!(
        text.contains("API::Payments::Create,24,150ms,10ms,390ms,2.6,0.15,0.01,0.39\n"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("--json wrote the file")).expect("JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["added"], serde_json::json!(["5ms", "10ms"]));
    let worker = &json["workloads"][1];
    assert_eq!(worker["predictions"][1]["predicted"], "14050s");
    assert_eq!(worker["predictions"][1]["predicted_ns"], 14_050_000_000_000u64);
    assert_eq!(worker["predictions"][0]["ratio"], 3.0);
    let json_only = capsim(&["latency-table", &workloads(), "--added", "5ms", "--json", "-"]);
    json_only.expect_code(0);
    serde_json::from_str::<Value>(&json_only.stdout).expect("--json - prints only JSON");
}

#[test]
fn latency_table_refuses_bad_input_naming_the_line_and_column() {
    let dir = scratch_dir("latency-table-errors");
    let cases: &[(&str, &str)] = &[
        ("", "the file is empty"),
        ("name,queries\nx,1\n", "line 1: the header has no column \"duration\""),
        (
            "name,queries,duration\nx,24,150ms\ny,lots,1s\n",
            "line 3, column 2 (queries): expected a whole number",
        ),
        (
            "name,queries,duration\nx,-24,150ms\n",
            "line 2, column 2 (queries): expected a non-negative number",
        ),
        (
            "name,queries,duration\nx,24,150\n",
            "line 2, column 3 (duration): expected a duration with a unit",
        ),
        (
            "name,queries,duration\nx,24,-150ms\n",
            "line 2, column 3 (duration): expected a non-negative duration",
        ),
        ("name,queries,duration\nx,24,fast\n", "line 2, column 3 (duration)"),
        (
            "name,queries,duration\n\"x,24,150ms\n",
            "line 2, column 1: a quoted field is not closed",
        ),
    ];
    for (i, &(text, wanted)) in cases.iter().enumerate() {
        let file = write_csv(&dir, &format!("bad{i}.csv"), text);
        capsim(&["latency-table", &file, "--added", "5ms"])
            .expect_code(2)
            .stderr_has(&format!("{file}: "))
            .stderr_has(wanted);
    }
    capsim(&["latency-table", &workloads(), "--added", "5"])
        .expect_code(2)
        .stderr_has("--added: expected a unit");
    capsim(&["latency-table", &workloads(), "--added", "5ms,,10ms"])
        .expect_code(2)
        .stderr_has("--added");
    capsim(&["latency-table", &workloads()]).expect_code(2).stderr_has("--added");
    capsim(&["latency-table", "no/such/file.csv", "--added", "5ms"])
        .expect_code(2)
        .stderr_has("cannot read no/such/file.csv");
}

#[test]
fn init_writes_a_model_that_validates_and_does_not_overwrite() {
    let dir = scratch_dir("init");
    let out = dir.join("payments.json");
    let out_text = out.to_str().unwrap();
    capsim(&["init", "--from", &workloads(), "--out", out_text])
        .expect_code(0)
        .stdout_has("capsim validate")
        .stderr_has("overloaded");
    capsim(&["validate", out_text]).expect_code(0).stdout_has("ok: ");
    let model: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    let steps = &model["services"]["app"]["endpoints"]["API::Payments::Create"];
    assert_eq!(steps[0]["transaction"]["query"], "5.75ms", "{model}");
    assert_eq!(model["links"]["app -> postgres"]["latency"], "500us");
    assert_eq!(model["clients"]["Workers::SubmitPayments"]["open"]["rate"], "1/s");
    capsim(&["init", "--from", &workloads(), "--out", out_text])
        .expect_code(2)
        .stderr_has("--force");
    capsim(&[
        "init",
        "--from",
        &workloads(),
        "--out",
        out_text,
        "--force",
        "--latency",
        "1ms",
        "--rate",
        "2/h",
    ])
    .expect_code(0);
    let model: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(
        model["services"]["app"]["endpoints"]["API::Payments::Create"][0]["transaction"]["query"],
        "5.25ms"
    );
    assert_eq!(model["clients"]["API::Payments::Create"]["open"]["rate"], "2/h");
    let stdout = capsim(&["init", "--from", &workloads(), "--out", "-"]);
    stdout.expect_code(0);
    let printed: Value = serde_json::from_str(&stdout.stdout).expect("--out - prints only the model");
    assert_eq!(
        printed["sweeps"]["latency-ladder"]["params"]["links.app -> postgres.latency.add"],
        "0ms..10ms/1ms"
    );
}

#[test]
fn init_refuses_bad_flags_and_bad_files() {
    let dir = scratch_dir("init-errors");
    let out = dir.join("m.json");
    let out = out.to_str().unwrap();
    capsim(&["init", "--from", &workloads(), "--latency", "5", "--out", out])
        .expect_code(2)
        .stderr_has("--latency");
    capsim(&["init", "--from", &workloads(), "--rate", "fast", "--out", out])
        .expect_code(2)
        .stderr_has("--rate");
    let bad = write_csv(&dir, "bad.csv", "name,queries,duration\nx,24,150\n");
    capsim(&["init", "--from", &bad, "--out", out])
        .expect_code(2)
        .stderr_has("line 2, column 3 (duration)");
    assert!(!Path::new(out).exists(), "nothing is written on error");
}

/// The starting model of the case study at a rate low enough that nothing waits: 1 per hour
/// per workload, over 10 simulated hours, so that the 2810 s job runs several times.
fn quiet_model() -> String {
    let text = std::fs::read_to_string(example("workloads.csv")).expect("the case study's workloads");
    let workloads = parse_workloads(&text).expect("the case study parses");
    let settings = StartSettings {
        source: "models/workloads.csv".into(),
        latency_ns: 500_000,
        rate: "1/h".into(),
    };
    let mut model = starting_model(&workloads, &settings).expect("a starting model").json;
    model["duration"] = "10h".into();
    model["warmup"] = "10m".into();
    model["replications"] = 2.into();
    serde_json::to_string_pretty(&model).expect("JSON")
}

/// Assert that each endpoint's mean latency's confidence interval contains `wanted_ms`.
#[track_caller]
fn assert_means(result: &capsim::results::RunResult, wanted_ms: &[(&str, f64)]) {
    for &(endpoint, wanted) in wanted_ms {
        let e = result
            .endpoints
            .iter()
            .find(|e| e.name == endpoint)
            .unwrap_or_else(|| panic!("no endpoint {endpoint}"));
        let mean = &e.latency.mean_ms;
        assert_eq!(mean.n, 2, "{endpoint}: a mean per replication: {mean:?}");
        let slack = 1e-9 * wanted;
        assert!(
            (mean.mean - wanted).abs() <= mean.ci95 + slack,
            "{endpoint}: mean {} ± {} ms, expected {wanted} ms",
            mean.mean,
            mean.ci95
        );
    }
}

#[test]
fn the_starting_model_without_contention_takes_the_measured_durations_and_the_spreadsheets_at_10ms() {
    let text = quiet_model();
    let source = capsim::scenario::ModelSource::from_text(text, "init.json").expect("JSON");
    let baseline = source.baseline(|_| {}).expect("the starting model is valid");
    let result = capsim::run(&baseline.model, &[], None);
    assert!(result.verdict.complete, "{:?}", result.verdict.messages);
    assert_means(
        &result,
        &[
            ("app.API::Payments::Create", 150.0),
            ("app.Workers::SubmitPayments", 2_810_000.0),
        ],
    );
    let pool = &result.pools[0];
    assert_eq!(
        (pool.name.as_str(), pool.acquire_wait.waited_share.max),
        ("pgbouncer", 0.0),
        "nothing waits"
    );
    let far = source.scenario_variant("db-10ms-away").expect("the scenario exists");
    let far = source.variant_model(&far, |_| {}).expect("the scenario is valid");
    let result = capsim::run(&far.model, &[], None);
    assert!(result.verdict.complete, "{:?}", result.verdict.messages);
    assert_means(
        &result,
        &[
            ("app.API::Payments::Create", 390.0),
            ("app.Workers::SubmitPayments", 14_050_000.0),
        ],
    );
}
