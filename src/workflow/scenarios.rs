//! The baseline and its scenarios as a workflow: make every variant (all validated before any
//! runs), run the model as written and then each scenario with the same seeds, and compare each
//! with the baseline ([`crate::analysis::compare`]: paired by replication, common random
//! numbers).

use super::{Runner, WorkflowError};
use crate::analysis::compare::ScenarioReport;
use crate::model::spec::ModelSpec;
use crate::model::{Model, Validated};
use crate::scenario::ModelSource;

/// A scenario of the model, made and validated.
struct PlannedScenario {
    name: String,
    description: Option<String>,
    validated: Validated,
}

/// The model as written and the scenarios to compare with it, each validated (see [`prepare`]).
pub struct ScenarioPlan {
    baseline: Validated,
    scenarios: Vec<PlannedScenario>,
}

/// Make the model as written and each scenario `names` names ("a,b" applies a and b together),
/// with `configure` applied to each (run settings given by the caller): every one is validated
/// before any runs.
pub fn prepare(
    source: &ModelSource,
    names: &[String],
    configure: impl Fn(&mut ModelSpec),
) -> Result<ScenarioPlan, WorkflowError> {
    let baseline = source.baseline(&configure)?;
    let mut scenarios = Vec::new();
    for name in names {
        let variant = source.scenario_variant(name)?;
        let validated = source.variant_model(&variant, &configure)?;
        scenarios.push(PlannedScenario {
            name: variant.name,
            description: source.scenario_description(name),
            validated,
        });
    }
    Ok(ScenarioPlan { baseline, scenarios })
}

impl ScenarioPlan {
    /// Every model to run, the baseline first (to size a thread pool by).
    pub fn models(&self) -> Vec<&Model> {
        std::iter::once(&self.baseline.model)
            .chain(self.scenarios.iter().map(|s| &s.validated.model))
            .collect()
    }

    /// How many scenarios are compared with the baseline.
    pub fn scenario_count(&self) -> usize {
        self.scenarios.len()
    }

    /// Every run, the baseline first: its name (`None` for the baseline) and its model.
    pub fn runs(&self) -> impl Iterator<Item = (Option<&str>, &Model)> {
        std::iter::once((None, &self.baseline.model))
            .chain(self.scenarios.iter().map(|s| (Some(s.name.as_str()), &s.validated.model)))
    }

    /// The validation warnings of run `index` (0 the baseline, then each scenario).
    pub fn warnings_of(&self, index: usize) -> Vec<String> {
        match index {
            0 => super::warnings(&self.baseline),
            i => super::warnings(&self.scenarios[i - 1].validated),
        }
    }

    /// Run the baseline, then each scenario, with `runner`, calling `starting` with each run's
    /// name (`None` for the baseline) and validation warnings before it runs; every scenario is
    /// compared with the baseline.
    pub fn run(&self, runner: &Runner, mut starting: impl FnMut(Option<&str>, &[String])) -> ScenarioReport {
        let report = self.try_each_run(|index, model, warnings| {
            starting(self.runs().nth(index).and_then(|(name, _)| name), warnings);
            Ok::<_, std::convert::Infallible>(runner.run(model, warnings))
        });
        match report {
            Ok(report) => report,
            Err(never) => match never {},
        }
    }

    /// The report made from each run's result as `result` gives it (run index, model, warnings),
    /// in order, the baseline first; every scenario compared with the baseline.
    pub fn try_each_run<E>(
        &self,
        mut result: impl FnMut(usize, &Model, &[String]) -> Result<crate::results::RunResult, E>,
    ) -> Result<ScenarioReport, E> {
        let baseline = result(0, &self.baseline.model, &self.warnings_of(0))?;
        let mut runs = Vec::new();
        for (i, s) in self.scenarios.iter().enumerate() {
            let run = result(i + 1, &s.validated.model, &self.warnings_of(i + 1))?;
            runs.push((s.name.clone(), s.description.clone(), run));
        }
        Ok(ScenarioReport::compared(baseline, runs))
    }
}
