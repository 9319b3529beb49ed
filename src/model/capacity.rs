//! Offered load by arithmetic: the utilisation each station would have without queueing, from the
//! same rules the simulation follows, and a warning for every station over capacity at peak.
//!
//! Arrival rates come from open clients (at their profile's peak, or its mean over the measured
//! part of the run), queue producers (steady ones; for the mean, bursts too), and closed-loop
//! users (at most one request per think time plus the request's unloaded time; for the mean, users
//! with a fixed number of requests only while they are sending). They flow through synchronous calls, thinned by the
//! caches in front of calls and transactions (a hit skips the step). Each station's demand is
//! rate × holding time: a worker of a thread-per-request service is held for the whole request,
//! downstream calls and transactions included; an async service's only for its `cpu` steps; a
//! pooled connection for the transaction's queries and their round trips; a database core for the
//! query. Holding times are unloaded (no waiting anywhere, no retries, no contention), so the
//! demand is a lower bound: a warning here means the station cannot keep up at peak, whatever the
//! simulation shows.

use super::error::Diagnostic;
use super::{Arrivals, ConnectionSource, Model, Nanos, Step};

/// Which traffic level the arithmetic uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Every open client at its profile's highest factor.
    Peak,
    /// Every open client at its profile's mean factor from the warm-up to the end of the run.
    Mean,
}

/// Utilisation by arithmetic: busy units over units, per station, in the model's order.
#[derive(Clone, Debug)]
pub struct OfferedLoad {
    /// Per service: mean workers busy over all workers of all instances.
    pub services: Vec<f64>,
    /// Per database: mean cores busy over cores.
    pub databases: Vec<f64>,
    /// Per pool: mean connections in use over the pool's size.
    pub pools: Vec<f64>,
}

/// Unloaded time of one request at each endpoint, seconds: every step at its mean, a cached step
/// as hit ratio × hit time + the rest × the step, a call as its round trip plus the callee's own
/// unloaded time (at most the call's timeout), a transaction as queries × (query + round trip).
fn unloaded_secs(model: &Model) -> Vec<f64> {
    let mut memo: Vec<Option<f64>> = vec![None; model.endpoints.len()];
    (0..model.endpoints.len())
        .map(|e| endpoint_secs(model, e, &mut memo))
        .collect()
}

fn endpoint_secs(model: &Model, e: usize, memo: &mut Vec<Option<f64>>) -> f64 {
    if let Some(secs) = memo[e] {
        return secs;
    }
    let endpoint = &model.endpoints[e];
    let mut total = 0.0;
    for (i, step) in endpoint.steps.iter().enumerate() {
        let mut secs = match step {
            Step::Cpu(d) | Step::Delay(d) => d.mean_secs(),
            // Publishing takes no time: the request goes on at once.
            Step::Publish(_) => 0.0,
            Step::Call(call) => {
                let round_trip = call.link.latency.as_ref().map_or(0.0, |l| l.mean_secs());
                let answer = round_trip + endpoint_secs(model, call.target.0, memo);
                call.timeout_ns.map_or(answer, |t| answer.min(secs_of(t)))
            }
            Step::Transaction(tx) => {
                let round_trip = tx.link.latency.as_ref().map_or(0.0, |l| l.mean_secs());
                f64::from(tx.queries) * (tx.query.mean_secs() + round_trip)
            }
        };
        if let Some(cache) = endpoint.caches.get(i).and_then(Option::as_ref) {
            let miss = cache.timeout_ns.map_or(secs, |t| secs.min(secs_of(t)));
            secs = cache.planned_hit_ratio() * cache.hit.mean_secs() + (1.0 - cache.planned_hit_ratio()) * miss;
        }
        total += secs * endpoint.shares.get(i).copied().unwrap_or(1.0);
    }
    memo[e] = Some(total);
    total
}

fn secs_of(ns: Nanos) -> f64 {
    ns as f64 / 1e9
}

/// Requests and messages per second at a traffic level: what each source sends and what arrives
/// at each endpoint (attempts, without retries), in the model's order.
#[derive(Clone, Debug)]
pub struct Rates {
    /// Per client: the requests it sends (closed users: at most one per think time plus the
    /// request's unloaded time).
    pub clients: Vec<f64>,
    /// Per queue: per producer, in the order the queue names them, the messages it publishes.
    pub producers: Vec<Vec<(String, f64)>>,
    /// Per endpoint: the requests arriving, from clients, callers and queue consumers.
    pub endpoints: Vec<f64>,
    /// Per endpoint: the requests arriving over the whole run from the queues' scheduled bursts
    /// (a count, not a rate; at the mean level, `endpoints` has them spread over the run too).
    pub burst_requests: Vec<f64>,
}

/// The requests and messages per second at the traffic `level`, by arithmetic.
pub fn rates(model: &Model, level: Level) -> Rates {
    rates_given(model, level, &unloaded_secs(model))
}

/// [`rates`], given each endpoint's unloaded time in seconds (closed users wait for it between
/// requests).
fn rates_given(model: &Model, level: Level, unloaded: &[f64]) -> Rates {
    let clients: Vec<f64> = model
        .clients
        .iter()
        .map(|client| client_rate(model, client, level, unloaded))
        .collect();
    let producers: Vec<Vec<(String, f64)>> = model.queues.iter().map(|q| producer_rates(model, q, level)).collect();
    let mut endpoints = vec![0.0; model.endpoints.len()];
    for (client, rate) in model.clients.iter().zip(&clients) {
        add_rate(model, client.call.target.0, *rate, &mut endpoints);
    }
    let mut burst_requests = vec![0.0; model.endpoints.len()];
    for (q, producers) in model.queues.iter().zip(&producers) {
        let rate = producers.iter().map(|(_, rate)| rate).sum();
        add_rate(model, q.call.target.0, rate, &mut endpoints);
        let messages: f64 = q.bursts.iter().map(|b| f64::from(b.messages)).sum();
        add_rate(model, q.call.target.0, messages, &mut burst_requests);
    }
    Rates {
        clients,
        producers,
        endpoints,
        burst_requests,
    }
}

/// The requests per second `client` sends at the traffic `level`.
fn client_rate(model: &Model, client: &super::Client, level: Level, unloaded: &[f64]) -> f64 {
    match &client.arrivals {
        Arrivals::Open { rate_per_s, profile } => {
            let factor = profile.as_ref().map_or(1.0, |p| match level {
                Level::Peak => p.max_factor(),
                Level::Mean => mean_factor(p, model.warmup_ns, model.duration_ns),
            });
            rate_per_s * factor
        }
        Arrivals::Closed {
            users,
            think,
            requests,
            start_ns,
            ..
        } => {
            // Each user sends at most one request per think time plus the request's time.
            let cycle = think.mean_secs() + unloaded[client.call.target.0];
            if cycle <= 0.0 {
                return 0.0;
            }
            let rate = f64::from(*users) / cycle;
            match (level, requests) {
                // Users with a fixed number of requests are busy only until they are
                // done: the mean counts the part of the measured span they are sending.
                (Level::Mean, Some(n)) => {
                    let start = secs_of(*start_ns);
                    let busy = (start, start + f64::from(*n) * cycle);
                    let measured = (secs_of(model.warmup_ns), secs_of(model.duration_ns));
                    let overlap = (busy.1.min(measured.1) - busy.0.max(measured.0)).max(0.0);
                    rate * overlap / (measured.1 - measured.0).max(f64::MIN_POSITIVE)
                }
                _ => rate,
            }
        }
    }
}

/// The messages per second each producer of queue `q` publishes at the traffic `level`: its
/// steady rate; for the mean, its bursts in the measured span too, spread over it.
fn producer_rates(model: &Model, q: &super::MessageQueue, level: Level) -> Vec<(String, f64)> {
    let mut producers: Vec<(String, f64)> = q.steady.clone();
    let span = secs_of(model.duration_ns.saturating_sub(model.warmup_ns));
    for b in &q.bursts {
        let at = match producers.iter().position(|(name, _)| *name == b.producer) {
            Some(at) => at,
            None => {
                producers.push((b.producer.clone(), 0.0));
                producers.len() - 1
            }
        };
        if level == Level::Mean && b.at_ns >= model.warmup_ns && b.at_ns < model.duration_ns && span > 0.0 {
            producers[at].1 += f64::from(b.messages) / span;
        }
    }
    producers
}

/// The profile's mean factor from `from_ns` to `to_ns` (sampled every 1/1000 of the span: a
/// profile is piecewise linear or steps, so the error is far below the arithmetic's own).
fn mean_factor(profile: &super::Profile, from_ns: Nanos, to_ns: Nanos) -> f64 {
    const SAMPLES: u64 = 1000;
    let span = to_ns.saturating_sub(from_ns);
    if span == 0 {
        return profile.factor_at(from_ns);
    }
    (0..SAMPLES)
        .map(|k| profile.factor_at(from_ns + span / SAMPLES * k + span / SAMPLES / 2))
        .sum::<f64>()
        / SAMPLES as f64
}

/// Add `rate` arrivals at endpoint `e` and at everything it calls or publishes to (neither forms
/// a cycle): a cache in front of a call passes on only its misses, a publish step its messages to
/// the queue's consumer.
fn add_rate(model: &Model, e: usize, rate: f64, rates: &mut [f64]) {
    rates[e] += rate;
    let endpoint = &model.endpoints[e];
    for (i, step) in endpoint.steps.iter().enumerate() {
        match step {
            Step::Call(call) => add_rate(model, call.target.0, rate * miss_ratio(endpoint, i), rates),
            Step::Publish(p) => add_rate(
                model,
                p.consumer.0,
                rate * miss_ratio(endpoint, i) * f64::from(p.messages),
                rates,
            ),
            _ => {}
        }
    }
}

/// The share of requests that run step `i` of `endpoint` past its cache: those that take the step
/// at all (its `share`) and miss the cache.
pub fn miss_ratio(endpoint: &super::Endpoint, i: usize) -> f64 {
    let share = endpoint.shares.get(i).copied().unwrap_or(1.0);
    share
        * endpoint
            .caches
            .get(i)
            .and_then(Option::as_ref)
            .map_or(1.0, |c| 1.0 - c.planned_hit_ratio())
}

/// The utilisation of every station at the traffic `level`, by arithmetic.
pub fn offered_load(model: &Model, level: Level) -> OfferedLoad {
    let unloaded = unloaded_secs(model);
    let rates = rates_given(model, level, &unloaded).endpoints;
    let mut services = vec![0.0; model.services.len()];
    let mut databases = vec![0.0; model.databases.len()];
    let mut pools = vec![0.0; model.pools.len()];
    for (e, endpoint) in model.endpoints.iter().enumerate() {
        let s = endpoint.service.0;
        if model.services[s].async_max_in_flight.is_some() {
            for step in &endpoint.steps {
                if let Step::Cpu(d) = step {
                    services[s] += rates[e] * d.mean_secs();
                }
            }
        } else {
            // Thread-per-request: the worker is held for the whole request.
            services[s] += rates[e] * unloaded[e];
        }
        for (i, step) in endpoint.steps.iter().enumerate() {
            if let Step::Transaction(tx) = step {
                let rate = rates[e] * miss_ratio(endpoint, i);
                let queries = f64::from(tx.queries);
                databases[tx.database.0] += rate * queries * tx.query.mean_secs();
                if let ConnectionSource::Pool(p) = tx.connection {
                    let round_trip = tx.link.latency.as_ref().map_or(0.0, |l| l.mean_secs());
                    pools[p.0] += rate * queries * (tx.query.mean_secs() + round_trip);
                }
            }
        }
    }
    for (s, service) in model.services.iter().enumerate() {
        services[s] /= f64::from(service.instances) * f64::from(service.workers);
    }
    for (d, db) in model.databases.iter().enumerate() {
        databases[d] /= f64::from(db.cores);
    }
    for (p, pool) in model.pools.iter().enumerate() {
        pools[p] /= f64::from(pool.size);
    }
    OfferedLoad {
        services,
        databases,
        pools,
    }
}

/// Push a warning for every service, database and pool whose demand at peak reaches its capacity.
pub fn warn_about_overload(model: &Model, warnings: &mut Vec<Diagnostic>) {
    let load = offered_load(model, Level::Peak);
    let mut warn = |path: String, utilisation: f64, capacity: f64, unit: &str| {
        if utilisation >= 1.0 {
            warnings.push(Diagnostic {
                path,
                message: format!(
                    "offered load at peak is {:.0} % of capacity ({:.2} of {capacity} {unit} busy on average, \
                     without any waiting): it cannot keep up, and its queue grows for as long as the peak lasts",
                    100.0 * utilisation,
                    utilisation * capacity
                ),
            });
        }
    };
    for (s, service) in model.services.iter().enumerate() {
        let workers = f64::from(service.instances) * f64::from(service.workers);
        warn(format!("services.{}", service.name), load.services[s], workers, "workers");
    }
    for (d, db) in model.databases.iter().enumerate() {
        warn(
            format!("databases.{}", db.name),
            load.databases[d],
            f64::from(db.cores),
            "cores",
        );
    }
    for (p, pool) in model.pools.iter().enumerate() {
        warn(
            format!("pools.{}", pool.name),
            load.pools[p],
            f64::from(pool.size),
            "connections",
        );
    }
}
