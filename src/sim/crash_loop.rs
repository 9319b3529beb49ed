//! Crash loops: while one is in force, instances of its service crash after a drawn uptime (or,
//! with a per-request probability, on a request) and restart after a drawn time that grows with
//! each crash in a row (backoff), together or one by one. The component decides when; the
//! services crash and restart their instances (`lifecycle.rs` carries it out).

use crate::engine::{Nanos, Stream};
use crate::model::{ActionKind, CrashLoop, TimedAction};
use rand::RngExt;

/// Every crash loop of the model, by timed action index (other actions have unused entries).
pub struct CrashLoops<'m> {
    actions: &'m [TimedAction],
    /// Whether each crash loop is in force.
    in_force: Vec<bool>,
    /// Draws of each crash loop of its own (uptimes, restarts, per-request crashes).
    streams: Vec<Stream>,
}

impl<'m> CrashLoops<'m> {
    /// No crash loop in force yet; `stream_of(action index)` gives each its random stream.
    pub fn new(actions: &'m [TimedAction], stream_of: impl Fn(usize) -> Stream) -> Self {
        CrashLoops {
            actions,
            in_force: vec![false; actions.len()],
            streams: (0..actions.len()).map(stream_of).collect(),
        }
    }

    /// The crash loop of timed action `action`, if it is one.
    pub fn spec(&self, action: u32) -> Option<&'m CrashLoop> {
        match &self.actions[action as usize].kind {
            ActionKind::CrashLoop(l) => Some(l),
            _ => None,
        }
    }

    /// The crash loop starts (`on`) or ends.
    pub fn set_in_force(&mut self, action: u32, on: bool) {
        self.in_force[action as usize] = on;
    }

    /// Whether the crash loop is in force.
    pub fn in_force(&self, action: u32) -> bool {
        self.in_force[action as usize]
    }

    /// A draw of how long an instance stays up before the loop crashes it, if the loop crashes
    /// on a clock.
    pub fn uptime(&mut self, action: u32) -> Option<Nanos> {
        let uptime = self.spec(action)?.uptime.as_ref()?;
        Some(uptime.sample_ns(&mut self.streams[action as usize]))
    }

    /// A draw of the restart time after the `in_a_row`-th crash in a row: the drawn time grows by
    /// the backoff factor per crash in a row, capped at the longest restart.
    pub fn restart_after(&mut self, action: u32, in_a_row: u32) -> Nanos {
        let Some(l) = self.spec(action) else {
            return 0;
        };
        let growth = l.backoff.powi(in_a_row.saturating_sub(1).min(1_000) as i32);
        let drawn = l.restart.sample_ns(&mut self.streams[action as usize]) as f64 * growth;
        if growth > 1.0 {
            (drawn.min(l.max_restart_ns as f64)) as Nanos
        } else {
            drawn as Nanos
        }
    }

    /// A request starts CPU work on instance `i` of service `s`: the first crash loop in force
    /// there whose per-request draw hits crashes it; returns that loop's action index.
    pub fn crashes_on_request(&mut self, s: usize, i: u32) -> Option<u32> {
        for a in 0..self.actions.len() {
            let Some(l) = self.spec(a as u32) else {
                continue;
            };
            if l.service.0 != s || l.per_request <= 0.0 || !self.in_force[a] || i >= l.instances {
                continue;
            }
            if self.streams[a].random::<f64>() < l.per_request {
                return Some(a as u32);
            }
        }
        None
    }
}
