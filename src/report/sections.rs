//! The sections of a run's summary, once: each with its title, its rows (the components of one
//! kind in the [`RunResult`]) and its columns (a header and a typed cell). The terminal summary
//! ([`super::table`]) and the HTML page ([`super::html`]) both render these, each supplying only
//! its syntax; a column only one of them shows says so here. A column that is a statistic of the
//! [catalog](crate::results::catalog) is headed by its metric name ("wait p99" for `wait.p99`),
//! so what a table shows is what `--expect` and sweeps call it. Cells carry their unit (see
//! [`super::human`]), so headers carry none.
//!
//! Adding a section is one entry in [`SECTIONS`]; adding a column is one entry in its section.

use super::human::{self, Quantity};
use crate::results::catalog;
use crate::results::metric::Unit;
use crate::results::resilience::{CallSiteSummary, EffectSummary, LimitSummary, QueueSummary};
use crate::results::{
    AutoscaleSummary, ClientSummary, Counts, CpuSummary, DatabaseSummary, EndpointSummary, GroupSummary, HedgeSummary,
    KeySpaceSummary, PoolSummary, RunResult, ServiceSummary, SloResult,
};
use crate::stats::Estimate;
use std::borrow::Cow;

/// One table cell: a value and what it measures.
pub enum Cell<'r> {
    /// Words: a name, a list, a verdict.
    Text(Cow<'r, str>),
    /// A duration in milliseconds (a latency, a wait).
    Latency(&'r Estimate),
    /// A duration in seconds (CPU time).
    Seconds(&'r Estimate),
    /// A share from 0 to 1.
    Share(&'r Estimate),
    /// Events per second.
    Rate(&'r Estimate),
    /// A plain mean over replications (a queue length, an amplification).
    Number(&'r Estimate),
    /// A total or a setting, exact.
    Count(u64),
}

impl Cell<'_> {
    /// The cell as people read it, in human units.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.to_string(),
            Cell::Latency(e) => human::estimate(e, Quantity::Millis),
            Cell::Seconds(e) => human::estimate(e, Quantity::Seconds),
            Cell::Share(e) => human::estimate(e, Quantity::Share),
            Cell::Rate(e) => human::estimate(e, Quantity::Rate),
            Cell::Number(e) => human::estimate(e, Quantity::Number),
            Cell::Count(n) => human::count(*n),
        }
    }

    /// Whether the cell holds words rather than a number (left-aligned).
    pub fn is_text(&self) -> bool {
        matches!(self, Cell::Text(_))
    }
}

/// Where a summary is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The terminal summary.
    Terminal,
    /// The HTML page.
    Html,
}

/// What a section's rows are: the terminal follows some sections with lines of prose about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Clients,
    Groups,
    Endpoints,
    Services,
    Autoscaling,
    Cpus,
    Databases,
    Pools,
    Queues,
    Caches,
    Effects,
    WastedWork,
    CallPolicies,
    Hedges,
    Limits,
    Slos,
}

/// One column of a section whose rows are `R`s.
pub struct Column<R> {
    /// Its header, or the catalog statistic it is (`wait.p99`).
    name: &'static str,
    /// How its cell is read from a row.
    value: Value<R>,
    /// Shown by the terminal only (a compact account the page gives elsewhere).
    terminal_only: bool,
}

/// How a column's cell is read from a row.
enum Value<R> {
    /// A cell as it is.
    Cell(for<'r> fn(&'r R) -> Cell<'r>),
    /// The catalog statistic the column is named after, shown in the catalog's unit; a count
    /// `per_second` is a rate.
    Statistic {
        estimate: for<'r> fn(&'r R) -> &'r Estimate,
        per_second: bool,
    },
}

impl<R> Column<R> {
    /// The header: the statistic's metric name in words ("wait p99", "error rate"), or as written.
    fn header(&self) -> String {
        match self.value {
            Value::Statistic { .. } => self.name.replace(['.', '_'], " "),
            Value::Cell(_) => self.name.to_string(),
        }
    }

    fn shown_in(&self, output: Output) -> bool {
        output == Output::Terminal || !self.terminal_only
    }

    /// Its cell in `row`, a component of catalog kind `kind`.
    fn cell<'r>(&self, kind: Option<&str>, row: &'r R) -> Cell<'r> {
        match self.value {
            Value::Cell(cell) => cell(row),
            Value::Statistic { estimate, per_second } => {
                let e = estimate(row);
                match kind.and_then(|k| catalog::statistic(k, self.name)).map(|s| s.unit) {
                    Some(Unit::Millis) => Cell::Latency(e),
                    Some(Unit::Seconds) => Cell::Seconds(e),
                    Some(Unit::Share) => Cell::Share(e),
                    Some(Unit::Count) | None if per_second => Cell::Rate(e),
                    Some(Unit::Count) | None => Cell::Number(e),
                }
            }
        }
    }
}

/// A column headed `header`.
const fn column<R>(header: &'static str, cell: for<'r> fn(&'r R) -> Cell<'r>) -> Column<R> {
    Column {
        name: header,
        value: Value::Cell(cell),
        terminal_only: false,
    }
}

/// A column that is the catalog statistic `name` of the section's kind.
const fn stat<R>(name: &'static str, estimate: for<'r> fn(&'r R) -> &'r Estimate) -> Column<R> {
    Column {
        name,
        value: Value::Statistic {
            estimate,
            per_second: false,
        },
        terminal_only: false,
    }
}

/// A column that is the catalog statistic `name` of the section's kind, a count per second.
const fn rate<R>(name: &'static str, estimate: for<'r> fn(&'r R) -> &'r Estimate) -> Column<R> {
    Column {
        name,
        value: Value::Statistic {
            estimate,
            per_second: true,
        },
        terminal_only: false,
    }
}

/// A column only the terminal shows.
const fn terminal_only<R>(header: &'static str, cell: for<'r> fn(&'r R) -> Cell<'r>) -> Column<R> {
    Column {
        name: header,
        value: Value::Cell(cell),
        terminal_only: true,
    }
}

/// A section as an output renders it: whatever its rows are.
pub trait Section: Sync {
    /// What its rows are.
    fn subject(&self) -> Subject;
    /// Its title: "Services".
    fn title(&self) -> &'static str;
    /// The catalog kind its statistic columns belong to ("services"), if any.
    fn catalog_kind(&self) -> Option<&'static str>;
    /// The headers `output` shows, in order.
    fn headers(&self, output: Output) -> Vec<String>;
    /// Whether its column of catalog statistic `statistic` is a count per second.
    fn is_rate(&self, statistic: &str) -> bool;
    /// The rows of `result`, each with the cells `output` shows; empty when the run has none.
    fn rows<'r>(&self, result: &'r RunResult, output: Output) -> Vec<Vec<Cell<'r>>>;
    /// The catalog statistics its columns are, each with whether it is a rate.
    #[cfg(test)]
    fn statistics(&self) -> Vec<(&'static str, bool)>;
}

/// A section whose rows are `R`s.
pub struct Rows<R: 'static> {
    subject: Subject,
    title: &'static str,
    catalog_kind: Option<&'static str>,
    rows: for<'r> fn(&'r RunResult) -> Vec<&'r R>,
    columns: &'static [Column<R>],
}

impl<R: Sync> Section for Rows<R> {
    fn subject(&self) -> Subject {
        self.subject
    }

    fn title(&self) -> &'static str {
        self.title
    }

    fn catalog_kind(&self) -> Option<&'static str> {
        self.catalog_kind
    }

    fn headers(&self, output: Output) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.shown_in(output))
            .map(Column::header)
            .collect()
    }

    fn is_rate(&self, statistic: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.name == statistic && matches!(c.value, Value::Statistic { per_second: true, .. }))
    }

    fn rows<'r>(&self, result: &'r RunResult, output: Output) -> Vec<Vec<Cell<'r>>> {
        (self.rows)(result)
            .into_iter()
            .map(|row| {
                self.columns
                    .iter()
                    .filter(|c| c.shown_in(output))
                    .map(|c| c.cell(self.catalog_kind, row))
                    .collect()
            })
            .collect()
    }

    #[cfg(test)]
    fn statistics(&self) -> Vec<(&'static str, bool)> {
        self.columns
            .iter()
            .filter_map(|c| match c.value {
                Value::Statistic { per_second, .. } => Some((c.name, per_second)),
                Value::Cell(_) => None,
            })
            .collect()
    }
}

/// A name as a cell.
fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}

/// Outcomes that are not ok, compactly: "timeout 12, rejected 3"; "–" when none.
fn failures(c: &Counts) -> Cell<'static> {
    let parts: Vec<String> = [
        ("timeout", c.timeouts),
        ("rejected", c.rejected),
        ("error", c.errors),
        ("retries", c.retries),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{what} {}", human::count(*n)))
    .collect();
    Cell::Text(if parts.is_empty() {
        "–".into()
    } else {
        parts.join(", ").into()
    })
}

static CLIENTS: Rows<ClientSummary> = Rows {
    subject: Subject::Clients,
    title: "Clients (end to end, retries included)",
    catalog_kind: Some("clients"),
    rows: |r| r.clients.iter().collect(),
    columns: &[
        column("client", |c| text(&c.name)),
        column("kind", |c| {
            if c.synthetic {
                Cell::Text(format!("{}, synthetic", c.kind).into())
            } else {
                text(&c.kind)
            }
        }),
        column("calls", |c| text(&c.calls)),
        rate("throughput", |c| &c.throughput_per_s),
        stat("p50", |c| &c.latency.p50_ms),
        stat("p90", |c| &c.latency.p90_ms),
        stat("p99", |c| &c.latency.p99_ms),
        stat("max", |c| &c.latency.max_ms),
        stat("error_rate", |c| &c.error_rate),
        terminal_only("failures", |c| failures(&c.counts)),
    ],
};

static GROUPS: Rows<GroupSummary> = Rows {
    subject: Subject::Groups,
    title: "Client groups (their clients' requests together)",
    catalog_kind: Some("groups of clients"),
    rows: |r| r.groups.iter().collect(),
    columns: &[
        column("group", |g| text(&g.name)),
        column("clients", |g| Cell::Text(g.clients.join(", ").into())),
        rate("throughput", |g| &g.throughput_per_s),
        rate("goodput", |g| &g.goodput_per_s),
        stat("error_rate", |g| &g.error_rate),
    ],
};

static ENDPOINTS: Rows<EndpointSummary> = Rows {
    subject: Subject::Endpoints,
    title: "Endpoints (service side, from arrival to answer)",
    catalog_kind: Some("endpoints"),
    rows: |r| r.endpoints.iter().collect(),
    columns: &[
        column("endpoint", |e| text(&e.name)),
        rate("throughput", |e| &e.throughput_per_s),
        stat("p50", |e| &e.latency.p50_ms),
        stat("p90", |e| &e.latency.p90_ms),
        stat("p99", |e| &e.latency.p99_ms),
        stat("max", |e| &e.latency.max_ms),
        stat("error_rate", |e| &e.error_rate),
        terminal_only("failures", |e| failures(&e.counts)),
    ],
};

static SERVICES: Rows<ServiceSummary> = Rows {
    subject: Subject::Services,
    title: "Services",
    catalog_kind: Some("services"),
    rows: |r| r.services.iter().collect(),
    columns: &[
        column("service", |s| text(&s.name)),
        column("workers", |s| match s.autoscaled {
            // An autoscaled fleet: its range of instances.
            Some([min, max]) => Cell::Text(format!("{min}–{max}×{}", s.workers).into()),
            None => Cell::Text(format!("{}×{}", s.instances, s.workers).into()),
        }),
        stat("utilisation", |s| &s.utilisation),
        stat("queue", |s| &s.queue_length),
        column("queue max", |s| Cell::Number(&s.queue_length_max)),
        stat("wait.p99", |s| &s.worker_wait.p99_ms),
        stat("in_service", |s| &s.in_service),
    ],
};

static AUTOSCALING: Rows<AutoscaleSummary> = Rows {
    subject: Subject::Autoscaling,
    title: "Autoscaling (instances in service; instance-hours paid from the warm-up on, provisioning included)",
    catalog_kind: Some("services"),
    rows: |r| r.autoscalers.iter().collect(),
    columns: &[
        column("service", |a| text(&a.name)),
        column("rule", |a| text(&a.rule)),
        stat("instances", |a| &a.instances),
        stat("instances_max", |a| &a.instances_max),
        stat("instance_hours", |a| &a.instance_hours),
        column("cost", |a| a.cost.as_ref().map_or(text("–"), Cell::Number)),
        stat("scale_outs", |a| &a.scale_outs),
        stat("scale_ins", |a| &a.scale_ins),
        stat("under_provisioned", |a| &a.under_provisioned_s),
    ],
};

static CPUS: Rows<CpuSummary> = Rows {
    subject: Subject::Cpus,
    title: "CPU cores (CPU steps share an instance's cores; other steps use none)",
    catalog_kind: Some("services"),
    rows: |r| r.cpus.iter().collect(),
    columns: &[
        column("service", |c| text(&c.name)),
        column("cores", |c| Cell::Count(c.cores.into())),
        column("sharing", |c| text(&c.sharing)),
        stat("cpu", |c| &c.utilisation),
        stat("run_queue", |c| &c.run_queue),
    ],
};

static DATABASES: Rows<DatabaseSummary> = Rows {
    subject: Subject::Databases,
    title: "Databases",
    catalog_kind: Some("databases"),
    rows: |r| r.databases.iter().collect(),
    columns: &[
        column("database", |d| text(&d.name)),
        column("cores", |d| Cell::Count(d.cores.into())),
        stat("utilisation", |d| &d.utilisation),
        stat("queue", |d| &d.queue_length),
        rate("queries", |d| &d.queries_per_s),
        stat("query.p99", |d| &d.query_time.p99_ms),
        stat("connections", |d| &d.connections_in_use),
        column("connections max", |d| Cell::Number(&d.connections_max)),
    ],
};

static POOLS: Rows<PoolSummary> = Rows {
    subject: Subject::Pools,
    title: "Connection pools",
    catalog_kind: Some("pools"),
    rows: |r| r.pools.iter().collect(),
    columns: &[
        column("pool", |p| text(&p.name)),
        column("size", |p| Cell::Count(p.size.into())),
        stat("utilisation", |p| &p.utilisation),
        column("in use max", |p| Cell::Number(&p.in_use_max)),
        stat("waiting", |p| &p.waiting),
        stat("wait.p99", |p| &p.acquire_wait.p99_ms),
        stat("waited", |p| &p.acquire_wait.waited_share),
        column("timeouts", |p| Cell::Count(p.acquire_timeouts)),
    ],
};

static QUEUES: Rows<QueueSummary> = Rows {
    subject: Subject::Queues,
    title: "Message queues (totals over replications; amplification is receives per message)",
    catalog_kind: Some("queues"),
    rows: |r| r.queues.iter().collect(),
    columns: &[
        column("queue", |q| text(&q.name)),
        column("consumer", |q| {
            Cell::Text(format!("{} ×{}", q.consumer_calls, q.concurrency).into())
        }),
        column("published", |q| Cell::Count(q.published)),
        column("receives", |q| Cell::Count(q.receives)),
        stat("amplification", |q| &q.amplification),
        column("done", |q| Cell::Count(q.deleted)),
        column("dead-lettered", |q| Cell::Count(q.dead_lettered)),
        column("left", |q| Cell::Count(q.left_at_end)),
        rate("goodput", |q| &q.goodput_per_s),
        stat("error_rate", |q| &q.delivery_error_rate),
    ],
};

static CACHES: Rows<KeySpaceSummary> = Rows {
    subject: Subject::Caches,
    title: "Caches with a key space (totals over replications; misses go to the backend)",
    catalog_kind: Some("caches"),
    rows: |r| r.caches.iter().collect(),
    columns: &[
        column("cache", |c| text(&c.name)),
        column("keys", |c| {
            Cell::Text(
                format!(
                    "{} of {}, {}",
                    human::count(c.capacity.into()),
                    human::count(c.keys.into()),
                    c.popularity
                )
                .into(),
            )
        }),
        stat("hit_ratio", |c| &c.hit_ratio),
        rate("misses", |c| &c.misses_per_s),
        rate("coalesced", |c| &c.coalesced_per_s),
        column("stale", |c| Cell::Count(c.stale)),
        column("evictions", |c| Cell::Count(c.evictions)),
        column("expirations", |c| Cell::Count(c.expirations)),
    ],
};

static EFFECTS: Rows<EffectSummary> = Rows {
    subject: Subject::Effects,
    title: "Side effects (1.00 per unit of work means no duplicates)",
    catalog_kind: Some("side effects"),
    rows: |r| r.effects.iter().collect(),
    columns: &[
        column("side effect", |e| text(&e.name)),
        column("count", |e| Cell::Count(e.count)),
        stat("per_unit", |e| &e.per_unit),
        column("duplicates", |e| Cell::Count(e.duplicates)),
        column("after the caller left", |e| Cell::Count(e.for_nobody)),
    ],
};

static WASTED_WORK: Rows<ServiceSummary> = Rows {
    subject: Subject::WastedWork,
    title: "Wasted work (done for callers who had already given up) and work skipped by idempotency checks",
    catalog_kind: Some("services"),
    rows: |r| r.services.iter().filter(|s| s.wasted.any()).collect(),
    columns: &[
        column("service", |s| text(&s.name)),
        stat("wasted_cpu", |s| &s.wasted.cpu_s),
        column("queries", |s| Cell::Count(s.wasted.queries)),
        column("calls", |s| Cell::Count(s.wasted.calls)),
        column("finished for nobody", |s| Cell::Count(s.wasted.finished_for_nobody)),
        column("stopped", |s| Cell::Count(s.wasted.stopped)),
        column("skipped: in flight", |s| Cell::Count(s.wasted.skipped_in_flight)),
        column("skipped: done", |s| Cell::Count(s.wasted.skipped_completed)),
    ],
};

static CALL_POLICIES: Rows<CallSiteSummary> = Rows {
    subject: Subject::CallPolicies,
    title: "Call policies",
    catalog_kind: None,
    rows: |r| r.call_sites.iter().collect(),
    columns: &[
        column("call site", |c| text(&c.name)),
        column("retries refused by budget", |c| Cell::Count(c.budget_denied)),
        column("throttled", |c| Cell::Count(c.throttled)),
        column("breaker fast-fails", |c| Cell::Count(c.breaker_refused)),
        column("breaker opened", |c| Cell::Count(c.breaker_opened)),
        column("breaker open", |c| Cell::Share(&c.breaker_open_share)),
    ],
};

static HEDGES: Rows<HedgeSummary> = Rows {
    subject: Subject::Hedges,
    title: "Hedged calls (a second copy of an attempt unanswered after the delay; the first answer wins)",
    catalog_kind: Some("hedges"),
    rows: |r| r.hedges.iter().collect(),
    columns: &[
        column("hedge", |h| text(&h.name)),
        column("setting", |h| text(&h.setting)),
        stat("delay", |h| &h.delay_ms),
        column("attempts", |h| Cell::Count(h.attempts)),
        column("copies sent", |h| Cell::Count(h.hedges)),
        stat("extra_load", |h| &h.extra_load),
        stat("won_share", |h| &h.won_share),
    ],
};

static LIMITS: Rows<LimitSummary> = Rows {
    subject: Subject::Limits,
    title: "Rate limits and bulkheads (rejected: over the rate, or no place)",
    catalog_kind: Some("limits"),
    rows: |r| r.limits.iter().collect(),
    columns: &[
        column("limit", |l| text(&l.name)),
        column("kind", |l| text(&l.kind)),
        column("setting", |l| text(&l.setting)),
        rate("admitted", |l| &l.admitted_per_s),
        rate("rejected", |l| &l.rejected_per_s),
        stat("rejected_share", |l| &l.rejected_share),
        column("rejected total", |l| Cell::Count(l.rejected)),
    ],
};

static SLOS: Rows<SloResult> = Rows {
    subject: Subject::Slos,
    title: "Service level objectives",
    catalog_kind: None,
    rows: |r| r.slos.iter().collect(),
    columns: &[
        column("slo", |s| text(&s.name)),
        column("objective", |s| text(&s.objective)),
        column("measured", |s| measured(&s.objective, &s.measured)),
        column("status", |s| {
            let status = s.status.name().to_uppercase();
            let breaches = s.breaches_text();
            Cell::Text(
                if breaches.is_empty() {
                    status
                } else {
                    format!("{status} overall; {breaches}")
                }
                .into(),
            )
        }),
    ],
};

/// What an SLO objective measured: a share for an error-rate objective, else a latency.
pub fn measured<'r>(objective: &str, value: &'r Estimate) -> Cell<'r> {
    if crate::results::slo::objective_is_share(objective) {
        Cell::Share(value)
    } else {
        Cell::Latency(value)
    }
}

/// How a value of `metric` ("shoppers.throughput"), measured in `unit`, is shown: as the
/// sections show their column of its statistic, so a count per second is a rate.
pub fn quantity(metric: &str, unit: Unit) -> Quantity {
    let statistic = metric.rsplit('.').next().unwrap_or(metric);
    if unit == Unit::Count && SECTIONS.iter().any(|s| s.is_rate(statistic)) {
        Quantity::Rate
    } else {
        Quantity::of(unit)
    }
}

/// Every section of a run's summary, in the order both outputs show them.
pub static SECTIONS: &[&dyn Section] = &[
    &CLIENTS,
    &GROUPS,
    &ENDPOINTS,
    &SERVICES,
    &AUTOSCALING,
    &CPUS,
    &DATABASES,
    &POOLS,
    &QUEUES,
    &CACHES,
    &EFFECTS,
    &WASTED_WORK,
    &CALL_POLICIES,
    &HEDGES,
    &LIMITS,
    &SLOS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statistic_column_is_a_statistic_of_its_kind_over_the_run() {
        for section in SECTIONS {
            for (name, per_second) in section.statistics() {
                let kind = section.catalog_kind();
                let found = kind.and_then(|k| catalog::statistic(k, name));
                assert!(
                    found.is_some_and(|s| s.summary),
                    "{}: {name} is no statistic of {kind:?} over the run",
                    section.title()
                );
                assert!(
                    !per_second || found.is_some_and(|s| s.unit == Unit::Count),
                    "{}: {name} is a rate but no count",
                    section.title()
                );
            }
        }
    }

    #[test]
    fn only_the_terminal_shows_the_compact_failures() {
        for output in [Output::Terminal, Output::Html] {
            let headers = CLIENTS.headers(output);
            assert_eq!(headers.contains(&"failures".to_string()), output == Output::Terminal);
        }
    }

    #[test]
    fn a_statistic_is_headed_by_its_metric_name_in_words() {
        assert_eq!(
            POOLS.headers(Output::Html),
            [
                "pool",
                "size",
                "utilisation",
                "in use max",
                "waiting",
                "wait p99",
                "waited",
                "timeouts"
            ]
        );
    }

    #[test]
    fn a_compared_throughput_is_a_rate_and_a_queue_a_number() {
        assert_eq!(quantity("shoppers.throughput", Unit::Count), Quantity::Rate);
        assert_eq!(quantity("pg.queries", Unit::Count), Quantity::Rate);
        assert_eq!(quantity("api.queue", Unit::Count), Quantity::Number);
        assert_eq!(quantity("pg.query.p99", Unit::Millis), Quantity::Millis);
    }

    #[test]
    fn no_title_is_used_twice() {
        for (i, a) in SECTIONS.iter().enumerate() {
            assert!(SECTIONS[i + 1..].iter().all(|b| b.title() != a.title()), "{}", a.title());
        }
    }
}
