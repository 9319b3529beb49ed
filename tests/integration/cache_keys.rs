//! Caches with a key space, against theory worked out before the runs: an LRU cache under Zipf
//! popularity against Che's approximation, a TTL cache against the renewal argument (with and
//! without coalescing), and the stampede after a flush against the chance that a key is looked
//! up again. Tolerances are the replications' 95 % confidence intervals, plus a stated allowance
//! where the theory is an approximation.

use capsim::model::parse_model;
use capsim::results::{metric, RunResult};

fn run(text: &str) -> RunResult {
    let validated = parse_model(text, "test.json").unwrap_or_else(|e| panic!("{e}"));
    capsim::run(&validated.model, &[], Some(2))
}

/// Open Poisson traffic at `rate` to `api.get`, whose one step calls `db.get` (`backend`: its
/// steps) behind `cache`; `rest` adds top-level settings.
fn model(settings: &str, rate: &str, cache: &str, backend: &str, rest: &str) -> String {
    format!(
        r#"{{ {settings},
  "clients": {{ "c": {{ "open": {{ "rate": "{rate}" }}, "calls": "api.get" }} }},
  "services": {{
    "api": {{ "workers": 100000, "endpoints": {{ "get": [ {{ "call": "db.get", "cache": {cache} }} ] }} }},
    "db": {{ "workers": 100000, "endpoints": {{ "get": {backend} }} }}
  }}
  {rest} }}"#
    )
}

/// Che's approximation of an LRU cache of `capacity` entries under the independent reference
/// model with popularities `p`: the characteristic time t_C solves Σ_i (1 − e^(−p_i t_C)) = C
/// (in units of look-ups, found by bisection), and the hit ratio is Σ_i p_i (1 − e^(−p_i t_C)).
fn che_hit_ratio(p: &[f64], capacity: f64) -> f64 {
    let occupancy = |t: f64| p.iter().map(|pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e12);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if occupancy(mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|pi| pi * (1.0 - (-pi * lo).exp())).sum()
}

#[test]
fn an_lru_cache_under_zipf_popularity_hits_as_ches_approximation_says() {
    // N = 10,000 keys, Zipf s = 0.8, C = 1,000 entries: key i (from 1) has p_i ∝ i^−0.8. Che's
    // approximation is asymptotically exact (Fricker, Robert & Roberts 2012) and within a few
    // 1e-4 at this size: an independent LRU simulation (Python, OrderedDict, 1.4 M look-ups)
    // measured 0.43687 where Che gives 0.43666. The allowance of 0.003 covers that error ten
    // times over. The backend answers in 1 µs, so no look-up meets a fill in flight to speak
    // of; the warm-up (30,000 look-ups, 30 × C) fills the cache.
    let (n, s, c) = (10_000usize, 0.8, 1_000.0);
    let weights: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let expected = che_hit_ratio(&p, c);
    assert!((expected - 0.43666).abs() < 1e-4, "Che: {expected}");
    let r = run(&model(
        r#""duration": "130s", "warmup": "30s", "replications": 10, "seed": 7"#,
        "1000/s",
        r#"{ "keys": 10000, "popularity": "zipf(0.8)", "capacity": 1000 }"#,
        r#"[ { "cpu": "1us" } ]"#,
        "",
    ));
    let cache = &r.caches[0];
    assert_eq!(cache.name, "api.get[0]");
    let measured = &cache.hit_ratio;
    let allowance = 0.003;
    assert!(
        (measured.mean - expected).abs() <= measured.ci95 + allowance,
        "hit ratio {} ± {} vs Che {expected}",
        measured.mean,
        measured.ci95
    );
    // Every miss fills a key: once full, each miss evicts one entry.
    assert!(cache.evictions > 0 && cache.evictions <= cache.misses);
    // `capsim check` reads the same number by name.
    let by_name = metric::resolve(&r, "api.get[0].hit_ratio").unwrap();
    assert_eq!(by_name.estimate.mean, measured.mean);
}

/// One key with a TTL of `ttl`, behind a backend that takes `fill` (deterministic), at `rate`.
fn ttl_model(rate: &str, ttl: &str, fill: &str, coalesce: bool) -> String {
    model(
        r#""duration": "660s", "warmup": "60s", "replications": 4, "seed": 5"#,
        rate,
        &format!(r#"{{ "keys": 1, "ttl": "{ttl}", "coalesce": {coalesce} }}"#),
        &format!(r#"[ {{ "delay": "{fill}" }} ]"#),
        "",
    )
}

#[test]
fn a_ttl_cache_of_one_key_hits_lambda_t_over_one_plus_lambda_t_when_fills_are_instant() {
    // Renewal argument: a cycle starts with a miss; the entry is filled at once and lives T, in
    // which λT look-ups hit; the next look-up after it misses. Hit ratio λT / (1 + λT): with
    // λ = 10/s and T = 100 ms, 1/2. The fill takes 1 µs (λd = 1e-5 of a miss per cycle). The
    // allowance (0.002) covers the cycle cut at each end of the 600 s measured (~300 cycles).
    let r = run(&ttl_model("10/s", "100ms", "1us", false));
    let h = &r.caches[0].hit_ratio;
    let expected = 1.0 / (1.0 + 1.0);
    assert!(
        (h.mean - expected).abs() <= h.ci95 + 0.002,
        "{} ± {} vs {expected}",
        h.mean,
        h.ci95
    );
    assert_eq!(r.caches[0].coalesced, 0);
}

#[test]
fn a_ttl_cache_whose_fill_takes_d_misses_lambda_d_more_per_cycle_without_coalescing() {
    // λ = 100/s, T = 1 s, d = 200 ms. A cycle: one miss at its start, λd = 20 more misses while
    // the fill is in flight (each goes to the backend; their later answers find a fresh entry
    // and change nothing, since T > d), then λT = 100 hits until the entry expires, then on
    // average 1/λ until the next look-up. Hit ratio λT / (1 + λd + λT) = 100/121; backend calls
    // per second (1 + λd) / (1/λ + d + T) = 21 / 1.21.
    let r = run(&ttl_model("100/s", "1s", "200ms", false));
    let cache = &r.caches[0];
    let h = &cache.hit_ratio;
    let expected = 100.0 / 121.0;
    assert!(
        (h.mean - expected).abs() <= h.ci95 + 0.002,
        "{} ± {} vs {expected}",
        h.mean,
        h.ci95
    );
    let calls = &cache.misses_per_s;
    let expected_calls = 21.0 / 1.21;
    // Allowance: one cycle's misses (21) over the 600 s measured.
    assert!(
        (calls.mean - expected_calls).abs() <= calls.ci95 + 21.0 / 600.0,
        "{} ± {} vs {expected_calls}",
        calls.mean,
        calls.ci95
    );
    assert_eq!(cache.coalesced, 0);
}

#[test]
fn with_coalescing_the_misses_during_a_fill_wait_for_it_and_the_backend_sees_one_call_per_cycle() {
    // The same cycle, but the λd look-ups during the fill wait for it (coalesced) and are
    // answered with it: per cycle 1 backend call, λd = 20 coalesced waits, λT = 100 hits. Hit
    // ratio still λT / (1 + λd + λT) = 100/121; the backend's call rate 1 / (1/λ + d + T) =
    // 1/1.21 per second; coalesced waits λd / (1/λ + d + T) = 20/1.21 per second.
    let r = run(&ttl_model("100/s", "1s", "200ms", true));
    let cache = &r.caches[0];
    let within = |e: &capsim::stats::Estimate, expected: f64, allowance: f64, what: &str| {
        assert!(
            (e.mean - expected).abs() <= e.ci95 + allowance,
            "{what}: {} ± {} vs {expected}",
            e.mean,
            e.ci95
        );
    };
    within(&cache.hit_ratio, 100.0 / 121.0, 0.002, "hit ratio");
    // Allowances: one cycle's worth over the 600 s measured.
    within(&cache.misses_per_s, 1.0 / 1.21, 1.0 / 600.0, "backend calls per second");
    within(
        &cache.coalesced_per_s,
        20.0 / 1.21,
        20.0 / 600.0,
        "coalesced waits per second",
    );
    // The backend endpoint sees exactly the misses.
    let backend = r.endpoints.iter().find(|e| e.name == "db.get").unwrap();
    within(&backend.throughput_per_s, 1.0 / 1.21, 1.0 / 600.0, "db.get throughput");
    // Every look-up was answered: the waiters with the fill's answer.
    assert_eq!(r.endpoints[0].counts.errors, 0);
}

#[test]
fn a_flush_empties_the_cache_and_the_next_window_misses_once_per_key_looked_up() {
    // 1,000 keys looked up uniformly at 1,000/s, all held from the start (warm, unbounded, no
    // TTL): no miss before the flush at 10 s. After it, a key misses at its first look-up only
    // (the fill takes 1 µs), so window [10 s, 11 s) misses once per key looked up in it: each key
    // is looked up a Poisson(1) number of times, so N (1 − e^−1) = 632.1 misses expected
    // (binomial, sd 15.2 per replication), and [11 s, 12 s) misses the keys first looked up then:
    // N e^−1 (1 − e^−1) = 232.5 (sd 13.4). With 10 replications the mean's sd is sd / √10; the
    // bounds are 4 of those.
    let r = run(&model(
        r#""duration": "20s", "warmup": "0s", "window": "1s", "replications": 10, "seed": 3"#,
        "1000/s",
        r#"{ "name": "menu", "keys": 1000, "warm": true }"#,
        r#"[ { "cpu": "1us" } ]"#,
        r#", "actions": [ { "at": "10s", "flush": { "cache": "menu" } } ]"#,
    ));
    let cache = &r.caches[0];
    assert_eq!(cache.name, "menu");
    let w = &cache.series;
    assert_eq!(w[10].start_s, 10.0);
    for before in &w[..10] {
        assert_eq!(before.hit_ratio, 1.0, "window at {} s", before.start_s);
        assert_eq!(before.misses_per_s, 0.0);
    }
    let e1 = (-1f64).exp();
    let first = 1000.0 * (1.0 - e1);
    let second = 1000.0 * e1 * (1.0 - e1);
    let sd = |p: f64| (1000.0 * p * (1.0 - p)).sqrt() / 10f64.sqrt();
    assert!(
        (w[10].misses_per_s - first).abs() <= 4.0 * sd(1.0 - e1),
        "{} vs {first}",
        w[10].misses_per_s
    );
    assert!(
        (w[11].misses_per_s - second).abs() <= 4.0 * sd(e1 * (1.0 - e1)),
        "{} vs {second}",
        w[11].misses_per_s
    );
    // Hits drop in the window after the flush: 1 − 632/1000 of the look-ups.
    assert!(w[10].hit_ratio < 0.45 && w[10].hit_ratio > 0.30, "{}", w[10].hit_ratio);
    // The stampede is the backend's traffic: db.get answers each miss.
    let backend = r.endpoints.iter().find(|e| e.name == "db.get").unwrap();
    assert!((backend.series[10].throughput_per_s - w[10].misses_per_s).abs() < 1.0);
    assert_eq!(r.model.actions[0].what, "menu cache flushed");
    // And per window by name, as plots and `capsim check` read it.
    let series = metric::series(&r, "menu.hit_ratio").unwrap();
    assert_eq!(series[10], (10.0, w[10].hit_ratio));
}

#[test]
fn two_endpoints_naming_one_cache_share_its_entries() {
    // A single key, unbounded, no TTL: the first look-up (of either endpoint) misses and fills
    // it; every later look-up of both endpoints hits. One cache is reported, with every look-up.
    let text = r#"{ "duration": "10s", "warmup": "0s", "replications": 1,
      "clients": {
        "a": { "open": { "rate": "50/s" }, "calls": "api.menu" },
        "b": { "open": { "rate": "50/s" }, "calls": "api.dish" }
      },
      "services": {
        "api": { "workers": 1000, "endpoints": {
          "menu": [ { "call": "db.get", "cache": { "name": "menu", "keys": 1 } } ],
          "dish": [ { "call": "db.get", "cache": { "name": "menu", "keys": 1 } } ]
        } },
        "db": { "workers": 1000, "endpoints": { "get": [ { "cpu": "1us" } ] } }
      } }"#;
    let r = run(text);
    assert_eq!(r.caches.len(), 1);
    let cache = &r.caches[0];
    assert_eq!(cache.misses, 1);
    let lookups: u64 = r.endpoints[..2]
        .iter()
        .map(|e| {
            let c = e.cache.as_ref().unwrap();
            c.hits + c.misses
        })
        .sum();
    assert_eq!(cache.hits + cache.misses, lookups);
}

#[test]
fn a_model_without_key_spaces_writes_no_caches_field() {
    let r = run(&model(
        r#""duration": "10s", "warmup": "0s", "replications": 1"#,
        "10/s",
        r#"{ "hit_ratio": 0.5 }"#,
        r#"[ { "cpu": "1ms" } ]"#,
        "",
    ));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("\"caches\""));
}
