//! Bad input and bad pipeline files: one clear line, the right exit code, no panic and no
//! table written.

use super::*;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(pipeline: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
        Case { dir }
    }

    fn file(&self, name: &str, content: &[u8]) -> &Self {
        std::fs::write(self.dir.path().join("docs").join(name), content).unwrap();
        self
    }

    fn run(&self, extra: &[&str]) -> (i32, String) {
        let p = self.dir.path().join("p.toml");
        let mut args = vec!["run", p.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        let out = themata(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        (out.status.code().unwrap_or(-1), err)
    }

    /// No temporary file is left behind in the output directory.
    fn assert_no_temporaries(&self) {
        let out = self.dir.path().join("out");
        if let Ok(rd) = std::fs::read_dir(out) {
            let tmp: Vec<String> = rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect();
            assert!(tmp.is_empty(), "{tmp:?}");
        }
    }

    fn tables_written(&self) -> Vec<String> {
        let out = self.dir.path().join("out");
        match std::fs::read_dir(out) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".parquet"))
                .collect(),
            Err(_) => vec![],
        }
    }
}

const GOOD: &str =
    "name = \"t\"\noutput = \"out\"\n[input]\nroot = \"docs\"\n[themes]\na = [\"alpha\"]\n";

#[test]
fn missing_input_directory() {
    let c = Case::new(&GOOD.replace("\"docs\"", "\"nowhere\""));
    let (code, err) = c.run(&[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("nowhere") && err.contains("not found"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(c.tables_written().is_empty());
}

#[test]
fn no_matching_files_is_an_empty_corpus() {
    let c = Case::new(GOOD);
    c.file("notes.csv", b"a,b\n");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("docs") && err.contains("no input files match **/*.txt"),
        "{err}"
    );
    assert!(c.tables_written().is_empty());
}

#[test]
fn only_empty_files_is_an_empty_corpus() {
    let c = Case::new(GOOD);
    c.file("a.txt", b"").file("b.txt", b"  \n\n");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 1);
    assert!(err.contains("empty corpus"), "{err}");
    assert!(c.tables_written().is_empty());
}

#[test]
fn unknown_language_is_a_config_error() {
    let c = Case::new(&format!("{GOOD}[analyzer]\nlanguage = \"elvish\"\n"));
    c.file("a.txt", b"alpha beta");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("p.toml") && err.contains("analyzer.language") && err.contains("elvish"),
        "{err}"
    );
    assert!(c.tables_written().is_empty());
}

#[test]
fn malformed_pipeline_file_names_the_line() {
    let c = Case::new("name = \"t\"\noutput = \"out\"\n[tfidf\nmin_df = 1\n");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("p.toml") && err.contains("line 3"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn unknown_key_names_the_key() {
    let c = Case::new(&format!("{GOOD}[cluster]\nseeed = 3\n"));
    let (code, err) = c.run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("seeed") && err.contains("line 8"), "{err}");
}

#[test]
fn missing_pipeline_file() {
    let out = themata(&["run", "pipelines/nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipelines/nope.toml"));
}

#[test]
fn bad_set_override() {
    let c = Case::new(GOOD);
    c.file("a.txt", b"alpha beta");
    let (code, err) = c.run(&["--set", "cluster.k"]);
    assert_eq!(code, 2);
    assert!(err.contains("KEY=VALUE"), "{err}");
    let (code, err) = c.run(&["--set", "tfidf.norm=l7"]);
    assert_eq!(code, 2);
    assert!(err.contains("l7"), "{err}");
}

#[test]
fn dead_theme_fails_the_cluster_stage_with_its_seeds() {
    let c = Case::new(&GOOD.replace("[\"alpha\"]", "[\"zebra\"]"));
    c.file("a.txt", b"alpha beta gamma\n\nbeta delta");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("theme \"a\"") && err.contains("zebra (unseen)"),
        "{err}"
    );
    // the earlier stages' tables are complete; no clustering table was written
    let written = c.tables_written();
    assert!(written.contains(&"tfidf.parquet".to_string()));
    assert!(
        !written.iter().any(|t| t.starts_with("assignments")),
        "{written:?}"
    );
}

#[test]
fn bad_files_are_warned_about_and_skipped() {
    let c = Case::new(GOOD);
    c.file("a.txt", b"alpha beta gamma\n\nalpha delta")
        .file("bin.txt", b"\x00\x01binary")
        .file("latin1.txt", b"caf\xe9 alpha");
    let p = c.dir.path().join("p.toml");
    let out = themata(&["run", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("bin.txt: binary file"), "{err}");
    assert!(err.contains("latin1.txt: invalid UTF-8"), "{err}");
    let docs = table(&c.dir.path().join("out"), "documents.parquet");
    assert_eq!(strs(&docs, "path"), ["a.txt", "latin1.txt"]);
    let manifest = std::fs::read_to_string(c.dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("binary file"));
}

#[test]
fn strict_makes_invalid_utf8_an_error_naming_the_file() {
    let c = Case::new(GOOD);
    c.file("a.txt", b"alpha beta gamma\n\nalpha delta")
        .file("bin.txt", b"\x00\xff binary")
        .file("latin1.txt", b"caf\xe9 alpha");
    for cmd in ["run", "ingest"] {
        let p = c.dir.path().join("p.toml");
        let out = themata(&[cmd, p.to_str().unwrap(), "--strict"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains("latin1.txt") && err.contains("invalid UTF-8 at byte 3"),
            "{cmd}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.contains("warning:"), "{err}");
        assert!(c.tables_written().is_empty(), "{cmd}");
        c.assert_no_temporaries();
    }
    // valid files pass under --strict, and the tables are those of a run without it
    // (a binary file is still skipped with a warning)
    let c = Case::new(GOOD);
    c.file("a.txt", "alpha beta gamma\n\nalpha délta".as_bytes())
        .file("bin.txt", b"\x00\xff binary");
    let (code, err) = c.run(&["--strict"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("bin.txt: binary file"), "{err}");
    let strict = table(&c.dir.path().join("out"), "passages.parquet");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(strict.equals_missing(&table(&c.dir.path().join("out"), "passages.parquet")));
    // a strict run never takes the tables of a lenient run as fresh: after a run that decoded
    // invalid UTF-8 with a warning, `run --strict` reads the files again and fails
    let c = Case::new(GOOD);
    c.file("a.txt", b"alpha beta gamma\n\nalpha delta")
        .file("latin1.txt", b"caf\xe9 alpha");
    let (code, err) = c.run(&[]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = c.run(&["--strict"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("latin1.txt"), "{err}");
    // a flag of the ingest stage only
    let help = themata(&["run", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--strict"));
    let p = c.dir.path().join("p.toml");
    assert_eq!(
        themata(&["tfidf", p.to_str().unwrap(), "--strict"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn bom_and_crlf_are_handled() {
    let c = Case::new(GOOD);
    c.file(
        "a.txt",
        "\u{feff}Alpha beta gamma.\r\n\r\nDelta alpha epsilon.\r\n".as_bytes(),
    );
    let (code, err) = c.run(&[]);
    assert_eq!(code, 0, "{err}");
    let ps = table(&c.dir.path().join("out"), "passages.parquet");
    assert_eq!(
        strs(&ps, "text"),
        ["Alpha beta gamma.", "Delta alpha epsilon."]
    );
    assert_eq!(u32s(&ps, "ordinal"), [0, 1]);
    let starts: Vec<u64> = ps
        .column("char_start")
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(starts, [0, 19]);
}

#[test]
fn unreadable_path_is_a_counted_warning() {
    // two live seed words: no too-few-seeds warning besides the one under test
    let c = Case::new(&GOOD.replace("[\"alpha\"]", "[\"alpha\", \"beta\"]"));
    c.file("a.txt", b"alpha beta gamma\n\nalpha delta");
    std::os::unix::fs::symlink(
        "/nonexistent/target.txt",
        c.dir.path().join("docs/dead.txt"),
    )
    .unwrap();
    let (code, err) = c.run(&[]); // --quiet: warnings still show
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: dead.txt: cannot read"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let manifest = std::fs::read_to_string(c.dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("dead.txt: cannot read"));
    // the report counts and lists it
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.dir.path().join("out/report/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["corpus"]["warning_count"], 1);
    assert!(summary["warnings"][0]
        .as_str()
        .unwrap()
        .contains("dead.txt: cannot read"));
    let md = std::fs::read_to_string(c.dir.path().join("out/report/summary.md")).unwrap();
    assert!(md.contains("Warnings: 1."), "{md}");
    assert_eq!(
        strs(
            &table(&c.dir.path().join("out"), "documents.parquet"),
            "path"
        ),
        ["a.txt"]
    );
}

/// A pseudo-random text of about `bytes` bytes on one line: words of a synthetic vocabulary,
/// a sentence every 8 to 23 words (capitalised, so that UAX #29 ends the sentence before it).
/// Returns the text, its number of words and of sentences.
fn one_line_text(bytes: usize) -> (String, usize, usize) {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "so", "ti", "va", "pe", "zu", "qo", "xe", "fi", "gu", "wo",
        "he",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut s = String::with_capacity(bytes + 64);
    let (mut words, mut sentences, mut left) = (0, 0, 0);
    while s.len() < bytes {
        let starts = left == 0;
        if starts {
            left = 8 + (next() % 16) as usize;
        }
        if !s.is_empty() {
            s.push(' ');
        }
        let r = next();
        for k in 0..2 + (r % 3) {
            let syl = SYLLABLES[((r >> (8 + 4 * k)) & 15) as usize];
            if starts && k == 0 {
                s.push_str(&syl[..1].to_uppercase());
                s.push_str(&syl[1..]);
            } else {
                s.push_str(syl);
            }
        }
        words += 1;
        left -= 1;
        if left == 0 {
            s.push('.');
            sentences += 1;
        }
    }
    if left != 0 {
        s.push('.');
        sentences += 1;
    }
    (s, words, sentences)
}

/// Ingest `text` as one file with the given split; (passages, last char_end) after checking
/// the tables hold one document and well-ordered passages.
fn ingest_one_line(text: &str, split: &str) -> (tempfile::TempDir, usize, u64) {
    let c = Case::new(GOOD);
    c.file("big.txt", text.as_bytes());
    let p = c.dir.path().join("p.toml");
    let set = format!("ingest.split={split}");
    let out = themata(&["ingest", p.to_str().unwrap(), "-q", "--set", &set]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{split}: {err}");
    assert!(err.is_empty(), "{err}");
    let o = c.dir.path().join("out");
    let docs = table(&o, "documents.parquet");
    let ps = table(&o, "passages.parquet");
    assert_eq!(u32s(&docs, "n_passages"), [ps.height() as u32], "{split}");
    assert_eq!(
        docs.column("n_chars").unwrap().u64().unwrap().get(0),
        Some(text.chars().count() as u64)
    );
    // no title from a giant line
    assert_eq!(strs(&docs, "title"), [""], "{split}");
    let ends: Vec<u64> = ps
        .column("char_end")
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert!(ends.windows(2).all(|w| w[0] < w[1]), "{split}");
    let n = ps.height();
    c.assert_no_temporaries();
    (c.dir, n, *ends.last().unwrap())
}

/// 50 MB on one line, one paragraph: decoding, splitting, boilerplate rules and shingling
/// are one pass each over the giant passage (no rescans from the start, no pairwise
/// comparison inside it). Completing is the test; the passage is checked exactly.
#[test]
fn fifty_megabyte_single_line_file() {
    let (text, _, _) = one_line_text(50 << 20);
    let (dir, n, end) = ingest_one_line(&text, "paragraph");
    assert_eq!((n, end), (1, text.len() as u64)); // ASCII: bytes = characters
    let ps = table(&dir.path().join("out"), "passages.parquet");
    assert_eq!(strs(&ps, "status"), ["kept"]);
    assert_eq!(
        ps.column("text")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::len),
        Some(text.len())
    );
}

/// The sentence and window splitters on a single long line (5 MB): every sentence and every
/// window is found, with offsets that end where the text does.
#[test]
fn sentences_and_windows_of_a_long_single_line() {
    let (text, n_words, n_sentences) = one_line_text(5 << 20);
    let (_d, n, end) = ingest_one_line(&text, "sentence");
    assert_eq!((n, end), (n_sentences, text.len() as u64));
    let (_d, n, end) = ingest_one_line(&text, "window");
    // windows of 100 words, 20 shared: starts 0, 80, 160, ...; the last ends before the
    // final full stop
    assert_eq!(
        (n, end),
        ((n_words - 100).div_ceil(80) + 1, text.len() as u64 - 1)
    );
}

/// Settings that can be checked before work are: exit 2 naming the file and key, before
/// any table is written.
#[test]
fn pipeline_file_errors_found_before_work_exit_2_before_any_table() {
    for (extra, key, also) in [
        (
            "[analyzer]\nlanguage = \"tamil\"\n",
            "analyzer.stop_words",
            "tamil",
        ),
        (
            "[analyzer]\nstop_words_file = \"nowhere/stop.txt\"\n",
            "analyzer.stop_words_file",
            "nowhere/stop.txt",
        ),
        (
            "[ingest]\nnear_duplicate = 0.0\n",
            "ingest.near_duplicate",
            "(0, 1]",
        ),
        (
            "[cluster]\nmin_margin = 2.0\n",
            "cluster.min_margin",
            "[0, 1]",
        ),
    ] {
        let c = Case::new(&format!("{GOOD}{extra}"));
        c.file("a.txt", b"alpha beta gamma");
        let (code, err) = c.run(&[]);
        assert_eq!(code, 2, "{extra}: {err}");
        assert!(
            err.contains("p.toml") && err.contains(key) && err.contains(also),
            "{extra}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            !c.dir.path().join("out").exists(),
            "{extra}: output written"
        );
    }
}

/// Corrupt Parquet files on which polars' reader aborted the process (found by fuzzing): a
/// run on either is exit code 1 with one line naming the file, no abort and no table.
#[test]
fn corrupt_parquet_files_are_errors_not_aborts() {
    for (name, want) in [
        (
            "parquet-metadata-alloc-abort.parquet",
            "not a readable Parquet file: its footer is corrupt",
        ),
        ("parquet-alloc-abort.parquet", "no text column \"text\""),
    ] {
        let c = Case::new(GOOD);
        let bytes = std::fs::read(root().join("tests/fixtures/fuzz").join(name)).unwrap();
        c.file("a.txt", b"alpha beta gamma\n\nalpha delta")
            .file(name, &bytes);
        let p = c.dir.path().join("p.toml");
        let out = themata(&[
            "run",
            p.to_str().unwrap(),
            "--set",
            "input.patterns=[\"*\"]",
            "-q",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(c.tables_written().is_empty(), "{name}");
    }
}

/// A reader that stops early (`themata analyze … | head -1`) closes the pipe: the command
/// ends quietly with exit code 0 instead of panicking on the write.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // ~95 KB of text, ~200 KB of output: more than a pipe holds, so a write meets the
    // closed end
    let text = "negotiations talks ".repeat(5000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(["analyze", "pipelines/khamenei.toml", &text])
        .current_dir(crate::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("themata runs");
    let mut first = [0u8; 16];
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(first.starts_with(b"negoti"), "{first:?}");
}
