//! Autoscalers: every second each one samples its service (requests in flight, waiting, a
//! queue's backlog; CPU time is summed as CPU steps start), and at the end of each period it
//! averages the last periods and decides, by target tracking or step scaling, to launch
//! instances (they take requests after their provisioning time, then warm up) or to retire
//! some (out of rotation at once; what they hold finishes). The component keeps the slots of
//! instances up to the maximum and says what to do; the world carries it out on the services.

use super::replication::AutoscaleResult;
use super::world::{AutoscaleEvent, Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::{AutoscaleMetric, Autoscaling, ScalingRule, Service, ServiceId};
use crate::stats::LevelSeries;
use std::collections::VecDeque;

/// Time between two samples of the metric: one second.
pub const SAMPLE_NS: Nanos = 1_000_000_000;

/// Where an instance slot of an autoscaled service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Not launched (or retired).
    Idle,
    /// Launched, not yet taking requests.
    Provisioning,
    /// Taking requests.
    InService,
}

/// What the services measured at one sample.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// CPU time of the service's CPU steps started so far, nanoseconds (a running total).
    pub cpu_ns: u64,
    /// Requests in flight, all instances.
    pub in_flight: u32,
    /// Requests waiting for a worker, all instances.
    pub waiting: u32,
    /// Visible messages of the backlog metric's queue.
    pub backlog: u32,
}

/// One period's measurement.
#[derive(Clone, Copy, Debug)]
struct Period {
    /// The metric summed over the instances in service (for "cpu": workers' worth of CPU).
    load: f64,
    /// Mean instances in service.
    serving: f64,
}

/// What the autoscaler decided at the end of a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to do.
    Hold,
    /// Launch these instance slots (provisioning starts now).
    Launch(Vec<u32>),
    /// Retire these instances in service (out of rotation now; what they hold finishes).
    Retire(Vec<u32>),
}

/// One autoscaled service's scaler.
struct Scaler {
    spec: Autoscaling,
    /// What can run CPU steps at once on one instance: its cores, or its workers without cores.
    cpu_units: f64,
    slots: Vec<Slot>,
    /// Per slot, launches so far: a provisioning or warm-up event of an earlier launch is stale.
    lives: Vec<u32>,
    serving: u32,
    provisioning: u32,
    /// Samples of the current period: sum of the metric's totals and of instances in service.
    sampled_load: f64,
    sampled_serving: f64,
    samples: u32,
    /// CPU time at the start of the current period.
    cpu_at_period_start: u64,
    /// The last `periods` periods, oldest first.
    history: VecDeque<Period>,
    last_scale_out_ns: Option<Nanos>,
    last_scaling_ns: Option<Nanos>,
    /// Instances in service over time.
    in_service: LevelSeries,
    /// Instances launched and not retired (in service or provisioning): what is paid for.
    billed: LevelSeries,
    scale_outs: u64,
    scale_ins: u64,
    launched: u64,
    above_target_ns: Nanos,
    /// Draws of provisioning times.
    rng: Stream,
}

/// Every autoscaler of the model, by service (`None` for a fixed fleet).
pub struct Autoscalers {
    scalers: Vec<Option<Scaler>>,
    warmup_ns: Nanos,
}

impl Autoscalers {
    /// The autoscalers of `services`, statistics from `warmup` on in `windows` windows of
    /// `window`; `stream_of(name)` gives each its random stream.
    pub fn new(
        services: &[Service],
        (warmup, window, windows): (Nanos, Nanos, usize),
        stream_of: impl Fn(&str) -> Stream,
    ) -> Self {
        let scalers = services
            .iter()
            .map(|s| {
                let spec = s.autoscaling.clone()?;
                let mut slots = vec![Slot::Idle; spec.max as usize];
                slots[..s.instances as usize].fill(Slot::InService);
                let mut in_service = LevelSeries::new(warmup, window, windows);
                in_service.set(0, f64::from(s.instances));
                let mut billed = LevelSeries::new(warmup, window, windows);
                billed.set(0, f64::from(s.instances));
                Some(Scaler {
                    // CPU is a share of the cores: a core per worker unless the service has its own.
                    cpu_units: f64::from(s.cores.map_or(s.workers, |(cores, _)| cores)),
                    lives: vec![0; spec.max as usize],
                    slots,
                    serving: s.instances,
                    provisioning: 0,
                    sampled_load: 0.0,
                    sampled_serving: 0.0,
                    samples: 0,
                    cpu_at_period_start: 0,
                    history: VecDeque::with_capacity(spec.periods as usize),
                    last_scale_out_ns: None,
                    last_scaling_ns: None,
                    in_service,
                    billed,
                    scale_outs: 0,
                    scale_ins: 0,
                    launched: 0,
                    above_target_ns: 0,
                    rng: stream_of(&s.name),
                    spec,
                })
            })
            .collect();
        Autoscalers {
            scalers,
            warmup_ns: warmup,
        }
    }

    /// The services that have an autoscaler.
    pub fn scaled(&self) -> impl Iterator<Item = usize> + '_ {
        self.scalers.iter().enumerate().filter(|(_, s)| s.is_some()).map(|(i, _)| i)
    }

    /// The metric's queue of service `s`'s autoscaler, when it reads a backlog.
    pub fn backlog_queue(&self, s: usize) -> Option<u32> {
        match self.scalers[s].as_ref()?.spec.metric {
            AutoscaleMetric::Backlog(q) => Some(q),
            _ => None,
        }
    }

    /// Service `s`'s metric is sampled at `now` (a whole second). Returns whether a period
    /// ends now (then [`Autoscalers::decide`] is due).
    pub fn sample(&mut self, s: usize, now: Nanos, at: Sample) -> bool {
        let Some(sc) = self.scalers[s].as_mut() else {
            return false;
        };
        sc.sampled_serving += f64::from(sc.serving);
        sc.samples += 1;
        sc.sampled_load += match sc.spec.metric {
            AutoscaleMetric::Cpu => 0.0,
            AutoscaleMetric::InFlight => f64::from(at.in_flight),
            AutoscaleMetric::Queue => f64::from(at.waiting),
            AutoscaleMetric::Backlog(_) => f64::from(at.backlog),
        };
        if !now.is_multiple_of(sc.spec.period_ns) {
            return false;
        }
        let samples = f64::from(sc.samples.max(1));
        let load = match sc.spec.metric {
            AutoscaleMetric::Cpu => {
                let cpu = at.cpu_ns.saturating_sub(sc.cpu_at_period_start) as f64;
                sc.cpu_at_period_start = at.cpu_ns;
                cpu / (sc.spec.period_ns as f64 * sc.cpu_units)
            }
            _ => sc.sampled_load / samples,
        };
        let period = Period {
            load,
            serving: sc.sampled_serving / samples,
        };
        (sc.sampled_load, sc.sampled_serving, sc.samples) = (0.0, 0.0, 0);
        if now > self.warmup_ns && sc.over_target(period) {
            sc.above_target_ns += sc.spec.period_ns.min(now - self.warmup_ns);
        }
        if sc.history.len() == sc.spec.periods as usize {
            sc.history.pop_front();
        }
        sc.history.push_back(period);
        true
    }

    /// At the end of a period: what service `s`'s autoscaler does, from the last periods.
    pub fn decide(&mut self, s: usize, now: Nanos) -> Decision {
        let Some(sc) = self.scalers[s].as_mut() else {
            return Decision::Hold;
        };
        if sc.history.len() < sc.spec.periods as usize {
            return Decision::Hold;
        }
        let n = sc.history.len() as f64;
        let load = sc.history.iter().map(|p| p.load).sum::<f64>() / n;
        let serving = sc.history.iter().map(|p| p.serving).sum::<f64>() / n;
        let metric = if serving > 0.0 { load / serving } else { f64::INFINITY };
        let capacity = sc.serving + sc.provisioning;
        let wanted = match &sc.spec.rule {
            ScalingRule::Target { target, scale_in_below } => {
                let desired = (load / target).ceil().min(f64::from(u32::MAX)) as u32;
                if desired > capacity || (desired < capacity && metric < target * scale_in_below) {
                    desired
                } else {
                    capacity
                }
            }
            ScalingRule::Steps { above, below } => {
                if let Some(&(_, add)) = above.iter().find(|(t, _)| metric > *t) {
                    capacity.saturating_add(add)
                } else if let Some(&(_, remove)) = below.iter().find(|(t, _)| metric < *t) {
                    capacity.saturating_sub(remove)
                } else {
                    capacity
                }
            }
        };
        let wanted = wanted.clamp(sc.spec.min, sc.spec.max);
        let since = |t: Option<Nanos>| t.map_or(Nanos::MAX, |t| now - t);
        let counts = now >= self.warmup_ns;
        if wanted > capacity && since(sc.last_scale_out_ns) >= sc.spec.scale_out_cooldown_ns {
            let slots: Vec<u32> = (0..sc.slots.len() as u32)
                .filter(|&i| sc.slots[i as usize] == Slot::Idle)
                .take((wanted - capacity) as usize)
                .collect();
            for &i in &slots {
                sc.slots[i as usize] = Slot::Provisioning;
                sc.lives[i as usize] += 1;
            }
            sc.provisioning += slots.len() as u32;
            sc.billed.set(now, f64::from(sc.serving + sc.provisioning));
            sc.last_scale_out_ns = Some(now);
            sc.last_scaling_ns = Some(now);
            sc.scale_outs += u64::from(counts);
            sc.launched += if counts { slots.len() as u64 } else { 0 };
            sc.forget_if_relative();
            return Decision::Launch(slots);
        }
        if wanted < capacity && since(sc.last_scaling_ns) >= sc.spec.scale_in_cooldown_ns {
            let mut retire = capacity - wanted;
            // Launches still provisioning are cancelled first, the newest first.
            for i in (0..sc.slots.len()).rev() {
                if retire > 0 && sc.slots[i] == Slot::Provisioning {
                    sc.slots[i] = Slot::Idle;
                    sc.provisioning -= 1;
                    retire -= 1;
                }
            }
            let mut retired = Vec::new();
            for i in (0..sc.slots.len()).rev() {
                if retire > 0 && sc.slots[i] == Slot::InService && sc.serving > 1 {
                    sc.slots[i] = Slot::Idle;
                    sc.serving -= 1;
                    retire -= 1;
                    retired.push(i as u32);
                }
            }
            sc.in_service.set(now, f64::from(sc.serving));
            sc.billed.set(now, f64::from(sc.serving + sc.provisioning));
            sc.last_scaling_ns = Some(now);
            sc.scale_ins += u64::from(counts);
            sc.forget_if_relative();
            return Decision::Retire(retired);
        }
        Decision::Hold
    }

    /// The provisioning time of a launch of service `s`.
    pub fn provisioning_ns(&mut self, s: usize) -> Nanos {
        match self.scalers[s].as_mut() {
            Some(sc) => sc.spec.provisioning.sample_ns(&mut sc.rng),
            None => 0,
        }
    }

    /// The current launch count of slot `i` of service `s` (events of earlier launches are stale).
    pub fn life(&self, s: usize, i: u32) -> u32 {
        self.scalers[s].as_ref().map_or(0, |sc| sc.lives[i as usize])
    }

    /// Slot `i` of service `s`, launched as `life`, is provisioned at `now`: whether it takes
    /// requests now (false when that launch was cancelled), and its warm-up if it has one.
    pub fn provisioned(&mut self, s: usize, i: u32, life: u32, now: Nanos) -> Option<Option<(Nanos, f64)>> {
        let sc = self.scalers[s].as_mut()?;
        if sc.lives[i as usize] != life || sc.slots[i as usize] != Slot::Provisioning {
            return None;
        }
        sc.slots[i as usize] = Slot::InService;
        sc.provisioning -= 1;
        sc.serving += 1;
        sc.in_service.set(now, f64::from(sc.serving));
        sc.forget_if_relative();
        Some(sc.spec.warm_up)
    }

    /// Whether slot `i` of service `s` still runs its launch `life` in service (its warm-up
    /// can end).
    pub fn still_serving(&self, s: usize, i: u32, life: u32) -> bool {
        self.scalers[s]
            .as_ref()
            .is_some_and(|sc| sc.lives[i as usize] == life && sc.slots[i as usize] == Slot::InService)
    }

    /// Close the levels at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for sc in self.scalers.iter_mut().flatten() {
            sc.in_service.finish(end_ns);
            sc.billed.finish(end_ns);
        }
    }

    /// What each autoscaler did, by service (`None` for a fixed fleet).
    pub fn results(&self) -> Vec<Option<AutoscaleResult>> {
        self.scalers
            .iter()
            .map(|sc| {
                let sc = sc.as_ref()?;
                Some(AutoscaleResult {
                    in_service_mean: sc.in_service.mean(),
                    in_service_max: sc.in_service.max_level(),
                    billed_mean: sc.billed.mean(),
                    scale_outs: sc.scale_outs,
                    scale_ins: sc.scale_ins,
                    launched: sc.launched,
                    above_target_ns: sc.above_target_ns,
                    in_service_series: sc.in_service.windows().iter().map(|w| w.mean).collect(),
                })
            })
            .collect()
    }
}

impl Scaler {
    /// Step scaling changes the fleet by steps of the metric per instance, which a change of
    /// the fleet moves: after a scaling and after each launch comes into service it measures
    /// `periods` whole periods again before its next decision (else a scale-out still
    /// provisioning would be taken for one that did not help). Target tracking wants a count
    /// from the load itself and keeps its periods.
    fn forget_if_relative(&mut self) {
        if matches!(self.spec.rule, ScalingRule::Steps { .. }) {
            self.history.clear();
        }
    }

    /// Whether a period's metric is above what the rule aims for: the target, or the lowest
    /// threshold that scales out.
    fn over_target(&self, p: Period) -> bool {
        let metric = if p.serving > 0.0 { p.load / p.serving } else { f64::INFINITY };
        match &self.spec.rule {
            ScalingRule::Target { target, .. } => metric > *target,
            ScalingRule::Steps { above, .. } => above.last().is_some_and(|(t, _)| metric > *t),
        }
    }
}

impl World<'_> {
    /// Sample every autoscaled service's metric from the first second on.
    pub(super) fn schedule_autoscalers(&mut self, queue: &mut EventQueue<Event>) {
        for s in self.autoscalers.scaled() {
            queue.schedule_at(
                SAMPLE_NS,
                Event::Autoscale {
                    service: s as u32,
                    what: AutoscaleEvent::Tick,
                },
            );
        }
    }

    /// Something happens to autoscaled service `s`.
    pub(super) fn on_autoscale(&mut self, s: u32, what: AutoscaleEvent, queue: &mut EventQueue<Event>) {
        let (sid, now) = (ServiceId(s as usize), queue.now());
        match what {
            AutoscaleEvent::Tick => {
                let sample = Sample {
                    cpu_ns: self.services.cpu_ns(sid),
                    in_flight: self.services.in_flight_total(sid),
                    waiting: self.services.waiting(sid),
                    backlog: self
                        .autoscalers
                        .backlog_queue(sid.0)
                        .map_or(0, |q| self.queues.visible(q as usize)),
                };
                if self.autoscalers.sample(sid.0, now, sample) {
                    self.carry_out(sid, now, queue);
                }
                queue.schedule_in(SAMPLE_NS, Event::Autoscale { service: s, what });
            }
            AutoscaleEvent::Provisioned { instance, life } => {
                let Some(warm_up) = self.autoscalers.provisioned(sid.0, instance, life, now) else {
                    return;
                };
                self.services.launched(sid, instance, queue);
                if let Some((lasts, factor)) = warm_up {
                    self.services.set_cpu_factor(sid, instance, factor);
                    queue.schedule_in(
                        lasts,
                        Event::Autoscale {
                            service: s,
                            what: AutoscaleEvent::WarmedUp { instance, life },
                        },
                    );
                }
            }
            AutoscaleEvent::WarmedUp { instance, life } => {
                if self.autoscalers.still_serving(sid.0, instance, life) {
                    self.services.set_cpu_factor(sid, instance, 1.0);
                }
            }
        }
    }

    /// What the autoscaler of `sid` decided at the end of a period, carried out on its instances.
    fn carry_out(&mut self, sid: ServiceId, now: Nanos, queue: &mut EventQueue<Event>) {
        match self.autoscalers.decide(sid.0, now) {
            Decision::Hold => {}
            Decision::Launch(slots) => {
                for instance in slots {
                    let after = self.autoscalers.provisioning_ns(sid.0);
                    let life = self.autoscalers.life(sid.0, instance);
                    queue.schedule_in(
                        after,
                        Event::Autoscale {
                            service: sid.0 as u32,
                            what: AutoscaleEvent::Provisioned { instance, life },
                        },
                    );
                }
            }
            Decision::Retire(instances) => {
                for instance in instances {
                    self.services.retire(sid, instance, now);
                }
            }
        }
    }
}
