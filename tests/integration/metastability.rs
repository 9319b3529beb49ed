//! The metastability verdict: baseline first, persistence on the worse side, per replication
//! with the share that tipped over, and load profiles judged against the run without the trigger.

use capsim::results::metastability::Status;
use capsim::results::RunResult;

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "metastability.json").expect("valid model");
    capsim::run(&validated.model, &[], Some(1))
}

#[test]
fn a_system_collapsed_before_the_trigger_is_not_called_stable() {
    // One worker, 10 ms per request (μ = 100/s), 120 requests/s (ρ = 1.2): the queue grows by
    // 20 requests/s from the start and the worker is busy all the time. The trigger at 15 m adds
    // 10 % traffic for two minutes. Against a band made of a saturated baseline, the utilisation
    // (pinned at 1) never leaves it — today's "stable" — and the latency keeps climbing through
    // the trigger — which is no verdict on the trigger either.
    let model = |metric: &str| {
        format!(
            r#"{{
      "duration": "30m", "warmup": "1m", "window": "1m", "replications": 2, "seed": 5,
      "clients": {{ "web": {{ "open": {{ "rate": "120/s" }}, "calls": "api.get" }} }},
      "services": {{ "api": {{ "workers": 1, "endpoints": {{ "get": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
      "actions": [ {{ "at": "15m", "for": "2m", "scale_traffic": {{ "client": "web", "factor": 1.1 }} }} ],
      "metastability": {{ "metric": "{metric}" }}
    }}"#
        )
    };
    for metric in ["api.utilisation", "web.p50"] {
        let m = run(&model(metric)).metastability.expect("a verdict");
        assert_eq!(m.status, Status::BaselineUnhealthy, "{metric}: {}", m.text);
        assert!(m.text.starts_with("baseline not healthy"), "{}", m.text);
        assert_eq!(m.judged, 0, "{}", m.text);
    }
}

#[test]
fn a_recovered_system_is_rarely_called_metastable_within_a_binomial_bound() {
    // M/M/1 at ρ = 0.5 (5 requests/s, 100 ms each), watched on its queue: a noisy metric, as
    // a minute of five arrivals a second makes it. Traffic ×1.6 for 2 minutes at 20 m (ρ = 0.8),
    // then 18 more minutes at ρ = 0.5: the system comes back in every replication. With 19
    // baseline windows the persistence rule needs K = 3 windows in a row, whose false-alarm
    // chance for exchangeable windows is 1/C(22, 3) = 1/1540; the design bound is 1 %. 200
    // single-replication runs (seeds 1…200): the share called metastable must be consistent with
    // at most 1 %, i.e. the lower end of its Wilson interval at most 0.01. (The last window alone
    // deciding against the two-sided band — the rule before — called 12 of these 200 runs
    // metastable: 6 %, Wilson interval 3.5–10 %.)
    let runs = 200;
    let mut unhealthy = 0;
    let metastable = (1..=runs)
        .filter(|seed| {
            let r = run(&format!(
                r#"{{
      "duration": "40m", "warmup": "1m", "window": "1m", "replications": 1, "seed": {seed},
      "clients": {{ "web": {{ "open": {{ "rate": "5/s" }}, "calls": "api.get" }} }},
      "services": {{ "api": {{ "workers": 1, "endpoints": {{ "get": [ {{ "cpu": "exp(100ms)" }} ] }} }} }},
      "actions": [ {{ "at": "20m", "for": "2m", "scale_traffic": {{ "client": "web", "factor": 1.6 }} }} ],
      "metastability": {{ "metric": "api.queue" }}
    }}"#
            ));
            let m = r.metastability.expect("a verdict");
            unhealthy += u64::from(m.status == Status::BaselineUnhealthy);
            m.status == Status::Metastable
        })
        .count() as u64;
    let [low, _] = capsim::stats::wilson_interval(metastable, runs);
    assert!(low <= 0.01, "{metastable} of {runs} recovered runs called metastable");
    // The baseline's drift test must not call a stationary queue unhealthy often either.
    let [low, _] = capsim::stats::wilson_interval(unhealthy, runs);
    assert!(low <= 0.01, "{unhealthy} of {runs} stationary baselines called unhealthy");
}

#[test]
fn the_share_that_tipped_over_is_per_replication_with_its_wilson_interval() {
    // Retry stampede (case study 2) on 4 replications: each replication is judged on its own,
    // and the share comes with the Wilson interval of tipped / judged.
    let validated = capsim::model::load_model(super::example("retry-stampede.json").to_str().unwrap())
        .expect("the case study is a valid model");
    let r = capsim::run(&validated.model, &[], None);
    let m = r.metastability.expect("a verdict");
    assert_eq!(m.status, Status::Metastable, "{}", m.text);
    assert_eq!(m.replications.len(), 4);
    let tipped = m.replications.iter().filter(|r| r.status == Status::Metastable).count() as u32;
    assert_eq!((m.tipped, m.judged), (tipped, 4));
    assert!(
        m.text.contains(&format!("METASTABLE in {tipped} of 4 replications")),
        "{}",
        m.text
    );
    assert_eq!(m.tipped_share_ci95, capsim::stats::wilson_interval(u64::from(tipped), 4));
    assert_eq!(m.judged_against, "baseline band");
}

#[test]
fn a_harmless_trigger_on_a_morning_ramp_is_not_metastable() {
    // Traffic ramps from 30 % of its peak at the start to the peak at 30 m and holds: 4 workers
    // at 50 ms (80/s) serving 18/s rising to 60/s (ρ from 0.23 to 0.75, never saturated). At 12 m
    // traffic is raised 20 % for 2 minutes (ρ ≤ 0.6 meanwhile): harmless. Against a flat band
    // from the first 10 minutes the end of the run (ρ = 0.75 against a band topping at about
    // 0.4) would look like a collapse that never ends; against the same windows of the run
    // without the trigger it is what the ramp does anyway.
    let model = r#"{
      "duration": "60m", "warmup": "2m", "window": "1m", "replications": 4, "seed": 11,
      "clients": { "web": { "open": { "rate": "60/s",
          "profile": { "points": [ { "at": "0s", "factor": 0.3 }, { "at": "30m", "factor": 1.0 } ] } },
        "calls": "api.get" } },
      "services": { "api": { "workers": 4, "endpoints": { "get": [ { "cpu": "exp(50ms)" } ] } } },
      "actions": [ { "at": "12m", "for": "2m", "scale_traffic": { "client": "web", "factor": 1.2 } } ],
      "metastability": { "metric": "api.utilisation" }
    }"#;
    let m = run(model).metastability.expect("a verdict");
    assert_eq!(m.judged_against, "run without the trigger");
    assert!(m.status == Status::Stable || m.status == Status::Recovered, "{}", m.text);
    assert_eq!(m.tipped, 0, "{}", m.text);
    // The run without the trigger is part of the run: still the same bytes on one thread or two.
    let validated = capsim::model::parse_model(model, "ramp.json").unwrap();
    let json = |threads| serde_json::to_string(&capsim::run(&validated.model, &[], Some(threads))).unwrap();
    assert!(json(1) == json(2), "one and two threads differ");
}
