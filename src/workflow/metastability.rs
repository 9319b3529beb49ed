//! `capsim metastability` as a workflow: read the triggers to explore (the model's
//! `metastability.triggers`, or one family per kind of component it has), check them on the
//! model before anything runs, then for the baseline and each scenario map where each trigger
//! tips the system over ([`crate::analysis::tip_over`] decides which sizes to try; this module
//! runs them), how far the offered load must fall to bring it back, and which loops keep it down.
//!
//! Every trial is the model with its own timed actions replaced by the trigger's (bursts stay:
//! they are traffic), run with the replications the search asks for; replication r of every
//! trial shares its random numbers with replication r of every other (common random numbers),
//! so sizes are compared on the same luck. Its metastability verdict (see
//! [`crate::results::metastability`]) says which replications tipped over.

use super::{Runner, WorkflowError};
use crate::analysis::metastability_map::{
    show_size, sustained_by, MetastabilityMap, RecoveryLoad, RunMap, ShortestLowering, TriggerCurve, TriggerMap,
};
use crate::analysis::tip_over::{search, Boundary, Curve, Decision, Replications, Scale, Tally};
use crate::model::spec::ModelSpec;
use crate::model::units::{format_secs_exact, nanos_to_secs, parse_duration};
use crate::model::values::{DurationValue, PositiveInt};
use crate::model::{Arrivals, Model, Step};
use crate::results::RunResult;
use crate::scenario::{Change, ModelSource, Variant};
use serde_json::{json, Value};

/// Replications a trigger size is judged with first.
pub const FIRST_REPLICATIONS: u32 = 8;
/// Most replications a trigger size is judged with, unless the model says otherwise.
pub const MAX_REPLICATIONS: u32 = 32;
/// Windows a trigger starts after the warm-up when the model says nothing (the verdict needs a
/// baseline before it; 7 windows or more keep its persistence at 3).
pub const LEAD_WINDOWS: u64 = 10;
/// Fewest windows before a trigger.
pub const MIN_LEAD_WINDOWS: u64 = 3;
/// Fewest windows the run must go on after a trigger ends, to see whether it came back.
pub const TAIL_WINDOWS: u64 = 10;
/// Windows between the end of a trigger and the load being lowered (the failure has set in).
pub const LOWER_AFTER_WINDOWS: u64 = 2;
/// Windows the load stays lowered.
pub const LOWER_FOR_WINDOWS: u64 = 5;

/// What a trigger does and to what.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    /// The open clients' rates multiplied by the size.
    Spike {
        /// The clients.
        clients: Vec<String>,
    },
    /// The size added to every round trip over a link.
    Latency {
        /// "a -> b".
        link: String,
    },
    /// Every CPU step of a service costs the size times more.
    Slowdown {
        /// The service.
        service: String,
    },
    /// The size's count of a database's cores taken for the duration.
    Cores {
        /// The database.
        database: String,
    },
    /// Instances of a service down for the size (a duration).
    Down {
        /// The service.
        service: String,
        /// How many instances.
        instances: u32,
    },
}

impl TriggerKind {
    /// "spike", "latency", "slowdown", "cores" or "down".
    pub fn name(&self) -> &'static str {
        match self {
            TriggerKind::Spike { .. } => "spike",
            TriggerKind::Latency { .. } => "latency",
            TriggerKind::Slowdown { .. } => "slowdown",
            TriggerKind::Cores { .. } => "cores",
            TriggerKind::Down { .. } => "down",
        }
    }

    /// How its size is read.
    pub fn scale(&self) -> Scale {
        match self {
            TriggerKind::Spike { .. } | TriggerKind::Slowdown { .. } => Scale::Factor,
            TriggerKind::Latency { .. } | TriggerKind::Down { .. } => Scale::Seconds,
            TriggerKind::Cores { .. } => Scale::Count,
        }
    }

    /// What it hits, for reports.
    pub fn target(&self) -> String {
        match self {
            TriggerKind::Spike { clients } => clients.join(", "),
            TriggerKind::Latency { link } => link.clone(),
            TriggerKind::Slowdown { service } => service.clone(),
            TriggerKind::Cores { database } => database.clone(),
            TriggerKind::Down { service, instances: 1 } => format!("1 instance of {service}"),
            TriggerKind::Down { service, instances } => format!("{instances} instances of {service}"),
        }
    }

    /// The timed actions of this trigger at `size`, starting at `at_s` and lasting `for_s` (the
    /// size itself for `down`).
    pub fn actions(&self, at_s: f64, size: f64, for_s: Option<f64>) -> Vec<Value> {
        let at = format_secs_exact(at_s);
        let lasts = format_secs_exact(for_s.unwrap_or(size));
        match self {
            TriggerKind::Spike { clients } => clients
                .iter()
                .map(|c| json!({ "at": at, "for": lasts, "scale_traffic": { "client": c, "factor": size } }))
                .collect(),
            TriggerKind::Latency { link } => {
                vec![json!({ "at": at, "for": lasts, "add_latency": { "link": link, "latency": format_secs_exact(size) } })]
            }
            TriggerKind::Slowdown { service } => {
                vec![json!({ "at": at, "for": lasts, "rollout": { "service": service, "cpu_factor": size } })]
            }
            TriggerKind::Cores { database } => vec![json!({
                "at": at, "for": lasts,
                "inject": { "database": database, "queries": size.round() as u64, "cost": lasts }
            })],
            TriggerKind::Down { service, instances } => vec![json!({
                "at": at, "crash": { "service": service, "instances": instances, "restart": format_secs_exact(size) }
            })],
        }
    }
}

/// One trigger to explore: what it does, the sizes, how long it lasts.
#[derive(Clone, Debug)]
pub struct TriggerPlan {
    /// Its name.
    pub name: String,
    /// What it does.
    pub kind: TriggerKind,
    /// The smallest size tried (equal to `largest` for one size).
    pub smallest: f64,
    /// The largest size tried.
    pub largest: f64,
    /// How long it lasts, seconds: one curve each (`[None]` for `down`).
    pub lasts_s: Vec<Option<f64>>,
}

impl TriggerPlan {
    /// The name claims and reports use for its curve lasting `lasts`: the trigger's own, with
    /// the duration when it has several ("spike_30s").
    pub fn label(&self, lasts: Option<f64>) -> String {
        match lasts {
            Some(s) if self.lasts_s.len() > 1 => format!("{}_{}", self.name, format_secs_exact(s)),
            _ => self.name.clone(),
        }
    }
}

/// What to map.
#[derive(Clone, Debug, Default)]
pub struct MapPlan {
    /// The metric watched (default: the model's `metastability.metric`).
    pub metric: Option<String>,
    /// The triggers (default: the model's, else one family per kind of component).
    pub triggers: Option<Vec<TriggerPlan>>,
    /// Scenarios mapped besides the baseline.
    pub scenarios: Vec<String>,
    /// Replications a size is judged with first (default [`FIRST_REPLICATIONS`]).
    pub first_replications: Option<u32>,
    /// Most replications (default the model's `metastability.max_replications`, else
    /// [`MAX_REPLICATIONS`]).
    pub max_replications: Option<u32>,
    /// Map the boundaries only: no recovery load, no loop.
    pub boundaries_only: bool,
}

/// A duration in a trigger, in seconds, or a message naming what was expected.
fn seconds(value: &Value, at: &str) -> Result<f64, WorkflowError> {
    value
        .as_str()
        .and_then(|text| parse_duration(text).ok())
        .filter(|&ns| ns > 0)
        .map(nanos_to_secs)
        .ok_or_else(|| WorkflowError::Input(format!("{at}: expected a duration like \"30s\", got {value}")))
}

/// One size of a trigger, read in its scale.
fn size(value: &Value, scale: Scale, at: &str) -> Result<f64, WorkflowError> {
    match scale {
        Scale::Seconds => seconds(value, at),
        Scale::Factor => value
            .as_f64()
            .filter(|x| x.is_finite() && *x > 0.0 && *x <= 1e6)
            .ok_or_else(|| {
                WorkflowError::Input(format!(
                    "{at}: expected a factor (a number above 0 and at most 1000000, e.g. 3), got {value}"
                ))
            }),
        Scale::Count | Scale::Share => value
            .as_u64()
            .filter(|&n| (1..=1_000_000).contains(&n))
            .map(|n| n as f64)
            .ok_or_else(|| WorkflowError::Input(format!("{at}: expected a whole number from 1 to 1000000, got {value}"))),
    }
}

/// The triggers the model lists under `metastability.triggers`, checked against `model`.
fn listed(triggers: &serde_json::Map<String, Value>, model: &Model) -> Result<Vec<TriggerPlan>, WorkflowError> {
    let mut plans = Vec::new();
    for (name, t) in triggers {
        let at = format!("metastability.triggers.{name}");
        let bad = |what: String| WorkflowError::Input(format!("{at}.{what}"));
        let kinds = ["spike", "latency", "slowdown", "cores", "down"];
        let given: Vec<&str> = kinds.iter().copied().filter(|k| t.get(*k).is_some()).collect();
        let [kind] = given.as_slice() else {
            return Err(WorkflowError::Input(format!(
                "{at}: expected exactly one of \"spike\", \"latency\", \"slowdown\", \"cores\", \"down\", got {}",
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(", ")
                }
            )));
        };
        let body = &t[*kind];
        let named = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let kind = match *kind {
            "spike" => {
                let open: Vec<&str> = open_clients(model);
                let clients: Vec<String> = match body.get("clients").and_then(Value::as_array) {
                    Some(list) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                    None => open.iter().map(|c| c.to_string()).collect(),
                };
                if clients.is_empty() {
                    return Err(bad("spike: the model has no open client to multiply".into()));
                }
                if let Some(c) = clients.iter().find(|c| !open.contains(&c.as_str())) {
                    return Err(bad(format!(
                        "spike.clients: no open client named \"{c}\" (open clients, load tests left out: {})",
                        open.join(", ")
                    )));
                }
                TriggerKind::Spike { clients }
            }
            "latency" => {
                let link = named("link");
                let found = model.links.iter().find(|l| same_link(l, &link));
                let Some(found) = found else {
                    return Err(bad(format!(
                        "latency.link: no link \"{link}\" in the model (links: {})",
                        if model.links.is_empty() {
                            "none".to_string()
                        } else {
                            model.links.join(", ")
                        }
                    )));
                };
                TriggerKind::Latency { link: found.clone() }
            }
            "slowdown" => {
                let service = named("service");
                known(
                    &service,
                    model.services.iter().map(|s| s.name.as_str()),
                    "slowdown.service",
                    "service",
                    &at,
                )?;
                TriggerKind::Slowdown { service }
            }
            "cores" => {
                let database = named("database");
                known(
                    &database,
                    model.databases.iter().map(|d| d.name.as_str()),
                    "cores.database",
                    "database",
                    &at,
                )?;
                TriggerKind::Cores { database }
            }
            _ => {
                let service = named("service");
                known(
                    &service,
                    model.services.iter().map(|s| s.name.as_str()),
                    "down.service",
                    "service",
                    &at,
                )?;
                let of = model.services.iter().find(|s| s.name == service).map_or(1, |s| s.instances);
                let instances = body.get("instances").and_then(Value::as_u64).unwrap_or(1) as u32;
                if instances > of {
                    return Err(bad(format!(
                        "down.instances: {service} has {of} instance(s), got {instances}"
                    )));
                }
                TriggerKind::Down { service, instances }
            }
        };
        let scale = kind.scale();
        let (smallest, largest) = match &t["size"] {
            Value::Array(range) => match range.as_slice() {
                [a, b] => (
                    size(a, scale, &format!("{at}.size[0]"))?,
                    size(b, scale, &format!("{at}.size[1]"))?,
                ),
                _ => {
                    return Err(bad(format!(
                        "size: expected one size or [smallest, largest], got {}",
                        t["size"]
                    )))
                }
            },
            Value::Null => return Err(bad("size: expected one size or [smallest, largest]".into())),
            one => {
                let x = size(one, scale, &format!("{at}.size"))?;
                (x, x)
            }
        };
        if smallest > largest {
            return Err(bad("size: expected [smallest, largest] in increasing order".into()));
        }
        if let TriggerKind::Cores { database } = &kind {
            let cores = model.databases.iter().find(|d| &d.name == database).map_or(1, |d| d.cores);
            if largest > f64::from(cores) {
                return Err(bad(format!("size: {database} has {cores} cores, got {largest}")));
            }
        }
        let lasts_s = match (&kind, t.get("for")) {
            (TriggerKind::Down { .. }, None) => vec![None],
            (TriggerKind::Down { .. }, Some(_)) => {
                return Err(bad("for: a down trigger's size is how long it lasts: remove \"for\"".into()))
            }
            (_, None) => {
                return Err(bad(
                    "for: expected how long the trigger lasts, e.g. \"30s\" or [\"30s\", \"5m\"]".into(),
                ))
            }
            (_, Some(Value::Array(list))) if !list.is_empty() => list
                .iter()
                .enumerate()
                .map(|(i, v)| seconds(v, &format!("{at}.for[{i}]")).map(Some))
                .collect::<Result<_, _>>()?,
            (_, Some(one)) => vec![Some(seconds(one, &format!("{at}.for"))?)],
        };
        plans.push(TriggerPlan {
            name: name.clone(),
            kind,
            smallest,
            largest,
            lasts_s,
        });
    }
    Ok(plans)
}

/// Whether link name `a` is `b` written either way round.
fn same_link(a: &str, b: &str) -> bool {
    let ends = |s: &str| -> Option<(String, String)> {
        let (x, y) = s.split_once("->")?;
        Some((x.trim().to_string(), y.trim().to_string()))
    };
    match (ends(a), ends(b)) {
        (Some((a1, a2)), Some((b1, b2))) => (a1 == b1 && a2 == b2) || (a1 == b2 && a2 == b1),
        _ => false,
    }
}

/// A name that must be one of `names`.
fn known<'a>(name: &str, names: impl Iterator<Item = &'a str>, key: &str, what: &str, at: &str) -> Result<(), WorkflowError> {
    let names: Vec<&str> = names.collect();
    if names.contains(&name) {
        Ok(())
    } else {
        Err(WorkflowError::Input(format!(
            "{at}.{key}: no {what} named \"{name}\" ({what}s: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )))
    }
}

/// The model's open clients (real traffic, not load tests).
fn open_clients(model: &Model) -> Vec<&str> {
    model
        .clients
        .iter()
        .filter(|c| matches!(c.arrivals, Arrivals::Open { .. }) && !c.synthetic)
        .map(|c| c.name.as_str())
        .collect()
}

/// One family per kind of component the model has: a load spike on the open clients (×1.5 to
/// ×10, for 30 s and 5 min), added latency on each link the model writes in its `links`
/// (`written`; 10 ms to 10 s, for 5 min), cores taken
/// from each database (1 to all, for 5 min), one instance down of each service that has several
/// (30 s to 30 min). Durations that would not leave [`TAIL_WINDOWS`] before the end are left out.
fn defaults(model: &Model, written: &[&str], at_s: f64) -> Vec<TriggerPlan> {
    let room = nanos_to_secs(model.duration_ns) - at_s - TAIL_WINDOWS as f64 * nanos_to_secs(model.window_ns);
    let fits = |list: &[f64]| -> Vec<Option<f64>> { list.iter().copied().filter(|&s| s <= room).map(Some).collect() };
    let mut plans = Vec::new();
    let open: Vec<String> = open_clients(model).into_iter().map(str::to_string).collect();
    if !open.is_empty() {
        plans.push(TriggerPlan {
            name: "spike".into(),
            kind: TriggerKind::Spike { clients: open },
            smallest: 1.5,
            largest: 10.0,
            lasts_s: fits(&[30.0, 300.0]),
        });
    }
    for link in model.links.iter().filter(|l| written.iter().any(|w| same_link(l, w))) {
        plans.push(TriggerPlan {
            name: format!("latency {link}"),
            kind: TriggerKind::Latency { link: link.clone() },
            smallest: 0.01,
            largest: 10.0,
            lasts_s: fits(&[300.0]),
        });
    }
    for d in &model.databases {
        plans.push(TriggerPlan {
            name: format!("cores {}", d.name),
            kind: TriggerKind::Cores {
                database: d.name.clone(),
            },
            smallest: 1.0,
            largest: f64::from(d.cores),
            lasts_s: fits(&[300.0]),
        });
    }
    for s in model.services.iter().filter(|s| s.instances > 1) {
        if room >= 30.0 {
            plans.push(TriggerPlan {
                name: format!("down {}", s.name),
                kind: TriggerKind::Down {
                    service: s.name.clone(),
                    instances: 1,
                },
                smallest: 30.0,
                largest: room.min(1800.0),
                lasts_s: vec![None],
            });
        }
    }
    plans.retain(|p| !p.lasts_s.is_empty());
    plans
}

/// Mechanisms in `model` that can amplify work once it is overloaded: call sites that retry,
/// message queues that redeliver, services that keep working for callers who gave up.
pub fn mechanisms(model: &Model) -> Vec<String> {
    let mut found = Vec::new();
    for c in &model.clients {
        if c.call.retry.attempts > 1 {
            found.push(format!("client {} retries ({} attempts)", c.name, c.call.retry.attempts));
        }
    }
    let mut waited_with_timeout = vec![false; model.services.len()];
    let mut mark = |call: &crate::model::Call| {
        if call.timeout_ns.is_some() {
            waited_with_timeout[model.endpoints[call.target.0].service.0] = true;
        }
    };
    for c in &model.clients {
        mark(&c.call);
    }
    for q in &model.queues {
        mark(&q.call);
    }
    for e in &model.endpoints {
        for step in &e.steps {
            if let Step::Call(call) = step {
                mark(call);
                if call.retry.attempts > 1 {
                    found.push(format!("{} retries its calls ({} attempts)", e.name, call.retry.attempts));
                }
            }
        }
    }
    for q in &model.queues {
        if q.max_receives != Some(1) {
            found.push(format!("queue {} redelivers failed messages", q.name));
        }
    }
    for (s, timed) in model.services.iter().zip(waited_with_timeout) {
        if timed && s.on_caller_gone == crate::model::CallerGone::Finish {
            found.push(format!("{} keeps working for callers who gave up", s.name));
        }
    }
    found
}

/// A map whose triggers and scenarios have been checked on the model, ready to run.
pub struct PreparedMap<'s, C: Fn(&mut ModelSpec)> {
    source: &'s ModelSource,
    configure: C,
    model: Model,
    metric: String,
    at_s: f64,
    triggers: Vec<TriggerPlan>,
    runs: Vec<(Variant, Option<String>)>,
    replications: Replications,
    boundaries_only: bool,
}

/// Check `plan` on the model `source` (with `configure`, the caller's run settings, applied to
/// every run): a metric to watch, when the triggers start, each trigger with room after it, each
/// scenario known. Errors name the JSON path or flag and what was expected.
pub fn prepare<'s, C: Fn(&mut ModelSpec)>(
    source: &'s ModelSource,
    plan: &MapPlan,
    configure: C,
) -> Result<PreparedMap<'s, C>, WorkflowError> {
    let section = source.json().get("metastability");
    let metric = plan
        .metric
        .clone()
        .or_else(|| section.and_then(|m| m.get("metric")).and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| {
            WorkflowError::Input(format!(
                "{}: metastability.metric: the model watches no metric: add \"metastability\": {{\"metric\": \"…\"}} (e.g. \"search.utilisation\", \"website.p99\"), or give --metric",
                source.file
            ))
        })?;
    let watched = |spec: &mut ModelSpec| {
        configure(spec);
        spec.metastability.get_or_insert_with(Default::default).metric = metric.clone();
    };
    let model = source.baseline(watched)?.model;
    let window_s = nanos_to_secs(model.window_ns);
    let warmup_s = nanos_to_secs(model.warmup_ns);
    let duration_s = nanos_to_secs(model.duration_ns);
    let at_s = match section.and_then(|m| m.get("at")) {
        Some(at) => seconds(at, "metastability.at")?,
        None => model
            .actions
            .iter()
            .map(|a| nanos_to_secs(a.at_ns))
            .reduce(f64::min)
            .unwrap_or(warmup_s + LEAD_WINDOWS as f64 * window_s),
    };
    let lead = warmup_s + MIN_LEAD_WINDOWS as f64 * window_s;
    if at_s < lead - 1e-9 {
        return Err(WorkflowError::Input(format!(
            "metastability.at: the triggers start at {}, but the verdict needs {MIN_LEAD_WINDOWS} windows of baseline after the warm-up: start them at {} or later",
            format_secs_exact(at_s),
            format_secs_exact(lead)
        )));
    }
    let triggers = match (
        &plan.triggers,
        section.and_then(|m| m.get("triggers")).and_then(Value::as_object),
    ) {
        (Some(given), _) => given.clone(),
        (None, Some(listed_here)) => listed(listed_here, &model)?,
        (None, None) => {
            let written: Vec<&str> = source
                .json()
                .get("links")
                .and_then(Value::as_object)
                .map(|links| links.keys().map(String::as_str).filter(|k| *k != "default").collect())
                .unwrap_or_default();
            defaults(&model, &written, at_s)
        }
    };
    if triggers.is_empty() {
        return Err(WorkflowError::Input(
            "metastability.triggers: nothing to explore: the model has no open client, link, database or service with several instances, and lists no trigger".into(),
        ));
    }
    for t in &triggers {
        for lasts in &t.lasts_s {
            let end = at_s + lasts.unwrap_or(t.largest);
            let needed = end + TAIL_WINDOWS as f64 * window_s;
            if needed > duration_s + 1e-9 {
                return Err(WorkflowError::Input(format!(
                    "metastability.triggers.{}: the trigger ends at {} and the run at {}: the verdict needs {TAIL_WINDOWS} windows ({}) after it to see whether the system came back: make the duration at least {}, or the trigger shorter",
                    t.name,
                    format_secs_exact(end),
                    format_secs_exact(duration_s),
                    format_secs_exact(TAIL_WINDOWS as f64 * window_s),
                    format_secs_exact(needed.ceil())
                )));
            }
        }
    }
    let mut runs = vec![(
        Variant {
            name: "baseline".into(),
            changes: Vec::new(),
            actions: Vec::new(),
        },
        None,
    )];
    for name in &plan.scenarios {
        let mut variant = source.scenario_variant(name)?;
        variant.name = name.clone();
        runs.push((variant, source.scenario_description(name)));
    }
    let first = plan.first_replications.unwrap_or(FIRST_REPLICATIONS).max(1);
    let declared_cap = section
        .and_then(|m| m.get("max_replications"))
        .and_then(Value::as_u64)
        .map(|n| n as u32);
    let cap = plan.max_replications.or(declared_cap).unwrap_or(MAX_REPLICATIONS).max(first);
    let prepared = PreparedMap {
        source,
        configure,
        model,
        metric,
        at_s,
        triggers,
        runs,
        replications: Replications { first, cap },
        boundaries_only: plan.boundaries_only,
    };
    // Every trial must make a valid model: check each trigger at its largest size under every run.
    for (run, _) in &prepared.runs {
        for t in &prepared.triggers {
            let actions = t.kind.actions(at_s, t.largest, t.lasts_s[0]);
            prepared.model_of(run, actions, None, 1)?;
        }
    }
    Ok(prepared)
}

/// A simulation about to run, for progress lines.
#[derive(Clone, Debug)]
pub struct Trying {
    /// "baseline" or the scenario.
    pub run: String,
    /// What is tried: "spike_30s ×3.2", "load lowered to 40 % after spike_30s ×5".
    pub what: String,
    /// Replications it runs with.
    pub replications: u32,
}

/// Simulations and replications run so far.
#[derive(Default)]
struct Spent {
    simulations: u32,
    replications: u64,
}

impl<C: Fn(&mut ModelSpec)> PreparedMap<'_, C> {
    /// The triggers to explore.
    pub fn triggers(&self) -> &[TriggerPlan] {
        &self.triggers
    }

    /// Every trigger curve the map will have, as claims name them.
    pub fn labels(&self) -> Vec<crate::analysis::expect::MapLabel> {
        self.triggers
            .iter()
            .flat_map(|t| {
                t.lasts_s.iter().map(move |&lasts| crate::analysis::expect::MapLabel {
                    label: t.label(lasts),
                    one_size: t.smallest >= t.largest,
                    scale: t.kind.scale(),
                })
            })
            .collect()
    }

    /// `run` with the model's timed actions replaced by `actions`, `replications` of it, and
    /// (for loop measurements) statistics only over `observe` (from, to) seconds: the warm-up
    /// ends at `from`, the run at `to`.
    fn model_of(
        &self,
        run: &Variant,
        actions: Vec<Value>,
        observe: Option<(f64, f64)>,
        replications: u32,
    ) -> Result<(Model, Vec<String>), WorkflowError> {
        let mut variant = run.clone();
        variant.actions.clear();
        variant.changes.push(Change {
            path: "actions".into(),
            value: Value::Array(actions),
            origin: "capsim metastability".into(),
        });
        let window_ns = self.model.window_ns;
        let validated = self.source.variant_model(&variant, |spec| {
            (self.configure)(spec);
            spec.replications = Some(PositiveInt(replications));
            match observe {
                None => {
                    spec.metastability.get_or_insert_with(Default::default).metric = self.metric.clone();
                }
                Some((from, to)) => {
                    spec.metastability = None;
                    spec.warmup = Some(DurationValue((from * 1e9).round() as u64));
                    spec.duration = Some(DurationValue((to * 1e9).round() as u64));
                    spec.window = Some(DurationValue(window_ns));
                }
            }
        })?;
        let warnings = super::warnings(&validated);
        Ok((validated.model, warnings))
    }

    /// Run one trial and count it.
    fn simulate(&self, runner: &Runner, spent: &mut Spent, model: &Model, warnings: &[String]) -> Result<RunResult, String> {
        let result = runner.run(model, warnings);
        spent.simulations += 1;
        spent.replications += u64::from(model.replications);
        if runner.interrupted() {
            return Err("interrupted: the map stopped before it ended".into());
        }
        Ok(result)
    }

    /// What the replications of `actions` under `run` did.
    fn tally(
        &self,
        runner: &Runner,
        spent: &mut Spent,
        run: &Variant,
        actions: Vec<Value>,
        replications: u32,
    ) -> Result<Tally, String> {
        let (model, warnings) = self.model_of(run, actions, None, replications).map_err(|e| e.to_string())?;
        let result = self.simulate(runner, spent, &model, &warnings)?;
        let m = result.metastability.as_ref();
        let coverage = &result.verdict.replications;
        let unhealthy = m.map_or(0, |m| {
            m.replications
                .iter()
                .filter(|r| r.status == crate::results::metastability::Status::BaselineUnhealthy)
                .count() as u32
        });
        Ok(Tally {
            replications,
            judged: m.map_or(0, |m| m.judged),
            tipped: m.map_or(0, |m| m.tipped),
            stopped: if result.verdict.complete {
                (coverage.cut_short.len() + coverage.not_started.len()) as u32
            } else {
                // Cut short or unstable (more in flight than the model allows): not judged.
                replications.saturating_sub(m.map_or(0, |m| m.judged) + unhealthy)
            },
            unhealthy,
        })
    }

    /// Map every trigger under the baseline and each scenario with `runner`, calling `progress`
    /// before each simulation.
    pub fn run(&self, runner: &Runner, mut progress: impl FnMut(&Trying)) -> MetastabilityMap {
        let mut spent = Spent::default();
        let mut runs = Vec::new();
        let mut stopped = None;
        'runs: for (run, description) in &self.runs {
            let mut map = RunMap {
                run: run.name.clone(),
                description: description.clone(),
                without_trigger: None,
                triggers: Vec::new(),
                recovery: None,
                sustained_by: Vec::new(),
                notes: Vec::new(),
            };
            let open: Vec<String> = open_clients(&self.model).into_iter().map(str::to_string).collect();
            if !open.is_empty() {
                // The control: every replication judged from the same time, nothing changed.
                let nothing = TriggerKind::Spike { clients: open };
                let lasts = nanos_to_secs(self.model.window_ns);
                let control = crate::analysis::tip_over::judge(1.0, self.replications, &mut |size, n| {
                    progress(&Trying {
                        run: run.name.clone(),
                        what: "without a trigger".into(),
                        replications: n,
                    });
                    self.tally(runner, &mut spent, run, nothing.actions(self.at_s, size, Some(lasts)), n)
                });
                match control {
                    Ok(point) => map.without_trigger = Some(point),
                    Err(why) => {
                        stopped = Some(why);
                        runs.push(map);
                        break 'runs;
                    }
                }
            }
            for t in &self.triggers {
                let mut tmap = TriggerMap {
                    name: t.name.clone(),
                    kind: t.kind.name().into(),
                    target: t.kind.target(),
                    scale: t.kind.scale(),
                    curves: Vec::new(),
                };
                for &lasts in &t.lasts_s {
                    let label = t.label(lasts);
                    // A trial that fails (the runs were interrupted) ends the search there, the
                    // sizes tried so far kept.
                    let mut interrupted = None;
                    let curve = search(t.smallest, t.largest, t.kind.scale(), self.replications, |size, n| {
                        progress(&Trying {
                            run: run.name.clone(),
                            what: format!("{label} {}", show_size(t.kind.scale(), size)),
                            replications: n,
                        });
                        let actions = t.kind.actions(self.at_s, size, lasts);
                        self.tally(runner, &mut spent, run, actions, n)
                            .inspect_err(|why| interrupted = Some(why.clone()))
                    });
                    tmap.curves.push(TriggerCurve {
                        label,
                        for_s: lasts,
                        curve,
                    });
                    if let Some(why) = interrupted {
                        stopped = Some(why);
                        map.triggers.push(tmap);
                        runs.push(map);
                        break 'runs;
                    }
                }
                map.triggers.push(tmap);
            }
            // Still down at the end with nothing that could keep it down: a backlog draining.
            let loops = self
                .model_of(run, Vec::new(), None, 1)
                .map(|(m, _)| mechanisms(&m))
                .unwrap_or_default();
            let tipped = map
                .triggers
                .iter()
                .flat_map(|t| &t.curves)
                .any(|c| c.curve.boundary.tipping_size().is_finite());
            if loops.is_empty() && tipped {
                map.notes.push(format!(
                    "what \"tips over\" here is still worse when the run ends ({} after the longest trigger), but nothing in this run's model can keep a failure going (no retry, redelivery or work for callers who gave up): it is a backlog still draining, not a failure that stays; lengthen the run to see it come back",
                    crate::model::units::format_duration_f64(
                        nanos_to_secs(self.model.duration_ns)
                            - self.at_s
                            - self.triggers.iter().flat_map(|t| t.lasts_s.iter().map(|l| l.unwrap_or(t.largest))).fold(0.0, f64::max)
                    )
                ));
            }
            if self.boundaries_only {
                runs.push(map);
                continue;
            }
            if let Err(why) = self.aftermath(runner, &mut spent, run, &mut map, &mut progress) {
                stopped = Some(why);
                runs.push(map);
                break;
            }
            runs.push(map);
        }
        MetastabilityMap {
            model: self.model.name.clone(),
            metric: self.metric.clone(),
            at_s: self.at_s,
            window_s: nanos_to_secs(self.model.window_ns),
            first_replications: self.replications.first,
            max_replications: self.replications.cap,
            runs,
            simulations: spent.simulations,
            replications_simulated: spent.replications,
            stopped,
            mechanisms: mechanisms(&self.model),
        }
    }

    /// For a run where some trigger tipped the system over: how far the load must fall to bring
    /// it back, and which loops keep it down.
    fn aftermath(
        &self,
        runner: &Runner,
        spent: &mut Spent,
        run: &Variant,
        map: &mut RunMap,
        progress: &mut impl FnMut(&Trying),
    ) -> Result<(), String> {
        // The first trigger curve that tipped: at its smallest size decided to tip, else its
        // boundary's tipping size.
        let tipping = self.triggers.iter().zip(&map.triggers).find_map(|(plan, t)| {
            t.curves.iter().zip(&plan.lasts_s).find_map(|(c, &lasts)| {
                let decided = c.curve.points.iter().find(|p| p.decision == Decision::Tips).map(|p| p.size);
                let size = decided.or_else(|| Some(c.curve.boundary.tipping_size()).filter(|s| s.is_finite()))?;
                Some((plan, c.label.clone(), lasts, size))
            })
        });
        let Some((plan, label, lasts, size)) = tipping else {
            map.notes.push("no trigger tipped it over: nothing to recover from".into());
            return Ok(());
        };
        let scale = plan.kind.scale();
        let after = format!("{label} at {}", show_size(scale, size));
        let window_s = nanos_to_secs(self.model.window_ns);
        let trigger_end = self.at_s + lasts.unwrap_or(size);
        let trigger = plan.kind.actions(self.at_s, size, lasts);
        // Where the loops run: from two windows after the trigger ended to the end, against the
        // same replications before the trigger (from the warm-up to a window before it).
        let observe_from = trigger_end + LOWER_AFTER_WINDOWS as f64 * window_s;
        progress(&Trying {
            run: run.name.clone(),
            what: format!("what keeps it down after {after}"),
            replications: self.replications.first,
        });
        let measure = |actions: Vec<Value>, observe: (f64, f64), spent: &mut Spent| -> Result<RunResult, String> {
            let (model, warnings) = self
                .model_of(run, actions, Some(observe), self.replications.first)
                .map_err(|e| e.to_string())?;
            self.simulate(runner, spent, &model, &warnings)
        };
        let duration_s = nanos_to_secs(self.model.duration_ns);
        let down = measure(trigger.clone(), (observe_from, duration_s), spent)?;
        // The baseline windows end one window before the trigger (a burst at the trigger time
        // is the trigger's, not the baseline's).
        let warmup_s = nanos_to_secs(self.model.warmup_ns);
        let before = (self.at_s - window_s).max(warmup_s + window_s).min(self.at_s);
        let normal = measure(Vec::new(), (warmup_s, before), spent)?;
        map.sustained_by = sustained_by(&down, &normal);
        if map.sustained_by.is_empty() {
            map.notes.push(format!(
                "after {after}: no retry, redelivery or work for callers who gave up rose while it was down"
            ));
        }
        // Recovery load: the open clients' load lowered for a while, two windows after the end.
        let open = open_clients(&self.model);
        let lowered_for = LOWER_FOR_WINDOWS as f64 * window_s;
        let lower_at = trigger_end + LOWER_AFTER_WINDOWS as f64 * window_s;
        let needed = lower_at + lowered_for + TAIL_WINDOWS as f64 * window_s;
        if open.is_empty() {
            map.notes.push("no open client: the offered load cannot be lowered".into());
            return Ok(());
        }
        if needed > nanos_to_secs(self.model.duration_ns) + 1e-9 {
            map.notes.push(format!(
                "recovery load not measured: lowering the load after {after} needs the run to last at least {}",
                format_secs_exact(needed.ceil())
            ));
            return Ok(());
        }
        let lowered = |share: f64, for_s: f64| -> Vec<Value> {
            let mut actions = trigger.clone();
            actions.extend(open.iter().map(|c| {
                json!({
                    "at": format_secs_exact(lower_at), "for": format_secs_exact(for_s),
                    "scale_traffic": { "client": c, "factor": share }
                })
            }));
            actions
        };
        let mut interrupted = None;
        let curve: Curve = search(0.0, 1.0, Scale::Share, self.replications, |share, n| {
            progress(&Trying {
                run: run.name.clone(),
                what: format!("load lowered to {} after {after}", show_size(Scale::Share, share)),
                replications: n,
            });
            self.tally(runner, spent, run, lowered(share, lowered_for), n)
                .inspect_err(|why| interrupted = Some(why.clone()))
        });
        if let Some(why) = interrupted {
            return Err(why);
        }
        // For how long: at the largest share that brought it back, the shortest lowering (whole
        // windows) that still does; none lowered is the trigger alone, which tipped it over.
        let mut shortest = None;
        if let Boundary::Between { holds: share, .. } = curve.boundary {
            let (mut enough, mut too_short) = (LOWER_FOR_WINDOWS, 0);
            let mut points = Vec::new();
            while enough - too_short > 1 {
                let mid = (enough + too_short) / 2;
                let for_s = mid as f64 * window_s;
                let point = crate::analysis::tip_over::judge(for_s, self.replications, &mut |_, n| {
                    progress(&Trying {
                        run: run.name.clone(),
                        what: format!(
                            "load lowered to {} for {} after {after}",
                            show_size(Scale::Share, share),
                            format_secs_exact(for_s)
                        ),
                        replications: n,
                    });
                    self.tally(runner, spent, run, lowered(share, for_s), n)
                })?;
                if point.tips() {
                    too_short = mid;
                } else {
                    enough = mid;
                }
                points.push(point);
            }
            points.sort_by(|a, b| a.size.total_cmp(&b.size));
            shortest = Some(ShortestLowering {
                share,
                enough_s: enough as f64 * window_s,
                too_short_s: (too_short > 0).then_some(too_short as f64 * window_s),
                points,
            });
        }
        map.recovery = Some(RecoveryLoad {
            after,
            lowered_after_s: lower_at - trigger_end,
            lowered_for_s: lowered_for,
            curve,
            shortest,
        });
        Ok(())
    }
}
