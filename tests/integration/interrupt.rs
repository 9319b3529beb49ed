//! Interrupted runs: a wall-clock limit or SIGTERM stops a long run quickly with its partial
//! results marked incomplete (exit 3), and no output is ever left truncated under its final name.

use super::{example, scratch_dir};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// An M/M/1 run long enough (a thousand simulated hours) never to finish on its own in a test.
fn long_run(json: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capsim"));
    cmd.args([
        "run",
        example("mm1.json").to_str().unwrap(),
        "--duration",
        "1000h",
        "--json",
        json.to_str().unwrap(),
        "-q",
    ])
    .args(extra)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

fn verdict(json: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(json).expect("results written");
    serde_json::from_str::<Value>(&text).expect("complete JSON")["verdict"].clone()
}

#[test]
fn a_wall_clock_limit_stops_the_run_and_keeps_partial_results() {
    let dir = scratch_dir("max-wall");
    let json = dir.join("out.json");
    let out = long_run(&json, &["--max-wall", "1s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-wall"));
    let v = verdict(&json);
    assert_eq!(v["complete"], Value::Bool(false));
    assert!(v["messages"][0].as_str().unwrap().contains("interrupted"), "{v}");
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_stops_the_run_and_writes_complete_partial_results() {
    let dir = scratch_dir("sigterm");
    let json = dir.join("out.json");
    let child = long_run(&json, &[]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    signal(child.id(), "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(verdict(&json)["complete"], Value::Bool(false));
}

#[test]
fn a_killed_run_leaves_no_truncated_file_under_the_final_name() {
    let dir = scratch_dir("sigkill");
    let json = dir.join("out.json");
    // Kill while it runs and again while it may be writing: the final name holds a complete file or nothing.
    for wait_ms in [300, 900] {
        let child = long_run(&json, &["--max-wall", "800ms"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        signal(child.id(), "KILL");
        let _ = child.wait_with_output();
        if json.exists() {
            verdict(&json);
        }
    }
}
