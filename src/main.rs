//! The `capsim` binary: a thin wrapper over [`capsim::cli`].

fn main() {
    std::process::exit(capsim::cli::main());
}
