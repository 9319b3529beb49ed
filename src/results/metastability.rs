//! The metastability verdict of one replication: was the watched metric healthy before the
//! trigger, did it get worse after it, and is it still worse — persistently — at the end of the run?
//!
//! One replication's windows are judged in four steps:
//! 1. **Baseline first.** The windows that end before the trigger must be healthy: not pinned at
//!    saturation (a utilisation of [`SATURATED_UTILISATION`] or more), and, when the load is
//!    flat, stationary — the mean of their second half must not lie past the range of their first
//!    half (widened by 10 %) on the worse side and more than [`DRIFT_STANDARD_ERRORS`] standard
//!    errors from the first half's mean. Otherwise the verdict is "baseline not healthy":
//!    a system that collapsed before the trigger has no baseline to come back to.
//! 2. **The band.** Under flat load, the pre-trigger windows' range widened by 10 % on each side.
//!    Under a load profile (ramps, daily peaks), each window is compared with the same window
//!    (and its two neighbours) of every replication of the run without the trigger, which shares
//!    this run's random numbers: the band follows the profile instead of being flat.
//! 3. **Worse, not different.** A window counts against the system only when it is past the band
//!    on the side the metric's [`Direction`] calls worse; a window better than the baseline is
//!    not a failure. Empty windows (no request finished) are not counted as worse.
//! 4. **Persistence.** The replication is metastable when its last K windows are all worse than
//!    the band. K is the smallest number of windows (at least [`MIN_PERSISTENCE`], at most
//!    [`MAX_PERSISTENCE`]) for which a healthy stationary replication that came back is called
//!    metastable less than [`FALSE_ALARM_BOUND`] of the time: see [`persistence_for_baseline`] and
//!    [`persistence_for_reference`].

use super::metric::Direction;

/// The false-alarm rate the persistence rule allows: the chance that a replication which came
/// back is called metastable.
pub const FALSE_ALARM_BOUND: f64 = 0.01;
/// The fewest windows in a row, at the end of the run, that make a replication metastable.
pub const MIN_PERSISTENCE: usize = 3;
/// The most windows in a row the persistence rule ever asks for.
pub const MAX_PERSISTENCE: usize = 20;
/// A utilisation at or above which the baseline is saturated: its queue grows without bound
/// (ρ ≥ 1) or nearly, so a band around it absorbs a collapse.
pub const SATURATED_UTILISATION: f64 = 0.98;
/// How many standard errors of the difference of the baseline halves' means a drift must exceed.
pub const DRIFT_STANDARD_ERRORS: f64 = 3.0;
/// How far the band reaches beyond the values it is built from (a share of their magnitude).
pub const BAND_WIDENING: f64 = 0.1;

/// A replication's verdict, and the run's (written in JSON as [`Status::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The metric never got worse than the band after the trigger started.
    Stable,
    /// It got worse and came back.
    Recovered,
    /// It was still worse than the band for the last K windows of the run.
    Metastable,
    /// Before the trigger the metric was saturated or drifting: there is no baseline to judge by.
    BaselineUnhealthy,
    /// No verdict: no window before the trigger, or too few after it.
    Undetermined,
}

impl Status {
    /// The status as written in JSON: "stable", "recovered", "metastable", "baseline_unhealthy"
    /// or "undetermined".
    pub fn name(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Recovered => "recovered",
            Status::Metastable => "metastable",
            Status::BaselineUnhealthy => "baseline_unhealthy",
            Status::Undetermined => "undetermined",
        }
    }
}

/// What is watched and against what.
#[derive(Clone, Copy, Debug)]
pub struct Watch<'a> {
    /// The metric's name, for sentences.
    pub metric: &'a str,
    /// Which way is worse.
    pub direction: Direction,
    /// Whether the metric is a utilisation (a share of capacity that can saturate).
    pub utilisation: bool,
    /// Window length, seconds.
    pub window_s: f64,
    /// When the trigger starts, seconds.
    pub trigger_start_s: f64,
    /// When the trigger ends, seconds.
    pub trigger_end_s: f64,
    /// The windows of every replication of the run without the trigger (common random numbers),
    /// when the load follows a profile; `None` compares with the pre-trigger band.
    pub reference: Option<&'a [Vec<(f64, f64)>]>,
}

/// One replication's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The verdict.
    pub status: Status,
    /// For "recovered": seconds from the end of the trigger to the first window from which the
    /// metric was back and never again worse for K windows in a row.
    pub recovered_after_s: Option<f64>,
    /// For "baseline_unhealthy" and "undetermined": why, in a sentence.
    pub reason: Option<String>,
    /// The K used (windows in a row at the end of the run).
    pub persistence_windows: usize,
}

/// The band of `values` (finite ones): their range widened by [`BAND_WIDENING`] on each side.
pub fn band(values: impl IntoIterator<Item = f64>) -> Option<[f64; 2]> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    (low <= high).then(|| [low - BAND_WIDENING * low.abs(), high + BAND_WIDENING * high.abs()])
}

/// K against a flat band built from `baseline_windows` windows. If a replication came back, its
/// last K windows and its m baseline windows are exchangeable (same distribution, any order
/// equally likely), so the chance that all K lie above the largest of the m — the least that
/// calling it metastable needs, before the 10 % widening — is K!·m!/(m+K)! = 1/C(m+K, K). K is
/// the smallest with that at most [`FALSE_ALARM_BOUND`]: 3 from m = 7 baseline windows on
/// (1/120), 4 for m = 5 (1/126).
pub fn persistence_for_baseline(baseline_windows: usize) -> usize {
    let m = baseline_windows as f64;
    (MIN_PERSISTENCE..=MAX_PERSISTENCE)
        .find(|&k| {
            // C(m+k, k) = Π_{i=1..k} (m+i)/i.
            let choose: f64 = (1..=k).map(|i| (m + i as f64) / i as f64).product();
            1.0 / choose <= FALSE_ALARM_BOUND
        })
        .unwrap_or(MAX_PERSISTENCE)
}

/// K against the run without the trigger, `runs` replications of it. A window of a replication
/// that came back is exchangeable with the same window of the n runs without the trigger, so it
/// lies above all of them with chance 1/(n+1); K windows in a row, taken as independent, with
/// (1/(n+1))^K. K is the smallest with that at most [`FALSE_ALARM_BOUND`]: 3 from n = 4 on (1/125),
/// 7 for a single replication (1/128).
pub fn persistence_for_reference(runs: usize) -> usize {
    let p = 1.0 / (runs as f64 + 1.0);
    (MIN_PERSISTENCE..=MAX_PERSISTENCE)
        .find(|&k| p.powi(k as i32) <= FALSE_ALARM_BOUND)
        .unwrap_or(MAX_PERSISTENCE)
}

/// Whether the windows before the trigger make a healthy baseline: `Err` says why not. The
/// drift test is only asked for under flat load (`stationary_expected`): under a profile the
/// load itself moves.
pub fn baseline_health(watch: &Watch, before: &[f64], stationary_expected: bool) -> Result<(), String> {
    let finite: Vec<f64> = before.iter().copied().filter(|v| v.is_finite()).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    if watch.utilisation && !finite.is_empty() && mean(&finite) >= SATURATED_UTILISATION {
        return Err(format!(
            "{} averaged {:.1} % before the trigger: saturated, its queue was already growing",
            watch.metric,
            100.0 * mean(&finite)
        ));
    }
    if stationary_expected && finite.len() >= 4 {
        let half = finite.len() / 2;
        let (first, second) = (&finite[..half], &finite[finite.len() - half..]);
        if let Some(range) = band(first.iter().copied()) {
            let (earlier, later) = (mean(first), mean(second));
            let variance = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
            let standard_error = (variance(first, earlier) / half as f64 + variance(second, later) / half as f64).sqrt();
            // Past the first half's range (a material change) and beyond noise (more than
            // DRIFT_STANDARD_ERRORS standard errors of the difference of the two means).
            if watch.direction.is_worse(later, watch.direction.edge(range))
                && (later - earlier).abs() > DRIFT_STANDARD_ERRORS * standard_error
            {
                return Err(format!(
                    "{} drifted before the trigger: from a mean of {} in the first half of the baseline to {} in the second, past the first half's range",
                    watch.metric,
                    super::metric::significant(earlier),
                    super::metric::significant(later)
                ));
            }
        }
    }
    Ok(())
}

/// Judge one replication's windows (window start in seconds, value) as the module describes.
pub fn judge(watch: &Watch, windows: &[(f64, f64)]) -> Judgement {
    const EPS: f64 = 1e-9;
    let verdict = |status, recovered_after_s, reason: Option<String>, k| Judgement {
        status,
        recovered_after_s,
        reason,
        persistence_windows: k,
    };
    let before: Vec<f64> = windows
        .iter()
        .filter(|w| w.0 + watch.window_s <= watch.trigger_start_s + EPS)
        .map(|w| w.1)
        .filter(|v| v.is_finite())
        .collect();
    if before.is_empty() {
        return verdict(
            Status::Undetermined,
            None,
            Some(format!(
                "no window of {} ends before the trigger at {}; start the trigger later or shorten the warm-up",
                watch.metric,
                crate::model::units::format_duration_f64(watch.trigger_start_s)
            )),
            0,
        );
    }
    let k = match watch.reference {
        Some(runs) => persistence_for_reference(runs.len()),
        None => persistence_for_baseline(before.len()),
    };
    if let Err(why) = baseline_health(watch, &before, watch.reference.is_none()) {
        return verdict(Status::BaselineUnhealthy, None, Some(why), k);
    }
    let flat = band(before.iter().copied());
    // The band the window at `index` is judged against.
    let band_at = |index: usize| -> Option<[f64; 2]> {
        match watch.reference {
            None => flat,
            Some(runs) => band(
                runs.iter()
                    .flat_map(|run| run.get(index.saturating_sub(1)..(index + 2).min(run.len())).unwrap_or(&[]))
                    .map(|w| w.1),
            ),
        }
    };
    let worse = |index: usize| -> bool {
        let v = windows[index].1;
        v.is_finite() && band_at(index).is_some_and(|b| watch.direction.is_worse(v, watch.direction.edge(b)))
    };
    let left = (0..windows.len())
        .filter(|&i| windows[i].0 >= watch.trigger_start_s - EPS)
        .any(worse);
    if !left {
        return verdict(Status::Stable, None, None, k);
    }
    let post: Vec<usize> = (0..windows.len())
        .filter(|&i| windows[i].0 >= watch.trigger_end_s - EPS)
        .collect();
    let flags: Vec<bool> = post.iter().map(|&i| worse(i)).collect();
    let tail = flags.iter().rev().take_while(|&&w| w).count();
    if tail >= k {
        return verdict(Status::Metastable, None, None, k);
    }
    // Back from the end of the last stretch that counts: one of K windows or more, or the one
    // the trigger left behind (starting at its end). Shorter blips later are noise.
    let mut back = 0;
    let mut i = 0;
    while i < flags.len() {
        if flags[i] {
            let run = flags[i..].iter().take_while(|&&w| w).count();
            if run >= k || i == 0 {
                back = i + run;
            }
            i += run;
        } else {
            i += 1;
        }
    }
    match post.get(back) {
        Some(&w) => verdict(
            Status::Recovered,
            Some((windows[w].0 - watch.trigger_end_s).max(0.0)),
            None,
            k,
        ),
        None => verdict(
            Status::Undetermined,
            None,
            Some(format!(
                "{} was still worse than its band when the run ended, {} window(s) after the trigger; {k} in a row are needed to call it: run longer",
                watch.metric,
                flags.len()
            )),
            k,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(reference: Option<&[Vec<(f64, f64)>]>) -> Watch<'_> {
        Watch {
            metric: "api.p99",
            direction: Direction::RisesWhenWorse,
            utilisation: false,
            window_s: 60.0,
            trigger_start_s: 600.0,
            trigger_end_s: 660.0,
            reference,
        }
    }

    /// Windows of one minute from 0 s: `values` in order.
    fn windows(values: &[f64]) -> Vec<(f64, f64)> {
        values.iter().enumerate().map(|(i, &v)| (60.0 * i as f64, v)).collect()
    }

    #[test]
    fn persistence_follows_the_exchangeability_bound() {
        // 1/C(m+3, 3) <= 1 % needs C >= 100: C(9,3) = 84 (m = 6) is not enough, C(10,3) = 120 is.
        assert_eq!(persistence_for_baseline(7), 3);
        assert_eq!(persistence_for_baseline(6), 4);
        // C(9,4) = 126 for m = 5; C(8,4) = 70 and C(9,5) = 126 for m = 4.
        assert_eq!(persistence_for_baseline(5), 4);
        assert_eq!(persistence_for_baseline(4), 5);
        // (1/5)^3 = 0.8 % with four runs; (1/2)^7 = 0.78 % with one.
        assert_eq!(persistence_for_reference(4), 3);
        assert_eq!(persistence_for_reference(1), 7);
    }

    #[test]
    fn a_collapse_before_the_trigger_is_not_a_baseline() {
        // A latency climbing from the start: the band [0.9, 11] would absorb everything after.
        let climbing: Vec<f64> = (1..=20).map(f64::from).collect();
        let j = judge(&watch(None), &windows(&climbing));
        assert_eq!(j.status, Status::BaselineUnhealthy, "{j:?}");
        // A utilisation pinned at 100 %.
        let w = Watch {
            utilisation: true,
            metric: "api.utilisation",
            ..watch(None)
        };
        let j = judge(&w, &windows(&[1.0; 20]));
        assert_eq!(j.status, Status::BaselineUnhealthy, "{j:?}");
    }

    #[test]
    fn only_the_worse_side_counts() {
        // Latency far below the band after the trigger: better, not a failure.
        let mut v = vec![10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0];
        v.extend([2.0; 10]);
        assert_eq!(judge(&watch(None), &windows(&v)).status, Status::Stable);
        // The same for a throughput that rises.
        let w = Watch {
            direction: Direction::FallsWhenWorse,
            ..watch(None)
        };
        let mut v = vec![10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0];
        v.extend([50.0; 10]);
        assert_eq!(judge(&w, &windows(&v)).status, Status::Stable);
    }

    #[test]
    fn out_of_band_must_persist_for_k_windows_at_the_end() {
        let base = [10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0];
        // Ten baseline windows: K = 3 (1/C(13,3) = 1/286).
        let mut v = base.to_vec();
        v.extend([50.0, 40.0, 10.0, 10.0, 10.0, 10.0, 10.0, 30.0, 30.0]);
        let j = judge(&watch(None), &windows(&v));
        assert_eq!(j.persistence_windows, 3);
        // Two windows out at the end are a blip; back from 720 s (60 s after the trigger's end).
        assert_eq!(j.status, Status::Recovered, "{j:?}");
        assert_eq!(j.recovered_after_s, Some(60.0));
        v.push(30.0);
        assert_eq!(judge(&watch(None), &windows(&v)).status, Status::Metastable);
    }

    #[test]
    fn under_a_profile_each_window_is_judged_against_the_run_without_the_trigger() {
        // A daily peak: 10 → 40 → 10. The triggered run follows it and comes back.
        let shape = [
            10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 20.0, 30.0, 40.0, 40.0, 30.0, 20.0, 10.0, 10.0,
        ];
        let reference: Vec<Vec<(f64, f64)>> = (0..4).map(|r| windows(&shape.map(|v| v + r as f64))).collect();
        let mut run = shape.to_vec();
        run[11] = 90.0; // The trigger's own window.
        let j = judge(&watch(Some(&reference)), &windows(&run));
        assert_eq!(j.status, Status::Recovered, "{j:?}");
        // Against the flat band [9, 11] the peak would look like a collapse that lasts.
        let flat = judge(&watch(None), &windows(&shape[..15]));
        assert_eq!(flat.status, Status::Metastable);
    }
}
