//! Confidence intervals across independent replications, and paired comparisons under common random numbers.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Two-sided 95 % confidence: the t quantile used is at 0.975.
const UPPER_QUANTILE_95: f64 = 0.975;

/// A quantity estimated from one value per replication, with a 95 % confidence interval.
///
/// Fields are in the unit of the samples. Non-finite fields (the mean, minimum and maximum of no
/// samples are NaN) serialize to JSON as `null`, which is how serde_json writes NaN and infinity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// Sample mean of the finite samples (NaN when there are none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of the mean, from Student's t with n − 1
    /// degrees of freedom; 0 when fewer than 2 samples.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub ci95: f64,
    /// Smallest finite sample (NaN when there are none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub min: f64,
    /// Largest finite sample (NaN when there are none).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub max: f64,
    /// Number of finite samples used; NaN and infinite samples are left out.
    pub n: usize,
    /// The per-replication values, in replication order, non-finite ones included (kept for
    /// paired comparisons; not serialized).
    #[serde(skip)]
    pub samples: Vec<f64>,
}

impl Estimate {
    /// The estimate from one value per replication; non-finite values are left out (see `n`).
    pub fn from_samples(samples: &[f64]) -> Estimate {
        let s = Summary::of(samples.iter().copied());
        Estimate {
            mean: s.mean,
            ci95: s.ci95(),
            min: s.min,
            max: s.max,
            n: s.n,
            samples: samples.to_vec(),
        }
    }

    /// The estimate of the quantity multiplied by `k` (a change of unit; `k` may be negative).
    pub fn scaled(&self, k: f64) -> Estimate {
        let (min, max) = if k < 0.0 {
            (self.max * k, self.min * k)
        } else {
            (self.min * k, self.max * k)
        };
        Estimate {
            mean: self.mean * k,
            ci95: self.ci95 * k.abs(),
            min,
            max,
            n: self.n,
            samples: self.samples.iter().map(|x| x * k).collect(),
        }
    }

    /// Lower end of the 95 % confidence interval (mean − ci95).
    pub fn low(&self) -> f64 {
        self.mean - self.ci95
    }

    /// Upper end of the 95 % confidence interval (mean + ci95).
    pub fn high(&self) -> f64 {
        self.mean + self.ci95
    }

    /// Whether `x` lies in the 95 % confidence interval, ends included (false for NaN or no samples).
    pub fn contains(&self, x: f64) -> bool {
        self.low() <= x && x <= self.high()
    }
}

/// The mean difference between two configurations measured on the same replications (same
/// random numbers), with its 95 % confidence interval.
///
/// Non-finite fields serialize to JSON as `null`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PairedDifference {
    /// Mean of `a − b` over the pairs, in the unit of the samples (NaN when there are no pairs).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub mean_diff: f64,
    /// Half-width of the 95 % confidence interval of `mean_diff` (paired t, n − 1 degrees of
    /// freedom); 0 when fewer than 2 pairs.
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub ci95: f64,
    /// Whether the interval excludes 0: the configurations differ beyond replication noise.
    /// Never with fewer than 2 pairs.
    pub significant: bool,
    /// Number of pairs used: pairs up to the shorter input, without those holding a non-finite value.
    pub n: usize,
}

/// Paired t comparison of `a[i]` against `b[i]` (replication `i` of each configuration run with
/// the same random numbers); extra samples of the longer input are ignored.
pub fn differs_significantly(a: &[f64], b: &[f64]) -> PairedDifference {
    let diffs = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y);
    let s = Summary::of(diffs);
    let ci95 = s.ci95();
    PairedDifference {
        mean_diff: s.mean,
        ci95,
        significant: s.n >= 2 && s.mean.abs() > ci95,
        n: s.n,
    }
}

/// Count, mean, sample standard deviation and range of the finite values of a sample.
struct Summary {
    n: usize,
    mean: f64,
    std_dev: f64,
    min: f64,
    max: f64,
}

impl Summary {
    /// Welford's one-pass summary, which neither overflows on large sums nor cancels badly.
    fn of(values: impl Iterator<Item = f64>) -> Summary {
        let (mut n, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for x in values.filter(|x| x.is_finite()) {
            n += 1;
            let delta = x - mean;
            mean += delta / n as f64;
            m2 += delta * (x - mean);
            min = min.min(x);
            max = max.max(x);
        }
        if n == 0 {
            return Summary {
                n,
                mean: f64::NAN,
                std_dev: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        let std_dev = if n < 2 { 0.0 } else { (m2 / (n - 1) as f64).sqrt() };
        Summary {
            n,
            mean,
            std_dev,
            min,
            max,
        }
    }

    /// Half-width of the 95 % t interval of the mean; 0 below 2 values.
    fn ci95(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        t_quantile_975((self.n - 1) as f64) * self.std_dev / (self.n as f64).sqrt()
    }
}

/// Degrees of freedom above which the t quantile comes from its normal expansion: the library's
/// inverse loses accuracy past about 10⁵ and stops converging in reasonable time near 10⁹.
const EXPANSION_DOF: f64 = 1000.0;

/// Standard normal quantile at 0.975.
const Z_975: f64 = 1.959_963_984_540_054;

/// Student's t quantile at 0.975 for `dof` degrees of freedom (NaN if the distribution cannot be built).
fn t_quantile_975(dof: f64) -> f64 {
    if dof > EXPANSION_DOF {
        // Cornish–Fisher expansion in 1/dof; the first omitted term is below 1e-11 here.
        let z = Z_975;
        let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
        return z
            + (z3 + z) / (4.0 * dof)
            + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * dof * dof)
            + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * dof.powi(3));
    }
    StudentsT::new(0.0, 1.0, dof).map_or(f64::NAN, |t| t.inverse_cdf(UPPER_QUANTILE_95))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!(close(t_quantile_975(1.0), 12.706_205, 1e-5));
        assert!(close(t_quantile_975(4.0), 2.776_445, 1e-6));
        assert!(close(t_quantile_975(29.0), 2.045_230, 1e-6));
        assert!(close(t_quantile_975(1000.0), 1.962_339, 1e-6));
        // The expansion joins the library's inverse without a jump, and tends to the normal.
        let (below, above) = (t_quantile_975(1000.0), t_quantile_975(1000.0 + 1e-9));
        assert!(close(below, above, 1e-8), "{below} vs {above}");
        assert!(close(t_quantile_975(1001.0), 1.962_336_7, 1e-7));
        assert!(close(t_quantile_975(1e6), 1.959_966_4, 1e-7));
        assert!(close(t_quantile_975(1e18), Z_975, 1e-12));
    }

    #[test]
    fn hand_computed_t_interval() {
        let e = Estimate::from_samples(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.n, 5);
        assert!(close(e.mean, 3.0, 1e-12));
        // sd = sqrt(10 / 4) = 1.581139; half-width = 2.776445 · 1.581139 / sqrt(5) = 1.963243.
        assert!(close(e.ci95, 1.963_243, 1e-6), "ci95 {}", e.ci95);
        assert_eq!((e.min, e.max), (1.0, 5.0));
        assert!(close(e.low(), 1.036_757, 1e-6));
        assert!(close(e.high(), 4.963_243, 1e-6));
        assert!(e.contains(1.04) && e.contains(4.96));
        assert!(!e.contains(1.03) && !e.contains(4.97) && !e.contains(f64::NAN));
    }

    #[test]
    fn non_finite_samples_are_left_out() {
        let e = Estimate::from_samples(&[f64::NAN, 1.0, f64::INFINITY, 5.0, f64::NEG_INFINITY]);
        assert_eq!(e.n, 2);
        assert_eq!(e.mean, 3.0);
        // sd = 2·sqrt(2); half-width = 12.706205 · 2·sqrt(2) / sqrt(2) = 25.41241.
        assert!(close(e.ci95, 25.412_41, 1e-4), "ci95 {}", e.ci95);
    }

    #[test]
    fn degenerate_samples() {
        let one = Estimate::from_samples(&[7.5]);
        assert_eq!((one.mean, one.ci95, one.min, one.max, one.n), (7.5, 0.0, 7.5, 7.5, 1));
        assert!(one.contains(7.5));

        let none = Estimate::from_samples(&[]);
        assert_eq!(none.n, 0);
        assert!(none.mean.is_nan() && none.min.is_nan() && none.max.is_nan());
        assert_eq!(none.ci95, 0.0);
        assert!(!none.contains(0.0));

        let same = Estimate::from_samples(&[2.0; 10]);
        assert_eq!((same.mean, same.ci95), (2.0, 0.0));
    }

    #[test]
    fn nan_serializes_as_null() {
        let none = Estimate::from_samples(&[]);
        let json = serde_json::to_string(&none).unwrap();
        assert_eq!(json, r#"{"mean":null,"ci95":0.0,"min":null,"max":null,"n":0}"#);
        let d = differs_significantly(&[], &[]);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"mean_diff":null,"ci95":0.0,"significant":false,"n":0}"#);
    }

    #[test]
    fn paired_difference_by_hand() {
        // Differences a − b: 1, 2, 3, 4, 5 — the same interval as the hand-computed estimate.
        let b = [10.0, 20.0, 30.0, 40.0, 50.0];
        let a = [11.0, 22.0, 33.0, 44.0, 55.0];
        let d = differs_significantly(&a, &b);
        assert_eq!(d.n, 5);
        assert!(close(d.mean_diff, 3.0, 1e-12));
        assert!(close(d.ci95, 1.963_243, 1e-6));
        assert!(d.significant);

        // Differences −1, 1, −1, 1 (+ an unmatched extra sample): mean 0, not significant.
        let d = differs_significantly(&[1.0, 3.0, 1.0, 3.0, 99.0], &[2.0, 2.0, 2.0, 2.0]);
        assert_eq!(d.n, 4);
        assert_eq!(d.mean_diff, 0.0);
        assert!(!d.significant);

        // A constant shift is significant even with zero spread.
        let d = differs_significantly(&[2.0, 3.0], &[1.0, 2.0]);
        assert_eq!((d.mean_diff, d.ci95, d.significant), (1.0, 0.0, true));

        // One pair is never significant; pairs with a non-finite side are dropped.
        let d = differs_significantly(&[5.0, f64::NAN], &[1.0, 1.0]);
        assert_eq!((d.n, d.mean_diff, d.significant), (1, 4.0, false));
    }

    #[test]
    fn paired_comparison_sees_what_unpaired_intervals_miss() {
        // Replication noise is large, but b is always 0.5 above a: the paired test detects it.
        let a = [10.0, 30.0, 20.0, 50.0, 40.0];
        let b = [10.4, 30.6, 20.5, 50.5, 40.5];
        let (ea, eb) = (Estimate::from_samples(&a), Estimate::from_samples(&b));
        assert!(ea.contains(eb.mean) && eb.contains(ea.mean));
        let d = differs_significantly(&a, &b);
        assert!(close(d.mean_diff, -0.5, 1e-12));
        assert!(d.significant, "{d:?}");
    }
}
