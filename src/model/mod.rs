//! The model: the JSON format people write ([`spec`]), and the resolved, validated [`Model`] the
//! simulator runs, where every name has become a typed id.

pub mod capacity;
pub mod dist;
pub mod duplicate_keys;
pub mod error;
pub mod load;
pub mod memory;
pub mod resilience;
pub mod schema;
pub mod spec;
pub mod units;
pub mod validate;
mod validate_autoscaling;
mod validate_resilience;
pub use validate::Validated;
pub mod values;

pub use dist::Dist;
pub use error::{Diagnostic, ModelError};
pub use load::{load_model, parse_model};
pub use resilience::{
    Breaker, Budget, Bulkhead, CallSite, CallerGone, Hedge, HedgeTrigger, Idempotency, Limit, LimitKind, MessageQueue, QueueId,
    RateLimit, Throttle,
};
pub use units::Nanos;

/// Index of a client in [`Model::clients`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub usize);
/// Index of a service in [`Model::services`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub usize);
/// Index of an endpoint in [`Model::endpoints`] (endpoints of all services in one list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(pub usize);
/// Index of a database in [`Model::databases`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatabaseId(pub usize);
/// Index of a network path between two components in [`Model::links`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub usize);
/// Index of a connection pool in [`Model::pools`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolId(pub usize);

/// A validated model, ready to simulate.
#[derive(Clone, Debug)]
pub struct Model {
    /// Short name used in titles.
    pub name: String,
    /// What the model represents.
    pub description: String,
    /// Simulated time per replication.
    pub duration_ns: Nanos,
    /// Initial period excluded from statistics.
    pub warmup_ns: Nanos,
    /// Width of one time-series window.
    pub window_ns: Nanos,
    /// Independent replications.
    pub replications: u32,
    /// Seed of every random stream.
    pub seed: u64,
    /// Most events one replication may handle.
    pub max_events: u64,
    /// Most requests in flight at once before the run is declared unstable.
    pub max_in_flight: u32,
    /// Most memory the run may need, bytes (see [`memory`]).
    pub max_memory: u64,
    /// Traffic sources.
    pub clients: Vec<Client>,
    /// Request classes named by clients, in order of first mention.
    pub classes: Vec<String>,
    /// Groups of clients reported together, in order of first mention.
    pub groups: Vec<String>,
    /// Services.
    pub services: Vec<Service>,
    /// Endpoints of all services.
    pub endpoints: Vec<Endpoint>,
    /// Databases.
    pub databases: Vec<Database>,
    /// Connection pools.
    pub pools: Vec<Pool>,
    /// Service level objectives.
    pub slos: Vec<Slo>,
    /// Names ("a -> b") of the network paths that calls and queries cross, by [`LinkId`].
    pub links: Vec<String>,
    /// Changes at given simulated times (added latency, traffic, injected work, outages).
    pub actions: Vec<TimedAction>,
    /// Message queues.
    pub queues: Vec<MessageQueue>,
    /// Every place a call is made from, with its policies; [`Call::site`] indexes it.
    pub call_sites: Vec<CallSite>,
    /// Names of the side effects steps have; [`Endpoint::effects`] indexes it.
    pub effects: Vec<String>,
    /// Rate limits and bulkheads, wherever they are (services, clients, call steps).
    pub limits: Vec<Limit>,
    /// The caches with a key space, each once however many steps share it; [`Lookup::Keys`]
    /// indexes it.
    pub key_spaces: Vec<KeySpace>,
    /// The metric watched for a metastability verdict, when the model asks for one.
    pub metastability: Option<String>,
}

impl Model {
    /// Number of time-series windows covering the observed part of the run (after the warm-up):
    /// the observed time over the window width, rounded up, at least 1 and at most the most
    /// windows validation allows.
    pub fn window_count(&self) -> usize {
        let observed = self.duration_ns.saturating_sub(self.warmup_ns);
        observed.div_ceil(self.window_ns.max(1)).clamp(1, validate::MAX_WINDOWS) as usize
    }

    /// When the trigger starts and ends, seconds: the first and last of the timed actions and
    /// bursts (`None` without any).
    pub fn trigger_s(&self) -> Option<(f64, f64)> {
        let starts = self
            .actions
            .iter()
            .map(|a| a.at_ns)
            .chain(self.queues.iter().flat_map(|q| q.bursts.iter().map(|b| b.at_ns)));
        let ends = self
            .actions
            .iter()
            .map(|a| a.until_ns.unwrap_or(a.at_ns))
            .chain(self.queues.iter().flat_map(|q| q.bursts.iter().map(|b| b.at_ns + b.over_ns)));
        Some((units::nanos_to_secs(starts.min()?), units::nanos_to_secs(ends.max()?)))
    }

    /// Whether any open client's rate follows a load profile (ramps, daily peaks): a
    /// metastability verdict then compares with the run without the trigger rather than with a
    /// flat band.
    pub fn load_follows_a_profile(&self) -> bool {
        self.clients
            .iter()
            .any(|c| matches!(c.arrivals, Arrivals::Open { profile: Some(_), .. }))
    }
}

/// The network path a call or query crosses.
#[derive(Clone, Debug)]
pub struct Link {
    /// Which path, for changes at run time (added latency).
    pub id: LinkId,
    /// Round-trip latency; zero when absent.
    pub latency: Option<Dist>,
}

/// A change that starts at a simulated time and, with `until_ns`, is undone later.
#[derive(Clone, Debug)]
pub struct TimedAction {
    /// When it starts.
    pub at_ns: Nanos,
    /// When it is undone; it stays when absent.
    pub until_ns: Option<Nanos>,
    /// What it does.
    pub kind: ActionKind,
}

/// What a timed action does.
#[derive(Clone, Debug)]
pub enum ActionKind {
    /// Add this much to every round trip over a link.
    AddLatency {
        /// The link.
        link: LinkId,
        /// Added round-trip time.
        latency_ns: Nanos,
    },
    /// Multiply an open client's arrival rate.
    ScaleTraffic {
        /// The client.
        client: ClientId,
        /// The multiplier.
        factor: f64,
    },
    /// Run queries on a database that come from outside the modelled services (a support tool's
    /// expensive query): each holds a core for its cost.
    Inject {
        /// The database.
        database: DatabaseId,
        /// The resource group whose cores run them (index in the database's groups).
        group: Option<usize>,
        /// How many queries, all sent at once.
        queries: u32,
        /// Core time of each query (data-size factor applied).
        cost: Dist,
    },
    /// Instances of a service crash: requests in flight on them are reset (they fail at their
    /// next step) and the instances take no requests until they have restarted.
    Crash {
        /// The service.
        service: ServiceId,
        /// How many of its instances (the first ones).
        instances: u32,
    },
    /// A service refuses every request (all instances down).
    Down {
        /// The service.
        service: ServiceId,
    },
    /// Instances crash again and again until the action ends.
    CrashLoop(CrashLoop),
    /// A change rolled out to a service's instances.
    Rollout(Rollout),
    /// A cache with a key space drops every entry.
    Flush {
        /// The cache (an index in [`Model::key_spaces`]).
        cache: u32,
    },
}

/// Instances that crash repeatedly, each restart taking time.
#[derive(Clone, Debug)]
pub struct CrashLoop {
    /// The service.
    pub service: ServiceId,
    /// How many of its instances (the first ones).
    pub instances: u32,
    /// Time from a restart to the next crash; no timed crashes when absent.
    pub uptime: Option<Dist>,
    /// Probability that a request's CPU step crashes its instance.
    pub per_request: f64,
    /// Time to come back after a crash.
    pub restart: Dist,
    /// Growth of the restart time at each consecutive crash.
    pub backoff: f64,
    /// Longest restart time; staying up this long resets the backoff.
    pub max_restart_ns: Nanos,
    /// The instances crash and restart together (a shared cause).
    pub together: bool,
}

/// A change rolled out to instances: a CPU cost factor, on a canary first or everywhere.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// The service.
    pub service: ServiceId,
    /// Multiplier of every CPU step on a changed instance.
    pub cpu_factor: f64,
    /// Instances changed at the start (all of them for a global rollout).
    pub first: u32,
    /// When the change goes to every instance, after the start; never when absent.
    pub bake_ns: Option<Nanos>,
    /// Automatic rollback.
    pub rollback: Option<RollbackRule>,
}

/// When a rollout is undone automatically.
#[derive(Clone, Debug)]
pub struct RollbackRule {
    /// Most failing share of the changed instances' requests over a window.
    pub error_rate: Option<f64>,
    /// Highest 99th percentile latency of their successful requests over a window.
    pub p99_ns: Option<Nanos>,
    /// Width of a window.
    pub window_ns: Nanos,
    /// Time from firing to the undo.
    pub reaction_ns: Nanos,
}

/// A traffic source and the call it makes.
#[derive(Clone, Debug)]
pub struct Client {
    /// Name in the model.
    pub name: String,
    /// Open or closed arrivals.
    pub arrivals: Arrivals,
    /// The call each request makes (target, timeout, retries, link).
    pub call: Call,
    /// Synthetic requests (a load test): reported apart from real users.
    pub synthetic: bool,
    /// The request class of its requests (index in [`Model::classes`]).
    pub class: Option<usize>,
    /// The group it is also reported in (index in [`Model::groups`]).
    pub group: Option<usize>,
}

/// How a client's requests arrive.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// Poisson arrivals at `rate_per_s` × the profile's factor.
    Open {
        /// Base rate in requests per second.
        rate_per_s: f64,
        /// Time-varying factor; constant 1 when absent.
        profile: Option<Profile>,
    },
    /// Closed-loop users.
    Closed {
        /// Number of users.
        users: u32,
        /// Pause between a response and the next request.
        think: Dist,
        /// Requests per user, then the user stops; unlimited when absent.
        requests: Option<u32>,
        /// When the users start.
        start_ns: Nanos,
        /// Time after the start by which each user should be done.
        deadline_ns: Option<Nanos>,
    },
}

/// A piecewise traffic factor over time.
#[derive(Clone, Debug)]
pub struct Profile {
    /// (time, factor) points in non-decreasing time order, at least one.
    pub points: Vec<(Nanos, f64)>,
    /// Linear interpolation between points (else a step function).
    pub linear: bool,
    /// Repeat period; the last factor holds forever when absent.
    pub period_ns: Option<Nanos>,
}

impl Profile {
    /// The traffic factor at simulated time `t_ns`.
    pub fn factor_at(&self, t_ns: Nanos) -> f64 {
        let t = match self.period_ns {
            Some(p) if p > 0 => t_ns % p,
            _ => t_ns,
        };
        let after = self.points.partition_point(|&(at, _)| at <= t);
        if after == 0 {
            // Before the first point: wrap from the last point of the previous period, or hold the first.
            return match (self.period_ns, self.linear) {
                (Some(p), true) => {
                    let (t0, f0) = *self.points.last().unwrap_or(&(0, 1.0));
                    let (t1, f1) = self.points[0];
                    interpolate(t0, f0, t1 + p, f1, t + p)
                }
                (Some(_), false) => self.points.last().map_or(1.0, |p| p.1),
                (None, _) => self.points[0].1,
            };
        }
        let (t0, f0) = self.points[after - 1];
        if !self.linear {
            return f0;
        }
        match (self.points.get(after), self.period_ns) {
            (Some(&(t1, f1)), _) => interpolate(t0, f0, t1, f1, t),
            (None, Some(p)) => {
                let (t1, f1) = self.points[0];
                interpolate(t0, f0, t1 + p, f1, t)
            }
            (None, None) => f0,
        }
    }

    /// The largest factor over the stretch between points that holds `t_ns`, and when that
    /// stretch ends: the envelope that arrivals are thinned against, so a stretch at factor 0 is
    /// skipped at once instead of drawing candidates through it.
    pub fn envelope_at(&self, t_ns: Nanos) -> (f64, Nanos) {
        let (t, base) = match self.period_ns {
            Some(p) if p > 0 => (t_ns % p, t_ns - t_ns % p),
            _ => (t_ns, 0),
        };
        let first = self.points[0];
        let last = *self.points.last().unwrap_or(&first);
        let after = self.points.partition_point(|&(at, _)| at <= t);
        // The stretch holding t: from (start, from) to (end, to), in time within the period.
        let (start, from, end, to) = match (after, self.period_ns) {
            // Before the first point: from the previous period's last point, or the first held.
            (0, Some(p)) => (last.0 as i128 - p as i128, last.1, first.0, first.1),
            (0, None) => (0, first.1, first.0, first.1),
            (i, _) if i < self.points.len() => (
                self.points[i - 1].0 as i128,
                self.points[i - 1].1,
                self.points[i].0,
                self.points[i].1,
            ),
            (_, Some(p)) => (last.0 as i128, last.1, p + first.0, first.1),
            (_, None) => (last.0 as i128, last.1, Nanos::MAX - base, last.1),
        };
        if !self.linear || from == to {
            return (from, base.saturating_add(end));
        }
        // A linear stretch is cut where its factor doubles (rising) or halves (falling) from the
        // factor at t, so at least half the candidates drawn against the envelope are kept.
        let span = (end as i128 - start) as f64;
        let at = |factor: f64| start as f64 + (factor - from) / (to - from) * span;
        let now = from + (to - from) * ((t as i128 - start) as f64 / span).clamp(0.0, 1.0);
        let (max, cut) = if to > from {
            let target = (2.0 * now).max(to / 1e9);
            if target >= to {
                (to, end as f64)
            } else {
                (target, at(target))
            }
        } else {
            let target = now / 2.0;
            if target <= to {
                (now, end as f64)
            } else {
                (now, at(target))
            }
        };
        let cut = (cut.ceil() as i128).clamp(t as i128 + 1, end as i128) as Nanos;
        (max, base.saturating_add(cut))
    }

    /// The largest factor the profile ever reaches (the peak).
    pub fn max_factor(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }
}

/// Linear interpolation between (t0, f0) and (t1, f1) at t.
fn interpolate(t0: Nanos, f0: f64, t1: Nanos, f1: f64, t: Nanos) -> f64 {
    if t1 <= t0 {
        return f1;
    }
    let w = (t.saturating_sub(t0)) as f64 / (t1 - t0) as f64;
    f0 + (f1 - f0) * w.clamp(0.0, 1.0)
}

/// A synchronous call: where it goes, how long the caller waits, how it retries.
#[derive(Clone, Debug)]
pub struct Call {
    /// The endpoint called.
    pub target: EndpointId,
    /// How long the caller waits for one attempt; forever when absent.
    pub timeout_ns: Option<Nanos>,
    /// Retry policy (one attempt means no retries).
    pub retry: Retry,
    /// The network path of each attempt.
    pub link: Link,
    /// Index of the call site in [`Model::call_sites`].
    pub site: usize,
}

/// Retry policy with exponential backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Wait before the first retry.
    pub backoff_ns: Nanos,
    /// Growth of the wait at each further retry.
    pub multiplier: f64,
    /// Longest wait between attempts.
    pub max_backoff_ns: Nanos,
    /// How the wait is randomised.
    pub jitter: Jitter,
    /// Which failed attempts are retried.
    pub retry_on: RetryOn,
}

/// Which kinds of failed attempt a retry policy retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn {
    /// Attempts the caller stopped waiting for.
    pub timeout: bool,
    /// Attempts refused (a full queue, a service down, the caller's own throttle or breaker).
    pub rejected: bool,
    /// Attempts that failed along the way.
    pub error: bool,
    /// Attempts over a rate limit (HTTP 429).
    pub rate_limited: bool,
}

impl RetryOn {
    /// Every kind of failure: timeouts, rejections, errors and rate limits.
    pub const ALL: RetryOn = RetryOn {
        timeout: true,
        rejected: true,
        error: true,
        rate_limited: true,
    };
}

impl Retry {
    /// A policy that never retries.
    pub fn none() -> Retry {
        Retry {
            attempts: 1,
            backoff_ns: 0,
            multiplier: 1.0,
            max_backoff_ns: 0,
            jitter: Jitter::None,
            retry_on: RetryOn::ALL,
        }
    }

    /// The wait before retry number `retry` (1 for the first retry), before jitter:
    /// `backoff × multiplier^(retry−1)`, capped at `max_backoff`.
    pub fn backoff_before_jitter_ns(&self, retry: u32) -> Nanos {
        let grown = self.backoff_ns as f64 * self.multiplier.powi(retry.saturating_sub(1).min(1_000) as i32);
        if grown.is_finite() {
            (grown.round() as Nanos).min(self.max_backoff_ns)
        } else {
            self.max_backoff_ns
        }
    }
}

/// Load balancing over instances.
pub use spec::BalancerSpec as Balancer;
/// Queue discipline of a group of workers.
pub use spec::CpuSharingSpec as CpuSharing;
pub use spec::DisciplineSpec as Discipline;
/// Randomisation of a backoff wait.
pub use spec::JitterSpec as Jitter;

/// A service: instances, each with its own workers and queue.
#[derive(Clone, Debug)]
pub struct Service {
    /// Name in the model.
    pub name: String,
    /// Identical instances.
    pub instances: u32,
    /// Workers per instance.
    pub workers: u32,
    /// The waiting lines of each instance in priority order: one per request class with a line
    /// of its own, then the line of every other request (always last).
    pub lines: Vec<QueueLine>,
    /// How requests are spread over instances.
    pub balancer: Balancer,
    /// Time between health checks; the balancer knows of crashes and restarts at once when absent.
    pub health_check_ns: Option<Nanos>,
    /// A retry avoids the instance that refused or failed the previous attempt.
    pub retry_other_instance: bool,
    /// For an asynchronous service, the most requests in flight per instance; `None` means
    /// thread-per-request: a worker is held for the whole request.
    pub async_max_in_flight: Option<u32>,
    /// The service's endpoints.
    pub endpoints: Vec<EndpointId>,
    /// What a request does when its caller stops waiting.
    pub on_caller_gone: CallerGone,
    /// Checks that skip work for a unit already in flight or done.
    pub idempotency: Idempotency,
    /// Its autoscaler, if it has one (`instances` is then the count at the start).
    pub autoscaling: Option<Autoscaling>,
    /// The token bucket in front of the service (index in [`Model::limits`]).
    pub rate_limit: Option<usize>,
    /// CPU cores per instance and how CPU steps share them; `None`: a core per worker.
    pub cores: Option<(u32, CpuSharing)>,
}

impl Service {
    /// The most instances it can have at once: its autoscaler's maximum, or its instances.
    pub fn max_instances(&self) -> u32 {
        self.autoscaling.as_ref().map_or(self.instances, |a| a.max)
    }
}

/// An autoscaler of a service's instances.
#[derive(Clone, Debug)]
pub struct Autoscaling {
    /// Fewest instances (in service or being provisioned).
    pub min: u32,
    /// Most instances (in service or being provisioned).
    pub max: u32,
    /// What it measures per instance in service.
    pub metric: AutoscaleMetric,
    /// How it decides.
    pub rule: ScalingRule,
    /// One metric period.
    pub period_ns: Nanos,
    /// Periods averaged for a decision.
    pub periods: u32,
    /// Least time between a scale-out and the next.
    pub scale_out_cooldown_ns: Nanos,
    /// Least time between any scaling and a scale-in.
    pub scale_in_cooldown_ns: Nanos,
    /// Time from a launch to the instance taking requests.
    pub provisioning: Dist,
    /// Length of a new instance's warm-up and its CPU factor meanwhile.
    pub warm_up: Option<(Nanos, f64)>,
    /// Price of one instance-hour, if known.
    pub cost_per_hour: Option<f64>,
}

/// The metric an autoscaler tracks, per instance in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoscaleMetric {
    /// The share of workers' time spent in CPU steps.
    Cpu,
    /// Requests admitted and not finished (sampled every second).
    InFlight,
    /// Requests waiting for a worker (sampled every second).
    Queue,
    /// Visible messages of a message queue (an index in [`Model::queues`]), sampled every second.
    Backlog(u32),
}

/// How an autoscaler turns its metric into a count of instances.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalingRule {
    /// Keep the metric near `target`: want ceil(instances × metric / target); scale in only
    /// while the metric is below `scale_in_below` × target.
    Target {
        /// The metric's value per instance to keep.
        target: f64,
        /// Share of the target the metric must be below for a scale-in.
        scale_in_below: f64,
    },
    /// Step scaling: (threshold, instances added) for thresholds crossed upwards, highest
    /// first, and downwards, lowest first.
    Steps {
        /// (above, add > 0), thresholds in decreasing order.
        above: Vec<(f64, u32)>,
        /// (below, removed > 0), thresholds in increasing order.
        below: Vec<(f64, u32)>,
    },
}

/// One waiting line in front of a service's workers.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueLine {
    /// The request class it holds (index in [`Model::classes`]); `None` for the line of every
    /// other request.
    pub class: Option<usize>,
    /// Most requests waiting; unbounded when absent.
    pub capacity: Option<u32>,
    /// Which waiting request a free worker takes.
    pub discipline: Discipline,
    /// With adaptive LIFO: newest first once the line has not been empty for this long.
    pub lifo_after_ns: Nanos,
    /// Requests waiting longer than this are shed; never when absent.
    pub max_wait_ns: Option<Nanos>,
}

/// One endpoint of a service.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The service it belongs to.
    pub service: ServiceId,
    /// "service.endpoint".
    pub name: String,
    /// Steps run in order.
    pub steps: Vec<Step>,
    /// Per step, the side effect it has when it completes (an index in [`Model::effects`]).
    pub effects: Vec<Option<u32>>,
    /// The cache in front of each step, by step index (only call and transaction steps have one).
    pub caches: Vec<Option<Cache>>,
    /// The share of requests that run each step, by step index (1: every request).
    pub shares: Vec<f64>,
    /// The token bucket in front of the endpoint alone (index in [`Model::limits`]).
    pub rate_limit: Option<usize>,
}

/// A cache in front of a call or a transaction: hits skip it.
#[derive(Clone, Debug)]
pub struct Cache {
    /// How a look-up is decided: a fixed share of hits, or a key of a key space.
    pub lookup: Lookup,
    /// Time of a hit.
    pub hit: Dist,
    /// Answer a failed miss from the stale copy instead of failing.
    pub serve_stale: bool,
    /// Answer a miss from the stale copy when the backend takes longer than this.
    pub timeout_ns: Option<Nanos>,
}

/// How a cache decides whether a look-up hits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup {
    /// This share of look-ups hits, drawn independently.
    Ratio(f64),
    /// A key drawn from the key space (an index in [`Model::key_spaces`]) hits when its entry is
    /// there and fresh.
    Keys(u32),
}

impl Cache {
    /// The share of look-ups the capacity arithmetic counts as hits: the fixed ratio, or the key
    /// space's steady state (`hits`, per key space: [`capacity::key_space_hits`]).
    pub fn planned_hit_ratio(&self, hits: &[f64]) -> f64 {
        match self.lookup {
            Lookup::Ratio(r) => r,
            Lookup::Keys(k) => hits.get(k as usize).copied().unwrap_or(0.0),
        }
    }
}

/// How look-ups pick a cache's keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    /// Every key alike.
    Uniform,
    /// Key i (counted from 1) in proportion to 1/i^s.
    Zipf(f64),
}

/// A cache with a key space: its entries, shared by every step whose cache has its name.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySpace {
    /// Its name, or "service.endpoint[step]" for an unnamed cache of one step.
    pub name: String,
    /// Keys 0..keys; key 0 is the most popular.
    pub keys: u32,
    /// How look-ups pick keys.
    pub popularity: Popularity,
    /// Most entries held at once (the least recently used is evicted); `keys` when unbounded.
    pub capacity: u32,
    /// How long an entry stays after it was filled; forever when absent.
    pub ttl_ns: Option<Nanos>,
    /// Whether concurrent misses of a key wait for the first one's fill.
    pub coalesce: bool,
    /// Whether it starts full with the most popular keys (else empty).
    pub warm: bool,
}

/// One step of an endpoint.
#[derive(Clone, Debug)]
pub enum Step {
    /// CPU work holding a worker.
    Cpu(Dist),
    /// A wait that uses no CPU.
    Delay(Dist),
    /// A synchronous call to another endpoint.
    Call(Call),
    /// Database work over one connection.
    Transaction(Transaction),
    /// Messages sent to a queue; the request goes on at once.
    Publish(Publish),
}

/// Messages a step sends to a queue.
#[derive(Clone, Debug)]
pub struct Publish {
    /// The queue (an index in [`Model::queues`]).
    pub queue: u32,
    /// Messages per request that runs the step.
    pub messages: u32,
    /// The endpoint the queue's consumer delivers each message to.
    pub consumer: EndpointId,
    /// How long each message stays invisible after it is sent (SQS DelaySeconds); none when absent.
    pub delay: Option<Dist>,
}

/// Database work: queries in sequence over one connection.
#[derive(Clone, Debug)]
pub struct Transaction {
    /// Where the connection comes from.
    pub connection: ConnectionSource,
    /// The database that runs the queries.
    pub database: DatabaseId,
    /// Queries run one after another.
    pub queries: u32,
    /// Database time of one query, data-size factor applied.
    pub query: Dist,
    /// The network path of each query.
    pub link: Link,
    /// Rows each finished transaction adds to the database.
    pub writes: f64,
    /// The resource group whose cores run its queries (index in the database's groups).
    pub group: Option<usize>,
}

/// Where a transaction's connection comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionSource {
    /// A connection pool.
    Pool(PoolId),
    /// A direct connection to the database, opened for the step.
    Direct,
}

/// A database.
#[derive(Clone, Debug)]
pub struct Database {
    /// Name in the model.
    pub name: String,
    /// Queries processed at once.
    pub cores: u32,
    /// Most open connections.
    pub max_connections: u32,
    /// Multiplier of every query's cost.
    pub data_factor: f64,
    /// Universal Scalability Law contention coefficient (0: none).
    pub usl_sigma: f64,
    /// Universal Scalability Law coherency coefficient (0: none).
    pub usl_kappa: f64,
    /// Rows when the query costs were measured (for growth and n·log n).
    pub rows: Option<f64>,
    /// How query cost grows with the data size.
    pub cost_scaling: CostScaling,
    /// Cores set apart for groups of queries; the shared cores are `cores` less theirs.
    pub groups: Vec<ResourceGroup>,
}

/// Cores of a database reserved for one group of queries.
#[derive(Clone, Debug)]
pub struct ResourceGroup {
    /// Name in the model.
    pub name: String,
    /// Cores reserved.
    pub cores: u32,
}

/// How query cost grows with the size s of the data (relative to when costs were measured).
#[derive(Clone, Debug, PartialEq)]
pub enum CostScaling {
    /// Cost × s.
    Linear,
    /// Cost × s·ln(s·rows)/ln(rows): n·log n in the number of rows.
    NLogN {
        /// Rows at s = 1 (more than 1).
        rows: f64,
    },
    /// Cost × the table's multiplier at s, linear between points, the nearest point's outside.
    Table(Vec<(f64, f64)>),
}

impl CostScaling {
    /// The multiplier of a query's measured cost when the data is `size` times as large.
    pub fn multiplier(&self, size: f64) -> f64 {
        match self {
            CostScaling::Linear => size,
            CostScaling::NLogN { rows } => (size * (size * rows).ln() / rows.ln()).max(0.0),
            CostScaling::Table(points) => {
                let after = points.partition_point(|&(s, _)| s <= size);
                match (after.checked_sub(1).map(|i| points[i]), points.get(after)) {
                    (Some((s0, m0)), Some(&(s1, m1))) if s1 > s0 => m0 + (m1 - m0) * (size - s0) / (s1 - s0),
                    (Some((_, m0)), _) => m0,
                    (None, Some(&(_, m1))) => m1,
                    (None, None) => 1.0,
                }
            }
        }
    }
}

impl Database {
    /// Cores shared by the queries of no group.
    pub fn shared_cores(&self) -> u32 {
        // Validation keeps at least one core shared; saturating all the same.
        let reserved = self.groups.iter().fold(0u32, |sum, g| sum.saturating_add(g.cores));
        self.cores.saturating_sub(reserved)
    }

    /// The factor on a query's cost when `active` queries (itself included) are at the
    /// database: 1 + σ(n − 1) + κ·n(n − 1).
    pub fn contention_factor(&self, active: u32) -> f64 {
        let n = f64::from(active.max(1));
        1.0 + self.usl_sigma * (n - 1.0) + self.usl_kappa * n * (n - 1.0)
    }
}

/// A connection pool.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Name in the model.
    pub name: String,
    /// The database its connections go to.
    pub database: DatabaseId,
    /// Connections.
    pub size: u32,
    /// How long a transaction waits for a connection; forever when absent.
    pub acquire_timeout_ns: Option<Nanos>,
}

/// What an SLO is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloTarget {
    /// An endpoint's service-side latency and errors.
    Endpoint(EndpointId),
    /// A client's end-to-end latency and errors.
    Client(ClientId),
    /// A service's workers: the share of its requests that wait for one.
    Service(ServiceId),
}

/// A service level objective.
#[derive(Clone, Debug)]
pub struct Slo {
    /// The key it was written under ("api.checkout" or a client name).
    pub name: String,
    /// What it is about.
    pub target: SloTarget,
    /// Bound on the mean latency of successful requests.
    pub mean: Option<Nanos>,
    /// Latency bounds: (quantile in 0..=1, bound).
    pub latency: Vec<(f64, Nanos)>,
    /// Most failing share of requests.
    pub error_rate: Option<f64>,
    /// Most share of a service's requests that wait for a worker (a service's SLO).
    pub waited: Option<f64>,
    /// What its objectives are judged on.
    pub judge: Judge,
}

/// What an SLO's objectives are judged on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Judge {
    /// The whole run after the warm-up: one value per replication.
    Run,
    /// Each replication's worst time window (the peak): the objective must hold in every window.
    WorstWindow,
    /// The objective must hold in this share (0..1) of each replication's windows: the
    /// share-quantile of its windows' values.
    ShareOfWindows(f64),
}

impl Judge {
    /// Read "run", "worst_window" or "95% of windows".
    pub fn parse(text: &str) -> Result<Judge, String> {
        let text = text.trim();
        match text {
            "run" => return Ok(Judge::Run),
            "worst_window" => return Ok(Judge::WorstWindow),
            _ => {}
        }
        let share = text
            .strip_suffix("of windows")
            .and_then(|p| p.trim().strip_suffix('%'))
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| *p > 0.0 && *p <= 100.0);
        match share {
            Some(100.0) => Ok(Judge::WorstWindow),
            Some(p) => Ok(Judge::ShareOfWindows(p / 100.0)),
            None => Err(format!(
                "expected \"run\", \"worst_window\" or a share of windows like \"95% of windows\", got \"{text}\""
            )),
        }
    }

    /// How the objective's label says it: "" for the run, " (worst window)", " (95% of windows)".
    pub fn label(self) -> String {
        match self {
            Judge::Run => String::new(),
            Judge::WorstWindow => " (worst window)".into(),
            Judge::ShareOfWindows(p) => format!(" ({}% of windows)", p * 100.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(points: &[(u64, f64)], linear: bool, period: Option<u64>) -> Profile {
        Profile {
            points: points.to_vec(),
            linear,
            period_ns: period,
        }
    }

    #[test]
    fn step_profile_holds_each_factor_until_the_next_point() {
        let p = profile(&[(0, 1.0), (100, 3.0)], false, None);
        assert_eq!(p.factor_at(50), 1.0);
        assert_eq!(p.factor_at(100), 3.0);
        assert_eq!(p.factor_at(1_000), 3.0);
    }

    #[test]
    fn linear_profile_interpolates_and_wraps_around_its_period() {
        let p = profile(&[(0, 1.0), (100, 3.0)], true, Some(200));
        assert_eq!(p.factor_at(50), 2.0);
        // From 3.0 at t=100 back to 1.0 at t=200 (the next period's first point).
        assert_eq!(p.factor_at(150), 2.0);
        assert_eq!(p.factor_at(250), 2.0);
        assert_eq!(p.max_factor(), 3.0);
    }

    #[test]
    fn the_envelope_is_the_largest_factor_of_the_current_stretch() {
        let step = profile(&[(0, 0.0), (100, 5.0), (200, 1.0)], false, None);
        assert_eq!(step.envelope_at(50), (0.0, 100));
        assert_eq!(step.envelope_at(150), (5.0, 200));
        assert_eq!(step.envelope_at(250).0, 1.0);
        // A linear ramp is cut where the factor doubles (rising) or halves (falling), so the
        // envelope is never more than twice the factor: 1.0 at 10 rising to 3.0 at 100.
        let daily = profile(&[(10, 1.0), (100, 3.0)], true, Some(200));
        assert_eq!(daily.envelope_at(10), (2.0, 55));
        assert_eq!(daily.envelope_at(55), (3.0, 100));
        // Falling from 3.0 at 100 to 1.0 at the next period's 10 (at 210): halves at 1.5 (t = 182.5).
        assert_eq!(daily.envelope_at(100), (3.0, 183));
        assert_eq!(daily.envelope_at(300), (3.0, 383));
        for t in 0..400 {
            let (max, end) = daily.envelope_at(t);
            assert!(
                end > t && max >= daily.factor_at(t) - 1e-12 && max <= 2.0 * daily.factor_at(t) + 1e-12,
                "{t}"
            );
        }
    }

    #[test]
    fn cost_grows_with_the_data_as_its_scaling_says() {
        assert_eq!(CostScaling::Linear.multiplier(1.7), 1.7);
        // n log n with 1e6 rows: doubling the data costs 2·ln(2e6)/ln(1e6) = 2.1003…
        let nlogn = CostScaling::NLogN { rows: 1e6 };
        assert!((nlogn.multiplier(1.0) - 1.0).abs() < 1e-12);
        assert!((nlogn.multiplier(2.0) - 2.0 * (2e6f64).ln() / (1e6f64).ln()).abs() < 1e-12);
        let table = CostScaling::Table(vec![(1.0, 1.0), (2.0, 3.0), (4.0, 5.0)]);
        assert_eq!(table.multiplier(0.5), 1.0);
        assert_eq!(table.multiplier(1.5), 2.0);
        assert_eq!(table.multiplier(3.0), 4.0);
        assert_eq!(table.multiplier(9.0), 5.0);
    }

    #[test]
    fn backoff_grows_geometrically_up_to_its_cap() {
        let r = Retry {
            attempts: 5,
            backoff_ns: 100,
            multiplier: 2.0,
            max_backoff_ns: 300,
            jitter: Jitter::None,
            retry_on: RetryOn::ALL,
        };
        let waits: Vec<_> = (1..=4).map(|k| r.backoff_before_jitter_ns(k)).collect();
        assert_eq!(waits, vec![100, 200, 300, 300]);
    }
}
