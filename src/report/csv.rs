//! Time series as CSV files, one row per component, metric and window: tidy data for notebooks.

use crate::results::RunResult;
use std::fmt::Write;

/// A number for CSV: empty when not finite.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// Quote a CSV field when it holds a comma, quote or newline.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The last column of every row: `true` when every replication ran to the end of the simulated
/// duration, `false` when the run stopped early (its values are partial; see `verdict` in the JSON).
fn complete(result: &RunResult) -> &'static str {
    if result.verdict.complete {
        "true"
    } else {
        "false"
    }
}

/// All time series in long form: `window_start_s,kind,component,metric,value,complete`.
pub fn timeseries_csv(result: &RunResult) -> String {
    let mut out = String::from("window_start_s,kind,component,metric,value,complete\n");
    let done = complete(result);
    let mut push = |start: f64, kind: &str, name: &str, metric: &str, value: f64| {
        let _ = writeln!(out, "{},{kind},{},{metric},{},{done}", num(start), field(name), num(value));
    };
    let traffic = [
        (
            "client",
            &result.clients.iter().map(|c| (&c.name, &c.series)).collect::<Vec<_>>(),
        ),
        (
            "endpoint",
            &result.endpoints.iter().map(|e| (&e.name, &e.series)).collect::<Vec<_>>(),
        ),
    ];
    for (kind, list) in traffic {
        for (name, series) in list.iter() {
            for w in series.iter() {
                push(w.start_s, kind, name, "throughput_per_s", w.throughput_per_s);
                push(w.start_s, kind, name, "error_rate", w.error_rate);
                push(w.start_s, kind, name, "p50_ms", w.p50_ms);
                push(w.start_s, kind, name, "p99_ms", w.p99_ms);
            }
        }
    }
    let stations = result
        .services
        .iter()
        .map(|s| ("service", &s.name, &s.series))
        .chain(result.databases.iter().map(|d| ("database", &d.name, &d.series)))
        .chain(result.pools.iter().map(|p| ("pool", &p.name, &p.series)));
    for (kind, name, series) in stations {
        for (i, start) in series.start_s.iter().enumerate() {
            push(*start, kind, name, "utilisation", series.utilisation[i]);
            push(*start, kind, name, "waiting", series.waiting[i]);
        }
    }
    for d in &result.databases {
        for (start, v) in d.series.start_s.iter().zip(&d.connections_series) {
            push(*start, "database", &d.name, "connections_in_use", *v);
        }
    }
    for q in &result.queues {
        for w in &q.series {
            push(w.start_s, "queue", &q.name, "published_per_s", w.published_per_s);
            push(w.start_s, "queue", &q.name, "receives_per_s", w.receives_per_s);
            push(w.start_s, "queue", &q.name, "done_per_s", w.deleted_per_s);
            push(w.start_s, "queue", &q.name, "dead_lettered_per_s", w.dead_lettered_per_s);
            push(w.start_s, "queue", &q.name, "amplification", w.amplification);
            push(w.start_s, "queue", &q.name, "backlog", w.backlog);
            push(w.start_s, "queue", &q.name, "in_delivery", w.in_flight);
        }
    }
    for e in &result.effects {
        for w in &e.series {
            push(w.start_s, "effect", &e.name, "per_s", w.per_s);
            push(w.start_s, "effect", &e.name, "duplicates_per_s", w.duplicates_per_s);
        }
    }
    out
}

/// The cascade after the trigger, one row per component that breached, in the order they did:
/// `order,component,kind,first_breach_s,after_trigger_s,breached_windows,recovered_s,objective,measured,path,complete`
/// (`recovered_s` empty when still in breach at the end; `path` joined with " > ").
pub fn cascade_csv(result: &RunResult) -> String {
    let mut out = String::from(
        "order,component,kind,first_breach_s,after_trigger_s,breached_windows,recovered_s,objective,measured,path,complete\n",
    );
    for (i, e) in result.cascade.timeline.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            i + 1,
            field(&e.name),
            field(&e.kind),
            num(e.first_breach_s),
            num(e.after_trigger_s),
            e.breached_windows,
            e.recovered_s.map_or(String::new(), num),
            field(&e.objective),
            field(&e.measured),
            field(&e.path.join(" > ")),
            complete(result)
        );
    }
    out
}

/// One summary row per component and metric: `kind,component,metric,mean,ci95,min,max,n,complete`
/// (`n`: the replications the estimate covers).
pub fn summary_csv(result: &RunResult) -> String {
    let mut out = String::from("kind,component,metric,mean,ci95,min,max,n,complete\n");
    let done = complete(result);
    let mut push = |kind: &str, name: &str, metric: &str, e: &crate::stats::Estimate| {
        let _ = writeln!(
            out,
            "{kind},{},{metric},{},{},{},{},{},{done}",
            field(name),
            num(e.mean),
            num(e.ci95),
            num(e.min),
            num(e.max),
            e.n
        );
    };
    for c in &result.clients {
        push("client", &c.name, "throughput_per_s", &c.throughput_per_s);
        push("client", &c.name, "error_rate", &c.error_rate);
        for (metric, e) in latency_rows(&c.latency) {
            push("client", &c.name, metric, e);
        }
    }
    for e in &result.endpoints {
        push("endpoint", &e.name, "throughput_per_s", &e.throughput_per_s);
        push("endpoint", &e.name, "error_rate", &e.error_rate);
        push("endpoint", &e.name, "sojourn_ms", &e.sojourn_ms);
        for (metric, est) in latency_rows(&e.latency) {
            push("endpoint", &e.name, metric, est);
        }
    }
    for s in &result.services {
        push("service", &s.name, "utilisation", &s.utilisation);
        push("service", &s.name, "queue_length", &s.queue_length);
        push("service", &s.name, "in_service", &s.in_service);
        push("service", &s.name, "worker_wait_mean_ms", &s.worker_wait.mean_ms);
    }
    for d in &result.databases {
        push("database", &d.name, "utilisation", &d.utilisation);
        push("database", &d.name, "queue_length", &d.queue_length);
        push("database", &d.name, "queries_per_s", &d.queries_per_s);
        push("database", &d.name, "connections_in_use", &d.connections_in_use);
        push("database", &d.name, "query_time_mean_ms", &d.query_time.mean_ms);
    }
    for p in &result.pools {
        push("pool", &p.name, "utilisation", &p.utilisation);
        push("pool", &p.name, "waiting", &p.waiting);
        push("pool", &p.name, "acquire_wait_mean_ms", &p.acquire_wait.mean_ms);
        push("pool", &p.name, "acquire_wait_p99_ms", &p.acquire_wait.p99_ms);
    }
    for q in &result.queues {
        push("queue", &q.name, "amplification", &q.amplification);
        push("queue", &q.name, "done_per_s", &q.goodput_per_s);
        push("queue", &q.name, "deliveries_per_s", &q.deliveries_per_s);
        push("queue", &q.name, "backlog", &q.backlog);
        push("queue", &q.name, "delivery_error_rate", &q.delivery_error_rate);
    }
    for e in &result.effects {
        push("effect", &e.name, "per_unit", &e.per_unit);
    }
    for s in result.services.iter().filter(|s| s.wasted.cpu_s.mean > 0.0) {
        push("service", &s.name, "wasted_cpu_s", &s.wasted.cpu_s);
    }
    out
}

fn latency_rows(l: &crate::results::LatencySummary) -> [(&'static str, &crate::stats::Estimate); 6] {
    [
        ("latency_mean_ms", &l.mean_ms),
        ("latency_p50_ms", &l.p50_ms),
        ("latency_p90_ms", &l.p90_ms),
        ("latency_p99_ms", &l.p99_ms),
        ("latency_p999_ms", &l.p999_ms),
        ("latency_max_ms", &l.max_ms),
    ]
}

/// One row per sweep point and headline metric: the parameters' values, then
/// `metric,mean,ci95,min,max,n,complete` (`complete` false for a point that stopped early).
pub fn sweep_csv(header: &crate::analysis::sweep::SweepHeader, points: &[crate::analysis::sweep::SweepPoint]) -> String {
    let mut out = String::new();
    for p in &header.params {
        out.push_str(&field(p));
        out.push(',');
    }
    out.push_str("metric,mean,ci95,min,max,n,complete\n");
    for point in points {
        let values: Vec<String> = point
            .values
            .iter()
            .map(|v| field(&crate::scenario::sweep::show_value(v)))
            .collect();
        for name in crate::analysis::compare::headline_metrics(&point.result) {
            if let Ok(m) = crate::results::metric::resolve(&point.result, &name) {
                let e = &m.estimate;
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    values.join(","),
                    field(&name),
                    num(e.mean),
                    num(e.ci95),
                    num(e.min),
                    num(e.max),
                    e.n,
                    complete(&point.result)
                );
            }
        }
    }
    out
}
