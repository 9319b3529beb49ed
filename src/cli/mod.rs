//! The command line: clap commands that wire model loading, running and reporting together.
//! No simulation logic lives here.
//!
//! Exit codes: 0 success, 1 an expectation failed (`capsim check`), 2 bad input (the model or the arguments), 3 the run stopped at a
//! bound (an unstable model or the event budget) and its results are partial.

use crate::model::spec::ModelSpec;
use crate::model::units::parse_duration;
use crate::model::values::{DurationValue, PositiveInt};
use crate::model::ModelError;
use crate::report;
use crate::scenario::ModelSource;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Like `eprintln!`, but a standard error that cannot be written (a closed pipe) is no panic:
/// the line is lost and the command goes on to its exit code.
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod calibrate;
pub mod check;
mod colour;
mod init;
mod latency_table;
mod metastability;
mod outputs;
mod progress;
mod shard;
mod size;
mod sweep;
mod threads;
use std::path::PathBuf;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad input (model file, arguments, output paths).
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code: the run stopped at a bound; results are partial.
pub const EXIT_STOPPED: i32 = 3;

#[derive(Parser)]
#[command(
    name = "capsim",
    version,
    about = "Discrete-event capacity simulator: predict latency, saturation and failures of a system described in JSON",
    after_help = "Examples:\n  capsim run models/quickstart.json\n  capsim run models/quickstart.json --replications 20 --seed 3 --json results.json --csv out/\n  capsim validate models/quickstart.json\n  capsim schema > capsim.schema.json\n\nExit codes: 0 ok, 1 an expectation failed (check), 2 bad input, 3 the run stopped at a bound (unstable model or event budget)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a model and print a summary with 95 % confidence intervals.
    #[command(
        after_help = "Examples:\n  capsim run models/quickstart.json\n  capsim run models/mm1.json --replications 30 --duration 2h\n  capsim run model.json --json - --quiet | jq '.services[0].utilisation'\n  capsim run model.json --shard 2/4 --out part-2.shard   # then: capsim merge part-*.shard --json results.json\n  capsim run model.json --shard auto --out part-$SLURM_ARRAY_TASK_ID.shard   # in a Slurm job array"
    )]
    Run(RunArgs),
    /// Run a model over a grid of parameter values and find where it breaks (the knee, the
    /// first SLO breach).
    #[command(
        after_help = "Examples:\n  capsim sweep models/quickstart.json --param 'links.api -> pg.latency.add' --values 0ms..10ms/1ms\n  capsim sweep models/mm1.json --param clients.arrivals.open.rate --values 10/s..90/s/10/s --metric server.serve.mean\n  capsim sweep model.json --shard 1/4 --json part1.json   # then: capsim merge part*.json --json sweep.json"
    )]
    Sweep(sweep::SweepArgs),
    /// Find the cheapest values of the model's capacity knobs that meet every SLO under the
    /// baseline and every listed scenario (exit 1 when none in range does).
    #[command(
        after_help = "Examples:\n  capsim size models/quickstart.json\n  capsim size model.json --knob services.api.instances=1..40 --cost services.api.instances=0.17 --scenario traffic-150\n  capsim size model.json --json sizing.json --quiet\n\nThe model's \"sizing\" section names the knobs (a path, its values, the cost of one unit per hour) and the scenarios; the flags replace or extend it. More of a knob must mean more capacity: the search bisects each knob and confirms the answer and its one-step-cheaper neighbours with the full replications.\n\nExit codes: 0 sized, 1 no configuration in range is known to meet every SLO (infeasible or uncertain), 2 bad input, 3 interrupted."
    )]
    Size(size::SizeArgs),
    /// Map where the model tips over into a failure it does not come back from: for each trigger
    /// (load spike, added latency, slowdown, cores taken, instances down) the smallest size that
    /// leaves it down in at least half of the replications, what load brings it back, which
    /// loop keeps it down — for the baseline and each scenario.
    #[command(
        after_help = "Examples:\n  capsim metastability models/retry-stampede.json --all-scenarios\n  capsim metastability model.json --metric api.p99 --json map.json --report map/\n\nThe model's \"metastability\" section names the metric watched and may list the triggers (\"triggers\": {\"spike\": {\"spike\": {}, \"size\": [1.5, 10], \"for\": [\"30s\", \"5m\"]}}); without a list, one family per kind of component is explored. The model's own timed actions are replaced by each trigger.\n\nExit codes: 0 mapped, 2 bad input, 3 interrupted (the map is partial and says so)."
    )]
    Metastability(metastability::MetastabilityArgs),
    /// Put the shard files of a sweep or a run back together (byte-identical to running it whole).
    #[command(
        after_help = "Examples:\n  capsim merge part-*.json --json sweep.json --report sweep-report/\n  capsim merge part-*.shard --json results.json --csv out/"
    )]
    Merge(sweep::MergeArgs),
    /// Run the expectations written in a model ("expect"): exit 0 when all hold, 1 when one fails.
    #[command(
        after_help = "Examples:\n  capsim check models/quickstart.json\n  capsim check model.json --junit capsim-junit.xml"
    )]
    Check(check::CheckArgs),
    /// Check a model without running it: errors name the JSON path; warnings flag overload.
    #[command(
        after_help = "Examples:\n  capsim validate models/quickstart.json\n  for m in models/*.json; do capsim validate \"$m\" || exit 2; done"
    )]
    Validate {
        /// The model file (JSON).
        model: PathBuf,
    },
    /// Print the JSON Schema of the model format.
    #[command(after_help = "Examples:\n  capsim schema > capsim.schema.json   # point your editor's JSON language server at it")]
    Schema,
    /// The spreadsheet: each workload's duration with latency added to every query
    /// (measured + queries × added), exactly; the no-contention baseline.
    #[command(
        after_help = "Examples:\n  capsim latency-table models/workloads.csv --added 5ms,10ms\n  capsim latency-table workloads.csv --added 1ms,2ms,5ms --csv table.csv --json table.json\n\nThe CSV has a header with the columns name,queries,duration (durations with a unit: \"150ms\", \"2810s\"); other columns are ignored."
    )]
    LatencyTable(latency_table::LatencyTableArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  capsim completions bash > /etc/bash_completion.d/capsim\n  capsim completions zsh > \"${fpath[1]}/_capsim\""
    )]
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, capsim(1), in roff; with --dir, write it and one page per command
    /// (capsim-run.1, …) into a directory.
    #[command(
        after_help = "Examples:\n  capsim manpage > capsim.1 && man ./capsim.1\n  capsim manpage --dir /usr/local/share/man/man1"
    )]
    Manpage {
        /// Write capsim.1 and capsim-COMMAND.1 into this directory (created if missing).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write a starting model from measured workloads (a CSV of name,queries,duration): without
    /// contention it reproduces the measured durations.
    #[command(
        after_help = "Examples:\n  capsim init --from models/workloads.csv --out payments.json\n  capsim init --from workloads.csv --latency 0.3ms --rate 20/s --out - | jq .services"
    )]
    Init(init::InitArgs),
    /// Replay a model at the rates traces measured and compare each endpoint's latency (mean, p50,
    /// p90, p99) and throughput with the traces': how well does the model match production?
    #[command(
        after_help = "Examples:\n  capsim init --from-traces traces.jsonl.gz --out shop.json && capsim calibrate shop.json --traces traces.jsonl.gz\n  capsim calibrate model.json --traces day1.jsonl.gz day2.jsonl.gz --max-error 5% --json fit.json\n\nA statistic FITS when its relative error, with the simulation's confidence interval and the traces' interval of each percentile, stays within --max-error; MISFIT when it is outside; UNCERTAIN otherwise.\n\nExit codes: 0 fits, 1 misfit or uncertain, 2 bad input, 3 the replay stopped early."
    )]
    Calibrate(calibrate::CalibrateArgs),
}

#[derive(Args)]
struct RunArgs {
    /// The model file (JSON).
    model: PathBuf,
    #[command(flatten)]
    settings: RunSettings,
    /// Write the full results as JSON to this file ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write summary.csv, timeseries.csv and cascade.csv into this directory (created if
    /// missing); with scenarios also summary-N-NAME.csv, timeseries-N-NAME.csv and
    /// cascade-N-NAME.csv for each.
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
    /// Write a report directory: report.html (self-contained), plots as SVG and PNG, results.json and CSV.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Also run this scenario of the model and compare it with the baseline (repeatable;
    /// "a,b" applies a and b together).
    #[arg(long, value_name = "NAME")]
    scenario: Vec<String>,
    /// Also run every scenario of the model, each compared with the baseline.
    #[arg(long, conflicts_with = "scenario")]
    all_scenarios: bool,
    /// Do not print the summary table.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    shard: shard::ShardArgs,
    /// With --shard: write this shard's replications to FILE, for `capsim merge`.
    #[arg(long, value_name = "FILE", requires = "shard")]
    out: Option<PathBuf>,
}

/// Run settings shared by the commands that simulate, overriding the model's.
#[derive(Args, Clone, Default)]
pub struct RunSettings {
    /// Seed of every random stream (overrides the model's).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of independent replications (overrides the model's).
    #[arg(long)]
    replications: Option<u32>,
    /// Simulated time per replication, e.g. "2h" (overrides the model's).
    #[arg(long)]
    duration: Option<String>,
    /// Warm-up excluded from statistics, e.g. "5m" (overrides the model's).
    #[arg(long)]
    warmup: Option<String>,
    /// Worker threads for replications (default: all cores); results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Most events one replication may handle (overrides the model's limits.max_events); a run
    /// that reaches it stops with partial results and exit code 3.
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Most memory a run may need, e.g. "8GB" (overrides the model's limits.max_memory, default
    /// 2 GB): a run estimated to need more is refused before it starts (exit 2).
    #[arg(long, value_name = "BYTES")]
    max_memory: Option<String>,
    /// Stop simulating after this much real time, e.g. "30s": the results cover what was
    /// simulated, are marked incomplete, and the exit code is 3.
    #[arg(long, value_name = "DURATION")]
    max_wall: Option<String>,
    /// Change the model before anything runs, as a scenario's "set" would (repeatable):
    /// "services.api.instances=8", "links.api -> pg.latency.add=5ms",
    /// "clients.web.open.rate.scale=1.5". The value is read as JSON when it is JSON (8, true,
    /// [1,2]), else as text ("5ms", "exp(10ms)").
    #[arg(long, value_name = "PATH=VALUE")]
    set: Vec<String>,
}

/// A failure the command line reports, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The model could not be loaded.
    #[error("{0}")]
    Model(#[from] ModelError),
    /// A command-line value is wrong.
    #[error("{0}")]
    Argument(String),
    /// An output could not be written.
    #[error("{flag} {path}: cannot write it: {source}")]
    Output {
        /// The option that named it (`--json`, `--report`…).
        flag: &'static str,
        /// The output path.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
}

impl From<crate::workflow::WorkflowError> for CliError {
    fn from(e: crate::workflow::WorkflowError) -> CliError {
        match e {
            crate::workflow::WorkflowError::Model(m) => CliError::Model(m),
            crate::workflow::WorkflowError::Input(why) => CliError::Argument(why),
        }
    }
}

/// Raised by Ctrl-C / SIGTERM or by `--max-wall`: every run stops at its next check and keeps
/// what it simulated.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// On the first Ctrl-C (or SIGTERM), ask the runs to stop and keep their results; on the second,
/// exit at once. Outputs are written atomically, so no truncated file is left either way.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPT.swap(true, Ordering::SeqCst) {
            tell!("interrupted again: exiting without results");
            std::process::exit(130);
        }
        tell!("interrupted: stopping the runs and keeping what was simulated (Ctrl-C again to quit now)");
    });
}

/// Raise the interrupt flag after `limit` of real time.
fn arm_wall_clock_limit(limit: std::time::Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        if !INTERRUPT.swap(true, Ordering::SeqCst) {
            tell!("--max-wall reached: stopping the runs and keeping what was simulated");
        }
    });
}

/// Parse the process arguments, run the command, and return the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    install_interrupt_handler();
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            tell!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// Print to stdout; a closed pipe (`capsim run … | head`) is not an error.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Print a report to stdout: [`print`], its verdicts in colour on a terminal (see [`colour`]).
pub(crate) fn show(report: &str) {
    if colour::on_stdout() {
        print(&colour::paint(report));
    } else {
        print(report);
    }
}

fn execute(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Schema => {
            print(&format!(
                "{}\n",
                serde_json::to_string_pretty(&crate::model::schema::model_schema()).unwrap_or_default()
            ));
            Ok(EXIT_OK)
        }
        Command::Validate { model } => {
            let source = load(&model)?;
            let validated = source.baseline(|_| {})?;
            for name in source.scenario_names() {
                source.variant_model(&source.scenario_variant(&name)?, |_| {})?;
            }
            check::validate_expectations(&source)?;
            if let Some(plan) = crate::workflow::size::declared(&source)? {
                crate::workflow::size::prepare(&source, &plan, |_| {})?;
            }
            if source.json().get("metastability").and_then(|m| m.get("triggers")).is_some() {
                let plan = crate::workflow::metastability::MapPlan::default();
                crate::workflow::metastability::prepare(&source, &plan, |_| {})?;
            }
            let m = &validated.model;
            print(&format!(
                "ok: {} — {} clients, {} services ({} endpoints), {} databases, {} pools\n",
                m.name,
                m.clients.len(),
                m.services.len(),
                m.endpoints.len(),
                m.databases.len(),
                m.pools.len()
            ));
            for w in &validated.warnings {
                tell!("warning: {w}");
            }
            Ok(EXIT_OK)
        }
        Command::Run(args) => run(args),
        Command::Check(args) => check::check_command(&args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge_shards(args),
        Command::Size(args) => size::size(args),
        Command::Metastability(args) => metastability::metastability(args),
        Command::LatencyTable(args) => latency_table::latency_table(&args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "capsim", &mut script);
            print(&String::from_utf8_lossy(&script));
            Ok(EXIT_OK)
        }
        Command::Manpage { dir: Some(dir) } => {
            let failed = |source| CliError::Output {
                flag: "--dir",
                path: dir.display().to_string(),
                source,
            };
            std::fs::create_dir_all(&dir).map_err(failed)?;
            clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), &dir).map_err(failed)?;
            Ok(EXIT_OK)
        }
        Command::Manpage { dir: None } => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|source| CliError::Output {
                    flag: "manpage",
                    path: "-".into(),
                    source,
                })?;
            print(&String::from_utf8_lossy(&page));
            Ok(EXIT_OK)
        }
        Command::Init(args) => init::init(&args),
        Command::Calibrate(args) => calibrate::calibrate(args),
    }
}

/// Model settings given on the command line, applied to every run (baseline and scenarios).
#[derive(Clone, Default)]
pub struct Overrides {
    duration: Option<DurationValue>,
    warmup: Option<DurationValue>,
    seed: Option<u64>,
    replications: Option<PositiveInt>,
    max_events: Option<u64>,
    max_memory: Option<crate::model::values::ByteSize>,
    /// The changes of --set, in order.
    sets: Vec<crate::scenario::Change>,
    /// The settings above as given on the command line, for a shard file's header.
    given: serde_json::Value,
}

impl Overrides {
    /// Check the flags' values.
    pub fn from_settings(args: &RunSettings) -> Result<Overrides, CliError> {
        let duration = |flag: &str, text: &Option<String>| -> Result<Option<DurationValue>, CliError> {
            text.as_deref()
                .map(|t| {
                    parse_duration(t)
                        .map(DurationValue)
                        .map_err(|why| CliError::Argument(format!("--{flag}: {why}, got \"{t}\"")))
                })
                .transpose()
        };
        if let Some(text) = &args.max_wall {
            let ns = parse_duration(text).map_err(|why| CliError::Argument(format!("--max-wall: {why}, got \"{text}\"")))?;
            arm_wall_clock_limit(std::time::Duration::from_nanos(ns));
        }
        if args.threads == Some(0) {
            return Err(CliError::Argument("--threads: expected a positive integer, got 0".into()));
        }
        if args.replications == Some(0) {
            return Err(CliError::Argument(
                "--replications: expected a positive integer, got 0".into(),
            ));
        }
        let mut given = serde_json::Map::new();
        let mut put = |key: &str, value: serde_json::Value| {
            if !value.is_null() {
                given.insert(key.to_string(), value);
            }
        };
        put("seed", serde_json::json!(args.seed));
        put("replications", serde_json::json!(args.replications));
        put("duration", serde_json::json!(args.duration));
        put("warmup", serde_json::json!(args.warmup));
        put("max_events", serde_json::json!(args.max_events));
        put("max_memory", serde_json::json!(args.max_memory));
        if !args.set.is_empty() {
            put("set", serde_json::json!(args.set));
        }
        let sets = args
            .set
            .iter()
            .map(|text| {
                let (path, value) = text
                    .split_once('=')
                    .map(|(p, v)| (p.trim(), v.trim()))
                    .filter(|(p, v)| !p.is_empty() && !v.is_empty())
                    .ok_or_else(|| CliError::Argument(format!("--set: expected PATH=VALUE, got \"{text}\"")))?;
                Ok(crate::scenario::Change {
                    path: path.to_string(),
                    value: serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string())),
                    origin: "--set".into(),
                })
            })
            .collect::<Result<_, CliError>>()?;
        Ok(Overrides {
            sets,
            given: serde_json::Value::Object(given),
            duration: duration("duration", &args.duration)?,
            warmup: duration("warmup", &args.warmup)?,
            seed: args.seed,
            replications: args.replications.map(PositiveInt),
            max_events: args.max_events,
            max_memory: args
                .max_memory
                .as_deref()
                .map(|t| {
                    crate::model::units::parse_bytes(t)
                        .map(crate::model::values::ByteSize)
                        .map_err(|why| CliError::Argument(format!("--max-memory: {why}, got \"{t}\"")))
                })
                .transpose()?,
        })
    }

    /// The settings that change results, as given ({"seed": 3, "duration": "2h"}), for a shard
    /// file's header (threads and --max-wall are left out: results do not depend on them).
    pub fn given(&self) -> serde_json::Value {
        self.given.clone()
    }

    /// The overrides of [`Overrides::given`], read back (from a shard file's header).
    pub fn from_given(given: &serde_json::Value) -> Result<Overrides, CliError> {
        let text = |key: &str| given.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let settings = RunSettings {
            seed: given.get("seed").and_then(|v| v.as_u64()),
            replications: given.get("replications").and_then(|v| v.as_u64()).map(|r| r as u32),
            duration: text("duration"),
            warmup: text("warmup"),
            max_events: given.get("max_events").and_then(|v| v.as_u64()),
            max_memory: text("max_memory"),
            set: given
                .get("set")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            ..RunSettings::default()
        };
        Overrides::from_settings(&settings)
    }

    /// The model of `source` with the changes of --set made (itself when there are none).
    pub fn edit(&self, source: &ModelSource) -> Result<ModelSource, CliError> {
        Ok(source.with_changes(&self.sets)?)
    }

    /// Read the model file at `path` and make the changes of --set.
    pub fn load(&self, path: &std::path::Path) -> Result<ModelSource, CliError> {
        self.edit(&load(path)?)
    }

    /// Apply to a parsed model.
    pub fn apply(&self, spec: &mut ModelSpec) {
        if let Some(d) = self.duration {
            spec.duration = Some(d);
        }
        if let Some(w) = self.warmup {
            spec.warmup = Some(w);
        }
        if let Some(seed) = self.seed {
            spec.seed = Some(seed);
        }
        if let Some(r) = self.replications {
            spec.replications = Some(r);
        }
        if let Some(n) = self.max_events {
            spec.limits.max_events = Some(n);
        }
        if let Some(bytes) = self.max_memory {
            spec.limits.max_memory = Some(bytes);
        }
    }
}

pub(crate) fn load(path: &std::path::Path) -> Result<ModelSource, CliError> {
    Ok(ModelSource::read(&path.display().to_string())?)
}

fn run(args: RunArgs) -> Result<i32, CliError> {
    let overrides = Overrides::from_settings(&args.settings)?;
    let shard = args.shard.shard()?;
    if let Some(shard) = shard {
        return run_shard(&args, &overrides, shard);
    }
    outputs::Outputs::default()
        .file("--json", args.json.as_ref())
        .dir("--csv", args.csv.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let source = overrides.load(&args.model)?;
    let names = scenario_names(&args, &source)?;
    let plan = crate::workflow::scenarios::prepare(&source, &names, |spec| overrides.apply(spec))?;
    let pool = threads::replication_pool(args.settings.threads, &plan.models())?;
    let report = {
        let replications = plan.models().iter().map(|m| u64::from(m.replications)).sum();
        let progress = progress::Progress::over(replications, args.quiet);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &INTERRUPT).watched(&hook);
        plan.run(&runner, |name, warnings| {
            progress.message(name.unwrap_or("baseline"));
            for w in warnings {
                progress.tell(&format!("warning: {w}"));
            }
        })
    };
    let shown = RunOutputs {
        json: args.json.clone(),
        csv: args.csv.clone(),
        report: args.report.clone(),
        quiet: args.quiet,
        topology: plan
            .models()
            .first()
            .map(|model| crate::report::topology::Topology::of(model)),
    };
    present_runs(report, &shown)
}

/// The scenarios `capsim run` was asked for (every one with --all-scenarios).
fn scenario_names(args: &RunArgs, source: &ModelSource) -> Result<Vec<String>, CliError> {
    if !args.all_scenarios {
        return Ok(args.scenario.clone());
    }
    let names = source.scenario_names();
    if names.is_empty() {
        tell!(
            "note: {} declares no scenarios: --all-scenarios runs the model as written only",
            source.file
        );
    }
    Ok(names)
}

/// `capsim run --shard I/N --out FILE`: this shard's slice of every run's replications, written
/// for `capsim merge`; exit 3 when one was cut short.
fn run_shard(args: &RunArgs, overrides: &Overrides, shard: crate::scenario::shard::Shard) -> Result<i32, CliError> {
    let Some(out) = &args.out else {
        return Err(CliError::Argument(
            "--shard needs --out FILE: a shard's replications are merged later with `capsim merge`".into(),
        ));
    };
    if args.json.is_some() || args.csv.is_some() || args.report.is_some() {
        return Err(CliError::Argument(
            "--json, --csv and --report need the whole run: give them to `capsim merge` of the shards".into(),
        ));
    }
    if out.as_os_str() == "-" {
        return Err(CliError::Argument(
            "--out: a shard file is binary: name a file, not \"-\"".into(),
        ));
    }
    outputs::Outputs::default().file("--out", Some(out)).check()?;
    // The header carries the model as written and the --set changes, made again by the merge.
    let written = load(&args.model)?;
    let source = overrides.edit(&written)?;
    let names = scenario_names(args, &source)?;
    let plan = crate::workflow::scenarios::prepare(&source, &names, |spec| overrides.apply(spec))?;
    let header = crate::workflow::run_shards::RunShardHeader::new(&written, &plan, overrides.given(), &names, shard);
    let pool = threads::replication_pool(args.settings.threads, &plan.models())?;
    let failed = |source: std::io::Error| CliError::Output {
        flag: "--out",
        path: out.display().to_string(),
        source,
    };
    let complete = {
        let progress = progress::Progress::over(u64::from(header.replications()), args.quiet);
        let hook = progress.hook();
        let runner = crate::workflow::Runner::on(&pool, &INTERRUPT).watched(&hook);
        crate::workflow::run_shards::write_whole(out, |file| {
            crate::workflow::run_shards::write_shard(&plan, &header, &runner, file, |name, warnings| {
                progress.now(&format!(
                    "{}: replications of shard {}",
                    name.unwrap_or("baseline"),
                    shard.label()
                ));
                for w in warnings {
                    progress.tell(&format!("warning: {w}"));
                }
            })
        })
        .map_err(failed)?
    };
    if !args.quiet {
        let runs = header.runs.len();
        print(&format!(
            "shard {}: {} replications ({} of {} per run, {} run{}) written to {}\n",
            shard.label(),
            header.replications(),
            header.runs[0].end - header.runs[0].first,
            header.runs[0].replications,
            runs,
            if runs == 1 { "" } else { "s" },
            out.display()
        ));
    }
    if !complete {
        tell!(
            "stopped: replications of shard {} were cut short; the merged run will say so",
            shard.label()
        );
        return Ok(EXIT_STOPPED);
    }
    Ok(EXIT_OK)
}

/// Where a run's results go.
pub(crate) struct RunOutputs {
    pub json: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub quiet: bool,
    /// The baseline model's diagram, for the report's answer.
    pub topology: Option<report::topology::Topology>,
}

/// Print and write the results of a run (the baseline and any scenarios, each compared with
/// it): the exit code is 3 when any run is partial.
pub(crate) fn present_runs(report: crate::analysis::compare::ScenarioReport, to: &RunOutputs) -> Result<i32, CliError> {
    let result = report.baseline.clone();
    let json_to_stdout = to.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let complete = result.verdict.complete && report.scenarios.iter().all(|s| s.result.verdict.complete);
    // Each run's CSV files: the baseline's, then each scenario's (named like its report files).
    let mut csv_runs: Vec<(String, crate::results::RunResult)> = Vec::new();
    if report.scenarios.is_empty() {
        if !to.quiet && !json_to_stdout {
            show(&report::headline::text(&[report::headline::of_run(
                &result.model.name,
                &result,
            )]));
            show(&report::table::summary(&result));
        }
        if let Some(path) = &to.json {
            write("--json", path, &report::json::to_json(&result))?;
        }
        if let Some(dir) = &to.report {
            write_report(
                "--report",
                dir,
                &report::html::ReportInput::Run(&result),
                to.topology.as_ref(),
            )?;
        }
    } else {
        if !to.quiet && !json_to_stdout {
            show(&report::headline::text(&report::headline::of_runs(&report)));
            show(&report::table::summary(&result));
            show(&report::compare::comparison(&report));
        }
        if let Some(path) = &to.json {
            write("--json", path, &report::json::to_json(&report))?;
        }
        if let Some(dir) = &to.report {
            write_report(
                "--report",
                dir,
                &report::html::ReportInput::Scenarios(&report),
                to.topology.as_ref(),
            )?;
        }
        if to.csv.is_some() {
            csv_runs = report
                .scenarios
                .into_iter()
                .enumerate()
                .map(|(i, run)| (report::html::scenario_figure("", i, &run.name), run.result))
                .collect();
        }
    }
    if let Some(dir) = &to.csv {
        let mut files = vec![
            ("summary.csv".to_string(), report::csv::summary_csv(&result)),
            ("timeseries.csv".to_string(), report::csv::timeseries_csv(&result)),
            ("cascade.csv".to_string(), report::csv::cascade_csv(&result)),
        ];
        for (suffix, run) in &csv_runs {
            files.push((format!("summary{suffix}.csv"), report::csv::summary_csv(run)));
            files.push((format!("timeseries{suffix}.csv"), report::csv::timeseries_csv(run)));
            files.push((format!("cascade{suffix}.csv"), report::csv::cascade_csv(run)));
        }
        write_dir("--csv", dir, &files)?;
    }
    if !complete {
        for msg in &result.verdict.messages {
            tell!("stopped: {msg}");
        }
        return Ok(EXIT_STOPPED);
    }
    Ok(EXIT_OK)
}

/// Write a report directory (HTML page, plots, JSON, CSV).
pub(crate) fn write_report(
    flag: &'static str,
    dir: &std::path::Path,
    input: &report::html::ReportInput,
    topology: Option<&report::topology::Topology>,
) -> Result<(), CliError> {
    report::html::write_report(dir, input, topology)
        .map(drop)
        .map_err(|source| CliError::Output {
            flag,
            path: dir.display().to_string(),
            source,
        })
}

/// Write a directory of files (name, contents) as one set (see [`report::output::write_dir`]).
pub(crate) fn write_dir(flag: &'static str, dir: &std::path::Path, files: &[(String, String)]) -> Result<(), CliError> {
    report::output::write_dir(dir, |staging| {
        files
            .iter()
            .try_for_each(|(name, contents)| report::write_output(&staging.join(name), contents))
    })
    .map(drop)
    .map_err(|source| CliError::Output {
        flag,
        path: dir.display().to_string(),
        source,
    })
}

/// Write the output `path` named by option `flag` (see [`report::write_output`]).
pub(crate) fn write(flag: &'static str, path: &std::path::Path, contents: &str) -> Result<(), CliError> {
    report::write_output(path, contents).map_err(|source| CliError::Output {
        flag,
        path: path.display().to_string(),
        source,
    })
}
