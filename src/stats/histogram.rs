//! Latency histogram: HDR buckets for quantiles, with an exact count, sum, minimum and maximum alongside.

use super::hdr::HdrCounts;

type Nanos = u64;

/// Significant decimal digits kept by [`LatencyHistogram::new`] (relative bucket error at most 0.1 %).
const DEFAULT_SIGFIG: u8 = 3;

/// Most significant decimal digits the HDR buckets support.
const MAX_SIGFIG: u8 = 5;

/// Largest latency the HDR buckets hold, in nanoseconds (about 73 years); longer latencies are
/// bucketed as this value but still count exactly in the mean, minimum and maximum.
const MAX_BUCKETED_NS: Nanos = (i64::MAX / 4) as Nanos;

/// The quantiles a histogram keeps when it is settled (see [`LatencyHistogram::settle`]): the
/// ones a replication's summary reads — median, p90, p99 and p99.9.
pub const SETTLED_QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

/// A distribution of latencies in nanoseconds, from 0 ns up to decades, that grows as needed.
///
/// Quantiles come from HDR buckets (relative error set by the significant digits); the count,
/// mean, minimum and maximum are exact, because analytic validation compares means.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LatencyHistogram {
    /// The buckets, allocated on the first record: an idle station (one of 100,000 instances,
    /// say) then costs a few bytes instead of ~16 KB.
    hist: Option<HdrCounts>,
    /// The [`SETTLED_QUANTILES`] once [`LatencyHistogram::settle`] dropped the buckets.
    settled: Option<Box<[Nanos; SETTLED_QUANTILES.len()]>>,
    sigfig: u8,
    count: u64,
    /// Exact: a sum of u64 latencies cannot reach 2^128 before the count reaches 2^64.
    sum_ns: u128,
    min_ns: Nanos,
    max_ns: Nanos,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram with 3 significant digits (quantiles within 0.1 % of the true latency).
    pub fn new() -> Self {
        Self::with_precision(DEFAULT_SIGFIG)
    }

    /// An empty histogram keeping `sigfig` significant decimal digits for quantiles (clamped to
    /// 0..=5); 2 digits (1 % error) keep per-window histograms of a time series small.
    pub fn with_precision(sigfig: u8) -> Self {
        LatencyHistogram {
            hist: None,
            settled: None,
            sigfig: sigfig.min(MAX_SIGFIG),
            count: 0,
            sum_ns: 0,
            min_ns: Nanos::MAX,
            max_ns: 0,
        }
    }

    /// The buckets, allocated now if this is the first record.
    fn buckets(&mut self) -> &mut HdrCounts {
        let sigfig = self.sigfig;
        self.hist.get_or_insert_with(|| HdrCounts::new(sigfig))
    }

    /// Records one latency of `ns` nanoseconds (0 ns is a valid latency).
    #[inline(always)]
    pub fn record(&mut self, ns: Nanos) {
        let bucketed = ns.min(MAX_BUCKETED_NS);
        match &mut self.hist {
            Some(hist) => hist.record(bucketed),
            None => self.first_record(bucketed),
        }
        self.count = self.count.saturating_add(1);
        self.sum_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Allocates the buckets and counts their first latency (kept out of the hot path).
    #[cold]
    #[inline(never)]
    fn first_record(&mut self, bucketed: Nanos) {
        self.buckets().record(bucketed);
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether no latency has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Exact mean latency in nanoseconds (0 when empty).
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64
        }
    }

    /// Exact sum of all recorded latencies in nanoseconds.
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// Exact largest latency recorded, in nanoseconds (0 when empty).
    pub fn max_ns(&self) -> Nanos {
        self.max_ns
    }

    /// Exact smallest latency recorded, in nanoseconds (0 when empty).
    pub fn min_ns(&self) -> Nanos {
        if self.count == 0 {
            0
        } else {
            self.min_ns
        }
    }

    /// Latency in nanoseconds at quantile `q` (0.5 for the median, 0.99 for p99), within the
    /// bucket precision and never outside the exact minimum and maximum; `q` is clamped to
    /// [0, 1], and the result is 0 when empty or when `q` is NaN.
    pub fn quantile_ns(&self, q: f64) -> Nanos {
        if self.count == 0 || q.is_nan() {
            return 0;
        }
        let q = q.clamp(0.0, 1.0);
        let at = match (&self.hist, &self.settled) {
            (Some(h), _) => h.value_at_quantile(q),
            (None, Some(kept)) => SETTLED_QUANTILES
                .iter()
                .position(|&k| k >= q)
                .map_or(self.max_ns, |i| kept[i]),
            (None, None) => self.max_ns,
        };
        at.clamp(self.min_ns, self.max_ns)
    }

    /// Keeps the [`SETTLED_QUANTILES`] and drops the buckets: a finished replication's
    /// histogram then costs a few bytes instead of up to ~160 KiB, and still answers its
    /// count, mean, minimum, maximum and those quantiles exactly as before. Another quantile is
    /// answered by the next kept one above it (an upper bound), and a settled histogram merged
    /// into another adds its count, mean, minimum and maximum but no buckets.
    pub fn settle(&mut self) {
        if let Some(h) = self.hist.take() {
            let kept = SETTLED_QUANTILES.map(|q| h.value_at_quantile(q));
            self.settled = Some(Box::new(kept));
        }
    }

    /// Adds every latency recorded in `other` to this histogram, as if recorded here.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if other.count == 0 {
            return;
        }
        debug_assert!(other.settled.is_none(), "a settled histogram has no buckets to merge");
        if let Some(theirs) = other.hist.as_ref() {
            self.buckets().add(theirs);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to(n: u64) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in 1..=n {
            h.record(v);
        }
        h
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = LatencyHistogram::new();
        assert!(h.is_empty());
        assert_eq!(h.count(), 0);
        assert_eq!(h.mean_ns(), 0.0);
        assert_eq!(h.min_ns(), 0);
        assert_eq!(h.max_ns(), 0);
        assert_eq!(h.quantile_ns(0.5), 0);
        assert_eq!(h.quantile_ns(1.0), 0);
    }

    #[test]
    fn quantiles_of_uniform_integers_within_a_tenth_of_a_percent() {
        let h = one_to(100_000);
        for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let exact = q * 100_000.0;
            let got = h.quantile_ns(q) as f64;
            assert!((got - exact).abs() <= exact * 0.001, "q={q}: got {got}, exact {exact}");
        }
        assert_eq!(h.quantile_ns(0.0), 1);
        assert_eq!(h.quantile_ns(1.0), 100_000);
    }

    #[test]
    fn mean_min_max_are_exact() {
        let h = one_to(100_000);
        assert_eq!(h.count(), 100_000);
        assert_eq!(h.mean_ns(), 50_000.5);
        assert_eq!(h.sum_ns(), 5_000_050_000);
        assert_eq!(h.min_ns(), 1);
        assert_eq!(h.max_ns(), 100_000);

        // Values far apart, where buckets are coarse: mean stays exact.
        let mut h = LatencyHistogram::with_precision(2);
        h.record(1_000_000_007);
        h.record(3);
        assert_eq!(h.mean_ns(), 500_000_005.0);
        assert_eq!(h.max_ns(), 1_000_000_007);
        assert_eq!(h.quantile_ns(1.0), 1_000_000_007);
    }

    #[test]
    fn zero_and_huge_latencies_are_accepted() {
        let mut h = LatencyHistogram::new();
        h.record(0);
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.count(), 3);
        assert_eq!(h.min_ns(), 0);
        assert_eq!(h.max_ns(), u64::MAX);
        assert_eq!(h.quantile_ns(0.5), 0);
        assert_eq!(h.mean_ns(), u64::MAX as f64 / 3.0);
        assert!(h.quantile_ns(1.0) >= MAX_BUCKETED_NS);
    }

    #[test]
    fn out_of_range_quantiles_are_clamped() {
        let h = one_to(1000);
        assert_eq!(h.quantile_ns(-3.0), 1);
        assert_eq!(h.quantile_ns(7.0), 1000);
        assert_eq!(h.quantile_ns(f64::INFINITY), 1000);
        assert_eq!(h.quantile_ns(f64::NAN), 0);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        let mut all = LatencyHistogram::new();
        for v in 1..=50_000u64 {
            let x = v * v % 1_000_003 + 7 * v;
            if v % 3 == 0 {
                a.record(x);
            } else {
                b.record(x);
            }
            all.record(x);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert_eq!(a.sum_ns(), all.sum_ns());
        assert_eq!(a.mean_ns(), all.mean_ns());
        assert_eq!(a.min_ns(), all.min_ns());
        assert_eq!(a.max_ns(), all.max_ns());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(a.quantile_ns(q), all.quantile_ns(q), "q={q}");
        }
    }

    #[test]
    fn a_settled_histogram_answers_its_summary_exactly_and_other_quantiles_from_above() {
        let mut h = one_to(100_000);
        let before: Vec<Nanos> = SETTLED_QUANTILES.iter().map(|&q| h.quantile_ns(q)).collect();
        let (mean, min, max) = (h.mean_ns(), h.min_ns(), h.max_ns());
        h.settle();
        assert!(h.hist.is_none());
        let after: Vec<Nanos> = SETTLED_QUANTILES.iter().map(|&q| h.quantile_ns(q)).collect();
        assert_eq!(after, before);
        assert_eq!((h.count(), h.mean_ns(), h.min_ns(), h.max_ns()), (100_000, mean, min, max));
        // p95 lies between p90 and p99: answered by p99; above p99.9 by the maximum.
        assert_eq!(h.quantile_ns(0.95), before[2]);
        assert_eq!(h.quantile_ns(0.9999), 100_000);
        assert_eq!(h.quantile_ns(0.0), before[0]);
    }

    #[test]
    fn merge_across_precisions_and_into_empty() {
        let mut coarse = LatencyHistogram::with_precision(2);
        let fine = one_to(10_000);
        coarse.merge(&fine);
        coarse.merge(&LatencyHistogram::new());
        assert_eq!(coarse.count(), 10_000);
        assert_eq!(coarse.mean_ns(), 5_000.5);
        let p50 = coarse.quantile_ns(0.5) as f64;
        assert!((p50 - 5_000.0).abs() <= 5_000.0 * 0.01, "p50 {p50}");
    }

    #[test]
    fn every_precision_constructs() {
        for sigfig in 0..=u8::MAX {
            let mut h = LatencyHistogram::with_precision(sigfig);
            h.record(12_345);
            assert_eq!(h.quantile_ns(0.5), 12_345);
        }
    }
}
