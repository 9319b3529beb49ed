//! Message queues with SQS semantics: producers publish (steadily or in scheduled bursts); a
//! consumer with a concurrency limit receives visible messages and delivers each as a call. A
//! received message is invisible for the visibility timeout; a successful delivery deletes it; a
//! failed one (error or the consumer's timeout) makes it visible again after the error visibility
//! timeout; past `max_receives` receives a message goes to the dead-letter queue. A message
//! published with a delay (SQS DelaySeconds) is invisible until the delay is over: a message not
//! yet received and not visible is a delayed one.

use super::job::Outcome;
use super::replication::{means, queue_column as column, QueueResult};
use super::slab::{Key, Slab};
use super::tally::RequestTally;
use super::world::Event;
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::units::secs_to_nanos;
use crate::model::MessageQueue;
use crate::stats::{CountSeries, LevelSeries};
use rand::RngExt;
use std::collections::VecDeque;

/// One message in the queue.
#[derive(Clone, Copy, Debug)]
pub struct Message {
    /// The unit of work it stands for.
    unit: u32,
    /// Times it was received.
    receives: u32,
    /// Bumped at every change of visibility, so a stale visibility timer of this message is
    /// ignored (a timer of an earlier occupant of the slot is stale by its [`MessageRef`]).
    visibility: u32,
    /// Whether a receive can take it now.
    visible: bool,
}

/// A reference to a message in its queue's slab: stale once the message is deleted or
/// dead-lettered, even when its slot holds a new message.
pub type MessageRef = Key<Message>;

/// A queue's messages, consumer and counts.
struct QueueState {
    messages: Slab<Message>,
    /// Visible messages in the order they became visible, as (message, visibility); stale entries
    /// are skipped.
    visible: VecDeque<(MessageRef, u32)>,
    /// Messages in the queue (visible or not).
    stored: u32,
    /// Messages visible now.
    visible_now: u32,
    /// Messages published with a delay that is not over yet.
    delayed: u32,
    /// Deliveries in progress (consumer slots in use).
    busy: u32,
    /// The consumer's deliveries: outcomes and latencies.
    tally: RequestTally,
    /// Counts per window (see [`column`]).
    series: CountSeries<5>,
    /// Totals since the warm-up (see [`column`]).
    totals: [u64; 5],
    /// Visible messages over time.
    backlog: LevelSeries,
    /// Received messages not yet deleted or visible again, over time.
    invisible: LevelSeries,
    /// Draws of steady producers' gaps.
    rng: Stream,
}

impl QueueState {
    fn count(&mut self, now: Nanos, warmup_ns: Nanos, which: usize) {
        self.series.add(now, which);
        if now >= warmup_ns {
            self.totals[which] += 1;
        }
    }

    fn levels(&mut self, now: Nanos) {
        self.backlog.set(now, f64::from(self.visible_now));
        self.invisible
            .set(now, f64::from(self.stored - self.visible_now - self.delayed));
    }

    /// Take a message out of the queue (deleted or dead-lettered); returns its unit of work.
    fn remove(&mut self, message_ref: MessageRef, now: Nanos) -> Option<u32> {
        let message = self.messages.remove(message_ref)?;
        if message.visible {
            self.visible_now -= 1;
        }
        self.stored -= 1;
        self.levels(now);
        Some(message.unit)
    }
}

/// What a free consumer slot got from its queue.
pub enum Receive {
    /// Nothing visible: the slot stays free.
    Nothing,
    /// A message past its `max_receives`: moved to the dead-letter queue; its unit of work is let go.
    DeadLettered {
        /// The message's unit of work.
        unit: u32,
    },
    /// A message to deliver: the slot is taken until the delivery ends.
    Deliver {
        /// The message.
        message: MessageRef,
        /// Its unit of work.
        unit: u32,
        /// Its receive count, this receive included.
        receives: u32,
    },
}

/// Every message queue of the model: producers, stored messages, visibility, the consumer's slots.
pub struct MessageQueues<'m> {
    specs: &'m [MessageQueue],
    warmup_ns: Nanos,
    duration_ns: Nanos,
    states: Vec<QueueState>,
}

impl<'m> MessageQueues<'m> {
    /// Empty queues, statistics from `warmup` on; `stream_of(name)` gives each its random stream.
    pub fn new(
        specs: &'m [MessageQueue],
        duration_ns: Nanos,
        (warmup, window, windows): (Nanos, Nanos, usize),
        stream_of: impl Fn(&str) -> Stream,
    ) -> Self {
        let states = specs
            .iter()
            .map(|q| QueueState {
                messages: Slab::default(),
                visible: VecDeque::new(),
                stored: 0,
                visible_now: 0,
                delayed: 0,
                busy: 0,
                tally: RequestTally::new(warmup, window, windows),
                series: CountSeries::new(warmup, window, windows),
                totals: [0; 5],
                backlog: LevelSeries::new(warmup, window, windows),
                invisible: LevelSeries::new(warmup, window, windows),
                rng: stream_of(&q.name),
            })
            .collect();
        MessageQueues {
            specs,
            warmup_ns: warmup,
            duration_ns,
            states,
        }
    }

    /// Schedule every queue's first steady publication and first burst message.
    pub fn schedule_producers(&mut self, queue: &mut EventQueue<Event>) {
        for (q, spec) in self.specs.iter().enumerate() {
            for producer in 0..spec.steady.len() {
                self.schedule_next_publish(q as u32, producer as u32, queue);
            }
            for (b, burst) in spec.bursts.iter().enumerate() {
                let event = Event::BurstMessage {
                    queue: q as u32,
                    burst: b as u32,
                    sent: 0,
                };
                queue.schedule_at(burst.at_ns, event);
            }
        }
    }

    /// Draw steady producer `producer`'s next publication to queue `q` (Poisson).
    pub fn schedule_next_publish(&mut self, q: u32, producer: u32, queue: &mut EventQueue<Event>) {
        let rate = self.specs[q as usize].steady[producer as usize].1;
        if rate <= 0.0 {
            return;
        }
        let gap: f64 = -(1.0 - self.states[q as usize].rng.random::<f64>()).ln() / rate;
        let at = queue.now().saturating_add(secs_to_nanos(gap));
        if at <= self.duration_ns {
            queue.schedule_at(at, Event::Publish { queue: q, producer });
        }
    }

    /// Put a new message for unit of work `unit` in queue `q`, visible after `delay_ns` (at once
    /// when 0); returns the messages stored.
    pub fn publish(&mut self, q: u32, unit: u32, delay_ns: Nanos, queue: &mut EventQueue<Event>) -> u32 {
        let now = queue.now();
        let state = &mut self.states[q as usize];
        let delayed = delay_ns > 0;
        let message = state.messages.insert(Message {
            unit,
            receives: 0,
            visibility: 0,
            visible: !delayed,
        });
        if delayed {
            state.delayed += 1;
            let event = Event::MessageVisible {
                queue: q,
                message,
                visibility: 0,
            };
            queue.schedule_in(delay_ns, event);
        } else {
            state.visible.push_back((message, 0));
            state.visible_now += 1;
        }
        state.stored += 1;
        state.count(now, self.warmup_ns, column::PUBLISHED);
        state.levels(now);
        state.stored
    }

    /// A free consumer slot of queue `q` (if any is free) receives the oldest visible message at
    /// `now`: it becomes invisible for the visibility timeout, or goes to the dead-letter queue
    /// past its `max_receives`.
    pub fn receive(&mut self, q: u32, queue: &mut EventQueue<Event>) -> Receive {
        let now = queue.now();
        let spec = &self.specs[q as usize];
        let state = &mut self.states[q as usize];
        if state.busy >= spec.concurrency {
            return Receive::Nothing;
        }
        loop {
            let Some((message_ref, visibility)) = state.visible.pop_front() else {
                return Receive::Nothing;
            };
            let Some(message) = state
                .messages
                .get_mut(message_ref)
                .filter(|m| m.visibility == visibility && m.visible)
            else {
                continue;
            };
            message.visible = false;
            message.receives += 1;
            message.visibility = message.visibility.wrapping_add(1);
            let (unit, receives, visibility) = (message.unit, message.receives, message.visibility);
            state.visible_now -= 1;
            if spec.max_receives.is_some_and(|max| receives > max) {
                state.count(now, self.warmup_ns, column::DEAD_LETTERED);
                return match state.remove(message_ref, now) {
                    Some(unit) => Receive::DeadLettered { unit },
                    None => Receive::Nothing,
                };
            }
            state.count(now, self.warmup_ns, column::RECEIVES);
            if receives == 1 {
                state.count(now, self.warmup_ns, column::FIRST_RECEIVES);
            }
            state.busy += 1;
            state.levels(now);
            state.tally.start(now);
            let event = Event::MessageVisible {
                queue: q,
                message: message_ref,
                visibility,
            };
            queue.schedule_in(spec.visibility_ns, event);
            return Receive::Deliver {
                message: message_ref,
                unit,
                receives,
            };
        }
    }

    /// A message's invisibility timer fired: true when it made the message visible again (a
    /// stale timer does nothing).
    pub fn message_visible(&mut self, q: u32, message_ref: MessageRef, visibility: u32, now: Nanos) -> bool {
        let state = &mut self.states[q as usize];
        let Some(message) = state.messages.get_mut(message_ref) else {
            return false;
        };
        if message.visibility != visibility || message.visible {
            return false;
        }
        if message.receives == 0 {
            // Its delay is over.
            state.delayed -= 1;
        }
        message.visible = true;
        state.visible.push_back((message_ref, visibility));
        state.visible_now += 1;
        state.levels(now);
        true
    }

    /// A delivery of receive `receipt` of a message, started at `started_ns`, ended with
    /// `outcome`: the slot is free; on success the message is deleted (its unit of work returned
    /// to be let go), else it becomes visible again after the error visibility timeout (unless
    /// another receive has it by now).
    pub fn delivery_done(
        &mut self,
        q: u32,
        message_ref: MessageRef,
        receipt: u32,
        started_ns: Nanos,
        outcome: Outcome,
        queue: &mut EventQueue<Event>,
    ) -> Option<u32> {
        let now = queue.now();
        let error_visibility = self.specs[q as usize].error_visibility_ns;
        let state = &mut self.states[q as usize];
        state.busy -= 1;
        state.tally.finish(now, started_ns, outcome);
        let same = state.messages.get(message_ref).copied();
        match same {
            Some(_) if outcome == Outcome::Ok => {
                state.count(now, self.warmup_ns, column::DELETED);
                return state.remove(message_ref, now);
            }
            Some(m) if m.receives == receipt && !m.visible => {
                if let Some(message) = state.messages.get_mut(message_ref) {
                    message.visibility = message.visibility.wrapping_add(1);
                    let event = Event::MessageVisible {
                        queue: q,
                        message: message_ref,
                        visibility: message.visibility,
                    };
                    queue.schedule_in(error_visibility, event);
                }
            }
            _ => {}
        }
        None
    }

    /// The consumer's random stream (link latencies and jitter of its deliveries).
    pub fn rng(&mut self, q: u32) -> &mut Stream {
        &mut self.states[q as usize].rng
    }

    /// The consumer's tally (retries and attempt timeouts of its deliveries are counted there).
    pub fn tally(&mut self, q: u32) -> &mut RequestTally {
        &mut self.states[q as usize].tally
    }

    /// Close the time averages at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for q in &mut self.states {
            q.backlog.finish(end_ns);
            q.invisible.finish(end_ns);
            q.tally.series.finish(end_ns);
        }
    }

    /// Messages of queue `q` visible now (waiting to be received).
    pub fn visible(&self, q: usize) -> u32 {
        self.states[q].visible_now
    }

    /// What each queue measured.
    pub fn results(self) -> Vec<QueueResult> {
        self.states
            .into_iter()
            .map(|q| QueueResult {
                left_at_end: u64::from(q.stored),
                backlog_mean: q.backlog.mean(),
                backlog_series: means(&q.backlog),
                invisible_series: means(&q.invisible),
                totals: q.totals,
                series: q.series,
                tally: q.tally,
            })
            .collect()
    }
}
