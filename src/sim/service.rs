//! Services: their instances, each with a worker pool and its waiting lines; the balancer's
//! rotation; in-flight counts; idempotency stores; instances crashing and restarting. The
//! component answers the request path's questions (which instance, admitted or not, how long a
//! step takes) and keeps the statistics it reports.

use super::balancer::Rotation;
use super::job::JobRef;
use super::replication::{station, LifeResult, StationResult};
use super::resource::{Admission, LineOrder, LineRule, Resource, Waiter};
use super::tally::{IdempotencyState, WastedWork};
use super::world::{Event, InstanceEvent};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{Discipline, Dist, Service, ServiceId};
use crate::stats::{LatencyHistogram, TimeWeighted};

/// One instance of a service: its workers and its requests in flight.
struct Instance {
    /// Workers and their waiting line.
    workers: Resource,
    /// Requests admitted and not finished.
    in_flight: u32,
    /// Whether the instance takes requests (false while it restarts after a crash).
    up: bool,
    /// How many times it crashed: requests that arrived before a crash are reset.
    epoch: u32,
    /// Multiplier of its CPU steps (a rolled-out change).
    cpu_factor: f64,
    /// The rollout (timed action index) whose change it runs, if any.
    changed_by: Option<u32>,
    /// Crashes in a row of a crash loop (for its backoff).
    consecutive_crashes: u32,
    /// When it last came up.
    up_since_ns: Nanos,
}

/// A service's instances and balancer state.
struct ServiceState {
    instances: Vec<Instance>,
    /// The instances the balancer sends to, and its choice.
    rotation: Rotation,
    /// The waiting line of each request class (the last line for classes without one).
    line_of_class: Vec<usize>,
    /// Instances up (not restarting).
    up: u32,
    /// Instances up over time.
    up_level: TimeWeighted,
    /// 1 while no instance is up, else 0, over time.
    none_up: TimeWeighted,
    /// Crashes since the warm-up.
    crashes: u64,
    /// Waits for a worker, all instances together, since the warm-up.
    worker_wait: LatencyHistogram,
    /// Grants of a worker that had to wait, since the warm-up.
    waited: u64,
    /// Requests admitted and not finished, all instances together.
    in_flight: u32,
    /// Requests in the service (all instances) over time, for Little's law.
    in_service: TimeWeighted,
    /// Draws of CPU times, delays, link latencies, jitter and balancing.
    rng: Stream,
    /// Work done for callers who had already left.
    wasted: WastedWork,
    /// Idempotency stores and what they skipped.
    idempotency: IdempotencyState,
    /// Timed actions currently taking the service down.
    down: u32,
    /// Crash loops in force that crash its instances on requests.
    poison_loops: u32,
    /// CPU time of the CPU steps started so far, nanoseconds (read by its autoscaler).
    cpu_ns: u64,
}

impl ServiceState {
    /// The count of instances up changed at `now`: record it over time.
    fn record_up(&mut self, now: Nanos) {
        self.up_level.set(now, f64::from(self.up));
        self.none_up.set(now, f64::from(u8::from(self.up == 0)));
    }
}

/// Every service of the model.
pub struct Services<'m> {
    specs: &'m [Service],
    warmup_ns: Nanos,
    states: Vec<ServiceState>,
}

/// The waiting lines of an instance of service `s`, in priority order.
fn line_rules(s: &Service) -> Vec<LineRule> {
    s.lines
        .iter()
        .map(|l| LineRule {
            order: match l.discipline {
                Discipline::Fifo => LineOrder::Fifo,
                Discipline::Lifo => LineOrder::Lifo,
                Discipline::AdaptiveLifo => LineOrder::AdaptiveLifo(l.lifo_after_ns),
            },
            capacity: l.capacity,
        })
        .collect()
}

/// A time-weighted level starting at `level`.
fn level(warmup: Nanos, level: f64) -> TimeWeighted {
    let mut t = TimeWeighted::new(warmup);
    t.set(0, level);
    t
}

impl<'m> Services<'m> {
    /// The services of a replication, statistics from `warmup` on in `windows` windows of
    /// `window`; `stream_of(kind, name)` gives each its random streams.
    pub fn new(
        specs: &'m [Service],
        classes: usize,
        (warmup, window, windows): (Nanos, Nanos, usize),
        stream_of: impl Fn(&str, &str) -> Stream,
    ) -> Self {
        let states = specs
            .iter()
            .map(|s| ServiceState {
                // An autoscaled service has a slot for each instance it may have; those beyond
                // its starting count wait, down and out of rotation, to be launched.
                instances: (0..s.max_instances())
                    .map(|i| Instance {
                        workers: Resource::with_lines(s.workers, &line_rules(s), warmup, window, windows)
                            .without_wait_histogram(),
                        in_flight: 0,
                        up: i < s.instances,
                        epoch: 0,
                        cpu_factor: 1.0,
                        changed_by: None,
                        consecutive_crashes: 0,
                        up_since_ns: 0,
                    })
                    .collect(),
                rotation: {
                    let mut r = Rotation::new(s.max_instances(), s.balancer);
                    for i in (s.instances..s.max_instances()).rev() {
                        r.remove(i);
                    }
                    r
                },
                line_of_class: (0..classes)
                    .map(|c| s.lines.iter().position(|l| l.class == Some(c)).unwrap_or(s.lines.len() - 1))
                    .collect(),
                up: s.instances,
                up_level: level(warmup, f64::from(s.instances)),
                none_up: level(warmup, 0.0),
                crashes: 0,
                worker_wait: LatencyHistogram::new(),
                waited: 0,
                in_flight: 0,
                in_service: TimeWeighted::new(warmup),
                rng: stream_of("service", &s.name),
                wasted: WastedWork::default(),
                idempotency: IdempotencyState::default(),
                down: 0,
                poison_loops: 0,
                cpu_ns: 0,
            })
            .collect();
        Services {
            specs,
            warmup_ns: warmup,
            states,
        }
    }

    fn instance(&self, s: ServiceId, i: u32) -> &Instance {
        &self.states[s.0].instances[i as usize]
    }

    fn instance_mut(&mut self, s: ServiceId, i: u32) -> &mut Instance {
        &mut self.states[s.0].instances[i as usize]
    }

    /// The instance a new request goes to, as the balancer picks it among the instances in
    /// rotation (never `avoid`, when another is there); `None` when none is.
    #[inline]
    pub fn pick_instance(&mut self, s: ServiceId, avoid: Option<u32>) -> Option<u32> {
        let state = &mut self.states[s.0];
        state.rotation.pick(avoid, &mut state.rng)
    }

    /// Whether no timed action takes the service down.
    #[inline]
    pub fn takes_requests(&self, s: ServiceId) -> bool {
        self.states[s.0].down == 0
    }

    /// A timed action takes the service down, or (`undo`) gives it back.
    pub fn set_down(&mut self, s: ServiceId, undo: bool) {
        let down = &mut self.states[s.0].down;
        *down = if undo { down.saturating_sub(1) } else { *down + 1 };
    }

    /// How many times instance `i` crashed: a job that arrived at another count was reset.
    #[inline]
    pub fn epoch(&self, s: ServiceId, i: u32) -> u32 {
        self.instance(s, i).epoch
    }

    /// Whether instance `i` is up (it may be down and still in rotation until a health check).
    #[inline]
    pub fn is_up(&self, s: ServiceId, i: u32) -> bool {
        self.instance(s, i).up
    }

    /// Requests admitted by instance `i` and not finished.
    #[inline]
    pub fn in_flight(&self, s: ServiceId, i: u32) -> u32 {
        self.instance(s, i).in_flight
    }

    /// The rollout whose change instance `i` runs, if any.
    #[inline]
    pub fn changed_by(&self, s: ServiceId, i: u32) -> Option<u32> {
        self.instance(s, i).changed_by
    }

    /// The service's idempotency stores.
    #[inline]
    pub fn idempotency(&mut self, s: ServiceId) -> &mut IdempotencyState {
        &mut self.states[s.0].idempotency
    }

    /// The service's random stream (CPU times, delays, links and jitter of its calls, balancing).
    #[inline]
    pub fn rng(&mut self, s: ServiceId) -> &mut Stream {
        &mut self.states[s.0].rng
    }

    /// The service's tally of work done for callers who had left.
    #[inline]
    pub fn wasted(&mut self, s: ServiceId) -> &mut WastedWork {
        &mut self.states[s.0].wasted
    }

    /// The waiting line of requests of `class`: the class's own, or the last.
    #[inline]
    pub fn line_of(&self, s: ServiceId, class: Option<u32>) -> usize {
        let last = self.specs[s.0].lines.len() - 1;
        class
            .and_then(|c| self.states[s.0].line_of_class.get(c as usize).copied())
            .unwrap_or(last)
    }

    /// Ask instance `i` for a worker for `job`, waiting in `line`: granted, queued or refused.
    pub fn ask_worker(&mut self, s: ServiceId, i: u32, line: usize, now: Nanos, job: JobRef, ticket: u32) -> Admission {
        let admission = self.instance_mut(s, i).workers.request_in(line, now, job, ticket);
        if admission == Admission::Granted {
            self.record_worker_wait(s, now, 0);
        }
        admission
    }

    /// A request got a worker after waiting `wait_ns`.
    fn record_worker_wait(&mut self, s: ServiceId, now: Nanos, wait_ns: Nanos) {
        if now >= self.warmup_ns {
            let state = &mut self.states[s.0];
            state.worker_wait.record(wait_ns);
            state.waited += u64::from(wait_ns > 0);
        }
    }

    /// A worker of instance `i` is given back: the next waiter still live gets it (and is
    /// returned), or it stays free.
    pub fn release_worker(&mut self, s: ServiceId, i: u32, now: Nanos, is_live: impl Fn(&Waiter) -> bool) -> Option<Waiter> {
        let next = self.instance_mut(s, i).workers.release(now, is_live)?;
        self.record_worker_wait(s, now, now - next.since_ns);
        Some(next)
    }

    /// A waiter of `line` at instance `i` gave up: the line drops it and any other dead waiters.
    pub fn abandon_wait(&mut self, s: ServiceId, i: u32, line: usize, now: Nanos, is_live: impl Fn(&Waiter) -> bool) {
        self.instance_mut(s, i).workers.abandon_wait_in(line, now, is_live);
    }

    /// Instance `i` admitted a request at `now`.
    #[inline]
    pub fn admitted(&mut self, s: ServiceId, i: u32, now: Nanos) {
        let state = &mut self.states[s.0];
        let inst = &mut state.instances[i as usize];
        inst.in_flight += 1;
        state.rotation.set_load(i, inst.in_flight);
        state.in_flight += 1;
        state.in_service.set(now, f64::from(state.in_flight));
    }

    /// A request admitted by instance `i` left at `now`.
    #[inline]
    pub fn left(&mut self, s: ServiceId, i: u32, now: Nanos) {
        let state = &mut self.states[s.0];
        let inst = &mut state.instances[i as usize];
        inst.in_flight -= 1;
        state.rotation.set_load(i, inst.in_flight);
        state.in_flight -= 1;
        state.in_service.set(now, f64::from(state.in_flight));
    }

    /// How long a CPU step of `cost` takes on instance `i` (a rolled-out change scales it).
    #[inline]
    pub fn cpu_time(&mut self, s: ServiceId, i: u32, cost: &Dist) -> Nanos {
        let state = &mut self.states[s.0];
        let drawn = cost.sample_ns(&mut state.rng);
        let factor = state.instances[i as usize].cpu_factor;
        let took = if factor == 1.0 {
            drawn
        } else {
            (drawn as f64 * factor).min(crate::model::units::MAX_NANOS as f64) as u64
        };
        state.cpu_ns = state.cpu_ns.wrapping_add(took);
        took
    }

    /// CPU time of the CPU steps started so far, all instances (its autoscaler's CPU metric).
    pub fn cpu_ns(&self, s: ServiceId) -> u64 {
        self.states[s.0].cpu_ns
    }

    /// Requests admitted and not finished, all instances.
    pub fn in_flight_total(&self, s: ServiceId) -> u32 {
        self.states[s.0].in_flight
    }

    /// A launched instance `i` is provisioned: it is up, and in rotation at once (or, with
    /// health checks, at the next one).
    pub fn launched(&mut self, s: ServiceId, i: u32, queue: &mut EventQueue<Event>) {
        self.restart(s, i, queue);
    }

    /// Instance `i` is retired by its autoscaler: out of rotation at once (deregistered, not
    /// waiting for a health check) and down, so nothing new reaches it; what it admitted
    /// finishes (its epoch stays).
    pub fn retire(&mut self, s: ServiceId, i: u32, now: Nanos) {
        let state = &mut self.states[s.0];
        let inst = &mut state.instances[i as usize];
        if !inst.up {
            return;
        }
        inst.up = false;
        inst.cpu_factor = 1.0;
        state.up -= 1;
        state.rotation.remove(i);
        state.record_up(now);
    }

    /// Instance `i`'s CPU steps take `factor` times their drawn time (a warm-up; 1 after it).
    pub fn set_cpu_factor(&mut self, s: ServiceId, i: u32, factor: f64) {
        self.instance_mut(s, i).cpu_factor = factor;
    }

    /// Instance `i` crashes: what it was doing is reset (lazily: its epoch moves on) and it takes
    /// no requests until it restarts.
    pub fn crash(&mut self, s: ServiceId, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let state = &mut self.states[s.0];
        let inst = &mut state.instances[i as usize];
        inst.epoch = inst.epoch.wrapping_add(1);
        if !inst.up {
            return;
        }
        inst.up = false;
        state.up -= 1;
        if now >= self.warmup_ns {
            state.crashes += 1;
        }
        self.instance_changed(s, i, queue);
    }

    /// Instance `i` is up again.
    pub fn restart(&mut self, s: ServiceId, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let inst = self.instance_mut(s, i);
        if inst.up {
            return;
        }
        inst.up = true;
        inst.up_since_ns = now;
        self.states[s.0].up += 1;
        self.instance_changed(s, i, queue);
    }

    /// Record the new count of instances up and tell the balancer: at once without health
    /// checks, else at the next check (checks run at multiples of the interval).
    fn instance_changed(&mut self, s: ServiceId, i: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        self.states[s.0].record_up(now);
        match self.specs[s.0].health_check_ns {
            None => self.health_check(s, i),
            Some(interval) => {
                let next = (now / interval + 1).saturating_mul(interval);
                queue.schedule_at(
                    next,
                    Event::Instance {
                        service: s.0 as u32,
                        instance: i,
                        what: InstanceEvent::HealthCheck,
                    },
                );
            }
        }
    }

    /// The balancer's view of instance `i` catches up with the truth.
    pub fn health_check(&mut self, s: ServiceId, i: u32) {
        let state = &mut self.states[s.0];
        if state.instances[i as usize].up {
            state.rotation.insert(i);
        } else {
            state.rotation.remove(i);
        }
    }

    /// A crash loop crashes instance `i` at `now`: its crashes in a row, counted again from one
    /// when it stayed up at least `max_restart_ns`.
    pub fn crashes_in_a_row(&mut self, s: ServiceId, i: u32, now: Nanos, max_restart_ns: Nanos) -> u32 {
        let inst = self.instance_mut(s, i);
        if now.saturating_sub(inst.up_since_ns) >= max_restart_ns {
            inst.consecutive_crashes = 0;
        }
        inst.consecutive_crashes += 1;
        inst.consecutive_crashes
    }

    /// A crash loop that crashes instances on requests starts (or, `undo`, ends).
    pub fn set_poisoned(&mut self, s: ServiceId, undo: bool) {
        let count = &mut self.states[s.0].poison_loops;
        *count = if undo { count.saturating_sub(1) } else { *count + 1 };
    }

    /// Whether some crash loop in force crashes the service's instances on requests.
    #[inline]
    pub fn is_poisoned(&self, s: ServiceId) -> bool {
        self.states[s.0].poison_loops > 0
    }

    /// Put rollout `action`'s change (CPU steps × `factor`) on instances `range`.
    pub fn change(&mut self, s: ServiceId, range: std::ops::Range<u32>, factor: f64, action: u32) {
        for inst in &mut self.states[s.0].instances[range.start as usize..range.end as usize] {
            inst.cpu_factor = factor;
            inst.changed_by = Some(action);
        }
    }

    /// Take rollout `action`'s change off every instance that runs it.
    pub fn undo_change(&mut self, s: ServiceId, action: u32) {
        for inst in &mut self.states[s.0].instances {
            if inst.changed_by == Some(action) {
                inst.cpu_factor = 1.0;
                inst.changed_by = None;
            }
        }
    }

    /// Requests waiting for a worker, all instances together.
    pub fn waiting(&self, s: ServiceId) -> u32 {
        self.states[s.0].instances.iter().map(|i| i.workers.waiting()).sum()
    }

    /// Close every time-weighted statistic at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for s in &mut self.states {
            for i in &mut s.instances {
                i.workers.finish(end_ns);
            }
        }
    }

    /// How each service's instances fared, up to `end_ns`.
    pub fn lives(&self, end_ns: Nanos) -> Vec<LifeResult> {
        self.states
            .iter()
            .map(|s| LifeResult {
                up_mean: s.up_level.mean(end_ns),
                available: 1.0 - s.none_up.mean(end_ns),
                crashes: s.crashes,
            })
            .collect()
    }

    /// Each service's work done for callers who had left.
    pub fn wasted_work(&self) -> Vec<WastedWork> {
        self.states.iter().map(|s| s.wasted.clone()).collect()
    }

    /// Each service's requests skipped by idempotency checks (unit in flight, unit completed).
    pub fn skipped(&self) -> Vec<(u64, u64)> {
        self.states
            .iter()
            .map(|s| (s.idempotency.skipped_in_flight, s.idempotency.skipped_completed))
            .collect()
    }

    /// Each service's workers as one station, up to `end_ns`.
    pub fn stations(&self, end_ns: Nanos) -> Vec<StationResult> {
        self.states
            .iter()
            .map(|s| {
                let workers: Vec<&Resource> = s.instances.iter().map(|i| &i.workers).collect();
                let mut st = station(&workers, Some(s.in_service.mean(end_ns)));
                // The instances leave their waits to the service (one histogram, not one each).
                st.wait.merge(&s.worker_wait);
                st.waited += s.waited;
                st
            })
            .collect()
    }
}
