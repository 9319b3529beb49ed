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
use super::{Arrivals, ConnectionSource, KeySpace, Lookup, Model, Nanos, Popularity, Step};

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
fn unloaded_secs(model: &Model, hits: &[f64]) -> Vec<f64> {
    let mut memo: Vec<Option<f64>> = vec![None; model.endpoints.len()];
    (0..model.endpoints.len())
        .map(|e| endpoint_secs(model, e, hits, &mut memo))
        .collect()
}

fn endpoint_secs(model: &Model, e: usize, hits: &[f64], memo: &mut Vec<Option<f64>>) -> f64 {
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
                let answer = round_trip + endpoint_secs(model, call.target.0, hits, memo);
                call.timeout_ns.map_or(answer, |t| answer.min(secs_of(t)))
            }
            Step::Transaction(tx) => {
                let round_trip = tx.link.latency.as_ref().map_or(0.0, |l| l.mean_secs());
                f64::from(tx.queries) * (tx.query.mean_secs() + round_trip)
            }
        };
        if let Some(cache) = endpoint.caches.get(i).and_then(Option::as_ref) {
            let miss = cache.timeout_ns.map_or(secs, |t| secs.min(secs_of(t)));
            let hit = cache.planned_hit_ratio(hits);
            secs = hit * cache.hit.mean_secs() + (1.0 - hit) * miss;
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
    /// Per endpoint: the requests arriving, from clients, callers and queue consumers, that its
    /// service's and its own rate limits let through (the rest is answered 429 at once; a call
    /// step's or a client's own rate limit sends no more than its rate either).
    pub endpoints: Vec<f64>,
    /// Per endpoint: the requests arriving over the whole run from the queues' scheduled bursts
    /// (a count, not a rate; at the mean level, `endpoints` has them spread over the run too).
    pub burst_requests: Vec<f64>,
}

/// The requests and messages per second at the traffic `level`, by arithmetic.
pub fn rates(model: &Model, level: Level) -> Rates {
    let hits = key_space_hits(model, level);
    rates_given(model, level, &unloaded_secs(model, &hits), &hits)
}

/// [`rates`], given each endpoint's unloaded time in seconds (closed users wait for it between
/// requests) and each key space's planned hit ratio.
fn rates_given(model: &Model, level: Level, unloaded: &[f64], hits: &[f64]) -> Rates {
    let clients: Vec<f64> = model
        .clients
        .iter()
        .map(|client| client_rate(model, client, level, unloaded))
        .collect();
    let producers: Vec<Vec<(String, f64)>> = model.queues.iter().map(|q| producer_rates(model, q, level)).collect();
    // What each rate limit lets through depends on what reaches it, which limits above it cut:
    // work the flows out with every limit letting all through, then with the shares found, until
    // no share moves (calls form no cycle, so within the depth of the calls).
    let mut shares = Shares::all(model);
    let mut endpoints;
    let mut burst_requests;
    let mut rounds = 0;
    loop {
        let mut flows = Flows::new(model);
        for (client, rate) in model.clients.iter().zip(&clients) {
            let sent = *rate * copies(model, &client.call);
            flows.call(model, &client.call, sent, hits, &shares);
        }
        for (q, producers) in model.queues.iter().zip(&producers) {
            let rate = producers.iter().map(|(_, rate)| rate).sum();
            flows.add(model, q.call.target.0, rate, hits, &shares);
        }
        let next = Shares::of(model, &flows);
        endpoints = flows.admitted;
        burst_requests = vec![0.0; model.endpoints.len()];
        for q in &model.queues {
            // A burst's messages as a count over the run, through the shares of its mean rates.
            let messages: f64 = q.bursts.iter().map(|b| f64::from(b.messages)).sum();
            let mut counts = Flows::new(model);
            counts.add(model, q.call.target.0, messages, hits, &next);
            for (total, count) in burst_requests.iter_mut().zip(counts.admitted) {
                *total += count;
            }
        }
        rounds += 1;
        if next == shares || rounds > model.endpoints.len() + model.call_sites.len() {
            break;
        }
        shares = next;
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

/// Copies of a call's attempts on the network per attempt: a hedge at percentile q sends a
/// second copy for the (100 − q) % of attempts slower than it. A hedge after a fixed delay adds
/// a share the arithmetic cannot know without the answers' distribution: none is counted (the
/// prediction stays a lower bound).
fn copies(model: &Model, call: &super::Call) -> f64 {
    match model.call_sites[call.site].hedge.as_ref().map(|h| h.trigger) {
        Some(super::HedgeTrigger::At(q)) => 2.0 - q / 100.0,
        _ => 1.0,
    }
}

/// Requests per second flowing through the model: offered to each endpoint and to each call
/// site, and let through by the rate limits in front of them.
struct Flows {
    /// Per endpoint: arriving, before its service's and its own rate limits.
    offered: Vec<f64>,
    /// Per endpoint: let through by them.
    admitted: Vec<f64>,
    /// Per call site: attempts sent, before its own rate limit.
    calls: Vec<f64>,
}

impl Flows {
    fn new(model: &Model) -> Flows {
        Flows {
            offered: vec![0.0; model.endpoints.len()],
            admitted: vec![0.0; model.endpoints.len()],
            calls: vec![0.0; model.call_sites.len()],
        }
    }

    /// `rate` attempts of `call` at its call site, of which its rate limit's share goes on.
    fn call(&mut self, model: &Model, call: &super::Call, rate: f64, hits: &[f64], shares: &Shares) {
        self.calls[call.site] += rate;
        self.add(model, call.target.0, rate * shares.sites[call.site], hits, shares);
    }

    /// `rate` arrivals at endpoint `e` and at everything it calls or publishes to (neither forms a
    /// cycle): its rate limits' share gets in, a cache in front of a call passes on only its
    /// misses, a publish step its messages to the queue's consumer.
    fn add(&mut self, model: &Model, e: usize, rate: f64, hits: &[f64], shares: &Shares) {
        self.offered[e] += rate;
        let rate = rate * shares.endpoints[e];
        self.admitted[e] += rate;
        let endpoint = &model.endpoints[e];
        for (i, step) in endpoint.steps.iter().enumerate() {
            match step {
                Step::Call(call) => {
                    let sent = rate * miss_ratio(endpoint, i, hits) * copies(model, call);
                    self.call(model, call, sent, hits, shares);
                }
                Step::Publish(p) => {
                    let messages = rate * miss_ratio(endpoint, i, hits) * f64::from(p.messages);
                    self.add(model, p.consumer.0, messages, hits, shares);
                }
                _ => {}
            }
        }
    }
}

/// The share of what reaches it that each rate limit lets through: per endpoint (its service's
/// limit, then its own) and per call site (a client's or a call step's own limit).
#[derive(PartialEq)]
struct Shares {
    endpoints: Vec<f64>,
    sites: Vec<f64>,
}

impl Shares {
    /// Every limit lets everything through.
    fn all(model: &Model) -> Shares {
        Shares {
            endpoints: vec![1.0; model.endpoints.len()],
            sites: vec![1.0; model.call_sites.len()],
        }
    }

    /// What each limit lets through of `flows`: at most its token rate (the burst only lends a
    /// moment's extra; over time a bucket passes its rate).
    fn of(model: &Model, flows: &Flows) -> Shares {
        let passes = |limit: Option<usize>, offered: f64| {
            let rate = match limit.map(|l| &model.limits[l].kind) {
                Some(super::LimitKind::RateLimit(r)) => r.rate_per_s,
                _ => return 1.0,
            };
            if offered > rate {
                rate / offered
            } else {
                1.0
            }
        };
        let mut at_service = vec![0.0; model.services.len()];
        for (e, endpoint) in model.endpoints.iter().enumerate() {
            at_service[endpoint.service.0] += flows.offered[e];
        }
        let service_share: Vec<f64> = model
            .services
            .iter()
            .zip(&at_service)
            .map(|(s, offered)| passes(s.rate_limit, *offered))
            .collect();
        Shares {
            endpoints: model
                .endpoints
                .iter()
                .enumerate()
                .map(|(e, endpoint)| {
                    let by_service = service_share[endpoint.service.0];
                    by_service * passes(endpoint.rate_limit, flows.offered[e] * by_service)
                })
                .collect(),
            sites: model
                .call_sites
                .iter()
                .zip(&flows.calls)
                .map(|(site, offered)| passes(site.rate_limit, *offered))
                .collect(),
        }
    }
}

/// The share of requests that run step `i` of `endpoint` past its cache: those that take the step
/// at all (its `share`) and miss the cache (`hits`: each key space's planned hit ratio).
pub fn miss_ratio(endpoint: &super::Endpoint, i: usize, hits: &[f64]) -> f64 {
    let share = endpoint.shares.get(i).copied().unwrap_or(1.0);
    share
        * endpoint
            .caches
            .get(i)
            .and_then(Option::as_ref)
            .map_or(1.0, |c| 1.0 - c.planned_hit_ratio(hits))
}

/// The utilisation of every station at the traffic `level`, by arithmetic.
pub fn offered_load(model: &Model, level: Level) -> OfferedLoad {
    let hits = key_space_hits(model, level);
    let unloaded = unloaded_secs(model, &hits);
    let rates = rates_given(model, level, &unloaded, &hits).endpoints;
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
                let rate = rates[e] * miss_ratio(endpoint, i, &hits);
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
        services[s] /= f64::from(service.max_instances()) * f64::from(service.workers);
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

/// The planned hit ratio of each key space at the traffic `level`: [`key_space_hit_ratio`] at the
/// look-ups per second that reach it. Its look-ups may pass other key spaces' caches first, so the
/// rates are worked out twice: with every key space missing, then with the ratios found.
pub fn key_space_hits(model: &Model, level: Level) -> Vec<f64> {
    let mut hits = vec![0.0; model.key_spaces.len()];
    if hits.is_empty() {
        return hits;
    }
    for _ in 0..2 {
        let rates = rates_given(model, level, &unloaded_secs(model, &hits), &hits).endpoints;
        let mut lookups = vec![0.0; hits.len()];
        for (e, endpoint) in model.endpoints.iter().enumerate() {
            for (i, cache) in endpoint.caches.iter().enumerate() {
                if let Some(Lookup::Keys(k)) = cache.as_ref().map(|c| c.lookup) {
                    lookups[k as usize] += rates[e] * endpoint.shares.get(i).copied().unwrap_or(1.0);
                }
            }
        }
        hits = model
            .key_spaces
            .iter()
            .zip(&lookups)
            .map(|(space, &rate)| key_space_hit_ratio(space, rate))
            .collect();
    }
    hits
}

/// The steady-state hit ratio of `space` looked up `lookups` times per second, every look-up's
/// key drawn independently: per key i of popularity p_i, Che's approximation of LRU, 1 − e^(−λ
/// p_i t_C) with t_C solving Σ_i (1 − e^(−λ p_i t_C)) = capacity, and with a TTL T counted from
/// the fill, the renewal share λ p_i T / (1 + λ p_i T), the lower of the two; weighted by p_i.
/// The cold start, flushes and fill delays are left out, so a run measures at most this (up to
/// the approximation) and the backend's demand by arithmetic stays a lower bound. Keys are taken
/// in groups of similar popularity (consecutive keys, each group at most 1 % wider than the one
/// before), so the cost is O(keys) once and O(log keys) per step of the bisection.
pub fn key_space_hit_ratio(space: &KeySpace, lookups: f64) -> f64 {
    if lookups <= 0.0 || !lookups.is_finite() {
        return 0.0;
    }
    let n = space.keys as usize;
    // (keys in the group, popularity of each).
    let groups: Vec<(f64, f64)> = match space.popularity {
        Popularity::Uniform => vec![(n as f64, 1.0 / n as f64)],
        Popularity::Zipf(s) => {
            let mut groups = Vec::new();
            let (mut start, mut total) = (0usize, 0.0);
            while start < n {
                let end = (start + 1).max((start as f64 * 1.01) as usize).min(n);
                let weight: f64 = (start + 1..=end).map(|i| (i as f64).powf(-s)).sum();
                total += weight;
                groups.push(((end - start) as f64, weight / (end - start) as f64));
                start = end;
            }
            groups.into_iter().map(|(count, w)| (count, w / total)).collect()
        }
    };
    let held = |t: f64| {
        groups
            .iter()
            .map(|(count, p)| count * (1.0 - (-lookups * p * t).exp()))
            .sum::<f64>()
    };
    let capacity = f64::from(space.capacity);
    let t_c = if space.capacity >= space.keys {
        f64::INFINITY
    } else {
        let (mut lo, mut hi) = (0.0, 1.0);
        let mut doublings = 0;
        while held(hi) < capacity && doublings < 200 {
            (lo, hi) = (hi, hi * 2.0);
            doublings += 1;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if held(mid) < capacity {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    };
    let ttl = space.ttl_ns.map(secs_of);
    groups
        .iter()
        .map(|(count, p)| {
            let rate = lookups * p;
            let lru = 1.0 - (-rate * t_c).exp();
            let renewal = ttl.map_or(1.0, |t| rate * t / (1.0 + rate * t));
            count * p * lru.min(renewal)
        })
        .sum::<f64>()
        .clamp(0.0, 1.0)
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
        let workers = f64::from(service.max_instances()) * f64::from(service.workers);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn space(keys: u32, popularity: Popularity, capacity: u32, ttl_ns: Option<Nanos>) -> KeySpace {
        KeySpace {
            name: "menu".into(),
            keys,
            popularity,
            capacity,
            ttl_ns,
            coalesce: false,
            warm: false,
        }
    }

    #[test]
    fn a_uniform_lru_cache_holds_its_share_of_the_keys() {
        // Uniform p = 1/N: N (1 − e^(−λ t_C / N)) = C, so every key hits 1 − e^(−λ t_C / N) = C/N.
        let h = key_space_hit_ratio(&space(1000, Popularity::Uniform, 250, None), 500.0);
        assert!((h - 0.25).abs() < 1e-9, "{h}");
    }

    #[test]
    fn a_ttl_cache_of_one_key_hits_lambda_t_over_one_plus_lambda_t() {
        let h = key_space_hit_ratio(&space(1, Popularity::Uniform, 1, Some(100_000_000)), 10.0);
        assert!((h - 0.5).abs() < 1e-12, "{h}");
    }

    #[test]
    fn an_unbounded_cache_without_ttl_hits_every_look_up_in_steady_state_and_nothing_without_look_ups() {
        assert_eq!(key_space_hit_ratio(&space(10, Popularity::Zipf(0.8), 10, None), 5.0), 1.0);
        assert_eq!(key_space_hit_ratio(&space(10, Popularity::Zipf(0.8), 5, None), 0.0), 0.0);
    }

    #[test]
    fn a_zipf_lru_cache_follows_ches_approximation_with_its_keys_grouped() {
        // N = 10,000, s = 0.8, C = 1,000: Che's approximation (keys one by one) gives 0.43666.
        let h = key_space_hit_ratio(&space(10_000, Popularity::Zipf(0.8), 1000, None), 1000.0);
        assert!((h - 0.43666).abs() < 5e-4, "{h}");
    }
}
