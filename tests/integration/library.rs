//! The workflows an embedder calls, through the public API only (`capsim::…`): a sweep and a
//! comparison of scenarios run from the library, without the command line.

use capsim::scenario::sweep::{parse_values_text, SweptParam};
use capsim::scenario::ModelSource;
use capsim::workflow::{scenarios, sweep, Runner};

/// An M/M/1 queue: one worker, exponential 10 ms service (μ = 100/s), Poisson arrivals at
/// 20/s, and a scenario doubling them.
const MM1: &str = r#"{ "name": "mm1", "duration": "10m", "warmup": "1m", "replications": 3, "seed": 11,
    "clients": { "arrivals": { "open": { "rate": "20/s" }, "calls": "server.serve" } },
    "services": { "server": { "workers": 1, "endpoints": { "serve": [ { "cpu": "exp(10ms)" } ] } } },
    "scenarios": { "busier": { "description": "Twice the arrivals.", "set": { "clients.arrivals.open.rate": "40/s" } } } }"#;

#[test]
fn a_sweep_runs_from_the_library_without_the_cli() {
    let source = ModelSource::from_text(MM1.to_string(), "mm1.json").expect("a valid model");
    let plan = sweep::SweepPlan {
        params: vec![SweptParam {
            path: "clients.arrivals.open.rate".into(),
            values: parse_values_text("10/s..50/s/10/s").unwrap(),
        }],
        scenario: None,
        metric: Some("server.utilisation".into()),
        threshold: 0.1,
    };
    let prepared = sweep::prepare(&source, &plan, None, |_| {}).expect("every point valid");
    assert_eq!(prepared.total_points(), 5);
    let mut started = Vec::new();
    let run = prepared
        .run(&Runner::new(), |point| started.push(point.index))
        .expect("the metric exists");
    assert_eq!(started, [0, 1, 2, 3, 4]);
    assert!(run.complete());
    let sweep = run.finish();
    assert_eq!(sweep.points.len(), 5);
    assert_eq!(sweep.header.metric, "server.utilisation");
    // Utilisation of one worker is ρ = λ/μ: 0.1, 0.2, … 0.5, growing with the swept rate.
    for (k, point) in sweep.points.iter().enumerate() {
        let rho = 0.1 * (k + 1) as f64;
        assert!(
            (point.metric.mean - rho).abs() < 0.03,
            "point {k}: utilisation {} against ρ = {rho}",
            point.metric.mean
        );
    }
    assert!(sweep.points.windows(2).all(|w| w[1].metric.mean > w[0].metric.mean));
    // ρ is a straight line in λ: no knee, and the sweep worsens as the rate grows.
    assert!(sweep.knee.is_none(), "{:?}", sweep.knee);
    assert_eq!(
        sweep.direction,
        Some(capsim::analysis::sweep::SweepDirection::WorsensAsItGrows)
    );
}

#[test]
fn shards_run_from_the_library_merge_into_the_sweep_run_whole() {
    let source = ModelSource::from_text(MM1.to_string(), "mm1.json").expect("a valid model");
    let plan = sweep::SweepPlan {
        params: vec![SweptParam {
            path: "clients.arrivals.open.rate".into(),
            values: parse_values_text("10/s..40/s/10/s").unwrap(),
        }],
        scenario: None,
        metric: None,
        threshold: 0.1,
    };
    let shorter = |spec: &mut capsim::model::spec::ModelSpec| {
        spec.replications = Some(capsim::model::values::PositiveInt(2));
    };
    let whole = sweep::prepare(&source, &plan, None, shorter)
        .unwrap()
        .run(&Runner::new(), |_| {})
        .unwrap()
        .finish();
    let dir = super::scratch_dir("library-shards");
    let files: Vec<std::path::PathBuf> = (1..=2)
        .map(|i| {
            let shard = capsim::scenario::sweep::Shard { index: i, count: 2 };
            let file = sweep::prepare(&source, &plan, Some(shard), shorter)
                .unwrap()
                .run(&Runner::new(), |_| {})
                .unwrap()
                .into_shard_file();
            assert_eq!(file.points.len(), 2, "every other point of 4");
            let path = dir.join(format!("part-{i}.json"));
            std::fs::write(&path, capsim::report::json::to_json(&file)).unwrap();
            path
        })
        .collect();
    let merged = sweep::merge_files(&files).expect("the shards of one sweep");
    // The default metric is the first client's p99.
    assert_eq!(merged.header.metric, "arrivals.p99");
    assert_eq!(capsim::report::json::to_json(&merged), capsim::report::json::to_json(&whole));
}

#[test]
fn a_scenario_comparison_runs_from_the_library_without_the_cli() {
    let source = ModelSource::from_text(MM1.to_string(), "mm1.json").expect("a valid model");
    let plan = scenarios::prepare(&source, &source.scenario_names(), |_| {}).expect("valid scenarios");
    assert_eq!(plan.scenario_count(), 1);
    let mut runs = Vec::new();
    let report = plan.run(&Runner::new(), |name, _| runs.push(name.map(str::to_string)));
    assert_eq!(runs, [None, Some("busier".to_string())]);
    assert_eq!(report.scenarios.len(), 1);
    let busier = &report.scenarios[0];
    assert_eq!(busier.description.as_deref(), Some("Twice the arrivals."));
    // ρ goes from 20/100 to 40/100: the paired difference is 0.2.
    let utilisation = busier
        .comparison
        .iter()
        .find(|m| m.metric == "server.utilisation")
        .expect("utilisation compared");
    assert!(
        (utilisation.difference.mean_diff - 0.2).abs() < 0.02,
        "{:?}",
        utilisation.difference
    );
}

#[test]
fn a_check_runs_from_the_library_without_the_cli() {
    // ρ = 0.2 as written, 0.4 in the scenario: "below 0.3" holds for the first only.
    let model: serde_json::Value = serde_json::from_str(MM1).unwrap();
    let mut model = model;
    model["expect"] = serde_json::json!([
        { "that": "server.utilisation < 0.3" },
        { "that": "server.utilisation < 0.3", "scenario": "busier" },
    ]);
    let source = ModelSource::from_text(model.to_string(), "mm1.json").expect("a valid model");
    let plan = capsim::workflow::check::prepare(&source, |_| {}).expect("valid expectations");
    assert_eq!(plan.expectation_count(), 2);
    let mut runs = Vec::new();
    let results = plan.run(&Runner::new(), |name, _| runs.push(name.map(str::to_string)), |_, _| {});
    assert_eq!(runs, [None, Some("busier".to_string())]);
    let report = plan.judge(&source, &results, None, None, None).expect("every claim judged");
    assert_eq!((report.passed(), report.failed()), (1, 1));
    assert!(report.results[0].passed && !report.results[1].passed);
    let compared = plan.scenario_report(&source, &results).expect("the model as written ran");
    assert_eq!(compared.scenarios[0].name, "busier");
}

#[test]
fn a_models_declared_sweeps_are_read_by_the_library_with_their_values_parsed() {
    let model = MM1.replace(
        r#""scenarios""#,
        r#""sweeps": {
            "load": { "params": { "clients.arrivals.open.rate": "10/s..30/s/10/s" },
                      "metric": "server.utilisation", "threshold": "20%", "scenario": "busier" },
            "broken": { "params": { "services.server.workers": "1..x" } } },
        "scenarios""#,
    );
    let source = ModelSource::from_text(model, "mm1.json").expect("a valid model");
    assert_eq!(sweep::declared_names(&source), ["load", "broken"]);
    let load = sweep::declared(&source, "load").expect("readable").expect("declared");
    assert_eq!(load.params.len(), 1);
    assert_eq!(load.params[0].path, "clients.arrivals.open.rate");
    assert_eq!(load.params[0].values, parse_values_text("10/s,20/s,30/s").unwrap());
    assert_eq!(load.metric.as_deref(), Some("server.utilisation"));
    assert_eq!(load.threshold.as_deref(), Some("20%"));
    assert_eq!(load.scenario.as_deref(), Some("busier"));
    assert!(sweep::declared(&source, "missing").expect("readable").is_none());
    let why = sweep::declared(&source, "broken")
        .expect_err("1..x is not a range")
        .to_string();
    assert!(
        why.starts_with(r#"sweeps.broken.params."services.server.workers": "#),
        "{why}"
    );
}
