//! Report directories (`capsim::report::html::write_report`), through the library: every file is
//! there, each SVG is well-formed XML with its title and axis labels, each PNG has the figure's
//! size and is not blank, and `report.html` is self-contained (no URL but the SVG namespace).

use super::{example, scratch_dir};
use capsim::analysis::compare::{compare, ScenarioReport, ScenarioRun};
use capsim::analysis::sweep::FinishedSweep;
use capsim::model::spec::ModelSpec;
use capsim::model::values::{DurationValue, PositiveInt};
use capsim::report::html::{write_report, ReportInput};
use capsim::results::RunResult;
use capsim::scenario::sweep::{parse_values_text, SweptParam};
use capsim::scenario::ModelSource;
use std::path::{Path, PathBuf};

/// A small system with every kind of component, an SLO it breaches, and markup in its name.
const SMALL: &str = r#"{
  "name": "small <&> shop", "description": "A test model: \"quotes\" & <tags> are escaped.",
  "duration": "3m", "warmup": "20s", "window": "10s", "replications": 2, "seed": 3,
  "clients": { "web": { "open": { "rate": "40/s" }, "calls": "api.get", "timeout": "2s" } },
  "services": { "api": { "workers": 4, "endpoints": { "get": [
      { "cpu": "exp(20ms)" },
      { "transaction": { "pool": "pgb", "queries": 3, "query": "exp(2ms)" } } ] } } },
  "databases": { "pg": { "cores": 2 } },
  "pools": { "pgb": { "database": "pg", "size": 4 } },
  "links": { "api -> pg": { "latency": "1ms" } },
  "slos": { "web": { "p99": "20ms" } }
}"#;

fn run_small() -> RunResult {
    let validated = capsim::model::parse_model(SMALL, "small.json").expect("a valid model");
    capsim::run(&validated.model, &[], None)
}

/// Shorten a model's run for the test suite.
fn shorter(spec: &mut ModelSpec, duration: &str, replications: u32) {
    let ns = capsim::model::units::parse_duration(duration).expect("a duration");
    spec.duration = Some(DurationValue(ns));
    spec.warmup = Some(DurationValue(ns / 20));
    spec.replications = Some(PositiveInt(replications));
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Every text of an SVG, unescaped, after checking it parses as XML with an `svg` root.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: not well-formed XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg", "{}", path.display());
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.descendants().filter_map(|t| t.text()).collect::<String>())
        .collect()
}

#[track_caller]
fn assert_svg_has(path: &Path, expected: &[&str]) {
    let texts = svg_texts(path);
    for e in expected {
        assert!(
            texts.iter().any(|t| t.contains(e)),
            "{}: no text {e:?} among {texts:?}",
            path.display()
        );
    }
}

/// Decode a PNG: its size and how many distinct colours it has.
fn png_size_and_colours(path: &Path) -> ((u32, u32), usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples() * if info.bit_depth == png::BitDepth::Sixteen { 2 } else { 1 };
    let colours: std::collections::HashSet<&[u8]> = bytes.chunks(step).collect();
    ((info.width, info.height), colours.len())
}

#[track_caller]
fn assert_png(path: &Path, panels: u32) {
    let (size, colours) = png_size_and_colours(path);
    assert_eq!(size, (1000, 44 + 400 * panels), "{}", path.display());
    assert!(colours > 2, "{}: {colours} colours: blank?", path.display());
}

/// `report.html` names the model, is self-contained, and returns its text.
#[track_caller]
fn check_html(dir: &Path, model_name_escaped: &str) -> String {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(model_name_escaped),
        "report.html lacks the model's name {model_name_escaped:?}"
    );
    let namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
    let svgs = html.matches("<svg").count();
    assert!(svgs > 0, "no inline SVG");
    assert_eq!(
        html.matches(namespace).count(),
        svgs,
        "each inline SVG has exactly its namespace"
    );
    // Links within the page (the contents, each headline to its run's section, the diagram's
    // arrowheads) are the only ones.
    let rest = html.replace(namespace, "").replace(" href=\"#", "").replace("url(#", "");
    for url in ["http://", "https://", " src=", " href=", "url(", "@import"] {
        assert!(!rest.contains(url), "report.html refers to something outside: {url:?}");
    }
    assert!(html.contains("@media print"));
    html
}

#[test]
fn a_run_report_has_its_plots_tables_data_and_a_self_contained_page() {
    let result = run_small();
    let dir = scratch_dir("report-run");
    let written = write_report(&dir, &ReportInput::Run(&result), None).expect("report written");
    let mut got = names(&written);
    got.sort();
    #[rustfmt::skip]
    let expected = ["cascade.csv", "cascade.png", "cascade.svg", "latency.png", "latency.svg", "report.html", "results.json", "stations.png", "stations.svg", "summary.csv", "timeseries.csv"];
    assert_eq!(got, expected);
    for path in &written {
        assert!(
            path.is_file() && std::fs::metadata(path).unwrap().len() > 0,
            "{}",
            path.display()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    #[rustfmt::skip]
    assert_svg_has(&dir.join("latency.svg"), &["small <&> shop: latency over time", "simulated time (s)", "latency (ms)", "web p99", "web p50", "api.get p99", "Clients (end to end)"]);
    #[rustfmt::skip]
    assert_svg_has(&dir.join("stations.svg"), &["small <&> shop: utilisation and queues", "utilisation (%)", "jobs waiting", "service api", "database pg", "pool pgb"]);
    // The SLO is breached from the start: the cascade has one row, from the start of measurement.
    #[rustfmt::skip]
    assert_svg_has(&dir.join("cascade.svg"), &["small <&> shop: cascade of SLO breaches", "web (+0s)", "start of measurement", "simulated time (s)"]);
    assert_png(&dir.join("latency.png"), 2);
    assert_png(&dir.join("stations.png"), 2);
    assert_png(&dir.join("cascade.png"), 1);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["model"]["name"], "small <&> shop");
    let html = check_html(&dir, "small &lt;&amp;&gt; shop");
    assert!(!html.contains("<&>") && !html.contains("<tags>"), "text is escaped");
    assert!(html.contains("A test model: &quot;quotes&quot; &amp; &lt;tags&gt; are escaped."));
    for heading in [
        "Clients",
        "Endpoints",
        "Services",
        "Databases",
        "Connection pools",
        "Service level objectives",
    ] {
        assert!(html.contains(&format!("<h3>{heading}")), "no {heading} table");
    }
    assert!(
        html.contains("BREACHED"),
        "the 20 ms p99 SLO is breached and the page says so"
    );
    assert!(html.contains(" ±"), "estimates carry their CI");
}

/// `text` with the entities `markup::escape` writes turned back into characters.
fn unescape(text: &str) -> String {
    text.replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The tables of a page, in order: each `<h3>` title followed by a table, with its headers.
fn html_tables(html: &str) -> Vec<(String, Vec<String>)> {
    html.split("<h3>")
        .skip(1)
        .filter_map(|part| {
            let (title, rest) = part.split_once("</h3>\n")?;
            let header_row = rest
                .strip_prefix("<div class=\"scroll\"><table>\n<tr>")?
                .split("</tr>")
                .next()?;
            let headers = header_row
                .split("<th>")
                .skip(1)
                .map(|h| unescape(h.trim_end_matches("</th>")))
                .collect();
            Some((unescape(title), headers))
        })
        .collect()
}

/// The tables of a terminal summary, in order: each line that is not indented followed by the
/// header row of a table, with its headers (cells are at least two spaces apart).
fn terminal_tables(text: &str) -> Vec<(String, Vec<String>)> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| !pair[0].is_empty() && !pair[0].starts_with(' ') && pair[1].starts_with("  "))
        .map(|pair| {
            let headers = pair[1]
                .split("  ")
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect();
            (pair[0].to_string(), headers)
        })
        .collect()
}

#[test]
fn the_terminal_summary_and_the_html_page_show_the_same_sections_with_the_same_headers_in_the_same_order() {
    let stampede = {
        let source = ModelSource::read(example("retry-stampede.json").to_str().unwrap()).unwrap();
        capsim::run(&source.baseline(|spec| shorter(spec, "80m", 2)).unwrap().model, &[], None)
    };
    let cells = {
        let source = ModelSource::read(example("blast-radius.json").to_str().unwrap()).unwrap();
        capsim::run(&source.baseline(|spec| shorter(spec, "3m", 2)).unwrap().model, &[], None)
    };
    for (name, result) in [("small", run_small()), ("stampede", stampede), ("cells", cells)] {
        let dir = scratch_dir(&format!("report-sections-{name}"));
        write_report(&dir, &ReportInput::Run(&result), None).expect("report written");
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        let page = html_tables(&html);
        // The terminal adds verdicts before the sections and prose after some (a few lines of it
        // tables of their own), and a compact column of failures.
        let prose = |title: &str| {
            title == "WARNINGS"
                || title.ends_with("the run stopped early:")
                || title.starts_with("Cascade after")
                || title.contains(" over time (")
                || title == "Rollouts"
        };
        let terminal: Vec<(String, Vec<String>)> = terminal_tables(&capsim::report::table::summary(&result))
            .into_iter()
            .filter(|(title, _)| !prose(title))
            .map(|(title, headers)| (title, headers.into_iter().filter(|h| h != "failures").collect()))
            .collect();
        assert!(page.len() >= 6, "{name}: only {page:?}");
        assert_eq!(page, terminal, "{name}: the page's tables against the terminal's");
    }
}

#[test]
fn a_day_long_latency_is_shown_in_hours_in_the_terminal_and_on_the_page() {
    let mut result = run_small();
    let p99 = &mut result.clients[0].latency.p99_ms;
    (p99.mean, p99.ci95) = (86_400_000.0, 3_600_000.0);
    let text = capsim::report::table::summary(&result);
    assert!(text.contains("  24.0 ±1.0 h  "), "{text}");
    let dir = scratch_dir("report-day-long-latency");
    write_report(&dir, &ReportInput::Run(&result), None).expect("report written");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("<td class=\"n\">24.0 ±1.0 h</td>"),
        "no p99 in hours on the page"
    );
}

#[test]
fn a_scenario_report_compares_each_scenario_with_the_baseline() {
    let source = ModelSource::read(example("quickstart.json").to_str().unwrap()).unwrap();
    let edit = |spec: &mut ModelSpec| shorter(spec, "40m", 2);
    let model = source.baseline(edit).unwrap().model;
    let baseline = capsim::run(&model, &[], None);
    let scenarios: Vec<ScenarioRun> = ["ad-hoc-query", "db-10ms-away"]
        .iter()
        .map(|name| {
            let variant = source.scenario_variant(name).unwrap();
            let result = capsim::run(&source.variant_model(&variant, edit).unwrap().model, &[], None);
            ScenarioRun {
                name: name.to_string(),
                description: source.scenario_description(name),
                comparison: compare(&baseline, &result),
                result,
            }
        })
        .collect();
    let report = ScenarioReport {
        schema_version: capsim::results::SCHEMA_VERSION,
        baseline,
        scenarios,
    };
    let dir = scratch_dir("report-scenarios");
    let topology = capsim::report::topology::Topology::of(&model);
    let written = names(&write_report(&dir, &ReportInput::Scenarios(&report), Some(&topology)).expect("report written"));
    for name in [
        "results.json",
        "summary.csv",
        "timeseries.csv",
        "cascade.csv",
        "cascade-1-ad-hoc-query.csv",
        "latency.svg",
        "stations.png",
        "scenarios.svg",
        "scenarios.png",
        "latency-1-ad-hoc-query.svg",
        "stations-2-db-10ms-away.png",
        "topology.svg",
        "report.html",
    ] {
        assert!(written.iter().any(|w| w == name), "{name} not written: {written:?}");
        assert!(dir.join(name).is_file());
    }
    let clients = report.baseline.clients.len() as u32;
    #[rustfmt::skip]
    assert_svg_has(&dir.join("scenarios.svg"), &["quickstart: client p99 over time, baseline vs scenarios", "p99 latency (ms)", "simulated time (min)", "baseline", "ad-hoc-query", "db-10ms-away", "Client shoppers"]);
    assert_png(&dir.join("scenarios.png"), clients);
    #[rustfmt::skip]
    assert_svg_has(&dir.join("latency-1-ad-hoc-query.svg"), &["quickstart — scenario ad-hoc-query: latency over time", "1 injected queries on pg"]);
    assert_png(&dir.join("latency-1-ad-hoc-query.png"), 2);
    let html = check_html(&dir, "quickstart");
    assert!(html.contains("<b>Scenario ad-hoc-query</b>") && html.contains("<b>Scenario db-10ms-away</b>"));
    assert!(html.contains("<th>significant</th>"));
    assert_eq!(
        html.matches("<svg").count(),
        2 + 1 + 2 * 2 + 1,
        "every plot and the topology inline"
    );
    // The answer comes first: a headline per run, then the verdict of every SLO in every run,
    // before the contents and every collapsed detail.
    let answer = html.find("<section id=\"answer\">").expect("the answer section");
    let contents = html.find("<nav id=\"contents\">").expect("the contents");
    let first_detail = html.find("<details").expect("collapsed details");
    assert!(answer < contents && contents < first_detail);
    let diagram = html.find("id=\"topology\"").expect("the model's diagram");
    assert!(answer < diagram && diagram < contents, "the diagram is part of the answer");
    assert_eq!(
        html.matches("<li class=\"headline\">").count(),
        3,
        "baseline and two scenarios"
    );
    let matrix = &html[html.find("<table class=\"verdict-matrix\">").expect("the verdict matrix")..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    assert_eq!(
        matrix.matches("<tr>").count(),
        1 + report.baseline.slos.len(),
        "a row per SLO objective"
    );
    assert_eq!(
        matrix.matches("<td class=").count(),
        3 * report.baseline.slos.len(),
        "a cell per run"
    );
    assert!(!html.contains("<details open"), "details are collapsed when the page opens");
    for i in 1..=2 {
        assert!(
            html.contains(&format!("<li><a href=\"#scenario-{i}\">")),
            "contents link scenario {i}"
        );
        assert!(
            html.contains(&format!("<details id=\"scenario-{i}\">")),
            "scenario {i}'s section"
        );
    }
}

#[test]
fn the_cascade_plot_draws_one_bar_row_per_breached_component_in_the_order_they_breached() {
    let source = ModelSource::read(example("shared-database.json").to_str().unwrap()).unwrap();
    let fewer = |spec: &mut ModelSpec| spec.replications = Some(PositiveInt(2));
    let variant = source.scenario_variant("fake-data+query+menu-cache").unwrap();
    let result = capsim::run(&source.variant_model(&variant, fewer).unwrap().model, &[], None);
    let timeline: Vec<&str> = result.cascade.timeline.iter().map(|e| e.name.as_str()).collect();
    assert!(timeline.len() >= 2, "{timeline:?}");
    let dir = scratch_dir("report-cascade");
    write_report(&dir, &ReportInput::Run(&result), None).expect("report written");
    let svg = dir.join("cascade.svg");
    #[rustfmt::skip]
    assert_svg_has(&svg, &["shared-database: cascade of SLO breaches", "SLO breaches after 4 injected queries on shared at 75m", "simulated time (min)"]);
    // The row names on the y axis read top to bottom in the order of the timeline: SVG text
    // comes in drawing order, and plotters labels the y axis from the bottom up.
    let texts = svg_texts(&svg);
    let rows: Vec<&str> = texts
        .iter()
        .filter_map(|t| t.lines().map(str::trim).find(|line| !line.is_empty()))
        .filter(|t| timeline.contains(t))
        .collect();
    let mut bottom_up = timeline.clone();
    bottom_up.reverse();
    assert_eq!(rows, bottom_up, "{texts:?}");
    // One bar (a polygon) per stretch of breached windows.
    let bars: usize = result.cascade.timeline.iter().map(|e| e.breached_s.len()).sum();
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(doc.matches("<polygon").count(), bars);
    assert_png(&dir.join("cascade.png"), 1);
    let html = check_html(&dir, "shared-database");
    assert!(html.contains("<h3>Cascade</h3>") && html.contains("Blast radius:"));
    assert!(html.contains("app.restaurants → restaurants.list → shared"));
}

/// The model's latency ladder, run through the library's sweep workflow as `capsim sweep` runs
/// it, with fewer and shorter points.
fn ladder_sweep() -> FinishedSweep {
    let source = ModelSource::read(example("db-migration.json").to_str().unwrap()).unwrap();
    let path = "links.api -> postgres.latency.add, links.workers -> postgres.latency.add";
    let plan = capsim::workflow::sweep::SweepPlan {
        params: vec![SweptParam {
            path: path.to_string(),
            values: parse_values_text("0ms..10ms/2ms").unwrap(),
        }],
        scenario: None,
        metric: Some("api.create_payment.mean".into()),
        threshold: 0.1,
    };
    capsim::workflow::sweep::prepare(&source, &plan, None, |spec| shorter(spec, "10m", 2))
        .unwrap()
        .run(&capsim::workflow::Runner::new(), |_| {})
        .unwrap()
        .finish()
}

#[test]
fn a_sweep_report_plots_the_curve_its_knee_and_the_ladder_against_the_spreadsheet() {
    let finished = ladder_sweep();
    let header = &finished.header;
    assert!(!header.round_trips.is_empty(), "a latency ladder");
    let dir = scratch_dir("report-sweep");
    let input = ReportInput::Sweep(&finished);
    let mut written = names(&write_report(&dir, &input, None).expect("report written"));
    written.sort();
    #[rustfmt::skip]
    assert_eq!(written, ["ladder.png", "ladder.svg", "report.html", "results.json", "sweep.csv", "sweep.png", "sweep.svg"]);
    let name = &header.model;
    #[rustfmt::skip]
    assert_svg_has(&dir.join("sweep.svg"), &[&format!("{name}: sweep of api.create_payment.mean"), "api.create_payment.mean (ms)", "(ms)", "95 % CI of the mean", "low-load trend"]);
    if finished.knee.is_some() {
        assert_svg_has(&dir.join("sweep.svg"), &["knee"]);
    }
    assert_png(&dir.join("sweep.png"), 1);
    #[rustfmt::skip]
    assert_svg_has(&dir.join("ladder.svg"), &["latency ladder against the spreadsheet", "mean latency (ms)", "simulated", "spreadsheet", "api.create_payment: 24 round trips"]);
    assert_png(&dir.join("ladder.png"), header.round_trips.len() as u32);
    let html = check_html(&dir, name);
    assert!(html.contains("<h2>Sweep</h2>") && html.contains("Latency ladder against the spreadsheet"));
    assert!(
        html.contains("Knee:") && html.contains("Leaves the spreadsheet"),
        "the verdicts are there"
    );
}

#[test]
fn a_retry_storm_report_plots_deliveries_amplification_and_duplicates_and_states_the_verdict() {
    let path = example("retry-stampede.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut spec: ModelSpec = capsim::model::load::parse_spec(&text, "retry-stampede.json").expect("the example model");
    spec.replications = Some(PositiveInt(2));
    let validated = capsim::model::validate::validate(&spec).unwrap_or_else(|e| panic!("{e:?}"));
    let result = capsim::run(&validated.model, &[], None);
    let dir = scratch_dir("report-storm");
    let written = names(&write_report(&dir, &ReportInput::Run(&result), None).unwrap());
    for file in ["storm.svg", "storm.png", "report.html"] {
        assert!(written.contains(&file.to_string()), "{file} missing from {written:?}");
    }
    assert_svg_has(
        &dir.join("storm.svg"),
        &[
            "retry-stampede: retry storm over time",
            "Queue deliveries",
            "Work amplification so far",
            "Side effects",
            "messages per second",
            "receives per message",
            "simulated time (min)",
            "duplicate email",
        ],
    );
    assert_png(&dir.join("storm.png"), 3);
    let html = check_html(&dir, "retry-stampede");
    for text in ["Message queues", "Side effects", "Wasted work", "METASTABLE"] {
        assert!(html.contains(text), "report.html lacks {text:?}");
    }
}
