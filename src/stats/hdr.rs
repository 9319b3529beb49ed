//! HDR bucket counts: HdrHistogram's layout (lowest value 1, growing as needed), recorded with a
//! few integer operations per value, in 4 bytes per bucket until a bucket counts 2^32 values.

/// Counts per bucket index: 4 bytes each while every count fits in 32 bits (a replication's
/// window, which sees at most its event budget of values, always does), 8 bytes from the first
/// count that does not, for good. Widening keeps every count: nothing saturates below 2^64.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
enum Counts {
    /// Every count below 2^32.
    Narrow(Vec<u32>),
    /// Some count reached 2^32.
    Wide(Vec<u64>),
}

impl Counts {
    /// Buckets held.
    #[inline]
    fn len(&self) -> usize {
        match self {
            Counts::Narrow(c) => c.len(),
            Counts::Wide(c) => c.len(),
        }
    }

    /// The count of bucket index `i`.
    #[inline]
    fn get(&self, i: usize) -> u64 {
        match self {
            Counts::Narrow(c) => u64::from(c[i]),
            Counts::Wide(c) => c[i],
        }
    }

    /// Adds `n` to bucket index `i`, widening every count first if it would not fit in 32 bits.
    #[inline]
    fn add(&mut self, i: usize, n: u64) {
        match self {
            Counts::Narrow(c) => match u32::try_from(n).ok().and_then(|n| c[i].checked_add(n)) {
                Some(sum) => c[i] = sum,
                None => {
                    self.widen();
                    self.add(i, n);
                }
            },
            Counts::Wide(c) => c[i] = c[i].saturating_add(n),
        }
    }

    /// Eight bytes per count from now on (rare: kept out of the recording path).
    #[cold]
    #[inline(never)]
    fn widen(&mut self) {
        if let Counts::Narrow(c) = self {
            *self = Counts::Wide(c.iter().map(|&n| u64::from(n)).collect());
        }
    }

    /// Lengthens to `len` buckets, the new ones empty.
    fn resize(&mut self, len: usize) {
        match self {
            Counts::Narrow(c) => c.resize(len, 0),
            Counts::Wide(c) => c.resize(len, 0),
        }
    }

    /// Adds `other`'s counts bucket by bucket (the same layout), widening first if a sum would
    /// not fit in 32 bits.
    fn add_all(&mut self, other: &Counts) {
        if other.len() > self.len() {
            self.resize(other.len());
        }
        if let (Counts::Narrow(mine), Counts::Narrow(theirs)) = (&mut *self, other) {
            if mine.iter().zip(theirs).all(|(&a, &b)| a.checked_add(b).is_some()) {
                for (a, &b) in mine.iter_mut().zip(theirs) {
                    *a += b;
                }
                return;
            }
        }
        self.widen();
        if let Counts::Wide(mine) = self {
            match other {
                Counts::Narrow(theirs) => {
                    for (a, &b) in mine.iter_mut().zip(theirs) {
                        *a = a.saturating_add(u64::from(b));
                    }
                }
                Counts::Wide(theirs) => {
                    for (a, &b) in mine.iter_mut().zip(theirs) {
                        *a = a.saturating_add(b);
                    }
                }
            }
        }
    }

    /// The first bucket index at which the running count reaches `wanted`.
    fn reaching(&self, wanted: u64) -> Option<usize> {
        fn walk<C: Copy + Into<u64>>(counts: &[C], wanted: u64) -> Option<usize> {
            let mut running = 0u64;
            counts.iter().position(|&n| {
                running = running.saturating_add(n.into());
                running >= wanted
            })
        }
        match self {
            Counts::Narrow(c) => walk(c, wanted),
            Counts::Wide(c) => walk(c, wanted),
        }
    }
}

/// Counts of values per HDR bucket, laid out exactly as HdrHistogram lays out a histogram made
/// with a lowest value of 1 and auto-resizing (`Histogram::new(sigfig)`): the same values share a
/// bucket, the counts array grows to the same length, and a quantile is read by the same walk,
/// so every quantile is the same number to the nanosecond.
///
/// Bucket `b` holds values of `b + m` significant bits (`m` = the sub-bucket magnitude, set by
/// the significant digits), each in steps of `2^b`; bucket 0 holds `0..2^m` in steps of 1.
/// Recording a value is a shift, a leading-zero count and an increment: no range check beyond
/// the array's length (which grows when a larger value comes), no error to handle.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub(crate) struct HdrCounts {
    /// Values recorded per bucket index.
    counts: Counts,
    /// Values recorded in all (saturating).
    total: u64,
    /// Significant decimal digits (0..=5).
    sigfig: u8,
    /// log2 of half the sub-buckets of a bucket: index = bucket << this + sub-bucket.
    half_magnitude: u8,
    /// 64 − log2(sub-buckets of a bucket): a value's bucket is this minus its leading zeros.
    leading_zero_base: u8,
    /// Sub-buckets of a bucket, minus one: values up to this lie in bucket 0.
    sub_bucket_mask: u64,
}

impl HdrCounts {
    /// No value recorded, keeping `sigfig` significant decimal digits (at most 5).
    pub(crate) fn new(sigfig: u8) -> Self {
        debug_assert!(sigfig <= 5, "HDR layouts go up to 5 significant digits");
        // Unit resolution up to 2·10^sigfig, rounded up to a power of two (as HdrHistogram does).
        let largest = 2 * 10_u32.pow(u32::from(sigfig));
        let magnitude = f64::from(largest).log2().ceil() as u8;
        let mut counts = HdrCounts {
            counts: Counts::Narrow(Vec::new()),
            total: 0,
            sigfig,
            half_magnitude: magnitude - 1,
            leading_zero_base: 64 - magnitude,
            sub_bucket_mask: (1u64 << magnitude) - 1,
        };
        // HdrHistogram starts with a highest trackable value of 2.
        counts.grow_to(2);
        counts
    }

    /// Values recorded (saturating).
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Records `value` once.
    #[inline]
    pub(crate) fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Records `value` `n` times.
    #[inline]
    pub(crate) fn record_n(&mut self, value: u64, n: u64) {
        let i = self.index_of(value);
        if i >= self.counts.len() {
            self.grow_to(value);
        }
        self.counts.add(i, n);
        self.total = self.total.saturating_add(n);
    }

    /// Adds every value counted in `other`, as if recorded here.
    pub(crate) fn add(&mut self, other: &HdrCounts) {
        if other.sigfig == self.sigfig {
            // The same layout: bucket by bucket.
            self.counts.add_all(&other.counts);
            self.total = self.total.saturating_add(other.total);
        } else {
            // Another layout: each of its buckets counted at its lowest value.
            for i in 0..other.counts.len() {
                let n = other.counts.get(i);
                if n != 0 {
                    self.record_n(other.value_at(i), n);
                }
            }
        }
    }

    /// The value at quantile `q` (0.5 for the median), as HdrHistogram's `value_at_quantile`
    /// reads it: the highest value of the first bucket at which the running count reaches
    /// ⌈q · total⌉ (at least 1), or for `q` = 0 the lowest value of the first non-empty bucket;
    /// 0 when nothing is recorded.
    pub(crate) fn value_at_quantile(&self, q: f64) -> u64 {
        let q = q.min(1.0);
        let wanted = ((q * self.total as f64).ceil() as u64).max(1);
        let Some(i) = self.counts.reaching(wanted) else {
            return 0;
        };
        let value = self.value_at(i);
        if q == 0.0 {
            self.lowest_equivalent(value)
        } else {
            self.highest_equivalent(value)
        }
    }

    /// The bucket of values of the same magnitude as `value`.
    #[inline]
    fn bucket_of(&self, value: u64) -> u32 {
        u32::from(self.leading_zero_base) - (value | self.sub_bucket_mask).leading_zeros()
    }

    /// The counts index of `value`.
    #[inline]
    fn index_of(&self, value: u64) -> usize {
        let bucket = self.bucket_of(value);
        // The sub-bucket lies in the upper half except in bucket 0, whose lower half comes first:
        // HdrHistogram's (bucket + 1) · half + sub − half.
        ((bucket as usize) << self.half_magnitude) + (value >> bucket) as usize
    }

    /// The lowest value counted at index `i`.
    fn value_at(&self, i: usize) -> u64 {
        let half = 1usize << self.half_magnitude;
        let bucket = (i >> self.half_magnitude) as isize - 1;
        let sub = (i & (half - 1)) + half;
        if bucket < 0 {
            (sub - half) as u64
        } else {
            (sub as u64) << bucket
        }
    }

    /// The lowest value sharing `value`'s bucket.
    fn lowest_equivalent(&self, value: u64) -> u64 {
        let bucket = self.bucket_of(value);
        (value >> bucket) << bucket
    }

    /// The highest value sharing `value`'s bucket (capped at `u64::MAX`).
    fn highest_equivalent(&self, value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let step = 1u64 << self.bucket_of(value);
        self.lowest_equivalent(value).saturating_add(step) - 1
    }

    /// Lengthens the counts to cover `value`, to the length HdrHistogram gives a histogram whose
    /// highest trackable value is `value` (rare: kept out of the recording path).
    #[cold]
    #[inline(never)]
    fn grow_to(&mut self, value: u64) {
        let sub_buckets = self.sub_bucket_mask + 1;
        let mut buckets = 1usize;
        let mut untrackable = sub_buckets;
        while untrackable <= value {
            if untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets + 1) << self.half_magnitude;
        if len > self.counts.len() {
            self.counts.resize(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use proptest::prelude::*;

    /// Values spread over many magnitudes: `mantissa · 2^shift`, from 0 to beyond 2^50.
    fn latency() -> impl Strategy<Value = u64> {
        (0u64..5_000, 0u32..50).prop_map(|(m, s)| m << s)
    }

    fn reference(sigfig: u8, values: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new(sigfig).unwrap();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    const QUANTILES: [f64; 12] = [0.0, 1e-9, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0];

    proptest! {
        #[test]
        fn every_quantile_is_hdrhistograms_to_the_nanosecond(
            sigfig in 0u8..=5,
            values in prop::collection::vec(latency(), 0..300),
            q in 0.0f64..=1.0,
        ) {
            let hdr = reference(sigfig, &values);
            let mut ours = HdrCounts::new(sigfig);
            values.iter().for_each(|&v| ours.record(v));
            prop_assert_eq!(ours.total(), hdr.len());
            for q in QUANTILES.into_iter().chain([q]) {
                prop_assert_eq!(ours.value_at_quantile(q), hdr.value_at_quantile(q), "q = {}", q);
            }
            // The counts array grows exactly as HdrHistogram's does.
            prop_assert_eq!(ours.counts.len(), hdr.distinct_values());
        }

        #[test]
        fn adding_counts_is_hdrhistograms_add_across_any_two_precisions(
            (mine, theirs) in (0u8..=5, 0u8..=5),
            a in prop::collection::vec(latency(), 0..200),
            b in prop::collection::vec(latency(), 0..200),
        ) {
            let mut hdr = reference(mine, &a);
            hdr.add(reference(theirs, &b)).unwrap();
            let mut ours = HdrCounts::new(mine);
            a.iter().for_each(|&v| ours.record(v));
            let mut other = HdrCounts::new(theirs);
            b.iter().for_each(|&v| other.record(v));
            ours.add(&other);
            prop_assert_eq!(ours.total(), hdr.len());
            for q in QUANTILES {
                prop_assert_eq!(ours.value_at_quantile(q), hdr.value_at_quantile(q), "q = {}", q);
            }
        }
    }

    #[test]
    fn counts_take_four_bytes_until_one_passes_two_to_the_32_and_then_lose_nothing() {
        let mut ours = HdrCounts::new(2);
        let mut hdr = reference(2, &[]);
        for (value, n) in [(1_000u64, 5u64), (70_000, 3_000_000_000), (2_000_000, 7)] {
            ours.record_n(value, n);
            hdr.record_n(value, n).unwrap();
        }
        assert!(matches!(ours.counts, Counts::Narrow(_)), "every count fits in 32 bits");
        // 3e9 + 3e9 in one bucket passes 2^32 (4.29e9): the counts widen, exactly.
        ours.record_n(70_000, 3_000_000_000);
        hdr.record_n(70_000, 3_000_000_000).unwrap();
        assert!(matches!(ours.counts, Counts::Wide(_)));
        let mut summed = HdrCounts::new(2);
        summed.add(&ours);
        summed.add(&ours);
        let mut twice = reference(2, &[]);
        twice.add(&hdr).unwrap();
        twice.add(&hdr).unwrap();
        for (ours, hdr) in [(&ours, &hdr), (&summed, &twice)] {
            assert_eq!(ours.total(), hdr.len());
            for q in QUANTILES {
                assert_eq!(ours.value_at_quantile(q), hdr.value_at_quantile(q), "q {q}");
            }
        }
        assert_eq!(summed.counts.get(ours.index_of(70_000)), 12_000_000_000);
        // Two narrow histograms whose sum does not fit: the sum widens too.
        let mut a = HdrCounts::new(2);
        a.record_n(70_000, 3_000_000_000);
        let b = a.clone();
        a.add(&b);
        assert!(matches!(a.counts, Counts::Wide(_)));
        assert_eq!((a.counts.get(a.index_of(70_000)), a.total()), (6_000_000_000, 6_000_000_000));
    }

    #[test]
    fn the_extremes_land_where_hdrhistogram_puts_them() {
        for sigfig in 0..=5 {
            let values = [0, 1, 2, 3, 1 << 20, (i64::MAX / 4) as u64, u64::MAX / 2];
            let hdr = reference(sigfig, &values);
            let mut ours = HdrCounts::new(sigfig);
            values.iter().for_each(|&v| ours.record(v));
            for q in QUANTILES {
                assert_eq!(ours.value_at_quantile(q), hdr.value_at_quantile(q), "sigfig {sigfig} q {q}");
            }
            assert_eq!(ours.counts.len(), hdr.distinct_values());
        }
        assert_eq!(HdrCounts::new(3).value_at_quantile(0.5), 0, "nothing recorded");
    }
}
