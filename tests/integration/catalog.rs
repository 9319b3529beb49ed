//! The catalog of statistics is what metric names accept: every statistic it lists for a kind
//! resolves (over the run) or has a series (per window) exactly as it says, in its unit, on a
//! model with one component of every kind; any other name is refused with its kind's list.
//! The registry of output columns is what the CSV files hold: every column it names is there,
//! with the typed results' value, and nothing else is.

use capsim::model::parse_model;
use capsim::report::csv::{summary_csv, timeseries_csv};
use capsim::results::catalog::CATALOG;
use capsim::results::columns::{Label, RUN, WINDOWS};
use capsim::results::metric::{resolve, series};
use capsim::results::RunResult;
use capsim::stats::Estimate;
use std::collections::{BTreeMap, BTreeSet};

/// One component of every kind: an open and a batch client in one group (the open one hedges
/// its calls), an autoscaled service (with a price) on 2 cores calling a mail service with a side
/// effect, a database behind a pool and a cache with a key space, a queue fed by a burst (a
/// trigger, so the blast radius is judged). A third client gives up after 1 ms, before the api's
/// CPU step (after its transaction) starts, so the api wastes CPU. The mail service has a rate
/// limit.
const MODEL: &str = r#"{ "duration": "2m", "warmup": "10s", "replications": 2, "seed": 1,
  "clients": {
    "web": { "open": { "rate": "20/s" }, "calls": "api.get", "group": "all", "hedge": { "after": "20ms" } },
    "batch": { "closed": { "users": 2, "requests": 5, "deadline": "1m" }, "calls": "api.get", "group": "all" },
    "impatient": { "open": { "rate": "5/s" }, "calls": "api.get", "timeout": "1ms" } },
  "services": {
    "api": { "workers": 4, "cores": 2,
      "autoscaling": { "min": 1, "max": 2, "metric": "cpu", "target": 0.5, "cost_per_hour": 0.2 },
      "endpoints": { "get": [
      { "transaction": { "pool": "p", "queries": 2, "query": "exp(2ms)" }, "cache": { "name": "menu", "keys": 100 } },
      { "cpu": "exp(5ms)" },
      { "call": "mail.send", "effect": "email" } ] } },
    "mail": { "workers": 2, "rate_limit": { "rate": "1000/s", "burst": 100 },
      "endpoints": { "send": [ { "delay": "exp(10ms)" } ] } } },
  "databases": { "db": { "cores": 2, "max_connections": 20 } },
  "pools": { "p": { "database": "db", "size": 4 } },
  "queues": { "jobs": {
    "producers": { "cron": { "bursts": [ { "at": "1m", "messages": 20, "over": "10s" } ] } },
    "visibility_timeout": "30s",
    "consumer": { "calls": "mail.send", "concurrency": 2 } } } }"#;

/// The component of each kind in [`MODEL`].
fn component(kind: &str) -> &'static str {
    match kind {
        "clients" => "batch",
        "endpoints" => "api.get",
        "groups of clients" => "all",
        "services" => "api",
        "databases" => "db",
        "pools" => "p",
        "queues" => "jobs",
        "side effects" => "email",
        "limits" => "mail.rate_limit",
        "caches" => "menu",
        "hedges" => "web.hedge",
        "blast_radius" => "blast_radius",
        other => panic!("a kind the test does not know: {other} (add a component of it to MODEL)"),
    }
}

/// Statistic `stat` of component `name` of catalog kind `kind`, read from the typed results
/// field by field as the JSON's documentation describes each: what a metric name must resolve
/// to, written here apart from the registry that `resolve` reads.
fn typed(r: &RunResult, kind: &str, name: &str, stat: &str) -> Option<Estimate> {
    fn latency(l: &capsim::results::LatencySummary, stat: &str) -> Option<Estimate> {
        Some(
            match stat {
                "p50" => &l.p50_ms,
                "p90" => &l.p90_ms,
                "p99" => &l.p99_ms,
                "p999" => &l.p999_ms,
                "max" => &l.max_ms,
                "mean" => &l.mean_ms,
                _ => return None,
            }
            .clone(),
        )
    }
    fn wait(w: &capsim::results::WaitSummary, stat: &str) -> Option<Estimate> {
        match stat {
            "wait.mean" => Some(w.mean_ms.clone()),
            "wait.p99" => Some(w.p99_ms.clone()),
            "waited" => Some(w.waited_share.clone()),
            _ => None,
        }
    }
    let e = |e: &Estimate| Some(e.clone());
    match kind {
        "clients" => {
            let c = r.clients.iter().find(|c| c.name == name)?;
            match stat {
                "error_rate" => e(&c.error_rate),
                "throughput" => e(&c.throughput_per_s),
                "goodput" => e(&c.goodput_per_s),
                "makespan" => e(&c.batch.as_ref()?.makespan_s),
                "slack" => c.batch.as_ref()?.slack_s.clone(),
                s => latency(&c.latency, s),
            }
        }
        "endpoints" => {
            let x = r.endpoints.iter().find(|x| x.name == name)?;
            match stat {
                "error_rate" => e(&x.error_rate),
                "throughput" => e(&x.throughput_per_s),
                "sojourn" => e(&x.sojourn_ms),
                s => latency(&x.latency, s),
            }
        }
        "groups of clients" => {
            let g = r.groups.iter().find(|g| g.name == name)?;
            match stat {
                "error_rate" => e(&g.error_rate),
                "throughput" => e(&g.throughput_per_s),
                "goodput" => e(&g.goodput_per_s),
                _ => None,
            }
        }
        "services" => {
            let s = r.services.iter().find(|s| s.name == name)?;
            let a = r.autoscalers.iter().find(|a| a.name == name);
            let c = r.cpus.iter().find(|c| c.name == name);
            match stat {
                "utilisation" => e(&s.utilisation),
                "queue" => e(&s.queue_length),
                "in_service" => e(&s.in_service),
                "wasted_cpu" => e(&s.wasted.cpu_s),
                "instances_up" => e(&s.instances_up),
                "available" => e(&s.available),
                "instances" => e(&a?.instances),
                "instances_max" => e(&a?.instances_max),
                "instance_hours" => e(&a?.instance_hours),
                "cost" => a?.cost.clone(),
                "scale_outs" => e(&a?.scale_outs),
                "scale_ins" => e(&a?.scale_ins),
                "under_provisioned" => e(&a?.under_provisioned_s),
                "cpu" => e(&c?.utilisation),
                "run_queue" => e(&c?.run_queue),
                _ => wait(&s.worker_wait, stat),
            }
        }
        "databases" => {
            let d = r.databases.iter().find(|d| d.name == name)?;
            match stat {
                "utilisation" => e(&d.utilisation),
                "queue" => e(&d.queue_length),
                "queries" => e(&d.queries_per_s),
                "connections" => e(&d.connections_in_use),
                s => latency(&d.query_time, s.strip_prefix("query.")?),
            }
        }
        "pools" => {
            let p = r.pools.iter().find(|p| p.name == name)?;
            match stat {
                "utilisation" => e(&p.utilisation),
                "waiting" => e(&p.waiting),
                _ => wait(&p.acquire_wait, stat),
            }
        }
        "queues" => {
            let q = r.queues.iter().find(|q| q.name == name)?;
            match stat {
                "amplification" => e(&q.amplification),
                "goodput" => e(&q.goodput_per_s),
                "deliveries" => e(&q.deliveries_per_s),
                "backlog" => e(&q.backlog),
                "error_rate" => e(&q.delivery_error_rate),
                _ => None,
            }
        }
        "side effects" => (stat == "per_unit").then(|| r.effects.iter().find(|x| x.name == name).map(|x| x.per_unit.clone()))?,
        "limits" => {
            let l = r.limits.iter().find(|l| l.name == name)?;
            match stat {
                "admitted" => e(&l.admitted_per_s),
                "rejected" => e(&l.rejected_per_s),
                "rejected_share" => e(&l.rejected_share),
                _ => None,
            }
        }
        "hedges" => {
            let h = r.hedges.iter().find(|h| h.name == name)?;
            match stat {
                "extra_load" => e(&h.extra_load),
                "won_share" => e(&h.won_share),
                "delay" => e(&h.delay_ms),
                _ => None,
            }
        }
        "caches" => {
            let c = r.caches.iter().find(|c| c.name == name)?;
            match stat {
                "hit_ratio" => e(&c.hit_ratio),
                "misses" => e(&c.misses_per_s),
                "coalesced" => e(&c.coalesced_per_s),
                _ => None,
            }
        }
        "blast_radius" => {
            let b = &r.cascade.blast_radius;
            match stat {
                "endpoints" => e(&b.endpoint_share_by_replication),
                "traffic" => e(&b.traffic_share_by_replication),
                _ => None,
            }
        }
        other => panic!("a kind the test does not know: {other}"),
    }
}

/// The same estimate: equal means, intervals, extremes and counts (NaN equal to NaN).
fn same_estimate(a: &Estimate, b: &Estimate) -> bool {
    same(a.mean, b.mean) && same(a.ci95, b.ci95) && same(a.min, b.min) && same(a.max, b.max) && a.n == b.n
}

#[test]
fn every_statistic_of_the_catalog_resolves_in_its_unit_and_no_other_does() {
    let validated = parse_model(MODEL, "catalog.json").unwrap_or_else(|e| panic!("{e}"));
    let result = capsim::run(&validated.model, &[], Some(1));
    for kind in CATALOG {
        let of = component(kind.name);
        for s in kind.statistics() {
            let name = format!("{of}.{}", s.name);
            match resolve(&result, &name) {
                Ok(value) => {
                    assert!(s.summary, "{name} resolves but the catalog says it has no value over the run");
                    assert_eq!(value.unit, s.unit, "{name}");
                    let field = typed(&result, kind.name, of, s.name)
                        .unwrap_or_else(|| panic!("{name} resolves but the results have no such field"));
                    assert!(
                        same_estimate(&value.estimate, &field),
                        "{name}: {:?} against {field:?}",
                        value.estimate
                    );
                }
                Err(why) => assert!(!s.summary, "{name}: {why}"),
            }
            match series(&result, &name) {
                Ok(windows) => {
                    assert!(s.windowed, "{name} has a series but the catalog says it has none");
                    assert!(!windows.is_empty(), "{name}");
                }
                Err(why) => assert!(!s.windowed, "{name}: {why}"),
            }
        }
        let unknown = format!("{of}.p98");
        let why = resolve(&result, &unknown).expect_err("p98 is no statistic");
        let listed = format!("({}: ", kind.name);
        assert!(why.contains("unknown statistic \"p98\"") && why.contains(&listed), "{why}");
        assert!(series(&result, &unknown).is_err());
    }
}

#[test]
fn every_metric_scenarios_are_compared_on_is_a_statistic_of_the_catalog() {
    // The comparison's headline metrics are names, not a list of their own: each resolves over
    // the run, which only the catalog's statistics do (the test above).
    let validated = parse_model(MODEL, "catalog.json").unwrap_or_else(|e| panic!("{e}"));
    let result = capsim::run(&validated.model, &[], Some(1));
    let names = capsim::analysis::compare::headline_metrics(&result);
    assert!(names.len() >= CATALOG.len(), "{names:?}");
    for name in &names {
        assert!(
            resolve(&result, name).is_ok(),
            "{name} is compared but is no statistic of the catalog"
        );
    }
}

/// The rows of a CSV file by their columns' names, with the header's names.
fn rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            header
                .iter()
                .map(|h| h.to_string())
                .zip(fields.iter().map(|f| f.to_string()))
                .collect()
        })
        .collect()
}

/// The (kind, CSV label) pairs of registry tables given as (kind, their columns).
fn pairs(tables: impl Iterator<Item = (&'static str, Vec<Label>)>) -> BTreeSet<(String, String)> {
    tables
        .flat_map(|(kind, labels)| labels.into_iter().map(move |l| (kind.to_string(), l.label.to_string())))
        .collect()
}

/// The (kind, metric) pairs of a CSV file's rows.
fn metrics_of(rows: &[BTreeMap<String, String>]) -> BTreeSet<(String, String)> {
    rows.iter().map(|r| (r["kind"].clone(), r["metric"].clone())).collect()
}

/// A CSV number: empty is no value (NaN).
fn number(text: &str) -> f64 {
    if text.is_empty() {
        f64::NAN
    } else {
        text.parse().unwrap_or_else(|_| panic!("not a number: {text:?}"))
    }
}

/// Equal, or both without a value.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Window `i` of column `label` of the component `name` of `kind` ("queue"), read from the typed
/// results field by field, as the CSV's documentation describes each column.
fn typed_window(r: &RunResult, kind: &str, name: &str, label: &str, i: usize) -> f64 {
    let traffic = |windows: &[capsim::results::TrafficWindow]| {
        let w = &windows[i];
        match label {
            "throughput_per_s" => w.throughput_per_s,
            "error_rate" => w.error_rate,
            "p50_ms" => w.p50_ms,
            "p99_ms" => w.p99_ms,
            other => panic!("a {kind} window column the test does not know: {other}"),
        }
    };
    let station = |s: &capsim::results::StationSeries| match label {
        "utilisation" => s.utilisation[i],
        "waiting" => s.waiting[i],
        other => panic!("a {kind} window column the test does not know: {other}"),
    };
    match kind {
        "client" => traffic(&r.clients.iter().find(|c| c.name == name).unwrap().series),
        "endpoint" => traffic(&r.endpoints.iter().find(|e| e.name == name).unwrap().series),
        "service" if label == "instances" => r.autoscalers.iter().find(|a| a.name == name).unwrap().series[i].instances,
        "service" => station(&r.services.iter().find(|s| s.name == name).unwrap().series),
        "pool" => station(&r.pools.iter().find(|p| p.name == name).unwrap().series),
        "database" => {
            let d = r.databases.iter().find(|d| d.name == name).unwrap();
            match label {
                "connections_in_use" => d.connections_series[i],
                _ => station(&d.series),
            }
        }
        "queue" => {
            let w = &r.queues.iter().find(|q| q.name == name).unwrap().series[i];
            match label {
                "published_per_s" => w.published_per_s,
                "receives_per_s" => w.receives_per_s,
                "done_per_s" => w.deleted_per_s,
                "dead_lettered_per_s" => w.dead_lettered_per_s,
                "amplification" => w.amplification,
                "backlog" => w.backlog,
                "in_delivery" => w.in_flight,
                other => panic!("a queue window column the test does not know: {other}"),
            }
        }
        "effect" => {
            let w = &r.effects.iter().find(|e| e.name == name).unwrap().series[i];
            match label {
                "per_s" => w.per_s,
                "duplicates_per_s" => w.duplicates_per_s,
                other => panic!("an effect window column the test does not know: {other}"),
            }
        }
        "limit" => {
            let w = &r.limits.iter().find(|l| l.name == name).unwrap().series[i];
            match label {
                "admitted_per_s" => w.admitted_per_s,
                "rejected_per_s" => w.rejected_per_s,
                "rejected_share" => w.rejected_share,
                other => panic!("a limit window column the test does not know: {other}"),
            }
        }
        "cache" => {
            let w = &r.caches.iter().find(|c| c.name == name).unwrap().series[i];
            match label {
                "hit_ratio" => w.hit_ratio,
                "misses_per_s" => w.misses_per_s,
                "coalesced_per_s" => w.coalesced_per_s,
                other => panic!("a cache window column the test does not know: {other}"),
            }
        }
        other => panic!("a kind the test does not know: {other}"),
    }
}

/// The component names of `kind` ("client") in `result` that have column `label`: every one of
/// the kind, but only autoscaled services have instances.
fn components(r: &RunResult, kind: &str, label: &str) -> Vec<String> {
    let names: Vec<&String> = match kind {
        "service" if label == "instances" => r.autoscalers.iter().map(|a| &a.name).collect(),
        "client" => r.clients.iter().map(|c| &c.name).collect(),
        "endpoint" => r.endpoints.iter().map(|e| &e.name).collect(),
        "service" => r.services.iter().map(|s| &s.name).collect(),
        "database" => r.databases.iter().map(|d| &d.name).collect(),
        "pool" => r.pools.iter().map(|p| &p.name).collect(),
        "queue" => r.queues.iter().map(|q| &q.name).collect(),
        "effect" => r.effects.iter().map(|e| &e.name).collect(),
        "limit" => r.limits.iter().map(|l| &l.name).collect(),
        "cache" => r.caches.iter().map(|c| &c.name).collect(),
        other => panic!("a kind the test does not know: {other}"),
    };
    names.into_iter().cloned().collect()
}

#[test]
fn every_column_of_the_registry_is_in_the_csv_files_with_the_typed_results_value_and_nothing_else_is() {
    let validated = parse_model(MODEL, "catalog.json").unwrap_or_else(|e| panic!("{e}"));
    let result = capsim::run(&validated.model, &[], Some(1));
    assert!(
        result.services.iter().any(|s| s.name == "api" && s.wasted.cpu_s.mean > 0.0),
        "the impatient client should make the api waste CPU"
    );

    // Over the run: the (kind, metric) pairs of summary.csv are exactly the registry's; each
    // row's mean is the typed results' field of its statistic (read by `typed`, apart from the
    // registry), its interval too.
    let summary = rows(&summary_csv(&result));
    let named = pairs(RUN.iter().map(|t| (t.kind(), t.labels())));
    assert_eq!(
        metrics_of(&summary),
        named,
        "summary.csv's metrics against the registry's columns over the run"
    );
    for table in RUN {
        for label in table.labels() {
            let [statistic] = label.statistics else {
                panic!(
                    "{} column {} names no single statistic to check it by",
                    table.kind(),
                    label.label
                )
            };
            for row in summary
                .iter()
                .filter(|r| r["kind"] == table.kind() && r["metric"] == label.label)
            {
                let metric = format!("{}.{statistic}", row["component"]);
                let typed = typed(&result, table.catalog_kind(), &row["component"], statistic)
                    .unwrap_or_else(|| panic!("{metric}: no such field in the results"));
                assert!(same(number(&row["mean"]), typed.mean), "{metric}: {row:?} against {typed:?}");
                assert!(same(number(&row["ci95"]), typed.ci95), "{metric}: {row:?} against {typed:?}");
                assert!(
                    same(number(&row["min"]), typed.min) && same(number(&row["max"]), typed.max),
                    "{metric}"
                );
                assert_eq!(row["n"], typed.n.to_string(), "{metric}");
            }
        }
    }

    // Per window: the pairs of timeseries.csv are exactly the registry's, every component of
    // the kind has a row for every window of every column, and each value is the typed
    // result's window.
    let timeseries = rows(&timeseries_csv(&result));
    let named = pairs(WINDOWS.iter().map(|t| (t.kind(), t.labels())));
    assert_eq!(
        metrics_of(&timeseries),
        named,
        "timeseries.csv's metrics against the registry's window columns"
    );
    let windows = result.clients[0].series.len();
    assert!(windows > 1, "the model has several windows");
    for table in WINDOWS {
        for label in table.labels() {
            for name in components(&result, table.kind(), label.label) {
                let column: Vec<_> = timeseries
                    .iter()
                    .filter(|r| r["kind"] == table.kind() && r["component"] == name && r["metric"] == label.label)
                    .collect();
                assert_eq!(column.len(), windows, "{} {name} {}", table.kind(), label.label);
                for (i, row) in column.iter().enumerate() {
                    let typed = typed_window(&result, table.kind(), &name, label.label, i);
                    assert!(
                        same(number(&row["value"]), typed),
                        "{name} {}: {row:?} against {typed}",
                        label.label
                    );
                    let start = result.clients[0].series[i].start_s;
                    assert_eq!(number(&row["window_start_s"]), start, "{name} {}", label.label);
                }
            }
        }
    }
}
