//! A run split across machines. Each shard simulates its slice of every run's replications (the
//! baseline's, then each scenario's: shard I of N takes a contiguous slice, see
//! [`Shard::slice`]) and writes each replication, as the merger would take it, to its shard
//! file in replication order. [`merge`] reads the shard files back in shard order and feeds the
//! same merger the same replications in the same order as the run done whole, so the merged
//! result is byte-identical to it, whatever the shard count.
//!
//! A shard file is a line saying what it is ([`MAGIC`]), a JSON header line ([`RunShardHeader`]:
//! the model's text, the run settings, the scenarios, this shard and its slices), then one
//! record per replication: its run, its index and its length in bytes, little-endian, then the
//! replication in postcard's binary form (exact: every number keeps its bits). Shards whose
//! fingerprints differ are refused naming the field; so are a shard given twice, a missing one,
//! and a file that ends before its last replication.

use super::scenarios::ScenarioPlan;
use super::{Runner, WorkflowError};
use crate::analysis::compare::ScenarioReport;
use crate::analysis::fingerprint::{differences, model_hash, CAPSIM_VERSION};
use crate::replications::Replicated;
use crate::results::Merger;
use crate::scenario::shard::Shard;
use crate::scenario::ModelSource;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, Read, Write};

/// The first line of every run shard file.
pub const MAGIC: &[u8] = b"capsim run shard v1\n";

/// Largest header line read (the model's text and the settings): 256 MiB, as for any input file.
const MAX_HEADER: u64 = 256 << 20;

/// What must be the same for shard files to be parts of one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunFingerprint {
    /// FNV-1a 64 of the model's canonical JSON (see [`model_hash`]).
    pub model_hash: String,
    /// The run settings given on the command line (seed, replications, duration…), as given.
    pub settings: Value,
    /// The scenarios run after the baseline, in order.
    pub scenarios: Vec<String>,
    /// The version of capsim that ran them.
    pub capsim_version: String,
}

/// One run (the baseline or a scenario) and this shard's slice of its replications.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ShardedRun {
    /// "baseline" or the scenario's name.
    pub name: String,
    /// The run's replications in all.
    pub replications: u32,
    /// This shard's first replication.
    pub first: u32,
    /// One past this shard's last replication.
    pub end: u32,
}

/// The header line of a run shard file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunShardHeader {
    /// This shard, "I/N".
    pub shard: String,
    /// What identifies the run.
    pub fingerprint: RunFingerprint,
    /// The model file as it was named where the shard ran.
    pub file: String,
    /// The model file's text, so the merge needs nothing but the shard files.
    pub model_text: String,
    /// Each run and this shard's slice of it.
    pub runs: Vec<ShardedRun>,
}

impl RunShardHeader {
    /// The header of shard `shard` of `plan`, made from `source` with `settings` (what the caller
    /// applied to every model, as given) and the `scenarios` as named.
    pub fn new(source: &ModelSource, plan: &ScenarioPlan, settings: Value, scenarios: &[String], shard: Shard) -> RunShardHeader {
        let runs = plan
            .runs()
            .map(|(name, model)| {
                let slice = shard.slice(model.replications);
                ShardedRun {
                    name: name.unwrap_or("baseline").to_string(),
                    replications: model.replications,
                    first: slice.start,
                    end: slice.end,
                }
            })
            .collect();
        RunShardHeader {
            shard: shard.label(),
            fingerprint: RunFingerprint {
                model_hash: model_hash(source.json()),
                settings,
                scenarios: scenarios.to_vec(),
                capsim_version: CAPSIM_VERSION.to_string(),
            },
            file: source.file.clone(),
            model_text: source.text().to_string(),
            runs,
        }
    }

    /// This shard's replications, over every run.
    pub fn replications(&self) -> u32 {
        self.runs.iter().map(|r| r.end - r.first).sum()
    }
}

/// Simulate this shard's slice of every run of `plan` (the slices `header` gives) with
/// `runner`, writing the header and then each replication, in order, to `out`. `starting` is
/// called with each run's name (`None` for the baseline) and its validation warnings. Returns
/// whether every replication ran to its end (none cut short by a bound or an interruption).
pub fn write_shard(
    plan: &ScenarioPlan,
    header: &RunShardHeader,
    runner: &Runner,
    out: &mut (impl Write + Send),
    mut starting: impl FnMut(Option<&str>, &[String]),
) -> std::io::Result<bool> {
    write_header(out, header)?;
    let mut complete = true;
    for (run_index, ((name, model), sharded)) in plan.runs().zip(&header.runs).enumerate() {
        starting(name, &plan.warnings_of(run_index));
        complete &= write_run(out, runner, model, run_index as u32, sharded.first..sharded.end)?;
    }
    out.flush()?;
    Ok(complete)
}

/// The first line and the header line of a shard file.
pub(super) fn write_header(out: &mut impl Write, header: &RunShardHeader) -> std::io::Result<()> {
    out.write_all(MAGIC)?;
    serde_json::to_writer(&mut *out, header)?;
    out.write_all(b"\n")
}

/// Simulate replications `range` of `model` (run `run_index` of the shard) with `runner`,
/// writing each, in order, to `out`; whether every one ran to its end.
pub(super) fn write_run(
    out: &mut (impl Write + Send),
    runner: &Runner,
    model: &crate::model::Model,
    run_index: u32,
    range: std::ops::Range<u32>,
) -> std::io::Result<bool> {
    let mut complete = true;
    let mut failed: Option<std::io::Error> = None;
    runner.run_in_order(model, range, |replication, done| {
        if failed.is_some() {
            return;
        }
        complete &= done.finished.ran_to_the_end();
        if let Err(e) = write_record(out, run_index, replication, &done) {
            failed = Some(e);
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(complete),
    }
}

/// Write `path` through a temporary file beside it, renamed into place once whole (a shard
/// file, a sizing's published part): a job stopped half-way, or a shard reading it, never sees a
/// part of one. Returns what `write` returns.
pub fn write_whole<T>(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let done = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        let value = write(&mut out)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(value)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// One replication's record: run, replication, length, postcard bytes.
fn write_record(out: &mut impl Write, run: u32, replication: u32, done: &Replicated) -> std::io::Result<()> {
    let bytes = postcard::to_stdvec(done).map_err(std::io::Error::other)?;
    out.write_all(&run.to_le_bytes())?;
    out.write_all(&replication.to_le_bytes())?;
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(&bytes)
}

/// A shard file opened for merging: its header read, its records next.
pub struct ShardReader {
    name: String,
    header: RunShardHeader,
    shard: Shard,
    reader: std::io::BufReader<std::fs::File>,
    /// Bytes left after the header (a record claiming more is damage, not an allocation).
    left: u64,
}

impl ShardReader {
    /// The header, for the caller to rebuild the plan from.
    pub fn header(&self) -> &RunShardHeader {
        &self.header
    }
}

/// Whether the file at `path` starts as a run shard file does.
pub fn is_run_shard(path: &std::path::Path) -> bool {
    let mut start = vec![0; MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == MAGIC)
}

/// Open the run shard files at `paths` and check that they are the N shards of one run, each
/// once: the same fingerprint (a difference names the field and both values), the same runs,
/// and every shard 1..N present. They come back in shard order.
pub fn open_shards(paths: &[std::path::PathBuf]) -> Result<Vec<ShardReader>, WorkflowError> {
    let mut shards: Vec<ShardReader> = paths.iter().map(|p| open_one(p)).collect::<Result<_, _>>()?;
    let first = &shards[0];
    for other in &shards[1..] {
        let (a, b) = (json(&first.header.fingerprint), json(&other.header.fingerprint));
        let differ = differences(&a, &b);
        if !differ.is_empty() {
            return Err(WorkflowError::Input(format!(
                "{} and {} are shards of different runs: {}",
                first.name,
                other.name,
                differ
                    .iter()
                    .map(|d| format!("fingerprint.{d}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        if other.shard.count != first.shard.count {
            return Err(WorkflowError::Input(format!(
                "{} is shard {} but {} is shard {}: shards of one run share their count",
                first.name, first.header.shard, other.name, other.header.shard
            )));
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    for pair in shards.windows(2) {
        if pair[0].shard.index == pair[1].shard.index {
            return Err(WorkflowError::Input(format!(
                "{} and {} are both shard {}",
                pair[0].name, pair[1].name, pair[0].header.shard
            )));
        }
    }
    let count = shards[0].shard.count;
    let missing: Vec<String> = (1..=count)
        .filter(|i| !shards.iter().any(|s| s.shard.index == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(WorkflowError::Input(format!(
            "shards {} are missing: a merge needs every shard of the run ({} given)",
            missing.join(", "),
            shards.len()
        )));
    }
    for s in &shards {
        let expected: Vec<(u32, u32)> = s.header.runs.iter().map(|r| (r.first, r.end)).collect();
        let sliced: Vec<(u32, u32)> = s
            .header
            .runs
            .iter()
            .map(|r| s.shard.slice(r.replications))
            .map(|r| (r.start, r.end))
            .collect();
        if expected != sliced {
            return Err(WorkflowError::Input(format!(
                "{}: its slices of replications {:?} are not shard {}'s {:?}",
                s.name, expected, s.header.shard, sliced
            )));
        }
    }
    Ok(shards)
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn open_one(path: &std::path::Path) -> Result<ShardReader, WorkflowError> {
    let name = path.display().to_string();
    let bad = |why: String| WorkflowError::Input(format!("{name}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = std::io::BufReader::new(file);
    let mut magic = vec![0; MAGIC.len()];
    reader
        .read_exact(&mut magic)
        .ok()
        .filter(|()| magic == MAGIC)
        .ok_or_else(|| bad("not a run shard file (written by `capsim run --shard I/N --out FILE`)".into()))?;
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let header: RunShardHeader = serde_json::from_slice(&line).map_err(|e| bad(format!("its header is damaged: {e}")))?;
    let shard = Shard::parse(&header.shard).map_err(|why| bad(format!("its header's shard: {why}")))?;
    let left = size.saturating_sub((MAGIC.len() + line.len()) as u64);
    Ok(ShardReader {
        name,
        header,
        shard,
        reader,
        left,
    })
}

impl ShardReader {
    /// The next record, which must be replication `replication` of run `run`.
    fn next(&mut self, run: u32, replication: u32, run_name: &str) -> Result<Replicated, WorkflowError> {
        let name = &self.name;
        let truncated = || {
            WorkflowError::Input(format!(
                "{name}: the file ends before replication {replication} of run \"{run_name}\": it was cut short (was its job stopped?); run shard {} again",
                self.header.shard
            ))
        };
        let mut fixed = [0u8; 16];
        self.reader.read_exact(&mut fixed).map_err(|_| truncated())?;
        let word = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().expect("4 bytes"));
        let (found_run, found_rep) = (word(0), word(4));
        let len = u64::from_le_bytes(fixed[8..16].try_into().expect("8 bytes"));
        if (found_run, found_rep) == (run, replication) && len > self.left.saturating_sub(16) {
            return Err(truncated());
        }
        if (found_run, found_rep) != (run, replication) {
            return Err(WorkflowError::Input(format!(
                "{name}: expected replication {replication} of run \"{run_name}\", found a record of run {found_run}, replication {found_rep}, {len} bytes: the file is damaged"
            )));
        }
        let mut bytes = vec![0; len as usize];
        self.reader.read_exact(&mut bytes).map_err(|_| truncated())?;
        self.left = self.left.saturating_sub(16 + len);
        postcard::from_bytes(&bytes).map_err(|e| {
            WorkflowError::Input(format!(
                "{name}: replication {replication} of run \"{run_name}\" is damaged: {e}"
            ))
        })
    }

    /// Nothing may follow the last record.
    pub(super) fn at_end(&mut self) -> Result<(), WorkflowError> {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => Ok(()),
            _ => Err(WorkflowError::Input(format!(
                "{}: bytes follow its last replication: the file is damaged",
                self.name
            ))),
        }
    }
}

/// Merge run `run_index` of `shards` (in shard order): each shard's replications of it, in
/// order, into one result of `model`.
pub(super) fn merge_run(
    shards: &mut [ShardReader],
    run_index: usize,
    model: &crate::model::Model,
    warnings: &[String],
) -> Result<crate::results::RunResult, WorkflowError> {
    let mut merger = Merger::new(model, warnings);
    for shard in shards.iter_mut() {
        let sharded = shard.header.runs[run_index].clone();
        for replication in sharded.first..sharded.end {
            shard
                .next(run_index as u32, replication, &sharded.name)?
                .merge_into(&mut merger);
        }
    }
    Ok(merger.finish())
}

/// Merge the shards (from [`open_shards`], in shard order) of a run of `plan` (rebuilt from
/// their header): each run's replications are merged in replication order, shard after shard,
/// as the run done whole merges them, and each scenario is compared with the baseline.
pub fn merge(plan: &ScenarioPlan, mut shards: Vec<ShardReader>) -> Result<ScenarioReport, WorkflowError> {
    let names: Vec<String> = shards[0].header.runs.iter().map(|r| r.name.clone()).collect();
    let report = plan.try_each_run(|run_index, model, warnings| {
        if names.len() != plan.runs().count() || model.replications != shards[0].header.runs[run_index].replications {
            return Err(WorkflowError::Input(format!(
                "{}: its runs do not match its own model and settings (a different capsim wrote it?)",
                shards[0].name
            )));
        }
        merge_run(&mut shards, run_index, model, warnings)
    })?;
    for shard in shards.iter_mut() {
        shard.at_end()?;
    }
    Ok(report)
}
