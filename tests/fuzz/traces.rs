//! Trace files, near-valid: small pieces of the fixtures in each format (OTLP JSON lines and
//! document, Zipkin v2, Jaeger), then a few character edits or a JSON value replaced by an odd
//! one. Reading returns spans or an error naming the file — never a panic — and whatever model is
//! inferred from what was read validates as capsim's own models do.

use crate::parsers::mutated;
use crate::support::config;
use capsim::traces::collect::{Bounds, Collection};
use capsim::traces::infer::{infer, InferSettings};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use std::path::PathBuf;

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/traces.proptest-regressions");

/// Cases per property when `PROPTEST_CASES` is not set: a case reads a few kilobytes.
const CASES: u32 = 300;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The first traces of the small fixtures, each format as its text: enough spans for every role.
fn bases() -> Vec<(&'static str, String)> {
    let otlp = fixture("shop-small.otlp.json");
    let mut small = otlp.clone();
    for rs in small["resourceSpans"].as_array_mut().unwrap() {
        for ss in rs["scopeSpans"].as_array_mut().unwrap() {
            ss["spans"].as_array_mut().unwrap().truncate(4);
        }
    }
    let zipkin: Vec<Value> = fixture("shop-small.zipkin.json")
        .as_array()
        .unwrap()
        .iter()
        .take(24)
        .cloned()
        .collect();
    let mut jaeger = fixture("shop-small.jaeger.json");
    jaeger["data"].as_array_mut().unwrap().truncate(2);
    let line = serde_json::to_string(&small).unwrap();
    vec![
        ("lines.jsonl", format!("{line}\n{line}\n")),
        ("document.json", serde_json::to_string_pretty(&small).unwrap()),
        ("zipkin.json", serde_json::to_string(&zipkin).unwrap()),
        ("jaeger.json", serde_json::to_string(&jaeger).unwrap()),
    ]
}

/// Replace the `k`-th value (in document order) of `v` by `odd`.
fn replace_nth(v: &mut Value, k: &mut usize, odd: &Value) -> bool {
    if *k == 0 {
        *v = odd.clone();
        return true;
    }
    *k -= 1;
    match v {
        Value::Array(items) => items.iter_mut().any(|i| replace_nth(i, k, odd)),
        Value::Object(map) => map.values_mut().any(|i| replace_nth(i, k, odd)),
        _ => false,
    }
}

fn odd_value() -> BoxedStrategy<Value> {
    select(vec![
        json!(null),
        json!(""),
        json!("x"),
        json!("zz"),
        json!(-1),
        json!(0),
        json!(1e300),
        json!("99999999999999999999999"),
        json!("-9223372036854775808"),
        json!([]),
        json!({}),
        json!(true),
        json!("SPAN_KIND_SERVER"),
        json!("ffffffffffffffffffffffffffffffff"),
    ])
    .boxed()
}

/// Read `text` as the file `name`, then infer a model from it: never a panic, and an inferred
/// model validates.
fn read_and_infer(name: &str, text: &str) -> Result<(), TestCaseError> {
    let dir = std::env::temp_dir().join(format!("capsim-fuzz-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    match Collection::read(&[&path], Bounds { max_spans: 50 }, &mut |_, _| {}) {
        Err(e) => prop_assert!(e.to_string().starts_with(&path.display().to_string()), "{e}"),
        Ok(c) => {
            if let Ok(inferred) = infer(
                &c,
                &InferSettings {
                    sampling_rate: 1.0,
                    name: "fuzz".into(),
                },
            ) {
                let model = serde_json::to_string(&inferred.model).unwrap();
                let valid = capsim::model::load::parse_model(&model, "inferred");
                prop_assert!(valid.is_ok(), "{:?}\n{model}", valid.err());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES, REGRESSIONS))]

    #[test]
    fn edited_trace_files_are_read_or_refused_and_what_is_inferred_validates(
        which in 0usize..4,
        edits in 0usize..4,
        seed in any::<u64>(),
    ) {
        let (name, text) = bases().swap_remove(which);
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            proptest::test_runner::Config::default(),
            proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed.to_le_bytes().repeat(4)),
        );
        let edited = mutated(Just(text).boxed(), edits).new_tree(&mut runner).unwrap().current();
        read_and_infer(name, &edited)?;
    }

    #[test]
    fn odd_values_anywhere_are_read_or_refused_and_what_is_inferred_validates(
        which in 0usize..4,
        at in 0usize..4000,
        odd in odd_value(),
    ) {
        let (name, text) = bases().swap_remove(which);
        let lines = name.ends_with(".jsonl");
        let first = if lines { text.lines().next().unwrap().to_string() } else { text };
        let mut doc: Value = serde_json::from_str(&first).unwrap();
        let mut k = at;
        replace_nth(&mut doc, &mut k, &odd);
        let edited = if lines { format!("{}\n", serde_json::to_string(&doc).unwrap()) } else { serde_json::to_string(&doc).unwrap() };
        read_and_infer(name, &edited)?;
    }
}
