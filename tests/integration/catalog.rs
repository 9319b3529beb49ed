//! The catalog of statistics is what metric names accept: every statistic it lists for a kind
//! resolves (over the run) or has a series (per window) exactly as it says, in its unit, on a
//! model with one component of every kind; any other name is refused with its kind's list.

use capsim::model::parse_model;
use capsim::results::catalog::CATALOG;
use capsim::results::metric::{resolve, series};

/// One component of every kind: an open and a batch client in one group, a service calling a
/// mail service with a side effect, a database behind a pool, a queue fed by a burst (a trigger,
/// so the blast radius is judged).
const MODEL: &str = r#"{ "duration": "2m", "warmup": "10s", "replications": 2, "seed": 1,
  "clients": {
    "web": { "open": { "rate": "20/s" }, "calls": "api.get", "group": "all" },
    "batch": { "closed": { "users": 2, "requests": 5, "deadline": "1m" }, "calls": "api.get", "group": "all" } },
  "services": {
    "api": { "workers": 4, "endpoints": { "get": [
      { "cpu": "exp(5ms)" },
      { "transaction": { "pool": "p", "queries": 2, "query": "exp(2ms)" } },
      { "call": "mail.send", "effect": "email" } ] } },
    "mail": { "workers": 2, "endpoints": { "send": [ { "delay": "exp(10ms)" } ] } } },
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
        "blast_radius" => "blast_radius",
        other => panic!("a kind the test does not know: {other} (add a component of it to MODEL)"),
    }
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
