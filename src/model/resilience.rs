//! Resolved resilience settings: message queues and their producers, call policies (retry
//! budgets, adaptive throttling, circuit breakers), limits (rate limits, bulkheads), idempotency
//! checks and side effects.

use super::{Call, Nanos};

/// Index of a message queue in [`super::Model::queues`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub usize);

/// Where a call is made from (a client, or a call step of an endpoint), with the policies that
/// keep state across calls there.
#[derive(Clone, Debug, Default)]
pub struct CallSite {
    /// "client web" or "api.checkout → menu.get".
    pub name: String,
    /// Retries as a share of requests.
    pub budget: Option<Budget>,
    /// Client-side adaptive throttling.
    pub throttle: Option<Throttle>,
    /// Circuit breaker.
    pub breaker: Option<Breaker>,
    /// The token bucket on its attempts (index in [`super::Model::limits`]).
    pub rate_limit: Option<usize>,
    /// The bulkhead on its attempts in flight (index in [`super::Model::limits`]).
    pub bulkhead: Option<usize>,
    /// When a second copy of an unanswered attempt is sent.
    pub hedge: Option<Hedge>,
}

impl CallSite {
    /// Whether any policy keeps state at this site.
    pub fn has_policy(&self) -> bool {
        self.budget.is_some() || self.throttle.is_some() || self.breaker.is_some()
    }
}

/// A rate limit or a bulkhead, with the name its counts are reported under.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// "api.rate_limit", "web.bulkhead", "api.checkout->payments.charge.bulkhead".
    pub name: String,
    /// What it limits and how.
    pub kind: LimitKind,
}

/// What a limit is.
#[derive(Clone, Debug, PartialEq)]
pub enum LimitKind {
    /// A token bucket.
    RateLimit(RateLimit),
    /// A cap on calls in flight.
    Bulkhead(Bulkhead),
}

/// A call's hedging: when it sends a second copy of an attempt still unanswered.
#[derive(Clone, Debug, PartialEq)]
pub struct Hedge {
    /// "web.hedge", "api.search->index.query.hedge": the name its counts are reported under.
    pub name: String,
    /// When the copy goes.
    pub trigger: HedgeTrigger,
}

/// When a hedged call's second copy goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeTrigger {
    /// After a fixed delay.
    After(Nanos),
    /// After this percentile (0–100, exclusive) of the call's recent successful answers.
    At(f64),
}

impl HedgeTrigger {
    /// "after 50ms" or "at p95", as reports show it.
    pub fn setting(&self) -> String {
        match self {
            HedgeTrigger::After(ns) => format!("after {}", super::units::format_duration(*ns)),
            HedgeTrigger::At(q) => format!("at p{q}"),
        }
    }
}

/// A token bucket: `rate_per_s` tokens a second up to `burst`, full at the start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate_per_s: f64,
    /// Most tokens held.
    pub burst: u32,
}

/// A bulkhead: calls in flight at once per instance of the caller, and the line for a place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bulkhead {
    /// Calls in flight at once.
    pub max_concurrent: u32,
    /// Most calls waiting for a place (0: rejected at once; `u32::MAX`: unbounded).
    pub queue: u32,
    /// Longest wait for a place; no limit when absent.
    pub max_wait_ns: Option<Nanos>,
    /// Instances of the calling side (1 for a client): each has its own places and line.
    pub instances: u32,
}

/// A retry budget over a sliding window.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Retries allowed per request.
    pub ratio: f64,
    /// Retries per second always allowed.
    pub min_per_s: f64,
    /// The sliding window.
    pub window_ns: Nanos,
}

/// Client-side adaptive throttling (Google SRE book).
#[derive(Clone, Debug, PartialEq)]
pub struct Throttle {
    /// Multiplier of accepted requests.
    pub k: f64,
    /// The sliding window.
    pub window_ns: Nanos,
}

/// A circuit breaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Breaker {
    /// Share of failed calls that opens it.
    pub failure_rate: Option<f64>,
    /// A call slower than this is slow.
    pub slow_call_ns: Option<Nanos>,
    /// Share of slow calls that opens it.
    pub slow_call_rate: f64,
    /// The sliding window.
    pub window_ns: Nanos,
    /// Fewest calls in the window before it may open.
    pub min_calls: u32,
    /// How long it stays open.
    pub open_ns: Nanos,
    /// Probes let through when half-open.
    pub probes: u32,
}

/// What a request does when its caller stops waiting.
pub use super::spec::CallerGoneSpec as CallerGone;

/// A service's idempotency checks.
#[derive(Clone, Debug, Default)]
pub struct Idempotency {
    /// Skip a unit already in flight here; the most keys tracked (`u32::MAX`: unbounded).
    pub dedupe_capacity: Option<u32>,
    /// Skip a unit already completed here.
    pub completed: Option<CompletedStore>,
}

/// The store of completed units.
#[derive(Clone, Debug)]
pub struct CompletedStore {
    /// Most keys kept; the oldest is forgotten first.
    pub capacity: u32,
    /// How long a key is remembered; forever when absent.
    pub ttl_ns: Option<Nanos>,
}

/// A message queue with SQS semantics.
#[derive(Clone, Debug)]
pub struct MessageQueue {
    /// Name in the model.
    pub name: String,
    /// Steady producers: Poisson rates in messages per second, by producer name.
    pub steady: Vec<(String, f64)>,
    /// Scheduled bursts, in time order.
    pub bursts: Vec<Burst>,
    /// Invisibility after a receive.
    pub visibility_ns: Nanos,
    /// Invisibility after a failed delivery.
    pub error_visibility_ns: Nanos,
    /// Receives after which a message goes to the dead-letter queue.
    pub max_receives: Option<u32>,
    /// Messages delivered at once.
    pub concurrency: u32,
    /// The delivery call (its timeout is the consumer's; it does not retry: redelivery does).
    pub call: Call,
}

/// Messages published at a scheduled time.
#[derive(Clone, Debug)]
pub struct Burst {
    /// The producer's name.
    pub producer: String,
    /// When it starts.
    pub at_ns: Nanos,
    /// How many messages.
    pub messages: u32,
    /// Spread evenly over this long (0: all at once).
    pub over_ns: Nanos,
}

impl Burst {
    /// When message `k` (from 0) of the burst is published.
    pub fn time_of(&self, k: u32) -> Nanos {
        let step = self.over_ns as u128 * u128::from(k) / u128::from(self.messages.max(1));
        self.at_ns.saturating_add(step as Nanos)
    }
}
