//! The cascade after a trigger: for each component with an SLO, when its SLO first breached,
//! window by window, in order, with the path of dependencies that carried the failure; and the
//! blast radius, the share of endpoints and of real traffic that the failure reached.
//!
//! Windows are pooled over replications (the requests of every replication that ended in a
//! window), so a window's p99 is the p99 of all of them.

use super::{BlastRadius, Cascade, CascadeEntry};
use crate::model::units::{format_duration, nanos_to_secs, Nanos};
use crate::model::{ActionKind, Model, SloTarget, Step};
use crate::stats::{Estimate, WindowSeries};
use std::collections::{HashMap, HashSet, VecDeque};

/// Fewest failures that make a window breach its error-rate bound, so one unlucky request in a
/// quiet window is not a breach.
const MIN_FAILURES: u64 = 3;

/// The windows of one component, merged over replications.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Windows {
    /// Requests that ended, by outcome, with the latencies of the successful ones.
    pub answers: WindowSeries,
    /// Requests that started (clients) or arrived (endpoints).
    pub arrivals: WindowSeries,
}

/// A component of the dependency graph: clients call endpoints, endpoints call endpoints and
/// query databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    Client(usize),
    Endpoint(usize),
    Database(usize),
}

impl Node {
    fn name(self, model: &Model) -> String {
        match self {
            Node::Client(c) => model.clients[c].name.clone(),
            Node::Endpoint(e) => model.endpoints[e].name.clone(),
            Node::Database(d) => model.databases[d].name.clone(),
        }
    }

    /// What this component depends on directly, in declaration order.
    fn dependencies(self, model: &Model) -> Vec<Node> {
        match self {
            Node::Client(c) => vec![Node::Endpoint(model.clients[c].call.target.0)],
            Node::Endpoint(e) => model.endpoints[e]
                .steps
                .iter()
                .filter_map(|step| match step {
                    Step::Call(call) => Some(Node::Endpoint(call.target.0)),
                    Step::Transaction(tx) => Some(Node::Database(tx.database.0)),
                    // Publishing waits for nobody: the consumer's trouble does not reach the publisher.
                    Step::Cpu(_) | Step::Delay(_) | Step::Publish(_) => None,
                })
                .collect(),
            Node::Database(_) => Vec::new(),
        }
    }
}

/// What the trigger hit: where failure paths end.
fn action_targets(model: &Model, kind: &ActionKind) -> Vec<Node> {
    match kind {
        ActionKind::Inject { database, .. } => vec![Node::Database(database.0)],
        ActionKind::Down { service }
        | ActionKind::Crash { service, .. }
        | ActionKind::CrashLoop(crate::model::CrashLoop { service, .. })
        | ActionKind::Rollout(crate::model::Rollout { service, .. }) => model.services[service.0]
            .endpoints
            .iter()
            .map(|e| Node::Endpoint(e.0))
            .collect(),
        ActionKind::ScaleTraffic { client, .. } => vec![Node::Endpoint(model.clients[client.0].call.target.0)],
        // The endpoints that look the cache up: their look-ups miss after it.
        ActionKind::Flush { cache } => model
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.caches
                    .iter()
                    .flatten()
                    .any(|c| c.lookup == crate::model::Lookup::Keys(*cache))
            })
            .map(|(e, _)| Node::Endpoint(e))
            .collect(),
        ActionKind::AddLatency { link, .. } => {
            // The far side of every call or query that crosses the link.
            let mut targets = Vec::new();
            for c in &model.clients {
                if c.call.link.id == *link {
                    targets.push(Node::Endpoint(c.call.target.0));
                }
            }
            for e in &model.endpoints {
                for step in &e.steps {
                    match step {
                        Step::Call(call) if call.link.id == *link => targets.push(Node::Endpoint(call.target.0)),
                        Step::Transaction(tx) if tx.link.id == *link => targets.push(Node::Database(tx.database.0)),
                        _ => {}
                    }
                }
            }
            targets
        }
    }
}

/// The windowed verdict of one SLO'd component.
struct Breaches {
    node: Node,
    slo: String,
    /// Per window from the trigger's on: the first objective breached there and what was measured.
    windows: Vec<Option<(String, String)>>,
}

/// The first objective of `slo` that window `i` breaches, with the measured value:
/// - requests arrived but none was answered (the component stalled);
/// - the share of failed answers is above the error-rate bound (with at least [`MIN_FAILURES`]);
/// - a latency quantile q of the successful answers is above its bound, judged only when the
///   window holds at least 1/(1 − q) of them (so a p99 is never just the slowest one).
fn window_breach(
    windows: &Windows,
    rows: &[crate::stats::SeriesRow],
    arrived: &[crate::stats::SeriesRow],
    i: usize,
    slo: &crate::model::Slo,
) -> Option<(String, String)> {
    let (count, errors, ok) = rows.get(i).map_or((0, 0, 0), |r| (r.count, r.errors, r.ok));
    let arrivals = arrived.get(i).map_or(0, |r| r.count);
    if count == 0 {
        return (arrivals > 0).then(|| ("answers".into(), format!("none of {arrivals} arrived")));
    }
    if let Some(bound) = slo.error_rate {
        let rate = errors as f64 / count as f64;
        if rate > bound && errors >= MIN_FAILURES {
            return Some((
                format!("error rate <= {}%", bound * 100.0),
                format!("{:.1} % of {count}", rate * 100.0),
            ));
        }
    }
    if let Some(bound_ns) = slo.mean {
        let measured = windows.answers.mean_ms(i);
        if measured > nanos_to_secs(bound_ns) * 1e3 {
            return Some((
                format!("mean <= {}", format_duration(bound_ns)),
                format_duration((measured * 1e6) as u64),
            ));
        }
    }
    for &(q, bound_ns) in &slo.latency {
        if (ok as f64) < 1.0 / (1.0 - q) {
            continue;
        }
        let measured = windows.answers.quantile_ms(i, q);
        let bound_ms = nanos_to_secs(bound_ns) * 1e3;
        if measured > bound_ms {
            let label = match q {
                q if q <= 0.5 => "p50",
                q if q <= 0.9 => "p90",
                q if q <= 0.99 => "p99",
                _ => "p999",
            };
            return Some((
                format!("{label} <= {}", format_duration(bound_ns)),
                format_duration((measured * 1e6) as u64),
            ));
        }
    }
    None
}

/// The shortest dependency path from `from` to one of `targets`, through nodes `allowed` lets
/// pass (the targets always end a path); None when there is none. Breadth first, with each
/// node's predecessor kept, so the cost is linear in the graph.
fn path(model: &Model, from: Node, targets: &HashSet<Node>, allowed: &dyn Fn(Node) -> bool) -> Option<Vec<Node>> {
    let mut came_from: HashMap<Node, Node> = HashMap::from([(from, from)]);
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        if targets.contains(&node) {
            let mut route = vec![node];
            let mut at = node;
            while at != from {
                at = came_from[&at];
                route.push(at);
            }
            route.reverse();
            return Some(route);
        }
        for next in node.dependencies(model) {
            if came_from.contains_key(&next) || !(targets.contains(&next) || allowed(next)) {
                continue;
            }
            came_from.insert(next, node);
            queue.push_back(next);
        }
    }
    None
}

/// When the cascade starts and what started it: the first timed action, or the end of the
/// warm-up without one.
struct Trigger {
    at_ns: Nanos,
    what: String,
    /// The first window judged: the one holding the trigger.
    first_window: usize,
}

fn trigger(model: &Model) -> Trigger {
    let (at_ns, what) = match model.actions.iter().min_by_key(|a| a.at_ns) {
        Some(a) => (
            a.at_ns,
            format!(
                "{} at {}",
                super::merge::describe_action(model, &a.kind),
                format_duration(a.at_ns)
            ),
        ),
        None => (model.warmup_ns, "the start of measurement (no timed action)".to_string()),
    };
    Trigger {
        at_ns,
        what,
        first_window: (at_ns.saturating_sub(model.warmup_ns) / model.window_ns.max(1)) as usize,
    }
}

/// Every SLO'd component's windows from the trigger's on, judged.
fn judge(model: &Model, clients: &[Option<Windows>], endpoints: &[Option<Windows>], start: usize) -> Vec<Breaches> {
    let mut verdicts = Vec::new();
    for slo in &model.slos {
        let (node, series) = match slo.target {
            SloTarget::Client(c) => (Node::Client(c.0), clients.get(c.0)),
            SloTarget::Endpoint(e) => (Node::Endpoint(e.0), endpoints.get(e.0)),
            // A service's SLO (workers waited for) has no windows of answers: not in the cascade.
            SloTarget::Service(_) => continue,
        };
        let Some(series) = series.and_then(Option::as_ref) else {
            continue;
        };
        let rows = series.answers.windows();
        let arrived = series.arrivals.windows();
        let windows = (start..rows.len().max(arrived.len()))
            .map(|i| window_breach(series, &rows, &arrived, i, slo))
            .collect();
        verdicts.push(Breaches {
            node,
            slo: slo.name.clone(),
            windows,
        });
    }
    verdicts
}

/// The first window (from the trigger's) in breach.
fn first_breach(v: &Breaches) -> Option<usize> {
    v.windows.iter().position(Option::is_some)
}

/// How far the breaches reached: endpoints, and real clients' requests that ended in a window
/// where their own SLO, or that of the endpoint they call, was breached.
fn blast_radius(model: &Model, clients: &[Option<Windows>], verdicts: &[Breaches], start: usize) -> BlastRadius {
    let endpoint_slos: Vec<&Breaches> = verdicts.iter().filter(|v| matches!(v.node, Node::Endpoint(_))).collect();
    let endpoints_breached = endpoint_slos.iter().filter(|v| first_breach(v).is_some()).count();
    let (mut affected, mut total) = (0u64, 0u64);
    for (c, client) in model.clients.iter().enumerate().filter(|(_, c)| !c.synthetic) {
        let Some(series) = clients.get(c).and_then(Option::as_ref) else {
            continue;
        };
        let mine: Vec<&Breaches> = verdicts
            .iter()
            .filter(|v| v.node == Node::Client(c) || v.node == Node::Endpoint(client.call.target.0))
            .collect();
        for (k, row) in series.answers.windows().iter().enumerate().skip(start) {
            total += row.count;
            if mine.iter().any(|v| v.windows.get(k - start).is_some_and(Option::is_some)) {
                affected += row.count;
            }
        }
    }
    let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { f64::NAN };
    BlastRadius {
        endpoints_with_slo: endpoint_slos.len() as u64,
        endpoints_breached: endpoints_breached as u64,
        endpoint_share: share(endpoints_breached as f64, endpoint_slos.len() as f64),
        components_breached: verdicts.iter().filter(|v| first_breach(v).is_some()).count() as u64,
        real_requests_after_trigger: total,
        real_requests_affected: affected,
        traffic_share: share(affected as f64, total as f64),
        endpoint_share_by_replication: Estimate::from_samples(&[]),
        traffic_share_by_replication: Estimate::from_samples(&[]),
    }
}

/// The cascade of a run from the merged windows of every client and endpoint (None where a
/// component saw no request), with the blast radius also judged in each replication's own
/// windows (`shares`, from [`shares_in_own_windows`], in replication order).
pub fn analyse(model: &Model, clients: &[Option<Windows>], endpoints: &[Option<Windows>], shares: &[(f64, f64)]) -> Cascade {
    let window = model.window_ns.max(1);
    let trigger = trigger(model);
    let start = trigger.first_window;
    let targets: HashSet<Node> = model.actions.iter().flat_map(|a| action_targets(model, &a.kind)).collect();
    let verdicts = judge(model, clients, endpoints, start);
    let breached: HashSet<Node> = verdicts
        .iter()
        .filter(|v| first_breach(v).is_some())
        .map(|v| v.node)
        .collect();
    let window_start = |k: usize| nanos_to_secs(model.warmup_ns + (start + k) as u64 * window);

    let mut timeline: Vec<(usize, usize, CascadeEntry)> = Vec::new();
    for v in &verdicts {
        let Some(w) = first_breach(v) else {
            continue;
        };
        let route =
            path(model, v.node, &targets, &|n| breached.contains(&n)).or_else(|| path(model, v.node, &targets, &|_| true));
        let at_ns = (model.warmup_ns + (start + w) as u64 * window).max(trigger.at_ns);
        let last = v.windows.iter().rposition(Option::is_some).unwrap_or(w);
        let (objective, measured) = v.windows[w].clone().unwrap_or_default();
        let mut stretches: Vec<[f64; 2]> = Vec::new();
        for k in (0..v.windows.len()).filter(|&k| v.windows[k].is_some()) {
            match stretches.last_mut() {
                Some(last) if last[1] == window_start(k) => last[1] = window_start(k + 1),
                _ => stretches.push([window_start(k).max(nanos_to_secs(trigger.at_ns)), window_start(k + 1)]),
            }
        }
        timeline.push((
            w,
            route.as_ref().map_or(usize::MAX, Vec::len),
            CascadeEntry {
                name: v.slo.clone(),
                kind: match v.node {
                    Node::Client(_) => "client".into(),
                    _ => "endpoint".into(),
                },
                first_breach_s: nanos_to_secs(at_ns),
                after_trigger_s: nanos_to_secs(at_ns - trigger.at_ns),
                objective,
                measured,
                breached_windows: v.windows.iter().filter(|b| b.is_some()).count() as u64,
                breached_s: stretches,
                recovered_s: (last + 1 < v.windows.len()).then(|| window_start(last + 1)),
                path: route.map_or_else(Vec::new, |r| r.iter().map(|n| n.name(model)).collect()),
            },
        ));
    }
    // In time order; within a window, what lies closer to the trigger first.
    timeline.sort_by_key(|entry| (entry.0, entry.1));

    let mut radius = blast_radius(model, clients, &verdicts, start);
    let (endpoint_shares, traffic_shares): (Vec<f64>, Vec<f64>) = shares.iter().copied().unzip();
    radius.endpoint_share_by_replication = Estimate::from_samples(&endpoint_shares);
    radius.traffic_share_by_replication = Estimate::from_samples(&traffic_shares);
    Cascade {
        trigger: trigger.what,
        trigger_s: nanos_to_secs(trigger.at_ns),
        window_s: nanos_to_secs(window),
        timeline: timeline.into_iter().map(|(_, _, entry)| entry).collect(),
        blast_radius: radius,
    }
}

/// The blast radius of one replication judged in its own windows (`clients` and `endpoints`):
/// the share of endpoints and the share of real traffic whose SLO breached after the trigger.
pub fn shares_in_own_windows(model: &Model, clients: &[Option<Windows>], endpoints: &[Option<Windows>]) -> (f64, f64) {
    let start = trigger(model).first_window;
    let own = blast_radius(model, clients, &judge(model, clients, endpoints, start), start);
    (own.endpoint_share, own.traffic_share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EndpointId, Slo};

    const MS: u64 = 1_000_000;

    /// One 60 s window from t = 0: `ok` answers of 1 ms, `slow` more of 10 s, `failed` failures,
    /// and `arrived` arrivals.
    fn window(ok: u64, slow: u64, failed: u64, arrived: u64) -> Windows {
        let mut answers = WindowSeries::new(0, 60_000 * MS, 1);
        let mut arrivals = WindowSeries::new(0, 60_000 * MS, 1);
        (0..ok).for_each(|_| {
            let _ = answers.record(MS, Some(MS), true);
        });
        (0..slow).for_each(|_| {
            let _ = answers.record(MS, Some(10_000 * MS), true);
        });
        (0..failed).for_each(|_| {
            let _ = answers.record(MS, None, false);
        });
        (0..arrived).for_each(|_| {
            let _ = arrivals.record(MS, None, true);
        });
        answers.finish(60_000 * MS);
        arrivals.finish(60_000 * MS);
        Windows { answers, arrivals }
    }

    fn verdict(w: &Windows, slo: &Slo) -> Option<String> {
        window_breach(w, &w.answers.windows(), &w.arrivals.windows(), 0, slo).map(|(objective, _)| objective)
    }

    fn slo(p99_ms: Option<u64>, error_rate: Option<f64>) -> Slo {
        Slo {
            name: "api.get".into(),
            target: crate::model::SloTarget::Endpoint(EndpointId(0)),
            mean: None,
            judge: crate::model::Judge::Run,
            waited: None,
            latency: p99_ms.map(|b| vec![(0.99, b * MS)]).unwrap_or_default(),
            error_rate,
        }
    }

    #[test]
    fn a_p99_is_judged_only_with_a_hundred_answers_in_the_window() {
        let p99 = slo(Some(100), None);
        // 51 answers, one slow: their p99 is the slowest, which says nothing about a percentile.
        assert_eq!(verdict(&window(50, 1, 0, 51), &p99), None);
        // 150 answers, 2 slow (1.3 % > 1 %): the p99 is 10 s, above 100 ms.
        assert_eq!(verdict(&window(148, 2, 0, 150), &p99).as_deref(), Some("p99 <= 100ms"));
        // 200 answers, 1 slow (0.5 %): the p99 is 1 ms.
        assert_eq!(verdict(&window(199, 1, 0, 200), &p99), None);
    }

    #[test]
    fn an_error_rate_breach_needs_three_failures() {
        let errors = slo(None, Some(0.01));
        assert_eq!(verdict(&window(8, 0, 2, 10), &errors), None, "20 % but only 2 failures");
        assert_eq!(verdict(&window(7, 0, 3, 10), &errors).as_deref(), Some("error rate <= 1%"));
        assert_eq!(
            verdict(&window(997, 0, 3, 1000), &errors).as_deref(),
            None,
            "0.3 % is within 1 %"
        );
    }

    #[test]
    fn a_window_with_arrivals_and_no_answer_is_a_stall_and_an_empty_one_is_not_judged() {
        let any = slo(Some(100), Some(0.01));
        assert_eq!(verdict(&window(0, 0, 0, 5), &any).as_deref(), Some("answers"));
        assert_eq!(verdict(&window(0, 0, 0, 0), &any), None);
    }
}
