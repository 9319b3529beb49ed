//! Rollouts: a change (every CPU step costs `cpu_factor` times more) put on a canary share of a
//! service's instances or on all of them, widened after a bake time, and undone by hand (the
//! action's `for`) or by a rollback rule watching the changed instances' requests in windows.

use super::job::Outcome;
use super::world::{Event, RolloutEvent, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::{ActionKind, Rollout};
use crate::stats::LatencyHistogram;

/// What a rollout has done so far in one replication, and its current window of observations.
#[derive(Default)]
pub struct RolloutState {
    /// The change is on some instances.
    pub active: bool,
    /// The change went beyond the canary to every instance.
    pub widened: bool,
    /// When the rule fired, if it did.
    pub fired_at_ns: Option<Nanos>,
    /// When the change was undone, if it was.
    pub undone_at_ns: Option<Nanos>,
    /// Requests finished on changed instances in the current window.
    finished: u64,
    /// Those that did not end well.
    failed: u64,
    /// Latencies of those that ended well.
    latency: Option<LatencyHistogram>,
}

impl RolloutState {
    /// A request that started at `started_ns` finished on a changed instance at `now`.
    pub fn record(&mut self, now: Nanos, started_ns: Nanos, outcome: Outcome) {
        self.finished += 1;
        if outcome == Outcome::Ok {
            self.latency
                .get_or_insert_with(LatencyHistogram::new)
                .record(now - started_ns);
        } else {
            self.failed += 1;
        }
    }
}

impl<'m> World<'m> {
    /// The rollout of timed action `action`, if it is one.
    fn rollout(&self, action: u32) -> Option<&'m Rollout> {
        let model: &'m crate::model::Model = self.model;
        match &model.actions[action as usize].kind {
            ActionKind::Rollout(r) => Some(r),
            _ => None,
        }
    }

    /// The rollout's action starts (the change goes to its first instances) or is undone by hand.
    pub(super) fn on_rollout_action(&mut self, action: u32, undo: bool, queue: &mut EventQueue<Event>) {
        if undo {
            self.undo_rollout(action, queue.now());
            return;
        }
        let Some(r) = self.rollout(action) else {
            return;
        };
        let (first, bake, window) = (r.first, r.bake_ns, r.rollback.as_ref().map(|rule| rule.window_ns));
        self.rollouts[action as usize].active = true;
        self.change_instances(action, 0..first);
        if let Some(bake) = bake {
            queue.schedule_in(
                bake,
                Event::Rollout {
                    action,
                    what: RolloutEvent::Widen,
                },
            );
        }
        if let Some(window) = window {
            queue.schedule_in(
                window,
                Event::Rollout {
                    action,
                    what: RolloutEvent::Evaluate,
                },
            );
        }
    }

    /// Put the change on instances `range` of the rollout's service.
    fn change_instances(&mut self, action: u32, range: std::ops::Range<u32>) {
        let Some(r) = self.rollout(action) else {
            return;
        };
        let (s, factor) = (r.service.0, r.cpu_factor);
        for inst in &mut self.services[s].instances[range.start as usize..range.end as usize] {
            inst.cpu_factor = factor;
            inst.changed_by = Some(action);
        }
    }

    /// Undo the change everywhere.
    fn undo_rollout(&mut self, action: u32, now: Nanos) {
        let Some(r) = self.rollout(action) else {
            return;
        };
        let s = r.service.0;
        let state = &mut self.rollouts[action as usize];
        if !state.active {
            return;
        }
        state.active = false;
        state.undone_at_ns = Some(now);
        for inst in &mut self.services[s].instances {
            if inst.changed_by == Some(action) {
                inst.cpu_factor = 1.0;
                inst.changed_by = None;
            }
        }
    }

    /// The canary has baked, the rule has a window to judge, or the rollback is due.
    pub(super) fn on_rollout_event(&mut self, action: u32, what: RolloutEvent, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(r) = self.rollout(action) else {
            return;
        };
        let (all, rule) = (self.model.services[r.service.0].instances, r.rollback.clone());
        let state = &mut self.rollouts[action as usize];
        if !state.active {
            return;
        }
        match what {
            RolloutEvent::Widen => {
                if state.fired_at_ns.is_none() {
                    state.widened = true;
                    self.change_instances(action, 0..all);
                }
            }
            RolloutEvent::Undo => self.undo_rollout(action, now),
            RolloutEvent::Evaluate => {
                let Some(rule) = rule else {
                    return;
                };
                let error_rate = state.failed as f64 / state.finished.max(1) as f64;
                let p99 = state.latency.as_ref().map_or(0, |h| h.quantile_ns(0.99));
                let fires = rule.error_rate.is_some_and(|bound| state.finished > 0 && error_rate > bound)
                    || rule.p99_ns.is_some_and(|bound| p99 > bound);
                state.finished = 0;
                state.failed = 0;
                state.latency = None;
                if fires {
                    state.fired_at_ns = Some(now);
                    queue.schedule_in(
                        rule.reaction_ns,
                        Event::Rollout {
                            action,
                            what: RolloutEvent::Undo,
                        },
                    );
                } else {
                    queue.schedule_in(
                        rule.window_ns,
                        Event::Rollout {
                            action,
                            what: RolloutEvent::Evaluate,
                        },
                    );
                }
            }
        }
    }
}
