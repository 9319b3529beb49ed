//! `capsim init --from WORKLOADS.csv`: write a starting model from measured workloads, whose
//! no-contention durations are the measured ones, ready to be edited and simulated.
//! `capsim init --from-traces FILE…`: write a model inferred from OpenTelemetry, Zipkin or Jaeger
//! traces (see `traces::infer`).

use super::latency_table::read_workloads;
use super::{print, write, CliError, EXIT_OK};
use crate::analysis::spreadsheet::{names, starting_model, StartSettings};
use crate::model::units::{parse_duration, parse_rate, parse_ratio};
use crate::traces::collect::{Bounds, Collection};
use crate::traces::infer::{infer, InferSettings};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `capsim init`.
#[derive(Args)]
pub struct InitArgs {
    /// The workloads: a CSV file with the columns name,queries,duration (e.g. "API::Payments::Create,24,150ms").
    #[arg(
        long,
        value_name = "WORKLOADS.csv",
        required_unless_present = "from_traces",
        conflicts_with = "from_traces"
    )]
    from: Option<PathBuf>,
    /// Or trace files: OTLP JSON (the Collector's file exporter: one request per line, .gz too),
    /// Zipkin v2 JSON or Jaeger JSON; the model's services, endpoints, steps, links and clients
    /// are inferred from them.
    #[arg(long = "from-traces", value_name = "FILE", num_args = 1..)]
    from_traces: Vec<PathBuf>,
    /// With --from-traces: the share of traces recorded (head sampling, e.g. 0.1 or 10%); rates are scaled up by its inverse.
    #[arg(long, value_name = "SHARE", default_value = "1")]
    sampling_rate: String,
    /// With --from-traces: most spans of sampled traces held in memory (a uniform sample of whole traces is kept).
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    max_spans: usize,
    /// Round-trip network latency of one query between the app and the database today.
    #[arg(long, value_name = "DURATION", default_value = "0.5ms")]
    latency: String,
    /// Arrival rate of each workload (one open client per workload); edit them in the model after.
    #[arg(long, value_name = "RATE", default_value = "1/s")]
    rate: String,
    /// Where to write the model ("-" for stdout).
    #[arg(long, value_name = "FILE", default_value = "model.json")]
    out: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

/// Run `capsim init`.
pub fn init(args: &InitArgs) -> Result<i32, CliError> {
    let to_stdout = args.out.as_os_str() == "-";
    if !to_stdout && !args.force && args.out.exists() {
        return Err(CliError::Argument(format!(
            "--out: {} exists: choose another file or add --force to overwrite it",
            args.out.display()
        )));
    }
    super::outputs::Outputs::default().file("--out", Some(&args.out)).check()?;
    let Some(from) = &args.from else {
        return from_traces(args);
    };
    let latency_ns =
        parse_duration(&args.latency).map_err(|why| CliError::Argument(format!("--latency: {why}, got \"{}\"", args.latency)))?;
    parse_rate(&args.rate).map_err(|why| CliError::Argument(format!("--rate: {why}, got \"{}\"", args.rate)))?;
    let workloads = read_workloads(from)?;
    let settings = StartSettings {
        source: from.display().to_string(),
        latency_ns,
        rate: args.rate.trim().to_string(),
    };
    let start = starting_model(&workloads, &settings).map_err(|why| CliError::Argument(format!("{}: {why}", settings.source)))?;
    let mut text = serde_json::to_string_pretty(&start.json).unwrap_or_default();
    text.push('\n');
    write("--out", &args.out, &text)?;
    for w in &start.warnings {
        tell!("warning: {w}");
    }
    if !to_stdout {
        let out = args.out.display();
        print(&format!(
            "wrote {out}: {n} workloads as endpoints of {service} ({endpoints}), each a transaction through {pool} to {db}\n\
             next:\n  capsim validate {out}\n  capsim run {out} --scenario {scenario}\n  capsim sweep {out} --sweep {sweep}\n",
            n = start.endpoints.len(),
            service = names::SERVICE,
            endpoints = start.endpoints.join(", "),
            pool = names::POOL,
            db = names::DATABASE,
            scenario = names::SCENARIO,
            sweep = names::SWEEP,
        ));
    }
    Ok(EXIT_OK)
}

/// `capsim init --from-traces`: read the traces, infer the model, write it.
fn from_traces(args: &InitArgs) -> Result<i32, CliError> {
    let sampling_rate = share_arg("--sampling-rate", &args.sampling_rate)?;
    if args.max_spans == 0 {
        return Err(CliError::Argument("--max-spans: expected a positive number of spans".into()));
    }
    let collection = read_traces(
        &args.from_traces,
        Bounds {
            max_spans: args.max_spans,
        },
    )?;
    let name = args
        .out
        .file_stem()
        .filter(|_| args.out.as_os_str() != "-")
        .map_or_else(|| "from-traces".to_string(), |s| s.to_string_lossy().to_string());
    let mut inferred = infer(&collection, &InferSettings { sampling_rate, name }).map_err(CliError::Argument)?;
    // The traces it came from, so `capsim calibrate` and `capsim check` compare with them again.
    let model_dir = match args.out.parent() {
        Some(p) if args.out.as_os_str() != "-" && !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let traces: Vec<String> = args.from_traces.iter().map(|t| relative_to(t, &model_dir)).collect();
    let mut calibration = serde_json::json!({ "traces": traces });
    if sampling_rate < 1.0 {
        calibration["sampling_rate"] = serde_json::json!(sampling_rate);
    }
    inferred.model["calibration"] = calibration;
    inferred.model["expect"] = serde_json::json!([{
        "that": "calibration.error <= 10%",
        "description": "The model reproduces each endpoint's mean, p50, p90, p99 and throughput in the traces within 10 %."
    }]);
    let mut text = serde_json::to_string_pretty(&inferred.model).unwrap_or_default();
    text.push('\n');
    // The model must be one capsim runs: checked before it is written.
    crate::model::load::parse_model(&text, "inferred model")
        .map_err(|e| CliError::Argument(format!("the inferred model does not validate (a capsim bug): {e}")))?;
    write("--out", &args.out, &text)?;
    if args.out.as_os_str() != "-" {
        let out = args.out.display();
        let services = inferred.model["services"].as_object().map_or(0, |s| s.len());
        let endpoints: usize = inferred.model["services"].as_object().map_or(0, |s| {
            s.values().map(|v| v["endpoints"].as_object().map_or(0, |e| e.len())).sum()
        });
        let mut lines = format!(
            "wrote {out}: {services} services, {endpoints} endpoints, {} entry points ({}) from {} spans\n",
            inferred.entries.len(),
            inferred
                .entries
                .iter()
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            collection.spans,
        );
        for note in &inferred.notes {
            lines.push_str(&format!("  guessed or noticed: {note}\n"));
        }
        let traces: Vec<String> = args.from_traces.iter().map(|p| p.display().to_string()).collect();
        lines.push_str(&format!(
            "next:\n  capsim calibrate {out} --traces {}\n  capsim run {out}\n",
            traces.join(" ")
        ));
        print(&lines);
    }
    Ok(EXIT_OK)
}

/// A share given on the command line (`--sampling-rate`, `--max-error`): above 0, at most 1,
/// written "10%" or 0.1.
pub(super) fn share_arg(flag: &str, text: &str) -> Result<f64, CliError> {
    parse_ratio(text).ok().filter(|r| *r > 0.0).ok_or_else(|| {
        CliError::Argument(format!(
            "{flag}: expected a share above 0 and at most 1 (like 10% or 0.1), got \"{text}\""
        ))
    })
}

/// Read trace files, with a progress bar (bytes read, rate, time left) on a terminal.
pub(super) fn read_traces(files: &[PathBuf], bounds: Bounds) -> Result<Collection, CliError> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal as _;
    let sizes: Vec<u64> = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).collect();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(sizes.iter().sum()), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "reading traces {bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let done_before: Vec<u64> = sizes
        .iter()
        .scan(0, |sum, s| {
            let before = *sum;
            *sum += s;
            Some(before)
        })
        .collect();
    let mut progress = |file: usize, bytes: u64| {
        bar.set_position(done_before[file] + bytes.min(sizes[file]));
        bar.set_message(files[file].display().to_string());
    };
    let read = Collection::read(files, bounds, &mut progress).map_err(|e| CliError::Argument(e.to_string()));
    bar.finish_and_clear();
    read
}
/// `path` as seen from `dir` ("../traces/t.jsonl.gz"), or as given when one of them cannot be
/// resolved.
fn relative_to(path: &std::path::Path, dir: &std::path::Path) -> String {
    let (Ok(path_abs), Ok(dir_abs)) = (path.canonicalize(), dir.canonicalize()) else {
        return path.display().to_string();
    };
    let p: Vec<_> = path_abs.components().collect();
    let d: Vec<_> = dir_abs.components().collect();
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.display().to_string()
}
