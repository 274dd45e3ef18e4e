//! `themata._themata`: the pure pipeline of themata (`themata-core`) for Python, shaped for a
//! distributed engine. Every function works on one shard (a Spark partition, a slice of a
//! corpus) and returns state that merges, or applies state that was merged:
//!
//! - ingest: a document file's passages; the repeated-line keys and the boilerplate rules of
//!   whole documents; word 3-gram shingles and the duplicate decision over shingle sets;
//! - analyze: [`Counts`], the term counts of a shard (`merge` in shard order);
//! - tfidf: the vocabulary from merged per-term statistics, and the weighting of a shard's
//!   rows with it;
//! - LSA: the products of a shard's rows with thin dense matrices, Gram matrices, the
//!   orthonormalising factor and the final basis;
//! - k-means: the per-centroid sums of a shard, k-means++ potentials, and the assignment.
//!
//! Sparse rows cross as CSR arrays (`indptr`, `indices`, `values`), dense matrices as NumPy
//! arrays, settings as the JSON of a pipeline file's section. Nothing here prints.

mod arrow;

use ndarray::{Array2, ArrayView2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use themata_core::analyze::{self, AnalyzerParams, TermCounts};
use themata_core::cluster::{ClusterParams, Mode, Theme, K};
use themata_core::ingest::{self, IngestParams, Markup};
use themata_core::math::lsa;
use themata_core::model::{
    DropReason, DuplicateKind, Named, Passage, PassageStatus, Reason, SparseRows, Term, Vocabulary,
};
use themata_core::tfidf::{self, TfidfParams};

/// A dict of columns over `rows`: each name with `[f(row) for row in rows]`, as a list, or
/// (`numpy`) as a NumPy array — how a table's columns cross to Python.
macro_rules! columns {
    ($py:expr, $rows:expr, { $($name:literal => |$r:ident| $e:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $( d.set_item($name, $rows.iter().map(|$r| $e).collect::<Vec<_>>())?; )*
        d
    }};
    ($py:expr, $rows:expr, numpy { $($name:literal => |$r:ident| $e:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $( d.set_item($name, $rows.iter().map(|$r| $e).collect::<Vec<_>>().into_pyarray($py))?; )*
        d
    }};
}

fn value_err(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A pipeline section from its JSON, checked as the CLI checks it.
fn section<T: serde::de::DeserializeOwned>(json: &str, name: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| value_err(format!("[{name}]: {e}")))
}

fn ingest_params(json: &str) -> PyResult<IngestParams> {
    let p: IngestParams = section(json, "ingest")?;
    p.check().map_err(value_err)?;
    Ok(p)
}

fn tfidf_params(json: &str) -> PyResult<TfidfParams> {
    let p: TfidfParams = section(json, "tfidf")?;
    p.check().map_err(value_err)?;
    Ok(p)
}

/// A document as a dict (path, title, date, author, source, n_passages, n_chars,
/// content_hash; unknown fields None).
fn doc_dict<'py>(
    py: Python<'py>,
    doc: &themata_core::model::Document,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("path", &doc.path)?;
    d.set_item("title", &doc.meta.title)?;
    d.set_item("date", &doc.meta.date)?;
    d.set_item("author", &doc.meta.author)?;
    d.set_item("source", &doc.meta.source)?;
    d.set_item("n_passages", doc.n_passages)?;
    d.set_item("n_chars", doc.n_chars)?;
    d.set_item("content_hash", &doc.content_hash)?;
    Ok(d)
}

/// The passages of one document as columns.
fn passage_columns<'py>(py: Python<'py>, ps: &[Passage]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ordinal", ps.iter().map(|p| p.ordinal).collect::<Vec<_>>())?;
    d.set_item(
        "text",
        ps.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "char_start",
        ps.iter().map(|p| p.char_start).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "char_end",
        ps.iter().map(|p| p.char_end).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "status",
        ps.iter().map(|p| p.status.name()).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "reason",
        ps.iter()
            .map(|p| p.reason.map(Named::name))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// The document of one file's bytes and its passages, as the CLI reads a text, Markdown or
/// HTML file: `(document, passages, warnings)`. `document` is a dict (path, title, date,
/// author, source, n_passages, n_chars, content_hash; unknown fields None) or None when the
/// bytes are not text; `passages` a dict of columns (ordinal, text, char_start, char_end,
/// status, reason) before boilerplate and duplicates are marked.
#[pyfunction]
#[pyo3(signature = (path, data, markup, content_hash, ingest = "{}"))]
#[allow(clippy::type_complexity)]
fn file_document<'py>(
    py: Python<'py>,
    path: &str,
    data: &[u8],
    markup: &str,
    content_hash: String,
    ingest: &str,
) -> PyResult<(Option<Bound<'py, PyDict>>, Bound<'py, PyDict>, Vec<String>)> {
    let params = ingest_params(ingest)?;
    let markup = match markup {
        "text" => Markup::Text,
        "markdown" => Markup::Markdown,
        "html" => Markup::Html,
        other => {
            return Err(value_err(format!(
                "markup must be text, markdown or html, got {other:?}"
            )))
        }
    };
    let mut warnings = vec![];
    let found = ingest::file_document(path, data, markup, content_hash, &params, &mut warnings);
    let Some((doc, passages)) = found else {
        return Ok((None, passage_columns(py, &[])?, warnings));
    };
    Ok((
        Some(doc_dict(py, &doc)?),
        passage_columns(py, &passages)?,
        warnings,
    ))
}

/// The document of one record of a JSON Lines, CSV or Parquet file, as the CLI makes it:
/// named `path` (`file#id`), its metadata columns' raw values (the date read into
/// `YYYY-MM-DD` when it can be, empty values left out, white space folded), cut into
/// passages. Returns (document, passages) as [`file_document`] does.
#[pyfunction]
#[pyo3(signature = (path, text, title, date, author, source, content_hash, ingest = "{}"))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn record_document<'py>(
    py: Python<'py>,
    path: String,
    text: String,
    title: Option<String>,
    date: Option<String>,
    author: Option<String>,
    source: Option<String>,
    content_hash: String,
    ingest: &str,
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
    use themata_core::ingest::meta;
    use themata_core::model::DocumentMeta;
    let params = ingest_params(ingest)?;
    let m = meta::clean(DocumentMeta {
        title,
        date: date.and_then(|d| meta::parse_date(&d)),
        author,
        source,
    });
    let (doc, passages) = ingest::document(path, text, m, content_hash, &params);
    Ok((doc_dict(py, &doc)?, passage_columns(py, &passages)?))
}

fn glob(p: &str) -> PyResult<globset::Glob> {
    globset::GlobBuilder::new(p)
        .literal_separator(true)
        .build()
        .map_err(|e| value_err(format!("input.patterns: {p:?}: {e}")))
}

/// Whether each relative path (`/` separators) matches any of the globs, as the CLI matches
/// `input.patterns` (globset; `*` does not cross `/`).
#[pyfunction]
fn glob_matches(patterns: Vec<String>, paths: Vec<String>) -> PyResult<Vec<bool>> {
    let mut b = globset::GlobSetBuilder::new();
    for p in &patterns {
        b.add(glob(p)?);
    }
    let set = b
        .build()
        .map_err(|e| value_err(format!("input.patterns: {e}")))?;
    Ok(paths.iter().map(|p| set.is_match(p)).collect())
}

/// A file name as a glob that matches only it (globset's escaping, as `--input FILE`).
#[pyfunction]
fn glob_escape(name: &str) -> String {
    globset::escape(name)
}

/// Per passage, the key under which a short line counts as repeated in the corpus, or None
/// for a longer passage. Count the keys over the whole corpus (every status); a key seen more
/// than once makes its passages boilerplate (`repeated` of [`mark_boilerplate`]).
#[pyfunction]
fn repeated_keys(texts: Vec<String>) -> Vec<Option<String>> {
    texts.iter().map(|t| ingest::repeated_key(t)).collect()
}

fn parse_named<T: Named>(what: &str, name: &str) -> PyResult<T> {
    T::parse(name).ok_or_else(|| value_err(format!("unknown {what} {name:?}")))
}

/// The boilerplate rules over whole documents (every passage of each, in order; `doc_ids`
/// tell the documents apart), given for each passage whether its repeated-line key occurs
/// more than once in the corpus: the new `(status, reason)` columns.
#[pyfunction]
fn mark_boilerplate(
    doc_ids: Vec<u32>,
    texts: Vec<String>,
    statuses: Vec<String>,
    reasons: Vec<Option<String>>,
    repeated: Vec<bool>,
) -> PyResult<(Vec<&'static str>, Vec<Option<&'static str>>)> {
    let n = texts.len();
    if doc_ids.len() != n || statuses.len() != n || reasons.len() != n || repeated.len() != n {
        return Err(value_err("mark_boilerplate: the columns differ in length"));
    }
    let mut ps = Vec::with_capacity(n);
    for (i, ((doc_id, text), (status, reason))) in doc_ids
        .into_iter()
        .zip(texts)
        .zip(statuses.iter().zip(&reasons))
        .enumerate()
    {
        ps.push(Passage {
            passage_id: i as u32,
            doc_id,
            ordinal: 0,
            text,
            char_start: 0,
            char_end: 0,
            status: parse_named::<PassageStatus>("status", status)?,
            reason: reason
                .as_deref()
                .map(|r| parse_named::<Reason>("reason", r))
                .transpose()?,
            duplicate_of: None,
        });
    }
    ingest::mark_boilerplate_with(&mut ps, |i| repeated[i]);
    Ok((
        ps.iter().map(|p| p.status.name()).collect(),
        ps.iter().map(|p| p.reason.map(Named::name)).collect(),
    ))
}

/// The hashes of a text's word 3-grams, sorted and distinct, as signed 64-bit integers (the
/// bits of the unsigned hashes: what a Spark `LongType` column holds).
#[pyfunction]
fn shingles(text: &str) -> Vec<i64> {
    ingest::shingles(text)
        .into_iter()
        .map(|h| h as i64)
        .collect()
}

/// The duplicate decision over kept passages in corpus order: for passage `i` (named
/// `ids[i]`), `sets[i]` its shingles shared with at least one other passage (what a shuffle
/// by shingle hash finds; any order), `sizes[i]` the number of all its shingles, and
/// `text_keys[i]` a digest of its text (equal digests: an exact duplicate). Returns the pairs
/// as columns: passage_id, duplicate_of, kind, jaccard, containment.
#[pyfunction]
fn find_duplicates<'py>(
    py: Python<'py>,
    ids: Vec<u32>,
    sets: Vec<Vec<i64>>,
    sizes: Vec<usize>,
    text_keys: Vec<Vec<u8>>,
    near: f64,
    containment: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let n = ids.len();
    if sets.len() != n || sizes.len() != n || text_keys.len() != n {
        return Err(value_err("find_duplicates: the columns differ in length"));
    }
    let sets: Vec<Vec<u64>> = sets
        .into_iter()
        .map(|s| {
            let mut s: Vec<u64> = s.into_iter().map(|h| h as u64).collect();
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    if let Some(i) = (0..n).find(|&i| sets[i].len() > sizes[i]) {
        return Err(value_err(format!(
            "find_duplicates: passage {} has {} shared shingles but a size of {}",
            ids[i],
            sets[i].len(),
            sizes[i]
        )));
    }
    let pairs = ingest::find_duplicates(
        &ids,
        &sets,
        &sizes,
        |i, j| text_keys[i] == text_keys[j],
        near,
        containment,
    );
    let d = PyDict::new(py);
    d.set_item(
        "passage_id",
        pairs.iter().map(|p| p.1.passage_id).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "duplicate_of",
        pairs.iter().map(|p| p.1.duplicate_of).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "kind",
        pairs
            .iter()
            .map(|p| DuplicateKind::name(p.1.kind))
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "jaccard",
        pairs.iter().map(|p| p.1.jaccard).collect::<Vec<_>>(),
    )?;
    d.set_item(
        "containment",
        pairs.iter().map(|p| p.1.containment).collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// The words of a stop-words file's text (one per line; `#` comments), as the CLI reads
/// `analyzer.stop_words_file`.
#[pyfunction]
fn word_list(text: &str) -> Vec<String> {
    analyze::word_list(text)
}

/// The analyzer of a pipeline's `[analyzer]` section (JSON), with the words of its
/// `stop_words_file` when it has one.
#[pyclass(module = "themata._themata", frozen)]
struct Analyzer {
    inner: analyze::Analyzer,
}

#[pymethods]
impl Analyzer {
    #[new]
    #[pyo3(signature = (analyzer = "{}", extra_stop_words = vec![]))]
    fn new(analyzer: &str, extra_stop_words: Vec<String>) -> PyResult<Self> {
        let mut p: AnalyzerParams = section(analyzer, "analyzer")?;
        p.extra_stop_words = extra_stop_words;
        p.check().map_err(value_err)?;
        let inner = analyze::Analyzer::new(&p).map_err(value_err)?;
        Ok(Analyzer { inner })
    }

    /// The terms of a text, in order.
    fn terms(&self, text: &str) -> Vec<String> {
        self.inner.terms(text)
    }

    /// Count the terms of passages `texts` (named `ids`): the counts of this shard.
    fn count(&self, ids: Vec<u32>, texts: Vec<String>) -> PyResult<Counts> {
        if ids.len() != texts.len() {
            return Err(value_err("count: one id per text"));
        }
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let inner = TermCounts::partial(&self.inner, &ids, &texts, &themata_core::Silent);
        Ok(Counts { inner })
    }

    /// Count the terms of the passages of Arrow record batches (columns `passage_id`,
    /// int64, and `text`, string): the counts of this shard, as `count` gives them, without
    /// a Python string per passage.
    fn count_batches(&self, batches: Vec<pyo3_arrow::PyRecordBatch>) -> PyResult<Counts> {
        arrow::count_batches(self, batches)
    }
}

/// The term counts of a shard of passages: terms (code-point order) with their passages
/// (df), occurrences (cf) and surface forms, and one row of term counts per passage.
/// Shards merge in order.
#[pyclass(module = "themata._themata")]
struct Counts {
    inner: TermCounts,
}

#[pymethods]
impl Counts {
    /// The counts of this shard's passages followed by `other`'s.
    fn merge(&self, other: &Counts) -> Counts {
        Counts {
            inner: self.inner.clone().merge(other.inner.clone()),
        }
    }

    /// The counts as the analyze step's two Arrow record batches: (kind 0 rows: a passage's
    /// passage_id, terms and counts; kind 1 rows: a term, its df, cf, surface forms and their
    /// occurrences), in the Spark driver's counted schema.
    #[allow(clippy::type_complexity)]
    fn batches<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        arrow::counts_batches(self, py)
    }

    /// Number of passages counted.
    fn __len__(&self) -> usize {
        self.inner.rows.n_rows()
    }

    /// Terms, in code-point order (a term's index is its id in `rows`).
    #[getter]
    fn terms(&self) -> Vec<String> {
        self.inner.terms.clone()
    }

    /// Per term, the passages holding it.
    #[getter]
    fn df(&self) -> Vec<u32> {
        self.inner.df.clone()
    }

    /// Per term, its occurrences.
    #[getter]
    fn cf(&self) -> Vec<u64> {
        self.inner.cf.clone()
    }

    /// Per term, its surface forms with their occurrences, in code-point order.
    #[getter]
    fn surfaces(&self) -> Vec<Vec<(String, u64)>> {
        self.inner.surfaces.clone()
    }

    /// The rows as CSR: (passage ids, indptr, term indices into `terms`, counts).
    #[allow(clippy::type_complexity)]
    fn rows<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
    ) {
        let r = &self.inner.rows;
        (
            r.row_ids.clone().into_pyarray(py),
            r.indptr
                .iter()
                .map(|&x| x as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
            r.cols.clone().into_pyarray(py),
            r.counts.clone().into_pyarray(py),
        )
    }
}

/// A term's label from its surface forms (sorted by form): the most frequent, ties the
/// smallest.
#[pyfunction]
fn label_of(surfaces: Vec<(String, u64)>) -> String {
    analyze::label_of(&surfaces)
}

/// The vocabulary from merged per-term statistics over `n_rows` kept passages (terms in
/// code-point order): columns term_id, term, label, df, cf, idf, kept, dropped_reason, as
/// vocabulary.parquet. Errors as the CLI's (no terms, pruning left nothing, ...).
#[pyfunction]
fn vocabulary<'py>(
    py: Python<'py>,
    terms: Vec<String>,
    labels: Vec<String>,
    df: Vec<u32>,
    cf: Vec<u64>,
    n_rows: usize,
    tfidf: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let s = tfidf_params(tfidf)?;
    let n = terms.len();
    if labels.len() != n || df.len() != n || cf.len() != n {
        return Err(value_err("vocabulary: the columns differ in length"));
    }
    if terms.windows(2).any(|w| w[0] >= w[1]) {
        return Err(value_err(
            "vocabulary: terms must be distinct and in code-point order",
        ));
    }
    let v = tfidf::vocabulary_of(&terms, &labels, &df, &cf, n_rows, &s).map_err(value_err)?;
    let d = PyDict::new(py);
    d.set_item("term_id", (0..n as u32).collect::<Vec<_>>())?;
    d.set_item("term", terms)?;
    d.set_item("label", labels)?;
    d.set_item("df", df)?;
    d.set_item("cf", cf)?;
    d.set_item("idf", v.terms.iter().map(|t| t.idf).collect::<Vec<_>>())?;
    d.set_item("kept", v.terms.iter().map(Term::kept).collect::<Vec<_>>())?;
    d.set_item(
        "dropped_reason",
        v.terms
            .iter()
            .map(|t| t.dropped.map(DropReason::name))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

fn csr(
    row_ids: Vec<u32>,
    indptr: &[i64],
    cols: Vec<u32>,
    counts: Vec<u32>,
    values: Vec<f64>,
) -> PyResult<SparseRows> {
    let indptr: Vec<usize> = indptr.iter().map(|&x| x.max(0) as usize).collect();
    let ok = !indptr.is_empty()
        && indptr[0] == 0
        && indptr.windows(2).all(|w| w[0] <= w[1])
        && *indptr.last().expect("not empty") == cols.len()
        && (row_ids.is_empty() || row_ids.len() + 1 == indptr.len())
        && (counts.is_empty() || counts.len() == cols.len())
        && (values.is_empty() || values.len() == cols.len());
    if !ok {
        return Err(value_err(
            "CSR rows: indptr must start at 0, not decrease and end at the number of entries",
        ));
    }
    let n = indptr.len() - 1;
    let row_ids = if row_ids.is_empty() {
        (0..n as u32).collect()
    } else {
        row_ids
    };
    Ok(SparseRows {
        row_ids,
        indptr,
        cols,
        counts,
        values,
    })
}

/// The TF-IDF rows of counted rows (CSR of global term ids, sorted within each row, and
/// counts), with the vocabulary's `idf` and `kept` per term id: kept terms only, weighted and
/// normalised as `[tfidf]` says. Returns (indptr, term_ids, counts, weights) and the dropped
/// entries (indptr, term_ids, counts) — the rows of tfidf.parquet and term_counts.parquet.
#[pyfunction]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn weigh<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    term_ids: PyReadonlyArray1<'py, u32>,
    counts: PyReadonlyArray1<'py, u32>,
    idf: PyReadonlyArray1<'py, f64>,
    kept: Vec<bool>,
    tfidf: &str,
) -> PyResult<(
    (
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f64>>,
    ),
    (
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
    ),
)> {
    let s = tfidf_params(tfidf)?;
    let idf = idf.as_array();
    if idf.len() != kept.len() {
        return Err(value_err("weigh: idf and kept differ in length"));
    }
    let rows = csr(
        vec![],
        indptr.as_slice().map_err(value_err)?,
        term_ids.as_slice().map_err(value_err)?.to_vec(),
        counts.as_slice().map_err(value_err)?.to_vec(),
        vec![],
    )?;
    if rows.cols.iter().any(|&t| t as usize >= kept.len()) {
        return Err(value_err("weigh: a term id is outside the vocabulary"));
    }
    let n = kept.len();
    let vocab = vocabulary_from(
        vec![String::new(); n],
        vec![String::new(); n],
        vec![0; n],
        idf.to_vec(),
        kept.clone(),
    )?;
    let m = tfidf::weigh(&rows, &vocab, &s);
    // the dropped entries, in row order
    let mut d_ptr = vec![0i64];
    let (mut d_ids, mut d_counts) = (vec![], vec![]);
    for r in 0..rows.n_rows() {
        let (ids, cs) = rows.row_counts(r);
        for (&t, &c) in ids.iter().zip(cs) {
            if !kept[t as usize] {
                d_ids.push(t);
                d_counts.push(c);
            }
        }
        d_ptr.push(d_ids.len() as i64);
    }
    let ptr: Vec<i64> = m.indptr.iter().map(|&x| x as i64).collect();
    Ok((
        (
            ptr.into_pyarray(py),
            m.cols.into_pyarray(py),
            m.counts.into_pyarray(py),
            m.values.into_pyarray(py),
        ),
        (
            d_ptr.into_pyarray(py),
            d_ids.into_pyarray(py),
            d_counts.into_pyarray(py),
        ),
    ))
}

fn weights<'py>(
    indptr: &PyReadonlyArray1<'py, i64>,
    cols: &PyReadonlyArray1<'py, u32>,
    values: &PyReadonlyArray1<'py, f64>,
) -> PyResult<SparseRows> {
    csr(
        vec![],
        indptr.as_slice().map_err(value_err)?,
        cols.as_slice().map_err(value_err)?.to_vec(),
        vec![],
        values.as_slice().map_err(value_err)?.to_vec(),
    )
}

/// A shard's weighted rows (CSR) over dense columns `0..n_cols`, checked.
fn shard_rows<'py>(
    indptr: &PyReadonlyArray1<'py, i64>,
    cols: &PyReadonlyArray1<'py, u32>,
    values: &PyReadonlyArray1<'py, f64>,
    n_cols: usize,
) -> PyResult<SparseRows> {
    let m = weights(indptr, cols, values)?;
    if m.cols.iter().any(|&c| c as usize >= n_cols) {
        return Err(value_err("a column index is outside the matrix"));
    }
    Ok(m)
}

/// `(dims, l)`: the dimensions a rank-`dims` LSA of an `n × n_cols` matrix gets, and the
/// width of its range finder.
#[pyfunction]
fn lsa_widths(n: usize, n_cols: usize, dims: usize) -> (usize, usize) {
    lsa::widths(n, n_cols, dims)
}

/// The number of power iterations of the randomized SVD.
#[pyfunction]
fn lsa_power_iterations() -> usize {
    lsa::POWER_ITERATIONS
}

/// The seeded Gaussian test matrix (`rows × cols`) the randomized SVD starts from.
#[pyfunction]
fn lsa_gaussian(py: Python<'_>, rows: usize, cols: usize, seed: u64) -> Bound<'_, PyArray2<f64>> {
    lsa::gaussian(rows, cols, seed).into_pyarray(py)
}

/// `X · D` for a shard's rows `X` (CSR over dense columns `0..n_cols`) and `D` (`n_cols ×
/// l`, read in single precision): each row from its own row of `X`. `single`: summed in
/// single precision (the power iterations), else in double.
#[pyfunction]
fn lsa_product<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    cols: PyReadonlyArray1<'py, u32>,
    values: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray2<'py, f64>,
    single: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let d = d.as_array().to_owned();
    let m = shard_rows(&indptr, &cols, &values, d.nrows())?;
    let out = lsa::product(&m, &[], &lsa::single(&d), d.ncols(), single);
    Ok(out.into_pyarray(py))
}

/// `Xᵀ · D` for a shard's rows `X` (CSR over dense columns `0..n_cols`) and the shard's rows
/// of `D` (`n_rows × l`, read in single precision): the shard's partial product (`n_cols ×
/// l`); partials of all shards add up, in shard order. `single`: summed in single precision.
#[pyfunction]
fn lsa_transpose_product<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    cols: PyReadonlyArray1<'py, u32>,
    values: PyReadonlyArray1<'py, f64>,
    n_cols: usize,
    d: PyReadonlyArray2<'py, f64>,
    single: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let m = shard_rows(&indptr, &cols, &values, n_cols)?;
    let d = d.as_array().to_owned();
    if d.nrows() != m.n_rows() {
        return Err(value_err(format!(
            "lsa_transpose_product: D has {} rows, the shard {}",
            d.nrows(),
            m.n_rows()
        )));
    }
    let p = lsa::TransposeProduct::partial(&m, &[], n_cols, &lsa::single(&d), d.ncols(), single);
    Ok(p.finish().into_pyarray(py))
}

/// `AᵀA` of a shard's rows of a tall matrix: partials add up in shard order.
#[pyfunction]
fn gram<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, f64>) -> Bound<'py, PyArray2<f64>> {
    lsa::Gram::partial(a.as_array()).finish().into_pyarray(py)
}

/// The factor `F` (`l × l`) that makes `A F` orthonormal, from `A`'s Gram matrix.
#[pyfunction]
fn orthonormal_factor<'py>(
    py: Python<'py>,
    gram: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let f = lsa::orthonormal_factor(gram.as_array().to_owned()).map_err(value_err)?;
    Ok(f.into_pyarray(py))
}

/// A basis of the columns of a tall matrix held in one place (`passes` CholeskyQR passes).
#[pyfunction]
fn orthonormal<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, f64>,
    passes: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let q = lsa::orthonormal(a.as_array().to_owned(), passes).map_err(value_err)?;
    Ok(q.into_pyarray(py))
}

/// `A F` for a shard's rows of a tall matrix and a square factor ([`orthonormal_factor`]),
/// as the CLI multiplies its blocks of rows (so each row gets the same bits).
#[pyfunction]
fn lsa_apply<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, f64>,
    f: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (a, f) = (a.as_array(), f.as_array());
    if a.ncols() != f.nrows() {
        return Err(value_err("lsa_apply: the shapes do not fit"));
    }
    Ok(a.dot(&f).into_pyarray(py))
}

/// `(components, singular_values)`: the LSA basis `V` (`n_cols × dims`) from `Bᵀ = Xᵀ Q`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn lsa_basis<'py>(
    py: Python<'py>,
    bt: PyReadonlyArray2<'py, f64>,
    dims: usize,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)> {
    let (v, s) = lsa::basis(bt.as_array().to_owned(), dims).map_err(value_err)?;
    Ok((v.into_pyarray(py), s.into_pyarray(py)))
}

/// The LSA embedding of a shard's rows (CSR over dense columns) with the basis
/// `components`: each row's `x V`, normalised (zero rows stay zero); row by row, so equal to
/// the CLI's embedding of the same rows.
#[pyfunction]
fn lsa_transform<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    cols: PyReadonlyArray1<'py, u32>,
    values: PyReadonlyArray1<'py, f64>,
    components: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let c = components.as_array().to_owned();
    let m = shard_rows(&indptr, &cols, &values, c.nrows())?;
    Ok(lsa::transform(&m, &[], &c).into_pyarray(py))
}

/// `(sums, counts)`: per centroid, the sum (`k × d`) and the number of a shard's rows
/// assigned to it (`labels`), added in row order; shards add up in shard order.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn centroid_sums<'py>(
    py: Python<'py>,
    rows: PyReadonlyArray2<'py, f64>,
    labels: Vec<usize>,
    k: usize,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Vec<u64>)> {
    let rows: ArrayView2<f64> = rows.as_array();
    if labels.len() != rows.nrows() || labels.iter().any(|&l| l >= k) {
        return Err(value_err(
            "centroid_sums: one label below k per row expected",
        ));
    }
    let s = themata_core::math::kmeans::CentroidSums::partial(rows, &labels, k);
    Ok((s.sums.into_pyarray(py), s.counts))
}

/// Each row's nearest centroid by cosine similarity (rows and centroids unit length):
/// `(cluster, similarity, margin, status)` per row, as assignments.parquet has them (ties
/// to the lower cluster; a row with no positive similarity gets None and status
/// `low_similarity`). `floors`: guided mode's (min_similarity, min_margin).
#[pyfunction]
#[allow(clippy::type_complexity)]
#[pyo3(signature = (rows, centroids, floors = None))]
fn assign<'py>(
    py: Python<'py>,
    rows: PyReadonlyArray2<'py, f64>,
    centroids: PyReadonlyArray2<'py, f64>,
    floors: Option<(f64, f64)>,
) -> PyResult<(
    Vec<Option<u32>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<&'static str>,
)> {
    let x: Array2<f64> = rows.as_array().to_owned();
    let c: Array2<f64> = centroids.as_array().to_owned();
    if x.ncols() != c.ncols() {
        return Err(value_err("assign: rows and centroids differ in width"));
    }
    let all: Vec<usize> = (0..x.nrows()).collect();
    let placed = themata_core::cluster::assign(&x, &all, x.nrows(), &c, floors);
    let cluster = placed.iter().map(|p| p.0).collect();
    let sim: Vec<f64> = placed.iter().map(|p| p.1).collect();
    let margin: Vec<f64> = placed.iter().map(|p| p.2).collect();
    let status = placed.iter().map(|p| p.3.name()).collect();
    Ok((
        cluster,
        sim.into_pyarray(py),
        margin.into_pyarray(py),
        status,
    ))
}

fn cluster_params(cluster: &str, themes: Vec<(String, Vec<String>)>) -> PyResult<ClusterParams> {
    let mut p: ClusterParams = section(cluster, "cluster")?;
    p.themes = themes
        .into_iter()
        .map(|(name, seeds)| Theme { name, seeds })
        .collect();
    p.check().map_err(value_err)?;
    Ok(p)
}

/// What the cluster stage of a pipeline's `[cluster]` section (JSON) and `[themes]` (a list
/// of (name, seed words)) does with `n_nonempty` kept passages holding kept terms over
/// `n_cols` kept terms, as the CLI decides it: a dict of the settings (`mode`, `k` — None for
/// `k = "auto"`, whose `k_range` is the range swept —, `use_lsa`, `lsa_dims`, `seed`,
/// `n_runs`, `max_iterations`, `tolerance`, `top_terms`, `explain_terms`, `merge_above`,
/// `merge_to`, `extra_clusters`, `seed_weight`, `min_similarity`, `min_margin`,
/// `min_live_seeds`). Errors as the CLI's: bad settings, fewer passages than clusters (or
/// than a sweep's range needs), a corpus too large for k-means on its TF-IDF rows.
#[pyfunction]
#[pyo3(signature = (cluster, n_nonempty, n_cols, themes = vec![]))]
fn cluster_plan<'py>(
    py: Python<'py>,
    cluster: &str,
    n_nonempty: usize,
    n_cols: usize,
    themes: Vec<(String, Vec<String>)>,
) -> PyResult<Bound<'py, PyDict>> {
    use themata_core::cluster::{Reduce, AUTO_LSA_CELLS, MAX_DENSE_CELLS};
    let p = cluster_params(cluster, themes)?;
    let d = PyDict::new(py);
    let cells = n_nonempty.saturating_mul(n_cols);
    let use_lsa = match p.reduce {
        Reduce::Lsa => true,
        Reduce::None => false,
        Reduce::Auto => cells > AUTO_LSA_CELLS,
    };
    if p.mode == Mode::Discover && !matches!(p.k, Some(K::Fixed(_))) {
        // k = "auto": the range the CLI sweeps, k_min..=min(k_max, n - 1), or its error
        let hi = p.k_max.min(n_nonempty.saturating_sub(1));
        if hi < p.k_min {
            return Err(value_err(format!(
                "cluster: {}",
                themata_core::cluster::ClusterError::SweepRange {
                    k_min: p.k_min,
                    k_max: p.k_max,
                    n: n_nonempty,
                }
            )));
        }
        d.set_item("k_range", (p.k_min, hi))?;
    } else {
        let k = p.n_clusters().unwrap_or(0);
        if n_nonempty < k {
            return Err(value_err(format!(
                "cluster: {k} clusters need at least {k} passages with terms, the corpus has {n_nonempty}"
            )));
        }
        d.set_item("k_range", py.None())?;
    }
    if !use_lsa && cells > MAX_DENSE_CELLS {
        return Err(value_err(format!(
            "cluster: {n_nonempty} passages × {n_cols} terms is too large for k-means on the \
             TF-IDF rows: set cluster.reduce = \"lsa\""
        )));
    }
    d.set_item(
        "mode",
        match p.mode {
            Mode::Guided => "guided",
            Mode::Discover => "discover",
        },
    )?;
    d.set_item("k", p.n_clusters())?;
    d.set_item("use_lsa", use_lsa)?;
    d.set_item("lsa_dims", p.lsa_dims)?;
    d.set_item("seed", p.seed)?;
    d.set_item("n_runs", p.n_runs)?;
    d.set_item("max_iterations", p.max_iterations)?;
    d.set_item("tolerance", p.tolerance)?;
    d.set_item("top_terms", p.top_terms)?;
    d.set_item("explain_terms", p.explain_terms)?;
    d.set_item("merge_above", p.merge_above)?;
    d.set_item("merge_to", p.merge_to)?;
    d.set_item("extra_clusters", p.extra_clusters)?;
    d.set_item("seed_weight", p.seed_weight)?;
    d.set_item("min_similarity", p.min_similarity)?;
    d.set_item("min_margin", p.min_margin)?;
    d.set_item("min_live_seeds", p.min_live_seeds)?;
    Ok(d)
}

/// The vocabulary from its columns (as [`vocabulary`] returns them).
fn vocabulary_from(
    terms: Vec<String>,
    labels: Vec<String>,
    df: Vec<u32>,
    idf: Vec<f64>,
    kept: Vec<bool>,
) -> PyResult<Vocabulary> {
    let n = terms.len();
    if labels.len() != n || df.len() != n || idf.len() != n || kept.len() != n {
        return Err(value_err("the vocabulary's columns differ in length"));
    }
    Ok(Vocabulary {
        terms: (0..n)
            .map(|i| Term {
                term: terms[i].clone(),
                label: labels[i].clone(),
                df: df[i],
                cf: 0,
                idf: idf[i],
                dropped: (!kept[i]).then_some(DropReason::MinDf),
            })
            .collect(),
        n_rows: 0,
    })
}

/// Guided themes' centroids over the kept terms (`themes × n_kept`, unit rows) from their
/// seed words, read by `analyzer` and looked up in the vocabulary (its columns), and what
/// became of each seed word: (centroids, seed rows as columns theme, seed, terms, label, df,
/// status, and the seed warnings the CLI prints). An error names a theme none of whose
/// seeds is in the kept vocabulary.
#[pyfunction]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn seed_centroids<'py>(
    py: Python<'py>,
    themes: Vec<(String, Vec<String>)>,
    analyzer: &Analyzer,
    terms: Vec<String>,
    labels: Vec<String>,
    df: Vec<u32>,
    idf: Vec<f64>,
    kept: Vec<bool>,
    min_live_seeds: usize,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyDict>, Vec<String>)> {
    let vocab = vocabulary_from(terms, labels, df, idf, kept)?;
    let themes: Vec<Theme> = themes
        .into_iter()
        .map(|(name, seeds)| Theme { name, seeds })
        .collect();
    let (c, seeds) = themata_core::cluster::seed_centroids(&themes, &analyzer.inner, &vocab)
        .map_err(value_err)?;
    let warnings = themata_core::cluster::seed_warnings(&seeds, &themes, min_live_seeds);
    let d = columns!(py, seeds, {
        "theme" => |s| s.theme.as_str(),
        "seed" => |s| s.seed.as_str(),
        "terms" => |s| s.terms.as_str(),
        "label" => |s| s.label.as_str(),
        "df" => |s| s.df,
        "status" => |s| s.status.name(),
    });
    Ok((c.into_pyarray(py), d, warnings))
}

/// Term-space rows (`k × n_kept`) projected into the LSA space of `components`, unit rows
/// (how guided themes' seeds enter an LSA space).
#[pyfunction]
fn lsa_project<'py>(
    py: Python<'py>,
    rows: PyReadonlyArray2<'py, f64>,
    components: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (r, c) = (rows.as_array(), components.as_array());
    if r.ncols() != c.nrows() {
        return Err(value_err("lsa_project: the shapes do not fit"));
    }
    let mut p = r.dot(&c);
    themata_core::math::rows::normalize_rows(&mut p);
    Ok(p.into_pyarray(py))
}

/// A shard's answer to a request of the sharded guided k-means ([`guided_fit`]): the shard's
/// global offset and its rows `x` (`n × d`, double precision, unit rows).
#[pyfunction]
fn guided_answer(request: &str, offset: u64, x: PyReadonlyArray2<'_, f64>) -> PyResult<String> {
    use themata_core::math::sharded::{guided_answer, DenseShard, GuidedRequest};
    let req: GuidedRequest = serde_json::from_str(request).map_err(value_err)?;
    let x = x.as_array();
    let resp = guided_answer(&req, &DenseShard { offset, x });
    serde_json::to_string(&resp).map_err(value_err)
}

/// The guided k-means of the CLI (seeds anchor the first centroids, `extra` free ones start
/// at the least similar rows) over rows held in shards of `sizes` rows: `ask` takes a
/// request and returns every shard's [`guided_answer`], in shard order. Unit centroids.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn guided_fit<'py>(
    py: Python<'py>,
    seeds: PyReadonlyArray2<'py, f64>,
    extra: usize,
    weight: f64,
    max_iterations: u64,
    sizes: Vec<usize>,
    ask: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    use themata_core::math::sharded::{guided_fit_sharded, GuidedResponse};
    let seeds = seeds.as_array().to_owned();
    let mut failure: Option<PyErr> = None;
    let fit = guided_fit_sharded(&seeds, extra, weight, max_iterations, &sizes, |req| {
        ask_shards::<_, GuidedResponse>(&ask, req, &mut failure)
    });
    match fit {
        Ok(c) => Ok(c.into_pyarray(py)),
        Err(e) => Err(failure.unwrap_or_else(|| value_err(e))),
    }
}

/// A shard's answer to a request of the sharded k-means ([`kmeans_fit`]): `request` as
/// `ask` received it, the shard's position `index` and the global index of its first row
/// `offset`, and its rows `x` (`n × d`, single precision).
#[pyfunction]
fn kmeans_answer(
    request: &str,
    index: usize,
    offset: u64,
    x: PyReadonlyArray2<'_, f32>,
) -> PyResult<String> {
    use themata_core::math::sharded::{answer, Request, Shard};
    let req: Request = serde_json::from_str(request).map_err(value_err)?;
    let x = x.as_array();
    let d = x.ncols();
    let x = x.as_standard_layout();
    let data = x.as_slice().expect("standard layout");
    let resp = answer(&req, &Shard::new(index, offset, data, d));
    serde_json::to_string(&resp).map_err(value_err)
}

/// One request of a sharded fit through the Python callable `ask` (request JSON in, one
/// answer JSON per shard out); a Python error is kept in `failure` to be raised as it was.
fn ask_shards<Q: serde::Serialize, A: serde::de::DeserializeOwned>(
    ask: &Bound<'_, PyAny>,
    req: &Q,
    failure: &mut Option<PyErr>,
) -> Result<Vec<A>, themata_core::math::lloyd::KMeansError> {
    let run = || -> PyResult<Vec<A>> {
        let text = serde_json::to_string(req).map_err(value_err)?;
        let answers: Vec<String> = ask.call1((text,))?.extract()?;
        answers
            .iter()
            .map(|a| serde_json::from_str(a).map_err(value_err))
            .collect()
    };
    run().map_err(|e| {
        *failure = Some(e);
        themata_core::math::lloyd::KMeansError::new("a shard request failed")
    })
}

/// The k-means fit of the CLI's discover mode (k-means++ with `n_runs` restarts from
/// `seed`, Lloyd's iterations) over rows held in shards of `sizes` rows, `d` wide: `ask`
/// takes a request (a string) and returns every shard's [`kmeans_answer`] to it, in shard
/// order. Returns (centroids `k × d`, inertia, iterations, restart kept).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn kmeans_fit<'py>(
    py: Python<'py>,
    sizes: Vec<usize>,
    d: usize,
    k: usize,
    n_runs: usize,
    max_iterations: u64,
    tolerance: f64,
    seed: u64,
    ask: Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyArray2<f32>>, f64, u64, usize)> {
    use themata_core::math::lloyd::Lloyd;
    use themata_core::math::sharded::Response;
    let params = Lloyd::params(k)
        .n_runs(n_runs)
        .max_iterations(max_iterations)
        .tolerance(tolerance)
        .seed(seed);
    let mut failure: Option<PyErr> = None;
    let fit = params.fit_sharded(&sizes, d, |req| {
        ask_shards::<_, Response>(&ask, req, &mut failure)
    });
    match fit {
        Ok(f) => Ok((f.centroids.into_pyarray(py), f.inertia, f.iterations, f.run)),
        Err(e) => Err(failure.unwrap_or_else(|| value_err(e))),
    }
}

/// The rows scaled to unit length (zero rows stay zero), as the CLI normalises centroids.
#[pyfunction]
fn unit_rows<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, f64>) -> Bound<'py, PyArray2<f64>> {
    let mut a = a.as_array().to_owned();
    themata_core::math::rows::normalize_rows(&mut a);
    a.into_pyarray(py)
}

/// The clusters as the CLI's cluster stage describes them, from their merged term counts and
/// weight sums: `classes[c]` (term id → count) for each of the `k` clusters and, at `k`, the
/// unassigned passages; `weight_sums[c]` (term id → sum of TF-IDF weights) and `sizes[c]`
/// (passages) for each cluster. Returns a dict: `names`, `top_terms` (per cluster its top
/// c-TF-IDF labels joined by ", ") and `cluster_terms` (the table's columns: the top terms by
/// mean TF-IDF, then by c-TF-IDF, as cluster_terms.parquet holds them).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (classes, weight_sums, sizes, k, terms, labels, top_terms, fixed = None))]
fn describe_clusters<'py>(
    py: Python<'py>,
    classes: Vec<std::collections::HashMap<u32, f64>>,
    weight_sums: Vec<std::collections::HashMap<u32, f64>>,
    sizes: Vec<usize>,
    k: usize,
    terms: Vec<String>,
    labels: Vec<String>,
    top_terms: usize,
    fixed: Option<Vec<Option<String>>>,
) -> PyResult<Bound<'py, PyDict>> {
    if terms.len() != labels.len() {
        return Err(value_err(
            "describe_clusters: terms and labels differ in length",
        ));
    }
    if weight_sums.len() != k || sizes.len() != k || classes.len() > k + 1 {
        return Err(value_err(
            "describe_clusters: k weight sums and sizes, at most k + 1 classes expected",
        ));
    }
    let outside = |maps: &[std::collections::HashMap<u32, f64>]| {
        maps.iter()
            .any(|c| c.keys().any(|&t| t as usize >= terms.len()))
    };
    if outside(&classes) || outside(&weight_sums) {
        return Err(value_err(
            "describe_clusters: a term id is outside the vocabulary",
        ));
    }
    let n = terms.len();
    let vocab = vocabulary_from(terms, labels, vec![0; n], vec![0.0; n], vec![true; n])?;
    let fx =
        |maps: Vec<std::collections::HashMap<u32, f64>>| -> Vec<rustc_hash::FxHashMap<u32, f64>> {
            maps.into_iter().map(|c| c.into_iter().collect()).collect()
        };
    let mut rows =
        themata_core::cluster::mean_tfidf_terms_of(fx(weight_sums), &sizes, &vocab, top_terms);
    rows.extend(themata_core::cluster::ctfidf_terms_of(
        fx(classes),
        &vocab,
        k,
        top_terms,
    ));
    let mut fixed = fixed.unwrap_or_default();
    fixed.resize(k, None);
    let names = themata_core::cluster::theme_names(&rows, k, &fixed);
    let tops: Vec<String> = (0..k as u32)
        .map(|c| {
            rows.iter()
                .filter(|t| t.cluster == c && t.measure == themata_core::model::Measure::Ctfidf)
                .map(|t| t.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let table = columns!(py, rows, {
        "cluster" => |t| t.cluster,
        "measure" => |t| t.measure.name(),
        "rank" => |t| t.rank,
        "term_id" => |t| t.term_id,
        "term" => |t| t.term.as_str(),
        "label" => |t| t.label.as_str(),
        "weight" => |t| t.weight,
    });
    let d = PyDict::new(py);
    d.set_item("names", names)?;
    d.set_item("top_terms", tops)?;
    d.set_item("cluster_terms", table)?;
    Ok(d)
}

/// The themes' dendrogram as theme_hierarchy.parquet holds it (a dict of its columns): the
/// average-linkage joins of the unit `centroids` (one row per cluster), with the clusters'
/// `names` and `sizes` (passages).
#[pyfunction]
fn theme_hierarchy<'py>(
    py: Python<'py>,
    centroids: PyReadonlyArray2<'py, f64>,
    names: Vec<String>,
    sizes: Vec<u32>,
) -> PyResult<Bound<'py, PyDict>> {
    let centroids = centroids.as_array().to_owned();
    if names.len() != centroids.nrows() || sizes.len() != centroids.nrows() {
        return Err(value_err(
            "theme_hierarchy: one name and one size per centroid expected",
        ));
    }
    let c = themata_core::model::Clustering {
        clusters: (0..names.len())
            .map(|i| themata_core::model::ClusterInfo {
                cluster: i as u32,
                theme: names[i].clone(),
                size: sizes[i],
                top_terms: String::new(),
            })
            .collect(),
        centroids,
        ..Default::default()
    };
    let h = themata_core::cluster::theme_hierarchy(&c);
    Ok(columns!(py, h, {
        "node" => |n| n.node,
        "left" => |n| n.left,
        "right" => |n| n.right,
        "similarity" => |n| n.similarity,
        "themes" => |n| n.themes,
        "passages" => |n| n.passages,
        "members" => |n| n.members.as_str(),
    }))
}

/// The merge of fitted themes a pipeline's `cluster.merge_above` / `cluster.merge_to` asks
/// of the unit `centroids` (one row per fitted cluster), as the CLI's cluster stage merges
/// them: `None` when it takes no join. `sizes()` is called only then, and returns the
/// fitted clusters' passages and names (what a pass over the rows gives). A dict:
/// `centroids` (one unit row per group), `fixed` (the groups' names that are kept: their
/// guided themes' joined with `+`, else None), `group_of` (each fitted cluster's group) and
/// `joins` (each as (the two nodes' fitted themes joined with `+`, similarity, group)).
#[pyfunction]
#[pyo3(signature = (centroids, fixed, above, to, sizes))]
fn merge_themes<'py>(
    py: Python<'py>,
    centroids: PyReadonlyArray2<'py, f64>,
    fixed: Vec<Option<String>>,
    above: Option<f64>,
    to: Option<usize>,
    sizes: Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    use themata_core::cluster::hierarchy;
    let c = centroids.as_array().to_owned();
    let k = c.nrows();
    let links = hierarchy::average_linkage(&c);
    let steps = hierarchy::merge_steps(&links, k, above, to);
    if steps == 0 {
        return Ok(None);
    }
    let (sizes, fitted): (Vec<u32>, Vec<String>) = sizes.call0()?.extract()?;
    if sizes.len() != k || fitted.len() != k {
        return Err(value_err(
            "merge_themes: one size and one name per centroid expected",
        ));
    }
    let mut fixed = fixed;
    fixed.resize(k, None);
    let m = hierarchy::merge(&c, &links[..steps], &sizes, &fitted, &fixed);
    let d = PyDict::new(py);
    d.set_item("centroids", m.centroids.into_pyarray(py))?;
    d.set_item("fixed", m.fixed)?;
    d.set_item("group_of", m.group_of)?;
    d.set_item("joins", m.joins)?;
    Ok(Some(d))
}

/// `k = "auto"`: the positions (among the rows with terms, in passage order) of the evenly
/// spaced sample of `n` rows the silhouette is computed on, as the CLI samples them.
#[pyfunction]
fn sweep_sample(n: usize) -> Vec<usize> {
    themata_core::math::validity::sample(n, themata_core::math::validity::SILHOUETTE_SAMPLE)
}

/// Each row's nearest centroid by dot product (ties: the lower id), as the CLI labels rows
/// in a sweep of k.
#[pyfunction]
fn nearest(
    rows: PyReadonlyArray2<'_, f64>,
    centroids: PyReadonlyArray2<'_, f64>,
) -> PyResult<Vec<usize>> {
    let (x, c) = (rows.as_array(), centroids.as_array());
    if x.ncols() != c.ncols() {
        return Err(value_err("nearest: rows and centroids differ in width"));
    }
    Ok(x.dot(&c.t())
        .rows()
        .into_iter()
        .map(themata_core::math::rows::argmax)
        .collect())
}

/// `(within, spread)` of a shard's rows with `labels` given the cluster means `mu`: the sum
/// of their squared distances to their means, and per cluster the sum of the distances —
/// what the shards add up (in shard order) for Calinski–Harabasz and Davies–Bouldin.
#[pyfunction]
fn dispersion(
    rows: PyReadonlyArray2<'_, f64>,
    labels: Vec<usize>,
    mu: PyReadonlyArray2<'_, f64>,
) -> PyResult<(f64, Vec<f64>)> {
    let (x, mu) = (rows.as_array(), mu.as_array().to_owned());
    if labels.len() != x.nrows()
        || labels.iter().any(|&l| l >= mu.nrows())
        || x.ncols() != mu.ncols()
    {
        return Err(value_err(
            "dispersion: one label below k per row, and means as wide as the rows, expected",
        ));
    }
    Ok(themata_core::math::validity::dispersion(x, &labels, &mu))
}

/// One row of a sweep of k as the CLI scores it: the silhouette of the sampled rows
/// (`sample`, with their labels) and Calinski–Harabasz and Davies–Bouldin from the merged
/// parts of all `n` rows (cluster means `mu`, `size`, the overall mean, `within`, `spread`),
/// rounded to 6 decimals. A dict: `k`, `silhouette`, `calinski_harabasz`, `davies_bouldin`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn sweep_score<'py>(
    py: Python<'py>,
    k: usize,
    sample: PyReadonlyArray2<'py, f64>,
    sampled: Vec<usize>,
    mu: PyReadonlyArray2<'py, f64>,
    size: Vec<usize>,
    overall: PyReadonlyArray1<'py, f64>,
    within: f64,
    spread: Vec<f64>,
    n: usize,
) -> PyResult<Bound<'py, PyDict>> {
    use themata_core::math::validity;
    let xs = sample.as_array().to_owned();
    let mu = mu.as_array().to_owned();
    if sampled.len() != xs.nrows()
        || sampled.iter().any(|&l| l >= k)
        || mu.nrows() != k
        || size.len() != k
        || spread.len() != k
    {
        return Err(value_err(
            "sweep_score: a label below k per sampled row, and k means, sizes and spreads expected",
        ));
    }
    let all: Vec<usize> = (0..xs.nrows()).collect();
    let g = validity::gram(&xs, &all);
    let parts = validity::Parts {
        mu,
        size,
        overall: overall.as_array().to_owned(),
        within,
        spread,
        n,
    };
    let r = themata_core::cluster::score(k, &g, &sampled, &parts);
    let d = PyDict::new(py);
    d.set_item("k", r.k)?;
    d.set_item("silhouette", r.silhouette)?;
    d.set_item("calinski_harabasz", r.calinski_harabasz)?;
    d.set_item("davies_bouldin", r.davies_bouldin)?;
    Ok(d)
}

/// The k a sweep chooses, by the CLI's rule, from its rows `(k, silhouette,
/// calinski_harabasz, davies_bouldin)`: (the chosen row's index, the warning when it is an
/// end of the range).
#[pyfunction]
fn sweep_choose(rows: Vec<(usize, f64, f64, f64)>) -> PyResult<(usize, Option<String>)> {
    if rows.is_empty() {
        return Err(value_err("sweep_choose: no rows"));
    }
    let mut rows: Vec<themata_core::model::SweepRow> = rows
        .into_iter()
        .map(
            |(k, silhouette, calinski_harabasz, davies_bouldin)| themata_core::model::SweepRow {
                k,
                silhouette,
                calinski_harabasz,
                davies_bouldin,
                chosen: false,
            },
        )
        .collect();
    let best = themata_core::cluster::choose(&mut rows);
    Ok((best, themata_core::cluster::end_of_range(&rows)))
}

/// Why each of a shard's rows got its theme, as the CLI's cluster stage explains it: the top
/// `top` contributing terms of each row to its nearest centroid and to the runner-up. The
/// rows are CSR over term ids (`passage_ids`, `indptr`, `term_ids`, `values`: TF-IDF weights
/// of kept terms), `columns[term_id]` each term's column among the kept terms, `x` the rows
/// embedded as they were assigned, `centroids` the unit centroids in that space and
/// `components` the LSA basis when there is one. A dict of explanations.parquet's columns
/// `passage_id`, `role`, `cluster`, `similarity`, `rank`, `term_id`, `weight`, `contribution`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (passage_ids, indptr, term_ids, values, columns, x, centroids, components, top))]
fn explain_rows<'py>(
    py: Python<'py>,
    passage_ids: PyReadonlyArray1<'py, i64>,
    indptr: PyReadonlyArray1<'py, i64>,
    term_ids: PyReadonlyArray1<'py, u32>,
    values: PyReadonlyArray1<'py, f64>,
    columns: PyReadonlyArray1<'py, i64>,
    x: PyReadonlyArray2<'py, f64>,
    centroids: PyReadonlyArray2<'py, f64>,
    components: Option<PyReadonlyArray2<'py, f64>>,
    top: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let mut m = weights(&indptr, &term_ids, &values)?;
    let ids = passage_ids.as_slice().map_err(value_err)?;
    if ids.len() != m.n_rows() {
        return Err(value_err("explain_rows: one passage id per row expected"));
    }
    m.row_ids = ids
        .iter()
        .map(|&i| {
            u32::try_from(i).map_err(|_| value_err("explain_rows: a passage id is out of range"))
        })
        .collect::<PyResult<_>>()?;
    let cols: Vec<u32> = columns
        .as_slice()
        .map_err(value_err)?
        .iter()
        .map(|&c| c.max(0) as u32)
        .collect();
    let (x, c) = (x.as_array().to_owned(), centroids.as_array().to_owned());
    let v = components.map(|v| v.as_array().to_owned());
    let width = v.as_ref().map_or(x.ncols(), |v| v.nrows());
    if x.nrows() != m.n_rows() || x.ncols() != c.ncols() {
        return Err(value_err(
            "explain_rows: one embedded row per row, as wide as the centroids, expected",
        ));
    }
    if let Some(v) = &v {
        if v.ncols() != c.ncols() {
            return Err(value_err(
                "explain_rows: the basis and the centroids differ in width",
            ));
        }
    }
    if m.cols.iter().any(|&t| {
        cols.get(t as usize)
            .is_none_or(|&col| col as usize >= width)
    }) {
        return Err(value_err(
            "explain_rows: a term id is outside the vocabulary's kept columns",
        ));
    }
    let rows: Vec<usize> = (0..m.n_rows()).collect();
    let e = themata_core::cluster::explain_columns(&m, &cols, &x, &rows, &c, v.as_ref(), top);
    let d = columns!(py, e, numpy {
        "passage_id" => |r| r.passage_id,
        "cluster" => |r| r.cluster,
        "similarity" => |r| r.similarity,
        "rank" => |r| r.rank,
        "term_id" => |r| r.term_id,
        "weight" => |r| r.weight,
        "contribution" => |r| r.contribution,
    });
    d.set_item("role", e.iter().map(|r| r.role.name()).collect::<Vec<_>>())?;
    Ok(d)
}

/// A pipeline section's settings as the CLI records them in manifest.json: `section` is
/// `ingest`, `analyzer`, `tfidf` or `cluster` (with `themes`, as (name, seeds) pairs), `json`
/// the section as written. Every default filled in, by the same types the CLI reads them with.
#[pyfunction]
#[pyo3(signature = (section, json, themes = vec![]))]
fn settings_json(
    section: &str,
    json: &str,
    themes: Vec<(String, Vec<String>)>,
) -> PyResult<String> {
    let v = match section {
        "ingest" => serde_json::to_value(ingest_params(json)?),
        "analyzer" => {
            let p: AnalyzerParams = self::section(json, "analyzer")?;
            serde_json::to_value(p)
        }
        "tfidf" => serde_json::to_value(tfidf_params(json)?),
        "cluster" => {
            let p = cluster_params(json, themes)?;
            Ok(serde_json::json!({ "cluster": &p, "themes": &p.themes }))
        }
        other => return Err(value_err(format!("no section {other:?}"))),
    }
    .map_err(value_err)?;
    Ok(v.to_string())
}

/// The version of themata-core this module was built from.
#[pyfunction]
fn core_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _themata(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Analyzer>()?;
    m.add_class::<Counts>()?;
    m.add_class::<arrow::Weigher>()?;
    m.add_function(wrap_pyfunction!(arrow::read_files, m)?)?;
    m.add_function(wrap_pyfunction!(arrow::content_hash, m)?)?;
    m.add_function(wrap_pyfunction!(arrow::shingle_batch, m)?)?;
    m.add_function(wrap_pyfunction!(glob_matches, m)?)?;
    m.add_function(wrap_pyfunction!(glob_escape, m)?)?;
    m.add_function(wrap_pyfunction!(file_document, m)?)?;
    m.add_function(wrap_pyfunction!(record_document, m)?)?;
    m.add_function(wrap_pyfunction!(repeated_keys, m)?)?;
    m.add_function(wrap_pyfunction!(mark_boilerplate, m)?)?;
    m.add_function(wrap_pyfunction!(shingles, m)?)?;
    m.add_function(wrap_pyfunction!(find_duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(word_list, m)?)?;
    m.add_function(wrap_pyfunction!(label_of, m)?)?;
    m.add_function(wrap_pyfunction!(vocabulary, m)?)?;
    m.add_function(wrap_pyfunction!(weigh, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_widths, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_power_iterations, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_product, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_transpose_product, m)?)?;
    m.add_function(wrap_pyfunction!(gram, m)?)?;
    m.add_function(wrap_pyfunction!(orthonormal_factor, m)?)?;
    m.add_function(wrap_pyfunction!(orthonormal, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_basis, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_apply, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_transform, m)?)?;
    m.add_function(wrap_pyfunction!(centroid_sums, m)?)?;
    m.add_function(wrap_pyfunction!(assign, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_plan, m)?)?;
    m.add_function(wrap_pyfunction!(kmeans_answer, m)?)?;
    m.add_function(wrap_pyfunction!(seed_centroids, m)?)?;
    m.add_function(wrap_pyfunction!(lsa_project, m)?)?;
    m.add_function(wrap_pyfunction!(guided_answer, m)?)?;
    m.add_function(wrap_pyfunction!(guided_fit, m)?)?;
    m.add_function(wrap_pyfunction!(kmeans_fit, m)?)?;
    m.add_function(wrap_pyfunction!(unit_rows, m)?)?;
    m.add_function(wrap_pyfunction!(describe_clusters, m)?)?;
    m.add_function(wrap_pyfunction!(theme_hierarchy, m)?)?;
    m.add_function(wrap_pyfunction!(explain_rows, m)?)?;
    m.add_function(wrap_pyfunction!(merge_themes, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_sample, m)?)?;
    m.add_function(wrap_pyfunction!(nearest, m)?)?;
    m.add_function(wrap_pyfunction!(dispersion, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_score, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_choose, m)?)?;
    m.add_function(wrap_pyfunction!(settings_json, m)?)?;
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    Ok(())
}
