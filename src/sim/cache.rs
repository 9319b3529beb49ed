//! Caches in front of call and transaction steps: a hit answers after its own (short) time and
//! skips the step; a miss falls through to the backend; a failed miss may be answered from the
//! stale copy (degraded mode) instead of failing the request. The [`Caches`] component draws the
//! hits and counts; the functions on the world put a cache look-up in the request's path.

use super::job::{JobRef, Outcome, Owner, Stage};
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{Cache, ServiceId, Step};
use rand::RngExt;

/// What one endpoint's caches did, from the warm-up on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct CacheTally {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that fell through to the backend.
    pub misses: u64,
    /// Misses whose backend failed, answered from the stale copy.
    pub stale: u64,
}

/// What a cache look-up found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A hit: the step is answered after `took` nanoseconds.
    Hit {
        /// The hit's time.
        took: Nanos,
    },
    /// A miss: the step runs against its backend.
    Miss,
}

/// Every cache of the model: the draws of hits (one stream per service, shared by its
/// endpoints' caches) and what each endpoint's caches did.
pub struct Caches {
    /// Per service: draws of cache hits and hit times.
    streams: Vec<Stream>,
    /// Per endpoint.
    tallies: Vec<CacheTally>,
    warmup_ns: Nanos,
}

impl Caches {
    /// No look-up yet: `streams` has one stream per service, `endpoints` is the endpoint count.
    pub fn new(streams: Vec<Stream>, endpoints: usize, warmup_ns: Nanos) -> Self {
        Caches {
            streams,
            tallies: vec![CacheTally::default(); endpoints],
            warmup_ns,
        }
    }

    /// Look a step of endpoint `e` (of service `s`) up in `cache` at `now`: a hit with its
    /// time, or a miss.
    pub fn look_up(&mut self, cache: &Cache, e: usize, s: ServiceId, now: Nanos) -> Lookup {
        let counts = now >= self.warmup_ns;
        let rng = &mut self.streams[s.0];
        let hit = rng.random::<f64>() < cache.hit_ratio;
        let tally = &mut self.tallies[e];
        if !hit {
            tally.misses += u64::from(counts);
            return Lookup::Miss;
        }
        tally.hits += u64::from(counts);
        Lookup::Hit {
            took: cache.hit.sample_ns(rng),
        }
    }

    /// A miss of endpoint `e` was answered from the stale copy at `now`.
    pub fn served_stale(&mut self, e: usize, now: Nanos) {
        if now >= self.warmup_ns {
            self.tallies[e].stale += 1;
        }
    }

    /// What each endpoint's caches did.
    pub fn results(self) -> Vec<CacheTally> {
        self.tallies
    }
}

impl<'m> World<'m> {
    /// The endpoint and cache in front of the job's current step, if it has one.
    fn cache_of(&self, job_ref: JobRef) -> Option<(usize, &'m Cache)> {
        let job = self.jobs.get(job_ref)?;
        let Owner::Endpoint { endpoint, .. } = job.owner else {
            return None;
        };
        let e = endpoint as usize;
        let cache = self.model.endpoints[e].caches.get(job.step as usize)?.as_ref()?;
        Some((e, cache))
    }

    /// Look the job's current step up in its cache: on a hit the step is done after the hit's
    /// time and true is returned; on a miss (or without a cache) the step must run.
    pub(super) fn cache_hit(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) -> bool {
        let Some((e, cache)) = self.cache_of(job_ref) else {
            return false;
        };
        let service = self.model.endpoints[e].service;
        match self.caches.look_up(cache, e, service, queue.now()) {
            Lookup::Miss => {
                if let (Some(timeout), Some(job)) = (cache.timeout_ns, self.jobs.get(job_ref)) {
                    let step = job.step;
                    queue.schedule_in(timeout, Event::CacheTimeout { job: job_ref, step });
                }
                false
            }
            Lookup::Hit { took } => {
                queue.schedule_in(took, Event::StepDone(job_ref));
                true
            }
        }
    }

    /// The job's current call or transaction failed: answer from the stale copy when its cache
    /// serves stale data (the job goes on), else the job fails. A job left behind by a cache
    /// timeout just goes.
    pub(super) fn step_failed(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        if self.jobs.get(job_ref).is_some_and(|j| j.stage == Stage::Detached) {
            self.retire(job_ref);
            return;
        }
        match self.cache_of(job_ref) {
            Some((e, cache)) if cache.serve_stale => {
                self.caches.served_stale(e, queue.now());
                if let Some(job) = self.jobs.get_mut(job_ref) {
                    // A later call step starts with all its attempts.
                    job.tries = 0;
                }
                self.next_step(job_ref, queue);
            }
            _ => self.finish_job(job_ref, Outcome::Error, queue),
        }
    }
}

impl World<'_> {
    /// The backend of a cache miss took too long: answer from the stale copy and go on. A call
    /// closes its attempt (a late reply is dropped, as after a timeout); a transaction is left
    /// to a detached copy of the job, which finishes it for no one and goes.
    pub(super) fn on_cache_timeout(&mut self, job_ref: JobRef, step: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self
            .jobs
            .get(job_ref)
            .filter(|j| j.step == step && j.stage != Stage::Detached)
        else {
            return;
        };
        let Some((e, _)) = self.cache_of(job_ref) else {
            return;
        };
        let continuing = match self.step_of(job) {
            Some(Step::Call(_)) => {
                let Some(job) = self.jobs.get_mut(job_ref) else {
                    return;
                };
                job.attempt = job.attempt.wrapping_add(1);
                job.tries = 0;
                // Nobody waits for the attempt any more.
                if let Some(child) = job.child {
                    self.orphan(child);
                }
                self.attempt_closed(job_ref, queue);
                job_ref
            }
            Some(Step::Transaction(_)) => {
                let Some(job) = self.jobs.get_mut(job_ref) else {
                    return;
                };
                // The waiting lines and the database know the job by its reference: the left-behind
                // copy keeps it and the connection; the request goes on as a new job with its
                // caller, its worker and its place in the service.
                let mut request = job.clone();
                job.stage = Stage::Detached;
                job.parent = None;
                job.holds_worker = false;
                request.holds_connection = false;
                // The caller waits for the request copy now (spawn counts it), not the left-behind one.
                self.stop_awaiting(job_ref);
                // Both copies work for the same unit of work.
                self.units.retain(request.unit);
                let caller = request.parent;
                let continuing = self.spawn(request, now);
                // A caller that gives up from now on leaves the request copy, not the left-behind one.
                if let Some(caller) = caller {
                    if let Some(c) = self.jobs.get_mut(caller.job).filter(|c| c.attempt == caller.attempt) {
                        c.child = Some(continuing);
                    }
                }
                continuing
            }
            _ => return,
        };
        self.caches.served_stale(e, now);
        self.next_step(continuing, queue);
    }
}
