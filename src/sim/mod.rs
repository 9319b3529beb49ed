//! The simulation of a model: components built from a [`Model`](crate::model::Model), requests
//! driven through them by the [`crate::engine`]. One call to [`run_replication`] is one
//! independent replication. A request's life is in `request.rs`; each component kind owns its
//! state in a file named after it (`client.rs`, `service.rs`, `database.rs`, `pool.rs`,
//! `mqueue.rs`, `cache.rs`, `policy.rs`, `rate_limit.rs`, `bulkhead.rs`, `rollout.rs`,
//! `crash_loop.rs`, `autoscaler.rs`, `cpu.rs`).

mod abandon;
mod actions;
mod autoscaler;
mod balancer;
mod bulkhead;
mod cache;
mod call;
mod client;
mod consumer;
mod cpu;
mod crash_loop;
mod database;
mod effects;
mod hedge;
mod job;
mod key_space;
mod lifecycle;
mod mqueue;
mod policy;
mod pool;
mod rate_limit;
pub mod replication;
mod request;
mod resource;
mod rollout;
mod service;
mod slab;
pub mod tally;
mod transaction;
mod unit;
mod world;

pub use replication::{run_replication, ReplicationResult};
