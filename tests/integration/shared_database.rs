//! Case study 1 (the shared database that took everything down), on
//! `models/shared-database.json`: the clean baseline holds its SLOs through the dinner peak; the
//! support tool's expensive query on the database bloated by fake load-test data breaches every
//! endpoint that reads it, in an order the dependency graph explains; on clean data the same
//! query does measurably less harm; a menu cache, a resource group for the support tool and
//! per-service databases each shrink the blast radius.

use super::{capsim, example, scratch_dir};
use serde_json::Value;

/// Every scenario of the model, run once for every test that reads it.
fn report() -> &'static Value {
    static REPORT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    REPORT.get_or_init(|| {
        let out = scratch_dir("shared-database").join("all.json");
        let model = example("shared-database.json");
        capsim(&[
            "run",
            model.to_str().unwrap(),
            "--all-scenarios",
            "--json",
            out.to_str().unwrap(),
            "-q",
        ])
        .expect_code(0);
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    })
}

/// The result of a scenario ("baseline" for the model itself).
fn run(name: &str) -> &'static Value {
    let r = report();
    if name == "baseline" {
        return &r["baseline"];
    }
    let found = r["scenarios"].as_array().unwrap().iter().find(|s| s["name"] == name);
    &found.unwrap_or_else(|| panic!("no scenario {name}"))["result"]
}

fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    let found = list.as_array().unwrap().iter().find(|x| x["name"] == name);
    found.unwrap_or_else(|| panic!("nothing named {name} in {list}"))
}

fn mean(v: &Value) -> f64 {
    v["mean"].as_f64().unwrap()
}

/// The names in a run's cascade timeline, in order.
fn breached(result: &Value) -> Vec<String> {
    let timeline = result["cascade"]["timeline"].as_array().unwrap();
    timeline.iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
}

fn blast(result: &Value, field: &str) -> f64 {
    result["cascade"]["blast_radius"][field].as_f64().unwrap()
}

/// The endpoints of the model that read the shared database, directly or through a call.
const ON_SHARED: [&str; 8] = [
    "app.restaurants",
    "app.menu",
    "app.order",
    "restaurants.list",
    "menu.get",
    "orders.place",
    "payments.charge",
    "support.lookup",
];

/// The "lunch_and_dinner" daily shape between 17:00 (0.3) and 19:00 (1.0) and on to 21:00 (0.45).
fn evening_factor(hour: f64) -> f64 {
    if hour <= 19.0 {
        0.3 + 0.7 * (hour - 17.0) / 2.0
    } else {
        1.0 - 0.55 * (hour - 19.0) / 2.0
    }
}

#[test]
fn the_clean_baseline_follows_the_dinner_peak_and_holds_every_slo() {
    let base = run("baseline");
    for slo in base["slos"].as_array().unwrap() {
        assert_eq!(slo["status"], "met", "{slo}");
    }
    assert!(breached(base).is_empty(), "{}", base["cascade"]);
    // The diners' menu traffic per 1-minute window follows the daily shape from 17:30 on:
    // 8/s × the factor at the middle of the window (linear within it), Poisson noise aside.
    let series = named(&base["clients"], "diners_menu")["series"].as_array().unwrap();
    for w in series {
        let start = w["start_s"].as_f64().unwrap();
        let hour = 17.5 + (start + 30.0) / 3600.0;
        let expected = 8.0 * evening_factor(hour);
        let measured = w["throughput_per_s"].as_f64().unwrap();
        // 4 replications × 60 s × ~5/s: a relative standard error of ~3 %; a finished request
        // may fall in the next window, so 15 % is a generous bound.
        if start + 60.0 <= 9000.0 {
            assert!(
                (measured - expected).abs() / expected < 0.15,
                "at {start}s: {measured}/s, expected {expected}/s"
            );
        }
    }
    let peak = series
        .iter()
        .map(|w| w["throughput_per_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(peak > 7.0, "the dinner peak at 19:00 reaches 8/s, measured at most {peak}/s");
}

#[test]
fn written_rows_grow_the_data_as_the_orders_arrive() {
    // Each order writes 1 row, its payment another. Orders arrive at 2/s × the daily factor:
    // from 17:30 (0.475) up to 19:00 (1.0) and down to 20:00 (0.725), the integral of the
    // factor is 1.5h × (0.475 + 1)/2 + 1h × (1 + 0.725)/2 = 7087.5 s, so 14,175 orders and
    // 28,350 rows on the 1,000,000 measured: the data ends at 1.02835 × its measured size, and
    // with linear cost the queries cost as much more.
    let shared = named(&run("baseline")["databases"], "shared");
    let size = mean(&shared["data_size_end"]);
    assert!((size - 1.02835).abs() < 0.001, "{size}");
    assert!((mean(&shared["cost_growth_end"]) - size).abs() < 1e-9);
}

#[test]
fn the_load_test_adds_half_the_real_traffic_reported_apart_as_synthetic() {
    let test = run("load-test");
    let real = named(&test["clients"], "diners_browse");
    let synthetic = named(&test["clients"], "loadtest_browse");
    assert_eq!(real["synthetic"], false);
    assert_eq!(synthetic["synthetic"], true);
    // Scale 1.5: the test adds 0.5 × the real rate at every moment.
    let ratio = mean(&synthetic["throughput_per_s"]) / mean(&real["throughput_per_s"]);
    assert!((ratio - 0.5).abs() < 0.02, "{ratio}");
    // The database's load grows with the traffic: 1.5 × (up to the support tool's small share).
    let busy = |r: &Value| mean(&named(&r["databases"], "shared")["utilisation"]);
    let growth = busy(test) / busy(run("baseline"));
    assert!((1.45..1.52).contains(&growth), "{growth}");
    // The blast radius counts real users only: the same real requests as the baseline (the
    // same arrivals; one may end a moment later, in or past the last window).
    let real_requests = |r: &Value| blast(r, "real_requests_after_trigger");
    let (with, without) = (real_requests(test), real_requests(run("baseline")));
    assert!((with - without).abs() / without < 1e-4, "{with} vs {without}");
}

#[test]
fn the_expensive_query_on_the_bloated_database_breaches_every_dependent_endpoint_in_dependency_order() {
    let result = run("fake-data+query");
    let names = breached(result);
    for endpoint in ON_SHARED {
        assert!(names.iter().any(|n| n == endpoint), "{endpoint} not in {names:?}");
    }
    assert_eq!(blast(result, "endpoint_share"), 1.0);
    let timeline = result["cascade"]["timeline"].as_array().unwrap();
    let first = |name: &str| {
        named(&result["cascade"]["timeline"], name)["first_breach_s"]
            .as_f64()
            .unwrap()
    };
    for (i, entry) in timeline.iter().enumerate() {
        let path: Vec<&str> = entry["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        // Every path runs from the component down to the shared database.
        assert_eq!(path.first(), Some(&entry["name"].as_str().unwrap()));
        assert_eq!(path.last(), Some(&"shared"), "{entry}");
        // What it depends on breached no later, and is listed before it.
        for dependency in &path[1..path.len() - 1] {
            assert!(
                first(dependency) <= entry["first_breach_s"].as_f64().unwrap(),
                "{dependency} after {entry}"
            );
            let position = names.iter().position(|n| n == dependency).unwrap();
            assert!(position < i, "{dependency} is listed after {}", entry["name"]);
        }
        assert!(
            entry["first_breach_s"].as_f64().unwrap() >= 4500.0,
            "nothing breaches before the query at 75m"
        );
    }
}

#[test]
fn without_the_fake_data_the_same_query_does_less_harm() {
    let clean = run("expensive-query");
    let bloated = run("fake-data+query");
    // The query holds all 4 cores for its cost × the data factor: 10 minutes on clean data,
    // 16.7 on the bloated one; the reading services fail from 75m until it ends (and the next
    // window, where the backlog drains): 10–12 one-minute windows against 17–19.
    let windows = |r: &Value| {
        named(&r["cascade"]["timeline"], "restaurants.list")["breached_windows"]
            .as_u64()
            .unwrap()
    };
    assert!((10..=12).contains(&windows(clean)), "{}", windows(clean));
    assert!((17..=19).contains(&windows(bloated)), "{}", windows(bloated));
    // The diners see it: a smaller share of failed requests, well outside both intervals.
    for client in ["diners_browse", "diners_menu", "diners_order"] {
        let failed = |r: &Value| named(&r["clients"], client)["error_rate"].clone();
        let (c, b) = (failed(clean), failed(bloated));
        let gap = mean(&b) - mean(&c);
        assert!(
            gap > c["ci95"].as_f64().unwrap() + b["ci95"].as_f64().unwrap(),
            "{client}: {c} vs {b}"
        );
    }
    assert!(blast(clean, "traffic_share") < blast(bloated, "traffic_share"));
}

#[test]
fn a_menu_cache_serving_stale_data_keeps_the_menu_out_of_the_blast_radius() {
    let cached = run("fake-data+query+menu-cache");
    let names = breached(cached);
    assert!(!names.iter().any(|n| n == "menu.get" || n == "app.menu"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "restaurants.list"),
        "the uncached services still fail"
    );
    assert!(blast(cached, "endpoints_breached") < blast(run("fake-data+query"), "endpoints_breached"));
    assert!(blast(cached, "traffic_share") < blast(run("fake-data+query"), "traffic_share"));
    let cache = &named(&cached["endpoints"], "menu.get")["cache"];
    let hit_ratio = cache["hit_ratio"].as_f64().unwrap();
    // About 100,000 lookups at 0.9: a standard error below 0.001.
    assert!((hit_ratio - 0.9).abs() < 0.005, "{hit_ratio}");
    assert!(
        cache["stale"].as_u64().unwrap() > 0,
        "misses during the halt are answered stale"
    );
}

#[test]
fn per_service_databases_confine_the_blast_radius_to_the_support_tool() {
    assert_eq!(breached(run("fake-data+query+per-service-dbs")), vec!["support.lookup"]);
}

#[test]
fn a_resource_group_for_the_support_tool_shrinks_the_blast_radius() {
    let lane = run("fake-data+query+support-lane");
    let names = breached(lane);
    assert!(names.iter().any(|n| n == "support.lookup"), "{names:?}");
    for customer_facing in ["app.restaurants", "app.menu", "app.order"] {
        assert!(!names.iter().any(|n| n == customer_facing), "{customer_facing} in {names:?}");
    }
    assert!(blast(lane, "traffic_share") < 0.1 * blast(run("fake-data+query"), "traffic_share"));
}

#[test]
fn the_blast_radius_per_replication_separates_clean_from_bloated_data_and_gates_a_check() {
    let traffic = |r: &Value| r["cascade"]["blast_radius"]["traffic_share_by_replication"].clone();
    let (clean, bloated) = (traffic(run("expensive-query")), traffic(run("fake-data+query")));
    let high = mean(&clean) + clean["ci95"].as_f64().unwrap();
    let low = mean(&bloated) - bloated["ci95"].as_f64().unwrap();
    assert!(high < low, "{clean} vs {bloated}");
    // The paired comparison lists the blast radius like any headline metric.
    let bloated_run = report()["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "fake-data+query")
        .unwrap();
    let compared = bloated_run["comparison"].as_array().unwrap();
    let endpoints = compared.iter().find(|m| m["metric"] == "blast_radius.endpoints").unwrap();
    assert_eq!(endpoints["scenario"]["mean"], 1.0);
    assert_eq!(endpoints["difference"]["significant"], true);
    // The model's own claims about its blast radius hold.
    let model = example("shared-database.json");
    capsim(&["check", model.to_str().unwrap()])
        .expect_code(0)
        .stdout_has("6 passed, 0 failed");
}

#[test]
fn the_terminal_output_prints_the_cascade_and_blast_radius_of_every_scenario() {
    let model = example("shared-database.json");
    let out = capsim(&["run", model.to_str().unwrap(), "--all-scenarios", "--replications", "2"]);
    out.expect_code(0)
        .stdout_has("Cascade after 4 injected queries on shared at 75m")
        .stdout_has("app.menu → menu.get → shared")
        .stdout_has("Blast radius: 8 of 8 endpoints with an SLO (100 %)")
        .stdout_has("  The query on the bloated database (as in fake-data+query), with a cache in front of the menu's reads")
        .stdout_has("only in this scenario: loadtest_browse (open, synthetic) → app.restaurants");
    // One section per scenario; the baseline has no timed action and breaches nothing, so its
    // summary leaves the section out.
    let sections = out.stdout.matches("Blast radius:").count();
    assert_eq!(sections, report()["scenarios"].as_array().unwrap().len());
}

#[test]
fn the_cascade_is_in_csv_too_in_the_order_of_the_timeline() {
    let dir = scratch_dir("shared-database-csv");
    let model = example("shared-database.json");
    capsim(&[
        "run",
        model.to_str().unwrap(),
        "--scenario",
        "fake-data+query",
        "--replications",
        "2",
        "--csv",
        dir.to_str().unwrap(),
        "-q",
    ])
    .expect_code(0);
    let baseline = std::fs::read_to_string(dir.join("cascade.csv")).unwrap();
    assert_eq!(
        baseline.lines().count(),
        1,
        "the baseline breaches nothing: a header only\n{baseline}"
    );
    let csv = std::fs::read_to_string(dir.join("cascade-1-fake-data-query.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8, "every endpoint breaches\n{csv}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert!(row[9].ends_with("> shared"), "the path ends at the shared database: {row:?}");
    }
}
