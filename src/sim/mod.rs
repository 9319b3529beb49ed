//! The simulation of a model: components built from a [`Model`], requests driven through them by
//! the [`crate::engine`]. One call to [`run_replication`] is one independent replication.

mod actions;
pub mod balancer;
mod call;
mod client;
mod database;
pub mod job;
mod lifecycle;
pub mod replication;
pub mod resource;
pub mod rollout;
mod service;
pub mod tally;
pub mod world;

pub use replication::{run_replication, ReplicationResult};
