//! The cores of services that have fewer cores than workers, across replications: how busy they
//! were and how many CPU steps waited for one (or shared them beyond their count).

use super::merge::estimate;
use crate::model::{CpuSharing, Model};
use crate::sim::ReplicationResult;
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};

/// A service's cores across replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CpuSummary {
    /// The service.
    pub name: String,
    /// Cores per instance.
    pub cores: u32,
    /// How CPU steps share them: "ps" or "fifo".
    pub sharing: String,
    /// Mean share of the cores busy (of the instances in service, for an autoscaled service).
    pub utilisation: Estimate,
    /// Mean CPU steps waiting for a core (FIFO) or sharing beyond the cores (processor sharing).
    pub run_queue: Estimate,
}

/// The services of `model` with cores of their own, over `reps`.
pub(super) fn summaries(model: &Model, reps: &[ReplicationResult]) -> Vec<CpuSummary> {
    model
        .services
        .iter()
        .enumerate()
        .filter_map(|(s, service)| {
            let (cores, sharing) = service.cores?;
            let of: Vec<&ReplicationResult> = reps.iter().filter(|r| r.cpus.get(s).is_some_and(Option::is_some)).collect();
            let instances = |r: &ReplicationResult| {
                r.autoscalers
                    .get(s)
                    .and_then(Option::as_ref)
                    .map_or(f64::from(service.instances), |a| a.in_service_mean)
            };
            let cpu = |r: &ReplicationResult| r.cpus[s].as_ref().map_or((0.0, 0.0), |c| (c.busy_mean, c.queued_mean));
            Some(CpuSummary {
                name: service.name.clone(),
                cores,
                sharing: match sharing {
                    CpuSharing::Ps => "ps".into(),
                    CpuSharing::Fifo => "fifo".into(),
                },
                utilisation: estimate(&of, |r| cpu(r).0 / (f64::from(cores) * instances(r))),
                run_queue: estimate(&of, |r| cpu(r).1),
            })
        })
        .collect()
}
