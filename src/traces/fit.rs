//! Distributions fitted to measured durations, written as a model writes them: a percentile table
//! when there are enough samples to read the tail from ([`TABLE_SAMPLES`]), a lognormal fitted to
//! the logarithms' mean and spread when there are fewer, a constant when they do not vary.

/// Samples from which a percentile table is written instead of a fitted lognormal.
pub const TABLE_SAMPLES: usize = 200;

/// The percentiles of a table (p99.9 too from 2,000 samples): close enough together that the
/// straight lines between them keep the mean of a skewed distribution (an exponential's is
/// overstated by 3 % with only p0, p1, p5, p10, p25, p50, p75, p90, p95, p99 and p100).
const PERCENTILES: [f64; 26] = [
    0.0, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 50.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5,
    95.0, 97.5, 98.0, 99.0, 100.0,
];

/// The standard normal's 99th percentile.
const Z99: f64 = 2.326_347_874_040_841;

/// A duration in nanoseconds as the model writes it: milliseconds to 4 decimals ("0.3ms",
/// "12.3457ms"), or nanoseconds below 100 ns.
pub fn duration_text(ns: f64) -> String {
    // A model's durations are at most 100 years: longer spans (wrong clocks) are written as that.
    let ns = ns.min(crate::model::units::MAX_NANOS as f64);
    if ns < 100.0 {
        return format!("{}ns", ns.round() as u64);
    }
    let text = format!("{:.4}", ns / 1e6);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}ms")
}

/// The `q`-th percentile (0 to 100) of sorted samples, interpolating between neighbours.
pub fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let h = (sorted.len() - 1) as f64 * q / 100.0;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * (h - lo as f64)
}

/// The mean of samples, in nanoseconds.
pub fn mean(samples: &[u64]) -> f64 {
    if samples.is_empty() {
        0.0
    } else {
        samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64
    }
}

/// The distribution of `samples` (nanoseconds) as model text.
pub fn fit(samples: &[u64]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return "0ms".to_string();
    };
    if max - min <= max / 100 {
        return duration_text(mean(&sorted));
    }
    if sorted.len() >= TABLE_SAMPLES {
        let mut points: Vec<f64> = PERCENTILES.to_vec();
        if sorted.len() >= 2000 {
            points.insert(points.len() - 1, 99.9);
        }
        let cells: Vec<String> = points
            .iter()
            .map(|&p| format!("p{p}={}", duration_text(percentile(&sorted, p))))
            .collect();
        return format!("empirical({})", cells.join(", "));
    }
    let logs: Vec<f64> = sorted.iter().map(|&s| (s.max(1) as f64).ln()).collect();
    let mu = logs.iter().sum::<f64>() / logs.len() as f64;
    let var = logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / (logs.len().max(2) - 1) as f64;
    let sigma = var.sqrt();
    if sigma <= 0.0 || !sigma.is_finite() {
        return duration_text(mean(&sorted));
    }
    if (mu + Z99 * sigma).exp() >= crate::model::units::MAX_NANOS as f64 {
        // A tail beyond what a model can hold (wrong clocks): the samples themselves.
        let cells: Vec<String> = [0.0, 50.0, 100.0]
            .iter()
            .map(|&p| format!("p{p}={}", duration_text(percentile(&sorted, p))))
            .collect();
        return format!("empirical({})", cells.join(", "));
    }
    format!(
        "lognormal(p50={}, p99={})",
        duration_text(mu.exp()),
        duration_text((mu + Z99 * sigma).exp())
    )
}

/// Erlang B: the share of arrivals that find all `servers` busy with `load` erlangs offered.
pub fn erlang_b(servers: u32, load: f64) -> f64 {
    (1..=servers).fold(1.0, |b, k| load * b / (f64::from(k) + load * b))
}

/// Erlang C: the share of arrivals that wait with `servers` servers and `load` erlangs (1 at or
/// above saturation).
pub fn erlang_c(servers: u32, load: f64) -> f64 {
    let c = f64::from(servers);
    if load >= c {
        return 1.0;
    }
    let b = erlang_b(servers, load);
    c * b / (c - load * (1.0 - b))
}

/// The fewest servers at which fewer than one arrival in 1,000 waits with `load` erlangs (Erlang
/// C, Poisson arrivals): the guess for a count the traces cannot show (workers, cores).
pub fn servers_for(load: f64) -> u32 {
    let mut c = (load.ceil() as u32).max(1);
    while erlang_c(c, load) >= 0.001 && c < 1_000_000 {
        c += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_the_textbook_values() {
        // Two servers, one erlang: C = 1/3; one server: C = ρ.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        assert_eq!(servers_for(0.0), 1);
        // a = 0.5: C(3) = 0.0152 and C(4) = 0.0018 both above 1/1000; C(5) = 0.00017.
        assert_eq!(servers_for(0.5), 5);
    }

    #[test]
    fn few_samples_give_a_lognormal_and_many_a_table() {
        let few: Vec<u64> = (1..=50).map(|i| i * 100_000).collect();
        assert!(fit(&few).starts_with("lognormal(p50="));
        let many: Vec<u64> = (1..=1000).map(|i| i * 1_000).collect();
        let table = fit(&many);
        assert!(table.starts_with("empirical(p0=0.001ms, p0.5="), "{table}");
        assert!(table.ends_with("p100=1ms)"), "{table}");
        assert_eq!(fit(&[300_000; 10]), "0.3ms");
    }
}
