//! `capsim calibrate MODEL --traces FILE…`: replay the model at the rates the traces measured and
//! say how well it reproduces their per-endpoint latency and throughput.

use super::init::{read_traces, share_arg};
use super::{show, write, CliError, EXIT_OK};
use crate::analysis::calibration::Fit;
use crate::report;
use crate::traces::collect::Bounds;
use crate::workflow::calibrate::prepare;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `capsim calibrate`.
#[derive(Args)]
pub struct CalibrateArgs {
    /// The model file (JSON).
    model: PathBuf,
    /// Trace files: OTLP JSON (one request per line, .gz too), Zipkin v2 JSON or Jaeger JSON
    /// (default: the model's calibration.traces).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    traces: Vec<PathBuf>,
    /// The largest relative error a statistic may have to fit (e.g. 10% or 0.1).
    #[arg(long, value_name = "SHARE", default_value = "10%")]
    max_error: String,
    /// The share of traces recorded (head sampling); measured rates are scaled up by its inverse
    /// (default: the model's calibration.sampling_rate, else 1).
    #[arg(long, value_name = "SHARE")]
    sampling_rate: Option<String>,
    /// Replications of the replay (default: the model's calibration.replications, else 20).
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Write the comparison as JSON ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a report directory: report.html (the verdict, each endpoint's statistics against the
    /// traces', a plot of their percentiles, the replay's own results), calibration.csv,
    /// summary.csv, results.json and the plots as SVG and PNG.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Do not print the comparison.
    #[arg(long, short)]
    quiet: bool,
}

/// Run `capsim calibrate`: exit 0 when the model fits, 1 when it misfits or the fit is
/// uncertain, 2 on bad input, 3 when the replay stopped early.
pub fn calibrate(args: CalibrateArgs) -> Result<i32, CliError> {
    super::outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let max_error = share_arg("--max-error", &args.max_error)?;
    if args.replications == Some(0) {
        return Err(CliError::Argument(
            "--replications: expected a positive integer, got 0".into(),
        ));
    }
    let file = args.model.display().to_string();
    let source = crate::scenario::ModelSource::read(&file)?;
    let declared = crate::workflow::calibrate::declared(&source)?;
    let files = match (&declared, args.traces.is_empty()) {
        (_, false) => args.traces.clone(),
        (Some(d), true) => d.traces.clone(),
        (None, true) => {
            return Err(CliError::Argument(format!(
                "--traces: give the trace files, or name them in the model ({file} has no \"calibration\": {{\"traces\": [...]}})"
            )))
        }
    };
    let sampling_rate = match &args.sampling_rate {
        Some(text) => share_arg("--sampling-rate", text)?,
        None => declared.as_ref().map_or(1.0, |d| d.sampling_rate),
    };
    let replications = args.replications.or(declared.as_ref().and_then(|d| d.replications));
    let traces = read_traces(&files, Bounds::MEASUREMENTS_ONLY)?;
    let plan = prepare(&source, &file, &traces, sampling_rate, replications)?;
    let pool = super::threads::replication_pool(args.threads, &[&plan.replay.model])?;
    let json_to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let (result, calibration) = {
        let progress = super::progress::Progress::over(u64::from(plan.replay.model.replications), args.quiet);
        progress.message("replaying the traces' rates");
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT).watched(&hook);
        plan.run(&runner, max_error)
    };
    if !args.quiet && !json_to_stdout {
        let mut head = format!(
            "{file} replayed at the rates of {} spans over {} ({} replications):\n",
            traces.spans,
            crate::model::units::format_duration_f64(traces.span_secs()),
            plan.replay.model.replications
        );
        for (entry, clients) in &plan.entries {
            head.push_str(&format!("  {entry}: clients {}\n", clients.join(", ")));
        }
        head.push_str(&report::calibration::calibration_text(&calibration));
        show(&head);
    }
    if let Some(path) = &args.json {
        let both = serde_json::json!({ "calibration": calibration, "observed": plan.observed, "result": result });
        write("--json", path, &report::json::to_json(&both))?;
    }
    if let Some(dir) = &args.report {
        super::write_report(
            "--report",
            dir,
            &report::html::ReportInput::Calibration {
                calibration: &calibration,
                result: &result,
            },
            None,
        )?;
    }
    Ok(match (calibration.complete, calibration.verdict) {
        (false, _) => super::EXIT_STOPPED,
        (true, Fit::Fits) => EXIT_OK,
        (true, _) => 1,
    })
}
