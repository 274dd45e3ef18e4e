//! Record inputs: each format with a small fixture written by the test.

use super::*;

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
    let (dir, out) = run_on(
        &[("news.jsonl", data.as_bytes())],
        "text_column = \"body\"\nid_column = \"id\"\ntitle_column = \"headline\"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
    let (dir, out) = run_on(&[("news.csv", data.as_bytes())], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let (dir, out) = run_on(
        &[("news.parquet", &buf)],
        "text_column = \"content\"\nid_column = \"doc\"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
