//! Output targets that are not regular files: devices, symbolic links, directories, missing
//! parent directories, read-only directories and stdout, given to every output flag (`--json`,
//! `--csv`, `--report`, `--junit`). Each case runs the real binary on a tiny model and checks the
//! exit code documented in docs/errors.md, that a target capsim must not write is left exactly as
//! it was (a device stays the same device, a link the same link, a directory the same files),
//! and that nothing panicked.
//!
//! Devices are nodes made in the case's own directory (`mknod`, as root) or, failing that,
//! symbolic links to /dev/null and /dev/full: a failure can never replace the system's devices.

use crate::support::config;
use proptest::prelude::*;
use proptest::sample::select;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/outputs.proptest-regressions");

/// A model that runs in milliseconds, with one expectation that holds (for `check --junit`).
const MODEL: &str = r#"{
  "name": "tiny", "duration": "5s", "warmup": "1s", "replications": 1, "seed": 3,
  "clients": { "c": { "open": { "rate": "20/s" }, "calls": "s.e" } },
  "services": { "s": { "workers": 2, "endpoints": { "e": [ { "cpu": "exp(5ms)" } ] } } },
  "expect": [ { "that": "s.e.p99 < 1h" } ]
}"#;

/// What an output flag is pointed at.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A character device like /dev/null.
    Null,
    /// A character device like /dev/full (every write: no space left).
    Full,
    /// A symbolic link to a regular file.
    LinkToFile,
    /// A symbolic link to nothing.
    DanglingLink,
    /// A symbolic link to an empty directory.
    LinkToDirectory,
    /// An empty directory.
    EmptyDirectory,
    /// A directory holding a file capsim did not write.
    ForeignDirectory,
    /// A path whose parent directory does not exist.
    MissingParent,
    /// A new path inside a read-only directory.
    InReadOnlyDirectory,
    /// `-`.
    Stdout,
}

/// Which output flag, and whether it wants a file or a directory.
#[derive(Clone, Copy, Debug)]
enum Flag {
    Json,
    Csv,
    Report,
    Junit,
}

impl Flag {
    fn name(self) -> &'static str {
        match self {
            Flag::Json => "--json",
            Flag::Csv => "--csv",
            Flag::Report => "--report",
            Flag::Junit => "--junit",
        }
    }

    fn wants_directory(self) -> bool {
        matches!(self, Flag::Csv | Flag::Report)
    }
}

/// Running as root: permission bits do not stop us, so a read-only directory is writable.
fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// A character device node in `dir`, or a link to the system's when one cannot be made.
fn device(dir: &Path, name: &str, minor: u32, system: &str) -> PathBuf {
    let path = dir.join(name);
    let made = Command::new("mknod")
        .arg(&path)
        .args(["c", "1", &minor.to_string()])
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::OpenOptions::new().write(true).open(&path).is_ok();
    if !made {
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(system, &path).unwrap();
    }
    path
}

/// Everything observable about what a path names (links not followed, then followed).
fn snapshot(path: &Path) -> String {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return "missing".into();
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        return format!("link to {:?}, reaching {}", std::fs::read_link(path).unwrap(), {
            match std::fs::metadata(path) {
                Ok(m) if m.file_type().is_char_device() => format!("char device {}", m.rdev()),
                Ok(m) if m.is_file() => format!("file {:?}", std::fs::read(path).unwrap()),
                Ok(_) => "something".into(),
                Err(_) => "nothing".into(),
            }
        });
    }
    if kind.is_char_device() {
        return format!("char device {}", meta.rdev());
    }
    if kind.is_dir() {
        let mut entries: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| snapshot(&e.unwrap().path()))
            .collect();
        entries.sort();
        return format!("directory {:o} {entries:?}", meta.permissions().mode() & 0o777);
    }
    format!("file {:?}", std::fs::read(path).unwrap())
}

/// A fresh directory for one case.
fn case_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "capsim-fuzz-outputs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Make the target in `dir`; returns the path to give the flag and the path to watch.
fn make(dir: &Path, target: Target) -> (PathBuf, PathBuf) {
    let same = |p: PathBuf| (p.clone(), p);
    match target {
        Target::Null => same(device(dir, "null", 3, "/dev/null")),
        Target::Full => same(device(dir, "full", 7, "/dev/full")),
        Target::LinkToFile => {
            std::fs::write(dir.join("real.out"), "before").unwrap();
            std::os::unix::fs::symlink("real.out", dir.join("link.out")).unwrap();
            same(dir.join("link.out"))
        }
        Target::DanglingLink => {
            std::os::unix::fs::symlink("nowhere", dir.join("dangling")).unwrap();
            same(dir.join("dangling"))
        }
        Target::EmptyDirectory => {
            std::fs::create_dir(dir.join("empty")).unwrap();
            same(dir.join("empty"))
        }
        Target::LinkToDirectory => {
            std::fs::create_dir(dir.join("real-dir")).unwrap();
            std::os::unix::fs::symlink("real-dir", dir.join("dir-link")).unwrap();
            same(dir.join("dir-link"))
        }
        Target::ForeignDirectory => {
            std::fs::create_dir(dir.join("theirs")).unwrap();
            std::fs::write(dir.join("theirs/notes.txt"), "keep me").unwrap();
            same(dir.join("theirs"))
        }
        Target::MissingParent => (dir.join("missing/out"), dir.join("missing")),
        Target::InReadOnlyDirectory => {
            let ro = dir.join("read-only");
            std::fs::create_dir(&ro).unwrap();
            std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
            (ro.join("out"), ro)
        }
        Target::Stdout => (PathBuf::from("-"), dir.join("nothing-here")),
    }
}

/// The documented outcome: the exit code, and whether the watched target must be unchanged.
fn expected(flag: Flag, target: Target) -> (i32, bool) {
    let writable_read_only = root();
    match (flag.wants_directory(), target) {
        // Written into, never replaced.
        (false, Target::Null) => (0, true),
        // No space left on device.
        (false, Target::Full) => (2, true),
        // The link is followed: the link stays, its target gets the output.
        (false, Target::LinkToFile) => (0, false),
        (false, Target::DanglingLink | Target::EmptyDirectory | Target::LinkToDirectory | Target::ForeignDirectory) => (2, true),
        (false, Target::MissingParent) => (2, true),
        (false, Target::InReadOnlyDirectory) => (if writable_read_only { 0 } else { 2 }, !writable_read_only),
        (false, Target::Stdout) => (0, true),
        // A directory is wanted: a device or a file is not one, and never replaced by one.
        (true, Target::Null | Target::Full | Target::LinkToFile | Target::DanglingLink) => (2, true),
        // Filled as one set; a link to a directory is followed and stays a link.
        (true, Target::EmptyDirectory | Target::LinkToDirectory) => (0, false),
        (true, Target::ForeignDirectory) => (2, true),
        // Created with its missing parents.
        (true, Target::MissingParent) => (0, false),
        (true, Target::InReadOnlyDirectory) => (if writable_read_only { 0 } else { 2 }, !writable_read_only),
        (true, Target::Stdout) => (2, true),
    }
}

fn target() -> impl Strategy<Value = Target> {
    select(vec![
        Target::Null,
        Target::Full,
        Target::LinkToFile,
        Target::DanglingLink,
        Target::LinkToDirectory,
        Target::EmptyDirectory,
        Target::ForeignDirectory,
        Target::MissingParent,
        Target::InReadOnlyDirectory,
        Target::Stdout,
    ])
}

fn flag() -> impl Strategy<Value = Flag> {
    select(vec![Flag::Json, Flag::Csv, Flag::Report, Flag::Junit])
}

proptest! {
    #![proptest_config(config(48, REGRESSIONS))]

    #[test]
    fn outputs_that_are_not_regular_files_get_the_documented_exit_and_stay_untouched(
        flag in flag(),
        target in target(),
    ) {
        let dir = case_dir();
        let model = dir.join("model.json");
        std::fs::write(&model, MODEL).unwrap();
        let (given, watched) = make(&dir, target);
        let before = snapshot(&watched);
        let command = if matches!(flag, Flag::Junit) { "check" } else { "run" };
        let output = Command::new(env!("CARGO_BIN_EXE_capsim"))
            .arg(command)
            .arg(&model)
            .arg(flag.name())
            .arg(&given)
            .args(if command == "run" { &["-q"][..] } else { &[] })
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("the capsim binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let after = snapshot(&watched);
        // Leave nothing read-only behind for the next run's cleanup.
        let _ = std::fs::set_permissions(dir.join("read-only"), std::fs::Permissions::from_mode(0o755));
        let (code, untouched) = expected(flag, target);
        prop_assert!(!stderr.contains("panicked"), "{flag:?} {target:?} panicked:\n{stderr}");
        prop_assert_eq!(output.status.code(), Some(code), "{:?} {:?}: stderr:\n{}", flag, target, stderr);
        if code == 2 {
            prop_assert!(stderr.contains(flag.name()) || stderr.contains("No space left"), "{flag:?} {target:?}: the error names neither the flag nor the reason:\n{stderr}");
        }
        if untouched {
            prop_assert_eq!(&after, &before, "{:?} {:?} changed the target", flag, target);
        }
        if matches!(target, Target::LinkToFile | Target::LinkToDirectory) {
            prop_assert!(std::fs::symlink_metadata(&watched).unwrap().file_type().is_symlink(), "the link was replaced");
        }
        if matches!(target, Target::ForeignDirectory) {
            prop_assert_eq!(std::fs::read_to_string(watched.join("notes.txt")).unwrap(), "keep me");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
