//! `capsim check`: run the expectations written in a model (`"expect": [...]`) and exit 1 when
//! one does not hold, a gate for CI. The model as written and each scenario an expectation names
//! run once, with the same overrides and seeds as `capsim run`.
//!
//! Exit codes: 0 every expectation held, 1 some did not, 2 bad input (a malformed claim, an
//! unknown metric or scenario, a model without expectations).

use super::{show, write, CliError, Overrides, RunSettings, EXIT_OK};
use crate::model::{Diagnostic, ModelError};
use crate::report;
use crate::results::RunResult;
use crate::scenario::ModelSource;
use crate::workflow::check::{prepare, CheckPlan};
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
    /// A claim holds only when its whole 95 % confidence interval satisfies it (by default the
    /// mean decides, and a CI that straddles the bound is noted).
    #[arg(long)]
    strict: bool,
    /// Write a JUnit XML report to this file, for CI test views.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write every verdict as JSON to this file ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a report directory of the runs checked (report.html, plots, JSON, CSV); with a
    /// baseline run, the scenarios are compared with it; the sizing's page when every claim is
    /// about the sizing.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

fn invalid(source: &ModelSource, diagnostics: Vec<Diagnostic>) -> CliError {
    CliError::Model(ModelError::Invalid {
        file: source.file.clone(),
        diagnostics,
    })
}

/// Check the expectations of a loaded model without running it (for `capsim validate`):
/// claims, scenarios, metric names and bounds. Returns how many there are.
pub fn validate_expectations(source: &ModelSource) -> Result<usize, CliError> {
    Ok(prepare(source, |_| {})?.expectation_count())
}

/// Run `capsim check`: returns the exit code, or the bad input (which the caller maps to 2).
pub fn check_command(args: &CheckArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    super::outputs::Outputs::default()
        .file("--junit", args.junit.as_ref())
        .file("--json", args.json.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let source = overrides.load(&args.model)?;
    let plan = prepare(&source, |spec| overrides.apply(spec))?;
    if plan.expectation_count() == 0 {
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

    let pool = super::threads::replication_pool(args.settings.threads, &plan.models())?;
    // The runs a check makes are not known ahead (a sizing's search, a map's): the bar grows.
    let (results, sizing, map, calibration, calibration_result) = {
        let progress = super::progress::Progress::growing(false);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT).watched(&hook);
        let mut warned: Vec<String> = Vec::new();
        let results = plan.run(
            &runner,
            |name, warnings| {
                progress.message(name.unwrap_or("baseline"));
                for w in warnings {
                    if !warned.contains(w) {
                        progress.tell(&format!("warning: {w}"));
                        warned.push(w.clone());
                    }
                }
            },
            |name, result| {
                for msg in &result.verdict.messages {
                    match name {
                        Some(name) => progress.tell(&format!("stopped [{name}]: {msg}")),
                        None => progress.tell(&format!("stopped: {msg}")),
                    }
                }
            },
        );
        let sizing = plan.size(
            &source,
            |spec| overrides.apply(spec),
            &runner,
            |trying| {
                progress.message(&format!("sizing: {} {}", trying.run, trying.values.join(", ")));
            },
        )?;
        if let Some(s) = &sizing {
            progress.tell(&format!("sizing: {} after {} simulations", s.status.name(), s.simulations));
        }
        let map = plan.map(
            &source,
            |spec| overrides.apply(spec),
            &runner,
            |trying| {
                progress.message(&format!("metastability map: {}: {}", trying.run, trying.what));
            },
        )?;
        if let Some(m) = &map {
            progress.tell(&format!(
                "metastability map: {} simulations{}",
                m.simulations,
                m.stopped.as_ref().map(|why| format!(", PARTIAL: {why}")).unwrap_or_default()
            ));
        }
        progress.message("calibration");
        let (calibration, calibration_result) = plan.calibrate(&runner).unzip();
        (results, sizing, map, calibration, calibration_result)
    };
    if let Some(c) = &calibration {
        tell!(
            "calibration: {} within {:.0} % (largest error: {}){}",
            c.verdict.label(),
            c.max_error * 100.0,
            c.worst,
            if c.complete {
                ""
            } else {
                ", PARTIAL: the replay stopped early"
            }
        );
    }
    let mut report = plan.judge(&source, &results, sizing.as_ref(), map.as_ref(), calibration.as_ref())?;
    if args.strict {
        report = report.strict();
    }

    let text = report.text();
    // With JSON or JUnit on stdout, the verdict lines go to stderr so stdout stays one document.
    let stdout_taken = [&args.json, &args.junit]
        .iter()
        .any(|p| p.as_ref().is_some_and(|p| p.as_os_str() == "-"));
    if stdout_taken {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    } else {
        show(&text);
    }
    if let Some(path) = &args.json {
        write("--json", path, &report::json::to_json(&report))?;
    }
    if let Some(path) = &args.junit {
        write("--junit", path, &report::junit::junit_xml(&report))?;
    }
    if let Some(dir) = &args.report {
        match &sizing {
            // Every claim is about the sizing: the report is the sizing's.
            Some(sizing) if results.is_empty() => {
                super::write_report("--report", dir, &report::html::ReportInput::Sizing(sizing), None)?;
            }
            // Every claim is about the metastability map: the report is the map's.
            None if results.is_empty() && map.is_some() => {
                if let Some(map) = &map {
                    super::write_report("--report", dir, &report::html::ReportInput::Metastability(map), None)?;
                }
            }
            // Every claim is about the calibration: the report is the calibration's.
            None if results.is_empty() && calibration.is_some() => {
                if let (Some(c), Some(replay)) = (&calibration, &calibration_result) {
                    super::write_report(
                        "--report",
                        dir,
                        &report::html::ReportInput::Calibration {
                            calibration: c,
                            result: replay,
                        },
                        None,
                    )?;
                }
            }
            _ => write_runs_report(dir, &source, &plan, &results)?,
        }
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
    source: &ModelSource,
    plan: &CheckPlan,
    results: &[RunResult],
) -> Result<(), CliError> {
    let topology = plan
        .models()
        .first()
        .map(|model| crate::report::topology::Topology::of(model));
    match plan.scenario_report(source, results) {
        Some(compared) => super::write_report(
            "--report",
            dir,
            &report::html::ReportInput::Scenarios(&compared),
            topology.as_ref(),
        ),
        None => super::write_report(
            "--report",
            dir,
            &report::html::ReportInput::Run(&results[0]),
            topology.as_ref(),
        ),
    }
}
