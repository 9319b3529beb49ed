//! The pieces behind the shared-database case study, each on a small model whose answer can be
//! worked out by hand: query cost that grows with the data, caches (hits, stale answers on
//! failure and on timeout), resource groups, recurring injections, daily profiles, and the
//! errors that explain a wrong use of each.

use super::refused;
use capsim::model::parse_model;
use capsim::results::RunResult;

fn run(text: &str) -> RunResult {
    let validated = parse_model(text, "test.json").unwrap_or_else(|e| panic!("{e}"));
    capsim::run(&validated.model, &[], Some(1))
}

/// Queries the database finished after the warm-up, all replications together.
fn queries(r: &RunResult) -> u64 {
    let observed = r.model.duration_s - r.model.warmup_s;
    (r.databases[0].queries_per_s.mean * observed * f64::from(r.model.replications)).round() as u64
}

/// One client calling `api.get` whose steps are `steps`, on database `db` (`db_extra` added to
/// its definition), `clients_extra` more settings of the client.
fn model(rate_or_closed: &str, steps: &str, db_extra: &str, rest: &str) -> String {
    format!(
        r#"{{ "duration": "2m", "warmup": "0s", "replications": 2, "seed": 3,
  "clients": {{ "c": {{ {rate_or_closed}, "calls": "api.get" }} }},
  "services": {{ "api": {{ "workers": 1000, "endpoints": {{ "get": {steps} }} }} }},
  "databases": {{ "db": {{ "cores": 1000, "max_connections": 2000 {db_extra} }} }}
  {rest} }}"#
    )
}

#[test]
fn query_cost_grows_with_the_data_as_n_log_n() {
    // 10 ms measured on 1e6 rows; twice the data: 10 × 2·ln(2e6)/ln(1e6) = 21.0034 ms.
    let r = run(&model(
        r#""open": { "rate": "50/s" }"#,
        r#"[ { "transaction": { "database": "db", "query": "10ms" } } ]"#,
        r#", "data_factor": 2, "data": { "rows": 1000000, "cost": "n_log_n" }"#,
        "",
    ));
    let mean = r.databases[0].query_time.mean_ms.mean;
    let expected = 10.0 * 2.0 * (2e6f64).ln() / (1e6f64).ln();
    assert!((mean - expected).abs() < 1e-6, "{mean} vs {expected}");
}

#[test]
fn a_cost_table_is_interpolated_at_the_data_size() {
    // Size 1.5 between [1, 1] and [2, 4]: a multiplier of 2.5.
    let r = run(&model(
        r#""open": { "rate": "50/s" }"#,
        r#"[ { "transaction": { "database": "db", "query": "4ms" } } ]"#,
        r#", "data_factor": 1.5, "data": { "cost": [[1, 1], [2, 4]] }"#,
        "",
    ));
    assert!((r.databases[0].query_time.mean_ms.mean - 10.0).abs() < 1e-6);
}

#[test]
fn rows_written_make_every_later_query_cost_more() {
    // One user sends 1000 transactions one after another, each writing 1000 rows on a database
    // measured at 1e6 rows: the k-th (from 0) sees 1 + k/1000 times the data, so its 1 ms query
    // costs (1 + k/1000) ms; their mean is 1 + 0.4995 = 1.4995 ms, and the data ends at 2.
    let r = run(&model(
        r#""closed": { "users": 1, "requests": 1000 }"#,
        r#"[ { "transaction": { "database": "db", "query": "1ms", "writes": 1000 } } ]"#,
        r#", "data": { "rows": 1000000 }"#,
        "",
    ));
    let db = &r.databases[0];
    assert!(
        (db.query_time.mean_ms.mean - 1.4995).abs() < 1e-6,
        "{}",
        db.query_time.mean_ms.mean
    );
    assert!((db.data_size_end.mean - 2.0).abs() < 1e-12);
    assert!((db.cost_growth_end.mean - 2.0).abs() < 1e-12);
}

#[test]
fn a_cache_answers_its_hits_quickly_and_sends_its_misses_to_the_database() {
    let r = run(&model(
        r#""open": { "rate": "100/s" }"#,
        r#"[ { "transaction": { "database": "db", "query": "10ms" }, "cache": { "hit_ratio": 0.3, "hit": "1ms" } } ]"#,
        "",
        "",
    ));
    let e = &r.endpoints[0];
    let cache = e.cache.as_ref().expect("cache counts");
    // About 24,000 lookups at 0.3: a standard error of 0.003.
    assert!((cache.hit_ratio - 0.3).abs() < 0.012, "{}", cache.hit_ratio);
    // Each hit takes 1 ms, each miss 10 ms at the database: the mean latency is exactly their mix
    // (requests still in flight at the end are neither).
    let answered = (cache.hits + cache.misses) as f64 - e.counts.in_flight_at_end as f64;
    let expected = (cache.hits as f64 * 1.0 + (answered - cache.hits as f64) * 10.0) / answered;
    let per_replication = e.latency.mean_ms.mean;
    assert!((per_replication - expected).abs() < 0.05, "{per_replication} vs {expected}");
    // Only misses reach the database.
    assert_eq!(queries(&r), cache.misses - e.counts.in_flight_at_end);
}

#[test]
fn a_slow_miss_is_answered_stale_at_the_cache_timeout_while_the_database_finishes_it() {
    let r = run(&model(
        r#""open": { "rate": "20/s" }"#,
        r#"[ { "transaction": { "database": "db", "query": "100ms" }, "cache": { "hit_ratio": 0, "serve_stale": true, "timeout": "20ms" } } ]"#,
        "",
        "",
    ));
    let e = &r.endpoints[0];
    let cache = e.cache.as_ref().unwrap();
    assert_eq!(cache.hits, 0);
    assert_eq!(e.error_rate.mean, 0.0);
    // Every answer comes from the stale copy after exactly 20 ms.
    assert!((e.latency.mean_ms.mean - 20.0).abs() < 1e-9, "{}", e.latency.mean_ms.mean);
    assert!(cache.stale + 10 >= cache.misses && cache.stale <= cache.misses);
    // The queries left behind still ran to the end.
    assert!(queries(&r) + 10 >= cache.misses);
}

#[test]
fn a_failed_miss_is_answered_stale_only_when_the_cache_serves_stale_data() {
    let steps =
        |stale: bool| format!(r#"[ {{ "call": "backend.get", "cache": {{ "hit_ratio": 0.5, "serve_stale": {stale} }} }} ]"#);
    let backend = r#", "actions": [ { "at": "0s", "down": { "service": "backend" } } ]"#;
    let with_backend = |stale: bool| {
        model(r#""open": { "rate": "50/s" }"#, &steps(stale), "", backend).replace(
            r#""services": {"#,
            r#""services": { "backend": { "endpoints": { "get": [ { "cpu": "1ms" } ] } },"#,
        )
    };
    let stale = run(&with_backend(true));
    assert_eq!(stale.endpoints[1].error_rate.mean, 0.0, "every failed miss is answered stale");
    let cache = stale.endpoints[1].cache.as_ref().unwrap();
    assert_eq!(cache.stale, cache.misses);
    let failing = run(&with_backend(false));
    // Half the lookups miss and fail: an error rate of 0.5 (±0.01 over ~12,000 requests).
    assert!((failing.endpoints[1].error_rate.mean - 0.5).abs() < 0.02);
}

#[test]
fn after_a_stale_answer_the_next_call_has_all_its_attempts() {
    // Two cached calls to a backend that is down, 2 attempts each: every request retries each
    // call once, so 2 retries per request (the first call's attempts are not carried over).
    let call = r#"{ "call": "backend.get", "retry": { "attempts": 2, "backoff": "1ms" }, "cache": { "hit_ratio": 0, "serve_stale": true } }"#;
    let text = model(
        r#""open": { "rate": "20/s" }"#,
        &format!("[ {call}, {call} ]"),
        "",
        r#", "actions": [ { "at": "0s", "down": { "service": "backend" } } ]"#,
    )
    .replace(
        r#""services": {"#,
        r#""services": { "backend": { "endpoints": { "get": [ { "cpu": "1ms" } ] } },"#,
    );
    let r = run(&text);
    let e = &r.endpoints[1];
    assert_eq!(e.error_rate.mean, 0.0);
    let finished = e.counts.ok + e.counts.errors + e.counts.timeouts + e.counts.rejected;
    // Requests in flight at the end may have made only some of their retries.
    assert!(e.counts.retries <= 2 * e.counts.started && e.counts.retries + 2 * e.counts.in_flight_at_end >= 2 * finished);
    assert!(
        e.counts.retries >= 2 * finished,
        "{} retries for {finished} requests",
        e.counts.retries
    );
}

#[test]
fn a_resource_group_keeps_a_heavy_query_off_the_shared_cores() {
    // Two cores; the injected query wants both for an hour. Without a group the 5 ms user
    // queries wait for it; with a 1-core group it runs there (one part after the other) and
    // users keep the other core.
    let text = |group: &str, inject_group: &str| {
        format!(
            r#"{{ "duration": "10m", "warmup": "1m", "replications": 2,
  "clients": {{ "c": {{ "open": {{ "rate": "20/s" }}, "calls": "api.get", "timeout": "1s" }} }},
  "services": {{ "api": {{ "workers": 100, "endpoints": {{ "get": [ {{ "transaction": {{ "database": "db", "query": "5ms" }} }} ] }} }} }},
  "databases": {{ "db": {{ "cores": 2 {group} }} }},
  "actions": [ {{ "at": "2m", "inject": {{ "database": "db", "queries": 2, "cost": "1h" {inject_group} }} }} ] }}"#
        )
    };
    let shared = run(&text("", ""));
    let lane = run(&text(
        r#", "resource_groups": { "tool": { "cores": 1 } }"#,
        r#", "group": "tool""#,
    ));
    assert!(shared.clients[0].error_rate.mean > 0.5, "users stall behind the query");
    assert_eq!(lane.clients[0].error_rate.mean, 0.0);
    // Users alone on one core: 20/s × 5 ms = 10 % of it, the query holds the group's core from
    // 2m on: (0.1 + 8/9) / 2 of the machine over the 9 measured minutes.
    let busy = lane.databases[0].utilisation.mean;
    let expected = (0.1 + 8.0 / 9.0) / 2.0;
    assert!((busy - expected).abs() < 0.01, "{busy} vs {expected}");
}

#[test]
fn a_recurring_injection_repeats_while_it_lasts() {
    let r = run(&model(
        r#""open": { "rate": "1/s" }"#,
        r#"[ { "cpu": "1ms" } ]"#,
        "",
        r#", "actions": [ { "at": "10s", "for": "30s", "inject": { "database": "db", "cost": "1s", "every": "10s" } } ]"#,
    ));
    let starts: Vec<f64> = r.model.actions.iter().map(|a| a.start_s).collect();
    assert_eq!(starts, vec![10.0, 20.0, 30.0]);
    assert_eq!(queries(&r), 2 * 3, "three queries in each of the two replications");
}

#[test]
fn a_daily_shape_starts_at_its_clock_time() {
    let validated = parse_model(
        &model(
            r#""open": { "rate": "10/s", "profile": { "daily": "lunch_and_dinner", "clock": "18h" } }"#,
            r#"[ { "cpu": "1ms" } ]"#,
            "",
            "",
        ),
        "t.json",
    )
    .unwrap();
    let capsim::model::Arrivals::Open { profile: Some(p), .. } = &validated.model.clients[0].arrivals else {
        panic!("an open client with a profile");
    };
    let at = |hours: f64| p.factor_at((hours * 3.6e12) as u64);
    // 18:00 is halfway from 17:00 (0.3) to 19:00 (1.0); 19:00 an hour in; 03:00 the night's 0.05.
    assert!((at(0.0) - 0.65).abs() < 1e-12);
    assert!((at(1.0) - 1.0).abs() < 1e-12);
    assert!((at(9.0) - 0.05).abs() < 1e-12);
    // 12:30 the next day: the lunch peak.
    assert!((at(18.5) - 0.55).abs() < 1e-12);
}

#[test]
fn wrong_uses_are_refused_with_their_path() {
    let cases: [(String, &[&str]); 8] = [
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "cpu": "1ms", "cache": { "hit_ratio": 0.5 } } ]"#,
                "",
                "",
            ),
            &[
                "services.api.endpoints.get[0].cache",
                "belongs to a \"call\" or \"transaction\"",
            ],
        ),
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "transaction": { "database": "db", "query": "1ms" }, "cache": { "hit_ratio": 1.5 } } ]"#,
                "",
                "",
            ),
            &["cache.hit_ratio", "from 0 to 1"],
        ),
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "transaction": { "database": "db", "query": "1ms", "writes": 1 } } ]"#,
                "",
                "",
            ),
            &["transaction.writes", "databases.db.data.rows"],
        ),
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "transaction": { "database": "db", "query": "1ms", "group": "tool" } } ]"#,
                "",
                "",
            ),
            &["transaction.group", "no resource group \"tool\""],
        ),
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "cpu": "1ms" } ]"#,
                r#", "data": { "cost": "n_log_n" }"#,
                "",
            ),
            &["databases.db.data.rows", "n_log_n"],
        ),
        (
            model(
                r#""open": { "rate": "1/s" }"#,
                r#"[ { "cpu": "1ms" } ]"#,
                r#", "data": { "cost": "quadratic" }"#,
                "",
            ),
            &["databases.db.data.cost", "\"linear\", \"n_log_n\" or a table", "quadratic"],
        ),
        (
            model(
                r#""open": { "rate": "1/s", "profile": { "points": [ { "at": "0s", "factor": 1 } ], "clock": "1h" } }"#,
                r#"[ { "cpu": "1ms" } ]"#,
                "",
                "",
            ),
            &["clients.c.open.profile.clock", "repeating profile"],
        ),
        (
            model(
                r#""closed": { "users": 1 }"#,
                r#"[ { "cpu": "1ms" } ]"#,
                "",
                r#", "scenarios": {} "#,
            )
            .replace(
                r#""clients": {"#,
                r#""clients": { "test": { "load_test": { "of": "c", "scale": 1.5 }, "calls": "api.get" },"#,
            ),
            &["clients.test.load_test.of", "not an open client"],
        ),
    ];
    for (text, fragments) in cases {
        let message = refused(&text);
        for fragment in fragments {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
    }
}

#[test]
fn a_transaction_left_behind_by_its_cache_ends_for_nobody_without_finishing_the_request_twice() {
    // Constant times, worked out by hand for each request (front calls back at t = 0):
    // back's cache misses and its transaction starts (3 queries of 30 ms); at 10 ms front's
    // attempt times out and back's job works for nobody; at 20 ms the cache stops waiting: the
    // request goes on as a new job, which back stops at once (its caller left), and the
    // transaction is left behind; at 30 ms the first query is back with two to go, and the
    // left-behind copy, working for nobody too, lets its connection go and ends. Each request
    // is admitted once, so it finishes once (an error: stopped for nobody), and the copy left
    // behind is not a request of its own: `stopped` counts each request once.
    let text = r#"{ "duration": "1m", "warmup": "0s", "replications": 1, "seed": 5,
  "clients": { "c": { "closed": { "users": 1, "requests": 20, "think": "1s" }, "calls": "front.get" } },
  "services": {
    "front": { "workers": 10, "endpoints": { "get": [ { "call": "back.get", "timeout": "10ms" } ] } },
    "back": { "workers": 10, "on_caller_gone": "stop", "endpoints": { "get": [
      { "transaction": { "database": "db", "queries": 3, "query": "30ms" },
        "cache": { "hit_ratio": 0, "serve_stale": true, "timeout": "20ms" } } ] } } },
  "databases": { "db": { "cores": 10, "max_connections": 10 } } }"#;
    let r = run(text);
    let back = &r.endpoints[1];
    assert_eq!(back.name, "back.get");
    assert_eq!(back.counts.started, 20);
    assert_eq!((back.counts.ok, back.counts.errors, back.counts.in_flight_at_end), (0, 20, 0));
    assert_eq!(r.services[1].wasted.stopped, 20);
    assert_eq!(r.clients[0].counts.errors, 20);
}
