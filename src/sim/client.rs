//! Clients: open Poisson arrivals (with a time-varying profile, by thinning) and closed-loop users.

use super::job::{Job, JobRef, Outcome, Owner};
use super::world::{Event, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::units::secs_to_nanos;
use crate::model::Arrivals;
use rand::RngExt;

impl World<'_> {
    /// Schedule each open client's first arrival and each closed user's first request.
    pub(super) fn schedule_first_arrivals(&mut self, queue: &mut EventQueue<Event>) {
        for (c, client) in self.model.clients.iter().enumerate() {
            match &client.arrivals {
                Arrivals::Open { .. } => self.schedule_next_arrival(c as u32, queue),
                Arrivals::Closed { users, start_ns, .. } => {
                    for user in 0..*users {
                        queue.schedule_at(*start_ns, Event::UserReady { client: c as u32, user });
                    }
                }
            }
        }
    }

    /// Draw the next arrival of open client `c` by thinning a Poisson process: within each
    /// stretch of the profile, candidates arrive at the stretch's largest rate λmax and are kept
    /// with probability λ(t)/λmax; a candidate past the stretch's end is dropped and drawing
    /// starts again from that end (Poisson processes are memoryless), so a stretch at factor 0
    /// costs nothing.
    pub(super) fn schedule_next_arrival(&mut self, c: u32, queue: &mut EventQueue<Event>) {
        let Arrivals::Open { rate_per_s, profile } = &self.model.clients[c as usize].arrivals else {
            return;
        };
        let rate = rate_per_s * self.traffic_factor[c as usize];
        let rng = &mut self.clients[c as usize].rng;
        let mut t = queue.now();
        while t < self.model.duration_ns {
            let (factor, stretch_end) = profile.as_ref().map_or((1.0, Nanos::MAX), |p| p.envelope_at(t));
            let peak = rate * factor;
            if peak <= 0.0 {
                t = stretch_end;
                continue;
            }
            let gap: f64 = -(1.0 - rng.random::<f64>()).ln() / peak;
            let candidate = t.saturating_add(secs_to_nanos(gap));
            if candidate >= stretch_end {
                t = stretch_end;
                continue;
            }
            if candidate > self.model.duration_ns {
                return;
            }
            let keep = match profile {
                None => true,
                Some(p) => rng.random::<f64>() * peak < rate * p.factor_at(candidate),
            };
            if keep {
                let generation = self.arrival_generation[c as usize];
                queue.schedule_at(candidate, Event::Arrival { client: c, generation });
                return;
            }
            t = candidate;
        }
    }

    /// An open client's request arrives: start it and draw the next one.
    pub(super) fn on_arrival(&mut self, c: u32, generation: u32, queue: &mut EventQueue<Event>) {
        if generation != self.arrival_generation[c as usize] {
            return;
        }
        self.start_client_request(c, 0, queue);
        self.schedule_next_arrival(c, queue);
    }

    /// A closed-loop user sends its next request.
    pub(super) fn on_user_ready(&mut self, c: u32, user: u32, queue: &mut EventQueue<Event>) {
        self.start_client_request(c, user, queue);
    }

    /// A client request starts: a job whose only work is the client's call.
    fn start_client_request(&mut self, c: u32, user: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        self.clients[c as usize].tally.start(now);
        let unit = self.units.create();
        let mut request = Job::new(Owner::Client { client: c, user }, None, now, unit);
        request.class = self.model.clients[c as usize].class.map(|k| k as u32);
        let job = self.spawn(request, now);
        self.start_attempt(job, queue);
    }

    /// A client request ended: count it and, for a closed-loop user, think and go again.
    pub(super) fn finish_client_request(
        &mut self,
        job: JobRef,
        c: u32,
        user: u32,
        outcome: Outcome,
        queue: &mut EventQueue<Event>,
    ) {
        let now = queue.now();
        let Some(done) = self.retire(job) else {
            return;
        };
        let state = &mut self.clients[c as usize];
        state.tally.finish(now, done.started_ns, outcome);
        let Arrivals::Closed { think, requests, .. } = &self.model.clients[c as usize].arrivals else {
            return;
        };
        if let (Some(limit), Some(batch)) = (requests, state.batch.as_mut()) {
            let u = user as usize;
            batch.done[u] += 1;
            batch.failed[u] += u32::from(outcome != Outcome::Ok);
            if batch.done[u] >= *limit {
                batch.finished_at_ns[u] = Some(now);
                return;
            }
        }
        let pause: Nanos = think.sample_ns(&mut state.rng);
        queue.schedule_in(pause, Event::UserReady { client: c, user });
    }
}
