//! `capsim run --shard I/N --out FILE` runs a slice of the replications; `capsim merge` of every
//! shard gives the run done whole, byte for byte, whatever the shard count (replication r is a
//! pure function of model, seed and r, and the merge takes them in the same order). `--shard
//! auto` reads the shard from a Slurm job array or a Kubernetes Indexed Job. Shards of another
//! run, a shard missing or given twice, and a file cut short are refused naming what is wrong.

use super::{capsim, capsim_in_env, example, scratch_dir};
use std::path::{Path, PathBuf};

/// Run `model` with `flags` whole (JSON and stdout) and as `count` shards merged; return both
/// JSON texts and both stdouts.
fn whole_and_merged(dir: &Path, model: &str, flags: &[&str], count: usize) -> ((String, String), (String, String)) {
    let model = example(model);
    let whole = dir.join(format!("whole-{count}.json"));
    let mut args = vec!["run", model.to_str().unwrap()];
    args.extend(flags);
    let mut whole_args = args.clone();
    whole_args.extend(["--json", whole.to_str().unwrap()]);
    let whole_run = capsim(&whole_args);
    let code = whole_run.code;
    let parts: Vec<PathBuf> = (1..=count).map(|i| dir.join(format!("part-{i}-of-{count}.shard"))).collect();
    for (i, part) in parts.iter().enumerate() {
        let label = format!("{}/{count}", i + 1);
        let mut shard_args = args.clone();
        shard_args.extend(["--shard", &label, "--out", part.to_str().unwrap()]);
        let shard = capsim(&shard_args);
        assert_eq!(
            shard.code, code,
            "shard {label} exits as the whole run does:\n{}",
            shard.stderr
        );
    }
    let merged = dir.join(format!("merged-{count}.json"));
    let mut merge_args = vec!["merge".to_string()];
    merge_args.extend(parts.iter().rev().map(|p| p.display().to_string()));
    merge_args.extend(["--json".into(), merged.display().to_string()]);
    let merge = capsim(&merge_args);
    assert_eq!(merge.code, code, "the merge exits as the whole run does:\n{}", merge.stderr);
    (
        (std::fs::read_to_string(&whole).unwrap(), whole_run.stdout.clone()),
        (std::fs::read_to_string(&merged).unwrap(), merge.stdout.clone()),
    )
}

#[test]
fn a_run_and_its_scenarios_split_into_shards_merge_byte_identical_to_the_run_done_whole() {
    let dir = scratch_dir("run-shards-identical");
    for count in [1, 3, 7] {
        let flags = ["--all-scenarios", "--replications", "7", "--seed", "11", "--duration", "20m"];
        let (whole, merged) = whole_and_merged(&dir, "quickstart.json", &flags, count);
        assert!(
            whole.0 == merged.0,
            "{count} shards: the merged JSON differs from the whole run's"
        );
        assert_eq!(whole.1, merged.1, "{count} shards: the printed summary differs");
    }
}

#[test]
fn a_metastability_watch_under_a_load_profile_merges_byte_identical_with_its_reference_runs() {
    let dir = scratch_dir("run-shards-metastable");
    let (whole, merged) = whole_and_merged(&dir, "retry-stampede.json", &["--replications", "3"], 2);
    assert!(whole.0.contains("\"metastability\""), "the model watches for metastability");
    assert!(whole.0 == merged.0, "the merged JSON differs from the whole run's");
}

#[test]
fn replications_cut_short_by_the_event_budget_merge_into_the_same_partial_run_with_exit_3() {
    let dir = scratch_dir("run-shards-partial");
    let (whole, merged) = whole_and_merged(&dir, "mm1.json", &["--replications", "4", "--max-events", "20000"], 2);
    assert!(whole.0.contains("\"complete\": false"), "the budget cuts the run short");
    assert!(whole.0 == merged.0);
}

#[test]
fn shard_auto_reads_a_slurm_array_from_zero_and_a_kubernetes_indexed_job() {
    let dir = scratch_dir("run-shards-auto");
    let mm1 = example("mm1.json");
    let whole = dir.join("whole.json");
    capsim(&[
        "run",
        mm1.to_str().unwrap(),
        "--replications",
        "5",
        "--duration",
        "5m",
        "--json",
        whole.to_str().unwrap(),
    ])
    .expect_code(0);
    let slurm: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("slurm-{i}.shard"))).collect();
    for (i, part) in slurm.iter().enumerate() {
        let id = i.to_string();
        capsim_in_env(
            &[
                "run",
                mm1.to_str().unwrap(),
                "--replications",
                "5",
                "--duration",
                "5m",
                "--shard",
                "auto",
                "--out",
                part.to_str().unwrap(),
            ],
            &[
                ("SLURM_ARRAY_TASK_ID", &id),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
        )
        .expect_code(0)
        .stdout_has(&format!("shard {}/3", i + 1));
    }
    let k8s: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("k8s-{i}.shard"))).collect();
    for (i, part) in k8s.iter().enumerate() {
        let index = i.to_string();
        capsim_in_env(
            &[
                "run",
                mm1.to_str().unwrap(),
                "--replications",
                "5",
                "--duration",
                "5m",
                "--shard",
                "auto",
                "--out",
                part.to_str().unwrap(),
            ],
            &[("JOB_COMPLETION_INDEX", &index), ("CAPSIM_SHARDS", "2")],
        )
        .expect_code(0)
        .stdout_has(&format!("shard {}/2", i + 1));
    }
    for (engine, parts) in [("slurm", &slurm), ("k8s", &k8s)] {
        let merged = dir.join(format!("{engine}.json"));
        let mut args = vec!["merge".to_string()];
        args.extend(parts.iter().map(|p| p.display().to_string()));
        args.extend(["--json".into(), merged.display().to_string()]);
        capsim(&args).expect_code(0);
        assert!(
            std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap(),
            "{engine}: merged differs from whole"
        );
    }
    capsim_in_env(
        &["run", mm1.to_str().unwrap(), "--shard", "auto", "--out", "x.shard"],
        &[("JOB_COMPLETION_INDEX", "1")],
    )
    .expect_code(2)
    .stderr_has("pass --shards N or set CAPSIM_SHARDS");
    capsim(&["run", mm1.to_str().unwrap(), "--shard", "auto", "--out", "x.shard"])
        .expect_code(2)
        .stderr_has("neither SLURM_ARRAY_TASK_ID");
    capsim(&["run", mm1.to_str().unwrap(), "--shard", "1/2"])
        .expect_code(2)
        .stderr_has("--shard needs --out FILE");
}

#[test]
fn a_sweep_shard_auto_reads_the_slurm_array_too() {
    let dir = scratch_dir("sweep-shard-auto");
    let mm1 = example("mm1.json");
    let sweep = [
        "--param",
        "clients.arrivals.open.rate",
        "--values",
        "20/s..50/s/10/s",
        "--duration",
        "3m",
        "--replications",
        "2",
        "-q",
    ];
    let whole = dir.join("whole.json");
    let mut args = vec!["sweep", mm1.to_str().unwrap()];
    args.extend(sweep);
    let mut whole_args = args.clone();
    whole_args.extend(["--json", whole.to_str().unwrap()]);
    capsim(&whole_args).expect_code(0);
    let parts: Vec<PathBuf> = (1..=2).map(|i| dir.join(format!("part-{i}.json"))).collect();
    for (i, part) in parts.iter().enumerate() {
        let mut shard_args = args.clone();
        shard_args.extend(["--shard", "auto", "--json", part.to_str().unwrap()]);
        let id = (i + 1).to_string();
        capsim_in_env(
            &shard_args,
            &[
                ("SLURM_ARRAY_TASK_ID", &id),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "2"),
            ],
        )
        .expect_code(0);
    }
    let merged = dir.join("merged.json");
    capsim(&[
        "merge",
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "--json",
        merged.to_str().unwrap(),
    ])
    .expect_code(0);
    assert!(std::fs::read(&merged).unwrap() == std::fs::read(&whole).unwrap());
}

#[test]
fn shards_of_another_run_a_missing_or_repeated_shard_and_a_file_cut_short_are_refused_by_name() {
    let dir = scratch_dir("run-shards-refused");
    let mm1 = example("mm1.json");
    let part = |name: &str, label: &str, extra: &[&str]| -> PathBuf {
        let out = dir.join(name);
        let mut args = vec![
            "run",
            mm1.to_str().unwrap(),
            "--replications",
            "4",
            "--duration",
            "5m",
            "--shard",
            label,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        capsim(&args).expect_code(0);
        out
    };
    let one = part("one.shard", "1/3", &[]);
    let two = part("two.shard", "2/3", &[]);
    let three = part("three.shard", "3/3", &[]);
    let other_seed = part("seed.shard", "2/3", &["--seed", "9"]);
    let of_two = part("of-two.shard", "2/2", &[]);
    let merge = |files: &[&Path]| {
        let mut args = vec!["merge".to_string()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        capsim(&args)
    };
    merge(&[&one, &other_seed, &three])
        .expect_code(2)
        .stderr_has("fingerprint.settings");
    merge(&[&one, &three]).expect_code(2).stderr_has("shards 2/3 are missing");
    merge(&[&one, &two, &two, &three])
        .expect_code(2)
        .stderr_has("are both shard 2/3");
    merge(&[&one, &of_two])
        .expect_code(2)
        .stderr_has("shards of one run share their count");
    let sweep_shard = dir.join("sweep.json");
    capsim(&[
        "sweep",
        mm1.to_str().unwrap(),
        "--param",
        "clients.arrivals.open.rate",
        "--values",
        "20/s,30/s",
        "--duration",
        "3m",
        "--replications",
        "2",
        "--shard",
        "1/1",
        "--json",
        sweep_shard.to_str().unwrap(),
        "-q",
    ])
    .expect_code(0);
    merge(&[&one, &sweep_shard]).expect_code(2).stderr_has("mix shards of a run");
    // A file cut short: its last replication is incomplete.
    let cut = dir.join("cut.shard");
    let bytes = std::fs::read(&three).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    merge(&[&one, &two, &cut])
        .expect_code(2)
        .stderr_has("cut.shard: the file ends before replication 3");
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(&cut, &longer).unwrap();
    merge(&[&one, &two, &cut])
        .expect_code(2)
        .stderr_has("bytes follow its last replication");
    merge(&[&one, &two, &three]).expect_code(0);
}
