//! Hedged requests: timelines worked out by hand, and hedges refused with their JSON path.
//!
//! One closed user sends a request, waits for the answer, thinks 1 s and sends again: requests
//! start at 0, 1.1 s, 2.2 s … 9.9 s, ten in a 10 s run, when the backend takes 100 ms.

use crate::refused;
use capsim::results::RunResult;

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "hedge.json").expect("valid model");
    capsim::run(&validated.model, &[], Some(2))
}

/// One user calling `backend.get` with `call` settings spliced in, the backend as `backend`.
fn one_user(call: &str, backend: &str) -> String {
    format!(
        r#"{{ "name": "hedge", "duration": "10s", "warmup": "0s", "replications": 1, "seed": 1,
          "clients": {{ "user": {{ "closed": {{ "users": 1, "think": "1s" }}, "calls": "backend.get", {call} }} }},
          "services": {{ "backend": {backend} }} }}"#
    )
}

#[test]
fn a_copy_that_loses_is_answered_for_nobody_and_the_caller_keeps_the_first_answer() {
    // 100 ms every time, a copy after 30 ms: the first copy answers at 100 ms, the second at
    // 130 ms for nobody. The tenth request's copy (9.9 s + 130 ms) is still out at 10 s.
    let r = run(&one_user(
        r#""hedge": { "after": "30ms" }"#,
        r#"{ "workers": 10, "endpoints": { "get": [ { "delay": "100ms" } ] } }"#,
    ));
    let c = &r.clients[0];
    assert_eq!((c.counts.started, c.counts.ok), (10, 10));
    assert_eq!(c.latency.max_ms.mean, 100.0);
    let h = &r.hedges[0];
    assert_eq!((h.attempts, h.hedges, h.won), (10, 10, 0));
    assert_eq!(h.extra_load.mean, 1.0);
    assert_eq!(h.won_share.mean, 0.0);
    assert_eq!(h.delay_ms.mean, 30.0);
    assert_eq!(h.name, "user.hedge");
    // Twenty calls reached the backend; nineteen were answered, nine of them for nobody.
    let e = &r.endpoints[0];
    assert_eq!((e.counts.started, e.counts.ok, e.counts.in_flight_at_end), (20, 19, 1));
    assert_eq!(r.services[0].wasted.finished_for_nobody, 9);
}

#[test]
fn a_copy_refused_while_the_first_is_out_leaves_the_call_to_the_first() {
    // One worker and no line: the copy at 30 ms finds the worker busy and is refused at once.
    // The call waits for its first copy, which answers at 100 ms: no request fails.
    let r = run(&one_user(
        r#""hedge": { "after": "30ms" }"#,
        r#"{ "workers": 1, "queue": { "capacity": 0 }, "endpoints": { "get": [ { "delay": "100ms" } ] } }"#,
    ));
    let c = &r.clients[0];
    assert_eq!((c.counts.started, c.counts.ok, c.counts.rejected), (10, 10, 0));
    assert_eq!(c.latency.max_ms.mean, 100.0);
    assert_eq!(r.endpoints[0].counts.rejected, 10);
    assert_eq!((r.hedges[0].hedges, r.hedges[0].won), (10, 0));
}

#[test]
fn the_attempts_timeout_stops_waiting_for_both_copies() {
    // 100 ms every time, a copy after 20 ms, a 50 ms timeout and no retry: each request times
    // out at 50 ms, so requests start every 1.05 s: at 0, 1.05 … 9.45 s, ten of them. Both
    // copies of each finish for nobody, at 100 and 120 ms (the tenth's by 9.57 s).
    let r = run(&one_user(
        r#""timeout": "50ms", "hedge": { "after": "20ms" }"#,
        r#"{ "workers": 10, "endpoints": { "get": [ { "delay": "100ms" } ] } }"#,
    ));
    let c = &r.clients[0];
    assert_eq!((c.counts.started, c.counts.timeouts), (10, 10));
    assert_eq!((r.hedges[0].attempts, r.hedges[0].hedges), (10, 10));
    assert_eq!(r.services[0].wasted.finished_for_nobody, 20);
}

#[test]
fn a_copy_after_50_ms_of_a_10_or_200_ms_backend_wins_half_the_slow_calls() {
    // The backend takes 10 or 200 ms, even odds. A copy goes when the first takes 200 ms (half
    // the calls); it answers first at 50 + 10 = 60 ms when its own draw is 10 ms (half of those)
    // and loses at 250 ms otherwise. Latency: 10 ms (1/2), 60 ms (1/4), 200 ms (1/4): mean 70 ms.
    let json = r#"{ "name": "bimodal", "duration": "20m", "warmup": "30s", "replications": 10, "seed": 5,
        "clients": { "web": { "open": { "rate": "100/s" }, "calls": "backend.get", "hedge": { "after": "50ms" } } },
        "services": { "backend": { "async": { "max_in_flight": 100000 },
            "endpoints": { "get": [ { "delay": "empirical(10ms, 200ms)" } ] } } } }"#;
    let r = run(json);
    let within = |what: &str, e: &capsim::stats::Estimate, expected: f64| {
        assert!(
            e.low() <= expected && expected <= e.high(),
            "{what}: {expected} outside [{}, {}]",
            e.low(),
            e.high()
        );
    };
    within("mean latency (ms)", &r.clients[0].latency.mean_ms, 70.0);
    within("extra load", &r.hedges[0].extra_load, 0.5);
    within("copy answered first", &r.hedges[0].won_share, 0.5);
}

#[test]
fn a_hedge_is_refused_with_its_path_when_it_is_not_one_delay_or_one_percentile() {
    let cases = [
        (
            r#""hedge": { "after": "20ms", "at": "p95" }"#,
            "clients.user.hedge",
            "exactly one of",
        ),
        (r#""hedge": {}"#, "clients.user.hedge", "exactly one of"),
        (r#""hedge": { "at": "95" }"#, "clients.user.hedge.at", "such as \"p95\""),
        (r#""hedge": { "at": "p100" }"#, "clients.user.hedge.at", "got \"p100\""),
        (r#""hedge": { "after": "0ms" }"#, "clients.user.hedge.after", "above 0"),
    ];
    let backend = r#"{ "workers": 10, "endpoints": { "get": [ { "delay": "100ms" } ] } }"#;
    for (call, path, why) in cases {
        let message = refused(&one_user(call, backend));
        assert!(message.contains(path) && message.contains(why), "{call}: {message}");
    }
    let on_a_delay = one_user(
        r#""timeout": "1s""#,
        r#"{ "workers": 10, "endpoints": { "get": [ { "delay": "100ms", "hedge": { "after": "20ms" } } ] } }"#,
    );
    let message = refused(&on_a_delay);
    assert!(
        message.contains("services.backend.endpoints.get[0].hedge") && message.contains("belongs to a \"call\" step"),
        "{message}"
    );
}

#[test]
fn the_memory_estimate_counts_both_copies_of_a_hedged_call_and_everything_below_them() {
    // web -> a -> b -> c: a chain of 4 jobs (the client request and three endpoints). Hedging
    // the client's call doubles the 3 below it (1 + 2 × 3 = 7); hedging a's call to b as well
    // doubles b's 2 under each copy of a (1 + 2 × (1 + 2 × 2) = 11).
    let model = |client_hedge: &str, a_hedge: &str| {
        format!(
            r#"{{ "clients": {{ "web": {{ "open": {{ "rate": "1/s" }}, "calls": "a.get" {client_hedge} }} }},
              "services": {{
                "a": {{ "endpoints": {{ "get": [ {{ "call": "b.get" {a_hedge} }} ] }} }},
                "b": {{ "endpoints": {{ "get": [ {{ "call": "c.get" }} ] }} }},
                "c": {{ "endpoints": {{ "get": [ {{ "cpu": "1ms" }} ] }} }} }} }}"#
        )
    };
    let hedge = r#", "hedge": { "after": "5ms" }"#;
    for (client, a, depth) in [("", "", 4), (hedge, "", 7), (hedge, hedge, 11)] {
        let validated = capsim::model::parse_model(&model(client, a), "chain.json").expect("valid model");
        assert_eq!(capsim::model::memory::estimate(&validated.model).chain_depth, depth);
    }
}
