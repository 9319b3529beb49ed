//! The overload arithmetic (`model::capacity`) against what the simulation measures: the same
//! rules (caches, thread-per-request holding, pools, closed users), so a warning agrees with the
//! run it warns about.

use super::examples;
use capsim::model::capacity::{offered_load, Level};
use capsim::results::RunResult;

/// Most the measured utilisation may exceed the arithmetic's in a model without retried work:
/// the arithmetic leaves out the time a request waits for a worker, a connection or a core while
/// it holds another (thread-per-request), a few per cent of the holding time at the example
/// models' loads.
const WAITING_LEFT_OUT: f64 = 1.10;

/// A station's row: name, predicted utilisation, measured mean and CI half-width, and the requests
/// that reached it (arrivals at the endpoints that use it).
struct Station {
    name: String,
    predicted: f64,
    measured: f64,
    ci95: f64,
    arrivals: u64,
}

/// Every station of the run. A service's prediction is of the load it accepts: what its full
/// queues refused never runs.
fn stations(model: &capsim::model::Model, r: &RunResult) -> Vec<Station> {
    use capsim::model::{ConnectionSource, Step};
    let load = offered_load(model, Level::Mean);
    let arrivals_where = |uses: &dyn Fn(&capsim::model::Endpoint) -> bool| -> u64 {
        model
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| uses(e))
            .map(|(i, _)| r.endpoints[i].counts.started)
            .sum()
    };
    let mut rows = Vec::new();
    for (i, s) in r.services.iter().enumerate() {
        let (mut started, mut refused) = (0u64, 0u64);
        for (e, endpoint) in model.endpoints.iter().enumerate() {
            if endpoint.service.0 == i {
                started += r.endpoints[e].counts.started;
                refused += r.endpoints[e].counts.rejected;
            }
        }
        let accepted = if started == 0 {
            1.0
        } else {
            1.0 - refused as f64 / started as f64
        };
        rows.push(Station {
            name: format!("services.{}", s.name),
            predicted: load.services[i] * accepted,
            measured: s.utilisation.mean,
            ci95: s.utilisation.ci95,
            arrivals: started,
        });
    }
    for (i, d) in r.databases.iter().enumerate() {
        let arrivals = arrivals_where(&|e| {
            e.steps
                .iter()
                .any(|s| matches!(s, Step::Transaction(tx) if tx.database.0 == i))
        });
        rows.push(Station {
            name: format!("databases.{}", d.name),
            predicted: load.databases[i],
            measured: d.utilisation.mean,
            ci95: d.utilisation.ci95,
            arrivals,
        });
    }
    for (i, p) in r.pools.iter().enumerate() {
        let arrivals = arrivals_where(&|e| {
            e.steps
                .iter()
                .any(|s| matches!(s, Step::Transaction(tx) if tx.connection == ConnectionSource::Pool(capsim::model::PoolId(i))))
        });
        rows.push(Station {
            name: format!("pools.{}", p.name),
            predicted: load.pools[i],
            measured: p.utilisation.mean,
            ci95: p.utilisation.ci95,
            arrivals,
        });
    }
    rows
}

#[test]
fn predicted_utilisation_is_a_lower_bound_and_within_ten_percent_without_retries_on_every_example() {
    for path in examples() {
        let model = capsim::model::load_model(path.to_str().unwrap())
            .expect("example is valid")
            .model;
        let r = capsim::run(&model, &[], None);
        // Retried and redelivered work (a retry storm) is more load than the arithmetic counts.
        let retried = r.clients.iter().map(|c| c.counts.retries).sum::<u64>()
            + r.endpoints.iter().map(|e| e.counts.retries).sum::<u64>()
            + r.queues.iter().map(|q| q.receives - q.deleted.min(q.receives)).sum::<u64>();
        for s in stations(&model, &r) {
            // Poisson arrivals: the run's count is within 3 standard deviations (3/√N relative)
            // of rate × time, and so is the work it brings.
            let noise = 3.0 / (s.arrivals.max(1) as f64).sqrt();
            let at = format!(
                "{}: {}: predicted {:.4}, measured {:.4} ±{:.4} ({} arrivals)",
                path.display(),
                s.name,
                s.predicted,
                s.measured,
                s.ci95,
                s.arrivals
            );
            let ci = s.ci95.max(0.0);
            assert!(s.measured + ci >= s.predicted * (1.0 - noise), "below the lower bound: {at}");
            // An autoscaled fleet is as large as its autoscaler makes it: the arithmetic divides
            // by its largest, so it is a lower bound only.
            let autoscaled = model
                .services
                .iter()
                .any(|m| s.name == format!("services.{}", m.name) && m.autoscaling.is_some());
            if retried == 0 && !autoscaled {
                assert!(s.measured - ci <= s.predicted * WAITING_LEFT_OUT * (1.0 + noise), "{at}");
            }
        }
    }
}

fn warnings_and_run(json: &str) -> (Vec<String>, RunResult) {
    let validated = capsim::model::parse_model(json, "m.json").expect("valid model");
    let warnings: Vec<String> = validated.warnings.iter().map(|w| w.to_string()).collect();
    let r = capsim::run(&validated.model, &warnings, Some(1));
    (warnings, r)
}

#[test]
fn a_synchronous_chain_that_holds_its_workers_through_downstream_calls_is_warned_and_saturates() {
    // api: 4 threads, each held for 1 ms of CPU plus a 50 ms call: 100/s × 51 ms = 5.1 workers
    // busy, 128 % of 4. The old arithmetic counted only the 1 ms (2.5 %) and stayed silent.
    let (warnings, r) = warnings_and_run(
        r#"{ "duration": "2m", "warmup": "10s", "replications": 2,
  "clients": { "web": { "open": { "rate": "100/s" }, "calls": "api.get", "timeout": "1s" } },
  "services": { "api": { "workers": 4, "queue": { "capacity": 50 }, "endpoints": { "get": [ { "cpu": "1ms" }, { "call": "slow.get" } ] } },
                "slow": { "workers": 100, "endpoints": { "get": [ { "delay": "50ms" } ] } } } }"#,
    );
    assert!(
        warnings.iter().any(|w| w.contains("services.api") && w.contains("128 %")),
        "{warnings:?}"
    );
    let api = &r.services[0];
    assert!(
        api.utilisation.mean > 0.97,
        "the warning holds: api is saturated ({:?})",
        api.utilisation
    );
}

#[test]
fn a_cache_in_front_of_a_transaction_takes_its_hits_off_the_pool_and_the_warning_agrees() {
    // 200/s, 5 queries of 2 ms each per transaction on a pool of 1 connection: 200 × 10 ms = 2.0
    // connections busy without the cache. With a 90 % hit ratio only 20/s reach the pool: 0.2.
    // (The old arithmetic ignored caches and warned of 200 % here.)
    let model = |hit_ratio: f64| {
        format!(
            r#"{{ "duration": "2m", "warmup": "10s", "replications": 2,
  "clients": {{ "web": {{ "open": {{ "rate": "200/s" }}, "calls": "api.get", "timeout": "2s" }} }},
  "services": {{ "api": {{ "workers": 50, "endpoints": {{ "get": [
      {{ "transaction": {{ "pool": "p", "queries": 5, "query": "2ms" }}, "cache": {{ "hit_ratio": {hit_ratio}, "hit": "1ms" }} }} ] }} }} }},
  "databases": {{ "db": {{ "cores": 8 }} }},
  "pools": {{ "p": {{ "database": "db", "size": 1 }} }} }}"#
        )
    };
    let (warnings, r) = warnings_and_run(&model(0.9));
    assert!(
        warnings.is_empty(),
        "20/s × 10 ms = 0.2 of 1 connection: no warning ({warnings:?})"
    );
    let pool = &r.pools[0].utilisation;
    assert!(
        (pool.mean - 0.2).abs() <= 3.0 * pool.ci95.max(0.005),
        "measured {pool:?}, arithmetic 0.2"
    );
    // Without the cache: 200/s × 10 ms = 2.0 connections of 1, 200 %: warned, and saturated.
    let (warnings, r) = warnings_and_run(&model(0.0));
    assert!(
        warnings.iter().any(|w| w.contains("pools.p") && w.contains("200 %")),
        "{warnings:?}"
    );
    assert!(r.pools[0].utilisation.mean > 0.97);
}
