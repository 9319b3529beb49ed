//! `capsim init --from-traces` and `capsim calibrate` on traces made by the real OpenTelemetry
//! SDK (`tests/fixtures/traces/generate.py`): a shop whose structure and delays are known in
//! advance (`known.json`). The inferred model must have exactly that structure, its fitted
//! parameters must be within their sampling intervals of the known ones, and its replay must give
//! each endpoint's p50 and p99 within 10 % of the traces'.

use super::{capsim, root, scratch_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// 99.9 % two-sided normal quantile: the intervals below are this many standard errors wide.
const Z: f64 = 3.29;

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/traces").join(name)
}

fn infer(files: &[&str], extra: &[&str], test: &str) -> (Value, String) {
    let out = scratch_dir(test).join("model.json");
    let mut args: Vec<String> = vec!["init".into(), "--from-traces".into()];
    args.extend(files.iter().map(|f| fixture(f).display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".to_string(), out.display().to_string()]);
    let run = capsim(&args);
    run.expect_code(0);
    let text = std::fs::read_to_string(&out).expect("the model was written");
    (serde_json::from_str(&text).expect("the model is JSON"), run.stdout.clone())
}

/// `capsim init --from-traces FILE`, which must say `said`; the model it wrote.
fn init_from(file: &std::path::Path, said: &str) -> Value {
    let out = file.with_extension("model.json");
    capsim(&[
        "init",
        "--from-traces",
        &file.display().to_string(),
        "--out",
        &out.display().to_string(),
    ])
    .expect_code(0)
    .stdout_has(said);
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

/// A model inferred from the shop's traces in a fresh directory: (directory, model, traces).
fn shop_model(test: &str) -> (PathBuf, PathBuf, String) {
    let dir = scratch_dir(test);
    let model = dir.join("shop.json");
    let traces = fixture("shop.otlp.jsonl.gz").display().to_string();
    capsim(&["init", "--from-traces", &traces, "--out", &model.display().to_string()]).expect_code(0);
    (dir, model, traces)
}

/// `capsim calibrate MODEL --traces TRACES --json` (fitting or not), its JSON.
fn calibrated(dir: &Path, model: &Path, traces: &str) -> Value {
    let json = dir.join("fit.json");
    let run = capsim(&[
        "calibrate",
        &model.display().to_string(),
        "--traces",
        traces,
        "--json",
        &json.display().to_string(),
    ]);
    assert!(matches!(run.code, Some(0) | Some(1)), "{}", run.stderr);
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

fn steps(model: &Value, endpoint: &str) -> Vec<Value> {
    let (service, name) = endpoint.split_once('.').expect("service.endpoint");
    model["services"][service]["endpoints"][name]
        .as_array()
        .expect("steps")
        .clone()
}

/// What a step is, without its distributions: "cpu", "delay", "call X", "transaction DB×N".
fn kinds(model: &Value, endpoint: &str) -> Vec<String> {
    steps(model, endpoint)
        .iter()
        .map(|s| {
            if let Some(call) = s["call"].as_str() {
                format!("call {call}")
            } else if let Some(tx) = s.get("transaction") {
                format!("transaction {}×{}", tx["database"].as_str().unwrap_or("?"), tx["queries"])
            } else if let Some(queue) = s["publish"].as_str() {
                format!("publish {queue}")
            } else if s.get("cpu").is_some() {
                "cpu".into()
            } else {
                "delay".into()
            }
        })
        .collect()
}

/// The mean of a distribution written in the model, in ms (through capsim's own parser).
fn mean_ms(text: &Value) -> f64 {
    capsim::model::dist::Dist::parse(text.as_str().expect("a distribution"))
        .expect("it parses")
        .mean_secs()
        * 1e3
}

/// `value` is within `z` standard errors of `expected`.
#[track_caller]
fn within(what: &str, value: f64, expected: f64, standard_error: f64) {
    assert!(
        (value - expected).abs() <= Z * standard_error,
        "{what}: {value} is not within {Z} × {standard_error} of {expected}"
    );
}

#[test]
fn inferred_model_has_the_known_structure() {
    let (model, _) = infer(&["shop.otlp.jsonl.gz"], &[], "traces-structure");
    let services: Vec<&str> = model["services"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = services.clone();
    sorted.sort();
    assert_eq!(sorted, ["catalog", "gateway", "mailer", "orders"]);
    for (service, instances) in [("gateway", 2), ("orders", 1), ("catalog", 2), ("mailer", 1)] {
        assert_eq!(model["services"][service]["instances"], instances, "{service}");
    }
    assert_eq!(
        kinds(&model, "gateway.get_checkout"),
        ["cpu", "call orders.post_orders", "call catalog.get_items_id"]
    );
    assert_eq!(
        kinds(&model, "gateway.get_browse"),
        [
            "cpu",
            "call catalog.get_items_id",
            "call catalog.get_items_id",
            "call catalog.get_items_id"
        ]
    );
    assert_eq!(
        kinds(&model, "orders.post_orders"),
        ["cpu", "transaction pg×3", "delay", "publish emails"]
    );
    assert_eq!(kinds(&model, "catalog.get_items_id"), ["cpu", "delay", "transaction pg×1"]);
    // The message's consumer is traced: a queue whose consumer calls it.
    assert_eq!(kinds(&model, "mailer.emails_process"), ["cpu"]);
    assert_eq!(model["queues"]["emails"]["consumer"]["calls"], "mailer.emails_process");
    assert_eq!(
        steps(&model, "orders.post_orders")[2]["delay"],
        "0.2ms",
        "publishing takes 0.2 ms"
    );
    // Only the catalog call of checkout is made by a share of requests; only the catalog's query
    // is behind a cache.
    let checkout = steps(&model, "gateway.get_checkout");
    assert!(checkout[1].get("share").is_none() && checkout[2].get("share").is_some());
    assert!(steps(&model, "gateway.get_browse").iter().all(|s| s.get("share").is_none()));
    let catalog = steps(&model, "catalog.get_items_id");
    assert!(catalog[2].get("cache").is_some() && catalog[2].get("share").is_none());
    assert_eq!(catalog[1]["delay"], "0.3ms", "the redis lookup is a constant 0.3 ms");
    // Links: the calls' round trips, constant in the generator.
    assert_eq!(model["links"]["gateway -> orders"]["latency"], "1ms");
    assert_eq!(model["links"]["gateway -> catalog"]["latency"], "0.6ms");
    // One open client per entry point, and nothing else.
    let clients = model["clients"].as_object().unwrap();
    assert_eq!(clients.len(), 2);
    assert_eq!(clients["gateway-get_checkout"]["calls"], "gateway.get_checkout");
    assert_eq!(clients["gateway-get_browse"]["calls"], "gateway.get_browse");
    // It is a model capsim runs.
    let file = scratch_dir("traces-structure-run").join("m.json");
    std::fs::write(&file, model.to_string()).unwrap();
    capsim(&["validate".into(), file.display().to_string()]).expect_code(0);
}

#[test]
fn fitted_parameters_are_within_their_sampling_intervals_of_the_known_ones() {
    let (model, _) = infer(&["shop.otlp.jsonl.gz"], &[], "traces-parameters");
    let known: Value = serde_json::from_str(&std::fs::read_to_string(fixture("known.json")).unwrap()).unwrap();
    let seconds = known["seconds"].as_f64().unwrap();
    // Arrival rates: Poisson counts over the traces' time range.
    for (client, endpoint) in [
        ("gateway-get_checkout", "gateway.get_checkout"),
        ("gateway-get_browse", "gateway.get_browse"),
    ] {
        let rate = known["entry_rates_per_s"][endpoint].as_f64().unwrap();
        let written = model["clients"][client]["open"]["rate"].as_str().unwrap();
        let inferred: f64 = written.trim_end_matches("/s").parse().unwrap();
        within(client, inferred, rate, (rate / seconds).sqrt());
    }
    let z99 = 2.326_347_874_040_841_f64;
    let lognormal = |p50: f64, p99: f64| {
        let sigma = (p99 / p50).ln() / z99;
        (
            p50 * (sigma * sigma / 2.0).exp(),
            p50 * (sigma * sigma / 2.0).exp() * ((sigma * sigma).exp() - 1.0).sqrt(),
        )
    };
    let n_checkout = known["entry_rates_per_s"]["gateway.get_checkout"].as_f64().unwrap() * seconds;
    let n_browse = known["entry_rates_per_s"]["gateway.get_browse"].as_f64().unwrap() * seconds;
    let n_items = n_checkout * 0.6 + n_browse * 3.0;
    // Own (cpu) time per endpoint: the sum of the endpoint's cpu delays.
    let (ln_mean, ln_sd) = lognormal(2.0, 8.0);
    within(
        "checkout cpu",
        mean_ms(&steps(&model, "gateway.get_checkout")[0]["cpu"]),
        ln_mean + 1.0,
        ln_sd / n_checkout.sqrt(),
    );
    within(
        "browse cpu",
        mean_ms(&steps(&model, "gateway.get_browse")[0]["cpu"]),
        1.0 + 0.5,
        1.0 / n_browse.sqrt(),
    );
    within(
        "orders cpu",
        mean_ms(&steps(&model, "orders.post_orders")[0]["cpu"]),
        1.0 + 0.5,
        1.0 / n_checkout.sqrt(),
    );
    within(
        "catalog cpu",
        mean_ms(&steps(&model, "catalog.get_items_id")[0]["cpu"]),
        0.5,
        0.5 / n_items.sqrt(),
    );
    within(
        "mailer cpu",
        mean_ms(&steps(&model, "mailer.emails_process")[0]["cpu"]),
        3.0,
        3.0 / n_checkout.sqrt(),
    );
    // Queries.
    let (q_mean, q_sd) = lognormal(2.0, 6.0);
    let orders_tx = &steps(&model, "orders.post_orders")[1]["transaction"];
    within(
        "orders query",
        mean_ms(&orders_tx["query"]),
        q_mean,
        q_sd / (3.0 * n_checkout).sqrt(),
    );
    let items_tx = &steps(&model, "catalog.get_items_id")[2];
    within(
        "items query",
        mean_ms(&items_tx["transaction"]["query"]),
        4.0,
        4.0 / (0.3 * n_items).sqrt(),
    );
    // Shares: binomial.
    let share = steps(&model, "gateway.get_checkout")[2]["share"].as_f64().unwrap();
    within("checkout's catalog share", share, 0.6, (0.6 * 0.4 / n_checkout).sqrt());
    let hit = items_tx["cache"]["hit_ratio"].as_f64().unwrap();
    within("catalog cache hit ratio", hit, 0.7, (0.7 * 0.3 / n_items).sqrt());
}

#[test]
fn replay_reproduces_each_endpoint_s_p50_and_p99_within_10_percent() {
    let (dir, model, traces) = shop_model("traces-replay");
    let fit = calibrated(&dir, &model, &traces);
    let endpoints = fit["calibration"]["endpoints"].as_array().unwrap();
    assert_eq!(
        endpoints.len(),
        5,
        "every traced endpoint is compared (the queue's consumer too)"
    );
    for e in endpoints {
        for s in e["statistics"].as_array().unwrap() {
            let statistic = s["statistic"].as_str().unwrap();
            if matches!(statistic, "p50" | "p99" | "throughput") {
                let error = s["error"].as_f64().unwrap();
                assert!(error.abs() <= 0.10, "{} {statistic}: {error:+.3}", e["name"]);
            }
            assert_ne!(s["fit"], "MISFIT", "{} {statistic}", e["name"]);
        }
    }
    assert_ne!(fit["calibration"]["verdict"], "MISFIT");
}

#[test]
fn calibrate_finds_a_model_that_does_not_match() {
    // The same model with every orders query twice as slow: checkout's latency misfits.
    let (_, model, traces) = shop_model("traces-misfit");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    m["services"]["orders"]["endpoints"]["post_orders"][1]["transaction"]["query"] = "exp(4.5ms)".into();
    std::fs::write(&model, m.to_string()).unwrap();
    capsim(&["calibrate", &model.display().to_string(), "--traces", &traces])
        .expect_code(1)
        .stdout_has("MISFIT within 10 %");
}

#[test]
fn zipkin_jaeger_and_otlp_of_the_same_spans_give_the_same_structure() {
    let (otlp, _) = infer(&["shop-small.otlp.json"], &[], "traces-otlp");
    let (zipkin, _) = infer(&["shop-small.zipkin.json"], &[], "traces-zipkin");
    let (jaeger, _) = infer(&["shop-small.jaeger.json"], &[], "traces-jaeger");
    for model in [&zipkin, &jaeger] {
        for endpoint in [
            "gateway.get_checkout",
            "gateway.get_browse",
            "orders.post_orders",
            "catalog.get_items_id",
            "mailer.emails_process",
        ] {
            assert_eq!(kinds(model, endpoint), kinds(&otlp, endpoint), "{endpoint}");
        }
        for service in ["gateway", "orders", "catalog", "mailer"] {
            assert_eq!(
                model["services"][service]["instances"],
                otlp["services"][service]["instances"]
            );
        }
        assert_eq!(
            model["clients"].as_object().unwrap().len(),
            otlp["clients"].as_object().unwrap().len()
        );
    }
}

#[test]
fn head_sampling_scales_the_rates_back_up() {
    let (full, _) = infer(&["shop.otlp.jsonl.gz"], &[], "traces-rate-full");
    let (sampled, _) = infer(&["shop.otlp.jsonl.gz"], &["--sampling-rate", "10%"], "traces-rate-sampled");
    let rate = |m: &Value| -> f64 {
        m["clients"]["gateway-get_checkout"]["open"]["rate"]
            .as_str()
            .unwrap()
            .trim_end_matches("/s")
            .parse()
            .unwrap()
    };
    assert!(
        (rate(&sampled) / rate(&full) - 10.0).abs() < 0.01,
        "{} vs {}",
        rate(&sampled),
        rate(&full)
    );
}

#[test]
fn a_bounded_sample_keeps_whole_traces_and_says_so() {
    let (model, stdout) = infer(&["shop.otlp.jsonl.gz"], &["--max-spans", "5000"], "traces-bounded");
    assert!(stdout.contains("uniform sample of"), "{stdout}");
    // Whole traces: the structure is the same as from every trace.
    assert_eq!(kinds(&model, "gateway.get_browse").len(), 4);
    assert_eq!(
        kinds(&model, "orders.post_orders"),
        ["cpu", "transaction pg×3", "delay", "publish emails"]
    );
    // Rates still come from every span.
    let written = model["clients"]["gateway-get_checkout"]["open"]["rate"].as_str().unwrap();
    let inferred: f64 = written.trim_end_matches("/s").parse().unwrap();
    within("checkout rate", inferred, 30.0, (30.0f64 / 120.0).sqrt());
}

/// An OTLP line with one span per service: a client span at [t, t+10 ms] of "front" and the
/// server span of "back" it called, written by `back` with a clock `skew_ms` behind.
fn skewed_line(skew_ms: i64) -> String {
    let t = 1_764_500_000_000_000_000i64;
    let ms = 1_000_000i64;
    let span = |id: &str, parent: &str, name: &str, kind: u8, start: i64, end: i64, route: &str| {
        format!(
            r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","parentSpanId":"{parent}","name":"{name}","kind":{kind},"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","attributes":[{route}]}}"#
        )
    };
    let resource = |service: &str, spans: &[String]| {
        format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}"#,
            spans.join(",")
        )
    };
    let route = |r: &str| format!(r#"{{"key":"http.route","value":{{"stringValue":"{r}"}}}}"#);
    let front = [
        span("00000000000000a1", "", "GET /", 2, t, t + 12 * ms, &route("/")),
        span("00000000000000a2", "00000000000000a1", "GET", 3, t + ms, t + 11 * ms, ""),
    ];
    let back = [span(
        "00000000000000b1",
        "00000000000000a2",
        "GET /x",
        2,
        t + 2 * ms - skew_ms * ms,
        t + 10 * ms - skew_ms * ms,
        &route("/x"),
    )];
    format!(
        r#"{{"resourceSpans":[{},{}]}}"#,
        resource("front", &front),
        resource("back", &back)
    )
}

#[test]
fn a_server_span_before_its_caller_is_moved_inside_it() {
    let dir = scratch_dir("traces-skew");
    let file = dir.join("skew.jsonl");
    std::fs::write(&file, skewed_line(5) + "\n").unwrap();
    let model = init_from(
        &file,
        "1 server spans were moved inside their caller's client span (clock skew)",
    );
    // The round trip is the client span less the server span, whatever the clocks: 10 − 8 ms.
    assert_eq!(model["links"]["front -> back"]["latency"], "2ms");
    // front's own time: 12 ms less the 10 ms call.
    assert_eq!(model["services"]["front"]["endpoints"]["root"][0]["cpu"], "2ms");
}

#[test]
fn a_bad_trace_file_is_refused_naming_the_file_line_and_field() {
    let dir = scratch_dir("traces-bad");
    let file = dir.join("bad.jsonl");
    let good = skewed_line(0);
    let bad = good.replacen("\"startTimeUnixNano\":\"", "\"startTimeUnixNano\":\"soon", 1);
    std::fs::write(&file, format!("{good}\n{bad}\n")).unwrap();
    capsim(&["init", "--from-traces", &file.display().to_string(), "--out", "-"])
        .expect_code(2)
        .stderr_has(
            "bad.jsonl:2: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected nanoseconds since the Unix epoch",
        );
    let not_json = dir.join("notes.txt");
    std::fs::write(&not_json, "these are not traces\n").unwrap();
    capsim(&["init", "--from-traces", &not_json.display().to_string(), "--out", "-"])
        .expect_code(2)
        .stderr_has("notes.txt:1: expected OTLP JSON, Zipkin v2 JSON or Jaeger JSON");
    let no_id = dir.join("noid.json");
    std::fs::write(
        &no_id,
        r#"[{"traceId":"xyz","id":"01","timestamp":1,"duration":2,"localEndpoint":{"serviceName":"a"},"kind":"SERVER"}]"#,
    )
    .unwrap();
    capsim(&["init", "--from-traces", &no_id.display().to_string(), "--out", "-"])
        .expect_code(2)
        .stderr_has("noid.json: [0].traceId: expected a hex id of at most 32 digits, got \"xyz\"");
}

#[test]
fn check_judges_calibration_claims_against_the_model_s_own_traces() {
    let (_, model, _) = shop_model("traces-check");
    let path = model.display().to_string();
    // init names the traces (relative to the model) and claims the fit.
    capsim(&["check", &path])
        .expect_code(0)
        .stdout_has("PASS  calibration.error <= 10%");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    m["expect"] = serde_json::json!([
        { "that": "calibration.error <= 10%" },
        { "that": "calibration.orders.post_orders.throughput < 0.0001%" }
    ]);
    std::fs::write(&model, m.to_string()).unwrap();
    capsim(&["check", &path])
        .expect_code(1)
        .stdout_has("FAIL  calibration.orders.post_orders.throughput < 0.0001%");
    m["expect"] = serde_json::json!([{ "that": "calibration.orders.nope.p99 < 5%" }]);
    std::fs::write(&model, m.to_string()).unwrap();
    capsim(&["check", &path]).expect_code(2).stderr_has(
        "expect[0].that: \"calibration.orders.nope.p99\": no endpoint \"orders.nope\" in both the traces and the model (endpoints compared: ",
    );
    m["expect"] = serde_json::json!([{ "that": "calibration.error <= 10%" }]);
    m.as_object_mut().unwrap().remove("calibration");
    std::fs::write(&model, m.to_string()).unwrap();
    capsim(&["check", &path]).expect_code(2).stderr_has(
        "\"calibration.error\" is about the calibration, and the model has no \"calibration\" section naming trace files",
    );
}

#[test]
fn calibrate_report_has_the_verdict_the_table_the_plot_and_the_csv() {
    let (dir, model, _) = shop_model("traces-report");
    let report = dir.join("report");
    // The model's own calibration section names the traces: no --traces needed.
    let run = capsim(&[
        "calibrate",
        &model.display().to_string(),
        "--report",
        &report.display().to_string(),
    ]);
    assert!(matches!(run.code, Some(0) | Some(1)), "{}", run.stderr);
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for endpoint in [
        "gateway.get_checkout",
        "gateway.get_browse",
        "orders.post_orders",
        "catalog.get_items_id",
        "mailer.emails_process",
    ] {
        assert!(html.contains(endpoint), "{endpoint} missing from the page");
    }
    assert!(html.contains("within 10 %: the largest relative error is"));
    let csv = std::fs::read_to_string(report.join("calibration.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5 * 5, "a row per endpoint and statistic");
    let svg = std::fs::read_to_string(report.join("calibration.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the plot is well-formed SVG");
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.iter().any(|t| t.contains("traces")) && texts.iter().any(|t| t.contains("simulated")));
}

#[test]
fn requests_whose_caller_is_not_traced_get_a_client_standing_in_for_it() {
    // front's client span is missing (say its library is not instrumented): back's server span
    // has a parent that is not in the trace. Its requests still arrive, from a stand-in client.
    let dir = scratch_dir("traces-orphan");
    let file = dir.join("partial.jsonl");
    let line = skewed_line(0);
    let start = line
        .find(r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000a2""#)
        .unwrap();
    // Drop the client span's object (and the comma before it): it has no attributes, so it ends
    // at its `"attributes":[]}`.
    let object_end = start + line[start..].find("\"attributes\":[]}").unwrap() + "\"attributes\":[]}".len();
    let partial = format!("{}{}", &line[..start - 1], &line[object_end..]);
    std::fs::write(&file, partial + "\n").unwrap();
    let model = init_from(
        &file,
        "1 sampled requests of back.x came from a caller missing from their traces",
    );
    assert_eq!(model["clients"]["back-x-callers"]["calls"], "back.x");
    assert_eq!(model["clients"]["front-root"]["calls"], "front.root");
    // front no longer calls anyone it can see: its whole span is its own time.
    assert_eq!(model["services"]["front"]["endpoints"]["root"].as_array().unwrap().len(), 1);
}

#[test]
fn a_model_without_a_warm_up_is_replayed_with_its_own_default_one() {
    // No "warmup": the model's own is a twentieth of its 120 s, 6 s; the replay keeps it and runs
    // 6 s plus the traces' 120 s, and its throughput is still the traces'.
    let (dir, model, traces) = shop_model("traces-no-warmup");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("warmup");
    std::fs::write(&model, m.to_string()).unwrap();
    let fit = calibrated(&dir, &model, &traces);
    assert_eq!(fit["result"]["model"]["warmup_s"], 6.0);
    assert_eq!(fit["result"]["model"]["duration_s"], 126.0);
    for e in fit["calibration"]["endpoints"].as_array().unwrap() {
        let throughput = &e["statistics"][4];
        assert_eq!(throughput["statistic"], "throughput");
        assert!(throughput["error"].as_f64().unwrap().abs() <= 0.10, "{}", e["name"]);
    }
}

#[test]
fn a_calibration_report_that_cannot_be_written_is_refused_before_anything_is_read() {
    let (dir, model, traces) = shop_model("traces-bad-report");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "").unwrap();
    capsim(&[
        "calibrate",
        &model.display().to_string(),
        "--traces",
        &traces,
        "--report",
        &blocker.join("report").display().to_string(),
    ])
    .expect_code(2)
    .stderr_has("--report");
}
