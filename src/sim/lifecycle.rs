//! The life of instances: crashes and restarts (single crashes and crash loops with backoff),
//! what the balancer knows of them (at once, or at its next health check), and the count of
//! instances up over time.

use super::world::{Event, InstanceEvent, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::{ActionKind, CrashLoop};
use rand::RngExt;

impl<'m> World<'m> {
    /// Instance `i` of service `s` crashes: what it was doing is reset (lazily, see
    /// [`World::was_reset`]) and it takes no requests until it restarts.
    pub(super) fn crash_instance(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let state = &mut self.services[s];
        let inst = &mut state.instances[i as usize];
        inst.epoch = inst.epoch.wrapping_add(1);
        if !inst.up {
            return;
        }
        inst.up = false;
        state.up -= 1;
        if now >= self.model.warmup_ns {
            state.crashes += 1;
        }
        self.instance_changed(s, i, queue);
    }

    /// Instance `i` of service `s` is up again.
    pub(super) fn restart_instance(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let inst = &mut self.services[s].instances[i as usize];
        if inst.up {
            return;
        }
        inst.up = true;
        inst.up_since_ns = now;
        self.services[s].up += 1;
        self.instance_changed(s, i, queue);
    }

    /// Record the new count of instances up and tell the balancer: at once without health
    /// checks, else at the next check (checks run at multiples of the interval).
    fn instance_changed(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let state = &mut self.services[s];
        state.up_level.set(now, f64::from(state.up));
        state.none_up.set(now, f64::from(u8::from(state.up == 0)));
        match self.model.services[s].health_check_ns {
            None => self.health_check(s, i),
            Some(interval) => {
                let next = (now / interval + 1).saturating_mul(interval);
                queue.schedule_at(
                    next,
                    Event::Instance {
                        service: s as u32,
                        instance: i,
                        what: InstanceEvent::HealthCheck,
                    },
                );
            }
        }
    }

    /// The balancer's view of instance `i` catches up with the truth.
    fn health_check(&mut self, s: usize, i: u32) {
        let state = &mut self.services[s];
        if state.instances[i as usize].up {
            state.rotation.insert(i);
        } else {
            state.rotation.remove(i);
        }
    }

    /// An instance event: a crash loop's crash, a restart, a health check.
    pub(super) fn on_instance_event(&mut self, s: u32, i: u32, what: InstanceEvent, queue: &mut EventQueue<Event>) {
        let s = s as usize;
        match what {
            InstanceEvent::HealthCheck => self.health_check(s, i),
            InstanceEvent::LoopCrash { action, life } => {
                if self.action_active[action as usize] && self.services[s].instances[i as usize].epoch == life {
                    self.loop_crash(action, s, i, queue);
                }
            }
            InstanceEvent::Restart { action, life } => {
                let Some(l) = self.crash_loop(action) else {
                    return;
                };
                let group = if l.together { 0..l.instances } else { i..i + 1 };
                if self.services[s].instances[i as usize].epoch != life {
                    return;
                }
                for j in group {
                    self.restart_instance(s, j, queue);
                }
                if self.action_active[action as usize] {
                    self.schedule_loop_crash(action, i, queue);
                }
            }
        }
    }

    /// The crash loop of timed action `action`, if it is one.
    fn crash_loop(&self, action: u32) -> Option<&'m CrashLoop> {
        let model: &'m crate::model::Model = self.model;
        match &model.actions[action as usize].kind {
            ActionKind::CrashLoop(l) => Some(l),
            _ => None,
        }
    }

    /// A crash loop starts (or ends: then its pending crashes go stale and restarts go on).
    pub(super) fn on_crash_loop(&mut self, action: u32, undo: bool, queue: &mut EventQueue<Event>) {
        let Some(l) = self.crash_loop(action) else {
            return;
        };
        let (s, instances, together, poison) = (l.service.0, l.instances, l.together, l.per_request > 0.0);
        self.action_active[action as usize] = !undo;
        if poison {
            let count = &mut self.poison_loops[s];
            *count = if undo { count.saturating_sub(1) } else { *count + 1 };
        }
        if undo {
            return;
        }
        let leaders = if together { 0..1 } else { 0..instances };
        for i in leaders {
            if self.services[s].instances[i as usize].up {
                self.schedule_loop_crash(action, i, queue);
            }
        }
    }

    /// Draw when the loop next crashes instance `i` (the group, for a loop whose instances fail together).
    fn schedule_loop_crash(&mut self, action: u32, i: u32, queue: &mut EventQueue<Event>) {
        let Some(l) = self.crash_loop(action) else {
            return;
        };
        let Some(uptime) = &l.uptime else {
            return;
        };
        let s = l.service.0;
        let after = uptime.sample_ns(&mut self.action_streams[action as usize]);
        let life = self.services[s].instances[i as usize].epoch;
        queue.schedule_in(
            after,
            Event::Instance {
                service: s as u32,
                instance: i,
                what: InstanceEvent::LoopCrash { action, life },
            },
        );
    }

    /// The loop crashes instance `i` (or its whole group) and schedules the restart, with backoff.
    fn loop_crash(&mut self, action: u32, s: usize, i: u32, queue: &mut EventQueue<Event>) {
        let Some(l) = self.crash_loop(action) else {
            return;
        };
        let now = queue.now();
        let (backoff, max_restart, together, instances) = (l.backoff, l.max_restart_ns, l.together, l.instances);
        let leader = if together { 0 } else { i };
        let inst = &mut self.services[s].instances[leader as usize];
        if now.saturating_sub(inst.up_since_ns) >= max_restart {
            inst.consecutive_crashes = 0;
        }
        inst.consecutive_crashes += 1;
        let growth = backoff.powi(inst.consecutive_crashes.saturating_sub(1).min(1_000) as i32);
        let drawn = l.restart.sample_ns(&mut self.action_streams[action as usize]) as f64 * growth;
        let restart = if growth > 1.0 {
            (drawn.min(max_restart as f64)) as Nanos
        } else {
            drawn as Nanos
        };
        let group = if together { 0..instances } else { i..i + 1 };
        for j in group {
            self.crash_instance(s, j, queue);
        }
        let life = self.services[s].instances[leader as usize].epoch;
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
    pub(super) fn poisoned(&mut self, s: usize, i: u32, queue: &mut EventQueue<Event>) -> bool {
        if self.poison_loops[s] == 0 {
            return false;
        }
        for a in 0..self.model.actions.len() {
            let Some(l) = self.crash_loop(a as u32) else {
                continue;
            };
            if l.service.0 != s || l.per_request <= 0.0 || !self.action_active[a] || i >= l.instances {
                continue;
            }
            let p = l.per_request;
            if self.action_streams[a].random::<f64>() < p {
                self.loop_crash(a as u32, s, i, queue);
                return true;
            }
        }
        false
    }
}
