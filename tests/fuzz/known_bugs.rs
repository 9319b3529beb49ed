//! The failing cases found by the fuzz tests, one test each. They fail until the bug is fixed
//! (see each test's comment for where it comes from and the suggested fix). Crashes, hangs and
//! unbounded allocations run in a child process, so they fail the test, not the binary.

use crate::isolated_test;
use crate::support::{scaled_secs, Bounds};
use capsim::model::{parse_model, Dist};
use capsim::scenario::sweep::parse_values_text;
use serde_json::json;
use std::time::Duration;

/// src/scenario/sweep.rs, `parse_values_text`: `((b - a) / s + 1e-9).floor() as usize + 1`
/// saturates to usize::MAX for an infinite (or ~1e300-wide) range and the `+ 1` overflows
/// ("attempt to add with overflow" with overflow checks; 0 points, silently, without). Reached
/// from `capsim sweep --values` and a model's `sweeps`. Fix: compute the count in f64 and refuse
/// non-finite or > MAX_POINTS before converting (`let n = ((b - a) / s).floor(); if !n.is_finite()
/// || n >= MAX_POINTS as f64 { return Err(..) }`), and refuse non-finite ends.
#[test]
fn a_sweep_range_with_an_infinite_end_is_refused_not_a_panic() {
    for text in ["0..inf/1", "-inf..0/1", "0..1e300/1e-300", "0/s..1e9/s/0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001/s"] {
        let got = std::panic::catch_unwind(|| parse_values_text(text));
        assert!(
            matches!(got, Ok(Err(_))),
            "parse_values_text({text:?}) must be refused with an error; it {}",
            match got {
                Ok(Ok(v)) => format!("gave {} values", v.len()),
                Ok(Err(_)) => unreachable!(),
                Err(_) => "panicked".to_string(),
            }
        );
    }
}

/// src/model/dist.rs, `Dist::parse` (gamma with `mean=`): the scale is `mean / shape`, which is
/// not bounded, so `gamma(shape=1e-300, mean=1s)` parses to a scale of 1e300 s that `Display`
/// prints as a 300-digit duration which `Dist::parse` then refuses (over 100 years): a model
/// changed by a scenario (which prints distributions back) fails to load. Fix: refuse a
/// computed scale over 100 years (and non-finite) in the gamma branch, like other durations.
#[test]
fn gamma_with_a_tiny_shape_prints_back_as_itself() {
    let text = "gamma(shape=1e-300, mean=1s)";
    // Refusing the form is a fix too; what parses must print back as itself.
    if let Ok(d) = Dist::parse(text) {
        let shown = d.to_string();
        assert_eq!(Dist::parse(&shown).as_ref(), Ok(&d), "{text} displays as {shown:.80}…");
    }
}

/// src/model/dist.rs, `parse_lognormal` (`mean=, sd=` form): with sd/mean around 1e155 or more,
/// `1 + (sd/mean)^2` is infinite, so the median is 0 and sigma infinite; `Display` prints
/// `lognormal(p50=0s, sigma=inf)`, which `Dist::parse` refuses. Fix: refuse non-finite sigma
/// and a median that underflows to 0 (or compute in logs: sigma² = ln1p((sd/mean)²)).
#[test]
fn lognormal_from_extreme_moments_prints_back_as_itself() {
    let tiny = format!("0.{}1ns", "0".repeat(160));
    let text = format!("lognormal(mean={tiny}, sd=1d)");
    if let Ok(d) = Dist::parse(&text) {
        let shown = d.to_string();
        assert_eq!(Dist::parse(&shown).as_ref(), Ok(&d), "{text:.60}… displays as {shown}");
    }
}

isolated_test!(
    /// src/model/dist.rs, `Dist::parse`: a shift ("exp(1ms) + 1ms") recurses once per top-level
    /// "+" (`Dist::parse(&text[..plus])`), and `top_level_plus` rescans the whole text each time, so a
    /// distribution string with ~100k "+ 1ms" terms (600 KB in a model file) overflows the stack and
    /// aborts the process (`capsim validate` included), after quadratic work. Fix: parse the shifts
    /// iteratively — split at every top-level "+" once, parse the first part as the base and sum the
    /// offsets — or refuse more than a handful of "+" terms.
    a_long_chain_of_shifts_is_parsed_or_refused_not_a_crash, Bounds::default_bounds(), {
    let chain = format!("exp(1ms){}", " + 1ms".repeat(100_000));
    let _ = Dist::parse(&chain);
    let model = json!({ "services": { "api": { "endpoints": { "get": [ { "cpu": chain } ] } } } });
    let _ = parse_model(&model.to_string(), "chain.json");
});

isolated_test!(
    /// src/sim/client.rs, `schedule_next_arrival`: open arrivals are thinned from a Poisson process
    /// at an envelope rate, all inside one event; candidate gaps are rounded to whole ns. (1) As
    /// first found, the envelope was the profile's global peak: 100/s × 1e9 with a factor of 0
    /// until 59m rejects every candidate, gaps (mean 1e-11 s) round to 0 ns, the clock never moves
    /// and the loop never ends — no event is handled, so neither `limits.max_events` nor Ctrl-C
    /// stops it. The working tree's per-stretch envelope (`Profile::envelope_at`) fixes that case.
    /// (2) Still hanging: a linear stretch from factor 1 to 1e9 has envelope 1e9 over the whole
    /// stretch, so near its start a candidate is kept with probability ~1e-9 while gaps still
    /// round to 0 ns: ~1e9 draws per arrival, and time does not advance. Fix: cut linear stretches
    /// so the factor at most doubles within each piece (envelope = the piece's larger end; at most
    /// ~2 candidates per arrival), or draw arrivals by inverting the integrated rate Λ(t) (closed
    /// form for piecewise-linear profiles); and never round a rejected candidate's gap down to 0.
    a_traffic_profile_with_a_1e9_peak_does_not_hang,
    Bounds { timeout: Duration::from_secs(scaled_secs(10)), ..Bounds::default_bounds() },
    {
        // A step profile at 0 then 1e9, and a linear ramp from 1 to 1e9 (where the thinning
        // envelope of the whole ramp is 1e9 while the factor near its start is 1).
        let profiles = [
            json!({ "shape": "step", "points": [ { "at": "0s", "factor": 0 }, { "at": "59m", "factor": 1e9 } ] }),
            json!({ "shape": "linear", "points": [ { "at": "0s", "factor": 1 }, { "at": "1h", "factor": 1e9 } ] }),
        ];
        for profile in profiles {
            let model = json!({
                "duration": "1h", "warmup": "0s", "replications": 1, "limits": { "max_events": 1000 },
                "clients": { "web": { "open": { "rate": "100/s", "profile": profile }, "calls": "api.get" } },
                "services": { "api": { "endpoints": { "get": [ { "cpu": "1ms" } ] } } }
            });
            let validated = parse_model(&model.to_string(), "peak.json").expect("a valid model");
            let result = capsim::run(&validated.model, &[], Some(1));
            println!("{profile}: {} events", result.events);
        }
    }
);

isolated_test!(
    /// src/sim/actions.rs, `on_action` (Inject): all `queries` injected queries are spawned in one
    /// loop inside one event; `spawn` sets the "unstable" stop once more than `limits.max_in_flight`
    /// jobs live, but the loop goes on, so `"inject": { "queries": 4000000000 }` (a valid
    /// PositiveInt) allocates a job and a waiter per query — hundreds of GB — whatever
    /// `max_in_flight` (1000 here) says. Fix: break out of the loop when `self.stop` is set (and/or
    /// refuse `queries` above `limits.max_in_flight` in validation).
    injecting_4e9_queries_stays_within_max_in_flight,
    Bounds { cap_bytes: 1 << 30, ..Bounds::default_bounds() },
    {
        let model = json!({
            "duration": "1m", "warmup": "0s", "replications": 1,
            "limits": { "max_events": 1000, "max_in_flight": 1000 },
            "services": { "api": { "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
            "databases": { "pg": {} },
            "actions": [ { "at": "1s", "inject": { "database": "pg", "queries": 4000000000u32, "cost": "1ms" } } ]
        });
        let Ok(validated) = parse_model(&model.to_string(), "inject.json") else {
            return; // refused by validation: a fix too
        };
        let result = capsim::run(&validated.model, &[], Some(1));
        assert!(result.verdict.unstable, "more than max_in_flight requests: {:?}", result.verdict);
    }
);

isolated_test!(
    /// src/sim/world.rs `World::new` + src/sim/resource.rs `Resource::new`: every instance gets its
    /// own worker `Resource` with an eagerly allocated 3-digit HDR `LatencyHistogram` (~16 KB) and
    /// series, ~17.5 KB per instance before the first event. validate.rs caps instances per service
    /// (MAX_INSTANCES = 100k, i.e. ~1.75 GB) but not in total, so this 1 KB model of 4 services at
    /// the limit needs ~7 GB per replication (times the replications run in parallel). Fix: one
    /// wait histogram per service (the instances' are merged at the end anyway) or allocate it on
    /// the first wait; and cap the total number of instances across services.
    services_at_the_instance_limit_stay_within_memory,
    Bounds { cap_bytes: 2 << 30, ..Bounds::default_bounds() },
    {
        let service = json!({ "instances": 100000, "endpoints": { "get": [ { "cpu": "1ms" } ] } });
        let model = json!({
            "duration": "1s", "warmup": "0s", "replications": 1, "limits": { "max_events": 1000 },
            "clients": { "web": { "open": { "rate": "10/s" }, "calls": "a.get" } },
            "services": { "a": service, "b": service, "c": service, "d": service }
        });
        let Ok(validated) = parse_model(&model.to_string(), "instances.json") else {
            return; // refused by validation: a fix too
        };
        let _ = capsim::run(&validated.model, &[], Some(1));
    }
);

/// src/sim/replication.rs, `station`: `capacity += r.capacity()` sums the workers of every
/// instance in a u32, so a valid service with instances × workers above u32::MAX (2 × 4e9 here;
/// reached by scaling the quickstart's `services.api.workers` by 1e9 in a scenario) panics at the
/// end of every replication ("attempt to add with overflow"; in a release build the sum wraps and
/// the reported capacity and utilisation are wrong). Fix: sum in u64 (`StationResult.capacity:
/// u64`, `u64::from(r.capacity())`), or refuse instances × workers above u32::MAX in validation.
#[test]
fn instances_times_workers_above_u32_max_is_not_an_overflow() {
    let model = json!({
        "duration": "1s", "warmup": "0s", "replications": 1, "limits": { "max_events": 1000 },
        "clients": { "web": { "open": { "rate": "10/s" }, "calls": "api.get" } },
        "services": { "api": { "instances": 2, "workers": 4000000000u32, "endpoints": { "get": [ { "cpu": "1ms" } ] } } }
    });
    let Ok(validated) = parse_model(&model.to_string(), "workers.json") else {
        return; // refused by validation: a fix too
    };
    let result = capsim::run(&validated.model, &[], Some(1));
    assert!(result.services[0].utilisation.mean >= 0.0);
}

/// src/report/plot.rs, `draw_panel`: the shaded span of a timed action (`Panel::spans`, from
/// `action_marks`) is drawn at its own start and end, but `ranges` leaves spans out of the x
/// range; an action that ends far past the plotted windows (a crash with a long `restart`, an
/// `add_latency` whose `for` outlasts the run) maps to a pixel beyond i32, and plotters'
/// `RangedCoordf64::map` overflows: "attempt to add with overflow" with overflow checks (test and
/// dev builds: `capsim run --report` panics), wrapped coordinates in release. Found by the
/// 100k-instance extreme (crash restart 36524d). Fix: clamp each span to the x range before
/// drawing (`from.max(x.start)..to.min(x.end)`, skipped when empty), as for verticals.
#[test]
fn an_action_lasting_past_the_run_plots_without_overflow() {
    let model = json!({
        "duration": "10s", "warmup": "0s", "replications": 1, "limits": { "max_events": 10000 },
        "clients": { "web": { "open": { "rate": "100/s" }, "calls": "api.get" } },
        "services": { "api": { "instances": 2, "endpoints": { "get": [ { "cpu": "1ms" } ] } } },
        "actions": [ { "at": "1s", "crash": { "service": "api", "instances": 1, "restart": "36524d" } } ]
    });
    let validated = parse_model(&model.to_string(), "span.json").expect("a valid model");
    let result = capsim::run(&validated.model, &[], Some(1));
    let _ = capsim::report::plot::svg(&capsim::report::plot::latency_over_time(&result, None));
    let _ = capsim::report::plot::svg(&capsim::report::plot::stations_over_time(&result, None));
}

isolated_test!(
    /// src/analysis/sweep.rs, `merge` (`capsim merge SHARD.json…`): `total_points` is read from the
    /// first shard file and trusted: `vec![false; total]` allocates it up front, and a shard that
    /// misses points gets a message listing every missing index (`Vec<String>` + `join`). A shard
    /// file saying `"total_points": 100000000` with one point needs ~3 GB; 1e12 aborts on the
    /// allocation. Fix: refuse a total above `scenario::sweep::MAX_POINTS` (no sweep can have
    /// more) or above what the shards hold plus a bound, and list only the first few missing
    /// indices ("points missing: 1, 2, 3, … (99999999 in all)").
    merging_a_shard_claiming_huge_total_points_is_refused_cheaply,
    Bounds { cap_bytes: 256 << 20, ..Bounds::default_bounds() },
    {
        for total in [100_000_000u64, 1_000_000_000_000] {
            // Refused from the header alone: the point is never read.
            let point = json!({ "index": 0, "values": [1], "metric": { "mean": 1.0 }, "slos_breached": [] });
            let shard = json!({ "schema_version": 1, "model": "m", "scenario": "", "params": ["a"], "metric": "web.p99",
                                "threshold": 0.1, "total_points": total, "round_trips": {}, "shard": "1/1", "points": [point] });
            let merged = capsim::analysis::sweep::merge(&[("shard.json".to_string(), shard)]);
            assert!(merged.is_err(), "total_points {total} with one point must be refused");
        }
    }
);
