//! Ingest: document text → passages, with boilerplate and near-duplicates marked.
//!
//! The binary reads files and records (see its `formats`); this stage takes each
//! document's decoded text and metadata and gives its passages ([`document`]), then numbers
//! the corpus and marks what is not article text ([`assemble`]). Every step is linear in
//! the size of its input: a 50 MB text on one line is one scan per step.

mod boilerplate;
mod duplicates;
pub mod markup;
pub mod meta;
mod split;
pub mod text;

pub use boilerplate::{boilerplate_reason, mark_boilerplate, mark_boilerplate_with, repeated_key};
pub use duplicates::{find_duplicates, mark_duplicates, shingles};
pub use split::{passages_of, split, split_with};

use crate::model::{Corpus, Document, DocumentMeta, Passage};
use crate::ParamError;
use serde::{Deserialize, Serialize};

/// How documents are cut into passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Blank-line separated blocks; a single line break also ends a paragraph unless the
    /// next line continues a hard-wrapped sentence.
    Paragraph,
    /// Every non-empty line is a passage.
    Line,
    /// Unicode (UAX #29) sentences.
    Sentence,
    /// Windows of `window_size` words, consecutive windows sharing `window_overlap` words.
    Window,
    /// One passage per document.
    Document,
}

/// Unicode normalisation applied to document text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// Canonical composition.
    Nfc,
    /// The text as read.
    None,
}

/// The settings of ingest (`[ingest]` in a pipeline file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestParams {
    /// How documents are cut into passages.
    pub split: Split,
    /// Unicode normalisation of document text.
    pub normalize: Normalization,
    /// Passages with fewer characters get status `short` and take no part in TF-IDF.
    pub min_passage_chars: usize,
    /// `split = "window"`: words per window.
    pub window_size: usize,
    /// `split = "window"`: words shared by consecutive windows.
    pub window_overlap: usize,
    /// Mark boilerplate passages (datelines, captions, bylines, related-article lists, ...).
    pub boilerplate: bool,
    /// Mark exact and near-duplicate passages.
    pub dedupe: bool,
    /// Jaccard similarity of word 3-gram shingles at which a later passage is a duplicate.
    pub near_duplicate: f64,
    /// Share of a passage's shingles found in earlier passage(s) at which it is a duplicate.
    pub containment: f64,
}

impl Default for IngestParams {
    fn default() -> Self {
        IngestParams {
            split: Split::Paragraph,
            normalize: Normalization::Nfc,
            min_passage_chars: 0,
            window_size: 100,
            window_overlap: 20,
            boilerplate: true,
            dedupe: true,
            // Edited renditions of one article share 70–95 % of their word 3-grams per
            // paragraph; unrelated paragraphs of the same corpus share under 10 %.
            near_duplicate: 0.7,
            containment: 0.75,
        }
    }
}

impl IngestParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        for (key, v) in [
            ("ingest.near_duplicate", self.near_duplicate),
            ("ingest.containment", self.containment),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(ParamError::new(key, format!("must lie in (0, 1], got {v}")));
            }
        }
        if self.window_size == 0 || self.window_overlap >= self.window_size {
            return Err(ParamError::new(
                "ingest.window_overlap",
                format!(
                    "must be below ingest.window_size ({} ≥ {}), and the size at least 1",
                    self.window_overlap, self.window_size
                ),
            ));
        }
        Ok(())
    }
}

/// Ingest could not produce a corpus.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// No input file held any text.
    #[error("empty corpus: {files} input file(s) hold no text")]
    EmptyCorpus {
        /// The number of input files read.
        files: usize,
    },
}

/// One document from its decoded text and the metadata its source gave (`path` and
/// `content_hash` as the caller names them); fields the metadata leaves unknown are read
/// from the first lines of the text ([`meta::from_text`]). Ids are filled in by
/// [`assemble`].
pub fn document(
    path: String,
    text: String,
    meta: DocumentMeta,
    content_hash: String,
    params: &IngestParams,
) -> (Document, Vec<Passage>) {
    let text = text::normalize(text, params.normalize);
    let passages = passages_of(&text, params);
    let meta = meta.or(meta::from_text(&text));
    let doc = Document {
        doc_id: 0,
        path,
        meta,
        n_passages: passages.len() as u32,
        n_chars: text.chars().count() as u64,
        content_hash,
    };
    (doc, passages)
}

/// How a document file's text is marked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// Plain text.
    Text,
    /// Markdown (front matter read for metadata, markup stripped).
    Markdown,
    /// HTML (meta tags read, page furniture and tags stripped).
    Html,
}

/// The document of one file's bytes (`rel` names it; `content_hash` as the caller computes
/// it): decoded (invalid UTF-8 replaced, with a warning), its markup stripped, cut into
/// passages. `None` when the bytes are not text (a warning says so); a warning too when the
/// file holds no text.
pub fn file_document(
    rel: &str,
    bytes: &[u8],
    markup: Markup,
    content_hash: String,
    params: &IngestParams,
    warnings: &mut Vec<String>,
) -> Option<(Document, Vec<Passage>)> {
    let decoded = text::decode(bytes, warnings, rel)?;
    let (decoded, meta) = match markup {
        Markup::Markdown => markup::markdown(&decoded),
        Markup::Html => markup::html(&decoded),
        Markup::Text => (decoded, DocumentMeta::default()),
    };
    if decoded.trim().is_empty() {
        warnings.push(format!(
            "{rel}: {}",
            if markup == Markup::Text {
                "empty file"
            } else {
                "no text"
            }
        ));
    }
    Some(document(
        rel.to_string(),
        decoded,
        meta,
        content_hash,
        params,
    ))
}

/// The corpus of documents given in order (from `files` input files): documents and
/// passages numbered in order, then boilerplate and duplicates marked as `params` say.
/// An error when there is no passage at all.
pub fn assemble(
    per_doc: Vec<(Document, Vec<Passage>)>,
    warnings: Vec<String>,
    files: usize,
    params: &IngestParams,
) -> Result<Corpus, IngestError> {
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
    if params.boilerplate {
        mark_boilerplate(&mut corpus.passages);
    }
    if params.dedupe {
        corpus.duplicates = mark_duplicates(
            &mut corpus.passages,
            params.near_duplicate,
            params.containment,
        );
    }
    if corpus.passages.is_empty() {
        return Err(IngestError::EmptyCorpus { files });
    }
    Ok(corpus)
}

/// A kept passage for tests.
#[cfg(test)]
pub(crate) fn test_passage(id: u32, doc: u32, text: &str) -> Passage {
    Passage {
        passage_id: id,
        doc_id: doc,
        ordinal: id,
        text: text.to_string(),
        char_start: 0,
        char_end: 0,
        status: crate::model::PassageStatus::Kept,
        reason: None,
        duplicate_of: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_key() {
        assert!(IngestParams::default().check().is_ok());
        let p = IngestParams {
            near_duplicate: 1.5,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().key, "ingest.near_duplicate");
        let p = IngestParams {
            containment: 0.0,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().key, "ingest.containment");
        let p = IngestParams {
            window_size: 10,
            window_overlap: 10,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().key, "ingest.window_overlap");
    }
}
