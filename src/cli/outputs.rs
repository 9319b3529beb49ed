//! Every output of a command checked before anything is simulated: a typo in `--json` must not
//! cost an hour of simulation. Names the flag and says what is wrong.

use super::CliError;
use crate::report::output::{absolute_dir, check_dir, check_file};
use std::path::{Path, PathBuf};

/// The outputs one command was given: files (`--json FILE`, `-` for stdout) and directories
/// (`--csv DIR`, `--report DIR`), each with its flag.
#[derive(Default)]
pub struct Outputs<'a> {
    files: Vec<(&'static str, &'a Path)>,
    dirs: Vec<(&'static str, &'a Path)>,
}

impl<'a> Outputs<'a> {
    /// A file output, when given.
    pub fn file(mut self, flag: &'static str, path: Option<&'a PathBuf>) -> Self {
        self.files.extend(path.map(|p| (flag, p.as_path())));
        self
    }

    /// A directory output, when given.
    pub fn dir(mut self, flag: &'static str, path: Option<&'a PathBuf>) -> Self {
        self.dirs.extend(path.map(|p| (flag, p.as_path())));
        self
    }

    /// Check every target: each can be written, at most one goes to stdout, and none lies in a
    /// directory output (which is replaced as a whole).
    pub fn check(&self) -> Result<(), CliError> {
        let bad = |flag: &str, path: &Path, why: String| CliError::Argument(format!("{flag} {}: {why}", path.display()));
        for (flag, path) in &self.files {
            check_file(path).map_err(|why| bad(flag, path, why))?;
        }
        for (flag, path) in &self.dirs {
            check_dir(path).map_err(|why| bad(flag, path, why))?;
        }
        let to_stdout: Vec<&str> = self
            .files
            .iter()
            .filter(|(_, p)| p.as_os_str() == "-")
            .map(|(flag, _)| *flag)
            .collect();
        if to_stdout.len() > 1 {
            return Err(CliError::Argument(format!(
                "{} all write to stdout (\"-\"): only one output can, give the others a file",
                to_stdout.join(" and ")
            )));
        }
        let dirs: Vec<(&str, &Path, PathBuf)> = self
            .dirs
            .iter()
            .filter_map(|(flag, path)| absolute_dir(path).map(|abs| (*flag, *path, abs)))
            .collect();
        for (i, (flag, path, abs)) in dirs.iter().enumerate() {
            for (other_flag, other, other_abs) in &dirs[i + 1..] {
                if abs.starts_with(other_abs) || other_abs.starts_with(abs) {
                    return Err(CliError::Argument(format!(
                        "{flag} {} and {other_flag} {} overlap: each output directory is replaced as a whole, give them separate directories",
                        path.display(),
                        other.display()
                    )));
                }
            }
            for (file_flag, file) in &self.files {
                let inside = file.as_os_str() != "-"
                    && std::fs::canonicalize(file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
                        .is_ok_and(|parent| parent.starts_with(abs));
                if inside {
                    return Err(CliError::Argument(format!(
                        "{file_flag} {} is inside {flag} {}, which is replaced as a whole: write it elsewhere",
                        file.display(),
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }
}
