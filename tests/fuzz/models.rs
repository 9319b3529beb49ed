//! Model loading on arbitrary JSON biased toward the model's keys, and on mutations of the
//! example models. Loading returns Ok or Err, never panics; models that validate are run on a
//! tiny budget (each case in a forked child with a timeout and a memory cap) and must account
//! for every request.

use crate::parsers::{any_text, dist_text, duration_text, rate_text};
use crate::support::{cap_memory_in_child, config, example, forked_config, run_and_check};
use capsim::model::parse_model;
use capsim::model::spec::ModelSpec;
use capsim::model::values::{DurationValue, PositiveInt};
use capsim::scenario::ModelSource;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{json, Map, Number, Value};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/models.proptest-regressions");

/// Every key of the model format.
const KEYS: &[&str] = &[
    "name",
    "description",
    "duration",
    "warmup",
    "replications",
    "seed",
    "window",
    "limits",
    "max_events",
    "max_in_flight",
    "clients",
    "open",
    "closed",
    "rate",
    "profile",
    "points",
    "at",
    "factor",
    "shape",
    "period",
    "users",
    "think",
    "requests",
    "start",
    "deadline",
    "calls",
    "timeout",
    "retry",
    "attempts",
    "backoff",
    "multiplier",
    "max_backoff",
    "jitter",
    "retry_on",
    "services",
    "instances",
    "workers",
    "queue",
    "capacity",
    "discipline",
    "balancer",
    "async",
    "endpoints",
    "cpu",
    "delay",
    "call",
    "transaction",
    "pool",
    "database",
    "queries",
    "query",
    "databases",
    "cores",
    "max_connections",
    "data_factor",
    "contention",
    "sigma",
    "kappa",
    "pools",
    "size",
    "acquire_timeout",
    "links",
    "latency",
    "slos",
    "p50",
    "p90",
    "p99",
    "p999",
    "error_rate",
    "actions",
    "for",
    "add_latency",
    "link",
    "scale_traffic",
    "client",
    "inject",
    "cost",
    "down",
    "service",
    "crash",
    "restart",
    "crash_loop",
    "uptime",
    "per_request",
    "max_restart",
    "together",
    "rollout",
    "cpu_factor",
    "canary",
    "bake",
    "rollback",
    "reaction",
    "health_check",
    "interval",
    "retry_other_instance",
    "class",
    "classes",
    "lifo_after",
    "max_wait",
    "scenarios",
    "set",
    "expect",
    "that",
    "scenario",
    "sweeps",
    "params",
    "metric",
    "threshold",
    "daily",
    "clock",
    "load_test",
    "of",
    "scale",
    "synthetic",
    "cache",
    "hit_ratio",
    "hit",
    "serve_stale",
    "writes",
    "group",
    "data",
    "rows",
    "resource_groups",
    "every",
];

/// Keys of the model's top level.
const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "duration",
    "warmup",
    "replications",
    "seed",
    "window",
    "limits",
    "clients",
    "services",
    "databases",
    "pools",
    "links",
    "slos",
    "actions",
    "scenarios",
    "expect",
    "sweeps",
];

/// Names of components and references between them.
const NAMES: &[&str] = &[
    "api",
    "web",
    "pg",
    "pgbouncer",
    "menu",
    "get",
    "checkout",
    "default",
    "api -> pg",
    "web -> api",
    "api.get",
    "menu.get",
    "api.checkout",
    "",
    "a.b",
    "x -> y",
    "api -> api",
    "web.p99 < 1s",
];

/// Values of the model's enumerations.
const ENUMS: &[&str] = &[
    "fifo",
    "lifo",
    "round_robin",
    "random",
    "least_outstanding",
    "step",
    "linear",
    "none",
    "full",
    "equal",
    "timeout",
    "rejected",
    "error",
];

/// Maps whose keys are names chosen by the author (a copy under another name is still valid).
const NAMED_MAPS: &[&str] = &[
    "clients",
    "services",
    "databases",
    "pools",
    "links",
    "slos",
    "scenarios",
    "sweeps",
    "endpoints",
    "set",
    "params",
];

/// A JSON number, extremes included.
fn json_number() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => select(&[0i64, 1, 2, 3, 8, 100, 100_000, 100_001, 1_000_000, 1_000_001, 10_000, 10_001, -1, -3,
                      4_294_967_295, 4_294_967_296, 1_000_000_000, 2_000_000_000, i64::MAX, i64::MIN][..])
            .prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        2 => select(&[0.0, -0.0, 0.5, 1.5, 1e9, 1e9 + 1.0, 1e-300, 1e300, 0.0001, 2.5, 1e18][..])
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap_or_else(|| Number::from(0)))),
        1 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
    .boxed()
}

/// A JSON string the model might hold: names, enumerations, units, distributions, claims, junk.
fn json_string() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => select(NAMES).prop_map(String::from),
        1 => select(ENUMS).prop_map(String::from),
        2 => duration_text(),
        1 => rate_text(),
        2 => dist_text(),
        1 => (select(&["web", "api.get", "pg", "pgbouncer"][..]), select(&[".p99 < ", ".error_rate <= ", ".utilisation > ", ".p50 recovers within "][..]), duration_text())
            .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        1 => any_text(),
    ]
    .prop_map(Value::from)
    .boxed()
}

/// A key: mostly the model's own keys and names.
fn json_key() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(KEYS).prop_map(String::from),
        3 => select(NAMES).prop_map(String::from),
        1 => "[a-z_]{1,8}",
        1 => any::<String>(),
    ]
    .boxed()
}

/// A scalar JSON value.
fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => json_number(),
        5 => json_string(),
    ]
    .boxed()
}

/// Any JSON value, nested a few levels, biased toward the model's keys and values.
pub fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                3 => prop::collection::vec((json_key(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// A whole model: an object with top-level keys (mostly) and arbitrary values.
fn json_model() -> BoxedStrategy<Value> {
    let key = prop_oneof![5 => select(TOP_KEYS).prop_map(String::from), 1 => json_key()];
    prop::collection::vec((key, json_value()), 0..10)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
        .boxed()
}

/// One step of a path inside a JSON value.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    At(usize),
}

/// Paths to every value inside `v` (not `v` itself), each with whether it is a leaf.
fn all_paths(v: &Value) -> Vec<(Vec<Seg>, bool)> {
    fn walk(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, bool)>) {
        let children: Vec<(Seg, &Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, c)| (Seg::Key(k.clone()), c)).collect(),
            Value::Array(a) => a.iter().enumerate().map(|(i, c)| (Seg::At(i), c)).collect(),
            _ => return,
        };
        for (seg, child) in children {
            at.push(seg);
            out.push((at.clone(), !(child.is_object() || child.is_array())));
            walk(child, at, out);
            at.pop();
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn get<'v>(v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::At(i) => v.get(*i),
    })
}

fn get_mut<'v>(v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::At(i) => v.get_mut(*i),
    })
}

/// A change to a model's JSON.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace a leaf. `how` < 7: by a valid value of the same kind, picked by `pick` (a duration
    /// by a duration, a distribution by a distribution, a rate by a rate, a name by a name of the
    /// model, an integer by an integer, a number by a number; extremes included); 7 or 8: by a
    /// near-valid string or any number, as the leaf is a string or a number; 9: by `any` value.
    Replace {
        at: Index,
        how: u8,
        pick: Index,
        text: Value,
        number: Value,
        any: Value,
    },
    /// Remove an object member or array item.
    Delete { at: Index },
    /// Copy a named component (a service, a client, an endpoint, ...) or a list item next to itself.
    Duplicate { at: Index, suffix: String },
    /// Add a member to an object.
    Insert { at: Index, key: String, value: Value },
}

fn mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        6 => (any::<Index>(), 0u8..10, any::<Index>(), json_string(), json_number(), prop_oneof![3 => json_leaf(), 1 => json_value()])
            .prop_map(|(at, how, pick, text, number, any)| Mutation::Replace { at, how, pick, text, number, any }),
        2 => any::<Index>().prop_map(|at| Mutation::Delete { at }),
        2 => (any::<Index>(), select(&["_dup", "_dup", "2", "", "->x"][..]))
            .prop_map(|(at, s)| Mutation::Duplicate { at, suffix: s.to_string() }),
        1 => (any::<Index>(), json_key(), json_value()).prop_map(|(at, key, value)| Mutation::Insert { at, key, value }),
    ]
    .boxed()
}

/// Valid durations, extremes included.
const DURATIONS: &[&str] = &[
    "0s", "0", "1ns", "1us", "0.5ms", "1ms", "10ms", "250ms", "1s", "30s", "1m", "1h", "1d", "36525d", "1h30m",
];
/// Valid distributions other than plain durations.
const DISTS: &[&str] = &[
    "exp(1ms)",
    "exp(36525d)",
    "exp(1ns)",
    "uniform(0s, 1s)",
    "normal(mean=1ms, sd=10ms)",
    "normal(mean=0s, sd=36525d)",
    "lognormal(p50=1ms, p999=1h)",
    "lognormal(mean=1ms, sd=1s)",
    "gamma(shape=0.001, mean=1ms)",
    "gamma(shape=1000, scale=1ms)",
    "weibull(shape=0.1, scale=1ms)",
    "pareto(shape=0.5, scale=1ms)",
    "empirical(0s, 1ns, 1h)",
    "empirical(p0=0s, p50=1ms, p100=36525d)",
    "exp(1ms) + 10ms",
    "const(5ms)",
];
/// Valid rates, extremes included.
const RATES: &[&str] = &["0/s", "1e-9/s", "1/h", "50/s", "1000/s", "1e6/s", "1e9/s", "1/ns", "0.001/d"];
/// Whole numbers, extremes and just-too-large ones included.
const INTS: &[i64] = &[
    0,
    1,
    2,
    3,
    10,
    100,
    1000,
    100_000,
    1_000_000,
    1_000_000_000,
    4_294_967_295,
    4_294_967_296,
    -1,
];
/// Other numbers (factors, shares), extremes included.
const FLOATS: &[f64] = &[0.0, 0.001, 0.01, 0.5, 1.0, 1.5, 2.0, 1e3, 1e6, 1e9, 1e-9];

/// Every name the model uses: keys of its named maps, and references (strings with a dot or
/// an arrow), to put a name where a name was.
fn model_names(model: &Value) -> Vec<String> {
    let mut names = Vec::new();
    fn walk(v: &Value, parent: Option<&str>, names: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if parent.is_some_and(|p| NAMED_MAPS.contains(&p)) {
                        names.push(k.clone());
                    }
                    walk(child, Some(k), names);
                }
            }
            Value::Array(items) => items.iter().for_each(|c| walk(c, parent, names)),
            Value::String(s) if s.contains('.') || s.contains("->") => names.push(s.clone()),
            _ => {}
        }
    }
    walk(model, None, &mut names);
    names
}

/// A valid value like `v`, picked by `pick`: see [`Mutation::Replace`].
fn similar(v: &Value, pick: Index, names: &[String]) -> Option<Value> {
    let from = |list: &[&str]| Value::from(list[pick.index(list.len())]);
    Some(match v {
        Value::String(s) if capsim::model::units::parse_rate(s).is_ok() => from(RATES),
        Value::String(s) if capsim::model::units::parse_duration(s).is_ok() => from(DURATIONS),
        Value::String(s) if capsim::model::Dist::parse(s).is_ok() => {
            let i = pick.index(DISTS.len() + DURATIONS.len());
            Value::from(DISTS.get(i).copied().unwrap_or_else(|| DURATIONS[i - DISTS.len()]))
        }
        Value::String(_) if !names.is_empty() => Value::from(names[pick.index(names.len())].clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Value::from(INTS[pick.index(INTS.len())]),
        Value::Number(_) => json!(FLOATS[pick.index(FLOATS.len())]),
        Value::Bool(b) => Value::Bool(!b),
        _ => return None,
    })
}

/// Apply `m` to `model` (a no-op when there is nothing of the kind to change).
fn apply(model: &mut Value, m: &Mutation) {
    let paths = all_paths(model);
    match m {
        Mutation::Replace {
            at,
            how,
            pick,
            text,
            number,
            any,
        } => {
            let leaves: Vec<&Vec<Seg>> = paths.iter().filter(|(_, leaf)| *leaf).map(|(p, _)| p).collect();
            if leaves.is_empty() {
                return;
            }
            let path = leaves[at.index(leaves.len())].clone();
            let names = model_names(model);
            if let Some(v) = get_mut(model, &path) {
                *v = match (&*v, *how) {
                    (v, 0..=6) => similar(v, *pick, &names).unwrap_or_else(|| any.clone()),
                    (Value::String(_), 7 | 8) => text.clone(),
                    (Value::Number(_), 7 | 8) => number.clone(),
                    _ => any.clone(),
                };
            }
        }
        Mutation::Delete { at } => {
            if paths.is_empty() {
                return;
            }
            let (path, _) = &paths[at.index(paths.len())];
            let (last, parent) = path.split_last().expect("paths are not empty");
            match (get_mut(model, parent), last) {
                (Some(Value::Object(map)), Seg::Key(k)) => {
                    map.shift_remove(k);
                }
                (Some(Value::Array(items)), Seg::At(i)) if *i < items.len() => {
                    items.remove(*i);
                }
                _ => {}
            }
        }
        Mutation::Duplicate { at, suffix } => {
            let named: Vec<&Vec<Seg>> = paths
                .iter()
                .map(|(p, _)| p)
                .filter(|p| match p.split_last() {
                    Some((Seg::At(_), _)) => true,
                    Some((Seg::Key(_), parent)) => {
                        matches!(parent.last(), Some(Seg::Key(k)) if NAMED_MAPS.contains(&k.as_str()))
                    }
                    None => false,
                })
                .collect();
            if named.is_empty() {
                return;
            }
            let path = named[at.index(named.len())].clone();
            let (last, parent) = path.split_last().expect("paths are not empty");
            let Some(copy) = get_mut(model, &path).map(|v| v.clone()) else {
                return;
            };
            match (get_mut(model, parent), last) {
                (Some(Value::Object(map)), Seg::Key(k)) => {
                    map.insert(format!("{k}{suffix}"), copy);
                }
                (Some(Value::Array(items)), Seg::At(_)) => items.push(copy),
                _ => {}
            }
        }
        Mutation::Insert { at, key, value } => {
            let objects: Vec<Vec<Seg>> = std::iter::once(Vec::new())
                .chain(
                    paths
                        .iter()
                        .map(|(p, _)| p.clone())
                        .filter(|p| get(model, p).is_some_and(Value::is_object)),
                )
                .collect();
            let path = &objects[at.index(objects.len())];
            if let Some(Value::Object(map)) = get_mut(model, path) {
                map.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Most events of one tiny-budget run.
const MAX_EVENTS: u64 = 200_000;

/// The run settings of a tiny-budget run.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Simulated time.
    duration_ns: u64,
    /// Warm-up, in tenths of the duration (0: every request is counted, and conservation is
    /// checked).
    warmup_tenths: u64,
    /// Replications.
    replications: u32,
}

impl Budget {
    /// One replication of `duration_ns`, no warm-up.
    fn plain(duration_ns: u64) -> Budget {
        Budget {
            duration_ns,
            warmup_tenths: 0,
            replications: 1,
        }
    }
}

fn budget() -> impl Strategy<Value = Budget> {
    (
        select(&[1_000_000_000u64, 10_000_000_000, 60_000_000_000, 600_000_000_000][..]),
        prop_oneof![3 => Just(0u64), 1 => 1u64..10],
        prop_oneof![3 => Just(1u32), 1 => 2u32..4],
    )
        .prop_map(|(duration_ns, warmup_tenths, replications)| Budget {
            duration_ns,
            warmup_tenths,
            replications,
        })
}

/// The command-line-like overrides of a tiny-budget run: `budget`'s duration, warm-up and
/// replications, the default window, at most [`MAX_EVENTS`] events per replication.
fn tiny_budget(budget: Budget) -> impl Fn(&mut ModelSpec) {
    move |spec: &mut ModelSpec| {
        spec.duration = Some(DurationValue(budget.duration_ns));
        spec.warmup = Some(DurationValue(budget.duration_ns / 10 * budget.warmup_tenths));
        spec.window = None;
        spec.replications = Some(PositiveInt(budget.replications));
        spec.limits.max_events = Some(MAX_EVENTS);
    }
}

/// With `FUZZ_STATS` set, print what a case did (`... --nocapture | grep FUZZSTAT | sort | uniq -c`
/// shows how many mutated models validate and run).
fn stat(what: &str) {
    if std::env::var_os("FUZZ_STATS").is_some() {
        eprintln!("FUZZSTAT {what}");
    }
}

/// Which of a model's runs to make.
#[derive(Clone, Copy)]
enum Runs {
    /// Only load (parse, validate, build every scenario).
    None,
    /// The baseline and the scenario (or pair of scenarios) this index picks.
    One(Index),
    /// The baseline and every scenario.
    All,
}

/// Load `text` every way the command line does, and run (tiny budget) whatever validates among
/// the baseline and its scenarios, as `runs` says.
fn load_and_run(text: &str, runs: Runs, budget: Budget) -> Result<(), TestCaseError> {
    match parse_model(text, "fuzz.json") {
        Ok(_) => stat("case valid"),
        Err(e) => stat(&format!(
            "case refused: {}",
            e.to_string().chars().take(100).collect::<String>()
        )),
    }
    let Ok(source) = ModelSource::from_text(text.to_string(), "fuzz.json") else {
        return Ok(());
    };
    let json = source.json().clone();
    let scenarios = source.scenario_names();
    let _ = capsim::analysis::expect::read_expectations(json.get("expect").unwrap_or(&Value::Null), &scenarios);
    let edit = tiny_budget(budget);
    let mut baseline = None;
    if let Ok(validated) = source.baseline(&edit) {
        if !matches!(runs, Runs::None) {
            stat("run baseline");
            let result = run_and_check(&validated, &json).map_err(|why| TestCaseError::fail(format!("baseline: {why}")))?;
            baseline = Some(result);
        }
    }
    let mut names: Vec<String> = scenarios.clone();
    if scenarios.len() >= 2 {
        names.push(format!("{},{}", scenarios[0], scenarios[scenarios.len() - 1]));
    }
    if names.is_empty() {
        return Ok(());
    }
    let pick = match runs {
        Runs::One(index) => Some(index.index(names.len())),
        Runs::None | Runs::All => None,
    };
    for (i, name) in names.iter().enumerate() {
        let Ok(variant) = source.scenario_variant(name) else {
            continue;
        };
        if let Ok(validated) = source.variant_model(&variant, &edit) {
            if (matches!(runs, Runs::All) || pick == Some(i)) {
                stat("run scenario");
                let result =
                    run_and_check(&validated, &json).map_err(|why| TestCaseError::fail(format!("scenario {name}: {why}")))?;
                if let Some(baseline) = &baseline {
                    crate::support::compare_and_render(baseline, &variant.name, result, &json);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1_000, REGRESSIONS))]

    /// Arbitrary JSON biased toward the model's keys: loading never panics.
    #[test]
    fn arbitrary_json_loads_or_is_refused(model in json_model()) {
        let text = serde_json::to_string(&model).expect("JSON values serialize");
        load_and_run(&text, Runs::None, Budget::plain(1_000_000_000))?;
    }

    /// Arbitrary text: loading never panics.
    #[test]
    fn arbitrary_text_loads_or_is_refused(text in prop_oneof![
        any_text(),
        json_model().prop_map(|m| serde_json::to_string_pretty(&m).unwrap_or_default())
            .prop_flat_map(|t| crate::parsers::mutated(Just(t).boxed(), 3)),
    ]) {
        let _ = parse_model(&text, "fuzz.json");
        let _ = ModelSource::from_text(text, "fuzz.json");
    }
}

/// The example models mutated.
const EXAMPLES: [&str; 5] = [
    "quickstart.json",
    "db-migration.json",
    "shared-database.json",
    "blast-radius.json",
    "retry-stampede.json",
];

proptest! {
    #![proptest_config(forked_config(600, REGRESSIONS, crate::support::scaled_secs(10) as u32 * 1000))]

    /// The example models with 1 to 4 mutations (a leaf replaced, a key deleted, a component
    /// duplicated, a member added): loading never panics, and what validates runs on a tiny budget
    /// without panicking, hanging or allocating without bound, and accounts for every request.
    #[test]
    fn mutated_examples_load_and_run(
        which in 0usize..EXAMPLES.len(),
        mutations in prop::collection::vec(mutation(), 1..5),
        budget in budget(),
        scenario in any::<Index>(),
    ) {
        cap_memory_in_child();
        let mut model = example(EXAMPLES[which]);
        for m in &mutations {
            apply(&mut model, m);
        }
        let text = serde_json::to_string_pretty(&model).expect("JSON values serialize");
        load_and_run(&text, Runs::One(scenario), budget)?;
    }

    /// Random JSON grafted into the examples at random places, then run as above.
    #[test]
    fn examples_with_grafts_load_and_run(
        which in 0usize..EXAMPLES.len(),
        grafts in prop::collection::vec((any::<Index>(), json_value()), 1..3),
        scenario in any::<Index>(),
    ) {
        cap_memory_in_child();
        let mut model = example(EXAMPLES[which]);
        for (at, value) in grafts {
            let mutation = Mutation::Replace { at, how: 9, pick: at, text: json!(null), number: json!(null), any: value };
            apply(&mut model, &mutation);
        }
        let text = serde_json::to_string(&model).expect("JSON values serialize");
        load_and_run(&text, Runs::One(scenario), Budget::plain(60_000_000_000))?;
    }
}

#[test]
fn the_examples_run_on_a_tiny_budget_and_account_for_every_request() {
    for name in EXAMPLES {
        let text = serde_json::to_string(&example(name)).expect("JSON values serialize");
        load_and_run(&text, Runs::All, Budget::plain(60_000_000_000)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Values of a swept parameter, as written after `--values`: ranges and lists, small and absurd.
fn sweep_values() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(&[
            "0ms..10ms/1ms", "0.5..1.5/0.25", "10/s..90/s/10/s", "1,2,4", "5ms,10ms", "0..3/1", "1..10000/1",
            "0ns..36525d/3652.5d", "1e9/s..1e9/s/1/s", "0..1e9/1e8", "exp(1ms),uniform(0s, 1s)", "0,-1,4294967296",
        ][..]).prop_map(String::from),
        1 => (crate::parsers::number_text(), crate::parsers::number_text(), crate::parsers::number_text())
            .prop_map(|(a, b, s)| format!("{a}..{b}/{s}")),
        1 => (duration_text(), duration_text(), duration_text()).prop_map(|(a, b, s)| format!("{a}..{b}/{s}")),
        1 => prop::collection::vec(prop_oneof![duration_text(), rate_text(), dist_text()], 1..4).prop_map(|v| v.join(",")),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(300, REGRESSIONS))]

    /// Sweeps over the examples' own paths (maybe `.add`/`.scale`, maybe on a scenario): the grid
    /// is built or refused, and its first points are built and validated like `capsim sweep`
    /// does before running anything; nothing panics.
    #[test]
    fn sweeps_over_the_examples_build_and_validate(
        which in 0usize..EXAMPLES.len(),
        params in prop::collection::vec((any::<Index>(), select(&["", ".add", ".scale", ".set"][..]), sweep_values()), 1..3),
        scenario in prop::option::weighted(0.3, any::<Index>()),
    ) {
        use capsim::scenario::sweep::{grid, parse_values_text, SweptParam};
        use capsim::scenario::Variant;
        let text = serde_json::to_string(&example(EXAMPLES[which])).expect("JSON values serialize");
        let source = ModelSource::from_text(text, "fuzz.json").expect("the example loads");
        let paths = crate::parsers::paths(source.json());
        let swept: Vec<SweptParam> = params
            .iter()
            .filter_map(|(at, op, values)| {
                let values = parse_values_text(values).ok()?;
                Some(SweptParam { path: format!("{}{op}", paths[at.index(paths.len())]), values })
            })
            .collect();
        let names = source.scenario_names();
        let base = match scenario {
            Some(i) if !names.is_empty() => source.scenario_variant(&names[i.index(names.len())]).expect("declared"),
            _ => Variant { name: String::new(), changes: Vec::new(), actions: Vec::new() },
        };
        if let Ok(points) = grid(&swept, &base, "--param") {
            for (_, variant) in points.iter().take(12) {
                let _ = source.variant_model(variant, tiny_budget(Budget::plain(1_000_000_000)));
            }
        }
    }
}
