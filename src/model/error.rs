//! Errors in a model: where (JSON path, line and column) and what was expected.

use thiserror::Error;

/// One problem found in a model, at a JSON path such as `services.api.workers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is: a dotted JSON path (`services.api.endpoints.checkout[1].call`).
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a model could not be loaded.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file name as given.
        file: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The text is not JSON, or a value has the wrong form.
    #[error("{file}: {diagnostic} (line {line}, column {column})")]
    Parse {
        /// The file name as given.
        file: String,
        /// Path and message.
        diagnostic: Diagnostic,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column of the offending text.
        column: usize,
    },
    /// The JSON is well-formed but the model does not hold together.
    #[error("{file}: {}", render_list(.diagnostics))]
    Invalid {
        /// The file name as given.
        file: String,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
}

/// One problem on the first line, others below it, each indented.
fn render_list(diagnostics: &[Diagnostic]) -> String {
    let mut text = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            text.push_str("\n  ");
        }
        text.push_str(&d.to_string());
    }
    text
}
