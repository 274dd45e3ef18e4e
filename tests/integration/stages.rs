//! Stage subcommands read the previous stage's tables from the output directory.

use super::*;

#[test]
fn rerunning_cluster_with_new_themes_changes_only_clustering() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let before_tfidf = table(&out, "tfidf.parquet");
    let before = table(&out, "assignments.parquet");
    let o = out.to_str().unwrap();
    let r = format!("report.dir={}", tmp.path().join("report").display());
    // discover mode with two clusters, from the stored TF-IDF tables
    let args = [
        "--output",
        o,
        "-q",
        "--set",
        &r,
        "--set",
        "cluster.mode=discover",
        "--set",
        "cluster.k=2",
    ];
    let mut cluster = vec!["cluster", "pipelines/khamenei.toml"];
    cluster.extend_from_slice(&args);
    themata_ok(&cluster);
    let after = table(&out, "assignments.parquet");
    assert_eq!(after.height(), before.height());
    assert!(!after.equals_missing(&before));
    assert_eq!(table(&out, "clusters.parquet").height(), 2);
    assert!(table(&out, "tfidf.parquet").equals_missing(&before_tfidf));
    let mut report = vec!["report", "pipelines/khamenei.toml"];
    report.extend_from_slice(&args);
    themata_ok(&report);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["mode"], "discover");
    assert_eq!(summary["themes"].as_array().unwrap().len(), 2);
}

#[test]
fn stages_one_by_one_equal_a_whole_run() {
    let whole = tempfile::tempdir().unwrap();
    run_example(whole.path(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    let r = format!("report.dir={}", tmp.path().join("report").display());
    for stage in ["ingest", "tfidf", "cluster", "report"] {
        themata_ok(&[
            stage,
            "pipelines/khamenei.toml",
            "-q",
            "--output",
            o.to_str().unwrap(),
            "--set",
            &r,
        ]);
    }
    for t in TABLES {
        assert!(
            table(&o, t).equals_missing(&table(&whole.path().join("out"), t)),
            "{t}"
        );
    }
    // the whole run's report stage has the explanations of the passages it shows in memory
    // (the cluster stage keeps only those), the report stage alone reads just those from
    // the table: the same report
    for f in ["summary.json", "summary.md"] {
        let read = |d: &std::path::Path| std::fs::read_to_string(d.join("report").join(f)).unwrap();
        assert_eq!(read(tmp.path()), read(whole.path()), "{f}");
    }
}

#[test]
fn a_stage_without_its_inputs_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = themata(&[
        "cluster",
        "pipelines/khamenei.toml",
        "--output",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("documents.parquet") && err.contains("themata run"),
        "{err}"
    );
}

#[test]
fn analyze_prints_terms_and_surfaces() {
    let out = themata(&[
        "analyze",
        "pipelines/khamenei.toml",
        "The Leader’s negotiations, in 2019",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "leader\tleader\nnegoti\tnegotiations\n");
}

#[test]
fn verbose_shows_fingerprints_and_quiet_shows_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    let r = format!("report.dir={}", tmp.path().join("report").display());
    let err = themata_ok(&[
        "run",
        "pipelines/khamenei.toml",
        "-v",
        "--output",
        o.to_str().unwrap(),
        "--set",
        &r,
    ]);
    assert!(
        err.contains("ingest: fingerprint") && err.contains("cluster: fingerprint"),
        "{err}"
    );
    assert!(err.contains("tfidf: ") && err.contains("terms"), "{err}");
    let err = themata_ok(&[
        "run",
        "pipelines/khamenei.toml",
        "-q",
        "--output",
        o.to_str().unwrap(),
        "--set",
        &r,
    ]);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn help_shows_examples() {
    let out = themata(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:") && text.contains("themata run pipelines/khamenei.toml"));
}

#[test]
fn evaluate_scores_a_run_against_gold_labels() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let a = table(&out, "assignments.parquet");
    let ps = table(&out, "passages.parquet");
    let docs = strs(&table(&out, "documents.parquet"), "path");
    let (doc, ord) = (u32s(&ps, "doc_id"), u32s(&ps, "ordinal"));
    // passage-level gold equal to the run's own themes, except one passage relabelled
    let mut gold = String::from("path,ordinal,label\n");
    let (pids, themes) = (u32s(&a, "passage_id"), strs(&a, "theme"));
    for (i, (p, t)) in pids.iter().zip(&themes).enumerate() {
        let p = *p as usize;
        let label = if i == 0 { "elsewhere" } else { t.as_str() };
        gold += &format!("{},{},{label}\n", docs[doc[p] as usize], ord[p]);
    }
    gold += "missing.txt,0,doctrine\n";
    let g = tmp.path().join("gold.csv");
    std::fs::write(&g, gold).unwrap();
    let o = themata(&[
        "evaluate",
        out.to_str().unwrap(),
        "--gold",
        g.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["level"], "passage");
    assert_eq!(e["unmatched_gold"], 1);
    let n = pids.len() as f64;
    assert_eq!(e["scores"]["n"], pids.len());
    assert!((e["scores"]["accuracy"].as_f64().unwrap() - (n - 1.0) / n).abs() < 1e-12);
    assert!(e["scores"]["ari"].as_f64().unwrap() > 0.8);
    // the table form names the metrics; a gold file without a label column is an error
    let o = themata(&[
        "evaluate",
        out.to_str().unwrap(),
        "--gold",
        g.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("ARI"));
    std::fs::write(&g, "path,ordinal,a,b\nx,0,1,2\n").unwrap();
    let o = themata(&[
        "evaluate",
        out.to_str().unwrap(),
        "--gold",
        g.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("gold.csv"));
}
