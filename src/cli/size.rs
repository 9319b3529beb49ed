//! `capsim size`: the cheapest configuration of the model's capacity knobs that meets every SLO
//! under the baseline and every listed scenario.

use super::{show, write, CliError, Overrides, RunSettings, EXIT_OK, EXIT_STOPPED};
use crate::analysis::size::SizingStatus;
use crate::model::units::parse_duration;
use crate::report;
use crate::scenario::sweep::parse_values_text;
use crate::workflow::exchange::Exchange;
use crate::workflow::size::{declared, prepare, KnobPlan, SizingPlan};
use clap::Args;
use std::path::PathBuf;

/// Exit code of `capsim size` when no configuration in range is known to meet every SLO.
pub const EXIT_NOT_SIZED: i32 = 1;

/// Arguments of `capsim size`.
#[derive(Args)]
pub struct SizeArgs {
    /// The model file (JSON).
    model: PathBuf,
    /// A knob to size and its values, "PATH=VALUES": "services.api.instances=1..40",
    /// "databases.pg.cores=4,8,16,32" (repeatable; replaces the model's knobs).
    #[arg(long, value_name = "PATH=VALUES")]
    knob: Vec<String>,
    /// The cost of one unit of a knob per hour, "PATH=COST": "services.api.instances=0.17"
    /// (repeatable; overrides the model's).
    #[arg(long, value_name = "PATH=COST")]
    cost: Vec<String>,
    /// A scenario the answer must also survive (repeatable; replaces the model's list).
    #[arg(long, value_name = "NAME")]
    scenario: Vec<String>,
    /// The currency costs are in (shown only).
    #[arg(long)]
    currency: Option<String>,
    /// Replications a candidate is first judged with (default 5, or the model's when fewer).
    #[arg(long, value_name = "N")]
    screen_replications: Option<u32>,
    /// Most replications for a verdict the CI leaves uncertain when confirming (default: 4 × the model's).
    #[arg(long, value_name = "N")]
    max_replications: Option<u32>,
    /// Screen every configuration of the grid instead of searching (to check the search, or when
    /// latency may not be monotone in a knob); the answer is confirmed as usual.
    #[arg(long)]
    exhaustive: bool,
    /// Write the answer as JSON ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a report directory: report.html (the answer, what binds it, the cost/SLO frontier),
    /// the plot as SVG and PNG, results.json and sizing.csv (every configuration judged).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[command(flatten)]
    settings: RunSettings,
    #[command(flatten)]
    shard: super::shard::ShardArgs,
    /// With --shard: the directory every shard shares (a network file system), where each
    /// publishes its part of every evaluation and reads the others'. Evaluations found there are
    /// not run again.
    #[arg(long, value_name = "DIR", requires = "shard")]
    exchange: Option<PathBuf>,
    /// With --shard: how long a shard waits for the others' part of one evaluation before it
    /// stops (default "1h").
    #[arg(long, value_name = "DURATION", requires = "shard")]
    exchange_wait: Option<String>,
    /// Do not print the answer or progress.
    #[arg(long, short)]
    quiet: bool,
}

/// "PATH=TEXT" split at its last "=" (paths hold no "=").
fn split_assignment<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str), CliError> {
    text.rsplit_once('=')
        .filter(|(path, value)| !path.trim().is_empty() && !value.trim().is_empty())
        .map(|(path, value)| (path.trim(), value.trim()))
        .ok_or_else(|| CliError::Argument(format!("{flag}: expected PATH=VALUE, got \"{text}\"")))
}

/// What to size: the model's `sizing` section with the flags laid over it.
fn plan(args: &SizeArgs, source: &crate::scenario::ModelSource) -> Result<SizingPlan, CliError> {
    let mut plan = declared(source)?.unwrap_or_default();
    if !args.knob.is_empty() {
        plan.knobs = args
            .knob
            .iter()
            .map(|text| {
                let (path, values) = split_assignment("--knob", text)?;
                let values = parse_values_text(values).map_err(|why| CliError::Argument(format!("--knob {text}: {why}")))?;
                Ok(KnobPlan {
                    path: path.to_string(),
                    values,
                    cost_per_hour: 0.0,
                    origin: "--knob".into(),
                })
            })
            .collect::<Result<_, CliError>>()?;
    }
    for text in &args.cost {
        let (path, value) = split_assignment("--cost", text)?;
        let cost: f64 = value
            .parse()
            .ok()
            .filter(|c: &f64| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| CliError::Argument(format!("--cost {text}: expected a number of at least 0, got \"{value}\"")))?;
        let known: Vec<String> = plan.knobs.iter().map(|k| k.path.clone()).collect();
        let knob = plan
            .knobs
            .iter_mut()
            .find(|k| k.path == path)
            .ok_or_else(|| CliError::Argument(format!("--cost {text}: no knob \"{path}\" (knobs: {})", known.join(", "))))?;
        knob.cost_per_hour = cost;
    }
    if !args.scenario.is_empty() {
        plan.scenarios = args.scenario.clone();
    }
    if let Some(currency) = &args.currency {
        plan.currency = currency.clone();
    }
    for (flag, n) in [
        ("--screen-replications", args.screen_replications),
        ("--max-replications", args.max_replications),
    ] {
        if n == Some(0) {
            return Err(CliError::Argument(format!("{flag}: expected a positive integer, got 0")));
        }
    }
    plan.screen_replications = args.screen_replications.or(plan.screen_replications);
    plan.max_replications = args.max_replications.or(plan.max_replications);
    plan.exhaustive = args.exhaustive;
    Ok(plan)
}

/// Where the shards of a sharded sizing meet, if it is one.
fn exchange(args: &SizeArgs, overrides: &Overrides) -> Result<Option<Exchange>, CliError> {
    let Some(shard) = args.shard.shard()? else {
        return Ok(None);
    };
    let dir = args
        .exchange
        .clone()
        .ok_or_else(|| CliError::Argument("--shard needs --exchange DIR: a directory every shard of the sizing shares".into()))?;
    let patience = match &args.exchange_wait {
        Some(text) => {
            parse_duration(text).map_err(|why| CliError::Argument(format!("--exchange-wait: {why}, got \"{text}\"")))?
        }
        None => 3_600_000_000_000,
    };
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Output {
        flag: "--exchange",
        path: dir.display().to_string(),
        source,
    })?;
    Ok(Some(Exchange {
        dir,
        shard,
        patience: std::time::Duration::from_nanos(patience),
        settings: overrides.given(),
    }))
}

/// Run `capsim size`: exit 0 with an answer, 1 when no configuration in range is known to meet
/// every SLO (infeasible or uncertain), 3 when interrupted.
pub fn size(args: SizeArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    super::outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let exchange = exchange(&args, &overrides)?;
    let source = overrides.load(&args.model)?;
    let plan = plan(&args, &source)?;
    let prepared = prepare(&source, &plan, |spec| overrides.apply(spec))?;
    let baseline = source.baseline(|spec| overrides.apply(spec))?;
    let pool = super::threads::replication_pool(args.settings.threads, &[&baseline.model])?;
    let json_to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let talk = !args.quiet && !json_to_stdout;
    let sizing = {
        let progress = super::progress::Progress::growing(!talk);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &super::INTERRUPT).watched(&hook);
        let mut last = (Vec::new(), 0);
        prepared.run(&runner, exchange.as_ref(), |trying| {
            if (trying.values, trying.replications) != (last.0.as_slice(), last.1) {
                progress.now(&format!(
                    "trying {} ({} replications)",
                    prepared
                        .knobs()
                        .iter()
                        .zip(trying.values)
                        .map(|(k, v)| format!("{}={v}", k.path))
                        .collect::<Vec<_>>()
                        .join(", "),
                    trying.replications
                ));
                last = (trying.values.to_vec(), trying.replications);
            }
        })
    };
    if talk {
        show(&report::size::sizing_text(&sizing));
    }
    if let Some(path) = &args.json {
        write("--json", path, &report::json::to_json(&sizing))?;
    }
    if let Some(dir) = &args.report {
        super::write_report("--report", dir, &report::html::ReportInput::Sizing(&sizing), None)?;
    }
    Ok(match sizing.status {
        SizingStatus::Sized => EXIT_OK,
        SizingStatus::Infeasible | SizingStatus::Uncertain => EXIT_NOT_SIZED,
        SizingStatus::Stopped => EXIT_STOPPED,
    })
}
