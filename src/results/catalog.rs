//! The statistics every component kind offers under a metric name (`api.checkout.p99`,
//! `web.error_rate`, `pg.query.p99`), once: the unit it is measured in, which way is worse, and
//! whether it has a value per time window as well as over the run. Metric look-ups
//! ([`super::metric`]), their directions (metastability verdicts, sweeps, expectations) and the
//! messages that list what exists all read this table; the outputs' columns
//! ([`super::columns`]) name the statistics they are.

use super::metric::{Direction, Unit};

/// One statistic of a component kind.
#[derive(Clone, Copy, Debug)]
pub struct Statistic {
    /// Its name after the component's: `p99`, `wait.mean`, `query.p99`.
    pub name: &'static str,
    /// What it is measured in.
    pub unit: Unit,
    /// Which way it moves when the system gets worse.
    pub direction: Direction,
    /// Whether it has a value over the whole run (`resolve`).
    pub summary: bool,
    /// Whether it has a value per time window (`series`).
    pub windowed: bool,
}

/// The statistics of one component kind, in groups that several kinds share.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// The kind, plural, as messages name it: "clients", "services".
    pub name: &'static str,
    /// Its statistics, group by group.
    groups: &'static [&'static [Statistic]],
}

impl Kind {
    /// Every statistic of the kind.
    pub fn statistics(&self) -> impl Iterator<Item = &'static Statistic> {
        self.groups.iter().flat_map(|g| g.iter())
    }
}

const fn stat(name: &'static str, unit: Unit, direction: Direction, summary: bool, windowed: bool) -> Statistic {
    Statistic {
        name,
        unit,
        direction,
        summary,
        windowed,
    }
}

use Direction::{FallsWhenWorse as FALLS, RisesWhenWorse as RISES};
use Unit::{Count, Millis, Seconds, Share};

/// The latency statistics of a component, named `prefix` + `p50`…; `windowed`: p50 and p99
/// also per window.
macro_rules! latencies {
    ($prefix:literal, $windowed:literal) => {
        &[
            stat(concat!($prefix, "p50"), Millis, RISES, true, $windowed),
            stat(concat!($prefix, "p90"), Millis, RISES, true, false),
            stat(concat!($prefix, "p99"), Millis, RISES, true, $windowed),
            stat(concat!($prefix, "p999"), Millis, RISES, true, false),
            stat(concat!($prefix, "max"), Millis, RISES, true, false),
            stat(concat!($prefix, "mean"), Millis, RISES, true, false),
        ]
    };
}

/// A client's or an endpoint's latencies.
const LATENCIES: &[Statistic] = latencies!("", true);
/// A client's or an endpoint's error rate and throughput, over the run and per window.
const TRAFFIC: &[Statistic] = &[
    stat("error_rate", Share, RISES, true, true),
    stat("throughput", Count, FALLS, true, true),
];
/// A service's, database's or pool's units over time.
const STATION: &[Statistic] = &[stat("utilisation", Share, RISES, true, true)];
/// Waits for a service's worker or a pool's connection.
const WAITS: &[Statistic] = &[
    stat("wait.mean", Millis, RISES, true, false),
    stat("wait.p99", Millis, RISES, true, false),
    stat("waited", Share, RISES, true, false),
];

/// Every component kind and its statistics.
pub const CATALOG: &[Kind] = &[
    Kind {
        name: "clients",
        groups: &[
            LATENCIES,
            TRAFFIC,
            &[
                stat("goodput", Count, FALLS, true, false),
                stat("makespan", Seconds, RISES, true, false),
                stat("slack", Seconds, FALLS, true, false),
            ],
        ],
    },
    Kind {
        name: "endpoints",
        groups: &[LATENCIES, TRAFFIC, &[stat("sojourn", Millis, RISES, true, false)]],
    },
    Kind {
        name: "groups of clients",
        groups: &[&[
            stat("error_rate", Share, RISES, true, false),
            stat("throughput", Count, FALLS, true, false),
            stat("goodput", Count, FALLS, true, false),
        ]],
    },
    Kind {
        name: "services",
        groups: &[
            STATION,
            // The line for a worker: `queue` over the run, `queue` or `waiting` per window.
            &[
                stat("queue", Count, RISES, true, true),
                stat("waiting", Count, RISES, false, true),
                stat("in_service", Count, RISES, true, false),
            ],
            WAITS,
            &[
                stat("instances_up", Count, FALLS, true, false),
                stat("available", Share, FALLS, true, false),
                stat("wasted_cpu", Seconds, RISES, true, false),
            ],
            // An autoscaled service's fleet.
            &[
                stat("instances", Count, RISES, true, true),
                stat("instances_max", Count, RISES, true, false),
                stat("instance_hours", Count, RISES, true, false),
                stat("cost", Count, RISES, true, false),
                stat("scale_outs", Count, RISES, true, false),
                stat("scale_ins", Count, RISES, true, false),
                stat("under_provisioned", Seconds, RISES, true, false),
            ],
            // Cores apart from workers.
            &[
                stat("cpu", Share, RISES, true, false),
                stat("run_queue", Count, RISES, true, false),
            ],
        ],
    },
    Kind {
        name: "databases",
        groups: &[
            STATION,
            &[
                stat("queue", Count, RISES, true, true),
                stat("waiting", Count, RISES, false, true),
                stat("queries", Count, FALLS, true, false),
                stat("connections", Count, RISES, true, false),
            ],
            latencies!("query.", false),
        ],
    },
    Kind {
        name: "pools",
        groups: &[
            STATION,
            // The line for a connection: `waiting` over the run, `waiting` or `queue` per window.
            &[
                stat("waiting", Count, RISES, true, true),
                stat("queue", Count, RISES, false, true),
            ],
            WAITS,
        ],
    },
    Kind {
        name: "queues",
        groups: &[&[
            stat("amplification", Count, RISES, true, true),
            stat("goodput", Count, FALLS, true, true),
            stat("deliveries", Count, FALLS, true, true),
            stat("backlog", Count, RISES, true, true),
            stat("in_flight", Count, RISES, false, true),
            stat("error_rate", Share, RISES, true, false),
        ]],
    },
    Kind {
        name: "limits",
        groups: &[&[
            stat("admitted", Count, FALLS, true, true),
            stat("rejected", Count, RISES, true, true),
            stat("rejected_share", Share, RISES, true, true),
        ]],
    },
    Kind {
        name: "hedges",
        groups: &[&[
            stat("extra_load", Share, RISES, true, false),
            stat("won_share", Share, FALLS, true, false),
            stat("delay", Millis, RISES, true, false),
        ]],
    },
    Kind {
        name: "caches",
        groups: &[&[
            stat("hit_ratio", Share, FALLS, true, true),
            stat("misses", Count, RISES, true, true),
            stat("coalesced", Count, RISES, true, true),
        ]],
    },
    Kind {
        name: "side effects",
        groups: &[&[stat("per_unit", Count, RISES, true, false)]],
    },
    Kind {
        name: "blast_radius",
        groups: &[&[
            stat("endpoints", Share, RISES, true, false),
            stat("traffic", Share, RISES, true, false),
        ]],
    },
];

/// The statistic `name` of kind `kind` ("services"), if the kind has it.
pub fn statistic(kind: &str, name: &str) -> Option<&'static Statistic> {
    CATALOG.iter().find(|k| k.name == kind)?.statistics().find(|s| s.name == name)
}

/// What exists, for messages: the statistics over the run (`windowed`: per window) of every kind,
/// or only of `kind`.
pub fn listing(kind: Option<&str>, windowed: bool) -> String {
    CATALOG
        .iter()
        .filter(|k| kind.is_none_or(|name| k.name == name))
        .filter_map(|k| {
            let names: Vec<&str> = k
                .statistics()
                .filter(|s| if windowed { s.windowed } else { s.summary })
                .map(|s| s.name)
                .collect();
            (!names.is_empty()).then(|| format!("{}: {}", k.name, names.join(", ")))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statistic_moves_the_same_way_and_has_the_same_unit_in_every_kind() {
        for a in CATALOG.iter().flat_map(Kind::statistics) {
            for b in CATALOG.iter().flat_map(Kind::statistics) {
                if a.name == b.name {
                    assert_eq!((a.direction, a.unit), (b.direction, b.unit), "{}", a.name);
                }
            }
        }
    }

    #[test]
    fn every_statistic_has_a_value_over_the_run_or_per_window() {
        for s in CATALOG.iter().flat_map(Kind::statistics) {
            assert!(s.summary || s.windowed, "{}", s.name);
        }
    }
}
