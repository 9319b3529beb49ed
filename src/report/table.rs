//! The terminal summary: what a capacity engineer reads first, every number with its 95 % CI.

use super::human::{self, Quantity};
use super::sections::{self, Cell, Output, Section, Subject, SECTIONS};
use super::text_table::TextTable;
use crate::results::metric::Unit;
use crate::results::resilience::QueueWindow;
use crate::results::RunResult;
use crate::stats::Estimate;

/// What an SLO objective measured, in its unit: "287 ±9 ms", or "0.40 ±0.10 %" for a share.
pub(crate) fn slo_measured(objective: &str, measured: &Estimate) -> String {
    sections::measured(objective, measured).text()
}

/// The whole summary as text: the model's settings and verdicts, then each section of the
/// [registry](sections::SECTIONS) as a table, some followed by lines about it.
pub fn summary(result: &RunResult) -> String {
    let m = &result.model;
    let mut out = format!(
        "{} — {} replication{} × {} (warm-up {}), seed {}, {} events\n",
        m.name,
        m.replications,
        if m.replications == 1 { "" } else { "s" },
        crate::model::units::format_duration_f64(m.duration_s),
        crate::model::units::format_duration_f64(m.warmup_s),
        m.seed,
        result.events
    );
    out.push_str("Values are means across replications ± the half-width of their 95 % confidence interval.\n");
    if !result.verdict.complete {
        out.push_str(if result.verdict.unstable {
            "\nUNSTABLE — the run stopped early:\n"
        } else {
            "\nINCOMPLETE — the run stopped early:\n"
        });
        for msg in &result.verdict.messages {
            out.push_str(&format!("  {msg}\n"));
        }
        let coverage = result.verdict.replications.sentence();
        if coverage.is_empty() {
            out.push_str("  Statistics below cover only the time simulated before the stop.\n");
        } else {
            out.push_str(&format!("  {coverage}.\n"));
        }
    }

    if !result.warnings.is_empty() {
        out.push_str("\nWARNINGS\n");
        for w in &result.warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }

    for section in SECTIONS {
        out.push_str(&section_table(*section, result));
        out.push_str(&lines_after(section.subject(), result));
    }
    if let Some(m) = &result.metastability {
        out.push_str(&format!("\nAfter the trigger: {}\n", m.text));
    }
    out
}

/// A section as a text table under its title; nothing when the run has no rows for it.
fn section_table(section: &dyn Section, result: &RunResult) -> String {
    let rows = section.rows(result, Output::Terminal);
    let Some(first) = rows.first() else {
        return String::new();
    };
    let headers = section.headers(Output::Terminal);
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let words: Vec<usize> = (1..first.len()).filter(|&i| first[i].is_text()).collect();
    let mut t = TextTable::new(&refs).text_columns(&words);
    for row in &rows {
        t.row(row.iter().map(Cell::text).collect());
    }
    format!("\n{}\n{}", section.title(), t.render())
}

/// The lines the terminal prints after a section: batch deadlines after the clients, caches
/// after the endpoints, crashes and rollouts after the services, data growth after the
/// databases, the storm timeline after the queues, the cascade after the SLOs.
fn lines_after(subject: Subject, result: &RunResult) -> String {
    match subject {
        Subject::Clients => batch_lines(result),
        Subject::Endpoints => cache_lines(result),
        Subject::Services => {
            let mut out = crash_lines(result);
            if !result.rollouts.is_empty() {
                out.push_str("\nRollouts\n");
                out.push_str(&rollout_lines(result));
            }
            out
        }
        Subject::Databases => growth_lines(result),
        Subject::Queues => storm_timeline(result),
        // Without a timed action the "trigger" is the start of measurement: only worth a section
        // when something breached.
        Subject::Slos if !result.slos.is_empty() && (!result.model.actions.is_empty() || !result.cascade.timeline.is_empty()) => {
            super::cascade::render(&result.cascade)
        }
        _ => String::new(),
    }
}

/// One line per batch client: how long its users took, and whether they met their deadline.
fn batch_lines(result: &RunResult) -> String {
    let mut out = String::new();
    for c in &result.clients {
        let Some(b) = &c.batch else {
            continue;
        };
        let finished_all = b.finished_share.min >= 1.0;
        let mut line = format!(
            "  {}: {} user{} × {} requests, {} {}",
            c.name,
            b.users,
            if b.users == 1 { "" } else { "s" },
            b.requests_per_user,
            if finished_all {
                "all done in"
            } else {
                "NOT ALL DONE by the end of the run, after"
            },
            seconds(&b.makespan_s)
        );
        if b.failed_share.mean > 0.0 {
            line.push_str(&format!(
                " ({} of them failed)",
                human::estimate(&b.failed_share, Quantity::Share)
            ));
        }
        if let (Some(deadline), Some(slack)) = (b.deadline_s, &b.slack_s) {
            let deadline = human::value(deadline, Quantity::Seconds);
            let verdict = if slack.high() < 0.0 {
                format!("MISSED the {deadline} deadline by {}", seconds(&slack.scaled(-1.0)))
            } else if slack.low() >= 0.0 {
                format!("met the {deadline} deadline with {} to spare", seconds(slack))
            } else {
                format!("deadline {deadline}: slack {}, too close to call", seconds(slack))
            };
            line.push_str(&format!("; {verdict}"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One line per endpoint with a cache: hits, misses and stale answers.
fn cache_lines(result: &RunResult) -> String {
    let mut out = String::new();
    for e in &result.endpoints {
        if let Some(c) = &e.cache {
            out.push_str(&format!(
                "  {} cache: {} hits, {} misses (hit ratio {}), {} stale answers when the backend failed\n",
                e.name,
                human::count(c.hits),
                human::count(c.misses),
                human::value(c.hit_ratio, Quantity::Share),
                human::count(c.stale)
            ));
        }
    }
    out
}

/// One line per database whose data grew: its size and its queries' cost at the end.
fn growth_lines(result: &RunResult) -> String {
    let mut out = String::new();
    for d in result.databases.iter().filter(|d| d.cost_growth_end.mean > 1.0 + 1e-9) {
        out.push_str(&format!(
            "  {}: rows written grew the data to {} × the measured size; queries cost {} × their cost at the start\n",
            d.name,
            human::estimate(&d.data_size_end, Quantity::Number),
            human::estimate(&d.cost_growth_end, Quantity::Number)
        ));
    }
    out
}

/// A duration in seconds, scaled for people.
fn seconds(e: &Estimate) -> String {
    human::estimate(e, Quantity::Seconds)
}

/// A queue's value in one window.
type QueueValue = fn(&QueueWindow) -> f64;

/// Rows of the storm timeline: about this many, evenly spread over the windows.
const TIMELINE_ROWS: usize = 15;

/// The first queue over time, with the side effects and the watched metric: how a storm starts,
/// lasts and ends. Each row is one window (means over replications).
fn storm_timeline(result: &RunResult) -> String {
    let Some(q) = result.queues.first() else {
        return String::new();
    };
    let step = q.series.len().div_ceil(TIMELINE_ROWS).max(1);
    let watched = result.metastability.as_ref().and_then(|m| {
        let series = crate::results::metric::series(result, &m.metric).ok()?;
        let unit = crate::results::metric::resolve(result, &m.metric).map_or(Unit::Count, |v| v.unit);
        Some((m.metric.clone(), sections::quantity(&m.metric, unit), series))
    });
    let mut header = vec![
        "window from".to_string(),
        "published".into(),
        "receives".into(),
        "done".into(),
        "backlog".into(),
        "in delivery".into(),
    ];
    for e in &result.effects {
        header.push(e.name.clone());
        header.push(format!("duplicate {}", e.name));
    }
    if let Some((metric, _, _)) = &watched {
        header.push(metric.clone());
    }
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = TextTable::new(&refs);
    // Each row is the mean of a block of `step` windows (empty windows left out).
    let block = |values: &mut dyn Iterator<Item = f64>| {
        let (sum, n) = values.filter(|v| v.is_finite()).fold((0.0, 0), |(s, n), v| (s + v, n + 1));
        if n == 0 {
            f64::NAN
        } else {
            sum / n as f64
        }
    };
    for start in (0..q.series.len()).step_by(step) {
        let windows = &q.series[start..(start + step).min(q.series.len())];
        let mut row = vec![crate::model::units::format_duration_f64(windows[0].start_s)];
        let columns: [(QueueValue, Quantity); 5] = [
            (|w| w.published_per_s, Quantity::Rate),
            (|w| w.receives_per_s, Quantity::Rate),
            (|w| w.deleted_per_s, Quantity::Rate),
            (|w| w.backlog, Quantity::Number),
            (|w| w.in_flight, Quantity::Number),
        ];
        for (f, quantity) in columns {
            row.push(human::value(block(&mut windows.iter().map(f)), quantity));
        }
        for e in &result.effects {
            let rows = e.series.get(start..(start + step).min(e.series.len())).unwrap_or(&[]);
            row.push(human::value(block(&mut rows.iter().map(|w| w.per_s)), Quantity::Rate));
            row.push(human::value(
                block(&mut rows.iter().map(|w| w.duplicates_per_s)),
                Quantity::Rate,
            ));
        }
        if let Some((_, quantity, series)) = &watched {
            let rows = series.get(start..(start + step).min(series.len())).unwrap_or(&[]);
            row.push(human::value(block(&mut rows.iter().map(|p| p.1)), *quantity));
        }
        t.row(row);
    }
    format!(
        "\n{} over time (each row the mean of {} window{} of {})\n{}",
        q.name,
        step,
        if step == 1 { "" } else { "s" },
        crate::model::units::format_duration_f64(result.model.window_s),
        t.render()
    )
}

/// One line per service whose instances crashed: crashes, instances up, availability.
pub fn crash_lines(result: &RunResult) -> String {
    let mut out = String::new();
    for s in result.services.iter().filter(|s| s.crashes > 0) {
        out.push_str(&format!(
            "  {}: {} crashes; {} of {} instances up on average; at least one up {} of the time\n",
            s.name,
            human::count(s.crashes),
            human::estimate(&s.instances_up, Quantity::Number),
            s.instances,
            human::estimate(&s.available, Quantity::Share)
        ));
    }
    out
}

/// What each rollout did: when its rule fired and when the change was undone.
pub fn rollout_lines(result: &RunResult) -> String {
    let mut out = String::new();
    let reps = result.model.replications;
    for r in &result.rollouts {
        let mut line = format!("  {} at {}: ", r.what, human::value(r.start_s, Quantity::Seconds));
        match &r.fired_after_s {
            Some(after) => line.push_str(&format!(
                "rollback rule fired in {} of {reps} replications, {} after the start",
                r.rolled_back,
                seconds(after)
            )),
            None => line.push_str("no rollback rule fired"),
        }
        match &r.undone_after_s {
            Some(after) => line.push_str(&format!("; change undone {} after the start", seconds(after))),
            None => line.push_str("; change never undone"),
        }
        if r.widened > 0 {
            line.push_str(&format!("; reached every instance in {} of {reps}", r.widened));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
