//! Timed actions: changes that start at a simulated time and may be undone later — added link
//! latency, scaled traffic, queries injected into a database, a service taken down, crashes,
//! crash loops (`lifecycle.rs`), rollouts (`rollout.rs`) and cache flushes (`cache.rs`).

use super::job::{Job, Owner};
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::{ActionKind, Link};

impl World<'_> {
    /// Schedule every action's start and, where it has one, its end.
    pub(super) fn schedule_actions(&mut self, queue: &mut EventQueue<Event>) {
        for (i, action) in self.model.actions.iter().enumerate() {
            queue.schedule_at(
                action.at_ns,
                Event::Action {
                    index: i as u32,
                    undo: false,
                },
            );
            if let Some(until) = action.until_ns {
                queue.schedule_at(
                    until,
                    Event::Action {
                        index: i as u32,
                        undo: true,
                    },
                );
            }
        }
    }

    /// The round trip of one call or query over `link`: a draw of its latency plus what timed
    /// actions add now.
    pub(super) fn round_trip(&mut self, link: &Link, owner: Owner) -> Nanos {
        let drawn = match &link.latency {
            Some(latency) => latency.sample_ns(self.rng_of(owner)),
            None => 0,
        };
        drawn.saturating_add(self.link_extra_ns[link.id.0])
    }

    /// Start (or undo) timed action `index`.
    pub(super) fn on_action(&mut self, index: u32, undo: bool, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        match &self.model.actions[index as usize].kind {
            ActionKind::AddLatency { link, latency_ns } => {
                let extra = &mut self.link_extra_ns[link.0];
                *extra = if undo {
                    extra.saturating_sub(*latency_ns)
                } else {
                    extra.saturating_add(*latency_ns)
                };
            }
            ActionKind::ScaleTraffic { client, .. } => {
                let c = client.0;
                self.action_active[index as usize] = !undo;
                // Recomputed from the actions in force, not divided back: a factor may be 0.
                let factor = self.active_traffic_factor(c);
                self.clients.set_traffic_factor(*client, factor, queue);
            }
            ActionKind::Inject { queries, .. } => {
                if undo {
                    return;
                }
                for _ in 0..*queries {
                    let job = self.spawn(
                        Job::new(Owner::Injected { action: index }, None, now, super::unit::NO_UNIT),
                        now,
                    );
                    self.on_query_at_database(job, queue);
                    if self.stop.is_some() {
                        // More in flight than the model allows: the run stops as unstable.
                        break;
                    }
                }
            }
            ActionKind::Crash { service, instances } => {
                for i in 0..*instances {
                    if undo {
                        self.services.restart(*service, i, queue);
                    } else {
                        self.services.crash(*service, i, queue);
                    }
                }
            }
            ActionKind::CrashLoop(_) => self.on_crash_loop(index, undo, queue),
            ActionKind::Rollout(_) => {
                let change = self.rollouts.on_action(index, undo, queue);
                self.apply(change);
            }
            ActionKind::Down { service } => {
                self.services.set_down(*service, undo);
            }
            ActionKind::Flush { cache } => {
                if !undo {
                    self.caches.flush(*cache);
                }
            }
        }
    }

    /// The product of the factors of client `c`'s traffic actions in force.
    fn active_traffic_factor(&self, c: usize) -> f64 {
        self.model
            .actions
            .iter()
            .zip(&self.action_active)
            .filter(|(_, active)| **active)
            .filter_map(|(a, _)| match a.kind {
                ActionKind::ScaleTraffic { client, factor } if client.0 == c => Some(factor),
                _ => None,
            })
            .product()
    }

    /// Whether the job's instance crashed since the job arrived.
    #[inline]
    pub(super) fn was_reset(&self, job_ref: super::job::JobRef) -> bool {
        match self.jobs.get(job_ref).map(|j| (j.owner, j.epoch)) {
            Some((Owner::Endpoint { endpoint, instance }, epoch)) => {
                let s = self.model.endpoints[endpoint as usize].service;
                self.services.epoch(s, instance) != epoch
            }
            _ => false,
        }
    }
}
