//! The Wilson score interval: a 95 % confidence interval for a share estimated from k successes
//! in n trials (the share of replications that tipped over), sound at k = 0 and k = n where the
//! normal approximation collapses to a single point.

/// The standard normal quantile for a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The 95 % Wilson score interval of the share `successes / trials`, as [low, high] in 0…1;
/// [NaN, NaN] without trials. With p = k/n and z = 1.96:
/// centre = (p + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
pub fn wilson_interval(successes: u64, trials: u64) -> [f64; 2] {
    if trials == 0 {
        return [f64::NAN, f64::NAN];
    }
    let n = trials as f64;
    let p = successes.min(trials) as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At k = 0 and k = n the bound is exactly 0 or 1; say so rather than leave a rounding residue.
    let low = if successes == 0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if successes >= trials { 1.0 } else { (centre + half).min(1.0) };
    [low, high]
}

#[cfg(test)]
mod tests {
    use super::wilson_interval;

    #[test]
    fn three_of_ten_gives_the_textbook_wilson_interval() {
        // By hand: p = 0.3, z² = 3.8415, 1 + z²/n = 1.38415; centre = (0.3 + 0.19207)/1.38415
        // = 0.35550; half = 1.95996/1.38415 · √(0.021 + 0.0096037) = 1.41600 · 0.17494 = 0.24772.
        let [low, high] = wilson_interval(3, 10);
        assert!((low - 0.1078).abs() < 5e-4, "{low}");
        assert!((high - 0.6032).abs() < 5e-4, "{high}");
    }

    #[test]
    fn none_of_n_starts_at_zero_and_all_of_n_ends_at_one() {
        // 0 of 4: high = z²/(n + z²) = 3.8415/7.8415 = 0.4899.
        let [low, high] = wilson_interval(0, 4);
        assert_eq!(low, 0.0);
        assert!((high - 0.4899).abs() < 5e-4, "{high}");
        let [low, high] = wilson_interval(4, 4);
        assert!((low - 0.5101).abs() < 5e-4, "{low}");
        assert_eq!(high, 1.0);
        assert!(wilson_interval(0, 0)[0].is_nan());
    }
}
