//! # capsim — a discrete-event capacity simulator for production systems
//!
//! Describe a system in JSON — clients, services with workers and queues, databases, connection
//! pools, network links — and capsim predicts latency percentiles, utilisation, queueing and
//! failures, with confidence intervals across independent replications.
//!
//! ## A guided tour
//!
//! **1. Author a model.** Units are strings a person would write:
//!
//! ```
//! let json = r#"{
//!   "name": "tour", "duration": "10m", "warmup": "1m", "replications": 4, "seed": 7,
//!   "clients":  { "web": { "open": { "rate": "80/s" }, "calls": "api.get", "timeout": "2s" } },
//!   "services": { "api": { "workers": 4, "endpoints": {
//!       "get": [ { "cpu": "exp(5ms)" },
//!                { "transaction": { "pool": "pgbouncer", "queries": 3, "query": "exp(1ms)" } } ] } } },
//!   "databases": { "pg": { "cores": 4 } },
//!   "pools":     { "pgbouncer": { "database": "pg", "size": 8 } },
//!   "links":     { "api -> pg": { "latency": "0.5ms" } }
//! }"#;
//! let validated = capsim::model::parse_model(json, "tour.json").expect("a valid model");
//! ```
//!
//! **2. Run it.** Replications run in parallel and merge in order, so the result does not
//! depend on the number of threads:
//!
//! ```
//! # let json = r#"{"duration": "1m", "replications": 2, "clients": {"web": {"open": {"rate": "50/s"}, "calls": "api.get"}},
//! #   "services": {"api": {"workers": 2, "endpoints": {"get": [{"cpu": "exp(10ms)"}]}}}}"#;
//! # let validated = capsim::model::parse_model(json, "tour.json").unwrap();
//! let result = capsim::run(&validated.model, &[], None);
//! let api = &result.services[0];
//! assert!(api.utilisation.mean > 0.0 && api.utilisation.mean < 1.0);
//! ```
//!
//! **3. Read the results.** [`results::RunResult`] is one serializable value: every metric is an
//! [`stats::Estimate`] (mean across replications with a 95 % confidence interval). The
//! [`report`] module renders it as a terminal table, JSON or CSV.
//!
//! **4. Sweep it, compare scenarios.** [`workflow`] runs what the command line runs: a sweep over
//! a grid of values ([`workflow::sweep`]: whole, one shard, or the merge of shard files) and the
//! baseline with its scenarios, each compared with it ([`workflow::scenarios`]):
//!
//! ```
//! use capsim::scenario::{sweep::{parse_values_text, SweptParam}, ModelSource};
//! use capsim::workflow::{scenarios, sweep, Runner};
//! let json = r#"{"duration": "2m", "replications": 2,
//!   "clients": {"web": {"open": {"rate": "20/s"}, "calls": "api.get"}},
//!   "services": {"api": {"workers": 1, "endpoints": {"get": [{"cpu": "exp(10ms)"}]}}},
//!   "scenarios": {"busier": {"set": {"clients.web.open.rate": "40/s"}}}}"#;
//! let source = ModelSource::from_text(json.to_string(), "tour.json").expect("a valid model");
//! let plan = sweep::SweepPlan {
//!     params: vec![SweptParam { path: "clients.web.open.rate".into(), values: parse_values_text("10/s,20/s,40/s").unwrap() }],
//!     scenario: None,
//!     metric: Some("api.utilisation".into()),
//!     threshold: 0.1,
//! };
//! let finished = sweep::prepare(&source, &plan, None, |_| {})
//!     .and_then(|prepared| prepared.run(&Runner::new(), |point| eprintln!("point {}", point.index)))
//!     .expect("every point valid, the metric known")
//!     .finish();
//! assert_eq!(finished.points.len(), 3);
//! assert!(finished.points[2].metric.mean > finished.points[0].metric.mean); // ρ = λ/μ grows
//!
//! let compared = scenarios::prepare(&source, &source.scenario_names(), |_| {})
//!     .expect("valid scenarios")
//!     .run(&Runner::new(), |_, _| {});
//! assert_eq!(compared.scenarios[0].name, "busier");
//! ```
//!
//! ## Layers
//! `model` (JSON → validated [`model::Model`]) → `scenario` → `sim` (components, driven by the
//! generic `engine`, recording into `stats`) → `results` (merged replications, metrics by name)
//! → `analysis` → `workflow` (sweeps, scenario comparisons) → `report` → `cli`. Arrows only point down (`tests/integration/layers.rs` checks
//! it): the engine knows nothing of services, reports never see the live simulation.

pub mod analysis;
pub mod cli;
pub mod engine;
pub mod model;
pub mod replications;
pub mod report;
pub mod results;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod traces;
pub mod workflow;

use model::Model;
use results::RunResult;

/// Run every replication of `model` (in parallel) and merge them; `warnings` from validation are
/// carried into the result. `threads` fixes the worker threads (default: all cores); the result
/// is the same whatever it is.
pub fn run(model: &Model, warnings: &[String], threads: Option<usize>) -> RunResult {
    run_until(model, warnings, threads, &std::sync::atomic::AtomicBool::new(false))
}

/// [`run`], stopping early when `interrupt` is raised (Ctrl-C, a wall-clock limit): the result
/// then covers what was simulated and its verdict says it is incomplete.
pub fn run_until(
    model: &Model,
    warnings: &[String],
    threads: Option<usize>,
    interrupt: &std::sync::atomic::AtomicBool,
) -> RunResult {
    let go = || replications::simulate_and_merge(model, warnings, interrupt, &replications::unwatched);
    // More threads than replications would only idle.
    let threads = threads.map(|n| n.clamp(1, model.replications.max(1) as usize));
    match threads.and_then(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().ok()) {
        Some(pool) => pool.install(go),
        None => go(),
    }
}
