//! Sizing: the cheapest values of a model's capacity knobs (instances, workers, pool sizes,
//! database cores) at which every SLO is met under the baseline and every listed scenario.
//!
//! "Met" is the SLO verdict's: the whole 95 % confidence interval inside the bound. The search
//! assumes what capacity knobs do: more of a knob never makes an SLO worse (latency and errors
//! are monotone in capacity), so
//! 1. the configuration with every knob at its largest value is tried first: when it fails, no
//!    configuration meets the SLOs and the answer is "infeasible", naming what fails;
//! 2. each knob's lower bound is found by bisection with the other knobs at their largest
//!    values (no configuration below it on that knob can meet the SLOs);
//! 3. from the lower bounds, while the SLOs are not met, the knob that buys the most
//!    improvement per unit of cost goes one step up (improvement: how far the upper ends of the
//!    SLOs' confidence intervals are past their bounds, summed);
//! 4. once met, each knob comes down again by bisection, most expensive first, while the SLOs
//!    stay met; then one knob is traded for another (one raised step by step, the other brought
//!    down by bisection) while that is cheaper — with two knobs, a walk along the whole frontier;
//! 5. the answer and its one-step-cheaper neighbours are confirmed with the model's full
//!    replications, adding replications while a verdict is uncertain up to a cap; a cheaper
//!    neighbour that is met after all becomes the answer.
//!
//! Candidates are screened with few replications and decided sequentially: a verdict that the
//! confidence interval leaves uncertain is run again with twice the replications, up to the
//! phase's ceiling, and an uncertain verdict at the ceiling counts as not met. Every candidate
//! is run with the same seed, so candidates share their random numbers and differ by the knobs
//! only. Evaluations are cached: no configuration is simulated twice at the same replications.
//!
//! This module decides; it runs nothing. An [`Oracle`] (see `workflow::size`) simulates a
//! configuration under every run and hands back the SLO verdicts.

use crate::results::SloResult;
use crate::results::SloStatus;
use serde::Serialize;
use std::collections::HashMap;

/// A knob to size: a model path and the values it may take, in increasing order.
#[derive(Clone, Debug, Serialize)]
pub struct Knob {
    /// The model path, e.g. "services.api.instances".
    pub path: String,
    /// Its values, increasing (as numbers).
    pub values: Vec<f64>,
    /// Its values as written (for the model and for people).
    pub shown: Vec<String>,
    /// Cost of one unit per hour, in the sizing's currency.
    pub cost_per_hour: f64,
    /// Its value in the model as written, when the model writes one.
    pub as_written: Option<f64>,
}

/// The SLO verdicts of one run (the baseline or a scenario) of a configuration.
#[derive(Clone, Debug, Serialize)]
pub struct RunVerdicts {
    /// "baseline" or the scenario's name.
    pub run: String,
    /// Whether the run ran to its end (a run stopped at a bound meets nothing).
    pub complete: bool,
    /// Every SLO objective's verdict.
    pub slos: Vec<SloResult>,
}

/// One configuration judged at a number of replications: its verdicts under every run.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// Replications each run had.
    pub replications: u32,
    /// The baseline's verdicts, then each scenario's.
    pub runs: Vec<RunVerdicts>,
}

impl Evaluation {
    /// Met when every run is complete and meets every SLO; breached when a run breaches one or
    /// stopped at a bound; uncertain otherwise (more replications could tell).
    pub fn status(&self) -> SloStatus {
        let mut uncertain = false;
        for run in &self.runs {
            if !run.complete {
                return SloStatus::Breached;
            }
            for slo in &run.slos {
                match slo.status {
                    SloStatus::Breached => return SloStatus::Breached,
                    SloStatus::Uncertain => uncertain = true,
                    SloStatus::Met => {}
                }
            }
        }
        if uncertain {
            SloStatus::Uncertain
        } else {
            SloStatus::Met
        }
    }

    /// How far the SLOs are from being met: the upper ends of their confidence intervals past
    /// their bounds, relative to the bound, summed (0 when every CI is inside; a run stopped at a
    /// bound or an SLO with nothing measured adds 1).
    pub fn shortfall(&self) -> f64 {
        let mut total = 0.0;
        for run in &self.runs {
            if !run.complete {
                total += 1.0;
            }
            for slo in &run.slos {
                total += excess(slo).unwrap_or(1.0);
            }
        }
        total
    }

    /// The objectives not met, worst first: (run, SLO).
    pub fn unmet(&self) -> Vec<(&RunVerdicts, &SloResult)> {
        let mut out: Vec<(&RunVerdicts, &SloResult)> = self
            .runs
            .iter()
            .flat_map(|run| run.slos.iter().map(move |slo| (run, slo)))
            .filter(|(run, slo)| !run.complete || slo.status != SloStatus::Met)
            .collect();
        // Breached (or in a run stopped at a bound) before uncertain, then by how far past the
        // bound.
        out.sort_by(|a, b| {
            let rank = |(run, s): &(&RunVerdicts, &SloResult)| u8::from(run.complete && s.status != SloStatus::Breached);
            rank(a)
                .cmp(&rank(b))
                .then(excess(b.1).unwrap_or(f64::MAX).total_cmp(&excess(a.1).unwrap_or(f64::MAX)))
        });
        out
    }
}

/// The upper end of an objective's CI past its bound, relative to the bound (0 inside it);
/// `None` when nothing was measured.
fn excess(slo: &SloResult) -> Option<f64> {
    let high = slo.measured.high();
    if slo.measured.n == 0 || !high.is_finite() {
        return None;
    }
    // An error-rate bound of 0 is measured against a thousandth, not divided by zero.
    Some(((high - slo.bound) / slo.bound.max(1e-3)).max(0.0))
}

/// The replications a candidate is decided with.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Replications {
    /// First try of a candidate while searching.
    pub screen: u32,
    /// The model's replications: the ceiling while searching, the first try when confirming.
    pub full: u32,
    /// The ceiling when confirming the answer and its cheaper neighbours.
    pub cap: u32,
}

/// Runs a configuration (an index into each knob's values) under the baseline and every
/// scenario, each with `replications`. An error stops the search (the runs were interrupted).
pub trait Oracle {
    /// The verdicts of `config` at `replications`, or why there are none.
    fn evaluate(&mut self, config: &[usize], replications: u32) -> Result<Evaluation, String>;
}

/// How a sizing ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingStatus {
    /// A configuration meets every SLO, confirmed with the full replications.
    Sized,
    /// Even every knob at its largest value breaches an SLO: no configuration in range meets them.
    Infeasible,
    /// Every knob at its largest value leaves an SLO uncertain at the replication cap: more
    /// replications (or a wider range) are needed to decide.
    Uncertain,
    /// The runs were interrupted before the search ended.
    Stopped,
}

impl SizingStatus {
    /// The status as people read it.
    pub fn name(self) -> &'static str {
        match self {
            SizingStatus::Sized => "SIZED",
            SizingStatus::Infeasible => "INFEASIBLE",
            SizingStatus::Uncertain => "UNCERTAIN",
            SizingStatus::Stopped => "STOPPED",
        }
    }
}

/// What the search found.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// How the search ended.
    pub status: SizingStatus,
    /// The answer (sized), or every knob at its largest value (infeasible, uncertain); `None`
    /// when stopped before any was judged.
    pub config: Option<Vec<usize>>,
    /// The answer's evaluation (or the largest configuration's).
    pub evaluation: Option<Evaluation>,
    /// For each knob, the configuration one step cheaper on it and its evaluation (sized only;
    /// `None` for a knob at the lowest value of its range).
    pub cheaper: Vec<Option<(Vec<usize>, Evaluation)>>,
    /// Why the search stopped early, when it did.
    pub stopped: Option<String>,
    /// Configurations judged (each under every run, at one or more replication counts).
    pub configurations: usize,
    /// Evaluations run: a configuration under every run at one replication count.
    pub evaluations: u64,
    /// Replications simulated in all, over every run of every evaluation.
    pub replications_simulated: u64,
    /// Every configuration judged with its last evaluation, in index order.
    pub tried: Vec<(Vec<usize>, Evaluation)>,
}

/// Where in the search a verdict is asked: screening (few replications up to the model's) or
/// confirming (the model's up to the cap).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Screen,
    Confirm,
}

/// How the configurations to judge are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Bisection, a climb by improvement per cost and trades between knobs (few configurations).
    Search,
    /// Every configuration of the grid screened, the cheapest met one confirmed: for checking the
    /// search, or when latency may not be monotone in a knob.
    Exhaustive,
}

/// A search in progress: the knobs, the oracle, and every evaluation made.
struct Search<'a, O: Oracle> {
    knobs: &'a [Knob],
    strategy: Strategy,
    replications: Replications,
    runs: u64,
    oracle: &'a mut O,
    cache: HashMap<Vec<usize>, Evaluation>,
    evaluations: u64,
    replications_simulated: u64,
}

/// Find the cheapest configuration of `knobs` that meets every SLO under `runs` runs per
/// configuration (the baseline and each scenario), deciding verdicts with `replications`, the
/// configurations chosen by `strategy`.
pub fn search<O: Oracle>(knobs: &[Knob], runs: usize, replications: Replications, strategy: Strategy, oracle: &mut O) -> Found {
    let mut s = Search {
        knobs,
        strategy,
        replications,
        runs: runs as u64,
        oracle,
        cache: HashMap::new(),
        evaluations: 0,
        replications_simulated: 0,
    };
    let outcome = s.find();
    let (status, config, cheaper, stopped) = match outcome {
        Ok((status, config, cheaper)) => (status, Some(config), cheaper, None),
        Err(why) => (SizingStatus::Stopped, None, Vec::new(), Some(why)),
    };
    let evaluation = config.as_ref().and_then(|c| s.cache.get(c).cloned());
    let mut tried: Vec<(Vec<usize>, Evaluation)> = s.cache.iter().map(|(c, e)| (c.clone(), e.clone())).collect();
    tried.sort_by(|a, b| a.0.cmp(&b.0));
    Found {
        tried,
        status,
        config,
        evaluation,
        cheaper,
        stopped,
        configurations: s.cache.len(),
        evaluations: s.evaluations,
        replications_simulated: s.replications_simulated,
    }
}

type Cheaper = Vec<Option<(Vec<usize>, Evaluation)>>;

impl<O: Oracle> Search<'_, O> {
    fn find(&mut self) -> Result<(SizingStatus, Vec<usize>, Cheaper), String> {
        let top: Vec<usize> = self.knobs.iter().map(|k| k.values.len() - 1).collect();
        // Not met while screening: only the cap's replications may call it uncertain.
        if !self.met(&top, Phase::Screen)? && !self.met(&top, Phase::Confirm)? {
            return self.not_sized(top);
        }
        let mut x = match self.strategy {
            Strategy::Search => self.searched(&top)?,
            Strategy::Exhaustive => self.cheapest_in_grid(&top)?,
        };
        // Confirm the answer with the full replications, and that no neighbour one step
        // cheaper is met too; move down while one is. The climb ends at every knob's largest
        // value unmet only when that met while screening but not with the full replications.
        if !self.climb(&mut x, Phase::Confirm)? {
            return self.not_sized(top);
        }
        'confirm: loop {
            for k in self.by_cost() {
                if x[k] == 0 {
                    continue;
                }
                let mut y = x.clone();
                y[k] -= 1;
                if self.met(&y, Phase::Confirm)? {
                    x = y;
                    continue 'confirm;
                }
            }
            break;
        }
        let cheaper = (0..self.knobs.len())
            .map(|k| {
                (x[k] > 0).then(|| {
                    let mut y = x.clone();
                    y[k] -= 1;
                    let e = self.cache.get(&y).cloned().expect("every cheaper neighbour was judged");
                    (y, e)
                })
            })
            .collect();
        Ok((SizingStatus::Sized, x, cheaper))
    }

    /// The answer when every knob at its largest value (`top`) does not meet every SLO with the
    /// full replications: infeasible when it breaches one, uncertain when the cap cannot decide.
    fn not_sized(&mut self, top: Vec<usize>) -> Result<(SizingStatus, Vec<usize>, Cheaper), String> {
        let status = match self.decide(&top, Phase::Confirm)?.status() {
            SloStatus::Breached => SizingStatus::Infeasible,
            _ => SizingStatus::Uncertain,
        };
        Ok((status, top, Vec::new()))
    }

    /// The search's candidate: lower bounds (each knob alone, the others at their largest), a
    /// climb, a descent, trades between knobs.
    fn searched(&mut self, top: &[usize]) -> Result<Vec<usize>, String> {
        let mut x = Vec::with_capacity(self.knobs.len());
        for k in 0..self.knobs.len() {
            let mut probe = top.to_vec();
            x.push(self.lowest_met(&mut probe, k, 0, Phase::Screen)?);
        }
        let lower = x.clone();
        // Every knob at its largest met while screening, so the climb reaches a met configuration.
        self.climb(&mut x, Phase::Screen)?;
        self.descend(&mut x, Phase::Screen)?;
        self.exchange(&mut x, &lower, Phase::Screen)?;
        Ok(x)
    }

    /// Every configuration of the grid screened, in index order: the cheapest met (the first
    /// of equal cost), or `top` (known met) when none is while screening.
    fn cheapest_in_grid(&mut self, top: &[usize]) -> Result<Vec<usize>, String> {
        let mut best = top.to_vec();
        let mut x = vec![0; self.knobs.len()];
        loop {
            if self.met(&x, Phase::Screen)? && self.cost(&x) < self.cost(&best) - 1e-9 {
                best = x.clone();
            }
            // The next configuration, the last knob counting fastest.
            let Some(k) = (0..x.len()).rev().find(|&k| x[k] + 1 < self.knobs[k].values.len()) else {
                return Ok(best);
            };
            x[k] += 1;
            x[k + 1..].iter_mut().for_each(|v| *v = 0);
        }
    }

    /// Knob indices, the most expensive step first (ties in declaration order).
    fn by_cost(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.knobs.len()).collect();
        order.sort_by(|&a, &b| self.knobs[b].cost_per_hour.total_cmp(&self.knobs[a].cost_per_hour));
        order
    }

    /// The cost per hour of a configuration.
    fn cost(&self, x: &[usize]) -> f64 {
        cost_per_hour(self.knobs, x)
    }

    /// Smallest value of knob `k` in `from..=` its current value in `probe` at which `probe` is
    /// met (the current value is known to be met); `probe` is left at that value.
    fn lowest_met(&mut self, probe: &mut [usize], k: usize, from: usize, phase: Phase) -> Result<usize, String> {
        let (mut lo, mut hi) = (from, probe[k]);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            probe[k] = mid;
            if self.met(probe, phase)? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        probe[k] = hi;
        Ok(hi)
    }

    /// While `x` is not met, step up the knob that buys the most improvement per unit of cost
    /// (a step that meets every SLO at once wins, the cheapest such first). False when every knob
    /// reached its largest value unmet.
    fn climb(&mut self, x: &mut Vec<usize>, phase: Phase) -> Result<bool, String> {
        while !self.met(x, phase)? {
            let here = self.cache.get(x.as_slice()).map_or(f64::MAX, Evaluation::shortfall);
            let mut best: Option<(bool, f64, usize)> = None; // (met, score, knob)
            for k in 0..self.knobs.len() {
                if x[k] + 1 >= self.knobs[k].values.len() {
                    continue;
                }
                let mut y = x.clone();
                y[k] += 1;
                let e = self.decide(&y, phase)?;
                let met = e.status() == SloStatus::Met;
                let step_cost = self.cost(&y) - self.cost(x);
                // Met: the cheaper the better. Not met: improvement per unit of cost (a free
                // step that improves anything comes first).
                let score = if met {
                    -step_cost
                } else {
                    (here.min(f64::MAX / 2.0) - e.shortfall()) / step_cost.max(1e-9)
                };
                if best.is_none_or(|(best_met, best_score, _)| (met, score) > (best_met, best_score)) {
                    best = Some((met, score, k));
                }
            }
            let Some((_, _, k)) = best else {
                return Ok(false);
            };
            x[k] += 1;
        }
        Ok(true)
    }

    /// Bring each knob down (the most expensive first) as far as `x` stays met, until no knob
    /// moves.
    fn descend(&mut self, x: &mut [usize], phase: Phase) -> Result<(), String> {
        loop {
            let before = x.to_vec();
            for k in self.by_cost() {
                self.lowest_met(x, k, 0, phase)?;
            }
            if x == before.as_slice() {
                return Ok(());
            }
        }
    }

    /// Trade one knob for another while that is cheaper: raise knob `j` step by step and bring
    /// knob `k` down as far as the SLOs allow, taking the first trade that lowers the cost, until
    /// none does. Raising `j` stops once its extra cost exceeds all that lowering `k` to its lower
    /// bound could save. With two knobs this walks the whole frontier between the lower bounds,
    /// so the answer is the cheapest configuration whenever latency is monotone in both.
    fn exchange(&mut self, x: &mut Vec<usize>, lower: &[usize], phase: Phase) -> Result<(), String> {
        'trade: loop {
            for j in 0..self.knobs.len() {
                for k in 0..self.knobs.len() {
                    let kk = &self.knobs[k];
                    let most_saved = kk.cost_per_hour * (kk.values[x[k]] - kk.values[lower[k]]);
                    if j == k || most_saved <= 0.0 {
                        continue;
                    }
                    for up in x[j] + 1..self.knobs[j].values.len() {
                        let kj = &self.knobs[j];
                        if kj.cost_per_hour * (kj.values[up] - kj.values[x[j]]) >= most_saved {
                            break;
                        }
                        let mut y = x.clone();
                        y[j] = up;
                        self.lowest_met(&mut y, k, lower[k], phase)?;
                        if self.cost(&y) < self.cost(x) - 1e-9 && self.met(&y, phase)? {
                            *x = y;
                            self.descend(x, phase)?;
                            continue 'trade;
                        }
                    }
                }
            }
            return Ok(());
        }
    }

    /// Whether `x` meets every SLO in `phase`.
    fn met(&mut self, x: &[usize], phase: Phase) -> Result<bool, String> {
        Ok(self.decide(x, phase)?.status() == SloStatus::Met)
    }

    /// The verdict on `x` in `phase`: starting at the phase's first replication count (or the
    /// most already run), doubling while uncertain up to the phase's ceiling.
    fn decide(&mut self, x: &[usize], phase: Phase) -> Result<Evaluation, String> {
        let r = self.replications;
        let (first, ceiling) = match phase {
            Phase::Screen => (r.screen.min(r.full), r.full),
            Phase::Confirm => (r.full, r.cap.max(r.full)),
        };
        let mut n = first;
        if let Some(known) = self.cache.get(x) {
            if known.replications >= first {
                if known.status() != SloStatus::Uncertain || known.replications >= ceiling {
                    return Ok(known.clone());
                }
                n = (known.replications * 2).min(ceiling);
            }
        }
        loop {
            let e = self.oracle.evaluate(x, n)?;
            self.evaluations += 1;
            self.replications_simulated += u64::from(n) * self.runs;
            self.cache.insert(x.to_vec(), e.clone());
            if e.status() != SloStatus::Uncertain || n >= ceiling {
                return Ok(e);
            }
            n = (n * 2).min(ceiling);
        }
    }
}

/// The cost per hour of configuration `x`: each knob's value times its unit cost, summed.
pub fn cost_per_hour(knobs: &[Knob], x: &[usize]) -> f64 {
    knobs.iter().zip(x).map(|(k, &i)| k.values[i] * k.cost_per_hour).sum()
}

/// One SLO objective under one run, at a configuration: what was measured and how much of the
/// bound is left.
#[derive(Clone, Debug, Serialize)]
pub struct Objective {
    /// "baseline" or the scenario's name.
    pub run: String,
    /// The SLO's key ("api.checkout" or a client name).
    pub slo: String,
    /// The objective, e.g. "p99 <= 300ms".
    pub objective: String,
    /// The bound, in the measured unit (ms, or a share for error rates).
    pub bound: f64,
    /// What was measured, across replications.
    pub measured: crate::stats::Estimate,
    /// Its verdict ("breached" too when the run stopped at a bound).
    pub status: SloStatus,
    /// Share of the bound left: 1 − mean / bound (negative past the bound).
    pub headroom: f64,
}

impl Objective {
    fn of(run: &RunVerdicts, slo: &SloResult) -> Objective {
        Objective {
            run: run.run.clone(),
            slo: slo.name.clone(),
            objective: slo.objective.clone(),
            bound: slo.bound,
            measured: slo.measured.clone(),
            status: if run.complete { slo.status } else { SloStatus::Breached },
            headroom: if slo.bound > 0.0 {
                1.0 - slo.measured.mean / slo.bound
            } else {
                -slo.measured.mean
            },
        }
    }
}

/// The configuration one step cheaper on a knob, and what it breaks.
#[derive(Clone, Debug, Serialize)]
pub struct CheaperStep {
    /// The knob's value one step down.
    pub value: String,
    /// The configuration's cost per hour.
    pub cost_per_hour: f64,
    /// The objectives it does not meet, worst first.
    pub breaks: Vec<Objective>,
}

/// A knob's answer.
#[derive(Clone, Debug, Serialize)]
pub struct KnobAnswer {
    /// The model path.
    pub path: String,
    /// The value recommended (sized), or the largest value tried (infeasible, uncertain).
    pub value: Option<String>,
    /// The value in the model as written, when written.
    pub as_written: Option<String>,
    /// The first and last values of its range.
    pub range: [String; 2],
    /// Values in its range.
    pub values: usize,
    /// Cost of one unit per hour.
    pub cost_per_hour: f64,
    /// The objective that forces this value, as measured at the answer: the first one the
    /// configuration one step cheaper on this knob breaks. `None` at the bottom of the range.
    pub binding: Option<Objective>,
    /// The configuration one step cheaper on this knob (`None` at the bottom of the range).
    pub cheaper: Option<CheaperStep>,
}

/// A configuration the search judged, as last judged: the points of the cost/SLO frontier.
#[derive(Clone, Debug, Serialize)]
pub struct Tried {
    /// Each knob's value.
    pub values: Vec<String>,
    /// Its cost per hour.
    pub cost_per_hour: f64,
    /// Replications of its last verdict.
    pub replications: u32,
    /// Its last verdict over every objective of every run.
    pub status: SloStatus,
    /// Its worst objective, as a share of the bound (the largest mean / bound over every
    /// objective of every run; above 1 is past a bound on average).
    pub worst: f64,
}

/// The answer of a sizing, for people and programs.
#[derive(Clone, Debug, Serialize)]
pub struct Sizing {
    /// The model's name.
    pub model: String,
    /// What the model represents, as it says.
    pub description: String,
    /// How the search ended.
    pub status: SizingStatus,
    /// The currency costs are in ("" when the model names none).
    pub currency: String,
    /// The runs every configuration must meet every SLO under: "baseline", then the scenarios.
    pub runs: Vec<String>,
    /// Each knob's answer.
    pub knobs: Vec<KnobAnswer>,
    /// Cost per hour of the answer (sized only).
    pub cost_per_hour: Option<f64>,
    /// Cost per hour of the knobs as the model writes them (when it writes every one).
    pub cost_as_written: Option<f64>,
    /// Every objective under every run at the answer (or at the largest configuration when
    /// infeasible or uncertain), with its headroom.
    pub objectives: Vec<Objective>,
    /// The objectives not met at the largest configuration (infeasible, uncertain), worst first.
    pub unmet: Vec<Objective>,
    /// Replications each verdict starts and ends with.
    pub replications: Replications,
    /// Replications behind the answer's verdicts.
    pub answer_replications: u32,
    /// Configurations judged.
    pub configurations: usize,
    /// Configurations in the full grid of the knobs' values.
    pub grid: f64,
    /// Evaluations run (a configuration under every run at one replication count).
    pub evaluations: u64,
    /// Simulations run: one per run per evaluation.
    pub simulations: u64,
    /// Replications simulated in all.
    pub replications_simulated: u64,
    /// Why the search stopped early, when it did.
    pub stopped: Option<String>,
    /// Every configuration judged, cheapest first (ties in the order of the knobs' values).
    pub tried: Vec<Tried>,
}

/// Put what the search found into words and numbers: each knob's value, what binds it, what
/// one step cheaper breaks, the headroom of every objective, the costs, every configuration
/// judged.
pub fn summarise(
    model: &str,
    description: &str,
    currency: &str,
    knobs: &[Knob],
    runs: &[String],
    replications: Replications,
    found: &Found,
) -> Sizing {
    let objectives: Vec<Objective> = found
        .evaluation
        .iter()
        .flat_map(|e| {
            e.runs
                .iter()
                .flat_map(move |run| run.slos.iter().map(move |slo| Objective::of(run, slo)))
        })
        .collect();
    let sized = found.status == SizingStatus::Sized;
    let unmet = match (&found.evaluation, sized) {
        (Some(e), false) => e.unmet().into_iter().map(|(run, slo)| Objective::of(run, slo)).collect(),
        _ => Vec::new(),
    };
    let knob_answers = knobs
        .iter()
        .enumerate()
        .map(|(k, knob)| {
            let cheaper = found.cheaper.get(k).and_then(Option::as_ref).map(|(config, e)| CheaperStep {
                value: knob.shown[config[k]].clone(),
                cost_per_hour: cost_per_hour(knobs, config),
                breaks: e.unmet().into_iter().map(|(run, slo)| Objective::of(run, slo)).collect(),
            });
            let binding = cheaper.as_ref().and_then(|c| c.breaks.first()).and_then(|worst| {
                objectives
                    .iter()
                    .find(|o| o.run == worst.run && o.slo == worst.slo && o.objective == worst.objective)
                    .cloned()
            });
            KnobAnswer {
                path: knob.path.clone(),
                value: found.config.as_ref().map(|c| knob.shown[c[k]].clone()),
                as_written: knob.as_written.map(|v| crate::scenario::sweep::show_value(&number(v))),
                range: [
                    knob.shown.first().cloned().unwrap_or_default(),
                    knob.shown.last().cloned().unwrap_or_default(),
                ],
                values: knob.values.len(),
                cost_per_hour: knob.cost_per_hour,
                binding,
                cheaper,
            }
        })
        .collect();
    let written: Option<Vec<f64>> = knobs.iter().map(|k| k.as_written).collect();
    let mut tried: Vec<Tried> = found
        .tried
        .iter()
        .map(|(config, e)| Tried {
            values: knobs.iter().zip(config).map(|(k, &i)| k.shown[i].clone()).collect(),
            cost_per_hour: cost_per_hour(knobs, config),
            replications: e.replications,
            status: e.status(),
            worst: e
                .runs
                .iter()
                .flat_map(|r| {
                    r.slos.iter().map(move |s| {
                        if r.complete {
                            s.measured.mean / s.bound.max(1e-9)
                        } else {
                            f64::INFINITY
                        }
                    })
                })
                .fold(0.0, f64::max),
        })
        .collect();
    tried.sort_by(|a, b| a.cost_per_hour.total_cmp(&b.cost_per_hour));
    Sizing {
        model: model.to_string(),
        description: description.to_string(),
        status: found.status,
        currency: currency.to_string(),
        runs: runs.to_vec(),
        knobs: knob_answers,
        cost_per_hour: found.config.as_ref().filter(|_| sized).map(|c| cost_per_hour(knobs, c)),
        cost_as_written: written.map(|w| knobs.iter().zip(w).map(|(k, v)| k.cost_per_hour * v).sum()),
        objectives,
        unmet,
        replications,
        answer_replications: found.evaluation.as_ref().map_or(0, |e| e.replications),
        configurations: found.configurations,
        grid: knobs.iter().map(|k| k.values.len() as f64).product(),
        evaluations: found.evaluations,
        simulations: found.evaluations * runs.len() as u64,
        replications_simulated: found.replications_simulated,
        stopped: found.stopped.clone(),
        tried,
    }
}

/// A number as JSON: whole numbers without a fraction.
fn number(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        serde_json::Value::from(v as i64)
    } else {
        serde_json::Value::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Estimate;

    /// A synthetic system: an SLO met exactly where `a + 2b >= need` (a sharp, certain verdict),
    /// counting the evaluations asked for.
    struct Plane {
        need: usize,
        asked: usize,
    }

    fn verdict(status: SloStatus, mean: f64, replications: u32) -> Evaluation {
        Evaluation {
            replications,
            runs: vec![RunVerdicts {
                run: "baseline".into(),
                complete: true,
                slos: vec![SloResult {
                    name: "api.get".into(),
                    objective: "p99 <= 100ms".into(),
                    bound: 100.0,
                    status,
                    breached_s: Vec::new(),
                    measured: Estimate {
                        mean,
                        ci95: 1.0,
                        min: mean,
                        max: mean,
                        n: 5,
                        samples: Vec::new(),
                    },
                }],
            }],
        }
    }

    impl Oracle for Plane {
        fn evaluate(&mut self, x: &[usize], n: u32) -> Result<Evaluation, String> {
            self.asked += 1;
            let capacity = x[0] + 2 * x.get(1).copied().unwrap_or(0);
            Ok(if capacity >= self.need {
                verdict(SloStatus::Met, 50.0, n)
            } else {
                verdict(SloStatus::Breached, 100.0 + 50.0 * (self.need - capacity) as f64, n)
            })
        }
    }

    fn knob(path: &str, n: usize, cost: f64) -> Knob {
        Knob {
            path: path.into(),
            values: (0..n).map(|v| v as f64).collect(),
            shown: (0..n).map(|v| v.to_string()).collect(),
            cost_per_hour: cost,
            as_written: None,
        }
    }

    #[test]
    fn the_cheapest_configuration_on_a_plane_of_capacity_is_found_with_far_fewer_evaluations_than_the_grid() {
        // a costs 3 per unit, b (worth 2 units of a) costs 5: capacity 30 is cheapest as
        // a = 0, b = 15 (cost 75) — a = 30 costs 90, a = 2, b = 14 costs 76.
        let knobs = [knob("a", 41, 3.0), knob("b", 41, 5.0)];
        let mut plane = Plane { need: 30, asked: 0 };
        let r = Replications {
            screen: 3,
            full: 5,
            cap: 20,
        };
        let found = search(&knobs, 1, r, Strategy::Search, &mut plane);
        assert_eq!(found.status, SizingStatus::Sized);
        assert_eq!(found.config, Some(vec![0, 15]));
        assert!(plane.asked < 41 * 41 / 10, "{} evaluations", plane.asked);
        // The cheaper neighbour on b (14) fails; a is at the bottom of its range.
        assert!(found.cheaper[0].is_none());
        assert_eq!(found.cheaper[1].as_ref().map(|(c, _)| c.clone()), Some(vec![0, 14]));
    }

    #[test]
    fn the_exhaustive_strategy_judges_every_configuration_and_agrees_with_the_search() {
        let knobs = [knob("a", 9, 3.0), knob("b", 9, 5.0)];
        let r = Replications {
            screen: 3,
            full: 5,
            cap: 20,
        };
        let mut plane = Plane { need: 10, asked: 0 };
        let all = search(&knobs, 1, r, Strategy::Exhaustive, &mut plane);
        assert_eq!(all.configurations, 81);
        // a + 2b >= 10 at 3 and 5 per unit: (0, 5) costs 25, (2, 4) 26, (10, 0) is out of range.
        assert_eq!(all.config, Some(vec![0, 5]));
        let mut plane = Plane { need: 10, asked: 0 };
        let searched = search(&knobs, 1, r, Strategy::Search, &mut plane);
        assert_eq!(searched.config, all.config);
        assert!(searched.configurations < 81 / 2, "{}", searched.configurations);
    }

    /// Met with fewer than `full` replications, breached from there on (a screening that luck
    /// passed).
    struct Lucky {
        full: u32,
    }

    impl Oracle for Lucky {
        fn evaluate(&mut self, _: &[usize], n: u32) -> Result<Evaluation, String> {
            Ok(if n < self.full {
                verdict(SloStatus::Met, 90.0, n)
            } else {
                verdict(SloStatus::Breached, 120.0, n)
            })
        }
    }

    #[test]
    fn a_largest_configuration_met_while_screening_but_breached_with_the_full_replications_is_infeasible() {
        let knobs = [knob("a", 3, 1.0), knob("b", 2, 2.0)];
        let r = Replications {
            screen: 3,
            full: 10,
            cap: 40,
        };
        let found = search(&knobs, 1, r, Strategy::Search, &mut Lucky { full: 10 });
        assert_eq!(found.status, SizingStatus::Infeasible);
        assert_eq!(found.config, Some(vec![2, 1]));
    }

    #[test]
    fn a_range_that_cannot_meet_the_slo_even_at_its_largest_value_is_infeasible() {
        let knobs = [knob("a", 5, 1.0)];
        let mut plane = Plane { need: 30, asked: 0 };
        let r = Replications {
            screen: 3,
            full: 5,
            cap: 20,
        };
        let found = search(&knobs, 1, r, Strategy::Search, &mut plane);
        assert_eq!(found.status, SizingStatus::Infeasible);
        assert_eq!(found.config, Some(vec![4]));
        let e = found.evaluation.expect("the largest configuration was judged");
        assert_eq!(e.unmet()[0].1.name, "api.get");
    }

    /// A verdict uncertain below `decided_at` replications and met from there on.
    struct Slow {
        decided_at: u32,
        asked: Vec<u32>,
    }

    impl Oracle for Slow {
        fn evaluate(&mut self, _: &[usize], n: u32) -> Result<Evaluation, String> {
            self.asked.push(n);
            Ok(verdict(
                if n >= self.decided_at {
                    SloStatus::Met
                } else {
                    SloStatus::Uncertain
                },
                99.0,
                n,
            ))
        }
    }

    #[test]
    fn an_uncertain_verdict_is_run_again_with_twice_the_replications_up_to_the_cap() {
        let knobs = [knob("a", 1, 1.0)];
        let r = Replications {
            screen: 3,
            full: 10,
            cap: 40,
        };
        let mut slow = Slow {
            decided_at: 20,
            asked: Vec::new(),
        };
        let found = search(&knobs, 1, r, Strategy::Search, &mut slow);
        assert_eq!(found.status, SizingStatus::Sized);
        // Screening 3 → 6 → 10 (the model's), then confirming 20.
        assert_eq!(slow.asked, vec![3, 6, 10, 20]);
        let mut never = Slow {
            decided_at: 1000,
            asked: Vec::new(),
        };
        let found = search(&knobs, 1, r, Strategy::Search, &mut never);
        assert_eq!(found.status, SizingStatus::Uncertain);
        assert_eq!(never.asked, vec![3, 6, 10, 20, 40]);
    }
}
