//! What a run guarantees when things go wrong around it: one writer per output directory,
//! files as the umask says, a damaged manifest, a stop by signal, a full or read-only disk,
//! an output directory removed between stages.

use super::freshness::{synthetic_corpus, SYNTHETIC_PIPELINE};
use super::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_themata"))
}

/// A directory with the synthetic corpus (2,500 documents: a run takes long enough to be
/// caught in the middle) and its pipeline file.
fn synthetic_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    synthetic_corpus(&tmp.path().join("corpus"), 2500);
    std::fs::write(tmp.path().join("pipeline.toml"), SYNTHETIC_PIPELINE).unwrap();
    tmp
}

fn spawn_in(dir: &Path, args: &[&str]) -> Child {
    bin()
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (i32, String) {
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Wait until `cond` holds (or fail after a while).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{what} never happened"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The lock file names `pid`: that run holds the directory.
fn holds(out: &Path, pid: u32) -> bool {
    std::fs::read_to_string(out.join(".themata.lock")).is_ok_and(|s| s.trim() == pid.to_string())
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// The tables, the manifest and the report in `dir` are all of one run, with `k` clusters.
fn assert_one_run_with_k(dir: &Path, k: u64) {
    let out = dir.join("out");
    let m = manifest(&out);
    assert_eq!(m["stages"]["cluster"]["settings"]["cluster"]["k"], k, "{m}");
    let clusters = table(&out, "clusters.parquet");
    assert_eq!(clusters.height() as u64, k);
    let ids = u32s(&clusters, "cluster");
    let assigned = table(&out, "assignments.parquet");
    for c in opt_u32s(&assigned, "cluster").into_iter().flatten() {
        assert!(ids.contains(&c), "assignment to cluster {c} of another run");
    }
    // every recorded output is the file in place (the report's tables, such as
    // theme_trends.parquet, are in the output directory with the others)
    for (stage, rec) in m["stages"].as_object().unwrap() {
        for (name, hash) in rec["outputs"].as_object().unwrap() {
            let d = if stage == "report" && !name.ends_with(".parquet") {
                dir.join("report")
            } else {
                out.clone()
            };
            let h = themata::files::file_hash(&d.join(name)).unwrap();
            assert_eq!(
                hash.as_str().unwrap(),
                h,
                "{name} is not the file {stage} recorded"
            );
        }
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["themes"].as_array().unwrap().len() as u64, k);
}

#[test]
fn a_second_run_on_a_directory_waits_for_the_first_and_never_mixes_tables() {
    let tmp = synthetic_dir();
    let dir = tmp.path();
    let out = dir.join("out");
    let first = spawn_in(dir, &["run", "pipeline.toml", "-q", "--set", "cluster.k=4"]);
    let pid = first.id();
    wait_for("the first run's lock", || holds(&out, pid));
    // --no-wait: exit 1 at once, naming the holder
    let (code, err) = themata_in(
        dir,
        &[
            "run",
            "pipeline.toml",
            "-q",
            "--no-wait",
            "--set",
            "cluster.k=3",
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("(pid {pid})")), "{err}");
    assert!(err.contains("another themata run"), "{err}");
    assert!(err.contains(".themata.lock"), "{err}");
    // a second run waits, says for whom, then runs on what the first left
    let second = spawn_in(dir, &["run", "pipeline.toml", "-q", "--set", "cluster.k=3"]);
    let (code, err1) = finish(first);
    assert_eq!(code, 0, "{err1}");
    let (code, err2) = finish(second);
    assert_eq!(code, 0, "{err2}");
    assert!(
        err2.contains(&format!(
            "waiting: another themata run (pid {pid}) is writing"
        )),
        "{err2}"
    );
    assert_one_run_with_k(dir, 3);
    // readers are never blocked: the tables read while a run holds the directory
    let third = spawn_in(
        dir,
        &[
            "run",
            "pipeline.toml",
            "-q",
            "--force",
            "--set",
            "cluster.k=4",
        ],
    );
    let pid = third.id();
    wait_for("the third run's lock", || holds(&out, pid));
    let gold = dir.join("gold.csv");
    let rows: String = (0..2500)
        .map(|d| format!("part{:02}/doc{d:05}.txt,t{}\n", d % 16, d % 4))
        .collect();
    std::fs::write(&gold, format!("path,label\n{rows}")).unwrap();
    let o = themata(&[
        "evaluate",
        out.to_str().unwrap(),
        "--gold",
        gold.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    if !holds(&out, pid) {
        eprintln!("note: the run ended before the reader finished");
    }
    let (code, err3) = finish(third);
    assert_eq!(code, 0, "{err3}");
    assert_one_run_with_k(dir, 4);
}

fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            v.push((e.path().display().to_string(), mode));
        }
    }
    v
}

#[test]
fn files_are_written_with_the_mode_the_umask_gives() {
    for (umask, want) in [("022", 0o644), ("027", 0o640)] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let report = tmp.path().join("report");
        let script = format!(
            "umask {umask} && exec \"$0\" run pipelines/khamenei.toml -q --output {} --set report.dir={}",
            out.display(),
            report.display()
        );
        let o = Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_themata")])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let files = modes(tmp.path());
        assert!(files.len() >= TABLES.len() + 4, "{files:?}");
        for (f, mode) in files {
            assert_eq!(mode, want, "{f}: {mode:o} under umask {umask}");
        }
    }
}

#[test]
fn a_damaged_manifest_is_a_warning_naming_it_and_every_stage_reruns() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let before: Vec<Vec<u8>> = TABLES
        .iter()
        .map(|t| std::fs::read(out.join(t)).unwrap())
        .collect();
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 3]).unwrap();
    let err = run_example_with(tmp.path(), "-v", &[]);
    assert!(
        err.contains(&format!("warning: {}: damaged manifest (", path.display())),
        "{err}"
    );
    assert!(err.contains("every stage reruns"), "{err}");
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        assert!(err.contains(&format!("{stage}: runs")), "{stage}: {err}");
    }
    // the run is whole again, with the same tables, and the warning is counted
    let m = manifest(&out);
    assert!(
        m["stages"]["ingest"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("damaged manifest"),
        "{m}"
    );
    for (t, b) in TABLES.iter().zip(&before) {
        assert!(&std::fs::read(out.join(t)).unwrap() == b, "{t} differs");
    }
    let err = run_example_with(tmp.path(), "-v", &[]);
    assert!(!err.contains("warning"), "{err}");
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigterm_and_ctrl_c_stop_cleanly_and_the_next_run_resumes() {
    let mut stopped = 0;
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let tmp = synthetic_dir();
        let dir = tmp.path();
        let out = dir.join("out");
        let child = spawn_in(dir, &["run", "pipeline.toml", "-q"]);
        // once ingest is recorded, stop the run in its later stages
        wait_for("ingest's record", || {
            std::fs::read_to_string(out.join("manifest.json"))
                .is_ok_and(|s| s.contains("\"ingest\""))
        });
        // SAFETY: kill(2) on the child's pid; no memory is involved
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let (code, err) = finish(child);
        if code == 0 {
            eprintln!("the run finished before the signal; nothing to check");
            continue;
        }
        assert_eq!(code, 130, "{err}");
        stopped += 1;
        assert!(
            err.contains("interrupted: stopped before the run finished"),
            "{err}"
        );
        assert_eq!(temporaries(&out), Vec::<String>::new());
        // what was complete is whole and readable
        for t in [
            "documents.parquet",
            "passages.parquet",
            "duplicates.parquet",
        ] {
            table(&out, t);
        }
        let (code, err) = themata_in(dir, &["run", "pipeline.toml", "-v"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("ingest: up to date, skipped"), "{err}");
        assert_one_run_with_k(dir, 4);
    }
    assert!(stopped > 0, "every run finished before its signal");
}

#[test]
fn an_output_directory_removed_between_stages_is_named_and_the_next_run_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    themata_ok(&["ingest", "pipelines/khamenei.toml", "-q", "--output", o]);
    std::fs::remove_dir_all(&out).unwrap();
    let r = themata(&["tfidf", "pipelines/khamenei.toml", "-q", "--output", o]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&out.join("passages.parquet").display().to_string())
            || err.contains(&out.join("documents.parquet").display().to_string()),
        "{err}"
    );
    run_example(tmp.path(), &[]);
    assert_eq!(temporaries(&out), Vec::<String>::new());
    for t in TABLES {
        table(&out, t);
    }
}

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, how: &str) {
        let s = Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// The ingest tables of `out`, byte for byte.
fn ingest_tables(out: &Path) -> Vec<Vec<u8>> {
    [
        "documents.parquet",
        "passages.parquet",
        "duplicates.parquet",
    ]
    .iter()
    .map(|t| {
        table(out, t);
        std::fs::read(out.join(t)).unwrap()
    })
    .collect()
}

/// The shape of a fault test: ingest the synthetic corpus into `fs/out`; `fault()`; a run
/// then exits with 1 naming a file of the output directory and the system's `message`,
/// leaves ingest's tables as they were and no temporary; `mend()`; and the next run
/// completes, taking ingest as fresh. Returns the failed run's stderr.
fn fault_then_mend(fs: &Tmpfs, fault: impl FnOnce(), message: &str, mend: impl FnOnce()) -> String {
    let tmp = synthetic_dir();
    let dir = tmp.path();
    let out = fs.path().join("out");
    let o = out.to_str().unwrap();
    let report = format!("report.dir={}", fs.path().join("report").display());
    let run = |verbosity: &str| {
        themata_in(
            dir,
            &[
                "run",
                "pipeline.toml",
                verbosity,
                "--output",
                o,
                "--set",
                &report,
            ],
        )
    };
    let (code, err) = themata_in(dir, &["ingest", "pipeline.toml", "-q", "--output", o]);
    assert_eq!(code, Some(0), "{err}");
    let before = ingest_tables(&out);
    fault();
    let (code, failed) = run("-q");
    assert_eq!(code, Some(1), "{failed}");
    assert!(
        failed.contains(&out.display().to_string()),
        "names the file: {failed}"
    );
    assert!(failed.contains(message), "{failed}");
    assert_eq!(ingest_tables(&out), before, "a complete table changed");
    assert_eq!(temporaries(&out), Vec::<String>::new());
    mend();
    let (code, err) = run("-v");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    for t in TABLES {
        table(&out, t);
    }
    failed
}

#[test]
fn a_full_disk_fails_naming_the_file_keeps_complete_tables_and_the_next_run_completes() {
    let Some(fs) = Tmpfs::mount("64m") else {
        return;
    };
    let filler = fs.path().join("filler");
    // fill the disk, then leave 128 KiB: room for the lock and the manifest, not for the
    // TF-IDF table
    let fill = || {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![1u8; 1 << 16];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(128 << 10)).unwrap();
    };
    let err = fault_then_mend(&fs, fill, "No space left on device", || {
        std::fs::remove_file(&filler).unwrap()
    });
    assert!(err.contains(".parquet"), "fails writing a table: {err}");
}

#[test]
fn a_read_only_output_directory_fails_naming_the_file_and_the_next_run_completes() {
    let Some(fs) = Tmpfs::mount("64m") else {
        return;
    };
    fault_then_mend(
        &fs,
        || fs.remount("ro"),
        "Read-only file system",
        || fs.remount("rw"),
    );
}

/// Run a command to its end: exit code, stderr and peak resident memory (MiB, from wait4(2),
/// which also reaps the child).
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command) -> (i32, String, f64) {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let stderr = child.stderr;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        }
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 writes only into the two
    // out-parameters, which live through the call
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (
        code,
        reader.join().unwrap(),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// A record file of `records` records (or, with `records == 0`, of about `bytes` bytes): each
/// a short text and a field of `blob` bytes the pipeline does not read. Returns the records
/// written.
fn huge_records(path: &Path, bytes: u64, records: u64, blob: usize, csv: bool) -> u64 {
    use std::io::Write;
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    if csv {
        writeln!(f, "id,text,blob").unwrap();
    }
    let words = [
        "sanctions",
        "talks",
        "doctrine",
        "clergy",
        "assembly",
        "succession",
        "leader",
        "negotiation",
        "council",
        "reform",
        "economy",
        "protest",
        "nuclear",
        "deal",
    ];
    let blob: String = "x".repeat(blob);
    let (mut written, mut n, mut state) = (0u64, 0u64, 0x2545_F491_4F6C_DD1Du64);
    while if records > 0 {
        n < records
    } else {
        written < bytes
    } {
        let text: Vec<&str> = (0..14)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                words[(state % words.len() as u64) as usize]
            })
            .collect();
        let line = if csv {
            format!("{n},\"Record {n}: {}.\",{blob}\n", text.join(" "))
        } else {
            format!(
                "{{\"id\": {n}, \"text\": \"Record {n}: {}.\", \"blob\": \"{blob}\"}}\n",
                text.join(" ")
            )
        };
        f.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        n += 1;
    }
    f.flush().unwrap();
    n
}

/// A 2 GB JSON Lines file and a 2 GB CSV are read as streams: ingest's peak memory is that
/// of the records it keeps, not of the file. Each file's records (a short text and a 1,800-byte
/// field the pipeline does not read) are also written without that field — the same records
/// in ~1/16 of the bytes — and ingest's peak RSS on the large file may exceed that on the
/// small one by at most 5 % of the file's size (reading it whole would add all of it). Slow
/// and disk-hungry (4 GB in the temporary directory): run by `scripts/bench --huge`, or
/// `cargo test --release --test integration huge -- --ignored --nocapture`
/// (`THEMATA_HUGE_BYTES` sets another size).
#[test]
#[ignore = "writes 4 GB; run by scripts/bench --huge"]
fn huge_jsonl_and_csv_inputs_are_read_in_bounded_memory() {
    let size: u64 = std::env::var("THEMATA_HUGE_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000_000);
    for (ext, csv) in [("jsonl", false), ("csv", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let ingest = |name: &str| {
            let pipeline = tmp.path().join(format!("{name}.toml"));
            std::fs::write(
                &pipeline,
                format!(
                    "name = \"{name}\"\noutput = \"out-{name}\"\n[input]\nroot = \".\"\n\
                     patterns = [\"{name}.{ext}\"]\nid_column = \"id\"\n\
                     [ingest]\nsplit = \"document\"\n[cluster]\nmode = \"discover\"\nk = 2\n"
                ),
            )
            .unwrap();
            let mut cmd = bin();
            cmd.args(["ingest", pipeline.to_str().unwrap(), "-q"])
                .current_dir(tmp.path());
            let (code, err, rss) = run_measured(cmd);
            assert_eq!(code, 0, "{err}");
            let out = tmp.path().join(format!("out-{name}"));
            (table(&out, "documents.parquet").height() as u64, rss)
        };
        let big = tmp.path().join(format!("huge.{ext}"));
        let records = huge_records(&big, size, 0, 1800, csv);
        let (docs, rss) = ingest("huge");
        assert_eq!(docs, records);
        std::fs::remove_file(&big).unwrap();
        let small = tmp.path().join(format!("small.{ext}"));
        huge_records(&small, 0, records, 0, csv);
        let small_mib = std::fs::metadata(&small).unwrap().len() as f64 / (1 << 20) as f64;
        let (docs, rss_small) = ingest("small");
        assert_eq!(docs, records);
        let mib = size as f64 / (1 << 20) as f64;
        eprintln!(
            "{ext}: {records} records; {mib:.0} MiB file: ingest peak RSS {rss:.0} MiB; the same \
             records in {small_mib:.0} MiB: {rss_small:.0} MiB"
        );
        assert!(
            rss <= rss_small + 0.05 * mib,
            "{ext}: peak RSS {rss:.0} MiB for {mib:.0} MiB, {rss_small:.0} MiB for the same records \
             without the unread field"
        );
    }
}
