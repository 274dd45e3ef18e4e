//! The Parquet tables: schemas, writing (atomic, zstd, statistics) and reading back.
//!
//! Every table is built here and nowhere else; the README's "Parquet tables" section
//! documents the same columns.

use crate::clean::DuplicatePair;
use crate::cluster::{Assignment, ClusterInfo, ClusterTerm, Clustering, SeedStatus};
use crate::error::{Error, Result};
use crate::ingest::{Corpus, Document, Passage, Status};
use crate::run_dir::atomic_write;
use crate::vectorize::{DropReason, Term, Tfidf, Vocabulary};
use polars::prelude::*;
use std::path::Path;

pub const DOCUMENTS: &str = "documents.parquet";
pub const PASSAGES: &str = "passages.parquet";
pub const VOCABULARY: &str = "vocabulary.parquet";
pub const TFIDF: &str = "tfidf.parquet";
pub const ASSIGNMENTS: &str = "assignments.parquet";
pub const CLUSTERS: &str = "clusters.parquet";
pub const CLUSTER_TERMS: &str = "cluster_terms.parquet";
pub const THEME_SEEDS: &str = "theme_seeds.parquet";
pub const DUPLICATES: &str = "duplicates.parquet";

fn table_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn col<T, P>(name: &str, values: T) -> Column
where
    Series: NamedFrom<T, P>,
    P: ?Sized,
{
    Column::new(name.into(), values)
}

/// Build a table from a slice: `frame!(TABLE, items, { "column" => |x| x.field, ... })`.
macro_rules! frame {
    ($table:expr, $items:expr, { $($name:literal => $f:expr),+ $(,)? }) => {{
        let items = $items;
        DataFrame::new(items.len(), vec![$(col($name, items.iter().map($f).collect::<Vec<_>>())),+])
            .map_err(|e| table_err(Path::new($table), e))
    }};
}

/// Write a frame to `dir/name` atomically, zstd-compressed with full statistics and
/// key-value metadata naming the pipeline and themata's version.
pub fn write(dir: &Path, name: &str, mut df: DataFrame, pipeline: &str) -> Result<()> {
    atomic_write(&dir.join(name), |file| {
        writer(file, name, pipeline)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Rows per row group: polars' default, which [`write`] uses too.
const ROW_GROUP: usize = 512 * 512;

/// The writer every table goes through: zstd, full statistics, key-value metadata.
fn writer<'f>(
    file: &'f mut std::fs::File,
    name: &str,
    pipeline: &str,
) -> ParquetWriter<&'f mut std::fs::File> {
    let meta = KeyValueMetadata::from_static(vec![
        ("themata.version".into(), crate::VERSION.into()),
        ("themata.pipeline".into(), pipeline.into()),
        (
            "themata.table".into(),
            name.trim_end_matches(".parquet").into(),
        ),
    ]);
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .with_key_value_metadata(Some(meta))
}

/// Write the tfidf table (like [`write`]) one row group at a time, so that no frame holding
/// a copy of the whole matrix exists: the matrix is the largest thing a run writes.
pub fn write_tfidf(dir: &Path, m: &Tfidf, pipeline: &str) -> Result<()> {
    let nnz = m.nnz();
    if nnz == 0 {
        return write(dir, TFIDF, tfidf_frame(m, 0..0)?, pipeline);
    }
    atomic_write(&dir.join(TFIDF), |file| {
        let mut batches = (0..nnz)
            .step_by(ROW_GROUP)
            .map(|a| tfidf_frame(m, a..(a + ROW_GROUP).min(nnz)));
        let first = batches
            .next()
            .expect("nnz > 0")
            .map_err(std::io::Error::other)?;
        let mut w = writer(file, TFIDF, pipeline)
            .batched(first.schema())
            .map_err(std::io::Error::other)?;
        w.write_batch(&first).map_err(std::io::Error::other)?;
        drop(first);
        for df in batches {
            w.write_batch(&df.map_err(std::io::Error::other)?)
                .map_err(std::io::Error::other)?;
        }
        w.finish().map(|_| ()).map_err(std::io::Error::other)
    })
}

/// Read a whole table.
pub fn read(dir: &Path, name: &str) -> Result<DataFrame> {
    let path = dir.join(name);
    let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Input {
            path: path.clone(),
            message: "table not found: run the earlier stages first (themata run)".into(),
        },
        _ => Error::io(&path, e),
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| table_err(&path, e))
}

/// Typed column access with errors naming the file and column.
struct Reader<'a> {
    df: &'a DataFrame,
    path: String,
}

impl<'a> Reader<'a> {
    fn new(df: &'a DataFrame, name: &str) -> Self {
        Reader {
            df,
            path: name.to_string(),
        }
    }

    fn err(&self, col: &str, e: impl std::fmt::Display) -> Error {
        Error::Table {
            path: self.path.clone().into(),
            message: format!("column {col}: {e}"),
        }
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|e| self.err(name, e))
    }

    fn u32(&self, name: &str) -> Result<Vec<u32>> {
        let c = self.column(name)?.u32().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn opt_u32(&self, name: &str) -> Result<Vec<Option<u32>>> {
        let c = self.column(name)?.u32().map_err(|e| self.err(name, e))?;
        Ok(c.iter().collect())
    }

    fn u64(&self, name: &str) -> Result<Vec<u64>> {
        let c = self.column(name)?.u64().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn f64(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?.f64().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn opt_str(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?.str().map_err(|e| self.err(name, e))?;
        Ok(c.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn str(&self, name: &str) -> Result<Vec<String>> {
        self.opt_str(name)?
            .into_iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }
}

// ---- documents and passages -------------------------------------------------------------

pub fn documents_frame(docs: &[Document]) -> Result<DataFrame> {
    frame!(DOCUMENTS, docs, {
        "doc_id" => |d| d.doc_id,
        "path" => |d| d.path.as_str(),
        "title" => |d| d.title.as_deref(),
        "date" => |d| d.date.as_deref().unwrap_or(""),
        "author" => |d| d.author.as_deref().unwrap_or(""),
        "source" => |d| d.source.as_deref().unwrap_or(""),
        "n_passages" => |d| d.n_passages,
        "n_chars" => |d| d.n_chars,
        "content_hash" => |d| d.content_hash.as_str(),
    })
}

pub fn passages_frame(ps: &[Passage]) -> Result<DataFrame> {
    frame!(PASSAGES, ps, {
        "passage_id" => |p| p.passage_id,
        "doc_id" => |p| p.doc_id,
        "ordinal" => |p| p.ordinal,
        "text" => |p| p.text.as_str(),
        "char_start" => |p| p.char_start,
        "char_end" => |p| p.char_end,
        "status" => |p| p.status.as_str(),
        "reason" => |p| p.reason.as_deref(),
        "duplicate_of" => |p| p.duplicate_of,
    })
}

pub fn duplicates_frame(d: &[DuplicatePair]) -> Result<DataFrame> {
    frame!(DUPLICATES, d, {
        "passage_id" => |x| x.passage_id,
        "duplicate_of" => |x| x.duplicate_of,
        "kind" => |x| x.kind,
        "jaccard" => |x| x.jaccard,
        "containment" => |x| x.containment,
    })
}

/// Read `documents.parquet` and `passages.parquet` back.
pub fn read_corpus(dir: &Path) -> Result<Corpus> {
    let df = read(dir, DOCUMENTS)?;
    let r = Reader::new(&df, DOCUMENTS);
    let (ids, paths, titles, n_p, n_c, hashes) = (
        r.u32("doc_id")?,
        r.str("path")?,
        r.opt_str("title")?,
        r.u32("n_passages")?,
        r.u64("n_chars")?,
        r.str("content_hash")?,
    );
    // date, author and source: empty where unknown; absent in tables of older versions
    let meta = |name: &str| -> Result<Vec<Option<String>>> {
        if df.column(name).is_err() {
            return Ok(vec![None; ids.len()]);
        }
        Ok(r.opt_str(name)?
            .into_iter()
            .map(|v| v.filter(|s| !s.is_empty()))
            .collect())
    };
    let (dates, authors, sources) = (meta("date")?, meta("author")?, meta("source")?);
    let documents = (0..ids.len())
        .map(|i| Document {
            doc_id: ids[i],
            path: paths[i].clone(),
            title: titles[i].clone(),
            date: dates[i].clone(),
            author: authors[i].clone(),
            source: sources[i].clone(),
            n_passages: n_p[i],
            n_chars: n_c[i],
            content_hash: hashes[i].clone(),
        })
        .collect();
    let df = read(dir, PASSAGES)?;
    let r = Reader::new(&df, PASSAGES);
    let (ids, docs, ords, texts, starts, ends, status) = (
        r.u32("passage_id")?,
        r.u32("doc_id")?,
        r.u32("ordinal")?,
        r.str("text")?,
        r.u64("char_start")?,
        r.u64("char_end")?,
        r.str("status")?,
    );
    let (reasons, dup_of) = (r.opt_str("reason")?, r.opt_u32("duplicate_of")?);
    let mut passages = Vec::with_capacity(ids.len());
    for (i, text) in texts.into_iter().enumerate() {
        passages.push(Passage {
            passage_id: ids[i],
            doc_id: docs[i],
            ordinal: ords[i],
            text,
            char_start: starts[i],
            char_end: ends[i],
            reason: reasons[i].clone(),
            duplicate_of: dup_of[i],
            status: Status::parse(&status[i])
                .ok_or_else(|| r.err("status", format!("unknown status {:?}", status[i])))?,
        });
    }
    let duplicates = match read(dir, DUPLICATES) {
        Ok(df) => {
            let r = Reader::new(&df, DUPLICATES);
            let (p, d, kind, jac, cont) = (
                r.u32("passage_id")?,
                r.u32("duplicate_of")?,
                r.str("kind")?,
                r.f64("jaccard")?,
                r.f64("containment")?,
            );
            (0..p.len())
                .map(|i| DuplicatePair {
                    passage_id: p[i],
                    duplicate_of: d[i],
                    kind: match kind[i].as_str() {
                        "exact" => "exact",
                        "near" => "near",
                        "contained" => "contained",
                        _ => "merged",
                    },
                    jaccard: jac[i],
                    containment: cont[i],
                })
                .collect()
        }
        Err(_) => vec![],
    };
    Ok(Corpus {
        documents,
        passages,
        duplicates,
        warnings: vec![],
    })
}

// ---- vocabulary and tf-idf --------------------------------------------------------------

pub fn vocabulary_frame(v: &Vocabulary) -> Result<DataFrame> {
    let ids: Vec<u32> = (0..v.terms.len() as u32).collect();
    let mut df = frame!(VOCABULARY, &v.terms, {
        "term" => |x| x.term.as_str(),
        "label" => |x| x.label.as_str(),
        "df" => |x| x.df,
        "cf" => |x| x.cf,
        "idf" => |x| x.idf,
        "kept" => |x| x.kept(),
        "dropped_reason" => |x| x.dropped.map(DropReason::as_str),
    })?;
    df.insert_column(0, col("term_id", ids))
        .map_err(|e| table_err(Path::new(VOCABULARY), e))?;
    Ok(df)
}

/// The tfidf table's rows for the nonzeros `range` of the matrix (in row order).
fn tfidf_frame(m: &Tfidf, range: std::ops::Range<usize>) -> Result<DataFrame> {
    // the row holding nonzero `range.start`: the last row starting at or before it
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
            col("term_id", &m.term_ids[range.clone()]),
            col("count", &m.counts[range.clone()]),
            col("weight", &m.weights[range]),
        ],
    );
    df.map_err(|e| table_err(Path::new(TFIDF), e))
}

pub fn read_vocabulary(dir: &Path) -> Result<Vocabulary> {
    let df = read(dir, VOCABULARY)?;
    let r = Reader::new(&df, VOCABULARY);
    let (terms, labels, dfs, cfs, idfs, reasons) = (
        r.str("term")?,
        r.str("label")?,
        r.u32("df")?,
        r.u64("cf")?,
        r.f64("idf")?,
        r.opt_str("dropped_reason")?,
    );
    let mut out = Vec::with_capacity(terms.len());
    for (i, term) in terms.into_iter().enumerate() {
        let dropped = match &reasons[i] {
            None => None,
            Some(s) => Some(
                DropReason::parse(s)
                    .ok_or_else(|| r.err("dropped_reason", format!("unknown reason {s:?}")))?,
            ),
        };
        out.push(Term {
            term,
            label: labels[i].clone(),
            df: dfs[i],
            cf: cfs[i],
            idf: idfs[i],
            dropped,
        });
    }
    Ok(Vocabulary {
        terms: out,
        n_rows: 0,
    })
}

/// Read the TF-IDF matrix back. `kept_ids` lists the rows (kept passages) in order, so
/// passages without any kept term are rows too.
pub fn read_tfidf(dir: &Path, kept_ids: &[u32]) -> Result<Tfidf> {
    let df = read(dir, TFIDF)?;
    let r = Reader::new(&df, TFIDF);
    let (pids, tids, counts, weights) = (
        r.u32("passage_id")?,
        r.u32("term_id")?,
        r.u32("count")?,
        r.f64("weight")?,
    );
    let mut m = Tfidf {
        row_ids: kept_ids.to_vec(),
        indptr: Vec::with_capacity(kept_ids.len() + 1),
        term_ids: tids,
        counts,
        weights,
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

// ---- clustering ---------------------------------------------------------------------------

pub fn assignments_frame(a: &[Assignment]) -> Result<DataFrame> {
    frame!(ASSIGNMENTS, a, {
        "passage_id" => |x| x.passage_id,
        "cluster" => |x| x.cluster,
        "theme" => |x| x.theme.as_str(),
        "similarity" => |x| x.similarity,
        "margin" => |x| x.margin,
        "status" => |x| x.status,
    })
}

pub fn clusters_frame(c: &[ClusterInfo]) -> Result<DataFrame> {
    frame!(CLUSTERS, c, {
        "cluster" => |x| x.cluster,
        "theme" => |x| x.theme.as_str(),
        "size" => |x| x.size,
        "top_terms" => |x| x.top_terms.as_str(),
    })
}

pub fn cluster_terms_frame(t: &[ClusterTerm]) -> Result<DataFrame> {
    frame!(CLUSTER_TERMS, t, {
        "cluster" => |x| x.cluster,
        "measure" => |x| x.measure,
        "rank" => |x| x.rank,
        "term_id" => |x| x.term_id,
        "term" => |x| x.term.as_str(),
        "label" => |x| x.label.as_str(),
        "weight" => |x| x.weight,
    })
}

pub fn theme_seeds_frame(s: &[SeedStatus]) -> Result<DataFrame> {
    frame!(THEME_SEEDS, s, {
        "theme" => |x| x.theme.as_str(),
        "seed" => |x| x.seed.as_str(),
        "terms" => |x| x.terms.as_str(),
        "label" => |x| x.label.as_str(),
        "df" => |x| x.df,
        "status" => |x| x.status,
    })
}

pub fn read_clustering(dir: &Path) -> Result<Clustering> {
    let df = read(dir, ASSIGNMENTS)?;
    let r = Reader::new(&df, ASSIGNMENTS);
    let (pids, clusters, themes, sims, margins, statuses) = (
        r.u32("passage_id")?,
        r.opt_u32("cluster")?,
        r.str("theme")?,
        r.f64("similarity")?,
        r.f64("margin")?,
        r.str("status")?,
    );
    let assignments = themes
        .into_iter()
        .enumerate()
        .map(|(i, theme)| Assignment {
            passage_id: pids[i],
            cluster: clusters[i],
            theme,
            similarity: sims[i],
            margin: margins[i],
            status: match statuses[i].as_str() {
                "assigned" => crate::cluster::ASSIGNED,
                "no_terms" => crate::cluster::NO_TERMS,
                "low_margin" => crate::cluster::LOW_MARGIN,
                _ => crate::cluster::LOW_SIMILARITY,
            },
        })
        .collect();
    let df = read(dir, CLUSTERS)?;
    let r = Reader::new(&df, CLUSTERS);
    let (ids, themes, sizes, tops) = (
        r.u32("cluster")?,
        r.str("theme")?,
        r.u32("size")?,
        r.str("top_terms")?,
    );
    let clusters = themes
        .into_iter()
        .enumerate()
        .map(|(i, theme)| ClusterInfo {
            cluster: ids[i],
            theme,
            size: sizes[i],
            top_terms: tops[i].clone(),
        })
        .collect();
    let df = read(dir, CLUSTER_TERMS)?;
    let r = Reader::new(&df, CLUSTER_TERMS);
    let (cs, measures, ranks, tids, terms, labels, ws) = (
        r.u32("cluster")?,
        r.str("measure")?,
        r.u32("rank")?,
        r.u32("term_id")?,
        r.str("term")?,
        r.str("label")?,
        r.f64("weight")?,
    );
    let terms = terms
        .into_iter()
        .enumerate()
        .map(|(i, term)| ClusterTerm {
            cluster: cs[i],
            measure: if measures[i] == crate::cluster::CTFIDF {
                crate::cluster::CTFIDF
            } else {
                crate::cluster::MEAN_TFIDF
            },
            rank: ranks[i],
            term_id: tids[i],
            term,
            label: labels[i].clone(),
            weight: ws[i],
        })
        .collect();
    let seeds = match read(dir, THEME_SEEDS) {
        Ok(df) => {
            let r = Reader::new(&df, THEME_SEEDS);
            let (themes, seeds, terms, labels, dfs, status) = (
                r.str("theme")?,
                r.str("seed")?,
                r.str("terms")?,
                r.str("label")?,
                r.u32("df")?,
                r.str("status")?,
            );
            (0..themes.len())
                .map(|i| SeedStatus {
                    theme: themes[i].clone(),
                    seed: seeds[i].clone(),
                    terms: terms[i].clone(),
                    label: labels[i].clone(),
                    df: dfs[i],
                    status: match status[i].as_str() {
                        "live" => "live",
                        "stop_word" => "stop_word",
                        "pruned" => "pruned",
                        _ => "unseen",
                    },
                })
                .collect()
        }
        Err(_) => vec![],
    };
    Ok(Clustering {
        space: String::new(),
        assignments,
        clusters,
        terms,
        seeds,
        sweep: vec![],
        warnings: vec![],
    })
}
