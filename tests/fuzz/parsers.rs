//! The text parsers, on arbitrary strings and on near-valid ones (valid pieces, then a few random
//! character edits): they return Ok or Err, never panic, and what they accept is in range.

use crate::support::config;
use capsim::analysis::expect::{Claim, Comparison};
use capsim::model::units::{format_duration, parse_duration, parse_rate, parse_ratio, MAX_NANOS};
use capsim::model::Dist;
use capsim::results::metric::{parse_bound, Unit};
use capsim::scenario::overlay::apply_change;
use capsim::scenario::sweep::{parse_values, parse_values_text, Shard, MAX_POINTS};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

const REGRESSIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/parsers.proptest-regressions");

/// Cases per parser property when `PROPTEST_CASES` is not set: parsing is microseconds.
const CASES: u32 = 1_000;

/// Numbers as people (and typos) write them, extremes included.
pub fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(&[
            "0", "1", "2", "0.5", ".5", "1.", "250", "1.5", "36525", "36526", "1000000000", "1000000001",
            "4294967295", "4294967296", "1e3", "1e9", "1e-300", "1e300", "1e309", "NaN", "inf", "-inf", "-1",
            "-0", "00", "1.2.3", "", ".", "99999999999999999999999999",
            "0.0000000000000000000000000000000000000000000000000000000000000000000001",
            "0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
        ][..])
        .prop_map(String::from),
        2 => any::<u32>().prop_map(|n| n.to_string()),
        2 => any::<f64>().prop_map(|f| f.to_string()),
        1 => (0.0..1e-6f64).prop_map(|f| f.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
    ]
    .boxed()
}

/// Duration units, and things that are not.
fn unit_text() -> BoxedStrategy<String> {
    select(
        &[
            "ns", "us", "µs", "μs", "ms", "s", "m", "min", "h", "d", "", "MS", "sec", "y", " ms", "ms ",
        ][..],
    )
    .prop_map(String::from)
    .boxed()
}

/// A duration made of 1 to 3 number+unit terms ("1h 30min").
pub fn duration_text() -> BoxedStrategy<String> {
    prop::collection::vec((number_text(), unit_text()), 1..4)
        .prop_map(|terms| terms.iter().map(|(n, u)| format!("{n}{u}")).collect::<Vec<_>>().join(" "))
        .boxed()
}

/// A rate: number, slash, unit.
pub fn rate_text() -> BoxedStrategy<String> {
    (number_text(), select(&["/", " / ", "/ ", "//", ""][..]), unit_text())
        .prop_map(|(n, slash, u)| format!("{n}{slash}{u}"))
        .boxed()
}

/// Parameter names of the distribution forms, and wrong ones.
const PARAMS: &[&str] = &[
    "value", "mean", "min", "max", "sd", "p50", "median", "p90", "p95", "p99", "p999", "sigma", "shape", "scale", "p0", "p100",
    "p99.9", "p-1", "p101", "px", "", "p1e2",
];

/// One argument of a distribution: a duration, a plain number, or `name=value`.
fn dist_arg() -> BoxedStrategy<String> {
    let value = prop_oneof![3 => duration_text(), 2 => number_text()];
    prop_oneof![
        2 => value.clone(),
        3 => (select(PARAMS), value).prop_map(|(p, v)| format!("{p}={v}")),
    ]
    .boxed()
}

/// A distribution: a duration, or a family with arguments, maybe shifted by " + duration".
pub fn dist_text() -> BoxedStrategy<String> {
    let family = select(
        &[
            "const",
            "constant",
            "exp",
            "exponential",
            "uniform",
            "normal",
            "lognormal",
            "gamma",
            "weibull",
            "pareto",
            "empirical",
            "Exp",
            "beta",
            "",
        ][..],
    );
    let call = (
        family,
        prop::collection::vec(dist_arg(), 0..5),
        select(&[")", "", "))", ") "][..]),
    )
        .prop_map(|(f, args, close)| format!("{f}({}{close}", args.join(", ")));
    let base = prop_oneof![1 => duration_text(), 4 => call];
    (base, prop::option::weighted(0.25, duration_text()))
        .prop_map(|(b, shift)| match shift {
            Some(s) => format!("{b} + {s}"),
            None => b,
        })
        .boxed()
}

/// Up to `n` random character edits (insert, delete, replace) of `text`.
pub fn mutated(text: BoxedStrategy<String>, n: usize) -> BoxedStrategy<String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        prop_oneof![
            3 => select(&['(', ')', ',', '=', '+', '/', '.', '-', ' ', '%', '<', '>', 'e', '0', '9', 'µ', '\u{0}', '😀'][..]),
            1 => any::<char>(),
        ],
    );
    (text, prop::collection::vec(edit, 0..=n))
        .prop_map(|(text, edits)| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, kind, c) in edits {
                match kind {
                    0 => {
                        let i = at.index(chars.len() + 1);
                        chars.insert(i, c);
                    }
                    1 if !chars.is_empty() => {
                        let i = at.index(chars.len());
                        chars.remove(i);
                    }
                    _ if !chars.is_empty() => {
                        let i = at.index(chars.len());
                        chars[i] = c;
                    }
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect()
        })
        .boxed()
}

/// Arbitrary text: any unicode, or printable ASCII heavy in the parsers' punctuation.
pub fn any_text() -> BoxedStrategy<String> {
    prop_oneof![any::<String>(), "[ -~]{0,40}", "[0-9.,+/()=<>!% a-z-]{0,40}",].boxed()
}

/// Checks on any distribution that parsed: it prints back as itself, draws stay within 100
/// years, and its moments, scaling and shifting never panic.
fn check_dist(text: &str, d: &Dist) -> Result<(), TestCaseError> {
    let shown = d.to_string();
    let back = Dist::parse(&shown);
    prop_assert_eq!(
        back.as_ref(),
        Ok(d),
        "{:?} parsed to {:?}, displayed as {:?}, which reads back differently",
        text,
        d,
        shown
    );
    let mut rng = capsim::engine::stream(7, 0, "fuzz");
    for _ in 0..8 {
        prop_assert!(d.sample_ns(&mut rng) <= MAX_NANOS);
    }
    let _ = (d.mean_secs(), d.variance_secs2());
    for k in [0.0, 0.5, 3.0, 1e9, 1e-9, f64::NAN, -1.0] {
        let scaled = d.scaled(k);
        let _ = scaled.to_string();
        prop_assert!(scaled.sample_ns(&mut rng) <= MAX_NANOS);
    }
    for offset in [0.0, 1e-3, 3e9] {
        let shifted = d.shifted(offset);
        let _ = shifted.to_string();
        prop_assert!(shifted.sample_ns(&mut rng) <= MAX_NANOS);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES, REGRESSIONS))]

    #[test]
    fn durations_never_panic_and_stay_within_100_years(
        text in prop_oneof![any_text(), duration_text(), mutated(duration_text(), 3)]
    ) {
        if let Ok(ns) = parse_duration(&text) {
            prop_assert!(ns <= MAX_NANOS, "{text:?} -> {ns}");
            let _ = format_duration(ns);
        }
    }

    #[test]
    fn rates_never_panic_and_stay_within_1e9_per_second(
        text in prop_oneof![any_text(), rate_text(), mutated(rate_text(), 3)]
    ) {
        if let Ok(r) = parse_rate(&text) {
            prop_assert!(r.is_finite() && (0.0..=1e9).contains(&r), "{text:?} -> {r}");
        }
    }

    #[test]
    fn ratios_never_panic_and_stay_within_0_and_1(
        text in prop_oneof![
            any_text(),
            (number_text(), select(&["", "%", " %"][..])).prop_map(|(n, p)| format!("{n}{p}")),
        ]
    ) {
        if let Ok(r) = parse_ratio(&text) {
            prop_assert!((0.0..=1.0).contains(&r), "{text:?} -> {r}");
        }
    }

    #[test]
    fn distributions_never_panic_and_print_back_as_themselves(
        text in prop_oneof![1 => any_text(), 3 => dist_text(), 2 => mutated(dist_text(), 3)]
    ) {
        if let Ok(d) = Dist::parse(&text) {
            check_dist(&text, &d)?;
        }
    }

    #[test]
    fn sweep_values_never_panic_and_stay_bounded(
        text in prop_oneof![
            any_text(),
            // Ranges of numbers, durations and rates, extremes included.
            (prop_oneof![number_text(), duration_text(), rate_text()],
             prop_oneof![number_text(), duration_text(), rate_text()],
             prop_oneof![number_text(), duration_text(), rate_text()])
                .prop_map(|(a, b, s)| format!("{a}..{b}/{s}")),
            mutated(Just("0ms..10ms/1ms".to_string()).boxed(), 3),
            mutated(Just("10/s..90/s/10/s".to_string()).boxed(), 3),
            prop::collection::vec(number_text(), 0..6).prop_map(|v| v.join(",")),
        ]
    ) {
        if let Ok(values) = parse_values_text(&text) {
            prop_assert!(!values.is_empty() && values.len() <= MAX_POINTS, "{text:?}: {} values", values.len());
        }
        let _ = parse_values(&Value::from(text.clone()));
    }

    #[test]
    fn shards_never_panic(text in prop_oneof![
        any_text(),
        (number_text(), number_text()).prop_map(|(i, n)| format!("{i}/{n}")),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| format!("{i}/{n}")),
    ]) {
        if let Ok(shard) = Shard::parse(&text) {
            prop_assert!(shard.index >= 1 && shard.index <= shard.count, "{text:?} -> {shard:?}");
            for i in [0, 1, shard.count - 1, shard.count, usize::MAX] {
                let _ = shard.owns(i);
            }
        }
    }

    #[test]
    fn claims_never_panic_and_bounds_read_in_every_unit(
        text in prop_oneof![
            any_text(),
            (select(&["api.checkout.p99", "shoppers.error_rate", "api.utilisation", "", " ", "x.y.z"][..]),
             select(&["<", "<=", ">", ">=", "=", "==", "!=", "<>", "=<", " recovers within ", "recovers within"][..]),
             prop_oneof![duration_text(), number_text(), Just("1%".to_string()), any_text()])
                .prop_map(|(m, op, b)| format!("{m} {op} {b}")),
            mutated(Just("api.checkout.p99 < 300ms".to_string()).boxed(), 4),
        ]
    ) {
        if let Ok(claim) = Claim::parse(&text) {
            prop_assert!(!claim.metric.trim().is_empty() && !claim.bound.trim().is_empty(), "{text:?} -> {claim:?}");
            if claim.comparison != Comparison::RecoversWithin {
                prop_assert!(!claim.bound.contains(['<', '>', '=', '!']), "{text:?} -> {claim:?}");
            }
            for unit in [Unit::Millis, Unit::Share, Unit::Seconds, Unit::Count] {
                if let Ok(b) = parse_bound(&claim.bound, unit) {
                    prop_assert!(b.is_finite(), "{text:?}: bound {b}");
                }
            }
        }
    }
}

/// Every path to a value of `value` (dotted keys, `[i]` indices), parents included.
pub fn paths(value: &Value) -> Vec<String> {
    fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{at}[{i}]");
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// A value to set, add or scale by: numbers, units, distributions, structures, junk.
pub fn change_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => prop_oneof![
            any::<i64>().prop_map(Value::from),
            select(&[0.0, 0.5, 1.5, 2.0, 1e9, 1e-9, 1e300, -1.0, 4294967296.0][..]).prop_map(|f| json!(f)),
            any::<f64>().prop_map(|f| json!(f)),
        ],
        3 => prop_oneof![duration_text(), rate_text(), dist_text(), any_text()].prop_map(Value::from),
        1 => Just(json!(null)),
        1 => Just(json!({"latency": "1ms"})),
        1 => Just(json!([1, "2ms"])),
        1 => any::<bool>().prop_map(Value::from),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(CASES / 2, REGRESSIONS))]

    /// Changes by path on a real model: any path (real ones, suffixed or edited), any value.
    /// The change is applied or refused; the changed model is then parsed and validated like
    /// any written model — nothing panics.
    #[test]
    fn overlay_changes_never_panic(
        which in 0usize..2,
        path_pick in any::<prop::sample::Index>(),
        suffix in select(&["", ".add", ".scale", ".set", "[0]", "[99999999999999999999]", ".", "[", "[x]", ".new_key", "..add"][..]),
        edits in prop::collection::vec((any::<prop::sample::Index>(), select(&['.', '[', ']', 'x', '0', ' '][..])), 0..2),
        free_path in prop::option::weighted(0.15, any_text()),
        value in change_value(),
    ) {
        let name = ["quickstart.json", "db-migration.json"][which];
        let mut model = crate::support::example(name);
        let all = paths(&model);
        let path = match free_path {
            Some(p) => p,
            None => {
                let mut p: Vec<char> = format!("{}{suffix}", all[path_pick.index(all.len())]).chars().collect();
                for (at, c) in edits {
                    let i = at.index(p.len());
                    p[i] = c;
                }
                p.into_iter().collect()
            }
        };
        if apply_change(&mut model, &path, &value).is_ok() {
            if let Ok(spec) = capsim::model::load::parse_spec_value(model, "fuzz.json") {
                let _ = capsim::model::validate::validate(&spec);
            }
        }
    }
}
