//! Side effects (an email sent, a payment captured): counted when the step that has one
//! completes, per unit of work, so a unit that gets it twice shows as a duplicate.

use super::job::{JobRef, Owner};
use super::world::World;
use crate::engine::Nanos;

impl World<'_> {
    /// The job's current step completed at `now`: record its side effect, if it has one.
    pub(super) fn record_effect(&mut self, job_ref: JobRef, now: Nanos) {
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let Owner::Endpoint { endpoint, .. } = job.owner else {
            return;
        };
        let Some(Some(effect)) = self.model.endpoints[endpoint as usize].effects.get(job.step as usize) else {
            return;
        };
        let (unit, orphaned) = (job.unit, job.orphaned);
        let duplicate = self.units.record_effect(unit, *effect);
        self.effects[*effect as usize].record(now, duplicate, orphaned);
    }
}
