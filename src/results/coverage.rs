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
    /// Sort `reps` of `model` by how far they got.
    pub fn of(model: &Model, reps: &[ReplicationResult]) -> Coverage {
        let mut c = Coverage {
            requested: model.replications,
            ..Coverage::default()
        };
        for r in reps {
            match r.stop {
                StopReason::Horizon | StopReason::Exhausted | StopReason::Stopped { .. } => c.ran.push(r.replication),
                StopReason::EventBudget { at } | StopReason::Interrupted { at } if at > model.warmup_ns => {
                    c.cut_short.push(r.replication)
                }
                StopReason::EventBudget { .. } | StopReason::Interrupted { .. } => c.not_started.push(r.replication),
            }
        }
        c.estimated_from = if c.ran.is_empty() {
            c.cut_short.clone()
        } else {
            c.ran.clone()
        };
        c
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
