//! Workflows: what capsim does with a model beyond one run — a sweep over a grid of values
//! (whole or one shard, and the merge of shard files), a baseline run with its scenarios, each
//! compared with it, and the check of the expectations a model writes. The command line calls
//! these and only parses arguments, prints progress and writes files; a program embedding capsim
//! calls them the same way.
//!
//! Runs go through a [`Runner`]: rayon's global pool, no interruption and nobody watching by
//! default, or a pool, an interrupt flag and a progress hook of the caller's (results do not
//! depend on any of them).

pub mod calibrate;
pub mod check;
pub mod exchange;
pub mod metastability;
pub mod run_shards;
pub mod scenarios;
pub mod size;
pub mod sweep;

use crate::model::{Model, ModelError, Validated};
use crate::replications::{unwatched, Progress};
use crate::results::RunResult;
use std::sync::atomic::AtomicBool;

/// Why a workflow could not run: a model (or a variant of it) that does not validate, or input
/// that does not fit the model (a metric it does not have, a sweep too big for its memory
/// budget, a shard file that is not one). Both are bad input.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The model, or a variant of it, is invalid.
    #[error("{0}")]
    Model(#[from] ModelError),
    /// Input that does not fit the model, in a sentence naming what and where.
    #[error("{0}")]
    Input(String),
}

/// Never raised: the interrupt flag of a runner that is not interrupted.
static NEVER: AtomicBool = AtomicBool::new(false);

/// How a workflow's runs are made: on which threads, what stops them early, and who is told of
/// each replication as it finishes.
#[derive(Clone, Copy)]
pub struct Runner<'a> {
    pool: Option<&'a rayon::ThreadPool>,
    interrupt: &'a AtomicBool,
    progress: &'a (dyn Fn(Progress) + Sync),
}

impl Default for Runner<'static> {
    fn default() -> Self {
        Runner::new()
    }
}

impl Runner<'static> {
    /// Runs on rayon's global pool (one thread per core), never stopped early.
    pub fn new() -> Runner<'static> {
        Runner {
            pool: None,
            interrupt: &NEVER,
            progress: &unwatched,
        }
    }
}

impl<'a> Runner<'a> {
    /// Runs on `pool`, each stopping early (its results saying so) once `interrupt` is raised.
    pub fn on(pool: &'a rayon::ThreadPool, interrupt: &'a AtomicBool) -> Runner<'a> {
        Runner {
            pool: Some(pool),
            interrupt,
            progress: &unwatched,
        }
    }

    /// The same runner, telling `progress` of each replication of every run as it finishes (a
    /// progress bar); the results are the same.
    pub fn watched(self, progress: &'a (dyn Fn(Progress) + Sync)) -> Runner<'a> {
        Runner { progress, ..self }
    }

    /// Whether the runs were asked to stop (Ctrl-C, a wall-clock limit).
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every replication of `model`, merged; `warnings` (from validation) go into the result.
    pub fn run(&self, model: &Model, warnings: &[String]) -> RunResult {
        let go = || crate::replications::simulate_and_merge(model, warnings, self.interrupt, self.progress);
        match self.pool {
            Some(pool) => pool.install(go),
            None => go(),
        }
    }
}

impl Runner<'_> {
    /// Replications `range` of `model`, each handed to `take` in replication order (a shard's
    /// slice, written as it comes).
    pub fn run_in_order(
        &self,
        model: &Model,
        range: std::ops::Range<u32>,
        take: impl FnMut(u32, crate::replications::Replicated) + Send,
    ) {
        let go = || crate::replications::simulate_in_order(model, range, self.interrupt, self.progress, take);
        match self.pool {
            Some(pool) => pool.install(go),
            None => go(),
        }
    }
}

/// The validation warnings of a model, as sentences (they go into its result).
pub fn warnings(validated: &Validated) -> Vec<String> {
    validated.warnings.iter().map(|w| w.to_string()).collect()
}
