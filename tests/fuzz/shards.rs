//! `capsim merge`: shard files are read back from disk, so they are input like a model. Merging
//! arbitrary shard files (realistic ones, then mutated) returns Ok or Err, never panics, and
//! allocates in proportion to the files, not to the numbers written in them (each case in a
//! forked child with a memory cap). Tampered shards of one sweep — a field of the fingerprint or
//! header changed, points removed, duplicated, moved or given other values, a shard left out, a
//! point cut short — go through the real binary: exit 2 naming what differs, or exit 3 with the
//! partial points listed, never a panic and never a silent merge.

use crate::support::{cap_memory_in_child, forked_config};
use capsim::analysis::sweep::merge;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Value};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/shards.proptest-regressions");

/// The full result of a tiny model (one replication of ten seconds), as a shard file holds it.
fn tiny_result() -> Value {
    static RESULT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    RESULT
        .get_or_init(|| {
            let model = r#"{ "name": "fuzz", "duration": "10s", "warmup": "0s", "replications": 1, "seed": 7,
                "clients": { "web": { "open": { "rate": "20/s" }, "calls": "api.get" } },
                "services": { "api": { "workers": 2, "endpoints": { "get": [ { "cpu": "exp(5ms)" } ] } } },
                "slos": { "api.get": { "p99": "1s" } } }"#;
            let validated = capsim::model::parse_model(model, "fuzz.json").expect("a valid model");
            serde_json::to_value(capsim::run(&validated.model, &[], Some(1))).expect("a result as JSON")
        })
        .clone()
}

/// A point of a sweep as a shard file holds it, with a real result.
fn point(index: Value, x: Value, mean: Value, breached: bool) -> Value {
    json!({
        "index": index,
        "values": [x],
        "metric": { "mean": mean, "ci95": 0.1, "min": mean, "max": mean, "n": 2 },
        "slos_breached": if breached { json!(["api.get p99 <= 1s"]) } else { json!([]) },
        "result": tiny_result(),
    })
}

/// A number a shard might hold where an index or a count goes.
fn count() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (0u64..12).prop_map(Value::from),
        1 => select(&[10_000u64, 10_001, 100_000_000, 1_000_000_000_000, u64::MAX][..]).prop_map(Value::from),
        1 => select(vec![json!(-1), json!(1.5), json!("3"), json!(null), json!(1e300)]),
    ]
    .boxed()
}

/// A metric value (a mean), extremes included.
fn mean() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (0.0..1e3f64).prop_map(|v| json!(v)),
        1 => select(vec![json!(null), json!(0.0), json!(-1.0), json!(1e308), json!("NaN")]),
    ]
    .boxed()
}

/// A change to one shard file.
#[derive(Clone, Debug)]
enum Edit {
    /// Set a header field.
    Header(&'static str, Value),
    /// Set a point's field.
    Point(Index, &'static str, Value),
    /// Drop a point.
    Drop(Index),
    /// Copy a point.
    Copy(Index),
}

fn edit() -> BoxedStrategy<Edit> {
    prop_oneof![
        count().prop_map(|v| Edit::Header("total_points", v)),
        (
            select(&["total_points", "threshold", "params", "shard", "metric", "model", "points"][..]),
            prop_oneof![count(), mean(), Just(json!(["a", "b"])), Just(json!({}))]
        )
            .prop_map(|(k, v)| Edit::Header(k, v)),
        (
            any::<Index>(),
            select(&["index", "values", "metric", "slos_breached"][..]),
            prop_oneof![count(), mean(), Just(json!([])), Just(json!({ "mean": "x" }))]
        )
            .prop_map(|(i, k, v)| Edit::Point(i, k, v)),
        any::<Index>().prop_map(Edit::Drop),
        any::<Index>().prop_map(Edit::Copy),
    ]
    .boxed()
}

/// The header of a one-parameter sweep of `n` points ("0ms", "1ms", …), fingerprint included.
fn header(n: usize) -> Value {
    json!({
        "schema_version": 1, "model": "fuzz", "scenario": "", "params": ["links.api -> pg.latency.add"],
        "metric": "web.p99", "threshold": 0.1, "total_points": n, "round_trips": {},
        "fingerprint": {
            "model_hash": "0123456789abcdef", "seed": 7, "replications": 2, "duration_s": 600.0,
            "warmup_s": 60.0, "window_s": 60.0, "max_events": 2_000_000_000u64,
            "grid": [(0..n).map(|i| json!(format!("{i}ms"))).collect::<Vec<_>>()],
            "capsim_version": capsim::analysis::fingerprint::CAPSIM_VERSION,
        },
    })
}

/// One shard's file as `capsim sweep --shard` writes it: the header, which shard, its points.
fn shard_file(header: &Value, shard: &str, points: Vec<Value>) -> Value {
    let mut file = header.clone();
    file["shard"] = json!(shard);
    file["points"] = Value::Array(points);
    file
}

/// `n` points dealt round robin into `shards` shard files of one sweep, then edited.
fn shard_files(n: usize, shards: usize, means: &[Value], edits: &[(Index, Edit)]) -> Vec<(String, Value)> {
    let header = header(n);
    let mut files: Vec<(String, Value)> = (0..shards)
        .map(|s| {
            let points = (0..n)
                .filter(|i| i % shards == s)
                .map(|i| point(json!(i), json!(format!("{i}ms")), means[i % means.len()].clone(), i % 3 == 2))
                .collect();
            (
                format!("shard{s}.json"),
                shard_file(&header, &format!("{}/{shards}", s + 1), points),
            )
        })
        .collect();
    for (which, e) in edits {
        let (_, file) = &mut files[which.index(shards)];
        match e {
            Edit::Header(k, v) => file[*k] = v.clone(),
            Edit::Point(i, k, v) => {
                if let Some(points) = file["points"].as_array_mut().filter(|p| !p.is_empty()) {
                    let at = i.index(points.len());
                    if let Some(point) = points[at].as_object_mut() {
                        point.insert((*k).to_string(), v.clone());
                    }
                }
            }
            Edit::Drop(i) => {
                if let Some(points) = file["points"].as_array_mut().filter(|p| !p.is_empty()) {
                    let at = i.index(points.len());
                    points.remove(at);
                }
            }
            Edit::Copy(i) => {
                if let Some(points) = file["points"].as_array_mut().filter(|p| !p.is_empty()) {
                    let copy = points[i.index(points.len())].clone();
                    points.push(copy);
                }
            }
        }
    }
    files
}

proptest! {
    #![proptest_config(forked_config(300, REGRESSIONS, crate::support::scaled_secs(10) as u32 * 1000))]

    #[test]
    fn merging_shard_files_never_panics_and_stays_bounded(
        n in 0usize..12,
        shards in 1usize..4,
        means in prop::collection::vec(mean(), 1..4),
        edits in prop::collection::vec((any::<Index>(), edit()), 0..4),
        reversed in any::<bool>(),
    ) {
        cap_memory_in_child();
        let mut files = shard_files(n, shards, &means, &edits);
        if reversed {
            files.reverse();
        }
        // known_bugs::merging_a_shard_claiming_huge_total_points_is_refused_cheaply
        let claimed = files[0].1["total_points"].as_u64().unwrap_or(0);
        if crate::support::skip_known_bugs() && claimed > 10_000 {
            return Ok(());
        }
        if let Ok(merged) = merge(&files) {
            prop_assert_eq!(merged.points.len(), merged.header.total_points, "{:?}", merged.header);
        }
    }
}

/// One way to tamper with the shard files of one sweep, and what `capsim merge` must answer.
#[derive(Clone, Debug)]
enum Tamper {
    /// Nothing changed: exit 0.
    None,
    /// A fingerprint field of one shard set to another value: exit 2 naming it.
    Fingerprint(&'static str, Value),
    /// A header field of one shard set to another value: exit 2 naming it.
    Header(&'static str, Value),
    /// A point removed: exit 2, points missing.
    Remove(Index),
    /// A point copied into the same shard: exit 2, more than once.
    Duplicate(Index),
    /// A point moved into the next shard: exit 2, not its shard.
    Move(Index),
    /// A point's values changed: exit 2, not the grid's.
    Values(Index),
    /// A whole shard left out: exit 2, points missing.
    LeaveOut,
    /// A point cut short by a bound of the run: exit 3, listed as partial.
    Partial(Index),
}

fn tamper() -> BoxedStrategy<Tamper> {
    let changed = prop_oneof![
        Just(json!(8)),
        Just(json!(3)),
        Just(json!(1200.0)),
        Just(json!("fedcba9876543210")),
        Just(json!([["0ms", "5ms"]])),
        Just(json!("0.0.0-other")),
        Just(json!(null)),
    ];
    prop_oneof![
        1 => Just(Tamper::None),
        4 => (
            select(&["model_hash", "seed", "replications", "duration_s", "warmup_s", "window_s", "max_events", "grid", "capsim_version"][..]),
            changed.clone()
        )
            .prop_map(|(k, v)| Tamper::Fingerprint(k, v)),
        2 => (select(&["model", "scenario", "params", "metric", "threshold", "schema_version"][..]), changed)
            .prop_map(|(k, v)| Tamper::Header(k, v)),
        1 => any::<Index>().prop_map(Tamper::Remove),
        1 => any::<Index>().prop_map(Tamper::Duplicate),
        1 => any::<Index>().prop_map(Tamper::Move),
        1 => any::<Index>().prop_map(Tamper::Values),
        1 => Just(Tamper::LeaveOut),
        2 => any::<Index>().prop_map(Tamper::Partial),
    ]
    .boxed()
}

/// Apply `t` to shard `which` of `files` (at least two shards, every one with a point); the
/// exit code `capsim merge` must give and a fragment of what it must say.
fn apply(files: &mut Vec<(String, Value)>, which: usize, t: &Tamper) -> (i32, String) {
    let next = (which + 1) % files.len();
    let points = |files: &mut Vec<(String, Value)>, s: usize| -> Vec<Value> {
        files[s].1["points"].as_array().cloned().unwrap_or_default()
    };
    let set_points = |files: &mut Vec<(String, Value)>, s: usize, p: Vec<Value>| files[s].1["points"] = Value::Array(p);
    match t {
        Tamper::None => (0, String::new()),
        Tamper::Fingerprint(k, v) => {
            let old = files[which].1["fingerprint"][*k].clone();
            files[which].1["fingerprint"][*k] = v.clone();
            if old == *v {
                (0, String::new())
            } else if *k == "grid" {
                (2, "grid".into())
            } else {
                (2, format!("fingerprint.{k}"))
            }
        }
        Tamper::Header(k, v) => {
            let old = files[which].1[*k].clone();
            files[which].1[*k] = v.clone();
            if old == *v {
                (0, String::new())
            } else {
                (2, (*k).to_string())
            }
        }
        Tamper::Remove(i) => {
            let mut p = points(files, which);
            p.remove(i.index(p.len()));
            set_points(files, which, p);
            (2, "missing".into())
        }
        Tamper::Duplicate(i) => {
            let mut p = points(files, which);
            p.push(p[i.index(p.len())].clone());
            set_points(files, which, p);
            (2, "more than once".into())
        }
        Tamper::Move(i) => {
            let mut p = points(files, which);
            let moved = p.remove(i.index(p.len()));
            set_points(files, which, p);
            let mut q = points(files, next);
            q.push(moved);
            set_points(files, next, q);
            (2, "does not belong".into())
        }
        Tamper::Values(i) => {
            let mut p = points(files, which);
            let at = i.index(p.len());
            p[at]["values"] = json!(["99ms"]);
            set_points(files, which, p);
            (2, "the grid gives".into())
        }
        Tamper::LeaveOut => {
            files.remove(which);
            (2, "missing".into())
        }
        Tamper::Partial(i) => {
            let mut p = points(files, which);
            let at = i.index(p.len());
            p[at]["result"]["verdict"]["complete"] = json!(false);
            p[at]["result"]["verdict"]["replications"]["cut_short"] = json!([1]);
            set_points(files, which, p);
            (3, "partial".into())
        }
    }
}

proptest! {
    #![proptest_config(crate::support::config(48, REGRESSIONS))]

    #[test]
    fn tampered_shards_are_refused_with_exit_2_or_merged_partial_with_exit_3_never_silently(
        n in 2usize..9,
        shards in 2usize..4,
        which in any::<Index>(),
        t in tamper(),
    ) {
        let shards = shards.min(n);
        let mut files = shard_files(n, shards, &[json!(1.0)], &[]);
        let (code, says) = apply(&mut files, which.index(shards), &t);
        let dir = std::env::temp_dir().join(format!("capsim-fuzz-tamper-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut args: Vec<String> = vec!["merge".into()];
        for (name, file) in &files {
            let path = dir.join(name);
            std::fs::write(&path, file.to_string()).unwrap();
            args.push(path.display().to_string());
        }
        let merged = dir.join("merged.json");
        let _ = std::fs::remove_file(&merged);
        args.extend(["--json".into(), merged.display().to_string()]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_capsim")).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked"), "{:?}: {}", t, stderr);
        prop_assert_eq!(out.status.code(), Some(code), "{:?}: {}", t, stderr);
        prop_assert!(stderr.contains(&says), "{:?}: stderr lacks {:?}: {}", t, says, stderr);
        if code == 2 {
            prop_assert!(!merged.exists(), "{:?}: refused, yet a merged file was written", t);
        } else {
            let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
            prop_assert_eq!(merged["points"].as_array().map(Vec::len), Some(n));
            prop_assert_eq!(code == 3, merged.get("partial_points").is_some(), "{}", merged);
        }
    }
}
