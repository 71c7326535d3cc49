//! Result folders written whole or not at all, replacing only what northbound wrote.
//!
//! A folder is written into a hidden sibling, `.NAME.partial-PID-N`, and moved into place
//! when complete. An existing folder is replaced only with `--force`, and only if northbound
//! wrote it and it holds nothing else: its `manifest.json` is northbound's and lists every
//! file in it, in its subfolders too (or it is empty). Replacing takes two renames, under a lock file
//! (`.NAME.lock`) so that two runs never interleave them: the old result goes to
//! `.NAME.old-PID-N`, the new one into place, and the old one is deleted. If the second
//! rename fails the old result is moved back; if the process dies in between, the next run
//! to that folder finds the old result with its owner gone and puts it back (or deletes it
//! if the new one made it). Partial folders and locks of processes that are gone are
//! removed the same way (where `/proc` tells which processes are alive).
//!
//! The folders being written are registered, so that an interrupted process
//! ([`interrupted`]) removes them before it exits.

use crate::util::error::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// A result folder being written: a hidden sibling of the target, moved into place by
/// [`Staged::commit`], removed if dropped before that.
pub struct Staged {
    pub tmp: PathBuf,
    target: PathBuf,
    force: bool,
    committed: bool,
    /// Folders made to hold it, removed with it if they are empty.
    made: Vec<PathBuf>,
    /// An earlier result was there when it was staged.
    replaces: bool,
}

/// What a process must remove if it is interrupted: folders being written, and the
/// folders made to hold them.
#[derive(Default)]
struct Registry {
    partial: Vec<PathBuf>,
    made: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    partial: Vec::new(),
    made: Vec::new(),
});

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn refused(target: &Path, message: impl Into<String>) -> Error {
    Error::Output {
        path: target.to_path_buf(),
        message: message.into(),
    }
}

/// Checks that `target` may be written (absent, or `force` and replaceable) and creates
/// the hidden folder to write into. Call it before the work, so that a refusal costs
/// nothing. Recovers what a process that died left next to `target` first.
pub fn stage(target: &Path, force: bool) -> Result<Staged> {
    let (parent, name) = split(target)?;
    if std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refused(
            target,
            "is a symbolic link: give the folder it points to, or another --out",
        ));
    }
    if parent.is_dir() {
        recover(&parent, &name, target);
    }
    if target.exists() && !force {
        return Err(refused(
            target,
            "already exists; pass --force to replace it, or write elsewhere with --out DIR",
        ));
    }
    let replaces = target.exists();
    if replaces {
        replaceable(target)?;
    }
    let mut reg = registry();
    let made = make_parents(&parent)?;
    let tmp = match unique(&parent, &name, "partial", |p| std::fs::create_dir(p)) {
        Ok(tmp) => tmp,
        Err(e) => {
            remove_made(&made);
            return Err(Error::write(&parent, e));
        }
    };
    reg.partial.push(tmp.clone());
    reg.made.extend(made.iter().cloned());
    Ok(Staged {
        tmp,
        target: target.to_path_buf(),
        force,
        committed: false,
        made,
        replaces,
    })
}

/// The folder that holds `target`, and `target`'s name.
fn split(target: &Path) -> Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| refused(target, "does not name a folder"))?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Creates `dir` and the folders above it that are missing; returns those it made, the
/// deepest first.
fn make_parents(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut d = dir.to_path_buf();
    while !d.as_os_str().is_empty() && !d.exists() {
        missing.push(d.clone());
        match d.parent() {
            Some(p) => d = p.to_path_buf(),
            None => break,
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    Ok(missing)
}

/// Removes the folders [`make_parents`] made, where they are empty.
fn remove_made(made: &[PathBuf]) {
    for d in made {
        let _ = std::fs::remove_dir(d);
    }
}

/// A new hidden sibling `.NAME.KIND-PID-N`, created by `make` (which fails if it exists).
fn unique(
    parent: &Path,
    name: &str,
    kind: &str,
    make: impl Fn(&Path) -> io::Result<()>,
) -> io::Result<PathBuf> {
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = parent.join(format!(".{name}.{kind}-{}-{n}", std::process::id()));
        match make(&p) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            other => return other.map(|()| p),
        }
    }
}

/// Every entry under `dir`, as paths relative to it joined by `/`: a file as `a/b.csv`, a
/// folder as `a/` followed by what it holds. Links are not followed (a link is listed as
/// itself, and is never a regular file).
fn listing(dir: &Path) -> io::Result<Vec<String>> {
    listing_to(dir, usize::MAX)
}

/// [`listing`] down to `depth` levels of folders (0: what `dir` itself holds).
fn listing_to(dir: &Path, depth: usize) -> io::Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<String>) -> io::Result<()> {
        let mut names: Vec<(String, bool)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| {
                let folder = e.file_type().is_ok_and(|t| t.is_dir());
                (e.file_name().to_string_lossy().into_owned(), folder)
            })
            .collect();
        names.sort();
        for (name, folder) in names {
            if folder {
                out.push(format!("{prefix}{name}/"));
                if depth > 0 {
                    walk(
                        &dir.join(&name),
                        &format!("{prefix}{name}/"),
                        depth - 1,
                        out,
                    )?;
                }
            } else {
                out.push(format!("{prefix}{name}"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", depth, &mut out)?;
    Ok(out)
}

/// A result may be replaced if it is empty, or if northbound wrote it and it holds nothing
/// else: its `manifest.json` is northbound's and lists every file in it, in its folders
/// too (`data/x.csv`).
fn replaceable(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(refused(dir, "exists and is not a folder"));
    }
    // What the folder itself holds first: a folder that is not northbound's (a home
    // folder given as --out, say) is refused without walking everything below it.
    let top = listing_to(dir, 0).map_err(|e| Error::write(dir, e))?;
    if top.is_empty() {
        return Ok(());
    }
    let shown = |names: &[String]| {
        let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
        let more = names.len().saturating_sub(8);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let Some(files) = manifest_files(&dir.join("manifest.json")) else {
        let why = if top.iter().any(|n| n == "manifest.json") {
            "its manifest.json is not northbound's"
        } else {
            "it has no manifest.json"
        };
        return Err(refused(
            dir,
            format!(
                "is not a result northbound wrote ({why}; it holds {}): refusing to replace it, even with --force",
                shown(&top)
            ),
        ));
    };
    let found = listing(dir).map_err(|e| Error::write(dir, e))?;
    // A folder is northbound's if it holds a listed file; a file if it is listed and a
    // regular file (not a link).
    let foreign: Vec<String> = found
        .into_iter()
        .filter(|n| match n.strip_suffix('/') {
            Some(_) => !files.iter().any(|f| f.starts_with(n.as_str())),
            None => {
                !files.contains(n)
                    || !std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_file())
            }
        })
        .collect();
    if !foreign.is_empty() {
        return Err(refused(
            dir,
            format!(
                "is an earlier northbound result that also holds what northbound did not write ({}): refusing to replace it, even with --force; move those elsewhere first",
                shown(&foreign)
            ),
        ));
    }
    Ok(())
}

/// The files a northbound `manifest.json` lists, if the file is one.
fn manifest_files(path: &Path) -> Option<Vec<String>> {
    let bytes = crate::util::files::read_regular(path, 16 << 20).ok()?;
    let m: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    m.get("northbound_version")?.as_str()?;
    m.get("command")?.as_str()?;
    m.get("files")?
        .as_array()?
        .iter()
        .map(|f| f.as_str().map(String::from))
        .collect()
}

/// The process id in a hidden sibling's name (`.NAME.KIND-PID` or `.NAME.KIND-PID-N`).
fn owner(file: &str, prefix: &str) -> Option<u32> {
    file.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

/// Whether a process is known to be gone: only where `/proc` can tell.
fn gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && !proc.join(pid.to_string()).exists()
}

/// Puts back or removes what processes that died left next to `target`: an old result moved
/// aside (back into place if `target` is missing, else deleted), partial folders, a lock.
fn recover(parent: &Path, name: &str, target: &Path) {
    let lock = parent.join(format!(".{name}.lock"));
    if let Some(pid) = lock_owner(&lock)
        && gone(pid)
    {
        let _ = std::fs::remove_file(&lock);
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let (old, partial) = (format!(".{name}.old-"), format!(".{name}.partial-"));
    let mut olds = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = owner(&file, &old) {
            if gone(pid) {
                olds.push(e.path());
            }
        } else if let Some(pid) = owner(&file, &partial)
            && gone(pid)
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    olds.sort();
    for o in olds {
        if !target.exists() && std::fs::rename(&o, target).is_ok() {
            continue;
        }
        let _ = std::fs::remove_dir_all(&o);
    }
}

fn lock_owner(lock: &Path) -> Option<u32> {
    std::fs::read_to_string(lock).ok()?.trim().parse().ok()
}

/// Holds `.NAME.lock` while a result is swapped; removed when dropped.
struct Lock(PathBuf);

impl Lock {
    /// Takes the lock, taking over one whose owner is gone, waiting (a minute at most) for
    /// one that is held.
    fn take(parent: &Path, name: &str) -> Result<Lock> {
        let path = parent.join(format!(".{name}.lock"));
        for _ in 0..1200 {
            let made = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path);
            match made {
                Ok(mut f) => {
                    use std::io::Write as _;
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock(path));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if lock_owner(&path).is_some_and(gone) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(Error::write(&path, e)),
            }
        }
        Err(refused(
            &path,
            "another northbound process has been replacing this result for a minute; if none is running, remove this file",
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Staged {
    /// Where the folder goes when it is finished.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Whether it replaces an earlier result (there was one when it was staged).
    pub fn replaces(&self) -> bool {
        self.replaces
    }

    /// Writes `manifest.json` (listing every file of the folder and of its folders, as
    /// `data/x.csv`), then commits.
    pub fn finish(self, mut manifest: super::Manifest) -> Result<PathBuf> {
        let mut files: Vec<String> = listing(&self.tmp)
            .map_err(|e| Error::write(&self.tmp, e))?
            .into_iter()
            .filter(|n| !n.ends_with('/'))
            .collect();
        files.push("manifest.json".into());
        files.sort();
        files.dedup();
        manifest.files = files;
        manifest.write(&self.tmp)?;
        self.commit()
    }

    /// Moves the finished folder into place, replacing an old one only with `force`.
    pub fn commit(self) -> Result<PathBuf> {
        self.commit_with(&|from, to| std::fs::rename(from, to))
    }

    /// [`Staged::commit`] with the rename to use (tests make it fail).
    fn commit_with(mut self, rename: &dyn Fn(&Path, &Path) -> io::Result<()>) -> Result<PathBuf> {
        let (parent, name) = split(&self.target)?;
        let _lock = Lock::take(&parent, &name)?;
        // An interruption waits until the folder is in place or still hidden.
        let mut reg = registry();
        if self.target.exists() {
            if !self.force {
                return Err(refused(
                    &self.target,
                    "appeared while the run was going; pass --force to replace it",
                ));
            }
            replaceable(&self.target)?;
            let old = unique(&parent, &name, "old", |p| rename(&self.target, p))
                .map_err(|e| Error::write(&self.target, e))?;
            if let Err(e) = rename(&self.tmp, &self.target) {
                let kept = match rename(&old, &self.target) {
                    Ok(()) => "the earlier result is kept".to_string(),
                    Err(_) => format!(
                        "the earlier result is in {} (the next run to this folder puts it back)",
                        old.display()
                    ),
                };
                return Err(refused(
                    &self.target,
                    format!("cannot move the new result into place ({e}); {kept}"),
                ));
            }
            // Deleted now or, if not, by the next run to this folder.
            let _ = std::fs::remove_dir_all(&old);
        } else {
            rename(&self.tmp, &self.target).map_err(|e| Error::write(&self.target, e))?;
        }
        self.committed = true;
        reg.partial.retain(|p| p != &self.tmp);
        reg.made.retain(|p| !self.made.contains(p));
        Ok(self.target.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
            let mut reg = registry();
            reg.partial.retain(|p| p != &self.tmp);
            reg.made.retain(|p| !self.made.contains(p));
            remove_made(&self.made);
        }
    }
}

/// For a process that was interrupted and is about to exit: removes every folder being
/// written (and the folders made to hold them, if empty) and returns them. Waits for a
/// result being moved into place; nothing is written or moved after it returns.
pub fn interrupted() -> Vec<PathBuf> {
    let mut reg = registry();
    let partial = std::mem::take(&mut reg.partial);
    for p in &partial {
        // A file being written as the folder goes can make one pass fail.
        for _ in 0..5 {
            if std::fs::remove_dir_all(p).is_ok() || !p.exists() {
                break;
            }
        }
    }
    remove_made(&reg.made);
    // Keep the registry locked: the process exits with nothing else moved into place.
    std::mem::forget(reg);
    partial
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A finished result folder at `dir` with a northbound manifest and one table.
    fn result(dir: &Path, seed: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("daily.csv"), seed).unwrap();
        std::fs::write(
            dir.join("manifest.json"),
            r#"{"northbound_version": "0", "command": "run", "files": ["daily.csv", "manifest.json"]}"#,
        )
        .unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Stages a new result over `target` and commits it with a rename that fails at the
    /// calls listed in `fail` (1 = the first).
    fn replace(target: &Path, fail: &[usize]) -> Result<PathBuf> {
        let staged = stage(target, true).unwrap();
        std::fs::write(staged.tmp.join("daily.csv"), "new").unwrap();
        std::fs::write(
            staged.tmp.join("manifest.json"),
            r#"{"northbound_version": "0", "command": "run", "files": ["daily.csv", "manifest.json"]}"#,
        )
        .unwrap();
        let calls = Cell::new(0);
        staged.commit_with(&|from, to| {
            calls.set(calls.get() + 1);
            if fail.contains(&calls.get()) {
                Err(io::Error::other("injected failure"))
            } else {
                std::fs::rename(from, to)
            }
        })
    }

    #[test]
    fn a_failed_second_rename_keeps_the_old_result() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        result(&out, "old");
        let e = replace(&out, &[2]).unwrap_err().to_string();
        assert!(e.contains("the earlier result is kept"), "{e}");
        assert_eq!(
            std::fs::read_to_string(out.join("daily.csv")).unwrap(),
            "old"
        );
        assert_eq!(names(d.path()), ["out"]);
        // And the next replacement goes through.
        replace(&out, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("daily.csv")).unwrap(),
            "new"
        );
        assert_eq!(names(d.path()), ["out"]);
    }

    #[test]
    fn a_failed_first_rename_changes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        result(&out, "old");
        replace(&out, &[1]).unwrap_err();
        assert_eq!(
            std::fs::read_to_string(out.join("daily.csv")).unwrap(),
            "old"
        );
        assert_eq!(names(d.path()), ["out"]);
    }

    #[test]
    fn an_old_result_left_aside_is_put_back_by_the_next_run() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        result(&out, "old");
        // The second rename and the way back both fail: the old result waits aside.
        let e = replace(&out, &[2, 3]).unwrap_err().to_string();
        assert!(
            e.contains("the next run to this folder puts it back"),
            "{e}"
        );
        assert!(!out.exists());
        let aside: Vec<String> = names(d.path());
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert!(aside[0].starts_with(".out.old-"), "{aside:?}");
        // Its owner (this process) is alive, so it is left alone; once the owner is gone
        // (a name with a dead process id) the next run puts it back.
        let dead = d.path().join(".out.old-4294967-0");
        std::fs::rename(d.path().join(&aside[0]), &dead).unwrap();
        if Path::new("/proc").is_dir() {
            let staged = stage(&out, false);
            assert!(staged.is_err(), "the old result is back, so it exists");
            assert_eq!(
                std::fs::read_to_string(out.join("daily.csv")).unwrap(),
                "old"
            );
            assert_eq!(names(d.path()), ["out"]);
        }
    }

    #[test]
    fn files_in_subfolders_must_be_listed_too() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        std::fs::create_dir_all(out.join("data/observed")).unwrap();
        std::fs::write(out.join("daily.csv"), "old").unwrap();
        std::fs::write(out.join("data/observed/x.csv"), "x").unwrap();
        std::fs::write(
            out.join("manifest.json"),
            r#"{"northbound_version": "0", "command": "run", "files": ["daily.csv", "data/observed/x.csv", "manifest.json"]}"#,
        )
        .unwrap();
        assert!(replaceable(&out).is_ok());
        // A file of the user's beside the copied data, and an empty folder of theirs.
        std::fs::write(out.join("data/observed/notes.txt"), "mine").unwrap();
        std::fs::create_dir(out.join("data/mine")).unwrap();
        let e = replaceable(&out).unwrap_err().to_string();
        assert!(
            e.contains("data/mine/") && e.contains("data/observed/notes.txt"),
            "{e}"
        );
        assert!(!e.contains("x.csv"), "{e}");
        // A finished folder lists what its folders hold.
        let staged = stage(&d.path().join("new"), false).unwrap();
        std::fs::create_dir_all(staged.tmp.join("data")).unwrap();
        std::fs::write(staged.tmp.join("data/y.csv"), "y").unwrap();
        let dir = staged
            .finish(crate::output::Manifest::new(
                "run",
                &crate::Scenario::load(
                    &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml"),
                )
                .unwrap(),
                1,
                1,
            ))
            .unwrap();
        assert_eq!(
            manifest_files(&dir.join("manifest.json")).unwrap(),
            ["data/y.csv", "manifest.json"]
        );
        assert!(replaceable(&dir).is_ok());
    }

    #[test]
    fn two_replacements_never_share_a_hidden_name() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let a = stage(&out, true).unwrap();
        let b = stage(&out, true).unwrap();
        assert_ne!(a.tmp, b.tmp);
        drop((a, b));
        assert!(names(d.path()).is_empty());
    }
}
