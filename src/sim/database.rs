//! Databases: cores shared by every query (or one lane of cores per resource group), direct
//! connections up to `max_connections`, the rows written so far (later queries cost more) and
//! the contention of active queries (the universal scalability law). The path of a transaction
//! through a pool and its queries is in `transaction.rs`.

use super::job::JobRef;
use super::replication::{means, station, DatabaseResult};
use super::resource::{Admission, Resource, Waiter};
use crate::engine::{Nanos, Stream};
use crate::model::{Database, DatabaseId, Dist, Pool};
use crate::stats::{LatencyHistogram, LevelSeries};

/// A database's cores and connections.
struct DatabaseState {
    /// Cores and the line of queries waiting for one: the shared cores first, then one lane per
    /// resource group.
    lanes: Vec<Resource>,
    /// Rows written by transactions since the start (they stay).
    rows_written: f64,
    /// Direct (unpooled) connections open.
    direct_in_use: u32,
    /// Direct connections allowed: max_connections less what pools hold.
    direct_limit: u32,
    /// Connections in use (pooled and direct) over time, per window.
    connections_series: LevelSeries,
    /// Queries finished since the warm-up.
    queries: u64,
    /// Time of each query at the database: waiting for a core plus running.
    query_time: LatencyHistogram,
    /// Direct connections refused because the database was full.
    refused_connections: u64,
    /// Draws of query costs.
    rng: Stream,
}

impl DatabaseState {
    /// The cores that run queries of resource group `group` (the shared ones for none).
    fn lane_mut(&mut self, group: Option<usize>) -> &mut Resource {
        &mut self.lanes[group.map_or(0, |g| g + 1)]
    }

    /// The data size now, relative to when costs were measured: the data factor plus the rows
    /// written over the rows measured.
    fn data_size(&self, spec: &Database) -> f64 {
        spec.data_factor + spec.rows.map_or(0.0, |rows| self.rows_written / rows)
    }

    /// How much more a query costs now than at the start, from the rows written since.
    fn growth_factor(&self, spec: &Database) -> f64 {
        let start = spec.cost_scaling.multiplier(spec.data_factor);
        let now = spec.cost_scaling.multiplier(self.data_size(spec));
        if start > 0.0 {
            now / start
        } else {
            1.0
        }
    }
}

/// Every database of the model.
pub struct Databases<'m> {
    specs: &'m [Database],
    warmup_ns: Nanos,
    states: Vec<DatabaseState>,
}

impl<'m> Databases<'m> {
    /// The databases of a replication (the connections `pools` hold are not open to direct
    /// connections); `stream_of(name)` gives each its random stream.
    pub fn new(
        specs: &'m [Database],
        pools: &[Pool],
        (warmup, window, windows): (Nanos, Nanos, usize),
        stream_of: impl Fn(&str) -> Stream,
    ) -> Self {
        let states = specs
            .iter()
            .enumerate()
            .map(|(d, db)| {
                let pooled: u32 = pools.iter().filter(|p| p.database.0 == d).map(|p| p.size).sum();
                DatabaseState {
                    lanes: std::iter::once(db.shared_cores())
                        .chain(db.groups.iter().map(|g| g.cores))
                        .map(|cores| Resource::new(cores, None, false, warmup, window, windows))
                        .collect(),
                    rows_written: 0.0,
                    direct_in_use: 0,
                    direct_limit: db.max_connections.saturating_sub(pooled),
                    connections_series: LevelSeries::new(warmup, window, windows),
                    queries: 0,
                    query_time: LatencyHistogram::new(),
                    refused_connections: 0,
                    rng: stream_of(&db.name),
                }
            })
            .collect();
        Databases {
            specs,
            warmup_ns: warmup,
            states,
        }
    }

    /// Core time of a query of cost `query` starting now on database `d`: a draw of its cost,
    /// grown with the rows written so far, slowed by the contention of the queries active there
    /// (running or waiting for a core, in every resource group: they share one machine).
    pub fn query_cost(&mut self, d: DatabaseId, query: &Dist) -> Nanos {
        let spec = &self.specs[d.0];
        let db = &mut self.states[d.0];
        let mut cost = query.sample_ns(&mut db.rng);
        if db.rows_written > 0.0 {
            cost = (cost as f64 * db.growth_factor(spec)).round() as Nanos;
        }
        if spec.usl_sigma == 0.0 && spec.usl_kappa == 0.0 {
            return cost;
        }
        let active = db.lanes.iter().map(|lane| lane.busy() + lane.waiting()).sum();
        (cost as f64 * spec.contention_factor(active)).round() as Nanos
    }

    /// A query of `job` (wait ticket `ticket`) in resource group `group` reaches database `d` at
    /// `now`: whether a core takes it at once (else it waits in line).
    pub fn query_arrives(&mut self, d: DatabaseId, group: Option<usize>, now: Nanos, job: JobRef, ticket: u32) -> bool {
        self.states[d.0].lane_mut(group).request(now, job, ticket) == Admission::Granted
    }

    /// A core of group `group` finished a query that reached the database at `arrived_ns`: it
    /// is counted, and the core goes to the next live query in line (returned), if any.
    pub fn query_done(
        &mut self,
        d: DatabaseId,
        group: Option<usize>,
        arrived_ns: Nanos,
        now: Nanos,
        is_live: impl Fn(&Waiter) -> bool,
    ) -> Option<Waiter> {
        let db = &mut self.states[d.0];
        if now >= self.warmup_ns {
            db.queries += 1;
            db.query_time.record(now - arrived_ns);
        }
        db.lane_mut(group).release(now, is_live)
    }

    /// A transaction asks database `d` for a direct connection at `now`: whether it gets one
    /// (a refusal is counted).
    pub fn open_direct(&mut self, d: DatabaseId, now: Nanos) -> bool {
        let db = &mut self.states[d.0];
        if db.direct_in_use >= db.direct_limit {
            if now >= self.warmup_ns {
                db.refused_connections += 1;
            }
            return false;
        }
        db.direct_in_use += 1;
        true
    }

    /// A direct connection to database `d` is closed.
    pub fn close_direct(&mut self, d: DatabaseId) {
        self.states[d.0].direct_in_use -= 1;
    }

    /// Connections to database `d` in use at `now`: `pooled` held by pools' transactions plus
    /// the direct ones.
    pub fn connections_in_use(&mut self, d: DatabaseId, pooled: u32, now: Nanos) {
        let db = &mut self.states[d.0];
        let in_use = f64::from(pooled + db.direct_in_use);
        db.connections_series.set(now, in_use);
    }

    /// A transaction wrote `rows` rows to database `d`: they stay, and later queries cost more.
    pub fn rows_written(&mut self, d: DatabaseId, rows: f64) {
        self.states[d.0].rows_written += rows;
    }

    /// Queries waiting for a core of database `d`, every lane together.
    pub fn waiting(&self, d: DatabaseId) -> u32 {
        self.states[d.0].lanes.iter().map(Resource::waiting).sum()
    }

    /// Close every time-weighted statistic at `end_ns`.
    pub fn finish(&mut self, end_ns: Nanos) {
        for d in &mut self.states {
            d.lanes.iter_mut().for_each(|lane| lane.finish(end_ns));
            d.connections_series.finish(end_ns);
        }
    }

    /// What each database measured.
    pub fn results(self) -> Vec<DatabaseResult> {
        let specs = self.specs;
        self.states
            .into_iter()
            .enumerate()
            .map(|(i, d)| DatabaseResult {
                cores: station(&d.lanes.iter().collect::<Vec<_>>(), None),
                data_size_end: d.data_size(&specs[i]),
                cost_growth_end: d.growth_factor(&specs[i]),
                queries: d.queries,
                query_time: d.query_time,
                connections_mean: d.connections_series.mean(),
                connections_max: d.connections_series.max_level(),
                connections_series: means(&d.connections_series),
                refused_connections: d.refused_connections,
            })
            .collect()
    }
}
