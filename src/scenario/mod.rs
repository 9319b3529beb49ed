//! What-if scenarios: a model read once as JSON, and variants of it made by applying changes by
//! path ([`overlay`]). Every variant is parsed and validated like a written model.

pub mod overlay;
pub mod shard;
pub mod sweep;

/// The model without its trigger: no timed actions, no bursts. Run with the same seed, its
/// replications share every random stream with the model's (streams are named per component),
/// so up to the trigger the two runs are identical — the common random numbers a metastability
/// verdict under a load profile compares against. `None` when the model has no trigger.
pub fn without_trigger(model: &crate::model::Model) -> Option<crate::model::Model> {
    model.trigger_s()?;
    let mut calm = model.clone();
    calm.actions.clear();
    for q in &mut calm.queues {
        q.bursts.clear();
    }
    Some(calm)
}

use crate::model::load::{parse_spec, parse_spec_value};
use crate::model::validate::validate;
use crate::model::{Diagnostic, ModelError, Validated};
use serde_json::Value;

/// A model file as read: its text (for errors with line and column) and its JSON.
#[derive(Clone)]
pub struct ModelSource {
    /// The file name as given, for messages.
    pub file: String,
    text: String,
    json: Value,
}

/// A named set of changes to apply to the baseline.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Its name in reports ("db-10ms-away", "a+b", "links.api -> pg.latency.add=3ms").
    pub name: String,
    /// (path, value) changes in order, each labelled with where it was written for errors.
    pub changes: Vec<Change>,
    /// Timed actions added to the model's own (as written in the scenarios).
    pub actions: Vec<Value>,
}

/// One change: a path (maybe ending in `.add`/`.scale`), a value, and where it came from.
#[derive(Clone, Debug)]
pub struct Change {
    /// The path.
    pub path: String,
    /// The value set, added or multiplied by.
    pub value: Value,
    /// Where the change was written, for messages (`scenarios.x.set`, `--param`).
    pub origin: String,
}

impl ModelSource {
    /// Read the model file at `path`.
    pub fn read(path: &str) -> Result<ModelSource, ModelError> {
        let text = crate::model::load::read_input(path).map_err(|source| ModelError::Io {
            file: path.to_string(),
            source,
        })?;
        ModelSource::from_text(text, path)
    }

    /// A model from its JSON text; `file` names it in messages.
    pub fn from_text(text: String, file: &str) -> Result<ModelSource, ModelError> {
        // Parsing the spec first reports syntax and value errors with line and column.
        parse_spec(&text, file)?;
        let json = serde_json::from_str(&text).map_err(|e| ModelError::Invalid {
            file: file.to_string(),
            diagnostics: vec![Diagnostic {
                path: String::new(),
                message: e.to_string(),
            }],
        })?;
        Ok(ModelSource {
            file: file.to_string(),
            text,
            json,
        })
    }

    /// The model file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The model's JSON as written.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The baseline model, validated, after `edit` of its parsed form (command-line overrides).
    pub fn baseline(&self, edit: impl Fn(&mut crate::model::spec::ModelSpec)) -> Result<Validated, ModelError> {
        let mut spec = parse_spec(&self.text, &self.file)?;
        edit(&mut spec);
        validate(&spec).map_err(|diagnostics| self.invalid(diagnostics))
    }

    /// The names of the scenarios declared in the model, in order.
    pub fn scenario_names(&self) -> Vec<String> {
        self.json
            .get("scenarios")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// What the named scenarios represent, as their descriptions say (`"a,b"`: both, joined by
    /// " + "); None when none has a description.
    pub fn scenario_description(&self, combined: &str) -> Option<String> {
        let texts: Vec<&str> = combined
            .split(',')
            .filter_map(|name| self.json.get("scenarios")?.get(name.trim())?.get("description")?.as_str())
            .collect();
        (!texts.is_empty()).then(|| texts.join(" + "))
    }

    /// The variant made of the named scenarios applied one after another (`"a,b"` combines).
    pub fn scenario_variant(&self, combined: &str) -> Result<Variant, ModelError> {
        let mut changes = Vec::new();
        let mut actions = Vec::new();
        let names: Vec<&str> = combined.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        for name in &names {
            let Some(set) = self.json.get("scenarios").and_then(|s| s.get(*name)) else {
                let known = self.scenario_names();
                return Err(self.invalid(vec![Diagnostic {
                    path: "scenarios".into(),
                    message: format!(
                        "no scenario named \"{name}\" (scenarios: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                }]));
            };
            actions.extend(set.get("actions").and_then(Value::as_array).into_iter().flatten().cloned());
            if let Some(map) = set.get("set").and_then(Value::as_object) {
                for (path, value) in map {
                    changes.push(Change {
                        path: path.clone(),
                        value: value.clone(),
                        origin: format!("scenarios.{name}.set"),
                    });
                }
            }
        }
        Ok(Variant {
            name: names.join("+"),
            changes,
            actions,
        })
    }

    /// The model with `variant`'s changes applied, then `edit` (command-line overrides), validated.
    pub fn variant_model(
        &self,
        variant: &Variant,
        edit: impl Fn(&mut crate::model::spec::ModelSpec),
    ) -> Result<Validated, ModelError> {
        let json = self.variant_json(variant)?;
        let file = format!("{} (scenario {})", self.file, variant.name);
        let mut spec = parse_spec_value(json, &file)?;
        edit(&mut spec);
        validate(&spec).map_err(|diagnostics| ModelError::Invalid { file, diagnostics })
    }

    /// The model with `changes` made to it first (`--set PATH=VALUE` on the command line): every
    /// scenario, sweep and sizing then starts from it. A change whose path the model does not have
    /// is refused naming it; a value the model cannot take is refused at its JSON path.
    pub fn with_changes(&self, changes: &[Change]) -> Result<ModelSource, ModelError> {
        if changes.is_empty() {
            return Ok(self.clone());
        }
        let json = self.variant_json(&Variant {
            name: "--set".into(),
            changes: changes.to_vec(),
            actions: Vec::new(),
        })?;
        let text = serde_json::to_string_pretty(&json).map_err(|e| {
            self.invalid(vec![Diagnostic {
                path: String::new(),
                message: e.to_string(),
            }])
        })?;
        let file = format!("{} (with --set)", self.file);
        ModelSource::from_text(text, &file)
    }

    /// The model's JSON with `variant`'s changes and timed actions applied (before parsing).
    pub fn variant_json(&self, variant: &Variant) -> Result<Value, ModelError> {
        let mut json = self.json.clone();
        for change in &variant.changes {
            overlay::apply_change(&mut json, &change.path, &change.value).map_err(|message| {
                self.invalid(vec![Diagnostic {
                    path: format!("{}.\"{}\"", change.origin, change.path),
                    message,
                }])
            })?;
        }
        if !variant.actions.is_empty() {
            if let Some(model) = json.as_object_mut() {
                let list = model.entry("actions").or_insert_with(|| Value::Array(Vec::new()));
                if let Some(list) = list.as_array_mut() {
                    list.extend(variant.actions.iter().cloned());
                }
            }
        }
        Ok(json)
    }

    fn invalid(&self, diagnostics: Vec<Diagnostic>) -> ModelError {
        ModelError::Invalid {
            file: self.file.clone(),
            diagnostics,
        }
    }
}
