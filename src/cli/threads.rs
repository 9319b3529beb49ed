//! The replication threads of a command: one pool, sized before anything runs.

use super::CliError;
use crate::model::Model;

/// How many threads replications run on: the number asked for (by default one per core), but
/// never more than the most replications any run of the command has (more would only idle), and
/// at least one.
pub fn replication_threads(requested: Option<usize>, replications: u32) -> usize {
    let wanted = requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    wanted.min(replications as usize).max(1)
}

/// Build the pool the command's replications run on (see [`replication_threads`]), with no more
/// threads than the memory budget of every model allows (their requests in flight grow with the
/// threads; results do not depend on them). A pool that cannot be built (threads refused by the
/// system, a memory cap) is bad input, not a panic.
pub fn replication_pool(requested: Option<usize>, models: &[&Model]) -> Result<rayon::ThreadPool, CliError> {
    let replications = models.iter().map(|m| m.replications).max().unwrap_or(1);
    let mut threads = replication_threads(requested, replications);
    for model in models {
        let need = crate::model::memory::estimate(model);
        // Validation refused every model that does not fit with one thread.
        let fit = need.threads_within(model.max_memory, threads as u64).unwrap_or(1) as usize;
        if fit < threads {
            tell!(
                "note: {fit} replication {} instead of {threads}: each holds up to {} (its replications' series, \
                 and its requests in flight when they pile up to limits.max_in_flight), and limits.max_memory is {} \
                 (results do not depend on the thread count)",
                if fit == 1 { "thread" } else { "threads" },
                crate::model::units::format_bytes(need.per_thread()),
                crate::model::units::format_bytes(model.max_memory)
            );
            threads = fit;
        }
    }
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        let asked = match requested {
            Some(_) => "--threads",
            None => "--threads (default: one per core)",
        };
        CliError::Argument(format!(
            "{asked}: cannot start {threads} replication threads: {e}; give fewer with --threads"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_clamped_to_the_replications_and_at_least_one() {
        assert_eq!(replication_threads(Some(100_000), 2), 2);
        assert_eq!(replication_threads(Some(3), 10), 3);
        assert_eq!(replication_threads(Some(8), 0), 1);
        assert!(replication_threads(None, 1) == 1);
    }
}
