//! Input formats: finding the input files, and reading each into documents — text, Markdown
//! and HTML files (one document each), JSON Lines, CSV and Parquet files (one document per
//! record).
//!
//! This module does the reading; what a document's text becomes (passages, metadata from
//! its first lines, Markdown and HTML text extraction) is `themata_core::ingest`'s.
//!
//! A record that cannot be read (malformed JSON line, CSV row of the wrong shape, missing or
//! non-text field) is skipped with a warning naming file and line; a file that cannot be
//! read as a whole (no text column, corrupt Parquet) is an error naming the file.

mod csv;
mod jsonl;
mod parquet;
pub mod parquet_check;

use crate::error::{Error, Result};
use crate::files::content_hash;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use themata_core::ingest::{self, meta, text, IngestParams};
use themata_core::model::{Document, DocumentMeta, Passage};
use themata_core::{Observer, ParamError, Task};

/// How input files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// By extension: .jsonl/.ndjson, .csv, .parquet, .md/.markdown, .html/.htm; anything
    /// else is text.
    Auto,
    /// One document per file.
    Text,
    /// One document per file, Markdown: markup stripped, front matter read as metadata.
    Markdown,
    /// One document per file, HTML: the main text, `<meta>` tags read as metadata.
    Html,
    /// One document per JSON object per line.
    Jsonl,
    /// One document per row (with a header row).
    Csv,
    /// One document per row.
    Parquet,
}

impl InputFormat {
    /// The name of the format in a pipeline file.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Text => "text",
            InputFormat::Markdown => "markdown",
            InputFormat::Html => "html",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Csv => "csv",
            InputFormat::Parquet => "parquet",
        }
    }

    /// One document per file (text, Markdown, HTML), as opposed to files of records.
    pub fn is_document(self) -> bool {
        matches!(
            self,
            InputFormat::Text | InputFormat::Markdown | InputFormat::Html
        )
    }

    /// The format of `rel`: `self`, or by extension when `auto`.
    pub fn of(self, rel: &str) -> InputFormat {
        if self != InputFormat::Auto {
            return self;
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
}

/// Where the input is and how to read it (`[input]` in a pipeline file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputParams {
    /// The input directory (relative to the pipeline file there; resolved when loaded).
    #[serde(skip_serializing)]
    pub root: PathBuf,
    /// Globs of input files relative to the root (`*` does not cross `/`).
    #[serde(skip_serializing)]
    pub patterns: Vec<String>,
    /// How files are read.
    pub format: InputFormat,
    /// Record files: the column holding the text.
    pub text_column: String,
    /// Record files: a column naming each document (`file#id`).
    pub id_column: Option<String>,
    /// Record files: the column holding the title.
    pub title_column: Option<String>,
    /// Record files: the column holding each document's date (read into `YYYY-MM-DD`).
    pub date_column: Option<String>,
    /// Record files: the column holding the author.
    pub author_column: Option<String>,
    /// Record files: the column holding the source.
    pub source_column: Option<String>,
    /// `--strict`: invalid UTF-8 is an error instead of a lossy decode with a warning. Not a
    /// setting of the pipeline file; a strict run adds `strict` to the ingest stage's
    /// fingerprint, so that it never takes tables of a lenient run as fresh.
    #[serde(skip)]
    pub strict: bool,
}

impl Default for InputParams {
    fn default() -> Self {
        InputParams {
            root: PathBuf::from("."),
            patterns: vec!["**/*.txt".to_string()],
            format: InputFormat::Auto,
            text_column: "text".to_string(),
            id_column: None,
            title_column: None,
            date_column: None,
            author_column: None,
            source_column: None,
            strict: false,
        }
    }
}

impl InputParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.patterns.is_empty() {
            return Err(ParamError::new(
                "input.patterns",
                "at least one glob pattern is needed",
            ));
        }
        for p in &self.patterns {
            glob(p).map_err(|e| ParamError::new("input.patterns", format!("{p:?}: {e}")))?;
        }
        for (key, v) in [
            ("input.id_column", &self.id_column),
            ("input.title_column", &self.title_column),
            ("input.date_column", &self.date_column),
            ("input.author_column", &self.author_column),
            ("input.source_column", &self.source_column),
        ] {
            match v {
                Some(c) if c.trim().is_empty() => {
                    return Err(ParamError::new(
                        key,
                        "must name a column (omit it for none)",
                    ))
                }
                Some(_) if self.format.is_document() => {
                    return Err(ParamError::new(
                        key,
                        format!(
                            "input.format = \"{}\" reads one document per file and has no \
                             columns (columns apply to jsonl, csv and parquet)",
                            self.format.as_str()
                        ),
                    ))
                }
                _ => {}
            }
        }
        if self.text_column.trim().is_empty() {
            return Err(ParamError::new("input.text_column", "must name a column"));
        }
        Ok(())
    }
}

fn glob(p: &str) -> std::result::Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(p).literal_separator(true).build()
}

pub(crate) fn input_err(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// One record of a record file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its id: the id column's value, else its line or row.
    pub id: String,
    /// Its text.
    pub text: String,
    /// Title, date (as `YYYY-MM-DD`, when the date column holds a date
    /// [`meta::parse_date`] reads), author and source.
    pub meta: DocumentMeta,
}

impl Record {
    /// A record from its columns' raw values: the date read into `YYYY-MM-DD` (one that
    /// cannot be read is left empty), empty fields left out.
    pub fn new(id: String, text: String, raw: DocumentMeta) -> Record {
        let meta = meta::clean(DocumentMeta {
            date: raw.date.and_then(|d| meta::parse_date(&d)),
            ..raw
        });
        Record { id, text, meta }
    }
}

/// An input file: its path, and its path relative to the input root with `/` separators.
pub type InputFile = (PathBuf, String);

/// The input files under `root` that match any pattern, sorted by relative path, and a
/// warning for each path that could not be visited (broken link, no permission).
pub fn discover(root: &Path, patterns: &[String]) -> Result<(Vec<InputFile>, Vec<String>)> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Input {
        path: root.to_path_buf(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "input directory not found".to_string(),
            _ => e.to_string(),
        },
    })?;
    if !meta.is_dir() {
        return Err(Error::Input {
            path: root.to_path_buf(),
            message: "input root is not a directory".into(),
        });
    }
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        builder.add(glob(p).map_err(|e| input_err(root, format!("input.patterns: {p:?}: {e}")))?);
    }
    let set = builder
        .build()
        .map_err(|e| input_err(root, format!("input.patterns: {e}")))?;
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let p = e.path().unwrap_or(root);
                let rel = p.strip_prefix(root).unwrap_or(p).display().to_string();
                let why = e
                    .io_error()
                    .map_or_else(|| e.to_string(), |io| io.to_string());
                warnings.push(format!("{rel}: cannot read: {why}"));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel_str = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if set.is_match(&rel_str) {
            files.push((entry.path().to_path_buf(), rel_str));
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    if files.is_empty() {
        return Err(Error::Input {
            path: root.to_path_buf(),
            message: format!("no input files match {}", patterns.join(", ")),
        });
    }
    Ok((files, warnings))
}

/// The documents of one file, with the warnings met reading it.
pub type FileDocuments = (Vec<(Document, Vec<Passage>)>, Vec<String>);

/// Read every input file (in parallel, documents in path order), reporting each file read
/// as a [`Task::ReadFiles`] step, and assemble the corpus.
pub fn read_corpus(
    files: &[InputFile],
    walk_warnings: Vec<String>,
    ingest: &IngestParams,
    input: &InputParams,
    observer: &dyn Observer,
) -> Result<themata_core::model::Corpus> {
    let results: Vec<Result<FileDocuments>> = files
        .par_iter()
        .map(|(path, rel)| {
            let r = read_file(path, rel, ingest, input);
            observer.advance(Task::ReadFiles, 1);
            r
        })
        .collect();
    let mut per_doc = Vec::with_capacity(files.len());
    let mut warnings = walk_warnings;
    for r in results {
        let (docs, w) = r?;
        warnings.extend(w);
        per_doc.extend(docs);
    }
    Ok(ingest::assemble(per_doc, warnings, files.len(), ingest)?)
}

/// Under `--strict`: an error naming the file when its bytes are not UTF-8 (after a BOM).
fn check_utf8(path: &Path, bytes: &[u8]) -> Result<()> {
    match text::invalid_utf8_at(bytes) {
        None => Ok(()),
        Some(at) => Err(invalid_utf8(path, at as u64)),
    }
}

/// `--strict`'s error for a file whose bytes stop being UTF-8 at byte `at`.
fn invalid_utf8(path: &Path, at: u64) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: format!(
            "invalid UTF-8 at byte {at} (--strict; without it the file is decoded with \
             replacement characters and a warning)"
        ),
    }
}

/// Under `--strict`, for a record file read as a stream: the first pass over the file, in
/// blocks, finds where it stops being UTF-8 — an error naming the file, as for a file read
/// whole — unless it holds a NUL byte (binary: skipped with a warning even under --strict).
fn check_utf8_streamed(path: &Path) -> std::io::Result<Result<()>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    // bytes of a character cut by the block's end, carried into the next block
    let mut carry = 0;
    let mut offset = 0u64; // of buf[0] in the file
    let mut first_invalid = None;
    let mut nul = false;
    loop {
        let n = std::io::Read::read(&mut f, &mut buf[carry..])?;
        let len = carry + n;
        let block = &buf[..len];
        nul |= block[carry..].contains(&0);
        carry = 0;
        if first_invalid.is_none() {
            let body = if offset == 0 {
                block.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(block)
            } else {
                block
            };
            let start = (len - body.len()) as u64;
            if let Err(e) = std::str::from_utf8(body) {
                match e.error_len() {
                    // invalid here, or cut off by the end of the file
                    Some(_) => first_invalid = Some(offset + start + e.valid_up_to() as u64),
                    None if n == 0 => first_invalid = Some(offset + start + e.valid_up_to() as u64),
                    None => carry = body.len() - e.valid_up_to(),
                }
            }
        }
        if n == 0 {
            break;
        }
        buf.copy_within(len - carry..len, 0);
        offset += (len - carry) as u64;
    }
    Ok(match first_invalid {
        Some(at) if !nul => Err(invalid_utf8(path, at)),
        _ => Ok(()),
    })
}

/// Read one file: a text, Markdown or HTML document, or the records of a JSON Lines, CSV or
/// Parquet file. Unreadable or binary files become warnings, not errors; so does invalid
/// UTF-8 (decoded with replacement characters), unless `input.strict`, when it is an error
/// naming the file.
///
/// JSON Lines and CSV files are read as streams (a record at a time, through a buffer), so
/// reading one holds its records, not the file's bytes as well: a file larger than memory
/// whose text fields are not is read. Other files are read whole.
pub fn read_file(
    path: &Path,
    rel: &str,
    ingest: &IngestParams,
    input: &InputParams,
) -> Result<FileDocuments> {
    let mut warnings = Vec::new();
    let format = input.format.of(rel);
    if matches!(format, InputFormat::Jsonl | InputFormat::Csv) {
        let cannot = |e: std::io::Error| (vec![], vec![format!("{rel}: cannot read: {e}")]);
        if input.strict {
            match check_utf8_streamed(path) {
                Ok(r) => r?,
                Err(e) => return Ok(cannot(e)),
            }
        }
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return Ok(cannot(e)),
        };
        let read = match format {
            InputFormat::Jsonl => jsonl::read(rel, std::io::BufReader::new(file), input),
            _ => Ok(csv::read(path, rel, file, input)?),
        };
        let (records, w) = match read {
            Ok(r) => r,
            Err(e) => return Ok(cannot(e)),
        };
        return Ok(records_to_documents(rel, records, w, ingest));
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            warnings.push(format!("{rel}: cannot read: {e}"));
            return Ok((vec![], warnings));
        }
    };
    // (binary files, with a NUL byte, are skipped with a warning even under --strict)
    if input.strict && format != InputFormat::Parquet && !bytes.contains(&0) {
        check_utf8(path, &bytes)?;
    }
    if !format.is_document() {
        let (records, w) = parquet::read(path, rel, &bytes, input)?;
        drop(bytes);
        return Ok(records_to_documents(rel, records, w, ingest));
    }
    let hash = content_hash(&bytes);
    let markup = match format {
        InputFormat::Markdown => ingest::Markup::Markdown,
        InputFormat::Html => ingest::Markup::Html,
        _ => ingest::Markup::Text,
    };
    let doc = ingest::file_document(rel, &bytes, markup, hash, ingest, &mut warnings);
    Ok((doc.into_iter().collect(), warnings))
}

/// The records of a JSON Lines, CSV or Parquet file's bytes (`rel` names it in warnings):
/// the readers `read_file` uses, for callers that hold the bytes (and the fuzz targets).
/// Another format is an error.
pub fn read_records(
    format: InputFormat,
    rel: &str,
    bytes: &[u8],
    input: &InputParams,
) -> Result<(Vec<Record>, Vec<String>)> {
    let path = Path::new(rel);
    match format {
        InputFormat::Jsonl => jsonl::read(rel, bytes, input).map_err(|e| Error::io(path, e)),
        InputFormat::Csv => csv::read(path, rel, bytes, input),
        InputFormat::Parquet => parquet::read(path, rel, bytes, input),
        other => Err(input_err(
            path,
            format!("{} is not a record format", other.as_str()),
        )),
    }
}

/// Warnings of one record file shown and kept one by one; the others are counted in one.
const RECORD_WARNINGS: usize = 20;

/// The documents of a record file's records (named `file#id`), and its warnings (past
/// [`RECORD_WARNINGS`], counted).
fn records_to_documents(
    rel: &str,
    records: Vec<Record>,
    mut warnings: Vec<String>,
    ingest: &IngestParams,
) -> FileDocuments {
    if warnings.len() > RECORD_WARNINGS {
        let more = warnings.len() - RECORD_WARNINGS;
        warnings.truncate(RECORD_WARNINGS);
        warnings.push(format!(
            "{rel}: {more} more warnings, not shown ({} in all)",
            RECORD_WARNINGS + more
        ));
    }
    if records.is_empty() {
        warnings.push(format!("{rel}: no records"));
    }
    let docs = records
        .into_iter()
        .map(|r| {
            let hash = content_hash(r.text.as_bytes());
            ingest::document(format!("{rel}#{}", r.id), r.text, r.meta, hash, ingest)
        })
        .collect();
    (docs, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn cols() -> InputParams {
        InputParams {
            id_column: Some("id".into()),
            title_column: Some("title".into()),
            ..Default::default()
        }
    }

    fn record(id: &str, text: &str, title: Option<&str>) -> Record {
        Record {
            id: id.into(),
            text: text.into(),
            meta: DocumentMeta {
                title: title.map(str::to_string),
                ..Default::default()
            },
        }
    }

    /// The streamed check finds the same first invalid byte as the whole-file check, also
    /// when a character or the invalid byte sits across the 64 KiB block boundary.
    #[test]
    fn streamed_utf8_check_agrees_with_the_whole_file_check() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        let block = 1 << 16;
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\xEF\xBB\xBFtext,ok\n".to_vec(),
            b"abc\xFFdef".to_vec(),
            b"abc\xE2\x82".to_vec(), // cut off at the end
            b"\xEF\xBB\xBF\xC3\x28".to_vec(),
            b"nul \0 and \xFF".to_vec(), // binary: not an error
        ];
        for at in [block - 2, block - 1, block, block + 1] {
            for tail in [
                &b"\xE2\x82\xAC"[..],
                b"\xFF",
                b"\xE2\x28\xA1",
                b"\xF0\x9F\x98\x80",
            ] {
                let mut v = vec![b'a'; at];
                v.extend_from_slice(tail);
                v.extend_from_slice("é and more".as_bytes());
                cases.push(v);
            }
        }
        for bytes in cases {
            std::fs::write(&p, &bytes).unwrap();
            let whole = if bytes.contains(&0) {
                None
            } else {
                check_utf8(&p, &bytes).err().map(|e| e.to_string())
            };
            let streamed = check_utf8_streamed(&p)
                .unwrap()
                .err()
                .map(|e| e.to_string());
            assert_eq!(streamed, whole, "{} bytes", bytes.len());
        }
    }

    /// Read a line at a time, JSON Lines gives what the whole text's lines gave.
    #[test]
    fn jsonl_streamed_lines_end_and_decode_as_whole_lines() {
        let data = b"{\"id\": \"a\", \"text\": \"one\"}\r\n\n  \n{\"text\": \"t\xFFo\"}\n{bad\n{\"text\": \"last\"}";
        let (r, w) = jsonl::read("f.jsonl", &data[..], &cols()).unwrap();
        let texts: Vec<&str> = r.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["one", "t\u{FFFD}o", "last"]);
        let ids: Vec<&str> = r.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "4", "6"]);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[0],
            "f.jsonl: invalid UTF-8, decoded with replacement characters"
        );
        assert!(w[1].starts_with("f.jsonl:5: malformed JSON"), "{w:?}");
    }

    /// Found by the parquet fuzz target: polars' reader panics on these corrupt files (the
    /// second in its column slicing, with debug assertions on, as in the test profile) when
    /// it decodes their columns, which the pipeline names here as text and metadata.
    #[test]
    fn a_parquet_file_that_makes_the_reader_panic_is_an_error_naming_it() {
        for (name, columns) in [
            (
                "parquet-reader-panic.parquet",
                ["term", "term_id", "df", "idf"],
            ),
            (
                "parquet-reader-panic-2.parquet",
                ["term", "term_id", "df", "idf"],
            ),
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/fuzz")
                .join(name);
            let bytes = std::fs::read(path).unwrap();
            let [text, id, title, date] = columns.map(String::from);
            let cols = InputParams {
                text_column: text,
                id_column: Some(id),
                title_column: Some(title),
                date_column: Some(date),
                ..Default::default()
            };
            let e = parquet::read(Path::new("f.parquet"), "f.parquet", &bytes, &cols)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("f.parquet: not a readable Parquet file"),
                "{name}: {e}"
            );
        }
    }

    /// A record file with many bad records: the first warnings one by one, the rest counted.
    #[test]
    fn many_bad_records_are_counted_in_one_warning() {
        let mut lines: String = (0..500).map(|i| format!("{{bad {i}\n")).collect();
        lines.push_str("{\"text\": \"one good record\"}\n");
        let (records, w) =
            jsonl::read("r.jsonl", lines.as_bytes(), &InputParams::default()).unwrap();
        let (docs, w) = records_to_documents("r.jsonl", records, w, &IngestParams::default());
        assert_eq!(docs.len(), 1);
        assert_eq!(w.len(), RECORD_WARNINGS + 1);
        assert!(w[0].starts_with("r.jsonl:1: malformed JSON"), "{}", w[0]);
        assert_eq!(
            w[RECORD_WARNINGS],
            "r.jsonl: 480 more warnings, not shown (500 in all)"
        );
    }

    /// Found by the parquet fuzz target: polars' reader asked for 76 GB on the first file
    /// (a Thrift list in its footer) and for 2⁶¹ bytes on the second (its columns read), and
    /// an allocation failure aborts. The structural check refuses the first before polars
    /// sees it; neither aborts, whichever columns are named.
    #[test]
    fn parquet_files_that_made_polars_abort_are_errors() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
        let bytes = std::fs::read(dir.join("parquet-metadata-alloc-abort.parquet")).unwrap();
        let e = parquet::read(Path::new("f.parquet"), "f.parquet", &bytes, &cols())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.parquet: not a readable Parquet file: its footer is corrupt"),
            "{e}"
        );
        let bytes = std::fs::read(dir.join("parquet-alloc-abort.parquet")).unwrap();
        for [text, id, title, date] in [
            ["doc_id", "term_id", "count", "weight"],
            ["weight", "count", "term_id", "doc_id"],
        ] {
            let cols = InputParams {
                text_column: text.into(),
                id_column: Some(id.into()),
                title_column: Some(title.into()),
                date_column: Some(date.into()),
                ..Default::default()
            };
            // an error, or records: not an abort
            let _ = parquet::read(Path::new("f.parquet"), "f.parquet", &bytes, &cols);
        }
    }

    /// Only the columns the pipeline names are read: a missing one is an error listing the
    /// file's columns (from its metadata, before any column is decoded).
    #[test]
    fn parquet_columns_are_checked_against_the_schema_first() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz/parquet-alloc-abort.parquet");
        let bytes = std::fs::read(path).unwrap();
        let e = parquet::read(Path::new("f.parquet"), "f.parquet", &bytes, &cols())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "f.parquet: no text column \"text\" (columns: doc_id, term_id, count, weight)"
        );
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(InputFormat::Auto.of("a/b.JSONL"), InputFormat::Jsonl);
        assert_eq!(InputFormat::Auto.of("b.csv"), InputFormat::Csv);
        assert_eq!(InputFormat::Auto.of("b.parquet"), InputFormat::Parquet);
        assert_eq!(InputFormat::Auto.of("b.txt"), InputFormat::Text);
        for (f, want) in [
            ("a.md", InputFormat::Markdown),
            ("a.Markdown", InputFormat::Markdown),
            ("d/a.html", InputFormat::Html),
            ("a.HTM", InputFormat::Html),
            ("a.mdx", InputFormat::Text),
        ] {
            assert_eq!(InputFormat::Auto.of(f), want, "{f}");
        }
        assert_eq!(InputFormat::Html.of("a.txt"), InputFormat::Html);
        assert_eq!(InputFormat::Csv.of("b.txt"), InputFormat::Csv);
    }

    #[test]
    fn jsonl_records_and_bad_lines() {
        let data = b"{\"id\": 7, \"text\": \"hello\", \"title\": \"T\"}\n\n{bad json\n{\"body\": \"x\"}\n{\"text\": \"two\"}\n";
        let (r, w) = jsonl::read("f.jsonl", &data[..], &cols()).unwrap();
        assert_eq!(r[0], record("7", "hello", Some("T")));
        assert_eq!((r[1].id.as_str(), r[1].text.as_str()), ("5", "two"));
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("f.jsonl:3: malformed JSON"), "{w:?}");
        assert!(w[1].starts_with("f.jsonl:4: no text field"), "{w:?}");
    }

    #[test]
    fn csv_records_and_missing_column() {
        let data = b"id,title,text\na1,First,\"hello, world\"\na2,,second\n";
        let (r, w) = csv::read(Path::new("f.csv"), "f.csv", &data[..], &cols()).unwrap();
        assert!(w.is_empty());
        assert_eq!(r[0], record("a1", "hello, world", Some("First")));
        assert_eq!(r[1].meta.title, None);
        let e = csv::read(Path::new("f.csv"), "f.csv", &b"id,body\n1,x\n"[..], &cols())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.csv") && e.contains("no text column \"text\"") && e.contains("id, body"),
            "{e}"
        );
        let (_, w) = csv::read(
            Path::new("f.csv"),
            "f.csv",
            &b"id,title,text\n1,2\n"[..],
            &cols(),
        )
        .unwrap();
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn metadata_columns() {
        let c = InputParams {
            date_column: Some("date".into()),
            author_column: Some("by".into()),
            source_column: Some("site".into()),
            ..cols()
        };
        let data = b"{\"text\": \"a\", \"date\": \"Jun 28, 2019\", \"by\": \"Jane Doe\", \"site\": \"Review\"}\n{\"text\": \"b\", \"date\": \"someday\"}\n";
        let (r, w) = jsonl::read("f.jsonl", &data[..], &c).unwrap();
        assert!(w.is_empty());
        assert_eq!(
            r[0].meta,
            DocumentMeta {
                title: None,
                date: Some("2019-06-28".into()),
                author: Some("Jane Doe".into()),
                source: Some("Review".into())
            }
        );
        assert_eq!(r[1].meta, DocumentMeta::default()); // an unreadable date stays empty
        let data = b"id,title,text,date,by,site\n1,T,x,2025-01-23T10:00:00Z,Jane Doe,\n";
        let (r, _) = csv::read(Path::new("f.csv"), "f.csv", &data[..], &c).unwrap();
        assert_eq!(r[0].meta.date.as_deref(), Some("2025-01-23"));
        assert_eq!(r[0].meta.author.as_deref(), Some("Jane Doe"));
        assert_eq!(r[0].meta.source, None);
        let e = csv::read(
            Path::new("f.csv"),
            "f.csv",
            &b"id,title,text\n1,T,x\n"[..],
            &c,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no date column \"date\""), "{e}");
        let mut df = df!("text" => ["a", "b"], "date" => ["23 January 2025", "no"], "by" => ["A B", "C D"], "site" => ["S", "S"]).unwrap();
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        let c = InputParams {
            id_column: None,
            title_column: None,
            ..c
        };
        let (r, _) = parquet::read(Path::new("f.parquet"), "f.parquet", &buf, &c).unwrap();
        assert_eq!(r[0].meta.date.as_deref(), Some("2025-01-23"));
        assert_eq!(r[1].meta.date, None);
        assert_eq!(r[1].meta.author.as_deref(), Some("C D"));
    }

    #[test]
    fn parquet_records_and_corrupt_file() {
        let mut df = df!("id" => [1u32, 2], "text" => ["alpha", "beta"]).unwrap();
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).unwrap();
        let c = InputParams {
            title_column: None,
            ..cols()
        };
        let (r, _) = parquet::read(Path::new("f.parquet"), "f.parquet", &buf, &c).unwrap();
        assert_eq!((r[1].id.as_str(), r[1].text.as_str()), ("2", "beta"));
        let e = parquet::read(Path::new("f.parquet"), "f.parquet", b"PAR1 not really", &c)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.parquet") && e.contains("not a readable Parquet"),
            "{e}"
        );
        let c = InputParams {
            text_column: "body".into(),
            ..c
        };
        assert!(parquet::read(Path::new("f.parquet"), "f.parquet", &buf, &c)
            .unwrap_err()
            .to_string()
            .contains("no text column"));
    }
}
