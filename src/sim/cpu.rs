//! CPU cores apart from workers: an instance with fewer cores than workers runs its CPU steps on
//! its cores, shared by processor sharing (every step in progress runs at min(1, c/n) speed) or
//! first in, first out (a step waits for a free core). Delays and waits on calls, queries and
//! workers use no core. The component keeps each instance's processor, schedules the moments
//! steps finish and says which steps did; the request path goes on with them.

use super::job::JobRef;
use super::replication::CpuResult;
use super::world::{CpuEvent, Event};
use crate::engine::{EventQueue, Nanos};
use crate::model::{CpuSharing, Service, ServiceId};
use crate::stats::TimeWeighted;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

/// A step under processor sharing: the virtual time at which it is done, in work nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Shared {
    finish: f64,
    /// Arrival order, so ties finish in the order the steps started.
    seq: u64,
    job: JobRef,
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Shared {}
impl PartialOrd for Shared {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Shared {
    fn cmp(&self, other: &Self) -> Ordering {
        self.finish.total_cmp(&other.finish).then(self.seq.cmp(&other.seq))
    }
}

/// One instance's cores.
enum Processor {
    /// Processor sharing: virtual time advances at min(1, cores / steps) work-ns per ns; a step
    /// of w work-ns started at virtual time v is done at virtual time v + w.
    Ps {
        virtual_ns: f64,
        at_ns: Nanos,
        steps: BinaryHeap<Reverse<Shared>>,
        seq: u64,
        /// The pending finish event's generation: an earlier one is stale.
        generation: u32,
    },
    /// First in, first out on the cores.
    Fifo { free: u32, line: VecDeque<(JobRef, Nanos)> },
}

/// A service's processors and what they measured.
struct ServiceCpu {
    cores: u32,
    processors: Vec<Processor>,
    /// Cores busy, all instances.
    busy: u32,
    busy_level: TimeWeighted,
    /// Steps waiting for a core (FIFO) or beyond the cores (sharing), all instances.
    queued: u32,
    queued_level: TimeWeighted,
}

/// Every service's cores (`None` for a service with a core per worker).
pub struct Cpus {
    services: Vec<Option<ServiceCpu>>,
}

impl Cpus {
    /// Idle cores for every instance slot of `services`, statistics from `warmup_ns` on.
    pub fn new(services: &[Service], warmup_ns: Nanos) -> Self {
        Cpus {
            services: services
                .iter()
                .map(|s| {
                    let (cores, sharing) = s.cores?;
                    let processors = (0..s.max_instances())
                        .map(|_| match sharing {
                            CpuSharing::Ps => Processor::Ps {
                                virtual_ns: 0.0,
                                at_ns: 0,
                                steps: BinaryHeap::new(),
                                seq: 0,
                                generation: 0,
                            },
                            CpuSharing::Fifo => Processor::Fifo {
                                free: cores,
                                line: VecDeque::new(),
                            },
                        })
                        .collect();
                    Some(ServiceCpu {
                        cores,
                        processors,
                        busy: 0,
                        busy_level: TimeWeighted::new(warmup_ns),
                        queued: 0,
                        queued_level: TimeWeighted::new(warmup_ns),
                    })
                })
                .collect(),
        }
    }

    /// Whether service `s` runs its CPU steps on cores of its own.
    pub fn has_cores(&self, s: ServiceId) -> bool {
        self.services[s.0].is_some()
    }

    /// A CPU step of `work_ns` starts for `job` on instance `i` of service `s`.
    pub fn start(&mut self, s: ServiceId, i: u32, job: JobRef, work_ns: Nanos, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(cpu) = self.services[s.0].as_mut() else {
            return;
        };
        let cores = cpu.cores;
        match &mut cpu.processors[i as usize] {
            Processor::Ps {
                virtual_ns,
                at_ns,
                steps,
                seq,
                generation,
            } => {
                advance(virtual_ns, at_ns, steps.len(), cores, now);
                *seq += 1;
                steps.push(Reverse(Shared {
                    finish: *virtual_ns + work_ns as f64,
                    seq: *seq,
                    job,
                }));
                let n = steps.len() as u32;
                cpu.busy += u32::from(n <= cores);
                cpu.queued += u32::from(n > cores);
                reschedule(s, i, *virtual_ns, steps, cores, generation, queue);
            }
            Processor::Fifo { free, line } => {
                if *free > 0 {
                    *free -= 1;
                    cpu.busy += 1;
                    queue.schedule_in(work_ns, cpu_event(s, i, CpuEvent::Done(job)));
                } else {
                    line.push_back((job, work_ns));
                    cpu.queued += 1;
                }
            }
        }
        cpu.busy_level.set(now, f64::from(cpu.busy));
        cpu.queued_level.set(now, f64::from(cpu.queued));
    }

    /// A processor event of instance `i` of service `s`: the steps it finished are pushed on
    /// `done`, in the order they finished.
    pub fn on_event(&mut self, s: ServiceId, i: u32, what: CpuEvent, queue: &mut EventQueue<Event>, done: &mut Vec<JobRef>) {
        let now = queue.now();
        let Some(cpu) = self.services[s.0].as_mut() else {
            return;
        };
        let cores = cpu.cores;
        match (&mut cpu.processors[i as usize], what) {
            (
                Processor::Ps {
                    virtual_ns,
                    at_ns,
                    steps,
                    generation,
                    ..
                },
                CpuEvent::Next(g),
            ) => {
                if g != *generation {
                    return;
                }
                advance(virtual_ns, at_ns, steps.len(), cores, now);
                // The event was rounded up to a whole nanosecond: whatever is due by then is done.
                let due = *virtual_ns + 1.0;
                while let Some(Reverse(next)) = steps.peek().copied() {
                    if next.finish > due {
                        break;
                    }
                    steps.pop();
                    let n = steps.len() as u32;
                    // One fewer step: a core frees only when no step was beyond the cores.
                    if n >= cores {
                        cpu.queued -= 1;
                    } else {
                        cpu.busy -= 1;
                    }
                    done.push(next.job);
                }
                reschedule(s, i, *virtual_ns, steps, cores, generation, queue);
            }
            (Processor::Fifo { free, line }, CpuEvent::Done(job)) => {
                done.push(job);
                match line.pop_front() {
                    Some((next, work_ns)) => {
                        cpu.queued -= 1;
                        queue.schedule_in(work_ns, cpu_event(s, i, CpuEvent::Done(next)));
                    }
                    None => {
                        *free += 1;
                        cpu.busy -= 1;
                    }
                }
            }
            _ => return,
        }
        cpu.busy_level.set(now, f64::from(cpu.busy));
        cpu.queued_level.set(now, f64::from(cpu.queued));
    }

    /// What each service's cores did, up to `end_ns`.
    pub fn results(&self, end_ns: Nanos) -> Vec<Option<CpuResult>> {
        self.services
            .iter()
            .map(|c| {
                c.as_ref().map(|c| CpuResult {
                    busy_mean: c.busy_level.mean(end_ns),
                    queued_mean: c.queued_level.mean(end_ns),
                })
            })
            .collect()
    }
}

/// A processor event of instance `i` of service `s`.
fn cpu_event(s: ServiceId, i: u32, what: CpuEvent) -> Event {
    Event::Cpu {
        service: s.0 as u32,
        instance: i,
        what,
    }
}

/// Bring processor sharing's virtual time up to `now`: `n` steps shared `cores` since `at_ns`.
fn advance(virtual_ns: &mut f64, at_ns: &mut Nanos, n: usize, cores: u32, now: Nanos) {
    if n > 0 {
        let speed = (f64::from(cores) / n as f64).min(1.0);
        *virtual_ns += (now - *at_ns) as f64 * speed;
    }
    *at_ns = now;
}

/// Schedule the moment the first of `steps` finishes at the present speed (a new generation, so
/// the previous event is stale).
fn reschedule(
    s: ServiceId,
    i: u32,
    virtual_ns: f64,
    steps: &BinaryHeap<Reverse<Shared>>,
    cores: u32,
    generation: &mut u32,
    queue: &mut EventQueue<Event>,
) {
    *generation = generation.wrapping_add(1);
    if let Some(Reverse(first)) = steps.peek() {
        let speed = (f64::from(cores) / steps.len() as f64).min(1.0);
        let after = ((first.finish - virtual_ns).max(0.0) / speed).ceil() as Nanos;
        queue.schedule_in(after, cpu_event(s, i, CpuEvent::Next(*generation)));
    }
}
