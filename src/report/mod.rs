//! Renderings of a [`crate::results::RunResult`]: a terminal summary, JSON and CSV. Each reads the
//! merged result only, never the live simulation.

pub mod cascade;
pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markup;
pub mod plot;
pub mod sweep;
pub mod table;
mod text_table;

/// Write `contents` to `path` atomically: to a temporary file beside it, then renamed, so an
/// interrupted run never leaves a truncated file under the final name. `-` writes to stdout.
pub fn write_output(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(contents.as_bytes())?;
        return out.flush();
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(contents.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
