//! `capsim metastability`: where the model tips over under each trigger, what it takes to bring
//! it back, and which loop keeps it down — for the baseline and each scenario.

use super::{show, write, CliError, Overrides, RunSettings, EXIT_OK, EXIT_STOPPED};
use crate::report;
use crate::workflow::metastability::{prepare, MapPlan};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `capsim metastability`.
#[derive(Args)]
pub struct MetastabilityArgs {
    /// The model file (JSON).
    model: PathBuf,
    /// The metric to watch (default: the model's metastability.metric), e.g. "search.utilisation".
    #[arg(long, value_name = "METRIC")]
    metric: Option<String>,
    /// Also map this scenario of the model (repeatable): how far its fix moves each boundary.
    #[arg(long, value_name = "NAME")]
    scenario: Vec<String>,
    /// Also map every scenario of the model.
    #[arg(long, conflicts_with = "scenario")]
    all_scenarios: bool,
    /// Replications a trigger size is judged with first (default 8).
    #[arg(long, value_name = "N")]
    first_replications: Option<u32>,
    /// Most replications a size is judged with while its verdict is uncertain (default: the
    /// model's metastability.max_replications, else 32).
    #[arg(long, value_name = "N")]
    max_replications: Option<u32>,
    /// Map the boundaries only: skip the recovery load and the loop analysis.
    #[arg(long)]
    boundaries_only: bool,
    /// Write the map as JSON ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a report directory: report.html (the boundaries, the fixes compared, recovery and
    /// loops), a plot of the probability of staying down per trigger as SVG and PNG,
    /// results.json and metastability.csv (every size tried).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[command(flatten)]
    settings: RunSettings,
    /// Do not print the map or progress.
    #[arg(long, short)]
    quiet: bool,
}

/// Run `capsim metastability`: exit 0 with a complete map, 3 when interrupted (the map is
/// partial and says so).
pub fn metastability(args: MetastabilityArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    super::outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    for (flag, n) in [
        ("--first-replications", args.first_replications),
        ("--max-replications", args.max_replications),
    ] {
        if n == Some(0) {
            return Err(CliError::Argument(format!("{flag}: expected a positive integer, got 0")));
        }
    }
    if args.settings.replications.is_some() {
        return Err(CliError::Argument(
            "--replications: the map chooses the replications of each trigger size: give --first-replications and --max-replications".into(),
        ));
    }
    let source = overrides.load(&args.model)?;
    let scenarios = if args.all_scenarios {
        source.scenario_names()
    } else {
        args.scenario.clone()
    };
    let plan = MapPlan {
        metric: args.metric.clone(),
        triggers: None,
        scenarios,
        first_replications: args.first_replications,
        max_replications: args.max_replications,
        boundaries_only: args.boundaries_only,
    };
    let prepared = prepare(&source, &plan, |spec| overrides.apply(spec))?;
    let baseline = source.baseline(|spec| overrides.apply(spec))?;
    let pool = super::threads::replication_pool(args.settings.threads, &[&baseline.model])?;
    let json_to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let talk = !args.quiet && !json_to_stdout;
    let map = {
        let progress = super::progress::Progress::growing(!talk);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT).watched(&hook);
        prepared.run(&runner, |trying| {
            progress.now(&format!(
                "{}: {} ({} replications)",
                trying.run, trying.what, trying.replications
            ));
        })
    };
    if talk {
        show(&report::metastability::map_text(&map));
    }
    if let Some(path) = &args.json {
        write("--json", path, &report::json::to_json(&map))?;
    }
    if let Some(dir) = &args.report {
        super::write_report("--report", dir, &report::html::ReportInput::Metastability(&map), None)?;
    }
    Ok(if map.stopped.is_some() { EXIT_STOPPED } else { EXIT_OK })
}
