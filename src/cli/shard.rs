//! `--shard I/N` (or `auto`, read from a Slurm job array or a Kubernetes Indexed Job) and
//! `--shards N`, shared by the commands that can run a part of their work.

use super::CliError;
use crate::scenario::shard::Shard;
use clap::Args;

/// Which part of the work this process runs.
#[derive(Args, Clone, Default)]
pub struct ShardArgs {
    /// Run only part I of N ("2/4"), or "auto": the part given by a Slurm job array
    /// (SLURM_ARRAY_TASK_ID, _MIN, _MAX) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, the
    /// count from --shards or CAPSIM_SHARDS). Merge the parts with `capsim merge`.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// The shard count for --shard auto in a Kubernetes Indexed Job (its completions).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shards: Option<usize>,
}

impl ShardArgs {
    /// The shard asked for, if any.
    pub fn shard(&self) -> Result<Option<Shard>, CliError> {
        if self.shards == Some(0) {
            return Err(CliError::Argument("--shards: expected a positive integer, got 0".into()));
        }
        self.shard
            .as_deref()
            .map(|text| Shard::parse_or_detect(text, self.shards, |name| std::env::var(name).ok()))
            .transpose()
            .map_err(|why| CliError::Argument(format!("--shard: {why}")))
    }
}
