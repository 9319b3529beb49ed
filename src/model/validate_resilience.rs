//! Validation of the resilience settings: call policies, idempotency checks, side effects,
//! message queues and the metastability metric.

use super::resilience::{CompletedStore, Idempotency, MessageQueue};
use super::spec::{
    BreakerSpec, BudgetSpec, BulkheadSpec, HedgeSpec, IdempotencySpec, MessageQueueSpec, RateLimitSpec, RetrySpec, ThrottleSpec,
};
use super::validate::{key, Checker};
use super::{
    Breaker, Budget, Bulkhead, Call, CallSite, EndpointId, Hedge, HedgeTrigger, Limit, LimitKind, Nanos, RateLimit, Retry,
    Throttle,
};

/// Default sliding window of budgets and breakers: 10 s.
const DEFAULT_WINDOW_NS: Nanos = 10_000_000_000;
/// Default window of adaptive throttling: 2 minutes (as in the SRE book).
const DEFAULT_THROTTLE_WINDOW_NS: Nanos = 120_000_000_000;
/// Most distinct side effects in a model (a unit of work keeps one bit per effect).
pub const MAX_EFFECTS: usize = 64;

/// The policies of a call as written: retries, throttle, breaker, rate limit and bulkhead.
pub(super) struct SitePolicies<'a> {
    pub retry: Option<&'a RetrySpec>,
    pub throttle: Option<&'a ThrottleSpec>,
    pub breaker: Option<&'a BreakerSpec>,
    pub rate_limit: Option<&'a RateLimitSpec>,
    pub bulkhead: Option<&'a BulkheadSpec>,
    pub hedge: Option<&'a HedgeSpec>,
}

/// Build the call site of a call: its name and its policies, checked. Its rate limit and
/// bulkhead are added to `limits`, named `limit_name` + ".rate_limit" / ".bulkhead"; `instances`
/// is how many instances the calling side has (each has its own bulkhead).
#[allow(clippy::too_many_arguments)]
pub(super) fn call_site(
    name: String,
    policies: SitePolicies,
    limit_name: &str,
    instances: u32,
    limits: &mut Vec<Limit>,
    path: &str,
    check: &mut Checker,
) -> CallSite {
    let rate_limit = policies.rate_limit.and_then(|r| {
        rate_limit(
            r,
            &format!("{limit_name}.rate_limit"),
            &format!("{path}.rate_limit"),
            limits,
            check,
        )
    });
    let bulkhead = policies.bulkhead.and_then(|b| {
        let kind = LimitKind::Bulkhead(resolve_bulkhead(b, instances, &format!("{path}.bulkhead"), check)?);
        limits.push(Limit {
            name: format!("{limit_name}.bulkhead"),
            kind,
        });
        Some(limits.len() - 1)
    });
    CallSite {
        name,
        budget: policies
            .retry
            .and_then(|r| r.budget.as_ref())
            .and_then(|b| budget(b, &format!("{path}.retry.budget"), check)),
        throttle: policies
            .throttle
            .and_then(|t| resolve_throttle(t, &format!("{path}.throttle"), check)),
        breaker: policies
            .breaker
            .and_then(|b| resolve_breaker(b, &format!("{path}.breaker"), check)),
        rate_limit,
        bulkhead,
        hedge: policies.hedge.and_then(|h| {
            let trigger = resolve_hedge(h, &format!("{path}.hedge"), check)?;
            Some(Hedge {
                name: format!("{limit_name}.hedge"),
                trigger,
            })
        }),
    }
}

/// A hedge policy: a fixed delay (`after`) or a percentile of the call's answers (`at`, "p95").
fn resolve_hedge(h: &HedgeSpec, path: &str, check: &mut Checker) -> Option<HedgeTrigger> {
    match (&h.after, &h.at) {
        (Some(after), None) => {
            if after.0 == 0 {
                check.error(
                    format!("{path}.after"),
                    "expected a delay above 0 (a copy sent at once doubles every call; leave out \"hedge\" for none)",
                );
                return None;
            }
            Some(HedgeTrigger::After(after.0))
        }
        (None, Some(at)) => {
            let q = at.strip_prefix('p').and_then(|q| q.parse::<f64>().ok());
            match q {
                Some(q) if q > 0.0 && q < 100.0 => Some(HedgeTrigger::At(q)),
                _ => {
                    check.error(
                        format!("{path}.at"),
                        format!("expected a percentile of the call's latency such as \"p95\" (between p0 and p100, exclusive), got \"{at}\""),
                    );
                    None
                }
            }
        }
        _ => {
            check.error(
                path.to_string(),
                "expected exactly one of \"after\" (a delay such as \"50ms\") or \"at\" (a percentile such as \"p95\")",
            );
            None
        }
    }
}

/// A token bucket named `name`, added to `limits`; its index.
pub(super) fn rate_limit(
    r: &RateLimitSpec,
    name: &str,
    path: &str,
    limits: &mut Vec<Limit>,
    check: &mut Checker,
) -> Option<usize> {
    let rate_per_s = r.rate.0;
    if !(rate_per_s > 0.0 && rate_per_s.is_finite()) {
        check.error(
            format!("{path}.rate"),
            format!("expected a rate above 0 (leave out \"rate_limit\" for none), got {rate_per_s}/s"),
        );
        return None;
    }
    // One second of the rate by default, at least one token.
    let burst = r
        .burst
        .map_or_else(|| rate_per_s.ceil().clamp(1.0, f64::from(u32::MAX)) as u32, |b| b.0);
    limits.push(Limit {
        name: name.to_string(),
        kind: LimitKind::RateLimit(RateLimit { rate_per_s, burst }),
    });
    Some(limits.len() - 1)
}

fn resolve_bulkhead(b: &BulkheadSpec, instances: u32, path: &str, check: &mut Checker) -> Option<Bulkhead> {
    let max_wait_ns = match b.max_wait {
        Some(w) if w.0 == 0 => {
            check.error(
                format!("{path}.max_wait"),
                "expected a duration above 0 (leave it out to wait without limit, or set \"queue\": 0 to reject at once)",
            );
            return None;
        }
        w => w.map(|w| w.0),
    };
    let queue = match (b.queue, max_wait_ns) {
        (Some(q), _) => q.0,
        (None, Some(_)) => u32::MAX,
        (None, None) => 0,
    };
    if queue == 0 && max_wait_ns.is_some() {
        check.error(
            format!("{path}.max_wait"),
            "a bulkhead with \"queue\": 0 rejects at once: \"max_wait\" needs a line",
        );
        return None;
    }
    Some(Bulkhead {
        max_concurrent: b.max_concurrent.0,
        queue,
        max_wait_ns,
        instances,
    })
}

fn window(w: Option<super::values::DurationValue>, default: Nanos, path: &str, check: &mut Checker) -> Option<Nanos> {
    match w {
        Some(w) if w.0 == 0 => {
            check.error(path, "expected a duration above 0");
            None
        }
        Some(w) => Some(w.0),
        None => Some(default),
    }
}

fn budget(b: &BudgetSpec, path: &str, check: &mut Checker) -> Option<Budget> {
    Some(Budget {
        ratio: b.ratio.0,
        min_per_s: b.min_per_s.map_or(0.0, |m| m.0),
        window_ns: window(b.window, DEFAULT_WINDOW_NS, &format!("{path}.window"), check)?,
    })
}

fn resolve_throttle(t: &ThrottleSpec, path: &str, check: &mut Checker) -> Option<Throttle> {
    let k = t.k.map_or(2.0, |k| k.0);
    if k < 1.0 {
        check.error(
            format!("{path}.k"),
            format!("expected k of at least 1 (below 1 even a healthy backend is throttled), got {k}"),
        );
        return None;
    }
    Some(Throttle {
        k,
        window_ns: window(t.window, DEFAULT_THROTTLE_WINDOW_NS, &format!("{path}.window"), check)?,
    })
}

fn resolve_breaker(b: &BreakerSpec, path: &str, check: &mut Checker) -> Option<Breaker> {
    let share = |v: Option<super::values::Factor>, field: &str, check: &mut Checker| match v {
        Some(f) if f.0 <= 0.0 || f.0 > 1.0 => {
            check.error(
                format!("{path}.{field}"),
                format!("expected a share above 0 and at most 1, got {}", f.0),
            );
            Err(())
        }
        v => Ok(v.map(|f| f.0)),
    };
    let failure_rate = share(b.failure_rate, "failure_rate", check).ok()?;
    let slow_call_rate = share(b.slow_call_rate, "slow_call_rate", check).ok()?;
    if failure_rate.is_none() && b.slow_call.is_none() {
        check.error(path, "a breaker needs \"failure_rate\" or \"slow_call\" (or both)");
        return None;
    }
    if slow_call_rate.is_some() && b.slow_call.is_none() {
        check.error(format!("{path}.slow_call_rate"), "\"slow_call_rate\" needs \"slow_call\"");
        return None;
    }
    if b.open_for.0 == 0 {
        check.error(format!("{path}.open_for"), "expected a duration above 0");
        return None;
    }
    Some(Breaker {
        failure_rate,
        slow_call_ns: b.slow_call.map(|d| d.0),
        slow_call_rate: slow_call_rate.unwrap_or(1.0),
        window_ns: window(b.window, DEFAULT_WINDOW_NS, &format!("{path}.window"), check)?,
        min_calls: b.min_calls.map_or(20, |n| n.0),
        open_ns: b.open_for.0,
        probes: b.probes.map_or(1, |n| n.0),
    })
}

/// A service's idempotency checks.
pub(super) fn idempotency(spec: Option<&IdempotencySpec>, path: &str, check: &mut Checker) -> Idempotency {
    let Some(spec) = spec else {
        return Idempotency::default();
    };
    if spec.dedupe.as_ref().is_some_and(|d| d.ttl.is_some()) {
        check.error(
            format!("{path}.idempotency.dedupe.ttl"),
            "an in-flight key lasts as long as its request; \"ttl\" belongs to \"skip_completed\"",
        );
    }
    Idempotency {
        dedupe_capacity: spec.dedupe.as_ref().map(|d| d.capacity.map_or(u32::MAX, |c| c.0)),
        completed: spec.skip_completed.as_ref().map(|c| CompletedStore {
            capacity: c.capacity.map_or(u32::MAX, |c| c.0),
            ttl_ns: c.ttl.map(|t| t.0).filter(|&t| t > 0),
        }),
    }
}

/// The index of side effect `name`, added to `effects` when new.
pub(super) fn effect_id(name: &str, effects: &mut Vec<String>, path: &str, check: &mut Checker) -> Option<u32> {
    if name.trim().is_empty() {
        check.error(path, "expected the name of the side effect, like \"email\"");
        return None;
    }
    if let Some(i) = effects.iter().position(|e| e == name) {
        return Some(i as u32);
    }
    if effects.len() >= MAX_EFFECTS {
        check.error(
            path,
            format!("expected at most {MAX_EFFECTS} distinct side effects in a model"),
        );
        return None;
    }
    effects.push(name.to_string());
    Some(effects.len() as u32 - 1)
}

/// Resolve one message queue; its consumer's call is built by `make_call` (target, timeout).
pub(super) fn queue(
    name: &str,
    q: &MessageQueueSpec,
    target: Result<EndpointId, String>,
    make_call: impl FnOnce(EndpointId, Option<Nanos>) -> Call,
    published_by_steps: bool,
    check: &mut Checker,
) -> Option<MessageQueue> {
    let path = format!("queues.{}", key(name));
    if q.visibility_timeout.0 == 0 {
        check.error(format!("{path}.visibility_timeout"), "expected a duration above 0");
    }
    if q.producers.is_empty() && !published_by_steps {
        check.warn(format!("{path}.producers"), "no producer: the queue stays empty");
    }
    let mut steady = Vec::new();
    let mut bursts = Vec::new();
    for (producer, p) in &q.producers {
        let ppath = format!("{path}.producers.{}", key(producer));
        if p.rate.is_none() && p.bursts.is_empty() {
            check.error(&ppath, "a producer needs a \"rate\" or \"bursts\" (or both)");
        }
        if let Some(r) = p.rate {
            steady.push((producer.clone(), r.0));
        }
        for b in &p.bursts {
            bursts.push(super::resilience::Burst {
                producer: producer.clone(),
                at_ns: b.at.0,
                messages: b.messages.0,
                over_ns: b.over.map_or(0, |o| o.0),
            });
        }
    }
    bursts.sort_by_key(|b| b.at_ns);
    let target = match target {
        Ok(t) => t,
        Err(why) => {
            check.error(format!("{path}.consumer.calls"), why);
            return None;
        }
    };
    let timeout = match q.consumer.timeout {
        Some(t) if t.0 == 0 => {
            check.error(
                format!("{path}.consumer.timeout"),
                "expected a duration above 0 (leave it out to wait forever)",
            );
            return None;
        }
        t => t.map(|t| t.0),
    };
    let call = make_call(target, timeout);
    debug_assert_eq!(call.retry, Retry::none());
    Some(MessageQueue {
        name: name.to_string(),
        steady,
        bursts,
        visibility_ns: q.visibility_timeout.0,
        error_visibility_ns: q.error_visibility_timeout.map_or(q.visibility_timeout.0, |e| e.0),
        max_receives: q.max_receives.map(|m| m.0),
        concurrency: q.consumer.concurrency.0,
        call,
    })
}
