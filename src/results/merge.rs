//! Merging replications: per-replication values become estimates with confidence intervals.

use super::merger::{Finished, Kept, LevelFold, Merger};
use super::slo::evaluate_slos;
use super::*;
use crate::model::units::{format_duration, nanos_to_secs};
use crate::model::{Arrivals, Model};
use crate::sim::replication::StationResult;
use crate::sim::tally::RequestTally;
use crate::sim::ReplicationResult;
use crate::stats::{LatencyHistogram, WindowSeries};

/// Milliseconds in a nanosecond count.
fn ms(ns: f64) -> f64 {
    ns / 1e6
}

/// The estimate of `f` over the replications.
pub(super) fn estimate<T>(items: &[T], f: impl Fn(&T) -> f64) -> Estimate {
    Estimate::from_samples(&items.iter().map(f).collect::<Vec<_>>())
}

/// Merge the replications of `model` into one result (see [`Merger`]), in replication order
/// whatever order they come in.
pub fn summarize(model: &Model, warnings: &[String], mut reps: Vec<ReplicationResult>) -> RunResult {
    reps.sort_by_key(|r| r.replication);
    let mut merger = Merger::new(model, warnings);
    for r in reps {
        merger.add(Finished::of(model, r));
    }
    merger.finish()
}

/// The result of the replications `kept` (those every estimate covers, their series summed),
/// with `verdict` on the whole run; the metastability verdict is left to the [`Merger`].
pub(super) fn summary(model: &Model, warnings: &[String], verdict: Verdict, kept: &Kept) -> RunResult {
    let observed_s = |r: &ReplicationResult| nanos_to_secs(r.end_ns.saturating_sub(model.warmup_ns)).max(f64::MIN_POSITIVE);
    let reps = &kept.reps[..];
    let client_series = &kept.folds.clients;
    let endpoint_series = &kept.folds.endpoints;
    let clients = model
        .clients
        .iter()
        .enumerate()
        .map(|(c, client)| {
            let tallies: Vec<(&RequestTally, f64)> = reps.iter().map(|r| (&r.clients[c].tally, observed_s(r))).collect();
            let batch = match &client.arrivals {
                Arrivals::Closed {
                    users,
                    requests: Some(requests),
                    start_ns,
                    deadline_ns,
                    ..
                } => Some(batch_summary(reps, c, *users, *requests, *start_ns, *deadline_ns)),
                _ => None,
            };
            ClientSummary {
                name: client.name.clone(),
                kind: match client.arrivals {
                    Arrivals::Open { .. } => "open".into(),
                    Arrivals::Closed { .. } => "closed".into(),
                },
                calls: model.endpoints[client.call.target.0].name.clone(),
                synthetic: client.synthetic,
                throughput_per_s: estimate(&tallies, |(t, s)| t.finished as f64 / s),
                goodput_per_s: estimate(&tallies, |(t, s)| t.ok as f64 / s),
                error_rate: estimate(&tallies, |(t, _)| error_rate(t)),
                latency: latency_summary(&tallies.iter().map(|(t, _)| &t.latency_ok).collect::<Vec<_>>()),
                counts: counts(&tallies, reps.iter().map(|r| r.clients[c].in_flight_at_end).sum()),
                batch,
                series: traffic_series(model, reps, client_series[c].as_ref().map(|w| &w.answers)),
            }
        })
        .collect();
    let endpoints = model
        .endpoints
        .iter()
        .enumerate()
        .map(|(e, endpoint)| {
            let tallies: Vec<(&RequestTally, f64)> = reps.iter().map(|r| (&r.endpoints[e].tally, observed_s(r))).collect();
            EndpointSummary {
                name: endpoint.name.clone(),
                throughput_per_s: estimate(&tallies, |(t, s)| t.finished as f64 / s),
                error_rate: estimate(&tallies, |(t, _)| error_rate(t)),
                latency: latency_summary(&tallies.iter().map(|(t, _)| &t.latency_ok).collect::<Vec<_>>()),
                sojourn_ms: estimate(&tallies, |(t, _)| {
                    if t.finished == 0 {
                        f64::NAN
                    } else {
                        ms(t.sojourn_all_ns as f64 / t.finished as f64)
                    }
                }),
                counts: counts(&tallies, reps.iter().map(|r| r.endpoints[e].in_flight_at_end).sum()),
                cache: endpoint.caches.iter().any(Option::is_some).then(|| cache_summary(reps, e)),
                series: traffic_series(model, reps, endpoint_series[e].as_ref().map(|w| &w.answers)),
            }
        })
        .collect();
    let observed: &dyn Fn(&ReplicationResult) -> f64 = &observed_s;
    let queues = super::resilience::queues(model, reps, observed, &kept.folds.queues);
    let services = model
        .services
        .iter()
        .enumerate()
        .map(|(s, service)| {
            let stations: Vec<&StationResult> = reps.iter().map(|r| &r.services[s]).collect();
            // An autoscaled service's workers are those of its instances in service, over time.
            let autoscaled = service.autoscaling.is_some();
            let utilisation = if autoscaled {
                estimate(reps, |r| {
                    let serving = r.autoscalers[s].as_ref().map_or(0.0, |a| a.in_service_mean);
                    r.services[s].busy_mean / (serving * f64::from(service.workers))
                })
            } else {
                estimate(&stations, |st| st.busy_mean / st.capacity as f64)
            };
            let mut series = station_series(model, &kept.folds.services[s], capacity(&stations));
            if autoscaled {
                let busy = kept.folds.services[s].busy.means();
                let serving = kept.folds.autoscalers[s].means();
                series.utilisation = busy
                    .iter()
                    .zip(&serving)
                    .map(|(b, n)| b / (n * f64::from(service.workers)))
                    .collect();
            }
            ServiceSummary {
                name: service.name.clone(),
                instances: service.instances,
                autoscaled: service.autoscaling.as_ref().map(|a| [a.min, a.max]),
                workers: service.workers,
                utilisation,
                queue_length: estimate(&stations, |st| st.waiting_mean),
                queue_length_max: estimate(&stations, |st| st.waiting_max),
                in_service: estimate(&stations, |st| st.inside_mean),
                worker_wait: wait_summary(&stations),
                instances_up: estimate(reps, |r| r.lives[s].up_mean),
                available: estimate(reps, |r| r.lives[s].available),
                crashes: reps.iter().map(|r| r.lives[s].crashes).sum(),
                series,
                wasted: super::resilience::wasted(reps, s),
            }
        })
        .collect();
    let databases = model
        .databases
        .iter()
        .enumerate()
        .map(|(d, db)| {
            let results: Vec<_> = reps.iter().map(|r| (&r.databases[d], observed_s(r))).collect();
            let stations: Vec<&StationResult> = results.iter().map(|(r, _)| &r.cores).collect();
            DatabaseSummary {
                name: db.name.clone(),
                cores: db.cores,
                utilisation: estimate(&stations, |st| st.busy_mean / st.capacity as f64),
                queue_length: estimate(&stations, |st| st.waiting_mean),
                queries_per_s: estimate(&results, |(r, s)| r.queries as f64 / s),
                query_time: latency_summary(&results.iter().map(|(r, _)| &r.query_time).collect::<Vec<_>>()),
                connections_in_use: estimate(&results, |(r, _)| r.connections_mean),
                connections_max: estimate(&results, |(r, _)| r.connections_max),
                refused_connections: results.iter().map(|(r, _)| r.refused_connections).sum(),
                data_size_end: estimate(&results, |(r, _)| r.data_size_end),
                cost_growth_end: estimate(&results, |(r, _)| r.cost_growth_end),
                series: station_series(model, &kept.folds.databases[d].0, capacity(&stations)),
                connections_series: kept.folds.databases[d].1.means(),
            }
        })
        .collect();
    let pools = model
        .pools
        .iter()
        .enumerate()
        .map(|(p, pool)| {
            let results: Vec<_> = reps.iter().map(|r| &r.pools[p]).collect();
            let stations: Vec<&StationResult> = results.iter().map(|r| &r.connections).collect();
            PoolSummary {
                name: pool.name.clone(),
                size: pool.size,
                utilisation: estimate(&stations, |st| st.busy_mean / st.capacity as f64),
                in_use_max: estimate(&results, |r| r.in_use_max),
                waiting: estimate(&stations, |st| st.waiting_mean),
                acquire_wait: wait_summary(&stations),
                acquire_timeouts: results.iter().map(|r| r.acquire_timeouts).sum(),
                series: station_series(model, &kept.folds.pools[p], capacity(&stations)),
            }
        })
        .collect();
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        model: ModelInfo {
            name: model.name.clone(),
            description: model.description.clone(),
            duration_s: nanos_to_secs(model.duration_ns),
            warmup_s: nanos_to_secs(model.warmup_ns),
            window_s: nanos_to_secs(model.window_ns),
            replications: model.replications,
            seed: model.seed,
            actions_end_s: model
                .actions
                .iter()
                .map(|a| a.until_ns.unwrap_or(a.at_ns))
                .max()
                .map(nanos_to_secs),
            actions: model
                .actions
                .iter()
                .map(|a| ActionInfo {
                    what: describe_action(model, &a.kind),
                    start_s: nanos_to_secs(a.at_ns),
                    end_s: a.until_ns.map(nanos_to_secs),
                })
                .collect(),
        },
        verdict,
        warnings: warnings.to_vec(),
        events: reps.iter().map(|r| r.events).sum(),
        clients,
        endpoints,
        services,
        databases,
        pools,
        queues,
        effects: super::resilience::effects(model, reps, &kept.folds.effects),
        caches: key_space_summaries(model, reps, &observed_s, &kept.folds.caches),
        call_sites: super::resilience::call_sites(model, reps),
        limits: super::resilience::limits(model, reps, &kept.folds.limits),
        slos: Vec::new(),
        metastability: None,
        // The blast radius is also judged in each replication's own windows.
        cascade: super::cascade::analyse(model, client_series, endpoint_series, &kept.shares),
        rollouts: rollout_summaries(model, reps),
        groups: group_summaries(model, reps, &observed_s),
        autoscalers: super::autoscaling::summaries(model, reps, &observed_s, &kept.folds.autoscalers),
        cpus: super::cpu::summaries(model, reps),
        hedges: super::hedging::summaries(model, reps),
    };
    result.slos = evaluate_slos(model, &result, client_series, endpoint_series, &kept.window_values);
    result
}

/// The caches with a key space: totals, estimates per replication, and windows from the summed
/// counts.
fn key_space_summaries(
    model: &Model,
    reps: &[ReplicationResult],
    observed_s: &dyn Fn(&ReplicationResult) -> f64,
    folds: &[Option<crate::stats::CountSeries<3>>],
) -> Vec<KeySpaceSummary> {
    let ratio = |hits: u64, all: u64| if all == 0 { f64::NAN } else { hits as f64 / all as f64 };
    let window_s = nanos_to_secs(model.window_ns);
    model
        .key_spaces
        .iter()
        .enumerate()
        .map(|(k, space)| {
            let total = |f: fn(&crate::sim::ReplicationResult, usize) -> u64| reps.iter().map(|r| f(r, k)).sum::<u64>();
            let rows = folds[k].as_ref().map_or(&[][..], |m| m.rows());
            let starts = window_starts(model, rows.len());
            KeySpaceSummary {
                name: space.name.clone(),
                keys: space.keys,
                capacity: space.capacity,
                popularity: match space.popularity {
                    crate::model::Popularity::Uniform => "uniform".into(),
                    crate::model::Popularity::Zipf(s) => format!("zipf({s})"),
                },
                hits: total(|r, k| r.caches[k].hits),
                misses: total(|r, k| r.caches[k].misses),
                coalesced: total(|r, k| r.caches[k].coalesced),
                stale: total(|r, k| r.caches[k].stale),
                evictions: total(|r, k| r.caches[k].evictions),
                expirations: total(|r, k| r.caches[k].expirations),
                hit_ratio: estimate(reps, |r| {
                    let c = &r.caches[k];
                    ratio(c.hits, c.hits + c.misses + c.coalesced)
                }),
                misses_per_s: estimate(reps, |r| r.caches[k].misses as f64 / observed_s(r)),
                coalesced_per_s: estimate(reps, |r| r.caches[k].coalesced as f64 / observed_s(r)),
                series: rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let covering = replications_in_window(model, reps, i);
                        CacheWindow {
                            start_s: starts[i],
                            hit_ratio: ratio(row[0], row[0] + row[1] + row[2]),
                            misses_per_s: row[1] as f64 / covering / window_s,
                            coalesced_per_s: row[2] as f64 / covering / window_s,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Cache lookups of endpoint `e`, totals over the replications.
fn cache_summary(reps: &[ReplicationResult], e: usize) -> CacheSummary {
    let (mut hits, mut misses, mut stale) = (0, 0, 0);
    for r in reps {
        let c = &r.endpoints[e].cache;
        hits += c.hits;
        misses += c.misses;
        stale += c.stale;
    }
    CacheSummary {
        hits,
        misses,
        stale,
        hit_ratio: if hits + misses == 0 {
            f64::NAN
        } else {
            hits as f64 / (hits + misses) as f64
        },
    }
}

/// Share of finished requests that did not end well (NaN when none finished).
pub(super) fn error_rate(t: &RequestTally) -> f64 {
    if t.finished == 0 {
        f64::NAN
    } else {
        (t.finished - t.ok) as f64 / t.finished as f64
    }
}

/// Totals by outcome over the replications.
pub(super) fn counts(tallies: &[(&RequestTally, f64)], in_flight_at_end: u64) -> Counts {
    let mut c = Counts {
        in_flight_at_end,
        ..Counts::default()
    };
    for (t, _) in tallies {
        c.started += t.started;
        c.ok += t.ok;
        c.timeouts += t.timeouts;
        c.rejected += t.rejected;
        c.errors += t.errors;
        c.retries += t.retries;
        c.attempt_timeouts += t.attempt_timeouts;
    }
    c
}

/// Latency estimates from each replication's histogram (NaN for a replication with no sample).
pub(super) fn latency_summary(histograms: &[&LatencyHistogram]) -> LatencySummary {
    let q = |q: f64| {
        estimate(
            histograms,
            |h| {
                if h.is_empty() {
                    f64::NAN
                } else {
                    ms(h.quantile_ns(q) as f64)
                }
            },
        )
    };
    LatencySummary {
        mean_ms: estimate(histograms, |h| if h.is_empty() { f64::NAN } else { ms(h.mean_ns()) }),
        p50_ms: q(0.5),
        p90_ms: q(0.9),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        max_ms: estimate(histograms, |h| if h.is_empty() { f64::NAN } else { ms(h.max_ns() as f64) }),
    }
}

/// Waits for a unit, across replications.
fn wait_summary(stations: &[&StationResult]) -> WaitSummary {
    WaitSummary {
        mean_ms: estimate(
            stations,
            |st| if st.wait.is_empty() { f64::NAN } else { ms(st.wait.mean_ns()) },
        ),
        p99_ms: estimate(stations, |st| {
            if st.wait.is_empty() {
                f64::NAN
            } else {
                ms(st.wait.quantile_ns(0.99) as f64)
            }
        }),
        waited_share: estimate(stations, |st| {
            if st.wait.is_empty() {
                f64::NAN
            } else {
                st.waited as f64 / st.wait.count() as f64
            }
        }),
    }
}

/// Start of each window, seconds.
pub(super) fn window_starts(model: &Model, windows: usize) -> Vec<f64> {
    (0..windows)
        .map(|w| nanos_to_secs(model.warmup_ns + w as u64 * model.window_ns))
        .collect()
}

/// Per-window mean over replications, built one replication at a time: each window averages
/// the rows that reach it (a replication stopped early has no windows after its stop, which
/// must not count as zeros).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
pub(super) struct MeanRows {
    sum: Vec<f64>,
    reached: Vec<f64>,
}

impl MeanRows {
    /// Adds one replication's row.
    pub fn add_row(&mut self, row: &[f64]) {
        if row.len() > self.sum.len() {
            self.sum.resize(row.len(), 0.0);
            self.reached.resize(row.len(), 0.0);
        }
        for (i, v) in row.iter().enumerate() {
            self.sum[i] += v;
            self.reached[i] += 1.0;
        }
    }

    /// Adds the rows of other replications (summed the same way).
    pub fn add(&mut self, other: &MeanRows) {
        if other.sum.len() > self.sum.len() {
            self.sum.resize(other.sum.len(), 0.0);
            self.reached.resize(other.sum.len(), 0.0);
        }
        for (i, (v, n)) in other.sum.iter().zip(&other.reached).enumerate() {
            self.sum[i] += v;
            self.reached[i] += n;
        }
    }

    /// The mean of each window.
    pub fn means(&self) -> Vec<f64> {
        self.sum.iter().zip(&self.reached).map(|(v, n)| v / n).collect()
    }
}

/// Utilisation and waiting per window, mean over replications; `capacity` is the station's
/// units.
fn station_series(model: &Model, levels: &LevelFold, capacity: f64) -> StationSeries {
    let busy = levels.busy.means();
    StationSeries {
        start_s: window_starts(model, busy.len()),
        utilisation: busy.iter().map(|b| b / capacity).collect(),
        waiting: levels.waiting.means(),
    }
}

/// Units of the first of `stations` (1 without replications).
fn capacity(stations: &[&StationResult]) -> f64 {
    stations.first().map_or(1.0, |st| st.capacity as f64)
}

/// Replications' worth of simulated time in window `i`: a replication that reached the end of
/// the run counts 1; one cut short counts the share of the window it simulated (0 past its stop).
/// Counts per window divided by it are rates per replication, undiluted by replications that
/// stopped early.
pub(super) fn replications_in_window(model: &Model, reps: &[ReplicationResult], i: usize) -> f64 {
    let start_ns = model.warmup_ns.saturating_add((i as u64).saturating_mul(model.window_ns));
    let (mut full, mut partial_ns) = (0u64, 0u64);
    for r in reps {
        if r.end_ns >= model.duration_ns {
            full += 1;
        } else {
            partial_ns += r.end_ns.saturating_sub(start_ns).min(model.window_ns);
        }
    }
    // With every replication complete this is exactly their count.
    full as f64 + partial_ns as f64 / model.window_ns.max(1) as f64
}

/// Request traffic per window from the merged windows, rates per replication: each window's
/// count over the simulated seconds the replications spent in it (a replication stopped early
/// covers its windows up to its stop, and none after).
fn traffic_series(model: &Model, reps: &[ReplicationResult], merged: Option<&WindowSeries>) -> Vec<TrafficWindow> {
    let Some(merged) = merged else {
        return Vec::new();
    };
    let full = reps.iter().filter(|r| r.end_ns >= model.duration_ns).count();
    let covered_s = |i: usize| -> f64 {
        let start_ns = model.warmup_ns.saturating_add((i as u64).saturating_mul(model.window_ns));
        let partial_ns: u64 = reps
            .iter()
            .filter(|r| r.end_ns < model.duration_ns)
            .map(|r| r.end_ns.saturating_sub(start_ns).min(model.window_ns))
            .sum();
        // With every replication complete this is the window times the replications, as always.
        nanos_to_secs(model.window_ns) * full.max(usize::from(partial_ns == 0)) as f64 + nanos_to_secs(partial_ns)
    };
    merged
        .windows()
        .into_iter()
        .enumerate()
        .map(|(i, w)| TrafficWindow {
            start_s: w.start_s,
            throughput_per_s: w.count as f64 / covered_s(i),
            error_rate: if w.count == 0 {
                f64::NAN
            } else {
                w.errors as f64 / w.count as f64
            },
            p50_ms: w.p50_ms,
            p99_ms: w.p99_ms,
        })
        .collect()
}

/// Completion of users with a fixed number of requests, against their deadline.
fn batch_summary(
    reps: &[ReplicationResult],
    c: usize,
    users: u32,
    requests: u32,
    start_ns: u64,
    deadline_ns: Option<u64>,
) -> BatchSummary {
    let batches: Vec<(&crate::sim::tally::BatchTally, u64)> = reps
        .iter()
        .filter_map(|r| r.clients[c].batch.as_ref().map(|b| (b, r.end_ns)))
        .collect();
    // A user still sending at the end of the run is counted as done then: its makespan is at
    // least that long, so a deadline already past is known to be missed.
    let makespan = |(b, end): &(&crate::sim::tally::BatchTally, u64)| -> f64 {
        let last = b
            .finished_at_ns
            .iter()
            .map(|f| f.unwrap_or(*end).saturating_sub(start_ns))
            .max()
            .unwrap_or(0);
        nanos_to_secs(last)
    };
    let met_share = |(b, _): &(&crate::sim::tally::BatchTally, u64), deadline: u64| -> f64 {
        let met = b
            .finished_at_ns
            .iter()
            .filter(|f| f.is_some_and(|t| t.saturating_sub(start_ns) <= deadline))
            .count();
        met as f64 / f64::from(users)
    };
    BatchSummary {
        users,
        requests_per_user: requests,
        finished_share: estimate(&batches, |(b, _)| {
            b.finished_at_ns.iter().filter(|f| f.is_some()).count() as f64 / f64::from(users)
        }),
        failed_share: estimate(&batches, |(b, _)| {
            let done: u32 = b.done.iter().sum();
            if done == 0 {
                f64::NAN
            } else {
                f64::from(b.failed.iter().sum::<u32>()) / f64::from(done)
            }
        }),
        makespan_s: estimate(&batches, makespan),
        deadline_s: deadline_ns.map(nanos_to_secs),
        met_deadline_share: deadline_ns.map(|d| estimate(&batches, |b| met_share(b, d))),
        // Slack is known when every user finished, or when the deadline passed before the end
        // of the run anyway (a miss); otherwise it is unknown (null).
        slack_s: deadline_ns.map(|d| {
            estimate(&batches, |b| {
                let slack = nanos_to_secs(d) - makespan(b);
                let all_finished = b.0.finished_at_ns.iter().all(Option::is_some);
                if all_finished || slack < 0.0 {
                    slack
                } else {
                    f64::NAN
                }
            })
        }),
    }
}

/// Each group of clients as one: its members' requests summed per replication.
fn group_summaries(
    model: &Model,
    reps: &[ReplicationResult],
    observed_s: &dyn Fn(&ReplicationResult) -> f64,
) -> Vec<GroupSummary> {
    model
        .groups
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let members: Vec<usize> = (0..model.clients.len())
                .filter(|&c| model.clients[c].group == Some(g))
                .collect();
            // (finished, ok, observed seconds) per replication.
            let totals: Vec<(u64, u64, f64)> = reps
                .iter()
                .map(|r| {
                    let (finished, ok) = members.iter().fold((0, 0), |(f, o), &c| {
                        let t = &r.clients[c].tally;
                        (f + t.finished, o + t.ok)
                    });
                    (finished, ok, observed_s(r))
                })
                .collect();
            GroupSummary {
                name: name.clone(),
                clients: members.iter().map(|&c| model.clients[c].name.clone()).collect(),
                throughput_per_s: estimate(&totals, |&(f, _, s)| f as f64 / s),
                goodput_per_s: estimate(&totals, |&(_, o, s)| o as f64 / s),
                error_rate: estimate(
                    &totals,
                    |&(f, o, _)| {
                        if f == 0 {
                            f64::NAN
                        } else {
                            (f - o) as f64 / f as f64
                        }
                    },
                ),
            }
        })
        .collect()
}

/// What each rollout did, across replications.
fn rollout_summaries(model: &Model, reps: &[ReplicationResult]) -> Vec<RolloutSummary> {
    let Some(first) = reps.first() else {
        return Vec::new();
    };
    first
        .rollouts
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let action = &model.actions[r.action as usize];
            let after = |pick: fn(&crate::sim::replication::RolloutResult) -> Option<crate::engine::Nanos>| {
                let times: Vec<f64> = reps
                    .iter()
                    .filter_map(|rep| pick(&rep.rollouts[k]))
                    .map(|t| nanos_to_secs(t.saturating_sub(action.at_ns)))
                    .collect();
                (!times.is_empty()).then(|| Estimate::from_samples(&times))
            };
            RolloutSummary {
                what: describe_action(model, &action.kind),
                start_s: nanos_to_secs(action.at_ns),
                rolled_back: reps.iter().filter(|rep| rep.rollouts[k].fired_at_ns.is_some()).count() as u32,
                widened: reps.iter().filter(|rep| rep.rollouts[k].widened).count() as u32,
                fired_after_s: after(|r| r.fired_at_ns),
                undone_after_s: after(|r| r.undone_at_ns),
            }
        })
        .collect()
}

/// A timed action in a few words, for reports.
pub(super) fn describe_action(model: &Model, kind: &crate::model::ActionKind) -> String {
    use crate::model::ActionKind;
    match kind {
        ActionKind::AddLatency { link, latency_ns } => format!("+{} on {}", format_duration(*latency_ns), model.links[link.0]),
        ActionKind::ScaleTraffic { client, factor } => format!("{} traffic ×{factor}", model.clients[client.0].name),
        ActionKind::Inject { database, queries, .. } => {
            format!("{queries} injected queries on {}", model.databases[database.0].name)
        }
        ActionKind::Crash { service, instances } => format!("{instances} {} instances crash", model.services[service.0].name),
        ActionKind::Down { service } => format!("{} down", model.services[service.0].name),
        ActionKind::CrashLoop(l) => format!(
            "{} {} instances crash-loop{}",
            l.instances,
            model.services[l.service.0].name,
            if l.together { " together" } else { "" }
        ),
        ActionKind::Rollout(r) => {
            let all = model.services[r.service.0].instances;
            let reach = if r.first == all {
                "everywhere".to_string()
            } else {
                format!("canary {} of {all}", r.first)
            };
            format!("{} CPU ×{} rollout, {reach}", model.services[r.service.0].name, r.cpu_factor)
        }
        ActionKind::Flush { cache } => format!("{} cache flushed", model.key_spaces[*cache as usize].name),
    }
}
