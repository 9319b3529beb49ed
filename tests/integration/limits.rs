//! Promises at the documented limits: requests in flight counted once, replications that stop
//! when the simulated clock creeps, and the bounds that keep a run's memory and time finite.

use capsim::results::RunResult;

fn run(json: &str) -> RunResult {
    let validated = capsim::model::parse_model(json, "limits.json").expect("valid model");
    capsim::run(&validated.model, &[], Some(1))
}

/// `users` closed-loop users thinking 100 s between requests to `api.get`, which calls
/// `store.read`: 1 % utilisation, under `limits.max_in_flight` = 1000.
fn closed_chain(users: u32) -> String {
    format!(
        r#"{{ "duration": "10m", "warmup": "1m", "replications": 2, "limits": {{ "max_in_flight": 1000 }},
  "clients": {{ "users": {{ "closed": {{ "users": {users}, "think": "100s" }}, "calls": "api.get" }} }},
  "services": {{ "api": {{ "workers": 4, "endpoints": {{ "get": [ {{ "cpu": "1ms" }}, {{ "call": "store.read" }} ] }} }},
                "store": {{ "workers": 4, "endpoints": {{ "read": [ {{ "cpu": "1ms" }} ] }} }} }} }}"#
    )
}

#[test]
fn a_request_counts_once_toward_max_in_flight_however_deep_its_call_chain() {
    // Every user sends at t = 0: 1000 requests in flight, each a client job, an api job and a
    // store job (3000 jobs). 1000 is within the limit; the run is stable and complete.
    let r = run(&closed_chain(1000));
    assert!(r.verdict.complete && !r.verdict.unstable, "{:?}", r.verdict.messages);
    // One user more is 1001 requests in flight at t = 0: above the limit, stopped as unstable.
    let r = run(&closed_chain(1001));
    assert!(r.verdict.unstable, "1001 requests in flight must exceed a limit of 1000");
    assert!(r.verdict.messages[0].contains("more than 1000 requests in flight at t = 0s"));
}

#[test]
fn a_crash_loop_with_a_one_nanosecond_uptime_is_stopped_as_creeping_with_exit_3() {
    // Each instance crashes 1 ns after it restarts, 1 ns after it crashed: an hour needs about
    // 10^12 events, 500 times the default budget of 2e9. Stopped after 10 million events, not after
    // the whole budget.
    let dir = super::scratch_dir("creep");
    let model = dir.join("crash-loop.json");
    std::fs::write(
        &model,
        r#"{ "duration": "1h", "warmup": "0s", "replications": 1,
  "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
  "services": { "api": { "workers": 4, "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
  "actions": [ { "at": "0s", "crash_loop": { "service": "api", "uptime": "1ns", "restart": "1ns" } } ] }"#,
    )
    .unwrap();
    super::capsim(&["run", model.to_str().unwrap(), "-q"])
        .expect_code(3)
        .stderr_has("simulated time creeps");
}

#[test]
fn users_with_a_one_nanosecond_think_time_against_a_loss_system_are_stopped_as_creeping() {
    // 100 users, each refused at once and back 1 ns later: time advances by picoseconds per event.
    let r = run(r#"{ "duration": "1h", "warmup": "0s", "replications": 1,
  "clients": { "users": { "closed": { "users": 100, "think": "1ns" }, "calls": "api.get" } },
  "services": { "api": { "workers": 1, "queue": { "capacity": 0 }, "endpoints": { "get": [ { "cpu": "1s" } ] } } } }"#);
    assert!(!r.verdict.complete);
    assert!(
        r.verdict.messages[0].contains("simulated time creeps"),
        "{:?}",
        r.verdict.messages
    );
    assert!(r.events <= 12_000_000, "stopped at the first look: {} events", r.events);
}

#[test]
fn an_endless_input_is_refused_after_the_most_capsim_reads_from_one_file() {
    super::capsim(&["run", "/dev/zero"])
        .expect_code(2)
        .stderr_has("larger than 256 MiB");
}

#[test]
fn closed_users_raise_the_default_limit_on_requests_in_flight() {
    // A closed system can never have more requests in flight than users: 500,001 users get
    // 100,000 + 500,001, so they are never "unstable" for being many.
    let validated = capsim::model::parse_model(
        r#"{ "clients": { "users": { "closed": { "users": 500001, "think": "100s" }, "calls": "api.get" } },
             "services": { "api": { "endpoints": { "get": [ { "cpu": "1ms" } ] } } } }"#,
        "m.json",
    )
    .map_err(|e| e.to_string())
    .expect("valid");
    assert_eq!(validated.model.max_in_flight, 600_001);
}

#[test]
fn a_chain_of_twenty_thousand_calls_answered_at_once_runs_within_a_threads_stack() {
    // Each request of `front.get` calls `store.put` 20,000 times for the same unit of work over
    // links that take no time: the first call costs 1 ms of CPU, the store skips the other
    // 19,999 as completed and answers them at once. Taken one inside another, those hops would
    // need a stack 20,000 calls deep; past a fixed depth they go through the event queue.
    // Requests arrive 1 s apart: every one takes exactly 1 ms and ends well.
    let steps = vec![r#"{ "call": "store.put" }"#; 20_000].join(", ");
    let r = run(&format!(
        r#"{{ "duration": "20s", "warmup": "0s", "replications": 1,
  "clients": {{ "web": {{ "open": {{ "rate": "1/s" }}, "calls": "front.get" }} }},
  "services": {{ "front": {{ "workers": 4, "endpoints": {{ "get": [ {steps} ] }} }},
                "store": {{ "workers": 4, "idempotency": {{ "skip_completed": {{ "capacity": 1000, "ttl": "1h" }} }},
                           "endpoints": {{ "put": [ {{ "cpu": "1ms" }} ] }} }} }} }}"#
    ));
    assert!(r.verdict.complete && !r.verdict.unstable, "{:?}", r.verdict.messages);
    let web = &r.clients[0];
    assert!(web.counts.started >= 10, "{} requests", web.counts.started);
    assert_eq!(web.counts.ok, web.counts.started - web.counts.in_flight_at_end);
    assert_eq!((web.latency.mean_ms.mean, web.latency.max_ms.mean), (1.0, 1.0));
}
