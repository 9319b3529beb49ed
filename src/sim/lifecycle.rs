//! The life of instances as the simulation drives it: single crashes and restarts of timed
//! actions, and crash loops (`crash_loop.rs` decides when) crashing instances on a clock or on a
//! request and restarting them with backoff. The services keep each instance's state, what the
//! balancer knows of it and the count of instances up over time (`service.rs`).

use super::world::{Event, InstanceEvent, World};
use crate::engine::EventQueue;
use crate::model::ServiceId;

impl World<'_> {
    /// An instance event: a crash loop's crash, a restart, a health check.
    pub(super) fn on_instance_event(&mut self, s: u32, i: u32, what: InstanceEvent, queue: &mut EventQueue<Event>) {
        let s = s as usize;
        match what {
            InstanceEvent::HealthCheck => self.services.health_check(ServiceId(s), i),
            InstanceEvent::LoopCrash { action, life } => {
                if self.crash_loops.in_force(action) && self.services.epoch(ServiceId(s), i) == life {
                    self.loop_crash(action, s, i, queue);
                }
            }
            InstanceEvent::Restart { action, life } => {
                let Some(l) = self.crash_loops.spec(action) else {
                    return;
                };
                let group = if l.together { 0..l.instances } else { i..i + 1 };
                if self.services.epoch(ServiceId(s), i) != life {
                    return;
                }
                for j in group {
                    self.services.restart(ServiceId(s), j, queue);
                }
                if self.crash_loops.in_force(action) {
                    self.schedule_loop_crash(action, i, queue);
                }
            }
        }
    }

    /// A crash loop starts (or ends: then its pending crashes go stale and restarts go on).
    pub(super) fn on_crash_loop(&mut self, action: u32, undo: bool, queue: &mut EventQueue<Event>) {
        let Some(l) = self.crash_loops.spec(action) else {
            return;
        };
        let (s, instances, together, poison) = (l.service.0, l.instances, l.together, l.per_request > 0.0);
        self.crash_loops.set_in_force(action, !undo);
        if poison {
            self.services.set_poisoned(ServiceId(s), undo);
        }
        if undo {
            return;
        }
        let leaders = if together { 0..1 } else { 0..instances };
        for i in leaders {
            if self.services.is_up(ServiceId(s), i) {
                self.schedule_loop_crash(action, i, queue);
            }
        }
    }

    /// Draw when the loop next crashes instance `i` (the group, for a loop whose instances fail together).
    fn schedule_loop_crash(&mut self, action: u32, i: u32, queue: &mut EventQueue<Event>) {
        let Some(s) = self.crash_loops.spec(action).map(|l| l.service) else {
            return;
        };
        let Some(after) = self.crash_loops.uptime(action) else {
            return;
        };
        let life = self.services.epoch(s, i);
        queue.schedule_in(
            after,
            Event::Instance {
                service: s.0 as u32,
                instance: i,
                what: InstanceEvent::LoopCrash { action, life },
            },
        );
    }

    /// The loop crashes instance `i` (or its whole group) and schedules the restart, with backoff.
    fn loop_crash(&mut self, action: u32, s: usize, i: u32, queue: &mut EventQueue<Event>) {
        let Some(l) = self.crash_loops.spec(action) else {
            return;
        };
        let now = queue.now();
        let (max_restart, together, instances) = (l.max_restart_ns, l.together, l.instances);
        let leader = if together { 0 } else { i };
        let in_a_row = self.services.crashes_in_a_row(ServiceId(s), leader, now, max_restart);
        let restart = self.crash_loops.restart_after(action, in_a_row);
        let group = if together { 0..instances } else { i..i + 1 };
        for j in group {
            self.services.crash(ServiceId(s), j, queue);
        }
        let life = self.services.epoch(ServiceId(s), leader);
        queue.schedule_in(
            restart,
            Event::Instance {
                service: s as u32,
                instance: leader,
                what: InstanceEvent::Restart { action, life },
            },
        );
    }

    /// A request starts CPU work on instance `i` of service `s`: a crash loop with a per-request
    /// probability may crash the instance. Returns whether it did.
    #[inline]
    pub(super) fn poisoned(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) -> bool {
        self.services.is_poisoned(ServiceId(s)) && self.crashes_on_request(s, i, queue)
    }

    /// Whether the crash loop poisoning service `s` crashes instance `i` on this request (and
    /// then crashes it).
    #[inline(never)]
    fn crashes_on_request(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) -> bool {
        match self.crash_loops.crashes_on_request(s, i) {
            Some(action) => {
                self.loop_crash(action, s, i, queue);
                true
            }
            None => false,
        }
    }
}
