//! Peak-aware SLO verdicts: an objective met over the run can be breached at its peak, and an SLO
//! can be judged on its worst window or on a share of its windows.
//!
//! The model: an M/M/1 (10 ms mean service) at 50 requests/s (ρ = 0.5) for an hour, 90/s
//! (ρ = 0.9) from 30 m to 33 m, in 1-minute windows after a 2-minute warm-up. Worked out in
//! advance: off the peak the time in system is exponential with rate μ − λ = 50/s, p99 =
//! ln(100)/50 = 92 ms; at the peak the rate is 10/s, p99 = ln(100)/10 = 461 ms (the queue settles
//! in seconds: 1/(μ(1 − √ρ)²) ≈ 4 s). Over the run, 8.9 % of requests come at the peak
//! (90 × 3 / (90 × 3 + 50 × 55)), so P(T > t) ≈ 0.089·e^(−10t) and the run's p99 is
//! ln(8.9)/10 ≈ 219 ms. So against p99 <= 300 ms: met over the run, breached in exactly the
//! three peak windows (30 m–33 m), breached when judged on the worst window, and met when judged
//! on 90 % of the windows (3 of 58 windows are the peak, 5 %).

use capsim::results::{RunResult, SloStatus};

fn run(judge: Option<&str>) -> RunResult {
    let judge = judge.map(|j| format!(r#", "judge": "{j}""#)).unwrap_or_default();
    let json = format!(
        r#"{{ "name": "peak", "duration": "1h", "warmup": "2m", "window": "1m", "replications": 5, "seed": 8,
          "clients": {{ "arrivals": {{ "open": {{ "rate": "50/s" }}, "calls": "server.serve" }} }},
          "services": {{ "server": {{ "workers": 1, "endpoints": {{ "serve": [ {{ "cpu": "exp(10ms)" }} ] }} }} }},
          "actions": [ {{ "at": "30m", "for": "3m", "scale_traffic": {{ "client": "arrivals", "factor": 1.8 }} }} ],
          "slos": {{ "server.serve": {{ "p99": "300ms"{judge} }} }} }}"#
    );
    let validated = capsim::model::parse_model(&json, "peak.json").expect("a valid model");
    capsim::run(&validated.model, &[], None)
}

#[test]
fn an_slo_met_over_the_run_names_the_peak_windows_that_breached_it() {
    let result = run(None);
    let slo = &result.slos[0];
    assert_eq!(slo.objective, "p99 <= 300ms");
    assert_eq!(slo.status, SloStatus::Met, "{slo:?}");
    assert!(
        (150.0..300.0).contains(&slo.measured.mean),
        "run p99 {} (about 219 ms)",
        slo.measured.mean
    );
    assert_eq!(slo.breached_s, vec![[1800.0, 1980.0]]);
    assert_eq!(slo.breaches_text(), "breached 30m–33m (3m)");
    let table = capsim::report::table::summary(&result);
    assert!(table.contains("MET overall; breached 30m–33m (3m)"), "{table}");
}

#[test]
fn judged_on_its_worst_window_the_same_slo_is_breached() {
    let result = run(Some("worst_window"));
    let slo = &result.slos[0];
    assert_eq!(slo.objective, "p99 <= 300ms (worst window)");
    assert_eq!(slo.status, SloStatus::Breached, "{slo:?}");
    // The worst window is a peak window: about 461 ms.
    assert!(slo.measured.low() > 350.0, "{:?}", slo.measured);
}

#[test]
fn judged_on_ninety_percent_of_windows_the_peak_is_forgiven() {
    let result = run(Some("90% of windows"));
    let slo = &result.slos[0];
    assert_eq!(slo.objective, "p99 <= 300ms (90% of windows)");
    assert_eq!(slo.status, SloStatus::Met, "{slo:?}");
    // An off-peak window: about 92 ms (the 90th percentile of 55 off-peak windows' p99s lies a
    // little above it).
    assert!(slo.measured.high() < 150.0, "{:?}", slo.measured);
}

#[test]
fn an_unknown_way_of_judging_is_refused_naming_its_path() {
    let json = r#"{ "clients": { "c": { "open": { "rate": "5/s" }, "calls": "s.e" } },
        "services": { "s": { "endpoints": { "e": [ { "cpu": "1ms" } ] } } },
        "slos": { "s.e": { "p99": "10ms", "judge": "peak" } } }"#;
    let err = capsim::model::parse_model(json, "bad.json").expect_err("an unknown judge");
    let text = err.to_string();
    assert!(text.contains("slos.\"s.e\".judge"), "{text}");
    assert!(
        text.contains("expected \"run\", \"worst_window\" or a share of windows like \"95% of windows\", got \"peak\""),
        "{text}"
    );
}

#[test]
fn a_service_slo_takes_only_the_share_that_waits_and_an_endpoint_slo_cannot_take_it() {
    let model = |slos: &str| {
        format!(
            r#"{{ "clients": {{ "c": {{ "open": {{ "rate": "5/s" }}, "calls": "s.e" }} }},
                "services": {{ "s": {{ "endpoints": {{ "e": [ {{ "cpu": "1ms" }} ] }} }} }}, "slos": {{ {slos} }} }}"#
        )
    };
    let refused = |slos: &str, path: &str, message: &str| {
        let text = capsim::model::parse_model(&model(slos), "slos.json")
            .expect_err("refused")
            .to_string();
        assert!(text.contains(path) && text.contains(message), "{text}");
    };
    refused(r#""s": { "p99": "1s" }"#, "slos.s", "a service's SLO takes \"waited\" only");
    refused(
        r#""s": { "waited": 0.1, "judge": "worst_window" }"#,
        "slos.s.judge",
        "a service's SLO is judged on the run",
    );
    refused(
        r#""s.e": { "waited": 0.1 }"#,
        "slos.\"s.e\".waited",
        "\"waited\" is an objective of a service",
    );
    let ok = capsim::model::parse_model(&model(r#""s": { "waited": 0.1 }"#), "slos.json").expect("a service's SLO");
    let result = capsim::run(&ok.model, &[], Some(1));
    assert_eq!(result.slos[0].objective, "waited <= 10%");
}
