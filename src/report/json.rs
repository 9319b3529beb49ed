//! The full results as JSON: the documented, stable layout of [`crate::results::RunResult`].
//! Non-finite numbers (a percentile of no requests) are written as `null`.

/// Any result type as pretty-printed JSON with a trailing newline.
pub fn to_json<T: serde::Serialize>(result: &T) -> String {
    let mut text = serde_json::to_string_pretty(result).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
