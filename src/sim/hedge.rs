//! Hedged requests ("The Tail at Scale", Dean and Barroso): at a call site that hedges, an
//! attempt still unanswered after a delay gets a second copy; the first successful answer wins.
//! This component says when the copy goes (a fixed delay, or a percentile of the site's own
//! recent answers) and counts what hedging cost (copies sent) and won (answers the copy gave
//! first). The request path (`request.rs`) sends the copies and takes the answers.

use super::replication::HedgeResult;
use crate::engine::Nanos;
use crate::model::{CallSite, HedgeTrigger};

/// Successful answers a percentile is taken over: the most recent ones.
pub const RECENT_ANSWERS: usize = 1_000;
/// The percentile is worked out again after this many new answers (and first after this many).
pub const REFRESH_EVERY: u64 = 100;

/// The hedging of every call site (none for a site that does not hedge).
pub struct Hedges {
    sites: Vec<Option<SiteHedge>>,
    /// Whether any site hedges (the request path asks at every answer).
    any: bool,
    warmup_ns: Nanos,
}

/// One hedging call site: its trigger, its recent answers and its counts since the warm-up.
struct SiteHedge {
    trigger: HedgeTrigger,
    /// The delay before a copy now; `None` while a percentile has too few answers to go on.
    delay_ns: Option<Nanos>,
    /// The latest successful answers' latencies (a ring, oldest overwritten), percentile only.
    recent: Vec<Nanos>,
    /// Where the next answer goes in `recent`.
    next: usize,
    /// Answers seen since the start.
    answers: u64,
    /// Scratch space for selecting the percentile (kept to reuse its memory).
    scratch: Vec<Nanos>,
    counts: HedgeResult,
}

impl Hedges {
    /// Fresh hedging for each of the model's call sites.
    pub fn new(sites: &[CallSite], warmup_ns: Nanos) -> Self {
        let sites: Vec<Option<SiteHedge>> = sites
            .iter()
            .map(|site| {
                site.hedge.as_ref().map(|hedge| SiteHedge {
                    trigger: hedge.trigger,
                    delay_ns: match hedge.trigger {
                        HedgeTrigger::After(ns) => Some(ns),
                        HedgeTrigger::At(_) => None,
                    },
                    recent: Vec::new(),
                    next: 0,
                    answers: 0,
                    scratch: Vec::new(),
                    counts: HedgeResult::default(),
                })
            })
            .collect();
        let any = sites.iter().any(Option::is_some);
        Hedges { sites, any, warmup_ns }
    }

    /// Whether any call site hedges.
    pub fn any(&self) -> bool {
        self.any
    }

    /// An attempt at `site` goes on the network at `now`: the delay after which its second copy
    /// goes, when the site hedges and has a delay yet.
    pub fn attempt_sent(&mut self, site: usize, now: Nanos) -> Option<Nanos> {
        let state = self.sites[site].as_mut()?;
        let counts = now >= self.warmup_ns;
        state.counts.attempts += u64::from(counts);
        let delay = state.delay_ns?;
        if counts {
            state.counts.armed += 1;
            state.counts.delay_sum_ns += delay as f64;
        }
        Some(delay)
    }

    /// A second copy went out at `site`.
    pub fn hedge_sent(&mut self, site: usize, now: Nanos) {
        if let Some(state) = self.sites[site].as_mut() {
            state.counts.hedges += u64::from(now >= self.warmup_ns);
        }
    }

    /// An attempt at `site` was answered successfully `latency` after it was sent, by its second
    /// copy when `by_hedge`: a percentile trigger learns from it.
    pub fn answered(&mut self, site: usize, latency: Nanos, by_hedge: bool, now: Nanos) {
        let Some(state) = self.sites[site].as_mut() else {
            return;
        };
        state.counts.won += u64::from(by_hedge && now >= self.warmup_ns);
        let HedgeTrigger::At(q) = state.trigger else {
            return;
        };
        if state.recent.len() < RECENT_ANSWERS {
            state.recent.push(latency);
        } else {
            state.recent[state.next] = latency;
        }
        state.next = (state.next + 1) % RECENT_ANSWERS;
        state.answers += 1;
        if state.answers % REFRESH_EVERY == 0 {
            state.scratch.clear();
            state.scratch.extend_from_slice(&state.recent);
            state.delay_ns = Some(nearest_rank(&mut state.scratch, q));
        }
    }

    /// What hedging did at each call site (`None` where it does not hedge).
    pub fn results(&self) -> Vec<Option<HedgeResult>> {
        self.sites.iter().map(|s| s.as_ref().map(|s| s.counts)).collect()
    }
}

/// The `q`-th percentile of `values` by nearest rank: the smallest value at least `q` % of
/// them do not exceed (reorders `values`; it is not empty).
fn nearest_rank(values: &mut [Nanos], q: f64) -> Nanos {
    let n = values.len();
    let rank = ((q / 100.0 * n as f64).ceil() as usize).clamp(1, n);
    *values.select_nth_unstable(rank - 1).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(trigger: HedgeTrigger) -> Vec<CallSite> {
        vec![CallSite {
            hedge: Some(crate::model::Hedge {
                name: "web.hedge".into(),
                trigger,
            }),
            ..CallSite::default()
        }]
    }

    #[test]
    fn the_nearest_rank_percentile_of_1_to_100_is_the_percentile_itself() {
        let mut values: Vec<Nanos> = (1..=100).rev().collect();
        assert_eq!(nearest_rank(&mut values, 95.0), 95);
        assert_eq!(nearest_rank(&mut values, 99.5), 100);
        assert_eq!(nearest_rank(&mut values, 0.1), 1);
    }

    #[test]
    fn a_percentile_trigger_waits_for_its_first_hundred_answers_then_follows_the_latest_thousand() {
        let mut hedges = Hedges::new(&site(HedgeTrigger::At(90.0)), 0);
        for i in 0..99 {
            assert_eq!(hedges.attempt_sent(0, 0), None);
            hedges.answered(0, 1_000 + i, false, 0);
        }
        hedges.answered(0, 1_099, false, 0);
        // 1,000..=1,099: the 90th of 100 is 1,089.
        assert_eq!(hedges.attempt_sent(0, 0), Some(1_089));
        // 2,000 answers of 5 after them: the last thousand are all 5.
        for _ in 0..2_000 {
            hedges.answered(0, 5, false, 0);
        }
        assert_eq!(hedges.attempt_sent(0, 0), Some(5));
        let r = hedges.results()[0].unwrap();
        assert_eq!((r.attempts, r.armed), (101, 2));
        assert_eq!(r.delay_sum_ns, 1_094.0);
    }

    #[test]
    fn a_fixed_delay_counts_copies_and_wins_from_the_warm_up_on() {
        let mut hedges = Hedges::new(&site(HedgeTrigger::After(50)), 10);
        assert_eq!(hedges.attempt_sent(0, 5), Some(50));
        hedges.hedge_sent(0, 5);
        hedges.answered(0, 60, true, 5);
        assert_eq!(hedges.attempt_sent(0, 10), Some(50));
        hedges.hedge_sent(0, 20);
        hedges.answered(0, 60, true, 70);
        hedges.answered(0, 30, false, 70);
        let r = hedges.results()[0].unwrap();
        assert_eq!((r.attempts, r.armed, r.hedges, r.won), (1, 1, 1, 1));
    }
}
