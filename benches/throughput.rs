//! Engine throughput: events per second on M/M/1 at ρ = 0.8 (one core) and on the quickstart
//! model (1 hour, 10 replications, all cores). Run with `cargo bench`; nothing here asserts on time.

use std::time::Instant;

/// M/M/1 at ρ = 0.8: arrivals at 80/s, exponential service of mean 10 ms.
const MM1: &str = r#"{
  "name": "mm1-bench", "duration": "DURATION", "warmup": "1m", "replications": 1, "seed": 1,
  "clients": { "arrivals": { "open": { "rate": "80/s" }, "calls": "server.serve" } },
  "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } }
}"#;

fn mm1(duration: &str) -> capsim::model::Model {
    capsim::model::parse_model(&MM1.replace("DURATION", duration), "mm1-bench.json")
        .expect("bench model is valid")
        .model
}

/// Run `model` `rounds` times on `threads` threads; print the best events/second.
fn measure(label: &str, model: &capsim::model::Model, threads: usize, rounds: usize) {
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let result = capsim::run(model, &[], Some(threads));
        best = best.min(start.elapsed().as_secs_f64());
        events = result.events;
    }
    println!(
        "{label:<52} {:>12} events in {:>7.3} s  = {:>6.2} M events/s",
        events,
        best,
        events as f64 / best / 1e6
    );
}

fn main() {
    // `cargo test --benches` runs this binary with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { 3 };
    let duration = if quick { "10m" } else { "10h" };
    println!("capsim engine throughput (best of {rounds})");
    measure(
        &format!("M/M/1 rho=0.8, {duration}, 1 replication, 1 thread"),
        &mm1(duration),
        1,
        rounds,
    );

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
    memory(&quickstart, quick);
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
/// (3480 windows), one thread — replications merged as they finish, the peak grows by what a
/// merged replication keeps, not by its series — and for 10,000 one-minute replications.
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
    let mut many = quickstart.clone();
    many.replications = 10_000;
    many.duration_ns = 60_000_000_000;
    many.warmup_ns = 10_000_000_000;
    let before = peak_rss_bytes();
    capsim::run(&many, &[], None);
    if let (Some(before), Some(after)) = (before, peak_rss_bytes()) {
        let need = capsim::model::memory::estimate(&many);
        println!(
            "memory: 10,000 replications of quickstart (1m): peak {after} bytes (was {before} before them); estimated {} with {} threads",
            need.total(rayon::current_num_threads() as u64),
            rayon::current_num_threads()
        );
    }
}
