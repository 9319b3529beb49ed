//! Which replications a run's estimates cover, when some were cut short or never started.
//!
//! A replication *ran* when it reached the end of the simulated duration, or when the model itself
//! stopped it (unstable, stalled clock): that end is the model's answer and does not depend on
//! the machine. A bound of the run (the event budget, `--max-wall`, Ctrl-C/SIGTERM) instead *cuts
//! it short*: it covers less simulated time than the others, and how much depends on when the
//! bound struck. A replication stopped before any measured time (the interrupt came before it
//! started, or within the warm-up) *never started* and measured nothing.
//!
//! Every estimate covers the replications that ran; when none did, it covers the ones cut short
//! (each over the time it simulated, rates per its own measured seconds), and says so. A
//! replication that never started is never averaged in.

use crate::engine::StopReason;
use crate::model::Model;
use crate::sim::ReplicationResult;
use serde::{Deserialize, Serialize};

/// How far one replication got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// To the end of the simulated duration, or to the model's own stop.
    Ran,
    /// A bound of the run stopped it after some measured time.
    CutShort,
    /// It stopped before any measured time.
    NotStarted,
}

impl Reach {
    /// How far `r`, a replication of `model`, got.
    pub fn of(model: &Model, r: &ReplicationResult) -> Reach {
        match r.stop {
            StopReason::Horizon | StopReason::Exhausted | StopReason::Stopped { .. } => Reach::Ran,
            StopReason::EventBudget { at } | StopReason::Interrupted { at } if at > model.warmup_ns => Reach::CutShort,
            StopReason::EventBudget { .. } | StopReason::Interrupted { .. } => Reach::NotStarted,
        }
    }
}

/// The replications of a run by how far they got, and the ones its estimates are made of
/// (replication indices, in order).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    /// Replications asked for.
    pub requested: u32,
    /// Replications that ran to their end: the simulated duration, or the model's own stop.
    pub ran: Vec<u32>,
    /// Replications a bound of the run cut short after some measured time.
    pub cut_short: Vec<u32>,
    /// Replications stopped before any measured time: they measured nothing.
    pub not_started: Vec<u32>,
    /// The replications every estimate is computed from: `ran`, or `cut_short` when none ran.
    pub estimated_from: Vec<u32>,
}

impl Coverage {
    /// Counts one more replication `r` of `model` by how far it got, and says how far.
    pub fn add(&mut self, model: &Model, r: &ReplicationResult) -> Reach {
        let reach = Reach::of(model, r);
        match reach {
            Reach::Ran => self.ran.push(r.replication),
            Reach::CutShort => self.cut_short.push(r.replication),
            Reach::NotStarted => self.not_started.push(r.replication),
        }
        reach
    }

    /// Once every replication is counted: the ones the estimates cover.
    pub fn settle(&mut self) {
        self.estimated_from = if self.ran.is_empty() {
            self.cut_short.clone()
        } else {
            self.ran.clone()
        };
    }

    /// True when the estimates leave out replications, or cover replications that were cut short:
    /// the results are partial.
    pub fn is_partial(&self) -> bool {
        !self.cut_short.is_empty() || !self.not_started.is_empty()
    }

    /// One sentence for people: what the estimates cover ("" when the run is not partial).
    pub fn sentence(&self) -> String {
        if !self.is_partial() {
            return String::new();
        }
        let n = self.estimated_from.len();
        let reps = |k: usize| if k == 1 { "replication" } else { "replications" };
        let mut parts = Vec::new();
        if !self.cut_short.is_empty() {
            parts.push(format!("{} cut short", self.cut_short.len()));
        }
        if !self.not_started.is_empty() {
            parts.push(format!("{} never started", self.not_started.len()));
        }
        let what = if n == 0 {
            "no replication measured anything: there are no estimates".to_string()
        } else if self.ran.is_empty() {
            format!(
                "estimates cover {n} of {} {}, all cut short: each over the time it simulated",
                self.requested,
                reps(self.requested as usize)
            )
        } else {
            format!(
                "estimates cover the {n} of {} {} that ran to the end",
                self.requested,
                reps(self.requested as usize)
            )
        };
        format!("PARTIAL: {what} ({})", parts.join(", "))
    }
}
