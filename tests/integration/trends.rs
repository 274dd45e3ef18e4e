//! Themes over time and by group (`report.over`, `report.by`): theme_trends.parquet and the
//! report's figures on dated records from two sources.

use super::*;
use std::collections::BTreeMap;

const PIPELINE: &str = r#"name = "trends"
output = "out"

[input]
root = "corpus"
patterns = ["*.jsonl"]
id_column = "id"
date_column = "published"
source_column = "site"

[ingest]
split = "document"

[cluster]
mode = "guided"

[report]
over = "auto"
by = "source"

[themes]
sport = ["football", "goal", "match", "team"]
money = ["market", "shares", "bank", "investors"]
"#;

const NAMES: [&str; 24] = [
    "Arden",
    "Belmont",
    "Corvin",
    "Dunmore",
    "Elston",
    "Farrow",
    "Glenrock",
    "Harwick",
    "Ilford",
    "Jarrow",
    "Kelso",
    "Lanark",
    "Morven",
    "Norwick",
    "Oakham",
    "Penrith",
    "Quarry",
    "Rushden",
    "Selkirk",
    "Thirsk",
    "Ulverston",
    "Ventnor",
    "Wexham",
    "Yarmouth",
];
const VERBS: [&str; 24] = [
    "beat",
    "edged",
    "thrashed",
    "outplayed",
    "stunned",
    "held",
    "surprised",
    "overcame",
    "defeated",
    "toppled",
    "routed",
    "eclipsed",
    "humbled",
    "outran",
    "pipped",
    "downed",
    "bested",
    "crushed",
    "frustrated",
    "overpowered",
    "upset",
    "dominated",
    "trounced",
    "squeezed",
];

fn sport(i: usize) -> String {
    let (a, b, v) = (NAMES[i], NAMES[(i + 7) % 24], VERBS[i]);
    format!(
        "{a} {v} {b} in a tense football match, and the team celebrated a late goal. Fans of \
         {a} sang about the {v} keeper while {b} supporters walked home early."
    )
}

fn money(i: usize) -> String {
    let (a, b, v) = (
        NAMES[(i + 3) % 24],
        NAMES[(i + 11) % 24],
        VERBS[(i + 5) % 24],
    );
    format!(
        "Shares of {a} bank rose as investors cheered the market rally, while {b} traders \
         said rivals were {v} by rates. Investors in {a} stock expect the bank to lift its \
         dividend."
    )
}

/// 27 records: January 2024 (8 sport, 4 money), March (1 sport, 2 money: thin), October
/// (5 and 5) and two undated ones; sport from "Daily Sport", money from "Money Weekly",
/// the undated ones from no site.
fn corpus(dir: &Path) {
    let mut lines = Vec::new();
    let mut n = 0;
    let mut rec = |text: String, date: Option<&str>, site: Option<&str>| {
        let mut v = serde_json::json!({ "id": format!("{n:02}"), "text": text });
        if let Some(d) = date {
            v["published"] = d.into();
        }
        if let Some(s) = site {
            v["site"] = s.into();
        }
        lines.push(v.to_string());
        n += 1;
    };
    let (sp, mo) = (Some("Daily Sport"), Some("Money Weekly"));
    for i in 0..8 {
        rec(sport(i), Some(&format!("2024-01-{:02}", 2 + i)), sp);
    }
    for i in 0..4 {
        rec(money(i), Some(&format!("2024-01-{:02}", 20 + i)), mo);
    }
    rec(sport(8), Some("2024-03-14"), sp);
    rec(money(4), Some("2024-03-02"), mo);
    rec(money(5), Some("2024-03-30"), mo);
    for i in 0..5 {
        rec(sport(9 + i), Some(&format!("2024-10-{:02}", 10 + i)), sp);
        rec(money(6 + i), Some(&format!("2024-10-{:02}", 20 + i)), mo);
    }
    rec(sport(14), None, None);
    rec(money(11), None, None);
    std::fs::create_dir_all(dir.join("corpus")).unwrap();
    std::fs::write(dir.join("corpus/news.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("p.toml"), PIPELINE).unwrap();
}

fn run(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["run", "p.toml", "--quiet"];
    args.extend_from_slice(extra);
    themata_in(dir, &args)
}

fn bools(df: &DataFrame, col: &str) -> Vec<bool> {
    df.column(col)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|b| b.expect("no nulls"))
        .collect()
}

/// One view's rows: bucket → (bucket_start, [(theme, passages, share)], bucket_passages,
/// thin, [top_terms]).
type View = BTreeMap<String, (String, Vec<(String, u32, f64)>, u32, bool, Vec<String>)>;

fn view(df: &DataFrame, name: &str) -> (Vec<String>, View) {
    let (views, buckets, starts, themes) = (
        strs(df, "view"),
        strs(df, "bucket"),
        strs(df, "bucket_start"),
        strs(df, "theme"),
    );
    let (passages, shares, totals, thin, terms) = (
        u32s(df, "passages"),
        f64s(df, "share"),
        u32s(df, "bucket_passages"),
        bools(df, "thin"),
        strs(df, "top_terms"),
    );
    let mut order = Vec::new();
    let mut out = View::new();
    for i in 0..df.height() {
        if views[i] != name {
            continue;
        }
        if !order.contains(&buckets[i]) {
            order.push(buckets[i].clone());
        }
        let e = out
            .entry(buckets[i].clone())
            .or_insert_with(|| (starts[i].clone(), vec![], totals[i], thin[i], vec![]));
        e.1.push((themes[i].clone(), passages[i], shares[i]));
        e.4.push(terms[i].clone());
        assert_eq!((e.2, e.3), (totals[i], thin[i]), "one bucket, one total");
    }
    (order, out)
}

#[test]
fn themes_over_time_and_by_source_on_dated_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    corpus(dir);
    let (code, err) = run(dir, &[]);
    assert_eq!(code, Some(0), "{err}");
    let out = dir.join("out");
    let df = table(&out, "theme_trends.parquet");
    // every assigned: the guided themes take every record
    let a = table(&out, "assignments.parquet");
    assert_eq!(a.height(), 27);
    assert!(strs(&a, "theme").iter().all(|t| t != "unassigned"));

    // over = "auto": Jan to Oct 2024 is 41 ISO weeks (> 30) and 10 months: by month
    assert!(strs(&df, "dimension")
        .iter()
        .zip(strs(&df, "view"))
        .all(|(d, v)| (v == "over" && d == "month") || (v == "by" && d == "source")));
    let (order, over) = view(&df, "over");
    assert_eq!(order, ["2024-01", "2024-03", "2024-10", "undated"]);
    let passages = |b: &str| -> Vec<u32> { over[b].1.iter().map(|x| x.1).collect() };
    assert_eq!(passages("2024-01"), [8, 4]);
    assert_eq!(passages("2024-03"), [1, 2]);
    assert_eq!(passages("2024-10"), [5, 5]);
    assert_eq!(
        passages("undated"),
        [1, 1],
        "undated passages are counted, not dropped"
    );
    assert_eq!(over["2024-01"].0, "2024-01-01");
    assert_eq!(over["undated"].0, "", "no first day for undated");
    for (b, (_, themes, total, _, _)) in &over {
        let sum: f64 = themes.iter().map(|x| x.2).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{b}: shares sum to {sum}");
        assert_eq!(*total, themes.iter().map(|x| x.1).sum::<u32>());
        let names: Vec<&str> = themes.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["sport", "money"], "every theme in cluster order");
    }
    assert!((over["2024-01"].1[0].2 - 8.0 / 12.0).abs() < 1e-5);
    // thin slices: fewer than 10 assigned passages (the default)
    let thin: Vec<(&str, bool)> = order.iter().map(|b| (b.as_str(), over[b].3)).collect();
    assert_eq!(
        thin,
        [
            ("2024-01", false),
            ("2024-03", true),
            ("2024-10", false),
            ("undated", true)
        ]
    );
    // the bucket's distinctive terms of each theme
    let jan = &over["2024-01"].4;
    assert!(
        jan[0].contains("football") || jan[0].contains("goal"),
        "{jan:?}"
    );
    assert!(
        jan[1].contains("bank") || jan[1].contains("investors"),
        "{jan:?}"
    );
    assert!(jan[0].split(", ").count() <= 5);

    // by = "source"
    let (order, by) = view(&df, "by");
    assert_eq!(order, ["Daily Sport", "Money Weekly", "(none)"]);
    let passages = |b: &str| -> Vec<u32> { by[b].1.iter().map(|x| x.1).collect() };
    assert_eq!(passages("Daily Sport"), [14, 0]);
    assert_eq!(passages("Money Weekly"), [0, 11]);
    assert_eq!(passages("(none)"), [1, 1]);
    assert_eq!(by["Daily Sport"].1[0].2, 1.0);
    assert!(by["Daily Sport"].4[1].is_empty(), "no passage, no terms");
    assert_eq!(by["Daily Sport"].0, "", "groups have no first day");
    assert!(!by["Daily Sport"].3 && !by["Money Weekly"].3 && by["(none)"].3);

    // the report says the same
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report/summary.json")).unwrap())
            .unwrap();
    let t = &s["trends"];
    assert_eq!(t[0]["view"], "over");
    assert_eq!(t[0]["dimension"], "month");
    assert_eq!(t[0]["auto"], true);
    assert_eq!(t[0]["buckets"][1]["bucket"], "2024-03");
    assert_eq!(t[0]["buckets"][1]["thin"], true);
    assert_eq!(t[0]["buckets"][1]["assigned"], 3);
    assert_eq!(t[1]["view"], "by");
    let md = std::fs::read_to_string(out.join("report/summary.md")).unwrap();
    assert!(md.contains("## Themes over time, by month"), "{md}");
    assert!(
        md.contains("| 2024-03 | 3 | 0 | 33.3 % (1) | 66.7 % (2) | **thin** |"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report/summary.html")).unwrap();
    for id in [
        "theme-trends-over",
        "theme-trends-over-0",
        "theme-trends-over-1",
        "theme-trends-by",
    ] {
        assert!(html.contains(&format!("<svg id=\"{id}\"")), "{id}");
    }
    let line = &html[html.find("<svg id=\"theme-trends-over\"").unwrap()..];
    let line = &line[..line.find("</svg>").unwrap()];
    // two themes × three dated buckets; the thin March points are hollow
    assert_eq!(line.matches("<circle").count(), 6);
    assert_eq!(line.matches("class=\"thin\"").count(), 2);

    // a named unit, and a threshold: the report stage reruns (its key holds both)
    let (code, err) = run(
        dir,
        &[
            "--set",
            "report.over=\"week\"",
            "--set",
            "report.min_bucket_passages=2",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let df = table(&out, "theme_trends.parquet");
    let (order, over) = view(&df, "over");
    assert_eq!(order.first().map(String::as_str), Some("2024-W01"));
    assert!(order.contains(&"2024-W41".to_string()), "{order:?}");
    assert_eq!(
        over["2024-W01"].0, "2024-01-01",
        "ISO weeks start on Monday"
    );
    assert!(!over["undated"].3, "2 assigned passages are enough at 2");

    // no view: an empty table
    std::fs::write(
        dir.join("p.toml"),
        PIPELINE.replace("over = \"auto\"\nby = \"source\"\n", ""),
    )
    .unwrap();
    let (code, err) = run(dir, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(table(&out, "theme_trends.parquet").height(), 0);
    // no report.keyness either: keyness.parquet is written, with no rows
    assert_eq!(table(&out, "keyness.parquet").height(), 0);
}

#[test]
fn bad_trend_settings_exit_2_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    corpus(dir);
    for (set, key) in [
        ("report.over=\"fortnight\"", "report.over"),
        ("report.by=\"site\"", "report.by"),
    ] {
        let (code, err) = run(dir, &["--set", set]);
        assert_eq!(code, Some(2), "{set}: {err}");
        assert!(err.contains(key), "{set}: {err}");
        assert!(!dir.join("out").exists(), "{set}: nothing written");
    }
}
