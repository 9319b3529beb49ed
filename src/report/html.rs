//! A report directory: `report.html` — one self-contained page (inline CSS and SVG, no external
//! URL) with the model's description, the verdicts, the summary tables with their confidence
//! intervals and the plots — beside the plots as SVG and PNG, `results.json` and the CSV files.
//!
//! ```no_run
//! # let result: capsim::results::RunResult = unimplemented!();
//! use capsim::report::html::{write_report, ReportInput};
//! let files = write_report(std::path::Path::new("report"), &ReportInput::Run(&result), None)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use super::headline::{self, Headline};
use super::markup::escape;
use super::plot::{self, Figure};
use super::sections::{self, Cell, Output};
use super::topology::Topology;
use super::{csv, json, write_output};
use crate::analysis::compare::ScenarioReport;
use crate::analysis::sweep::{FinishedSweep, SweepHeader, SweepPoint};
use crate::results::metastability::Status;
use crate::results::metric::significant;
use crate::results::RunResult;
use crate::scenario::sweep::show_value;
use crate::stats::Estimate;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// What a report is made from: one run, a baseline with scenarios, or a complete sweep.
pub enum ReportInput<'a> {
    /// A single run (`capsim run MODEL`).
    Run(&'a RunResult),
    /// A baseline and its scenarios (`capsim run MODEL --scenario …`).
    Scenarios(&'a ScenarioReport),
    /// A complete sweep (`capsim sweep`, `capsim merge`): its header, points in grid order and
    /// verdicts (the knee, the first SLO breach…), from [`crate::analysis::sweep::finish`].
    Sweep(&'a FinishedSweep),
    /// A sizing (`capsim size`): the answer, what binds it, and every configuration judged.
    Sizing(&'a crate::analysis::size::Sizing),
    /// A metastability map (`capsim metastability`): each trigger's boundary, the fixes
    /// compared, the recovery load and the loops.
    Metastability(&'a crate::analysis::metastability_map::MetastabilityMap),
    /// A calibration (`capsim calibrate`): each endpoint's statistics against the traces', and
    /// the replay's own results.
    Calibration {
        /// The comparison.
        calibration: &'a crate::analysis::calibration::Calibration,
        /// The replay at the traces' rates.
        result: &'a RunResult,
    },
}

/// Write the report into `dir` (created if missing), replacing what an
/// earlier report left there as a whole: `report.html`, each plot as `NAME.svg` and
/// `NAME.png`, `results.json`, and the CSV files (`summary.csv` and `timeseries.csv` of the run
/// or baseline, or `sweep.csv`). A reader sees the old set or the new, never a mix. Returns the paths written,
/// `report.html` last. With the `topology` of the (baseline's) model, the page of a run or of
/// scenarios shows it in its answer, the components in breach in red, and writes it as
/// `topology.svg`.
pub fn write_report(dir: &Path, input: &ReportInput, topology: Option<&Topology>) -> io::Result<Vec<PathBuf>> {
    // The files are written as one set: into a fresh directory swapped in at the end.
    let (written, staging) = super::output::write_dir(dir, |staging| write_report_files(staging, input, topology))?;
    Ok(written
        .into_iter()
        .map(|path| path.strip_prefix(&staging).map(|name| dir.join(name)).unwrap_or(path))
        .collect())
}

/// Write the report's files into `dir`, which exists.
fn write_report_files(dir: &Path, input: &ReportInput, topology: Option<&Topology>) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let put = |name: &str, contents: &str, written: &mut Vec<PathBuf>| -> io::Result<()> {
        let path = dir.join(name);
        write_output(&path, contents)?;
        written.push(path);
        Ok(())
    };
    let figures = match input {
        ReportInput::Run(result) => {
            put("results.json", &json::to_json(result), &mut written)?;
            put("summary.csv", &csv::summary_csv(result), &mut written)?;
            put("timeseries.csv", &csv::timeseries_csv(result), &mut written)?;
            put("cascade.csv", &csv::cascade_csv(result), &mut written)?;
            let mut figures = vec![plot::latency_over_time(result, None), plot::stations_over_time(result, None)];
            figures.extend(plot::cascade(result, None));
            figures.extend(plot::storm_over_time(result, None));
            figures.extend(plot::fleet_over_time(result, None));
            figures.extend(plot::caches_over_time(result, None));
            figures
        }
        ReportInput::Scenarios(report) => {
            put("results.json", &json::to_json(report), &mut written)?;
            put("summary.csv", &csv::summary_csv(&report.baseline), &mut written)?;
            put("timeseries.csv", &csv::timeseries_csv(&report.baseline), &mut written)?;
            put("cascade.csv", &csv::cascade_csv(&report.baseline), &mut written)?;
            for (i, run) in report.scenarios.iter().enumerate() {
                let summary = format!("{}.csv", scenario_figure("summary", i, &run.name));
                put(&summary, &csv::summary_csv(&run.result), &mut written)?;
                let series = format!("{}.csv", scenario_figure("timeseries", i, &run.name));
                put(&series, &csv::timeseries_csv(&run.result), &mut written)?;
                let cascade = format!("{}.csv", scenario_figure("cascade", i, &run.name));
                put(&cascade, &csv::cascade_csv(&run.result), &mut written)?;
            }
            scenario_figures(report)
        }
        ReportInput::Sweep(finished) => {
            put("results.json", &json::to_json(finished), &mut written)?;
            put("sweep.csv", &csv::sweep_csv(&finished.header, &finished.points), &mut written)?;
            std::iter::once(plot::sweep_curve(finished))
                .chain(plot::ladder(&finished.header, &finished.points))
                .collect()
        }
        ReportInput::Sizing(sizing) => {
            put("results.json", &json::to_json(sizing), &mut written)?;
            put("sizing.csv", &csv::sizing_csv(sizing), &mut written)?;
            vec![plot::sizing_frontier(sizing)]
        }
        ReportInput::Metastability(map) => {
            put("results.json", &json::to_json(map), &mut written)?;
            put("metastability.csv", &csv::metastability_csv(map), &mut written)?;
            vec![plot::metastability_curves(map)]
        }
        ReportInput::Calibration { calibration, result } => {
            let both = serde_json::json!({ "calibration": calibration, "result": result });
            put("results.json", &json::to_json(&both), &mut written)?;
            put("calibration.csv", &csv::calibration_csv(calibration), &mut written)?;
            put("summary.csv", &csv::summary_csv(result), &mut written)?;
            vec![
                plot::calibration_percentiles(calibration),
                plot::latency_over_time(result, None),
            ]
        }
    };
    let mut svgs = Vec::new();
    for figure in &figures {
        let svg = plot::svg(figure)?;
        put(&format!("{}.svg", figure.name), &svg, &mut written)?;
        let png = dir.join(format!("{}.png", figure.name));
        plot::write_png(figure, &png)?;
        written.push(png);
        svgs.push((figure.name.as_str(), svg));
    }
    let diagram = topology.and_then(|t| diagram(input, t));
    if let Some(svg) = &diagram {
        put("topology.svg", svg, &mut written)?;
    }
    put("report.html", &page(input, &svgs, diagram.as_deref()), &mut written)?;
    Ok(written)
}

/// The baseline's plots, the comparison, then each scenario's plots, with unique file names.
fn scenario_figures(report: &ScenarioReport) -> Vec<Figure> {
    let mut figures = vec![
        plot::latency_over_time(&report.baseline, None),
        plot::stations_over_time(&report.baseline, None),
    ];
    figures.extend(plot::cascade(&report.baseline, None));
    figures.extend(plot::storm_over_time(&report.baseline, None));
    figures.extend(plot::fleet_over_time(&report.baseline, None));
    figures.extend(plot::caches_over_time(&report.baseline, None));
    if !report.baseline.clients.is_empty() {
        figures.push(plot::scenarios_compared(report));
    }
    for (i, run) in report.scenarios.iter().enumerate() {
        let own = [
            Some(plot::latency_over_time(&run.result, Some(&run.name))),
            Some(plot::stations_over_time(&run.result, Some(&run.name))),
            plot::cascade(&run.result, Some(&run.name)),
            plot::storm_over_time(&run.result, Some(&run.name)),
            plot::fleet_over_time(&run.result, Some(&run.name)),
            plot::caches_over_time(&run.result, Some(&run.name)),
        ];
        for mut figure in own.into_iter().flatten() {
            figure.name = scenario_figure(&figure.name, i, &run.name);
            figures.push(figure);
        }
    }
    figures
}

/// The file stem of scenario `index`'s figure or file `kind` ("latency", "summary"): its position
/// keeps it unique.
pub fn scenario_figure(kind: &str, index: usize, name: &str) -> String {
    format!("{kind}-{}-{}", index + 1, slug(name))
}

/// A file-name-safe form of a name: letters, digits, `-` and `_`, at most 40 characters.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #1d1d1d; margin: 24px auto; max-width: 1080px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.2em; } p.settings { color: #555; margin-top: 0; }
p.description { font-size: 1.05em; max-width: 60em; }
div.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #d4d4d4; padding: 3px 8px; } th { background: #f1f3f5; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.mark td { background: #fff4db; }
.met { color: #1a7f37; font-weight: bold; } .breached { color: #c62828; font-weight: bold; } .uncertain { color: #a36100; font-weight: bold; }
ul.verdicts { padding-left: 1.2em; } ul.verdicts li { margin: 0.2em 0; }
div.alert { border-left: 4px solid #c62828; background: #fdecea; padding: 6px 12px; margin: 0.8em 0; }
div.warn { border-left: 4px solid #a36100; background: #fff4db; padding: 6px 12px; margin: 0.8em 0; }
figure { margin: 1em 0; } figure svg { width: 100%; height: auto; border: 1px solid #e3e3e3; }
figure.topology svg { border: none; width: auto; max-width: 100%; max-height: 640px; } figcaption { color: #555; font-size: 0.85em; }
svg text { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; }
p.note { color: #666; font-size: 0.85em; }
.peak { color: #a36100; font-weight: bold; } .unjudged { color: #555; font-weight: bold; }
section#answer { border: 1px solid #d4d4d4; border-radius: 6px; padding: 4px 16px 8px; background: #fbfbfc; }
ul.headlines { list-style: none; padding-left: 0; } li.headline { margin: 0.35em 0; }
table.verdict-matrix td.met, table.verdict-matrix td.breached, table.verdict-matrix td.uncertain, table.verdict-matrix td.peak { text-align: center; white-space: nowrap; font-weight: bold; }
table.verdict-matrix th.run { vertical-align: bottom; padding: 4px 2px; } table.verdict-matrix th.run span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; max-height: 14em; overflow: hidden; text-overflow: ellipsis; }
table.verdict-matrix td.met { background: #e6f4ea; } table.verdict-matrix td.breached { background: #fdecea; color: #8e1b1b; }
table.verdict-matrix td.uncertain, table.verdict-matrix td.peak { background: #fff4db; }
nav#contents ol { columns: 2; margin-top: 0.3em; }
details { margin: 0.6em 0; border: 1px solid #e3e3e3; border-radius: 4px; padding: 4px 10px; }
details > summary { cursor: pointer; padding: 2px 0; } details[open] > summary { margin-bottom: 0.4em; border-bottom: 1px solid #eee; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2, h3 { break-after: avoid; } div.scroll { overflow: visible; }
  table { font-size: 7pt; max-width: 100%; } td.n { white-space: normal; } th, td { padding: 2px 4px; } table, figure { break-inside: avoid; } figure svg { border: none; }
  nav#contents { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// The topology of a run's or scenarios' model, its components in breach in any run in red
/// (an SLO breached over the run, or in the cascade after the trigger); none for other pages.
fn diagram(input: &ReportInput, topology: &Topology) -> Option<String> {
    let runs: Vec<&RunResult> = match input {
        ReportInput::Run(r) => vec![r],
        ReportInput::Scenarios(s) => std::iter::once(&s.baseline)
            .chain(s.scenarios.iter().map(|s| &s.result))
            .collect(),
        _ => return None,
    };
    let breached: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            let slos = r
                .slos
                .iter()
                .filter(|s| s.status == crate::results::slo::SloStatus::Breached)
                .map(|s| s.name.clone());
            slos.chain(r.cascade.timeline.iter().map(|e| e.name.clone()))
        })
        .collect();
    Some(super::topology::svg(topology, &breached))
}

/// The diagram as a figure of the answer, with what its red means.
fn topology_figure(svg: &str, runs: usize) -> String {
    let red = if runs == 1 {
        "in this run"
    } else {
        "in at least one run (see the matrix)"
    };
    format!(
        "<figure class=\"topology\">\n{}\n<figcaption>The model: requests, queries and messages per second at peak, by arithmetic on the model. In red: components that breached an SLO {red}.</figcaption>\n</figure>\n",
        inline_svg(svg)
    )
}

/// The whole page.
fn page(input: &ReportInput, svgs: &[(&str, String)], diagram: Option<&str>) -> String {
    let (name, description, kind) = match input {
        ReportInput::Run(r) => (r.model.name.as_str(), r.model.description.as_str(), "run"),
        ReportInput::Scenarios(s) => (
            s.baseline.model.name.as_str(),
            s.baseline.model.description.as_str(),
            "what-if scenarios",
        ),
        ReportInput::Sweep(sweep) => (
            sweep.header.model.as_str(),
            sweep.points.first().map_or("", |p| p.result.model.description.as_str()),
            "sweep",
        ),
        ReportInput::Sizing(s) => (s.model.as_str(), s.description.as_str(), "sizing"),
        ReportInput::Metastability(m) => (m.model.as_str(), "", "metastability"),
        ReportInput::Calibration { result, .. } => (result.model.name.as_str(), result.model.description.as_str(), "calibration"),
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} — capsim {kind} report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{} <small>— capsim {kind} report</small></h1>\n",
        escape(name),
        escape(name)
    );
    if !description.is_empty() {
        let _ = writeln!(out, "<p class=\"description\">{}</p>", escape(description));
    }
    let figure = |name: &str| -> String {
        svgs.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, svg)| format!("<figure>\n{}\n</figure>\n", inline_svg(svg)))
            .unwrap_or_default()
    };
    match input {
        ReportInput::Run(result) => {
            out.push_str(&answer(
                &[headline::of_run(&result.model.name, result)],
                &[(&result.model.name, result)],
                &[],
                diagram,
            ));
            out.push_str(&contents(&[
                ("run", "The run"),
                ("plots", "Plots"),
                ("details", "All metrics"),
            ]));
            out.push_str("<h2 id=\"run\">The run</h2>\n");
            out.push_str(&run_body(result, "h3"));
            out.push_str("<h2 id=\"plots\">Plots</h2>\n");
            out.push_str(&figure("latency"));
            out.push_str(&figure("stations"));
            out.push_str(&figure("cascade"));
            out.push_str(&figure("storm"));
            out.push_str(&figure("caches"));
            out.push_str(&figure("fleet"));
            out.push_str(&details_html(
                "details",
                "All metrics: clients, endpoints, services, databases, pools…",
                &summary_tables(result),
            ));
        }
        ReportInput::Scenarios(report) => out.push_str(&scenarios_body(report, &figure, diagram)),
        ReportInput::Sweep(finished) => {
            out.push_str(&sweep_body(finished));
            out.push_str("<h2>Plots</h2>\n");
            out.push_str(&figure("sweep"));
            out.push_str(&figure("ladder"));
        }
        ReportInput::Sizing(sizing) => {
            out.push_str(&sizing_body(sizing));
            out.push_str("<h2>Cost against the SLOs</h2>\n");
            out.push_str(&figure("sizing"));
        }
        ReportInput::Metastability(map) => {
            out.push_str(&metastability_body(map));
            out.push_str("<h2>Probability of staying down</h2>\n");
            out.push_str(&figure("metastability"));
        }
        ReportInput::Calibration { calibration, result } => {
            out.push_str(&calibration_body(calibration));
            out.push_str("<h2>Percentiles: traces against the replay</h2>\n");
            out.push_str(&figure("calibration"));
            out.push_str("<h2>The replay at the traces' rates</h2>\n");
            out.push_str(&run_body(result, "h3"));
            out.push_str(&details_html("details", "All metrics of the replay", &summary_tables(result)));
            out.push_str(&figure("latency"));
        }
    }
    out.push_str("<p class=\"note\">Values are means across replications ± the half-width of their 95 % confidence interval.</p>\n</body>\n</html>\n");
    out
}

/// The top of the page: one sentence per run saying what held and what broke, the runs that
/// stopped early, each SLO's verdict in every run, and the model's diagram when there is one.
/// `anchors` link each headline to its run's section (empty: no links).
fn answer(headlines: &[Headline], runs: &[(&str, &RunResult)], anchors: &[String], diagram: Option<&str>) -> String {
    let mut out = String::from("<section id=\"answer\">\n<h2>The answer</h2>\n<ul class=\"headlines\">\n");
    for (i, h) in headlines.iter().enumerate() {
        let run = match anchors.get(i) {
            Some(anchor) => format!("<a href=\"#{anchor}\">{}</a>", escape(&h.run)),
            None => escape(&h.run),
        };
        let _ = writeln!(
            out,
            "<li class=\"headline\"><span class=\"{}\">{}</span> <b>{run}</b>: {}</li>",
            h.outcome.class(),
            h.outcome.word(),
            escape(&h.text)
        );
    }
    out.push_str("</ul>\n");
    let partial: Vec<&str> = runs
        .iter()
        .filter(|(_, r)| !r.verdict.complete)
        .map(|(name, _)| *name)
        .collect();
    if !partial.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"alert\"><b>PARTIAL RESULTS</b> — {} stopped early: {} statistics cover only the time simulated before the stop.</div>",
            escape(&partial.join(", ")),
            if partial.len() == 1 { "its" } else { "their" }
        );
    }
    out.push_str(&verdict_matrix(runs));
    out.push_str(&diagram.map(|svg| topology_figure(svg, runs.len())).unwrap_or_default());
    out.push_str("</section>\n");
    out
}

/// Every SLO objective (rows) in every run (columns), marked by its verdict — ✓ met, ✗
/// breached, ? uncertain, a duration when met over the run but breached in some of its windows
/// — with the words and the measured value in each cell's title.
fn verdict_matrix(runs: &[(&str, &RunResult)]) -> String {
    let Some((_, first)) = runs.first() else {
        return String::new();
    };
    if first.slos.is_empty() {
        return String::new();
    }
    let mut out = String::from("<div class=\"scroll\"><table class=\"verdict-matrix\">\n<tr><th>SLO</th><th>objective</th>");
    for (name, _) in runs {
        let _ = write!(out, "<th class=\"run\"><span>{}</span></th>", escape(name));
    }
    out.push_str("</tr>\n");
    for (i, slo) in first.slos.iter().enumerate() {
        out.push_str("<tr>");
        if i == 0 || first.slos[i - 1].name != slo.name {
            let span = first.slos[i..].iter().take_while(|s| s.name == slo.name).count();
            let _ = write!(out, "<td rowspan=\"{span}\">{}</td>", escape(&slo.name));
        }
        let _ = write!(out, "<td>{}</td>", escape(&slo.objective.replace("<=", "≤")));
        for (run, r) in runs {
            let found = r.slos.iter().find(|s| s.name == slo.name && s.objective == slo.objective);
            let Some(s) = found else {
                out.push_str("<td>–</td>");
                continue;
            };
            let word = s.status.name().to_uppercase();
            let breached: f64 = s.breached_s.iter().map(|[a, b]| b - a).sum();
            let (class, mark, title) = match s.status {
                crate::results::slo::SloStatus::Met if breached > 0.0 => {
                    let long = crate::model::units::format_duration_f64(breached);
                    (
                        "peak",
                        format!("✓ {long}"),
                        format!("{word} over the run, breached in {long} of its windows"),
                    )
                }
                crate::results::slo::SloStatus::Met => ("met", "✓".to_string(), word),
                crate::results::slo::SloStatus::Breached => ("breached", "✗".to_string(), word),
                crate::results::slo::SloStatus::Uncertain => ("uncertain", "?".to_string(), word),
            };
            let _ = write!(
                out,
                "<td class=\"{class}\" title=\"{}: {title}; measured {}\">{mark}</td>",
                escape(run),
                escape(&slo_measured(s))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n<p class=\"note\">✓ met: the whole 95 % interval within the bound; ✗ breached: wholly past it; ? uncertain: it straddles the bound (more replications would tell); ✓ 3m: met over the run, breached in 3m of its windows. Hover a cell for what it measured.</p>\n");
    out
}

/// The table of contents: (anchor, title) of each section of the page.
fn contents(entries: &[(&str, &str)]) -> String {
    let mut out = String::from("<nav id=\"contents\">\n<h2>Contents</h2>\n<ol>\n");
    for (anchor, title) in entries {
        let _ = writeln!(out, "<li><a href=\"#{anchor}\">{}</a></li>", escape(title));
    }
    out.push_str("</ol>\n</nav>\n");
    out
}

/// A section collapsed by default: its summary line is all the page shows until opened.
fn details_html(id: &str, summary: &str, body: &str) -> String {
    if body.trim().is_empty() {
        return String::new();
    }
    format!(
        "<details id=\"{id}\"><summary>{}</summary>\n{body}</details>\n",
        escape(summary)
    )
}

/// An SVG document as an element of the page (its XML declaration, if any, dropped).
fn inline_svg(svg: &str) -> &str {
    let svg = svg.trim_start();
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    }
}

/// An HTML table; cells are escaped, and those whose text starts like a number are right-aligned.
fn table(header: &[String], rows: &[Vec<String>], marked: &[usize]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for (i, row) in rows.iter().enumerate() {
        out.push_str(if marked.contains(&i) { "<tr class=\"mark\">" } else { "<tr>" });
        for (j, cell) in row.iter().enumerate() {
            let numeric = j > 0 && cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '–');
            let class = status_class(cell).map_or(if numeric { " class=\"n\"" } else { "" }, |c| c);
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

/// The class of a cell that is an SLO's status ("MET", "BREACHED overall; …").
fn status_class(cell: &str) -> Option<&'static str> {
    match cell.split(' ').next().unwrap_or(cell) {
        "MET" => Some(" class=\"met\""),
        "BREACHED" => Some(" class=\"breached\""),
        "UNCERTAIN" => Some(" class=\"uncertain\""),
        _ => None,
    }
}

fn strings(header: &[&str]) -> Vec<String> {
    header.iter().map(|h| h.to_string()).collect()
}

/// "12.3 ± 0.4", scaled by `k` (100 for shares as %); "–" when there is no value.
fn est(e: &Estimate, k: f64) -> String {
    let number = |v: f64| if v == 0.0 { "0".to_string() } else { significant(v) };
    if !e.mean.is_finite() {
        return "–".into();
    }
    if e.n < 2 || !e.ci95.is_finite() {
        return number(e.mean * k);
    }
    format!("{} ± {}", number(e.mean * k), number(e.ci95 * k))
}

/// The settings, verdicts and summary tables of one run.
fn run_body(r: &RunResult, heading: &str) -> String {
    let m = &r.model;
    let mut out = format!(
        "<p class=\"settings\">{} replication{} × {} (warm-up {}, windows of {}), seed {}, {} events</p>\n",
        m.replications,
        if m.replications == 1 { "" } else { "s" },
        crate::model::units::format_duration_f64(m.duration_s),
        crate::model::units::format_duration_f64(m.warmup_s),
        crate::model::units::format_duration_f64(m.window_s),
        m.seed,
        r.events
    );
    out.push_str(&verdicts(r, heading));
    out.push_str(&cascade_html(r, heading));
    out.push_str(&lifecycle_html(r));
    out
}

/// The cascade after the trigger: who breached their SLO, when, for how long, through what; and
/// the blast radius. Nothing without SLOs.
fn cascade_html(r: &RunResult, heading: &str) -> String {
    if r.slos.is_empty() {
        return String::new();
    }
    let c = &r.cascade;
    let duration = crate::model::units::format_duration_f64;
    let mut out = format!(
        "<{heading}>Cascade</{heading}>\n<p>After {} — SLOs judged per {} window, all replications pooled.</p>\n",
        escape(&c.trigger),
        duration(c.window_s)
    );
    if c.timeline.is_empty() {
        out.push_str("<p>No SLO breached after the trigger.</p>\n");
    } else {
        let rows: Vec<Vec<String>> = c
            .timeline
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    (i + 1).to_string(),
                    e.name.clone(),
                    format!("+{}", duration(e.after_trigger_s)),
                    match e.recovered_s {
                        Some(end) => format!(
                            "{}, ok from {}",
                            duration(e.breached_windows as f64 * c.window_s),
                            duration(end)
                        ),
                        None => format!("{}, to the end", duration(e.breached_windows as f64 * c.window_s)),
                    },
                    format!("{}: {}", e.objective, e.measured),
                    if e.path.is_empty() {
                        "–".into()
                    } else {
                        e.path.join(" → ")
                    },
                ]
            })
            .collect();
        out.push_str(&table(
            &strings(&["#", "component", "breached after", "in breach", "first breach", "path"]),
            &rows,
            &[],
        ));
    }
    let _ = writeln!(
        out,
        "<p><b>Blast radius:</b> {}</p>",
        escape(&super::cascade::blast_radius_sentence(&c.blast_radius))
    );
    out
}

/// Crashes per service and what each rollout did, one paragraph per line of the text summary.
fn lifecycle_html(r: &RunResult) -> String {
    let text = super::table::crash_lines(r) + &super::table::rollout_lines(r);
    text.lines().map(|line| format!("<p>{}</p>\n", escape(line.trim()))).collect()
}

/// Stops, warnings, SLO verdicts and batch deadlines, as lists.
fn verdicts(r: &RunResult, heading: &str) -> String {
    let mut out = String::new();
    if !r.verdict.complete {
        let what = if r.verdict.unstable { "UNSTABLE" } else { "INCOMPLETE" };
        let _ = write!(out, "<div class=\"alert\"><b>{what}</b> — the run stopped early; statistics cover only the time simulated before the stop.<ul>");
        for msg in &r.verdict.messages {
            let _ = write!(out, "<li>{}</li>", escape(msg));
        }
        out.push_str("</ul>");
        let coverage = r.verdict.replications.sentence();
        if !coverage.is_empty() {
            let _ = write!(out, "<p><b>{}</b></p>", escape(&coverage));
        }
        out.push_str("</div>\n");
    }
    if !r.warnings.is_empty() {
        out.push_str("<div class=\"warn\"><b>Warnings</b><ul>");
        for w in &r.warnings {
            let _ = write!(out, "<li>{}</li>", escape(w));
        }
        out.push_str("</ul></div>\n");
    }
    let mut items: Vec<String> = Vec::new();
    for s in &r.slos {
        let class = s.status.name();
        items.push(format!(
            "<span class=\"{}\">{}</span> SLO {} {}: measured {}",
            escape(class),
            escape(&s.status.name().to_uppercase()),
            escape(&s.name),
            escape(&s.objective),
            escape(&slo_measured(s))
        ));
        let breaches = s.breaches_text();
        if !breaches.is_empty() {
            if let Some(last) = items.last_mut() {
                last.push_str(&format!("; {}", escape(&breaches)));
            }
        }
    }
    for c in &r.clients {
        let Some(b) = &c.batch else { continue };
        let mut line = format!(
            "batch {} ({} user{} × {} requests) done in {} s",
            c.name,
            b.users,
            if b.users == 1 { "" } else { "s" },
            b.requests_per_user,
            est(&b.makespan_s, 1.0)
        );
        if b.finished_share.min < 1.0 {
            line.push_str(" (not all done by the end of the run)");
        }
        let Some((deadline, slack)) = b.deadline_s.zip(b.slack_s.as_ref()) else {
            items.push(escape(&format!("Batch: {line}")));
            continue;
        };
        let (verdict, class) = if slack.high() < 0.0 {
            ("MISSED", "breached")
        } else if slack.low() >= 0.0 {
            ("MET", "met")
        } else {
            ("TOO CLOSE TO CALL", "uncertain")
        };
        items.push(format!(
            "<span class=\"{class}\">{verdict}</span> deadline: {}",
            escape(&format!(
                "{line} against its {deadline} s deadline; slack {} s",
                est(slack, 1.0)
            ))
        ));
    }
    if let Some(m) = &r.metastability {
        let class = match m.status {
            Status::Metastable => "breached",
            Status::Undetermined | Status::BaselineUnhealthy => "uncertain",
            Status::Stable | Status::Recovered => "met",
        };
        items.push(format!(
            "<span class=\"{class}\">{}</span> after the trigger: {}",
            escape(&m.status.name().to_uppercase()),
            escape(&m.text)
        ));
    }
    if !items.is_empty() {
        let _ = writeln!(out, "<{heading}>Verdicts</{heading}>\n<ul class=\"verdicts\">");
        for item in items {
            let _ = writeln!(out, "<li>{item}</li>");
        }
        out.push_str("</ul>\n");
    }
    out
}

fn slo_measured(s: &crate::results::SloResult) -> String {
    sections::measured(&s.objective, &s.measured).text()
}

/// Each section of the [registry](sections::SECTIONS) the run has rows for, as a table under
/// its title.
fn summary_tables(r: &RunResult) -> String {
    let mut out = String::new();
    for section in sections::SECTIONS {
        let rows: Vec<Vec<String>> = section
            .rows(r, Output::Html)
            .iter()
            .map(|row| row.iter().map(Cell::text).collect())
            .collect();
        if !rows.is_empty() {
            let _ = writeln!(out, "<h3>{}</h3>", escape(section.title()));
            out.push_str(&table(&section.headers(Output::Html), &rows, &[]));
        }
    }
    out
}

/// The baseline, each scenario's comparison, the SLOs per run, and the plots.
fn scenarios_body(report: &ScenarioReport, figure: &dyn Fn(&str) -> String, diagram: Option<&str>) -> String {
    let headlines = headline::of_runs(report);
    let runs: Vec<(&str, &RunResult)> = std::iter::once(("baseline", &report.baseline))
        .chain(report.scenarios.iter().map(|s| (s.name.as_str(), &s.result)))
        .collect();
    let anchors: Vec<String> = std::iter::once("baseline".to_string())
        .chain((1..=report.scenarios.len()).map(|i| format!("scenario-{i}")))
        .collect();
    let mut out = answer(&headlines, &runs, &anchors, diagram);
    let mut sections = vec![
        ("compared", "Scenarios compared".to_string()),
        ("baseline", "Baseline".to_string()),
    ];
    sections.extend(
        report
            .scenarios
            .iter()
            .zip(&anchors[1..])
            .map(|(run, anchor)| (anchor.as_str(), format!("Scenario {}", run.name))),
    );
    let sections: Vec<(&str, &str)> = sections.iter().map(|(a, t)| (*a, t.as_str())).collect();
    out.push_str(&contents(&sections));
    out.push_str("<h2 id=\"compared\">Scenarios compared with the baseline</h2>\n<p>Same random numbers in every run; changes are paired by replication, with their 95 % CI. Each scenario's changes are in its section below.</p>\n");
    if let Some((header, rows, note)) = super::compare::storm_rows(&runs) {
        out.push_str("<h3>Retry storm per run (amplification, duplicates, wasted work, metastability)</h3>\n");
        let marked: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.last().is_some_and(|v| v.starts_with("METASTABLE")))
            .map(|(i, _)| i)
            .collect();
        out.push_str(&table(&header, &rows, &marked));
        if !note.is_empty() {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&note));
        }
    }
    out.push_str(&details_html(
        "every-run",
        "Every client over time, in every run (plot)",
        &figure("scenarios"),
    ));
    out.push_str("<h2 id=\"baseline\">Baseline</h2>\n");
    out.push_str(&run_body(&report.baseline, "h3"));
    out.push_str(&figure("latency"));
    let plots = [
        figure("stations"),
        figure("cascade"),
        figure("storm"),
        figure("caches"),
        figure("fleet"),
    ]
    .concat();
    out.push_str(&details_html(
        "baseline-plots",
        "The baseline's stations, cascade, retry storm, caches and fleet over time (plots)",
        &plots,
    ));
    out.push_str(&details_html(
        "baseline-details",
        "All metrics of the baseline: clients, endpoints, services, databases, pools…",
        &summary_tables(&report.baseline),
    ));
    out.push_str("<h2>Scenarios</h2>\n<p>Each scenario's section opens on a click: its changes against the baseline, its cascade and its plots.</p>\n");
    for ((i, run), h) in report.scenarios.iter().enumerate().zip(&headlines[1..]) {
        let _ = writeln!(
            out,
            "<details id=\"scenario-{}\"><summary><span class=\"{}\">{}</span> <b>Scenario {}</b>: {}</summary>",
            i + 1,
            h.outcome.class(),
            h.outcome.word(),
            escape(&run.name),
            escape(&h.text)
        );
        out.push_str("<h3>Changes against the baseline</h3>\n");
        if let Some(description) = &run.description {
            let _ = writeln!(out, "<p>{}</p>", escape(description));
        }
        if !run.result.verdict.complete {
            out.push_str("<div class=\"alert\"><b>STOPPED EARLY</b><ul>");
            for m in &run.result.verdict.messages {
                let _ = write!(out, "<li>{}</li>", escape(m));
            }
            out.push_str("</ul>");
            let coverage = run.result.verdict.replications.sentence();
            if !coverage.is_empty() {
                let _ = write!(
                    out,
                    "<p><b>{}</b>; changes pair only replications complete in both runs.</p>",
                    escape(&coverage)
                );
            }
            out.push_str("</div>\n");
        }
        if !crate::analysis::compare::was_run(&run.result) {
            out.push_str(
                "<p><b>NOT RUN</b>: stopped before any replication measured anything; nothing to compare.</p>\n</details>\n",
            );
            continue;
        }
        let rows: Vec<Vec<String>> = run
            .comparison
            .iter()
            .filter(|m| m.baseline.mean.is_finite() || m.scenario.mean.is_finite())
            .filter(|m| m.baseline.samples != m.scenario.samples)
            .map(|m| {
                let mut row = vec![m.metric.clone()];
                row.extend(super::compare::compared_cells(m));
                row
            })
            .collect();
        let marked: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r[4] == "yes")
            .map(|(i, _)| i)
            .collect();
        out.push_str(&table(
            &strings(&["metric", "baseline", "scenario", "change", "significant"]),
            &rows,
            &marked,
        ));
        let identical = run
            .comparison
            .iter()
            .filter(|m| m.baseline.samples == m.scenario.samples)
            .count();
        if identical > 0 {
            let _ = writeln!(
                out,
                "<p>{identical} other metrics identical in every replication, not shown.</p>"
            );
        }
        for line in super::compare::hedge_lines(&run.result) {
            let _ = writeln!(out, "<p>{}</p>", escape(&line));
        }
        out.push_str(&lifecycle_html(&run.result));
        out.push_str(&verdicts(&run.result, "h3"));
        out.push_str(&cascade_html(&run.result, "h3"));
        out.push_str(&figure(&scenario_figure("cascade", i, &run.name)));
        out.push_str(&figure(&scenario_figure("latency", i, &run.name)));
        out.push_str(&figure(&scenario_figure("stations", i, &run.name)));
        out.push_str(&figure(&scenario_figure("storm", i, &run.name)));
        out.push_str(&figure(&scenario_figure("caches", i, &run.name)));
        out.push_str(&figure(&scenario_figure("fleet", i, &run.name)));
        out.push_str("</details>\n");
    }
    out
}

/// Lines of a text report that are verdicts: not indented (table rows are), the title excepted.
fn verdict_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The map: what it watched, each run's boundaries, recovery load and loops, the fixes compared.
fn metastability_body(m: &crate::analysis::metastability_map::MetastabilityMap) -> String {
    use crate::report::metastability::{boundary_text, control_text, recovery_text, sustained_text, tipped_cell, tried_sizes};
    let mut out = format!(
        "<p class=\"settings\">Watching {} against its baseline; every trigger starts at {}; a size tips the system over when at least half of the replications stay down (95 % CI above ½), judged with {} replications first, up to {}.</p>\n",
        escape(&m.metric),
        escape(&crate::model::units::format_duration_f64(m.at_s)),
        m.first_replications,
        m.max_replications
    );
    if let Some(why) = &m.stopped {
        let _ = writeln!(
            out,
            "<p><span class=\"breached\">PARTIAL</span> — {}; what follows covers the sizes tried before it stopped.</p>",
            escape(why)
        );
    }
    if m.runs.len() > 1 {
        out.push_str(
            "<h2>Fixes compared</h2>\n<p>The smallest trigger that tips the system over, per run (larger is safer).</p>\n",
        );
        let mut header = vec!["trigger".to_string()];
        header.extend(m.runs.iter().map(|r| r.run.clone()));
        let mut rows = Vec::new();
        for (ti, t) in m.runs[0].triggers.iter().enumerate() {
            for (ci, c) in t.curves.iter().enumerate() {
                let mut row = vec![c.label.clone()];
                row.extend(m.runs.iter().map(|run| {
                    run.triggers
                        .get(ti)
                        .and_then(|t| t.curves.get(ci))
                        .map_or("–".to_string(), |c| tipped_cell(t.scale, &c.curve.boundary))
                }));
                rows.push(row);
            }
        }
        out.push_str(&table(&header, &rows, &[]));
    }
    for run in &m.runs {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&run.run));
        if let Some(d) = &run.description {
            let _ = writeln!(out, "<p>{}</p>", escape(d));
        }
        let rows: Vec<Vec<String>> = run
            .triggers
            .iter()
            .flat_map(|t| {
                t.curves.iter().map(move |c| {
                    vec![
                        c.label.clone(),
                        t.target.clone(),
                        c.for_s.map_or("–".into(), crate::model::units::format_duration_f64),
                        boundary_text(t.scale, &c.curve),
                        tried_sizes(t.scale, &c.curve),
                    ]
                })
            })
            .collect();
        out.push_str(&table(
            &strings(&["trigger", "on", "for", "boundary", "sizes tried: stayed down / judged"]),
            &rows,
            &[],
        ));
        for line in control_text(run)
            .into_iter()
            .chain(recovery_text(run).map(|t| format!("Recovery: {t}")))
            .chain(sustained_text(run).map(|t| format!("Loop: {t}")))
            .chain(run.notes.iter().map(|n| format!("Note: {n}")))
        {
            let _ = writeln!(out, "<p>{}</p>", escape(&line));
        }
    }
    let mechanisms = if m.mechanisms.is_empty() {
        "The model has no retry, no redelivery and no work for callers who gave up: nothing in it can keep a failure going once the trigger ends.".to_string()
    } else {
        format!("What can amplify work in this model: {}.", m.mechanisms.join("; "))
    };
    let _ = writeln!(
        out,
        "<p class=\"settings\">{} {} simulations, {} replications simulated. Every size tried is in metastability.csv.</p>",
        escape(&mechanisms),
        m.simulations,
        m.replications_simulated
    );
    out
}

/// The sweep's settings, verdicts, table, and the ladder when it is one.
/// The sizing's answer: what it recommends and at what cost, what binds each knob, the headroom
/// of every objective, and how much it ran.
fn sizing_body(s: &crate::analysis::size::Sizing) -> String {
    use crate::analysis::size::SizingStatus;
    let cost = |v: f64| {
        format!(
            "{}{}/h",
            significant(v),
            if s.currency.is_empty() {
                String::new()
            } else {
                format!(" {}", s.currency)
            }
        )
    };
    let class = match s.status {
        SizingStatus::Sized => "met",
        SizingStatus::Uncertain => "uncertain",
        SizingStatus::Infeasible | SizingStatus::Stopped => "breached",
    };
    let mut out = format!(
        "<p class=\"settings\">{} knob{} under {}; verdicts screened with {} replications, confirmed with {} up to {}</p>\n<p><span class=\"{class}\">{}</span>",
        s.knobs.len(),
        if s.knobs.len() == 1 { "" } else { "s" },
        escape(&s.runs.join(", ")),
        s.replications.screen,
        s.replications.full,
        s.replications.cap,
        s.status.name()
    );
    match (s.status, s.cost_per_hour) {
        (SizingStatus::Sized, Some(c)) => {
            let _ = write!(
                out,
                " — the cheapest configuration meeting every SLO under every run costs {}",
                cost(c)
            );
            if let Some(w) = s.cost_as_written {
                let _ = write!(out, " (the model as written: {})", cost(w));
            }
        }
        (SizingStatus::Infeasible, _) => out.push_str(" — no configuration in range meets every SLO"),
        (SizingStatus::Uncertain, _) => out.push_str(" — the confidence intervals cannot decide at the replication cap"),
        _ => {
            let _ = write!(out, " — {}", escape(s.stopped.as_deref().unwrap_or("stopped")));
        }
    }
    out.push_str(".</p>\n");
    let rows: Vec<Vec<String>> = s
        .knobs
        .iter()
        .map(|k| {
            let binding = match (&k.cheaper, &k.binding) {
                (None, _) => "the lowest value of its range".to_string(),
                (Some(step), Some(b)) => {
                    let under = if b.run == "baseline" {
                        String::new()
                    } else {
                        format!(" under {}", b.run)
                    };
                    let worst = step.breaks.first().map(|w| est(&w.measured, 1.0)).unwrap_or_default();
                    format!(
                        "{} {}{under}: {} of {} here; at {} {}",
                        b.slo,
                        b.objective,
                        est(&b.measured, 1.0),
                        significant(b.bound),
                        step.value,
                        worst
                    )
                }
                (Some(step), None) => format!("at {} a run stops at a bound", step.value),
            };
            vec![
                k.path.clone(),
                k.value.clone().unwrap_or_else(|| "–".into()),
                k.as_written.clone().unwrap_or_else(|| "–".into()),
                format!("{}..{}", k.range[0], k.range[1]),
                cost(k.cost_per_hour),
                binding,
            ]
        })
        .collect();
    out.push_str("<h2>Knobs</h2>\n");
    out.push_str(&table(
        &strings(&[
            "knob",
            "value",
            "as written",
            "range",
            "cost per unit",
            "what binds it (one step cheaper breaks it)",
        ]),
        &rows,
        &[],
    ));
    if !s.unmet.is_empty() {
        out.push_str("<h2>Not met with every knob at its largest value</h2>\n");
        out.push_str(&objectives_table(&s.unmet, false));
    }
    if !s.objectives.is_empty() {
        out.push_str("<h2>SLO headroom</h2>\n");
        out.push_str(&objectives_table(&s.objectives, true));
    }
    let _ = writeln!(
        out,
        "<p class=\"settings\">Search: {} configurations judged of {} in the grid; {} simulations, {} replications simulated. Every configuration judged is in sizing.csv.</p>",
        s.configurations,
        significant(s.grid),
        s.simulations,
        s.replications_simulated
    );
    out
}

/// Objectives of a sizing under their runs, measured, against their bounds (with the share of the
/// bound left when `headroom`).
fn objectives_table(objectives: &[crate::analysis::size::Objective], headroom: bool) -> String {
    let rows: Vec<Vec<String>> = objectives
        .iter()
        .map(|o| {
            let mut row = vec![
                o.slo.clone(),
                o.objective.clone(),
                o.run.clone(),
                est(&o.measured, 1.0),
                significant(o.bound),
            ];
            if headroom {
                row.push(format!("{:.0} %", o.headroom * 100.0));
            }
            row.push(o.status.name().to_uppercase());
            row
        })
        .collect();
    let mut header = vec!["slo", "objective", "run", "measured", "bound"];
    if headroom {
        header.push("headroom");
    }
    header.push("status");
    table(&strings(&header), &rows, &[])
}

fn sweep_body(finished: &FinishedSweep) -> String {
    let (header, points) = (&finished.header, &finished.points[..]);
    let mut out = format!(
        "<p class=\"settings\">Sweep over {} point{}{} of {} — metric {}, knee threshold {} % past the low-load trend (the line through the two points at the low-load end: the smallest values, or the largest when the system gets better as the value grows)</p>\n",
        header.total_points,
        if header.total_points == 1 { "" } else { "s" },
        if header.scenario.is_empty() { String::new() } else { format!(" on scenario {}", escape(&header.scenario)) },
        escape(&header.params.join(" × ")),
        escape(&header.metric),
        significant(header.threshold * 100.0)
    );
    if let Some(r) = points.first() {
        let m = &r.result.model;
        let _ = writeln!(
            out,
            "<p class=\"settings\">Each point: {} replication{} × {} (warm-up {}), seed {}</p>",
            m.replications,
            if m.replications == 1 { "" } else { "s" },
            crate::model::units::format_duration_f64(m.duration_s),
            crate::model::units::format_duration_f64(m.warmup_s),
            m.seed
        );
    }
    let incomplete = points.iter().filter(|p| !p.result.verdict.complete).count();
    if incomplete > 0 {
        let _ = writeln!(
            out,
            "<div class=\"alert\"><b>INCOMPLETE</b> — {incomplete} point{} stopped early; their statistics are partial.</div>",
            if incomplete == 1 { "" } else { "s" }
        );
    }
    let ladder_text = super::sweep::ladder_table(header, points);
    out.push_str("<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n");
    for line in verdict_lines(&super::sweep::sweep_table(finished))
        .into_iter()
        .chain(verdict_lines(ladder_text.trim_start()))
    {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n<h2>Sweep</h2>\n");
    let knee = super::sweep::knee_position(finished);
    let mut columns = header.params.clone();
    columns.push(format!("{} (mean ± CI)", header.metric));
    let (verdict_columns, verdicts) = super::sweep::point_verdicts(finished);
    columns.extend(verdict_columns.into_iter().map(String::from));
    let rows: Vec<Vec<String>> = points
        .iter()
        .zip(verdicts)
        .map(|(p, cells)| {
            let mut row: Vec<String> = p.values.iter().map(show_value).collect();
            row.push(if p.result.verdict.replications.is_partial() {
                "PARTIAL".to_string()
            } else {
                est(&p.metric, 1.0)
            });
            row.extend(cells);
            row
        })
        .collect();
    out.push_str(&table(&columns, &rows, &knee.into_iter().collect::<Vec<_>>()));
    out.push_str(&ladder_html(header, points));
    out
}

/// The latency ladder as a table: each endpoint beside the spreadsheet, the pools, databases and
/// services at each step (empty unless the sweep adds latency over one parameter).
fn ladder_html(header: &SweepHeader, points: &[SweepPoint]) -> String {
    use crate::analysis::ladder::spreadsheet_ms;
    if header.round_trips.is_empty() || header.params.len() != 1 || points.is_empty() {
        return String::new();
    }
    let first = &points[0].result;
    let mut columns = vec!["added".to_string()];
    for (name, trips) in &header.round_trips {
        columns.extend([
            format!("{name} ms"),
            format!("sheet ({} trips)", super::plot::thousands(*trips)),
            "vs sheet".into(),
        ]);
    }
    for p in &first.pools {
        columns.extend([format!("{} use %", p.name), "waited %".into(), "wait p99 ms".into()]);
    }
    columns.extend(first.databases.iter().map(|d| format!("{} conns", d.name)));
    columns.extend(first.services.iter().map(|s| format!("{} busy %", s.name)));
    let mean_ms = |p: &SweepPoint, name: &str| {
        p.result
            .endpoints
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.latency.mean_ms.clone())
    };
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let added = p.values.first().and_then(crate::scenario::sweep::numeric).unwrap_or(f64::NAN);
            let mut row = vec![p.values.first().map(show_value).unwrap_or_default()];
            for (name, trips) in &header.round_trips {
                let base = mean_ms(&points[0], name).map_or(f64::NAN, |e| e.mean);
                let sim = mean_ms(p, name).unwrap_or_else(|| Estimate::from_samples(&[]));
                let sheet = spreadsheet_ms(base, *trips, added);
                let off = sim.mean / sheet - 1.0;
                row.push(est(&sim, 1.0));
                row.push(if sheet.is_finite() { significant(sheet) } else { "–".into() });
                row.push(if off.is_finite() {
                    format!("{:+.0} %", 100.0 * off)
                } else {
                    "–".into()
                });
            }
            for pool in &p.result.pools {
                row.push(est(&pool.utilisation, 100.0));
                row.push(est(&pool.acquire_wait.waited_share, 100.0));
                row.push(est(&pool.acquire_wait.p99_ms, 1.0));
            }
            row.extend(p.result.databases.iter().map(|d| est(&d.connections_in_use, 1.0)));
            row.extend(p.result.services.iter().map(|s| est(&s.utilisation, 100.0)));
            row
        })
        .collect();
    format!(
        "<h2>Latency ladder against the spreadsheet</h2>\n<p>The spreadsheet's line: duration at +0 plus round trips × added latency.</p>\n{}",
        table(&columns, &rows, &[])
    )
}

/// A calibration's verdict and its table of statistics.
fn calibration_body(c: &crate::analysis::calibration::Calibration) -> String {
    use crate::analysis::calibration::Fit;
    let class = match c.verdict {
        Fit::Fits => "met",
        Fit::Misfit => "breached",
        Fit::Uncertain => "uncertain",
    };
    let mut out = String::new();
    if !c.complete {
        out.push_str("<div class=\"alert\">PARTIAL: the replay stopped early; the comparison covers what was simulated.</div>\n");
    }
    let _ = writeln!(
        out,
        "<p><span class=\"{class}\">{}</span> within {:.0} %: the largest relative error is {} ({:+.1} %).</p>",
        c.verdict.label(),
        c.max_error * 100.0,
        escape(&c.worst),
        c.worst_error * 100.0
    );
    let header = strings(&[
        "endpoint",
        "requests",
        "statistic",
        "traces",
        "simulated",
        "error",
        "95 % interval of the error",
        "fit",
    ]);
    let mut rows = Vec::new();
    let mut marked = Vec::new();
    for e in &c.endpoints {
        for s in &e.statistics {
            let value = |x: f64| {
                if s.statistic == "throughput" {
                    format!("{x:.2}/s")
                } else {
                    crate::model::units::format_duration_f64(x / 1000.0)
                }
            };
            if s.fit != Fit::Fits {
                marked.push(rows.len());
            }
            rows.push(vec![
                e.name.clone(),
                e.requests.to_string(),
                s.statistic.to_string(),
                value(s.observed),
                value(s.simulated),
                format!("{:+.1} %", s.error * 100.0),
                format!("{:+.1} % to {:+.1} %", s.error_low * 100.0, s.error_high * 100.0),
                match s.fit {
                    Fit::Fits => "MET".to_string(),
                    Fit::Misfit => "BREACHED".to_string(),
                    Fit::Uncertain => "UNCERTAIN".to_string(),
                },
            ]);
        }
    }
    out.push_str(&table(&header, &rows, &marked));
    out.push_str("<p class=\"note\">A statistic fits (MET) when its whole interval — the replay's 95 % confidence interval and the traces' 95 % interval of each percentile — is within the allowed error, misfits (BREACHED) when its whole interval is outside, and is UNCERTAIN otherwise.</p>\n");
    if !c.not_in_model.is_empty() {
        let _ = writeln!(
            out,
            "<p>In the traces but not in the model (not compared): {}</p>",
            escape(&c.not_in_model.join(", "))
        );
    }
    out
}
