//! Shared pieces: proptest configuration, child processes with a timeout and a memory cap, and
//! running a model on a tiny budget with its conservation checks.

use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Memory cap of a child process running one model or one case: far above what a tiny-budget run
/// needs (tens of MB), far below what would hurt the machine.
pub const CHILD_CAP_BYTES: usize = 1 << 30;

/// The number of cases: `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A proptest configuration with `default` cases (see [`cases`]) whose failures are saved to
/// `regressions` (a path under tests/fuzz/).
pub fn config(default: u32, regressions: &'static str) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        // Shrinking a hang costs a timeout per step: give up after a while and report what we have.
        max_shrink_time: 60_000,
        ..Config::default()
    }
}

/// [`config`] for properties that run simulations: each case in a forked child (so a crash, an
/// abort or a hang fails the case instead of the binary), killed after `timeout_ms`.
pub fn forked_config(default: u32, regressions: &'static str, timeout_ms: u32) -> Config {
    Config {
        fork: true,
        timeout: timeout_ms,
        // In fork mode a hanging shrink step costs a whole timeout, and the shrink clock restarts
        // in every new child: bound the steps instead (they count across children).
        max_shrink_iters: 8,
        ..config(default, regressions)
    }
}

/// Inside a child process running proptest cases (forked by proptest).
pub fn in_proptest_child() -> bool {
    std::env::var_os("_PROPTEST_FORKFILE").is_some()
}

/// Arm the memory cap, but only inside a forked proptest child (never in the test binary itself).
pub fn cap_memory_in_child() {
    if in_proptest_child() {
        crate::alloc::arm_cap(CHILD_CAP_BYTES);
    }
}

/// The environment variable that tells a child which isolated test to run for real.
const CHILD_ENV: &str = "CAPSIM_FUZZ_CHILD";

/// How an isolated test is bounded.
pub struct Bounds {
    /// Wall-clock time after which the child is deemed hung and killed. A hang detector, not a
    /// performance bound: every case given one should finish in well under a second.
    pub timeout: Duration,
    /// Most bytes the child may have allocated at once.
    pub cap_bytes: usize,
}

impl Bounds {
    /// A few seconds and 1 GiB: plenty for any tiny-budget run.
    pub fn default_bounds() -> Bounds {
        Bounds {
            timeout: Duration::from_secs(scaled_secs(20)),
            cap_bytes: CHILD_CAP_BYTES,
        }
    }
}

/// `secs` times `FUZZ_TIMEOUT_SCALE` (default 1), for slow machines.
pub fn scaled_secs(secs: u64) -> u64 {
    let scale: f64 = std::env::var("FUZZ_TIMEOUT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(1.0);
    ((secs as f64) * scale).ceil() as u64
}

/// Run `body` in a child process (this test binary, filtered to test `test` — its libtest name,
/// like "extremes::rate_at_the_limit") with `bounds`. In the parent: panics with what happened
/// when the child fails, crashes, passes its memory cap or runs past the timeout (it is then
/// killed, by its own id). In the child: runs `body` with the cap armed and reports its peak.
pub fn isolated(test: &str, bounds: Bounds, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test) {
        crate::alloc::arm_cap(bounds.cap_bytes);
        body();
        println!("FUZZ-CHILD-PEAK-BYTES {}", crate::alloc::peak_bytes());
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, test)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary as a child");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if start.elapsed() > bounds.timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let tail = |s: &str| -> String {
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    };
    let Some(status) = status else {
        panic!(
            "{test}: still running after {:.0?}, killed: a hang (work that should take milliseconds)\n--- stdout\n{}\n--- stderr\n{}",
            bounds.timeout,
            tail(&out),
            tail(&err)
        );
    };
    let ran = out.contains("test result: ok. 1 passed");
    if !status.success() || !ran {
        let why = if err.contains("memory allocation of") {
            format!(
                "went past its memory cap of {} MiB (unbounded allocation)",
                bounds.cap_bytes >> 20
            )
        } else if err.contains("has overflowed its stack") {
            "overflowed its stack".to_string()
        } else {
            format!("failed ({status})")
        };
        panic!(
            "{test}: {why} after {elapsed:.1?}\n--- stdout\n{}\n--- stderr\n{}",
            tail(&out),
            tail(&err)
        );
    }
    let peak_bytes: Option<usize> = out
        .lines()
        .find_map(|l| l.strip_prefix("FUZZ-CHILD-PEAK-BYTES "))
        .and_then(|n| n.trim().parse().ok());
    println!(
        "{test}: {:.0} ms, peak {} MiB",
        elapsed.as_secs_f64() * 1e3,
        peak_bytes.map_or("?".to_string(), |b| (b >> 20).to_string())
    );
}

/// The libtest name of a test function in this binary from its `module_path!()` and name
/// ("fuzz::extremes" + "x" → "extremes::x").
pub fn test_name(module_path: &str, name: &str) -> String {
    let module = module_path.split_once("::").map_or("", |(_, rest)| rest);
    if module.is_empty() {
        name.to_string()
    } else {
        format!("{module}::{name}")
    }
}

/// Run the enclosing test's body isolated (see [`isolated`]) with the given bounds.
#[macro_export]
macro_rules! isolated_test {
    ($(#[$meta:meta])* $name:ident, $bounds:expr, $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            let name = $crate::support::test_name(module_path!(), stringify!($name));
            $crate::support::isolated(&name, $bounds, || $body);
        }
    };
}

/// An example model's JSON.
pub fn example(name: &str) -> Value {
    let path = format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The model's run settings replaced by a tiny budget: `duration`, no warm-up (so every request
/// is counted), the default window, one replication and at most `max_events` events. Returns
/// false when the JSON is not an object.
pub fn shrink_budget(model: &mut Value, duration: &str, max_events: u64) -> bool {
    let Some(map) = model.as_object_mut() else {
        return false;
    };
    map.insert("duration".into(), json!(duration));
    map.insert("warmup".into(), json!("0s"));
    map.remove("window");
    map.insert("replications".into(), json!(1));
    match map.get_mut("limits").and_then(Value::as_object_mut) {
        Some(limits) => {
            limits.insert("max_events".into(), json!(max_events));
        }
        None => {
            map.insert("limits".into(), json!({ "max_events": max_events }));
        }
    }
    true
}

/// Run a validated model and check what must hold whatever the model: every client's and
/// endpoint's requests are accounted for (warm-up 0), and every rendering works (tables, JSON,
/// CSV, SVG plots, expectations). Returns the result.
pub fn run_and_check(validated: &capsim::model::Validated, model_json: &Value) -> Result<capsim::results::RunResult, String> {
    let model = &validated.model;
    let warnings: Vec<String> = validated.warnings.iter().map(|w| w.to_string()).collect();
    let result = capsim::run(model, &warnings, Some(1));
    if model.warmup_ns == 0 {
        let rows = result
            .clients
            .iter()
            .map(|c| (format!("client {}", c.name), &c.counts))
            .chain(result.endpoints.iter().map(|e| (format!("endpoint {}", e.name), &e.counts)));
        for (name, c) in rows {
            let ended = c.ok + c.timeouts + c.rejected + c.errors + c.in_flight_at_end;
            if c.started != ended {
                return Err(format!(
                    "{name}: started {} != ok {} + timeouts {} + rejected {} + errors {} + in flight {} (= {ended}); verdict {:?}",
                    c.started, c.ok, c.timeouts, c.rejected, c.errors, c.in_flight_at_end, result.verdict
                ));
            }
        }
    }
    let _ = capsim::report::table::summary(&result);
    let _ = capsim::report::json::to_json(&result);
    let _ = capsim::report::csv::summary_csv(&result);
    let _ = capsim::report::csv::timeseries_csv(&result);
    if !(skip_known_bugs() && actions_far_past_the_run(model)) {
        let _ = capsim::report::plot::svg(&capsim::report::plot::latency_over_time(&result, None));
        let _ = capsim::report::plot::svg(&capsim::report::plot::stations_over_time(&result, Some("fuzz")));
    }
    for e in expectations_of(model_json).iter().filter(|e| e.scenario.is_none()) {
        let _ = capsim::analysis::expect::evaluate(e, None, &result, Some(&result));
    }
    Ok(result)
}

/// `FUZZ_SKIP_KNOWN_BUGS` is set: leave out inputs that would only hit an open, reported bug, so
/// a soak looks for new ones.
pub fn skip_known_bugs() -> bool {
    std::env::var_os("FUZZ_SKIP_KNOWN_BUGS").is_some()
}

/// A timed action starts or ends over 1000 run lengths away: its plot span overflows
/// (known_bugs::an_action_lasting_past_the_run_plots_without_overflow).
pub fn actions_far_past_the_run(model: &capsim::model::Model) -> bool {
    let far = model.duration_ns.saturating_mul(1000);
    model
        .actions
        .iter()
        .any(|a| a.at_ns > far || a.until_ns.is_some_and(|u| u > far))
}

/// Compare a scenario's result with its baseline's, and render the comparison (text, JSON, plot)
/// and the scenario's expectations, as `capsim run --scenario` and `capsim check` do.
pub fn compare_and_render(
    baseline: &capsim::results::RunResult,
    name: &str,
    scenario: capsim::results::RunResult,
    model_json: &Value,
) {
    use capsim::analysis::compare::{compare, ScenarioReport, ScenarioRun};
    for e in &expectations_of(model_json) {
        let _ = capsim::analysis::expect::evaluate(e, Some(name), &scenario, Some(baseline));
    }
    let report = ScenarioReport {
        schema_version: capsim::results::SCHEMA_VERSION,
        baseline: baseline.clone(),
        scenarios: vec![ScenarioRun {
            name: name.to_string(),
            description: None,
            comparison: compare(baseline, &scenario),
            result: scenario,
        }],
    };
    let _ = capsim::report::compare::comparison(&report);
    let _ = capsim::report::json::to_json(&report);
    if !skip_known_bugs() {
        let _ = capsim::report::plot::svg(&capsim::report::plot::scenarios_compared(&report));
    }
}

/// The model's expectations as `capsim check` reads them (none when they do not read).
fn expectations_of(model_json: &Value) -> Vec<capsim::analysis::expect::Expectation> {
    let scenarios: Vec<String> = model_json
        .get("scenarios")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let expect = model_json.get("expect").cloned().unwrap_or(Value::Null);
    capsim::analysis::expect::read_expectations(&expect, &scenarios).unwrap_or_default()
}
