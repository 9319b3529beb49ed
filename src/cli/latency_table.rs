//! `capsim latency-table`: the team's spreadsheet — each measured workload's duration with more
//! network latency per query, `duration + queries × added`, exactly. The no-contention baseline.

use super::{print, write, CliError, EXIT_OK};
use crate::analysis::spreadsheet::{latency_table as table, parse_added, parse_workloads, Workload};
use crate::report;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `capsim latency-table`.
#[derive(Args)]
pub struct LatencyTableArgs {
    /// The workloads: a CSV file with the columns name,queries,duration (e.g. "API::Payments::Create,24,150ms").
    workloads: PathBuf,
    /// Latency added to every query's round trip, one or more: "5ms,10ms" (repeatable).
    #[arg(long, value_name = "LIST", required = true)]
    added: Vec<String>,
    /// Also write the table as CSV (one row per workload and added latency; "-" for stdout).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write the table as JSON ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Read a workloads file; errors name the file, the line and the column.
pub(crate) fn read_workloads(path: &Path) -> Result<Vec<Workload>, CliError> {
    let name = path.display().to_string();
    let text = crate::model::load::read_input(&name).map_err(|e| CliError::Argument(format!("cannot read {name}: {e}")))?;
    parse_workloads(&text).map_err(|e| CliError::Argument(format!("{name}: {e}")))
}

/// Run `capsim latency-table`.
pub fn latency_table(args: &LatencyTableArgs) -> Result<i32, CliError> {
    let mut added = Vec::new();
    for list in &args.added {
        added.extend(parse_added(list).map_err(|why| CliError::Argument(format!("--added: {why}")))?);
    }
    super::outputs::Outputs::default()
        .file("--csv", args.csv.as_ref())
        .file("--json", args.json.as_ref())
        .check()?;
    let workloads = read_workloads(&args.workloads)?;
    let result = table(&args.workloads.display().to_string(), &workloads, &added);
    let to_stdout = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if !to_stdout(&args.csv) && !to_stdout(&args.json) {
        print(&result.render());
    }
    if let Some(path) = &args.csv {
        write("--csv", path, &result.to_csv())?;
    }
    if let Some(path) = &args.json {
        write("--json", path, &report::json::to_json(&result))?;
    }
    Ok(EXIT_OK)
}
