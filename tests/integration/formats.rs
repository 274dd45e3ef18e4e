//! Record inputs: each format with a small fixture written by the test.

use super::*;

/// The documents' title, date, author and source columns.
fn meta(docs: &polars::prelude::DataFrame) -> [Vec<String>; 4] {
    ["title", "date", "author", "source"].map(|c| strs(docs, c))
}

/// [`run_on`], asserting that the run succeeded (showing its stderr if not).
fn run_ok(files: &[(&str, &[u8])], input: &str) -> tempfile::TempDir {
    let (dir, out) = run_on(files, input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn run_on(files: &[(&str, &[u8])], input: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join("docs").join(name), content).unwrap();
    }
    let pipeline = format!(
        "name = \"t\"\noutput = \"out\"\n[input]\nroot = \"docs\"\npatterns = [\"*\"]\n{input}\n\
         [cluster]\nmode = \"discover\"\nk = 2\n"
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let p = dir.path().join("p.toml");
    let out = themata(&["run", p.to_str().unwrap()]);
    (dir, out)
}

const TEXTS: [&str; 4] = [
    "Negotiations with Washington over the nuclear deal stalled again.",
    "The supreme leader's doctrine of resistance shapes the regime's posture.",
    "Diplomats expect new talks on sanctions and the nuclear programme.",
    "Ideology and revolutionary doctrine drive the axis of resistance.",
];

fn check_documents(dir: &Path, want_paths: &[&str], want_title: Option<&str>) {
    let out = dir.join("out");
    let docs = table(&out, "documents.parquet");
    assert_eq!(strs(&docs, "path"), want_paths);
    if let Some(t) = want_title {
        assert_eq!(strs(&docs, "title")[0], t);
    }
    let ps = table(&out, "passages.parquet");
    assert_eq!(strs(&ps, "text")[0], TEXTS[0]);
    assert_eq!(table(&out, "assignments.parquet").height(), 4);
}

#[test]
fn json_lines_records_become_documents() {
    let mut data = String::new();
    for (i, t) in TEXTS.iter().enumerate() {
        data += &serde_json::json!({"id": format!("n{i}"), "headline": format!("H{i}"), "body": t})
            .to_string();
        data.push('\n');
    }
    let dir = run_ok(
        &[("news.jsonl", data.as_bytes())],
        "text_column = \"body\"\nid_column = \"id\"\ntitle_column = \"headline\"",
    );
    check_documents(
        dir.path(),
        &[
            "news.jsonl#n0",
            "news.jsonl#n1",
            "news.jsonl#n2",
            "news.jsonl#n3",
        ],
        Some("H0"),
    );
}

#[test]
fn csv_rows_become_documents() {
    let mut data = String::from("text,source\n");
    for t in TEXTS {
        data += &format!("\"{t}\",wire\n");
    }
    let dir = run_ok(&[("news.csv", data.as_bytes())], "");
    // without an id column, documents are named by CSV line
    check_documents(
        dir.path(),
        &["news.csv#2", "news.csv#3", "news.csv#4", "news.csv#5"],
        None,
    );
}

#[test]
fn parquet_rows_become_documents() {
    let mut df = df!("doc" => ["a", "b", "c", "d"], "content" => TEXTS).unwrap();
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
    let dir = run_ok(
        &[("news.parquet", &buf)],
        "text_column = \"content\"\nid_column = \"doc\"",
    );
    check_documents(
        dir.path(),
        &[
            "news.parquet#a",
            "news.parquet#b",
            "news.parquet#c",
            "news.parquet#d",
        ],
        None,
    );
}

#[test]
fn csv_without_its_text_column_fails_naming_file_and_columns() {
    let (dir, out) = run_on(&[("news.csv", b"body,source\nx,y\n")], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("news.csv")
            && err.contains("no text column \"text\"")
            && err.contains("body, source"),
        "{err}"
    );
    assert!(!dir.path().join("out/documents.parquet").exists());
}

#[test]
fn corrupt_parquet_input_fails_naming_the_file() {
    let (dir, out) = run_on(&[("news.parquet", b"PAR1 this is not parquet PAR1")], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("news.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert!(!dir.path().join("out/documents.parquet").exists());
}

#[test]
fn malformed_json_line_is_a_counted_warning() {
    let mut data = String::new();
    for t in TEXTS {
        data += &serde_json::json!({ "text": t }).to_string();
        data.push('\n');
    }
    data.insert_str(0, "{\"text\": broken\n");
    let (dir, out) = run_on(&[("news.jsonl", data.as_bytes())], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("news.jsonl:1: malformed JSON"), "{err}");
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("news.jsonl:1: malformed JSON"));
    assert_eq!(
        table(&dir.path().join("out"), "documents.parquet").height(),
        4
    );
}

/// Every passage's text is the white-space-folded span of the document text that its
/// character offsets name.
fn check_offsets(doc_text: &str, ps: &DataFrame) {
    let chars: Vec<char> = doc_text.chars().collect();
    let texts = strs(ps, "text");
    let col = |c: &str| -> Vec<u64> {
        ps.column(c)
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let (starts, ends) = (col("char_start"), col("char_end"));
    for i in 0..texts.len() {
        let span: String = chars[starts[i] as usize..ends[i] as usize].iter().collect();
        let folded = span.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(folded, texts[i], "passage {i}");
    }
}

const MARKDOWN: &str = "---
title: \"Front: the Title\"
date: 2024-05-01
author: Jane Doe
source: 'The Review'
tags: [iran, talks]
---
# Heading of the *piece*

Negotiations with **Washington** over the [nuclear deal](https://example.org/deal)
stalled again.

- The supreme leader's doctrine of `resistance` shapes the regime's posture.
- Diplomats expect new talks on sanctions ![and the nuclear programme](chart.png).

> Ideology and revolutionary doctrine
> drive the axis of resistance.
";

#[test]
fn markdown_files_lose_their_markup_and_keep_their_front_matter() {
    let dir = run_ok(&[("essay.md", MARKDOWN.as_bytes())], "");
    let o = dir.path().join("out");
    let docs = table(&o, "documents.parquet");
    assert_eq!(strs(&docs, "path"), ["essay.md"]);
    assert_eq!(
        meta(&docs),
        [
            ["Front: the Title"],
            ["2024-05-01"],
            ["Jane Doe"],
            ["The Review"]
        ]
    );
    let ps = table(&o, "passages.parquet");
    assert_eq!(
        strs(&ps, "text"),
        [
            "Heading of the piece",
            "Negotiations with Washington over the nuclear deal stalled again.",
            "The supreme leader's doctrine of resistance shapes the regime's posture.",
            "Diplomats expect new talks on sanctions and the nuclear programme.",
            "Ideology and revolutionary doctrine drive the axis of resistance.",
        ]
    );
    let (text, _) = themata_core::ingest::markup::markdown(MARKDOWN);
    assert_eq!(
        docs.column("n_chars").unwrap().u64().unwrap().get(0),
        Some(text.chars().count() as u64)
    );
    check_offsets(&text, &ps);
}

const HTML: &str = r#"<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Talks stall again | Example News</title>
<meta property="og:title" content="Talks stall again">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-05-01T09:30:00+02:00">
<meta property="og:site_name" content="Example News">
<style>.lead { font-weight: bold }</style>
<script>window.tracker = "do not index this script";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<header>Example News: all the news</header>
<div class="sidebar">Sidebar outside the article</div>
<article>
  <h1>Talks stall again</h1>
  <p class="lead">Negotiations with Washington over the nuclear deal
     stalled again, AT&amp;T&nbsp;analysts&nbsp;said.</p>
  <p>The supreme leader's <em>doctrine</em> of resistance shapes the regime's posture.<br>
  Diplomats expect new talks on sanctions and the nuclear programme.</p>
  <aside>Related: more stories</aside>
  <blockquote>Ideology and revolutionary doctrine drive the axis of resistance.</blockquote>
  <noscript>Enable JavaScript</noscript>
  <form><input name="q"><button>Search</button></form>
</article>
<footer>Copyright footer</footer>
</body></html>"#;

#[test]
fn html_files_give_their_article_text_and_meta() {
    let dir = run_ok(&[("page.html", HTML.as_bytes())], "");
    let o = dir.path().join("out");
    let docs = table(&o, "documents.parquet");
    assert_eq!(
        meta(&docs),
        [
            ["Talks stall again"],
            ["2024-05-01"],
            ["Jane Doe"],
            ["Example News"]
        ]
    );
    let ps = table(&o, "passages.parquet");
    let texts = strs(&ps, "text");
    assert_eq!(
        texts,
        [
            "Talks stall again",
            "Negotiations with Washington over the nuclear deal stalled again, AT&T analysts said.",
            "The supreme leader's doctrine of resistance shapes the regime's posture.",
            "Diplomats expect new talks on sanctions and the nuclear programme.",
            "Ideology and revolutionary doctrine drive the axis of resistance.",
        ]
    );
    let all = texts.join("\n");
    for absent in [
        "tracker",
        "font-weight",
        "Home",
        "all the news",
        "Sidebar",
        "Related",
        "JavaScript",
        "Search",
        "footer",
        "&amp;",
        "<",
    ] {
        assert!(!all.contains(absent), "{absent:?} in {all}");
    }
    let (text, _) = themata_core::ingest::markup::html(HTML);
    check_offsets(&text, &ps);
}

#[test]
fn format_set_in_the_pipeline_file_overrides_the_extension() {
    // .txt files read as Markdown and as HTML when the pipeline says so
    let dir = run_ok(
        &[("essay.txt", MARKDOWN.as_bytes())],
        "format = \"markdown\"",
    );
    let docs = table(&dir.path().join("out"), "documents.parquet");
    assert_eq!(strs(&docs, "author"), ["Jane Doe"]);
    let dir = run_ok(&[("page.txt", HTML.as_bytes())], "format = \"html\"");
    let ps = table(&dir.path().join("out"), "passages.parquet");
    assert_eq!(strs(&ps, "text")[0], "Talks stall again");
    // and a column setting with a one-document-per-file format names the field
    let (_dir, out) = run_on(
        &[("essay.md", MARKDOWN.as_bytes())],
        "format = \"markdown\"\ndate_column = \"published\"",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("input.date_column") && err.contains("markdown"),
        "{err}"
    );
}

#[test]
fn metadata_columns_of_record_files() {
    let mut data = String::new();
    for (i, t) in TEXTS.iter().enumerate() {
        let date = ["Jun 28, 2019", "2025-01-23T10:00:00Z", "not a date", ""][i];
        data +=
            &serde_json::json!({"body": t, "published": date, "by": "Jane Doe", "site": "Wire"})
                .to_string();
        data.push('\n');
    }
    let dir = run_ok(
        &[("news.jsonl", data.as_bytes())],
        "text_column = \"body\"\ndate_column = \"published\"\nauthor_column = \"by\"\nsource_column = \"site\"",
    );
    let docs = table(&dir.path().join("out"), "documents.parquet");
    assert_eq!(strs(&docs, "date"), ["2019-06-28", "2025-01-23", "", ""]);
    assert_eq!(strs(&docs, "author"), ["Jane Doe"; 4]);
    assert_eq!(strs(&docs, "source"), ["Wire"; 4]);
}
