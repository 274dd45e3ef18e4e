//! Guided-theme diagnostics and discovered k on the example corpus: what reaches the tables,
//! the manifest and the report.

use super::*;

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report/summary.json")).unwrap())
        .unwrap()
}

#[test]
fn too_few_live_seeds_is_a_counted_warning_in_manifest_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let err = run_example(
        tmp.path(),
        &["--set", "themes.succession=[\"succeed\", \"heir\"]"],
    );
    let want = "theme \"succession\" has 1 live seed word(s) of 2 (cluster.min_live_seeds = 2); not live: heir (unseen)";
    assert!(err.contains(&format!("warning: {want}")), "{err}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["stages"]["cluster"]["warnings"][0], want);
    let s = summary(tmp.path());
    assert!(s["warnings"].as_array().unwrap().iter().any(|w| w == want));
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(
        md.contains("## Warnings") && md.contains("min\\_live\\_seeds"),
        "{md}"
    );
    // the theme's strength shows the same figures
    let succession = &s["themes"][1]["strength"];
    assert_eq!(succession["seeds"], 2);
    assert_eq!(succession["live_seeds"], 1);
    assert_eq!(succession["seed_passages"], 1);
}

#[test]
fn a_theme_without_live_seeds_is_an_error_listing_each_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = themata(&[
        "run",
        "pipelines/khamenei.toml",
        "-q",
        "--output",
        out.to_str().unwrap(),
        "--set",
        "themes.succession=[\"heir\", \"the\"]",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("\"succession\"")
            && err.contains("heir (unseen)")
            && err.contains("the (stop_word)"),
        "{err}"
    );
    assert!(!out.join("assignments.parquet").exists());
}

#[test]
fn low_margin_passages_are_unassigned_with_their_reason() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &["--set", "cluster.min_margin=0.15"]);
    let a = table(&tmp.path().join("out"), "assignments.parquet");
    let (status, theme, margin) = (strs(&a, "status"), strs(&a, "theme"), f64s(&a, "margin"));
    let cluster = opt_u32s(&a, "cluster");
    let low: Vec<usize> = (0..status.len())
        .filter(|&i| status[i] == "low_margin")
        .collect();
    assert!(!low.is_empty());
    for i in 0..status.len() {
        if status[i] == "low_margin" {
            assert!(margin[i] < 0.15 && cluster[i].is_none() && theme[i] == "unassigned");
        } else {
            assert_eq!(status[i], "assigned");
            assert!(margin[i] >= 0.15 && cluster[i].is_some());
        }
    }
    let s = summary(tmp.path());
    assert_eq!(s["unassigned"], low.len());
    assert_eq!(s["unassigned_by"]["low_margin"], low.len());
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(
        md.contains(&format!(
            "| unassigned | {} | | {} low margin |",
            low.len(),
            low.len()
        )),
        "{md}"
    );
}

#[test]
fn the_example_assigns_every_substantive_passage_with_the_default_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let e = themata::evaluate::evaluate(&out, &root().join("pipelines/khamenei.gold.csv")).unwrap();
    assert_eq!((e.scores.n, e.unassigned), (30, 0));
    assert!(e.scores.accuracy.unwrap() >= 0.9, "{:?}", e.scores);
    // the seed table says what each seed word reads as in this corpus
    let seeds = table(&out, "theme_seeds.parquet");
    let (seed, label, df) = (
        strs(&seeds, "seed"),
        strs(&seeds, "label"),
        u32s(&seeds, "df"),
    );
    let i = seed.iter().position(|s| s == "negotiate").unwrap();
    assert_eq!((label[i].as_str(), df[i]), ("negotiations", 9));
}

#[test]
fn auto_k_sweep_reaches_summary_and_report_and_survives_a_report_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--set",
        "cluster.mode=discover",
        "--set",
        "cluster.k=\"auto\"",
        "--set",
        "cluster.k_min=2",
        "--set",
        "cluster.k_max=4",
    ];
    run_example(tmp.path(), &args);
    let s = summary(tmp.path());
    let sweep = s["k_sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 3);
    let chosen: Vec<&serde_json::Value> = sweep.iter().filter(|r| r["chosen"] == true).collect();
    assert_eq!(chosen.len(), 1);
    let k = chosen[0]["k"].as_u64().unwrap() as usize;
    assert_eq!(
        table(&tmp.path().join("out"), "clusters.parquet").height(),
        k
    );
    assert_eq!(s["themes"].as_array().unwrap().len(), k);
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(
        md.contains("### Choosing k") && md.contains("| k | silhouette |"),
        "{md}"
    );
    assert!(md.contains("**yes**"));
    // `themata report` alone rebuilds the same summary from the tables and the manifest
    let before = std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap();
    let out = tmp.path().join("out");
    let r = format!("report.dir={}", tmp.path().join("report").display());
    let mut report = vec![
        "report",
        "pipelines/khamenei.toml",
        "-q",
        "--output",
        out.to_str().unwrap(),
        "--set",
        &r,
    ];
    report.extend_from_slice(&args);
    themata_ok(&report);
    let after = std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn the_benchmark_pipelines_are_valid() {
    for p in [
        "pipelines/bbc.toml",
        "pipelines/khamenei.toml",
        "pipelines/sklearn-compat.toml",
    ] {
        let out = themata(&["analyze", p, "Elections"]);
        assert!(
            out.status.success(),
            "{p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn with_bigrams_seed_phrases_match_as_phrases() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &["--set", "analyzer.ngrams=[1, 2]"]);
    let out = tmp.path().join("out");
    let seeds = table(&out, "theme_seeds.parquet");
    let (seed, terms, label, status) = (
        strs(&seeds, "seed"),
        strs(&seeds, "terms"),
        strs(&seeds, "label"),
        strs(&seeds, "status"),
    );
    let at = |s: &str| seed.iter().position(|x| x == s).unwrap();
    // "strategic patience" is the bigram, which the first document holds
    let i = at("strategic patience");
    assert_eq!(terms[i], "strateg patienc");
    assert_eq!(label[i], "strategic patience");
    assert_eq!(status[i], "live");
    // a four-word seed is its bigrams, stop words dropped first: "no peace no war"
    // reads as "peac war"
    let i = at("no peace no war");
    assert_eq!(terms[i], "peac war");
    // one-word seeds stay words
    assert_eq!(terms[at("doctrine")], "doctrin");
    // the vocabulary holds the bigrams, labelled by their surface forms
    let vocab = table(&out, "vocabulary.parquet");
    let vterms = strs(&vocab, "term");
    assert!(vterms.iter().any(|t| t == "nuclear deal"));
    let sorted = {
        let mut v = vterms.clone();
        v.sort();
        v
    };
    assert_eq!(vterms, sorted, "terms in code-point order");
    // the analyze command shows the bigrams after the words
    let p = tmp.path().join("bigrams.toml");
    let text = std::fs::read_to_string(root().join("pipelines/khamenei.toml"))
        .unwrap()
        .replace("stem = true", "stem = true\nngrams = [1, 2]")
        .replace(
            "../corpus/khamenei",
            root().join("corpus/khamenei").to_str().unwrap(),
        )
        .replace("../out/khamenei", tmp.path().join("out2").to_str().unwrap())
        .replace(
            "../reports/khamenei",
            tmp.path().join("r2").to_str().unwrap(),
        );
    std::fs::write(&p, text).unwrap();
    let o = themata(&["analyze", p.to_str().unwrap(), "the nuclear deal's end"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "nuclear\tnuclear\ndeal\tdeal\nend\tend\nnuclear deal\tnuclear deal\ndeal end\tdeal end\n"
    );
    // a bad range names the key, exit 2
    let (code, err) = themata_in(
        tmp.path(),
        &[
            "run",
            p.to_str().unwrap(),
            "-q",
            "--set",
            "analyzer.ngrams=[2, 1]",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("analyzer.ngrams"), "{err}");
}
