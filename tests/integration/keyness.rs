//! `themata keyness`: the terms key to a group of passages, checked against counts taken
//! from the run's own tables, and its errors.

use super::*;
use std::collections::HashMap;

/// G² of a term's 2 × 2 table, computed here the textbook way.
fn g2(a: f64, b: f64, n1: f64, n2: f64) -> f64 {
    let n = n1 + n2;
    let e = |row: f64, col: f64| row * col / n;
    let cell = |o: f64, e: f64| if o > 0.0 { o * (o / e).ln() } else { 0.0 };
    2.0 * (cell(a, e(n1, a + b))
        + cell(b, e(n2, a + b))
        + cell(n1 - a, e(n1, n - a - b))
        + cell(n2 - b, e(n2, n - a - b)))
}

#[test]
fn keyness_by_document_matches_the_counts_of_the_tables() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let file = tmp.path().join("k/keyness.parquet");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let o = themata(&[
        "keyness",
        out.to_str().unwrap(),
        "--by",
        "document",
        "--top",
        "8",
        "--out",
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("keyness by document"), "{stdout}");

    // each kept passage's document, and its counts, from the tables
    let docs = table(&out, "documents.parquet");
    let source = strs(&docs, "path");
    let passages = table(&out, "passages.parquet");
    let doc_of = u32s(&passages, "doc_id");
    let m = table(&out, "tfidf.parquet");
    let (pids, tids, counts) = (
        u32s(&m, "passage_id"),
        u32s(&m, "term_id"),
        u32s(&m, "count"),
    );
    let mut by: HashMap<(String, u32), f64> = HashMap::new();
    let mut totals: HashMap<String, f64> = HashMap::new();
    for i in 0..pids.len() {
        let s = source[doc_of[pids[i] as usize] as usize].clone();
        if s.is_empty() {
            continue;
        }
        *by.entry((s.clone(), tids[i])).or_default() += counts[i] as f64;
        *totals.entry(s).or_default() += counts[i] as f64;
    }
    assert_eq!(
        totals.len(),
        3,
        "the example has three documents: {totals:?}"
    );
    let all: f64 = totals.values().sum();

    let k = table(file.parent().unwrap(), "keyness.parquet");
    let (groups, ranks, terms) = (strs(&k, "group"), u32s(&k, "rank"), u32s(&k, "term_id"));
    let (target, reference) = (
        k.column("target")
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect::<Vec<_>>(),
        k.column("reference")
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect::<Vec<_>>(),
    );
    let (g2s, ps, lrs) = (f64s(&k, "g2"), f64s(&k, "p_value"), f64s(&k, "log_ratio"));
    let mut seen: HashMap<String, u32> = HashMap::new();
    for i in 0..k.height() {
        let g = &groups[i];
        let a = by.get(&(g.clone(), terms[i])).copied().unwrap_or(0.0);
        let n1 = totals[g];
        let b: f64 = totals
            .keys()
            .filter(|s| *s != g)
            .map(|s| by.get(&(s.clone(), terms[i])).copied().unwrap_or(0.0))
            .sum();
        let n2 = all - n1;
        assert_eq!((target[i] as f64, reference[i] as f64), (a, b), "row {i}");
        // over-represented, G² as the textbook has it, ranked by it
        assert!(a / n1 > b / n2, "row {i}");
        assert!((g2s[i] - g2(a, b, n1, n2)).abs() < 1e-9, "row {i}");
        assert!(ps[i] > 0.0 && ps[i] <= 1.0);
        let rel = |x: f64, n: f64| if x == 0.0 { 0.5 / n } else { x / n };
        assert!((lrs[i] - (rel(a, n1) / rel(b, n2)).log2()).abs() < 1e-12);
        let r = seen.entry(g.clone()).or_insert(0);
        *r += 1;
        assert_eq!(ranks[i], *r);
        if ranks[i] > 1 {
            assert!(g2s[i - 1] >= g2s[i]);
        }
    }
    assert_eq!(seen.len(), totals.len(), "a list for every document");
    assert!(seen.values().all(|&n| n == 8));
    // the printed table shows the labels of the top terms
    let labels = strs(&k, "label");
    assert!(stdout.contains(&labels[0]), "{stdout}");

    // one theme against the others, and a selection of documents against the rest
    let o = themata(&[
        "keyness",
        out.to_str().unwrap(),
        "--by",
        "theme",
        "--group",
        "negotiation",
        "--top",
        "5",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("negotiation:"),
        "{text}"
    );
    assert!(!text.contains("doctrine:"), "{text}");
    let o = themata(&["keyness", out.to_str().unwrap(), "--docs", "000_*"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("documents matching \"000_*\":"), "{text}");
    let o = themata(&["keyness", out.to_str().unwrap(), "--dates", "2020-01-01.."]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("dated 2020-01-01..:"), "{text}");
}

#[test]
fn keyness_errors_name_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let run = |args: &[&str]| {
        let mut all = vec!["keyness", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = themata(&all);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--by", "theme", "--group", "weather"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("\"weather\"") && err.contains("negotiation"),
        "{err}"
    );
    let (code, err) = run(&["--dates", "2020-13.."]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--dates") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    let (code, err) = run(&["--dates", "2021-01-01..2020-01-01"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("ends before it starts"), "{err}");
    // the example knows the source of one document only: one group, nothing to compare
    let (code, err) = run(&["--by", "source"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("two groups") && err.contains("found 1"),
        "{err}"
    );
    // every passage in one group: nothing to compare
    let (code, err) = run(&["--docs", "*"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("two groups"), "{err}");
    // one of --by, --docs, --dates is required (clap's usage error)
    let (code, _) = run(&[]);
    assert_eq!(code, Some(2));
    // not a run directory: the missing table is named
    let o = themata(&["keyness", tmp.path().to_str().unwrap(), "--by", "source"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("documents.parquet"));
}

#[test]
fn collocations_of_the_example_are_its_recurring_phrases() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let o = themata(&["collocations", out.to_str().unwrap(), "--top", "5"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five pairs: {text}");
    // the strongest pair, and its count: the kept passages' occurrences of the phrase
    let first: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&first[..2], ["islamic", "republic"], "{text}");
    let passages = table(&out, "passages.parquet");
    let (texts, status) = (strs(&passages, "text"), strs(&passages, "status"));
    let n: usize = texts
        .iter()
        .zip(&status)
        .filter(|(_, s)| *s == "kept")
        .map(|(t, _)| t.to_lowercase().matches("islamic republic").count())
        .sum();
    assert_eq!(first[2], n.to_string(), "{text}");
    // G² falls down the list
    let g2: Vec<f64> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().rev().nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(g2.windows(2).all(|w| w[0] >= w[1]), "{text}");
    // a higher floor leaves fewer pairs; not a run directory names model.json
    let o = themata(&["collocations", out.to_str().unwrap(), "--min-count", "5"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.split_whitespace().nth(2).unwrap().parse::<u64>().unwrap() >= 5),
        "{text}"
    );
    let o = themata(&["collocations", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("model.json"));
}

/// The rows of a keyness table, in order: (group, rank, term, target, reference, g2).
fn key_rows(df: &DataFrame) -> Vec<(String, u32, String, u64, u64, f64)> {
    let (g, r, t) = (strs(df, "group"), u32s(df, "rank"), strs(df, "term"));
    let u64s = |c: &str| -> Vec<u64> {
        df.column(c)
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let (a, b) = (u64s("target"), u64s("reference"));
    let g2 = f64s(df, "g2");
    (0..df.height())
        .map(|i| (g[i].clone(), r[i], t[i].clone(), a[i], b[i], g2[i]))
        .collect()
}

#[test]
fn the_report_keyness_section_is_the_keyness_command_by_its_field() {
    // the example sets report.keyness = "document" (keyness_top 10)
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let file = tmp.path().join("k.parquet");
    let o = themata(&[
        "keyness",
        out.to_str().unwrap(),
        "--by",
        "document",
        "--top",
        "10",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_command = key_rows(&themata::tables::read(tmp.path(), "k.parquet").unwrap());
    let from_report = key_rows(&table(&out, "keyness.parquet"));
    assert!(!from_report.is_empty());
    assert_eq!(from_report, from_command);

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    let k = &summary["keyness"];
    assert_eq!(k["by"], "document");
    assert!(k["note"].is_null());
    let groups: Vec<&str> = k["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert!(groups.len() >= 2, "{groups:?}");
    assert_eq!(k["rows"].as_array().unwrap().len(), from_report.len());
    for (row, json) in from_report.iter().zip(k["rows"].as_array().unwrap()) {
        assert_eq!(json["group"], row.0.as_str());
        assert_eq!(json["term"], row.2.as_str());
    }
    // the Markdown table: one line per key term, under its heading
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    let section = &md[md
        .find("## Key terms by document")
        .expect("keyness section")..];
    let lines = section
        .lines()
        .take_while(|l| !l.starts_with("## ") || l.starts_with("## Key terms"))
        .filter(|l| groups.iter().any(|g| l.starts_with(&format!("| `{g}` |"))))
        .count();
    assert_eq!(lines, from_report.len());
    for g in &groups {
        assert!(
            std::fs::read_to_string(tmp.path().join("report/summary.html"))
                .unwrap()
                .contains(&format!("aria-label=\"Key terms of {g}\"")),
            "{g}"
        );
    }
}

#[test]
fn report_keyness_with_one_group_is_a_note_and_off_writes_an_empty_table() {
    let tmp = tempfile::tempdir().unwrap();
    // one known source: nothing to compare, said in the report; the run still succeeds
    run_example(tmp.path(), &["--set", "report.keyness=source"]);
    let out = tmp.path().join("out");
    let read = |name: &str| std::fs::read_to_string(tmp.path().join("report").join(name)).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    let note = summary["keyness"]["note"].as_str().expect("a note");
    assert!(
        note.contains("two groups") && note.contains("found 1"),
        "{note}"
    );
    assert!(
        read("summary.md").contains(note),
        "the note is in summary.md"
    );
    assert_eq!(table(&out, "keyness.parquet").height(), 0);
    // only the report stage reruns when its keyness changes; unset, the table has no rows
    let stderr = run_example_with(
        tmp.path(),
        "-v",
        &[
            "--set",
            "report.keyness=source",
            "--set",
            "report.keyness_top=3",
        ],
    );
    assert!(stderr.contains("report"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&read("summary.json")).unwrap();
    assert!(summary["keyness"]["note"].is_string());
    // keyness_top out of range is a settings error naming the key, before any work
    let o = themata(&[
        "run",
        "pipelines/khamenei.toml",
        "--quiet",
        "--output",
        tmp.path().join("other").to_str().unwrap(),
        "--set",
        "report.keyness_top=0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("report.keyness_top"));
    assert!(!tmp.path().join("other/keyness.parquet").exists());
}
