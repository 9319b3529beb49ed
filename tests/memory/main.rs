//! Memory bounds measured: the peak resident memory of capsim runs against the estimate that
//! `limits.max_memory` is judged by. A test binary of its own, so that the test process stays
//! small: a child's peak as the kernel reports it also covers the memory of the process it was
//! started from.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for this process.
fn scratch_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("capsim-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory can be created");
    dir
}

/// This process's own peak resident memory, bytes.
fn own_peak() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// Runs capsim with `args`, expecting exit code `code`, and returns its standard error.
fn capsim_fails(args: &[&str], code: i32) -> String {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .output()
        .expect("capsim runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "capsim {args:?}: {stderr}");
    stderr
}

/// The quickstart model with a `window` (3480 windows of 1 s after the 2 m warm-up),
/// `replications` replications and no scenarios, written to a scratch file.
fn quickstart_with_windows_of(window: &str, replications: u32) -> std::path::PathBuf {
    let mut model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("models").join("quickstart.json")).unwrap()).unwrap();
    let object = model.as_object_mut().unwrap();
    for key in ["scenarios", "expect", "sweeps"] {
        object.remove(key);
    }
    object.insert("window".into(), window.into());
    object.insert("replications".into(), replications.into());
    let path = scratch_dir().join(format!("quickstart-{window}-{replications}.json"));
    std::fs::write(&path, model.to_string()).unwrap();
    path
}

/// Runs capsim with `args` and returns its peak resident memory in bytes (wait4's rusage of that
/// one child), after checking it succeeded.
fn peak_memory_of(args: &[&str]) -> u64 {
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data, filled by the kernel; the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status}");
    let peak = usage.ru_maxrss as u64 * 1024;
    // The child started as a copy of this process, whose own peak the kernel counts as the
    // child's too: the figure is the child's own only when above it (this process stays small).
    assert!(
        peak > own_peak(),
        "the child's peak {peak} is above this process's {}",
        own_peak()
    );
    peak
}

#[test]
fn a_run_estimated_above_its_memory_budget_is_refused_before_it_starts_naming_what_to_change() {
    // 8700 windows of 400 ms × 5 latency series: the replication being simulated holds ~12 KiB
    // of histogram (4-byte counts) per window and series, the running sums ~24 KiB (8-byte
    // counts): 0.55 + 1.08 GB, plus 115 MB of requests in flight: about 1.7 GB, above a budget
    // of 1.5 GB. Refused with exit 2 at once, naming the knobs that matter.
    let model = quickstart_with_windows_of("400ms", 2);
    let refused = capsim_fails(&["run", model.to_str().unwrap(), "-q", "--max-memory", "1.5GB"], 2);
    for needle in [
        "limits.max_memory: this run needs about",
        "for the running sums over replications",
        "a coarser \"window\"",
        "--max-memory",
    ] {
        assert!(refused.contains(needle), "{needle:?} in {refused}");
    }
    assert!(
        !refused.contains("fewer replications"),
        "two replications are not the weight: {refused}"
    );
    // The same run is accepted with a budget that holds it (not run here: it is the refusal
    // that is tested), and a budget that is not an amount of memory is bad input.
    let bad = capsim_fails(&["run", model.to_str().unwrap(), "--max-memory", "lots"], 2);
    assert!(bad.contains("--max-memory: expected an amount of memory"), "{bad}");
}

#[test]
fn the_memory_estimate_is_above_the_peak_a_run_measures() {
    // A run whose series dominate (3 replications × 3480 windows), one thread.
    let model = quickstart_with_windows_of("1s", 3);
    let validated = capsim::model::load_model(model.to_str().unwrap()).expect("valid within 2 GB");
    let estimate = capsim::model::memory::estimate(&validated.model).total(1);
    let peak = peak_memory_of(&["run", model.to_str().unwrap(), "-q", "--threads", "1"]);
    assert!(peak > 200_000_000, "the run's series are real: {peak} bytes");
    assert!(estimate >= peak, "estimated {estimate} bytes, measured a peak of {peak}");
}

#[test]
fn the_most_replications_run_within_the_default_memory_budget() {
    // 10,000 replications, the documented maximum, of a one-minute M/M/2 run: merged as they
    // finish, each keeps a few kilobytes instead of its histograms and series (which took
    // ~24 GB before). Accepted under the default 2 GB, and its peak stays below the estimate.
    let dir = scratch_dir();
    let model = dir.join("ten-thousand.json");
    std::fs::write(
        &model,
        r#"{ "duration": "1m", "warmup": "10s", "replications": 10000, "seed": 3,
          "clients": { "web": { "open": { "rate": "5/s" }, "calls": "api.get" } },
          "services": { "api": { "workers": 2, "endpoints": { "get": [ { "cpu": "exp(50ms)" } ] } } } }"#,
    )
    .unwrap();
    let validated = capsim::model::load_model(model.to_str().unwrap()).expect("valid within 2 GB");
    let estimate = capsim::model::memory::estimate(&validated.model).total(2);
    assert!(estimate < 2_000_000_000, "estimated {estimate} bytes");
    let peak = peak_memory_of(&["run", model.to_str().unwrap(), "-q", "--threads", "2"]);
    assert!(estimate >= peak, "estimated {estimate} bytes, measured a peak of {peak}");
}

#[test]
fn a_sweep_whose_points_would_not_fit_is_refused_naming_the_shards_and_its_estimate_is_above_its_peak() {
    // Every point's full result (1,000 one-second windows here) is kept until the sweep is
    // written: 1,000 points would need about 3 GB and are refused before any runs; a quarter of
    // them, as one shard of four, fit. 40 points run below the estimate.
    let model = scratch_dir().join("sweep-1000-windows.json");
    std::fs::write(
        &model,
        r#"{ "duration": "1000s", "warmup": "0s", "window": "1s", "replications": 1, "seed": 3,
          "clients": { "web": { "open": { "rate": "2/s" }, "calls": "api.get" } },
          "services": { "api": { "workers": 2, "endpoints": { "get": [ { "cpu": "exp(10ms)" } ] } } } }"#,
    )
    .unwrap();
    let path = model.to_str().unwrap();
    let out = scratch_dir().join("sweep.json");
    let sweep = |values: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "sweep",
            path,
            "--param",
            "services.api.workers",
            "--values",
            values,
            "-q",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(out.to_str().unwrap().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let all = sweep("1..1000/1", &[]);
    let refused = capsim_fails(&all.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    for needle in [
        "limits.max_memory: this sweep needs about",
        "1000 points",
        "--shard",
        "a coarser \"window\"",
    ] {
        assert!(refused.contains(needle), "{needle:?} in {refused}");
    }
    let validated = capsim::model::load_model(path).expect("a valid model");
    let per_point = capsim::model::memory::sweep_point(&validated.model);
    assert!(capsim::model::memory::sweep_refusal(&validated.model, 250, 2_000_000_000).is_none());
    let forty = sweep("1..40/1", &["--threads", "1"]);
    let peak = peak_memory_of(&forty.iter().map(String::as_str).collect::<Vec<_>>());
    let estimate = capsim::model::memory::estimate(&validated.model).total(1) + 40 * per_point;
    assert!(estimate >= peak, "estimated {estimate} bytes, measured a peak of {peak}");
}

/// `copies` copies of the shop's traces (tests/fixtures/traces) as OTLP JSON lines, each copy's
/// trace ids made its own, written to a scratch file: a file of any size with the same traffic.
fn shop_traces_times(copies: u32) -> std::path::PathBuf {
    use std::io::{BufRead, Write};
    // Streamed line by line: this process must stay smaller than the child it measures.
    let path = scratch_dir().join(format!("shop-x{copies}.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let key = "\"traceId\":\"";
    for copy in 0..copies {
        let prefix = format!("{copy:08x}");
        let gz = std::fs::File::open(root().join("tests/fixtures/traces/shop.otlp.jsonl.gz")).unwrap();
        for line in std::io::BufReader::new(flate2::read::GzDecoder::new(gz)).lines() {
            let line = line.unwrap();
            let mut rest = line.as_str();
            while let Some(at) = rest.find(key) {
                let id = at + key.len();
                out.write_all(&rest.as_bytes()[..id]).unwrap();
                out.write_all(prefix.as_bytes()).unwrap();
                rest = &rest[id + prefix.len()..];
            }
            out.write_all(rest.as_bytes()).unwrap();
            out.write_all(b"\n").unwrap();
        }
    }
    out.flush().unwrap();
    path
}

#[test]
fn reading_traces_takes_memory_bounded_by_the_sample_not_by_the_file() {
    // With at most 20,000 spans held, six times the traces take no more memory than once: what
    // grows with a file is only its arrival buckets (at most 4,096 per entry point) and the
    // endpoints' histograms, both bounded; the slack is the reader's line buffer and allocator
    // noise (a line of this file is under 200 KB).
    let once = shop_traces_times(1);
    let six = shop_traces_times(6);
    let out = scratch_dir().join("from-traces.json");
    let peak = |file: &std::path::Path| {
        peak_memory_of(&[
            "init",
            "--from-traces",
            file.to_str().unwrap(),
            "--max-spans",
            "20000",
            "--out",
            out.to_str().unwrap(),
            "--force",
        ])
    };
    let (small, large) = (peak(&once), peak(&six));
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&six) > 150_000_000, "the large file is large: {} bytes", size(&six));
    assert!(
        large <= small + 4 * 1024 * 1024,
        "{} bytes of traces peaked at {large} bytes, {} bytes at {small}",
        size(&six),
        size(&once)
    );
}
