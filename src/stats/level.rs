//! Time-weighted average of a piecewise-constant level (queue length, busy workers, connections in use).

type Nanos = u64;

/// Nanoseconds in one second.
const NS_PER_S: f64 = 1e9;

/// `ns` as a float, rounded exactly as `ns as f64` rounds it, through the signed conversion (one
/// instruction on x86-64) whenever it fits, which every duration of a run does.
#[inline]
pub(crate) fn ns_to_f64(ns: u64) -> f64 {
    match i64::try_from(ns) {
        Ok(signed) => signed as f64,
        Err(_) => ns as f64,
    }
}

/// The higher of two levels that are not NaN (levels are finite and maxima start at −∞): what
/// `f64::max` gives, without its NaN handling.
#[inline]
pub(crate) fn higher(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// The time-average of a level that changes in steps, over an observation interval starting at a
/// warm-up time.
///
/// The level holds from each change until the next; time before the start is not counted, but
/// the level in force at the start is carried in. A timestamp earlier than the previous change is
/// taken as the previous change time, so time never runs backwards.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct TimeWeighted {
    /// Start of the observation interval, in nanoseconds.
    start_ns: Nanos,
    /// Time of the latest change, in nanoseconds.
    last_ns: Nanos,
    /// Level in force since `last_ns`.
    level: f64,
    /// Integral of the level from the start to `max(last_ns, start_ns)`, in level·nanoseconds.
    integral: f64,
    /// Highest level held for some time, or set, since the start (the current level aside).
    max_before: f64,
}

impl TimeWeighted {
    /// A level of 0 observed from `start_ns` (the end of the warm-up) on.
    pub fn new(start_ns: Nanos) -> Self {
        TimeWeighted {
            start_ns,
            last_ns: 0,
            level: 0.0,
            integral: 0.0,
            max_before: f64::NEG_INFINITY,
        }
    }

    /// Start of the observation interval, in nanoseconds.
    pub fn start_ns(&self) -> Nanos {
        self.start_ns
    }

    /// The level becomes `level` at `now_ns` and holds until the next change; a non-finite
    /// level is ignored (the previous one stays).
    #[inline]
    pub fn set(&mut self, now_ns: Nanos, level: f64) {
        if !level.is_finite() {
            return;
        }
        let now = now_ns.max(self.last_ns);
        let held_ns = self.observed_ns(now);
        if held_ns > 0 {
            self.max_before = higher(self.max_before, self.level);
        }
        self.integral += self.level * ns_to_f64(held_ns);
        if now >= self.start_ns {
            // Seen inside the interval, even if replaced at the same instant.
            self.max_before = higher(self.max_before, level);
        }
        self.last_ns = now;
        self.level = level;
    }

    /// The level changes by `delta` at `now_ns` (+1 on arrival, −1 on departure).
    pub fn add(&mut self, now_ns: Nanos, delta: f64) {
        self.set(now_ns, self.level + delta);
    }

    /// The level in force now.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Highest level held at any instant since the start, including the level carried in.
    pub fn max_level(&self) -> f64 {
        self.max_before.max(self.level)
    }

    /// Integral of the level from the start to `end_ns`, in level·seconds (busy-worker-seconds,
    /// for example); `end_ns` earlier than the latest change is taken as the latest change.
    pub fn integral(&self, end_ns: Nanos) -> f64 {
        self.integral_level_ns(end_ns) / NS_PER_S
    }

    /// Time-average of the level from the start to `end_ns` (0 for an empty interval);
    /// `end_ns` earlier than the latest change is taken as the latest change.
    pub fn mean(&self, end_ns: Nanos) -> f64 {
        let end = end_ns.max(self.last_ns);
        if end <= self.start_ns {
            return 0.0;
        }
        self.integral_level_ns(end) / (end - self.start_ns) as f64
    }

    /// Restarts observation at `start_ns` (end of a warm-up): the integral and the maximum start
    /// over, the current level is kept. A start earlier than the latest change is taken as the
    /// latest change, since the history before it is no longer known.
    pub fn reset_start(&mut self, start_ns: Nanos) {
        self.start_ns = start_ns.max(self.last_ns);
        self.integral = 0.0;
        self.max_before = f64::NEG_INFINITY;
    }

    /// Integral in level·nanoseconds up to `end_ns` (at least the latest change), without mutating.
    fn integral_level_ns(&self, end_ns: Nanos) -> f64 {
        let end = end_ns.max(self.last_ns);
        self.integral + self.level * self.observed_ns(end) as f64
    }

    /// Nanoseconds of the observation interval between the latest change and `until_ns`.
    fn observed_ns(&self, until_ns: Nanos) -> Nanos {
        until_ns.saturating_sub(self.last_ns.max(self.start_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn durations_convert_to_the_same_float_as_the_unsigned_conversion() {
        let edges = [
            0,
            1,
            (1 << 53) + 1,
            (1 << 62) + 3,
            i64::MAX as u64,
            1 << 63,
            (1 << 63) + 1025,
            u64::MAX,
        ];
        for ns in edges {
            assert_eq!(ns_to_f64(ns).to_bits(), (ns as f64).to_bits(), "{ns}");
        }
    }

    #[test]
    fn the_higher_of_two_levels_is_f64_max_for_levels() {
        let levels = [f64::NEG_INFINITY, -3.5, 0.0, 1.0, 2.5, 1e300];
        for a in levels {
            for b in levels {
                assert_eq!(higher(a, b), a.max(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn step_function_with_warm_up_cut() {
        // Level 4 from 0 s, 2 from 5 s, 6 from 12 s, 1 from 14 s; observed from 10 s to 20 s.
        let mut tw = TimeWeighted::new(10 * S);
        tw.set(0, 4.0);
        tw.set(5 * S, 2.0);
        assert_eq!(tw.max_level(), 2.0, "4 ended before the start");
        tw.set(12 * S, 6.0);
        tw.set(14 * S, 1.0);
        // 2·2 s + 6·2 s + 1·6 s = 22 level·s over 10 s.
        assert_eq!(tw.integral(20 * S), 22.0);
        assert_eq!(tw.mean(20 * S), 2.2);
        assert_eq!(tw.max_level(), 6.0);
        assert_eq!(tw.level(), 1.0);
        // Querying does not mutate: an earlier end still answers from the same state.
        // 2·2 + 6·2 = 16 level·s over 4 s.
        assert_eq!(tw.mean(14 * S), 4.0);
        assert_eq!(tw.mean(20 * S), 2.2);
    }

    #[test]
    fn add_tracks_arrivals_and_departures() {
        let mut tw = TimeWeighted::new(0);
        tw.add(0, 1.0);
        tw.add(S, 1.0);
        tw.add(3 * S, -1.0);
        tw.add(4 * S, -1.0);
        // 1·1 + 2·2 + 1·1 = 6 over 4 s.
        assert_eq!(tw.mean(4 * S), 1.5);
        assert_eq!(tw.max_level(), 2.0);
        // 6 over 8 s once idle for 4 more seconds.
        assert_eq!(tw.mean(8 * S), 0.75);
    }

    #[test]
    fn empty_interval_and_backwards_time() {
        let mut tw = TimeWeighted::new(5 * S);
        assert_eq!(tw.mean(5 * S), 0.0);
        assert_eq!(tw.mean(0), 0.0);
        tw.set(8 * S, 3.0);
        tw.set(6 * S, 1.0); // taken as 8 s: the 3 lasted no time
                            // 0·3 s + 1·2 s over 5 s.
        assert_eq!(tw.mean(10 * S), 0.4);
        assert_eq!(tw.max_level(), 3.0, "a momentary level still counts as seen");
        // End before the latest change is the latest change: 0 over 3 s.
        assert_eq!(tw.mean(7 * S), 0.0);
        tw.set(9 * S, f64::NAN);
        assert_eq!(tw.level(), 1.0);
    }

    #[test]
    fn level_carried_into_the_interval_counts() {
        let mut tw = TimeWeighted::new(10 * S);
        tw.set(S, 7.0);
        assert_eq!(tw.max_level(), 7.0);
        assert_eq!(tw.mean(12 * S), 7.0);
        assert_eq!(tw.integral(12 * S), 14.0);
        // A change exactly at the start: the old level was never held inside the interval.
        let mut tw = TimeWeighted::new(10 * S);
        tw.set(S, 7.0);
        tw.set(10 * S, 2.0);
        assert_eq!(tw.max_level(), 2.0);
        assert_eq!(tw.mean(20 * S), 2.0);
    }

    #[test]
    fn reset_start_restarts_the_integral_and_keeps_the_level() {
        let mut tw = TimeWeighted::new(0);
        tw.set(0, 9.0);
        tw.set(2 * S, 3.0);
        tw.reset_start(4 * S);
        assert_eq!(tw.start_ns(), 4 * S);
        assert_eq!(tw.max_level(), 3.0);
        tw.set(6 * S, 5.0);
        // 3·2 + 5·2 = 16 over 4 s.
        assert_eq!(tw.mean(8 * S), 4.0);
        // A start before the latest change moves to it.
        tw.reset_start(S);
        assert_eq!(tw.start_ns(), 6 * S);
        assert_eq!(tw.mean(8 * S), 5.0);
    }
}
