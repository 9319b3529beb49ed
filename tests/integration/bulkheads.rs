//! Bulkheads against queueing theory worked out in advance.
//!
//! A bulkhead of k places without a line in front of a call that always takes D is an Erlang
//! loss system: Poisson calls at λ find all k places taken with probability Erlang B(k, λD),
//! whatever the distribution of the holding time (insensitivity), so that is the share it
//! rejects. With a line long enough never to fill, nothing is lost.

use capsim::results::RunResult;

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "bulkhead.json").expect("valid model");
    capsim::run(&validated.model, &[], Some(2))
}

/// Erlang B by the stable recursion B(0) = 1, B(n) = aB(n−1) / (n + aB(n−1)).
fn erlang_b(k: u32, a: f64) -> f64 {
    (1..=k).fold(1.0, |b, n| a * b / (f64::from(n) + a * b))
}

/// Checkout calls payments (100 ms, never queued) through a bulkhead spliced in as `bulkhead`;
/// 40 orders a second.
fn checkout(bulkhead: &str) -> String {
    format!(
        r#"{{
  "duration": "10m", "warmup": "30s", "replications": 8, "seed": 3,
  "clients": {{ "shoppers": {{ "open": {{ "rate": "40/s" }}, "calls": "api.checkout" }} }},
  "services": {{
    "api": {{ "async": {{ "max_in_flight": 100000 }}, "endpoints": {{ "checkout": [
        {{ "call": "payments.charge", "bulkhead": {bulkhead} }} ] }} }},
    "payments": {{ "async": {{ "max_in_flight": 100000 }}, "endpoints": {{ "charge": [ {{ "delay": "100ms" }} ] }} }} }}
}}"#
    )
}

#[test]
fn a_bulkhead_without_a_line_loses_the_erlang_b_share_of_calls() {
    // k = 5 places, a = λD = 40/s × 0.1 s = 4 Erlang: B(5, 4) = 0.1991.
    let expected = erlang_b(5, 4.0);
    assert!((expected - 0.19907).abs() < 1e-4);
    let result = run(&checkout(r#"{ "max_concurrent": 5 }"#));
    let l = &result.limits[0];
    assert_eq!(l.name, "api.checkout->payments.charge.bulkhead");
    let share = &l.rejected_share;
    // The replications' mean within its 99.9 % interval (Student t, 7 degrees of freedom: 5.41
    // standard errors; the 95 % half-width is 2.365 of them).
    let half_width = share.ci95 / 2.365 * 5.41;
    assert!(
        (share.mean - expected).abs() <= half_width,
        "rejected share {} ± {half_width}, Erlang B {expected}",
        share.mean
    );
    // Every rejected call failed its checkout: the client saw each as an error.
    assert_eq!(result.clients[0].counts.errors, l.rejected);
}

#[test]
fn a_bulkhead_with_a_long_enough_line_loses_nothing() {
    // Five places at 80 % load (an M/D/5 queue): a line of 10,000 never fills.
    let result = run(&checkout(r#"{ "max_concurrent": 5, "queue": 10000 }"#));
    let l = &result.limits[0];
    assert_eq!(l.rejected, 0);
    assert_eq!(result.clients[0].counts.errors, 0);
    assert!(l.admitted > 8 * 9 * 60 * 35, "{}", l.admitted);
}

#[test]
fn a_waiter_is_rejected_after_max_wait_and_the_next_free_place_goes_to_the_first_in_line() {
    // One place, a line of one with a 150 ms wait, calls of 100 ms. Three users at t = 0: the
    // first takes the place, the second waits, the third is rejected at once. At 100 ms the
    // second gets the place (waited 100 ms < 150 ms) and is done at 200 ms: 2 admitted, 1 rejected.
    // With a 50 ms wait the second is rejected at 50 ms instead: 1 admitted, 2 rejected.
    let json = |max_wait: &str| {
        format!(
            r#"{{
  "duration": "10s", "warmup": "0s", "replications": 1,
  "clients": {{ "crowd": {{ "closed": {{ "users": 3, "requests": 1 }}, "calls": "api.get",
      "bulkhead": {{ "max_concurrent": 1, "queue": 1, "max_wait": "{max_wait}" }} }} }},
  "services": {{ "api": {{ "async": {{ "max_in_flight": 1000 }}, "endpoints": {{ "get": [ {{ "delay": "100ms" }} ] }} }} }}
}}"#
        )
    };
    let long = run(&json("150ms"));
    let l = &long.limits[0];
    assert_eq!((l.name.as_str(), l.admitted, l.rejected), ("crowd.bulkhead", 2, 1));
    assert_eq!(long.clients[0].counts.ok, 2);
    // The one that waited took 200 ms end to end.
    assert!((long.clients[0].latency.max_ms.mean - 200.0).abs() < 0.5);
    let short = run(&json("50ms"));
    let l = &short.limits[0];
    assert_eq!((l.admitted, l.rejected), (1, 2));
}
