//! Merging replications as they finish, so memory does not grow with the replication count.
//!
//! A finished replication is split at once ([`Finished::of`], run on the thread that simulated
//! it): its time series — every window of every client, endpoint, station, queue and side
//! effect, the bulk of its memory — are set apart as [`Folds`], its whole-run histograms are
//! settled to the quantiles the summary reads, and what needs the replication whole is worked
//! out there and then (the watched metric's windows for the metastability verdict, the blast
//! radius in its own windows). The [`Merger`] then takes the replications **in replication
//! order**, adds their folds to running sums (one set for the replications that ran, one for
//! those cut short; see [`super::Coverage`]) and keeps the rest, a few hundred bytes per
//! component. The sums are made in the same order as before, so the result does not depend on
//! the number of threads or on how the replications were batched.

use super::cascade::Windows;
use super::coverage::Reach;
use super::merge::MeanRows;
use super::{Coverage, RunResult, Verdict};
use crate::engine::StopReason;
use crate::model::units::format_duration;
use crate::model::Model;
use crate::sim::ReplicationResult;
use crate::stats::{CountSeries, WindowSeries};

/// The time series of one or more replications, summed window by window in replication order.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Folds {
    /// Per client: answers and arrivals (None before any replication).
    pub clients: Vec<Option<Windows>>,
    /// Per endpoint: answers and arrivals.
    pub endpoints: Vec<Option<Windows>>,
    /// Per service: busy workers and waiting requests.
    pub services: Vec<LevelFold>,
    /// Per database: busy cores and waiting queries, and connections in use.
    pub databases: Vec<(LevelFold, MeanRows)>,
    /// Per pool: connections in use and requests waiting for one.
    pub pools: Vec<LevelFold>,
    /// Per message queue: counts by column, backlog and messages in flight.
    pub queues: Vec<QueueFold>,
    /// Per side effect: executions and duplicates.
    pub effects: Vec<Option<CountSeries<2>>>,
    /// Per service: instances in service (empty for a fixed fleet).
    pub autoscalers: Vec<MeanRows>,
    /// Per rate limit or bulkhead: admitted and rejected.
    pub limits: Vec<Option<CountSeries<2>>>,
    /// Per cache with a key space: hits, misses and coalesced look-ups.
    pub caches: Vec<Option<CountSeries<3>>>,
}

/// Busy units and waiting jobs of a station, per window.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(super) struct LevelFold {
    pub busy: MeanRows,
    pub waiting: MeanRows,
}

/// A message queue's windows.
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(super) struct QueueFold {
    pub counts: Option<CountSeries<5>>,
    pub backlog: MeanRows,
    pub invisible: MeanRows,
}

/// Moves a series out of a finished replication (its place keeps an empty one).
fn take_series(series: &mut WindowSeries) -> WindowSeries {
    std::mem::replace(series, WindowSeries::new(0, 1, 0))
}

/// One row of levels as a fold of one replication.
fn rows_of(row: Vec<f64>) -> MeanRows {
    let mut m = MeanRows::default();
    m.add_row(&row);
    m
}

impl Folds {
    /// The series of `rep`, moved out of it.
    fn take(rep: &mut ReplicationResult) -> Folds {
        let windows = |t: &mut crate::sim::tally::RequestTally| {
            Some(Windows {
                answers: take_series(&mut t.series),
                arrivals: take_series(&mut t.arrivals),
            })
        };
        let level = |st: &mut crate::sim::replication::StationResult| LevelFold {
            busy: rows_of(std::mem::take(&mut st.busy_series)),
            waiting: rows_of(std::mem::take(&mut st.waiting_series)),
        };
        Folds {
            clients: rep.clients.iter_mut().map(|c| windows(&mut c.tally)).collect(),
            endpoints: rep.endpoints.iter_mut().map(|e| windows(&mut e.tally)).collect(),
            services: rep.services.iter_mut().map(level).collect(),
            databases: rep
                .databases
                .iter_mut()
                .map(|d| (level(&mut d.cores), rows_of(std::mem::take(&mut d.connections_series))))
                .collect(),
            pools: rep.pools.iter_mut().map(|p| level(&mut p.connections)).collect(),
            queues: rep
                .queues
                .iter_mut()
                .map(|q| QueueFold {
                    counts: Some(std::mem::replace(&mut q.series, CountSeries::new(0, 1, 0))),
                    backlog: rows_of(std::mem::take(&mut q.backlog_series)),
                    invisible: rows_of(std::mem::take(&mut q.invisible_series)),
                })
                .collect(),
            effects: rep
                .effects
                .iter_mut()
                .map(|e| Some(std::mem::replace(&mut e.series, CountSeries::new(0, 1, 0))))
                .collect(),
            autoscalers: rep
                .autoscalers
                .iter_mut()
                .map(|a| {
                    a.as_mut()
                        .map_or_else(MeanRows::default, |a| rows_of(std::mem::take(&mut a.in_service_series)))
                })
                .collect(),
            limits: rep
                .limits
                .iter_mut()
                .map(|l| Some(std::mem::replace(&mut l.series, CountSeries::new(0, 1, 0))))
                .collect(),
            caches: rep
                .caches
                .iter_mut()
                .map(|c| Some(std::mem::replace(&mut c.series, CountSeries::new(0, 1, 0))))
                .collect(),
        }
    }

    /// Adds the next replication's series (`other`), window by window.
    fn add(&mut self, other: Folds) {
        fn windows(mine: &mut Option<Windows>, theirs: Option<Windows>) {
            match (mine.as_mut(), theirs) {
                (_, None) => {}
                (None, theirs) => *mine = theirs,
                (Some(m), Some(t)) => {
                    m.answers.merge(&t.answers);
                    m.arrivals.merge(&t.arrivals);
                }
            }
        }
        fn counts<const K: usize>(mine: &mut Option<CountSeries<K>>, theirs: Option<CountSeries<K>>) {
            match (mine.as_mut(), theirs) {
                (_, None) => {}
                (None, theirs) => *mine = theirs,
                (Some(m), Some(t)) => m.merge(&t),
            }
        }
        fn levels(mine: &mut LevelFold, theirs: LevelFold) {
            mine.busy.add(&theirs.busy);
            mine.waiting.add(&theirs.waiting);
        }
        for (m, t) in self.clients.iter_mut().zip(other.clients) {
            windows(m, t);
        }
        for (m, t) in self.endpoints.iter_mut().zip(other.endpoints) {
            windows(m, t);
        }
        for (m, t) in self.services.iter_mut().zip(other.services) {
            levels(m, t);
        }
        for (m, t) in self.databases.iter_mut().zip(other.databases) {
            levels(&mut m.0, t.0);
            m.1.add(&t.1);
        }
        for (m, t) in self.pools.iter_mut().zip(other.pools) {
            levels(m, t);
        }
        for (m, t) in self.queues.iter_mut().zip(other.queues) {
            counts(&mut m.counts, t.counts);
            m.backlog.add(&t.backlog);
            m.invisible.add(&t.invisible);
        }
        for (m, t) in self.effects.iter_mut().zip(other.effects) {
            counts(m, t);
        }
        for (m, t) in self.autoscalers.iter_mut().zip(other.autoscalers) {
            m.add(&t);
        }
        for (m, t) in self.limits.iter_mut().zip(other.limits) {
            counts(m, t);
        }
        for (m, t) in self.caches.iter_mut().zip(other.caches) {
            counts(m, t);
        }
    }

    /// No replication's series yet: one empty entry per component of `model`.
    fn empty(model: &Model) -> Folds {
        fn none<T>(n: usize) -> Vec<Option<T>> {
            (0..n).map(|_| None).collect()
        }
        fn default<T: Default>(n: usize) -> Vec<T> {
            (0..n).map(|_| T::default()).collect()
        }
        Folds {
            clients: none(model.clients.len()),
            endpoints: none(model.endpoints.len()),
            services: default(model.services.len()),
            databases: default(model.databases.len()),
            pools: default(model.pools.len()),
            queues: default(model.queues.len()),
            effects: none(model.effects.len()),
            autoscalers: default(model.services.len()),
            limits: none(model.limits.len()),
            caches: none(model.key_spaces.len()),
        }
    }
}

/// A replication, split for merging: what the summary reads of it, its series apart, and what
/// needed it whole.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Finished {
    /// The replication without its series, its histograms settled.
    rep: ReplicationResult,
    /// Its series, to be added to the running sums.
    folds: Folds,
    /// The watched metric in each of its own windows (a metastability watch only).
    watched: Option<Vec<(f64, f64)>>,
    /// Share of endpoints and of real traffic whose SLO breached in its own windows (a model
    /// with SLOs only).
    shares: Option<(f64, f64)>,
    /// The value of every SLO objective in its own windows, for SLOs judged on windows (none
    /// when every SLO is judged on the run).
    window_values: Option<Vec<f64>>,
}

impl Finished {
    /// Splits `rep` of `model` for merging (on the thread that simulated it).
    pub fn of(model: &Model, rep: ReplicationResult) -> Finished {
        let watched = model.metastability.as_ref().map(|_| watched_windows(model, rep.clone()));
        Finished::split(model, rep, watched)
    }

    /// Whether the replication ran to its horizon (or out of events), not cut short by a bound
    /// or an interruption.
    pub fn ran_to_the_end(&self) -> bool {
        matches!(self.rep.stop, StopReason::Horizon | StopReason::Exhausted)
    }

    /// [`Finished::of`] with the watched windows given (or not wanted).
    fn split(model: &Model, mut rep: ReplicationResult, watched: Option<Vec<(f64, f64)>>) -> Finished {
        let folds = Folds::take(&mut rep);
        let shares =
            (!model.slos.is_empty()).then(|| super::cascade::shares_in_own_windows(model, &folds.clients, &folds.endpoints));
        let window_values = model
            .slos
            .iter()
            .any(|s| s.judge != crate::model::Judge::Run)
            .then(|| super::slo::own_window_values(model, &folds.clients, &folds.endpoints));
        settle_histograms(&mut rep);
        Finished {
            rep,
            folds,
            watched,
            shares,
            window_values,
        }
    }
}

/// The watched metric of `model`'s metastability watch in each window of `rep` alone (empty
/// without a watch, or when the replication measured nothing).
pub fn watched_windows(model: &Model, rep: ReplicationResult) -> Vec<(f64, f64)> {
    let Some(metric) = &model.metastability else {
        return Vec::new();
    };
    let mut alone = Merger::new(model, &[]);
    alone.add(Finished::split(model, rep, None));
    super::metric::series(&alone.finish(), metric).unwrap_or_default()
}

/// Drops the buckets of every whole-run histogram of `rep`, keeping what the summary reads.
fn settle_histograms(rep: &mut ReplicationResult) {
    for c in &mut rep.clients {
        c.tally.latency_ok.settle();
    }
    for e in &mut rep.endpoints {
        e.tally.latency_ok.settle();
    }
    for q in &mut rep.queues {
        q.tally.latency_ok.settle();
    }
    for s in &mut rep.services {
        s.wait.settle();
    }
    for d in &mut rep.databases {
        d.query_time.settle();
        d.cores.wait.settle();
    }
    for p in &mut rep.pools {
        p.connections.wait.settle();
    }
}

/// The replications of one reach (ran, or cut short), merged so far.
pub(super) struct Kept {
    /// The replications, in order, without their series.
    pub reps: Vec<ReplicationResult>,
    /// Their series, summed.
    pub folds: Folds,
    /// Each one's blast radius in its own windows (models with SLOs).
    pub shares: Vec<(f64, f64)>,
    /// Each one's SLO objectives in its own windows (SLOs judged on windows).
    pub window_values: Vec<Vec<f64>>,
}

impl Kept {
    /// No replication yet.
    fn new(model: &Model) -> Kept {
        Kept {
            reps: Vec::new(),
            folds: Folds::empty(model),
            shares: Vec::new(),
            window_values: Vec::new(),
        }
    }
}

/// Replications merged one at a time, in replication order, into a [`RunResult`].
pub struct Merger<'m> {
    model: &'m Model,
    warnings: Vec<String>,
    coverage: Coverage,
    messages: Vec<String>,
    unstable: bool,
    ran: Kept,
    cut_short: Kept,
    /// The watched metric's windows, per replication in order (every replication).
    watched: Vec<Vec<(f64, f64)>>,
    /// The same for each replication of the model without its trigger, when judged against it.
    reference: Option<Vec<Vec<(f64, f64)>>>,
}

impl<'m> Merger<'m> {
    /// Nothing merged yet; `warnings` from validation are carried into the result.
    pub fn new(model: &'m Model, warnings: &[String]) -> Merger<'m> {
        Merger {
            model,
            warnings: warnings.to_vec(),
            coverage: Coverage {
                requested: model.replications,
                ..Coverage::default()
            },
            messages: Vec::new(),
            unstable: false,
            ran: Kept::new(model),
            cut_short: Kept::new(model),
            watched: Vec::new(),
            reference: None,
        }
    }

    /// Merges the next replication (replications must come in replication order).
    pub fn add(&mut self, finished: Finished) {
        let model = self.model;
        let Finished {
            rep,
            folds,
            watched,
            shares,
            window_values,
        } = finished;
        match &rep.stop {
            StopReason::Horizon | StopReason::Exhausted => {}
            StopReason::EventBudget { at } => self.messages.push(format!(
                "replication {}: stopped at t = {} after the event budget of {} events",
                rep.replication,
                format_duration(*at),
                model.max_events
            )),
            StopReason::Interrupted { at } => self.messages.push(format!(
                "replication {}: interrupted at t = {}{}",
                rep.replication,
                format_duration(*at),
                if *at <= model.warmup_ns {
                    ", before it measured anything"
                } else {
                    ""
                }
            )),
            StopReason::Stopped { reason, .. } => {
                self.unstable = true;
                self.messages.push(format!("replication {}: {reason}", rep.replication));
            }
        }
        if let Some(w) = watched {
            self.watched.push(w);
        }
        // Replications cut short are estimated from only while none ran: once one has, their
        // sums are dropped and no more are made.
        let kept = match self.coverage.add(model, &rep) {
            Reach::Ran => {
                if !self.cut_short.reps.is_empty() {
                    self.cut_short = Kept::new(model);
                }
                &mut self.ran
            }
            Reach::CutShort if self.ran.reps.is_empty() => &mut self.cut_short,
            Reach::CutShort | Reach::NotStarted => return,
        };
        kept.folds.add(folds);
        kept.shares.extend(shares);
        kept.window_values.extend(window_values);
        kept.reps.push(rep);
    }

    /// Adds the watched windows of the next replication of the model without its trigger (the
    /// metastability reference under a load profile), in replication order.
    pub fn add_reference(&mut self, windows: Vec<(f64, f64)>) {
        self.reference.get_or_insert_with(Vec::new).push(windows);
    }

    /// The merged result: every estimate covers the replications [`Coverage`] says it does
    /// (those that ran to the end; the ones cut short when none did), and the verdict lists
    /// every replication that stopped early.
    pub fn finish(self) -> RunResult {
        let Merger {
            model,
            warnings,
            mut coverage,
            messages,
            unstable,
            ran,
            cut_short,
            watched,
            reference,
        } = self;
        coverage.settle();
        let kept = if ran.reps.is_empty() { cut_short } else { ran };
        let verdict = Verdict {
            complete: messages.is_empty(),
            unstable,
            messages,
            replications: coverage,
        };
        let mut result = super::merge::summary(model, &warnings, verdict, &kept);
        if model.metastability.is_some() {
            result.metastability = super::resilience::metastability(model, &result, &watched, reference.as_deref());
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use crate::model::memory::{KEPT_COMPONENT_BYTES, KEPT_REPLICATION_BYTES};
    use crate::sim::replication::*;
    use crate::sim::tally::{EffectTally, WastedWork};
    use std::mem::size_of;

    #[test]
    fn a_merged_replication_keeps_no_more_than_the_memory_estimate_counts() {
        // A settled histogram keeps its quantiles in a box (plus the allocator's header).
        let settled = size_of::<[u64; crate::stats::SETTLED_QUANTILES.len()]>() + 16;
        let components = [
            ("client", size_of::<ClientResult>() + settled),
            ("endpoint", size_of::<EndpointResult>() + settled),
            (
                "service",
                size_of::<StationResult>() + settled + size_of::<LifeResult>() + size_of::<WastedWork>(),
            ),
            ("database", size_of::<DatabaseResult>() + 2 * settled),
            ("pool", size_of::<PoolResult>() + settled),
            ("queue", size_of::<QueueResult>() + settled),
            ("side effect", size_of::<EffectTally>()),
            ("call site", size_of::<SiteResult>()),
            ("rollout", size_of::<RolloutResult>()),
        ];
        for (what, bytes) in components {
            assert!(bytes as u64 <= KEPT_COMPONENT_BYTES, "a {what} keeps {bytes} bytes");
        }
        // The replication itself, its place in the coverage lists and its blast-radius shares.
        let own = size_of::<ReplicationResult>() + size_of::<u32>() + size_of::<(f64, f64)>();
        assert!(own as u64 <= KEPT_REPLICATION_BYTES, "a replication keeps {own} bytes");
    }
}
