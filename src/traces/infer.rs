//! A model from traces: services, instances and endpoints from the server spans; each endpoint's
//! steps from what its requests did (calls with the share of requests that make them and how many
//! times, transactions with their query counts and query times, cache lookups, external calls,
//! messages published) and its own time as a `cpu` step; network round trips as links; one open
//! client per entry point at its measured rate, with a profile over the traces' time range. What
//! traces cannot show (workers, database cores, connection limits) is set to a stated guess.

use super::collect::{Arrivals, Collection};
use super::fit::{duration_text, fit, mean, servers_for};
use super::span::Sym;
use super::tree::{executions, OpKind, TreeNotes};
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Choices of the inference.
#[derive(Clone, Debug)]
pub struct InferSettings {
    /// The share of traces that were recorded (head sampling): rates are divided by it.
    pub sampling_rate: f64,
    /// The model's name.
    pub name: String,
}

/// A share written with 4 decimals.
fn share(count: u64, of: u64) -> f64 {
    (count as f64 / of.max(1) as f64 * 10_000.0).round() / 10_000.0
}

/// What one endpoint's requests did, over the sampled traces.
#[derive(Default)]
struct Shape {
    executions: u64,
    self_ns: Vec<u64>,
    durations_ns: Vec<u64>,
    ops: IndexMap<OpKind, OpStats>,
    parallel: u64,
}

#[derive(Default)]
struct OpStats {
    /// Requests that did it at least once.
    with: u64,
    /// How many requests did it n times, by n ≥ 1.
    times: BTreeMap<u32, u64>,
    /// Sum of its first occurrence's position among the request's operations (0 to 1).
    position: f64,
    /// Every part's duration (each query of a transaction, else the span).
    parts_ns: Vec<u64>,
    /// Parts per occurrence (queries per transaction).
    parts_per: Vec<u64>,
    /// A message's traced consumer (service, endpoint), the first seen.
    consumer: Option<(Sym, Sym)>,
}

/// The inferred model (JSON, ready to write) and what the inference noticed.
pub struct Inferred {
    /// The model.
    pub model: Value,
    /// Entry points, as "service.endpoint" with their clients' names.
    pub entries: Vec<(String, String)>,
    /// What was guessed or left out, one sentence each (also in the model's description).
    pub notes: Vec<String>,
}

/// Infer a model from what was read.
pub fn infer(c: &Collection, settings: &InferSettings) -> Result<Inferred, String> {
    if c.served.is_empty() {
        return Err(format!(
            "no server or consumer spans among {} spans: capsim builds endpoints from the spans of requests served",
            c.spans
        ));
    }
    let name = |s: Sym| c.names.name(s).to_string();
    let endpoint_name = |service: Sym, endpoint: Sym| format!("{}.{}", name(service), name(endpoint));
    let mut notes_tree = TreeNotes::default();
    let mut shapes: IndexMap<(Sym, Sym), Shape> = IndexMap::new();
    let mut network: IndexMap<(Sym, Sym), Vec<u64>> = IndexMap::new();
    let mut published: Vec<String> = Vec::new();
    // Requests whose caller is missing from their trace, per endpoint (sampled traces only).
    let mut orphans: IndexMap<(Sym, Sym), u64> = IndexMap::new();
    for trace in c.traces() {
        for ex in executions(trace, &mut notes_tree) {
            if ex.orphan {
                *orphans.entry((ex.service, ex.endpoint)).or_insert(0) += 1;
            }
            let shape = shapes.entry((ex.service, ex.endpoint)).or_default();
            shape.executions += 1;
            shape.self_ns.push(ex.self_ns);
            shape.durations_ns.push(ex.duration_ns);
            shape.parallel += u64::from(ex.parallel);
            let mut seen: IndexMap<OpKind, u32> = IndexMap::new();
            let n = ex.ops.len().max(1) as f64;
            for (position, op) in ex.ops.iter().enumerate() {
                let stats = shape.ops.entry(op.kind).or_default();
                let count = seen.entry(op.kind).or_insert(0);
                if *count == 0 {
                    stats.position += position as f64 / n;
                }
                *count += 1;
                stats.parts_ns.extend_from_slice(&op.parts_ns);
                if stats.consumer.is_none() {
                    stats.consumer = op.consumer;
                }
                stats.parts_per.push(op.parts_ns.len() as u64);
                if let (OpKind::Call { service, .. }, Some(net)) = (op.kind, op.network_ns) {
                    network.entry((ex.service, service)).or_default().push(net);
                }
                if let (OpKind::Publish { destination }, None) = (op.kind, op.consumer) {
                    let d = name(destination);
                    if !published.contains(&d) {
                        published.push(d);
                    }
                }
            }
            for (kind, count) in seen {
                let stats = shape.ops.get_mut(&kind).expect("seen above");
                stats.with += 1;
                *stats.times.entry(count).or_insert(0) += 1;
            }
        }
    }
    let peak = peak_factor(c);
    let secs = c.span_secs().max(1e-3);
    if secs > crate::model::units::MAX_NANOS as f64 / 1e9 {
        return Err(format!(
            "the spans' times range over {} (from {} to {} ns since the Unix epoch): more than a model's 100 years, so some span's time is wrong",
            crate::model::units::format_duration_f64(secs),
            c.first_ns,
            c.last_ns
        ));
    }
    let scale = 1.0 / settings.sampling_rate;
    let mut notes = Vec::new();
    // Services in the order first seen; endpoints likewise.
    let mut services: IndexMap<Sym, Map<String, Value>> = IndexMap::new();
    let mut service_load: IndexMap<Sym, f64> = IndexMap::new();
    // Per database, its erlangs of query time (each query holds a core, and its transaction's
    // direct connection, for its duration).
    let mut databases: IndexMap<String, f64> = IndexMap::new();
    let mut counts_note = Vec::new();
    // A queue is named after its destination, unless a service or a database has that name.
    let taken: Vec<String> = c
        .served
        .keys()
        .map(|(s, _)| name(*s))
        .chain(shapes.values().flat_map(|sh| sh.ops.keys()).filter_map(|k| match k {
            OpKind::Query { database } => Some(name(*database)),
            _ => None,
        }))
        .collect();
    let queue_name = |destination: Sym| {
        let n = name(destination);
        if taken.contains(&n) {
            format!("{n}-queue")
        } else {
            n
        }
    };
    // Queues fed by publish steps: name → (consumer endpoint, messages per second).
    let mut queues: IndexMap<String, ((Sym, Sym), f64)> = IndexMap::new();
    for (&(service, endpoint), served) in &c.served {
        let rate = served.latency.count() as f64 / secs * scale;
        *service_load.entry(service).or_insert(0.0) += rate * served.latency.mean_ns() / 1e9;
        let Some(shape) = shapes.get(&(service, endpoint)) else {
            // Served, but no request of it is in the sample: one cpu step of its measured mean.
            services
                .entry(service)
                .or_default()
                .insert(name(endpoint), json!([{ "cpu": duration_text(served.latency.mean_ns()) }]));
            counts_note.push(format!(
                "{}: {} requests, none sampled (one cpu step of their mean)",
                endpoint_name(service, endpoint),
                served.latency.count()
            ));
            continue;
        };
        let mut steps = Vec::new();
        if mean(&shape.self_ns) > 0.0 {
            steps.push(json!({ "cpu": fit(&shape.self_ns) }));
        }
        let mut order: Vec<(&OpKind, &OpStats)> = shape.ops.iter().collect();
        order.sort_by(|a, b| (a.1.position / a.1.with as f64).total_cmp(&(b.1.position / b.1.with as f64)));
        let mut previous_lookup: Option<u64> = None;
        for (kind, stats) in order {
            if let (OpKind::Publish { destination }, Some(consumer)) = (*kind, stats.consumer) {
                // A message whose consumer is traced: a publish step (after the time publishing
                // took), its messages the mean count of those that publish.
                let sent: u64 = stats.times.iter().map(|(n, k)| u64::from(*n) * k).sum();
                let messages = (sent as f64 / stats.with as f64).round().max(1.0) as u64;
                let mut wait = json!({ "delay": fit(&stats.parts_ns) });
                let mut step = json!({ "publish": queue_name(destination) });
                if messages > 1 {
                    step["messages"] = json!(messages);
                }
                if stats.with < shape.executions {
                    wait["share"] = json!(share(stats.with, shape.executions));
                    step["share"] = json!(share(stats.with, shape.executions));
                }
                if mean(&stats.parts_ns) > 0.0 {
                    steps.push(wait);
                }
                steps.push(step);
                let per_s = stats.with as f64 / shape.executions as f64 * rate * messages as f64;
                let entry = queues.entry(queue_name(destination)).or_insert((consumer, 0.0));
                entry.1 += per_s;
                previous_lookup = None;
                continue;
            }
            let most = *stats.times.keys().last().unwrap_or(&1);
            for j in 1..=most {
                // The j-th time: made by the requests that did it at least j times.
                let with_j: u64 = stats.times.range(j..).map(|(_, n)| n).sum();
                let mut step = match *kind {
                    OpKind::Call {
                        service: callee,
                        endpoint: ep,
                    } => json!({ "call": endpoint_name(callee, ep) }),
                    OpKind::External { .. } | OpKind::Lookup { .. } | OpKind::Publish { .. } => {
                        json!({ "delay": fit(&stats.parts_ns) })
                    }
                    OpKind::Query { database } => {
                        let db = name(database);
                        let queries = mean(&stats.parts_per).round().max(1.0);
                        let query_mean = mean(&stats.parts_ns) / 1e9;
                        let tx_rate = with_j as f64 / shape.executions as f64 * rate;
                        *databases.entry(db.clone()).or_insert(0.0) += tx_rate * queries * query_mean;
                        json!({ "transaction": { "database": db, "queries": queries as u64, "query": fit(&stats.parts_ns) } })
                    }
                };
                let looked_up = previous_lookup.take();
                match looked_up {
                    // After a cache lookup every request makes, a step only some make is what the
                    // cache's misses do.
                    Some(lookups) if j == 1 && with_j < lookups && matches!(kind, OpKind::Call { .. } | OpKind::Query { .. }) => {
                        step["cache"] = json!({ "hit_ratio": share(lookups - with_j, lookups), "hit": "0ms" });
                        if lookups < shape.executions {
                            step["share"] = json!(share(lookups, shape.executions));
                        }
                    }
                    _ if with_j < shape.executions => step["share"] = json!(share(with_j, shape.executions)),
                    _ => {}
                }
                if matches!(kind, OpKind::Lookup { .. }) && j == 1 {
                    previous_lookup = Some(with_j);
                }
                steps.push(step);
            }
        }
        if shape.parallel > 0 {
            notes.push(format!(
                "{}: {} of {} requests ran operations in parallel; they are modelled one after another",
                endpoint_name(service, endpoint),
                shape.parallel,
                shape.executions
            ));
        }
        counts_note.push(format!(
            "{}: {} requests, {} sampled",
            endpoint_name(service, endpoint),
            served.latency.count(),
            shape.executions
        ));
        services
            .entry(service)
            .or_default()
            .insert(name(endpoint), Value::Array(steps));
    }
    let mut services_json = Map::new();
    let mut guesses = Vec::new();
    for (service, endpoints) in services {
        let instances = c.instances.get(&service).map_or(1, |i| i.len().max(1));
        let load = service_load.get(&service).copied().unwrap_or(0.0) / instances as f64;
        let workers = servers_for(load * peak);
        guesses.push(format!(
            "{} {workers} workers ({:.2} erlangs per instance at the busiest time)",
            name(service),
            load * peak
        ));
        services_json.insert(
            name(service),
            json!({ "instances": instances, "workers": workers, "endpoints": Value::Object(endpoints) }),
        );
    }
    let mut databases_json = Map::new();
    for (db, load) in &databases {
        // Cores as for workers; connections twice that (a connection is held a little longer
        // than its query's core: the round trip).
        let cores = servers_for(load * peak);
        let connections = cores * 2;
        guesses.push(format!("{db} {cores} cores and {connections} connections"));
        databases_json.insert(db.clone(), json!({ "cores": cores, "max_connections": connections }));
    }
    let mut queues_json = Map::new();
    for (queue, ((service, endpoint), per_s)) in &queues {
        let key = queue.clone();
        let held_s = c
            .served
            .get(&(*service, *endpoint))
            .map_or(0.0, |s| s.latency.mean_ns() / 1e9);
        let concurrency = servers_for(per_s * held_s * peak);
        guesses.push(format!(
            "queue {key}: consumer concurrency {concurrency}, visibility timeout 30s"
        ));
        queues_json.insert(
            key,
            json!({ "visibility_timeout": "30s", "consumer": { "calls": endpoint_name(*service, *endpoint), "concurrency": concurrency } }),
        );
    }
    let mut links = Map::new();
    for (&(from, to), samples) in &network {
        if from != to && mean(samples) > 0.0 {
            links.insert(format!("{} -> {}", name(from), name(to)), json!({ "latency": fit(samples) }));
        }
    }
    let mut clients = Map::new();
    let mut entries = Vec::new();
    for (&(service, endpoint), arrivals) in &c.entries {
        let target = endpoint_name(service, endpoint);
        let mut client = format!("{}-{}", name(service), name(endpoint));
        if services_json.contains_key(&client) || databases_json.contains_key(&client) {
            client.push_str("-users");
        }
        let rate = arrivals.total as f64 / secs * scale;
        let mut open = json!({ "rate": format!("{}/s", round_sig(rate)) });
        if let Some(profile) = profile(arrivals, c.first_ns, c.last_ns, 0.0) {
            open["profile"] = profile;
        }
        clients.insert(client.clone(), json!({ "open": open, "calls": target }));
        entries.push((target, client));
    }
    // Endpoints reached from outside the traces (their caller is not traced): a client stands in
    // for the callers, at the rate of those requests (from the sample, scaled by its share).
    for (&(service, endpoint), &count) in &orphans {
        if c.entries.contains_key(&(service, endpoint)) {
            continue;
        }
        let target = endpoint_name(service, endpoint);
        let client = format!("{}-{}-callers", name(service), name(endpoint));
        let rate = count as f64 / c.sampled_share() / secs * scale;
        clients.insert(
            client.clone(),
            json!({ "open": { "rate": format!("{}/s", round_sig(rate)) }, "calls": target }),
        );
        notes.push(format!(
            "{count} sampled requests of {target} came from a caller missing from their traces: the client {client} stands in for it"
        ));
        entries.push((target, client));
    }
    if clients.is_empty() {
        return Err("no trace starts with a server span (every server span has a parent): capsim needs the entry points' requests to set the arrival rates".into());
    }
    if notes_tree.skew_corrected > 0 {
        notes.push(format!(
            "{} server spans were moved inside their caller's client span (clock skew)",
            notes_tree.skew_corrected
        ));
    }
    if notes_tree.orphans > 0 {
        notes.push(format!(
            "{} spans had a parent missing from their trace (partial traces)",
            notes_tree.orphans
        ));
    }
    if c.backwards > 0 {
        notes.push(format!(
            "{} spans ended before they started and were read as lasting nothing",
            c.backwards
        ));
    }
    if !published.is_empty() {
        notes.push(format!(
            "messages published to {} are delays of the publishing time: their consumers are not traced",
            published.join(", ")
        ));
    }
    if c.sampled_share() < 1.0 {
        notes.push(format!(
            "the structure comes from a uniform sample of {} traces ({:.1} % of them), rates and latencies from every span",
            c.traces_kept(),
            c.sampled_share() * 100.0
        ));
    }
    let duration_s = secs.ceil().max(1.0);
    let window_s = (duration_s / 60.0).ceil().max(1.0);
    let files: Vec<&str> = c.files.iter().map(|(f, _)| f.as_str()).collect();
    let description = format!(
        "Inferred by capsim init from {spans} spans ({traces} sampled traces) in {files} over {secs}. \
         Per endpoint: {counts}. Distributions are percentile tables of the spans' durations \
         (lognormals fitted to endpoints with fewer than {table} samples); a database's query time \
         includes its network round trip; calls' round trips are the links. \
         Not in traces, set to guesses (the fewest at which fewer than 1 in 1,000 requests would wait, \
         by Erlang C at the busiest time): {guesses}. No timeouts, retries, pools or queue limits \
         are inferred: add them.{sampling}{extra}",
        spans = c.spans,
        traces = c.traces_kept(),
        files = files.join(", "),
        secs = crate::model::units::format_duration_f64(secs),
        counts = counts_note.join("; "),
        table = super::fit::TABLE_SAMPLES,
        guesses = guesses.join("; "),
        sampling = if settings.sampling_rate < 1.0 {
            format!(" Rates are scaled up by 1/{} (head sampling).", settings.sampling_rate)
        } else {
            String::new()
        },
        extra = if notes.is_empty() {
            String::new()
        } else {
            format!(" Notes: {}.", notes.join("; "))
        },
    );
    let mut model = json!({
        "name": settings.name,
        "description": description,
        "duration": format!("{duration_s}s"),
        "warmup": "0s",
        "replications": 5,
        "seed": 1,
        "window": format!("{window_s}s"),
        "clients": clients,
        "services": services_json,
    });
    if !databases_json.is_empty() {
        model["databases"] = Value::Object(databases_json);
    }
    if !queues_json.is_empty() {
        model["queues"] = Value::Object(queues_json);
    }
    if !links.is_empty() {
        model["links"] = Value::Object(links);
    }
    Ok(Inferred {
        model,
        entries,
        notes: [guesses, notes].concat(),
    })
}

/// A rate with 4 significant digits.
pub fn round_sig(rate: f64) -> f64 {
    if rate <= 0.0 {
        return 0.0;
    }
    let digits = 3 - rate.log10().floor() as i32;
    let p = 10f64.powi(digits);
    (rate * p).round() / p
}

/// The busiest stretch's rate over the mean rate, over all entry points together (1 for an even load).
fn peak_factor(c: &Collection) -> f64 {
    let mut total: BTreeMap<i64, u64> = BTreeMap::new();
    let mut width = 0i64;
    for a in c.entries.values() {
        width = width.max(a.width_ns);
    }
    for a in c.entries.values() {
        for (i, &n) in a.counts.iter().enumerate() {
            let at = (a.base + i as i64) * a.width_ns;
            *total.entry(at.div_euclid(width.max(1))).or_insert(0) += n;
        }
    }
    if total.len() < 3 {
        return 1.0;
    }
    // The first and last buckets are partly outside the traces: left out.
    let inner: Vec<u64> = total.values().copied().skip(1).take(total.len() - 2).collect();
    let mean = inner.iter().sum::<u64>() as f64 / inner.len() as f64;
    let max = inner.iter().copied().max().unwrap_or(0) as f64;
    if mean > 0.0 {
        (max / mean).max(1.0)
    } else {
        1.0
    }
}

/// Arrivals over time as a step profile (factors of the mean rate), in stretches of at least 100
/// expected arrivals, at most 48 of them, the traces' start at `offset_s` into the run; None when
/// there is only one stretch.
pub fn profile(a: &Arrivals, first_ns: i64, last_ns: i64, offset_s: f64) -> Option<Value> {
    let span_ns = (last_ns - first_ns).max(1) as f64;
    let mean_rate = a.total as f64 / span_ns;
    let per_bucket = mean_rate * a.width_ns as f64;
    let group = ((100.0 / per_bucket.max(1e-9)).ceil() as usize)
        .max(a.counts.len().div_ceil(48))
        .max(1);
    // Stretches of `group` buckets, clipped to the traces' range.
    let mut points = Vec::new();
    let mut i = 0;
    while i < a.counts.len() {
        let j = (i + group).min(a.counts.len());
        let from = ((a.base + i as i64) * a.width_ns).max(first_ns);
        let to = ((a.base + j as i64) * a.width_ns).min(last_ns);
        let n: u64 = a.counts[i..j].iter().sum();
        if to > from {
            points.push((from - first_ns, n as f64 / (to - from) as f64 / mean_rate));
        }
        i = j;
    }
    if points.len() < 2 {
        return None;
    }
    let points: Vec<Value> = points
        .iter()
        .map(|&(at, factor)| json!({ "at": format!("{}s", ((at as f64 / 1e9 + offset_s) * 1000.0).round() / 1000.0), "factor": (factor * 1000.0).round() / 1000.0 }))
        .collect();
    Some(json!({ "shape": "step", "points": points }))
}
