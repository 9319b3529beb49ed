//! A run is a pure function of the model and the seed: the same inputs give byte-identical JSON,
//! whatever the number of threads; another seed gives another run.

use crate::{capsim, example};

/// `--json -` of models/quickstart.json, 4 short replications, with extra arguments.
fn quickstart_json(extra: &[&str]) -> Vec<u8> {
    let model = example("quickstart.json");
    let args = [
        &[
            "run",
            model.to_str().unwrap(),
            "--duration",
            "5m",
            "--replications",
            "4",
            "--json",
            "-",
        ][..],
        extra,
    ]
    .concat();
    let run = capsim(&args);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with('{'),
        "`{}` printed no JSON:\n{}",
        run.command,
        run.stdout
    );
    run.stdout_bytes
}

/// The first line where two outputs differ, for a readable failure.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    match a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y) {
        Some((i, (x, y))) => format!("line {}:\n  {x}\n  {y}", i + 1),
        None => format!(
            "one output is a prefix of the other ({} vs {} lines)",
            a.lines().count(),
            b.lines().count()
        ),
    }
}

#[test]
fn same_model_and_seed_give_byte_identical_json() {
    let first = quickstart_json(&["--seed", "11"]);
    let second = quickstart_json(&["--seed", "11"]);
    assert!(first == second, "two runs differ at {}", first_difference(&first, &second));
}

#[test]
fn one_thread_and_two_threads_give_byte_identical_json() {
    let one = quickstart_json(&["--threads", "1"]);
    let two = quickstart_json(&["--threads", "2"]);
    assert!(one == two, "--threads 1 and 2 differ at {}", first_difference(&one, &two));
}

#[test]
fn a_different_seed_gives_different_json() {
    let seven = quickstart_json(&["--seed", "7", "--threads", "2"]);
    let eight = quickstart_json(&["--seed", "8", "--threads", "2"]);
    assert!(seven != eight, "seeds 7 and 8 gave the same output");
    let json = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
    let (seven, eight) = (json(&seven), json(&eight));
    assert_eq!(seven["model"]["seed"], 7);
    assert_eq!(eight["model"]["seed"], 8);
    assert_ne!(
        seven["clients"][0]["counts"], eight["clients"][0]["counts"],
        "the simulated traffic itself differs, not only the seed field"
    );
}

#[test]
fn a_key_space_cache_with_a_flush_gives_byte_identical_json_and_csv_on_one_and_two_threads() {
    // models/menu-cache.json: a shared LRU+TTL cache with coalescing, flushed at 10 minutes.
    let model = example("menu-cache.json");
    let outputs = |threads: &str| {
        let dir = crate::scratch_dir(&format!("determinism-menu-cache-{threads}"));
        let run = capsim(&[
            "run",
            model.to_str().unwrap(),
            "--replications",
            "3",
            "--threads",
            threads,
            "--json",
            dir.join("out.json").to_str().unwrap(),
            "--csv",
            dir.join("csv").to_str().unwrap(),
        ]);
        run.expect_code(0);
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        (read("out.json"), read("csv/summary.csv"), read("csv/timeseries.csv"))
    };
    let (one, two) = (outputs("1"), outputs("2"));
    assert!(one.0 == two.0, "JSON differs at {}", first_difference(&one.0, &two.0));
    assert!(one.1 == two.1, "summary.csv differs at {}", first_difference(&one.1, &two.1));
    assert!(
        one.2 == two.2,
        "timeseries.csv differs at {}",
        first_difference(&one.2, &two.2)
    );
    let json: serde_json::Value = serde_json::from_slice(&one.0).unwrap();
    assert_eq!(json["caches"][0]["name"], "menu");
    assert!(String::from_utf8_lossy(&one.2).contains(",cache,menu,hit_ratio,"));
}
