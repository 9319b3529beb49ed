//! A model's expectations as a workflow (`capsim check`): read the claims written in the model
//! (`"expect": [...]`), make every run they need — the model as written and each scenario an
//! expectation names, once each — check every claim's metric and bound before anything runs,
//! run them, and judge each claim ([`crate::analysis::expect`]).

use super::{Runner, WorkflowError};
use crate::analysis::compare::ScenarioReport;
use crate::analysis::expect::{evaluate, read_expectations, CheckReport, Comparison, Expectation};
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
    expectations: Vec<Expectation>,
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
    let expectations = read_expectations(&expect, &source.scenario_names()).map_err(|d| invalid(source, d))?;
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
        targets,
        runs,
    })
}

impl CheckPlan {
    /// How many expectations the model writes.
    pub fn expectation_count(&self) -> usize {
        self.expectations.len()
    }

    /// The model of every run, in run order (to size a thread pool by).
    pub fn models(&self) -> Vec<&Model> {
        self.targets.iter().map(|t| &t.validated.model).collect()
    }

    /// The model's name.
    pub fn model_name(&self) -> String {
        self.targets
            .first()
            .map(|t| t.validated.model.name.clone())
            .unwrap_or_default()
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
    /// claims against the model as written; `source` names the file in errors.
    pub fn judge(&self, source: &ModelSource, results: &[RunResult]) -> Result<CheckReport, WorkflowError> {
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
