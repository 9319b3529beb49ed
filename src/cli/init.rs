//! `capsim init --from WORKLOADS.csv`: write a starting model from measured workloads, whose
//! no-contention durations are the measured ones, ready to be edited and simulated.

use super::latency_table::read_workloads;
use super::{print, write, CliError, EXIT_OK};
use crate::analysis::spreadsheet::{names, starting_model, StartSettings};
use crate::model::units::{parse_duration, parse_rate};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `capsim init`.
#[derive(Args)]
pub struct InitArgs {
    /// The workloads: a CSV file with the columns name,queries,duration (e.g. "API::Payments::Create,24,150ms").
    #[arg(long, value_name = "WORKLOADS.csv")]
    from: PathBuf,
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
    let latency_ns =
        parse_duration(&args.latency).map_err(|why| CliError::Argument(format!("--latency: {why}, got \"{}\"", args.latency)))?;
    parse_rate(&args.rate).map_err(|why| CliError::Argument(format!("--rate: {why}, got \"{}\"", args.rate)))?;
    let to_stdout = args.out.as_os_str() == "-";
    if !to_stdout && !args.force && args.out.exists() {
        return Err(CliError::Argument(format!(
            "--out: {} exists: choose another file or add --force to overwrite it",
            args.out.display()
        )));
    }
    super::outputs::Outputs::default().file("--out", Some(&args.out)).check()?;
    let workloads = read_workloads(&args.from)?;
    let settings = StartSettings {
        source: args.from.display().to_string(),
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
