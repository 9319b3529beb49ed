//! Running a model's replications on the threads of the current pool and merging them, in
//! replication order, as they finish.
//!
//! Every thread takes the next replication index from one counter, so the oldest replication not
//! yet merged is always being simulated somewhere. A finished replication waits in `finished`
//! until every one before it has been merged; whichever thread completes the oldest merges all
//! those now in order. A thread does not start a replication more than a window of
//! [`FINISHED_PER_THREAD`] × threads ahead of the oldest one not merged (it waits for it), so at
//! most that many replications are held at once, whatever the replication count, and no thread
//! idles at a batch boundary. The merge order is the replication order, so the result does not
//! depend on the thread count or on which thread finished first.
//!
//! Whoever runs them may watch them: a hook is told of each replication as it finishes (one call
//! per replication, never per event), which draws a progress bar and changes nothing else.

use crate::model::memory::FINISHED_PER_THREAD;
use crate::model::Model;
use crate::results::{self, Finished, Merger, RunResult};
use crate::sim;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};

/// One replication, split for merging, with the watched windows of the same replication of the
/// model without its trigger when the metastability verdict is judged against that. This is
/// what a run's shard file holds per replication (`workflow::run_shards`).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Replicated {
    /// The replication, split for the merger.
    pub finished: Finished,
    /// The reference's watched windows (a metastability watch under a load profile only).
    pub reference: Option<Vec<(f64, f64)>>,
}

impl Replicated {
    /// Merge it into `merger` (in replication order).
    pub fn merge_into(self, merger: &mut Merger) {
        merger.add(self.finished);
        if let Some(windows) = self.reference {
            merger.add_reference(windows);
        }
    }
}

/// How far a run is: told to a progress hook each time one of its replications finishes (one
/// cut short by an interrupt or a bound counts too), `done` going from 1 to `of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Replications of the run finished so far.
    pub done: u32,
    /// Replications the run has (a shard's slice of them for a shard).
    pub of: u32,
}

/// A progress hook that watches nothing.
pub fn unwatched(_: Progress) {}

/// The hand-over so far, shared by the threads.
struct HandOver<T> {
    /// What takes each replication, in order (the merger, or a shard file's writer).
    take: T,
    /// Replications finished but not taken yet (some earlier one is still being simulated).
    finished: BTreeMap<u32, Replicated>,
    /// Replications taken: first..taken.
    taken: u32,
    /// Replications simulated, taken or not.
    simulated: u32,
}

/// Simulate every replication of `model` on the current pool's threads (stopping early when
/// `interrupt` is raised), telling `progress` of each as it finishes, and merge them; `warnings`
/// from validation are carried into the result.
pub fn simulate_and_merge(
    model: &Model,
    warnings: &[String],
    interrupt: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> RunResult {
    let mut merger = Merger::new(model, warnings);
    simulate_in_order(model, 0..model.replications, interrupt, progress, |_, done| {
        done.merge_into(&mut merger)
    });
    merger.finish()
}

/// Simulate replications `range` of `model` on the current pool's threads (stopping early when
/// `interrupt` is raised), telling `progress` of each as it finishes, and hand each to `take` in
/// replication order, whichever thread finished it.
pub fn simulate_in_order(
    model: &Model,
    range: std::ops::Range<u32>,
    interrupt: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
    take: impl FnMut(u32, Replicated) + Send,
) {
    // A metastability watch under a load profile compares each replication with the same
    // replication of the model without its trigger (common random numbers): run both.
    let calm = model
        .metastability
        .as_ref()
        .filter(|_| model.load_follows_a_profile())
        .and_then(|_| crate::scenario::without_trigger(model));
    let simulate = |r: u32| -> Replicated {
        let finished = Finished::of(model, sim::run_replication(model, r, interrupt));
        let reference = calm
            .as_ref()
            .map(|calm| results::watched_windows(model, sim::run_replication(calm, r, interrupt)));
        Replicated { finished, reference }
    };
    let window = (FINISHED_PER_THREAD as usize * rayon::current_num_threads()).max(1) as u32;
    let next = AtomicU32::new(range.start);
    let of = range.len() as u32;
    let hand_over = Mutex::new(HandOver {
        take,
        finished: BTreeMap::new(),
        taken: range.start,
        simulated: 0,
    });
    let taken_more = Condvar::new();
    rayon::broadcast(|_| loop {
        let r = next.fetch_add(1, Ordering::Relaxed);
        if r >= range.end {
            break;
        }
        {
            let mut p = hand_over.lock().expect("no thread panicked while merging");
            while r >= p.taken.saturating_add(window) {
                p = taken_more.wait(p).expect("no thread panicked while merging");
            }
        }
        let done = simulate(r);
        let mut p = hand_over.lock().expect("no thread panicked while merging");
        p.finished.insert(r, done);
        p.simulated += 1;
        progress(Progress { done: p.simulated, of });
        let before = p.taken;
        loop {
            let oldest = p.taken;
            let Some(done) = p.finished.remove(&oldest) else {
                break;
            };
            (p.take)(oldest, done);
            p.taken += 1;
        }
        if p.taken > before {
            taken_more.notify_all();
        }
    });
    let hand_over = hand_over.into_inner().expect("no thread panicked while merging");
    debug_assert!(hand_over.finished.is_empty() && hand_over.taken == range.end.max(range.start));
}
