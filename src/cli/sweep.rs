//! `capsim sweep` and `capsim merge`: run a model over a grid of parameter values (whole or one
//! shard), find the knee and the first SLO breach, and put shards back together.

use super::{print, show, write, CliError, Overrides, RunSettings, EXIT_OK, EXIT_STOPPED};
use crate::report;
use crate::results::metric::{parse_bound, Unit};
use crate::scenario::sweep::{parse_values_text, SweptParam};
use crate::scenario::ModelSource;
use crate::workflow::run_shards;
use crate::workflow::sweep::{declared, declared_names, merge_files, prepare, SweepPlan};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `capsim sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// The model file (JSON).
    model: PathBuf,
    /// A path to sweep, e.g. "links.api -> pg.latency.add" (repeat for a grid; pairs with --values).
    #[arg(long, value_name = "PATH")]
    param: Vec<String>,
    /// The values of the matching --param: "0ms..10ms/1ms", "0.5..1.5/0.25", "10/s..90/s/10/s" or "1,2,4".
    #[arg(long, value_name = "VALUES")]
    values: Vec<String>,
    /// Run the sweep declared in the model under this name (default: the first, when no --param).
    #[arg(long, value_name = "NAME")]
    sweep: Option<String>,
    /// Sweep on top of this scenario ("a,b" combines).
    #[arg(long, value_name = "NAME")]
    scenario: Option<String>,
    /// The metric whose knee is sought, e.g. "api.checkout.p99" (default: the first client's p99).
    #[arg(long)]
    metric: Option<String>,
    /// How far above its low-load trend the metric must be to make a knee (default "10%").
    #[arg(long)]
    threshold: Option<String>,
    #[command(flatten)]
    shard: super::shard::ShardArgs,
    /// Write the sweep as JSON ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write sweep.csv (one row per point and metric) into this directory.
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
    /// Write a report directory: report.html (self-contained), the sweep's plots, results.json and sweep.csv.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[command(flatten)]
    settings: RunSettings,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `capsim merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// The shard files written by `capsim sweep --shard I/N --json FILE` or by
    /// `capsim run --shard I/N --out FILE`.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Write the merged sweep or run as JSON ("-" for stdout; a sweep's default).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a report directory for the merged sweep or run (report.html, plots, CSV).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Also write the CSV files into this directory (created if missing): sweep.csv for a
    /// sweep, summary.csv, timeseries.csv and cascade.csv for a run.
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
    /// Do not print a merged run's summary table.
    #[arg(long, short)]
    quiet: bool,
}

/// What to sweep, from the flags or the model's `sweeps`.
struct Plan {
    params: Vec<SweptParam>,
    scenario: Option<String>,
    metric: Option<String>,
    threshold: Option<String>,
}

fn plan(args: &SweepArgs, source: &ModelSource) -> Result<Plan, CliError> {
    let bad = |m: String| CliError::Argument(m);
    if !args.param.is_empty() || !args.values.is_empty() {
        if args.param.len() != args.values.len() {
            return Err(bad(format!(
                "--param and --values go in pairs: got {} --param and {} --values",
                args.param.len(),
                args.values.len()
            )));
        }
        let params = args
            .param
            .iter()
            .zip(&args.values)
            .map(|(path, values)| {
                parse_values_text(values)
                    .map(|values| SweptParam {
                        path: path.clone(),
                        values,
                    })
                    .map_err(|why| bad(format!("--values {values}: {why}")))
            })
            .collect::<Result<_, _>>()?;
        return Ok(Plan {
            params,
            scenario: args.scenario.clone(),
            metric: args.metric.clone(),
            threshold: args.threshold.clone(),
        });
    }
    let names = declared_names(source);
    let name = match (&args.sweep, names.first()) {
        (Some(name), _) => name.clone(),
        (None, Some(first)) => first.clone(),
        (None, None) => {
            return Err(bad(
                "give --param PATH --values VALUES, or declare \"sweeps\" in the model".into()
            ))
        }
    };
    let Some(declared) = declared(source, &name)? else {
        return Err(bad(format!(
            "--sweep: no sweep named \"{name}\" in the model (sweeps: {names:?})"
        )));
    };
    Ok(Plan {
        params: declared.params,
        scenario: args.scenario.clone().or(declared.scenario),
        metric: args.metric.clone().or(declared.metric),
        threshold: args.threshold.clone().or(declared.threshold),
    })
}

/// Run `capsim sweep`.
pub fn sweep(args: SweepArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    super::outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--csv", args.csv.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let source = overrides.load(&args.model)?;
    let plan = plan(&args, &source)?;
    let shard = args.shard.shard()?;
    if shard.is_some() && args.report.is_some() {
        return Err(CliError::Argument(
            "--report needs the whole sweep: run it without --shard".into(),
        ));
    }
    if shard.is_some() && args.json.is_none() {
        return Err(CliError::Argument(
            "--shard needs --json FILE: a shard's points are merged later with `capsim merge`".into(),
        ));
    }
    let threshold = match &plan.threshold {
        Some(t) => parse_bound(t, Unit::Share).map_err(|why| CliError::Argument(format!("threshold: {why}")))?,
        None => 0.1,
    };
    let sweep_plan = SweepPlan {
        params: plan.params,
        scenario: plan.scenario,
        metric: plan.metric,
        threshold,
    };
    let prepared = prepare(&source, &sweep_plan, shard, |spec| overrides.apply(spec))?;
    let total = prepared.total_points();
    let pool = super::threads::replication_pool(args.settings.threads, &prepared.models())?;
    // The bar covers the replications of every point this sweep (or its shard) runs.
    let models = prepared.models().into_iter().enumerate();
    let replications = models
        .filter(|(i, _)| shard.is_none_or(|s| s.owns(*i)))
        .map(|(_, m)| u64::from(m.replications))
        .sum();
    let run = {
        let progress = super::progress::Progress::over(replications, args.quiet);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT).watched(&hook);
        prepared.run(&runner, |point| {
            progress.now(&format!("point {}/{}: {}", point.index + 1, point.total, point.name));
            for w in point.warnings {
                progress.tell(&format!("warning: {w}"));
            }
        })?
    };
    let complete = run.complete();
    let json_to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(shard) = shard {
        let written = run.points.len();
        let file = run.into_shard_file();
        write(
            "--json",
            args.json.as_ref().expect("checked above"),
            &report::json::to_json(&file),
        )?;
        if !args.quiet && !json_to_stdout {
            print(&format!(
                "shard {}/{}: {} of {} points written\n",
                shard.index, shard.count, written, total
            ));
        }
    } else {
        let finished = run.finish();
        if !args.quiet && !json_to_stdout {
            show(&report::sweep::sweep_table(&finished));
            show(&report::sweep::ladder_table(&finished.header, &finished.points));
        }
        if let Some(path) = &args.json {
            write("--json", path, &report::json::to_json(&finished))?;
        }
        if let Some(dir) = &args.csv {
            super::write_dir(
                "--csv",
                dir,
                &[("sweep.csv".into(), report::csv::sweep_csv(&finished.header, &finished.points))],
            )?;
        }
        if let Some(dir) = &args.report {
            super::write_report("--report", dir, &report::html::ReportInput::Sweep(&finished), None)?;
        }
    }
    Ok(if complete { EXIT_OK } else { EXIT_STOPPED })
}

/// Run `capsim merge`.
pub fn merge_shards(args: MergeArgs) -> Result<i32, CliError> {
    super::outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--csv", args.csv.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let runs = args.shards.iter().filter(|p| run_shards::is_run_shard(p)).count();
    if runs == args.shards.len() {
        return merge_runs(&args);
    }
    if runs > 0 {
        return Err(CliError::Argument(
            "the files given mix shards of a run (capsim run --shard) with shards of a sweep: merge each set on its own".into(),
        ));
    }
    let merged = merge_files(&args.shards)?;
    let json = args.json.clone().unwrap_or_else(|| PathBuf::from("-"));
    write("--json", &json, &report::json::to_json(&merged))?;
    // Partial points (cut short in their shard) make a partial merge: said, and exit 3.
    let partial: Vec<String> = merged.partial_points.iter().map(usize::to_string).collect();
    let code = if partial.is_empty() {
        EXIT_OK
    } else {
        tell!(
            "stopped: the merged sweep is partial: points {} were cut short in their shards and are left out of the knee and first-breach verdicts",
            partial.join(", ")
        );
        EXIT_STOPPED
    };
    if let Some(dir) = &args.csv {
        super::write_dir(
            "--csv",
            dir,
            &[("sweep.csv".into(), report::csv::sweep_csv(&merged.header, &merged.points))],
        )?;
    }
    if let Some(dir) = &args.report {
        super::write_report("--report", dir, &report::html::ReportInput::Sweep(&merged), None)?;
    }
    Ok(code)
}

/// `capsim merge` of a run's shard files: the model, settings and scenarios come from their
/// header; the result is the run's, byte-identical to running it whole.
fn merge_runs(args: &MergeArgs) -> Result<i32, CliError> {
    let shards = run_shards::open_shards(&args.shards)?;
    let header = shards[0].header().clone();
    let written = crate::scenario::ModelSource::from_text(header.model_text.clone(), &header.file)?;
    let overrides = Overrides::from_given(&header.fingerprint.settings)?;
    let source = overrides.edit(&written)?;
    let plan = crate::workflow::scenarios::prepare(&source, &header.fingerprint.scenarios, |spec| overrides.apply(spec))?;
    for (i, _) in plan.runs().enumerate() {
        for w in plan.warnings_of(i) {
            tell!("warning: {w}");
        }
    }
    let report = run_shards::merge(&plan, shards)?;
    super::present_runs(
        report,
        &super::RunOutputs {
            json: args.json.clone(),
            csv: args.csv.clone(),
            report: args.report.clone(),
            quiet: args.quiet,
            topology: plan
                .models()
                .first()
                .map(|model| crate::report::topology::Topology::of(model)),
        },
    )
}
