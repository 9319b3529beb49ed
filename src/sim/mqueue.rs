//! Message queues with SQS semantics: producers publish (steadily or in scheduled bursts); a
//! consumer with a concurrency limit receives visible messages and delivers each as a call. A
//! received message is invisible for the visibility timeout; a successful delivery deletes it; a
//! failed one (error or the consumer's timeout) makes it visible again after the error visibility
//! timeout; past `max_receives` receives a message goes to the dead-letter queue.

use super::job::{Job, JobRef, Outcome, Owner};
use super::replication::queue_column as column;
use super::slab::{Key, Slab};
use super::tally::RequestTally;
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::units::secs_to_nanos;
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
pub struct QueueState {
    messages: Slab<Message>,
    /// Visible messages in the order they became visible, as (message, visibility); stale entries
    /// are skipped.
    visible: VecDeque<(MessageRef, u32)>,
    /// Messages in the queue (visible or not).
    stored: u32,
    /// Messages visible now.
    visible_now: u32,
    /// Deliveries in progress (consumer slots in use).
    pub busy: u32,
    /// The consumer's deliveries: outcomes and latencies.
    pub tally: RequestTally,
    /// Counts per window (see [`column`]).
    pub series: CountSeries<5>,
    /// Totals since the warm-up (see [`column`]).
    pub totals: [u64; 5],
    /// Visible messages over time.
    pub backlog: LevelSeries,
    /// Received messages not yet deleted or visible again, over time.
    pub invisible: LevelSeries,
    /// Draws of steady producers' gaps.
    pub rng: Stream,
}

impl QueueState {
    /// An empty queue with statistics from `warmup_ns`.
    pub fn new(warmup_ns: Nanos, window_ns: Nanos, windows: usize, rng: Stream) -> Self {
        QueueState {
            messages: Slab::default(),
            visible: VecDeque::new(),
            stored: 0,
            visible_now: 0,
            busy: 0,
            tally: RequestTally::new(warmup_ns, window_ns, windows),
            series: CountSeries::new(warmup_ns, window_ns, windows),
            totals: [0; 5],
            backlog: LevelSeries::new(warmup_ns, window_ns, windows),
            invisible: LevelSeries::new(warmup_ns, window_ns, windows),
            rng,
        }
    }

    /// Messages in the queue, visible or not.
    pub fn stored(&self) -> u32 {
        self.stored
    }

    fn count(&mut self, now: Nanos, warmup_ns: Nanos, which: usize) {
        self.series.add(now, which);
        if now >= warmup_ns {
            self.totals[which] += 1;
        }
    }

    fn levels(&mut self, now: Nanos) {
        self.backlog.set(now, f64::from(self.visible_now));
        self.invisible.set(now, f64::from(self.stored - self.visible_now));
    }

    /// Close the time averages at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        self.backlog.finish(end_ns);
        self.invisible.finish(end_ns);
        self.tally.series.finish(end_ns);
    }
}

impl World<'_> {
    /// Schedule every queue's first steady publication and first burst message.
    pub(super) fn schedule_producers(&mut self, queue: &mut EventQueue<Event>) {
        for (q, spec) in self.model.queues.iter().enumerate() {
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

    fn schedule_next_publish(&mut self, q: u32, producer: u32, queue: &mut EventQueue<Event>) {
        let rate = self.model.queues[q as usize].steady[producer as usize].1;
        if rate <= 0.0 {
            return;
        }
        let gap: f64 = -(1.0 - self.queues[q as usize].rng.random::<f64>()).ln() / rate;
        let at = queue.now().saturating_add(secs_to_nanos(gap));
        if at <= self.model.duration_ns {
            queue.schedule_at(at, Event::Publish { queue: q, producer });
        }
    }

    /// A steady producer publishes a message and draws its next one.
    pub(super) fn on_publish(&mut self, q: u32, producer: u32, queue: &mut EventQueue<Event>) {
        self.publish(q, queue);
        self.schedule_next_publish(q, producer, queue);
    }

    /// A burst publishes its next message (all of them when it is not spread out).
    pub(super) fn on_burst_message(&mut self, q: u32, b: u32, sent: u32, queue: &mut EventQueue<Event>) {
        let burst = &self.model.queues[q as usize].bursts[b as usize];
        if burst.over_ns == 0 {
            for _ in sent..burst.messages {
                self.publish(q, queue);
                if self.stop.is_some() {
                    return;
                }
            }
            return;
        }
        self.publish(q, queue);
        if sent + 1 < burst.messages {
            let event = Event::BurstMessage {
                queue: q,
                burst: b,
                sent: sent + 1,
            };
            queue.schedule_at(burst.time_of(sent + 1).max(queue.now()), event);
        }
    }

    /// Put a new message (a new unit of work) in queue `q`.
    fn publish(&mut self, q: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let unit = self.units.create();
        let state = &mut self.queues[q as usize];
        let message = state.messages.insert(Message {
            unit,
            receives: 0,
            visibility: 0,
            visible: true,
        });
        state.visible.push_back((message, 0));
        state.stored += 1;
        state.visible_now += 1;
        state.count(now, self.model.warmup_ns, column::PUBLISHED);
        state.levels(now);
        if state.stored > self.model.max_in_flight && self.stop.is_none() {
            self.stop = Some(format!(
                "unstable: queue {} holds more than {} messages at t = {}",
                self.model.queues[q as usize].name,
                self.model.max_in_flight,
                crate::model::units::format_duration(now)
            ));
        }
        self.receive_messages(q, queue);
    }

    /// Free consumer slots receive visible messages, oldest first.
    fn receive_messages(&mut self, q: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let spec = &self.model.queues[q as usize];
        while self.queues[q as usize].busy < spec.concurrency {
            let state = &mut self.queues[q as usize];
            let Some((message_ref, visibility)) = state.visible.pop_front() else {
                return;
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
                state.count(now, self.model.warmup_ns, column::DEAD_LETTERED);
                self.remove_message(q, message_ref, now);
                continue;
            }
            state.count(now, self.model.warmup_ns, column::RECEIVES);
            if receives == 1 {
                state.count(now, self.model.warmup_ns, column::FIRST_RECEIVES);
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
            self.units.retain(unit);
            let owner = Owner::Consumer {
                queue: q,
                message: message_ref,
                receipt: receives,
            };
            let job = self.spawn(Job::new(owner, None, now, unit), now);
            self.start_attempt(job, queue);
        }
    }

    /// Take a message out of the queue (deleted or dead-lettered).
    fn remove_message(&mut self, q: u32, message_ref: MessageRef, now: Nanos) {
        let state = &mut self.queues[q as usize];
        if let Some(message) = state.messages.remove(message_ref) {
            if message.visible {
                state.visible_now -= 1;
            }
            state.stored -= 1;
            state.levels(now);
            self.units.release(message.unit);
        }
    }

    /// A message's invisibility is over: it can be received again.
    pub(super) fn on_message_visible(&mut self, q: u32, message_ref: MessageRef, visibility: u32, queue: &mut EventQueue<Event>) {
        let state = &mut self.queues[q as usize];
        let Some(message) = state.messages.get_mut(message_ref) else {
            return;
        };
        if message.visibility != visibility || message.visible {
            return;
        }
        message.visible = true;
        state.visible.push_back((message_ref, visibility));
        state.visible_now += 1;
        state.levels(queue.now());
        self.receive_messages(q, queue);
    }

    /// A delivery ended: delete the message on success, else make it visible again after the
    /// error visibility timeout (unless another receive has it by now); the slot takes the next
    /// message.
    pub(super) fn delivery_done(&mut self, job_ref: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.retire(job_ref) else {
            return;
        };
        let Owner::Consumer {
            queue: q,
            message: message_ref,
            receipt,
        } = job.owner
        else {
            return;
        };
        let warmup = self.model.warmup_ns;
        let error_visibility = self.model.queues[q as usize].error_visibility_ns;
        let state = &mut self.queues[q as usize];
        state.busy -= 1;
        state.tally.finish(now, job.started_ns, outcome);
        let same = state.messages.get(message_ref).copied();
        match same {
            Some(_) if outcome == Outcome::Ok => {
                state.count(now, warmup, column::DELETED);
                self.remove_message(q, message_ref, now);
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
        self.receive_messages(q, queue);
    }
}
