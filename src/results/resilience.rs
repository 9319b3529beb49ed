//! Results of the resilience mechanisms: message queues (amplification, goodput, dead letters),
//! side effects per unit of work, wasted work, call-site policies and the metastability verdict.

use super::merge::{counts, error_rate, estimate, latency_summary, window_starts};
use super::metric::series;
use super::{Counts, LatencySummary, RunResult};
use crate::model::units::{format_duration_f64, nanos_to_secs};
use crate::model::{LimitKind, Model};
use crate::sim::replication::queue_column as column;
use crate::sim::tally::RequestTally;
use crate::sim::ReplicationResult;
use crate::stats::{CountSeries, Estimate};
use serde::{Deserialize, Serialize};

/// A message queue: what was published, how often messages were delivered, what came of them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueSummary {
    /// Name.
    pub name: String,
    /// The endpoint each message is delivered to.
    pub consumer_calls: String,
    /// Deliveries at once.
    pub concurrency: u32,
    /// Messages published (total over replications, after the warm-up).
    pub published: u64,
    /// Receives (deliveries started), total.
    pub receives: u64,
    /// Messages deleted after a successful delivery, total.
    pub deleted: u64,
    /// Messages moved to the dead-letter queue, total.
    pub dead_lettered: u64,
    /// Messages still in the queue at the end, total.
    pub left_at_end: u64,
    /// Work amplification: receives per message received at least once.
    pub amplification: Estimate,
    /// Messages done (deleted) per second: goodput.
    pub goodput_per_s: Estimate,
    /// Deliveries started per second: throughput, useful or not.
    pub deliveries_per_s: Estimate,
    /// Mean visible messages waiting.
    pub backlog: Estimate,
    /// Share of deliveries that failed (error or the consumer's timeout).
    pub delivery_error_rate: Estimate,
    /// Latency of successful deliveries.
    pub delivery_latency: LatencySummary,
    /// Deliveries by outcome.
    pub delivery_counts: Counts,
    /// Per time window.
    pub series: Vec<QueueWindow>,
}

/// One window of a queue, mean over replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueWindow {
    /// Start of the window, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Messages published per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub published_per_s: f64,
    /// Receives per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub receives_per_s: f64,
    /// Messages deleted per second (goodput).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub deleted_per_s: f64,
    /// Messages dead-lettered per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub dead_lettered_per_s: f64,
    /// Work amplification so far: receives per message received, from the warm-up to the end of
    /// this window (null before the first receive).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub amplification: f64,
    /// Mean visible messages.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub backlog: f64,
    /// Mean messages received and not yet done.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub in_flight: f64,
}

/// A side effect (an email sent): how often, and how often more than once for one unit of work.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EffectSummary {
    /// Name.
    pub name: String,
    /// Times it happened (total).
    pub count: u64,
    /// Times it happened again for a unit that had it already (total).
    pub duplicates: u64,
    /// Times it happened in a request whose caller had left (total).
    pub for_nobody: u64,
    /// Effects per unit of work that had it at least once (1 means no duplicates).
    pub per_unit: Estimate,
    /// Per time window.
    pub series: Vec<EffectWindow>,
}

/// One window of a side effect, mean over replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EffectWindow {
    /// Start of the window, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Effects per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub per_s: f64,
    /// Duplicates per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub duplicates_per_s: f64,
}

/// Work a service did for callers who had left, and work its idempotency checks skipped (totals).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WastedSummary {
    /// CPU seconds of steps started for nobody, per replication.
    pub cpu_s: Estimate,
    /// Queries sent for nobody.
    pub queries: u64,
    /// Downstream call attempts sent for nobody.
    pub calls: u64,
    /// Requests that ran to the end for nobody.
    pub finished_for_nobody: u64,
    /// Requests stopped because their caller had left.
    pub stopped: u64,
    /// Requests skipped because their unit of work was already in flight here.
    pub skipped_in_flight: u64,
    /// Requests skipped because their unit of work was already completed here.
    pub skipped_completed: u64,
}

impl WastedSummary {
    /// Whether the service did any work for nobody or skipped any.
    pub fn any(&self) -> bool {
        self.cpu_s.mean > 0.0
            || self.queries
                + self.calls
                + self.finished_for_nobody
                + self.stopped
                + self.skipped_in_flight
                + self.skipped_completed
                > 0
    }
}

/// What the policies of a call site did (totals).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallSiteSummary {
    /// "client web" or "api.checkout → menu.get".
    pub name: String,
    /// Retries the retry budget refused.
    pub budget_denied: u64,
    /// Attempts rejected locally by adaptive throttling.
    pub throttled: u64,
    /// Attempts failed fast by the open circuit breaker.
    pub breaker_refused: u64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
    /// Share of the run the breaker was open or half-open.
    pub breaker_open_share: Estimate,
}

/// Whether the system came back to its baseline after the trigger, judged in each replication
/// (see [`super::metastability`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Metastability {
    /// The metric watched.
    pub metric: String,
    /// When the trigger (first burst or timed action) started, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub trigger_start_s: f64,
    /// When the trigger ended (last burst sent, last action undone), seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub trigger_end_s: f64,
    /// The band of the metric before the trigger, from the windows pooled over replications (their
    /// range, widened by 10 %); each replication is judged against its own.
    #[serde(deserialize_with = "crate::stats::nan::pair")]
    pub baseline_band: [f64; 2],
    /// "stable", "recovered", "metastable" (at least one replication tipped over),
    /// "baseline_unhealthy" (saturated or drifting before the trigger) or "undetermined".
    pub status: super::metastability::Status,
    /// For "recovered": how long after the trigger ended, seconds (the slowest replication).
    pub recovered_after_s: Option<f64>,
    /// For "metastable": how long after the trigger ended the run was still out of band, seconds.
    pub still_out_after_s: Option<f64>,
    /// The verdict in a sentence.
    pub text: String,
    /// What each replication's windows after the trigger were compared with: "baseline band" (its
    /// own windows before the trigger) or "run without the trigger" (the same windows of the model
    /// without its timed actions and bursts, same seeds, when clients follow a load profile).
    #[serde(default)]
    pub judged_against: String,
    /// K: windows in a row, at the end of the run, worse than the band that make a replication
    /// metastable.
    #[serde(default)]
    pub persistence_windows: u32,
    /// Replications that tipped over (metastable).
    #[serde(default)]
    pub tipped: u32,
    /// Replications judged on a healthy baseline (stable, recovered or metastable).
    #[serde(default)]
    pub judged: u32,
    /// tipped / judged (NaN when none was judged).
    #[serde(default = "nan", deserialize_with = "crate::stats::nan::number")]
    pub tipped_share: f64,
    /// The 95 % Wilson score interval of the share tipped.
    #[serde(default = "nan_pair", deserialize_with = "crate::stats::nan::pair")]
    pub tipped_share_ci95: [f64; 2],
    /// Each replication's verdict, in replication order.
    #[serde(default)]
    pub replications: Vec<ReplicationMetastability>,
}

/// One replication's metastability verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplicationMetastability {
    /// The replication (0-based).
    pub replication: u32,
    /// "stable", "recovered", "metastable", "baseline_unhealthy" or "undetermined".
    pub status: super::metastability::Status,
    /// For "recovered": how long after the trigger ended, seconds.
    pub recovered_after_s: Option<f64>,
    /// For "baseline_unhealthy" and "undetermined": why.
    pub reason: Option<String>,
}

fn nan() -> f64 {
    f64::NAN
}

fn nan_pair() -> [f64; 2] {
    [f64::NAN, f64::NAN]
}

/// Per-replication rates of one queue column, and totals.
fn column_total(reps: &[ReplicationResult], q: usize, c: usize) -> u64 {
    reps.iter().map(|r| r.queues[q].totals[c]).sum()
}

/// Every queue of the model.
pub(super) fn queues(
    model: &Model,
    reps: &[ReplicationResult],
    observed_s: &dyn Fn(&ReplicationResult) -> f64,
    folds: &[super::merger::QueueFold],
) -> Vec<QueueSummary> {
    model
        .queues
        .iter()
        .enumerate()
        .map(|(q, spec)| {
            let tallies: Vec<(&RequestTally, f64)> = reps.iter().map(|r| (&r.queues[q].tally, observed_s(r))).collect();
            let window_s = nanos_to_secs(model.window_ns);
            let rows = folds[q].counts.as_ref().map_or(&[][..], |m| m.rows());
            let backlog = folds[q].backlog.means();
            let invisible = folds[q].invisible.means();
            let starts = window_starts(model, rows.len());
            let covering: Vec<f64> = (0..rows.len())
                .map(|i| super::merge::replications_in_window(model, reps, i))
                .collect();
            let per_s = |v: u64, i: usize| v as f64 / covering[i] / window_s;
            let (mut receives, mut firsts) = (0u64, 0u64);
            let series = rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    receives += row[column::RECEIVES];
                    firsts += row[column::FIRST_RECEIVES];
                    (i, row, receives, firsts)
                })
                .map(|(i, row, receives, firsts)| QueueWindow {
                    start_s: starts[i],
                    published_per_s: per_s(row[column::PUBLISHED], i),
                    receives_per_s: per_s(row[column::RECEIVES], i),
                    deleted_per_s: per_s(row[column::DELETED], i),
                    dead_lettered_per_s: per_s(row[column::DEAD_LETTERED], i),
                    amplification: if firsts == 0 {
                        f64::NAN
                    } else {
                        receives as f64 / firsts as f64
                    },
                    backlog: backlog.get(i).copied().unwrap_or(f64::NAN),
                    in_flight: invisible.get(i).copied().unwrap_or(f64::NAN),
                })
                .collect();
            QueueSummary {
                name: spec.name.clone(),
                consumer_calls: model.endpoints[spec.call.target.0].name.clone(),
                concurrency: spec.concurrency,
                published: column_total(reps, q, column::PUBLISHED),
                receives: column_total(reps, q, column::RECEIVES),
                deleted: column_total(reps, q, column::DELETED),
                dead_lettered: column_total(reps, q, column::DEAD_LETTERED),
                left_at_end: reps.iter().map(|r| r.queues[q].left_at_end).sum(),
                amplification: estimate(reps, |r| {
                    let t = &r.queues[q].totals;
                    if t[column::FIRST_RECEIVES] == 0 {
                        f64::NAN
                    } else {
                        t[column::RECEIVES] as f64 / t[column::FIRST_RECEIVES] as f64
                    }
                }),
                goodput_per_s: estimate(reps, |r| r.queues[q].totals[column::DELETED] as f64 / observed_s(r)),
                deliveries_per_s: estimate(reps, |r| r.queues[q].totals[column::RECEIVES] as f64 / observed_s(r)),
                backlog: estimate(reps, |r| r.queues[q].backlog_mean),
                delivery_error_rate: estimate(&tallies, |(t, _)| error_rate(t)),
                delivery_latency: latency_summary(&tallies.iter().map(|(t, _)| &t.latency_ok).collect::<Vec<_>>()),
                delivery_counts: counts(&tallies, 0),
                series,
            }
        })
        .collect()
}

/// Every side effect of the model.
pub(super) fn effects(model: &Model, reps: &[ReplicationResult], folds: &[Option<CountSeries<2>>]) -> Vec<EffectSummary> {
    model
        .effects
        .iter()
        .enumerate()
        .map(|(e, name)| {
            let window_s = nanos_to_secs(model.window_ns);
            let rows = folds[e].as_ref().map_or(&[][..], |m| m.rows());
            let starts = window_starts(model, rows.len());
            EffectSummary {
                name: name.clone(),
                count: reps.iter().map(|r| r.effects[e].count).sum(),
                duplicates: reps.iter().map(|r| r.effects[e].duplicates).sum(),
                for_nobody: reps.iter().map(|r| r.effects[e].for_nobody).sum(),
                per_unit: estimate(reps, |r| {
                    let t = &r.effects[e];
                    let units = t.count - t.duplicates;
                    if units == 0 {
                        f64::NAN
                    } else {
                        t.count as f64 / units as f64
                    }
                }),
                series: rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let covering = super::merge::replications_in_window(model, reps, i);
                        EffectWindow {
                            start_s: starts[i],
                            per_s: row[0] as f64 / covering / window_s,
                            duplicates_per_s: row[1] as f64 / covering / window_s,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// A service's wasted and skipped work.
pub fn wasted(reps: &[ReplicationResult], s: usize) -> WastedSummary {
    WastedSummary {
        cpu_s: estimate(reps, |r| r.wasted[s].cpu_ns as f64 / 1e9),
        queries: reps.iter().map(|r| r.wasted[s].queries).sum(),
        calls: reps.iter().map(|r| r.wasted[s].calls).sum(),
        finished_for_nobody: reps.iter().map(|r| r.wasted[s].finished).sum(),
        stopped: reps.iter().map(|r| r.wasted[s].stopped).sum(),
        skipped_in_flight: reps.iter().map(|r| r.skipped[s].0).sum(),
        skipped_completed: reps.iter().map(|r| r.skipped[s].1).sum(),
    }
}

/// A rate limit or a bulkhead: what it let through and what it turned away.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimitSummary {
    /// "api.rate_limit", "web.bulkhead", "api.checkout->payments.charge.bulkhead".
    pub name: String,
    /// "rate limit" or "bulkhead".
    pub kind: String,
    /// Its settings: "100/s, burst 20"; "8 at once, line 16, max wait 50 ms".
    pub setting: String,
    /// Requests (call attempts) let through, total over replications after the warm-up.
    pub admitted: u64,
    /// Requests turned away, total.
    pub rejected: u64,
    /// Let through per second.
    pub admitted_per_s: Estimate,
    /// Turned away per second.
    pub rejected_per_s: Estimate,
    /// Share of the requests it saw that it turned away.
    pub rejected_share: Estimate,
    /// Per time window.
    pub series: Vec<LimitWindow>,
}

/// One window of a limit, over replications.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimitWindow {
    /// Start of the window, seconds.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub start_s: f64,
    /// Let through per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub admitted_per_s: f64,
    /// Turned away per second.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub rejected_per_s: f64,
    /// Share of the window's requests turned away (null when it saw none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub rejected_share: f64,
}

/// How a limit is set, in words.
fn limit_setting(kind: &LimitKind) -> String {
    match kind {
        LimitKind::RateLimit(r) => format!("{}/s, burst {}", super::metric::significant(r.rate_per_s), r.burst),
        LimitKind::Bulkhead(b) => {
            let mut text = format!("{} at once", b.max_concurrent);
            match b.queue {
                0 => text.push_str(", no line"),
                u32::MAX => text.push_str(", line unbounded"),
                q => text.push_str(&format!(", line {q}")),
            }
            if let Some(w) = b.max_wait_ns {
                text.push_str(&format!(", max wait {}", crate::model::units::format_duration(w)));
            }
            if b.instances > 1 {
                text.push_str(" per instance");
            }
            text
        }
    }
}

/// Every rate limit and bulkhead of the model.
pub(super) fn limits(model: &Model, reps: &[ReplicationResult], folds: &[Option<CountSeries<2>>]) -> Vec<LimitSummary> {
    use crate::sim::replication::limit_column::{ADMITTED, REJECTED};
    let observed_s = |r: &ReplicationResult| nanos_to_secs(r.end_ns.saturating_sub(model.warmup_ns)).max(f64::MIN_POSITIVE);
    let share = |admitted: u64, rejected: u64| {
        if admitted + rejected == 0 {
            f64::NAN
        } else {
            rejected as f64 / (admitted + rejected) as f64
        }
    };
    model
        .limits
        .iter()
        .enumerate()
        .map(|(l, limit)| {
            let window_s = nanos_to_secs(model.window_ns);
            let rows = folds[l].as_ref().map_or(&[][..], |m| m.rows());
            let starts = window_starts(model, rows.len());
            LimitSummary {
                name: limit.name.clone(),
                kind: match limit.kind {
                    LimitKind::RateLimit(_) => "rate limit",
                    LimitKind::Bulkhead(_) => "bulkhead",
                }
                .into(),
                setting: limit_setting(&limit.kind),
                admitted: reps.iter().map(|r| r.limits[l].totals[ADMITTED]).sum(),
                rejected: reps.iter().map(|r| r.limits[l].totals[REJECTED]).sum(),
                admitted_per_s: estimate(reps, |r| r.limits[l].totals[ADMITTED] as f64 / observed_s(r)),
                rejected_per_s: estimate(reps, |r| r.limits[l].totals[REJECTED] as f64 / observed_s(r)),
                rejected_share: estimate(reps, |r| share(r.limits[l].totals[ADMITTED], r.limits[l].totals[REJECTED])),
                series: rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let covering = super::merge::replications_in_window(model, reps, i);
                        LimitWindow {
                            start_s: starts[i],
                            admitted_per_s: row[ADMITTED] as f64 / covering / window_s,
                            rejected_per_s: row[REJECTED] as f64 / covering / window_s,
                            rejected_share: share(row[ADMITTED], row[REJECTED]),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The call sites that have a policy.
pub fn call_sites(model: &Model, reps: &[ReplicationResult]) -> Vec<CallSiteSummary> {
    model
        .call_sites
        .iter()
        .enumerate()
        .filter(|(_, site)| site.has_policy())
        .map(|(i, site)| CallSiteSummary {
            name: site.name.clone(),
            budget_denied: reps.iter().map(|r| r.sites[i].budget_denied).sum(),
            throttled: reps.iter().map(|r| r.sites[i].throttled).sum(),
            breaker_refused: reps.iter().map(|r| r.sites[i].breaker_refused).sum(),
            breaker_opened: reps.iter().map(|r| r.sites[i].breaker_opened).sum(),
            breaker_open_share: estimate(reps, |r| r.sites[i].breaker_not_closed_ns as f64 / r.end_ns.max(1) as f64),
        })
        .collect()
}

/// The metastability verdict on the model's watched metric. `result` holds the merged windows;
/// `per_replication` the metric's windows in each replication (in order) and `reference` those of
/// each replication of the run without the trigger, when the load follows a profile.
pub fn metastability(
    model: &Model,
    result: &RunResult,
    per_replication: &[Vec<(f64, f64)>],
    reference: Option<&[Vec<(f64, f64)>]>,
) -> Option<Metastability> {
    use super::metastability::{band, judge, Status, Watch};
    let metric = model.metastability.clone()?;
    let undetermined = |why: String, start: f64, end: f64| Metastability {
        metric: metric.clone(),
        trigger_start_s: start,
        trigger_end_s: end,
        baseline_band: [f64::NAN, f64::NAN],
        status: Status::Undetermined,
        recovered_after_s: None,
        still_out_after_s: None,
        text: format!("metastability undetermined: {why}"),
        judged_against: String::new(),
        persistence_windows: 0,
        tipped: 0,
        judged: 0,
        tipped_share: f64::NAN,
        tipped_share_ci95: [f64::NAN, f64::NAN],
        replications: Vec::new(),
    };
    let Some((start, end)) = model.trigger_s() else {
        return Some(undetermined(
            "the model has no trigger (no burst, no timed action)".into(),
            0.0,
            0.0,
        ));
    };
    let windows = match series(result, &metric) {
        Ok(w) => w,
        Err(why) => return Some(undetermined(why, start, end)),
    };
    let width = result.model.window_s;
    let pooled_band = band(windows.iter().filter(|w| w.0 + width <= start + 1e-9).map(|w| w.1)).unwrap_or([f64::NAN, f64::NAN]);
    let watch = Watch {
        metric: &metric,
        direction: super::metric::direction(&metric),
        utilisation: metric.ends_with(".utilisation"),
        window_s: width,
        trigger_start_s: start,
        trigger_end_s: end,
        reference,
    };
    let judgements: Vec<_> = per_replication.iter().map(|w| judge(&watch, w)).collect();
    let count = |s: Status| judgements.iter().filter(|j| j.status == s).count() as u32;
    let (tipped, unhealthy) = (count(Status::Metastable), count(Status::BaselineUnhealthy));
    let judged = tipped + count(Status::Recovered) + count(Status::Stable);
    let recovered = count(Status::Recovered);
    let [ci_low, ci_high] = crate::stats::wilson_interval(u64::from(tipped), u64::from(judged));
    let share = if judged == 0 {
        f64::NAN
    } else {
        f64::from(tipped) / f64::from(judged)
    };
    let against = if reference.is_some() {
        "the run without the trigger"
    } else {
        "its baseline band"
    };
    let percent = |v: f64| {
        if v == 0.0 {
            "0".to_string()
        } else {
            super::metric::significant(100.0 * v)
        }
    };
    let odds = format!(
        "{tipped} of {judged} replication{} tipped over ({} %, 95 % CI {}–{} %)",
        if judged == 1 { "" } else { "s" },
        percent(share),
        percent(ci_low),
        percent(ci_high)
    );
    let k = judgements.iter().map(|j| j.persistence_windows).max().unwrap_or(0);
    let slowest = judgements
        .iter()
        .filter_map(|j| j.recovered_after_s)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let first_reason = |s: Status| {
        judgements
            .iter()
            .find(|j| j.status == s)
            .and_then(|j| j.reason.clone())
            .unwrap_or_default()
    };
    let n = judgements.len();
    let (status, recovered_after, still_out, text) = if unhealthy > 0 {
        (
            Status::BaselineUnhealthy,
            None,
            None,
            format!(
                "baseline not healthy in {unhealthy} of {n} replications: {}; no verdict on the trigger{}",
                first_reason(Status::BaselineUnhealthy),
                if judged > 0 {
                    format!(" (of the others, {odds})")
                } else {
                    String::new()
                }
            ),
        )
    } else if judged == 0 {
        let why = if n == 0 {
            "no replication was run".to_string()
        } else {
            first_reason(Status::Undetermined)
        };
        return Some(Metastability {
            baseline_band: pooled_band,
            ..undetermined(why, start, end)
        });
    } else if tipped > 0 {
        let out = result.model.duration_s - end;
        (
            Status::Metastable,
            None,
            Some(out),
            format!(
                "METASTABLE in {tipped} of {judged} replications ({} %, 95 % CI {}–{} %): {metric} still worse than {against} {} after the trigger ended (the last {k} windows or more of the run)",
                percent(share),
                percent(ci_low),
                percent(ci_high),
                format_duration_f64(out)
            ),
        )
    } else if recovered > 0 {
        let after = slowest.unwrap_or(0.0);
        (
            Status::Recovered,
            Some(after),
            None,
            format!(
                "recovered: {metric} got worse than {against} in {recovered} of {judged} replications and was back at most {} after the trigger ended; {odds}",
                format_duration_f64(after)
            ),
        )
    } else {
        (
            Status::Stable,
            None,
            None,
            format!("stable: {metric} never got worse than {against} through the trigger; {odds}"),
        )
    };
    let skipped = count(Status::Undetermined);
    let text = if skipped > 0 && status != Status::BaselineUnhealthy {
        format!(
            "{text} ({skipped} replication{} undetermined: {})",
            if skipped == 1 { "" } else { "s" },
            first_reason(Status::Undetermined)
        )
    } else {
        text
    };
    Some(Metastability {
        metric: metric.clone(),
        trigger_start_s: start,
        trigger_end_s: end,
        baseline_band: pooled_band,
        status,
        recovered_after_s: recovered_after,
        still_out_after_s: still_out,
        text,
        judged_against: if reference.is_some() {
            "run without the trigger"
        } else {
            "baseline band"
        }
        .into(),
        persistence_windows: k as u32,
        tipped,
        judged,
        tipped_share: share,
        tipped_share_ci95: [ci_low, ci_high],
        replications: judgements
            .iter()
            .enumerate()
            .map(|(r, j)| ReplicationMetastability {
                replication: r as u32,
                status: j.status,
                recovered_after_s: j.recovered_after_s,
                reason: j.reason.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::Metastability;
    use crate::results::metastability::Status;

    #[test]
    fn a_verdict_written_before_the_per_replication_fields_reads_back() {
        // The fields of a results file from before: no share, no replications.
        let old = r#"{ "metric": "search.utilisation", "trigger_start_s": 3600, "trigger_end_s": 12660,
            "baseline_band": [0.068, 0.095], "status": "metastable", "recovered_after_s": null,
            "still_out_after_s": 5340, "text": "METASTABLE: …" }"#;
        let m: Metastability = serde_json::from_str(old).expect("an old verdict reads back");
        assert_eq!(m.status, Status::Metastable);
        assert_eq!((m.tipped, m.judged, m.replications.len()), (0, 0, 0));
        assert!(m.tipped_share.is_nan() && m.tipped_share_ci95[0].is_nan());
    }
}
