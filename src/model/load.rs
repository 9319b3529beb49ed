//! Reading a model from a file or a string: JSON parsing with paths, then validation.

use super::duplicate_keys::{duplicate_keys, DuplicateKey};
use super::error::{Diagnostic, ModelError};
use super::spec::ModelSpec;
use super::validate::{validate, Validated};

/// Largest input file capsim reads (a model, a shard, a CSV): 256 MiB. A model of a real system
/// is kilobytes; a sweep shard of 10,000 points with their series a few hundred megabytes at most.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Read the text of an input file, refusing one larger than [`MAX_INPUT_BYTES`] (or endless, like
/// /dev/zero) after reading at most that much.
pub fn read_input(path: &str) -> Result<String, std::io::Error> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB, the most capsim reads from one file",
            MAX_INPUT_BYTES / 1024 / 1024
        )));
    }
    Ok(text)
}

/// Read and validate the model in `path`.
pub fn load_model(path: &str) -> Result<Validated, ModelError> {
    let text = read_input(path).map_err(|source| ModelError::Io {
        file: path.to_string(),
        source,
    })?;
    parse_model(&text, path)
}

/// Parse and validate a model from JSON text; `file` names it in errors.
pub fn parse_model(text: &str, file: &str) -> Result<Validated, ModelError> {
    let spec = parse_spec(text, file)?;
    validate(&spec).map_err(|diagnostics| ModelError::Invalid {
        file: file.to_string(),
        diagnostics,
    })
}

/// Parse JSON text into the model format, naming the JSON path of the first bad value. A key
/// written twice in one object (at any depth, scenarios included) is an error naming both places.
pub fn parse_spec(text: &str, file: &str) -> Result<ModelSpec, ModelError> {
    let first = text.trim_start();
    if first.is_empty() {
        return Err(ModelError::Parse {
            file: file.to_string(),
            diagnostic: Diagnostic {
                path: String::new(),
                message: "the file is empty: a model is a JSON object like {\"services\": {...}}".into(),
            },
            line: 1,
            column: 1,
        });
    }
    if !first.starts_with('{') {
        let line = text.len() - first.len();
        let line = text[..line].matches('\n').count() + 1;
        return Err(ModelError::Parse {
            file: file.to_string(),
            diagnostic: Diagnostic {
                path: String::new(),
                message: "a model is a JSON object: expected \"{\"".into(),
            },
            line,
            column: 1,
        });
    }
    // serde_json keeps the last of two equal keys: two services named "api" would become one.
    let duplicates = duplicate_keys(text);
    if !duplicates.is_empty() {
        return Err(ModelError::Invalid {
            file: file.to_string(),
            diagnostics: duplicates.iter().map(DuplicateKey::diagnostic).collect(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: ModelSpec = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = json_path(&err.path().to_string());
        let inner = err.into_inner();
        parse_error(file, path, &inner)
    })?;
    de.end().map_err(|err| parse_error(file, String::new(), &err))?;
    Ok(spec)
}

/// Turn JSON already in memory (a model with scenario changes applied) into the model format,
/// naming the JSON path of the first bad value (there is no line or column to give).
pub fn parse_spec_value(json: serde_json::Value, file: &str) -> Result<ModelSpec, ModelError> {
    serde_path_to_error::deserialize(json).map_err(|err| ModelError::Invalid {
        file: file.to_string(),
        diagnostics: vec![Diagnostic {
            path: json_path(&err.path().to_string()),
            message: readable(&err.into_inner().to_string()),
        }],
    })
}

/// A parse error with serde_json's own " at line L column C" suffix moved into fields.
fn parse_error(file: &str, path: String, err: &serde_json::Error) -> ModelError {
    let text = err.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let message = readable(&message);
    ModelError::Parse {
        file: file.to_string(),
        diagnostic: Diagnostic { path, message },
        line: err.line(),
        column: err.column(),
    }
}

/// serde's "expected struct ModelSpec with 14 elements" names an internal type: say "an object".
fn readable(message: &str) -> String {
    match message.find("expected struct ") {
        Some(i) => format!("{}expected a JSON object", &message[..i]),
        None => message.to_string(),
    }
}

/// serde_path_to_error writes "." for the root; the rest is already dotted with [i] indices.
fn json_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}
