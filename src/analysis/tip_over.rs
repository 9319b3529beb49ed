//! Where a system tips over: for one trigger family and one duration, the smallest trigger size
//! that leaves it down (metastable) in at least half of the replications, found by bisection
//! with sequential replications; and the probability of staying down at every size tried.
//!
//! Each size is judged by the share of replications that tipped over, with its 95 % Wilson
//! interval: it **tips** when the interval lies above ½, it **holds** when it lies below, and
//! stays **uncertain** otherwise — then the replications are doubled, up to a cap, and a size
//! still uncertain at the cap is placed by its share (≥ ½ tips) and marked uncertain. The
//! search assumes a larger trigger never makes tipping less likely: it tries the largest size
//! first (nothing tips: no boundary in range), then the smallest (it already tips), then halves
//! the range between a size that holds and one that tips, geometrically for factors and
//! durations, by whole numbers for counts.

use serde::{Deserialize, Serialize};

/// The probability a size is judged against: tipping over in at least half of the replications.
pub const TIP_OVER_SHARE: f64 = 0.5;

/// The bisection stops when the largest size that holds and the smallest that tips are within
/// this ratio of each other (10 %), for sizes that are not counts.
pub const PRECISION: f64 = 1.1;

/// Most sizes tried per curve, the two ends included.
pub const MAX_TRIALS: usize = 10;

/// How a trigger's sizes are read, searched and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// A multiplier (a load spike, a slowdown): "×2.5".
    Factor,
    /// A time, seconds (added latency, time down): "30s".
    Seconds,
    /// A whole number (cores taken): "3".
    Count,
    /// A share from 0 to 1 (the offered load as a fraction of normal): "40 %", bisected
    /// arithmetically to within [`SHARE_PRECISION`].
    Share,
}

/// The bisection of a share stops when the share that holds and the one that tips are this
/// close (5 points).
pub const SHARE_PRECISION: f64 = 0.05;

/// The replications a size is judged with first, and at most.
#[derive(Clone, Copy, Debug)]
pub struct Replications {
    /// First batch.
    pub first: u32,
    /// Most, when the verdict stays uncertain (doubling from the first).
    pub cap: u32,
}

/// What the replications of one trigger size did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Replications run.
    pub replications: u32,
    /// Judged on a healthy baseline (stable, recovered or metastable).
    pub judged: u32,
    /// Metastable: still worse than the baseline at the end of the run.
    pub tipped: u32,
    /// Cut short by a bound of the run (more requests in flight than the model allows, the
    /// event budget): not judged.
    pub stopped: u32,
    /// Saturated or drifting before the trigger: not judged.
    pub unhealthy: u32,
}

/// A size's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Tipped over in at least half of the replications (95 % CI above ½).
    Tips,
    /// Tipped over in fewer than half (95 % CI below ½).
    Holds,
    /// The CI still straddles ½ at the cap, or no replication could be judged.
    Uncertain,
}

/// One size tried.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    /// The trigger's size (a factor, seconds or a count).
    pub size: f64,
    /// What its replications did.
    pub tally: Tally,
    /// tipped / judged (NaN when none was judged).
    #[serde(deserialize_with = "crate::stats::nan::number")]
    pub share: f64,
    /// 95 % Wilson interval of the share.
    #[serde(deserialize_with = "crate::stats::nan::pair")]
    pub ci95: [f64; 2],
    /// Its verdict.
    pub decision: Decision,
}

impl Point {
    /// A point from its tally.
    pub fn of(size: f64, tally: Tally) -> Point {
        let ci95 = crate::stats::wilson_interval(u64::from(tally.tipped), u64::from(tally.judged));
        let share = if tally.judged == 0 {
            f64::NAN
        } else {
            f64::from(tally.tipped) / f64::from(tally.judged)
        };
        let decision = if tally.judged == 0 {
            Decision::Uncertain
        } else if ci95[0] > TIP_OVER_SHARE {
            Decision::Tips
        } else if ci95[1] < TIP_OVER_SHARE {
            Decision::Holds
        } else {
            Decision::Uncertain
        };
        Point {
            size,
            tally,
            share,
            ci95,
            decision,
        }
    }

    /// Whether the search counts it as tipping: decided so, or uncertain with a share of ½ or more.
    pub fn tips(&self) -> bool {
        match self.decision {
            Decision::Tips => true,
            Decision::Holds => false,
            Decision::Uncertain => self.share >= TIP_OVER_SHARE,
        }
    }
}

/// Where the boundary lies in the range searched.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Boundary {
    /// Even the smallest size tried tips over.
    AtOrBelow {
        /// The smallest size.
        size: f64,
    },
    /// Between the largest size that held and the smallest that tipped.
    Between {
        /// Held.
        holds: f64,
        /// Tipped.
        tips: f64,
    },
    /// Nothing tipped over up to the largest size tried.
    Above {
        /// The largest size.
        size: f64,
    },
    /// A size could not be judged (every replication stopped at a bound or had no healthy
    /// baseline, or the runs were interrupted): the search stopped there.
    NotJudged {
        /// The size.
        size: f64,
    },
    /// Nothing judged tipped over up to `holds`; from `unjudged` on no replication could be
    /// judged (cut short at a bound): where it tips over above `holds` is not known.
    HoldsUpTo {
        /// The largest size that held.
        holds: f64,
        /// The smallest size tried that could not be judged.
        unjudged: f64,
    },
}

impl Boundary {
    /// The smallest size known to tip over (infinite when none did up to the largest size; NaN
    /// when sizes that could not be judged leave it unknown).
    pub fn tipping_size(&self) -> f64 {
        match *self {
            Boundary::AtOrBelow { size } => size,
            Boundary::Between { tips, .. } => tips,
            Boundary::Above { .. } => f64::INFINITY,
            Boundary::NotJudged { .. } | Boundary::HoldsUpTo { .. } => f64::NAN,
        }
    }
}

/// The sizes tried for one trigger duration, in increasing size, and the boundary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Curve {
    /// The sizes tried, smallest first.
    pub points: Vec<Point>,
    /// Where it tips over.
    pub boundary: Boundary,
    /// Whether a size the boundary rests on stayed uncertain at the cap.
    pub uncertain: bool,
}

/// Judge one size: the first batch of replications, doubled while the verdict is uncertain
/// and under the cap.
pub fn judge(
    size: f64,
    replications: Replications,
    trial: &mut impl FnMut(f64, u32) -> Result<Tally, String>,
) -> Result<Point, String> {
    let mut n = replications.first.max(1);
    loop {
        let point = Point::of(size, trial(size, n)?);
        if point.decision != Decision::Uncertain || n >= replications.cap || point.tally.judged == 0 {
            return Ok(point);
        }
        n = n.saturating_mul(2).min(replications.cap);
    }
}

/// Search `[smallest, largest]` for the boundary, judging each size with `trial` (size,
/// replications) → what they did. A size no replication could judge (every run cut short at a
/// bound, e.g. more requests in flight than the model allows) is taken as an upper end the
/// search goes below; a trial that fails (the runs were interrupted) ends the search there, the
/// sizes tried so far kept.
pub fn search(
    smallest: f64,
    largest: f64,
    scale: Scale,
    replications: Replications,
    mut trial: impl FnMut(f64, u32) -> Result<Tally, String>,
) -> Curve {
    let mut points: Vec<Point> = Vec::new();
    let stopped = |points: Vec<Point>, size: f64| finish(points, Boundary::NotJudged { size }, true);
    let Ok(top) = judge(largest, replications, &mut trial) else {
        return stopped(points, largest);
    };
    let top_judged = top.tally.judged > 0;
    let top_tips = top.tips();
    let top_uncertain = top.decision == Decision::Uncertain;
    points.push(top);
    if top_judged && !top_tips {
        return finish(points, Boundary::Above { size: largest }, top_uncertain);
    }
    if smallest >= largest {
        return match top_judged {
            true => finish(points, Boundary::AtOrBelow { size: largest }, top_uncertain),
            false => stopped(points, largest),
        };
    }
    let Ok(bottom) = judge(smallest, replications, &mut trial) else {
        return stopped(points, smallest);
    };
    let bottom_judged = bottom.tally.judged > 0;
    let bottom_tips = bottom.tips();
    let bottom_uncertain = bottom.decision == Decision::Uncertain;
    points.push(bottom);
    if !bottom_judged {
        return stopped(points, smallest);
    }
    if bottom_tips {
        return finish(points, Boundary::AtOrBelow { size: smallest }, bottom_uncertain);
    }
    // `upper` tipped over, or could not be judged (`upper_judged` false).
    let (mut holds, mut upper, mut upper_judged) = (smallest, largest, top_judged);
    let (mut holds_uncertain, mut upper_uncertain) = (bottom_uncertain, top_uncertain);
    while points.len() < MAX_TRIALS {
        let mid = match scale {
            Scale::Count => {
                if upper - holds <= 1.0 {
                    break;
                }
                ((holds + upper) / 2.0).floor()
            }
            Scale::Share => {
                if upper - holds <= SHARE_PRECISION {
                    break;
                }
                (holds + upper) / 2.0
            }
            Scale::Factor | Scale::Seconds => {
                if upper / holds <= PRECISION {
                    break;
                }
                // The geometric midpoint, to two significant digits (×3.9, not ×3.873).
                let mid = two_significant((holds * upper).sqrt());
                if mid <= holds || mid >= upper {
                    break;
                }
                mid
            }
        };
        let Ok(point) = judge(mid, replications, &mut trial) else {
            return stopped(points, mid);
        };
        let uncertain = point.decision == Decision::Uncertain;
        if point.tally.judged == 0 || point.tips() {
            upper = mid;
            upper_judged = point.tally.judged > 0;
            upper_uncertain = uncertain;
        } else {
            holds = mid;
            holds_uncertain = uncertain;
        }
        points.push(point);
    }
    let boundary = if upper_judged {
        Boundary::Between { holds, tips: upper }
    } else {
        Boundary::HoldsUpTo { holds, unjudged: upper }
    };
    finish(points, boundary, holds_uncertain || upper_uncertain)
}

/// `x` rounded to two significant digits.
fn two_significant(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    // Divide by a whole power of ten rather than multiply by a fraction: 39 / 10 is exactly the
    // double nearest 3.9, 39 × 0.1 is not.
    let exponent = x.log10().floor() as i32 - 1;
    if exponent >= 0 {
        let unit = 10f64.powi(exponent);
        (x / unit).round() * unit
    } else {
        let scale = 10f64.powi(-exponent);
        (x * scale).round() / scale
    }
}

/// The curve with its points in increasing size.
fn finish(mut points: Vec<Point>, boundary: Boundary, uncertain: bool) -> Curve {
    points.sort_by(|a, b| a.size.total_cmp(&b.size));
    Curve {
        points,
        boundary,
        uncertain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system that tips over exactly from size 3.7 on, with certainty.
    fn step(size: f64, n: u32) -> Result<Tally, String> {
        Ok(Tally {
            replications: n,
            judged: n,
            tipped: if size >= 3.7 { n } else { 0 },
            ..Tally::default()
        })
    }

    const REPS: Replications = Replications { first: 8, cap: 32 };

    #[test]
    fn bisection_brackets_a_sharp_boundary_within_the_precision() {
        let curve = search(1.0, 10.0, Scale::Factor, REPS, step);
        let Boundary::Between { holds, tips } = curve.boundary else {
            panic!("{:?}", curve.boundary)
        };
        assert!(holds < 3.7 && tips >= 3.7 && tips / holds <= PRECISION, "{holds} {tips}");
        assert!(!curve.uncertain);
        assert!(curve.points.windows(2).all(|w| w[0].size < w[1].size));
    }

    #[test]
    fn geometric_midpoints_have_two_significant_digits() {
        assert_eq!(two_significant(3.872983), 3.9);
        assert_eq!(two_significant(0.0123456), 0.012);
        assert_eq!(two_significant(465.0), 470.0);
        let curve = search(1.5, 10.0, Scale::Factor, REPS, step);
        for p in &curve.points {
            assert_eq!(two_significant(p.size), p.size, "{}", p.size);
        }
    }

    #[test]
    fn counts_are_bisected_to_adjacent_whole_numbers() {
        let curve = search(1.0, 10.0, Scale::Count, REPS, step);
        assert_eq!(curve.boundary, Boundary::Between { holds: 3.0, tips: 4.0 });
        assert!(curve.points.iter().all(|p| p.size.fract() == 0.0));
    }

    #[test]
    fn nothing_tipping_up_to_the_largest_size_is_one_trial() {
        let mut calls = 0;
        let curve = search(1.0, 3.0, Scale::Factor, REPS, |s, n| {
            calls += 1;
            step(s, n)
        });
        assert_eq!(curve.boundary, Boundary::Above { size: 3.0 });
        assert_eq!(calls, 1);
    }

    #[test]
    fn one_size_is_judged_once_and_placed_by_its_verdict() {
        let curve = search(5.0, 5.0, Scale::Factor, REPS, step);
        assert_eq!((curve.boundary, curve.points.len()), (Boundary::AtOrBelow { size: 5.0 }, 1));
        let curve = search(2.0, 2.0, Scale::Factor, REPS, step);
        assert_eq!((curve.boundary, curve.points.len()), (Boundary::Above { size: 2.0 }, 1));
    }

    #[test]
    fn shares_are_bisected_arithmetically_from_zero() {
        let curve = search(0.0, 1.0, Scale::Share, REPS, |s, n| step(s * 10.0, n));
        let Boundary::Between { holds, tips } = curve.boundary else {
            panic!("{:?}", curve.boundary)
        };
        assert!(
            holds < 0.37 && tips >= 0.37 && tips - holds <= SHARE_PRECISION,
            "{holds} {tips}"
        );
    }

    /// Sizes from 5 on cannot be judged (every run cut short at a bound); below, nothing tips.
    fn cut_short_from_5(size: f64, n: u32) -> Result<Tally, String> {
        Ok(if size >= 5.0 {
            Tally {
                replications: n,
                stopped: n,
                ..Tally::default()
            }
        } else {
            Tally {
                replications: n,
                judged: n,
                ..Tally::default()
            }
        })
    }

    #[test]
    fn sizes_no_replication_could_judge_are_searched_below_and_said_so() {
        let mut asked = Vec::new();
        let curve = search(1.0, 10.0, Scale::Factor, REPS, |s, n| {
            asked.push((s, n));
            cut_short_from_5(s, n)
        });
        let Boundary::HoldsUpTo { holds, unjudged } = curve.boundary else {
            panic!("{:?}", curve.boundary)
        };
        assert!(
            holds < 5.0 && unjudged >= 5.0 && unjudged / holds <= PRECISION,
            "{holds} {unjudged}"
        );
        assert!(curve.boundary.tipping_size().is_nan(), "where it tips is not known");
        assert_eq!(asked[0], (10.0, 8), "no more replications for a size none could judge");
    }

    #[test]
    fn an_interrupted_trial_ends_the_search_keeping_the_sizes_tried() {
        let curve = search(1.0, 10.0, Scale::Factor, REPS, |s, n| {
            if s < 9.0 && s > 1.0 {
                Err("interrupted".to_string())
            } else {
                step(s, n)
            }
        });
        assert_eq!(curve.points.len(), 2, "{:?}", curve.points);
        assert!(matches!(curve.boundary, Boundary::NotJudged { .. }), "{:?}", curve.boundary);
    }

    #[test]
    fn a_search_over_the_widest_range_stops_at_the_most_trials() {
        // Durations from 1 ms to 1e6 s (nine decades) with a step at 3.7 s: bisection to 10 %
        // would need more than MAX_TRIALS sizes; the search stops there, bracketing the step.
        let curve = search(0.001, 1e6, Scale::Seconds, REPS, step);
        assert_eq!(curve.points.len(), MAX_TRIALS);
        let Boundary::Between { holds, tips } = curve.boundary else {
            panic!("{:?}", curve.boundary)
        };
        assert!(holds < 3.7 && tips >= 3.7, "{holds} {tips}");
    }

    #[test]
    fn tipping_at_the_smallest_size_says_so() {
        let curve = search(4.0, 8.0, Scale::Factor, REPS, step);
        assert_eq!(curve.boundary, Boundary::AtOrBelow { size: 4.0 });
    }

    #[test]
    fn an_even_split_is_doubled_to_the_cap_then_marked_uncertain() {
        // Half the replications tip at every size: never decided, placed by its share (½ tips).
        let mut asked = Vec::new();
        let point = judge(2.0, REPS, &mut |_, n| {
            asked.push(n);
            Ok(Tally {
                replications: n,
                judged: n,
                tipped: n / 2,
                ..Tally::default()
            })
        })
        .unwrap();
        assert_eq!(asked, vec![8, 16, 32]);
        assert_eq!(point.decision, Decision::Uncertain);
        assert!(point.tips());
    }

    #[test]
    fn eight_of_eight_is_decided_without_more_replications() {
        // Wilson 95 % for 8/8 is 67.6–100 %: above ½.
        let point = Point::of(
            1.0,
            Tally {
                replications: 8,
                judged: 8,
                tipped: 8,
                ..Tally::default()
            },
        );
        assert_eq!(point.decision, Decision::Tips);
        let point = Point::of(
            1.0,
            Tally {
                replications: 8,
                judged: 8,
                tipped: 0,
                ..Tally::default()
            },
        );
        assert_eq!(point.decision, Decision::Holds);
    }
}
