//! Reading a model from a file or a string: JSON parsing with paths, then validation.

use super::error::{Diagnostic, ModelError};
use super::spec::ModelSpec;
use super::validate::{validate, Validated};

/// Read and validate the model in `path`.
pub fn load_model(path: &str) -> Result<Validated, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
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

/// Parse JSON text into the model format, naming the JSON path of the first bad value.
pub fn parse_spec(text: &str, file: &str) -> Result<ModelSpec, ModelError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: ModelSpec = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = json_path(&err.path().to_string());
        let inner = err.into_inner();
        parse_error(file, path, &inner)
    })?;
    de.end().map_err(|err| parse_error(file, String::new(), &err))?;
    Ok(spec)
}

/// A parse error with serde_json's own " at line L column C" suffix moved into fields.
fn parse_error(file: &str, path: String, err: &serde_json::Error) -> ModelError {
    let text = err.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    ModelError::Parse {
        file: file.to_string(),
        diagnostic: Diagnostic { path, message },
        line: err.line(),
        column: err.column(),
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
