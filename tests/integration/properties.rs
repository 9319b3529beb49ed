//! Properties of random small models (chains of services whose calls may time out, retry and
//! hedge), through the library: every request is accounted for, utilisations are shares, latencies
//! are non-negative; and the engine's clock never runs backwards.
//!
//! A failing case prints the model JSON: save it to a file and replay it with `capsim run FILE`.

use capsim::engine::EventQueue;
use capsim::results::{Counts, RunResult};
use capsim::stats::Estimate;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Map};

/// Slack allowed above a utilisation of 1 for floating-point sums of time averages.
const FLOAT_SLACK: f64 = 1e-9;

/// One service of the chain: `s{i}.work` runs CPU, maybe a transaction, then calls the next.
#[derive(Clone, Debug)]
struct ServiceParams {
    workers: u32,
    queue_capacity: Option<u32>,
    cpu_mean_ms: f64,
    /// Timeout (ms) and attempts of this service's call to the next one.
    call_timeout: Option<(u32, u32)>,
    /// The delay (ms) after which that call sends a second copy of an unanswered attempt.
    hedge_ms: Option<u32>,
}

/// Database work done by one service of the chain.
#[derive(Clone, Debug)]
struct DatabaseParams {
    /// Which service runs the transaction (taken modulo the number of services).
    at_service: usize,
    cores: u32,
    /// Pool size and acquire timeout (ms), or a direct connection with this max_connections.
    pool: Result<(u32, Option<u32>), u32>,
    queries: u32,
    query_mean_ms: f64,
}

/// Timeout (ms), attempts and backoff (ms) of the client's call.
#[derive(Clone, Debug)]
struct ClientRetry {
    timeout_ms: u32,
    attempts: u32,
    backoff_ms: u32,
}

#[derive(Clone, Debug)]
struct ModelParams {
    services: Vec<ServiceParams>,
    rate_per_s: f64,
    client: Option<ClientRetry>,
    database: Option<DatabaseParams>,
    /// Round-trip latency on every link: constant (true) or exponential, in ms.
    link: Option<(bool, f64)>,
    duration_s: u32,
    replications: u32,
    seed: u64,
}

fn service_params() -> impl Strategy<Value = ServiceParams> {
    (
        1u32..=4,
        prop::option::of(0u32..=10),
        0.1f64..20.0,
        prop::option::of((5u32..=200, 1u32..=3)),
        prop::option::of(1u32..=50),
    )
        .prop_map(
            |(workers, queue_capacity, cpu_mean_ms, call_timeout, hedge_ms)| ServiceParams {
                workers,
                queue_capacity,
                cpu_mean_ms,
                call_timeout,
                hedge_ms,
            },
        )
}

fn database_params() -> impl Strategy<Value = DatabaseParams> {
    (
        0usize..3,
        1u32..=3,
        prop_oneof![
            (1u32..=4, prop::option::of(1u32..=100)).prop_map(Ok),
            (1u32..=4).prop_map(Err),
        ],
        1u32..=3,
        0.1f64..5.0,
    )
        .prop_map(|(at_service, cores, pool, queries, query_mean_ms)| DatabaseParams {
            at_service,
            cores,
            pool,
            queries,
            query_mean_ms,
        })
}

fn model_params() -> impl Strategy<Value = ModelParams> {
    (
        prop::collection::vec(service_params(), 1..=3),
        1.0f64..150.0,
        prop::option::of(
            (5u32..=300, 1u32..=3, 0u32..=50).prop_map(|(timeout_ms, attempts, backoff_ms)| ClientRetry {
                timeout_ms,
                attempts,
                backoff_ms,
            }),
        ),
        prop::option::of(database_params()),
        prop::option::of((any::<bool>(), 0.05f64..2.0)),
        20u32..=60,
        1u32..=2,
        any::<u64>(),
    )
        .prop_map(
            |(services, rate_per_s, client, database, link, duration_s, replications, seed)| ModelParams {
                services,
                rate_per_s,
                client,
                database,
                link,
                duration_s,
                replications,
                seed,
            },
        )
}

/// The model file for `p`: a chain of services s0 -> s1 -> ... called by one open client.
fn model_json(p: &ModelParams) -> String {
    let n = p.services.len();
    let db_at = p.database.as_ref().map(|d| d.at_service % n);
    let mut services = Map::new();
    for (i, s) in p.services.iter().enumerate() {
        let mut steps = vec![json!({ "cpu": format!("exp({:.3}ms)", s.cpu_mean_ms) })];
        if let (Some(d), Some(at)) = (&p.database, db_at) {
            if at == i {
                let mut tx = json!({ "queries": d.queries, "query": format!("exp({:.3}ms)", d.query_mean_ms) });
                match d.pool {
                    Ok(_) => tx["pool"] = json!("pool"),
                    Err(_) => tx["database"] = json!("db"),
                }
                steps.push(json!({ "transaction": tx }));
            }
        }
        if i + 1 < n {
            let mut call = json!({ "call": format!("s{}.work", i + 1) });
            if let Some((timeout_ms, attempts)) = s.call_timeout {
                call["timeout"] = json!(format!("{timeout_ms}ms"));
                call["retry"] = json!({ "attempts": attempts, "backoff": "5ms", "jitter": "full" });
            }
            if let Some(ms) = s.hedge_ms {
                call["hedge"] = json!({ "after": format!("{ms}ms") });
            }
            steps.push(call);
        }
        let mut service = json!({ "workers": s.workers, "endpoints": { "work": steps } });
        if let Some(capacity) = s.queue_capacity {
            service["queue"] = json!({ "capacity": capacity });
        }
        services.insert(format!("s{i}"), service);
    }
    let mut client = json!({ "open": { "rate": format!("{:.3}/s", p.rate_per_s) }, "calls": "s0.work" });
    if let Some(c) = &p.client {
        client["timeout"] = json!(format!("{}ms", c.timeout_ms));
        client["retry"] = json!({ "attempts": c.attempts, "backoff": format!("{}ms", c.backoff_ms), "jitter": "equal" });
    }
    let mut model = json!({
        "name": "property",
        "duration": format!("{}s", p.duration_s),
        "warmup": "0s",
        "replications": p.replications,
        "seed": p.seed,
        "limits": { "max_in_flight": 5000 },
        "clients": { "web": client },
        "services": services,
    });
    if let Some(d) = &p.database {
        match d.pool {
            Ok((size, acquire_timeout)) => {
                model["databases"] = json!({ "db": { "cores": d.cores } });
                let mut pool = json!({ "database": "db", "size": size });
                if let Some(ms) = acquire_timeout {
                    pool["acquire_timeout"] = json!(format!("{ms}ms"));
                }
                model["pools"] = json!({ "pool": pool });
            }
            Err(max_connections) => {
                model["databases"] = json!({ "db": { "cores": d.cores, "max_connections": max_connections } });
            }
        }
    }
    if let Some((constant, ms)) = p.link {
        let latency = if constant {
            format!("{ms:.3}ms")
        } else {
            format!("exp({ms:.3}ms)")
        };
        model["links"] = json!({ "default": { "latency": latency } });
    }
    serde_json::to_string_pretty(&model).expect("a JSON value serializes")
}

/// Parse, validate and run a model; a generated model that does not validate is a test bug.
fn run_model(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "property.json")
        .unwrap_or_else(|e| panic!("the generated model does not validate: {e}\n{json}"));
    let warnings: Vec<String> = validated.warnings.iter().map(|w| w.to_string()).collect();
    capsim::run(&validated.model, &warnings, None)
}

/// Why an estimate is not a share of time in [0, 1], if it is not.
fn not_a_share(e: &Estimate, replications: u32) -> Option<String> {
    let ok = e.n == replications as usize
        && e.min.is_finite()
        && e.max.is_finite()
        && e.min >= 0.0
        && e.max <= 1.0 + FLOAT_SLACK
        && e.min <= e.mean
        && e.mean <= e.max;
    (!ok).then(|| format!("{e:?}"))
}

/// Why a latency estimate is negative, if it is (no samples, all NaN, is fine).
fn negative(e: &Estimate) -> Option<String> {
    let bad = e.min < 0.0 || e.mean < 0.0 || e.max < 0.0 || (e.n > 0 && !(e.min.is_finite() && e.max.is_finite()));
    bad.then(|| format!("{e:?}"))
}

fn latency_estimates(l: &capsim::results::LatencySummary) -> [(&'static str, &Estimate); 6] {
    [
        ("mean_ms", &l.mean_ms),
        ("p50_ms", &l.p50_ms),
        ("p90_ms", &l.p90_ms),
        ("p99_ms", &l.p99_ms),
        ("p999_ms", &l.p999_ms),
        ("max_ms", &l.max_ms),
    ]
}

/// Conservation of requests: `started = ok + timeouts + rejected + errors + in_flight_at_end`
/// (endpoints count no timeouts: their callers time out, not they).
fn unaccounted(kind: &str, name: &str, c: &Counts, with_timeouts: bool) -> Option<String> {
    let timeouts = if with_timeouts { c.timeouts } else { 0 };
    let accounted = c.ok + timeouts + c.rejected + c.errors + c.in_flight_at_end;
    (c.started != accounted).then(|| {
        format!(
            "{kind} {name}: started {} != ok {} + {}rejected {} + errors {} + in_flight_at_end {} = {accounted} ({c:?})",
            c.started,
            c.ok,
            if with_timeouts {
                format!("timeouts {} + ", c.timeouts)
            } else {
                String::new()
            },
            c.rejected,
            c.errors,
            c.in_flight_at_end
        )
    })
}

fn client_conservation(result: &RunResult, _: u32) -> Vec<String> {
    result
        .clients
        .iter()
        .filter_map(|c| unaccounted("client", &c.name, &c.counts, true))
        .collect()
}

fn endpoint_conservation(result: &RunResult, _: u32) -> Vec<String> {
    result
        .endpoints
        .iter()
        .filter_map(|e| unaccounted("endpoint", &e.name, &e.counts, false))
        .collect()
}

fn utilisation_is_a_share(result: &RunResult, replications: u32) -> Vec<String> {
    let shares = result
        .services
        .iter()
        .map(|s| ("service", &s.name, &s.utilisation))
        .chain(result.databases.iter().map(|d| ("database", &d.name, &d.utilisation)))
        .chain(result.pools.iter().map(|p| ("pool", &p.name, &p.utilisation)));
    shares
        .filter_map(|(kind, name, e)| {
            not_a_share(e, replications).map(|why| format!("{kind} {name}: utilisation outside [0, 1]: {why}"))
        })
        .collect()
}

fn latencies_are_non_negative(result: &RunResult, _: u32) -> Vec<String> {
    let mut latencies: Vec<(String, &Estimate)> = Vec::new();
    for c in &result.clients {
        latencies.extend(latency_estimates(&c.latency).map(|(m, e)| (format!("client {} latency.{m}", c.name), e)));
    }
    for e in &result.endpoints {
        latencies.extend(latency_estimates(&e.latency).map(|(m, est)| (format!("endpoint {} latency.{m}", e.name), est)));
        latencies.push((format!("endpoint {} sojourn_ms", e.name), &e.sojourn_ms));
    }
    for s in &result.services {
        latencies.push((format!("service {} worker_wait.mean_ms", s.name), &s.worker_wait.mean_ms));
        latencies.push((format!("service {} worker_wait.p99_ms", s.name), &s.worker_wait.p99_ms));
    }
    for d in &result.databases {
        latencies.extend(latency_estimates(&d.query_time).map(|(m, e)| (format!("database {} query_time.{m}", d.name), e)));
    }
    for p in &result.pools {
        latencies.push((format!("pool {} acquire_wait.mean_ms", p.name), &p.acquire_wait.mean_ms));
        latencies.push((format!("pool {} acquire_wait.p99_ms", p.name), &p.acquire_wait.p99_ms));
    }
    latencies
        .into_iter()
        .filter_map(|(what, e)| negative(e).map(|why| format!("{what}: negative or non-finite latency: {why}")))
        .collect()
}

/// Few cases (each is a simulation; `PROPTEST_CASES=500` soaks); failures are kept beside this
/// file (properties.proptest-regressions) and replayed first.
fn model_config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(24),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

/// Run the model of `p` and check `property`; the message carries the model JSON to replay.
fn check(p: &ModelParams, property: fn(&RunResult, u32) -> Vec<String>) -> Result<(), TestCaseError> {
    let json = model_json(p);
    let result = run_model(&json);
    let found = property(&result, p.replications);
    prop_assert!(
        found.is_empty(),
        "{}\n--- model (save it and replay with `capsim run FILE`):\n{json}\n--- verdict: {:?}",
        found.join("\n"),
        result.verdict
    );
    Ok(())
}

proptest! {
    #![proptest_config(model_config())]

    #[test]
    fn random_models_account_for_every_client_request(p in model_params()) {
        check(&p, client_conservation)?;
    }

    #[test]
    fn random_models_account_for_every_endpoint_request(p in model_params()) {
        check(&p, endpoint_conservation)?;
    }

    #[test]
    fn random_models_keep_every_utilisation_within_0_and_1(p in model_params()) {
        check(&p, utilisation_is_a_share)?;
    }

    #[test]
    fn random_models_report_no_negative_latency(p in model_params()) {
        check(&p, latencies_are_non_negative)?;
    }
}

/// One operation on an event queue.
#[derive(Clone, Debug)]
enum Op {
    /// `schedule_at(now + offset)`, clamped at 0: a negative offset is in the past.
    At(i64),
    /// `schedule_in(delay)`.
    In(u64),
    /// `schedule_fixed(delay)`: more distinct delays than the queue has lanes.
    Fixed(u64),
    /// `pop()`.
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-20i64..40).prop_map(Op::At),
        (0u64..40).prop_map(Op::In),
        (0u64..12).prop_map(Op::Fixed),
        Just(Op::Pop),
        Just(Op::Pop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: model_config().cases.max(256), ..model_config() })]

    /// Popped times never decrease, ties pop in insertion order, each event pops once at the time
    /// it was due (a time in the past meaning now), and `now`, `peek_time` and `len` agree.
    #[test]
    fn event_queue_clock_never_goes_backwards_and_ties_pop_in_insertion_order(ops in prop::collection::vec(op(), 0..400)) {
        let mut queue: EventQueue<usize> = EventQueue::new();
        let mut due: Vec<u64> = Vec::new();
        let mut popped: Vec<Option<u64>> = Vec::new();
        let mut last: Option<(u64, usize)> = None;
        let mut pending = 0usize;
        let mut pop = |queue: &mut EventQueue<usize>, due: &[u64], popped: &mut Vec<Option<u64>>, pending: &mut usize| -> Result<bool, TestCaseError> {
            let peeked = queue.peek_time();
            let Some((at, id)) = queue.pop() else {
                prop_assert_eq!(*pending, 0, "pop gave nothing with events pending");
                prop_assert_eq!(peeked, None);
                return Ok(false);
            };
            *pending -= 1;
            prop_assert_eq!(peeked, Some(at), "peek_time disagrees with pop");
            prop_assert_eq!(queue.now(), at, "now() is not the time of the last pop");
            prop_assert_eq!(at, due[id], "event {} popped at {} but was due at {}", id, at, due[id]);
            prop_assert!(popped[id].is_none(), "event {} popped twice", id);
            popped[id] = Some(at);
            if let Some((t, prev)) = last {
                prop_assert!(at >= t, "clock went backwards: {} after {}", at, t);
                if at == t {
                    prop_assert!(id > prev, "at t = {}, event {} popped after event {} scheduled later", at, id, prev);
                }
            }
            last = Some((at, id));
            prop_assert_eq!(queue.len(), *pending);
            Ok(true)
        };
        for op in &ops {
            let now = queue.now();
            let id = due.len();
            match *op {
                Op::At(offset) => {
                    let at = (now as i64 + offset).max(0) as u64;
                    queue.schedule_at(at, id);
                    due.push(at.max(now));
                }
                Op::In(delay) => {
                    queue.schedule_in(delay, id);
                    due.push(now + delay);
                }
                Op::Fixed(delay) => {
                    queue.schedule_fixed(delay, id);
                    due.push(now + delay);
                }
                Op::Pop => {
                    pop(&mut queue, &due, &mut popped, &mut pending)?;
                    continue;
                }
            }
            popped.push(None);
            pending += 1;
            prop_assert_eq!(queue.len(), pending);
        }
        while pop(&mut queue, &due, &mut popped, &mut pending)? {}
        prop_assert!(queue.is_empty());
        prop_assert!(popped.iter().all(Option::is_some), "some events never popped");
    }
}
