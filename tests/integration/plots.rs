//! Plots worth putting on a slide, checked in the SVG they are drawn as: axes in human units,
//! SLO bounds at their value, colour-blind-safe colours that never give the baseline's to a
//! scenario, numbered timed actions whose badges never overlap, windows in which every request
//! failed shaded instead of left as gaps, grid sweeps as heatmaps, and the same SVG every time.

use super::scratch_dir;
use capsim::analysis::compare::{compare, ScenarioReport, ScenarioRun};
use capsim::report::plot;
use capsim::results::RunResult;
use capsim::scenario::sweep::{parse_values_text, SweptParam};
use capsim::scenario::ModelSource;

/// A shop with one client, one endpoint and a p99 SLO of 300 ms; `extra` adds top-level keys.
fn shop(duration: &str, window: &str, rate: &str, extra: &str) -> String {
    format!(
        r#"{{
  "name": "shop", "duration": "{duration}", "warmup": "10s", "window": "{window}", "replications": 2, "seed": 3,
  "clients": {{ "web": {{ "open": {{ "rate": "{rate}" }}, "calls": "api.get", "timeout": "2s" }} }},
  "services": {{ "api": {{ "workers": 4, "endpoints": {{ "get": [ {{ "cpu": "exp(20ms)" }} ] }} }} }},
  "slos": {{ "web": {{ "p99": "300ms" }} }}{extra}
}}"#
    )
}

fn run(model: &str) -> RunResult {
    let validated = capsim::model::parse_model(model, "shop.json").unwrap_or_else(|e| panic!("{e:?}"));
    capsim::run(&validated.model, &[], None)
}

/// An element of an SVG: its tag, attributes and text.
struct Element {
    tag: String,
    attrs: std::collections::HashMap<String, String>,
    text: String,
}

impl Element {
    fn num(&self, name: &str) -> f64 {
        self.attrs[name]
            .parse()
            .unwrap_or_else(|_| panic!("{name} of {}: {:?}", self.tag, self.attrs))
    }
}

fn elements(svg: &str) -> Vec<Element> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| Element {
            tag: n.tag_name().name().to_string(),
            attrs: n
                .attributes()
                .map(|a| (a.name().to_string(), a.value().to_string()))
                .collect(),
            text: n
                .descendants()
                .filter(|t| t.is_text())
                .filter_map(|t| t.text())
                .collect::<String>()
                .trim()
                .to_string(),
        })
        .collect()
}

fn texts(svg: &str) -> Vec<String> {
    elements(svg)
        .into_iter()
        .filter(|e| e.tag == "text")
        .map(|e| e.text)
        .collect()
}

/// The pixel of `value` on the first panel's y axis, from its tick labels (drawn with their
/// `y` at the tick's pixel, right-aligned left of the axes).
fn y_pixel(svg: &str, value: f64) -> f64 {
    let ticks: Vec<(f64, f64)> = elements(svg)
        .iter()
        .filter(|e| e.tag == "text" && e.attrs.get("text-anchor").map(String::as_str) == Some("end"))
        .filter(|e| e.num("y") < 444.0)
        .filter_map(|e| Some((e.text.parse::<f64>().ok()?, e.num("y"))))
        .collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    let (a, b) = (ticks[0], ticks[ticks.len() - 1]);
    a.1 + (b.1 - a.1) * (value - a.0) / (b.0 - a.0)
}

/// The pixel of `value` on the first panel's x axis, from its tick labels (centred on the tick,
/// the lowest numbers of the panel).
fn x_pixel(svg: &str, value: f64) -> f64 {
    let numbers: Vec<(f64, f64, f64)> = elements(svg)
        .iter()
        .filter(|e| e.tag == "text" && e.attrs.get("text-anchor").map(String::as_str) == Some("middle"))
        .filter(|e| e.num("y") < 444.0)
        .filter_map(|e| Some((e.text.parse::<f64>().ok()?, e.num("x"), e.num("y"))))
        .collect();
    let axis = numbers.iter().map(|n| n.2).fold(f64::MIN, f64::max);
    let ticks: Vec<(f64, f64)> = numbers.iter().filter(|n| n.2 == axis).map(|n| (n.0, n.1)).collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    let (a, b) = (ticks[0], ticks[ticks.len() - 1]);
    a.1 + (b.1 - a.1) * (value - a.0) / (b.0 - a.0)
}

#[test]
fn a_one_hour_runs_time_axis_is_labelled_in_minutes_and_a_days_in_hours() {
    let hour = plot::svg(&plot::latency_over_time(&run(&shop("1h", "1m", "5/s", "")), None)).unwrap();
    assert!(texts(&hour).iter().any(|t| t == "simulated time (min)"), "{:?}", texts(&hour));
    let day = plot::svg(&plot::latency_over_time(&run(&shop("24h", "30m", "0.2/s", "")), None)).unwrap();
    assert!(texts(&day).iter().any(|t| t == "simulated time (h)"), "{:?}", texts(&day));
    // Ticks of a day in hours: 0 to 24, never thousands of minutes.
    assert!(texts(&day).iter().any(|t| t == "20"), "{:?}", texts(&day));
}

#[test]
fn an_slo_bound_of_300_ms_is_drawn_at_y_300_ms() {
    let svg = plot::svg(&plot::latency_over_time(&run(&shop("3m", "10s", "20/s", "")), None)).unwrap();
    assert!(texts(&svg).iter().any(|t| t == "SLO p99 ≤ 300 ms"), "{:?}", texts(&svg));
    assert!(texts(&svg).iter().any(|t| t == "latency (ms)"));
    let expected = y_pixel(&svg, 300.0);
    let bound: Vec<f64> = elements(&svg)
        .iter()
        .filter(|e| e.tag == "polyline" && e.attrs.contains_key("stroke-dasharray"))
        .filter_map(|e| {
            let ys: Vec<f64> = e.attrs["points"]
                .split_whitespace()
                .map(|p| p.split_once(',').unwrap().1.parse().unwrap())
                .collect();
            (ys.len() == 2 && ys[0] == ys[1] && ys[0] < 444.0).then_some(ys[0])
        })
        .collect();
    assert_eq!(bound.len(), 1, "one horizontal dashed line in the clients' panel: {bound:?}");
    assert!(
        (bound[0] - expected).abs() <= 1.0,
        "bound at y = {}, 300 ms at {expected}",
        bound[0]
    );
}

#[test]
fn a_window_where_every_request_failed_is_drawn_as_a_failure_band() {
    // The service is down from 60 s to 120 s: every request of those six 10 s windows fails.
    let down = r#", "actions": [ { "at": "60s", "for": "60s", "down": { "service": "api" } } ]"#;
    let result = run(&shop("5m", "10s", "20/s", down));
    let web = &result.clients[0].series;
    let failed: Vec<f64> = web
        .iter()
        .filter(|w| w.throughput_per_s > 0.0 && !w.p50_ms.is_finite())
        .map(|w| w.start_s)
        .collect();
    assert_eq!(
        failed,
        [60.0, 70.0, 80.0, 90.0, 100.0, 110.0],
        "the windows the service was down"
    );
    let svg = plot::svg(&plot::latency_over_time(&result, None)).unwrap();
    assert!(texts(&svg).iter().any(|t| t == "every request failed"));
    // The clients' panel has one failure column, from 60 s to 120 s.
    let columns: Vec<(f64, f64)> = elements(&svg)
        .iter()
        .filter(|e| e.tag == "rect" && e.attrs.get("fill").map(String::as_str) == Some("#D55E00"))
        .filter(|e| e.attrs.get("opacity").map(String::as_str) == Some("0.22") && e.num("y") < 444.0 && e.num("x") < 770.0)
        .map(|e| (e.num("x"), e.num("x") + e.num("width")))
        .collect();
    assert_eq!(columns.len(), 1, "{columns:?}");
    let (from, to) = (x_pixel(&svg, 60.0), x_pixel(&svg, 120.0));
    assert!(
        (columns[0].0 - from).abs() <= 1.0 && (columns[0].1 - to).abs() <= 1.0,
        "{columns:?}, 60 s at {from}, 120 s at {to}"
    );
}

/// A comparison of `scenarios` copies of one run against it.
fn report_with(scenarios: usize) -> ScenarioReport {
    let baseline = run(&shop("2m", "10s", "10/s", ""));
    let scenarios = (1..=scenarios)
        .map(|k| ScenarioRun {
            name: format!("s{k}"),
            description: None,
            comparison: compare(&baseline, &baseline),
            result: baseline.clone(),
        })
        .collect();
    ScenarioReport {
        schema_version: capsim::results::SCHEMA_VERSION,
        baseline,
        scenarios,
    }
}

#[test]
fn the_baseline_and_11_scenarios_get_12_distinct_colours() {
    let svg = plot::svg(&plot::scenarios_compared(&report_with(11))).unwrap();
    let all = elements(&svg);
    // Each legend entry: a line sample on the row of its name.
    let colour_of = |name: &str| {
        let text = all
            .iter()
            .find(|e| e.tag == "text" && e.text == name)
            .unwrap_or_else(|| panic!("no {name}"));
        let y = text.num("y");
        all.iter()
            .find(|e| e.tag == "polyline" && e.attrs["points"].split_whitespace().all(|p| p.ends_with(&format!(",{y}"))))
            .map(|e| e.attrs["stroke"].clone())
            .unwrap_or_else(|| panic!("no sample for {name}"))
    };
    let baseline = colour_of("baseline");
    let scenarios: Vec<String> = (1..=11).map(|k| colour_of(&format!("s{k}"))).collect();
    let distinct: std::collections::HashSet<&String> = scenarios.iter().chain([&baseline]).collect();
    assert_eq!(distinct.len(), 12, "baseline {baseline}, scenarios {scenarios:?}");
}

#[test]
fn with_more_than_12_lines_each_is_named_at_its_right_end_and_the_baseline_keeps_its_colour() {
    let svg = plot::svg(&plot::scenarios_compared(&report_with(13))).unwrap();
    let all = elements(&svg);
    let legend_left = 1000.0 - 230.0;
    for name in ["baseline", "s1", "s12", "s13"] {
        let label = all
            .iter()
            .find(|e| e.tag == "text" && e.text == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert!(
            label.num("x") < legend_left + 20.0,
            "{name} is named beside its line's end, at x = {}",
            label.num("x")
        );
    }
    let black = all
        .iter()
        .filter(|e| e.tag == "text" && e.attrs.get("fill").map(String::as_str) == Some("#000000"));
    let baseline_coloured: Vec<&str> = black
        .filter(|e| e.text == "baseline" || e.text.starts_with('s') && e.text[1..].parse::<u32>().is_ok())
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(baseline_coloured, ["baseline"], "only the baseline is black");
}

#[test]
fn when_more_lines_end_than_names_fit_beside_the_plot_the_lowest_are_counted_not_piled_up() {
    let report = report_with(40);
    let panels = report.baseline.clients.len();
    let svg = plot::svg(&plot::scenarios_compared(&report)).unwrap();
    let all = elements(&svg);
    let is_run = |t: &str| t == "baseline" || t.starts_with('s') && t[1..].parse::<u32>().is_ok();
    let mut named: Vec<f64> = all
        .iter()
        .filter(|e| e.tag == "text" && is_run(&e.text))
        .map(|e| e.num("y"))
        .collect();
    let counted: usize = all
        .iter()
        .filter_map(|e| {
            e.text
                .strip_prefix('+')?
                .strip_suffix(" more lower (timeseries.csv)")?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(counted > 0, "41 names do not fit beside a 400 px panel");
    assert_eq!(named.len() + counted, 41 * panels, "every line is named or counted");
    // The names kept stand at least a line apart (panels are 400 px apart, so sorting them all
    // together only brings names of one panel side by side).
    named.sort_by(f64::total_cmp);
    assert!(named.windows(2).all(|w| w[1] - w[0] >= 13.0), "names overlap: {named:?}");
}

#[test]
fn timed_action_badges_never_overlap_and_the_actions_are_listed() {
    // Three actions a second apart: their badges would sit on one another on one row.
    let actions = r#", "actions": [
        { "at": "100s", "for": "30s", "scale_traffic": { "client": "web", "factor": 1.5 } },
        { "at": "101s", "for": "30s", "scale_traffic": { "client": "web", "factor": 1.2 } },
        { "at": "102s", "scale_traffic": { "client": "web", "factor": 0.8 } } ]"#;
    let result = run(&shop("5m", "10s", "20/s", actions));
    let svg = plot::svg(&plot::latency_over_time(&result, None)).unwrap();
    let badges: Vec<(f64, f64, f64)> = elements(&svg)
        .iter()
        .filter(|e| e.tag == "circle" && e.attrs.get("fill").map(String::as_str) == Some("#444444"))
        .map(|e| (e.num("cx"), e.num("cy"), e.num("r")))
        .collect();
    // Two panels, three actions, each numbered on the axes and in the legend.
    assert_eq!(badges.len(), 2 * 3 * 2, "{badges:?}");
    for (i, a) in badges.iter().enumerate() {
        for b in &badges[i + 1..] {
            let apart = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
            assert!(apart >= a.2 + b.2, "badges at {a:?} and {b:?} overlap");
        }
    }
    let texts = texts(&svg);
    for a in &result.model.actions {
        assert!(
            texts.iter().any(|t| t.starts_with(&a.what[..a.what.len().min(20)])),
            "{} not listed in {texts:?}",
            a.what
        );
    }
}

#[test]
fn a_two_parameter_grid_sweep_is_drawn_as_a_heatmap_with_a_cell_per_point() {
    let dir = scratch_dir("plots-grid");
    let path = dir.join("shop.json");
    std::fs::write(&path, shop("2m", "10s", "40/s", "")).unwrap();
    let source = ModelSource::read(path.to_str().unwrap()).unwrap();
    let plan = capsim::workflow::sweep::SweepPlan {
        params: vec![
            SweptParam {
                path: "services.api.workers".into(),
                values: parse_values_text("1,2,4").unwrap(),
            },
            SweptParam {
                path: "clients.web.open.rate".into(),
                values: parse_values_text("20/s,40/s").unwrap(),
            },
        ],
        scenario: None,
        metric: Some("web.p99".into()),
        threshold: 0.1,
    };
    let finished = capsim::workflow::sweep::prepare(&source, &plan, None, |_| {})
        .unwrap()
        .run(&capsim::workflow::Runner::new(), |_| {})
        .unwrap()
        .finish();
    assert_eq!(finished.points.len(), 6);
    let figure = plot::sweep_curve(&finished);
    assert_eq!(figure.panels.len(), 1, "two parameters: one heatmap");
    let svg = plot::svg(&figure).unwrap();
    let texts = texts(&svg);
    for t in ["services.api.workers", "clients.web.open.rate", "1", "2", "4", "20/s", "40/s"] {
        assert!(texts.iter().any(|x| x == t), "no {t:?} in {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.contains("grid order")));
    // Tol's YlOrBr fills: six cells and the nine swatches of the colour key.
    let heat = [
        "#FFFFE5", "#FFF7BC", "#FEE391", "#FEC44F", "#FB9A29", "#EC7014", "#CC4C02", "#993404", "#662506",
    ];
    let filled = elements(&svg)
        .iter()
        .filter(|e| e.tag == "rect" && e.attrs.get("fill").is_some_and(|f| heat.contains(&f.as_str())))
        .count();
    assert_eq!(filled, 6 + 9);
    // The outlines mark exactly the points that breach an SLO.
    let breached = finished.points.iter().filter(|p| !p.slos_breached.is_empty()).count();
    let outlined = elements(&svg)
        .iter()
        .filter(|e| e.tag == "rect" && e.attrs.get("stroke").map(String::as_str) == Some("#D55E00"))
        .count();
    assert_eq!(outlined, breached + usize::from(breached > 0), "cells plus the key's entry");
}

#[test]
fn the_same_results_are_drawn_as_byte_identical_svg() {
    let result = run(&shop("2m", "10s", "10/s", ""));
    let figure = plot::latency_over_time(&result, None);
    assert_eq!(plot::svg(&figure).unwrap(), plot::svg(&figure).unwrap());
}
