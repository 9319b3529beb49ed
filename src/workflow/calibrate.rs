//! Calibrating a model against traces: the model replayed at the arrival rates the traces measured
//! (each entry point's open clients brought to its measured rate and profile over the traces' time
//! range), then every endpoint's simulated latency and throughput compared with the traces'
//! ([`crate::analysis::calibration`]).

use super::{Runner, WorkflowError};
use crate::analysis::calibration::{calibrate, Calibration};
use crate::model::Validated;
use crate::results::RunResult;
use crate::scenario::ModelSource;
use crate::traces::collect::Collection;
use crate::traces::infer::{profile, round_sig};
use crate::traces::observed::{observed, ObservedEndpoint};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Replications of a replay unless the caller says otherwise: enough for a p99's interval to be
/// narrower than the usual 10 % allowed error.
pub const DEFAULT_REPLICATIONS: u32 = 20;

/// The largest relative error a statistic may have to fit unless the caller says otherwise.
pub const DEFAULT_MAX_ERROR: f64 = 0.1;

/// A replay, validated, and what the traces measured.
pub struct CalibrationPlan {
    /// The model at the measured rates.
    pub replay: Validated,
    /// Per endpoint, as measured.
    pub observed: Vec<ObservedEndpoint>,
    /// Each entry point and the clients that now carry its measured rate.
    pub entries: Vec<(String, Vec<String>)>,
}

/// Make the replay of the model `source` (named `file` in errors) at the rates of `traces`.
pub fn prepare(
    source: &ModelSource,
    file: &str,
    traces: &Collection,
    sampling_rate: f64,
    replications: Option<u32>,
) -> Result<CalibrationPlan, WorkflowError> {
    // The model's warm-up as validated (a twentieth of its duration when it writes none), kept
    // explicitly: the replay's duration is the warm-up plus the traces' time range.
    let warmup_ns = source.baseline(|_| {})?.model.warmup_ns;
    let warmup_s = warmup_ns as f64 / 1e9;
    let mut model: Value = source.json().clone();
    let secs = traces.span_secs().max(1e-3);
    let mut entries = Vec::new();
    for (&(service, endpoint), arrivals) in &traces.entries {
        let target = format!("{}.{}", traces.names.name(service), traces.names.name(endpoint));
        let clients: Vec<String> = model["clients"]
            .as_object()
            .map(|cs| {
                cs.iter()
                    .filter(|(_, c)| c["calls"] == target.as_str() && c.get("open").is_some())
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default();
        if clients.is_empty() {
            return Err(WorkflowError::Input(format!(
                "{file}: clients: no open client calls \"{target}\", where {} traces began: add one (capsim init --from-traces writes it) or name the endpoint as the traces do",
                arrivals.total
            )));
        }
        // The measured rate, split among the clients in the proportions the model gives them.
        let written: Vec<f64> = clients
            .iter()
            .map(|n| {
                model["clients"][n]["open"]["rate"]
                    .as_str()
                    .and_then(|r| crate::model::units::parse_rate(r).ok())
                    .unwrap_or(0.0)
            })
            .collect();
        let sum: f64 = written.iter().sum();
        let measured = arrivals.total as f64 / secs / sampling_rate;
        let shape = profile(arrivals, traces.first_ns, traces.last_ns, warmup_s);
        for (n, w) in clients.iter().zip(&written) {
            let part = if sum > 0.0 { w / sum } else { 1.0 / clients.len() as f64 };
            let mut open = json!({ "rate": format!("{}/s", round_sig(measured * part)) });
            if let Some(p) = &shape {
                open["profile"] = p.clone();
            }
            model["clients"][n]["open"] = open;
        }
        entries.push((target, clients));
    }
    model["warmup"] = json!(format!("{warmup_ns}ns"));
    model["duration"] = json!(format!("{}s", (warmup_s + secs).ceil()));
    model["replications"] = json!(replications.unwrap_or(DEFAULT_REPLICATIONS));
    let text = serde_json::to_string(&model).unwrap_or_default();
    let replay = ModelSource::from_text(text, &format!("{file} (replayed at the traces' rates)"))?.baseline(|_| {})?;
    Ok(CalibrationPlan {
        replay,
        observed: observed(traces, sampling_rate),
        entries,
    })
}

impl CalibrationPlan {
    /// Run the replay and compare it with the traces.
    pub fn run(&self, runner: &Runner, max_error: f64) -> (RunResult, Calibration) {
        let result = runner.run(&self.replay.model, &super::warnings(&self.replay));
        let calibration = calibrate(&self.observed, &result, max_error);
        (result, calibration)
    }
}

/// The model's own `calibration` section: its trace files (relative to the model's directory),
/// sampling rate and replications.
#[derive(Clone, Debug)]
pub struct Declared {
    /// The trace files, as paths from the working directory.
    pub traces: Vec<PathBuf>,
    /// The share of traces recorded.
    pub sampling_rate: f64,
    /// Replications of the replay, when the section sets them.
    pub replications: Option<u32>,
}

/// The `calibration` section of the model in `source`, if it has one (validated with the model).
pub fn declared(source: &ModelSource) -> Result<Option<Declared>, WorkflowError> {
    let Some(section) = source.json().get("calibration") else {
        return Ok(None);
    };
    source.baseline(|_| {})?;
    let base = Path::new(&source.file).parent().unwrap_or(Path::new(""));
    let traces = section["traces"]
        .as_array()
        .map(|ts| ts.iter().filter_map(Value::as_str).map(|t| base.join(t)).collect())
        .unwrap_or_default();
    Ok(Some(Declared {
        traces,
        sampling_rate: section.get("sampling_rate").and_then(Value::as_f64).unwrap_or(1.0),
        replications: section.get("replications").and_then(Value::as_u64).map(|r| r as u32),
    }))
}

/// Read the trace files of a calibration (no progress, no sample of traces: a replay needs only
/// the rates and latencies), as a workflow error naming the file.
pub fn read_traces(files: &[PathBuf]) -> Result<Collection, WorkflowError> {
    Collection::read(files, crate::traces::collect::Bounds::MEASUREMENTS_ONLY, &mut |_, _| {})
        .map_err(|e| WorkflowError::Input(e.to_string()))
}
