//! Renderings of a [`crate::results::RunResult`]: a terminal summary, JSON and CSV. Each reads the
//! merged result only, never the live simulation.

pub mod calibration;
pub mod cascade;
pub mod compare;
pub mod csv;
pub mod headline;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markup;
pub mod metastability;
pub mod output;
pub mod plot;
pub mod sections;
pub mod size;
pub mod sweep;
pub mod table;
mod text_table;
pub mod topology;

/// Write `contents` to `path` atomically: to a temporary file beside it, then renamed, so an
/// interrupted run never leaves a truncated file under the final name. `-` writes to stdout (a
/// closed pipe is not an error); a character device or pipe is written into and a symbolic link's
/// target is written, never replaced (see [`output`]).
pub fn write_output(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    output::write_file(path, contents)
}
