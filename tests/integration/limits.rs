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

/// The quickstart model with a 1 s window (3480 windows after the 2 m warm-up), `replications`
/// replications and no scenarios, written to a scratch file.
fn quickstart_with_one_second_windows(replications: u32) -> std::path::PathBuf {
    let mut model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(super::example("quickstart.json")).unwrap()).unwrap();
    let object = model.as_object_mut().unwrap();
    for key in ["scenarios", "expect", "sweeps"] {
        object.remove(key);
    }
    object.insert("window".into(), "1s".into());
    object.insert("replications".into(), replications.into());
    let path = super::scratch_dir("memory").join("quickstart-1s.json");
    std::fs::write(&path, model.to_string()).unwrap();
    path
}

#[test]
fn a_run_estimated_above_its_memory_budget_is_refused_before_it_starts_naming_what_to_change() {
    // 5 replications × 3480 windows × 5 latency series × ~24 KiB of histogram each, kept until
    // the merge: about 2.6 GB, above the default budget of 2 GB. Refused with exit 2 at once.
    let model = quickstart_with_one_second_windows(5);
    let run = super::capsim(&["run", model.to_str().unwrap(), "-q"]);
    run.expect_code(2)
        .stderr_has("limits.max_memory: this run needs about")
        .stderr_has("fewer replications")
        .stderr_has("a coarser \"window\"")
        .stderr_has("--max-memory");
    // The same run is accepted with a budget that holds it (not run here: it is the refusal
    // that is tested), and a budget that is not an amount of memory is bad input.
    super::capsim(&["run", model.to_str().unwrap(), "--max-memory", "lots"])
        .expect_code(2)
        .stderr_has("--max-memory: expected an amount of memory");
}

#[test]
fn the_memory_estimate_is_above_the_peak_a_run_measures() {
    // Measure the binary's own peak resident memory (wait4's rusage of that one child) on a
    // run whose results dominate (2 replications × 3480 windows), one thread.
    let model = quickstart_with_one_second_windows(2);
    let validated = capsim::model::load_model(model.to_str().unwrap()).expect("valid within 2 GB");
    let estimate = capsim::model::memory::estimate(&validated.model).total(1);
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["run", model.to_str().unwrap(), "-q", "--threads", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by the kernel; the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status}");
    let peak = usage.ru_maxrss as u64 * 1024;
    assert!(peak > 200_000_000, "the run's series are real: {peak} bytes");
    assert!(estimate >= peak, "estimated {estimate} bytes, measured a peak of {peak}");
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
