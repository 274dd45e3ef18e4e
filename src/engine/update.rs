//! `run --update`: a run that goes on from the run already in its output directory instead
//! of starting over.
//!
//! - **ingest** reads only the input files that are new or changed since that run (by
//!   content hash); the documents and passages of the others come from its tables. The
//!   corpus is then assembled and marked (boilerplate, near-duplicates) as a full run marks
//!   it, in the same order, so the tables are a full run's: marking is cheap and needs every
//!   passage, old and new.
//! - **tfidf** takes the earlier run's term counts (vocabulary, tfidf, term_counts and
//!   surface_forms tables) and merges those of the passages that are new (or became kept)
//!   into them, taking off those of passages that went (or are no longer kept): only those
//!   are analysed. Document frequencies and counts merge exactly, so idf and weights are
//!   those of a full run.
//! - **cluster** (discover mode, a fixed k) starts k-means from the earlier run's centroids
//!   instead of k-means++ with restarts.
//!
//! What cannot go on from the earlier run (none, other settings, another version, tables
//! that do not fit) is done in full, with a note saying why.

use super::manifest::StageRecord;
use super::{Engine, Event, Stage};
use crate::error::Result;
use crate::formats::{self, InputFile};
use crate::tables;
use std::collections::{BTreeMap, HashMap, HashSet};
use themata_core::analyze::{Analyzer, TermCounts};
use themata_core::model::{Corpus, Document, Passage, PassageStatus};
use themata_core::Task;

/// The run in the output directory, as `--update` goes on from it.
pub(super) struct Base {
    /// Its ingest record.
    ingest: StageRecord,
    /// Its corpus.
    corpus: Corpus,
    /// Its term counts (one row per kept passage, by its passage id), when its tfidf
    /// tables were made from that corpus with the settings recorded in `tfidf`.
    counts: Option<(StageRecord, TermCounts)>,
}

/// What an updated stage read, kept and analysed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(super) struct Reuse {
    /// ingest: input files read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_read: Option<usize>,
    /// ingest: input files whose documents came from the earlier run's tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_reused: Option<usize>,
    /// ingest: input files of the earlier run that are gone (or changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_dropped: Option<usize>,
    /// tfidf: kept passages whose counts came from the earlier run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passages_reused: Option<usize>,
    /// tfidf: passages analysed: new ones, and earlier ones whose counts were taken off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passages_analysed: Option<usize>,
    /// tfidf: bytes of text analysed.
    #[serde(skip)]
    pub bytes_analysed: usize,
}

impl Base {
    /// The run in `e`'s output directory, or a note saying why there is none to go on from.
    pub(super) fn read(e: &Engine) -> std::result::Result<Base, String> {
        let out = &e.pipeline.output;
        let Some(ingest) = e.manifest.stages.get(Stage::Ingest.name()).cloned() else {
            return Err(format!(
                "--update: no complete earlier run in {}; every stage runs in full",
                out.display()
            ));
        };
        if ingest.version != crate::VERSION {
            return Err(format!(
                "--update: the earlier run is of themata {} (this is {}); every stage runs in full",
                ingest.version,
                crate::VERSION
            ));
        }
        let corpus = tables::read_corpus(out).map_err(|err| {
            format!("--update: cannot read the earlier run ({err}); every stage runs in full")
        })?;
        let counts = match e.manifest.stages.get(Stage::Tfidf.name()) {
            Some(t) if t.upstream == ingest.fingerprint && t.version == crate::VERSION => {
                let kept: Vec<u32> = corpus.kept().map(|p| p.passage_id).collect();
                match tables::read_term_counts(out, &kept) {
                    Ok(c) => Some((t.clone(), c)),
                    Err(err) => {
                        e.observer.event(Event::Warning(&format!(
                            "--update: the earlier run's term counts cannot be read ({err}); \
                             every kept passage is analysed"
                        )));
                        None
                    }
                }
            }
            _ => None,
        };
        Ok(Base {
            ingest,
            corpus,
            counts,
        })
    }

    /// The corpus of `files` with only the new or changed ones read (`hashes`: every file's
    /// content hash now), when the earlier run's ingest had the settings `settings`; `None`
    /// (with the reason) when it cannot go on from it.
    pub(super) fn ingest(
        &self,
        files: &[InputFile],
        hashes: &BTreeMap<String, String>,
        settings: &serde_json::Value,
        walk_warnings: Vec<String>,
        e: &Engine,
    ) -> Result<std::result::Result<(Corpus, Reuse), String>> {
        if &self.ingest.settings != settings {
            return Ok(Err(
                "--update: the ingest settings changed since the earlier run; every input file is read"
                    .into(),
            ));
        }
        let Some(groups) = file_documents(&self.ingest.inputs, &self.corpus.documents) else {
            return Ok(Err(
                "--update: the earlier run's documents do not line up with its input files; \
                 every input file is read"
                    .into(),
            ));
        };
        let reused = |rel: &str| self.ingest.inputs.get(rel) == hashes.get(rel);
        let p = &e.pipeline;
        let to_read: Vec<&InputFile> = files.iter().filter(|(_, rel)| !reused(rel)).collect();
        e.observer
            .start(Task::ReadFiles, Some(to_read.len() as u64));
        let read: Vec<Result<formats::FileDocuments>> = {
            use rayon::prelude::*;
            to_read
                .par_iter()
                .map(|(path, rel)| {
                    let r = formats::read_file(path, rel, &p.ingest, &p.input);
                    e.observer.advance(Task::ReadFiles, 1);
                    r
                })
                .collect()
        };
        e.observer.finish(Task::ReadFiles);
        let mut read = read.into_iter();
        let passages = by_document(&self.corpus);
        let kept_files: HashSet<&str> = files
            .iter()
            .map(|(_, rel)| rel.as_str())
            .filter(|rel| reused(rel))
            .collect();
        // the earlier run's warnings about the files it read that are reused, by file
        let mut old_warnings: HashMap<&str, Vec<String>> = HashMap::new();
        for w in &self.ingest.warnings {
            if let Some(rel) = file_named(w, &kept_files) {
                old_warnings.entry(rel).or_default().push(w.clone());
            }
        }
        let mut warnings = walk_warnings;
        let mut per_doc = Vec::new();
        for (_, rel) in files {
            if kept_files.contains(rel.as_str()) {
                warnings.extend(old_warnings.remove(rel.as_str()).unwrap_or_default());
                for d in groups[rel.as_str()].clone() {
                    let doc = self.corpus.documents[d].clone();
                    let ps = passages[d].iter().map(|p| unmarked(p.clone())).collect();
                    per_doc.push((doc, ps));
                }
            } else {
                let (docs, w) = read.next().expect("one result per file read")?;
                warnings.extend(w);
                per_doc.extend(docs);
            }
        }
        let corpus = themata_core::ingest::assemble(per_doc, warnings, files.len(), &p.ingest)?;
        let reuse = Reuse {
            files_read: Some(to_read.len()),
            files_reused: Some(kept_files.len()),
            files_dropped: Some(self.ingest.inputs.len() - kept_files.len()),
            ..Default::default()
        };
        Ok(Ok((corpus, reuse)))
    }

    /// The term counts of `corpus`'s kept passages, from the earlier run's where the passage
    /// is the same (its document's path, its ordinal and its text) and kept in both; the
    /// others are analysed. `None` (with the reason) when the earlier counts are not there or
    /// were made with other settings (`settings`, `inputs`: the tfidf key's).
    pub(super) fn counts(
        &mut self,
        corpus: &Corpus,
        analyzer: &Analyzer,
        settings: &serde_json::Value,
        inputs: &BTreeMap<String, String>,
        e: &Engine,
    ) -> std::result::Result<(TermCounts, Reuse), String> {
        let Some((rec, _)) = &self.counts else {
            return Err(
                "--update: the earlier run has no term counts to go on from; every kept passage is analysed"
                    .into(),
            );
        };
        if &rec.settings != settings || &rec.inputs != inputs {
            return Err(
                "--update: the analyzer or tfidf settings (or the stop-word file) changed since \
                 the earlier run; every kept passage is analysed"
                    .into(),
            );
        }
        let (_, old) = self.counts.take().expect("checked");
        let key =
            |c: &Corpus, p: &Passage| (c.documents[p.doc_id as usize].path.clone(), p.ordinal);
        let before: HashMap<(String, u32), &Passage> = self
            .corpus
            .kept()
            .map(|p| (key(&self.corpus, p), p))
            .collect();
        // new passage id of each earlier kept passage that stays
        let mut carried: HashMap<u32, u32> = HashMap::new();
        let mut added: Vec<&Passage> = Vec::new();
        for p in corpus.kept() {
            match before.get(&key(corpus, p)) {
                // (two passages with one key — records with the same id — carry one row)
                Some(q) if q.text == p.text && !carried.contains_key(&q.passage_id) => {
                    carried.insert(q.passage_id, p.passage_id);
                }
                _ => added.push(p),
            }
        }
        let gone: Vec<&Passage> = self
            .corpus
            .kept()
            .filter(|p| !carried.contains_key(&p.passage_id))
            .collect();
        let n = gone.len() + added.len();
        let bytes: usize = gone.iter().chain(&added).map(|p| p.text.len()).sum();
        e.observer.start(Task::Analyze, Some(n as u64));
        let partial = |ps: &[&Passage]| {
            let ids: Vec<u32> = ps.iter().map(|p| p.passage_id).collect();
            let texts: Vec<&str> = ps.iter().map(|p| p.text.as_str()).collect();
            TermCounts::partial(analyzer, &ids, &texts, e.observer)
        };
        let mut counts = old.subtract(&partial(&gone));
        for id in &mut counts.rows.row_ids {
            let Some(&new) = carried.get(id) else {
                e.observer.finish(Task::Analyze);
                return Err("--update: the earlier run's term counts do not match its \
                            passages; every kept passage is analysed"
                    .into());
            };
            *id = new;
        }
        let counts = counts.merge(partial(&added)).rows_by_id();
        e.observer.finish(Task::Analyze);
        Ok((
            counts,
            Reuse {
                passages_reused: Some(carried.len()),
                passages_analysed: Some(n),
                bytes_analysed: bytes,
                ..Default::default()
            },
        ))
    }
}

/// A passage as split, before boilerplate and duplicates were marked.
fn unmarked(mut p: Passage) -> Passage {
    if matches!(
        p.status,
        PassageStatus::Boilerplate | PassageStatus::Duplicate
    ) {
        p.status = PassageStatus::Kept;
        p.reason = None;
        p.duplicate_of = None;
    }
    p
}

/// Each document's passages (documents and passages are in order).
fn by_document(c: &Corpus) -> Vec<&[Passage]> {
    let mut out = Vec::with_capacity(c.documents.len());
    let mut at = 0;
    for d in &c.documents {
        let start = at;
        while at < c.passages.len() && c.passages[at].doc_id == d.doc_id {
            at += 1;
        }
        out.push(&c.passages[start..at]);
    }
    out
}

/// The documents of each input file (`inputs`, in path order, as a run reads them): a file
/// gives the document named by its path, or the records `path#id`. `None` when the
/// documents do not follow the files so.
fn file_documents<'a>(
    inputs: &'a BTreeMap<String, String>,
    docs: &[Document],
) -> Option<HashMap<&'a str, std::ops::Range<usize>>> {
    let mut out = HashMap::with_capacity(inputs.len());
    let mut d = 0;
    for rel in inputs.keys() {
        let start = d;
        if docs.get(d).is_some_and(|x| x.path == *rel) {
            d += 1;
        } else {
            let prefix = format!("{rel}#");
            while docs.get(d).is_some_and(|x| x.path.starts_with(&prefix)) {
                d += 1;
            }
        }
        out.insert(rel.as_str(), start..d);
    }
    (d == docs.len()).then_some(out)
}

/// The one of `files` the warning `w` is about (it starts with the file's path and `:` or
/// `#`), if any.
fn file_named<'a>(w: &str, files: &HashSet<&'a str>) -> Option<&'a str> {
    w.char_indices()
        .filter(|&(_, c)| c == ':' || c == '#')
        .find_map(|(i, _)| files.get(&w[..i]).copied())
}
