//! Rate limits (token buckets) against cases worked out in advance.
//!
//! A bucket of rate r and burst b starts full, so over [0, T] it hands out at most b + r·T
//! tokens. Under heavy overload (Poisson λ ≫ r) a token never waits long for a request: it is
//! taken within an Exp(λ) wait after it appears, the bucket never fills (it would need b/r
//! seconds without an arrival: probability e^(−λb/r)), so every token minted is taken but the
//! ones still in the bucket at the end — fewer than two, plus r × the time after the last
//! arrival (over 2/r with probability e^(−2λ/r)). Hence r·T − 3 ≤ admitted ≤ r·T + b, and the
//! rejected share is 1 − admitted / arrivals ≈ 1 − r/λ.

use capsim::results::{LimitSummary, RunResult};

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "limits.json").expect("valid model");
    capsim::run(&validated.model, &[], Some(2))
}

fn limit<'r>(r: &'r RunResult, name: &str) -> &'r LimitSummary {
    r.limits
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no limit {name}"))
}

/// An open client at `rate` against a service behind a rate limit of 50/s, burst `burst`,
/// for `duration`; the service answers after 1 ms and never queues.
fn open_against_limit(rate: &str, burst: u32, duration: &str, replications: u32) -> String {
    format!(
        r#"{{
  "duration": "{duration}", "warmup": "0s", "replications": {replications}, "seed": 11,
  "clients": {{ "flood": {{ "open": {{ "rate": "{rate}" }}, "calls": "api.get" }} }},
  "services": {{ "api": {{ "async": {{ "max_in_flight": 100000 }},
      "rate_limit": {{ "rate": "50/s", "burst": {burst} }},
      "endpoints": {{ "get": [ {{ "delay": "1ms" }} ] }} }} }}
}}"#
    )
}

#[test]
fn under_overload_the_accepted_rate_is_the_token_rate_and_the_rest_is_rejected() {
    // λ = 500/s against r = 50/s, b = 10, T = 300 s, 4 replications.
    let (r, b, t, reps, lambda) = (50.0, 10.0, 300.0, 4.0, 500.0);
    let result = run(&open_against_limit("500/s", 10, "5m", 4));
    let l = limit(&result, "api.rate_limit");
    let admitted = l.admitted as f64;
    assert!(
        admitted <= reps * (r * t + b) && admitted >= reps * (r * t - 3.0),
        "admitted {admitted}, bounds [{}, {}]",
        reps * (r * t - 3.0),
        reps * (r * t + b)
    );
    // The share per replication is 1 − admitted/N with N ~ Poisson(λT): sd ≈ (r/λ)/√(λT) =
    // 2.6e-4, the mean of 4 within 4 sd of it (plus the bucket's b/(λT) either way).
    let sd = (r / lambda) / (lambda * t).sqrt() / reps.sqrt();
    let expected = 1.0 - r / lambda;
    let share = l.rejected_share.mean;
    assert!(
        (share - expected).abs() <= 4.0 * sd + b / (lambda * t),
        "rejected share {share}, expected {expected} ± {}",
        4.0 * sd
    );
    // The service saw only what the limit let through, and the client counts the 429s as rejected.
    let client = &result.clients[0];
    assert_eq!(client.counts.rejected, l.rejected);
    assert_eq!(client.counts.ok + client.counts.in_flight_at_end, l.admitted);
}

#[test]
fn under_light_load_nothing_is_rejected() {
    // λ = 10/s against r = 50/s and b = 40: a rejection needs 40 + 50·t arrivals within some t
    // seconds: for t → 0 at least 40 at one instant (impossible), for t = 1 s P(Poisson(10) ≥
    // 90) < 1e-40; over the 4 × 10 minutes' 24,000 arrivals, far below 1e-6.
    let result = run(&open_against_limit("10/s", 40, "10m", 4));
    let l = limit(&result, "api.rate_limit");
    assert_eq!(l.rejected, 0);
    assert!(l.admitted > 20_000, "{}", l.admitted);
    assert_eq!(l.rejected_share.mean, 0.0);
}

/// 20 closed-loop users all sending at t = 0 through a client-side rate limit of 4/s, burst 5,
/// to an endpoint that takes 1 ms; `extra` is spliced into the client.
fn simultaneous_users(requests: u32, think: &str, extra: &str) -> String {
    format!(
        r#"{{
  "duration": "10s", "warmup": "0s", "replications": 1, "window": "1s",
  "clients": {{ "crowd": {{ "closed": {{ "users": 20, "requests": {requests}, "think": "{think}" }},
      "calls": "api.get", "rate_limit": {{ "rate": "4/s", "burst": 5 }} {extra} }} }},
  "services": {{ "api": {{ "async": {{ "max_in_flight": 1000 }}, "endpoints": {{ "get": [ {{ "delay": "1ms" }} ] }} }} }}
}}"#
    )
}

#[test]
fn a_burst_at_one_instant_passes_exactly_the_burst_and_the_next_passes_one_interval_later() {
    // t = 0: 20 requests, the full bucket passes 5, rejects 15 (answered at once). Each user
    // thinks 250 ms = 1/r: the 15 rejected send again at 250 ms, when exactly one token has come
    // back (one passes, 14 rejected); the 5 served send at 251 ms, with 0.004 tokens: all
    // rejected. Each user has sent its 2 requests: 6 admitted, 34 rejected.
    let result = run(&simultaneous_users(2, "250ms", ""));
    let l = limit(&result, "crowd.rate_limit");
    assert_eq!((l.admitted, l.rejected), (6, 34));
    assert_eq!(l.series[0].admitted_per_s, 6.0);
    let client = &result.clients[0];
    assert_eq!((client.counts.ok, client.counts.rejected), (6, 34));
}

#[test]
fn a_429_is_retried_only_when_retry_on_says_so() {
    // t = 0: 5 of 20 pass, 15 are rate limited. A retry 100 ms later finds 0.4 tokens: rejected.
    let retry = |on: &str| format!(r#", "retry": {{ "attempts": 2, "backoff": "100ms", "jitter": "none" {on} }}"#);
    // Not in retry_on: no retry, one attempt per request.
    let not_listed = run(&simultaneous_users(1, "0s", &retry(r#", "retry_on": ["timeout", "error"]"#)));
    let l = limit(&not_listed, "crowd.rate_limit");
    assert_eq!((l.admitted, l.rejected, not_listed.clients[0].counts.retries), (5, 15, 0));
    // Listed, or retry_on left out (every kind): each of the 15 retried once, rejected again.
    for on in [r#", "retry_on": ["rate_limited"]"#, ""] {
        let listed = run(&simultaneous_users(1, "0s", &retry(on)));
        let l = limit(&listed, "crowd.rate_limit");
        assert_eq!(
            (l.admitted, l.rejected, listed.clients[0].counts.retries),
            (5, 30, 15),
            "{on}"
        );
    }
    // "rejected" is not "rate_limited": a 429 is a kind of its own.
    let rejected_only = run(&simultaneous_users(1, "0s", &retry(r#", "retry_on": ["rejected"]"#)));
    assert_eq!(rejected_only.clients[0].counts.retries, 0);
}

#[test]
fn a_rate_limit_on_a_call_step_limits_that_call_only_and_is_resolvable_by_metric_name() {
    // 20 users at t = 0 call api.get, whose step calls db.read through a limit of burst 5: 5
    // reads pass, 15 fail (api.get answers with an error), none retried.
    let json = r#"{
  "duration": "10s", "warmup": "0s", "replications": 1,
  "clients": { "crowd": { "closed": { "users": 20, "requests": 1 }, "calls": "api.get" } },
  "services": {
    "api": { "async": { "max_in_flight": 1000 }, "endpoints": { "get": [
        { "call": "db.read", "rate_limit": { "rate": "1/s", "burst": 5 } } ] } },
    "db": { "async": { "max_in_flight": 1000 }, "endpoints": { "read": [ { "delay": "1ms" } ] } } }
}"#;
    let result = run(json);
    let l = limit(&result, "api.get->db.read.rate_limit");
    assert_eq!((l.admitted, l.rejected), (5, 15));
    let share = capsim::results::metric::resolve(&result, "api.get->db.read.rate_limit.rejected_share").unwrap();
    assert_eq!(share.estimate.mean, 0.75);
    assert_eq!(result.clients[0].counts.errors, 15);
    let windows = capsim::results::metric::series(&result, "api.get->db.read.rate_limit.rejected").unwrap();
    // 15 in the first window of 10 s / 60.
    assert!((windows[0].1 - 90.0).abs() < 1e-6, "{:?}", windows[0]);
}

#[test]
fn limits_and_delayed_messages_are_byte_identical_whatever_the_thread_count() {
    // A rate-limited service, a bulkhead with a line and a timed wait, a retry on 429s and a
    // delayed publish, in one model: its JSON with 1 and 3 threads.
    let json = r#"{
  "duration": "2m", "warmup": "10s", "replications": 5, "seed": 4,
  "clients": { "web": { "open": { "rate": "120/s" }, "calls": "api.get",
      "retry": { "attempts": 2, "backoff": "20ms", "retry_on": ["rate_limited"] } } },
  "services": {
    "api": { "workers": 8, "rate_limit": { "rate": "100/s", "burst": 10 }, "endpoints": { "get": [
        { "call": "db.read", "bulkhead": { "max_concurrent": 2, "queue": 4, "max_wait": "30ms" } },
        { "publish": "audits", "delay": "exp(2s)" } ] } },
    "db": { "workers": 4, "endpoints": { "read": [ { "cpu": "exp(15ms)" } ] } },
    "audit": { "workers": 2, "endpoints": { "write": [ { "cpu": "exp(3ms)" } ] } } },
  "queues": { "audits": { "visibility_timeout": "30s", "consumer": { "calls": "audit.write", "concurrency": 4 } } }
}"#;
    let dir = super::scratch_dir("limits-threads");
    let model = dir.join("m.json");
    std::fs::write(&model, json).unwrap();
    let out = |threads: &str| {
        let run = super::capsim(&["run", model.to_str().unwrap(), "--json", "-", "--quiet", "--threads", threads]);
        run.expect_code(0);
        run.stdout.clone()
    };
    let (one, three) = (out("1"), out("3"));
    assert!(one.contains("\"limits\""));
    assert_eq!(one, three);
}

#[test]
fn an_endpoint_limit_holds_its_endpoint_to_the_token_rate_and_leaves_the_others_alone() {
    // The same bounds as the service's limit: λ = 500/s on `search` against r = 50/s, b = 10,
    // T = 300 s, 2 replications; `home` at 100/s shares the service and is never limited.
    let (r, b, t, reps) = (50.0, 10.0, 300.0, 2.0);
    let result = run(r#"{
  "duration": "5m", "warmup": "0s", "replications": 2, "seed": 11,
  "clients": { "flood": { "open": { "rate": "500/s" }, "calls": "api.search" },
               "visitors": { "open": { "rate": "100/s" }, "calls": "api.home" } },
  "services": { "api": { "async": { "max_in_flight": 100000 },
      "endpoint_rate_limits": { "search": { "rate": "50/s", "burst": 10 } },
      "endpoints": { "search": [ { "delay": "1ms" } ], "home": [ { "delay": "1ms" } ] } } }
}"#);
    let l = limit(&result, "api.search.rate_limit");
    let admitted = l.admitted as f64;
    assert!(
        admitted <= reps * (r * t + b) && admitted >= reps * (r * t - 3.0),
        "admitted {admitted}"
    );
    assert_eq!(result.clients[0].counts.rejected, l.rejected);
    let visitors = &result.clients[1].counts;
    assert_eq!((visitors.rejected, visitors.errors), (0, 0));
    // It is a limit like the others: its share by metric name.
    let share = capsim::results::metric::resolve(&result, "api.search.rate_limit.rejected_share").expect("a metric");
    assert_eq!(share.estimate.mean, l.rejected_share.mean);
}

#[test]
fn an_endpoint_limit_on_no_such_endpoint_is_refused_with_its_path() {
    let message = crate::refused(
        r#"{ "clients": { "c": { "open": { "rate": "1/s" }, "calls": "api.get" } },
  "services": { "api": { "endpoint_rate_limits": { "serch": { "rate": "5/s" } },
      "endpoints": { "get": [ { "cpu": "1ms" } ] } } } }"#,
    );
    assert!(
        message.contains("services.api.endpoint_rate_limits.serch") && message.contains("no endpoint \"serch\" (endpoints: get)"),
        "{message}"
    );
}

#[test]
fn the_capacity_arithmetic_counts_only_what_a_rate_limit_lets_through() {
    // 1,000 requests a second against a gateway limit of 200/s in front of 4 workers that take
    // 10 ms each: offered, the workers would be 1000 × 0.01 / 4 = 250 % busy; through the limit,
    // 200 × 0.01 / 4 = 50 %. No overload warning, and the run measures the 50 % (admitted
    // within r·T − 3 and r·T + b, so busy time within 1 ‰ of it over 10 minutes).
    let json = r#"{
  "duration": "10m", "warmup": "0s", "replications": 2, "seed": 3,
  "clients": { "flood": { "open": { "rate": "1000/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 4, "rate_limit": { "rate": "200/s", "burst": 10 },
      "endpoints": { "get": [ { "cpu": "10ms" } ] } } } }"#;
    let validated = capsim::model::parse_model(json, "limits.json").expect("valid model");
    assert!(validated.warnings.is_empty(), "{:?}", validated.warnings);
    use capsim::model::capacity::{offered_load, Level};
    let predicted = offered_load(&validated.model, Level::Peak).services[0];
    assert!((predicted - 0.5).abs() < 1e-12, "{predicted}");
    let r = capsim::run(&validated.model, &[], Some(2));
    let measured = &r.services[0].utilisation;
    assert!((measured.mean - 0.5).abs() < 1e-3, "{measured:?}");
}
