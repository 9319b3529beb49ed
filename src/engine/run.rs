//! The run loop: pop events in time order until the horizon, the event budget or the process stops.

use super::{EventQueue, Nanos};
use std::sync::atomic::{AtomicBool, Ordering};

/// Events handled between two looks at the interrupt flag: often enough to stop within
/// milliseconds, rarely enough to cost nothing.
const INTERRUPT_CHECK_EVENTS: u64 = 4096;

/// Events in a row at one simulated instant after which the run is declared stalled: far more
/// than any burst a model makes at once, reached in a second or two when something reschedules
/// itself with no delay forever.
pub const STALL_EVENTS: u64 = 10_000_000;

/// Events in one pace sample: every this many events the run loop notes the simulated time, and
/// judges the pace over the last [`PACE_SAMPLES`] samples.
pub const PACE_EVENTS: u64 = 2_000_000;

/// Samples of [`PACE_EVENTS`] the pace is judged over (10 million events, as many as
/// [`STALL_EVENTS`]): far more than any burst of work a model makes at one moment.
pub const PACE_SAMPLES: usize = 5;

/// How many times its event budget a run may need to reach its horizon, at the pace of its last
/// 10 million events, before it is stopped as creeping: far above the spread between a quiet and
/// a busy hour of a daily profile, far below what a clock advancing by nanoseconds needs (a 1 ns
/// crash loop needs 10^12 events per simulated hour).
pub const PACE_BUDGET_FACTOR: u64 = 10;

/// A simulation driven by the engine: it handles one event at a time and schedules new ones.
pub trait Process {
    /// The event payload this process schedules: small plain data, copied as the queue reorders.
    type Event: Copy;
    /// Handle `event`, due now (`queue.now()`), scheduling follow-up events on `queue`.
    /// Returning `Some(reason)` stops the run (e.g. a queue grew past its bound).
    fn handle(&mut self, event: Self::Event, queue: &mut EventQueue<Self::Event>) -> Option<String>;
}

/// Bounds on one run.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Simulated time at which the run ends; events due later are not handled.
    pub horizon: Nanos,
    /// The most events to handle before stopping.
    pub max_events: u64,
}

/// Why a run stopped.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The clock reached the horizon (the normal end).
    Horizon,
    /// No events were left before the horizon.
    Exhausted,
    /// The event budget ran out at the given simulated time.
    EventBudget { at: Nanos },
    /// The process asked to stop, with its reason, at the given simulated time.
    Stopped { at: Nanos, reason: String },
    /// The interrupt flag was raised (Ctrl-C, a wall-clock limit) at the given simulated time.
    Interrupted { at: Nanos },
}

/// Drive `process` from the events already on `queue`.
///
/// 1. Every few thousand events, stop with [`StopReason::Interrupted`] if `interrupt` is set.
/// 2. If no event is left, stop with [`StopReason::Exhausted`]; if the earliest one is due after
///    the horizon, stop with [`StopReason::Horizon`].
/// 3. If the event budget is spent, stop with [`StopReason::EventBudget`].
/// 4. Pop the earliest event (advancing the clock) and let the process handle it. Steps 2 to 4
///    are one look at the queue ([`EventQueue::pop_due_by`]) while the budget lasts.
/// 5. After [`STALL_EVENTS`] events in a row at the same instant, stop with
///    [`StopReason::Stopped`]: simulated time no longer advances (something retries in zero time),
///    and only the event budget would end the run, much later.
/// 6. Every [`PACE_EVENTS`] events, project the events still needed to reach the horizon at the
///    pace of the last [`PACE_SAMPLES`] × [`PACE_EVENTS`] events; above [`PACE_BUDGET_FACTOR`] ×
///    the event budget, stop with [`StopReason::Stopped`]: simulated time creeps (something
///    reschedules itself nanoseconds apart) and the run would spend its whole budget on a sliver
///    of the horizon.
///
/// Returns the reason and the number of events handled.
pub fn run<P: Process>(
    process: &mut P,
    queue: &mut EventQueue<P::Event>,
    limits: RunLimits,
    interrupt: &AtomicBool,
) -> (StopReason, u64) {
    let mut handled = 0u64;
    let (mut instant, mut at_instant) = (queue.now(), 0u64);
    // Simulated time at each of the last pace samples, oldest first (a ring).
    let mut paces = [queue.now(); PACE_SAMPLES];
    let mut samples = 0usize;
    loop {
        if handled.is_multiple_of(INTERRUPT_CHECK_EVENTS) && interrupt.load(Ordering::Relaxed) {
            return (StopReason::Interrupted { at: queue.now() }, handled);
        }
        if handled >= limits.max_events {
            let why = match queue.peek_time() {
                None => StopReason::Exhausted,
                Some(t) if t > limits.horizon => StopReason::Horizon,
                Some(_) => StopReason::EventBudget { at: queue.now() },
            };
            return (why, handled);
        }
        let Some((_, event)) = queue.pop_due_by(limits.horizon) else {
            let why = match queue.peek_time() {
                None => StopReason::Exhausted,
                Some(_) => StopReason::Horizon,
            };
            return (why, handled);
        };
        handled += 1;
        if queue.now() == instant {
            at_instant += 1;
            if at_instant >= STALL_EVENTS {
                let reason = format!(
                    "simulated time stopped advancing: {at_instant} events in a row at the same instant \
                     (something retries in zero time, e.g. closed-loop users without think time against \
                     a service that refuses at once)"
                );
                return (StopReason::Stopped { at: instant, reason }, handled);
            }
        } else {
            (instant, at_instant) = (queue.now(), 1);
        }
        if handled.is_multiple_of(PACE_EVENTS) {
            let oldest = paces[samples % PACE_SAMPLES];
            paces[samples % PACE_SAMPLES] = queue.now();
            samples += 1;
            if samples > PACE_SAMPLES {
                if let Some(reason) = creeping(oldest, queue.now(), limits) {
                    return (StopReason::Stopped { at: queue.now(), reason }, handled);
                }
            }
        }
        if let Some(reason) = process.handle(event, queue) {
            return (StopReason::Stopped { at: queue.now(), reason }, handled);
        }
    }
}

/// Why a run whose last `PACE_SAMPLES × PACE_EVENTS` events advanced the clock from `then` to
/// `now` creeps, if it does: at that pace, reaching the horizon needs more than
/// [`PACE_BUDGET_FACTOR`] × the event budget.
fn creeping(then: Nanos, now: Nanos, limits: RunLimits) -> Option<String> {
    let window_events = PACE_EVENTS * PACE_SAMPLES as u64;
    let advanced = now.saturating_sub(then).max(1);
    let left = limits.horizon.saturating_sub(now);
    let needed = (left as f64 / advanced as f64) * window_events as f64;
    let allowed = limits.max_events.saturating_mul(PACE_BUDGET_FACTOR);
    (needed > allowed as f64).then(|| {
        format!(
            "simulated time creeps: the last {window_events} events advanced it by {advanced} ns; at that \
             pace the {left} ns left to the end need about {needed:.1e} events, more than {PACE_BUDGET_FACTOR} × \
             the event budget of {} (something reschedules itself nanoseconds apart, e.g. a crash loop \
             with a 1 ns uptime or users with a 1 ns think time against a service that refuses at once)",
            limits.max_events
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks every 10 ns and stops itself at the given count.
    struct Ticker {
        ticks: u64,
        stop_at: u64,
    }
    impl Process for Ticker {
        type Event = ();
        fn handle(&mut self, _: (), queue: &mut EventQueue<()>) -> Option<String> {
            self.ticks += 1;
            queue.schedule_in(10, ());
            (self.ticks == self.stop_at).then(|| "enough".to_string())
        }
    }

    fn start() -> EventQueue<()> {
        let mut q = EventQueue::new();
        q.schedule_at(0, ());
        q
    }

    /// Reschedules itself with no delay, forever.
    struct Spinner;
    impl Process for Spinner {
        type Event = ();
        fn handle(&mut self, _: (), queue: &mut EventQueue<()>) -> Option<String> {
            queue.schedule_in(0, ());
            None
        }
    }

    #[test]
    fn a_process_that_stops_simulated_time_is_stopped_as_stalled() {
        let limits = RunLimits {
            horizon: 100,
            max_events: u64::MAX,
        };
        let (why, n) = run(&mut Spinner, &mut start(), limits, &AtomicBool::new(false));
        assert_eq!(n, STALL_EVENTS);
        assert!(
            matches!(&why, StopReason::Stopped { at: 0, reason } if reason.contains("stopped advancing")),
            "{why:?}"
        );
    }

    /// Reschedules itself `step` ns later, forever.
    struct Creeper {
        step: Nanos,
    }
    impl Process for Creeper {
        type Event = ();
        fn handle(&mut self, _: (), queue: &mut EventQueue<()>) -> Option<String> {
            queue.schedule_in(self.step, ());
            None
        }
    }

    #[test]
    fn a_clock_that_creeps_one_nanosecond_per_event_is_stopped_after_the_pace_window() {
        // One hour at 1 ns per event needs 3.6e12 events, far above 10 × a budget of 2e9: stopped
        // at the first look with a full window behind it, after (PACE_SAMPLES + 1) × PACE_EVENTS.
        let limits = RunLimits {
            horizon: 3_600_000_000_000,
            max_events: 2_000_000_000,
        };
        let (why, n) = run(&mut Creeper { step: 1 }, &mut start(), limits, &AtomicBool::new(false));
        assert_eq!(n, (PACE_SAMPLES as u64 + 1) * PACE_EVENTS);
        assert!(
            matches!(&why, StopReason::Stopped { reason, .. } if reason.contains("creeps")),
            "{why:?}"
        );
    }

    #[test]
    fn a_clock_whose_pace_fits_ten_budgets_runs_to_its_horizon() {
        // 1 ns per event and a horizon of 1.2e8 ns: judged first at 1.2e7 events, the 1.08e8 ns
        // left need 1.08e8 events, within 10 × the budget of 1.3e8; later looks need fewer.
        // The run is not stopped and ends at the horizon after exactly 1.2e8 + 1 events.
        let limits = RunLimits {
            horizon: 120_000_000,
            max_events: 130_000_000,
        };
        let (why, n) = run(&mut Creeper { step: 1 }, &mut start(), limits, &AtomicBool::new(false));
        assert_eq!((why, n), (StopReason::Horizon, 120_000_001));
    }

    #[test]
    fn stops_at_horizon_after_handling_events_due_on_it() {
        let mut t = Ticker {
            ticks: 0,
            stop_at: u64::MAX,
        };
        let (why, n) = run(
            &mut t,
            &mut start(),
            RunLimits {
                horizon: 100,
                max_events: u64::MAX,
            },
            &AtomicBool::new(false),
        );
        assert_eq!((why, n), (StopReason::Horizon, 11));
    }

    #[test]
    fn stops_when_the_event_budget_is_spent() {
        let mut t = Ticker {
            ticks: 0,
            stop_at: u64::MAX,
        };
        let (why, n) = run(
            &mut t,
            &mut start(),
            RunLimits {
                horizon: 1_000,
                max_events: 5,
            },
            &AtomicBool::new(false),
        );
        assert_eq!((why, n), (StopReason::EventBudget { at: 40 }, 5));
    }

    #[test]
    fn stops_when_interrupted() {
        let mut t = Ticker {
            ticks: 0,
            stop_at: u64::MAX,
        };
        let (why, n) = run(
            &mut t,
            &mut start(),
            RunLimits {
                horizon: 1_000,
                max_events: 100,
            },
            &AtomicBool::new(true),
        );
        assert_eq!((why, n), (StopReason::Interrupted { at: 0 }, 0));
    }

    #[test]
    fn stops_when_the_process_asks() {
        let mut t = Ticker { ticks: 0, stop_at: 3 };
        let (why, _) = run(
            &mut t,
            &mut start(),
            RunLimits {
                horizon: 1_000,
                max_events: 100,
            },
            &AtomicBool::new(false),
        );
        assert_eq!(
            why,
            StopReason::Stopped {
                at: 20,
                reason: "enough".into()
            }
        );
    }
}
