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

    /// Run the baseline, then each scenario, with `runner`, calling `starting` with each run's
    /// name (`None` for the baseline) and validation warnings before it runs; every scenario is
    /// compared with the baseline.
    pub fn run(&self, runner: &Runner, mut starting: impl FnMut(Option<&str>, &[String])) -> ScenarioReport {
        let warnings = super::warnings(&self.baseline);
        starting(None, &warnings);
        let baseline = runner.run(&self.baseline.model, &warnings);
        let runs: Vec<_> = self
            .scenarios
            .iter()
            .map(|s| {
                let warnings = super::warnings(&s.validated);
                starting(Some(&s.name), &warnings);
                let result = runner.run(&s.validated.model, &warnings);
                (s.name.clone(), s.description.clone(), result)
            })
            .collect();
        ScenarioReport::compared(baseline, runs)
    }
}
