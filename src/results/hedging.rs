//! Hedged calls across replications: how often a second copy went out (the extra load), how
//! often it answered first, and the delay the copies waited.

use super::merge::estimate;
use crate::model::Model;
use crate::sim::ReplicationResult;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// A call site that hedges, across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HedgeSummary {
    /// "web.hedge" for a client, "api.search->index.query.hedge" for a call step.
    pub name: String,
    /// "after 50ms" or "at p95".
    pub setting: String,
    /// Attempts sent, total over replications after the warm-up.
    pub attempts: u64,
    /// Second copies sent, total.
    pub hedges: u64,
    /// Attempts the second copy answered first, total.
    pub won: u64,
    /// Second copies per attempt: the extra load the hedging puts on the endpoint called.
    pub extra_load: Estimate,
    /// Share of the second copies that answered first.
    pub won_share: Estimate,
    /// Mean delay before a second copy, milliseconds (a percentile's moves with the answers).
    pub delay_ms: Estimate,
}

/// The call sites of `model` that hedge, over `reps`.
pub(super) fn summaries(model: &Model, reps: &[ReplicationResult]) -> Vec<HedgeSummary> {
    model
        .call_sites
        .iter()
        .enumerate()
        .filter_map(|(i, site)| {
            let hedge = site.hedge.as_ref()?;
            let of: Vec<_> = reps.iter().filter_map(|r| r.hedges.get(i).copied().flatten()).collect();
            let ratio = |a: u64, b: u64| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
            Some(HedgeSummary {
                name: hedge.name.clone(),
                setting: hedge.trigger.setting(),
                attempts: of.iter().map(|h| h.attempts).sum(),
                hedges: of.iter().map(|h| h.hedges).sum(),
                won: of.iter().map(|h| h.won).sum(),
                extra_load: estimate(&of, |h| ratio(h.hedges, h.attempts)),
                won_share: estimate(&of, |h| ratio(h.won, h.hedges)),
                delay_ms: estimate(&of, |h| {
                    if h.armed == 0 {
                        f64::NAN
                    } else {
                        h.delay_sum_ns / h.armed as f64 / 1e6
                    }
                }),
            })
        })
        .collect()
}
