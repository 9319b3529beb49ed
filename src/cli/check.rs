//! `capsim check`: run the expectations written in a model (`"expect": [...]`) and exit 1 when
//! one does not hold, a gate for CI. The model as written and each scenario an expectation names
//! run once, with the same overrides and seeds as `capsim run`.
//!
//! Exit codes: 0 every expectation held, 1 some did not, 2 bad input (a malformed claim, an
//! unknown metric or scenario, a model without expectations).

use super::{print, write, CliError, Overrides, RunSettings, EXIT_OK};
use crate::analysis::expect::{evaluate, read_expectations, CheckReport, Expectation};
use crate::model::{Diagnostic, ModelError, Validated};
use crate::report;
use crate::results::RunResult;
use crate::scenario::ModelSource;
use serde_json::Value;
use std::path::PathBuf;

/// Exit code: some expectation did not hold.
pub const EXIT_FAILED: i32 = 1;

/// The arguments of `capsim check`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  capsim check models/quickstart.json\n  capsim check model.json --replications 20 --junit junit.xml --json check.json\n\nA model lists its expectations as\n  \"expect\": [ { \"that\": \"api.checkout.p99 < 300ms\", \"scenario\": \"db-10ms-away\" },\n              { \"that\": \"shoppers.error_rate <= 1%\" } ]\nwith operators <, <=, >, >=; a claim holds when the mean across replications satisfies it.\n\nExit codes: 0 every expectation held, 1 some did not, 2 bad input."
)]
pub struct CheckArgs {
    /// The model file (JSON), with an "expect" list.
    model: PathBuf,
    #[command(flatten)]
    settings: RunSettings,
    /// Write a JUnit XML report to this file, for CI test views.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write every verdict as JSON to this file ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a report directory of the runs checked (report.html, plots, JSON, CSV); with a
    /// baseline run, the scenarios are compared with it.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

/// One distinct run: the model as written (`name` None) or a scenario ("a+b").
struct Target {
    name: Option<String>,
    validated: Validated,
}

/// The expectations of a model, checked as far as possible without running, and the runs
/// they need.
struct Plan {
    expectations: Vec<Expectation>,
    /// Every distinct run, in the order expectations first name it.
    targets: Vec<Target>,
    /// `targets[runs[i]]` is expectation i's run.
    runs: Vec<usize>,
}

fn invalid(source: &ModelSource, diagnostics: Vec<Diagnostic>) -> CliError {
    CliError::Model(ModelError::Invalid {
        file: source.file.clone(),
        diagnostics,
    })
}

/// Read `expect` (the model's list) and make every run it needs with `overrides`: claims,
/// scenarios, metric names and bounds are all checked before anything runs.
fn plan(source: &ModelSource, expect: &Value, overrides: &Overrides) -> Result<Plan, CliError> {
    let expectations = read_expectations(expect, &source.scenario_names()).map_err(|d| invalid(source, d))?;
    let mut targets: Vec<Target> = Vec::new();
    let mut runs = Vec::with_capacity(expectations.len());
    for e in &expectations {
        let (name, variant): (_, Option<crate::scenario::Variant>) = match &e.scenario {
            None => (None, None),
            Some(written) => {
                let variant = source.scenario_variant(written)?;
                (Some(variant.name.clone()), Some(variant))
            }
        };
        let at = match targets.iter().position(|t| t.name == name) {
            Some(at) => at,
            None => {
                let validated = match &variant {
                    None => source.baseline(|spec| overrides.apply(spec))?,
                    Some(v) => source.variant_model(v, |spec| overrides.apply(spec))?,
                };
                targets.push(Target { name, validated });
                targets.len() - 1
            }
        };
        runs.push(at);
    }
    // A recovery claim measures against the model as written: make sure it runs.
    let recovery = expectations
        .iter()
        .any(|e| e.claim.comparison == crate::analysis::expect::Comparison::RecoversWithin);
    if recovery && !targets.iter().any(|t| t.name.is_none()) {
        targets.push(Target {
            name: None,
            validated: source.baseline(|spec| overrides.apply(spec))?,
        });
    }
    // Metric names and bounds are checked against the components each run has: a result of
    // no replications has every component and no values.
    let shapes: Vec<RunResult> = targets
        .iter()
        .map(|t| crate::results::summarize(&t.validated.model, &[], Vec::new()))
        .collect();
    let problems: Vec<Diagnostic> = expectations
        .iter()
        .zip(&runs)
        .filter_map(|(e, &at)| {
            e.claim
                .resolve(&shapes[at])
                .err()
                .map(|message| Diagnostic { path: e.path(), message })
        })
        .collect();
    if !problems.is_empty() {
        return Err(invalid(source, problems));
    }
    Ok(Plan {
        expectations,
        targets,
        runs,
    })
}

/// Check the expectations of a loaded model without running it (for `capsim validate`):
/// claims, scenarios, metric names and bounds. Returns how many there are.
pub fn validate_expectations(source: &ModelSource) -> Result<usize, CliError> {
    let expect = source.json().get("expect").cloned().unwrap_or(Value::Null);
    Ok(plan(source, &expect, &Overrides::default())?.expectations.len())
}

/// Run `capsim check`: returns the exit code, or the bad input (which the caller maps to 2).
pub fn check_command(args: &CheckArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    super::outputs::Outputs::default()
        .file("--junit", args.junit.as_ref())
        .file("--json", args.json.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let source = super::load(&args.model)?;
    let expect = source.json().get("expect").cloned().unwrap_or(Value::Null);
    let Plan {
        expectations,
        targets,
        runs,
    } = plan(&source, &expect, &overrides)?;
    if expectations.is_empty() {
        return Err(invalid(
            &source,
            vec![Diagnostic {
                path: "expect".into(),
                message: "the model has no expectations to check; add a list like \
                          \"expect\": [{\"that\": \"api.checkout.p99 < 300ms\"}]"
                    .into(),
            }],
        ));
    }

    let models: Vec<&crate::model::Model> = targets.iter().map(|t| &t.validated.model).collect();
    let pool = super::threads::replication_pool(args.settings.threads, &models)?;
    let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT);
    let mut warned: Vec<String> = Vec::new();
    let results: Vec<RunResult> = targets
        .iter()
        .map(|t| {
            let warnings: Vec<String> = t.validated.warnings.iter().map(|w| w.to_string()).collect();
            for w in &warnings {
                if !warned.contains(w) {
                    tell!("warning: {w}");
                    warned.push(w.clone());
                }
            }
            let result = runner.run(&t.validated.model, &warnings);
            for msg in &result.verdict.messages {
                match &t.name {
                    Some(name) => tell!("stopped [{name}]: {msg}"),
                    None => tell!("stopped: {msg}"),
                }
            }
            result
        })
        .collect();

    let verdicts = expectations
        .iter()
        .zip(&runs)
        .map(|(e, &at)| {
            let baseline = targets.iter().position(|t| t.name.is_none()).map(|b| &results[b]);
            verdict(e, targets[at].name.as_deref(), &results[at], baseline)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|d| invalid(&source, d))?;
    let model_name = targets.first().map(|t| t.validated.model.name.clone()).unwrap_or_default();
    let report = CheckReport::new(&model_name, verdicts);

    let text = report.text();
    // With JSON or JUnit on stdout, the verdict lines go to stderr so stdout stays one document.
    let stdout_taken = [&args.json, &args.junit]
        .iter()
        .any(|p| p.as_ref().is_some_and(|p| p.as_os_str() == "-"));
    if stdout_taken {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    } else {
        print(&text);
    }
    if let Some(path) = &args.json {
        write("--json", path, &report::json::to_json(&report))?;
    }
    if let Some(path) = &args.junit {
        write("--junit", path, &report::junit::junit_xml(&report))?;
    }
    if let Some(dir) = &args.report {
        write_runs_report(dir, &source, &targets, &results)?;
    }
    // A judged failure is a regression (1) even when other runs were cut short; otherwise a
    // cut-short run leaves expectations not judged, which is a stop (3), not a regression.
    Ok(if report.failed() > 0 {
        EXIT_FAILED
    } else if report.not_judged() > 0 {
        super::EXIT_STOPPED
    } else {
        EXIT_OK
    })
}

/// The report of the runs a check made: the scenarios compared with the baseline when it ran,
/// else the first run on its own.
fn write_runs_report(
    dir: &std::path::Path,
    source: &crate::scenario::ModelSource,
    targets: &[Target],
    results: &[RunResult],
) -> Result<(), CliError> {
    let Some(base) = targets.iter().position(|t| t.name.is_none()) else {
        return super::write_report("--report", dir, &report::html::ReportInput::Run(&results[0]));
    };
    let scenarios = targets
        .iter()
        .zip(results)
        .filter_map(|(t, r)| {
            t.name
                .as_ref()
                .map(|name| (name.clone(), source.scenario_description(name), r.clone()))
        })
        .collect();
    let scenario_report = crate::analysis::compare::ScenarioReport::compared(results[base].clone(), scenarios);
    super::write_report("--report", dir, &report::html::ReportInput::Scenarios(&scenario_report))
}

fn verdict(
    e: &Expectation,
    scenario: Option<&str>,
    result: &RunResult,
    baseline: Option<&RunResult>,
) -> Result<crate::analysis::expect::ExpectationResult, Vec<Diagnostic>> {
    evaluate(e, scenario, result, baseline).map_err(|message| vec![Diagnostic { path: e.path(), message }])
}
