//! The TF-IDF stage's tables: the vocabulary and the weights.

use super::{col, frame, read, table_err, write, write_batched, Meta, Reader, TFIDF, VOCABULARY};
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;
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
    // the row holding entry `range.start`: the last row starting at or before it
    let mut r = m
        .indptr
        .partition_point(|&p| p <= range.start)
        .saturating_sub(1);
    let mut rows = Vec::with_capacity(range.len());
    for i in range.clone() {
        while m.indptr[r + 1] <= i {
            r += 1;
        }
        rows.push(m.row_ids[r]);
    }
    let df = DataFrame::new(
        range.len(),
        vec![
            col("passage_id", rows),
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
    if at != pids.len() {
        return Err(r.err(
            "passage_id",
            "rows are not in passage order or name passages that are not kept; rerun `themata tfidf`",
        ));
    }
    Ok(m)
}
