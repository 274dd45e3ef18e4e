//! The TF-IDF stage's tables: the vocabulary and the weights.

use super::{
    col, frame, read, table_err, write, write_batched, Meta, Reader, SURFACE_FORMS, TERM_COUNTS,
    TFIDF, VOCABULARY,
};
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;
use themata_core::analyze::TermCounts;
use themata_core::model::{DropReason, Named, SparseRows, Term, Vocabulary};

/// Write `vocabulary.parquet` and `tfidf.parquet` (the matrix one row group at a time, so
/// that no frame holding a copy of the whole matrix exists: it is the largest thing a run
/// writes).
pub fn write_tfidf(dir: &Path, vocab: &Vocabulary, m: &SparseRows, meta: Meta) -> Result<()> {
    let ids: Vec<u32> = (0..vocab.terms.len() as u32).collect();
    let mut df = frame!(VOCABULARY, &vocab.terms, {
        "term" => |x: &Term| x.term.as_str(),
        "label" => |x: &Term| x.label.as_str(),
        "df" => |x: &Term| x.df,
        "cf" => |x: &Term| x.cf,
        "idf" => |x: &Term| x.idf,
        "kept" => |x: &Term| x.kept(),
        "dropped_reason" => |x: &Term| x.dropped.map(Named::name),
    })?;
    df.insert_column(0, col("term_id", ids))
        .map_err(|e| table_err(Path::new(VOCABULARY), e))?;
    write(dir, VOCABULARY, df, meta)?;
    write_batched(dir, TFIDF, m.nnz(), meta, |range| tfidf_frame(m, range))
}

/// The tfidf table's rows for the entries `range` of the matrix (in row order).
fn tfidf_frame(m: &SparseRows, range: std::ops::Range<usize>) -> Result<DataFrame> {
    let df = DataFrame::new(
        range.len(),
        vec![
            col("passage_id", entry_rows(m, range.clone())),
            col("term_id", &m.cols[range.clone()]),
            col("count", &m.counts[range.clone()]),
            col("weight", &m.values[range]),
        ],
    );
    df.map_err(|e| table_err(Path::new(TFIDF), e))
}

/// Read `vocabulary.parquet` back.
pub fn read_vocabulary(dir: &Path) -> Result<Vocabulary> {
    let df = read(dir, VOCABULARY)?;
    let r = Reader::new(&df, dir, VOCABULARY);
    let (terms, labels, dfs, cfs, idfs, reasons) = (
        r.str("term")?,
        r.str("label")?,
        r.u32("df")?,
        r.u64("cf")?,
        r.f64("idf")?,
        r.opt_named::<DropReason>("dropped_reason")?,
    );
    let terms = terms
        .into_iter()
        .enumerate()
        .map(|(i, term)| Term {
            term,
            label: labels[i].clone(),
            df: dfs[i],
            cf: cfs[i],
            idf: idfs[i],
            dropped: reasons[i],
        })
        .collect();
    Ok(Vocabulary { terms, n_rows: 0 })
}

/// Read the TF-IDF matrix back. `kept_ids` lists the rows (kept passages) in order, so
/// passages without any kept term are rows too.
pub fn read_tfidf(dir: &Path, kept_ids: &[u32]) -> Result<SparseRows> {
    let df = read(dir, TFIDF)?;
    let r = Reader::new(&df, dir, TFIDF);
    let (pids, cols, counts, values) = (
        r.u32("passage_id")?,
        r.u32("term_id")?,
        r.u32("count")?,
        r.f64("weight")?,
    );
    rows_of(kept_ids, &pids, cols, counts, values).ok_or_else(|| r.err("passage_id", UNORDERED))
}

const UNORDERED: &str =
    "rows are not in passage order or name passages that are not kept; rerun `themata tfidf`";

/// The entries (`pids`, `cols`, `counts`, `values`, in row order) as one row per id of
/// `kept_ids`; `None` when they are not in that order or name other rows.
fn rows_of(
    kept_ids: &[u32],
    pids: &[u32],
    cols: Vec<u32>,
    counts: Vec<u32>,
    values: Vec<f64>,
) -> Option<SparseRows> {
    let mut m = SparseRows {
        row_ids: kept_ids.to_vec(),
        indptr: Vec::with_capacity(kept_ids.len() + 1),
        cols,
        counts,
        values,
    };
    m.indptr.push(0);
    let mut at = 0;
    for &id in kept_ids {
        while at < pids.len() && pids[at] == id {
            at += 1;
        }
        m.indptr.push(at);
    }
    (at == pids.len()).then_some(m)
}

/// What the analyze step counted besides the weights: the counts of the terms TF-IDF
/// dropped, and every term's surface forms. With the vocabulary and the tfidf table's
/// counts it is the whole of the step's state ([`TermCounts`]), which `run --update` merges
/// new passages into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermState {
    /// Rows of the kept passages (in order): the dropped terms' ids and counts.
    pub dropped: SparseRows,
    /// Per term id: its surface forms and their occurrences, in code-point order.
    pub surfaces: Vec<Vec<(String, u64)>>,
}

impl TermState {
    /// The state of the count rows `rows` and their terms' `surfaces`, once `vocab` says
    /// which terms were dropped.
    pub fn of(rows: &SparseRows, surfaces: Vec<Vec<(String, u64)>>, vocab: &Vocabulary) -> Self {
        let mut dropped = SparseRows::empty();
        let (mut cols, mut ns) = (Vec::new(), Vec::new());
        for r in 0..rows.n_rows() {
            cols.clear();
            ns.clear();
            let (c, n) = rows.row_counts(r);
            for (&t, &k) in c.iter().zip(n) {
                if !vocab.terms[t as usize].kept() {
                    cols.push(t);
                    ns.push(k);
                }
            }
            dropped.push_row(rows.row_ids[r], &cols, &ns, &[]);
        }
        TermState { dropped, surfaces }
    }
}

/// Write `term_counts.parquet` and `surface_forms.parquet`.
pub fn write_term_state(dir: &Path, s: &TermState, meta: Meta) -> Result<()> {
    let d = &s.dropped;
    write_batched(dir, TERM_COUNTS, d.nnz(), meta, |range| {
        let df = DataFrame::new(
            range.len(),
            vec![
                col("passage_id", entry_rows(d, range.clone())),
                col("term_id", &d.cols[range.clone()]),
                col("count", &d.counts[range]),
            ],
        );
        df.map_err(|e| table_err(Path::new(TERM_COUNTS), e))
    })?;
    let n: usize = s.surfaces.iter().map(Vec::len).sum();
    let (mut ids, mut forms, mut occ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (t, list) in s.surfaces.iter().enumerate() {
        for (form, k) in list {
            ids.push(t as u32);
            forms.push(form.as_str());
            occ.push(*k);
        }
    }
    let df = DataFrame::new(
        n,
        vec![
            col("term_id", ids),
            col("surface", forms),
            col("occurrences", occ),
        ],
    )
    .map_err(|e| table_err(Path::new(SURFACE_FORMS), e))?;
    write(dir, SURFACE_FORMS, df, meta)
}

/// The row id of each entry `range` of `m`.
fn entry_rows(m: &SparseRows, range: std::ops::Range<usize>) -> Vec<u32> {
    // the row holding entry `range.start`: the last row starting at or before it
    let mut r = m
        .indptr
        .partition_point(|&p| p <= range.start)
        .saturating_sub(1);
    let mut rows = Vec::with_capacity(range.len());
    for i in range {
        while m.indptr[r + 1] <= i {
            r += 1;
        }
        rows.push(m.row_ids[r]);
    }
    rows
}

/// The analyze step's state read back: the vocabulary's terms, document frequencies and
/// occurrences, `surface_forms.parquet`, and one row per kept passage (`kept_ids`, in
/// order) holding the counts of `tfidf.parquet` and `term_counts.parquet`.
pub fn read_term_counts(dir: &Path, kept_ids: &[u32]) -> Result<TermCounts> {
    let vocab = read_vocabulary(dir)?;
    // the counts of the kept terms (not their weights)
    let t = super::read_columns(dir, TFIDF, &["passage_id", "term_id", "count"])?;
    let tr = Reader::new(&t, dir, TFIDF);
    let kept = rows_of(
        kept_ids,
        &tr.u32("passage_id")?,
        tr.u32("term_id")?,
        tr.u32("count")?,
        vec![],
    )
    .ok_or_else(|| tr.err("passage_id", UNORDERED))?;
    let df = read(dir, TERM_COUNTS)?;
    let r = Reader::new(&df, dir, TERM_COUNTS);
    let (pids, cols, counts) = (r.u32("passage_id")?, r.u32("term_id")?, r.u32("count")?);
    let n_terms = vocab.terms.len();
    if cols.iter().any(|&t| t as usize >= n_terms) {
        return Err(r.err("term_id", "names a term the vocabulary does not have"));
    }
    let sf = read(dir, SURFACE_FORMS)?;
    let s = Reader::new(&sf, dir, SURFACE_FORMS);
    let (sids, forms, occ) = (s.u32("term_id")?, s.str("surface")?, s.u64("occurrences")?);
    let mut surfaces: Vec<Vec<(String, u64)>> = vec![Vec::new(); n_terms];
    for ((t, form), k) in sids.into_iter().zip(forms).zip(occ) {
        let Some(list) = surfaces.get_mut(t as usize) else {
            return Err(s.err("term_id", "names a term the vocabulary does not have"));
        };
        list.push((form, k));
    }
    let mut rows = SparseRows::empty();
    let mut at = 0;
    let mut entries: Vec<(u32, u32)> = Vec::new();
    for (r_pos, &id) in kept_ids.iter().enumerate() {
        entries.clear();
        let (c, n) = kept.row_counts(r_pos);
        entries.extend(c.iter().copied().zip(n.iter().copied()));
        while at < pids.len() && pids[at] == id {
            entries.push((cols[at], counts[at]));
            at += 1;
        }
        entries.sort_unstable();
        let (c, n): (Vec<u32>, Vec<u32>) = entries.iter().copied().unzip();
        rows.push_row(id, &c, &n, &[]);
    }
    if at != pids.len() {
        return Err(r.err("passage_id", UNORDERED));
    }
    Ok(TermCounts {
        terms: vocab.terms.iter().map(|t| t.term.clone()).collect(),
        surfaces,
        df: vocab.terms.iter().map(|t| t.df).collect(),
        cf: vocab.terms.iter().map(|t| t.cf).collect(),
        rows,
    })
}
