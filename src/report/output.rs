//! Where outputs go, and writing them without harm. A file output (`--json FILE`) is a regular
//! file written atomically (a temporary file beside it, then renamed), a character device or a
//! pipe written into (`/dev/null`, `/dev/stdout`, a FIFO), or `-` for stdout; a symbolic link is
//! followed and its target written, so the link stays a link. Nothing that is not a regular file
//! is ever replaced. A directory output (`--csv DIR`, `--report DIR`) is written as one set: into
//! a fresh sibling directory, then swapped in, so a reader sees all the old files or all the new.
//!
//! [`check_file`] and [`check_dir`] say before anything is simulated whether a target can be
//! written, so a typo does not cost an hour of simulation.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file stems capsim writes into a directory (`summary.csv`, `latency-2-far.svg`, …).
const OWN_STEMS: &[&str] = &[
    "report",
    "results",
    "summary",
    "timeseries",
    "cascade",
    "sweep",
    "latency",
    "stations",
    "storm",
    "caches",
    "scenarios",
    "ladder",
    "sizing",
    "metastability",
    "calibration",
    "topology",
];

/// The extensions of the files capsim writes into a directory.
const OWN_EXTENSIONS: &[&str] = &["html", "json", "csv", "svg", "png"];

/// What kind of thing a path names, when it is not a regular file or a directory.
fn special_kind(meta: &fs::Metadata) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    let _ = meta;
    None
}

/// A character device (`/dev/null`) or a named pipe: written into, never replaced.
fn written_into(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        kind.is_char_device() || kind.is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Nothing there: not found, or a path through a file (`a-file/out`), which the parent check
/// then names.
fn missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// The directory a path's file goes in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether files can be created in `dir`: tried for real (permissions, read-only mounts, root).
fn probe_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".capsim-probe-{}", std::process::id()));
    match fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("cannot create files in {}: {e}", dir.display())),
    }
}

/// The directory that must exist and be writable for `path` (missing) to be created in it.
fn check_parent(path: &Path) -> Result<(), String> {
    let parent = parent_of(path);
    match fs::metadata(&parent) {
        Ok(meta) if meta.is_dir() => probe_writable(&parent),
        Ok(_) => Err(format!("{} is not a directory", parent.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!("the directory {} does not exist", parent.display())),
        Err(e) => Err(format!("cannot reach {}: {e}", parent.display())),
    }
}

/// A missing directory is created with its missing parents: the nearest one that exists must
/// be a directory we can create files in.
fn check_ancestor(dir: &Path) -> Result<(), String> {
    let mut ancestor = parent_of(dir);
    loop {
        match fs::metadata(&ancestor) {
            Ok(meta) if meta.is_dir() => return probe_writable(&ancestor),
            Ok(_) => return Err(format!("{} is not a directory", ancestor.display())),
            Err(e) if missing(&e) && ancestor != Path::new(".") => match ancestor.parent() {
                Some(up) if !up.as_os_str().is_empty() => ancestor = up.to_path_buf(),
                _ => ancestor = PathBuf::from("."),
            },
            Err(e) => return Err(format!("cannot reach {}: {e}", ancestor.display())),
        }
    }
}

/// Check that a file output can be written, before anything is simulated: `-` (stdout), a new
/// file in an existing writable directory, a regular file there, a character device or pipe,
/// or a symbolic link to one of those. Returns why not otherwise.
pub fn check_file(path: &Path) -> Result<(), String> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    if path.as_os_str().is_empty() {
        return Err("expected a file name".into());
    }
    let link = fs::symlink_metadata(path);
    let meta = match (&link, fs::metadata(path)) {
        (Err(e), _) if missing(e) => return check_parent(path),
        (Err(e), _) => return Err(format!("cannot reach it: {e}")),
        (Ok(_), Err(e)) if e.kind() == io::ErrorKind::NotFound => {
            return Err("is a symbolic link to a file that does not exist: create it or remove the link".into())
        }
        (Ok(_), Err(e)) => return Err(format!("cannot reach it: {e}")),
        (Ok(_), Ok(meta)) => meta,
    };
    if meta.is_dir() {
        return Err("is a directory: give a file name".into());
    }
    if let Some(kind) = special_kind(&meta) {
        return Err(format!(
            "is {kind}: capsim writes regular files, character devices (like /dev/null) and pipes"
        ));
    }
    if written_into(&meta) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            // A pipe is opened when written (opening it waits for a reader); a device now.
            if meta.file_type().is_char_device() {
                fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| format!("cannot be opened for writing: {e}"))?;
            }
        }
        return Ok(());
    }
    let target = fs::canonicalize(path).map_err(|e| format!("cannot reach it: {e}"))?;
    check_parent(&target)
}

/// Write `contents` to stdout; a closed pipe (`capsim … --json - | head`) is not an error.
fn write_stdout(contents: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(contents.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Write `contents` to the file output `path` (see the module documentation): stdout for `-`,
/// into a character device or pipe, the target of a symbolic link, else a regular file replaced
/// atomically. A full disk (ENOSPC, `/dev/full`) is an error, as is anything else that would
/// lose the contents.
pub fn write_file(path: &Path, contents: &str) -> io::Result<()> {
    if path.as_os_str() == "-" {
        return write_stdout(contents);
    }
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    match fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => {
            return Err(io::Error::other("is a directory"));
        }
        Ok(meta) if written_into(&meta) => {
            let mut device = fs::OpenOptions::new().write(true).open(&target)?;
            device.write_all(contents.as_bytes())?;
            return device.flush();
        }
        Ok(meta) => {
            if let Some(kind) = special_kind(&meta) {
                return Err(io::Error::other(format!("is {kind}, not a regular file")));
            }
        }
        Err(_) => {}
    }
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let written = fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(contents.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| fs::rename(&tmp, &target)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Whether `name` is a file capsim writes into an output directory (or a temporary one it left).
pub fn is_own_file(name: &str) -> bool {
    if name.starts_with('.') && name.contains(".tmp-") {
        return true;
    }
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return false;
    };
    if !OWN_EXTENSIONS.contains(&extension) {
        return false;
    }
    OWN_STEMS.iter().any(|own| {
        stem == *own
            || stem
                .strip_prefix(own)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| {
                    // "-N-slug": a scenario's file.
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    digits > 0 && rest[digits..].starts_with('-')
                })
    })
}

/// The absolute form of a directory output, whether it exists or not (links followed).
pub fn absolute_dir(dir: &Path) -> Option<PathBuf> {
    if let Ok(path) = fs::canonicalize(dir) {
        return Some(path);
    }
    let parent = fs::canonicalize(parent_of(dir)).ok()?;
    Some(parent.join(dir.file_name()?))
}

/// Check that a directory output can be written, before anything is simulated: not `-`, a new
/// directory (created with its missing parents) under a writable one, or an existing directory that holds only files capsim
/// writes (it is replaced as a whole, so files of anyone else are refused, never deleted), and
/// not the current directory or one above it.
pub fn check_dir(dir: &Path) -> Result<(), String> {
    if dir.as_os_str() == "-" {
        return Err("a directory of several files cannot go to stdout (\"-\"): give a directory name".into());
    }
    if dir.as_os_str().is_empty() {
        return Err("expected a directory name".into());
    }
    let meta = match (fs::symlink_metadata(dir), fs::metadata(dir)) {
        (Err(e), _) if missing(&e) => return check_ancestor(dir),
        (Ok(_), Err(e)) if e.kind() == io::ErrorKind::NotFound => {
            return Err("is a symbolic link to a directory that does not exist: create it or remove the link".into())
        }
        (Err(e), _) | (Ok(_), Err(e)) => return Err(format!("cannot reach it: {e}")),
        (Ok(_), Ok(meta)) => meta,
    };
    if !meta.is_dir() {
        return Err("exists and is not a directory: give a directory name".into());
    }
    let target = fs::canonicalize(dir).map_err(|e| format!("cannot reach it: {e}"))?;
    if let Ok(here) = std::env::current_dir().and_then(fs::canonicalize) {
        if here.starts_with(&target) {
            return Err(
                "is the current directory or holds it: capsim replaces an output directory as a whole, give a new one".into(),
            );
        }
    }
    foreign_files(&target).map_err(|e| e.to_string())?;
    check_parent(&target)
}

/// Fails naming the entries of `dir` that are not files capsim writes: such a directory is not
/// capsim's to replace.
fn foreign_files(dir: &Path) -> io::Result<()> {
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if !regular || !is_own_file(&name) {
            foreign.push(name);
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown: Vec<String> = foreign.iter().take(5).map(|n| format!("\"{n}\"")).collect();
    let more = if foreign.len() > 5 {
        format!(" and {} more", foreign.len() - 5)
    } else {
        String::new()
    };
    Err(io::Error::other(format!(
        "holds files capsim did not write ({}{more}); capsim replaces an output directory as a whole: give an empty or new one",
        shown.join(", ")
    )))
}

/// Write a set of files into `dir` as one: `fill` writes them into a fresh sibling directory,
/// which then takes `dir`'s place (an atomic exchange where the system has one), and the old
/// directory is removed. `dir` is created if missing (with its parents); a symbolic link to
/// a directory is followed; an existing directory holding anything capsim does not write is
/// refused, never emptied. Returns what `fill` returned and the staging directory it wrote in.
pub fn write_dir<R>(dir: &Path, fill: impl FnOnce(&Path) -> io::Result<R>) -> io::Result<(R, PathBuf)> {
    if dir.as_os_str() == "-" {
        return Err(io::Error::other("a directory cannot go to stdout"));
    }
    let exists = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => return Err(io::Error::other("exists and is not a directory")),
        Err(_) => false,
    };
    let target = if exists { fs::canonicalize(dir)? } else { dir.to_path_buf() };
    if exists {
        // Never delete what someone else put there.
        foreign_files(&target)?;
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::other("expected a directory name"))?;
    if !exists {
        fs::create_dir_all(parent_of(&target))?;
    }
    let staging = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir(&staging)?;
    let filled = match fill(&staging) {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let swapped = if exists {
        exchange(&staging, &target).and_then(|()| {
            // `staging` now holds the old set.
            fs::remove_dir_all(&staging)
        })
    } else {
        fs::rename(&staging, &target)
    };
    if let Err(e) = swapped {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    Ok((filled, staging))
}

/// Swap two directories: atomically with Linux's `renameat2(RENAME_EXCHANGE)`, else by moving
/// the old one aside (a reader may then briefly find no directory, never a mix).
fn exchange(new: &Path, old: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
        let (a, b) = (c(new)?, c(old)?);
        // SAFETY: two valid NUL-terminated paths; the call reads them and nothing else.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if !matches!(
            e.raw_os_error(),
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
        ) {
            return Err(e);
        }
    }
    let aside = old.with_file_name(format!(
        ".{}.old-{}",
        old.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    fs::rename(old, &aside)?;
    if let Err(e) = fs::rename(new, old) {
        let _ = fs::rename(&aside, old);
        return Err(e);
    }
    // Leave the old set where the caller removes it.
    fs::rename(&aside, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsims_own_file_names_are_recognised_and_others_are_not() {
        for own in [
            "report.html",
            "results.json",
            "summary.csv",
            "summary-2-db-10ms-away.csv",
            "latency-1-x.png",
            "sweep.svg",
            "topology.svg",
            "sizing.csv",
            "metastability.png",
            "calibration.csv",
            ".report.html.tmp-12",
        ] {
            assert!(is_own_file(own), "{own}");
        }
        for other in [
            "notes.txt",
            "summary.txt",
            "summaryx.csv",
            "summary-x.csv",
            "my.png",
            "src",
            "report",
        ] {
            assert!(!is_own_file(other), "{other}");
        }
    }
}
