//! The layers point down. Data flows engine · stats → model → traces (spans read into models and
//! measurements) → scenario → sim → results → the
//! replication runner → analysis → workflow (sweeps, scenario comparisons) → report → cli; each
//! layer may use the layers before it, never one after it, and the layers that read results
//! (analysis, workflow, report) never see the live simulation (sim) or its engine. This reads every source file and fails on any `crate::` path
//! that points the wrong way, so an up-arrow cannot come back unnoticed.

use std::path::{Path, PathBuf};

/// The layers, lowest first: a module under `src/<layer>/` (or the file `src/<layer>.rs`) may use
/// the layers before it in this list. `engine` and `stats` use nothing of capsim.
const LAYERS: &[&str] = &[
    "engine",
    "stats",
    "model",
    "traces",
    "scenario",
    "sim",
    "results",
    "replications",
    "analysis",
    "workflow",
    "report",
    "cli",
];

/// Layers that read results only: they may not use these layers although they come earlier.
const READ_RESULTS_ONLY: &[(&str, &[&str])] = &[
    ("analysis", &["sim", "engine"]),
    ("workflow", &["sim", "engine"]),
    ("report", &["sim", "engine"]),
];

/// Items of `lib.rs` (the public API) and the layer each belongs to: `capsim::run` is the
/// replication runner's entry point.
const ROOT_ITEMS: &[(&str, &str)] = &[("run", "replications"), ("run_until", "replications")];

/// Above the simulator (the command line apart, which may use everything), only what a
/// replication hands over is read: its result types and the call that runs it, never a
/// component's state or constants.
const SIM_OUTPUTS: &[&str] = &["replication", "tally", "ReplicationResult", "run_replication"];

/// The validator is run where models are made (scenario variants, the command line); the layers
/// below read what it computed from the validated `Model`.
const VALIDATOR_CALLERS: &[&str] = &["model", "scenario", "cli"];

/// The layer a `crate::NAME` path reaches, or None when NAME is unknown.
fn layer_of(name: &str) -> Option<&'static str> {
    LAYERS
        .iter()
        .copied()
        .find(|l| *l == name)
        .or_else(|| ROOT_ITEMS.iter().find(|(item, _)| *item == name).map(|(_, l)| *l))
}

/// What `layer` may use: every layer before it, less what it must not see.
fn allowed(layer: &str) -> Vec<&'static str> {
    let at = LAYERS.iter().position(|l| *l == layer).expect("a listed layer");
    let barred = READ_RESULTS_ONLY
        .iter()
        .find(|(l, _)| *l == layer)
        .map_or(&[][..], |(_, b)| *b);
    LAYERS[..=at].iter().copied().filter(|l| !barred.contains(l)).collect()
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first `want` segments of every path of a use-tree or path at the start of `s`:
/// `sim::tally::X` gives [sim, tally]; `{model, sim::{tally, world}}` gives [model],
/// [sim, tally] and [sim, world].
fn segments(s: &str, want: usize) -> Vec<Vec<String>> {
    let s = s.trim_start();
    if want == 0 {
        return vec![Vec::new()];
    }
    if let Some(group) = s.strip_prefix('{') {
        let (mut depth, mut from, mut paths) = (0usize, 0usize, Vec::new());
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                ',' | '}' if depth == 0 => {
                    paths.extend(segments(&group[from..i], want));
                    from = i + 1;
                    if c == '}' {
                        break;
                    }
                }
                _ => {}
            }
        }
        return paths;
    }
    let first = ident(s);
    if first.is_empty() || first == "self" {
        return Vec::new();
    }
    match s[first.len()..].strip_prefix("::") {
        Some(rest) if want > 1 => {
            let mut below = segments(rest, want - 1);
            if below.is_empty() {
                below.push(Vec::new());
            }
            below
                .into_iter()
                .map(|mut p| {
                    p.insert(0, first.to_string());
                    p
                })
                .collect()
        }
        _ => vec![vec![first.to_string()]],
    }
}

/// The `crate::` paths of some code, each as its first two segments with the line it is on.
fn crate_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue; // another name ending in "crate"
        }
        let line = code[..at].matches('\n').count() + 1;
        for path in segments(&code[at + "crate::".len()..], 2) {
            found.push((line, path));
        }
    }
    found
}

/// Every up-arrow (or unknown `crate::` path) in one file of `layer`, as "FILE:LINE …".
fn violations_in(layer: &str, file: &str, text: &str) -> Vec<String> {
    // Comments and doc links are not dependencies; blank them, keeping the line numbers.
    let code: Vec<&str> = text
        .lines()
        .map(|l| if l.trim_start().starts_with("//") { "" } else { l })
        .collect();
    let may = allowed(layer);
    let mut found = Vec::new();
    for (line, path) in crate_paths(&code.join("\n")) {
        let name = &path[0];
        let below = path.get(1).map(String::as_str);
        let at = format!("{file}:{line} uses crate::{}", path.join("::"));
        match layer_of(name) {
            None => found.push(format!(
                "{at}, which is in no layer: add it to LAYERS or ROOT_ITEMS in tests/integration/layers.rs"
            )),
            Some(used) if !may.contains(&used) => {
                found.push(format!("{at} (layer {used}); {layer} may use only {}", may.join(", ")))
            }
            Some("sim") if !["sim", "cli"].contains(&layer) && below.is_some_and(|b| !SIM_OUTPUTS.contains(&b)) => {
                found.push(format!(
                    "{at}: above the simulator only a replication's outputs are read ({})",
                    SIM_OUTPUTS.join(", ")
                ))
            }
            Some("model") if below == Some("validate") && !VALIDATOR_CALLERS.contains(&layer) => found.push(format!(
                "{at}: {layer} reads the validated Model, it does not call the validator"
            )),
            Some(_) => {}
        }
    }
    found
}

/// Every `.rs` file under `dir` (or `dir` itself when it is a file), sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every up-arrow in the crate under `src`, and every module of `src` that is in no layer.
fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(src)
        .expect("the crate's src directory")
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if path.is_file() && (name == "lib" || name == "main") {
            continue; // the public API and the binary may use everything
        }
        if !LAYERS.contains(&name.as_str()) {
            found.push(format!(
                "src/{name} is in no layer: add it to LAYERS in tests/integration/layers.rs"
            ));
            continue;
        }
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            let shown = file
                .strip_prefix(src.parent().unwrap_or(src))
                .unwrap_or(&file)
                .display()
                .to_string();
            found.extend(violations_in(&name, &shown, &text));
        }
    }
    found
}

#[test]
fn every_layer_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "layers pointing the wrong way:\n{}", found.join("\n"));
}

#[test]
fn an_up_arrow_a_grouped_import_and_a_look_inside_the_simulator_are_each_caught() {
    // The arrows the layering was broken by, written as they were.
    let results = violations_in(
        "results",
        "src/results/resilience.rs",
        "use crate::analysis::metric::series;\n",
    );
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].starts_with("src/results/resilience.rs:1 uses crate::analysis::metric (layer analysis)"));
    let model = violations_in(
        "model",
        "src/model/spec.rs",
        "    pub expect: Vec<crate::analysis::expect::ExpectSpec>,",
    );
    assert_eq!(model.len(), 1, "{model:?}");
    let column = violations_in(
        "results",
        "src/results/resilience.rs",
        "//! Queues.\n\nuse crate::sim::mqueue::column;",
    );
    assert_eq!(column.len(), 1, "{column:?}");
    assert!(column[0].starts_with("src/results/resilience.rs:3 uses crate::sim::mqueue: above the simulator"));
    let validator = violations_in(
        "sim",
        "src/sim/world.rs",
        "let windows = crate::model::validate::window_count(model);",
    );
    assert_eq!(validator.len(), 1, "{validator:?}");
    // A grouped import over two lines (reported at its `crate::`): one arrow up (report), one
    // into the live simulation (sim), one fine (results).
    let grouped = violations_in(
        "analysis",
        "src/analysis/x.rs",
        "use crate::{report::table,\n    sim::World, results::RunResult};",
    );
    assert_eq!(grouped.len(), 2, "{grouped:?}");
    assert!(grouped[0].contains(":1 uses crate::report::table") && grouped[1].contains(":1 uses crate::sim::World"));
    // The engine uses nothing of capsim.
    assert_eq!(
        violations_in("engine", "src/engine/run.rs", "use crate::stats::Estimate;").len(),
        1
    );
    // A name in no layer is reported, not let through.
    assert_eq!(violations_in("sim", "src/sim/x.rs", "crate::newthing::go();").len(), 1);
}

#[test]
fn downward_paths_comments_and_other_crates_are_not_arrows() {
    let fine = "use crate::model::Model;\nuse crate::stats::{LatencyHistogram, TimeWeighted};\n\
                /// See [`crate::report::sweep`].\n// crate::report is where it is shown\n\
                let a = my_crate::report::x();\nlet r = crate::run(&model, &[], None);";
    assert_eq!(violations_in("analysis", "src/analysis/x.rs", fine), Vec::<String>::new());
    let results =
        "use crate::sim::replication::{QueueResult, queue_column};\nuse crate::sim::{tally::RequestTally, ReplicationResult};";
    assert_eq!(violations_in("results", "src/results/x.rs", results), Vec::<String>::new());
    assert_eq!(
        violations_in("scenario", "src/scenario/mod.rs", "use crate::model::validate::validate;"),
        Vec::<String>::new()
    );
    assert_eq!(
        violations_in("cli", "src/cli/x.rs", "use crate::{analysis, report, sim::world, engine};"),
        Vec::<String>::new()
    );
}
