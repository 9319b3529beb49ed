//! The columns the outputs give each component kind, once: over the run (one value per
//! component, with its confidence interval) and per time window. Each column has the label it
//! carries in CSV files (`throughput_per_s`, `waiting`), the statistics of the
//! [`catalog`](super::catalog) it is (`throughput`; `queue` and `waiting`), and how to read it
//! from the results. `summary.csv` and `timeseries.csv` are these tables written row by row, in
//! this order; [`super::metric::series`] reads a component's windows from here too.
//!
//! Metric look-ups (`api.checkout.p99` in `capsim check`, expectations, sweeps) read the same
//! tables, plus a few columns `summary.csv` leaves out, through [`LOOKUP`]
//! ([`super::metric::resolve`]).
//!
//! A new component kind adds its tables here and to [`RUN`], [`WINDOWS`] and [`LOOKUP`]; a
//! column that is a statistic of its kind names it, and unit tests check the names against the
//! catalog both ways.

use super::resilience::{EffectWindow, LimitSummary, LimitWindow, QueueWindow};
use super::{
    AutoscaleSummary, AutoscaleWindow, BlastRadius, CacheWindow, ClientSummary, CpuSummary, DatabaseSummary, EffectSummary,
    EndpointSummary, GroupSummary, HedgeSummary, KeySpaceSummary, PoolSummary, QueueSummary, RunResult, ServiceSummary,
    StationSeries, TrafficWindow,
};
use crate::stats::Estimate;

/// One column over the run of a component whose results are an `R`.
pub struct RunColumn<R> {
    /// Its label in `summary.csv`: `throughput_per_s`, `latency_p99_ms`.
    pub label: &'static str,
    /// The catalog statistic it is (`throughput`).
    pub statistic: &'static str,
    /// Its value for a component; `None` when the component has no row for it (a service that
    /// wasted no CPU).
    pub value: for<'r> fn(&'r R) -> Option<&'r Estimate>,
}

/// One column per time window of a component whose windows are an `S`.
pub struct WindowColumn<S: ?Sized> {
    /// Its label in `timeseries.csv`: `p99_ms`, `done_per_s`.
    pub label: &'static str,
    /// The catalog statistics it is per window (`goodput`; a station's `queue` and `waiting`).
    pub statistics: &'static [&'static str],
    /// Its value in window `i` (NaN when the window saw nothing to measure).
    pub value: fn(&S, usize) -> f64,
}

/// What every table says about its columns, whatever its component kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    /// The label in the CSV file.
    pub label: &'static str,
    /// The catalog statistics the column is (empty when it is none).
    pub statistics: &'static [&'static str],
}

/// The columns over the run of one component kind, as `summary.csv` writes them.
pub trait RunTable: Sync {
    /// The kind as CSV rows name it: "client", "database".
    fn kind(&self) -> &'static str;
    /// The kind as the catalog names it: "clients", "databases".
    fn catalog_kind(&self) -> &'static str;
    /// Its columns, in order.
    fn labels(&self) -> Vec<Label>;
    /// Each component of the kind in `result`, then each of its columns that has a value:
    /// `row(component, label, value)`.
    fn rows(&self, result: &RunResult, row: &mut dyn FnMut(&str, &'static str, &Estimate));
    /// Statistic `statistic` of the component named `component`: `None` when the kind has no
    /// such component in `result`, `Some(None)` when the component has no value for it.
    fn lookup<'r>(&self, result: &'r RunResult, component: &str, statistic: &str) -> Option<Option<&'r Estimate>>;
    /// The names of the kind's components in `result`, in order.
    fn names<'r>(&self, result: &'r RunResult) -> Vec<&'r str>;
}

/// The columns per time window of one component kind, as `timeseries.csv` writes them.
pub trait WindowTable: Sync {
    /// The kind as CSV rows name it: "client", "database".
    fn kind(&self) -> &'static str;
    /// The kind as the catalog names it: "clients", "databases".
    fn catalog_kind(&self) -> &'static str;
    /// Its columns, in order.
    fn labels(&self) -> Vec<Label>;
    /// Each component of the kind in `result`, each of its windows, then each column:
    /// `row(window start in seconds, component, label, value)`.
    fn rows(&self, result: &RunResult, row: &mut dyn FnMut(f64, &str, &'static str, f64));
    /// The windows of statistic `statistic` of the component named `component`, as (window
    /// start in seconds, value); `None` when the kind has no such component or no such column.
    fn series(&self, result: &RunResult, component: &str, statistic: &str) -> Option<Vec<(f64, f64)>>;
    /// The names of the kind's components in `result`, in order.
    fn names<'r>(&self, result: &'r RunResult) -> Vec<&'r str>;
}

/// The columns over the run of the components of one kind, whose results are `R`.
pub struct Run<R: 'static> {
    kind: &'static str,
    catalog_kind: &'static str,
    components: fn(&RunResult) -> &[R],
    name: fn(&R) -> &str,
    columns: &'static [&'static [RunColumn<R>]],
}

impl<R: Sync> RunTable for Run<R> {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn catalog_kind(&self) -> &'static str {
        self.catalog_kind
    }

    fn labels(&self) -> Vec<Label> {
        self.columns
            .iter()
            .flat_map(|g| g.iter())
            .map(|c| Label {
                label: c.label,
                statistics: std::slice::from_ref(&c.statistic),
            })
            .collect()
    }

    fn rows(&self, result: &RunResult, row: &mut dyn FnMut(&str, &'static str, &Estimate)) {
        for component in (self.components)(result) {
            for column in self.columns.iter().flat_map(|g| g.iter()) {
                if let Some(value) = (column.value)(component) {
                    row((self.name)(component), column.label, value);
                }
            }
        }
    }

    fn lookup<'r>(&self, result: &'r RunResult, component: &str, statistic: &str) -> Option<Option<&'r Estimate>> {
        let found = (self.components)(result).iter().find(|c| (self.name)(c) == component)?;
        let column = self.columns.iter().flat_map(|g| g.iter()).find(|c| c.statistic == statistic);
        Some(column.and_then(|c| (c.value)(found)))
    }

    fn names<'r>(&self, result: &'r RunResult) -> Vec<&'r str> {
        (self.components)(result).iter().map(self.name).collect()
    }
}

/// The columns per window of the components of one kind, whose results are `R` and whose
/// windows are an `S` within them.
pub struct Windows<R: 'static, S: ?Sized + 'static> {
    kind: &'static str,
    catalog_kind: &'static str,
    components: fn(&RunResult) -> &[R],
    name: fn(&R) -> &str,
    /// The windows of a component.
    windows: fn(&R) -> &S,
    /// The start of window `i` in seconds, `None` past the last window.
    start: fn(&S, usize) -> Option<f64>,
    columns: &'static [WindowColumn<S>],
}

impl<R: 'static, S: ?Sized + 'static> Windows<R, S> {
    /// The (start, value) of every window of `column` in `windows`.
    fn values(&self, windows: &S, column: &WindowColumn<S>) -> Vec<(f64, f64)> {
        (0..)
            .map_while(|i| (self.start)(windows, i).map(|start| (start, (column.value)(windows, i))))
            .collect()
    }
}

impl<R: Sync, S: ?Sized> WindowTable for Windows<R, S> {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn catalog_kind(&self) -> &'static str {
        self.catalog_kind
    }

    fn labels(&self) -> Vec<Label> {
        self.columns
            .iter()
            .map(|c| Label {
                label: c.label,
                statistics: c.statistics,
            })
            .collect()
    }

    fn rows(&self, result: &RunResult, row: &mut dyn FnMut(f64, &str, &'static str, f64)) {
        for component in (self.components)(result) {
            let windows = (self.windows)(component);
            for i in 0.. {
                let Some(start) = (self.start)(windows, i) else {
                    break;
                };
                for column in self.columns {
                    row(start, (self.name)(component), column.label, (column.value)(windows, i));
                }
            }
        }
    }

    fn series(&self, result: &RunResult, component: &str, statistic: &str) -> Option<Vec<(f64, f64)>> {
        let found = (self.components)(result).iter().find(|c| (self.name)(c) == component)?;
        let column = self.columns.iter().find(|c| c.statistics.contains(&statistic))?;
        Some(self.values((self.windows)(found), column))
    }

    fn names<'r>(&self, result: &'r RunResult) -> Vec<&'r str> {
        (self.components)(result).iter().map(self.name).collect()
    }
}

const fn run<R>(label: &'static str, statistic: &'static str, value: for<'r> fn(&'r R) -> Option<&'r Estimate>) -> RunColumn<R> {
    RunColumn { label, statistic, value }
}

/// A statistic over the run that only look-ups read: `summary.csv` has no column for it.
const fn looked_up<R>(statistic: &'static str, value: for<'r> fn(&'r R) -> Option<&'r Estimate>) -> RunColumn<R> {
    RunColumn {
        label: "",
        statistic,
        value,
    }
}

const fn window<S: ?Sized>(
    label: &'static str,
    statistics: &'static [&'static str],
    value: fn(&S, usize) -> f64,
) -> WindowColumn<S> {
    WindowColumn {
        label,
        statistics,
        value,
    }
}

/// The latency columns of `$field` (a `LatencySummary`) of an `$r`, labelled `$label` + `mean_ms`…
/// and named `$stat` + `mean`… in the catalog.
macro_rules! latencies {
    ($r:ty, $field:ident, $label:literal, $stat:literal) => {
        &[
            run(concat!($label, "mean_ms"), concat!($stat, "mean"), |r: &$r| {
                Some(&r.$field.mean_ms)
            }),
            run(concat!($label, "p50_ms"), concat!($stat, "p50"), |r: &$r| {
                Some(&r.$field.p50_ms)
            }),
            run(concat!($label, "p90_ms"), concat!($stat, "p90"), |r: &$r| {
                Some(&r.$field.p90_ms)
            }),
            run(concat!($label, "p99_ms"), concat!($stat, "p99"), |r: &$r| {
                Some(&r.$field.p99_ms)
            }),
            run(concat!($label, "p999_ms"), concat!($stat, "p999"), |r: &$r| {
                Some(&r.$field.p999_ms)
            }),
            run(concat!($label, "max_ms"), concat!($stat, "max"), |r: &$r| {
                Some(&r.$field.max_ms)
            }),
        ]
    };
}

/// A client's or an endpoint's throughput and error rate over the run.
macro_rules! traffic {
    ($r:ty) => {
        &[
            run("throughput_per_s", "throughput", |r: &$r| Some(&r.throughput_per_s)),
            run("error_rate", "error_rate", |r: &$r| Some(&r.error_rate)),
        ]
    };
}

/// Clients over the run: traffic and latency, end to end.
static CLIENTS: Run<ClientSummary> = Run {
    kind: "client",
    catalog_kind: "clients",
    components: |r| &r.clients,
    name: |c| &c.name,
    columns: &[traffic!(ClientSummary), latencies!(ClientSummary, latency, "latency_", "")],
};

/// Endpoints over the run: traffic, time in the service, latency.
static ENDPOINTS: Run<EndpointSummary> = Run {
    kind: "endpoint",
    catalog_kind: "endpoints",
    components: |r| &r.endpoints,
    name: |e| &e.name,
    columns: &[
        traffic!(EndpointSummary),
        &[run("sojourn_ms", "sojourn", |e: &EndpointSummary| Some(&e.sojourn_ms))],
        latencies!(EndpointSummary, latency, "latency_", ""),
    ],
};

/// Services over the run: their workers and the line for them.
static SERVICES: Run<ServiceSummary> = Run {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.services,
    name: |s| &s.name,
    columns: &[&[
        run("utilisation", "utilisation", |s: &ServiceSummary| Some(&s.utilisation)),
        run("queue_length", "queue", |s: &ServiceSummary| Some(&s.queue_length)),
        run("in_service", "in_service", |s: &ServiceSummary| Some(&s.in_service)),
        run("worker_wait_mean_ms", "wait.mean", |s: &ServiceSummary| {
            Some(&s.worker_wait.mean_ms)
        }),
    ]],
};

/// Databases over the run: cores, queries, connections.
static DATABASES: Run<DatabaseSummary> = Run {
    kind: "database",
    catalog_kind: "databases",
    components: |r| &r.databases,
    name: |d| &d.name,
    columns: &[&[
        run("utilisation", "utilisation", |d: &DatabaseSummary| Some(&d.utilisation)),
        run("queue_length", "queue", |d: &DatabaseSummary| Some(&d.queue_length)),
        run("queries_per_s", "queries", |d: &DatabaseSummary| Some(&d.queries_per_s)),
        run("connections_in_use", "connections", |d: &DatabaseSummary| {
            Some(&d.connections_in_use)
        }),
        run("query_time_mean_ms", "query.mean", |d: &DatabaseSummary| {
            Some(&d.query_time.mean_ms)
        }),
    ]],
};

/// Connection pools over the run.
static POOLS: Run<PoolSummary> = Run {
    kind: "pool",
    catalog_kind: "pools",
    components: |r| &r.pools,
    name: |p| &p.name,
    columns: &[&[
        run("utilisation", "utilisation", |p: &PoolSummary| Some(&p.utilisation)),
        run("waiting", "waiting", |p: &PoolSummary| Some(&p.waiting)),
        run("acquire_wait_mean_ms", "wait.mean", |p: &PoolSummary| {
            Some(&p.acquire_wait.mean_ms)
        }),
        run("acquire_wait_p99_ms", "wait.p99", |p: &PoolSummary| {
            Some(&p.acquire_wait.p99_ms)
        }),
    ]],
};

/// Message queues over the run: amplification, deliveries, backlog.
static QUEUES: Run<QueueSummary> = Run {
    kind: "queue",
    catalog_kind: "queues",
    components: |r| &r.queues,
    name: |q| &q.name,
    columns: &[&[
        run("amplification", "amplification", |q: &QueueSummary| Some(&q.amplification)),
        run("done_per_s", "goodput", |q: &QueueSummary| Some(&q.goodput_per_s)),
        run("deliveries_per_s", "deliveries", |q: &QueueSummary| Some(&q.deliveries_per_s)),
        run("backlog", "backlog", |q: &QueueSummary| Some(&q.backlog)),
        run("delivery_error_rate", "error_rate", |q: &QueueSummary| {
            Some(&q.delivery_error_rate)
        }),
    ]],
};

/// Caches with a key space over the run: their hit ratio and the look-ups the backend got.
static CACHES: Run<KeySpaceSummary> = Run {
    kind: "cache",
    catalog_kind: "caches",
    components: |r| &r.caches,
    name: |c| &c.name,
    columns: &[&[
        run("hit_ratio", "hit_ratio", |c: &KeySpaceSummary| Some(&c.hit_ratio)),
        run("misses_per_s", "misses", |c: &KeySpaceSummary| Some(&c.misses_per_s)),
        run("coalesced_per_s", "coalesced", |c: &KeySpaceSummary| Some(&c.coalesced_per_s)),
    ]],
};

/// Side effects over the run.
static EFFECTS: Run<EffectSummary> = Run {
    kind: "effect",
    catalog_kind: "side effects",
    components: |r| &r.effects,
    name: |e| &e.name,
    columns: &[&[run("per_unit", "per_unit", |e: &EffectSummary| Some(&e.per_unit))]],
};

/// Hedged calls over the run: the extra load, the copies that answered first, the delay.
static HEDGES: Run<HedgeSummary> = Run {
    kind: "hedge",
    catalog_kind: "hedges",
    components: |r| &r.hedges,
    name: |h| &h.name,
    columns: &[&[
        run("extra_load", "extra_load", |h: &HedgeSummary| Some(&h.extra_load)),
        run("won_share", "won_share", |h: &HedgeSummary| Some(&h.won_share)),
        run("delay_ms", "delay", |h: &HedgeSummary| Some(&h.delay_ms)),
    ]],
};

/// Rate limits and bulkheads over the run.
static LIMITS: Run<LimitSummary> = Run {
    kind: "limit",
    catalog_kind: "limits",
    components: |r| &r.limits,
    name: |l| &l.name,
    columns: &[&[
        run("admitted_per_s", "admitted", |l: &LimitSummary| Some(&l.admitted_per_s)),
        run("rejected_per_s", "rejected", |l: &LimitSummary| Some(&l.rejected_per_s)),
        run("rejected_share", "rejected_share", |l: &LimitSummary| Some(&l.rejected_share)),
    ]],
};

/// The CPU services spent on callers who had left, after every other row and only for the
/// services that wasted some.
static WASTED: Run<ServiceSummary> = Run {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.services,
    name: |s| &s.name,
    columns: &[&[run("wasted_cpu_s", "wasted_cpu", |s: &ServiceSummary| {
        (s.wasted.cpu_s.mean > 0.0).then_some(&s.wasted.cpu_s)
    })]],
};

/// Autoscaled services' fleets over the run, after every other row.
static AUTOSCALERS: Run<AutoscaleSummary> = Run {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.autoscalers,
    name: |a| &a.name,
    columns: &[&[
        run("instances", "instances", |a: &AutoscaleSummary| Some(&a.instances)),
        run("instances_max", "instances_max", |a: &AutoscaleSummary| {
            Some(&a.instances_max)
        }),
        run("instance_hours", "instance_hours", |a: &AutoscaleSummary| {
            Some(&a.instance_hours)
        }),
        run("cost", "cost", |a: &AutoscaleSummary| a.cost.as_ref()),
        run("scale_outs", "scale_outs", |a: &AutoscaleSummary| Some(&a.scale_outs)),
        run("scale_ins", "scale_ins", |a: &AutoscaleSummary| Some(&a.scale_ins)),
        run("under_provisioned_s", "under_provisioned", |a: &AutoscaleSummary| {
            Some(&a.under_provisioned_s)
        }),
    ]],
};

/// The cores of services with fewer cores than workers, after every other row.
static CPUS: Run<CpuSummary> = Run {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.cpus,
    name: |c| &c.name,
    columns: &[&[
        run("cpu_utilisation", "cpu", |c: &CpuSummary| Some(&c.utilisation)),
        run("run_queue", "run_queue", |c: &CpuSummary| Some(&c.run_queue)),
    ]],
};

/// Every column over the run, kind by kind, in the order `summary.csv` writes them.
pub static RUN: &[&dyn RunTable] = &[
    &CLIENTS,
    &ENDPOINTS,
    &SERVICES,
    &DATABASES,
    &POOLS,
    &QUEUES,
    &EFFECTS,
    &WASTED,
    &AUTOSCALERS,
    &LIMITS,
    &CPUS,
    &CACHES,
    &HEDGES,
];

/// A client's statistics over the run that `summary.csv` leaves out.
static CLIENT_LOOKUPS: Run<ClientSummary> = Run {
    kind: "client",
    catalog_kind: "clients",
    components: |r| &r.clients,
    name: |c| &c.name,
    columns: &[&[
        looked_up("goodput", |c: &ClientSummary| Some(&c.goodput_per_s)),
        looked_up("makespan", |c: &ClientSummary| c.batch.as_ref().map(|b| &b.makespan_s)),
        looked_up("slack", |c: &ClientSummary| c.batch.as_ref().and_then(|b| b.slack_s.as_ref())),
    ]],
};

/// Groups of clients over the run (look-ups only).
static GROUPS: Run<GroupSummary> = Run {
    kind: "group",
    catalog_kind: "groups of clients",
    components: |r| &r.groups,
    name: |g| &g.name,
    columns: &[&[
        looked_up("error_rate", |g: &GroupSummary| Some(&g.error_rate)),
        looked_up("throughput", |g: &GroupSummary| Some(&g.throughput_per_s)),
        looked_up("goodput", |g: &GroupSummary| Some(&g.goodput_per_s)),
    ]],
};

/// A service's statistics over the run that `summary.csv` leaves out (its wasted CPU is there
/// only when some was wasted; a look-up reads it always).
static SERVICE_LOOKUPS: Run<ServiceSummary> = Run {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.services,
    name: |s| &s.name,
    columns: &[&[
        looked_up("wait.p99", |s: &ServiceSummary| Some(&s.worker_wait.p99_ms)),
        looked_up("waited", |s: &ServiceSummary| Some(&s.worker_wait.waited_share)),
        looked_up("instances_up", |s: &ServiceSummary| Some(&s.instances_up)),
        looked_up("available", |s: &ServiceSummary| Some(&s.available)),
        looked_up("wasted_cpu", |s: &ServiceSummary| Some(&s.wasted.cpu_s)),
    ]],
};

/// A database's query times over the run that `summary.csv` leaves out.
static DATABASE_LOOKUPS: Run<DatabaseSummary> = Run {
    kind: "database",
    catalog_kind: "databases",
    components: |r| &r.databases,
    name: |d| &d.name,
    columns: &[&[
        looked_up("query.p50", |d: &DatabaseSummary| Some(&d.query_time.p50_ms)),
        looked_up("query.p90", |d: &DatabaseSummary| Some(&d.query_time.p90_ms)),
        looked_up("query.p99", |d: &DatabaseSummary| Some(&d.query_time.p99_ms)),
        looked_up("query.p999", |d: &DatabaseSummary| Some(&d.query_time.p999_ms)),
        looked_up("query.max", |d: &DatabaseSummary| Some(&d.query_time.max_ms)),
    ]],
};

/// A pool's share of acquisitions that waited (look-ups only).
static POOL_LOOKUPS: Run<PoolSummary> = Run {
    kind: "pool",
    catalog_kind: "pools",
    components: |r| &r.pools,
    name: |p| &p.name,
    columns: &[&[looked_up("waited", |p: &PoolSummary| Some(&p.acquire_wait.waited_share))]],
};

/// How far the failure after the trigger reached, as the one component `blast_radius`
/// (look-ups only).
static BLAST_RADIUS: Run<BlastRadius> = Run {
    kind: "blast_radius",
    catalog_kind: "blast_radius",
    components: |r| std::slice::from_ref(&r.cascade.blast_radius),
    name: |_| "blast_radius",
    columns: &[&[
        looked_up("endpoints", |b: &BlastRadius| Some(&b.endpoint_share_by_replication)),
        looked_up("traffic", |b: &BlastRadius| Some(&b.traffic_share_by_replication)),
    ]],
};

/// Every table a metric name is looked up in, in order: first the kinds whose names have dots
/// (a limit "api.rate_limit", a hedge "web.hedge", a cache "api.menu[1]", an endpoint
/// "api.checkout"), so that "api.checkout.p99" is the endpoint's and not service api's; then
/// every other kind, with the statistics `summary.csv` leaves out beside its columns.
pub static LOOKUP: &[&dyn RunTable] = &[
    &LIMITS,
    &HEDGES,
    &CACHES,
    &ENDPOINTS,
    &CLIENTS,
    &CLIENT_LOOKUPS,
    &GROUPS,
    &SERVICES,
    &SERVICE_LOOKUPS,
    &AUTOSCALERS,
    &CPUS,
    &DATABASES,
    &DATABASE_LOOKUPS,
    &POOLS,
    &POOL_LOOKUPS,
    &QUEUES,
    &EFFECTS,
    &BLAST_RADIUS,
];

/// The component metric `name` is a statistic of: the first component of the [`LOOKUP`] tables
/// whose name, then a dot, begins `name`. Returns its kind as the catalog names it, its name and
/// the statistic (the rest of `name`).
pub fn component_of<'n>(result: &RunResult, name: &'n str) -> Option<(&'static str, &'n str, &'n str)> {
    LOOKUP.iter().find_map(|table| {
        let component = table
            .names(result)
            .into_iter()
            .find(|c| name.strip_prefix(c).is_some_and(|rest| rest.starts_with('.')))?;
        let (component, statistic) = name.split_at(component.len());
        Some((table.catalog_kind(), component, &statistic[1..]))
    })
}

/// Statistic `statistic` of the component named `component` of kind `kind` (as the catalog
/// names it), from the first [`LOOKUP`] table of that kind that has a value for it.
pub fn look_up<'r>(result: &'r RunResult, kind: &str, component: &str, statistic: &str) -> Option<&'r Estimate> {
    LOOKUP
        .iter()
        .filter(|t| t.catalog_kind() == kind)
        .find_map(|t| t.lookup(result, component, statistic).flatten())
}

/// The start of traffic window `i`.
fn traffic_start(w: &[TrafficWindow], i: usize) -> Option<f64> {
    w.get(i).map(|w| w.start_s)
}

/// A client's or an endpoint's traffic per window.
const TRAFFIC: &[WindowColumn<[TrafficWindow]>] = &[
    window("throughput_per_s", &["throughput"], |w, i| w[i].throughput_per_s),
    window("error_rate", &["error_rate"], |w, i| w[i].error_rate),
    window("p50_ms", &["p50"], |w, i| w[i].p50_ms),
    window("p99_ms", &["p99"], |w, i| w[i].p99_ms),
];

/// The start of station window `i`, while every column has a value for it (a result read back
/// from a file may hold columns of different lengths: the windows end with the shortest).
fn station_start(s: &StationSeries, i: usize) -> Option<f64> {
    (i < s.utilisation.len() && i < s.waiting.len())
        .then(|| s.start_s.get(i).copied())
        .flatten()
}

/// A service's, database's or pool's units per window; the line for them is a service's or a
/// database's `queue` and a pool's `waiting` over the run, and either name per window.
const STATION: &[WindowColumn<StationSeries>] = &[
    window("utilisation", &["utilisation"], |s, i| s.utilisation[i]),
    window("waiting", &["queue", "waiting"], |s, i| s.waiting[i]),
];

static CLIENT_WINDOWS: Windows<ClientSummary, [TrafficWindow]> = Windows {
    kind: "client",
    catalog_kind: "clients",
    components: |r| &r.clients,
    name: |c| &c.name,
    windows: |c| &c.series,
    start: traffic_start,
    columns: TRAFFIC,
};

static ENDPOINT_WINDOWS: Windows<EndpointSummary, [TrafficWindow]> = Windows {
    kind: "endpoint",
    catalog_kind: "endpoints",
    components: |r| &r.endpoints,
    name: |e| &e.name,
    windows: |e| &e.series,
    start: traffic_start,
    columns: TRAFFIC,
};

static SERVICE_WINDOWS: Windows<ServiceSummary, StationSeries> = Windows {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.services,
    name: |s| &s.name,
    windows: |s| &s.series,
    start: station_start,
    columns: STATION,
};

static DATABASE_WINDOWS: Windows<DatabaseSummary, StationSeries> = Windows {
    kind: "database",
    catalog_kind: "databases",
    components: |r| &r.databases,
    name: |d| &d.name,
    windows: |d| &d.series,
    start: station_start,
    columns: STATION,
};

static POOL_WINDOWS: Windows<PoolSummary, StationSeries> = Windows {
    kind: "pool",
    catalog_kind: "pools",
    components: |r| &r.pools,
    name: |p| &p.name,
    windows: |p| &p.series,
    start: station_start,
    columns: STATION,
};

/// A database's connections in use per window, after every station's windows.
static CONNECTION_WINDOWS: Windows<DatabaseSummary, DatabaseSummary> = Windows {
    kind: "database",
    catalog_kind: "databases",
    components: |r| &r.databases,
    name: |d| &d.name,
    windows: |d| d,
    start: |d, i| d.connections_series.get(i).and(d.series.start_s.get(i).copied()),
    columns: &[window("connections_in_use", &[], |d, i| d.connections_series[i])],
};

static QUEUE_WINDOWS: Windows<QueueSummary, [QueueWindow]> = Windows {
    kind: "queue",
    catalog_kind: "queues",
    components: |r| &r.queues,
    name: |q| &q.name,
    windows: |q| &q.series,
    start: |w, i| w.get(i).map(|w| w.start_s),
    columns: &[
        window("published_per_s", &[], |w, i| w[i].published_per_s),
        window("receives_per_s", &["deliveries"], |w, i| w[i].receives_per_s),
        window("done_per_s", &["goodput"], |w, i| w[i].deleted_per_s),
        window("dead_lettered_per_s", &[], |w, i| w[i].dead_lettered_per_s),
        window("amplification", &["amplification"], |w, i| w[i].amplification),
        window("backlog", &["backlog"], |w, i| w[i].backlog),
        window("in_delivery", &["in_flight"], |w, i| w[i].in_flight),
    ],
};

static EFFECT_WINDOWS: Windows<EffectSummary, [EffectWindow]> = Windows {
    kind: "effect",
    catalog_kind: "side effects",
    components: |r| &r.effects,
    name: |e| &e.name,
    windows: |e| &e.series,
    start: |w, i| w.get(i).map(|w| w.start_s),
    columns: &[
        window("per_s", &[], |w, i| w[i].per_s),
        window("duplicates_per_s", &[], |w, i| w[i].duplicates_per_s),
    ],
};

static LIMIT_WINDOWS: Windows<LimitSummary, [LimitWindow]> = Windows {
    kind: "limit",
    catalog_kind: "limits",
    components: |r| &r.limits,
    name: |l| &l.name,
    windows: |l| &l.series,
    start: |w, i| w.get(i).map(|w| w.start_s),
    columns: &[
        window("admitted_per_s", &["admitted"], |w, i| w[i].admitted_per_s),
        window("rejected_per_s", &["rejected"], |w, i| w[i].rejected_per_s),
        window("rejected_share", &["rejected_share"], |w, i| w[i].rejected_share),
    ],
};

static CACHE_WINDOWS: Windows<KeySpaceSummary, [CacheWindow]> = Windows {
    kind: "cache",
    catalog_kind: "caches",
    components: |r| &r.caches,
    name: |c| &c.name,
    windows: |c| &c.series,
    start: |w, i| w.get(i).map(|w| w.start_s),
    columns: &[
        window("hit_ratio", &["hit_ratio"], |w, i| w[i].hit_ratio),
        window("misses_per_s", &["misses"], |w, i| w[i].misses_per_s),
        window("coalesced_per_s", &["coalesced"], |w, i| w[i].coalesced_per_s),
    ],
};

/// Every column per window, kind by kind, in the order `timeseries.csv` writes them.
pub static WINDOWS: &[&dyn WindowTable] = &[
    &CLIENT_WINDOWS,
    &ENDPOINT_WINDOWS,
    &SERVICE_WINDOWS,
    &DATABASE_WINDOWS,
    &POOL_WINDOWS,
    &CONNECTION_WINDOWS,
    &QUEUE_WINDOWS,
    &EFFECT_WINDOWS,
    &AUTOSCALER_WINDOWS,
    &LIMIT_WINDOWS,
    &CACHE_WINDOWS,
];

/// An autoscaled service's instances in service per window, after every other kind's windows.
static AUTOSCALER_WINDOWS: Windows<AutoscaleSummary, [AutoscaleWindow]> = Windows {
    kind: "service",
    catalog_kind: "services",
    components: |r| &r.autoscalers,
    name: |a| &a.name,
    windows: |a| &a.series,
    start: |w, i| w.get(i).map(|w| w.start_s),
    columns: &[window("instances", &["instances"], |w, i| w[i].instances)],
};

#[cfg(test)]
mod tests {
    use super::super::catalog::CATALOG;
    use super::*;

    /// The catalog's statistics of kind `kind` (plural, as the catalog names it).
    fn statistics(kind: &str) -> Vec<&'static super::super::catalog::Statistic> {
        CATALOG
            .iter()
            .find(|k| k.name == kind)
            .unwrap_or_else(|| panic!("the catalog has no kind \"{kind}\""))
            .statistics()
            .collect()
    }

    #[test]
    fn every_column_named_after_a_statistic_is_one_the_catalog_has_over_the_run_or_per_window() {
        for table in RUN.iter().chain(LOOKUP) {
            for column in table.labels() {
                for name in column.statistics {
                    let s = statistics(table.catalog_kind()).into_iter().find(|s| s.name == *name);
                    assert!(
                        s.is_some_and(|s| s.summary),
                        "{} column {} is statistic {name}, which the catalog has not over the run",
                        table.kind(),
                        column.label
                    );
                }
            }
        }
        for table in WINDOWS {
            for column in table.labels() {
                for name in column.statistics {
                    let s = statistics(table.catalog_kind()).into_iter().find(|s| s.name == *name);
                    assert!(
                        s.is_some_and(|s| s.windowed),
                        "{} window column {} is statistic {name}, which the catalog has not per window",
                        table.kind(),
                        column.label
                    );
                }
            }
        }
    }

    #[test]
    fn every_statistic_the_catalog_has_per_window_is_a_column_of_the_windows() {
        for kind in CATALOG {
            for s in kind.statistics().filter(|s| s.windowed) {
                let columns: Vec<Label> = WINDOWS
                    .iter()
                    .filter(|t| t.catalog_kind() == kind.name)
                    .flat_map(|t| t.labels())
                    .filter(|c| c.statistics.contains(&s.name))
                    .collect();
                assert_eq!(columns.len(), 1, "{}: {} per window", kind.name, s.name);
            }
        }
    }

    /// The statistics over the run that `summary.csv` leaves out (it was laid out before they
    /// existed, and a new row would change the file); a statistic added to the catalog is either
    /// a column or listed here.
    const NOT_IN_SUMMARY_CSV: &[(&str, &[&str])] = &[
        ("clients", &["goodput", "makespan", "slack"]),
        ("groups of clients", &["error_rate", "throughput", "goodput"]),
        ("services", &["wait.p99", "waited", "instances_up", "available"]),
        (
            "databases",
            &["query.p50", "query.p90", "query.p99", "query.p999", "query.max"],
        ),
        ("pools", &["waited"]),
        ("blast_radius", &["endpoints", "traffic"]),
    ];

    #[test]
    fn every_statistic_over_the_run_is_a_column_of_summary_csv_or_said_to_be_left_out() {
        let mut left_out: Vec<(&str, &str)> = Vec::new();
        for kind in CATALOG {
            for s in kind.statistics().filter(|s| s.summary) {
                let columns = RUN
                    .iter()
                    .filter(|t| t.catalog_kind() == kind.name)
                    .flat_map(|t| t.labels())
                    .filter(|c| c.statistics.contains(&s.name))
                    .count();
                assert!(columns <= 1, "{}: {} is {columns} columns", kind.name, s.name);
                if columns == 0 {
                    left_out.push((kind.name, s.name));
                }
            }
        }
        let said: Vec<(&str, &str)> = NOT_IN_SUMMARY_CSV
            .iter()
            .flat_map(|(kind, names)| names.iter().map(move |n| (*kind, *n)))
            .collect();
        assert_eq!(left_out, said, "catalog statistics without a column of summary.csv");
    }

    #[test]
    fn every_statistic_the_catalog_has_over_the_run_is_one_column_a_look_up_reads() {
        for kind in CATALOG {
            for s in kind.statistics().filter(|s| s.summary) {
                let columns = LOOKUP
                    .iter()
                    .filter(|t| t.catalog_kind() == kind.name)
                    .flat_map(|t| t.labels())
                    .filter(|c| c.statistics.contains(&s.name))
                    .count();
                assert_eq!(columns, 1, "{}: {} in {columns} look-up columns", kind.name, s.name);
            }
        }
    }

    #[test]
    fn a_station_whose_columns_differ_in_length_has_the_windows_of_the_shortest() {
        // As metric::series had, zipping the starts with one column: no window without a value.
        let s = StationSeries {
            start_s: vec![0.0, 60.0, 120.0],
            utilisation: vec![0.5, 0.6],
            waiting: vec![1.0, 2.0, 3.0],
        };
        let starts: Vec<f64> = (0..).map_while(|i| station_start(&s, i)).collect();
        assert_eq!(starts, [0.0, 60.0]);
    }

    #[test]
    fn no_kind_has_the_same_csv_label_twice() {
        for tables in [
            RUN.iter().map(|t| (t.kind(), t.labels())).collect::<Vec<_>>(),
            WINDOWS.iter().map(|t| (t.kind(), t.labels())).collect(),
        ] {
            let mut seen: Vec<(&str, &str)> = Vec::new();
            for (kind, labels) in tables {
                for l in labels {
                    assert!(!seen.contains(&(kind, l.label)), "{kind}: {} twice", l.label);
                    seen.push((kind, l.label));
                }
            }
        }
    }
}
