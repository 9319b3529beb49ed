//! The simulation of a model: components built from a [`Model`], requests driven through them by
//! the [`crate::engine`]. One call to [`run_replication`] is one independent replication.

mod abandon;
mod actions;
pub mod balancer;
pub mod cache;
mod call;
pub mod client;
mod consumer;
mod crash_loop;
mod database;
mod effects;
pub mod job;
mod lifecycle;
pub mod mqueue;
pub mod policy;
mod pool;
pub mod replication;
mod request;
pub mod resource;
pub mod rollout;
mod service;
pub mod slab;
pub mod tally;
mod transaction;
pub mod unit;
pub mod world;

pub use replication::{run_replication, ReplicationResult};
