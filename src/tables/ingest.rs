//! The ingest stage's tables: documents, passages and duplicate pairs.

use super::{frame, read, read_optional, write, Meta, Reader, DOCUMENTS, DUPLICATES, PASSAGES};
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;
use themata_core::model::{
    Corpus, Document, DocumentMeta, DuplicateKind, DuplicatePair, Named, Passage,
};

/// Write `documents.parquet`, `passages.parquet` and `duplicates.parquet`.
pub fn write_corpus(dir: &Path, corpus: &Corpus, meta: Meta) -> Result<()> {
    let docs = frame!(DOCUMENTS, &corpus.documents, {
        "doc_id" => |d: &Document| d.doc_id,
        "path" => |d: &Document| d.path.as_str(),
        "title" => |d: &Document| d.meta.title.as_deref(),
        "date" => |d: &Document| d.meta.date.as_deref().unwrap_or(""),
        "author" => |d: &Document| d.meta.author.as_deref().unwrap_or(""),
        "source" => |d: &Document| d.meta.source.as_deref().unwrap_or(""),
        "n_passages" => |d: &Document| d.n_passages,
        "n_chars" => |d: &Document| d.n_chars,
        "content_hash" => |d: &Document| d.content_hash.as_str(),
    })?;
    write(dir, DOCUMENTS, docs, meta)?;
    let passages = frame!(PASSAGES, &corpus.passages, {
        "passage_id" => |p: &Passage| p.passage_id,
        "doc_id" => |p: &Passage| p.doc_id,
        "ordinal" => |p: &Passage| p.ordinal,
        "text" => |p: &Passage| p.text.as_str(),
        "char_start" => |p: &Passage| p.char_start,
        "char_end" => |p: &Passage| p.char_end,
        "status" => |p: &Passage| p.status.name(),
        "reason" => |p: &Passage| p.reason.map(Named::name),
        "duplicate_of" => |p: &Passage| p.duplicate_of,
    })?;
    write(dir, PASSAGES, passages, meta)?;
    let dups = frame!(DUPLICATES, &corpus.duplicates, {
        "passage_id" => |x: &DuplicatePair| x.passage_id,
        "duplicate_of" => |x: &DuplicatePair| x.duplicate_of,
        "kind" => |x: &DuplicatePair| x.kind.name(),
        "jaccard" => |x: &DuplicatePair| x.jaccard,
        "containment" => |x: &DuplicatePair| x.containment,
    })?;
    write(dir, DUPLICATES, dups, meta)
}

/// Read `documents.parquet`, `passages.parquet` and `duplicates.parquet` back.
pub fn read_corpus(dir: &Path) -> Result<Corpus> {
    let df = read(dir, DOCUMENTS)?;
    let r = Reader::new(&df, dir, DOCUMENTS);
    let (ids, paths, titles, n_p, n_c, hashes) = (
        r.u32("doc_id")?,
        r.str("path")?,
        r.opt_str("title")?,
        r.u32("n_passages")?,
        r.u64("n_chars")?,
        r.str("content_hash")?,
    );
    // date, author and source: empty where unknown; absent in tables of versions before them
    let meta = |name: &str| -> Result<Vec<Option<String>>> {
        if !r.has(name) {
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
            meta: DocumentMeta {
                title: titles[i].clone(),
                date: dates[i].clone(),
                author: authors[i].clone(),
                source: sources[i].clone(),
            },
            n_passages: n_p[i],
            n_chars: n_c[i],
            content_hash: hashes[i].clone(),
        })
        .collect();
    let df = read(dir, PASSAGES)?;
    let r = Reader::new(&df, dir, PASSAGES);
    let (ids, docs, ords, texts, starts, ends) = (
        r.u32("passage_id")?,
        r.u32("doc_id")?,
        r.u32("ordinal")?,
        r.str("text")?,
        r.u64("char_start")?,
        r.u64("char_end")?,
    );
    let (status, reasons, dup_of) = (
        r.named("status")?,
        r.opt_named("reason")?,
        r.opt_u32("duplicate_of")?,
    );
    let passages = texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Passage {
            passage_id: ids[i],
            doc_id: docs[i],
            ordinal: ords[i],
            text,
            char_start: starts[i],
            char_end: ends[i],
            status: status[i],
            reason: reasons[i],
            duplicate_of: dup_of[i],
        })
        .collect();
    let duplicates = match read_optional(dir, DUPLICATES)? {
        None => vec![],
        Some(df) => {
            let r = Reader::new(&df, dir, DUPLICATES);
            let (p, d, kind, jac, cont) = (
                r.u32("passage_id")?,
                r.u32("duplicate_of")?,
                r.named::<DuplicateKind>("kind")?,
                r.f64("jaccard")?,
                r.f64("containment")?,
            );
            (0..p.len())
                .map(|i| DuplicatePair {
                    passage_id: p[i],
                    duplicate_of: d[i],
                    kind: kind[i],
                    jaccard: jac[i],
                    containment: cont[i],
                })
                .collect()
        }
    };
    Ok(Corpus {
        documents,
        passages,
        duplicates,
        warnings: vec![],
    })
}
