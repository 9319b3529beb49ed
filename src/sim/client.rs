//! Clients: open Poisson arrivals (with a time-varying profile, by thinning) and closed-loop users.
//! The component owns each client's arrival process, random stream and tally; what a request does
//! once sent is the request path's (`request.rs`).

use super::job::Outcome;
use super::replication::ClientResult;
use super::tally::{BatchTally, RequestTally};
use super::world::Event;
use crate::engine::{EventQueue, Nanos, Stream};
use crate::model::units::secs_to_nanos;
use crate::model::{Arrivals, Client, ClientId};
use rand::RngExt;

/// One client's state.
struct ClientState {
    /// Requests and their outcomes.
    tally: RequestTally,
    /// Progress of users with a fixed number of requests.
    batch: Option<BatchTally>,
    /// Draws of arrivals, think times, link latencies and jitter.
    rng: Stream,
    /// Multiplier of the arrival rate set by timed actions.
    traffic_factor: f64,
    /// Generation of the pending arrival of an open client: a change of rate redraws it.
    generation: u32,
}

/// Every client of the model: when requests are sent and what became of them.
pub struct Clients<'m> {
    specs: &'m [Client],
    /// The end of the run: no arrival is drawn past it.
    duration_ns: Nanos,
    states: Vec<ClientState>,
}

impl<'m> Clients<'m> {
    /// The clients of a replication, each with its random stream from `stream_of(name)`.
    pub fn new(
        specs: &'m [Client],
        duration_ns: Nanos,
        tally: impl Fn() -> RequestTally,
        mut stream_of: impl FnMut(&str) -> Stream,
    ) -> Self {
        let states = specs
            .iter()
            .map(|c| ClientState {
                tally: tally(),
                batch: match c.arrivals {
                    Arrivals::Closed {
                        users,
                        requests: Some(_),
                        ..
                    } => Some(BatchTally {
                        finished_at_ns: vec![None; users as usize],
                        done: vec![0; users as usize],
                        failed: vec![0; users as usize],
                    }),
                    _ => None,
                },
                rng: stream_of(&c.name),
                traffic_factor: 1.0,
                generation: 0,
            })
            .collect();
        Clients {
            specs,
            duration_ns,
            states,
        }
    }

    /// Schedule each open client's first arrival and each closed user's first request.
    pub fn schedule_first_arrivals(&mut self, queue: &mut EventQueue<Event>) {
        for (c, client) in self.specs.iter().enumerate() {
            match &client.arrivals {
                Arrivals::Open { .. } => self.schedule_next_arrival(ClientId(c), queue),
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
    pub fn schedule_next_arrival(&mut self, c: ClientId, queue: &mut EventQueue<Event>) {
        let Arrivals::Open { rate_per_s, profile } = &self.specs[c.0].arrivals else {
            return;
        };
        let state = &mut self.states[c.0];
        let rate = rate_per_s * state.traffic_factor;
        let rng = &mut state.rng;
        let mut t = queue.now();
        while t < self.duration_ns {
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
            if candidate > self.duration_ns {
                return;
            }
            let keep = match profile {
                None => true,
                Some(p) => rng.random::<f64>() * peak < rate * p.factor_at(candidate),
            };
            if keep {
                let generation = state.generation;
                queue.schedule_at(
                    candidate,
                    Event::Arrival {
                        client: c.0 as u32,
                        generation,
                    },
                );
                return;
            }
            t = candidate;
        }
    }

    /// Whether an arrival drawn at `generation` is still the client's pending one (a change of
    /// rate since makes it stale).
    pub fn arrival_is_current(&self, c: ClientId, generation: u32) -> bool {
        self.states[c.0].generation == generation
    }

    /// A timed action sets the client's traffic to `factor` × its rate: the pending arrival,
    /// drawn at the old rate, is drawn again (arrivals are memoryless).
    pub fn set_traffic_factor(&mut self, c: ClientId, factor: f64, queue: &mut EventQueue<Event>) {
        let state = &mut self.states[c.0];
        state.traffic_factor = factor;
        state.generation = state.generation.wrapping_add(1);
        self.schedule_next_arrival(c, queue);
    }

    /// The client's random stream (link latencies, backoff jitter of its calls).
    pub fn rng(&mut self, c: ClientId) -> &mut Stream {
        &mut self.states[c.0].rng
    }

    /// The client's tally (retries and attempt timeouts of its calls are counted there).
    pub fn tally(&mut self, c: ClientId) -> &mut RequestTally {
        &mut self.states[c.0].tally
    }

    /// A request of client `c` starts at `now`.
    #[inline]
    pub fn request_started(&mut self, c: ClientId, now: Nanos) {
        self.states[c.0].tally.start(now);
    }

    /// A request of client `c`'s `user`, started at `started_ns`, ended at `now` with `outcome`:
    /// count it and, for a closed-loop user with requests left, think and go again.
    pub fn request_finished(
        &mut self,
        c: ClientId,
        user: u32,
        started_ns: Nanos,
        outcome: Outcome,
        queue: &mut EventQueue<Event>,
    ) {
        let now = queue.now();
        let state = &mut self.states[c.0];
        state.tally.finish(now, started_ns, outcome);
        let Arrivals::Closed { think, requests, .. } = &self.specs[c.0].arrivals else {
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
        queue.schedule_in(
            pause,
            Event::UserReady {
                client: c.0 as u32,
                user,
            },
        );
    }

    /// Close the client's windowed series at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for c in &mut self.states {
            c.tally.series.finish(end_ns);
            c.tally.arrivals.finish(end_ns);
        }
    }

    /// What each client measured, with the requests it still had in flight.
    pub fn results(self, in_flight_at_end: Vec<u64>) -> Vec<ClientResult> {
        self.states
            .into_iter()
            .zip(in_flight_at_end)
            .map(|(c, in_flight_at_end)| ClientResult {
                tally: c.tally,
                in_flight_at_end,
                batch: c.batch,
            })
            .collect()
    }
}
