//! The JSON Schema of the model format, generated from the serde types.

use super::spec::ModelSpec;

/// The JSON Schema (draft 2020-12) describing a capsim model file.
pub fn model_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ModelSpec);
    schema.to_value()
}
