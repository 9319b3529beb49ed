//! Caches in front of call and transaction steps: a hit answers after its own (short) time and
//! skips the step; a miss falls through to the backend; a failed miss may be answered from the
//! stale copy (degraded mode) instead of failing the request. The [`Caches`] component decides
//! look-ups and counts; the functions on the world put a cache look-up in the request's path.
//!
//! A cache is either a fixed hit ratio (a draw per look-up) or a key space (`key_space.rs`): a
//! look-up draws a key, and a miss *fills* the key's entry when its backend step succeeds (the
//! job carries its fill; `next_step` completes it, `step_failed` fails it, and a job retired
//! while filling abandons it). With coalescing, misses of a key being filled wait for that fill
//! and are answered with it (`Event::CacheFill`), or fail (stale if the cache allows) with it.

use super::job::{JobRef, Outcome, Owner, Stage};
use super::key_space::{Found, KeySpaceState, KeySpaceTally, NONE};
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{Cache, KeySpace, Lookup, ServiceId, Step};
use rand::RngExt;

/// What one endpoint's caches did, from the warm-up on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub struct CacheTally {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that fell through to the backend (or, with coalescing, waited for another's fill).
    pub misses: u64,
    /// Misses whose backend failed, answered from the stale copy.
    pub stale: u64,
}

/// What a cache look-up found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A hit: the step is answered after `took` nanoseconds.
    Hit {
        /// The hit's time.
        took: Nanos,
    },
    /// A miss: the step runs against its backend, and its success fills fill `fill` (NONE for
    /// a cache without keys).
    Miss {
        /// The fill the backend's answer makes.
        fill: u32,
    },
    /// A miss of a key whose fill is in flight: the step waits for it.
    Waits {
        /// The fill it waits for.
        fill: u32,
    },
}

/// A miss's fill in flight: the key it fills and the look-ups waiting for it.
#[derive(Clone, Copy, Debug)]
struct Fill {
    space: u32,
    key: u32,
    /// First and last waiter (indices in `Caches::waiters`), NONE when none wait.
    first: u32,
    last: u32,
}

/// A look-up waiting for a fill: the job, at the step it looked up.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    job: JobRef,
    step: u32,
    next: u32,
}

/// Every cache of the model: the draws of hits and keys (one stream per service, shared by its
/// endpoints' caches), the key spaces' entries, the fills in flight, and what each endpoint's
/// caches did.
pub struct Caches {
    /// Per service: draws of cache hits, keys and hit times.
    streams: Vec<Stream>,
    /// Per endpoint.
    tallies: Vec<CacheTally>,
    /// Per key space of the model.
    spaces: Vec<KeySpaceState>,
    /// Fills in flight (slots reused through `free_fills`).
    fills: Vec<Fill>,
    free_fills: Vec<u32>,
    /// Look-ups waiting for fills (slots reused through `free_waiters`).
    waiters: Vec<Waiter>,
    free_waiters: Vec<u32>,
    /// Fills whose job was retired without an answer: their waiters are told at the end of the
    /// event.
    abandoned: Vec<u32>,
    warmup_ns: Nanos,
}

impl Caches {
    /// No look-up yet: `streams` has one stream per service, `endpoints` is the endpoint count,
    /// `spaces` the model's key spaces (empty, or full when warm).
    pub fn new(streams: Vec<Stream>, endpoints: usize, spaces: &[KeySpace], windows: (Nanos, Nanos, usize)) -> Self {
        Caches {
            streams,
            tallies: vec![CacheTally::default(); endpoints],
            spaces: spaces.iter().map(|k| KeySpaceState::new(k, windows)).collect(),
            fills: Vec::new(),
            free_fills: Vec::new(),
            waiters: Vec::new(),
            free_waiters: Vec::new(),
            abandoned: Vec::new(),
            warmup_ns: windows.0,
        }
    }

    /// Look a step of endpoint `e` (of service `s`) up in `cache` at `now`: a hit with its
    /// time, a miss (with the fill its answer makes), or a wait for a fill in flight.
    pub fn look_up(&mut self, cache: &Cache, e: usize, s: ServiceId, now: Nanos) -> Answer {
        let counts = u64::from(now >= self.warmup_ns);
        let rng = &mut self.streams[s.0];
        let hit = match cache.lookup {
            Lookup::Ratio(ratio) => rng.random::<f64>() < ratio,
            Lookup::Keys(k) => {
                let space = &mut self.spaces[k as usize];
                let key = space.draw(rng);
                match space.look_up(key, now) {
                    Found::Hit => true,
                    Found::Miss => {
                        self.tallies[e].misses += counts;
                        let fill = self.start_fill(k, key);
                        return Answer::Miss { fill };
                    }
                    Found::Filling(fill) => {
                        self.tallies[e].misses += counts;
                        return Answer::Waits { fill };
                    }
                }
            }
        };
        let tally = &mut self.tallies[e];
        if !hit {
            tally.misses += counts;
            return Answer::Miss { fill: NONE };
        }
        tally.hits += counts;
        Answer::Hit {
            took: cache.hit.sample_ns(&mut self.streams[s.0]),
        }
    }

    /// A new fill of `key` in key space `k`; a coalescing space sends the key's next misses to it.
    fn start_fill(&mut self, k: u32, key: u32) -> u32 {
        let fill = Fill {
            space: k,
            key,
            first: NONE,
            last: NONE,
        };
        let id = match self.free_fills.pop() {
            Some(id) => {
                self.fills[id as usize] = fill;
                id
            }
            None => {
                self.fills.push(fill);
                self.fills.len() as u32 - 1
            }
        };
        self.spaces[k as usize].start_fill(key, id);
        id
    }

    /// Job `job` at step `step` waits for fill `fill` (its key's, in flight).
    pub fn wait_for(&mut self, fill: u32, job: JobRef, step: u32) {
        let waiter = Waiter { job, step, next: NONE };
        let id = match self.free_waiters.pop() {
            Some(id) => {
                self.waiters[id as usize] = waiter;
                id
            }
            None => {
                self.waiters.push(waiter);
                self.waiters.len() as u32 - 1
            }
        };
        let f = &mut self.fills[fill as usize];
        if f.last == NONE {
            f.first = id;
        } else {
            self.waiters[f.last as usize].next = id;
        }
        f.last = id;
    }

    /// Fill `fill` is over at `now`: `ok`, its key gets an entry. Each job still waiting for it
    /// is told (in the order they came) by an event at once.
    pub fn end_fill(&mut self, fill: u32, ok: bool, now: Nanos, queue: &mut EventQueue<Event>) {
        let f = self.fills[fill as usize];
        let space = &mut self.spaces[f.space as usize];
        space.end_fill(f.key, fill);
        if ok {
            space.fill(f.key, now);
        }
        let mut w = f.first;
        while w != NONE {
            let waiter = self.waiters[w as usize];
            queue.schedule_in(
                0,
                Event::CacheFill {
                    job: waiter.job,
                    step: waiter.step,
                    ok,
                },
            );
            self.free_waiters.push(w);
            w = waiter.next;
        }
        self.free_fills.push(fill);
    }

    /// A miss of endpoint `e` was answered from the stale copy at `now` (in front of `cache`).
    pub fn served_stale(&mut self, cache: &Cache, e: usize, now: Nanos) {
        if now >= self.warmup_ns {
            self.tallies[e].stale += 1;
        }
        if let Lookup::Keys(k) = cache.lookup {
            self.spaces[k as usize].served_stale(now);
        }
    }

    /// Key space `k` drops every entry.
    pub fn flush(&mut self, k: u32) {
        self.spaces[k as usize].flush();
    }

    /// The job filling `fill` was retired without an answer: the fill is failed at the end of
    /// the event.
    pub fn abandon(&mut self, fill: u32) {
        self.abandoned.push(fill);
    }

    /// Fail the fills abandoned during the event.
    pub fn settle_abandoned(&mut self, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        while let Some(fill) = self.abandoned.pop() {
            self.end_fill(fill, false, now, queue);
        }
    }

    /// Whether a fill was abandoned during the event.
    pub fn any_abandoned(&self) -> bool {
        !self.abandoned.is_empty()
    }

    /// What each endpoint's caches did, and each key space.
    pub fn results(self) -> (Vec<CacheTally>, Vec<KeySpaceTally>) {
        (self.tallies, self.spaces.into_iter().map(|s| s.tally).collect())
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
    /// time and true is returned; a look-up that waits for its key's fill in flight also returns
    /// true (the fill's answer moves it on); on a miss (or without a cache) the step must run.
    pub(super) fn cache_hit(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) -> bool {
        let Some((e, cache)) = self.cache_of(job_ref) else {
            return false;
        };
        let service = self.model.endpoints[e].service;
        let waiting = match self.caches.look_up(cache, e, service, queue.now()) {
            Answer::Hit { took } => {
                queue.schedule_in(took, Event::StepDone(job_ref));
                return true;
            }
            Answer::Miss { fill } => {
                if let Some(job) = self.jobs.get_mut(job_ref) {
                    job.fill = fill;
                }
                false
            }
            Answer::Waits { fill } => {
                if let Some(job) = self.jobs.get(job_ref) {
                    self.caches.wait_for(fill, job_ref, job.step);
                }
                true
            }
        };
        if let (Some(timeout), Some(job)) = (cache.timeout_ns, self.jobs.get(job_ref)) {
            let step = job.step;
            queue.schedule_in(timeout, Event::CacheTimeout { job: job_ref, step });
        }
        waiting
    }

    /// The job's step ended, `ok` when its backend answered: the fill its miss makes (if any) is
    /// done, and whoever waits for it is told.
    pub(super) fn fill_over(&mut self, job_ref: JobRef, ok: bool, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        let fill = std::mem::replace(&mut job.fill, NONE);
        if fill != NONE {
            self.caches.end_fill(fill, ok, queue.now(), queue);
        }
    }

    /// The fill a look-up waited for is over: answered, the step is done as on a hit; failed,
    /// the step failed (stale when the cache allows). A job that has moved on since (its cache
    /// timed out) ignores it.
    pub(super) fn on_cache_fill(&mut self, job_ref: JobRef, step: u32, ok: bool, queue: &mut EventQueue<Event>) {
        if self.jobs.get(job_ref).is_none_or(|j| j.step != step) {
            return;
        }
        if ok {
            self.on_step_done(job_ref, queue);
        } else {
            self.step_failed(job_ref, queue);
        }
    }

    /// The job's current call or transaction failed: answer from the stale copy when its cache
    /// serves stale data (the job goes on), else the job fails. A job left behind by a cache
    /// timeout just goes. Either way its miss fills nothing.
    pub(super) fn step_failed(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        self.fill_over(job_ref, false, queue);
        if self.jobs.get(job_ref).is_some_and(|j| j.stage == Stage::Detached) {
            self.retire(job_ref);
            return;
        }
        match self.cache_of(job_ref) {
            Some((e, cache)) if cache.serve_stale => {
                self.caches.served_stale(cache, e, queue.now());
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
        let Some((e, cache)) = self.cache_of(job_ref) else {
            return;
        };
        let continuing = match self.step_of(job) {
            Some(Step::Call(_)) => {
                // The late answer will be dropped: the miss fills nothing.
                self.fill_over(job_ref, false, queue);
                let Some(job) = self.jobs.get_mut(job_ref) else {
                    return;
                };
                job.attempt = job.attempt.wrapping_add(1);
                job.tries = 0;
                // Nobody waits for the attempt (nor its hedge) any more.
                self.orphan_attempt(job_ref);
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
                // The left-behind copy's answer still fills the cache.
                request.fill = NONE;
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
                        if c.hedge == Some(job_ref) {
                            c.hedge = Some(continuing);
                        } else {
                            c.child = Some(continuing);
                        }
                    }
                }
                continuing
            }
            _ => return,
        };
        self.caches.served_stale(cache, e, now);
        self.next_step(continuing, queue);
    }
}
