//! Records the git commit northbound is built from, when it is built from a git checkout
//! with git at hand, for `--version` and every `manifest.json`. Without git or `.git` (a
//! source archive, a crate download) nothing is recorded and the build goes on.
//!
//! Sets `NORTHBOUND_GIT_COMMIT` (the full hash, with `-modified` when tracked files differ
//! from that commit) if there is one, and always `NORTHBOUND_VERSION_TEXT` (the version, and
//! the short commit in brackets). The script runs again when the commit moves (HEAD, the
//! branch it points to) or when what the binary is built from changes, so that the record
//! stays true without rebuilding more than a change to those files does anyway.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn watch(path: &str) {
    if Path::new(path).exists() {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for input in ["src", "scenarios", "assets", "Cargo.toml", "Cargo.lock"] {
        watch(input);
    }
    let version = env!("CARGO_PKG_VERSION");
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        println!("cargo:rustc-env=NORTHBOUND_VERSION_TEXT={version}");
        return;
    };
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watch(&format!("{dir}/HEAD"));
    }
    if let (Some(common), Some(head)) = (
        git(&["rev-parse", "--git-common-dir"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"]),
    ) {
        watch(&format!("{common}/{head}"));
        watch(&format!("{common}/packed-refs"));
    }
    let modified = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
    let suffix = if modified { "-modified" } else { "" };
    println!("cargo:rustc-env=NORTHBOUND_GIT_COMMIT={commit}{suffix}");
    let short = commit.get(..12).unwrap_or(&commit);
    println!("cargo:rustc-env=NORTHBOUND_VERSION_TEXT={version} (commit {short}{suffix})");
}
