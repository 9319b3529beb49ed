//! The answer in one sentence per run, at the top of the terminal summary and of the report page.
//!
//! The model (as in slo_windows.rs): an M/M/1 (10 ms mean service) at 50 requests/s (ρ = 0.5) for
//! an hour, 90/s (ρ = 0.9) from 30 m to 33 m, in 1-minute windows after a 2-minute warm-up. Worked
//! out in advance: off the peak p99 = ln(100)/(μ − λ) = ln(100)/50 = 92 ms; at the peak
//! ln(100)/10 = 461 ms; the run's p99 about 219 ms. So a p99 bound of 300 ms is breached in
//! exactly the three peak windows (30m–33m) and recovered when the surge is undone; a bound of
//! 1 s holds throughout; a bound of 50 ms is breached over the whole run. No request fails (no
//! timeout, unbounded queue).

use capsim::report::headline::{of_run, Outcome};
use capsim::results::RunResult;

fn run(p99: &str, surge: bool) -> RunResult {
    let actions = if surge {
        r#""actions": [ { "at": "30m", "for": "3m", "scale_traffic": { "client": "arrivals", "factor": 1.8 } } ],"#
    } else {
        ""
    };
    let json = format!(
        r#"{{ "name": "peak", "duration": "1h", "warmup": "2m", "window": "1m", "replications": 5, "seed": 8,
          "clients": {{ "arrivals": {{ "open": {{ "rate": "50/s" }}, "calls": "server.serve" }} }},
          "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          {actions}
          "slos": {{ "server.serve": {{ "p99": "{p99}" }} }} }}"#
    );
    let validated = capsim::model::parse_model(&json, "peak.json").expect("a valid model");
    capsim::run(&validated.model, &[], None)
}

#[test]
fn a_surge_that_breaches_for_its_three_minutes_is_told_with_its_length_and_recovery() {
    let result = run("300ms", true);
    let headline = of_run("baseline", &result);
    assert_eq!(headline.outcome, Outcome::Broke);
    assert_eq!(
        headline.text,
        "1 of 1 components with an SLO breached for 3m after arrivals traffic ×1.8 at 30m; \
         recovered by the time it ended; none of arrivals' requests failed"
    );
    assert!(headline.line().starts_with("BROKE baseline: 1 of 1 components"));
}

#[test]
fn a_bound_that_holds_through_the_surge_says_so() {
    let result = run("1s", true);
    let headline = of_run("baseline", &result);
    assert_eq!(headline.outcome, Outcome::Held);
    assert_eq!(
        headline.text,
        "the SLO of server.serve met through arrivals traffic ×1.8 at 30m"
    );
}

#[test]
fn a_bound_breached_over_the_run_names_the_objective_and_what_it_measured() {
    let result = run("50ms", false);
    let headline = of_run("baseline", &result);
    assert_eq!(headline.outcome, Outcome::Broke);
    // "1 of 1 SLOs breached: server.serve p99 92ms (≤ 50ms); none of arrivals' requests failed",
    // the measured p99 about 92 ms.
    let text = &headline.text;
    let measured = text
        .strip_prefix("1 of 1 SLOs breached: server.serve p99 ")
        .and_then(|rest| rest.split_once("ms (≤ 50ms); none of arrivals' requests failed"))
        .map(|(number, tail)| (number.parse::<f64>().expect("a number of ms"), tail))
        .unwrap_or_else(|| panic!("unexpected headline: {text}"));
    assert_eq!(measured.1, "");
    assert!((80.0..105.0).contains(&measured.0), "p99 {} ms, about 92 ms", measured.0);
}

#[test]
fn a_batch_that_cannot_meet_its_deadline_is_told_by_how_much_it_missed() {
    // One user sends 100 requests one after another, each 10 ms of CPU on an idle worker: the
    // batch takes exactly 1 s, half a second past its 500 ms deadline, in every replication.
    let json = r#"{ "name": "batch", "duration": "1m", "warmup": "10s", "replications": 3, "seed": 2,
      "clients": { "nightly": { "closed": { "users": 1, "requests": 100, "deadline": "500ms" }, "calls": "server.serve" } },
      "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "10ms" } ] } } } }"#;
    let validated = capsim::model::parse_model(json, "batch.json").expect("a valid model");
    let headline = of_run("baseline", &capsim::run(&validated.model, &[], None));
    assert_eq!(headline.outcome, Outcome::Broke);
    assert_eq!(headline.text, "nightly's batch missed its 500ms deadline by 500ms");
}

#[test]
fn the_terminal_summary_of_a_run_opens_with_its_verdict() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mm1.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["run", model.to_str().unwrap(), "--duration", "5m", "--replications", "2"])
        .output()
        .expect("capsim runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("NO SLO mm1: no SLO stated; "), "first line: {first}");
}
