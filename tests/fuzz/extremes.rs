//! Absurd-but-valid numbers, one model each: rates at the 1e9/s limit, durations of 100 years,
//! 100k instances, huge queues, a billion queries per transaction, ×1e9 scales, 10,000-point
//! sweeps. Each runs in a child process (this binary) with a memory cap, killed if it runs past
//! a generous hang detector; runs use small event budgets, so each should take milliseconds.
//! The child prints its time and peak memory (`cargo test --test fuzz -- --nocapture`).

use crate::isolated_test;
use crate::support::{example, run_and_check, Bounds};
use capsim::model::parse_model;
use capsim::scenario::overlay::apply_change;
use capsim::scenario::sweep::{grid, parse_values, parse_values_text, SweptParam, MAX_POINTS};
use capsim::scenario::Variant;
use serde_json::{json, Value};

/// Small event budget: enough to exercise the model, small enough to finish in milliseconds.
const BUDGET: u64 = 200_000;

/// Parse `model`; run it when it validates (a refusal is fine: absurd values may be refused).
fn load_and_run(what: &str, model: &Value) -> bool {
    let text = serde_json::to_string(model).expect("JSON values serialize");
    match parse_model(&text, "extreme.json") {
        Ok(validated) => {
            run_and_check(&validated, model).unwrap_or_else(|why| panic!("{what}: {why}"));
            true
        }
        Err(e) => {
            println!("{what}: refused: {e}");
            false
        }
    }
}

/// A one-service model around `client` and `service` with the tiny budget.
fn model(client: Value, service: Value, extra: Value) -> Value {
    let mut m = json!({
        "duration": "36525d", "warmup": "0s", "replications": 1,
        "limits": { "max_events": BUDGET },
        "clients": { "web": client },
        "services": { "api": service },
    });
    if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), extra) {
        m.extend(extra);
    }
    m
}

isolated_test!(rate_at_the_1e9_per_second_limit_over_100_years, Bounds::default_bounds(), {
    let m = model(
        json!({ "open": { "rate": "1e9/s" }, "calls": "api.get", "timeout": "1ns",
                "retry": { "attempts": 4294967295u32, "backoff": "0s", "multiplier": 1e9, "max_backoff": "36525d" } }),
        json!({ "workers": 4294967295u32, "queue": { "capacity": 4294967295u32 },
                "endpoints": { "get": [ { "cpu": "exp(36525d)" }, { "delay": "36525d" } ] } }),
        json!({ "limits": { "max_events": BUDGET, "max_in_flight": 1000000 } }),
    );
    assert!(load_and_run("rate 1e9/s", &m));
    let mut over = m.clone();
    over["clients"]["web"]["open"]["rate"] = json!("1000000001/s");
    assert!(!load_and_run("rate above 1e9/s", &over), "a rate above 1e9/s must be refused");
});

isolated_test!(durations_of_100_years_everywhere, Bounds::default_bounds(), {
    let m = json!({
        "duration": "36525d", "warmup": "0s", "window": "36525d", "replications": 1,
        "limits": { "max_events": BUDGET },
        "clients": {
            "web": { "open": { "rate": "1/s", "profile": { "shape": "linear", "period": "36525d",
                       "points": [ { "at": "0s", "factor": 1 }, { "at": "36524d", "factor": 2 } ] } },
                     "calls": "api.get", "timeout": "36525d" },
            "batch": { "closed": { "users": 3, "think": "36525d", "requests": 4294967295u32, "start": "36524d", "deadline": "36525d" },
                       "calls": "api.get" }
        },
        "services": { "api": { "endpoints": { "get": [
            { "cpu": "uniform(0s, 36525d)" }, { "delay": "lognormal(p50=1ns, p999=36525d)" },
            { "call": "db.q", "timeout": "36525d", "retry": { "attempts": 3, "backoff": "36525d", "max_backoff": "36525d" } } ] } },
            "db": { "endpoints": { "q": [ { "transaction": { "pool": "pool", "queries": 3, "query": "pareto(shape=0.0001, scale=1d)" } } ] } } },
        "databases": { "pg": { "cores": 1 } },
        "pools": { "pool": { "database": "pg", "size": 1, "acquire_timeout": "36525d" } },
        "links": { "default": { "latency": "36525d" } },
        "actions": [ { "at": "36524d", "for": "36525d", "add_latency": { "link": "api -> db", "latency": "36525d" } } ]
    });
    assert!(load_and_run("100 years", &m));
});

isolated_test!(
    hundred_thousand_instances,
    Bounds {
        cap_bytes: 4 << 30,
        ..Bounds::default_bounds()
    },
    {
        // Every request scans all instances (see the report): keep the budget small here.
        for (balancer, events) in [("round_robin", 2_000), ("random", 500), ("least_outstanding", 500)] {
            let m = model(
                json!({ "open": { "rate": "1e6/s" }, "calls": "api.get" }),
                json!({ "instances": 100000, "workers": 1, "balancer": balancer, "queue": { "capacity": 0 },
                    "endpoints": { "get": [ { "cpu": "exp(1s)" } ] } }),
                json!({ "duration": "1s", "limits": { "max_events": events },
                    "actions": [ { "at": "0.1ms", "crash": { "service": "api", "instances": 99999, "restart": "0.5s" } } ] }),
            );
            assert!(load_and_run(balancer, &m));
        }
        let mut over = model(
            json!({ "open": { "rate": "1/s" }, "calls": "api.get" }),
            json!({ "instances": 100001, "endpoints": { "get": [ { "cpu": "1ms" } ] } }),
            json!({}),
        );
        assert!(!load_and_run("100,001 instances", &over));
        over["services"]["api"]["instances"] = json!(4294967295u32);
        assert!(!load_and_run("u32::MAX instances", &over));
    }
);

isolated_test!(a_billion_queries_in_one_transaction, Bounds::default_bounds(), {
    let m = model(
        json!({ "closed": { "users": 1000000, "think": "0s" }, "calls": "api.get" }),
        json!({ "workers": 1000, "endpoints": { "get": [ { "transaction": { "pool": "p", "queries": 1000000000, "query": "1ns" } } ] } }),
        json!({ "databases": { "pg": { "cores": 4294967295u32, "max_connections": 4294967295u32, "data_factor": 1e9,
                                       "contention": { "sigma": 1e9, "kappa": 1e9 } } },
                "pools": { "p": { "database": "pg", "size": 4294967295u32 } } }),
    );
    assert!(load_and_run("1e9 queries", &m));
});

isolated_test!(huge_queues_and_an_overloaded_service, Bounds::default_bounds(), {
    let m = model(
        json!({ "open": { "rate": "1e9/s" }, "calls": "api.get" }),
        json!({ "instances": 2, "workers": 1, "queue": { "capacity": 4294967295u32, "discipline": "lifo" },
                "endpoints": { "get": [ { "cpu": "36525d" } ] } }),
        json!({ "limits": { "max_events": BUDGET, "max_in_flight": 1000000 } }),
    );
    assert!(load_and_run("huge queue", &m));
    // 4e9 requests in flight would need terabytes if the queue filled: refused up front.
    let mut unbounded = m.clone();
    unbounded["limits"]["max_in_flight"] = json!(4294967295u32);
    let text = serde_json::to_string(&unbounded).unwrap();
    let refused = parse_model(&text, "extreme.json")
        .map(|_| ())
        .expect_err("4e9 in flight is refused");
    assert!(refused.to_string().contains("limits.max_memory"), "{refused}");
});

isolated_test!(traffic_scaled_by_1e9, Bounds::default_bounds(), {
    // A timed action multiplies a client already at the limit by 1e9; a second one takes it to 0.
    let m = model(
        json!({ "open": { "rate": "1e9/s" }, "calls": "api.get" }),
        json!({ "workers": 8, "async": { "max_in_flight": 4294967295u32 }, "endpoints": { "get": [ { "cpu": "1ms" } ] } }),
        json!({ "actions": [
            { "at": "1ns", "scale_traffic": { "client": "web", "factor": 1e9 } },
            { "at": "1ms", "for": "1ms", "scale_traffic": { "client": "web", "factor": 0 } },
            { "at": "1ns", "down": { "service": "api" } },
            { "at": "2ns", "inject": { "database": "pg", "queries": 1000, "cost": "36525d" } } ],
            "databases": { "pg": {} } }),
    );
    assert!(load_and_run("scale_traffic 1e9", &m));
});

isolated_test!(data_growth_caches_and_groups_at_their_limits, Bounds::default_bounds(), {
    // A billion rows written per transaction on a database measured at 2 rows, with n log n cost:
    // costs overflow to the longest time there is, and the run still ends on its budget. A cache
    // that always misses and times out after 1ns splits every transaction; a resource group holds
    // all but one core; an injection recurs every nanosecond for 10 microseconds (10,000 times).
    let m = model(
        json!({ "open": { "rate": "1e9/s" }, "calls": "api.get" }),
        json!({ "workers": 4294967295u32, "endpoints": { "get": [
            { "transaction": { "database": "pg", "queries": 4294967295u32, "query": "1ns", "writes": 1e9, "group": "g" },
              "cache": { "hit_ratio": 0, "serve_stale": true, "timeout": "1ns" } },
            { "call": "api.other", "cache": { "hit_ratio": 1, "hit": "36525d" } } ],
            "other": [ { "cpu": "1ns" } ] } }),
        json!({ "databases": { "pg": { "cores": 4294967295u32, "max_connections": 4294967295u32, "data_factor": 1e9,
                                       "data": { "rows": 2, "cost": "n_log_n" },
                                       "resource_groups": { "g": { "cores": 4294967294u32 } } } },
                "actions": [ { "at": "0ns", "for": "10us", "inject": { "database": "pg", "queries": 4294967295u32,
                                                                        "cost": "36525d", "every": "1ns", "group": "g" } } ],
                "limits": { "max_events": BUDGET } }),
    );
    assert!(load_and_run("growth, caches, groups", &m));
});

isolated_test!(every_number_of_the_examples_scaled_by_1e9, Bounds::default_bounds(), {
    for name in ["quickstart.json", "db-migration.json", "shared-database.json"] {
        let base = crate::support::example(name);
        for path in crate::parsers::paths(&base) {
            if !path.starts_with("clients")
                && !path.starts_with("services")
                && !path.starts_with("databases")
                && !path.starts_with("pools")
                && !path.starts_with("links")
            {
                continue;
            }
            for k in [1e9, 1e-9] {
                let mut m = base.clone();
                if apply_change(&mut m, &format!("{path}.scale"), &json!(k)).is_err() {
                    continue;
                }
                crate::support::shrink_budget(&mut m, "10s", 20_000);
                load_and_run(&format!("{name}: {path} x {k}"), &m);
            }
        }
    }
});

isolated_test!(
    sweeps_of_10000_points_are_bounded_and_more_are_refused,
    Bounds::default_bounds(),
    {
        let at_limit = parse_values_text("1..10000/1").expect("10,000 points is the limit");
        assert_eq!(at_limit.len(), MAX_POINTS);
        for text in ["1..10001/1", "0ms..10s/1ms", "0/s..1e9/s/1/s", "0..1e12/1", "0ns..36525d/1ns"] {
            assert!(parse_values_text(text).is_err(), "{text} must be refused");
        }
        let hundred: Vec<Value> = (0..100).map(Value::from).collect();
        let param = |path: &str, values: &[Value]| SweptParam {
            path: path.to_string(),
            values: values.to_vec(),
        };
        let base = Variant {
            name: String::new(),
            changes: Vec::new(),
            actions: Vec::new(),
        };
        let points = grid(&[param("a", &hundred), param("b", &hundred)], &base, "fuzz").expect("10,000 points");
        assert_eq!(points.len(), 10_000);
        assert!(grid(
            &[param("a", &hundred), param("b", &hundred), param("c", &hundred[..2])],
            &base,
            "fuzz"
        )
        .is_err());
        // A JSON list is not limited by itself, but its grid is.
        let million = parse_values(&Value::Array((0..1_000_000).map(Value::from).collect())).expect("a list");
        assert!(grid(&[param("a", &million)], &base, "fuzz").is_err());
        let many: Vec<SweptParam> = (0..64).map(|i| param(&format!("p{i}"), &hundred[..2])).collect();
        assert!(
            grid(&many, &base, "fuzz").is_err(),
            "2^64 points must be refused without overflow"
        );
        // Every point of a 10,000-point sweep of the quickstart model is built and validated (not run).
        let text = serde_json::to_string(&crate::support::example("quickstart.json")).expect("serializes");
        let source = capsim::scenario::ModelSource::from_text(text, "quickstart.json").expect("loads");
        let values = parse_values_text("0ms..9999ms/1ms").expect("10,000 latencies");
        let points = grid(
            &[SweptParam {
                path: "links.api -> pg.latency.add".into(),
                values,
            }],
            &base,
            "fuzz",
        )
        .expect("grid");
        assert_eq!(points.len(), 10_000);
        for (_, variant) in points.iter().step_by(10) {
            source.variant_model(variant, |_| {}).expect("every point validates");
        }
    }
);

isolated_test!(a_million_closed_users_and_many_actions, Bounds::default_bounds(), {
    let actions: Vec<Value> = (0..10_000)
        .map(|i| json!({ "at": format!("{i}ms"), "for": "1ms", "add_latency": { "link": "web -> api", "latency": "36525d" } }))
        .collect();
    let m = model(
        json!({ "closed": { "users": 1000000, "requests": 4294967295u32, "think": "exp(1ns)", "deadline": "1ns" },
                "calls": "api.get", "timeout": "1ns", "retry": { "attempts": 100, "backoff": "1ns", "jitter": "equal" } }),
        json!({ "endpoints": { "get": [ { "cpu": "1ns" } ] } }),
        json!({ "actions": actions, "links": { "web -> api": { "latency": "normal(mean=0s, sd=36525d)" } },
                "limits": { "max_events": BUDGET, "max_in_flight": 1 } }),
    );
    assert!(load_and_run("1e6 users", &m));
});

isolated_test!(
    clocks_that_creep_are_stopped_long_before_the_event_budget,
    Bounds::default_bounds(),
    {
        // A crash loop restarting every nanosecond and users thinking a few nanoseconds against a
        // loss system: at the default budget (2e9 events) each would run for minutes. The pace check
        // stops each after 12 million events, saying the clock creeps.
        let crash_loop = json!({
            "duration": "1h", "warmup": "0s", "replications": 1,
            "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
            "services": { "api": { "workers": 2, "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
            "actions": [ { "at": "0s", "crash_loop": { "service": "api", "uptime": "1ns", "restart": "2ns" } } ]
        });
        let thinking = json!({
            "duration": "1h", "warmup": "0s", "replications": 1,
            "clients": { "users": { "closed": { "users": 50, "think": "3ns" }, "calls": "api.get" } },
            "services": { "api": { "workers": 1, "queue": { "capacity": 0 }, "endpoints": { "get": [ { "cpu": "1s" } ] } } }
        });
        for (what, m) in [("crash loop", crash_loop), ("thinking users", thinking)] {
            let validated = parse_model(&m.to_string(), "creep.json").unwrap_or_else(|e| panic!("{what}: {e}"));
            let r = capsim::run(&validated.model, &[], Some(1));
            assert!(!r.verdict.complete, "{what}");
            assert!(r.verdict.messages[0].contains("creeps"), "{what}: {:?}", r.verdict.messages);
            assert!(r.events <= 12_000_000, "{what}: {} events", r.events);
        }
    }
);

isolated_test!(
    the_most_replications_run_within_the_memory_cap_and_series_too_large_are_refused_up_front,
    Bounds::default_bounds(),
    {
        // 10,000 replications (the most a run may have) of a one-window M/M/1: merged as they
        // finish, each keeps a few kilobytes (its whole-run histograms of ~160 KiB each are
        // settled to their quantiles), so the run fits the default budget and the child's 1 GiB cap.
        let most = json!({
            "duration": "2s", "warmup": "0s", "replications": 10000, "window": "2s",
            "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
            "services": { "api": { "workers": 1, "endpoints": { "get": [ { "cpu": "exp(10ms)" } ] } } }
        });
        let validated = parse_model(&most.to_string(), "most.json").expect("fits the default budget");
        let r = capsim::run(&validated.model, &[], Some(2));
        assert!(r.verdict.complete);
        assert_eq!(r.clients[0].throughput_per_s.n, 10_000);
        // The quickstart model's hour at a fine window (8700 windows of 400 ms) would hold about
        // 0.55 GB of series for the replication simulated and 1.1 GB of running sums: refused
        // before it starts under a budget of 1.5 GB, naming the budget.
        let mut big = example("quickstart.json");
        big["window"] = json!("400ms");
        big["limits"] = json!({ "max_memory": "1.5GB" });
        let refused = parse_model(&big.to_string(), "big.json").map(|_| ()).expect_err("refused");
        assert!(refused.to_string().contains("limits.max_memory"), "{refused}");
    }
);
