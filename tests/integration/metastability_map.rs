//! `capsim metastability`: the map of where a model tips over, proven against two peers'
//! simulators (Marc Brooker's collapse simulation, DesCartes' metastable retry storm), against
//! theory for a system without any loop, and on case study 2 with its fixes.

use capsim::analysis::metastability_map::{MetastabilityMap, RunMap};
use capsim::analysis::tip_over::{Boundary, Decision, Point};
use capsim::scenario::ModelSource;
use capsim::workflow::metastability::{prepare, MapPlan};
use capsim::workflow::Runner;

const MODELS: &str = "tests/integration/peers";

/// The map of `file` under `plan`, its model's settings changed by `configure` first.
fn map(file: &str, plan: &MapPlan, configure: impl Fn(&mut capsim::model::spec::ModelSpec)) -> MetastabilityMap {
    let source = ModelSource::read(file).expect("model reads");
    let prepared = prepare(&source, plan, configure).expect("the map's plan is valid");
    prepared.run(&Runner::new(), |_| {})
}

fn run<'m>(map: &'m MetastabilityMap, name: &str) -> &'m RunMap {
    map.runs
        .iter()
        .find(|r| r.run == name)
        .unwrap_or_else(|| panic!("no run {name}"))
}

/// The only point of a trigger tried at one size.
fn point<'m>(run: &'m RunMap, label: &str) -> &'m Point {
    let curve = run
        .triggers
        .iter()
        .flat_map(|t| &t.curves)
        .find(|c| c.label == label)
        .unwrap_or_else(|| panic!("no trigger {label}"));
    assert_eq!(curve.curve.points.len(), 1, "{label} is tried at one size");
    &curve.curve.points[0]
}

/// Whether shares k/n and p (measured on m runs) are consistent at 95 %: the two-proportion z
/// statistic is below 1.96.
fn consistent(k: u32, n: u32, p: f64, m: u32) -> bool {
    let q = f64::from(k) / f64::from(n);
    let se = (q * (1.0 - q) / f64::from(n) + p * (1.0 - p) / f64::from(m)).sqrt();
    (q - p).abs() <= 1.96 * se
}

#[test]
fn brookers_spike_tips_over_as_often_as_in_his_simulator_and_never_with_backoff_and_jitter() {
    // mbrooker/simulator_example, simple_collapse_sim/sim.py, run as written over 3000 seeds:
    // 2211 runs never come back after the spike (40 → 80 requests/s for 5 s), 73.7 % (Wilson
    // 95 %: 72.1–75.2 %); with backoff and jitter 0 of 1000. capsim runs his model (service time
    // 1 s + 10 ms per request in progress, fixed at its start; 3 s timeout; 3 attempts) with 400
    // replications per run; its share must be consistent with his (two-proportion z < 1.96).
    let plan = MapPlan {
        scenarios: vec!["backoff-and-jitter".into()],
        first_replications: Some(400),
        max_replications: Some(400),
        boundaries_only: true,
        ..MapPlan::default()
    };
    let m = map(&format!("{MODELS}/brooker-collapse.json"), &plan, |_| {});
    let spike = point(run(&m, "baseline"), "spike");
    let t = spike.tally;
    assert!(t.judged >= 380, "most replications are judged: {t:?}");
    assert!(
        consistent(t.tipped, t.judged, 0.737, 3000),
        "capsim {}/{} against Brooker's 73.7 %",
        t.tipped,
        t.judged
    );
    assert_eq!(spike.decision, Decision::Tips);
    // With backoff and jitter nothing tips over: the share staying down is no more than the
    // verdict's own false alarms (its design bound is 1 %), and the same as without a trigger.
    let backoff = point(run(&m, "backoff-and-jitter"), "spike");
    assert_eq!(backoff.decision, Decision::Holds, "{:?}", backoff.tally);
    assert!(backoff.ci95[0] <= 0.01, "{:?} {:?}", backoff.tally, backoff.ci95);
    let control = run(&m, "backoff-and-jitter").without_trigger.as_ref().expect("a control");
    assert!(
        consistent(
            backoff.tally.tipped,
            backoff.tally.judged,
            control.share,
            control.tally.judged
        ),
        "{:?} against {:?}",
        backoff.tally,
        control.tally
    );
}

#[test]
fn descartes_retry_storm_is_metastable_for_its_spike_and_the_map_finds_the_boundary() {
    // DesCartes' des-core/examples/metastable_retry_storm.rs: M/M/1/101 at λ = 9.3/s, μ = 10/s,
    // 4 s timeout from enqueue, 3 immediate retries, abandoned attempts still served, a spike to
    // 30/s for 5 s at 120 s. The spike leaves it down: at least half of the replications stay
    // down, with a CI above ½.
    let plan = MapPlan {
        first_replications: Some(64),
        max_replications: Some(64),
        boundaries_only: true,
        ..MapPlan::default()
    };
    let file = format!("{MODELS}/descartes-retry-storm.json");
    let m = map(&file, &plan, |_| {});
    let base = run(&m, "baseline");
    let spike = point(base, "spike_5s");
    assert_eq!(spike.decision, Decision::Tips, "{:?}", spike.tally);
    // At ρ = 0.93 about 6 % of attempts already time out, and their retries tip it over on its
    // own: over 280 s a re-implementation of the example (1500 runs) collapsed 55 % of the runs
    // still healthy at 120 s without any spike. The map says so (its control, no trigger, stays
    // down well above the verdict's false alarms), so the 400 s map puts the boundary at or below
    // the smallest spike.
    let control = base.without_trigger.as_ref().expect("a control");
    assert!(control.ci95[0] > 0.2, "{:?}", control.tally);
    let family = base.triggers.iter().find(|t| t.name == "spike").expect("the spike family");
    assert!(
        matches!(family.curves[0].curve.boundary, Boundary::AtOrBelow { .. }),
        "{:?}",
        family.curves[0].curve.boundary
    );
    // Judged 100 s after the spike instead (spontaneous collapse then ≈ 1 − e^(−0.003 × 100) ≈
    // 26 %), the small spikes come back and the boundary lies inside the range: a spike adds
    // 5 s × 9.3/s × (k − 1) requests, and ~40 queued requests make the wait exceed the timeout,
    // so k ≈ 1 + 40 / 46.5 ≈ 1.9.
    let short = map(&file, &plan, |spec| {
        spec.duration = Some(capsim::model::values::DurationValue(225_000_000_000));
    });
    let family = run(&short, "baseline")
        .triggers
        .iter()
        .find(|t| t.name == "spike")
        .expect("the spike family");
    match family.curves[0].curve.boundary {
        Boundary::Between { holds, tips } => assert!(holds >= 1.1 && tips <= 2.6 && holds < tips, "{holds} {tips}"),
        other => panic!("expected a boundary inside the range, got {other:?}"),
    }
}

#[test]
fn a_queue_without_retries_never_stays_down_after_any_trigger() {
    // M/M/1/50 at ρ = 0.5 with no timeout and no retry: once a trigger ends, the queue (at most
    // 50) drains at μ − λ = 50/s, within a second or two. Nothing can keep it down, and the map
    // must say so: no tip-over at any size tried, and no amplification mechanism in the model.
    let source = ModelSource::from_text(
        r#"{
      "name": "mm1-finite", "duration": "1h", "warmup": "1m", "window": "1m", "replications": 8, "seed": 3,
      "clients": { "arrivals": { "open": { "rate": "50/s" }, "calls": "server.serve" } },
      "services": { "server": { "workers": 1, "queue": { "capacity": 50 },
                                "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } },
      "metastability": { "metric": "server.queue", "triggers": {
        "spike": { "spike": {}, "size": [1.5, 20], "for": ["30s", "10m"] },
        "slowdown": { "slowdown": { "service": "server" }, "size": [1.5, 20], "for": "10m" }
      } }
    }"#
        .to_string(),
        "mm1-finite.json",
    )
    .expect("valid");
    let plan = MapPlan::default();
    let m = prepare(&source, &plan, |_| {})
        .expect("valid plan")
        .run(&Runner::new(), |_| {});
    assert!(m.mechanisms.is_empty(), "{:?}", m.mechanisms);
    let base = run(&m, "baseline");
    for t in &base.triggers {
        for c in &t.curves {
            assert!(
                matches!(c.curve.boundary, Boundary::Above { size } if size == 20.0),
                "{}: {:?}",
                c.label,
                c.curve.boundary
            );
        }
    }
    let text = capsim::report::metastability::map_text(&m);
    assert!(text.contains("no tip-over up to ×20"), "{text}");
    assert!(text.contains("nothing in it can keep a failure going"), "{text}");
}

#[test]
fn case_2_stampede_tips_over_and_every_fix_moves_the_boundary_up() {
    // Case study 2 as configured: the reindex takes 6 of the search cluster's 10 cores for 10
    // minutes while the 05:00 burst is delivered, and the storm outlives both. The map of the
    // reindex size (cores taken) puts the boundary at 6 or below; each fix the incident report
    // lists (stop when the caller gives up, dedupe with a completed check, a visibility timeout
    // the daemon waits for, fewer receives, fewer connections) needs a larger reindex to tip it,
    // or none in range.
    let plan = MapPlan {
        scenarios: vec![
            "stop-when-caller-gives-up".into(),
            "dedupe-and-completed-check".into(),
            "visibility-5m".into(),
            "fewer-receives".into(),
            "lower-concurrency".into(),
        ],
        boundaries_only: true,
        ..MapPlan::default()
    };
    let m = map("models/retry-stampede.json", &plan, |_| {});
    let reindex = |run: &RunMap| -> f64 {
        let t = run
            .triggers
            .iter()
            .find(|t| t.name == "reindex")
            .expect("the reindex trigger");
        t.curves[0].curve.boundary.tipping_size()
    };
    let base = reindex(run(&m, "baseline"));
    assert!(base <= 6.0, "as configured (6 cores) the stampede tips over: boundary {base}");
    for fix in &plan.scenarios {
        let moved = reindex(run(&m, fix));
        assert!(moved > base, "{fix}: tips at {moved}, baseline at {base}");
    }
}

/// A small model whose spike tips it over: DesCartes' retry storm judged 100 s after its spike.
fn descartes() -> String {
    format!("{MODELS}/descartes-retry-storm.json")
}

#[test]
fn the_map_is_byte_identical_whatever_the_thread_count() {
    let dir = crate::scratch_dir("metastability-threads");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let json = dir.join(format!("map-{threads}.json"));
        crate::capsim(&[
            "metastability",
            &descartes(),
            "--duration",
            "225s",
            "--threads",
            threads,
            "--quiet",
            "--json",
            json.to_str().unwrap(),
        ])
        .expect_code(0);
        outputs.push(std::fs::read(&json).expect("the map's JSON is written"));
    }
    assert_eq!(outputs[0], outputs[1]);
    let map: serde_json::Value = serde_json::from_slice(&outputs[0]).expect("JSON");
    assert!(map["simulations"].as_u64().unwrap() > 3, "{}", map["simulations"]);
    assert_eq!(map["runs"][0]["triggers"][0]["curves"][0]["label"], "spike_5s");
    assert!(map["stopped"].is_null());
}

#[test]
fn the_report_has_the_boundaries_the_plot_and_every_size_tried() {
    let dir = crate::scratch_dir("metastability-report");
    let report = dir.join("report");
    crate::capsim(&[
        "metastability",
        &descartes(),
        "--duration",
        "225s",
        "--boundaries-only",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ])
    .expect_code(0);
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert!(html.contains("tips over between ×"), "the boundary is stated");
    assert!(html.contains("<svg"), "the plot is inline");
    let svg = std::fs::read_to_string(report.join("metastability.svg")).expect("the plot's SVG");
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let csv = std::fs::read_to_string(report.join("metastability.csv")).expect("metastability.csv");
    let rows = csv.lines().count() - 1;
    let map: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap()).expect("results.json");
    let tried: usize = map["runs"][0]["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["curves"].as_array().unwrap())
        .map(|c| c["curve"]["points"].as_array().unwrap().len())
        .sum();
    assert_eq!(rows, tried + 1, "one CSV row per size tried, and the control");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("baseline,without a trigger,control,"),
        "{csv}"
    );
}

#[test]
fn bad_triggers_are_refused_before_anything_runs_naming_their_path() {
    let dir = crate::scratch_dir("metastability-bad");
    let cases: &[(&str, &str)] = &[
        (
            r#""triggers": { "x": { "size": 2, "for": "5s" } }"#,
            "metastability.triggers.x: expected exactly one of",
        ),
        (
            r#""triggers": { "x": { "spike": { "clients": ["nobody"] }, "size": 2, "for": "5s" } }"#,
            "metastability.triggers.x.spike.clients: no open client named \"nobody\"",
        ),
        (
            r#""triggers": { "x": { "latency": { "link": "a -> b" }, "size": "1s", "for": "5s" } }"#,
            "metastability.triggers.x.latency.link: no link \"a -> b\"",
        ),
        (
            r#""triggers": { "x": { "spike": {}, "size": [3, 2], "for": "5s" } }"#,
            "metastability.triggers.x.size: expected [smallest, largest] in increasing order",
        ),
        (
            r#""triggers": { "x": { "spike": {}, "size": "big", "for": "5s" } }"#,
            "metastability.triggers.x.size: expected a factor",
        ),
        (
            r#""triggers": { "x": { "spike": {}, "size": [2, 1000001], "for": "5s" } }"#,
            "metastability.triggers.x.size[1]: expected a factor (a number above 0 and at most 1000000",
        ),
        (
            r#""triggers": { "x": { "spike": {}, "size": 2 } }"#,
            "metastability.triggers.x.for: expected how long the trigger lasts",
        ),
        (
            r#""triggers": { "x": { "down": { "service": "server" }, "size": "1m", "for": "5s" } }"#,
            "metastability.triggers.x.for: a down trigger's size is how long it lasts",
        ),
        (
            r#""triggers": { "x": { "cores": { "database": "pg" }, "size": 1, "for": "5s" } }"#,
            "metastability.triggers.x.cores.database: no database named \"pg\"",
        ),
        (
            r#""triggers": { "x": { "spike": {}, "size": 2, "for": "1h" } }"#,
            "metastability.triggers.x: the trigger ends at",
        ),
        (
            r#""at": "1s", "triggers": { "x": { "spike": {}, "size": 2, "for": "5s" } }"#,
            "metastability.at: the triggers start at 1s",
        ),
    ];
    for (i, (section, message)) in cases.iter().enumerate() {
        let model = dir.join(format!("bad-{i}.json"));
        std::fs::write(
            &model,
            format!(
                r#"{{ "duration": "400s", "warmup": "10s", "window": "10s",
                  "clients": {{ "c": {{ "open": {{ "rate": "9/s" }}, "calls": "server.serve" }} }},
                  "services": {{ "server": {{ "endpoints": {{ "serve": [ {{ "cpu": "exp(100ms)" }} ] }} }} }},
                  "metastability": {{ "metric": "server.queue", {section} }} }}"#
            ),
        )
        .unwrap();
        for command in ["metastability", "validate"] {
            crate::capsim(&[command, model.to_str().unwrap()])
                .expect_code(2)
                .stderr_has(message);
        }
    }
    // No metric to watch: the model has no metastability section and no --metric is given.
    crate::capsim(&["metastability", crate::example("mm1.json").to_str().unwrap()])
        .expect_code(2)
        .stderr_has("metastability.metric: the model watches no metric");
    crate::capsim(&["metastability", &descartes(), "--max-replications", "0"])
        .expect_code(2)
        .stderr_has("--max-replications: expected a positive integer");
    crate::capsim(&["metastability", &descartes(), "--replications", "5"])
        .expect_code(2)
        .stderr_has("--replications: the map chooses the replications of each trigger size");
}

#[test]
fn check_judges_claims_on_the_map_and_refuses_ones_it_cannot_have() {
    // Case 2's model states the incident and a fix as claims about the map.
    crate::capsim(&["check", "models/retry-stampede.json"])
        .expect_code(0)
        .stdout_has("PASS  metastability.reindex.boundary <= 6")
        .stdout_has("PASS  metastability.reindex.boundary > 10 [stop-when-caller-gives-up]");
    let dir = crate::scratch_dir("metastability-claims");
    let model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(descartes()).unwrap()).unwrap();
    for (that, message) in [
        (
            "metastability.spike.tip_over < 5%",
            "is tried over a range of sizes, so it has a boundary",
        ),
        (
            "metastability.spike_5s.boundary > 2",
            "is tried at one size, so it has a tip-over share",
        ),
        ("metastability.nothing.tip_over < 5%", "no trigger \"nothing\""),
        ("metastability.spike_5s.tip_over < lots", "expected a share like \"5%\""),
    ] {
        let mut m = model.clone();
        m["expect"] = serde_json::json!([{ "that": that }]);
        let file = dir.join("claim.json");
        std::fs::write(&file, m.to_string()).unwrap();
        crate::capsim(&["check", file.to_str().unwrap()])
            .expect_code(2)
            .stderr_has(message);
    }
    // A claim that fails: the spike does tip it over.
    let mut m = model.clone();
    m["expect"] = serde_json::json!([{ "that": "metastability.spike_5s.tip_over < 5%" }]);
    let file = dir.join("fails.json");
    std::fs::write(&file, m.to_string()).unwrap();
    crate::capsim(&["check", file.to_str().unwrap(), "--duration", "225s"])
        .expect_code(1)
        .stdout_has("FAIL  metastability.spike_5s.tip_over < 5%");
}

#[test]
fn an_interrupted_map_says_it_is_partial_everywhere() {
    // A wall-clock limit of 1 ms stops the first simulation: whatever the machine, the map is cut.
    let dir = crate::scratch_dir("metastability-partial");
    let json = dir.join("map.json");
    crate::capsim(&[
        "metastability",
        &descartes(),
        "--max-wall",
        "1ms",
        "--json",
        json.to_str().unwrap(),
    ])
    .expect_code(3)
    .stdout_has("PARTIAL: interrupted");
    let map: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("JSON");
    assert!(map["stopped"].as_str().unwrap().contains("interrupted"), "{}", map["stopped"]);
}

#[test]
fn a_storm_comes_back_only_well_below_the_load_that_tipped_it_and_its_loop_is_named() {
    // DesCartes' storm after its spike: at the normal load it stays down, so the load that
    // brings it back is a fraction of normal below 1 (hysteresis), held for a time found in whole
    // windows; what keeps it down is the model's own loop — immediate retries at the client and
    // the server finishing attempts whose caller gave up — both far above their share before the
    // trigger.
    let m = map(&descartes(), &MapPlan::default(), |_| {});
    let base = run(&m, "baseline");
    let recovery = base.recovery.as_ref().expect("a recovery load");
    let Boundary::Between { holds, tips } = recovery.curve.boundary else {
        panic!("expected a recovery load inside (0, 1): {:?}", recovery.curve.boundary)
    };
    assert!(0.0 < holds && holds < tips && tips < 1.0, "{holds} {tips}");
    let shortest = recovery.shortest.as_ref().expect("how long the load must stay lowered");
    assert_eq!(shortest.share, holds);
    assert!(shortest.enough_s <= recovery.lowered_for_s);
    let edges: Vec<&str> = base.sustained_by.iter().map(|e| e.edge.as_str()).collect();
    for edge in ["retries at client clients", "work for callers who gave up in server"] {
        let found = base
            .sustained_by
            .iter()
            .find(|e| e.edge == edge)
            .unwrap_or_else(|| panic!("{edge} not in {edges:?}"));
        assert!(
            found.down_share >= 2.0 * found.normal_share && found.down_share > 0.3,
            "{found:?}"
        );
    }
}

#[test]
fn a_backlog_still_draining_at_the_end_tips_where_the_fluid_model_says_and_is_called_draining() {
    // M/M/1 at ρ = 0.8 (80/s, 10 ms) with an unbounded queue, watched on its queue; a spike ×k for
    // 5 min from 700 s (the warm-up of 2 min and 10 windows of 58 s) to 1000 s. Fluid model: the
    // spike leaves a backlog of (80k − 100) × 300 requests, drained at μ − λ = 20/s. The run ends
    // at 3600 s; the last window starts at 3542 s, and the replication is called down when even
    // the last windows are worse than the band: when the backlog outlasts 2542 s, i.e.
    // (80k − 100) × 300 / 20 > 2542, k > 3.369. (The noise of the arrivals and services over
    // that time moves it by about 1 %.) The map's boundary must bracket it — and say that with
    // nothing in the model to keep it down, this is a backlog draining, not a failure that stays.
    let source = ModelSource::read("models/mm1.json").expect("mm1");
    let plan = MapPlan {
        metric: Some("server.queue".into()),
        boundaries_only: true,
        ..MapPlan::default()
    };
    let m = prepare(&source, &plan, |_| {}).expect("valid").run(&Runner::new(), |_| {});
    let base = run(&m, "baseline");
    let curve = base
        .triggers
        .iter()
        .flat_map(|t| &t.curves)
        .find(|c| c.label == "spike_5min")
        .expect("the 5-minute spike");
    let k = (100.0 + 2542.0 * 20.0 / 300.0) / 80.0;
    match curve.curve.boundary {
        Boundary::Between { holds, tips } => {
            assert!(
                holds < k * 1.02 && tips > k * 0.98,
                "fluid threshold {k:.3}, map {holds}–{tips}"
            )
        }
        other => panic!("expected a boundary around {k:.3}, got {other:?}"),
    }
    assert!(m.mechanisms.is_empty());
    assert!(
        base.notes.iter().any(|n| n.contains("a backlog still draining")),
        "{:?}",
        base.notes
    );
}

#[test]
fn a_claim_on_a_map_cut_short_before_its_trigger_ran_is_not_judged() {
    // 1 ms of wall time stops the first simulation: the claim's trigger has no size tried.
    let dir = crate::scratch_dir("metastability-claim-cut");
    let mut model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(descartes()).unwrap()).unwrap();
    model["expect"] = serde_json::json!([{ "that": "metastability.spike_5s.tip_over > 50%" }]);
    let file = dir.join("claim.json");
    std::fs::write(&file, model.to_string()).unwrap();
    crate::capsim(&["check", file.to_str().unwrap(), "--max-wall", "1ms"])
        .expect_code(3)
        .stdout_has("not judged");
}
