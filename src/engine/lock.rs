//! One writer per output directory: an advisory lock on `DIR/.themata.lock`, held for the
//! whole run.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows, through
//! `std::fs::File::lock`), so it goes away with the process however the process ends: a
//! killed run leaves no stale lock behind. The holder writes its process id into the file,
//! so a second run can say whom it waits for. The file itself stays (removing it would let
//! a third run lock a new file while the second still waits on the old one), as cargo
//! leaves its `.package-cache`. Readers never take the lock: the tables they read are
//! always whole (written under a temporary name, then renamed into place).

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many output directories this process holds locked.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Whether this process holds an output directory's lock now: a signal handler cleans up
/// temporaries only then (while it waits, they are the other run's).
pub fn holds_a_lock() -> bool {
    HELD.load(Ordering::SeqCst) > 0
}

/// The lock file's name in the output directory.
pub const LOCK_FILE: &str = ".themata.lock";

/// The held lock of an output directory; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Lock `dir` (created if missing). When another run holds it: with `wait`, call
    /// `waiting` with the holder's process id (when the file names one) and block until
    /// it is free; without, fail with [`Error::Locked`] at once.
    pub fn acquire(dir: &Path, wait: bool, waiting: impl FnOnce(Option<u32>)) -> Result<DirLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if !wait {
                    return Err(Error::Locked {
                        dir: dir.to_path_buf(),
                        lock_file: path,
                        holder,
                    });
                }
                waiting(holder);
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // ours now: say who holds it
        let pid = std::process::id();
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{pid}"))
            .and_then(|()| file.flush())
            .map_err(|e| Error::io(&path, e))?;
        HELD.fetch_add(1, Ordering::SeqCst);
        Ok(DirLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // the next holder overwrites the pid; an unlock error leaves the lock to the
        // process's end
        let _ = self.file.unlock();
        HELD.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The process id written in a lock file by its holder, if it is one.
fn holder(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_directory_waits_or_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let held = DirLock::acquire(&out, false, |_| panic!("free")).unwrap();
        assert!(holds_a_lock());
        assert_eq!(
            std::fs::read_to_string(held.path()).unwrap().trim(),
            std::process::id().to_string()
        );
        // flock locks belong to the open file, so a second open in this process conflicts
        // as another process's would
        let e = DirLock::acquire(&out, false, |_| panic!("no wait")).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(&e, Error::Locked { holder: Some(p), .. } if *p == std::process::id()),
            "{msg}"
        );
        assert!(msg.contains(&out.display().to_string()), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert_eq!(e.exit_code(), 1);

        let (tx, rx) = std::sync::mpsc::channel();
        let out2 = out.clone();
        let waiter = std::thread::spawn(move || {
            DirLock::acquire(&out2, true, |h| tx.send(h).unwrap()).map(|_| ())
        });
        // the waiter was told whom it waits for, then blocks until the lock is released
        assert_eq!(rx.recv().unwrap(), Some(std::process::id()));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(held);
        waiter.join().unwrap().unwrap();
        // released again: free for the next
        DirLock::acquire(&out, false, |_| panic!("free")).unwrap();
    }
}
