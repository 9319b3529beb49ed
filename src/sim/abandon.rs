//! Callers that give up: when a caller stops waiting for an attempt, the attempt — and whatever
//! it is waiting for downstream — works for nobody. A service that stops when its caller is gone
//! ends such work at its next step or query; one that finishes counts the work as wasted.

use super::job::{JobRef, Outcome, Owner, Stage};
use super::tally::WastedWork;
use super::world::{Event, World};
use crate::engine::EventQueue;
use crate::model::CallerGone;

impl World<'_> {
    /// Nobody waits for `job` any more, nor for the attempts it is waiting for downstream.
    pub(super) fn orphan(&mut self, job: JobRef) {
        // Its caller no longer waits for it: from now on it is a request in flight of its own
        // (the attempts below it are still awaited by it).
        self.stop_awaiting(job);
        self.mark_orphaned(job);
    }

    /// Nobody waits for the copies of `job`'s current attempt any more (its caller stopped
    /// waiting for the attempt).
    pub(super) fn orphan_attempt(&mut self, job: JobRef) {
        let Some(j) = self.jobs.get(job) else {
            return;
        };
        let (child, hedge) = (j.child, j.hedge);
        for copy in [child, hedge].into_iter().flatten() {
            self.orphan(copy);
        }
    }

    /// Mark `job` and the attempts it waits for as working for nobody: down its chain of
    /// calls, and down each hedge's chain too.
    fn mark_orphaned(&mut self, job: JobRef) {
        let mut next = Some(job);
        while let Some(r) = next {
            match self.jobs.get_mut(r) {
                Some(j) if !j.orphaned => {
                    j.orphaned = true;
                    next = j.child;
                    if let Some(hedge) = j.hedge {
                        self.mark_orphaned(hedge);
                    }
                }
                _ => return,
            }
        }
    }

    /// Whether the job works for nobody and its service stops such work.
    #[inline]
    pub(super) fn stops_for_nobody(&self, job_ref: JobRef) -> bool {
        match self.jobs.get(job_ref) {
            Some(job) if job.orphaned => match job.owner {
                Owner::Endpoint { endpoint, .. } => {
                    let s = self.model.endpoints[endpoint as usize].service.0;
                    self.model.services[s].on_caller_gone == CallerGone::Stop
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// End a job whose caller has left (its service stops such work). A transaction left behind
    /// by its cache is not a request of its own (the request went on without it): it just goes.
    pub(super) fn stop_for_nobody(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        if self.jobs.get(job_ref).is_some_and(|j| j.stage == Stage::Detached) {
            self.retire(job_ref);
            return;
        }
        if let Some(wasted) = self.wasted_by(job_ref, queue.now()) {
            wasted.stopped += 1;
        }
        self.finish_job(job_ref, Outcome::Error, queue);
    }

    /// The wasted-work tally to charge, when `job_ref` is an endpoint job working for nobody
    /// after the warm-up.
    #[inline]
    pub(super) fn wasted_by(&mut self, job_ref: JobRef, now: crate::engine::Nanos) -> Option<&mut WastedWork> {
        if now < self.model.warmup_ns {
            return None;
        }
        let job = self.jobs.get(job_ref).filter(|j| j.orphaned)?;
        let Owner::Endpoint { endpoint, .. } = job.owner else {
            return None;
        };
        let s = self.model.endpoints[endpoint as usize].service;
        Some(self.services.wasted(s))
    }
}
