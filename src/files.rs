//! Writing files so that a reader never sees half of one, and hashing them.
//!
//! Every file is written under a temporary name in its final directory (`.NAME.XXXXXX.tmp`,
//! hidden, so no `*.parquet` glob picks it up) and renamed into place.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// Write `path` through a temporary file in the same directory, then rename it into place.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile creates its files with mode 0600; outputs are ordinary files, shared as the
    // umask says (0644 under the usual 022), as `cp` or `cargo build` would write them
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    write(tmp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    tmp.as_file_mut().flush().map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    if path.is_dir() {
        // a partitioned table (a directory of parts, as the Spark driver writes the large
        // ones) replaced by one file: the stage's record is already gone from the manifest,
        // so a crash here leaves a stage that reruns, not a mixed table
        std::fs::remove_dir_all(path).map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The parts of a partitioned table `dir` (a directory of Parquet files, as the Spark
/// driver writes the large tables): its `*.parquet` files not hidden, by name.
pub fn table_parts(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut parts = vec![];
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !name.starts_with('_') && name.ends_with(".parquet") {
            parts.push(e.path());
        }
    }
    parts.sort();
    Ok(parts)
}

/// Write a text file atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    atomic_write(path, |f| f.write_all(text.as_bytes()))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 (first 16 bytes) of bytes in memory.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..16])
}

/// Hex SHA-256 (first 16 bytes) of a file's content, read in blocks. Of a partitioned
/// table (a directory): the hash of its listing, a line `NAME HASH` per part in name order.
pub fn file_hash(path: &Path) -> std::io::Result<String> {
    if path.is_dir() {
        let mut listing = String::new();
        for part in table_parts(path)? {
            let name = part.file_name().unwrap_or_default().to_string_lossy();
            listing.push_str(&format!("{name} {}\n", file_hash(&part)?));
        }
        return Ok(content_hash(listing.as_bytes()));
    }
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()[..16]))
}

/// Is `file_name` a temporary of [`atomic_write`] for `target` (`.{target}.XXXXXX.tmp`)?
pub fn is_temporary_of(file_name: &str, target: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|r| r.strip_prefix(target))
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_suffix(".tmp"))
        .is_some_and(|mid| !mid.is_empty() && !mid.contains('/'))
}

/// Remove temporaries that a killed run left behind for any of `targets` in `dir`.
/// Returns how many were removed.
pub fn remove_stale_temporaries(dir: &Path, targets: &[&str]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if targets.iter().any(|t| is_temporary_of(&name, t))
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        let r = atomic_write(&p, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_text(&p, "whole").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "whole");
    }

    #[cfg(unix)]
    #[test]
    fn files_get_the_mode_the_umask_gives() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // what an ordinary file created here gets (the process's umask applies to both)
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let want = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        let p = dir.path().join("t.txt");
        write_text(&p, "x").unwrap();
        let got = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(got, want, "{got:o} vs {want:o}");
    }

    #[test]
    fn temporaries_are_recognised_and_removed() {
        assert!(is_temporary_of(
            ".tfidf.parquet.a1B2c3.tmp",
            "tfidf.parquet"
        ));
        assert!(!is_temporary_of("tfidf.parquet", "tfidf.parquet"));
        assert!(!is_temporary_of(".tfidf.parquet..tmp", "tfidf.parquet"));
        assert!(!is_temporary_of(".x.parquet.a1B2c3.tmp", "tfidf.parquet"));
        let dir = tempfile::tempdir().unwrap();
        for n in [".a.parquet.xyz123.tmp", "a.parquet", ".other.abc.tmp"] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(dir.path(), &["a.parquet"]), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".other.abc.tmp", "a.parquet"]);
    }

    #[test]
    fn file_hash_reads_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "abc").unwrap();
        // SHA-256("abc"), first 16 bytes
        assert_eq!(file_hash(&p).unwrap(), "ba7816bf8f01cfea414140de5dae2223");
        assert_eq!(content_hash(b"abc"), file_hash(&p).unwrap());
    }
}
