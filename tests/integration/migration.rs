//! Case study 3 (moving the app 10 ms away from Postgres), on `models/db-migration.json`: the
//! latency ladder leaves the spreadsheet's straight line where the pool saturates, the sequential
//! batch customer misses its deadline from some step on, and a bigger pool trades pool waits for
//! database-side latency.

use super::{capsim, example, scratch_dir};
use capsim::scenario::ModelSource;
use serde_json::Value;

/// Shorter than the model's own hour, so the suite stays quick; long enough for the batch.
const DURATION: &str = "20m";

/// The ladder sweep, run once for every test that reads it.
fn ladder() -> &'static Value {
    static LADDER: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    LADDER.get_or_init(run_ladder)
}

fn run_ladder() -> Value {
    let dir = scratch_dir("ladder");
    let out = dir.join("ladder.json");
    let model = example("db-migration.json");
    #[rustfmt::skip]
    capsim(&["sweep", model.to_str().unwrap(), "--duration", DURATION, "--replications", "3", "--json", out.to_str().unwrap(), "-q"])
        .expect_code(0);
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn endpoint<'a>(point: &'a Value, name: &str) -> &'a Value {
    point["result"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()
}

#[test]
fn the_ladder_follows_the_spreadsheet_at_first_then_leaves_it_where_the_pool_saturates() {
    let sweep = ladder();
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 11, "0 ms to 10 ms in 1 ms steps");
    let trips = sweep["round_trips"]["api.create_payment"].as_u64().unwrap();
    assert_eq!(trips, 24, "the case study's query count");
    let mean = |p: &Value| {
        endpoint(p, "api.create_payment")["latency"]["mean_ms"]["mean"]
            .as_f64()
            .unwrap()
    };
    let base = mean(&points[0]);
    // The model's own numbers: 30 ms of CPU and 24 × (4.5 + 0.5) ms of queries, 150 ms when
    // nothing waits; the rest is the database's light contention at the baseline's concurrency.
    assert!(
        (base - 150.0).abs() / 150.0 < 0.03,
        "+0 ms: {base} ms against the measured 150 ms"
    );
    // At +1 ms the spreadsheet (base + 24 × 1 ms) and the simulation agree: no contention yet.
    let sheet = |i: usize| base + trips as f64 * i as f64;
    assert!(
        (mean(&points[1]) - sheet(1)).abs() / sheet(1) < 0.01,
        "+1 ms: {} vs {}",
        mean(&points[1]),
        sheet(1)
    );
    // Somewhere on the ladder the simulation is 10 % above the spreadsheet, and there the pool
    // makes at least 5 % of transactions wait.
    let departs = (0..points.len())
        .find(|&i| mean(&points[i]) > 1.10 * sheet(i))
        .expect("the ladder leaves the straight line");
    let waited = points[departs]["result"]["pools"][0]["acquire_wait"]["waited_share"]["mean"]
        .as_f64()
        .unwrap();
    assert!(
        waited >= 0.05,
        "at +{departs} ms the pool should be saturated, but only {waited} of transactions waited"
    );
    assert_eq!(sweep["knee"]["index"].as_u64(), Some(departs as u64), "{}", sweep["knee"]);
}

#[test]
fn the_sequential_batch_meets_its_deadline_at_first_and_misses_it_from_some_step_on() {
    let sweep = ladder();
    let slack: Vec<f64> = sweep["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let client = p["result"]["clients"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "batch_customer")
                .unwrap();
            client["batch"]["slack_s"]["mean"].as_f64().unwrap()
        })
        .collect();
    assert!(slack[0] > 0.0, "fine at +0 ms: slack {} s", slack[0]);
    let first_miss = slack.iter().position(|s| *s < 0.0).expect("missed at some step");
    assert!(
        slack[first_miss..].iter().all(|s| *s < 0.0),
        "missed from +{first_miss} ms on: {slack:?}"
    );
}

#[test]
fn a_bigger_pool_removes_pool_waits_but_makes_queries_slower_at_the_database() {
    let source = ModelSource::read(example("db-migration.json").to_str().unwrap()).unwrap();
    let run = |scenarios: &str| {
        let variant = source.scenario_variant(scenarios).unwrap();
        let model = source
            .variant_model(&variant, |spec| {
                spec.duration = Some(capsim::model::values::DurationValue(20 * 60 * 1_000_000_000));
            })
            .unwrap();
        capsim::run(&model.model, &[], None)
    };
    let (far, bigger) = (run("db-10ms-away"), run("db-10ms-away,bigger-pool"));
    let wait = |r: &capsim::results::RunResult| r.pools[0].acquire_wait.mean_ms.mean;
    assert!(
        wait(&far) > 1.0 && wait(&bigger) < 0.01 * wait(&far),
        "pool wait {} ms → {} ms",
        wait(&far),
        wait(&bigger)
    );
    // Same random numbers in both runs: the paired difference of the database's query time.
    let query = |r: &capsim::results::RunResult| r.databases[0].query_time.mean_ms.samples.clone();
    let change = capsim::stats::differs_significantly(&query(&bigger), &query(&far));
    assert!(change.significant && change.mean_diff > 0.0, "query time change {change:?}");
}
