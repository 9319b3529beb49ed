//! Rollouts: a change (every CPU step costs `cpu_factor` times more) put on a canary share of a
//! service's instances or on all of them, widened after a bake time, and undone by hand (the
//! action's `for`) or by a rollback rule watching the changed instances' requests in windows.
//! The component decides when the change goes where; the services carry it out.

use super::job::Outcome;
use super::replication::RolloutResult;
use super::world::{Event, RolloutEvent};
use crate::engine::{EventQueue, Nanos};
use crate::model::{ActionKind, Rollout, ServiceId, TimedAction};
use crate::stats::LatencyHistogram;

/// What a rollout has done so far in one replication, and its current window of observations.
#[derive(Default)]
struct RolloutState {
    /// The change is on some instances.
    active: bool,
    /// The change went beyond the canary to every instance.
    widened: bool,
    /// When the rule fired, if it did.
    fired_at_ns: Option<Nanos>,
    /// When the change was undone, if it was.
    undone_at_ns: Option<Nanos>,
    /// Requests finished on changed instances in the current window.
    finished: u64,
    /// Those that did not end well.
    failed: u64,
    /// Latencies of those that ended well.
    latency: Option<LatencyHistogram>,
}

/// What the services must do for a rollout.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Nothing.
    None,
    /// Put rollout `action`'s change (CPU steps × `factor`) on instances `instances` of `service`.
    Apply {
        /// The rollout's timed action index (the instances remember the change by it).
        action: u32,
        /// The rolled-out service.
        service: ServiceId,
        /// The instances that get the change.
        instances: std::ops::Range<u32>,
        /// Multiplier of CPU steps.
        factor: f64,
    },
    /// Take rollout `action`'s change off every instance of `service`.
    Undo {
        /// The rollout's timed action index.
        action: u32,
        /// The rolled-out service.
        service: ServiceId,
    },
}

/// Every rollout of the model, by timed action index (other actions have an unused state).
pub struct Rollouts<'m> {
    actions: &'m [TimedAction],
    /// Instances of each service, by service index (a widened rollout covers them all).
    instances: Vec<u32>,
    states: Vec<RolloutState>,
}

impl<'m> Rollouts<'m> {
    /// No rollout started yet; `instances` has each service's instance count.
    pub fn new(actions: &'m [TimedAction], instances: Vec<u32>) -> Self {
        Rollouts {
            actions,
            instances,
            states: actions.iter().map(|_| RolloutState::default()).collect(),
        }
    }

    /// The rollout of timed action `action`, if it is one.
    fn rollout(&self, action: u32) -> Option<&'m Rollout> {
        match &self.actions[action as usize].kind {
            ActionKind::Rollout(r) => Some(r),
            _ => None,
        }
    }

    /// The rollout's action starts: the change goes to its first instances, the bake time and
    /// the rule's first window start. Undone by hand (`undo`): the change goes everywhere away.
    pub fn on_action(&mut self, action: u32, undo: bool, queue: &mut EventQueue<Event>) -> Change {
        if undo {
            return self.undo(action, queue.now());
        }
        let Some(r) = self.rollout(action) else {
            return Change::None;
        };
        self.states[action as usize].active = true;
        if let Some(bake) = r.bake_ns {
            queue.schedule_in(
                bake,
                Event::Rollout {
                    action,
                    what: RolloutEvent::Widen,
                },
            );
        }
        if let Some(window) = r.rollback.as_ref().map(|rule| rule.window_ns) {
            queue.schedule_in(
                window,
                Event::Rollout {
                    action,
                    what: RolloutEvent::Evaluate,
                },
            );
        }
        Change::Apply {
            action,
            service: r.service,
            instances: 0..r.first,
            factor: r.cpu_factor,
        }
    }

    /// Undo the change everywhere (once).
    fn undo(&mut self, action: u32, now: Nanos) -> Change {
        let Some(r) = self.rollout(action) else {
            return Change::None;
        };
        let state = &mut self.states[action as usize];
        if !state.active {
            return Change::None;
        }
        state.active = false;
        state.undone_at_ns = Some(now);
        Change::Undo {
            action,
            service: r.service,
        }
    }

    /// The canary has baked, the rule has a window to judge, or the rollback is due.
    pub fn on_event(&mut self, action: u32, what: RolloutEvent, queue: &mut EventQueue<Event>) -> Change {
        let now = queue.now();
        let Some(r) = self.rollout(action) else {
            return Change::None;
        };
        let all = self.instances[r.service.0];
        let state = &mut self.states[action as usize];
        if !state.active {
            return Change::None;
        }
        match what {
            RolloutEvent::Widen => {
                if state.fired_at_ns.is_some() {
                    return Change::None;
                }
                state.widened = true;
                Change::Apply {
                    action,
                    service: r.service,
                    instances: 0..all,
                    factor: r.cpu_factor,
                }
            }
            RolloutEvent::Undo => self.undo(action, now),
            RolloutEvent::Evaluate => {
                let Some(rule) = &r.rollback else {
                    return Change::None;
                };
                let error_rate = state.failed as f64 / state.finished.max(1) as f64;
                let p99 = state.latency.as_ref().map_or(0, |h| h.quantile_ns(0.99));
                let fires = rule.error_rate.is_some_and(|bound| state.finished > 0 && error_rate > bound)
                    || rule.p99_ns.is_some_and(|bound| p99 > bound);
                state.finished = 0;
                state.failed = 0;
                state.latency = None;
                let (after, what) = if fires {
                    state.fired_at_ns = Some(now);
                    (rule.reaction_ns, RolloutEvent::Undo)
                } else {
                    (rule.window_ns, RolloutEvent::Evaluate)
                };
                queue.schedule_in(after, Event::Rollout { action, what });
                Change::None
            }
        }
    }

    /// A request that started at `started_ns` finished at `now` on an instance running rollout
    /// `action`'s change (a refusal counts as a failure started and ended at once).
    pub fn record(&mut self, action: u32, now: Nanos, started_ns: Nanos, outcome: Outcome) {
        let state = &mut self.states[action as usize];
        state.finished += 1;
        if outcome == Outcome::Ok {
            state
                .latency
                .get_or_insert_with(LatencyHistogram::new)
                .record(now - started_ns);
        } else {
            state.failed += 1;
        }
    }

    /// What each rollout did, in the order of the model's timed actions.
    pub fn results(&self) -> Vec<RolloutResult> {
        self.actions
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a.kind, ActionKind::Rollout(_)))
            .map(|(i, _)| {
                let r = &self.states[i];
                RolloutResult {
                    action: i as u32,
                    fired_at_ns: r.fired_at_ns,
                    undone_at_ns: r.undone_at_ns,
                    widened: r.widened,
                }
            })
            .collect()
    }
}
