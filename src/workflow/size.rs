//! Sizing as a workflow: read what to size (the model's `sizing` section, or the caller's plan),
//! check every knob value and scenario on the model before anything runs, then search for the
//! cheapest configuration that meets every SLO under the baseline and every scenario
//! ([`crate::analysis::size`] decides; this module runs the simulations it asks for).

use super::{Runner, WorkflowError};
use crate::analysis::size::{search, summarise, Evaluation, Knob, Oracle, Replications, RunVerdicts, Sizing, Strategy};
use crate::model::spec::ModelSpec;
use crate::model::values::PositiveInt;
use crate::scenario::overlay::{split_operation, value_at, Operation};
use crate::scenario::sweep::{numeric, parse_values, show_value};
use crate::scenario::{Change, ModelSource, Variant};
use serde_json::Value;

/// Replications a candidate is first judged with, unless the plan says otherwise (or the model
/// has fewer).
pub const SCREEN_REPLICATIONS: u32 = 5;

/// The cap on a confirming verdict's replications, as a multiple of the model's, unless the plan
/// says otherwise.
pub const CAP_FACTOR: u32 = 4;

/// One knob to size: a model path, its values in increasing order, the cost of one unit.
#[derive(Clone, Debug)]
pub struct KnobPlan {
    /// The model path it sets, e.g. "services.api.instances".
    pub path: String,
    /// Its values (numbers), increasing.
    pub values: Vec<Value>,
    /// Cost of one unit per hour.
    pub cost_per_hour: f64,
    /// Where it was written, for messages: `sizing.knobs` or `--knob` (the path follows).
    pub origin: String,
}

impl KnobPlan {
    /// Where the knob was written and its path, for messages: `sizing.knobs."PATH"`.
    fn at(&self) -> String {
        format!("{}.\"{}\"", self.origin, self.path)
    }
}

/// What to size and what the answer must survive.
#[derive(Clone, Debug, Default)]
pub struct SizingPlan {
    /// The knobs.
    pub knobs: Vec<KnobPlan>,
    /// Scenarios the answer must meet every SLO under, besides the baseline.
    pub scenarios: Vec<String>,
    /// The currency costs are in (shown only).
    pub currency: String,
    /// Replications a candidate is first judged with (default [`SCREEN_REPLICATIONS`]).
    pub screen_replications: Option<u32>,
    /// Most replications for a confirming verdict (default [`CAP_FACTOR`] × the model's).
    pub max_replications: Option<u32>,
    /// Every configuration of the grid screened instead of the search (`--exhaustive`).
    pub exhaustive: bool,
}

/// The sizing the model declares in its `sizing` section; `None` when it has none. Values that
/// cannot be read are refused naming their path (`sizing.knobs."PATH".values`).
pub fn declared(source: &ModelSource) -> Result<Option<SizingPlan>, WorkflowError> {
    let Some(spec) = source.json().get("sizing") else {
        return Ok(None);
    };
    let mut knobs = Vec::new();
    for (path, knob) in spec.get("knobs").and_then(Value::as_object).into_iter().flatten() {
        let at = format!("sizing.knobs.\"{path}\"");
        let values = knob
            .get("values")
            .ok_or_else(|| WorkflowError::Input(format!("{at}: expected \"values\", a list or a range like \"1..40\"")))
            .and_then(|v| parse_values(v).map_err(|why| WorkflowError::Input(format!("{at}.values: {why}"))))?;
        knobs.push(KnobPlan {
            path: path.clone(),
            values,
            cost_per_hour: knob.get("cost_per_hour").and_then(Value::as_f64).unwrap_or(0.0),
            origin: "sizing.knobs".into(),
        });
    }
    let count = |key: &str| spec.get(key).and_then(Value::as_u64).map(|n| n as u32);
    Ok(Some(SizingPlan {
        knobs,
        scenarios: spec
            .get("scenarios")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        currency: spec.get("currency").and_then(Value::as_str).unwrap_or_default().to_string(),
        screen_replications: count("screen_replications"),
        max_replications: count("max_replications"),
        exhaustive: false,
    }))
}

/// A sizing whose every knob value and scenario has been checked on the model, ready to run.
pub struct PreparedSizing<'s, C: Fn(&mut ModelSpec)> {
    source: &'s ModelSource,
    configure: C,
    model: String,
    description: String,
    currency: String,
    plans: Vec<KnobPlan>,
    knobs: Vec<Knob>,
    /// The baseline (no changes) and each scenario's changes.
    runs: Vec<Variant>,
    replications: Replications,
    strategy: Strategy,
}

/// Check `plan` on the model `source` (with `configure`, the caller's run settings, applied to
/// every run): at least one knob, each a path that sets a number, its values increasing, each
/// value a valid model on its own, each scenario known and valid with every knob at its
/// largest value. Errors name the knob or scenario and what was expected.
pub fn prepare<'s, C: Fn(&mut ModelSpec)>(
    source: &'s ModelSource,
    plan: &SizingPlan,
    configure: C,
) -> Result<PreparedSizing<'s, C>, WorkflowError> {
    if plan.knobs.is_empty() {
        return Err(WorkflowError::Input(
            "nothing to size: give --knob PATH=VALUES, or a \"sizing\" section with \"knobs\" in the model".into(),
        ));
    }
    let baseline = source.baseline(&configure)?;
    if baseline.model.slos.is_empty() {
        return Err(WorkflowError::Input(format!(
            "{}: slos: the model has no SLOs, and sizing finds the cheapest configuration that meets them: add \"slos\" (e.g. {{\"api.checkout\": {{\"p99\": \"300ms\"}}}})",
            source.file
        )));
    }
    let full = baseline.model.replications;
    let mut knobs = Vec::new();
    for (i, knob) in plan.knobs.iter().enumerate() {
        if plan.knobs[..i].iter().any(|k| k.path == knob.path) {
            return Err(WorkflowError::Input(format!("{}: the knob is given twice", knob.at())));
        }
        let (_, operation) = split_operation(&knob.path);
        if operation != Operation::Set || knob.path.ends_with(".set") {
            return Err(WorkflowError::Input(format!(
                "{}: a knob sets a value: write the path without \".add\", \".scale\" or \".set\"",
                knob.at()
            )));
        }
        if knob.values.is_empty() {
            return Err(WorkflowError::Input(format!("{}: expected at least one value", knob.at())));
        }
        if !(knob.cost_per_hour.is_finite() && knob.cost_per_hour >= 0.0) {
            return Err(WorkflowError::Input(format!(
                "{}: the cost per hour must be a number of at least 0, got {}",
                knob.at(),
                knob.cost_per_hour
            )));
        }
        let mut numbers = Vec::new();
        for value in &knob.values {
            let Some(x) = numeric(value) else {
                return Err(WorkflowError::Input(format!(
                    "{}: expected numbers (a capacity: instances, workers, cores, connections), got {value}",
                    knob.at()
                )));
            };
            if numbers.last().is_some_and(|&last| x <= last) {
                return Err(WorkflowError::Input(format!(
                    "{}: expected increasing values (more of a knob is more capacity), got {} after {}",
                    knob.at(),
                    show_value(value),
                    numbers.last().copied().unwrap_or_default()
                )));
            }
            numbers.push(x);
            // Each value must make a valid model on its own.
            source.variant_model(&knob_variant(knob, value), &configure)?;
        }
        knobs.push(Knob {
            path: knob.path.clone(),
            values: numbers,
            shown: knob.values.iter().map(show_value).collect(),
            cost_per_hour: knob.cost_per_hour,
            as_written: value_at(source.json(), &knob.path).and_then(numeric),
        });
    }
    let mut runs = vec![Variant {
        name: "baseline".into(),
        changes: Vec::new(),
        actions: Vec::new(),
    }];
    for name in &plan.scenarios {
        let mut variant = source.scenario_variant(name)?;
        variant.name = name.clone();
        runs.push(variant);
    }
    // Every run with every knob at its largest value: the configuration tried first.
    let top: Vec<usize> = knobs.iter().map(|k| k.values.len() - 1).collect();
    for run in &runs {
        source.variant_model(&configured(&plan.knobs, &top, run), &configure)?;
    }
    let screen = plan.screen_replications.unwrap_or(SCREEN_REPLICATIONS).clamp(1, full);
    let cap = plan.max_replications.unwrap_or(full.saturating_mul(CAP_FACTOR)).max(full);
    Ok(PreparedSizing {
        source,
        configure,
        model: baseline.model.name.clone(),
        description: baseline.model.description.clone(),
        currency: plan.currency.clone(),
        plans: plan.knobs.clone(),
        knobs,
        runs,
        replications: Replications { screen, full, cap },
        strategy: if plan.exhaustive {
            Strategy::Exhaustive
        } else {
            Strategy::Search
        },
    })
}

/// The variant that sets `knob` to `value` (for checking one value on its own).
fn knob_variant(knob: &KnobPlan, value: &Value) -> Variant {
    Variant {
        name: format!("{}={}", knob.path, show_value(value)),
        changes: vec![Change {
            path: knob.path.clone(),
            value: value.clone(),
            origin: knob.origin.clone(),
        }],
        actions: Vec::new(),
    }
}

/// `run` with the knobs set to configuration `x` first (a scenario's own changes apply on top:
/// "one zone down" halves the instances sized).
fn configured(knobs: &[KnobPlan], x: &[usize], run: &Variant) -> Variant {
    let mut changes: Vec<Change> = knobs
        .iter()
        .zip(x)
        .map(|(k, &i)| Change {
            path: k.path.clone(),
            value: k.values[i].clone(),
            origin: k.origin.clone(),
        })
        .collect();
    changes.extend(run.changes.iter().cloned());
    Variant {
        name: run.name.clone(),
        changes,
        actions: run.actions.clone(),
    }
}

/// A configuration about to be simulated, for progress lines.
#[derive(Clone, Copy, Debug)]
pub struct Trying<'a> {
    /// Each knob's value, as written.
    pub values: &'a [String],
    /// "baseline" or the scenario's name.
    pub run: &'a str,
    /// Replications it runs with.
    pub replications: u32,
}

/// The oracle that simulates: each run of a configuration through the runner.
struct Simulate<'p, 's, 'r, C: Fn(&mut ModelSpec), P: FnMut(Trying)> {
    prepared: &'p PreparedSizing<'s, C>,
    runner: &'p Runner<'r>,
    /// Where the shards of a sizing split each evaluation's replications, if it is sharded.
    exchange: Option<&'p super::exchange::Exchange>,
    progress: P,
}

impl<C: Fn(&mut ModelSpec), P: FnMut(Trying)> Oracle for Simulate<'_, '_, '_, C, P> {
    fn evaluate(&mut self, x: &[usize], replications: u32) -> Result<Evaluation, String> {
        let p = self.prepared;
        let shown: Vec<String> = p.knobs.iter().zip(x).map(|(k, &i)| k.shown[i].clone()).collect();
        let mut runs = Vec::new();
        for run in &p.runs {
            (self.progress)(Trying {
                values: &shown,
                run: &run.name,
                replications,
            });
            let variant = configured(&p.plans, x, run);
            let validated = p
                .source
                .variant_model(&variant, |spec| {
                    (p.configure)(spec);
                    spec.replications = Some(PositiveInt(replications));
                })
                .map_err(|e| e.to_string())?;
            let warnings = super::warnings(&validated);
            let result = match self.exchange {
                None => self.runner.run(&validated.model, &warnings),
                Some(exchange) => {
                    let json = p.source.variant_json(&variant).map_err(|e| e.to_string())?;
                    exchange.run(self.runner, &run.name, &json, &validated.model, &warnings)?
                }
            };
            if self.runner.interrupted() {
                return Err("interrupted: the search stopped before it ended".into());
            }
            runs.push(RunVerdicts {
                run: run.name.clone(),
                complete: result.verdict.complete,
                slos: result.slos,
            });
        }
        Ok(Evaluation { replications, runs })
    }
}

impl<C: Fn(&mut ModelSpec)> PreparedSizing<'_, C> {
    /// The knobs, as the search sees them.
    pub fn knobs(&self) -> &[Knob] {
        &self.knobs
    }

    /// The replications verdicts start and end with.
    pub fn replications(&self) -> Replications {
        self.replications
    }

    /// Search with `runner`, calling `progress` before each simulation; with an `exchange`,
    /// as one of the shards that meet there (each evaluation's replications split between them).
    pub fn run(&self, runner: &Runner, exchange: Option<&super::exchange::Exchange>, progress: impl FnMut(Trying)) -> Sizing {
        let mut oracle = Simulate {
            prepared: self,
            runner,
            exchange,
            progress,
        };
        let found = search(&self.knobs, self.runs.len(), self.replications, self.strategy, &mut oracle);
        let runs: Vec<String> = self.runs.iter().map(|r| r.name.clone()).collect();
        summarise(
            &self.model,
            &self.description,
            &self.currency,
            &self.knobs,
            &runs,
            self.replications,
            &found,
        )
    }
}
