//! The answer in one sentence per run: what held and what broke, for the top of the terminal
//! summary and of the report page ("expensive-query: 8 of 8 endpoints breached for 17m after
//! inject 8 queries into pg at 20m; 25 % of diners' requests failed; recovered 1m after it
//! ended").

use crate::model::units::format_duration_f64 as duration;
use crate::results::metastability::Status;
use crate::results::metric::significant;
use crate::results::slo::{objective_is_share, SloStatus};
use crate::results::{RunResult, SloResult};

/// How a run fared, in one word: the colour of its headline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every SLO met over the run and in every window, and nothing stopped early.
    Held,
    /// An SLO breached (over the run, or in some windows), the run stayed down after its
    /// trigger, or it stopped as unstable.
    Broke,
    /// No SLO breached, but at least one could not be decided, or the run stopped early.
    Uncertain,
    /// The model states no SLO: nothing to judge.
    Unjudged,
}

impl Outcome {
    /// The word people read: "HELD", "BROKE", "UNCERTAIN", "NO SLO".
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Held => "HELD",
            Outcome::Broke => "BROKE",
            Outcome::Uncertain => "UNCERTAIN",
            Outcome::Unjudged => "NO SLO",
        }
    }

    /// The class of the page's style sheet that colours it.
    pub fn class(self) -> &'static str {
        match self {
            Outcome::Held => "met",
            Outcome::Broke => "breached",
            Outcome::Uncertain => "uncertain",
            Outcome::Unjudged => "unjudged",
        }
    }
}

/// One run's answer.
#[derive(Clone, Debug)]
pub struct Headline {
    /// The run: "baseline" or the scenario's name.
    pub run: String,
    /// How it fared.
    pub outcome: Outcome,
    /// What held and what broke, without the run's name.
    pub text: String,
}

impl Headline {
    /// "BROKE baseline: 2 of 5 SLOs breached: …" — the line the terminal prints first.
    pub fn line(&self) -> String {
        format!("{} {}: {}", self.outcome.word(), self.run, self.text)
    }
}

/// The SLO'd components (clients, endpoints, services) in the order the model states them.
fn components(slos: &[SloResult]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for s in slos {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    names
}

/// What an objective bounds and its bound: ("p99", "300ms") of "p99 <= 300ms".
fn statistic_and_bound(s: &SloResult) -> (&str, &str) {
    let (what, bound) = s.objective.split_once("<=").unwrap_or((&s.objective, ""));
    (what.trim(), bound.trim())
}

/// What an objective bounds: "p99", "error rate".
fn statistic(s: &SloResult) -> &str {
    statistic_and_bound(s).0
}

/// "users p99 1.2s (≤ 300ms)": an objective with what it measured.
fn objective_measured(s: &SloResult) -> String {
    let measured = if objective_is_share(&s.objective) {
        format!("{} %", significant(s.measured.mean * 100.0))
    } else {
        duration(s.measured.mean / 1000.0)
    };
    let (what, bound) = statistic_and_bound(s);
    format!("{} {what} {measured} (≤ {bound})", s.name)
}

/// The objectives with what each measured, three named at most.
fn measured(slos: &[&SloResult]) -> String {
    let items: Vec<String> = slos.iter().map(|s| objective_measured(s)).collect();
    listed(&items, 3)
}

/// "a, b and 3 more": at most `shown` items named.
fn listed(items: &[String], shown: usize) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n if n <= shown => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
        n => format!("{} and {} more", items[..shown].join(", "), n - shown),
    }
}

/// Seconds covered by the union of `[from, to]` stretches.
fn union_length(spans: &[[f64; 2]]) -> f64 {
    let mut sorted: Vec<[f64; 2]> = spans.iter().copied().filter(|[a, b]| b > a).collect();
    sorted.sort_by(|x, y| x[0].total_cmp(&y[0]));
    let mut total = 0.0;
    let mut current: Option<[f64; 2]> = None;
    for [a, b] in sorted {
        current = match current {
            Some([ca, cb]) if a <= cb => Some([ca, cb.max(b)]),
            Some([ca, cb]) => {
                total += cb - ca;
                Some([a, b])
            }
            None => Some([a, b]),
        };
    }
    total + current.map_or(0.0, |[a, b]| b - a)
}

/// "25 % of diners' requests failed", "none of arrivals' requests failed".
fn failed(client: &str, share: f64) -> String {
    let whose = if client.ends_with('s') {
        format!("{client}'")
    } else {
        format!("{client}'s")
    };
    if share == 0.0 {
        format!("none of {whose} requests failed")
    } else {
        format!("{} % of {whose} requests failed", significant(share * 100.0))
    }
}

/// A batch client's deadline when it was not met for sure: "backoffice's batch missed its 15m
/// deadline by 2m", or too close to call (not all done when the run ended, or the slack's interval
/// straddles zero); none when it was met or there is no deadline.
fn deadline(c: &crate::results::ClientSummary) -> Option<(String, Outcome)> {
    let b = c.batch.as_ref()?;
    let (deadline, slack) = (b.deadline_s?, b.slack_s.as_ref()?);
    if slack.high() < 0.0 {
        let late = format!(
            "{}'s batch missed its {} deadline by {}",
            c.name,
            duration(deadline),
            duration(-slack.mean)
        );
        Some((late, Outcome::Broke))
    } else if slack.low() >= 0.0 {
        None
    } else if b.finished_share.min < 1.0 {
        let text = format!(
            "{}'s batch was not all done when the run ended: its {} deadline too close to call",
            c.name,
            duration(deadline)
        );
        Some((text, Outcome::Uncertain))
    } else {
        Some((
            format!("{}'s batch: its {} deadline too close to call", c.name, duration(deadline)),
            Outcome::Uncertain,
        ))
    }
}

/// The real client whose requests failed most, with its share: ("diners", 0.25).
fn worst_client(r: &RunResult) -> Option<(&str, f64)> {
    r.clients
        .iter()
        .filter(|c| !c.synthetic && c.error_rate.mean.is_finite())
        .map(|c| (c.name.as_str(), c.error_rate.mean))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// What held and what broke in run `run` of result `r`.
pub fn of_run(run: &str, r: &RunResult) -> Headline {
    let mut parts: Vec<String> = Vec::new();
    let deadlines = r
        .clients
        .iter()
        .any(|c| c.batch.as_ref().is_some_and(|b| b.deadline_s.is_some()));
    let mut outcome = if r.slos.is_empty() && !deadlines {
        Outcome::Unjudged
    } else {
        Outcome::Held
    };
    let worsen = |to: Outcome, outcome: &mut Outcome| {
        let rank = |o: Outcome| match o {
            Outcome::Unjudged => 0,
            Outcome::Held => 1,
            Outcome::Uncertain => 2,
            Outcome::Broke => 3,
        };
        if rank(to) > rank(*outcome) {
            *outcome = to;
        }
    };
    if !r.verdict.complete {
        let what = if r.verdict.unstable { "UNSTABLE" } else { "stopped early" };
        let reason = r.verdict.messages.first().map_or(String::new(), |m| format!(" ({m})"));
        parts.push(format!("{what}{reason}; partial results"));
        worsen(
            if r.verdict.unstable {
                Outcome::Broke
            } else {
                Outcome::Uncertain
            },
            &mut outcome,
        );
    }
    let names = components(&r.slos);
    let breached: Vec<&SloResult> = r.slos.iter().filter(|s| s.status == SloStatus::Breached).collect();
    let uncertain: Vec<&SloResult> = r.slos.iter().filter(|s| s.status == SloStatus::Uncertain).collect();
    let at_peak: Vec<&SloResult> = r
        .slos
        .iter()
        .filter(|s| s.status != SloStatus::Breached && !s.breached_s.is_empty())
        .collect();
    let c = &r.cascade;
    let triggered = !r.model.actions.is_empty() && !c.timeline.is_empty();
    if r.slos.is_empty() {
        if !deadlines {
            parts.push("no SLO stated".into());
        }
    } else if triggered {
        let spans: Vec<[f64; 2]> = c.timeline.iter().flat_map(|e| e.breached_s.iter().copied()).collect();
        let mut text = format!(
            "{} of {} components with an SLO breached for {} after {}",
            c.timeline.len(),
            names.len(),
            duration(union_length(&spans)),
            c.trigger
        );
        let recoveries: Option<Vec<f64>> = c.timeline.iter().map(|e| e.recovered_s).collect();
        // An action that is undone ends there; one that is not (injected queries, a crash) is
        // counted from its start.
        let undone = r.model.actions.iter().all(|a| a.end_s.is_some());
        match (recoveries, r.model.actions_end_s) {
            (None, _) => text.push_str("; still breached at the end of the run"),
            (Some(ends), Some(end)) => {
                let last = ends.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if !undone {
                    text.push_str(&format!(
                        "; all back within their SLOs {} after it began",
                        duration(last - c.trigger_s)
                    ));
                } else if last > end {
                    text.push_str(&format!("; recovered {} after it ended", duration(last - end)));
                } else {
                    text.push_str("; recovered by the time it ended");
                }
            }
            (Some(ends), None) => {
                let last = ends.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                text.push_str(&format!(
                    "; all back within their SLOs {} after it began",
                    duration(last - c.trigger_s)
                ));
            }
        }
        parts.push(text);
        worsen(Outcome::Broke, &mut outcome);
    } else if breached.is_empty() && at_peak.is_empty() {
        let through = if r.model.actions.is_empty() {
            String::new()
        } else {
            format!(" through {}", c.trigger)
        };
        if uncertain.is_empty() {
            parts.push(match (r.slos.len(), names.as_slice()) {
                (1, [name]) => format!("the SLO of {name} met{through}"),
                (n, [name]) => format!("all {n} SLOs of {name} met{through}"),
                (n, names) => format!("all {n} SLOs of {} components met{through}", names.len()),
            });
        }
    } else {
        if !breached.is_empty() {
            parts.push(format!(
                "{} of {} SLOs breached: {}",
                breached.len(),
                r.slos.len(),
                measured(&breached)
            ));
            worsen(Outcome::Broke, &mut outcome);
        }
        if !at_peak.is_empty() {
            let items: Vec<String> = at_peak
                .iter()
                .map(|s| format!("{} {} for {}", s.name, statistic(s), duration(union_length(&s.breached_s))))
                .collect();
            parts.push(format!(
                "met over the run but breached in some windows: {}",
                listed(&items, 3)
            ));
            worsen(Outcome::Broke, &mut outcome);
        }
    }
    if !uncertain.is_empty() {
        parts.push(format!(
            "{} of {} SLOs too close to call (more replications would tell): {}",
            uncertain.len(),
            r.slos.len(),
            measured(&uncertain)
        ));
        worsen(Outcome::Uncertain, &mut outcome);
    }
    if let Some((client, share)) = worst_client(r) {
        if outcome == Outcome::Broke || r.slos.is_empty() {
            parts.push(failed(client, share));
        }
    }
    for (text, to) in r.clients.iter().filter_map(deadline) {
        parts.push(text);
        worsen(to, &mut outcome);
    }
    if let Some(m) = &r.metastability {
        if m.status == Status::Metastable {
            // The verdict's own first clause: "METASTABLE in 3 of 3 replications (…)".
            let verdict = m.text.split_once(": ").map_or(m.text.as_str(), |(head, _)| head);
            parts.push(format!("stayed down after the trigger: {verdict}"));
            worsen(Outcome::Broke, &mut outcome);
        }
    }
    Headline {
        run: run.to_string(),
        outcome,
        text: parts.join("; "),
    }
}

/// The headlines of a baseline and its scenarios, in that order.
pub fn of_runs(report: &crate::analysis::compare::ScenarioReport) -> Vec<Headline> {
    std::iter::once(of_run("baseline", &report.baseline))
        .chain(report.scenarios.iter().map(|s| of_run(&s.name, &s.result)))
        .collect()
}

/// The headlines as the terminal's first lines, one per run, then a blank line.
pub fn text(headlines: &[Headline]) -> String {
    let mut out: String = headlines.iter().map(|h| h.line() + "\n").collect();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_breaches_count_once() {
        assert_eq!(union_length(&[[0.0, 60.0], [30.0, 90.0], [120.0, 150.0]]), 120.0);
        assert_eq!(union_length(&[]), 0.0);
    }

    #[test]
    fn long_lists_name_three_and_count_the_rest() {
        let items: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        assert_eq!(listed(&items[..1], 3), "a");
        assert_eq!(listed(&items[..3], 3), "a, b and c");
        assert_eq!(listed(&items, 3), "a, b, c and 2 more");
    }
}
