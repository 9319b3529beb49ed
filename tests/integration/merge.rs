//! `capsim merge` refuses shards that are not parts of one sweep — another seed, replication
//! count, duration, model (with the same name) or grid — with exit 2 naming the field and both
//! values, and merges partial shards into a partial sweep with exit 3.

use super::{capsim, example, scratch_dir, Run};
use std::path::{Path, PathBuf};

/// Shard `shard` of an M/M/1 sweep (4 points, 3 minutes, 2 replications by default) of
/// `model`, written into `dir`; `changed` replaces a default flag's value or adds a flag.
fn shard(dir: &Path, model: &Path, shard: &str, name: &str, changed: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut flags: Vec<(&str, &str)> = vec![
        ("--param", "clients.arrivals.open.rate"),
        ("--values", "20/s..50/s/10/s"),
        ("--duration", "3m"),
        ("--replications", "2"),
        ("--shard", shard),
        ("--json", out.to_str().unwrap()),
    ];
    for pair in changed.chunks(2) {
        match flags.iter_mut().find(|(flag, _)| *flag == pair[0]) {
            Some(slot) => slot.1 = pair[1],
            None => flags.push((pair[0], pair[1])),
        }
    }
    let mut args = vec!["sweep", model.to_str().unwrap(), "-q"];
    for (flag, value) in flags {
        args.extend([flag, value]);
    }
    capsim(&args).expect_code(0);
    out
}

fn merge(files: &[&Path]) -> Run {
    let mut args = vec!["merge".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    capsim(&args)
}

#[test]
fn shards_of_another_seed_replications_duration_model_or_grid_are_refused_naming_the_field() {
    let dir = scratch_dir("merge-refuse");
    let mm1 = example("mm1.json");
    let first = shard(&dir, &mm1, "1/2", "first.json", &[]);
    // The same model under the same name, with a slower server.
    let other_model = dir.join("mm1.json");
    let text = std::fs::read_to_string(&mm1).unwrap().replace("exp(10ms)", "exp(11ms)");
    std::fs::write(&other_model, text).unwrap();
    let cases: [(&str, &Path, &[&str], &str); 5] = [
        ("seed", &mm1, &["--seed", "2"], "fingerprint.seed: 1 vs 2"),
        (
            "replications",
            &mm1,
            &["--replications", "3"],
            "fingerprint.replications: 2 vs 3",
        ),
        (
            "duration",
            &mm1,
            &["--duration", "4m"],
            "fingerprint.duration_s: 180.0 vs 240.0",
        ),
        ("model", &other_model, &[], "fingerprint.model_hash: "),
        ("grid", &mm1, &["--values", "30/s..60/s/10/s"], "fingerprint.grid: "),
    ];
    for (what, model, extra, expected) in cases {
        let second = shard(&dir, model, "2/2", &format!("second-{what}.json"), extra);
        merge(&[&first, &second])
            .expect_code(2)
            .stderr_has("from a different sweep")
            .stderr_has(expected);
    }
    // The right second shard merges; the same shard twice does not.
    let second = shard(&dir, &mm1, "2/2", "second.json", &[]);
    merge(&[&first, &second]).expect_code(0);
    merge(&[&first, &first]).expect_code(2).stderr_has("given already");
}

#[test]
fn partial_shards_merge_into_a_partial_sweep_with_exit_3_identical_to_the_whole() {
    let dir = scratch_dir("merge-partial");
    let whole = dir.join("whole.json");
    super::interrupt::budget_sweep(&["--json", whole.to_str().unwrap(), "-q"]).expect_code(3);
    let parts: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let part = dir.join(format!("part-{i}.json"));
            super::interrupt::budget_sweep(&["--shard", &format!("{i}/2"), "--json", part.to_str().unwrap(), "-q"])
                .expect_code(3);
            part
        })
        .collect();
    let merged = dir.join("merged.json");
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().map(|p| p.display().to_string()));
    args.extend(["--json".into(), merged.display().to_string()]);
    capsim(&args).expect_code(3).stderr_has("partial");
    assert!(std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap());
}

#[test]
fn a_shard_point_whose_result_is_malformed_is_refused_naming_its_json_path() {
    // Each point is read into the typed sweep point once: a result that is not one (here its
    // verdict's `complete` is a string) is bad input naming where, not a point moved along
    // unread into the merged sweep.
    let dir = scratch_dir("merge-malformed");
    let mm1 = example("mm1.json");
    let first = shard(&dir, &mm1, "1/2", "first.json", &[]);
    let second = shard(&dir, &mm1, "2/2", "second.json", &[]);
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    file["points"][1]["result"]["verdict"]["complete"] = serde_json::json!("yes");
    std::fs::write(&second, file.to_string()).unwrap();
    let merged = dir.join("merged.json");
    let mut args = vec!["merge".to_string(), first.display().to_string(), second.display().to_string()];
    args.extend(["--json".into(), merged.display().to_string()]);
    capsim(&args)
        .expect_code(2)
        .stderr_has("second.json: points[1].result.verdict.complete: invalid type: string \"yes\", expected a boolean");
    assert!(!merged.exists(), "refused, yet a merged file was written");
}
