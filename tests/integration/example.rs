//! The example pipeline end to end: shapes, joins and invariants of every table.

use super::*;
use std::collections::{HashMap, HashSet};

#[test]
fn example_pipeline_tables_hold_their_invariants() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    for t in TABLES {
        assert!(out.join(t).is_file(), "{t} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // documents
    let docs = table(&out, "documents.parquet");
    assert_eq!(docs.height(), 3);
    assert_eq!(u32s(&docs, "doc_id"), [0, 1, 2]);
    let paths = strs(&docs, "path");
    assert_eq!(
        paths,
        [
            "000_9c0cbd12d0f385b8.txt",
            "001_ec387abb70685b0e.txt",
            "002_f2c565c7ccc5981d.txt"
        ]
    );
    assert_eq!(
        strs(&docs, "title")[0],
        "The Collapse of the Khamenei Doctrine"
    );

    // passages: ids dense, ordinals dense per document, joins to documents
    let ps = table(&out, "passages.parquet");
    let pid = u32s(&ps, "passage_id");
    assert_eq!(pid, (0..ps.height() as u32).collect::<Vec<_>>());
    let pdoc = u32s(&ps, "doc_id");
    let ord = u32s(&ps, "ordinal");
    let n_passages = u32s(&docs, "n_passages");
    for d in 0..3u32 {
        let ords: Vec<u32> = (0..pid.len())
            .filter(|&i| pdoc[i] == d)
            .map(|i| ord[i])
            .collect();
        assert_eq!(ords, (0..n_passages[d as usize]).collect::<Vec<_>>());
    }
    let status = strs(&ps, "status");
    assert!(status
        .iter()
        .all(|s| ["kept", "boilerplate", "duplicate"].contains(&s.as_str())));
    let kept: HashSet<u32> = (0..pid.len())
        .filter(|&i| status[i] == "kept")
        .map(|i| pid[i])
        .collect();
    assert_eq!(kept.len(), 31);

    // vocabulary: sorted unique terms
    let vocab = table(&out, "vocabulary.parquet");
    let terms = strs(&vocab, "term");
    assert!(terms.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        u32s(&vocab, "term_id"),
        (0..terms.len() as u32).collect::<Vec<_>>()
    );
    let labels = strs(&vocab, "label");
    assert!(labels.iter().all(|l| !l.is_empty()));
    let df = u32s(&vocab, "df");
    let kept_term: Vec<bool> = vocab
        .column("kept")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|b| b.unwrap())
        .collect();
    let reason = strs(&vocab, "dropped_reason");
    for i in 0..terms.len() {
        assert_eq!(kept_term[i], reason[i].is_empty(), "{}", terms[i]);
    }
    // "negoti" is shown as a word a person reads
    let neg = terms.iter().position(|t| t == "negoti").unwrap();
    assert!(labels[neg].starts_with("negotiation"), "{}", labels[neg]);

    // tfidf: only kept passages and kept terms; df = rows holding the term; unit rows
    let m = table(&out, "tfidf.parquet");
    let (mp, mt, mw) = (
        u32s(&m, "passage_id"),
        u32s(&m, "term_id"),
        f64s(&m, "weight"),
    );
    let mut rows_of_term: HashMap<u32, HashSet<u32>> = HashMap::new();
    let mut norms: HashMap<u32, f64> = HashMap::new();
    for i in 0..mp.len() {
        assert!(kept.contains(&mp[i]), "passage {} is not kept", mp[i]);
        assert!(kept_term[mt[i] as usize]);
        assert!(mw[i] > 0.0);
        rows_of_term.entry(mt[i]).or_default().insert(mp[i]);
        *norms.entry(mp[i]).or_default() += mw[i] * mw[i];
    }
    for (t, rows) in &rows_of_term {
        assert_eq!(
            df[*t as usize] as usize,
            rows.len(),
            "df of {}",
            terms[*t as usize]
        );
    }
    for (p, n2) in &norms {
        assert!(
            (n2.sqrt() - 1.0).abs() < 1e-12,
            "row {p} has norm {}",
            n2.sqrt()
        );
    }

    // assignments: every kept passage exactly once, themes from the pipeline
    let a = table(&out, "assignments.parquet");
    let ap = u32s(&a, "passage_id");
    assert_eq!(ap.len(), kept.len());
    assert_eq!(ap.iter().copied().collect::<HashSet<_>>(), kept);
    let themes = strs(&a, "theme");
    let clusters = opt_u32s(&a, "cluster");
    let names = ["doctrine", "succession", "negotiation"];
    for i in 0..ap.len() {
        match clusters[i] {
            Some(c) => assert_eq!(themes[i], names[c as usize]),
            None => assert_eq!(themes[i], "unassigned"),
        }
    }
    for (s, mg) in f64s(&a, "similarity").iter().zip(f64s(&a, "margin")) {
        assert!((0.0..=1.0 + 1e-9).contains(s) && mg >= 0.0);
    }
    for name in names {
        assert!(themes.iter().any(|t| t == name), "no passage in {name}");
    }

    // clusters and their terms
    let cl = table(&out, "clusters.parquet");
    assert_eq!(strs(&cl, "theme"), names);
    let sizes = u32s(&cl, "size");
    for (c, size) in sizes.iter().enumerate() {
        assert_eq!(
            *size as usize,
            clusters.iter().filter(|x| **x == Some(c as u32)).count()
        );
    }
    let ct = table(&out, "cluster_terms.parquet");
    let (cc, rank, tid) = (
        u32s(&ct, "cluster"),
        u32s(&ct, "rank"),
        u32s(&ct, "term_id"),
    );
    let ct_terms = strs(&ct, "term");
    for i in 0..cc.len() {
        assert_eq!(ct_terms[i], terms[tid[i] as usize]);
        if i > 0 && cc[i] == cc[i - 1] {
            assert_eq!(rank[i], rank[i - 1] + 1);
        } else {
            assert_eq!(rank[i], 1);
        }
    }
    let neg_terms: Vec<&String> = (0..cc.len())
        .filter(|&i| cc[i] == 2)
        .map(|i| &ct_terms[i])
        .collect();
    assert!(neg_terms.iter().any(|t| *t == "negoti"), "{neg_terms:?}");

    // manifest and report
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for s in ["ingest", "tfidf", "cluster", "report"] {
        assert!(
            manifest["stages"][s]["fingerprint"].as_str().unwrap().len() == 64,
            "{s}"
        );
    }
    assert_eq!(
        manifest["stages"]["ingest"]["rows"]["passages"],
        ps.height()
    );
    assert_eq!(manifest["stages"]["tfidf"]["rows"]["tfidf"], m.height());
    assert_eq!(
        manifest["stages"]["ingest"]["inputs"]
            .as_object()
            .unwrap()
            .len(),
        3
    );
    let report = tmp.path().join("report");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["themes"].as_array().unwrap().len(), 3);
    assert_eq!(summary["corpus"]["passages"], ps.height());
    for t in summary["themes"].as_array().unwrap() {
        let reps = t["representatives"].as_array().unwrap();
        assert!(!reps.is_empty() && reps.len() <= 3);
        assert!(!t["top_terms"][0].as_str().unwrap().is_empty());
    }
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    for name in names {
        assert!(
            md.contains(&format!("### {name}")),
            "{name} section missing"
        );
    }
    assert!(md.contains("000_9c0cbd12d0f385b8.txt"));
}

#[test]
fn reruns_give_identical_tables() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_example(a.path(), &[]);
    run_example(b.path(), &[]);
    for t in TABLES {
        let (x, y) = (
            table(&a.path().join("out"), t),
            table(&b.path().join("out"), t),
        );
        assert!(x.equals_missing(&y), "{t} differs between runs");
    }
    let read = |d: &Path| std::fs::read_to_string(d.join("report/summary.json")).unwrap();
    assert_eq!(read(a.path()), read(b.path()));
}

#[test]
fn the_committed_example_report_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    // summary.html shows timings, threads and themata's version: those are left out
    for f in ["summary.md", "summary.json", "summary.html"] {
        let read = |p: std::path::PathBuf| {
            themata::report::without_volatile(&std::fs::read_to_string(p).unwrap())
        };
        let fresh = read(tmp.path().join("report").join(f));
        let committed = read(root().join("reports/khamenei").join(f));
        assert!(
            fresh == committed,
            "reports/khamenei/{f} is stale: run `cargo run --release -- run pipelines/khamenei.toml --force`"
        );
    }
}

/// The README's main command on a fresh clone leaves the committed report as it is: a run
/// into a directory holding it rewrites no byte (summary.html only changes when more than
/// its run details would), and `--output` elsewhere takes the report with it.
#[test]
fn running_the_example_again_leaves_the_committed_report_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report");
    std::fs::create_dir_all(&report).unwrap();
    let files = ["summary.md", "summary.json", "summary.html"];
    for f in files {
        std::fs::copy(root().join("reports/khamenei").join(f), report.join(f)).unwrap();
    }
    run_example(tmp.path(), &[]);
    for f in files {
        assert!(
            std::fs::read(report.join(f)).unwrap()
                == std::fs::read(root().join("reports/khamenei").join(f)).unwrap(),
            "{f} was rewritten"
        );
    }
    // --output without --set report.dir: the report goes to OUTPUT/report
    let out = tmp.path().join("elsewhere");
    themata_ok(&[
        "run",
        "pipelines/khamenei.toml",
        "-q",
        "--output",
        out.to_str().unwrap(),
    ]);
    for f in files {
        assert!(out.join("report").join(f).is_file(), "{f}");
    }
}

/// The example corpus's metadata, pinned: read from the first lines of each text, and only
/// where their shape is plain. 000 opens with a dateline and its title; 001 with its source,
/// title and a `date | author` byline; 002 with body text, so nothing is known of it.
#[test]
fn example_document_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let docs = table(&tmp.path().join("out"), "documents.parquet");
    let cols: Vec<Vec<String>> = ["title", "date", "author", "source"]
        .iter()
        .map(|c| strs(&docs, c))
        .collect();
    let row = |i: usize| -> Vec<&str> { cols.iter().map(|c| c[i].as_str()).collect() };
    assert_eq!(
        row(0),
        [
            "The Collapse of the Khamenei Doctrine",
            "2025-01-23",
            "",
            ""
        ]
    );
    assert_eq!(
        row(1),
        [
            "Khamenei’s calculations",
            "2019-06-28",
            "Mehdi Khalaji",
            "Australia/Israel Review"
        ]
    );
    assert_eq!(row(2), ["", "", "", ""]);
    // title stays null where unknown; date, author and source are empty strings
    assert_eq!(docs.column("title").unwrap().null_count(), 1);
    for c in ["date", "author", "source"] {
        assert_eq!(docs.column(c).unwrap().null_count(), 0, "{c}");
    }
}

/// The example corpus's boilerplate and duplicates, pinned: the second Khalaji rendition
/// (002) repeats the first (001) paragraph for paragraph, some merged; the Doctrine essay (000)
/// has only its dateline, title and reading time set aside.
#[test]
fn example_boilerplate_and_duplicates_are_marked() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let ps = table(&out, "passages.parquet");
    let (doc, ord, status, reason) = (
        u32s(&ps, "doc_id"),
        u32s(&ps, "ordinal"),
        strs(&ps, "status"),
        strs(&ps, "reason"),
    );
    let dup_of = opt_u32s(&ps, "duplicate_of");
    let of = |d: u32, st: &str| {
        (0..doc.len())
            .filter(|&i| doc[i] == d && status[i] == st)
            .count()
    };
    // 000: three lines of page furniture, fifteen body paragraphs, no duplicate
    assert_eq!(
        (of(0, "boilerplate"), of(0, "kept"), of(0, "duplicate")),
        (3, 15, 0)
    );
    let reasons0: Vec<&str> = (0..3).map(|i| reason[i].as_str()).collect();
    assert_eq!(reasons0, ["dateline", "heading", "read_time"]);
    // 001: 15 body paragraphs kept; header, bio, tags and the related-article list set aside
    assert_eq!(
        (of(1, "kept"), of(1, "boilerplate"), of(1, "duplicate")),
        (15, 25, 0)
    );
    // 002: every body paragraph but the opening dek repeats 001
    assert_eq!(
        (of(2, "kept"), of(2, "duplicate"), of(2, "boilerplate")),
        (1, 11, 2)
    );
    for i in 0..doc.len() {
        if status[i] == "duplicate" {
            let j = dup_of[i].unwrap() as usize;
            assert_eq!(
                (doc[i], doc[j], status[j].as_str()),
                (2, 1, "kept"),
                "passage {i}"
            );
            assert!(["near", "merged", "contained", "exact"].contains(&reason[i].as_str()));
        } else {
            assert_eq!(dup_of[i], None);
        }
    }
    let caption = (0..doc.len()).filter(|&i| reason[i] == "caption").count();
    assert_eq!(caption, 6);
    assert!((0..doc.len()).any(|i| doc[i] == 2 && ord[i] == 13 && reason[i] == "author_bio"));
    // the duplicates table lists the same pairs
    let d = table(&out, "duplicates.parquet");
    assert_eq!(d.height(), 11);
    assert!(f64s(&d, "containment").iter().all(|c| *c >= 0.75));
    // and the report shows what was set aside
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(
        md.contains("## Set aside")
            && md.contains("7 duplicate (near)")
            && md.contains("6 boilerplate (caption)"),
        "{md}"
    );
}

/// Same input, pipeline and seed → the same tables with 1 and with 2 threads, for the exact
/// TF-IDF space (guided), the LSA path in discover mode (k-means++) and in guided mode with
/// an extra free cluster.
#[test]
fn tables_do_not_depend_on_the_thread_count() {
    for extra in [
        &[][..],
        &[
            "--set",
            "cluster.reduce=lsa",
            "--set",
            "cluster.lsa_dims=8",
            "--set",
            "cluster.mode=discover",
            "--set",
            "cluster.k=3",
        ][..],
        &[
            "--set",
            "cluster.reduce=lsa",
            "--set",
            "cluster.lsa_dims=8",
            "--set",
            "cluster.extra_clusters=1",
        ][..],
    ] {
        let mut outs = Vec::new();
        for threads in ["1", "2"] {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            let report = format!("report.dir={}", tmp.path().join("report").display());
            let mut args = vec![
                "run",
                "pipelines/khamenei.toml",
                "-q",
                "--output",
                out.to_str().unwrap(),
                "--set",
                &report,
            ];
            args.extend_from_slice(extra);
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_themata"))
                .args(&args)
                .current_dir(root())
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            outs.push(tmp);
        }
        for t in TABLES {
            let (a, b) = (
                table(&outs[0].path().join("out"), t),
                table(&outs[1].path().join("out"), t),
            );
            assert!(
                a.equals_missing(&b),
                "{t} differs between 1 and 2 threads ({extra:?})"
            );
        }
        // the report too, passage map included (summary.html without its run details)
        for f in ["summary.json", "summary.html"] {
            let read = |d: &Path| {
                themata::report::without_volatile(
                    &std::fs::read_to_string(d.join("report").join(f)).unwrap(),
                )
            };
            assert!(
                read(outs[0].path()) == read(outs[1].path()),
                "{f} differs between 1 and 2 threads ({extra:?})"
            );
        }
    }
}

/// `ingest.boilerplate = false` and `ingest.dedupe = false` turn the marking off: every
/// passage long enough is kept.
#[test]
fn boilerplate_and_duplicate_marking_can_be_turned_off() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(
        tmp.path(),
        &[
            "--set",
            "ingest.boilerplate=false",
            "--set",
            "ingest.dedupe=false",
        ],
    );
    let ps = table(&tmp.path().join("out"), "passages.parquet");
    let status = strs(&ps, "status");
    assert!(
        status.iter().all(|s| s == "kept" || s == "short"),
        "{status:?}"
    );
    assert!(status.iter().filter(|s| *s == "kept").count() > 31);
    assert_eq!(
        table(&tmp.path().join("out"), "duplicates.parquet").height(),
        0
    );
}
