//! `capsim size` end to end: the answer and its exit code (0 sized, 1 infeasible, 2 bad input
//! naming the JSON path or flag), the same answer whatever the thread count, and `capsim check`
//! asserting on it. The answers themselves are proven against Erlang B and C in
//! `tests/analytic/sizing.rs`.

use super::{capsim, scratch_dir, Run};
use serde_json::{json, Value};

/// An M/M/c: 300 requests/s of 10 ms (3 erlangs) on `workers` sized over 1..12 at 0.5 per hour;
/// p90 <= 30 ms needs 5 workers (Erlang C: 25.0 ms; 4 give 32.9 ms). `edit` changes the model.
fn mmc(test: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut model = json!({
        "name": "mmc-size", "duration": "3m", "warmup": "20s", "replications": 6, "seed": 4,
        "clients": { "arrivals": { "open": { "rate": "300/s" }, "calls": "servers.serve" } },
        "services": { "servers": { "workers": 4, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } },
        "slos": { "servers.serve": { "p90": "30ms" } },
        "scenarios": { "traffic-150": { "set": { "clients.arrivals.open.rate.scale": 1.5 } } },
        "sizing": { "currency": "EUR",
                    "knobs": { "services.servers.workers": { "values": "1..12", "cost_per_hour": 0.5 } } }
    });
    edit(&mut model);
    let path = scratch_dir(test).join("model.json");
    std::fs::write(&path, serde_json::to_string_pretty(&model).expect("the model serializes")).expect("the model is written");
    path.display().to_string()
}

fn size(args: &[&str]) -> Run {
    capsim(&[&["size"], args].concat())
}

#[test]
fn the_answer_names_each_value_its_cost_and_what_binds_it_and_is_the_same_on_one_thread_or_two() {
    let model = mmc("size-answer", |_| {});
    let dir = scratch_dir("size-answer-out");
    let (one, two) = (dir.join("one.json"), dir.join("two.json"));
    let run = size(&[&model, "--threads", "1", "--json", &one.display().to_string()]);
    run.expect_code(0)
        .stdout_has("SIZED")
        .stdout_has("cost: 2.5 EUR/h (as written: 2 EUR/h)")
        .stdout_has("services.servers.workers = 5: servers.serve p90 <= 30ms");
    size(&[&model, "--threads", "2", "--json", &two.display().to_string(), "--quiet"]).expect_code(0);
    let (a, b) = (std::fs::read(&one).expect("written"), std::fs::read(&two).expect("written"));
    assert_eq!(a, b, "the answer depends on the thread count");
    let answer: Value = serde_json::from_slice(&a).expect("JSON");
    assert_eq!(answer["status"], "sized");
    assert_eq!(answer["knobs"][0]["value"], "5");
    assert_eq!(answer["knobs"][0]["cheaper"]["value"], "4");
    assert_eq!(answer["knobs"][0]["cheaper"]["breaks"][0]["status"], "breached");
    assert_eq!(answer["cost_per_hour"], 2.5);
    assert!(
        answer["simulations"].as_u64().expect("a count") < 12,
        "{}",
        answer["simulations"]
    );
}

#[test]
fn the_report_page_shows_the_answer_what_binds_it_and_every_configuration_judged() {
    let model = mmc("size-report", |_| {});
    let dir = scratch_dir("size-report-out").join("report");
    size(&[&model, "--report", &dir.display().to_string(), "--quiet"]).expect_code(0);
    for file in ["report.html", "results.json", "sizing.csv", "sizing.svg", "sizing.png"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let page = std::fs::read_to_string(dir.join("report.html")).expect("the page");
    assert!(
        page.contains("SIZED</span> — the cheapest configuration meeting every SLO under every run costs 2.50 EUR/h"),
        "{page}"
    );
    assert!(
        page.contains("servers.serve p90 &lt;= 30ms"),
        "the binding objective is shown"
    );
    // One row per configuration judged, as the JSON counts them, cheapest first.
    let answer: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("JSON")).expect("JSON");
    let csv = std::fs::read_to_string(dir.join("sizing.csv")).expect("the CSV");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len() as u64, answer["configurations"].as_u64().expect("a count"));
    assert!(
        rows.contains(&"5,2.5,6,met,0.8333333333333334") || rows.iter().any(|r| r.starts_with("5,2.5,") && r.contains(",met,")),
        "{csv}"
    );
    let costs: Vec<f64> = rows
        .iter()
        .map(|r| r.split(',').nth(1).and_then(|c| c.parse().ok()).expect("a cost"))
        .collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{csv}");
}

#[test]
fn a_sizing_stopped_by_its_wall_clock_limit_says_so_and_exits_3() {
    let model = mmc("size-stopped", |_| {});
    size(&[&model, "--max-wall", "1ms"])
        .expect_code(3)
        .stdout_has("STOPPED")
        .stdout_has("interrupted: the search stopped before it ended");
}

#[test]
fn a_range_too_small_for_the_slo_is_infeasible_and_exits_1_naming_the_slo() {
    let model = mmc("size-infeasible", |m| {
        m["sizing"]["knobs"]["services.servers.workers"]["values"] = json!("1..4");
    });
    size(&[&model])
        .expect_code(1)
        .stdout_has("INFEASIBLE")
        .stdout_has("servers.serve p90 <= 30ms");
}

#[test]
fn bad_sizing_input_exits_2_naming_the_path_or_flag_and_what_was_expected() {
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            mmc("size-bad-path", |m| {
                m["sizing"]["knobs"] = json!({ "services.server.workers": { "values": "1..4" } });
            }),
            vec![],
            "sizing.knobs.\"services.server.workers\": no \"server\" at services; did you mean \"servers\"?",
        ),
        (
            mmc("size-bad-order", |m| {
                m["sizing"]["knobs"]["services.servers.workers"]["values"] = json!([4, 2]);
            }),
            vec![],
            "expected increasing values",
        ),
        (
            mmc("size-bad-range", |m| {
                m["sizing"]["knobs"]["services.servers.workers"]["values"] = json!("1ms..4ms");
            }),
            vec![],
            "sizing.knobs.\"services.servers.workers\".values: expected a range",
        ),
        (
            mmc("size-bad-value", |m| {
                m["sizing"]["knobs"]["services.servers.workers"]["values"] = json!("0..3");
            }),
            vec![],
            "services.servers.workers: expected a positive integer, got 0",
        ),
        (
            mmc("size-no-slo", |m| {
                m.as_object_mut().expect("an object").remove("slos");
            }),
            vec![],
            "slos: the model has no SLOs",
        ),
        (
            mmc("size-bad-scenario", |_| {}),
            vec!["--scenario", "nope"],
            "no scenario named \"nope\"",
        ),
        (
            mmc("size-bad-cost", |_| {}),
            vec!["--cost", "services.servers.worker=1"],
            "--cost services.servers.worker=1: no knob",
        ),
        (
            mmc("size-bad-knob", |_| {}),
            vec!["--knob", "services.servers.workers"],
            "--knob: expected PATH=VALUE",
        ),
        (
            mmc("size-twice", |_| {}),
            vec![
                "--knob",
                "services.servers.workers=1..3",
                "--knob",
                "services.servers.workers=2..4",
            ],
            "--knob.\"services.servers.workers\": the knob is given twice",
        ),
        (
            mmc("size-add", |_| {}),
            vec!["--knob", "services.servers.workers.add=1..3"],
            "a knob sets a value",
        ),
        (
            mmc("size-no-knobs", |m| {
                m.as_object_mut().expect("an object").remove("sizing");
            }),
            vec![],
            "nothing to size",
        ),
    ];
    for (model, flags, message) in cases {
        let mut args = vec![model.as_str()];
        args.extend(flags);
        size(&args).expect_code(2).stderr_has(message);
    }
}

#[test]
fn check_asserts_on_the_cost_and_the_values_of_the_answer() {
    let model = mmc("size-check", |m| {
        m["expect"] = json!([
            { "that": "size.cost <= 3/h" },
            { "that": "size.services.servers.workers <= 5" }
        ]);
    });
    let report = scratch_dir("size-check-report").join("report");
    capsim(&["check", &model, "--report", &report.display().to_string()])
        .expect_code(0)
        .stdout_has("PASS  size.cost <= 3/h  measured 2.50")
        .stdout_has("2 passed, 0 failed");
    // Every claim is about the sizing: the report is the sizing's page.
    assert!(report.join("sizing.csv").is_file(), "the sizing report is written");
    let too_cheap = mmc("size-check-fail", |m| {
        m["expect"] = json!([{ "that": "size.cost < 2/h" }]);
    });
    capsim(&["check", &too_cheap])
        .expect_code(1)
        .stdout_has("FAIL  size.cost < 2/h");
    let scenario = mmc("size-check-scenario", |m| {
        m["expect"] = json!([{ "that": "size.cost < 2/h", "scenario": "traffic-150" }]);
    });
    capsim(&["check", &scenario])
        .expect_code(2)
        .stderr_has("expect[0].scenario: a claim about the sizing is judged under the sizing's own scenarios");
    let unknown = mmc("size-check-unknown", |m| {
        m["expect"] = json!([{ "that": "size.services.servers.instances < 2" }]);
    });
    capsim(&["check", &unknown])
        .expect_code(2)
        .stderr_has("expect[0].that: unknown sizing metric \"size.services.servers.instances\"");
}

/// `capsim size --shard I/N --exchange DIR` for each shard at once, as a job array would.
fn sharded(
    model: &str,
    exchange: &std::path::Path,
    count: usize,
    extra: &[&str],
) -> Vec<(std::process::Output, std::path::PathBuf)> {
    let children: Vec<_> = (1..=count)
        .map(|i| {
            let out = exchange.with_file_name(format!("shard-{i}.json"));
            let label = format!("{i}/{count}");
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
                .args(["size", model, "--quiet", "--threads", "1", "--shard", &label])
                .args([
                    "--exchange",
                    &exchange.display().to_string(),
                    "--json",
                    &out.display().to_string(),
                ])
                .args(extra)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("capsim starts");
            (child, out)
        })
        .collect();
    children
        .into_iter()
        .map(|(child, out)| (child.wait_with_output().expect("capsim ends"), out))
        .collect()
}

#[test]
fn a_sizing_split_into_shards_that_meet_in_a_directory_gives_the_answer_of_the_sizing_done_whole() {
    let model = mmc("size-shards", |_| {});
    let dir = scratch_dir("size-shards-out");
    let whole = dir.join("whole.json");
    size(&[&model, "--quiet", "--json", &whole.display().to_string()]).expect_code(0);
    let whole = std::fs::read(&whole).expect("written");
    let exchange = dir.join("exchange");
    for (output, out) in sharded(&model, &exchange, 3, &[]) {
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(
            std::fs::read(&out).expect("written") == whole,
            "{} differs from the sizing done whole",
            out.display()
        );
    }
    // Every evaluation is in the exchange now: one shard alone finishes without waiting for the others.
    let again = dir.join("again.json");
    size(&[
        &model,
        "--quiet",
        "--shard",
        "2/3",
        "--exchange",
        &exchange.display().to_string(),
        "--exchange-wait",
        "1s",
        "--json",
        &again.display().to_string(),
    ])
    .expect_code(0);
    assert!(std::fs::read(&again).expect("written") == whole);
}

#[test]
fn a_shard_whose_partners_never_come_stops_naming_the_shards_it_waited_for() {
    let model = mmc("size-shards-alone", |_| {});
    let exchange = scratch_dir("size-shards-alone-out").join("exchange");
    size(&[
        &model,
        "--shard",
        "1/2",
        "--exchange",
        &exchange.display().to_string(),
        "--exchange-wait",
        "1s",
    ])
    .expect_code(3)
    .stdout_has("STOPPED")
    .stdout_has("for shards 2/2 of run \"baseline\"")
    .stdout_has("every shard of a sizing must run at the same time");
    size(&[&model, "--shard", "1/2"])
        .expect_code(2)
        .stderr_has("--shard needs --exchange DIR");
}
