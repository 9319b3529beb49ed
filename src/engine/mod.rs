//! The discrete-event engine: integer clock, event queue, random streams and the run loop.
//!
//! The engine is generic: it knows nothing about services, databases or requests. A simulation
//! implements [`Process`] for its own event type and the engine drives it in time order.

mod heap;
pub mod queue;
pub mod rng;
pub mod run;

pub use queue::EventQueue;
pub use rng::{stream, Stream};
pub use run::{run, Process, RunLimits, StopReason};

/// Simulated time in integer nanoseconds since the start of the run: exact and totally ordered.
pub type Nanos = u64;
