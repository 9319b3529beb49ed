//! Integration tests of capsim: the command line end to end, bad input, determinism, and
//! properties of random models. One test binary; each topic is a module.
//!
//! The CLI tests run the real binary (`CARGO_BIN_EXE_capsim`); the property tests use the library.

mod autoscaling;
mod bad_input;
mod blast_radius;
mod bulkheads;
mod cache_keys;
mod capacity;
mod capacity_sweep;
mod catalog;
mod check;
mod cli;
mod cpu_cores;
mod data_growth_and_caches;
mod determinism;
mod headline;
mod hedging;
mod interrupt;
mod layers;
mod library;
mod limits;
mod merge;
mod metastability;
mod metastability_map;
mod migration;
mod outputs;
mod plots;
mod properties;
mod publish;
mod rate_limits;
mod report;
mod retry_storm;
mod run_shards;
mod shared_database;
mod size;
mod slo_windows;
mod spreadsheet;
mod step_share;
mod terminal;
mod topology;
mod traces;
mod whatif;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The crate root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An example model shipped in `models/`.
pub fn example(name: &str) -> PathBuf {
    root().join("models").join(name)
}

/// Every example model in `models/`, sorted by name.
pub fn examples() -> Vec<PathBuf> {
    let mut models: Vec<PathBuf> = std::fs::read_dir(root().join("models"))
        .expect("models/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    models.sort();
    assert!(!models.is_empty(), "no example models in models/");
    models
}

/// The validator's messages for a model it must refuse, as one text.
pub fn refused(json: &str) -> String {
    match capsim::model::parse_model(json, "bad.json") {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

/// A hostile model of this test suite, in `tests/integration/models/`.
pub fn hostile(name: &str) -> PathBuf {
    root().join("tests/integration/models").join(name)
}

/// A fresh, empty directory for one test's outputs.
pub fn scratch_dir(test: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "capsim-it-{test}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory can be created");
    dir
}

/// What one run of the binary gave.
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, raw.
    pub stdout_bytes: Vec<u8>,
    /// Standard output as text.
    pub stdout: String,
    /// Standard error as text.
    pub stderr: String,
}

impl Run {
    /// Assert the exit code, showing everything the binary said when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`{}` exited with {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.code,
            self.stdout,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "`{}` panicked:\n{}",
            self.command,
            self.stderr
        );
        self
    }

    /// Assert that stderr contains `fragment`.
    #[track_caller]
    pub fn stderr_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stderr.contains(fragment),
            "`{}`: stderr lacks {fragment:?}\n--- stderr\n{}",
            self.command,
            self.stderr
        );
        self
    }

    /// Assert that stdout contains `fragment`.
    #[track_caller]
    pub fn stdout_has(&self, fragment: &str) -> &Self {
        assert!(
            self.stdout.contains(fragment),
            "`{}`: stdout lacks {fragment:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Run `capsim` with `args` and collect what it said.
pub fn capsim<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    capsim_in_env(args, &[])
}

/// [`capsim`] with environment variables set (a batch engine's, say); the batch engines'
/// shard variables of the test's own environment are removed first.
pub fn capsim_in_env<S: AsRef<std::ffi::OsStr>>(args: &[S], vars: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capsim"));
    for engine_var in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_STEP",
        "JOB_COMPLETION_INDEX",
        "CAPSIM_SHARDS",
    ] {
        command.env_remove(engine_var);
    }
    let output: Output = command
        .args(args)
        .envs(vars.iter().copied())
        .current_dir(root())
        .output()
        .expect("the capsim binary runs");
    let command = std::iter::once("capsim".to_string())
        .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    Run {
        command,
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stdout_bytes: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
