//! Hostile models: each is refused with exit code 2 and a message that says where and what, by
//! both `run` and `validate`, and never with a panic. Runs that hit a bound exit 3.

use crate::{capsim, hostile};

/// A hostile model file (in tests/integration/models/) and fragments its error must contain.
struct Case {
    file: &'static str,
    fragments: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "cache_keys_zero.json",
        fragments: &["services.api.endpoints.get[0].cache.keys", "positive integer", "got 0"],
    },
    Case {
        file: "cache_zipf_negative.json",
        fragments: &[
            "services.api.endpoints.get[0].cache.popularity",
            "a Zipf exponent is a finite number of at least 0",
            "zipf(-0.5)",
        ],
    },
    Case {
        file: "bad_cache_keys.json",
        fragments: &[
            "services.api.endpoints.get[0].cache: a cache has either a fixed \"hit_ratio\" or a key space (\"keys\"), not both",
            "services.api.endpoints.get[2].cache: the cache \"menu\" is declared at services.api.endpoints.get[1].cache with \
             another key space",
            "services.api.endpoints.get[3].cache.keys: expected at most 10000000 keys",
            "services.api.endpoints.get[4].cache: a cache needs exactly one of \"hit_ratio\"",
            "actions[0].flush.cache: no cache named \"menus\" (caches with a key space and a name: \"menu\")",
        ],
    },
    Case {
        file: "queue_bad_consumer.json",
        fragments: &[
            "queues.documents.consumer.calls: no service named \"pipline\"",
            "queues.documents.visibility_timeout: expected a duration above 0",
            "queues.documents.producers.cron: a producer needs a \"rate\" or \"bursts\"",
        ],
    },
    Case {
        file: "bad_breaker.json",
        fragments: &[
            "clients.web.breaker.failure_rate: expected a share above 0 and at most 1, got 1.5",
            "clients.web.throttle.k: expected k of at least 1",
            "services.api.endpoints.get[0]: \"timeout\", \"retry\", \"throttle\" and \"breaker\" belong to a \"call\" step",
        ],
    },
    Case {
        file: "bad_limits.json",
        fragments: &[
            "services.api.rate_limit.rate: expected a rate above 0",
            "clients.web.bulkhead.max_wait: expected a duration above 0",
            "clients.mobile.bulkhead.max_wait: a bulkhead with \"queue\": 0 rejects at once",
            "services.api.endpoints.get[0].rate_limit: \"rate_limit\" belongs to a \"call\" step",
        ],
    },
    Case {
        file: "bad_metastability.json",
        fragments: &[
            "metastability.metric: expected \"component.statistic\"",
            "services.api.idempotency.dedupe.ttl: an in-flight key lasts as long as its request",
            "services.api.endpoints.get[0].effect: expected the name of the side effect",
        ],
    },
    Case {
        file: "not_json.json",
        fragments: &["(line 3, column "],
    },
    Case {
        file: "empty.json",
        fragments: &["the file is empty", "(line 1, column "],
    },
    Case {
        file: "top_level_array.json",
        fragments: &["a model is a JSON object", "(line 1, column "],
    },
    Case {
        file: "unknown_field.json",
        fragments: &["services.api.wrokers", "unknown field", "`wrokers`", "(line 4, column "],
    },
    Case {
        file: "negative_workers.json",
        fragments: &["services.api.workers", "positive integer", "-3"],
    },
    Case {
        file: "workers_overflow.json",
        fragments: &["services.api.workers", "positive integer", "99999999999"],
    },
    // Every key written twice is named with its path and both places (line, column), all at once.
    Case {
        file: "duplicate_keys.json",
        fragments: &[
            "services: duplicate key \"api\" (line 5, column 5 and line 7, column 5)",
            "services.api.endpoints.get[0]: duplicate key \"cpu\" (line 7, column 54 and line 7, column 73)",
            "scenarios: duplicate key \"slow\" (line 10, column 5 and line 11, column 5)",
        ],
    },
    Case {
        file: "zero_duration.json",
        fragments: &["duration: ", "above 0"],
    },
    Case {
        file: "duration_without_unit.json",
        fragments: &["duration: ", "unit", "\"10\""],
    },
    Case {
        file: "nan_rate.json",
        fragments: &["clients.web.open.rate", "\"NaN/s\""],
    },
    Case {
        file: "inf_rate.json",
        fragments: &["clients.web.open.rate", "\"inf/s\""],
    },
    Case {
        file: "rate_as_number.json",
        fragments: &["clients.web.open.rate", "a string with a unit"],
    },
    Case {
        file: "negative_mean.json",
        fragments: &["services.api.endpoints.get[0].cpu", "exp(-1ms)"],
    },
    Case {
        file: "unknown_endpoint.json",
        fragments: &["clients.web.calls", "\"gte\"", "\"get\"", "\"put\""],
    },
    Case {
        file: "unknown_pool.json",
        fragments: &[
            "services.api.endpoints.get[0].transaction.pool",
            "\"pgbouncr\"",
            "\"pgbouncer\"",
        ],
    },
    Case {
        file: "unknown_link_end.json",
        fragments: &["links.", "\"nowhere\""],
    },
    Case {
        file: "empty_endpoint.json",
        fragments: &["services.api.endpoints.get", "at least one step"],
    },
    Case {
        file: "call_cycle.json",
        fragments: &["cycle", "a.x -> b.y -> a.x"],
    },
    Case {
        file: "self_call.json",
        fragments: &["cycle", "api.get -> api.get"],
    },
    Case {
        file: "open_and_closed.json",
        fragments: &["clients.web", "\"open\"", "\"closed\""],
    },
    Case {
        file: "step_with_two_kinds.json",
        fragments: &["services.api.endpoints.get[0]", "exactly one of"],
    },
    Case {
        file: "zero_timeout.json",
        fragments: &["clients.web.timeout", "above 0"],
    },
    Case {
        file: "warmup_not_shorter.json",
        fragments: &["warmup", "shorter than the duration"],
    },
    Case {
        file: "blast_radius_mistakes.json",
        fragments: &[
            "clients.web.group: a group's name must be non-empty, without \".\", and not a component's name (\"api\")",
            "services.api.health_check.interval: expected a duration above 0",
            "services.api.queue.max_wait: expected a duration above 0",
            "services.api.queue.classes[1].class: no client sends requests of class \"bulkk\" (classes: critical)",
            "services.api.queue.classes[2].class: class \"critical\" has a line already",
            "actions[0].crash_loop: a crash loop needs \"uptime\"",
            "actions[1].crash_loop.instances: the service has 3 instances, got 5",
            "actions[2].rollout.canary: expected a share from 0 to 1, got 5",
            "actions[3].rollout.rollback: a rollback rule needs \"error_rate\" or \"p99\"",
            "actions[4].rollout.rollback.window: expected a window of at least 1ms",
            "actions[5].rollout.service: no service named \"apx\" (services: \"api\")",
        ],
    },
    Case {
        file: "pool_above_max_connections.json",
        fragments: &["databases.pg.max_connections", "20", "max_connections = 10"],
    },
];

#[test]
fn every_hostile_model_is_refused_with_exit_2_and_a_precise_message() {
    let mut failures = Vec::new();
    for case in CASES {
        let path = hostile(case.file);
        let path = path.to_str().unwrap();
        for command in ["run", "validate"] {
            let run = capsim(&[command, path]);
            let mut problems = Vec::new();
            if run.code != Some(2) {
                problems.push(format!("exit code {:?}, expected 2", run.code));
            }
            if run.stderr.contains("panicked") {
                problems.push("panicked".to_string());
            }
            if !run.stderr.starts_with(&format!("error: {path}: ")) {
                problems.push("stderr does not start with \"error: FILE: \"".to_string());
            }
            for fragment in case.fragments {
                if !run.stderr.contains(fragment) {
                    problems.push(format!("stderr lacks {fragment:?}"));
                }
            }
            if !run.stdout.is_empty() {
                problems.push("something was printed on stdout".to_string());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "capsim {command} {}: {}\n--- stderr\n{}--- stdout\n{}",
                    case.file,
                    problems.join("; "),
                    run.stderr,
                    run.stdout
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_in_the_hostile_corpus_has_a_case() {
    let dir = hostile("");
    let bound = ["overloaded.json", "event_budget.json"];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            CASES.iter().any(|c| c.file == name) || bound.contains(&name.as_str()),
            "{name} in {} is tested by no case",
            dir.display()
        );
    }
}

#[test]
fn an_overloaded_model_exits_3_at_its_limit_and_says_unstable() {
    let model = hostile("overloaded.json");
    let run = capsim(&["run", model.to_str().unwrap()]);
    run.expect_code(3).stderr_has("unstable").stdout_has("unstable");
    // 200/s into 100/s of capacity passes 5000 requests in flight after about 50 s of simulated
    // time (the backlog grows by 100/s): the run stops there rather than simulate the whole hour
    // (720,000 arrivals per replication).
    let json = capsim(&["run", model.to_str().unwrap(), "--json", "-", "-q"]);
    let result: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let events = result["events"].as_u64().expect("an event count");
    assert!(events < 200_000, "{events} events: stopped near 50 s, not after the hour");
}

#[test]
fn an_overloaded_model_reports_an_unstable_verdict_in_json() {
    let model = hostile("overloaded.json");
    let run = capsim(&["run", model.to_str().unwrap(), "--json", "-"]);
    run.expect_code(3);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("--json - is JSON even when the run stops");
    assert_eq!(json["verdict"]["complete"], false, "{}", run.stdout);
    assert_eq!(json["verdict"]["unstable"], true, "{}", run.stdout);
    assert_eq!(
        json["verdict"]["messages"].as_array().map(Vec::len),
        Some(2),
        "one message per replication"
    );
}

#[test]
fn validate_warns_that_an_overloaded_model_exceeds_capacity_but_exits_0() {
    let model = hostile("overloaded.json");
    capsim(&["validate", model.to_str().unwrap()])
        .expect_code(0)
        .stdout_has("ok: ")
        .stderr_has("warning: ")
        .stderr_has("services.api")
        .stderr_has("capacity");
}

#[test]
fn a_run_that_spends_its_event_budget_exits_3_and_says_so() {
    let model = hostile("event_budget.json");
    let run = capsim(&["run", model.to_str().unwrap(), "-q"]);
    run.expect_code(3).stderr_has("event budget").stderr_has("1000 events");
    assert!(!run.stderr.contains("unstable"), "{}", run.stderr);
}

#[test]
fn a_shard_file_with_a_key_written_twice_is_refused_naming_both_places() {
    let dir = crate::scratch_dir("duplicate-shard");
    let part = dir.join("part.json");
    std::fs::write(&part, "{\n  \"schema_version\": 1,\n  \"points\": [],\n  \"points\": []\n}\n").unwrap();
    capsim(&["merge", part.to_str().unwrap()])
        .expect_code(2)
        .stderr_has("part.json: duplicate key \"points\" (line 3, column 3 and line 4, column 3)");
}
