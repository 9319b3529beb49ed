//! `capsim sweep` and `capsim merge`: run a model over a grid of parameter values (whole or one
//! shard), find the knee and the first SLO breach, and put shards back together.

use super::{load, print, run_validated, write, CliError, Overrides, RunSettings, EXIT_OK, EXIT_STOPPED};
use crate::analysis::fingerprint::{model_hash, Fingerprint, CAPSIM_VERSION};
use crate::analysis::sweep::{breaches, finish, merge, shard_file, SweepHeader, SweepPoint};
use crate::model::units::nanos_to_secs;
use crate::report;
use crate::results::metric::{parse_bound, resolve, Unit};
use crate::scenario::sweep::{grid, parse_values, parse_values_text, Shard, SweptParam};
use crate::scenario::{ModelSource, Variant};
use clap::Args;
use serde_json::Value;
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
    /// Run only shard I of N ("2/4"): its points go to --json for `capsim merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
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
    /// The shard files written by `capsim sweep --shard I/N --json FILE`.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Write the merged sweep as JSON ("-" for stdout, the default).
    #[arg(long, value_name = "FILE", default_value = "-")]
    json: PathBuf,
    /// Also write a report directory for the merged sweep (report.html, plots, sweep.csv).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Also write sweep.csv into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
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
    let sweeps = source.json().get("sweeps").and_then(Value::as_object);
    let (name, spec) = match (&args.sweep, sweeps) {
        (Some(name), Some(s)) if s.contains_key(name) => (name.clone(), &s[name]),
        (None, Some(s)) if !s.is_empty() => s.iter().next().map(|(n, v)| (n.clone(), v)).expect("not empty"),
        (Some(name), s) => {
            let known: Vec<&String> = s.map(|s| s.keys().collect()).unwrap_or_default();
            return Err(bad(format!(
                "--sweep: no sweep named \"{name}\" in the model (sweeps: {known:?})"
            )));
        }
        (None, _) => {
            return Err(bad(
                "give --param PATH --values VALUES, or declare \"sweeps\" in the model".into()
            ))
        }
    };
    let mut params = Vec::new();
    for (path, values) in spec["params"].as_object().into_iter().flatten() {
        let values = parse_values(values).map_err(|why| bad(format!("sweeps.{name}.params.\"{path}\": {why}")))?;
        params.push(SweptParam {
            path: path.clone(),
            values,
        });
    }
    let text = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(Plan {
        params,
        scenario: args.scenario.clone().or(text("scenario")),
        metric: args.metric.clone().or(text("metric")),
        threshold: args.threshold.clone().or(text("threshold")),
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
    let source = load(&args.model)?;
    let plan = plan(&args, &source)?;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|why| CliError::Argument(format!("--shard: {why}")))?;
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
    let base = match &plan.scenario {
        Some(name) => source.scenario_variant(name)?,
        None => Variant {
            name: String::new(),
            changes: Vec::new(),
            actions: Vec::new(),
        },
    };
    let points = grid(&plan.params, &base, "--param").map_err(CliError::Argument)?;
    // Validate every point before running any: a bad value fails fast.
    let models = points
        .iter()
        .map(|(values, variant)| Ok((values.clone(), source.variant_model(variant, |spec| overrides.apply(spec))?)))
        .collect::<Result<Vec<_>, CliError>>()?;
    let threshold = match &plan.threshold {
        Some(t) => parse_bound(t, Unit::Share).map_err(|why| CliError::Argument(format!("threshold: {why}")))?,
        None => 0.1,
    };
    let all: Vec<&crate::model::Model> = models.iter().map(|(_, v)| &v.model).collect();
    // Every point's result is kept until the sweep is written: refuse a sweep that cannot fit.
    let here = (0..models.len()).filter(|&i| shard.is_none_or(|s| s.owns(i))).count();
    if let Some((_, largest)) = models.iter().max_by_key(|(_, v)| crate::model::memory::sweep_point(&v.model)) {
        if let Some(why) = crate::model::memory::sweep_refusal(&largest.model, here, largest.model.max_memory) {
            return Err(CliError::Argument(format!("{}: limits.max_memory: {why}", source.file)));
        }
    }
    let pool = super::threads::replication_pool(args.settings.threads, &all)?;
    let mut sweep_points = Vec::new();
    let mut metric_name = plan.metric.clone();
    let mut complete = true;
    for (index, (values, validated)) in models.iter().enumerate() {
        if shard.is_some_and(|s| !s.owns(index)) {
            continue;
        }
        if !args.quiet {
            tell!("point {}/{}: {}", index + 1, models.len(), points[index].1.name);
        }
        let result = run_validated(validated, &pool);
        complete &= result.verdict.complete;
        let name = metric_name.get_or_insert_with(|| default_metric(&result)).clone();
        let metric = resolve(&result, &name).map_err(|why| CliError::Argument(format!("metric: {why}")))?;
        sweep_points.push(SweepPoint {
            index,
            values: values.clone(),
            metric: metric.estimate,
            slos_breached: breaches(&result),
            result,
        });
    }
    let header_params: Vec<String> = plan.params.iter().map(|p| p.path.clone()).collect();
    let header = SweepHeader {
        schema_version: crate::results::SCHEMA_VERSION,
        model: models.first().map(|(_, v)| v.model.name.clone()).unwrap_or_default(),
        scenario: base.name.clone(),
        params: plan.params.iter().map(|p| p.path.clone()).collect(),
        metric: metric_name.unwrap_or_default(),
        threshold,
        total_points: models.len(),
        round_trips: models
            .first()
            .map(|(_, v)| crate::analysis::ladder::round_trips(&v.model, &crate::analysis::ladder::swept_links(&header_params)))
            .unwrap_or_default()
            .into_iter()
            .collect(),
        fingerprint: match models.first() {
            Some((_, v)) => Some(Fingerprint {
                model_hash: model_hash(&source.variant_json(&base)?),
                seed: v.model.seed,
                replications: v.model.replications,
                duration_s: nanos_to_secs(v.model.duration_ns),
                warmup_s: nanos_to_secs(v.model.warmup_ns),
                window_s: nanos_to_secs(v.model.window_ns),
                max_events: v.model.max_events,
                grid: plan.params.iter().map(|p| p.values.clone()).collect(),
                capsim_version: CAPSIM_VERSION.to_string(),
            }),
            None => None,
        },
    };
    let header_json = serde_json::to_value(&header).unwrap_or(Value::Null);
    let point_json: Vec<Value> = sweep_points
        .iter()
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .collect();
    let json_to_stdout = args.json.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(shard) = shard {
        let file = shard_file(&header_json, &format!("{}/{}", shard.index, shard.count), point_json);
        write(
            "--json",
            args.json.as_ref().expect("checked above"),
            &report::json::to_json(&file),
        )?;
        if !args.quiet && !json_to_stdout {
            print(&format!(
                "shard {}/{}: {} of {} points written\n",
                shard.index,
                shard.count,
                sweep_points.len(),
                models.len()
            ));
        }
    } else {
        let finished = finish(&header_json, point_json);
        if !args.quiet && !json_to_stdout {
            print(&report::sweep::sweep_table(&header, &sweep_points, &finished));
            print(&report::sweep::ladder_table(&header, &sweep_points));
        }
        if let Some(path) = &args.json {
            write("--json", path, &report::json::to_json(&finished))?;
        }
        if let Some(dir) = &args.csv {
            super::write_dir(
                "--csv",
                dir,
                &[("sweep.csv".into(), report::csv::sweep_csv(&header, &sweep_points))],
            )?;
        }
        if let Some(dir) = &args.report {
            super::write_report(
                "--report",
                dir,
                &report::html::ReportInput::Sweep {
                    header: &header,
                    points: &sweep_points,
                    finished: &finished,
                },
            )?;
        }
    }
    Ok(if complete { EXIT_OK } else { EXIT_STOPPED })
}

/// The first client's p99, or the first endpoint's.
fn default_metric(result: &crate::results::RunResult) -> String {
    result
        .clients
        .first()
        .map(|c| format!("{}.p99", c.name))
        .or_else(|| result.endpoints.first().map(|e| format!("{}.p99", e.name)))
        .unwrap_or_default()
}

/// Run `capsim merge`.
pub fn merge_shards(args: MergeArgs) -> Result<i32, CliError> {
    super::outputs::Outputs::default()
        .file("--json", Some(&args.json))
        .dir("--csv", args.csv.as_ref())
        .dir("--report", args.report.as_ref())
        .check()?;
    let mut shards = Vec::new();
    for path in &args.shards {
        let name = path.display().to_string();
        let text = crate::model::load::read_input(&name).map_err(|e| CliError::Argument(format!("cannot read {name}: {e}")))?;
        if let Some(duplicate) = crate::model::duplicate_keys::duplicate_keys(&text).first() {
            return Err(CliError::Argument(format!("{name}: {}", duplicate.diagnostic())));
        }
        let json: Value = serde_json::from_str(&text).map_err(|e| CliError::Argument(format!("{name}: not JSON: {e}")))?;
        shards.push((name, json));
    }
    let merged = merge(&shards).map_err(CliError::Argument)?;
    write("--json", &args.json, &report::json::to_json(&merged))?;
    // Partial points (cut short in their shard) make a partial merge: said, and exit 3.
    let partial: Vec<String> = merged["partial_points"]
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    let code = if partial.is_empty() {
        EXIT_OK
    } else {
        tell!(
            "stopped: the merged sweep is partial: points {} were cut short in their shards and are left out of the knee and first-breach verdicts",
            partial.join(", ")
        );
        EXIT_STOPPED
    };
    if args.report.is_none() && args.csv.is_none() {
        return Ok(code);
    }
    // The points read back as results (NaN was written as null and reads back as NaN).
    let unreadable = |e: serde_json::Error| CliError::Argument(format!("the merged sweep cannot be read back for a report: {e}"));
    let header: SweepHeader = serde_json::from_value(merged.clone()).map_err(unreadable)?;
    let points: Vec<SweepPoint> = serde_json::from_value(merged["points"].clone()).map_err(unreadable)?;
    if let Some(dir) = &args.csv {
        super::write_dir(
            "--csv",
            dir,
            &[("sweep.csv".into(), report::csv::sweep_csv(&header, &points))],
        )?;
    }
    if let Some(dir) = &args.report {
        let input = report::html::ReportInput::Sweep {
            header: &header,
            points: &points,
            finished: &merged,
        };
        super::write_report("--report", dir, &input)?;
    }
    Ok(code)
}
