//! A `publish` step: an endpoint sends messages to a queue and goes on at once, so the queue's
//! load follows the traffic that causes it. Worked in advance: every request that runs the step
//! sends `messages` messages, so published = messages × requests that ran it, exactly when every
//! request runs it, Binomial(requests, share) × messages otherwise; the consumer's offered load is
//! the publish rate × its service time.

use super::{capsim, scratch_dir};
use serde_json::Value;

/// 40 orders per second; each publishes `MESSAGES` emails first (share `SHARE`), then works 2 ms.
const MODEL: &str = r#"{
  "name": "publish", "duration": "10m", "warmup": "0s", "replications": 4, "seed": 5,
  "clients": { "shoppers": { "open": { "rate": "40/s" }, "calls": "shop.order" } },
  "services": {
    "shop": { "workers": 32, "endpoints": { "order": [
        { "publish": "emails", "messages": MESSAGES, "share": SHARE }, { "cpu": "exp(2ms)" } ] } },
    "mailer": { "workers": MAILERS, "endpoints": { "send": [ { "cpu": "exp(5ms)" } ] } }
  },
  "queues": { "emails": { "visibility_timeout": "30s", "consumer": { "calls": "mailer.send", "concurrency": 8 } } }
}"#;

fn run(messages: u32, share: f64, mailers: u32, extra: &[&str], test: &str) -> (Value, String) {
    let dir = scratch_dir(test);
    let model = dir.join("publish.json");
    let text = MODEL
        .replace("MESSAGES", &messages.to_string())
        .replace("SHARE", &share.to_string())
        .replace("MAILERS", &mailers.to_string());
    std::fs::write(&model, text).unwrap();
    let mut args = vec![
        "run".to_string(),
        model.display().to_string(),
        "--json".into(),
        "-".into(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = capsim(&args);
    run.expect_code(0);
    (serde_json::from_str(&run.stdout).unwrap(), run.stderr.clone())
}

fn published(result: &Value) -> u64 {
    result["queues"][0]["published"].as_u64().unwrap()
}

fn orders(result: &Value) -> u64 {
    result["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "shop.order")
        .unwrap()["counts"]["started"]
        .as_u64()
        .unwrap()
}

#[test]
fn every_request_that_runs_a_publish_step_sends_its_messages_and_no_more() {
    let (result, _) = run(3, 1.0, 8, &[], "publish-conservation");
    // Published first thing on arrival: every order counted has sent its three.
    assert_eq!(published(&result), 3 * orders(&result));
    // And every message is accounted for at the queue: done, dead-lettered, or left at the end.
    let q = &result["queues"][0];
    let accounted = q["deleted"].as_u64().unwrap() + q["dead_lettered"].as_u64().unwrap() + q["left_at_end"].as_u64().unwrap();
    assert_eq!(accounted, published(&result));
}

#[test]
fn a_share_of_requests_publishes_as_a_binomial_draw_says() {
    let (result, _) = run(2, 0.25, 8, &[], "publish-share");
    let n = orders(&result) as f64;
    let sent = published(&result) as f64 / 2.0;
    // Binomial(n, 1/4): 99.9 % of draws within 3.29 standard deviations of n/4.
    let sd = (n * 0.25 * 0.75).sqrt();
    assert!((sent - n * 0.25).abs() <= 3.29 * sd, "{sent} of {n} requests published");
}

#[test]
fn doubling_the_traffic_doubles_the_queue_s_load() {
    let (once, _) = run(1, 1.0, 8, &[], "publish-once");
    let (twice, _) = run(1, 1.0, 8, &["--set", "clients.shoppers.open.rate.scale=2"], "publish-twice");
    // Each exactly its own orders; the orders are Poisson counts at 40/s and 80/s over 4 × 10 min.
    assert_eq!(published(&once), orders(&once));
    assert_eq!(published(&twice), orders(&twice));
    let ratio = published(&twice) as f64 / published(&once) as f64;
    let (a, b) = (orders(&once) as f64, orders(&twice) as f64);
    let sd = ratio * (1.0 / a + 1.0 / b).sqrt();
    assert!((ratio - 2.0).abs() <= 3.29 * sd, "ratio {ratio}");
}

#[test]
fn the_overload_warning_counts_published_messages() {
    // 40 orders/s × 2 messages at 5 ms each: 0.4 of one mailer busy — no warning with one; with
    // 200 ms of work per message (set below) it is 16 mailers' worth, above 8.
    let (_, quiet) = run(2, 1.0, 1, &["--duration", "1m"], "publish-no-warning");
    assert!(!quiet.contains("offered load"), "{quiet}");
    let dir = scratch_dir("publish-warning");
    let model = dir.join("m.json");
    std::fs::write(
        &model,
        MODEL
            .replace("MESSAGES", "2")
            .replace("SHARE", "1")
            .replace("MAILERS", "8")
            .replace("exp(5ms)", "exp(200ms)"),
    )
    .unwrap();
    capsim(&["validate", &model.display().to_string()])
        .expect_code(0)
        .stderr_has("services.mailer: offered load at peak is 200 % of capacity");
}

#[test]
fn publish_steps_are_checked_by_name_and_may_not_loop_back() {
    let dir = scratch_dir("publish-bad");
    let cases = [
        (MODEL.replace("\"publish\": \"emails\"", "\"publish\": \"sms\""), "services.shop.endpoints.order[0].publish: no queue \"sms\" (queues: emails)"),
        (
            MODEL.replace("{ \"cpu\": \"exp(2ms)\" } ] } }", "{ \"cpu\": \"exp(2ms)\", \"messages\": 2 } ] } }"),
            "services.shop.endpoints.order[1].messages: \"messages\" belongs to a \"publish\" step",
        ),
        (
            MODEL.replace("\"calls\": \"mailer.send\"", "\"calls\": \"shop.order\""),
            "services: calls and published messages form a cycle (a queue's consumer leads back to what publishes to it): shop.order -> shop.order",
        ),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let model = dir.join(format!("bad-{i}.json"));
        std::fs::write(
            &model,
            text.replace("MESSAGES", "1").replace("SHARE", "1").replace("MAILERS", "8"),
        )
        .unwrap();
        capsim(&["validate", &model.display().to_string()])
            .expect_code(2)
            .stderr_has(message);
    }
}

/// A step publishing with a `delay`, on a queue whose consumer is never busy (1,000 slots for
/// 40 messages a second of 5 ms): a message is received the moment it becomes visible.
fn delayed(delay: &str) -> Value {
    let dir = scratch_dir(&format!("publish-delay-{}", delay.replace(['"', ' '], "")));
    let model = dir.join("delayed.json");
    let text = MODEL
        .replace(
            "\"messages\": MESSAGES, \"share\": SHARE",
            &format!("\"messages\": 2, \"delay\": {delay}"),
        )
        .replace("MAILERS", "1000")
        .replace("\"concurrency\": 8", "\"concurrency\": 1000")
        .replace("\"replications\": 4", "\"replications\": 2, \"window\": \"10s\"");
    std::fs::write(&model, text).unwrap();
    let run = capsim(&["run", &model.display().to_string(), "--json", "-", "--quiet"]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

fn receives_per_window(result: &Value) -> Vec<f64> {
    result["queues"][0]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["receives_per_s"].as_f64().unwrap())
        .collect()
}

#[test]
fn a_delayed_message_is_received_exactly_its_delay_after_it_was_published() {
    // Same seed, same orders: without a delay each message is received when it is published;
    // with a delay of 20 s (two 10 s windows) every receive moves two windows later, so the
    // receives per window are the undelayed ones shifted by two windows, exactly.
    let now = delayed("\"0s\"");
    let later = delayed("\"20s\"");
    let (a, b) = (receives_per_window(&now), receives_per_window(&later));
    assert_eq!(a.len(), 60);
    assert_eq!(&b[..2], &[0.0, 0.0]);
    assert_eq!(&b[2..], &a[..a.len() - 2]);
    // Messages per request are conserved: two per order, each done, or still in the queue (the
    // last 20 s's messages still delayed) at the end.
    for r in [&now, &later] {
        let q = &r["queues"][0];
        assert_eq!(published(r), 2 * orders(r));
        let done = q["deleted"].as_u64().unwrap();
        let left = q["left_at_end"].as_u64().unwrap();
        assert_eq!(done + left + q["dead_lettered"].as_u64().unwrap(), published(r));
    }
    // Roughly 20 s × 40 orders × 2 messages × 2 replications are still delayed at the end.
    let left = later["queues"][0]["left_at_end"].as_u64().unwrap() as f64;
    let expected = 20.0 * 40.0 * 2.0 * 2.0;
    assert!((left - expected).abs() <= 4.0 * (2.0 * expected).sqrt(), "{left}");
}

#[test]
fn a_delay_drawn_from_a_distribution_never_shows_a_message_before_its_shortest_delay() {
    // Delays uniform in [30 s, 40 s]: nothing is received in the first three 10 s windows.
    let r = delayed("\"uniform(30s, 40s)\"");
    let w = receives_per_window(&r);
    assert_eq!(&w[..3], &[0.0, 0.0, 0.0]);
    assert!(w[4] > 0.0);
}
