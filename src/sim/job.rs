//! Requests in flight: one [`Job`] per attempt at an endpoint (or per client request), kept in a
//! slab and named by index + generation, so a stale reference is recognised instead of followed.

use super::slab::{Key, Slab};
use crate::engine::Nanos;

/// A reference to a job: its slot and the generation of the slot when the job was created.
pub type JobRef = Key<Job>;

/// Slot storage for jobs: generation-checked references, reused slots (see [`super::slab`]).
pub type JobSlab = Slab<Job>;

/// How a request ended, as its caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Served successfully.
    Ok,
    /// The caller stopped waiting for the (last) attempt.
    Timeout,
    /// Refused at admission: a full queue, or too many requests in flight.
    Rejected,
    /// Over a rate limit (HTTP 429); counted with the rejected.
    RateLimited,
    /// Failed along the way: a downstream call failed, a connection could not be had.
    Error,
}

/// Where a caller's current attempt is with its call's bulkhead, if the call has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InBulkhead {
    /// Not in one: no bulkhead, or the attempt is not out.
    No,
    /// Waiting in the line for a place.
    Waiting,
    /// Holding a place until the attempt ends.
    Holding,
}

/// Who a job works for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A client request: its only step is the client's call.
    Client {
        /// Index of the client.
        client: u32,
        /// Index of the closed-loop user, 0 for open clients.
        user: u32,
    },
    /// An attempt at an endpoint, on one instance of its service.
    Endpoint {
        /// Index of the endpoint.
        endpoint: u32,
        /// Index of the instance serving it (set on delivery).
        instance: u32,
    },
    /// A query injected into a database by a timed action (work from outside the model).
    Injected {
        /// Index of the action in the model's timed actions.
        action: u32,
    },
    /// A queue's consumer delivering one received message: its only step is the delivery call.
    Consumer {
        /// Index of the queue.
        queue: u32,
        /// The message in the queue.
        message: super::mqueue::MessageRef,
        /// The message's receive count when this delivery received it.
        receipt: u32,
    },
}

/// Where a job's answer goes.
#[derive(Clone, Copy, Debug)]
pub struct Parent {
    /// The calling job.
    pub job: JobRef,
    /// Which of the caller's attempts this job is: replies to an older attempt are dropped.
    pub attempt: u32,
    /// Network time of the reply (the return half of the round trip).
    pub reply_delay_ns: Nanos,
    /// Whether the reply delay is the same for every call (a constant or absent link).
    pub reply_delay_fixed: bool,
    /// Whether this job is the second copy of its caller's attempt (a hedge).
    pub hedge: bool,
}

/// Where a job is in its life at its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Sent and not admitted: on the network to its service, or a job that no service admits
    /// (a client request, a queue's delivery, an injected query).
    Sent,
    /// Admitted by an instance of its service, counted in its in-flight until it finishes.
    Admitted,
    /// The left-behind copy of an admitted job whose cache stopped waiting for a transaction:
    /// it finishes the transaction for no one, then goes (the request went on as a new job).
    Detached,
}

/// One request in flight and where it is in its endpoint's steps.
///
/// Its lifecycle is [`Job::stage`]; the other flags are facts that vary within a stage: what it
/// holds (a worker, a connection), whether its caller still waits (`awaited`) or left
/// (`orphaned`), whether its unit is in a dedupe store, whether its attempt is a breaker probe.
#[derive(Clone, Debug)]
pub struct Job {
    /// Who the job works for.
    pub owner: Owner,
    /// Whom to answer; `None` for client requests.
    pub parent: Option<Parent>,
    /// Index of the current step.
    pub step: u32,
    /// When the job started (arrival at the service, or the client's first send).
    pub started_ns: Nanos,
    /// Where it is in its life: sent, admitted, or left behind.
    pub stage: Stage,
    /// Its instance's crash count when it arrived: a later crash resets the job.
    pub epoch: u32,
    /// Whether the job holds a worker of its instance.
    pub holds_worker: bool,
    /// Whether the job holds a database connection (pooled or direct).
    pub holds_connection: bool,
    /// Generation of the current call attempt; bumped when an attempt ends, so its stale
    /// timeout or late reply is recognised.
    pub attempt: u32,
    /// Attempts made so far in the current call step.
    pub tries: u32,
    /// Generation of the current wait for a resource (a worker, a connection, a core).
    pub ticket: u32,
    /// Queries left in the current transaction.
    pub queries_left: u32,
    /// Network time of the current query's way back.
    pub query_back_ns: Nanos,
    /// When the current query reached the database.
    pub mark_ns: Nanos,
    /// The unit of work the job is for (see [`super::unit`]).
    pub unit: u32,
    /// The current downstream attempt of a call step, so a caller that gives up can tell it.
    pub child: Option<JobRef>,
    /// The second copy of the current attempt while both copies are out, when the call hedged
    /// (see [`super::hedge`]); once one fails, `child` is the other and this is `None`.
    pub hedge: Option<JobRef>,
    /// Whether whoever waited for this job has stopped waiting (its work is wasted).
    pub orphaned: bool,
    /// Whether the job's unit is recorded in its service's in-flight (dedupe) store.
    pub deduped: bool,
    /// When the current call attempt was sent (for breakers' slow calls).
    pub sent_ns: Nanos,
    /// Whether the current attempt is a half-open breaker's probe.
    pub probe: bool,
    /// Where the current attempt is with its call's bulkhead.
    pub bulkhead: InBulkhead,
    /// The last backoff wait (decorrelated jitter grows from it).
    pub last_backoff_ns: Nanos,
    /// (service, instance) that refused or failed this job's latest call attempt: a retry to a
    /// service with `retry_other_instance` goes elsewhere.
    pub avoid: Option<(u32, u32)>,
    /// Its request class (index in the model's classes), inherited from its caller.
    pub class: Option<u32>,
    /// Whether a live caller is waiting for this job's answer: the request in flight is then
    /// the caller's, counted once (see `World::requests_in_flight`).
    pub awaited: bool,
    /// The cache fill its current step's backend answer makes (a miss of a key space), or
    /// [`super::key_space::NONE`]: the entry is filled when the step succeeds.
    pub fill: u32,
}

impl Job {
    /// A fresh job at its first step, working for `unit`.
    pub fn new(owner: Owner, parent: Option<Parent>, started_ns: Nanos, unit: u32) -> Job {
        Job {
            owner,
            parent,
            step: 0,
            started_ns,
            stage: Stage::Sent,
            epoch: 0,
            holds_worker: false,
            holds_connection: false,
            attempt: 0,
            tries: 0,
            ticket: 0,
            queries_left: 0,
            query_back_ns: 0,
            mark_ns: 0,
            unit,
            child: None,
            hedge: None,
            orphaned: false,
            deduped: false,
            sent_ns: 0,
            probe: false,
            bulkhead: InBulkhead::No,
            last_backoff_ns: 0,
            avoid: None,
            class: None,
            awaited: false,
            fill: super::key_space::NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job::new(Owner::Client { client: 0, user: 0 }, None, 0, 0)
    }

    #[test]
    fn a_removed_jobs_reference_goes_stale_even_when_its_slot_is_reused() {
        let mut slab = JobSlab::default();
        let a = slab.insert(job());
        assert!(slab.remove(a).is_some());
        let b = slab.insert(job());
        assert!(slab.get(a).is_none());
        assert!(slab.get(b).is_some());
        assert!(slab.remove(a).is_none());
        assert_eq!(slab.live(), 1);
    }
}

#[cfg(test)]
mod size_tests {
    use crate::model::memory::REQUEST_JOB_BYTES;

    #[test]
    fn a_job_and_its_pending_events_fit_the_memory_estimate() {
        // The slab entry, two pending events with their (time, sequence) keys, and half again
        // for the slab's growth.
        let entry = std::mem::size_of::<(u32, Option<super::Job>)>() as u64;
        let event = std::mem::size_of::<(u64, u64, crate::sim::world::Event)>() as u64;
        assert!(
            (entry + 2 * event) * 3 / 2 <= REQUEST_JOB_BYTES,
            "entry {entry} B, event {event} B"
        );
    }
}
