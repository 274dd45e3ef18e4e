//! Documents and their passages: what ingest makes of the input.

use super::names::named_enum;

/// What is known about a document: title, date, author and source. `None` where unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DocumentMeta {
    /// The document's title.
    pub title: Option<String>,
    /// Publication date, ISO 8601 calendar date `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The author.
    pub author: Option<String>,
    /// The publication or site.
    pub source: Option<String>,
}

impl DocumentMeta {
    /// Each field of `self`, or else the same field of `other`.
    pub fn or(self, other: DocumentMeta) -> DocumentMeta {
        DocumentMeta {
            title: self.title.or(other.title),
            date: self.date.or(other.date),
            author: self.author.or(other.author),
            source: self.source.or(other.source),
        }
    }

    /// Each field mapped through `f` (`None` stays `None`).
    pub fn map(self, mut f: impl FnMut(String) -> Option<String>) -> DocumentMeta {
        DocumentMeta {
            title: self.title.and_then(&mut f),
            date: self.date.and_then(&mut f),
            author: self.author.and_then(&mut f),
            source: self.source.and_then(&mut f),
        }
    }
}

/// One input document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based, in path order.
    pub doc_id: u32,
    /// Relative to the input root, `/` separators; records: `file#id`.
    pub path: String,
    /// Title, date, author and source.
    pub meta: DocumentMeta,
    /// Passages of the document (any status).
    pub n_passages: u32,
    /// Characters of the normalised text.
    pub n_chars: u64,
    /// SHA-256 (first 16 bytes, hex) of the file's bytes, or of a record's text.
    pub content_hash: String,
}

named_enum! {
    /// Status of a passage: only `kept` passages take part in TF-IDF and clustering.
    pub enum PassageStatus {
        /// Analysed and clustered.
        Kept = "kept",
        /// Shorter than `ingest.min_passage_chars`.
        Short = "short",
        /// Page furniture: see the reason.
        Boilerplate = "boilerplate",
        /// A later copy of another passage: see `duplicate_of`.
        Duplicate = "duplicate",
    }
}

named_enum! {
    /// Why a passage is not kept: a boilerplate rule, a kind of duplicate, or its length.
    pub enum Reason {
        /// A line that is only a date.
        Dateline = "dateline",
        /// "6 min read".
        ReadTime = "read_time",
        /// `date | author`, `By …`.
        Byline = "byline",
        /// An image caption or photo credit.
        Caption = "caption",
        /// A copyright line.
        Copyright = "copyright",
        /// A list of tags.
        Tags = "tags",
        /// "Jane Doe is a senior fellow at …".
        AuthorBio = "author_bio",
        /// A short line without closing punctuation in a document with body text.
        Heading = "heading",
        /// A short line repeated elsewhere in the corpus.
        Repeated = "repeated",
        /// Part of the run of boilerplate that closes a page.
        RelatedArticles = "related_articles",
        /// An exact copy of an earlier passage.
        Exact = "exact",
        /// A near-duplicate (Jaccard of word 3-grams).
        Near = "near",
        /// Contained in an earlier passage.
        Contained = "contained",
        /// Covered by earlier passages together.
        Merged = "merged",
        /// Shorter than `ingest.min_passage_chars`.
        MinPassageChars = "min_passage_chars",
    }
}

named_enum! {
    /// How a duplicate repeats the earlier passage.
    pub enum DuplicateKind {
        /// The same text.
        Exact = "exact",
        /// Jaccard similarity of word 3-grams at or above `ingest.near_duplicate`.
        Near = "near",
        /// Its 3-grams lie inside the earlier passage.
        Contained = "contained",
        /// Earlier passages together cover it.
        Merged = "merged",
    }
}

impl From<DuplicateKind> for Reason {
    fn from(k: DuplicateKind) -> Reason {
        match k {
            DuplicateKind::Exact => Reason::Exact,
            DuplicateKind::Near => Reason::Near,
            DuplicateKind::Contained => Reason::Contained,
            DuplicateKind::Merged => Reason::Merged,
        }
    }
}

/// One passage of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// 0-based over the corpus, in document order.
    pub passage_id: u32,
    /// The document.
    pub doc_id: u32,
    /// 0-based position of the passage in its document.
    pub ordinal: u32,
    /// The span's text with runs of white space folded to one space.
    pub text: String,
    /// Character (Unicode scalar) offset into the normalised document text.
    pub char_start: u64,
    /// End offset, exclusive.
    pub char_end: u64,
    /// Whether the passage is kept, and if not, what it is.
    pub status: PassageStatus,
    /// Why a passage is not kept.
    pub reason: Option<Reason>,
    /// The earlier passage this one repeats.
    pub duplicate_of: Option<u32>,
}

/// One duplicate pair.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePair {
    /// The later copy.
    pub passage_id: u32,
    /// The earlier passage, which is kept.
    pub duplicate_of: u32,
    /// How it repeats the earlier one.
    pub kind: DuplicateKind,
    /// Jaccard similarity of the two passages' shingle sets.
    pub jaccard: f64,
    /// Share of the passage's shingles found in the earlier passage(s).
    pub containment: f64,
}

/// The result of ingest.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Documents in path order.
    pub documents: Vec<Document>,
    /// Passages in document order.
    pub passages: Vec<Passage>,
    /// Duplicate pairs found.
    pub duplicates: Vec<DuplicatePair>,
    /// Problems met on the way (bad encodings, skipped files), one line each.
    pub warnings: Vec<String>,
}

impl Corpus {
    /// Number of passages with `status`.
    pub fn count(&self, status: PassageStatus) -> usize {
        self.passages.iter().filter(|p| p.status == status).count()
    }

    /// The kept passages, in order.
    pub fn kept(&self) -> impl Iterator<Item = &Passage> {
        self.passages
            .iter()
            .filter(|p| p.status == PassageStatus::Kept)
    }
}
