//! The command line end to end: every example runs and validates, outputs are written in their
//! documented form, and bad arguments are refused with exit code 2 naming the flag.

use crate::{capsim, example, examples, scratch_dir};
use serde_json::Value;
use std::path::Path;

/// Quick settings for running the examples: short runs, two replications.
const QUICK: [&str; 6] = ["--duration", "5m", "--warmup", "1m", "--replications", "2"];

/// The "service.endpoint" names of a model file, read from its JSON.
fn endpoint_names(model: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(model).expect("the model is readable");
    let json: Value = serde_json::from_str(&text).expect("the example model is JSON");
    let services = json["services"].as_object().expect("the model has services");
    services
        .iter()
        .flat_map(|(service, spec)| {
            let endpoints = spec["endpoints"].as_object().expect("a service has endpoints");
            endpoints.keys().map(move |endpoint| format!("{service}.{endpoint}"))
        })
        .collect()
}

fn parse_json(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what} is not valid JSON: {e}\n{text}"))
}

#[test]
fn every_example_model_runs_and_prints_each_of_its_endpoints() {
    for model in examples() {
        let run = capsim(&[&["run", model.to_str().unwrap()][..], &QUICK[..]].concat());
        run.expect_code(0);
        let endpoints = endpoint_names(&model);
        assert!(!endpoints.is_empty(), "{} has no endpoints", model.display());
        for endpoint in endpoints {
            run.stdout_has(&endpoint);
        }
    }
}

#[test]
fn every_example_model_validates() {
    for model in examples() {
        let run = capsim(&["validate", model.to_str().unwrap()]);
        run.expect_code(0);
        assert!(run.stdout.starts_with("ok: "), "`{}` said:\n{}", run.command, run.stdout);
    }
}

#[test]
fn json_output_is_valid_json_with_schema_version_1_and_the_seed() {
    let dir = scratch_dir("json");
    let out = dir.join("results.json");
    let model = example("mm1.json");
    capsim(&[
        "run",
        model.to_str().unwrap(),
        "--duration",
        "2m",
        "--warmup",
        "10s",
        "--replications",
        "2",
        "--seed",
        "4242",
        "--json",
        out.to_str().unwrap(),
        "-q",
    ])
    .expect_code(0);
    let text = std::fs::read_to_string(&out).expect("--json wrote the file");
    let json = parse_json(&text, "--json output");
    assert_eq!(json["schema_version"], 1, "{text}");
    assert_eq!(json["model"]["seed"], 4242, "{text}");
    assert_eq!(json["model"]["replications"], 2, "{text}");
    assert_eq!(json["model"]["duration_s"], 120.0, "{text}");
    assert_eq!(json["verdict"]["complete"], true, "{text}");
    assert_eq!(json["endpoints"][0]["name"], "server.serve", "{text}");
}

#[test]
fn json_to_stdout_prints_only_json() {
    let model = example("mm1.json");
    let run = capsim(&[
        "run",
        model.to_str().unwrap(),
        "--duration",
        "1m",
        "--warmup",
        "5s",
        "--json",
        "-",
    ]);
    run.expect_code(0);
    let json = parse_json(&run.stdout, "`--json -` output");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["model"]["seed"], 1, "the model's own seed when --seed is absent");
}

#[test]
fn quiet_run_prints_nothing_on_stdout() {
    let model = example("mm1.json");
    let run = capsim(&["run", model.to_str().unwrap(), "--duration", "1m", "--warmup", "5s", "-q"]);
    run.expect_code(0);
    assert!(run.stdout.is_empty(), "stdout:\n{}", run.stdout);
}

#[test]
fn csv_output_writes_summary_and_timeseries_with_their_headers() {
    let dir = scratch_dir("csv").join("not/yet/there");
    let model = example("quickstart.json");
    capsim(
        &[
            &["run", model.to_str().unwrap(), "--csv", dir.to_str().unwrap(), "-q"][..],
            &QUICK[..],
        ]
        .concat(),
    )
    .expect_code(0);
    let summary = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv written");
    let timeseries = std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv written");
    let mut summary_lines = summary.lines();
    assert_eq!(
        summary_lines.next(),
        Some("kind,component,metric,mean,ci95,min,max,n,complete")
    );
    let mut series_lines = timeseries.lines();
    assert_eq!(
        series_lines.next(),
        Some("window_start_s,kind,component,metric,value,complete")
    );
    for (name, mut rows, columns) in [("summary.csv", summary_lines, 9), ("timeseries.csv", series_lines, 6)] {
        let first = rows.next().unwrap_or_else(|| panic!("{name} has no rows"));
        for row in std::iter::once(first).chain(rows) {
            assert_eq!(row.split(',').count(), columns, "{name}: row {row:?}");
        }
    }
    for component in [
        "client,shoppers,",
        "endpoint,api.checkout,",
        "service,menu,",
        "database,pg,",
        "pool,pgbouncer,",
    ] {
        assert!(
            summary.contains(component),
            "summary.csv lacks a {component:?} row:\n{summary}"
        );
    }
}

#[test]
fn schema_prints_a_json_object_whose_properties_include_services() {
    let run = capsim(&["schema"]);
    run.expect_code(0);
    let json = parse_json(&run.stdout, "the schema");
    let properties = json["properties"].as_object().expect("the schema has \"properties\"");
    for key in ["services", "clients", "databases", "pools", "duration"] {
        assert!(properties.contains_key(key), "schema properties lack {key:?}");
    }
}

#[test]
fn help_mentions_examples() {
    capsim(&["--help"])
        .expect_code(0)
        .stdout_has("Examples")
        .stdout_has("capsim run");
    capsim(&["run", "--help"])
        .expect_code(0)
        .stdout_has("Examples")
        .stdout_has("--replications");
    for command in [
        "run",
        "sweep",
        "size",
        "merge",
        "check",
        "validate",
        "schema",
        "latency-table",
        "init",
        "completions",
        "manpage",
    ] {
        capsim(&[command, "--help"])
            .expect_code(0)
            .stdout_has("Examples:")
            .stdout_has(&format!("capsim {command}"));
    }
}

#[test]
fn zero_replications_is_refused_with_exit_2_naming_the_flag() {
    let model = example("mm1.json");
    let run = capsim(&["run", model.to_str().unwrap(), "--replications", "0"]);
    run.expect_code(2).stderr_has("--replications");
    assert!(run.stdout.is_empty(), "nothing runs: {}", run.stdout);
}

#[test]
fn a_duration_without_a_unit_or_number_is_refused_with_exit_2_naming_the_flag() {
    let model = example("mm1.json");
    for bad in ["abc", "10", ""] {
        capsim(&["run", model.to_str().unwrap(), "--duration", bad])
            .expect_code(2)
            .stderr_has("--duration");
    }
    // A leading "-" would read as a flag: negative values are passed with "=".
    capsim(&["run", model.to_str().unwrap(), "--duration=-5s"])
        .expect_code(2)
        .stderr_has("--duration");
    capsim(&["run", model.to_str().unwrap(), "--warmup", "abc"])
        .expect_code(2)
        .stderr_has("--warmup");
}

#[test]
fn other_bad_arguments_exit_2_naming_what_is_wrong() {
    let model = example("mm1.json");
    let model = model.to_str().unwrap();
    capsim(&["run", model, "--threads", "0"])
        .expect_code(2)
        .stderr_has("--threads");
    capsim(&["run", model, "--seed", "minus-one"])
        .expect_code(2)
        .stderr_has("--seed");
    capsim(&["run", model, "--replications=-3"])
        .expect_code(2)
        .stderr_has("--replications");
    capsim(&["run", model, "--no-such-flag"])
        .expect_code(2)
        .stderr_has("--no-such-flag");
    capsim(&["run"]).expect_code(2).stderr_has("MODEL");
    capsim(&["frobnicate"]).expect_code(2).stderr_has("frobnicate");
    // A warm-up the command line makes as long as the duration is a model error.
    capsim(&["run", model, "--duration", "1m", "--warmup", "1m"])
        .expect_code(2)
        .stderr_has("warmup");
}

#[test]
fn a_missing_model_file_exits_2_naming_the_file() {
    let missing = "no/such/model.json";
    capsim(&["run", missing]).expect_code(2).stderr_has(missing);
    capsim(&["validate", missing]).expect_code(2).stderr_has(missing);
}

#[test]
fn an_unwritable_output_path_exits_2_naming_it() {
    let dir = scratch_dir("unwritable");
    let out = dir.join("missing-dir").join("results.json");
    let model = example("mm1.json");
    capsim(&[
        "run",
        model.to_str().unwrap(),
        "--duration",
        "1m",
        "--warmup",
        "5s",
        "--json",
        out.to_str().unwrap(),
        "-q",
    ])
    .expect_code(2)
    .stderr_has("results.json");
    // A file where the CSV directory should be.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    capsim(&[
        "run",
        model.to_str().unwrap(),
        "--duration",
        "1m",
        "--warmup",
        "5s",
        "--csv",
        file.to_str().unwrap(),
        "-q",
    ])
    .expect_code(2)
    .stderr_has("a-file");
}

/// The M/M/1 model with `edit` made to its JSON, written under `name`.
fn edited_mm1(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(example("mm1.json")).unwrap()).unwrap();
    edit(&mut model);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&model).unwrap()).unwrap();
    path
}

#[test]
fn set_on_the_command_line_gives_the_results_of_the_model_edited_by_hand() {
    let dir = scratch_dir("cli-set");
    let mm1 = example("mm1.json");
    let by_hand = edited_mm1(&dir, "by-hand.json", |m| {
        m["services"]["server"]["workers"] = serde_json::json!(2);
        m["clients"]["arrivals"]["open"]["rate"] = serde_json::json!("150/s");
    });
    let short = ["--replications", "3", "--duration", "10m", "--json", "-"];
    let edited = capsim(&[&["run", by_hand.to_str().unwrap()][..], &short].concat());
    let set = capsim(
        &[
            &[
                "run",
                mm1.to_str().unwrap(),
                "--set",
                "services.server.workers=2",
                "--set",
                "clients.arrivals.open.rate.scale=1.875",
            ][..],
            &short,
        ]
        .concat(),
    );
    edited.expect_code(0);
    set.expect_code(0);
    let (a, b) = (parse_json(&edited.stdout, "edited"), parse_json(&set.stdout, "set"));
    assert_eq!(a["services"], b["services"], "--set differs from the same edit made by hand");
    assert_eq!(a["clients"], b["clients"]);
    // The sharded run carries --set in its header and the merge makes the same change.
    let parts: Vec<_> = (1..=2).map(|i| dir.join(format!("part-{i}.shard"))).collect();
    for (i, part) in parts.iter().enumerate() {
        let label = format!("{}/2", i + 1);
        capsim(&[
            "run",
            mm1.to_str().unwrap(),
            "--set",
            "services.server.workers=2",
            "--set",
            "clients.arrivals.open.rate.scale=1.875",
            "--replications",
            "3",
            "--duration",
            "10m",
            "--shard",
            &label,
            "--out",
            part.to_str().unwrap(),
        ])
        .expect_code(0);
    }
    let merged = capsim(&["merge", parts[0].to_str().unwrap(), parts[1].to_str().unwrap(), "--json", "-"]);
    merged.expect_code(0);
    assert!(
        merged.stdout == set.stdout,
        "the merge of shards run with --set differs from the run"
    );
    capsim(&["run", mm1.to_str().unwrap(), "--set", "services.nope.workers=2"])
        .expect_code(2)
        .stderr_has("--set.\"services.nope.workers\"");
    capsim(&["run", mm1.to_str().unwrap(), "--set", "services.server.workers"])
        .expect_code(2)
        .stderr_has("--set: expected PATH=VALUE");
    capsim(&["run", mm1.to_str().unwrap(), "--set", "services.server.workers=many"])
        .expect_code(2)
        .stderr_has("services.server.workers");
}

#[test]
fn all_scenarios_on_a_model_without_scenarios_runs_the_model_and_says_so() {
    let mm1 = example("mm1.json");
    capsim(&[
        "run",
        mm1.to_str().unwrap(),
        "--all-scenarios",
        "--replications",
        "2",
        "--duration",
        "5m",
        "-q",
    ])
    .expect_code(0)
    .stderr_has("declares no scenarios: --all-scenarios runs the model as written only");
}

#[test]
fn completions_and_the_manual_page_list_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = capsim(&["completions", shell]);
        script.expect_code(0);
        for command in ["run", "sweep", "size", "merge", "check"] {
            assert!(script.stdout.contains(command), "{shell} completions lack {command}");
        }
    }
    assert!(capsim(&["completions", "bash"]).stdout.contains("--shard"));
    let page = capsim(&["manpage"]);
    page.expect_code(0);
    assert!(
        page.stdout.starts_with(".ie \\n(.g .ds Aq") || page.stdout.contains(".TH capsim"),
        "not a roff page"
    );
    for command in ["capsim\\-run", "capsim\\-sweep", "capsim\\-size", "capsim\\-merge"] {
        assert!(page.stdout.contains(command), "the manual page lacks {command}");
    }
    let dir = scratch_dir("cli-manpages");
    capsim(&["manpage", "--dir", dir.to_str().unwrap()]).expect_code(0);
    for page in [
        "capsim.1",
        "capsim-run.1",
        "capsim-sweep.1",
        "capsim-size.1",
        "capsim-merge.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|_| panic!("{page} was not written"));
        assert!(text.contains(".TH"), "{page} is not a roff page");
    }
    assert!(std::fs::read_to_string(dir.join("capsim-run.1")).unwrap().contains("shard"));
    capsim(&["completions", "tcsh"]).expect_code(2);
}

#[test]
fn check_and_sweep_judge_the_model_as_set_on_the_command_line() {
    // M/M/1 at 80/s of 10 ms: 50 ms in the system; with 2 workers (M/M/2, Erlang C) 11.9 ms.
    let dir = scratch_dir("cli-set-check");
    let model = edited_mm1(&dir, "expect.json", |m| {
        m["expect"] = serde_json::json!([{ "that": "server.serve.mean < 30ms" }]);
    });
    let model = model.to_str().unwrap();
    let short = ["--replications", "3", "--duration", "10m"];
    capsim(&[&["check", model][..], &short].concat()).expect_code(1);
    capsim(&[&["check", model, "--set", "services.server.workers=2"][..], &short].concat()).expect_code(0);
    let sweep = capsim(
        &[
            &[
                "sweep",
                model,
                "--set",
                "services.server.workers=2",
                "--param",
                "clients.arrivals.open.rate",
                "--values",
                "80/s",
                "--metric",
                "server.serve.mean",
                "--json",
                "-",
                "-q",
            ][..],
            &short,
        ]
        .concat(),
    );
    sweep.expect_code(0);
    let mean = parse_json(&sweep.stdout, "sweep")["points"][0]["metric"]["mean"]
        .as_f64()
        .expect("the point's metric");
    assert!(
        mean < 20.0,
        "the sweep ran without --set: mean {mean} ms (M/M/1: 50 ms; M/M/2: 11.9 ms)"
    );
}
