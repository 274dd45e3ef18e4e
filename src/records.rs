//! Record inputs: JSON Lines, CSV and Parquet files whose rows are documents.
//!
//! A text column is required; an id column names each document (`file#id`, else
//! `file#line` or `file#row`); title, date, author and source columns fill the document's
//! metadata (dates are read into `YYYY-MM-DD`; one that cannot be read is left empty). A record that cannot be read
//! (malformed JSON line, CSV row of the wrong shape, missing or non-text field) is skipped
//! with a warning naming file and line; a file that cannot be read as a whole (no text
//! column, corrupt Parquet) is an error naming the file.

use crate::config::InputFormat;
use crate::error::{Error, Result};
use crate::meta::{parse_date, Meta};
use polars::prelude::*;
use std::path::Path;

/// One input record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub text: String,
    pub title: Option<String>,
    /// `YYYY-MM-DD`, when the date column holds a date [`parse_date`] reads.
    pub date: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
}

impl Record {
    /// The record's metadata fields.
    pub fn meta(&self) -> Meta {
        Meta {
            title: self.title.clone(),
            date: self.date.clone(),
            author: self.author.clone(),
            source: self.source.clone(),
        }
        .cleaned()
    }
}

/// Which columns of a record file hold what.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub text: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
}

/// The format of `rel`: the configured one, or by extension when `auto`.
pub fn format_of(rel: &str, configured: InputFormat) -> InputFormat {
    if configured != InputFormat::Auto {
        return configured;
    }
    let ext = rel
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jsonl" | "ndjson" => InputFormat::Jsonl,
        "csv" => InputFormat::Csv,
        "parquet" => InputFormat::Parquet,
        "md" | "markdown" => InputFormat::Markdown,
        "html" | "htm" => InputFormat::Html,
        _ => InputFormat::Text,
    }
}

fn input_err(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// Read the records of one file.
pub fn read(
    path: &Path,
    rel: &str,
    bytes: &[u8],
    format: InputFormat,
    cols: &Columns,
) -> Result<(Vec<Record>, Vec<String>)> {
    match format {
        InputFormat::Jsonl => Ok(jsonl(rel, bytes, cols)),
        InputFormat::Csv => csv_records(path, rel, bytes, cols),
        InputFormat::Parquet => parquet(path, bytes, cols),
        InputFormat::Text | InputFormat::Markdown | InputFormat::Html | InputFormat::Auto => {
            Ok((vec![], vec![]))
        }
    }
}

fn json_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn jsonl(rel: &str, bytes: &[u8], cols: &Columns) -> (Vec<Record>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                warnings.push(format!("{rel}:{n}: malformed JSON ({e}), record skipped"));
                continue;
            }
        };
        let Some(body) = v.get(&cols.text).and_then(serde_json::Value::as_str) else {
            warnings.push(format!(
                "{rel}:{n}: no text field {:?}, record skipped",
                cols.text
            ));
            continue;
        };
        let field = |c: &Option<String>| c.as_ref().and_then(|c| v.get(c)).and_then(json_string);
        out.push(Record {
            id: cols
                .id
                .as_ref()
                .and_then(|c| v.get(c))
                .and_then(json_string)
                .unwrap_or_else(|| n.to_string()),
            text: body.to_string(),
            title: field(&cols.title),
            date: field(&cols.date).and_then(|d| parse_date(&d)),
            author: field(&cols.author),
            source: field(&cols.source),
        });
    }
    (out, warnings)
}

fn csv_records(
    path: &Path,
    rel: &str,
    bytes: &[u8],
    cols: &Columns,
) -> Result<(Vec<Record>, Vec<String>)> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = r
        .headers()
        .map_err(|e| input_err(path, format!("CSV header: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let missing = |what: &str, name: &str| {
        let names: Vec<&str> = headers.iter().collect();
        input_err(
            path,
            format!("no {what} column {name:?} (columns: {})", names.join(", ")),
        )
    };
    let t = find(&cols.text).ok_or_else(|| missing("text", &cols.text))?;
    let id = match &cols.id {
        Some(c) => Some(find(c).ok_or_else(|| missing("id", c))?),
        None => None,
    };
    let optional = |c: &Option<String>, what: &str| match c {
        Some(c) => find(c).map(Some).ok_or_else(|| missing(what, c)),
        None => Ok(None),
    };
    let title = optional(&cols.title, "title")?;
    let date = optional(&cols.date, "date")?;
    let author = optional(&cols.author, "author")?;
    let source = optional(&cols.source, "source")?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                warnings.push(format!("{rel}: {e}, record skipped"));
                continue;
            }
        };
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        out.push(Record {
            id: id
                .and_then(|c| rec.get(c))
                .map_or_else(|| line.to_string(), str::to_string),
            text: rec.get(t).unwrap_or("").to_string(),
            title: get(title),
            date: get(date).and_then(|d| parse_date(&d)),
            author: get(author),
            source: get(source),
        });
    }
    Ok((out, warnings))
}

fn parquet(path: &Path, bytes: &[u8], cols: &Columns) -> Result<(Vec<Record>, Vec<String>)> {
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| input_err(path, format!("not a readable Parquet file: {e}")))?;
    let strings = |name: &str, what: &str| -> Result<Vec<Option<String>>> {
        let c = df.column(name).map_err(|_| {
            let names: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            input_err(
                path,
                format!("no {what} column {name:?} (columns: {})", names.join(", ")),
            )
        })?;
        let c = c
            .cast(&DataType::String)
            .map_err(|e| input_err(path, format!("column {name:?}: {e}")))?;
        let s = c
            .str()
            .map_err(|e| input_err(path, format!("column {name:?}: {e}")))?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    };
    let text = strings(&cols.text, "text")?;
    let ids = match &cols.id {
        Some(c) => Some(strings(c, "id")?),
        None => None,
    };
    let optional = |c: &Option<String>, what: &str| match c {
        Some(c) => strings(c, what).map(Some),
        None => Ok(None),
    };
    let titles = optional(&cols.title, "title")?;
    let dates = optional(&cols.date, "date")?;
    let authors = optional(&cols.author, "author")?;
    let sources = optional(&cols.source, "source")?;
    let at = |v: &Option<Vec<Option<String>>>, i: usize| v.as_ref().and_then(|v| v[i].clone());
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, t) in text.into_iter().enumerate() {
        let Some(t) = t else {
            warnings.push(format!(
                "{}: row {i}: null text, record skipped",
                path.display()
            ));
            continue;
        };
        out.push(Record {
            id: ids
                .as_ref()
                .and_then(|v| v[i].clone())
                .unwrap_or_else(|| i.to_string()),
            text: t,
            title: at(&titles, i),
            date: at(&dates, i).and_then(|d| parse_date(&d)),
            author: at(&authors, i),
            source: at(&sources, i),
        });
    }
    Ok((out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns {
            text: "text".into(),
            id: Some("id".into()),
            title: Some("title".into()),
            date: None,
            author: None,
            source: None,
        }
    }

    fn record(id: &str, text: &str, title: Option<&str>) -> Record {
        Record {
            id: id.into(),
            text: text.into(),
            title: title.map(str::to_string),
            date: None,
            author: None,
            source: None,
        }
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            format_of("a/b.JSONL", InputFormat::Auto),
            InputFormat::Jsonl
        );
        assert_eq!(format_of("b.csv", InputFormat::Auto), InputFormat::Csv);
        assert_eq!(
            format_of("b.parquet", InputFormat::Auto),
            InputFormat::Parquet
        );
        assert_eq!(format_of("b.txt", InputFormat::Auto), InputFormat::Text);
        for (f, want) in [
            ("a.md", InputFormat::Markdown),
            ("a.Markdown", InputFormat::Markdown),
            ("d/a.html", InputFormat::Html),
            ("a.HTM", InputFormat::Html),
            ("a.mdx", InputFormat::Text),
        ] {
            assert_eq!(format_of(f, InputFormat::Auto), want, "{f}");
        }
        assert_eq!(format_of("a.txt", InputFormat::Html), InputFormat::Html);
        assert_eq!(format_of("b.txt", InputFormat::Csv), InputFormat::Csv);
    }

    #[test]
    fn jsonl_records_and_bad_lines() {
        let data = b"{\"id\": 7, \"text\": \"hello\", \"title\": \"T\"}\n\n{bad json\n{\"body\": \"x\"}\n{\"text\": \"two\"}\n";
        let (r, w) = jsonl("f.jsonl", data, &cols());
        assert_eq!(r[0], record("7", "hello", Some("T")));
        assert_eq!((r[1].id.as_str(), r[1].text.as_str()), ("5", "two"));
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("f.jsonl:3: malformed JSON"), "{w:?}");
        assert!(w[1].starts_with("f.jsonl:4: no text field"), "{w:?}");
    }

    #[test]
    fn csv_records_and_missing_column() {
        let data = b"id,title,text\na1,First,\"hello, world\"\na2,,second\n";
        let (r, w) = csv_records(Path::new("f.csv"), "f.csv", data, &cols()).unwrap();
        assert!(w.is_empty());
        assert_eq!(r[0], record("a1", "hello, world", Some("First")));
        assert_eq!(r[1].title, None);
        let e = csv_records(Path::new("f.csv"), "f.csv", b"id,body\n1,x\n", &cols())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.csv") && e.contains("no text column \"text\"") && e.contains("id, body"),
            "{e}"
        );
        let (_, w) = csv_records(
            Path::new("f.csv"),
            "f.csv",
            b"id,title,text\n1,2\n",
            &cols(),
        )
        .unwrap();
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn metadata_columns() {
        let c = Columns {
            date: Some("date".into()),
            author: Some("by".into()),
            source: Some("site".into()),
            ..cols()
        };
        let data = b"{\"text\": \"a\", \"date\": \"Jun 28, 2019\", \"by\": \"Jane Doe\", \"site\": \"Review\"}\n{\"text\": \"b\", \"date\": \"someday\"}\n";
        let (r, w) = jsonl("f.jsonl", data, &c);
        assert!(w.is_empty());
        assert_eq!(
            r[0].meta(),
            Meta {
                title: None,
                date: Some("2019-06-28".into()),
                author: Some("Jane Doe".into()),
                source: Some("Review".into())
            }
        );
        assert_eq!(r[1].meta(), Meta::default()); // an unreadable date stays empty
        let data = b"id,title,text,date,by,site\n1,T,x,2025-01-23T10:00:00Z,Jane Doe,\n";
        let (r, _) = csv_records(Path::new("f.csv"), "f.csv", data, &c).unwrap();
        assert_eq!(r[0].date.as_deref(), Some("2025-01-23"));
        assert_eq!(r[0].author.as_deref(), Some("Jane Doe"));
        assert_eq!(r[0].source, None);
        let e = csv_records(Path::new("f.csv"), "f.csv", b"id,title,text\n1,T,x\n", &c)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no date column \"date\""), "{e}");
        let mut df = df!("text" => ["a", "b"], "date" => ["23 January 2025", "no"], "by" => ["A B", "C D"], "site" => ["S", "S"]).unwrap();
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        let c = Columns {
            id: None,
            title: None,
            ..c
        };
        let (r, _) = parquet(Path::new("f.parquet"), &buf, &c).unwrap();
        assert_eq!(r[0].date.as_deref(), Some("2025-01-23"));
        assert_eq!(r[1].date, None);
        assert_eq!(r[1].author.as_deref(), Some("C D"));
    }

    #[test]
    fn parquet_records_and_corrupt_file() {
        let mut df = df!("id" => [1u32, 2], "text" => ["alpha", "beta"]).unwrap();
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        let c = Columns {
            title: None,
            ..cols()
        };
        let (r, _) = parquet(Path::new("f.parquet"), &buf, &c).unwrap();
        assert_eq!((r[1].id.as_str(), r[1].text.as_str()), ("2", "beta"));
        let e = parquet(Path::new("f.parquet"), b"PAR1 not really", &c)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.parquet") && e.contains("not a readable Parquet"),
            "{e}"
        );
        let c = Columns {
            text: "body".into(),
            ..c
        };
        assert!(parquet(Path::new("f.parquet"), &buf, &c)
            .unwrap_err()
            .to_string()
            .contains("no text column"));
    }
}
