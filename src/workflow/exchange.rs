//! A sizing search split across machines. Every shard runs the same search; each evaluation it
//! asks for (one configuration, one run, n replications) is split as a run is: shard I
//! simulates its slice of the n replications, publishes it as a file in a directory all shards
//! share, waits for the other shards' files of the same evaluation, and merges all of them in
//! order, so every shard gets the result of the run done whole, byte for byte, and the searches
//! stay in step to the same answer. A round's parts are merged before the next round starts.
//!
//! The files are run shard files ([`super::run_shards`]) named by a key: the FNV-1a hash of the
//! configured model, its replications, the run settings and the capsim version. A file already
//! there is not simulated again, so a sizing stopped half-way resumes where it was, and a second
//! sizing of the same model reuses every evaluation the first made. Every shard must run at the
//! same time: a shard waits at most the exchange's patience for the others, then stops naming the
//! shards it waited for.

use super::run_shards::{
    merge_run, open_shards, write_header, write_run, write_whole, RunFingerprint, RunShardHeader, ShardedRun,
};
use super::Runner;
use crate::analysis::fingerprint::{canonical_json, fnv1a_64, CAPSIM_VERSION};
use crate::model::Model;
use crate::results::RunResult;
use crate::scenario::shard::Shard;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Why a sharded evaluation gave no result when the runs were stopped.
const INTERRUPTED: &str = "interrupted: the search stopped before it ended";

/// Where the shards of a sizing meet.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The shared directory.
    pub dir: PathBuf,
    /// This process's shard.
    pub shard: Shard,
    /// How long to wait for the other shards' part of one evaluation.
    pub patience: Duration,
    /// The run settings given (part of every key).
    pub settings: Value,
}

impl Exchange {
    /// The key of an evaluation: `model` (its JSON after the configuration and run changes) run
    /// with `replications`.
    fn key(&self, model: &Value, replications: u32) -> String {
        let text = format!(
            "{}|{}|{}|{}",
            canonical_json(model),
            replications,
            canonical_json(&self.settings),
            CAPSIM_VERSION
        );
        format!("{:016x}", fnv1a_64(text.as_bytes()))
    }

    fn part(&self, key: &str, index: usize) -> PathBuf {
        self.dir.join(key).join(format!("{index}-of-{}.shard", self.shard.count))
    }

    /// The result of `model` (whose JSON is `json`, named `run` in messages), run whole: this
    /// shard's slice of its replications simulated (unless already published), then every
    /// shard's merged in order. Errors say what is missing or damaged, or that the runs were
    /// interrupted.
    pub fn run(&self, runner: &Runner, run: &str, json: &Value, model: &Model, warnings: &[String]) -> Result<RunResult, String> {
        let key = self.key(json, model.replications);
        let mine = self.part(&key, self.shard.index);
        let header = |shard: Shard| {
            let slice = shard.slice(model.replications);
            RunShardHeader {
                shard: shard.label(),
                fingerprint: RunFingerprint {
                    model_hash: key.clone(),
                    settings: self.settings.clone(),
                    scenarios: Vec::new(),
                    capsim_version: CAPSIM_VERSION.to_string(),
                },
                file: String::new(),
                model_text: String::new(),
                runs: vec![ShardedRun {
                    name: run.to_string(),
                    replications: model.replications,
                    first: slice.start,
                    end: slice.end,
                }],
            }
        };
        if !mine.exists() {
            let h = header(self.shard);
            let slice = h.runs[0].first..h.runs[0].end;
            let written = write_whole(&mine, |out| {
                write_header(out, &h)?;
                write_run(out, runner, model, 0, slice)?;
                // Replications cut short by an interruption are no part any shard may merge.
                match runner.interrupted() {
                    true => Err(std::io::Error::other(INTERRUPTED)),
                    false => Ok(()),
                }
            });
            match written {
                Ok(()) => {}
                Err(_) if runner.interrupted() => return Err(INTERRUPTED.into()),
                Err(e) => return Err(format!("{}: cannot write it: {e}", mine.display())),
            }
        }
        let parts: Vec<PathBuf> = (1..=self.shard.count).map(|i| self.part(&key, i)).collect();
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let missing: Vec<String> = parts
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.exists())
                .map(|(i, _)| format!("{}/{}", i + 1, self.shard.count))
                .collect();
            if missing.is_empty() {
                break;
            }
            if runner.interrupted() {
                return Err(INTERRUPTED.into());
            }
            if started.elapsed() > self.patience {
                return Err(format!(
                    "waited {:.0} s for shards {} of run \"{run}\" ({}) in {}: every shard of a sizing must run at the same time (a Slurm array without a % limit below its size, a Kubernetes Indexed Job with parallelism equal to completions)",
                    self.patience.as_secs_f64(),
                    missing.join(", "),
                    key,
                    self.dir.display()
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
        let mut shards = open_shards(&parts).map_err(|e| e.to_string())?;
        let result = merge_run(&mut shards, 0, model, warnings).map_err(|e| e.to_string())?;
        for shard in shards.iter_mut() {
            shard.at_end().map_err(|e| e.to_string())?;
        }
        Ok(result)
    }
}
