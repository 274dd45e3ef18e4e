//! Staged runs: `themata run` skips fresh stages, explains reruns, and survives SIGKILL.

use super::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// (inode, content) of every table: a skipped stage leaves its files untouched (same inode),
/// a rerun stage renames new files into place (new inode).
fn snapshot(out: &Path) -> BTreeMap<String, (u64, Vec<u8>)> {
    TABLES
        .iter()
        .map(|t| {
            let p = out.join(t);
            let ino = std::fs::metadata(&p).unwrap().ino();
            (t.to_string(), (ino, std::fs::read(&p).unwrap()))
        })
        .collect()
}

fn run_in(dir: &Path, extra: &[&str]) -> String {
    run_example_with(dir, "-v", extra)
}

const INGEST: &[&str] = &[
    "documents.parquet",
    "passages.parquet",
    "duplicates.parquet",
];
const TFIDF: &[&str] = &["vocabulary.parquet", "tfidf.parquet"];

#[test]
fn rerun_with_nothing_changed_skips_every_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let first = run_in(tmp.path(), &[]);
    assert!(
        first.contains("ingest: runs: no complete earlier run"),
        "{first}"
    );
    let out = tmp.path().join("out");
    let before = snapshot(&out);
    let report = std::fs::read(tmp.path().join("report/summary.md")).unwrap();
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();

    let err = run_in(tmp.path(), &[]);
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        assert!(
            err.contains(&format!("{stage}: up to date, skipped")),
            "{err}"
        );
        assert!(!err.contains(&format!("{stage}: runs")), "{err}");
    }
    assert_eq!(snapshot(&out), before, "a skipped stage touched its tables");
    assert_eq!(
        std::fs::read(tmp.path().join("report/summary.md")).unwrap(),
        report
    );
    // the manifest still records the same stages (timings included: nothing reran)
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["stages"], again["stages"]);
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        let outputs = m["stages"][stage]["outputs"].as_object().unwrap();
        assert!(!outputs.is_empty(), "{stage} records no outputs");
    }

    // --force reruns everything, to identical bytes
    let err = run_in(tmp.path(), &["--force"]);
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        assert!(err.contains(&format!("{stage}: runs: --force")), "{err}");
    }
    let forced = snapshot(&out);
    for (t, (ino, bytes)) in &before {
        assert_eq!(&forced[t].1, bytes, "{t} differs after --force");
        assert_ne!(forced[t].0, *ino, "{t} was not rewritten by --force");
    }
}

#[test]
fn changing_a_cluster_setting_reruns_cluster_and_report_only() {
    let tmp = tempfile::tempdir().unwrap();
    run_in(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let before = snapshot(&out);
    let err = run_in(
        tmp.path(),
        &["--set", "cluster.mode=discover", "--set", "cluster.k=2"],
    );
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    assert!(err.contains("tfidf: up to date, skipped"), "{err}");
    assert!(
        err.contains("cluster: runs: settings changed: cluster.k: null → 2"),
        "{err}"
    );
    assert!(
        err.contains("report: runs: the cluster stage reran"),
        "{err}"
    );
    let after = snapshot(&out);
    for t in INGEST.iter().chain(TFIDF) {
        assert_eq!(after[*t], before[*t], "{t} was rewritten");
    }
    assert_ne!(
        after["assignments.parquet"].1,
        before["assignments.parquet"].1
    );
    assert_eq!(table(&out, "clusters.parquet").height(), 2);
    // and back: the cluster stage reruns again, to the original bytes
    let err = run_in(tmp.path(), &[]);
    assert!(err.contains("cluster: runs: settings changed"), "{err}");
    let back = snapshot(&out);
    for t in TABLES {
        assert_eq!(back[*t].1, before[*t].1, "{t}");
    }
}

#[test]
fn changing_an_input_file_reruns_every_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for e in std::fs::read_dir(root().join("corpus/khamenei")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), corpus.join(e.file_name())).unwrap();
    }
    let input = ["--input", corpus.to_str().unwrap()];
    run_in(tmp.path(), &input);
    let out = tmp.path().join("out");
    let before = snapshot(&out);
    // same bytes written again: still fresh
    let f = corpus.join("001_ec387abb70685b0e.txt");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, &text).unwrap();
    let err = run_in(tmp.path(), &input);
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    // new content: everything reruns, and says why
    std::fs::write(
        &f,
        text + "\n\nThe talks on the nuclear deal resumed in Oman after sanctions were eased.\n",
    )
    .unwrap();
    let err = run_in(tmp.path(), &input);
    assert!(
        err.contains(
            "ingest: runs: input files changed: 1 changed (first: 001_ec387abb70685b0e.txt)"
        ),
        "{err}"
    );
    assert!(err.contains("tfidf: runs: the ingest stage reran"), "{err}");
    assert!(
        err.contains("cluster: runs: the tfidf stage reran"),
        "{err}"
    );
    assert!(
        err.contains("report: runs: the cluster stage reran"),
        "{err}"
    );
    let after = snapshot(&out);
    assert_ne!(after["passages.parquet"].1, before["passages.parquet"].1);
    assert_ne!(after["tfidf.parquet"].1, before["tfidf.parquet"].1);
    // a removed file is an input change too
    std::fs::remove_file(&f).unwrap();
    let err = run_in(tmp.path(), &input);
    assert!(err.contains("1 removed (first: 001_"), "{err}");
}

#[test]
fn a_deleted_or_edited_table_reruns_its_stage() {
    let tmp = tempfile::tempdir().unwrap();
    run_in(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let before = snapshot(&out);
    std::fs::remove_file(out.join("clusters.parquet")).unwrap();
    let err = run_in(tmp.path(), &[]);
    assert!(err.contains("tfidf: up to date, skipped"), "{err}");
    assert!(
        err.contains("cluster: runs: clusters.parquet is missing"),
        "{err}"
    );
    assert_eq!(
        snapshot(&out)["clusters.parquet"].1,
        before["clusters.parquet"].1
    );
    let mut bytes = std::fs::read(out.join("vocabulary.parquet")).unwrap();
    bytes.push(0);
    std::fs::write(out.join("vocabulary.parquet"), bytes).unwrap();
    let err = run_in(tmp.path(), &[]);
    assert!(
        err.contains("tfidf: runs: vocabulary.parquet was changed since it was written"),
        "{err}"
    );
    let after = snapshot(&out);
    for t in TABLES {
        assert_eq!(after[*t].1, before[*t].1, "{t}");
    }
}

/// A seeded synthetic corpus: `n_docs` files of several paragraphs, each drawn from one of
/// four topic vocabularies plus shared words.
pub fn synthetic_corpus(dir: &Path, n_docs: usize) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let topics: Vec<Vec<String>> = (0..4)
        .map(|t| (0..60).map(|w| format!("t{t}word{w}")).collect())
        .collect();
    let shared: Vec<String> = (0..200).map(|w| format!("shared{w}")).collect();
    for d in 0..n_docs {
        let topic = &topics[d % 4];
        let mut text = format!("Document number {d}\n\n");
        for _ in 0..6 {
            let n = 40 + (next() % 40) as usize;
            let words: Vec<&str> = (0..n)
                .map(|_| {
                    if next() % 3 == 0 {
                        shared[(next() % 200) as usize].as_str()
                    } else {
                        topic[(next() % 60) as usize].as_str()
                    }
                })
                .collect();
            text += &words.join(" ");
            text += ".\n\n";
        }
        let sub = dir.join(format!("part{:02}", d % 16));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("doc{d:05}.txt")), text).unwrap();
    }
}

pub const SYNTHETIC_PIPELINE: &str = r#"
name = "synthetic"
output = "out"

[input]
root = "corpus"

[cluster]
mode = "discover"
k = 4
seed = 3
n_runs = 2
reduce = "lsa"
lsa_dims = 12

[report]
dir = "report"
"#;

/// Every file in the output directory is a complete table, the manifest, the lock file, or
/// an obvious temporary (hidden, `.tmp`) that no `*.parquet` reader picks up.
fn assert_no_torn_tables(out: &Path) -> usize {
    let mut tables = 0;
    let Ok(entries) = std::fs::read_dir(out) else {
        return 0;
    };
    for e in entries {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            assert!(!name.ends_with(".parquet"), "{name}");
            continue;
        }
        if name == ".themata.lock" {
            // the run's lock (see reliability.rs): it holds a process id, no table
            continue;
        }
        if name == "manifest.json" || name == "model.json" {
            let text = std::fs::read_to_string(out.join(&name)).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("torn {name}: {e}"));
            continue;
        }
        assert!(name.ends_with(".parquet"), "unexpected file {name}");
        // it opens and every column reads to the end
        let df = themata::tables::read(out, &name).unwrap_or_else(|e| panic!("torn {name}: {e}"));
        for c in df.columns() {
            assert_eq!(c.len(), df.height());
        }
        tables += 1;
    }
    tables
}

/// Start `themata run`, wait until `file` appears in the output directory, SIGKILL it.
/// Returns whether the run was still going when killed.
fn kill_when(dir: &Path, file: &str) -> bool {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(["run", "pipeline.toml", "-q"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let target = dir.join("out").join(file);
    let start = Instant::now();
    let before = std::fs::metadata(&target).map(|m| m.ino()).ok();
    loop {
        let now = std::fs::metadata(&target).map(|m| m.ino()).ok();
        if now.is_some() && now != before {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "run failed before {file} appeared");
            return false;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{file} never appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    running
}

#[test]
fn a_run_killed_mid_stage_leaves_no_torn_table_and_the_next_run_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synthetic_corpus(&dir.join("corpus"), 2500);
    std::fs::write(dir.join("pipeline.toml"), SYNTHETIC_PIPELINE).unwrap();
    // a clean run to compare with
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("pipeline.toml"), SYNTHETIC_PIPELINE).unwrap();
    std::os::unix::fs::symlink(dir.join("corpus"), clean.path().join("corpus")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(["run", "pipeline.toml", "-q"])
        .current_dir(clean.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // kill in the middle of ingest (after its first table), then of tfidf, then of cluster
    let mut killed_mid_run = 0;
    for file in [
        "documents.parquet",
        "vocabulary.parquet",
        "assignments.parquet",
    ] {
        if kill_when(dir, file) {
            killed_mid_run += 1;
        }
        assert_no_torn_tables(&dir.join("out"));
    }
    assert!(
        killed_mid_run >= 2,
        "the runs finished before they were killed"
    );

    let (code, err) = themata_in(dir, &["run", "pipeline.toml", "-v"]);
    assert_eq!(code, Some(0), "{err}");
    // the killed stage had no record, so it reran
    assert!(err.contains("cluster: runs"), "{err}");
    assert_eq!(assert_no_torn_tables(&dir.join("out")), TABLES.len());
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
    for t in TABLES {
        let (a, b) = (
            std::fs::read(dir.join("out").join(t)).unwrap(),
            std::fs::read(clean.path().join("out").join(t)).unwrap(),
        );
        assert!(a == b, "{t} differs from a clean run");
    }
    assert_eq!(
        std::fs::read(dir.join("report/summary.md")).unwrap(),
        std::fs::read(clean.path().join("report/summary.md")).unwrap()
    );
}

/// What clustering found (the space, the k sweep) is recorded apart from the settings, so a
/// rerun with the same settings is fresh; a record of another build reruns the stage.
#[test]
fn results_are_apart_from_settings_and_the_build_decides_freshness() {
    let tmp = tempfile::tempdir().unwrap();
    let auto = [
        "--set",
        "cluster.mode=discover",
        "--set",
        "cluster.k=auto",
        "--set",
        "cluster.k_max=4",
    ];
    run_in(tmp.path(), &auto);
    let out = tmp.path().join("out");
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
    };
    let m = read();
    let cluster = &m["stages"]["cluster"];
    assert!(cluster["results"]["space"]
        .as_str()
        .unwrap()
        .starts_with("tfidf"));
    assert_eq!(cluster["results"]["k_sweep"].as_array().unwrap().len(), 3);
    assert!(cluster["settings"].get("space").is_none(), "{cluster}");
    assert!(cluster["settings"].get("k_sweep").is_none(), "{cluster}");
    assert_eq!(cluster["build"].as_str().unwrap().len(), 16);
    let err = run_in(tmp.path(), &auto);
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        assert!(
            err.contains(&format!("{stage}: up to date, skipped")),
            "{err}"
        );
    }
    // the tfidf stage as if made by another build of themata: it and the later stages rerun
    let mut m = read();
    m["stages"]["tfidf"]["build"] = "0123456789abcdef".into();
    m["stages"]["tfidf"]["fingerprint"] = "0".repeat(64).into();
    std::fs::write(out.join("manifest.json"), m.to_string()).unwrap();
    let err = run_in(tmp.path(), &auto);
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    assert!(
        err.contains("tfidf: runs: themata was rebuilt from other sources (build 0123456789abcdef"),
        "{err}"
    );
    assert!(
        err.contains("cluster: runs: the tfidf stage reran"),
        "{err}"
    );
}

/// Stages another engine wrote (the Spark driver: `"engine": "spark"`, fingerprints of its
/// own) are fresh when their settings, input files and outputs are this run's; otherwise they
/// rerun and `-v` says why.
#[test]
fn stages_of_another_engine_are_adopted_when_settings_inputs_and_outputs_check_out() {
    let tmp = tempfile::tempdir().unwrap();
    run_in(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let path = out.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for stage in ["ingest", "tfidf"] {
        let rec = &mut m["stages"][stage];
        rec["engine"] = "spark".into();
        rec["build"] = "spark".into();
        rec["fingerprint"] = format!("spark:{stage}").into();
    }
    // the cluster stage records no engine, and its upstream is now another fingerprint
    m["stages"].as_object_mut().unwrap().remove("cluster");
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let before = snapshot(&out);
    let err = run_in(tmp.path(), &[]);
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    assert!(err.contains("tfidf: up to date, skipped"), "{err}");
    assert!(err.contains("cluster: runs"), "{err}");
    for t in INGEST.iter().chain(TFIDF) {
        assert_eq!(snapshot(&out)[*t], before[*t], "{t} was rewritten");
    }
    // the engine's record is kept as it was (its fingerprint is not this binary's)
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(again["stages"]["ingest"]["engine"], "spark");

    // other settings: the adopted stage reruns, and says why
    let err = run_in(tmp.path(), &["--set", "ingest.min_passage_chars=5"]);
    assert!(
        err.contains(
            "ingest: runs: written by spark with other settings: ingest.min_passage_chars"
        ),
        "{err}"
    );
    // a table changed since the engine wrote it is not adopted either
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m["stages"]["ingest"]["engine"] = "spark".into();
    m["stages"]["ingest"]["fingerprint"] = "spark:ingest".into();
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let docs = out.join("duplicates.parquet");
    let mut bytes = std::fs::read(&docs).unwrap();
    bytes.push(0);
    std::fs::write(&docs, bytes).unwrap();
    let err = run_in(tmp.path(), &["--set", "ingest.min_passage_chars=5"]);
    assert!(
        err.contains("ingest: runs: duplicates.parquet was changed since it was written"),
        "{err}"
    );
}
