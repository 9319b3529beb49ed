//! Fixed-width time windows after the warm-up: event counts with latencies, and time-averaged levels.

use serde::Serialize;

use super::histogram::LatencyHistogram;
use super::level::{higher, ns_to_f64};

type Nanos = u64;

/// Nanoseconds in one second.
const NS_PER_S: f64 = 1e9;

/// Nanoseconds in one millisecond.
const NS_PER_MS: f64 = 1e6;

/// Significant digits of per-window latency histograms (1 % quantile error, small memory).
const WINDOW_SIGFIG: u8 = 2;

/// Where the windows lie: window `i` covers `[start + i·width, start + (i+1)·width)`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
struct Grid {
    /// Start of window 0, in nanoseconds.
    start_ns: Nanos,
    /// Width of every window, in nanoseconds (at least 1).
    window_ns: Nanos,
    /// Number of windows; times past the last one are ignored.
    max_windows: usize,
    /// End of the last window, in nanoseconds (saturating far out).
    horizon_ns: Nanos,
}

/// The window being filled, with the times it covers: most events fall in the same window as
/// the one before, so finding their window is two comparisons instead of a division.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug)]
pub(super) struct Cursor {
    /// Index of the window.
    pub(super) i: usize,
    /// Start of the window, in nanoseconds.
    from_ns: Nanos,
    /// End of the window (excluded), in nanoseconds.
    to_ns: Nanos,
}

impl Cursor {
    /// A cursor on no window: it holds no time.
    pub(super) const NOWHERE: Cursor = Cursor {
        i: 0,
        from_ns: 0,
        to_ns: 0,
    };

    /// Whether `now_ns` lies in the cursor's window.
    #[inline]
    pub(super) fn holds(&self, now_ns: Nanos) -> bool {
        self.from_ns <= now_ns && now_ns < self.to_ns
    }

    /// A cursor on the window holding `now_ns` among `windows` windows of `window_ns` (at least
    /// 1) from `start_ns`, if any (the one division of a record that changes window).
    pub(super) fn at(start_ns: Nanos, window_ns: Nanos, windows: usize, now_ns: Nanos) -> Option<Cursor> {
        let n = now_ns.checked_sub(start_ns)? / window_ns;
        let i = usize::try_from(n).ok().filter(|&i| i < windows)?;
        // No overflow: the window starts at or before `now_ns`.
        let from_ns = start_ns + n * window_ns;
        Some(Cursor {
            i,
            from_ns,
            to_ns: from_ns.saturating_add(window_ns),
        })
    }
}

impl Grid {
    fn new(start_ns: Nanos, window_ns: Nanos, max_windows: usize) -> Grid {
        let mut grid = Grid {
            start_ns,
            window_ns: window_ns.max(1),
            max_windows,
            horizon_ns: 0,
        };
        grid.horizon_ns = grid.window_start_ns(max_windows);
        grid
    }

    /// A cursor on the window holding `now_ns`, if any.
    fn cursor_at(&self, now_ns: Nanos) -> Option<Cursor> {
        Cursor::at(self.start_ns, self.window_ns, self.max_windows, now_ns)
    }

    /// Whether two grids put windows at the same times (their counts may differ).
    fn aligned(&self, other: &Grid) -> bool {
        self.start_ns == other.start_ns && self.window_ns == other.window_ns
    }

    /// Start of window `i`, in nanoseconds (saturating far out).
    fn window_start_ns(&self, i: usize) -> Nanos {
        let offset = (i as u128).saturating_mul(u128::from(self.window_ns));
        Nanos::try_from(u128::from(self.start_ns).saturating_add(offset)).unwrap_or(Nanos::MAX)
    }

    /// Start of window `i`, in seconds.
    fn window_start_s(&self, i: usize) -> f64 {
        (u128::from(self.start_ns) + i as u128 * u128::from(self.window_ns)) as f64 / NS_PER_S
    }

    /// End of the last window, in nanoseconds.
    fn horizon_ns(&self) -> Nanos {
        self.horizon_ns
    }

    /// Number of windows that start before `end_ns`.
    fn windows_before(&self, end_ns: Nanos) -> usize {
        let span = end_ns.saturating_sub(self.start_ns);
        usize::try_from(span.div_ceil(self.window_ns))
            .unwrap_or(usize::MAX)
            .min(self.max_windows)
    }
}

/// One window of a [`WindowSeries`] as reported: counts and latencies of the events that ended
/// in it. Latency fields are NaN (JSON `null`) when no event of the window carried a latency.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SeriesRow {
    /// Start of the window, in seconds of simulated time.
    pub start_s: f64,
    /// Events in the window (totals over replications once series are merged).
    pub count: u64,
    /// Events that succeeded.
    pub ok: u64,
    /// Events that failed.
    pub errors: u64,
    /// Exact mean latency of the window's events that carried one, in milliseconds.
    pub mean_ms: f64,
    /// Median latency, in milliseconds (within 1 %).
    pub p50_ms: f64,
    /// 99th-percentile latency, in milliseconds (within 1 %).
    pub p99_ms: f64,
}

/// Counts and latencies of one window.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default)]
struct EventWindow {
    count: u64,
    ok: u64,
    errors: u64,
    /// Allocated on the first latency, so quiet windows cost little.
    latency: Option<LatencyHistogram>,
}

impl EventWindow {
    fn latency_mut(&mut self) -> &mut LatencyHistogram {
        self.latency
            .get_or_insert_with(|| LatencyHistogram::with_precision(WINDOW_SIGFIG))
    }
}

/// Events (requests ending, say) counted per fixed-width window from a start time on, each with
/// an optional latency and an outcome; memory is bounded by the number of windows.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct WindowSeries {
    grid: Grid,
    windows: Vec<EventWindow>,
    /// The window of the latest record.
    cursor: Cursor,
}

impl WindowSeries {
    /// An empty series of `max_windows` windows of `window_ns` nanoseconds (0 is taken as 1)
    /// starting at `start_ns`.
    pub fn new(start_ns: Nanos, window_ns: Nanos, max_windows: usize) -> Self {
        WindowSeries {
            grid: Grid::new(start_ns, window_ns, max_windows),
            windows: Vec::new(),
            cursor: Cursor::NOWHERE,
        }
    }

    /// Counts an event at `now_ns` that succeeded when `ok`, with its latency in nanoseconds if
    /// it has one; returns false (nothing counted) when `now_ns` is before the start or past the
    /// last window.
    #[inline]
    pub fn record(&mut self, now_ns: Nanos, latency_ns: Option<Nanos>, ok: bool) -> bool {
        if !self.cursor.holds(now_ns) && !self.move_cursor(now_ns) {
            return false;
        }
        // The cursor's window exists: moving the cursor created it.
        let w = &mut self.windows[self.cursor.i];
        w.count = w.count.saturating_add(1);
        if ok {
            w.ok = w.ok.saturating_add(1);
        } else {
            w.errors = w.errors.saturating_add(1);
        }
        if let Some(ns) = latency_ns {
            w.latency_mut().record(ns);
        }
        true
    }

    /// Moves the cursor to the window holding `now_ns`, creating the window; false (the cursor
    /// stays) when no window holds it.
    #[cold]
    fn move_cursor(&mut self, now_ns: Nanos) -> bool {
        let Some(cursor) = self.grid.cursor_at(now_ns) else {
            return false;
        };
        self.cursor = cursor;
        self.window_mut(cursor.i);
        true
    }

    /// Marks the run as observed up to `end_ns`, so quiet windows before it are reported with
    /// zero counts rather than left out.
    pub fn finish(&mut self, end_ns: Nanos) {
        let n = self.grid.windows_before(end_ns);
        if n > self.windows.len() {
            self.windows.resize_with(n, EventWindow::default);
        }
    }

    /// Adds the events of `other` (another replication) window by window; returns false and
    /// changes nothing when the windows do not start at the same time with the same width.
    /// Windows past this series' own count are dropped.
    pub fn merge(&mut self, other: &WindowSeries) -> bool {
        if !self.grid.aligned(&other.grid) {
            return false;
        }
        for (i, theirs) in other.windows.iter().enumerate().take(self.grid.max_windows) {
            let mine = self.window_mut(i);
            mine.count = mine.count.saturating_add(theirs.count);
            mine.ok = mine.ok.saturating_add(theirs.ok);
            mine.errors = mine.errors.saturating_add(theirs.errors);
            if let Some(h) = &theirs.latency {
                mine.latency_mut().merge(h);
            }
        }
        true
    }

    /// One row per window, from the first through the last one that saw an event or was
    /// reached by [`WindowSeries::finish`].
    pub fn windows(&self) -> Vec<SeriesRow> {
        self.windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let (mean_ms, p50_ms, p99_ms) = match &w.latency {
                    Some(h) if !h.is_empty() => (
                        h.mean_ns() / NS_PER_MS,
                        h.quantile_ns(0.5) as f64 / NS_PER_MS,
                        h.quantile_ns(0.99) as f64 / NS_PER_MS,
                    ),
                    _ => (f64::NAN, f64::NAN, f64::NAN),
                };
                SeriesRow {
                    start_s: self.grid.window_start_s(i),
                    count: w.count,
                    ok: w.ok,
                    errors: w.errors,
                    mean_ms,
                    p50_ms,
                    p99_ms,
                }
            })
            .collect()
    }

    /// Mean of the latencies of window `i`, in milliseconds (exact); NaN when the window carried
    /// none.
    pub fn mean_ms(&self, i: usize) -> f64 {
        match self.windows.get(i).and_then(|w| w.latency.as_ref()) {
            Some(h) if !h.is_empty() => h.mean_ns() / NS_PER_MS,
            _ => f64::NAN,
        }
    }

    /// Quantile `q` of the latencies of window `i`, in milliseconds (within 1 %); NaN when the
    /// window carried none.
    pub fn quantile_ms(&self, i: usize, q: f64) -> f64 {
        match self.windows.get(i).and_then(|w| w.latency.as_ref()) {
            Some(h) if !h.is_empty() => h.quantile_ns(q) as f64 / NS_PER_MS,
            _ => f64::NAN,
        }
    }

    /// Window `i` (below the window count), created if not yet touched.
    fn window_mut(&mut self, i: usize) -> &mut EventWindow {
        if i >= self.windows.len() {
            self.windows.resize_with(i + 1, EventWindow::default);
        }
        &mut self.windows[i]
    }
}

/// One window of a [`LevelSeries`] as reported, in the unit of the level (busy workers, queued
/// requests, connections in use).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LevelRow {
    /// Start of the window, in seconds of simulated time.
    pub start_s: f64,
    /// Time-average of the level over the observed part of the window (averaged over
    /// replications once merged).
    pub mean: f64,
    /// Highest level held at any instant of the window (over all replications once merged).
    pub max: f64,
}

/// Integral and peak of the level in one window.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
struct LevelWindow {
    /// Integral of the level over the window's observed time, in level·nanoseconds.
    integral: f64,
    /// Highest level held in the window.
    max: f64,
}

impl LevelWindow {
    fn new() -> LevelWindow {
        LevelWindow {
            integral: 0.0,
            max: f64::NEG_INFINITY,
        }
    }
}

/// A piecewise-constant level (utilisation, queue length) averaged over time per fixed-width
/// window from a start time on; memory is bounded by the number of windows.
///
/// The level in force at the start is carried in; a timestamp earlier than the previous change
/// is taken as the previous change time.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LevelSeries {
    grid: Grid,
    /// Time of the latest change or of `finish`, in nanoseconds.
    last_ns: Nanos,
    /// Level in force since `last_ns`.
    level: f64,
    windows: Vec<LevelWindow>,
    /// The window of the latest change: most changes fall in it, so no division is needed.
    cursor: Cursor,
}

impl LevelSeries {
    /// A level of 0, averaged over `max_windows` windows of `window_ns` nanoseconds (0 is taken
    /// as 1) starting at `start_ns`.
    pub fn new(start_ns: Nanos, window_ns: Nanos, max_windows: usize) -> Self {
        LevelSeries {
            grid: Grid::new(start_ns, window_ns, max_windows),
            last_ns: 0,
            level: 0.0,
            windows: Vec::new(),
            cursor: Cursor::NOWHERE,
        }
    }

    /// The level becomes `level` at `now_ns` and holds until the next change; a non-finite level
    /// is ignored.
    #[inline]
    pub fn set(&mut self, now_ns: Nanos, level: f64) {
        if !level.is_finite() {
            return;
        }
        let now = now_ns.max(self.last_ns);
        let from = self.last_ns.max(self.grid.start_ns);
        if self.cursor.holds(from) && now < self.cursor.to_ns {
            // The latest change and this one fall in the same window (the cursor's, which
            // exists): what `advance` and the lines below do, with one window to look at.
            let held = self.level;
            let w = &mut self.windows[self.cursor.i];
            if from < now {
                w.integral += held * ns_to_f64(now - from);
                w.max = higher(w.max, held);
            }
            w.max = higher(w.max, level);
            (self.last_ns, self.level) = (now, level);
            return;
        }
        self.set_in_another_window(now, level);
    }

    /// [`LevelSeries::set`] when the change is not in the latest change's window (or there is
    /// no window yet): integrate window by window up to `now`.
    #[inline(never)]
    fn set_in_another_window(&mut self, now: Nanos, level: f64) {
        self.advance(now);
        if let Some(i) = self.window_at(now) {
            let w = self.window_mut(i);
            w.max = higher(w.max, level);
        }
        self.level = level;
    }

    /// Integrates the current level up to `end_ns`, the end of the run, so the last windows are
    /// complete.
    pub fn finish(&mut self, end_ns: Nanos) {
        self.advance(end_ns.max(self.last_ns));
    }

    /// One row per window from the first through the last one reached by a change or by
    /// [`LevelSeries::finish`]; the last window's mean covers only its observed part.
    pub fn windows(&self) -> Vec<LevelRow> {
        let covered_until = self.last_ns.min(self.grid.horizon_ns());
        (0..self.grid.windows_before(covered_until))
            .map(|i| {
                let from = self.grid.window_start_ns(i);
                let to = self.grid.window_start_ns(i + 1).min(covered_until);
                let (integral, max) = self.windows.get(i).map_or((0.0, f64::NAN), |w| (w.integral, w.max));
                LevelRow {
                    start_s: self.grid.window_start_s(i),
                    mean: integral / to.saturating_sub(from) as f64,
                    max,
                }
            })
            .collect()
    }

    /// Integrates the current level from the latest change to `now_ns` (not before it), window
    /// by window, and moves the latest change there.
    fn advance(&mut self, now_ns: Nanos) {
        let mut from = self.last_ns.max(self.grid.start_ns);
        let to = now_ns.min(self.grid.horizon_ns());
        while from < to {
            let Some(i) = self.window_at(from) else {
                break;
            };
            let seg_end = self.cursor.to_ns.min(to);
            let level = self.level;
            let w = self.window_mut(i);
            w.integral += level * ns_to_f64(seg_end - from);
            w.max = higher(w.max, level);
            from = seg_end;
        }
        self.last_ns = self.last_ns.max(now_ns);
    }

    /// The window holding `now_ns` (never earlier than the last one asked for), moving the
    /// cursor to it.
    fn window_at(&mut self, now_ns: Nanos) -> Option<usize> {
        if !self.cursor.holds(now_ns) {
            self.cursor = self.grid.cursor_at(now_ns)?;
        }
        Some(self.cursor.i)
    }

    /// Time-average of the level over everything covered so far (from the start to the last
    /// change or [`LevelSeries::finish`]); 0 when nothing is covered.
    pub fn mean(&self) -> f64 {
        let covered = self.last_ns.min(self.grid.horizon_ns()).saturating_sub(self.grid.start_ns);
        if covered == 0 {
            return 0.0;
        }
        self.windows.iter().map(|w| w.integral).sum::<f64>() / covered as f64
    }

    /// Highest level held at any instant from the start on (0 when nothing is covered).
    pub fn max_level(&self) -> f64 {
        self.windows.iter().map(|w| w.max).fold(0.0, f64::max)
    }

    /// Window `i` (below the window count), created if not yet touched.
    fn window_mut(&mut self, i: usize) -> &mut LevelWindow {
        if i >= self.windows.len() {
            self.windows.resize_with(i + 1, LevelWindow::new);
        }
        &mut self.windows[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn events_land_in_windows_by_half_open_boundaries() {
        // Windows of 1 s from 10 s: [10, 11), [11, 12), [12, 13).
        let mut ws = WindowSeries::new(10 * S, S, 3);
        assert!(!ws.record(10 * S - 1, Some(MS), true), "before the start");
        assert!(ws.record(10 * S, Some(2 * MS), true));
        assert!(ws.record(11 * S - 1, Some(4 * MS), false));
        assert!(ws.record(11 * S, None, false));
        assert!(ws.record(13 * S - 1, Some(MS), true));
        assert!(!ws.record(13 * S, Some(MS), true), "past the last window");
        let rows = ws.windows();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].start_s, rows[0].count, rows[0].ok, rows[0].errors), (10.0, 2, 1, 1));
        assert_eq!(rows[0].mean_ms, 3.0);
        // Two significant digits: quantiles within 1 % of the recorded 2 ms and 4 ms.
        assert!((rows[0].p50_ms - 2.0).abs() <= 0.02, "p50 {}", rows[0].p50_ms);
        assert!((rows[0].p99_ms - 4.0).abs() <= 0.04, "p99 {}", rows[0].p99_ms);
        assert_eq!((rows[1].start_s, rows[1].count, rows[1].ok, rows[1].errors), (11.0, 1, 0, 1));
        assert!(rows[1].mean_ms.is_nan() && rows[1].p99_ms.is_nan());
        assert_eq!((rows[2].start_s, rows[2].count), (12.0, 1));
    }

    #[test]
    fn records_going_back_and_forth_across_windows_each_land_in_their_own_window() {
        // Windows of 1 s from 0: the window of the previous record is no guide to the next.
        let mut ws = WindowSeries::new(0, S, 4);
        let times = [S / 2, 2 * S, S / 2, 3 * S + 1, S, 2 * S - 1, 0, 4 * S, 3 * S - 1];
        let counted: Vec<bool> = times.iter().map(|&t| ws.record(t, Some(MS), true)).collect();
        assert_eq!(counted, [true, true, true, true, true, true, true, false, true]);
        let counts: Vec<u64> = ws.windows().iter().map(|r| r.count).collect();
        // [0,1): S/2, S/2, 0; [1,2): S, 2S-1; [2,3): 2S, 3S-1; [3,4): 3S+1.
        assert_eq!(counts, [3, 2, 2, 1]);
    }

    #[test]
    fn quiet_windows_are_reported_up_to_finish() {
        let mut ws = WindowSeries::new(0, S, 10);
        ws.record(S / 2, Some(MS), true);
        assert_eq!(ws.windows().len(), 1);
        ws.finish(3 * S); // windows [0,1) [1,2) [2,3)
        let rows = ws.windows();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[2].start_s, rows[2].count), (2.0, 0));
        ws.finish(3 * S + 1);
        assert_eq!(ws.windows().len(), 4);
        ws.finish(u64::MAX);
        assert_eq!(ws.windows().len(), 10, "bounded by the window count");
    }

    #[test]
    fn empty_latencies_serialize_as_null() {
        let mut ws = WindowSeries::new(0, S, 1);
        ws.record(0, None, true);
        let json = serde_json::to_string(&ws.windows()).unwrap();
        assert_eq!(
            json,
            r#"[{"start_s":0.0,"count":1,"ok":1,"errors":0,"mean_ms":null,"p50_ms":null,"p99_ms":null}]"#
        );
    }

    #[test]
    fn merging_windows_equals_recording_together() {
        let mut a = WindowSeries::new(0, S, 4);
        let mut b = WindowSeries::new(0, S, 4);
        let mut all = WindowSeries::new(0, S, 4);
        for k in 0..1000u64 {
            let (t, lat, ok) = (k * 3_999_999, (k % 97 + 1) * MS, k % 5 != 0);
            let target = if k % 2 == 0 { &mut a } else { &mut b };
            assert_eq!(target.record(t, Some(lat), ok), all.record(t, Some(lat), ok));
        }
        assert!(a.merge(&b));
        assert_eq!(a.windows(), all.windows());
        assert!(!a.merge(&WindowSeries::new(1, S, 4)));
        assert!(!a.merge(&WindowSeries::new(0, 2 * S, 4)));
        assert_eq!(a.windows(), all.windows());
    }

    #[test]
    fn zero_width_and_zero_count_do_not_panic() {
        let mut ws = WindowSeries::new(5, 0, 2);
        assert!(ws.record(5, Some(1), true));
        assert!(ws.record(6, Some(1), true));
        assert!(!ws.record(7, Some(1), true));
        let mut none = WindowSeries::new(0, S, 0);
        assert!(!none.record(0, Some(1), true));
        none.finish(u64::MAX);
        assert!(none.windows().is_empty());
        let mut far = WindowSeries::new(u64::MAX - 1, u64::MAX, usize::MAX);
        assert!(far.record(u64::MAX, None, true));
        far.finish(u64::MAX);
        assert_eq!(far.windows().len(), 1);
    }

    #[test]
    fn level_means_per_window_by_hand() {
        // Windows of 10 s from 100 s. Level 3 from 95 s (carried in), 1 from 104 s,
        // 5 from 112 s, 0 from 118 s; run ends at 125 s.
        let mut ls = LevelSeries::new(100 * S, 10 * S, 5);
        ls.set(95 * S, 3.0);
        ls.set(104 * S, 1.0);
        ls.set(112 * S, 5.0);
        ls.set(118 * S, 0.0);
        ls.finish(125 * S);
        let rows = ls.windows();
        assert_eq!(rows.len(), 3);
        // [100,110): 3·4 + 1·6 = 18 over 10 s.
        assert_eq!((rows[0].start_s, rows[0].mean, rows[0].max), (100.0, 1.8, 3.0));
        // [110,120): 1·2 + 5·6 + 0·2 = 32 over 10 s.
        assert_eq!((rows[1].start_s, rows[1].mean, rows[1].max), (110.0, 3.2, 5.0));
        // [120,125): 0 over the 5 s observed.
        assert_eq!((rows[2].start_s, rows[2].mean, rows[2].max), (120.0, 0.0, 0.0));
    }

    #[test]
    fn level_spikes_and_boundaries() {
        let mut ls = LevelSeries::new(0, S, 3);
        ls.set(S / 2, 9.0);
        ls.set(S / 2, 2.0); // a momentary 9: no time, but seen
        ls.set(S, 4.0); // exactly on the boundary: belongs to window 1 only
        ls.finish(2 * S);
        let rows = ls.windows();
        assert_eq!(rows.len(), 2, "the run ends exactly where window 2 starts");
        assert_eq!((rows[0].mean, rows[0].max), (1.0, 9.0));
        assert_eq!((rows[1].mean, rows[1].max), (4.0, 4.0));
        // Past the last window: ignored, and finish far out stays bounded.
        ls.set(100 * S, 7.0);
        ls.finish(u64::MAX);
        let rows = ls.windows();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[2].mean, rows[2].max), (4.0, 4.0));
    }

    proptest! {
        #[test]
        fn level_windows_match_the_step_function_integrated_window_by_window(
            changes in prop::collection::vec((0u64..30, 0u8..6), 1..60),
            start in 0u64..40,
            width in 1u64..25,
        ) {
            // Changes at increasing times (several at one instant allowed), from before the start.
            let mut ls = LevelSeries::new(start, width, 8);
            let mut steps: Vec<(u64, f64)> = Vec::new();
            let mut t = 0;
            for &(gap, level) in &changes {
                t += gap;
                ls.set(t, f64::from(level));
                steps.push((t, f64::from(level)));
            }
            let end = t + 7;
            ls.finish(end);
            let rows = ls.windows();
            let covered = end.min(start + 8 * width);
            prop_assert_eq!(rows.len() as u64, covered.saturating_sub(start).div_ceil(width));
            for (i, row) in rows.iter().enumerate() {
                let (from, to) = (start + i as u64 * width, (start + (i as u64 + 1) * width).min(covered));
                // The level at each nanosecond of the window, and every level set inside it.
                let level_at = |x: u64| steps.iter().rev().find(|s| s.0 <= x).map_or(0.0, |s| s.1);
                let integral: f64 = (from..to).map(level_at).sum();
                let mut max = (from..to).map(level_at).fold(f64::NEG_INFINITY, f64::max);
                for s in steps.iter().filter(|s| s.0 >= from && s.0 < to) {
                    max = max.max(s.1);
                }
                prop_assert!((row.mean - integral / (to - from) as f64).abs() < 1e-9, "window {}", i);
                prop_assert_eq!(row.max, max, "window {}", i);
            }
        }
    }

    #[test]
    fn level_series_agrees_with_time_weighted() {
        use crate::stats::level::TimeWeighted;
        let mut ls = LevelSeries::new(0, 7 * S, 100);
        let mut tw = TimeWeighted::new(0);
        for k in 0..200u64 {
            let (t, v) = (k * 3 * S + k % 7 * MS, (k * k % 11) as f64);
            ls.set(t, v);
            tw.set(t, v);
        }
        let end = 700 * S;
        ls.finish(end);
        let rows = ls.windows();
        assert_eq!(rows.len(), 100);
        let avg = rows.iter().map(|r| r.mean).sum::<f64>() / rows.len() as f64;
        assert!((avg - tw.mean(end)).abs() < 1e-9, "{avg} vs {}", tw.mean(end));
        let peak = rows.iter().map(|r| r.max).fold(f64::NAN, f64::max);
        assert_eq!(peak, tw.max_level());
        assert!((ls.mean() - tw.mean(end)).abs() < 1e-9, "{} vs {}", ls.mean(), tw.mean(end));
        assert_eq!(ls.max_level(), tw.max_level());
    }
}
