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
