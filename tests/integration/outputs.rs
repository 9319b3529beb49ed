//! Output targets and threads: devices are written into and never replaced, links are followed,
//! directories are swapped in as one set, every target is checked before simulating, a closed
//! pipe is success, and `--threads` is bounded.
//!
//! Tests that need a device make their own node in a scratch directory (`mknod`, as root) or
//! reach the system's through a symbolic link, so a failure can never replace /dev/null itself.

use crate::{capsim, example, scratch_dir, Run};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A short run of the M/M/1 example: two replications of 20 simulated seconds.
const QUICK: [&str; 6] = ["--duration", "20s", "--warmup", "2s", "--replications", "2"];

fn mm1() -> String {
    example("mm1.json").display().to_string()
}

fn run_mm1(extra: &[&str]) -> Run {
    let model = mm1();
    let mut args = vec!["run", model.as_str(), "-q"];
    args.extend(QUICK);
    args.extend(extra);
    capsim(&args)
}

/// A character device node (major, minor) in `dir` when we may make one (root, a mount that
/// allows devices); else a symbolic link to the system's device `fallback`.
fn device_in(dir: &Path, name: &str, major: u32, minor: u32, fallback: &str) -> PathBuf {
    let path = dir.join(name);
    let made = Command::new("mknod")
        .arg(&path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::OpenOptions::new().write(true).open(&path).is_ok();
    if !made {
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(fallback, &path).expect("a symbolic link in the scratch directory");
    }
    path
}

/// The device a path reaches (following links): (is a character device, device number).
fn device_of(path: &Path) -> (bool, u64) {
    let meta = std::fs::metadata(path).expect("the device is still there");
    (meta.file_type().is_char_device(), meta.rdev())
}

fn run_with(args: &[&str], configure: impl FnOnce(&mut Command)) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_capsim"));
    command.args(args).current_dir(crate::root());
    configure(&mut command);
    let output = command.output().expect("the capsim binary runs");
    Run {
        command: format!("capsim {}", args.join(" ")),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stdout_bytes: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn json_output_to_dev_null_leaves_the_device_alone() {
    let dir = scratch_dir("dev-null");
    let null = device_in(&dir, "null", 1, 3, "/dev/null");
    let before = device_of(&null);
    run_mm1(&["--json", null.to_str().unwrap()]).expect_code(0);
    assert_eq!(
        device_of(&null),
        before,
        "{} is still the same character device",
        null.display()
    );
    assert!(before.0);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["null"], "no temporary file is left beside the device");
}

#[test]
fn json_output_to_dev_full_is_exit_2_no_space_left_naming_the_option_and_the_device_stays() {
    let dir = scratch_dir("dev-full");
    let full = device_in(&dir, "full", 1, 7, "/dev/full");
    let before = device_of(&full);
    run_mm1(&["--json", full.to_str().unwrap()])
        .expect_code(2)
        .stderr_has(&format!(
            "--json {}: cannot write it: No space left on device",
            full.display()
        ));
    assert_eq!(device_of(&full), before);
}

#[test]
fn a_symlinked_output_stays_a_link_and_its_target_gets_the_results() {
    let dir = scratch_dir("symlink-out");
    let target = dir.join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("target.json", &link).unwrap();
    run_mm1(&["--json", link.to_str().unwrap()]).expect_code(0);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("target.json"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
}

#[test]
fn bad_output_paths_are_refused_before_the_first_point_is_simulated() {
    let dir = scratch_dir("bad-outputs");
    let model = mm1();
    std::fs::create_dir(dir.join("a-dir")).unwrap();
    std::fs::write(dir.join("a-file"), "x").unwrap();
    std::fs::create_dir(dir.join("someone-elses")).unwrap();
    std::fs::write(dir.join("someone-elses/notes.txt"), "mine").unwrap();
    std::os::unix::fs::symlink("nowhere.json", dir.join("dangling.json")).unwrap();
    let at = |name: &str| dir.join(name).display().to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("--json", at("missing/out.json"), "does not exist"),
        ("--json", at("a-dir"), "is a directory"),
        ("--json", at("dangling.json"), "symbolic link to a file that does not exist"),
        ("--csv", "-".into(), "cannot go to stdout"),
        ("--report", "-".into(), "cannot go to stdout"),
        ("--csv", at("a-file/csv"), "a-file is not a directory"),
        ("--report", at("someone-elses"), "\"notes.txt\""),
        ("--csv", at("dangling.json"), "does not exist"),
    ];
    for (flag, path, why) in cases {
        let run = capsim(&[
            "sweep",
            &model,
            "--param",
            "clients.arrivals.open.rate",
            "--values",
            "10/s,20/s",
            "--duration",
            "20s",
            "--warmup",
            "2s",
            "--replications",
            "2",
            flag,
            &path,
        ]);
        run.expect_code(2).stderr_has(&format!("{flag} {path}: ")).stderr_has(why);
        assert!(
            !run.stderr.contains("point 1/"),
            "`{}` simulated before refusing:\n{}",
            run.command,
            run.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(dir.join("someone-elses/notes.txt")).unwrap(), "mine");
}

#[test]
fn two_outputs_to_stdout_or_an_output_inside_a_replaced_directory_are_refused() {
    let dir = scratch_dir("overlap");
    let report = dir.join("report").display().to_string();
    let inside = dir.join("report/mine.json").display().to_string();
    std::fs::create_dir(dir.join("report")).unwrap();
    run_mm1(&["--json", &inside, "--report", &report])
        .expect_code(2)
        .stderr_has("is inside --report");
    run_mm1(&["--csv", &report, "--report", &report])
        .expect_code(2)
        .stderr_has("overlap");
    let workloads = example("workloads.csv").display().to_string();
    capsim(&["latency-table", &workloads, "--added", "5ms", "--csv", "-", "--json", "-"])
        .expect_code(2)
        .stderr_has("--csv and --json all write to stdout");
}

/// The files in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_csv_directory_is_replaced_as_one_set_without_files_of_the_run_before() {
    let dir = scratch_dir("csv-set");
    let out = dir.join("csv");
    let model = example("quickstart.json").display().to_string();
    let quick = ["--duration", "1m", "--warmup", "10s", "--replications", "2", "-q"];
    let mut first = vec![
        "run",
        model.as_str(),
        "--scenario",
        "db-10ms-away",
        "--scenario",
        "black-friday",
    ];
    first.extend(["--csv", out.to_str().unwrap()]);
    first.extend(quick);
    capsim(&first).expect_code(0);
    assert_eq!(
        listing(&out).len(),
        9,
        "3 files for the baseline and each scenario: {:?}",
        listing(&out)
    );
    let mut second = vec!["run", model.as_str(), "--scenario", "black-friday"];
    second.extend(["--csv", out.to_str().unwrap()]);
    second.extend(quick);
    capsim(&second).expect_code(0);
    assert_eq!(
        listing(&out),
        [
            "cascade-1-black-friday.csv",
            "cascade.csv",
            "summary-1-black-friday.csv",
            "summary.csv",
            "timeseries-1-black-friday.csv",
            "timeseries.csv"
        ],
        "only the second run's files, none of the first's"
    );
    assert_eq!(listing(&dir), ["csv"], "no staging directory is left beside it");
}

#[test]
fn a_closed_pipe_on_stdout_is_success_for_json_and_tables() {
    let model = mm1();
    let sweep = [
        "sweep",
        model.as_str(),
        "--param",
        "clients.arrivals.open.rate",
        "--values",
        "10/s,20/s",
        "--duration",
        "20s",
        "--warmup",
        "2s",
        "--replications",
        "2",
        "-q",
    ];
    let with_json: Vec<&str> = sweep.iter().copied().chain(["--json", "-"]).collect();
    let mut run = vec!["run", model.as_str()];
    run.extend(QUICK);
    let run_json: Vec<&str> = run.iter().copied().chain(["--json", "-"]).collect();
    for args in [&with_json[..], &sweep[..sweep.len() - 1], &run_json[..], &run[..]] {
        // The read end is closed before capsim starts: every write to stdout fails with EPIPE.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        run_with(args, |c| {
            c.stdout(Stdio::from(writer));
        })
        .expect_code(0);
    }
}

#[test]
fn a_closed_pipe_on_stderr_is_no_panic_the_exit_code_still_says_what_happened() {
    let model = mm1();
    let mut run = vec!["run", model.as_str()];
    run.extend(QUICK);
    let missing = ["run", "no-such-model.json"];
    let full = ["run", model.as_str(), "--json", "/dev/full"];
    // Warnings, errors and notes all go to the closed pipe: lost, but the exit codes stand
    // (0, 2 for a missing model, 2 for a full device), where writing them panicked (101).
    for (args, code) in [(&run[..], 0), (&missing[..], 2), (&full[..], 2)] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        run_with(args, |c| {
            c.stderr(Stdio::from(writer));
        })
        .expect_code(code);
    }
}

#[test]
fn junit_to_stdout_is_one_xml_document_with_the_verdict_lines_on_stderr() {
    let model = example("quickstart.json").display().to_string();
    let run = capsim(&[
        "check",
        &model,
        "--duration",
        "1m",
        "--warmup",
        "10s",
        "--replications",
        "2",
        "--junit",
        "-",
    ]);
    assert!(run.code == Some(0) || run.code == Some(1), "{}", run.stderr);
    assert!(run.stdout.starts_with("<?xml"), "{}", run.stdout);
    roxmltree::Document::parse(&run.stdout).unwrap_or_else(|e| panic!("stdout is not one XML document: {e}\n{}", run.stdout));
    assert!(
        run.stderr.contains("PASS  shoppers.p99"),
        "the verdict lines are on stderr: {}",
        run.stderr
    );
}

#[test]
fn threads_beyond_the_replications_are_not_started_so_a_memory_cap_is_no_panic() {
    // 1000 threads of 2 MiB stacks need 2 GiB of address space, more than the 1 GiB cap; the two
    // replications need two threads.
    let binary = env!("CARGO_BIN_EXE_capsim");
    let script = format!(
        "ulimit -v 1048576 && exec {binary} run {} --threads 1000 -q {}",
        mm1(),
        QUICK.join(" ")
    );
    let run = run_with(&[], |c| {
        *c = Command::new("sh");
        c.args(["-c", &script]);
    });
    run.expect_code(0);
}

#[test]
fn a_thread_pool_that_cannot_be_built_is_exit_2_naming_threads() {
    let model = mm1();
    let mut args = vec!["run", model.as_str(), "--threads", "2", "-q"];
    args.extend(QUICK);
    // Thread stacks of a petabyte cannot be mapped: the pool cannot start.
    run_with(&args, |c| {
        c.env("RUST_MIN_STACK", "1000000000000000");
    })
    .expect_code(2)
    .stderr_has("--threads: cannot start 2 replication threads");
}
