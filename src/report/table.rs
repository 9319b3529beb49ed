//! The terminal summary: what a capacity engineer reads first, every number with its 95 % CI.

use super::text_table::TextTable;
use crate::results::{Counts, LatencySummary, RunResult};
use crate::stats::Estimate;

/// "12.3 ±0.4" with `decimals` digits; "–" when there is no value.
fn est(e: &Estimate, decimals: usize) -> String {
    if !e.mean.is_finite() {
        return "–".into();
    }
    if e.n < 2 || !e.ci95.is_finite() {
        return format!("{:.*}", decimals, e.mean);
    }
    format!("{:.*} ±{:.*}", decimals, e.mean, decimals, e.ci95)
}

/// A latency in ms with sensible precision.
fn latency(e: &Estimate) -> String {
    let decimals = if e.mean.abs() >= 100.0 {
        0
    } else if e.mean.abs() >= 10.0 {
        1
    } else {
        2
    };
    est(e, decimals)
}

/// A share as a percentage.
fn percent(e: &Estimate) -> String {
    let scaled = e.scaled(100.0);
    let text = est(&scaled, 1);
    if text == "–" {
        text
    } else {
        text + " %"
    }
}

/// What an SLO objective measured, in its unit: "287 ±9 ms", or "0.4 ±0.1 %" for a share.
pub(crate) fn slo_measured(objective: &str, measured: &Estimate) -> String {
    if crate::results::slo::objective_is_share(objective) {
        percent(measured)
    } else {
        latency(measured) + " ms"
    }
}

/// Outcomes that are not ok, compactly: "timeout 12, rejected 3".
fn failures(c: &Counts) -> String {
    let parts: Vec<String> = [
        ("timeout", c.timeouts),
        ("rejected", c.rejected),
        ("error", c.errors),
        ("retries", c.retries),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{what} {n}"))
    .collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(", ")
    }
}

fn latency_cells(l: &LatencySummary) -> [String; 4] {
    [latency(&l.p50_ms), latency(&l.p90_ms), latency(&l.p99_ms), latency(&l.max_ms)]
}

/// The whole summary as text.
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

    if !result.clients.is_empty() {
        let mut t = TextTable::new(&[
            "client", "calls", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed", "failures",
        ]);
        for c in &result.clients {
            let [p50, p90, p99, max] = latency_cells(&c.latency);
            t.row(vec![
                if c.synthetic {
                    format!("{} ({}, synthetic)", c.name, c.kind)
                } else {
                    format!("{} ({})", c.name, c.kind)
                },
                c.calls.clone(),
                est(&c.throughput_per_s, 1),
                p50,
                p90,
                p99,
                max,
                percent(&c.error_rate),
                failures(&c.counts),
            ]);
        }
        out.push_str("\nClients (end to end, retries included)\n");
        out.push_str(&t.render());
        for c in &result.clients {
            if let Some(b) = &c.batch {
                let finished_all = b.finished_share.min >= 1.0;
                let mut line = format!(
                    "  {}: {} user{} × {} requests, {} {} s",
                    c.name,
                    b.users,
                    if b.users == 1 { "" } else { "s" },
                    b.requests_per_user,
                    if finished_all {
                        "all done in"
                    } else {
                        "NOT ALL DONE by the end of the run, after"
                    },
                    est(&b.makespan_s, 1)
                );
                if b.failed_share.mean > 0.0 {
                    line.push_str(&format!(" ({} of them failed)", percent(&b.failed_share)));
                }
                if let (Some(deadline), Some(slack)) = (b.deadline_s, &b.slack_s) {
                    let verdict = if slack.high() < 0.0 {
                        format!("MISSED the {deadline} s deadline by {} s", est(&slack.scaled(-1.0), 1))
                    } else if slack.low() >= 0.0 {
                        format!("met the {deadline} s deadline with {} s to spare", est(slack, 1))
                    } else {
                        format!("deadline {deadline} s: slack {} s, too close to call", est(slack, 1))
                    };
                    line.push_str(&format!("; {verdict}"));
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
    }

    if !result.groups.is_empty() {
        let mut t = TextTable::new(&["group", "clients", "req/s", "served well/s", "failed"]);
        for g in &result.groups {
            t.row(vec![
                g.name.clone(),
                g.clients.join(", "),
                est(&g.throughput_per_s, 1),
                est(&g.goodput_per_s, 1),
                percent(&g.error_rate),
            ]);
        }
        out.push_str("\nClient groups (their clients' requests together)\n");
        out.push_str(&t.render());
    }

    if !result.endpoints.is_empty() {
        let mut t = TextTable::new(&[
            "endpoint", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed", "failures",
        ]);
        for e in &result.endpoints {
            let [p50, p90, p99, max] = latency_cells(&e.latency);
            t.row(vec![
                e.name.clone(),
                est(&e.throughput_per_s, 1),
                p50,
                p90,
                p99,
                max,
                percent(&e.error_rate),
                failures(&e.counts),
            ]);
        }
        out.push_str("\nEndpoints (service side, from arrival to answer)\n");
        out.push_str(&t.render());
        for e in &result.endpoints {
            if let Some(c) = &e.cache {
                out.push_str(&format!(
                    "  {} cache: {} hits, {} misses (hit ratio {:.3}), {} stale answers when the backend failed\n",
                    e.name, c.hits, c.misses, c.hit_ratio, c.stale
                ));
            }
        }
    }

    if !result.services.is_empty() {
        let mut t = TextTable::new(&[
            "service",
            "workers",
            "utilisation",
            "queue",
            "queue max",
            "wait p99 ms",
            "in service",
        ]);
        for s in &result.services {
            t.row(vec![
                s.name.clone(),
                format!("{}×{}", s.instances, s.workers),
                percent(&s.utilisation),
                est(&s.queue_length, 2),
                est(&s.queue_length_max, 0),
                latency(&s.worker_wait.p99_ms),
                est(&s.in_service, 2),
            ]);
        }
        out.push_str("\nServices\n");
        out.push_str(&t.render());
        out.push_str(&crash_lines(result));
    }

    if !result.rollouts.is_empty() {
        out.push_str("\nRollouts\n");
        out.push_str(&rollout_lines(result));
    }

    if !result.databases.is_empty() {
        let mut t = TextTable::new(&[
            "database",
            "cores",
            "utilisation",
            "queue",
            "queries/s",
            "query p99 ms",
            "connections",
            "max conn",
        ]);
        for d in &result.databases {
            t.row(vec![
                d.name.clone(),
                d.cores.to_string(),
                percent(&d.utilisation),
                est(&d.queue_length, 2),
                est(&d.queries_per_s, 1),
                latency(&d.query_time.p99_ms),
                est(&d.connections_in_use, 2),
                est(&d.connections_max, 0),
            ]);
        }
        out.push_str("\nDatabases\n");
        out.push_str(&t.render());
        for d in result.databases.iter().filter(|d| d.cost_growth_end.mean > 1.0 + 1e-9) {
            out.push_str(&format!(
                "  {}: rows written grew the data to {} × the measured size; queries cost {} × their cost at the start\n",
                d.name,
                est(&d.data_size_end, 3),
                est(&d.cost_growth_end, 3)
            ));
        }
    }

    if !result.pools.is_empty() {
        let mut t = TextTable::new(&[
            "pool",
            "size",
            "utilisation",
            "in use max",
            "waiting",
            "wait p99 ms",
            "waited",
            "timeouts",
        ]);
        for p in &result.pools {
            t.row(vec![
                p.name.clone(),
                p.size.to_string(),
                percent(&p.utilisation),
                est(&p.in_use_max, 0),
                est(&p.waiting, 2),
                latency(&p.acquire_wait.p99_ms),
                percent(&p.acquire_wait.waited_share),
                p.acquire_timeouts.to_string(),
            ]);
        }
        out.push_str("\nConnection pools\n");
        out.push_str(&t.render());
    }

    out.push_str(&resilience(result));

    if !result.slos.is_empty() {
        let mut t = TextTable::new(&["slo", "objective", "measured", "status"]);
        for s in &result.slos {
            let measured = slo_measured(&s.objective, &s.measured);
            let status = s.status.name().to_uppercase();
            let breaches = s.breaches_text();
            t.row(vec![
                s.name.clone(),
                s.objective.clone(),
                measured,
                if breaches.is_empty() {
                    status
                } else {
                    format!("{status} overall; {breaches}")
                },
            ]);
        }
        out.push_str("\nService level objectives\n");
        out.push_str(&t.render());
        // Without a timed action the "trigger" is the start of measurement: only worth a section
        // when something breached.
        if !result.model.actions.is_empty() || !result.cascade.timeline.is_empty() {
            out.push_str(&super::cascade::render(&result.cascade));
        }
    }
    if let Some(m) = &result.metastability {
        out.push_str(&format!("\nAfter the trigger: {}\n", m.text));
    }

    out
}

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
        crate::results::metric::series(result, &m.metric)
            .ok()
            .map(|s| (m.metric.clone(), s))
    });
    let mut header = vec![
        "window from".to_string(),
        "published/s".into(),
        "receives/s".into(),
        "done/s".into(),
        "backlog".into(),
        "in delivery".into(),
    ];
    for e in &result.effects {
        header.push(format!("{}/s", e.name));
        header.push(format!("duplicate {}/s", e.name));
    }
    if let Some((metric, _)) = &watched {
        header.push(metric.clone());
    }
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = TextTable::new(&refs);
    let num = |v: f64, decimals: usize| {
        if v.is_finite() {
            format!("{v:.decimals$}")
        } else {
            "–".into()
        }
    };
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
        let columns: [fn(&crate::results::resilience::QueueWindow) -> f64; 5] = [
            |w| w.published_per_s,
            |w| w.receives_per_s,
            |w| w.deleted_per_s,
            |w| w.backlog,
            |w| w.in_flight,
        ];
        for (c, f) in columns.iter().enumerate() {
            row.push(num(block(&mut windows.iter().map(f)), if c < 3 { 2 } else { 0 }));
        }
        for e in &result.effects {
            let rows = e.series.get(start..(start + step).min(e.series.len())).unwrap_or(&[]);
            row.push(num(block(&mut rows.iter().map(|w| w.per_s)), 3));
            row.push(num(block(&mut rows.iter().map(|w| w.duplicates_per_s)), 3));
        }
        if let Some((_, series)) = &watched {
            let rows = series.get(start..(start + step).min(series.len())).unwrap_or(&[]);
            row.push(num(block(&mut rows.iter().map(|p| p.1)), 3));
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

/// Queues, side effects, wasted work and call policies: the sections of retry-storm models.
fn resilience(result: &RunResult) -> String {
    let mut out = String::new();
    if !result.queues.is_empty() {
        let mut t = TextTable::new(&[
            "queue",
            "published",
            "receives",
            "receives/msg",
            "done",
            "dead-lettered",
            "left",
            "done/s",
            "delivery failed",
        ]);
        for q in &result.queues {
            t.row(vec![
                format!("{} → {} (×{})", q.name, q.consumer_calls, q.concurrency),
                q.published.to_string(),
                q.receives.to_string(),
                est(&q.amplification, 2),
                q.deleted.to_string(),
                q.dead_lettered.to_string(),
                q.left_at_end.to_string(),
                est(&q.goodput_per_s, 2),
                percent(&q.delivery_error_rate),
            ]);
        }
        out.push_str("\nMessage queues (totals over replications; receives/msg is the work amplification)\n");
        out.push_str(&t.render());
        out.push_str(&storm_timeline(result));
    }
    if !result.effects.is_empty() {
        let mut t = TextTable::new(&[
            "side effect",
            "count",
            "per unit of work",
            "duplicates",
            "after the caller left",
        ]);
        for e in &result.effects {
            t.row(vec![
                e.name.clone(),
                e.count.to_string(),
                est(&e.per_unit, 2),
                e.duplicates.to_string(),
                e.for_nobody.to_string(),
            ]);
        }
        out.push_str("\nSide effects (1.00 per unit of work means no duplicates)\n");
        out.push_str(&t.render());
    }
    let wasteful: Vec<_> = result.services.iter().filter(|s| s.wasted.any()).collect();
    if !wasteful.is_empty() {
        let mut t = TextTable::new(&[
            "service",
            "CPU s/run",
            "queries",
            "calls",
            "finished",
            "stopped",
            "skipped: in flight",
            "skipped: done",
        ]);
        for s in wasteful {
            let w = &s.wasted;
            t.row(vec![
                s.name.clone(),
                est(&w.cpu_s, 1),
                w.queries.to_string(),
                w.calls.to_string(),
                w.finished_for_nobody.to_string(),
                w.stopped.to_string(),
                w.skipped_in_flight.to_string(),
                w.skipped_completed.to_string(),
            ]);
        }
        out.push_str("\nWasted work (done for callers who had already given up) and work skipped by idempotency checks\n");
        out.push_str(&t.render());
    }
    if !result.call_sites.is_empty() {
        let mut t = TextTable::new(&[
            "call site",
            "retries refused by budget",
            "throttled",
            "breaker fast-fails",
            "breaker opened",
            "breaker open",
        ]);
        for c in &result.call_sites {
            t.row(vec![
                c.name.clone(),
                c.budget_denied.to_string(),
                c.throttled.to_string(),
                c.breaker_refused.to_string(),
                c.breaker_opened.to_string(),
                percent(&c.breaker_open_share),
            ]);
        }
        out.push_str("\nCall policies\n");
        out.push_str(&t.render());
    }
    out
}

/// One line per service whose instances crashed: crashes, instances up, availability.
pub fn crash_lines(result: &RunResult) -> String {
    let mut out = String::new();
    for s in result.services.iter().filter(|s| s.crashes > 0) {
        out.push_str(&format!(
            "  {}: {} crashes; {} of {} instances up on average; at least one up {} of the time\n",
            s.name,
            s.crashes,
            est(&s.instances_up, 1),
            s.instances,
            percent(&s.available)
        ));
    }
    out
}

/// What each rollout did: when its rule fired and when the change was undone.
pub fn rollout_lines(result: &RunResult) -> String {
    let mut out = String::new();
    let reps = result.model.replications;
    for r in &result.rollouts {
        let mut line = format!("  {} at {} s: ", r.what, r.start_s);
        match &r.fired_after_s {
            Some(after) => line.push_str(&format!(
                "rollback rule fired in {} of {reps} replications, {} s after the start",
                r.rolled_back,
                est(after, 1)
            )),
            None => line.push_str("no rollback rule fired"),
        }
        match &r.undone_after_s {
            Some(after) => line.push_str(&format!("; change undone {} s after the start", est(after, 1))),
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
