//! Ingest: input files → documents and passages.
//!
//! IO is limited to [`discover`] and [`read_file`]; decoding, splitting and normalisation
//! are pure functions over strings and bytes.
//!
//! Every step is linear in the size of its input: a 50 MB file on one line is one scan per
//! step, never a rescan from the start per passage.

use crate::config::{IngestSettings, InputFormat, InputSettings, Normalization, Split};
use crate::error::{Error, Result};
use crate::meta::Meta;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// One input document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub doc_id: u32,
    /// Relative to the input root, `/` separators.
    pub path: String,
    pub title: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    pub date: Option<String>,
    pub author: Option<String>,
    /// The publication or site.
    pub source: Option<String>,
    pub n_passages: u32,
    pub n_chars: u64,
    /// SHA-256 of the file's bytes (hex).
    pub content_hash: String,
}

/// Status of a passage: only `kept` passages take part in TF-IDF and clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Kept,
    /// Shorter than `ingest.min_passage_chars`.
    Short,
    /// Page furniture: see `reason`.
    Boilerplate,
    /// A later copy of another passage: see `duplicate_of`.
    Duplicate,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Kept => "kept",
            Status::Short => "short",
            Status::Boilerplate => "boilerplate",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "kept" => Some(Status::Kept),
            "short" => Some(Status::Short),
            "boilerplate" => Some(Status::Boilerplate),
            "duplicate" => Some(Status::Duplicate),
            _ => None,
        }
    }
}

/// One passage of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub passage_id: u32,
    pub doc_id: u32,
    /// 0-based position of the passage in its document.
    pub ordinal: u32,
    /// The span's text with runs of white space folded to one space.
    pub text: String,
    /// Character (Unicode scalar) offsets into the normalised document text, end exclusive.
    pub char_start: u64,
    pub char_end: u64,
    pub status: Status,
    /// Why a passage is boilerplate, or which kind of duplicate it is.
    pub reason: Option<String>,
    /// The earlier passage this one repeats.
    pub duplicate_of: Option<u32>,
}

/// The result of ingest.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub documents: Vec<Document>,
    pub passages: Vec<Passage>,
    pub duplicates: Vec<crate::clean::DuplicatePair>,
    /// Problems met on the way (bad encodings, skipped files), one line each.
    pub warnings: Vec<String>,
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
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Data(format!("input.patterns: {p:?}: {e}")))?;
        builder.add(glob);
    }
    let set = builder
        .build()
        .map_err(|e| Error::Data(format!("input.patterns: {e}")))?;
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

/// Decode file bytes: BOM stripped, invalid UTF-8 replaced (with a warning), CRLF → LF.
/// `None` for binary content (a NUL byte).
pub fn decode(bytes: &[u8], warnings: &mut Vec<String>, rel: &str) -> Option<String> {
    if bytes.contains(&0) {
        warnings.push(format!("{rel}: binary file (NUL byte), skipped"));
        return None;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) => {
            warnings.push(format!(
                "{rel}: invalid UTF-8 at byte {}, decoded with replacement characters",
                e.valid_up_to()
            ));
            String::from_utf8_lossy(bytes).into_owned()
        }
    };
    Some(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    })
}

/// Apply the configured Unicode normalisation.
pub fn normalize(text: String, how: Normalization) -> String {
    match how {
        Normalization::Nfc => {
            if unicode_normalization::is_nfc_quick(text.chars())
                == unicode_normalization::IsNormalized::Yes
            {
                text
            } else {
                text.nfc().collect()
            }
        }
        Normalization::None => text,
    }
}

/// Byte spans of the passages of `text`.
pub fn split(text: &str, how: Split) -> Vec<(usize, usize)> {
    split_with(text, how, 100, 20)
}

/// Byte spans of the passages of `text`, with the window geometry for `Split::Window`.
pub fn split_with(text: &str, how: Split, window: usize, overlap: usize) -> Vec<(usize, usize)> {
    let lines = line_spans(text);
    let non_blank = |&(s, e): &(usize, usize)| !text[s..e].trim().is_empty();
    match how {
        Split::Document => {
            if text.trim().is_empty() {
                vec![]
            } else {
                vec![(0, text.len())]
            }
        }
        Split::Line => lines.into_iter().filter(non_blank).collect(),
        Split::Sentence => text
            .split_sentence_bound_indices()
            .filter_map(|(i, s)| {
                let start = i + (s.len() - s.trim_start().len());
                let end = i + s.trim_end().len();
                (end > start).then_some((start, end))
            })
            .collect(),
        Split::Window => {
            let words: Vec<(usize, usize)> = text
                .unicode_word_indices()
                .map(|(i, w)| (i, i + w.len()))
                .collect();
            let step = window.saturating_sub(overlap).max(1);
            let mut out = Vec::new();
            let mut first = 0;
            while first < words.len() {
                let last = (first + window).min(words.len()) - 1;
                out.push((words[first].0, words[last].1));
                if last + 1 == words.len() {
                    break;
                }
                first += step;
            }
            out
        }
        Split::Paragraph => {
            let mut out: Vec<(usize, usize)> = Vec::new();
            let mut open = false; // the last span may still grow
            for (s, e) in lines {
                let line = text[s..e].trim();
                if line.is_empty() {
                    open = false;
                    continue;
                }
                match out.last_mut() {
                    Some(last) if open && continues(text[last.0..last.1].trim_end(), line) => {
                        last.1 = e
                    }
                    _ => out.push((s, e)),
                }
                open = true;
            }
            out
        }
    }
}

/// A hard-wrapped line continues when the previous line has no closing punctuation and
/// the next one starts in lowercase.
fn continues(prev: &str, next: &str) -> bool {
    let ends = prev
        .chars()
        .last()
        .is_some_and(|c| ".!?:;\"”’)]…".contains(c));
    let starts_lower = next.chars().next().is_some_and(char::is_lowercase);
    !ends && starts_lower
}

fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        spans.push((start, text.len()));
    }
    spans
}

/// Runs of white space become one space; the ends are trimmed.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// A title the text shows: the first short line of its head that reads like a heading (see
/// [`crate::meta::from_text`], which also reads date, author and source).
pub fn guess_title(text: &str) -> Option<String> {
    crate::meta::from_text(text).title
}

/// Under `--strict`: an error naming the file when its bytes are not UTF-8 (after a BOM).
fn check_utf8(path: &Path, bytes: &[u8]) -> Result<()> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Input {
            path: path.to_path_buf(),
            message: format!(
                "invalid UTF-8 at byte {} (--strict; without it the file is decoded with \
                 replacement characters and a warning)",
                e.valid_up_to() + (bytes.len() - body.len())
            ),
        }),
    }
}

/// A short line that is a date ("January 23, 2025", "Jun 28, 2019").
pub fn looks_like_date(line: &str) -> bool {
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= 4
        && words
            .iter()
            .any(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()))
        && words
            .iter()
            .any(|w| MONTHS.iter().any(|m| w.starts_with(m)))
}

/// Character offsets of byte positions, for positions given in non-decreasing order: one
/// scan over the text however many positions are asked for.
struct CharCursor<'a> {
    text: &'a str,
    byte: usize,
    chars: u64,
}

impl<'a> CharCursor<'a> {
    fn new(text: &'a str) -> Self {
        CharCursor {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, byte: usize) -> u64 {
        debug_assert!(byte >= self.byte, "positions must not decrease");
        self.chars += self.text[self.byte..byte].chars().count() as u64;
        self.byte = byte;
        self.chars
    }
}

/// Cut one decoded document into passages (ids are filled in by [`assemble`]).
pub fn passages_of(text: &str, settings: &IngestSettings) -> Vec<Passage> {
    let spans = split_with(
        text,
        settings.split,
        settings.window_size,
        settings.window_overlap,
    );
    let mut out = Vec::with_capacity(spans.len());
    // spans are in order, their starts and their ends each non-decreasing (windows overlap,
    // so a start may lie before the previous end): one cursor for each
    let (mut starts, mut ends) = (CharCursor::new(text), CharCursor::new(text));
    for (ordinal, (s, e)) in spans.into_iter().enumerate() {
        let char_start = starts.at(s);
        let char_end = ends.at(e);
        let body = fold_whitespace(&text[s..e]);
        let status = if body.chars().count() < settings.min_passage_chars {
            Status::Short
        } else {
            Status::Kept
        };
        out.push(Passage {
            passage_id: 0,
            doc_id: 0,
            ordinal: ordinal as u32,
            text: body,
            char_start,
            char_end,
            status,
            reason: (status == Status::Short).then(|| "min_passage_chars".to_string()),
            duplicate_of: None,
        });
    }
    out
}

/// Read and split every input file (in parallel, output in path order).
pub fn ingest(
    files: &[(PathBuf, String)],
    settings: &IngestSettings,
    input: &InputSettings,
) -> Result<Corpus> {
    ingest_with_progress(files, settings, input, &|| {})
}

/// [`ingest`], calling `on_file` after each file is read (from any thread).
pub fn ingest_with_progress(
    files: &[(PathBuf, String)],
    settings: &IngestSettings,
    input: &InputSettings,
    on_file: &(dyn Fn() + Sync),
) -> Result<Corpus> {
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|(path, rel)| {
            let r = read_file(path, rel, settings, input);
            on_file();
            r
        })
        .collect();
    let mut per_doc = Vec::with_capacity(files.len());
    let mut warnings = Vec::new();
    for r in results {
        let (docs, w) = r?;
        warnings.extend(w);
        per_doc.extend(docs);
    }
    let mut corpus = assemble(per_doc, warnings);
    if settings.boilerplate {
        crate::clean::mark_boilerplate(&mut corpus.passages);
    }
    if settings.dedupe {
        corpus.duplicates = crate::clean::mark_duplicates(
            &mut corpus.passages,
            settings.near_duplicate,
            settings.containment,
        );
    }
    if corpus.passages.is_empty() {
        return Err(Error::Data(format!(
            "empty corpus: {} input file(s) hold no text",
            files.len()
        )));
    }
    Ok(corpus)
}

type FileResult = Result<(Vec<(Document, Vec<Passage>)>, Vec<String>)>;

/// One document from its text and the metadata its source gave; fields still unknown are
/// read from the first lines of the text ([`crate::meta::from_text`]).
fn document(
    rel: String,
    text: String,
    meta: Meta,
    hash: String,
    settings: &IngestSettings,
) -> (Document, Vec<Passage>) {
    let text = normalize(text, settings.normalize);
    let passages = passages_of(&text, settings);
    let Meta {
        title,
        date,
        author,
        source,
    } = meta.or(crate::meta::from_text(&text));
    let doc = Document {
        doc_id: 0,
        title,
        date,
        author,
        source,
        path: rel,
        n_passages: passages.len() as u32,
        n_chars: text.chars().count() as u64,
        content_hash: hash,
    };
    (doc, passages)
}

/// Read one file: a text, Markdown or HTML document, or the records of a JSON Lines, CSV or
/// Parquet file. Unreadable or binary files become warnings, not errors; so does invalid
/// UTF-8 (decoded with replacement characters), unless `input.strict`, when it is an error
/// naming the file.
pub fn read_file(
    path: &Path,
    rel: &str,
    settings: &IngestSettings,
    input: &InputSettings,
) -> FileResult {
    let mut warnings = Vec::new();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            warnings.push(format!("{rel}: cannot read: {e}"));
            return Ok((vec![], warnings));
        }
    };
    let format = crate::records::format_of(rel, input.format);
    // (binary files, with a NUL byte, are skipped with a warning even under --strict)
    if input.strict && format != InputFormat::Parquet && !bytes.contains(&0) {
        check_utf8(path, &bytes)?;
    }
    if !format.is_document() {
        if format == InputFormat::Jsonl && std::str::from_utf8(&bytes).is_err() {
            warnings.push(format!(
                "{rel}: invalid UTF-8, decoded with replacement characters"
            ));
        }
        let (records, w) = crate::records::read(path, rel, &bytes, format, &input.columns())?;
        warnings.extend(w);
        if records.is_empty() {
            warnings.push(format!("{rel}: no records"));
        }
        let docs = records
            .into_iter()
            .map(|r| {
                let hash = hex(&Sha256::digest(r.text.as_bytes())[..16]);
                let meta = r.meta();
                document(format!("{rel}#{}", r.id), r.text, meta, hash, settings)
            })
            .collect();
        return Ok((docs, warnings));
    }
    let hash = hex(&Sha256::digest(&bytes)[..16]);
    let Some(text) = decode(&bytes, &mut warnings, rel) else {
        return Ok((vec![], warnings));
    };
    let (text, meta) = match format {
        InputFormat::Markdown => crate::markup::markdown(&text),
        InputFormat::Html => crate::markup::html(&text),
        _ => (text, Meta::default()),
    };
    if text.trim().is_empty() {
        warnings.push(format!(
            "{rel}: {}",
            if format == InputFormat::Text {
                "empty file"
            } else {
                "no text"
            }
        ));
    }
    Ok((
        vec![document(rel.to_string(), text, meta, hash, settings)],
        warnings,
    ))
}

/// Number documents and passages in order.
pub fn assemble(per_doc: Vec<(Document, Vec<Passage>)>, warnings: Vec<String>) -> Corpus {
    let mut corpus = Corpus {
        warnings,
        ..Default::default()
    };
    for (doc_id, (mut doc, passages)) in per_doc.into_iter().enumerate() {
        doc.doc_id = doc_id as u32;
        for mut p in passages {
            p.doc_id = doc.doc_id;
            p.passage_id = corpus.passages.len() as u32;
            corpus.passages.push(p);
        }
        corpus.documents.push(doc);
    }
    corpus
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, how: Split) -> Vec<&str> {
        split(text, how)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn paragraphs_split_on_blank_lines_and_line_breaks() {
        let t = "Title\n\nFirst para.\nSecond para.\n\nA wrapped line\nthat goes on.\n";
        assert_eq!(
            texts(t, Split::Paragraph),
            [
                "Title",
                "First para.",
                "Second para.",
                "A wrapped line\nthat goes on."
            ]
        );
        assert_eq!(texts(t, Split::Line).len(), 5);
        assert_eq!(texts(t, Split::Document), [t]);
        assert!(texts("  \n\n", Split::Document).is_empty());
    }

    #[test]
    fn sentences_and_windows() {
        let t = "Mr. Smith went home. Did he? Yes!\nNew line here.";
        assert_eq!(
            texts(t, Split::Sentence),
            [
                "Mr. ",
                "Smith went home. ",
                "Did he? ",
                "Yes!\n",
                "New line here."
            ]
            .map(str::trim)
        );
        let w = "one two three four five six seven";
        let spans = split_with(w, Split::Window, 3, 1);
        let got: Vec<&str> = spans.iter().map(|&(s, e)| &w[s..e]).collect();
        assert_eq!(got, ["one two three", "three four five", "five six seven"]);
        let spans = split_with("a b", Split::Window, 5, 2);
        assert_eq!(spans, [(0, 3)]);
        assert!(split_with("  ", Split::Window, 5, 2).is_empty());
    }

    #[test]
    fn offsets_are_in_characters() {
        let s = IngestSettings::default();
        let t = "Ünïcödé\n\nsecond – para";
        let p = passages_of(t, &s);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].char_start, p[0].char_end), (0, 7));
        assert_eq!((p[1].char_start, p[1].char_end), (9, 22));
        let chars: Vec<char> = t.chars().collect();
        let second: String = chars[9..22].iter().collect();
        assert_eq!(second, p[1].text);
    }

    #[test]
    fn overlapping_windows_have_character_offsets() {
        let s = IngestSettings {
            split: Split::Window,
            window_size: 3,
            window_overlap: 1,
            ..Default::default()
        };
        let t = "ä b c d e f g";
        let p = passages_of(t, &s);
        let chars: Vec<char> = t.chars().collect();
        let texts: Vec<String> = p
            .iter()
            .map(|x| {
                chars[x.char_start as usize..x.char_end as usize]
                    .iter()
                    .collect()
            })
            .collect();
        assert_eq!(texts, ["ä b c", "c d e", "e f g"]);
        assert_eq!(texts, p.iter().map(|x| x.text.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn short_passages_are_marked() {
        let s = IngestSettings {
            min_passage_chars: 10,
            ..Default::default()
        };
        let p = passages_of("tiny\n\na longer passage", &s);
        assert_eq!(p[0].status, Status::Short);
        assert_eq!(p[1].status, Status::Kept);
    }

    #[test]
    fn decode_handles_bom_crlf_invalid_and_binary() {
        let mut w = vec![];
        assert_eq!(decode(b"\xEF\xBB\xBFa\r\nb", &mut w, "f").unwrap(), "a\nb");
        assert!(w.is_empty());
        assert_eq!(decode(b"a\xFFb", &mut w, "f").unwrap(), "a\u{FFFD}b");
        assert!(w[0].contains("invalid UTF-8"));
        assert!(decode(b"a\0b", &mut w, "f").is_none());
        assert!(w[1].contains("binary"));
    }

    #[test]
    fn nfc_composes() {
        assert_eq!(normalize("e\u{301}".into(), Normalization::Nfc), "é");
        assert_eq!(
            normalize("e\u{301}".into(), Normalization::None),
            "e\u{301}"
        );
    }

    #[test]
    fn titles_skip_dates() {
        assert_eq!(
            guess_title("January 23, 2025\n\nThe Collapse of the Khamenei Doctrine\n\n6 min read")
                .as_deref(),
            Some("The Collapse of the Khamenei Doctrine")
        );
        assert_eq!(
            guess_title("A full sentence that ends.\nAnother one ends."),
            None
        );
    }

    #[test]
    fn whitespace_folding() {
        assert_eq!(fold_whitespace("  a \t b\n c "), "a b c");
        for t in [
            "",
            " ",
            "x",
            "\u{a0}é\u{2003}ü ß\u{3000}\u{85}end\u{1c}",
            "a\u{b}\u{c}b  ",
        ] {
            assert_eq!(
                fold_whitespace(t),
                t.split_whitespace().collect::<Vec<_>>().join(" "),
                "{t:?}"
            );
        }
    }
}
