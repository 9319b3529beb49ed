//! A sweep as a workflow: plan the grid over a model (every point validated before any runs,
//! the memory a sweep keeps checked), run each point, collect the typed points, and finish
//! them into a [`FinishedSweep`] — or, for one shard, into a [`ShardFile`]; and read shard files
//! back and merge them.

use super::{Runner, WorkflowError};
use crate::analysis::fingerprint::{model_hash, Fingerprint, CAPSIM_VERSION};
use crate::analysis::sweep::{breaches, finish, merge, FinishedSweep, ShardFile, SweepHeader, SweepPoint};
use crate::model::spec::ModelSpec;
use crate::model::units::nanos_to_secs;
use crate::model::{Model, Validated};
use crate::results::metric::resolve;
use crate::results::RunResult;
use crate::scenario::sweep::{grid, parse_values, Shard, SweptParam};
use crate::scenario::{ModelSource, Variant};
use serde_json::Value;

/// What to sweep: the parameters (the first outermost in the grid), the scenario it runs on
/// top of, the metric whose knee is sought, and the knee's threshold.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The swept paths and their values.
    pub params: Vec<SweptParam>,
    /// The scenario every point runs on top of ("a,b" combines); `None` for the model as written.
    pub scenario: Option<String>,
    /// The metric, e.g. "api.checkout.p99"; `None` for the first client's p99 (or the first
    /// endpoint's).
    pub metric: Option<String>,
    /// How far worse than its low-load trend the metric must be to make a knee (a share: 0.1 is
    /// 10 %).
    pub threshold: f64,
}

/// A sweep the model declares in its `sweeps` section, its parameters' values parsed; the
/// scenario, metric and threshold as written (a caller may override them before planning).
#[derive(Clone, Debug)]
pub struct DeclaredSweep {
    /// The swept paths and their values.
    pub params: Vec<SweptParam>,
    /// The scenario it runs on top of, if the model names one.
    pub scenario: Option<String>,
    /// The metric whose knee is sought, if the model names one.
    pub metric: Option<String>,
    /// The knee's threshold as written ("10%"), if the model gives one.
    pub threshold: Option<String>,
}

/// The names of the sweeps the model declares, in the order written.
pub fn declared_names(source: &ModelSource) -> Vec<String> {
    let sweeps = source.json().get("sweeps").and_then(Value::as_object);
    sweeps.map(|s| s.keys().cloned().collect()).unwrap_or_default()
}

/// The sweep the model declares as `name`; `None` when it declares no sweep of that name. A
/// parameter whose values cannot be read is refused naming its path
/// (`sweeps.NAME.params."PATH"`).
pub fn declared(source: &ModelSource, name: &str) -> Result<Option<DeclaredSweep>, WorkflowError> {
    let Some(spec) = source.json().get("sweeps").and_then(|s| s.get(name)) else {
        return Ok(None);
    };
    let mut params = Vec::new();
    for (path, values) in spec.get("params").and_then(Value::as_object).into_iter().flatten() {
        let values =
            parse_values(values).map_err(|why| WorkflowError::Input(format!("sweeps.{name}.params.\"{path}\": {why}")))?;
        params.push(SweptParam {
            path: path.clone(),
            values,
        });
    }
    let text = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(Some(DeclaredSweep {
        params,
        scenario: text("scenario"),
        metric: text("metric"),
        threshold: text("threshold"),
    }))
}

/// A point of the grid, validated and ready to run.
struct PlannedPoint {
    values: Vec<Value>,
    name: String,
    validated: Validated,
}

/// A sweep whose every point is validated, ready to run (see [`prepare`]).
pub struct PreparedSweep {
    header: SweepHeader,
    points: Vec<PlannedPoint>,
    shard: Option<Shard>,
}

/// A point about to run, for progress lines.
#[derive(Clone, Copy, Debug)]
pub struct PointStart<'a> {
    /// Its position in the grid (0-based).
    pub index: usize,
    /// Points in the whole grid.
    pub total: usize,
    /// Its variant's name (the scenario and the values).
    pub name: &'a str,
    /// Its model's validation warnings.
    pub warnings: &'a [String],
}

/// The points a sweep (or one shard of it) ran, with the header that says what it ran.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// What the sweep ran.
    pub header: SweepHeader,
    /// The points run, in grid order (a shard's own points only).
    pub points: Vec<SweepPoint>,
    /// The shard run, or `None` for the whole sweep.
    pub shard: Option<Shard>,
}

/// Plan the sweep `plan` over the model `source`, with `configure` applied to every point's
/// model (run settings given by the caller), for the whole grid or one `shard`: every point is
/// made and validated before any runs (a bad value fails fast), and a sweep whose points'
/// results would not fit in the model's `limits.max_memory` is refused (a shard keeps only its
/// own points).
pub fn prepare(
    source: &ModelSource,
    plan: &SweepPlan,
    shard: Option<Shard>,
    configure: impl Fn(&mut ModelSpec),
) -> Result<PreparedSweep, WorkflowError> {
    let base = match &plan.scenario {
        Some(name) => source.scenario_variant(name)?,
        None => Variant {
            name: String::new(),
            changes: Vec::new(),
            actions: Vec::new(),
        },
    };
    let grid = grid(&plan.params, &base, "--param").map_err(WorkflowError::Input)?;
    let points = grid
        .into_iter()
        .map(|(values, variant)| {
            Ok(PlannedPoint {
                validated: source.variant_model(&variant, &configure)?,
                values,
                name: variant.name,
            })
        })
        .collect::<Result<Vec<_>, WorkflowError>>()?;
    // Every point's result is kept until the sweep is written: refuse a sweep that cannot fit.
    let here = (0..points.len()).filter(|&i| shard.is_none_or(|s| s.owns(i))).count();
    if let Some(largest) = points
        .iter()
        .map(|p| &p.validated.model)
        .max_by_key(|m| crate::model::memory::sweep_point(m))
    {
        if let Some(why) = crate::model::memory::sweep_refusal(largest, here, largest.max_memory) {
            return Err(WorkflowError::Input(format!("{}: limits.max_memory: {why}", source.file)));
        }
    }
    let paths: Vec<String> = plan.params.iter().map(|p| p.path.clone()).collect();
    let first = points.first().map(|p| &p.validated.model);
    let header = SweepHeader {
        schema_version: crate::results::SCHEMA_VERSION,
        model: first.map(|m| m.name.clone()).unwrap_or_default(),
        scenario: base.name.clone(),
        params: paths.clone(),
        metric: plan.metric.clone().unwrap_or_default(),
        threshold: plan.threshold,
        total_points: points.len(),
        round_trips: first
            .map(|m| crate::analysis::ladder::round_trips(m, &crate::analysis::ladder::swept_links(&paths)))
            .unwrap_or_default()
            .into_iter()
            .collect(),
        fingerprint: match first {
            Some(m) => Some(Fingerprint {
                model_hash: model_hash(&source.variant_json(&base)?),
                seed: m.seed,
                replications: m.replications,
                duration_s: nanos_to_secs(m.duration_ns),
                warmup_s: nanos_to_secs(m.warmup_ns),
                window_s: nanos_to_secs(m.window_ns),
                max_events: m.max_events,
                grid: plan.params.iter().map(|p| p.values.clone()).collect(),
                capsim_version: CAPSIM_VERSION.to_string(),
            }),
            None => None,
        },
    };
    Ok(PreparedSweep { header, points, shard })
}

impl PreparedSweep {
    /// The model of every point of the grid, in grid order (to size a thread pool by).
    pub fn models(&self) -> Vec<&Model> {
        self.points.iter().map(|p| &p.validated.model).collect()
    }

    /// Points in the whole grid.
    pub fn total_points(&self) -> usize {
        self.points.len()
    }

    /// Run every point of the sweep (or of its shard) with `runner`, in grid order, calling
    /// `starting` before each; the metric (when the plan named none: the first client's p99, or
    /// the first endpoint's) must be one the results have.
    pub fn run(self, runner: &Runner, mut starting: impl FnMut(PointStart)) -> Result<SweepRun, WorkflowError> {
        let PreparedSweep {
            mut header,
            points,
            shard,
        } = self;
        let total = points.len();
        let mut metric = (!header.metric.is_empty()).then(|| header.metric.clone());
        let mut run = Vec::new();
        for (index, point) in points.into_iter().enumerate() {
            if shard.is_some_and(|s| !s.owns(index)) {
                continue;
            }
            let warnings = super::warnings(&point.validated);
            starting(PointStart {
                index,
                total,
                name: &point.name,
                warnings: &warnings,
            });
            let result = runner.run(&point.validated.model, &warnings);
            let name = metric.get_or_insert_with(|| default_metric(&result)).clone();
            let estimate = resolve(&result, &name)
                .map_err(|why| WorkflowError::Input(format!("metric: {why}")))?
                .estimate;
            run.push(SweepPoint {
                index,
                values: point.values,
                metric: estimate,
                slos_breached: breaches(&result),
                result,
            });
        }
        header.metric = metric.unwrap_or_default();
        Ok(SweepRun {
            header,
            points: run,
            shard,
        })
    }
}

impl SweepRun {
    /// Whether every point ran to its end (no bound of the run cut one short).
    pub fn complete(&self) -> bool {
        self.points.iter().all(|p| p.result.verdict.complete)
    }

    /// The complete sweep with its verdicts (see [`finish`]).
    pub fn finish(self) -> FinishedSweep {
        finish(self.header, self.points)
    }

    /// The shard's file, for [`merge_files`] (a whole sweep is shard "1/1").
    pub fn into_shard_file(self) -> ShardFile {
        let shard = self.shard.unwrap_or(Shard { index: 1, count: 1 });
        ShardFile {
            header: self.header,
            shard: format!("{}/{}", shard.index, shard.count),
            points: self.points,
        }
    }
}

/// The metric a sweep follows when none is named: the first client's p99, or the first
/// endpoint's.
pub fn default_metric(result: &RunResult) -> String {
    result
        .clients
        .first()
        .map(|c| format!("{}.p99", c.name))
        .or_else(|| result.endpoints.first().map(|e| format!("{}.p99", e.name)))
        .unwrap_or_default()
}

/// Read the shard files at `paths` (written by a sweep's shards) and merge them into the
/// complete sweep (see [`merge`]): a file that cannot be read, is not JSON, or writes a key
/// twice is refused naming it.
pub fn merge_files(paths: &[std::path::PathBuf]) -> Result<FinishedSweep, WorkflowError> {
    let mut shards = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let text = crate::model::load::read_input(&name).map_err(|e| WorkflowError::Input(format!("cannot read {name}: {e}")))?;
        if let Some(duplicate) = crate::model::duplicate_keys::duplicate_keys(&text).first() {
            return Err(WorkflowError::Input(format!("{name}: {}", duplicate.diagnostic())));
        }
        let json: Value = serde_json::from_str(&text).map_err(|e| WorkflowError::Input(format!("{name}: not JSON: {e}")))?;
        shards.push((name, json));
    }
    merge(&shards).map_err(WorkflowError::Input)
}
