//! Reading files a user names: only regular files, and never more than a cap, so that a
//! scenario of `/dev/zero` or a FIFO is refused at once instead of filling the memory or
//! blocking forever, and a data file cannot point at the system's own pseudo-files.

use std::io::{self, Read};
use std::path::Path;

/// The largest scenario file read: a scenario is a page or two of text.
pub const SCENARIO_LIMIT: u64 = 16 << 20;

/// The largest data file (CSV) read, by a scenario or from a result folder.
pub const DATA_LIMIT: u64 = 1 << 30;

/// The largest file read as a stream, a row at a time and never held whole: a result
/// folder's `series.csv` of many runs (a comparison of the default's ten variants with
/// 1,000 replicates writes 2.8 GB). Only the time reading takes is at stake.
pub const STREAM_LIMIT: u64 = 1 << 40;

fn refuse(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Opens `path` for reading if it is a regular file (after following links) of at most
/// `limit` bytes, outside `/proc`, `/sys` and `/dev`; the reader fails rather than read
/// past `limit`.
pub fn open_regular(path: &Path, limit: u64) -> io::Result<Capped<std::fs::File>> {
    if let Ok(real) = std::fs::canonicalize(path)
        && ["/proc", "/sys", "/dev"]
            .iter()
            .any(|p| real.starts_with(p))
    {
        return Err(refuse(format!(
            "{} is a system file, not data",
            real.display()
        )));
    }
    // Looked at before opening: opening a FIFO would block until a writer came.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a folder, a pipe, a device or a socket)".into(),
        ));
    }
    if meta.len() > limit {
        return Err(refuse(format!(
            "{} bytes, more than the {} bytes read at most",
            meta.len(),
            limit
        )));
    }
    let file = std::fs::File::open(path)?;
    Ok(Capped {
        inner: file,
        left: limit,
    })
}

/// Reads a whole regular file of at most `limit` bytes ([`open_regular`]).
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_regular(path, limit)?.read_to_end(&mut out)?;
    Ok(out)
}

/// A reader that fails, instead of going on, once more than its cap has been read.
pub struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(refuse("grew past the bytes read at most".into()));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.csv");
        std::fs::write(&f, "month,count\n").unwrap();
        assert_eq!(read_regular(&f, 100).unwrap(), b"month,count\n");
        let e = read_regular(&f, 5).unwrap_err().to_string();
        assert!(e.contains("12 bytes, more than the 5"), "{e}");
        let e = read_regular(dir.path(), 100).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_regular(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .to_string();
        assert!(e.contains("system file"), "{e}");
        if Path::new("/proc/self/environ").exists() {
            let e = read_regular(Path::new("/proc/self/environ"), 100)
                .unwrap_err()
                .to_string();
            assert!(e.contains("system file"), "{e}");
        }
        let fifo = dir.path().join("fifo");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            let e = read_regular(&fifo, 100).unwrap_err().to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
    }
}
