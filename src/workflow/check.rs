//! A model's expectations as a workflow (`capsim check`): read the claims written in the model
//! (`"expect": [...]`), make every run they need — the model as written and each scenario an
//! expectation names, once each — check every claim's metric and bound before anything runs,
//! run them (and the sizing or the metastability map a claim is about), and judge each claim
//! ([`crate::analysis::expect`]).

use super::{Runner, WorkflowError};
use crate::analysis::calibration::{check_calibration_claim, evaluate_calibration, is_calibration_claim, Calibration};
use crate::analysis::compare::ScenarioReport;
use crate::analysis::expect::{
    check_map_claim, check_size_claim, evaluate, evaluate_map, evaluate_size, is_map_claim, is_size_claim, read_expectations,
    CheckReport, Comparison, Expectation, MapLabel,
};
use crate::analysis::metastability_map::MetastabilityMap;
use crate::analysis::size::Sizing;
use crate::model::spec::ModelSpec;
use crate::model::{Diagnostic, Model, ModelError, Validated};
use crate::results::RunResult;
use crate::scenario::ModelSource;
use serde_json::Value;

/// One distinct run: the model as written (`name` None) or a scenario ("a+b").
struct Target {
    name: Option<String>,
    validated: Validated,
}

/// The expectations of a model, checked as far as possible without running, and the runs they
/// need (see [`prepare`]).
pub struct CheckPlan {
    /// The claims about runs.
    expectations: Vec<Expectation>,
    /// The claims about the sizing (`size.cost`, `size.<knob>`), judged on `capsim size`'s answer.
    size_expectations: Vec<Expectation>,
    /// The model's sizing and its baseline, when a claim is about the sizing.
    sizing: Option<(super::size::SizingPlan, Validated)>,
    /// The claims about the metastability map (`metastability.<trigger>.tip_over`, `.boundary`).
    map_expectations: Vec<Expectation>,
    /// The map those claims need and the trigger curves it has, when there are any.
    map: Option<(super::metastability::MapPlan, Vec<MapLabel>)>,
    /// The claims about the calibration (`calibration.error`, `calibration.ENDPOINT.STAT`).
    calibration_expectations: Vec<Expectation>,
    /// The replay against the model's traces those claims need, when there are any.
    calibration: Option<super::calibrate::CalibrationPlan>,
    /// Every distinct run, in the order expectations first name it.
    targets: Vec<Target>,
    /// `targets[runs[i]]` is expectation i's run.
    runs: Vec<usize>,
}

fn invalid(source: &ModelSource, diagnostics: Vec<Diagnostic>) -> WorkflowError {
    WorkflowError::Model(ModelError::Invalid {
        file: source.file.clone(),
        diagnostics,
    })
}

/// Read the model's `expect` list and make every run it needs with `configure` applied (run
/// settings given by the caller): claims, scenarios, metric names and bounds are all checked
/// before anything runs. A model without expectations has an empty plan.
pub fn prepare(source: &ModelSource, configure: impl Fn(&mut ModelSpec)) -> Result<CheckPlan, WorkflowError> {
    let expect = source.json().get("expect").cloned().unwrap_or(Value::Null);
    let (size_expectations, expectations): (Vec<Expectation>, Vec<Expectation>) =
        read_expectations(&expect, &source.scenario_names())
            .map_err(|d| invalid(source, d))?
            .into_iter()
            .partition(|e| is_size_claim(&e.claim));
    let (map_expectations, expectations): (Vec<Expectation>, Vec<Expectation>) =
        expectations.into_iter().partition(|e| is_map_claim(&e.claim));
    let (calibration_expectations, expectations): (Vec<Expectation>, Vec<Expectation>) =
        expectations.into_iter().partition(|e| is_calibration_claim(&e.claim));
    let calibration = prepare_calibration(source, &calibration_expectations)?;
    let sizing = prepare_sizing(source, &size_expectations, &configure)?;
    let map = prepare_map(source, &map_expectations, &configure)?;
    let mut targets: Vec<Target> = Vec::new();
    let mut runs = Vec::with_capacity(expectations.len());
    for e in &expectations {
        let (name, variant): (_, Option<crate::scenario::Variant>) = match &e.scenario {
            None => (None, None),
            Some(written) => {
                let variant = source.scenario_variant(written)?;
                (Some(variant.name.clone()), Some(variant))
            }
        };
        let at = match targets.iter().position(|t| t.name == name) {
            Some(at) => at,
            None => {
                let validated = match &variant {
                    None => source.baseline(&configure)?,
                    Some(v) => source.variant_model(v, &configure)?,
                };
                targets.push(Target { name, validated });
                targets.len() - 1
            }
        };
        runs.push(at);
    }
    // A recovery claim measures against the model as written: make sure it runs.
    let recovery = expectations.iter().any(|e| e.claim.comparison == Comparison::RecoversWithin);
    if recovery && !targets.iter().any(|t| t.name.is_none()) {
        targets.push(Target {
            name: None,
            validated: source.baseline(&configure)?,
        });
    }
    // Metric names and bounds are checked against the components each run has: a result of
    // no replications has every component and no values.
    let shapes: Vec<RunResult> = targets
        .iter()
        .map(|t| crate::results::summarize(&t.validated.model, &[], Vec::new()))
        .collect();
    let problems: Vec<Diagnostic> = expectations
        .iter()
        .zip(&runs)
        .filter_map(|(e, &at)| {
            e.claim
                .resolve(&shapes[at])
                .err()
                .map(|message| Diagnostic { path: e.path(), message })
        })
        .collect();
    if !problems.is_empty() {
        return Err(invalid(source, problems));
    }
    Ok(CheckPlan {
        expectations,
        size_expectations,
        sizing,
        map_expectations,
        map,
        calibration_expectations,
        calibration,
        targets,
        runs,
    })
}

/// The replay the claims about the calibration need, checked before anything runs: the model's
/// `calibration` section (its trace files read), no scenario on such a claim, an endpoint the
/// traces and the model both have, a share as the bound. `None` when no claim is about it.
fn prepare_calibration(
    source: &ModelSource,
    claims: &[Expectation],
) -> Result<Option<super::calibrate::CalibrationPlan>, WorkflowError> {
    let Some(first) = claims.first() else {
        return Ok(None);
    };
    let Some(declared) = super::calibrate::declared(source)? else {
        return Err(invalid(
            source,
            vec![Diagnostic {
                path: first.path(),
                message: format!(
                    "\"{}\" is about the calibration, and the model has no \"calibration\" section naming trace files",
                    first.claim.metric
                ),
            }],
        ));
    };
    let traces = super::calibrate::read_traces(&declared.traces)?;
    let plan = super::calibrate::prepare(source, &source.file, &traces, declared.sampling_rate, declared.replications)?;
    let model_endpoints: Vec<&str> = plan.replay.model.endpoints.iter().map(|e| e.name.as_str()).collect();
    let endpoints: Vec<String> = plan
        .observed
        .iter()
        .filter(|o| model_endpoints.contains(&o.name.as_str()))
        .map(|o| o.name.clone())
        .collect();
    let mut problems = Vec::new();
    for e in claims {
        if e.scenario.is_some() {
            problems.push(Diagnostic {
                path: format!("expect[{}].scenario", e.index),
                message: "a claim about the calibration is judged on the model as written: remove \"scenario\"".into(),
            });
        }
        if let Err(message) = check_calibration_claim(&e.claim, &endpoints) {
            problems.push(Diagnostic { path: e.path(), message });
        }
    }
    if !problems.is_empty() {
        return Err(invalid(source, problems));
    }
    Ok(Some(plan))
}

/// The sizing the claims about it need, checked before anything runs: the model's `sizing`
/// section (every knob value valid), no scenario on such a claim (the sizing names its own), a
/// metric the sizing has and a numeric bound. `None` when no claim is about the sizing.
fn prepare_sizing(
    source: &ModelSource,
    claims: &[Expectation],
    configure: &impl Fn(&mut ModelSpec),
) -> Result<Option<(super::size::SizingPlan, Validated)>, WorkflowError> {
    let Some(first) = claims.first() else {
        return Ok(None);
    };
    let Some(plan) = super::size::declared(source)? else {
        return Err(invalid(
            source,
            vec![Diagnostic {
                path: first.path(),
                message: format!(
                    "\"{}\" is about the sizing, and the model has no \"sizing\" section naming knobs to size",
                    first.claim.metric
                ),
            }],
        ));
    };
    let knobs: Vec<&str> = plan.knobs.iter().map(|k| k.path.as_str()).collect();
    let mut problems = Vec::new();
    for e in claims {
        if e.scenario.is_some() {
            problems.push(Diagnostic {
                path: format!("expect[{}].scenario", e.index),
                message:
                    "a claim about the sizing is judged under the sizing's own scenarios (sizing.scenarios): remove \"scenario\""
                        .into(),
            });
        }
        if let Err(message) = check_size_claim(&e.claim, &knobs) {
            problems.push(Diagnostic { path: e.path(), message });
        }
    }
    if !problems.is_empty() {
        return Err(invalid(source, problems));
    }
    super::size::prepare(source, &plan, configure)?;
    Ok(Some((plan, source.baseline(configure)?)))
}

/// The map the claims about it need, checked before anything runs: the model's metastability
/// triggers (each valid under the baseline and every scenario a claim names), each claim naming
/// a trigger curve the map has, with the statistic it has and a bound in its unit. `None` when
/// no claim is about the map.
fn prepare_map(
    source: &ModelSource,
    claims: &[Expectation],
    configure: &impl Fn(&mut ModelSpec),
) -> Result<Option<(super::metastability::MapPlan, Vec<MapLabel>)>, WorkflowError> {
    if claims.is_empty() {
        return Ok(None);
    }
    let mut scenarios: Vec<String> = Vec::new();
    for e in claims {
        if let Some(s) = &e.scenario {
            if !scenarios.contains(s) {
                scenarios.push(s.clone());
            }
        }
    }
    let plan = super::metastability::MapPlan {
        scenarios,
        boundaries_only: true,
        ..Default::default()
    };
    let labels = super::metastability::prepare(source, &plan, configure)?.labels();
    let problems: Vec<Diagnostic> = claims
        .iter()
        .filter_map(|e| {
            check_map_claim(&e.claim, &labels)
                .err()
                .map(|message| Diagnostic { path: e.path(), message })
        })
        .collect();
    if !problems.is_empty() {
        return Err(invalid(source, problems));
    }
    Ok(Some((plan, labels)))
}

impl CheckPlan {
    /// How many expectations the model writes.
    pub fn expectation_count(&self) -> usize {
        self.expectations.len() + self.size_expectations.len() + self.map_expectations.len() + self.calibration_expectations.len()
    }

    /// Replay the model against its traces, when a claim is about the calibration (see
    /// [`crate::workflow::calibrate`]): the comparison and the replay; `None` otherwise.
    pub fn calibrate(&self, runner: &Runner) -> Option<(Calibration, RunResult)> {
        self.calibration.as_ref().map(|plan| {
            let (result, calibration) = plan.run(runner, super::calibrate::DEFAULT_MAX_ERROR);
            (calibration, result)
        })
    }

    /// Whether a claim is about the metastability map, so [`CheckPlan::map`] has one to make.
    pub fn maps(&self) -> bool {
        self.map.is_some()
    }

    /// Make the metastability map the claims about it need (the baseline and every scenario
    /// they name, boundaries only; see [`crate::workflow::metastability`]) with `configure` and
    /// `runner`, calling `progress` before each simulation; `None` when no claim is about it.
    pub fn map(
        &self,
        source: &ModelSource,
        configure: impl Fn(&mut ModelSpec),
        runner: &Runner,
        progress: impl FnMut(&super::metastability::Trying),
    ) -> Result<Option<MetastabilityMap>, WorkflowError> {
        let Some((plan, _)) = &self.map else {
            return Ok(None);
        };
        Ok(Some(
            super::metastability::prepare(source, plan, configure)?.run(runner, progress),
        ))
    }

    /// The model of every run, in run order, and the sized model's baseline (to size a thread
    /// pool by).
    pub fn models(&self) -> Vec<&Model> {
        let runs = self.targets.iter().map(|t| &t.validated.model);
        runs.chain(self.sizing.iter().map(|(_, v)| &v.model))
            .chain(self.calibration.iter().map(|c| &c.replay.model))
            .collect()
    }

    /// Whether a claim is about the sizing, so [`CheckPlan::size`] has a search to run.
    pub fn sizes(&self) -> bool {
        self.sizing.is_some()
    }

    /// Run the sizing the claims about it need (see [`crate::workflow::size`]), with
    /// `configure` (the same run settings as [`prepare`]) and `runner`, calling `progress`
    /// before each simulation; `None` when no claim is about the sizing.
    pub fn size(
        &self,
        source: &ModelSource,
        configure: impl Fn(&mut ModelSpec),
        runner: &Runner,
        progress: impl FnMut(super::size::Trying),
    ) -> Result<Option<Sizing>, WorkflowError> {
        let Some((plan, _)) = &self.sizing else {
            return Ok(None);
        };
        Ok(Some(
            super::size::prepare(source, plan, configure)?.run(runner, None, progress),
        ))
    }

    /// The model's name.
    pub fn model_name(&self) -> String {
        self.models().first().map(|m| m.name.clone()).unwrap_or_default()
    }

    /// Every run, in order, with `runner`: `starting` is called before each with its scenario
    /// (`None` for the model as written) and validation warnings, `finished` after it with its
    /// result. The results are in run order, for [`CheckPlan::judge`].
    pub fn run(
        &self,
        runner: &Runner,
        mut starting: impl FnMut(Option<&str>, &[String]),
        mut finished: impl FnMut(Option<&str>, &RunResult),
    ) -> Vec<RunResult> {
        self.targets
            .iter()
            .map(|t| {
                let warnings = super::warnings(&t.validated);
                starting(t.name.as_deref(), &warnings);
                let result = runner.run(&t.validated.model, &warnings);
                finished(t.name.as_deref(), &result);
                result
            })
            .collect()
    }

    /// Each expectation judged on its run's result (`results` from [`CheckPlan::run`]), recovery
    /// claims against the model as written, claims about the sizing on `sizing` (from
    /// [`CheckPlan::size`]), claims about the map on `map` (from [`CheckPlan::map`]), claims
    /// about the calibration on `calibration` (from [`CheckPlan::calibrate`]), in the model's
    /// order; `source` names the file in errors.
    pub fn judge(
        &self,
        source: &ModelSource,
        results: &[RunResult],
        sizing: Option<&Sizing>,
        map: Option<&MetastabilityMap>,
        calibration: Option<&Calibration>,
    ) -> Result<CheckReport, WorkflowError> {
        let baseline = self.targets.iter().position(|t| t.name.is_none()).map(|b| &results[b]);
        let verdicts = self
            .expectations
            .iter()
            .zip(&self.runs)
            .map(|(e, &at)| {
                evaluate(e, self.targets[at].name.as_deref(), &results[at], baseline)
                    .map_err(|message| vec![Diagnostic { path: e.path(), message }])
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|d| invalid(source, d))?;
        let mut verdicts = verdicts;
        for e in &self.size_expectations {
            let sizing = sizing.ok_or_else(|| WorkflowError::Input(format!("{}: the sizing was not run", e.path())))?;
            let verdict =
                evaluate_size(e, sizing).map_err(|message| invalid(source, vec![Diagnostic { path: e.path(), message }]))?;
            verdicts.push(verdict);
        }
        for e in &self.map_expectations {
            let (Some(map), Some((_, labels))) = (map, &self.map) else {
                return Err(WorkflowError::Input(format!(
                    "{}: the metastability map was not made",
                    e.path()
                )));
            };
            let verdict =
                evaluate_map(e, labels, map).map_err(|message| invalid(source, vec![Diagnostic { path: e.path(), message }]))?;
            verdicts.push(verdict);
        }
        for e in &self.calibration_expectations {
            let calibration =
                calibration.ok_or_else(|| WorkflowError::Input(format!("{}: the calibration was not run", e.path())))?;
            let verdict = evaluate_calibration(e, calibration)
                .map_err(|message| invalid(source, vec![Diagnostic { path: e.path(), message }]))?;
            verdicts.push(verdict);
        }
        verdicts.sort_by_key(|v| v.index);
        Ok(CheckReport::new(&self.model_name(), verdicts))
    }

    /// The scenarios checked, each compared with the model as written, when that ran too
    /// (`results` from [`CheckPlan::run`]); `None` when it did not.
    pub fn scenario_report(&self, source: &ModelSource, results: &[RunResult]) -> Option<ScenarioReport> {
        let base = self.targets.iter().position(|t| t.name.is_none())?;
        let scenarios = self
            .targets
            .iter()
            .zip(results)
            .filter_map(|(t, r)| {
                t.name
                    .as_ref()
                    .map(|name| (name.clone(), source.scenario_description(name), r.clone()))
            })
            .collect();
        Some(ScenarioReport::compared(results[base].clone(), scenarios))
    }
}
