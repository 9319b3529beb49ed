//! What production measured, per endpoint, from every server span read (not only the sampled
//! traces): requests, throughput, error rate, and the latency mean, p50, p90 and p99 — each
//! percentile with its distribution-free 95 % interval (the order statistics at ranks
//! n·q ± 1.96·√(n·q·(1 − q))).

use super::collect::Collection;
use serde::Serialize;

/// A latency percentile as measured, with its 95 % interval.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Measured {
    /// The value, in milliseconds.
    pub ms: f64,
    /// Lower end of its 95 % interval.
    pub low_ms: f64,
    /// Upper end of its 95 % interval.
    pub high_ms: f64,
}

/// One endpoint as its traces show it.
#[derive(Clone, Debug, Serialize)]
pub struct ObservedEndpoint {
    /// "service.endpoint", as capsim names it.
    pub name: String,
    /// Requests served (server spans).
    pub requests: u64,
    /// Requests per second over the traces' time range, scaled by 1 / sampling rate.
    pub throughput_per_s: f64,
    /// Share of requests that failed.
    pub error_rate: f64,
    /// Mean latency (exact).
    pub mean: Measured,
    /// Median.
    pub p50: Measured,
    /// 90th percentile.
    pub p90: Measured,
    /// 99th percentile.
    pub p99: Measured,
}

/// The 95 % interval of the q-quantile of `n` samples, as quantiles of the sample.
fn rank_interval(n: u64, q: f64) -> (f64, f64) {
    let n = n as f64;
    let half = 1.96 * (n * q * (1.0 - q)).sqrt();
    (((n * q - half) / n).max(0.0), ((n * q + half + 1.0) / n).min(1.0))
}

/// Every endpoint's measurements, in the order first seen.
pub fn observed(c: &Collection, sampling_rate: f64) -> Vec<ObservedEndpoint> {
    let secs = c.span_secs().max(1e-3);
    c.served
        .iter()
        .map(|(&(service, endpoint), served)| {
            let h = &served.latency;
            let n = h.count();
            let at = |q: f64| {
                let (lo, hi) = rank_interval(n, q);
                Measured {
                    ms: h.quantile_ns(q) as f64 / 1e6,
                    low_ms: h.quantile_ns(lo) as f64 / 1e6,
                    high_ms: h.quantile_ns(hi) as f64 / 1e6,
                }
            };
            let mean = h.mean_ns() / 1e6;
            ObservedEndpoint {
                name: format!("{}.{}", c.names.name(service), c.names.name(endpoint)),
                requests: n,
                throughput_per_s: n as f64 / secs / sampling_rate,
                error_rate: served.errors as f64 / n.max(1) as f64,
                mean: Measured {
                    ms: mean,
                    low_ms: mean,
                    high_ms: mean,
                },
                p50: at(0.5),
                p90: at(0.9),
                p99: at(0.99),
            }
        })
        .collect()
}
