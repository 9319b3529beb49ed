//! Engine throughput: requests per second of wall time on M/M/1 at ρ = 0.8 (one core) against a
//! bare-loop control in the same run, and on the quickstart model (1 hour, 10 replications);
//! events per request, bytes per request in flight and memory per replication; the simulations
//! and wall time `capsim size` takes on the quickstart model and `capsim metastability` on case
//! study 2. Run with `cargo bench`; nothing here asserts on time.

use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

/// M/M/1 at ρ = 0.8: arrivals at 80/s, exponential service of mean 10 ms.
const MM1: &str = r#"{
  "name": "mm1-bench", "duration": "DURATION", "warmup": "1m", "replications": 1, "seed": 1,
  "clients": { "arrivals": { "open": { "rate": "80/s" }, "calls": "server.serve" } },
  "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } }
}"#;

/// Arrival rate and mean service time of the M/M/1 benchmark, per second and seconds.
const MM1_RATE: f64 = 80.0;
const MM1_SERVICE_S: f64 = 0.010;

fn mm1(duration: &str) -> capsim::model::Model {
    capsim::model::parse_model(&MM1.replace("DURATION", duration), "mm1-bench.json")
        .expect("bench model is valid")
        .model
}

/// The control: the same M/M/1 as a bare event loop — a binary heap of (time in ns, kind), two
/// exponential streams, a FIFO of arrival times and the sum of sojourn times — with none of
/// capsim's layers or statistics. Returns the requests that arrived and their mean sojourn (ms).
fn bare_mm1(horizon_s: f64, seed: u64) -> (u64, f64) {
    const ARRIVAL: u8 = 0;
    const DEPARTURE: u8 = 1;
    let horizon = (horizon_s * 1e9) as u64;
    let (mut arrivals, mut services) = (SmallRng::seed_from_u64(seed), SmallRng::seed_from_u64(seed ^ 0x5851_F42D));
    let gap = Exp::new(MM1_RATE / 1e9).expect("a positive rate");
    let work = Exp::new(1.0 / (MM1_SERVICE_S * 1e9)).expect("a positive rate");
    let mut events: BinaryHeap<Reverse<(u64, u8)>> = BinaryHeap::new();
    let mut line: VecDeque<u64> = VecDeque::new();
    let (mut arrived, mut done, mut sojourn_ns) = (0u64, 0u64, 0u128);
    events.push(Reverse((gap.sample(&mut arrivals) as u64, ARRIVAL)));
    while let Some(Reverse((now, kind))) = events.pop() {
        if now > horizon {
            break;
        }
        if kind == ARRIVAL {
            arrived += 1;
            line.push_back(now);
            if line.len() == 1 {
                events.push(Reverse((now + work.sample(&mut services) as u64, DEPARTURE)));
            }
            events.push(Reverse((now + gap.sample(&mut arrivals) as u64, ARRIVAL)));
        } else {
            let came = line.pop_front().expect("a departure serves someone");
            done += 1;
            sojourn_ns += u128::from(now - came);
            if !line.is_empty() {
                events.push(Reverse((now + work.sample(&mut services) as u64, DEPARTURE)));
            }
        }
    }
    (arrived, sojourn_ns as f64 / done.max(1) as f64 / 1e6)
}

/// Wall time of one run of `f`, seconds, with its value.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let value = f();
    (start.elapsed().as_secs_f64(), value)
}

/// Best wall time of `rounds` runs of `f`, seconds, with the last run's value.
fn best_of<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let (took, value) = timed(&mut f);
        best = best.min(took);
        last = Some(value);
    }
    (best, last.expect("at least one round"))
}

/// M/M/1 through capsim and through the bare loop, one thread each, as requests per second of
/// wall time (the requests that arrive over the horizon, 80/s × the duration) and their ratio:
/// the best of `rounds` runs of each, taken in turns.
fn mm1_against_control(duration: &str, rounds: usize) {
    let model = mm1(duration);
    let horizon_s = model.duration_ns as f64 / 1e9;
    let requests = MM1_RATE * horizon_s;
    // Rounds alternate between the two, so a slow spell of the machine falls on both alike.
    let (mut capsim_s, mut control_s) = (f64::MAX, f64::MAX);
    let (mut result, mut control) = (None, None);
    for _ in 0..rounds {
        let (s, r) = timed(|| capsim::run(&model, &[], Some(1)));
        (capsim_s, result) = (capsim_s.min(s), Some(r));
        let (s, c) = timed(|| bare_mm1(horizon_s, 1));
        (control_s, control) = (control_s.min(s), Some(c));
    }
    let (result, (arrived, sojourn_ms)) = (result.expect("a round ran"), control.expect("a round ran"));
    let theory_ms = MM1_SERVICE_S * 1e3 / (1.0 - MM1_RATE * MM1_SERVICE_S);
    println!(
        "M/M/1 rho=0.8, {duration}, 1 thread: capsim {:>6.2} M requests/s ({} events, {:.2} per request, mean sojourn {:.2} ms)",
        requests / capsim_s / 1e6,
        result.events,
        result.events as f64 / requests,
        result.clients[0].latency.mean_ms.mean
    );
    println!(
        "  bare-loop control                    {:>6.2} M requests/s ({arrived} requests, 2 events per request, mean sojourn {sojourn_ms:.2} ms; theory {theory_ms:.2} ms)",
        requests / control_s / 1e6
    );
    println!("  capsim / control = {:.3}", control_s / capsim_s);
}

/// Bytes per request in flight: an M/M/1 overloaded twice over (200/s against 100/s) piles up
/// about 100 requests a second; the growth of the peak resident memory over the backlog it ends
/// with. The estimate `limits.max_memory` is judged by counts `REQUEST_JOB_BYTES` per job.
fn bytes_per_request_in_flight() {
    let model = capsim::model::parse_model(
        &MM1.replace("DURATION", "10m")
            .replace("\"warmup\": \"1m\"", "\"warmup\": \"0s\"")
            .replace("80/s", "200/s"),
        "overloaded.json",
    )
    .expect("bench model is valid")
    .model;
    let before = peak_rss_bytes();
    let result = capsim::run(&model, &[], Some(1));
    if let (Some(before), Some(after)) = (before, peak_rss_bytes()) {
        let backlog = result.clients[0].counts.in_flight_at_end;
        println!(
            "in flight: {backlog} requests at the end of an overloaded M/M/1; peak grew by {} bytes = {} per request (estimate: {} per job)",
            after.saturating_sub(before),
            after.saturating_sub(before) / backlog.max(1),
            capsim::model::memory::REQUEST_JOB_BYTES
        );
    }
}

/// Run `model` `rounds` times on `threads` threads; print the best events and requests per second.
fn measure(label: &str, model: &capsim::model::Model, threads: usize, rounds: usize) {
    let (best, result) = best_of(rounds, || capsim::run(model, &[], Some(threads)));
    let requests: u64 = result.clients.iter().map(|c| c.counts.started).sum();
    println!(
        "{label:<52} {:>12} events in {:>7.3} s  = {:>6.2} M events/s, {:>7.3} M requests/s ({:.1} events per request after the warm-up)",
        result.events,
        best,
        result.events as f64 / best / 1e6,
        requests as f64 / best / 1e6,
        result.events as f64 / requests.max(1) as f64
    );
}

fn main() {
    // `cargo test --benches` runs this binary with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { 5 };
    let duration = if quick { "10m" } else { "10h" };
    println!("capsim engine throughput (best of {rounds})");
    mm1_against_control(duration, rounds);
    if !quick {
        bytes_per_request_in_flight();
    }

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/quickstart.json");
    let quickstart = capsim::model::load_model(path).expect("quickstart model is valid").model;
    if quick {
        let mut short = quickstart.clone();
        short.duration_ns /= 12;
        short.warmup_ns /= 12;
        short.window_ns /= 12;
        measure(
            "quickstart, 5m, 10 replications, all cores",
            &short,
            rayon::current_num_threads(),
            1,
        );
    } else {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        measure("quickstart, 1h, 10 replications, 1 thread", &quickstart, 1, rounds);
        measure(
            &format!("quickstart, 1h, 10 replications, {threads} threads"),
            &quickstart,
            threads,
            rounds,
        );
    }
    if !quick {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/food-delivery.json");
        let scale = capsim::model::load_model(path).expect("food-delivery model is valid").model;
        measure("food-delivery (13 services), 1h, 2 replications, 1 thread", &scale, 1, rounds);
    }
    memory(&quickstart, quick);
    if !quick {
        sizing();
        metastability_map();
    }
}

/// `capsim metastability` on case study 2 (models/retry-stampede.json, 5 hours): its three trigger
/// families (reindex cores, website spike, a web instance down), the control, the recovery load
/// and the loop, on every core: simulations run, replications simulated and wall time.
fn metastability_map() {
    use capsim::workflow::metastability::{prepare, MapPlan};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/retry-stampede.json");
    let source = capsim::scenario::ModelSource::read(path).expect("case 2 model is readable");
    let prepared = prepare(&source, &MapPlan::default(), |_| {}).expect("the map is valid");
    let (took, map) = timed(|| prepared.run(&capsim::workflow::Runner::new(), |_| {}));
    let boundaries: Vec<String> = map.runs[0]
        .triggers
        .iter()
        .flat_map(|t| t.curves.iter().map(move |c| format!("{} {:?}", c.label, c.curve.boundary)))
        .collect();
    println!(
        "metastability map of case 2 (3 trigger families, recovery, loop): {} simulations, {} replications simulated in {took:.1} s; {}",
        map.simulations,
        map.replications_simulated,
        boundaries.join("; ")
    );
}

/// `capsim size` on the quickstart model (10 minutes, 5 replications): two knobs (API instances
/// 1..4 at 0.17 per hour, pgBouncer connections 1..12 at 0.01) under the baseline and two
/// scenarios (db-10ms-away, black-friday), on every core: simulations run, replications
/// simulated and wall time, against the 48 configurations × 3 runs of the full grid.
fn sizing() {
    use capsim::workflow::size::{prepare, KnobPlan, SizingPlan};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/quickstart.json");
    let source = capsim::scenario::ModelSource::read(path).expect("quickstart model is readable");
    let knob = |path: &str, values: &str, cost: f64| KnobPlan {
        path: path.into(),
        values: capsim::scenario::sweep::parse_values_text(values).expect("a range"),
        cost_per_hour: cost,
        origin: "bench".into(),
    };
    let plan = SizingPlan {
        knobs: vec![
            knob("services.api.instances", "1..4", 0.17),
            knob("pools.pgbouncer.size", "1..12", 0.01),
        ],
        scenarios: vec!["db-10ms-away".into(), "black-friday".into()],
        currency: "USD".into(),
        ..SizingPlan::default()
    };
    let short = |spec: &mut capsim::model::spec::ModelSpec| {
        spec.duration = Some(capsim::model::values::DurationValue(600_000_000_000));
        spec.warmup = Some(capsim::model::values::DurationValue(60_000_000_000));
        spec.replications = Some(capsim::model::values::PositiveInt(5));
    };
    let prepared = prepare(&source, &plan, short).expect("the sizing is valid");
    let (took, answer) = timed(|| prepared.run(&capsim::workflow::Runner::new(), None, |_| {}));
    let values: Vec<String> = answer
        .knobs
        .iter()
        .map(|k| format!("{}={}", k.path, k.value.as_deref().unwrap_or("-")))
        .collect();
    println!(
        "sizing quickstart (10m, 5 replications), 2 knobs x 3 runs: {} in {took:.1} s; {} simulations ({} configurations of {}), {} replications simulated; the full grid is {} simulations",
        values.join(", "),
        answer.simulations,
        answer.configurations,
        answer.grid,
        answer.replications_simulated,
        answer.grid as u64 * answer.runs.len() as u64
    );
}

/// Peak resident memory of this process so far, bytes (Linux; None elsewhere).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes per replication and per window-component: the estimate `limits.max_memory` is judged by,
/// and (with --bench) the peak measured for 1 and 3 replications of quickstart with 1 s windows
/// (3480 windows), one thread: replications are merged as they finish, so the peak holds the
/// running sums and the replication being simulated, not every replication's series (10,000
/// replications are measured in a process of their own by `tests/memory`).
fn memory(quickstart: &capsim::model::Model, quick: bool) {
    let mut fine = quickstart.clone();
    fine.window_ns = 1_000_000_000;
    fine.replications = 1;
    let need = capsim::model::memory::estimate(&fine);
    let components = need.windows * need.latency_series;
    let simulated = need.series_per_replication + need.histograms_per_replication;
    println!(
        "memory: estimated {simulated} bytes per replication being simulated, {} per window-component ({} windows × {} latency series); {} kept per merged replication",
        need.series_per_replication / components.max(1),
        need.windows,
        need.latency_series,
        need.kept_per_replication
    );
    if quick {
        return;
    }
    capsim::run(&fine, &[], Some(1));
    let one = peak_rss_bytes();
    fine.replications = 3;
    capsim::run(&fine, &[], Some(1));
    if let (Some(one), Some(three)) = (one, peak_rss_bytes()) {
        println!(
            "memory: measured peak {one} bytes at 1 replication, {three} at 3 ({} per window-component at 1); estimated {} and {}",
            one / components.max(1),
            need.total(1),
            capsim::model::memory::estimate(&fine).total(1)
        );
    }
}
