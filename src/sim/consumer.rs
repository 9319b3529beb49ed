//! Message queues as the request path sees them: producers publish (a new unit of work per
//! message), a free consumer slot receives a message and delivers it as a call, and the
//! delivery's end deletes the message or lets it become visible again. The queues keep their own
//! state (`mqueue.rs`).

use super::job::{Job, JobRef, Outcome, Owner};
use super::mqueue::{MessageRef, Receive};
use super::world::{Event, World};
use crate::engine::EventQueue;

impl World<'_> {
    /// A steady producer publishes a message and draws its next one.
    pub(super) fn on_publish(&mut self, q: u32, producer: u32, queue: &mut EventQueue<Event>) {
        self.publish(q, 0, queue);
        self.queues.schedule_next_publish(q, producer, queue);
    }

    /// A burst publishes its next message (all of them when it is not spread out).
    pub(super) fn on_burst_message(&mut self, q: u32, b: u32, sent: u32, queue: &mut EventQueue<Event>) {
        let burst = &self.model.queues[q as usize].bursts[b as usize];
        if burst.over_ns == 0 {
            for _ in sent..burst.messages {
                self.publish(q, 0, queue);
                if self.stop.is_some() {
                    return;
                }
            }
            return;
        }
        self.publish(q, 0, queue);
        if sent + 1 < burst.messages {
            let event = Event::BurstMessage {
                queue: q,
                burst: b,
                sent: sent + 1,
            };
            queue.schedule_at(burst.time_of(sent + 1).max(queue.now()), event);
        }
    }

    /// Put a new message (a new unit of work) in queue `q`, from a producer or a publish step,
    /// visible after `delay_ns`; a queue holding more messages than the model allows in flight
    /// stops the run as unstable.
    pub(super) fn publish(&mut self, q: u32, delay_ns: u64, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let unit = self.units.create();
        let stored = self.queues.publish(q, unit, delay_ns, queue);
        if stored > self.model.max_in_flight && self.stop.is_none() {
            self.stop = Some(format!(
                "unstable: queue {} holds more than {} messages at t = {}",
                self.model.queues[q as usize].name,
                self.model.max_in_flight,
                crate::model::units::format_duration(now)
            ));
        }
        self.receive_messages(q, queue);
    }

    /// Free consumer slots receive visible messages, oldest first, and deliver each as a call.
    fn receive_messages(&mut self, q: u32, queue: &mut EventQueue<Event>) {
        loop {
            match self.queues.receive(q, queue) {
                Receive::Nothing => return,
                Receive::DeadLettered { unit } => self.units.release(unit),
                Receive::Deliver { message, unit, receives } => {
                    let now = queue.now();
                    self.units.retain(unit);
                    let owner = Owner::Consumer {
                        queue: q,
                        message,
                        receipt: receives,
                    };
                    let job = self.spawn(Job::new(owner, None, now, unit), now);
                    self.start_attempt(job, queue);
                }
            }
        }
    }

    /// A message's invisibility is over: it can be received again.
    pub(super) fn on_message_visible(&mut self, q: u32, message_ref: MessageRef, visibility: u32, queue: &mut EventQueue<Event>) {
        if self.queues.message_visible(q, message_ref, visibility, queue.now()) {
            self.receive_messages(q, queue);
        }
    }

    /// A delivery ended: the queue deletes the message or lets it become visible again, and the
    /// slot takes the next message.
    pub(super) fn delivery_done(&mut self, job_ref: JobRef, outcome: Outcome, queue: &mut EventQueue<Event>) {
        let Some(job) = self.retire(job_ref) else {
            return;
        };
        let Owner::Consumer {
            queue: q,
            message,
            receipt,
        } = job.owner
        else {
            return;
        };
        if let Some(unit) = self.queues.delivery_done(q, message, receipt, job.started_ns, outcome, queue) {
            self.units.release(unit);
        }
        self.receive_messages(q, queue);
    }
}
