//! Expectations: claims about a model's results that must hold, written in the model and checked
//! by `capsim check` (a gate for CI).
//!
//! ```json
//! "expect": [
//!   { "that": "shoppers.p99 < 300ms" },
//!   { "that": "api.checkout.p99 < 250ms", "scenario": "db-10ms-away" }
//! ]
//! ```
//!
//! A claim is `METRIC OP BOUND`: a metric by name ([`crate::results::metric::resolve`]), one of the
//! operators [`OPERATORS`], and a bound in the metric's unit ([`crate::results::metric::parse_bound`]).
//! It passes when the mean across replications satisfies it; the confidence interval is reported
//! alongside, and a note says when it straddles the bound (more replications would tell).

use crate::model::spec::ExpectSpec;
use crate::model::Diagnostic;
use crate::results::metric::{format_value, parse_bound, resolve, significant, MetricValue, Unit};
use crate::results::RunResult;
use crate::stats::Estimate;
use serde::Serialize;
use serde_json::Value;

/// The comparison operators a claim may use, for messages.
pub const OPERATORS: &str = "<, <=, >, >=";

/// How a claim compares the measured value with its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `recovers within`: after the scenario's timed actions end, the metric's windows come back
    /// into the baseline's band within the bound.
    RecoversWithin,
}

impl Comparison {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::RecoversWithin => "recovers within",
        }
    }

    /// Whether `value OP bound` holds (never for NaN).
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Comparison::Less => value < bound,
            Comparison::LessOrEqual => value <= bound,
            Comparison::Greater => value > bound,
            Comparison::GreaterOrEqual => value >= bound,
            Comparison::RecoversWithin => value <= bound,
        }
    }
}

/// A claim split into its parts; the bound is read once the metric's unit is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The metric's name (`api.checkout.p99`).
    pub metric: String,
    /// The operator.
    pub comparison: Comparison,
    /// The bound as written (`300ms`, `1%`, `0.7`).
    pub bound: String,
}

impl Claim {
    /// Split `METRIC OP BOUND`, or say what was expected.
    pub fn parse(text: &str) -> Result<Claim, String> {
        if let Some((metric, within)) = text.split_once(" recovers within ") {
            let (metric, within) = (metric.trim(), within.trim());
            if metric.is_empty() || within.is_empty() {
                return Err(format!("expected \"METRIC recovers within DURATION\" (like \"api.checkout.p99 recovers within 10m\"), got \"{text}\""));
            }
            return Ok(Claim {
                metric: metric.to_string(),
                comparison: Comparison::RecoversWithin,
                bound: within.to_string(),
            });
        }
        let expected = || {
            format!("expected \"METRIC OP BOUND\" with OP one of {OPERATORS} (like \"api.checkout.p99 < 300ms\"), got \"{text}\"")
        };
        let Some(at) = text.find(['<', '>', '=', '!']) else {
            return Err(expected());
        };
        let rest = &text[at..];
        let (comparison, len) = if rest.starts_with("<=") {
            (Comparison::LessOrEqual, 2)
        } else if rest.starts_with(">=") {
            (Comparison::GreaterOrEqual, 2)
        } else if rest.starts_with('<') {
            (Comparison::Less, 1)
        } else if rest.starts_with('>') {
            (Comparison::Greater, 1)
        } else {
            let op: String = rest.chars().take_while(|c| "<>=!".contains(*c)).collect();
            return Err(format!("unknown operator \"{op}\": {}", expected()));
        };
        let metric = text[..at].trim();
        let bound = rest[len..].trim();
        if metric.is_empty() {
            return Err(format!("no metric before \"{}\": {}", comparison.symbol(), expected()));
        }
        if bound.is_empty() {
            return Err(format!("no bound after \"{}\": {}", comparison.symbol(), expected()));
        }
        if bound.contains(['<', '>', '=', '!']) {
            return Err(format!("more than one operator: {}", expected()));
        }
        Ok(Claim {
            metric: metric.to_string(),
            comparison,
            bound: bound.to_string(),
        })
    }

    /// The claim's metric in `result` and its bound in the metric's unit, or what is wrong.
    pub fn resolve(&self, result: &RunResult) -> Result<(MetricValue, f64), String> {
        if self.comparison == Comparison::RecoversWithin {
            crate::results::metric::series(result, &self.metric)?;
            let bound =
                parse_bound(&self.bound, Unit::Seconds).map_err(|why| format!("recovery time of \"{}\": {why}", self.metric))?;
            let estimate = Estimate::from_samples(&[]);
            return Ok((
                MetricValue {
                    estimate,
                    unit: Unit::Seconds,
                },
                bound,
            ));
        }
        let value = resolve(result, &self.metric)?;
        let bound = parse_bound(&self.bound, value.unit).map_err(|why| format!("bound of \"{}\": {why}", self.metric))?;
        Ok((value, bound))
    }
}

/// An expectation read from the model, ready to check.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// Position in the model's `expect` list.
    pub index: usize,
    /// The claim as written.
    pub that: String,
    /// The claim's parts.
    pub claim: Claim,
    /// The scenario as written ("a,b"), `None` for the model as written.
    pub scenario: Option<String>,
    /// Why it matters, as written.
    pub description: Option<String>,
}

impl Expectation {
    /// The JSON path of this expectation's claim, for messages: `expect[2].that`.
    pub fn path(&self) -> String {
        format!("expect[{}].that", self.index)
    }
}

/// Read the `expect` list of a model's JSON (`Null` when absent). Scenarios must be among
/// `scenarios`. Every problem is returned, each at its JSON path (`expect[1].that`).
pub fn read_expectations(expect: &Value, scenarios: &[String]) -> Result<Vec<Expectation>, Vec<Diagnostic>> {
    let diagnostic = |path: String, message: String| Diagnostic { path, message };
    let items = match expect {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(vec![diagnostic(
                "expect".into(),
                format!(
                    "expected a list of expectations like [{{\"that\": \"api.checkout.p99 < 300ms\"}}], got {}",
                    kind(other)
                ),
            )])
        }
    };
    let mut expectations = Vec::new();
    let mut problems = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let spec: ExpectSpec = match serde_path_to_error::deserialize(item) {
            Ok(spec) => spec,
            Err(err) => {
                let inner = err.path().to_string();
                let path = if inner == "." {
                    format!("expect[{index}]")
                } else {
                    format!("expect[{index}].{inner}")
                };
                let message = err
                    .into_inner()
                    .to_string()
                    .replace("struct ExpectSpec", "an object with \"that\"");
                problems.push(diagnostic(path, message));
                continue;
            }
        };
        if let Some(scenario) = &spec.scenario {
            let names: Vec<&str> = scenario.split(',').map(str::trim).collect();
            let path = format!("expect[{index}].scenario");
            if names.iter().any(|n| n.is_empty()) {
                problems.push(diagnostic(
                    path,
                    format!("expected scenario names separated by commas, got \"{scenario}\""),
                ));
            } else if let Some(missing) = names.iter().find(|n| !scenarios.iter().any(|s| s == *n)) {
                let known = if scenarios.is_empty() {
                    "none".to_string()
                } else {
                    scenarios.join(", ")
                };
                problems.push(diagnostic(
                    path,
                    format!("no scenario named \"{missing}\" (scenarios: {known})"),
                ));
            }
        }
        match Claim::parse(&spec.that) {
            Ok(claim) => expectations.push(Expectation {
                index,
                that: spec.that,
                claim,
                scenario: spec.scenario,
                description: spec.description,
            }),
            Err(message) => problems.push(diagnostic(format!("expect[{index}].that"), message)),
        }
    }
    if problems.is_empty() {
        Ok(expectations)
    } else {
        Err(problems)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The verdict on one expectation.
#[derive(Clone, Debug, Serialize)]
pub struct ExpectationResult {
    /// Position in the model's `expect` list.
    pub index: usize,
    /// The claim as written.
    pub that: String,
    /// The scenario it was checked on ("a+b" when combined); `null` for the model as written.
    pub scenario: Option<String>,
    /// Whether the claim held (on the mean, and the run was complete).
    pub passed: bool,
    /// False when its run was cut short by a bound of the run (`--max-events`, `--max-wall`,
    /// Ctrl-C/SIGTERM): the claim was neither shown to hold nor to fail (`passed` is false too).
    pub judged: bool,
    /// The metric across replications, in `unit`.
    pub measured: Estimate,
    /// The bound, in `unit`.
    pub bound: f64,
    /// Unit of `measured` and `bound`: "ms", "share", "s" or "count".
    pub unit: &'static str,
    /// Why to look closer: the confidence interval straddles the bound, nothing was measured,
    /// or the run stopped early.
    pub note: Option<String>,
}

/// Check `expectation` against `result`, the run of its scenario (named `scenario`, "a+b").
/// Fails when the claim does not hold on the mean, nothing was measured, or the run stopped
/// early (its results are partial). Errors when the metric or the bound cannot be read.
/// A recovery claim needs `baseline`, the run of the model as written, for its band.
pub fn evaluate(
    expectation: &Expectation,
    scenario: Option<&str>,
    result: &RunResult,
    baseline: Option<&RunResult>,
) -> Result<ExpectationResult, String> {
    let (value, bound) = expectation.claim.resolve(result)?;
    let mut measured = value.estimate;
    let mut notes = Vec::new();
    if expectation.claim.comparison == Comparison::RecoversWithin {
        let baseline = baseline.ok_or("a recovery claim needs the baseline run")?;
        let Some(from) = result.model.actions_end_s else {
            return Err(format!(
                "\"{}\": the run has no timed action to recover from",
                expectation.that
            ));
        };
        let metric = &expectation.claim.metric;
        let recovery = crate::results::metric::recovery_s(
            &crate::results::metric::series(result, metric)?,
            &crate::results::metric::series(baseline, metric)?,
            from,
            crate::results::metric::direction(metric),
        );
        measured = Estimate::from_samples(&[recovery.unwrap_or(f64::NAN)]);
        if from >= result.model.duration_s {
            notes.push(format!(
                "the run ({}) ends before its timed actions do ({})",
                format_value(result.model.duration_s, Unit::Seconds),
                format_value(from, Unit::Seconds)
            ));
        } else if recovery.is_none() {
            notes.push(format!(
                "still outside the baseline band at the end of the run, {} after the last action",
                format_value(result.model.duration_s - from, Unit::Seconds)
            ));
        }
    }
    let mut passed = expectation.claim.comparison.holds(measured.mean, bound);
    if !measured.mean.is_finite() {
        if notes.is_empty() {
            notes.push("nothing was measured".to_string());
        }
        passed = false;
    } else if measured.ci95 > 0.0 && measured.contains(bound) {
        notes.push("the CI straddles the bound".to_string());
    }
    let judged = !result.verdict.replications.is_partial();
    if !judged {
        notes.clear();
        notes.push(format!(
            "not judged: the run was cut short; {}",
            result.verdict.replications.sentence()
        ));
        passed = false;
    } else if !result.verdict.complete {
        notes.push("the run stopped early, its results are partial".to_string());
        passed = false;
    }
    Ok(ExpectationResult {
        index: expectation.index,
        that: expectation.that.clone(),
        scenario: scenario.map(str::to_string),
        passed,
        judged,
        measured,
        bound,
        unit: value.unit.name(),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

impl ExpectationResult {
    /// The claim and its scenario: `api.checkout.p99 < 300ms [db-10ms-away]`.
    pub fn title(&self) -> String {
        match &self.scenario {
            Some(s) => format!("{} [{s}]", self.that),
            None => self.that.clone(),
        }
    }

    /// The measured value for people: `212 ms ±4`, `0.52 % ±0.04`, `–` when nothing was measured.
    pub fn measured_text(&self) -> String {
        let unit = Unit::from_name(self.unit);
        let mean = format_value(self.measured.mean, unit);
        let ci95 = self.measured.ci95;
        if !self.measured.mean.is_finite() || ci95.is_nan() || ci95 <= 0.0 {
            return mean;
        }
        let scale = if unit == Unit::Share { 100.0 } else { 1.0 };
        // The half-width with as many decimals as the mean shows.
        let shown = significant(self.measured.mean * scale);
        let decimals = shown.split_once('.').map_or(0, |(_, d)| d.len());
        format!("{mean} ±{:.decimals$}", ci95 * scale)
    }

    /// The bound for people: `300 ms`, `1.00 %`.
    pub fn bound_text(&self) -> String {
        format_value(self.bound, Unit::from_name(self.unit))
    }

    /// One line for the terminal: `PASS  api.checkout.p99 < 300ms [db-10ms-away]  measured 212 ms ±4`.
    pub fn line(&self) -> String {
        let verdict = match (self.passed, self.judged) {
            (true, _) => "PASS",
            (false, true) => "FAIL",
            (false, false) => "NOT JUDGED",
        };
        let note = self.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
        format!("{verdict}  {}  measured {}{note}", self.title(), self.measured_text())
    }
}

/// Every expectation of a model and its verdict: what `capsim check --json` writes.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Version of the layout (the same as the results').
    pub schema_version: u32,
    /// The model's name.
    pub model: String,
    /// One verdict per expectation, in the model's order.
    pub results: Vec<ExpectationResult>,
}

impl CheckReport {
    /// A report on `model`'s `results`.
    pub fn new(model: &str, results: Vec<ExpectationResult>) -> CheckReport {
        CheckReport {
            schema_version: crate::results::SCHEMA_VERSION,
            model: model.to_string(),
            results,
        }
    }

    /// The report under `--strict`: a claim holds only when its whole confidence interval
    /// satisfies it, so one that holds on the mean while its CI straddles the bound fails.
    pub fn strict(mut self) -> CheckReport {
        for r in &mut self.results {
            if r.passed && r.measured.ci95 > 0.0 && r.measured.contains(r.bound) {
                r.passed = false;
                r.note = Some("strict: the CI straddles the bound".into());
            }
        }
        self
    }

    /// How many expectations failed (judged on a run that was not cut short, and did not hold).
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed && r.judged).count()
    }

    /// How many expectations were not judged: their run was cut short by a bound of the run.
    pub fn not_judged(&self) -> usize {
        self.results.iter().filter(|r| !r.judged).count()
    }

    /// How many expectations held.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed).count()
    }

    /// Whether every expectation held.
    pub fn all_passed(&self) -> bool {
        self.failed() == 0 && self.not_judged() == 0
    }

    /// One line per expectation, then `N passed, M failed`, each ending in a newline.
    pub fn text(&self) -> String {
        let mut text: String = self.results.iter().map(|r| r.line() + "\n").collect();
        text.push_str(&format!("{} passed, {} failed", self.passed(), self.failed()));
        if self.not_judged() > 0 {
            text.push_str(&format!(
                ", {} not judged (the run was cut short: --max-events, --max-wall or Ctrl-C)",
                self.not_judged()
            ));
        }
        text.push('\n');
        text
    }
}

/// Whether a claim is about the model's sizing (`size.cost`, `size.<knob path>`): judged on the
/// answer of `capsim size`, not on a run.
pub fn is_size_claim(claim: &Claim) -> bool {
    claim.metric.starts_with("size.")
}

/// Check a sizing claim before anything runs: its metric is `size.cost` or `size.` and one of
/// `knobs`, its operator compares, and its bound is a number (a cost may end in "/h"). Returns
/// the bound.
pub fn check_size_claim(claim: &Claim, knobs: &[&str]) -> Result<f64, String> {
    let what = &claim.metric["size.".len()..];
    if what != "cost" && !knobs.contains(&what) {
        return Err(format!(
            "unknown sizing metric \"{}\": expected size.cost or size.KNOB with KNOB one of the knobs sized ({})",
            claim.metric,
            if knobs.is_empty() {
                "the model sizes none".to_string()
            } else {
                knobs.join(", ")
            }
        ));
    }
    if claim.comparison == Comparison::RecoversWithin {
        return Err(format!("\"{}\" is a sizing answer, not a metric that recovers", claim.metric));
    }
    let text = claim.bound.trim();
    let number = if what == "cost" {
        text.strip_suffix("/h").unwrap_or(text).trim()
    } else {
        text
    };
    number.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
        if what == "cost" {
            format!(
                "bound of \"{}\": expected a cost per hour like \"40/h\", got \"{text}\"",
                claim.metric
            )
        } else {
            format!("bound of \"{}\": expected a number, got \"{text}\"", claim.metric)
        }
    })
}

/// Judge a sizing claim on `sizing`, the answer of `capsim size`: it holds when a configuration
/// was found and its cost (or the knob's value) satisfies the bound. An infeasible or uncertain
/// sizing fails it; an interrupted one leaves it not judged.
pub fn evaluate_size(expectation: &Expectation, sizing: &crate::analysis::size::Sizing) -> Result<ExpectationResult, String> {
    use crate::analysis::size::SizingStatus;
    let claim = &expectation.claim;
    let knobs: Vec<&str> = sizing.knobs.iter().map(|k| k.path.as_str()).collect();
    let bound = check_size_claim(claim, &knobs)?;
    let what = &claim.metric["size.".len()..];
    let value = if what == "cost" {
        sizing.cost_per_hour
    } else {
        sizing
            .knobs
            .iter()
            .find(|k| k.path == what)
            .filter(|_| sizing.status == SizingStatus::Sized)
            .and_then(|k| k.value.as_deref())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let judged = sizing.status != SizingStatus::Stopped;
    let (passed, note) = match (sizing.status, value) {
        (SizingStatus::Sized, Some(v)) => (claim.comparison.holds(v, bound), None),
        (SizingStatus::Stopped, _) => (false, Some("not judged: the sizing was interrupted".to_string())),
        (status, _) => (
            false,
            Some(format!(
                "{}: no configuration in range is known to meet every SLO",
                status.name()
            )),
        ),
    };
    Ok(ExpectationResult {
        index: expectation.index,
        that: expectation.that.clone(),
        scenario: None,
        passed,
        judged,
        measured: Estimate::from_samples(&[value.unwrap_or(f64::NAN)]),
        bound,
        unit: Unit::Count.name(),
        note,
    })
}

/// Whether a claim is about the metastability map (`metastability.<trigger>.tip_over`,
/// `metastability.<trigger>.boundary`): judged on the answer of `capsim metastability`, not on
/// a run.
pub fn is_map_claim(claim: &Claim) -> bool {
    claim.metric.starts_with("metastability.")
}

/// A trigger curve a map claim can name: its label, whether it is tried at one size only, and
/// how its size is read.
#[derive(Clone, Debug)]
pub struct MapLabel {
    /// "spike", "spike_30s".
    pub label: String,
    /// Tried at one size: it has a tip-over share; else a boundary.
    pub one_size: bool,
    /// How its size (and a boundary's bound) is read.
    pub scale: crate::analysis::tip_over::Scale,
}

/// What a map claim asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MapStat {
    TipOver,
    Boundary,
}

/// Check a map claim before anything runs: `metastability.<label>.tip_over` (a trigger tried at
/// one size; bound a share, "5%" or 0.05) or `metastability.<label>.boundary` (a trigger with a
/// range; bound in its size's unit: a factor, a count, or a duration like "30s"). Returns the
/// bound (shares as fractions, durations in seconds).
pub fn check_map_claim(claim: &Claim, labels: &[MapLabel]) -> Result<f64, String> {
    let rest = &claim.metric["metastability.".len()..];
    let known = || labels.iter().map(|l| l.label.as_str()).collect::<Vec<_>>().join(", ");
    let (label, stat) = match rest.rsplit_once('.') {
        Some((label, "tip_over")) => (label, MapStat::TipOver),
        Some((label, "boundary")) => (label, MapStat::Boundary),
        _ => {
            return Err(format!(
                "unknown metastability metric \"{}\": expected metastability.TRIGGER.tip_over or metastability.TRIGGER.boundary (triggers: {})",
                claim.metric,
                known()
            ))
        }
    };
    let Some(found) = labels.iter().find(|l| l.label == label) else {
        return Err(format!(
            "\"{}\": no trigger \"{label}\" in the model's metastability.triggers (with several durations, name one as TRIGGER_DURATION; triggers: {})",
            claim.metric,
            known()
        ));
    };
    match (stat, found.one_size) {
        (MapStat::TipOver, false) => {
            return Err(format!(
                "\"{}\": trigger \"{label}\" is tried over a range of sizes, so it has a boundary, not one tip-over share: use metastability.{label}.boundary, or give it one size",
                claim.metric
            ))
        }
        (MapStat::Boundary, true) => {
            return Err(format!(
                "\"{}\": trigger \"{label}\" is tried at one size, so it has a tip-over share, not a boundary: use metastability.{label}.tip_over, or give it a range [smallest, largest]",
                claim.metric
            ))
        }
        _ => {}
    }
    if claim.comparison == Comparison::RecoversWithin {
        return Err(format!(
            "\"{}\" is an answer of the map, not a metric that recovers",
            claim.metric
        ));
    }
    let text = claim.bound.trim();
    let bound = match (stat, found.scale) {
        (MapStat::TipOver, _) => match text.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().ok().map(|p| p / 100.0),
            None => text.parse::<f64>().ok(),
        }
        .filter(|p| (0.0..=1.0).contains(p)),
        (MapStat::Boundary, crate::analysis::tip_over::Scale::Seconds) => crate::model::units::parse_duration(text)
            .ok()
            .map(crate::model::units::nanos_to_secs),
        (MapStat::Boundary, _) => text.trim_start_matches('×').parse::<f64>().ok().filter(|v| v.is_finite()),
    };
    bound.ok_or_else(|| match stat {
        MapStat::TipOver => format!(
            "bound of \"{}\": expected a share like \"5%\" or 0.05, got \"{text}\"",
            claim.metric
        ),
        MapStat::Boundary => format!(
            "bound of \"{}\": expected a trigger size{}, got \"{text}\"",
            claim.metric,
            if found.scale == crate::analysis::tip_over::Scale::Seconds {
                " (a duration like \"30s\")"
            } else {
                " (a number)"
            }
        ),
    })
}

/// Judge a map claim on `map`, the answer of `capsim metastability`, for the run named
/// `scenario` (the baseline when `None`). A tip-over share is compared on its value (a note
/// when its 95 % interval straddles the bound); a boundary on the smallest size known to tip
/// it over (infinite when none in range did; a note when the bound lies between the largest
/// size that held and it). An interrupted map leaves the claim not judged.
pub fn evaluate_map(
    expectation: &Expectation,
    labels: &[MapLabel],
    map: &crate::analysis::metastability_map::MetastabilityMap,
) -> Result<ExpectationResult, String> {
    use crate::analysis::tip_over::Boundary;
    let claim = &expectation.claim;
    let bound = check_map_claim(claim, labels)?;
    let rest = &claim.metric["metastability.".len()..];
    let (label, stat) = rest.rsplit_once('.').unwrap_or((rest, ""));
    let run_name = expectation.scenario.as_deref().unwrap_or("baseline");
    let curve = map
        .runs
        .iter()
        .find(|r| r.run == run_name)
        .and_then(|r| r.triggers.iter().flat_map(|t| &t.curves).find(|c| c.label == label));
    let mut notes = Vec::new();
    let (value, unit, judged) = match curve {
        None => {
            notes.push(format!("not judged: the map stopped before {run_name}: {label}"));
            (f64::NAN, Unit::Count, false)
        }
        Some(c) if stat == "tip_over" && c.curve.points.is_empty() => {
            notes.push(format!("not judged: the map stopped before {run_name}: {label} ran"));
            (f64::NAN, Unit::Share, false)
        }
        Some(c) if stat == "tip_over" => {
            let p = &c.curve.points[0];
            if p.tally.judged == 0 {
                notes.push("no replication could be judged".into());
            } else if p.ci95[0] <= bound && bound <= p.ci95[1] {
                notes.push(format!(
                    "the 95 % interval {:.1}–{:.1} % straddles the bound",
                    p.ci95[0] * 100.0,
                    p.ci95[1] * 100.0
                ));
            }
            (p.share, Unit::Share, true)
        }
        Some(c) => {
            let value = match c.curve.boundary {
                Boundary::AtOrBelow { size } => size,
                Boundary::Between { holds, tips } => {
                    if holds < bound && bound < tips {
                        notes.push(format!("the boundary lies between {holds} and {tips}, around the bound"));
                    }
                    tips
                }
                Boundary::Above { size } => {
                    notes.push(format!("no tip-over up to {size}, the largest size tried"));
                    f64::INFINITY
                }
                Boundary::NotJudged { size } => {
                    notes.push(format!("not judged at {size}"));
                    f64::NAN
                }
                Boundary::HoldsUpTo { holds, unjudged } => {
                    notes.push(format!(
                        "no tip-over up to {holds}; from {unjudged} on not judged (runs cut short at a bound)"
                    ));
                    f64::NAN
                }
            };
            (value, Unit::Count, true)
        }
    };
    let judged = judged && map.stopped.is_none();
    let passed = judged && !value.is_nan() && claim.comparison.holds(value, bound);
    Ok(ExpectationResult {
        index: expectation.index,
        that: expectation.that.clone(),
        scenario: expectation.scenario.clone(),
        passed,
        judged,
        measured: Estimate::from_samples(&[value]),
        bound,
        unit: unit.name(),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_split_into_metric_operator_and_bound() {
        let c = Claim::parse(" api.checkout.p99<=300ms ").unwrap();
        assert_eq!(c.metric, "api.checkout.p99");
        assert_eq!(c.comparison, Comparison::LessOrEqual);
        assert_eq!(c.bound, "300ms");
        assert_eq!(Claim::parse("a.b > 1").unwrap().comparison, Comparison::Greater);
        assert_eq!(Claim::parse("a.b >= 1").unwrap().comparison, Comparison::GreaterOrEqual);
        assert_eq!(Claim::parse("a.b < 1%").unwrap().comparison, Comparison::Less);
    }

    #[test]
    fn malformed_claims_list_the_operators() {
        for text in [
            "api.checkout.p99 300ms",
            "api.p99 == 3",
            "api.p99 = 3",
            "< 3ms",
            "a.p99 <",
            "a.p99 < 3 < 4",
            "a.p99 != 3",
        ] {
            let err = Claim::parse(text).unwrap_err();
            assert!(err.contains("<, <=, >, >="), "{text}: {err}");
            assert!(err.contains(text), "{text}: {err}");
        }
    }

    #[test]
    fn comparisons_never_hold_for_nan() {
        for c in [
            Comparison::Less,
            Comparison::LessOrEqual,
            Comparison::Greater,
            Comparison::GreaterOrEqual,
        ] {
            assert!(!c.holds(f64::NAN, 1.0));
        }
        assert!(Comparison::LessOrEqual.holds(1.0, 1.0) && !Comparison::Less.holds(1.0, 1.0));
    }

    #[test]
    fn expectations_are_read_with_paths_for_every_problem() {
        let scenarios = vec!["slow".to_string(), "busy".to_string()];
        let ok = read_expectations(
            &json!([{"that": "a.p99 < 1s"}, {"that": "a.p99 < 2s", "scenario": "slow, busy", "description": "x"}]),
            &scenarios,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].scenario.as_deref(), Some("slow, busy"));
        assert_eq!(ok[1].path(), "expect[1].that");
        assert!(read_expectations(&Value::Null, &scenarios).unwrap().is_empty());

        let errs = read_expectations(
            &json!([{"that": "a.p99 ~ 1s"}, {"that": "a.p99 < 1s", "scenario": "fast"}, {"what": 1}, {"that": 3}]),
            &scenarios,
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert_eq!(errs.len(), 4, "{text:?}");
        assert!(text[0].starts_with("expect[0].that: ") && text[0].contains("<="), "{text:?}");
        assert!(
            text[1].starts_with("expect[1].scenario: ") && text[1].contains("slow, busy"),
            "{text:?}"
        );
        assert!(text[2].starts_with("expect[2]") && text[2].contains("what"), "{text:?}");
        assert!(text[3].starts_with("expect[3].that"), "{text:?}");
        let not_a_list = read_expectations(&json!({"that": "a.p99 < 1s"}), &scenarios).unwrap_err();
        assert_eq!(not_a_list[0].path, "expect");
    }

    fn result(mean: f64, ci95: f64, unit: &'static str) -> ExpectationResult {
        ExpectationResult {
            index: 0,
            that: "x".into(),
            scenario: None,
            passed: true,
            judged: true,
            measured: Estimate {
                mean,
                ci95,
                min: mean,
                max: mean,
                n: 3,
                samples: vec![],
            },
            bound: 0.01,
            unit,
            note: None,
        }
    }

    #[test]
    fn under_strict_a_claim_holding_on_the_mean_with_its_ci_straddling_the_bound_fails() {
        // Bound 0.01: a mean of 0.009 ± 0.002 holds on the mean, its CI [0.007, 0.011] straddles;
        // 0.005 ± 0.002 lies wholly inside.
        let report = CheckReport::new("m", vec![result(0.009, 0.002, "share"), result(0.005, 0.002, "share")]);
        assert_eq!(report.passed(), 2);
        let strict = report.strict();
        assert_eq!((strict.passed(), strict.failed()), (1, 1));
        assert_eq!(strict.results[0].note.as_deref(), Some("strict: the CI straddles the bound"));
    }

    #[test]
    fn measured_values_show_the_half_width_with_the_mean_s_decimals() {
        assert_eq!(result(212.4, 4.2, "ms").measured_text(), "212 ms ±4");
        assert_eq!(result(12.34, 0.56, "ms").measured_text(), "12.3 ms ±0.6");
        assert_eq!(result(0.0052, 0.0004, "share").measured_text(), "0.520 % ±0.040");
        assert_eq!(result(7.0, 0.0, "count").measured_text(), "7.00");
        assert_eq!(result(f64::NAN, f64::NAN, "ms").measured_text(), "–");
        assert_eq!(result(1.0, 0.0, "share").bound_text(), "1.00 %");
    }

    #[test]
    fn the_summary_line_counts_passes_and_failures() {
        let mut failing = result(5.0, 1.0, "ms");
        failing.passed = false;
        failing.scenario = Some("a+b".into());
        failing.note = Some("the CI straddles the bound".into());
        let report = CheckReport::new("m", vec![result(1.0, 0.0, "ms"), failing]);
        assert_eq!(report.passed(), 1);
        assert!(!report.all_passed());
        let text = report.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "PASS  x  measured 1.00 ms");
        assert_eq!(lines[1], "FAIL  x [a+b]  measured 5.00 ms ±1.00 (the CI straddles the bound)");
        assert_eq!(lines[2], "1 passed, 1 failed");
    }

    fn mm1(rate: &str, limits: &str) -> RunResult {
        let json = format!(
            r#"{{"duration": "2m", "warmup": "10s", "replications": 3, "seed": 5, {limits}
                "clients": {{"arrivals": {{"open": {{"rate": "{rate}"}}, "calls": "server.serve"}}}},
                "services": {{"server": {{"workers": 1, "endpoints": {{"serve": [{{"cpu": "exp(10ms)"}}]}}}}}}}}"#
        );
        let validated = crate::model::parse_model(&json, "mm1.json").unwrap();
        crate::run(&validated.model, &[], Some(1))
    }

    fn expectation(that: &str) -> Expectation {
        read_expectations(&serde_json::json!([{ "that": that }]), &[])
            .unwrap()
            .remove(0)
    }

    #[test]
    fn verdicts_follow_the_mean_and_note_a_straddled_bound() {
        let result = mm1("50/s", "");
        let pass = evaluate(&expectation("server.serve.p99 < 1s"), None, &result, None).unwrap();
        assert!(
            pass.passed && pass.note.is_none() && pass.unit == "ms" && pass.bound == 1000.0,
            "{pass:?}"
        );
        let fail = evaluate(&expectation("server.serve.p99 < 1ms"), Some("s"), &result, None).unwrap();
        assert!(!fail.passed && fail.note.is_none(), "{fail:?}");
        assert_eq!(fail.scenario.as_deref(), Some("s"));
        let mean = resolve(&result, "server.serve.mean").unwrap().estimate;
        assert!(mean.ci95 > 0.0);
        let close = format!("server.serve.mean < {}us", ((mean.mean + mean.ci95 / 2.0) * 1000.0).round());
        let straddled = evaluate(&expectation(&close), None, &result, None).unwrap();
        assert!(straddled.passed, "{straddled:?}");
        assert_eq!(straddled.note.as_deref(), Some("the CI straddles the bound"));
        let share = evaluate(&expectation("server.utilisation >= 40%"), None, &result, None).unwrap();
        assert!(share.passed && share.unit == "share" && share.bound == 0.4, "{share:?}");
        assert!(evaluate(&expectation("server.utilisation < 40ms"), None, &result, None)
            .unwrap_err()
            .contains("ratio"));
        assert!(evaluate(&expectation("server.nope < 1"), None, &result, None)
            .unwrap_err()
            .contains("unknown statistic"));
    }

    #[test]
    fn a_run_that_stopped_early_fails_its_expectations() {
        let result = mm1("200/s", r#""limits": {"max_in_flight": 50},"#);
        assert!(!result.verdict.complete);
        let verdict = evaluate(&expectation("server.utilisation <= 100%"), None, &result, None).unwrap();
        assert!(!verdict.passed, "{verdict:?}");
        assert!(verdict.note.unwrap().contains("stopped early"));
    }
}
