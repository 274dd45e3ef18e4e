//! The four stages as [`Job`]s: how each computes, what it writes, and what it says.

use super::fingerprint::{input_hashes, StageKey};
use super::{Engine, Event, Job, Stage, StageRecord, Written};
use crate::error::{Error, Result};
use crate::files::{file_hash, write_text};
use crate::formats::{self, InputFile};
use crate::pipeline_file::Pipeline;
use crate::report::{self, RunInfo, StageRun, Summary};
use crate::tables;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use themata_core::analyze::{Analyzer, TermCounts};
use themata_core::model::{Clustering, Corpus, PassageStatus, SparseRows, Vocabulary};
use themata_core::{cluster, stable, tfidf, Task};

/// The analyzer of the pipeline (its settings were checked when the file was loaded).
fn analyzer(p: &Pipeline) -> Result<Analyzer> {
    Analyzer::new(&p.analyzer).map_err(|e| Error::config(&p.file, e.to_string()))
}

fn meta(p: &Pipeline) -> tables::Meta<'_> {
    tables::Meta { pipeline: &p.name }
}

/// ingest: input files → documents.parquet, passages.parquet, duplicates.parquet.
pub(super) struct Ingest {
    files: Vec<InputFile>,
    walk_warnings: Vec<String>,
    /// Each file's size and modification time when it was found.
    stamps: Vec<Option<Stamp>>,
    /// Each file's content hash, once the key took them.
    hashes: std::cell::OnceCell<BTreeMap<String, String>>,
}

/// The settings the ingest stage's key records.
fn ingest_settings(p: &Pipeline) -> serde_json::Value {
    let mut settings = serde_json::json!({
        "patterns": p.input.patterns, "input": p.input, "ingest": p.ingest
    });
    if p.input.strict {
        // a run without --strict may have decoded invalid UTF-8 lossily: a strict run does
        // not take its tables as fresh (a strict run's tables are fresh for the next one)
        settings["strict"] = true.into();
    }
    settings
}

/// What tells that a file changed: its size and modification time.
type Stamp = (u64, Option<std::time::SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()))
}

impl Ingest {
    /// The input files the pipeline names.
    pub(super) fn discover(p: &Pipeline) -> Result<Ingest> {
        let (files, walk_warnings) = formats::discover(&p.input.root, &p.input.patterns)?;
        let stamps = files.iter().map(|(path, _)| stamp(path)).collect();
        Ok(Ingest {
            files,
            walk_warnings,
            stamps,
            hashes: Default::default(),
        })
    }

    /// Warnings for files that changed or went away since they were found (and hashed):
    /// what was read of them may be from before or after the change. Their recorded hashes
    /// are of what was found, so the next run sees the change and reads them again.
    fn changed_while_read(&self) -> Vec<String> {
        self.files
            .iter()
            .zip(&self.stamps)
            .filter_map(|((path, rel), before)| {
                let now = stamp(path);
                match (before, now) {
                    (Some(_), None) => Some(format!(
                        "{rel}: removed while themata read the input; the next run reads \
                         the input again"
                    )),
                    (Some(b), Some(n)) if *b != n => Some(format!(
                        "{rel}: changed while themata read it; its tables may hold its old or \
                         new content, and the next run reads it again"
                    )),
                    _ => None,
                }
            })
            .collect()
    }
}

impl Job for Ingest {
    type Output = Corpus;
    const STAGE: Stage = Stage::Ingest;

    fn key(&self, e: &Engine) -> Result<StageKey> {
        let hashes = self.hashes.get_or_init(|| input_hashes(&self.files));
        Ok(StageKey::new(
            Self::STAGE.name(),
            ingest_settings(&e.pipeline),
            hashes.clone(),
            String::new(),
        ))
    }

    fn compute(&self, e: &mut Engine) -> Result<Corpus> {
        if let Some(Some(base)) = e.base.take() {
            let hashes = self.hashes.get_or_init(|| input_hashes(&self.files));
            let settings = ingest_settings(&e.pipeline);
            let done = base.ingest(
                &self.files,
                hashes,
                &settings,
                self.walk_warnings.clone(),
                e,
            );
            e.base = Some(Some(base));
            match done? {
                Ok((mut corpus, reuse)) => {
                    corpus.warnings.extend(self.changed_while_read());
                    e.reuse = Some(reuse);
                    return Ok(corpus);
                }
                Err(note) => e.warn(note),
            }
        }
        let p = &e.pipeline;
        e.observer
            .start(Task::ReadFiles, Some(self.files.len() as u64));
        let corpus = formats::read_corpus(
            &self.files,
            self.walk_warnings.clone(),
            &p.ingest,
            &p.input,
            e.observer,
        );
        e.observer.finish(Task::ReadFiles);
        let mut corpus = corpus?;
        corpus.warnings.extend(self.changed_while_read());
        Ok(corpus)
    }

    fn write(&self, e: &Engine, corpus: &Corpus, dir: &Path) -> Result<Written> {
        tables::write_corpus(dir, corpus, meta(&e.pipeline))?;
        Ok(Written {
            rows: BTreeMap::from([
                ("documents".into(), corpus.documents.len() as u64),
                ("passages".into(), corpus.passages.len() as u64),
                ("duplicates".into(), corpus.duplicates.len() as u64),
            ]),
            warnings: corpus.warnings.clone(),
            results: reuse_results(e),
            ..Default::default()
        })
    }

    fn summary(&self, _: &Engine, corpus: &Corpus, rec: &StageRecord) -> String {
        format!(
            "ingest: {} documents, {} passages ({} kept) in {:.2} s",
            corpus.documents.len(),
            corpus.passages.len(),
            corpus.count(PassageStatus::Kept),
            rec.seconds
        )
    }

    fn keep(e: &mut Engine, corpus: Corpus) {
        e.corpus = Some(corpus);
        // the files' bytes are gone
        e.observer.event(Event::MemoryFreed);
    }
}

/// analyze + tfidf: kept passages → vocabulary.parquet, tfidf.parquet.
pub(super) struct Tfidf;

/// What the tfidf stage computes.
pub(super) struct Weighted {
    vocab: Vocabulary,
    m: SparseRows,
    state: tables::TermState,
    analyze_seconds: f64,
    analyze_bytes: usize,
}

/// `--update`: what the stage took from the earlier run, for its record's results.
fn reuse_results(e: &Engine) -> serde_json::Value {
    match &e.reuse {
        Some(r) => serde_json::json!({ "update": r }),
        None => serde_json::Value::Null,
    }
}

/// The settings and input files the tfidf stage's key records.
fn tfidf_key(p: &Pipeline) -> Result<(serde_json::Value, BTreeMap<String, String>)> {
    let mut inputs = BTreeMap::new();
    if let Some(f) = &p.analyzer.stop_words_file {
        let h = file_hash(f).map_err(|e| Error::io(f, e))?;
        inputs.insert(f.display().to_string(), h);
    }
    let settings = serde_json::json!({ "analyzer": p.analyzer, "tfidf": p.tfidf });
    Ok((settings, inputs))
}

impl Job for Tfidf {
    type Output = Weighted;
    const STAGE: Stage = Stage::Tfidf;

    fn key(&self, e: &Engine) -> Result<StageKey> {
        let (settings, inputs) = tfidf_key(&e.pipeline)?;
        Ok(StageKey::new(
            Self::STAGE.name(),
            settings,
            inputs,
            e.recorded_fingerprint(Stage::Ingest),
        ))
    }

    fn compute(&self, e: &mut Engine) -> Result<Weighted> {
        let analyzer = analyzer(&e.pipeline)?;
        e.ensure_corpus()?;
        let t = Instant::now();
        let mut updated = None;
        if let Some(Some(mut base)) = e.base.take() {
            let (settings, inputs) = tfidf_key(&e.pipeline)?;
            let corpus = e.corpus.as_ref().expect("just read");
            tfidf::kept_passages(corpus)?;
            match base.counts(corpus, &analyzer, &settings, &inputs, e) {
                Ok(u) => updated = Some(u),
                Err(note) => e.warn(note),
            }
            e.base = Some(Some(base));
        }
        let shards = e.opts.shards;
        let (p, observer) = (&e.pipeline, e.observer);
        let corpus = e.corpus.as_ref().expect("just read");
        let kept = tfidf::kept_passages(corpus)?;
        let texts: Vec<&str> = kept.iter().map(|x| x.text.as_str()).collect();
        let mut analyze_bytes: usize = texts.iter().map(|t| t.len()).sum();
        let counts = match updated {
            Some((counts, reuse)) => {
                analyze_bytes = reuse.bytes_analysed;
                e.reuse = Some(reuse);
                counts
            }
            None => {
                let ids: Vec<u32> = kept.iter().map(|x| x.passage_id).collect();
                observer.start(Task::Analyze, Some(texts.len() as u64));
                // consecutive shards, each counted on its own, merged in order
                let per_shard = texts.len().div_ceil(shards).max(1);
                let counts = texts
                    .chunks(per_shard)
                    .zip(ids.chunks(per_shard))
                    .map(|(texts, ids)| TermCounts::partial(&analyzer, ids, texts, observer))
                    .reduce(TermCounts::merge)
                    .unwrap_or_default();
                observer.finish(Task::Analyze);
                counts
            }
        };
        let analyze_seconds = t.elapsed().as_secs_f64();
        let (counts, surfaces) = counts.finish_keeping_surfaces();
        observer.start(Task::Weigh, None);
        let result = tfidf::fit(&counts, &p.tfidf);
        let result = result.map(|(vocab, m)| {
            let state = tables::TermState::of(&counts.rows, surfaces, &vocab);
            (vocab, m, state)
        });
        drop(counts);
        observer.event(Event::MemoryFreed);
        observer.finish(Task::Weigh);
        let (vocab, m, state) = result?;
        Ok(Weighted {
            vocab,
            m,
            state,
            analyze_seconds,
            analyze_bytes,
        })
    }

    fn write(&self, e: &Engine, w: &Weighted, dir: &Path) -> Result<Written> {
        tables::write_tfidf(dir, &w.vocab, &w.m, meta(&e.pipeline))?;
        tables::write_term_state(dir, &w.state, meta(&e.pipeline))?;
        let n_surfaces: usize = w.state.surfaces.iter().map(Vec::len).sum();
        Ok(Written {
            rows: BTreeMap::from([
                ("vocabulary".into(), w.vocab.terms.len() as u64),
                ("tfidf".into(), w.m.nnz() as u64),
                ("term_counts".into(), w.state.dropped.nnz() as u64),
                ("surface_forms".into(), n_surfaces as u64),
            ]),
            results: reuse_results(e),
            metrics: BTreeMap::from([
                ("analyze_seconds".into(), w.analyze_seconds),
                ("analyze_bytes".into(), w.analyze_bytes as f64),
            ]),
            ..Default::default()
        })
    }

    fn summary(&self, _: &Engine, w: &Weighted, rec: &StageRecord) -> String {
        let mb = w.analyze_bytes as f64 / 1e6;
        format!(
            "tfidf: {} terms ({} kept), {} non-zeros over {} passages in {:.2} s \
             (analysed {:.1} MB at {:.0} MB/s)",
            w.vocab.terms.len(),
            w.vocab.n_kept(),
            w.m.nnz(),
            w.m.n_rows(),
            rec.seconds,
            mb,
            mb / w.analyze_seconds.max(1e-9)
        )
    }

    fn keep(e: &mut Engine, w: Weighted) {
        e.tfidf = Some((w.vocab, w.m));
    }
}

/// cluster: TF-IDF rows → assignments, clusters, cluster_terms, theme_seeds, theme_hierarchy.
pub(super) struct Cluster;

impl Job for Cluster {
    type Output = Clustering;
    const STAGE: Stage = Stage::Cluster;

    fn key(&self, e: &Engine) -> Result<StageKey> {
        let c = &e.pipeline.cluster;
        let settings = serde_json::json!({ "cluster": c, "themes": c.themes });
        Ok(StageKey::new(
            Self::STAGE.name(),
            settings,
            BTreeMap::new(),
            e.recorded_fingerprint(Stage::Tfidf),
        ))
    }

    fn compute(&self, e: &mut Engine) -> Result<Clustering> {
        let analyzer = analyzer(&e.pipeline)?;
        e.ensure_tfidf()?;
        // the passages' keys across runs, for matching themes to the previous run's
        let keys: Option<BTreeMap<u32, u64>> = match e.previous {
            Some(Some(_)) => {
                let corpus = e.ensure_corpus()?;
                Some(
                    corpus
                        .kept()
                        .map(|p| {
                            let path = &corpus.documents[p.doc_id as usize].path;
                            (p.passage_id, stable::passage_key(path, p.ordinal))
                        })
                        .collect(),
                )
            }
            _ => None,
        };
        e.free_corpus();
        let params = &e.pipeline.cluster;
        let (vocab, m) = e.tfidf.as_ref().expect("just read");
        let task = Task::Cluster {
            k: params.n_clusters(),
            range: (params.k_min, params.k_max),
        };
        e.observer.start(task, None);
        // --update: k-means goes on from the earlier run's clusters
        let start = match (e.opts.update, &e.previous) {
            (true, Some(Some(prev))) if e.opts.previous.is_none() => Some(cluster::Start {
                terms: &prev.terms,
                centroids: &prev.centroids,
                components: e.previous_basis.as_ref(),
            }),
            _ => None,
        };
        let c = cluster::cluster_from(m, vocab, &analyzer, params, start);
        e.observer.finish(task);
        let mut c = c?;
        if let (Some(prev), Some(keys)) = (e.previous.as_ref().and_then(Option::as_ref), keys) {
            let members = c
                .assignments
                .iter()
                .filter_map(|a| Some((*keys.get(&a.passage_id)?, a.cluster?)))
                .collect();
            let names = c.clusters.iter().map(|x| x.theme.clone()).collect();
            let new = stable::Themes::new(vocab, &c.centroids, c.lsa.as_ref(), names, members);
            stable::keep_ids(&mut c, &new, prev);
        }
        Ok(c)
    }

    fn write(&self, e: &Engine, c: &Clustering, dir: &Path) -> Result<Written> {
        tables::write_clustering(dir, c, meta(&e.pipeline))?;
        let (vocab, m) = e.tfidf.as_ref().expect("computed from the tfidf stage");
        tables::write_explanations(
            dir,
            &c.explanations,
            &c.clusters,
            vocab,
            cluster::explain_space(c.lsa.as_ref().map(|b| &b.components)),
            meta(&e.pipeline),
        )?;
        tables::write_model_tables(dir, c, vocab, meta(&e.pipeline))?;
        tables::write_model_file(dir, &model_file(&e.pipeline, c, vocab, m.n_rows(), dir)?)?;
        let mut results = serde_json::json!({ "space": c.space });
        if !c.sweep.is_empty() {
            results["k_sweep"] = serde_json::to_value(&c.sweep).unwrap_or_default();
        }
        if !c.changes.is_empty() {
            results["theme_changes"] = serde_json::to_value(&c.changes).unwrap_or_default();
        }
        if !c.merges.is_empty() {
            results["merges"] = serde_json::to_value(&c.merges).unwrap_or_default();
        }
        Ok(Written {
            rows: BTreeMap::from([
                ("assignments".into(), c.assignments.len() as u64),
                ("clusters".into(), c.clusters.len() as u64),
                ("cluster_terms".into(), c.terms.len() as u64),
                ("theme_seeds".into(), c.seeds.len() as u64),
                ("theme_hierarchy".into(), c.hierarchy.len() as u64),
                ("explanations".into(), c.explanations.len() as u64),
            ]),
            results,
            warnings: c.warnings.clone(),
            metrics: BTreeMap::from([
                ("lsa_seconds".into(), c.seconds.lsa),
                ("kmeans_seconds".into(), c.seconds.kmeans),
            ]),
        })
    }

    fn summary(&self, _: &Engine, c: &Clustering, rec: &StageRecord) -> String {
        let unassigned = c.assignments.iter().filter(|a| a.cluster.is_none()).count();
        let sizes: Vec<String> = c
            .clusters
            .iter()
            .map(|x| format!("{} {}", x.theme, x.size))
            .collect();
        let merged = match c.merges.len() {
            0 => String::new(),
            n => format!(" ({n} merge(s) of fitted themes)"),
        };
        format!(
            "cluster: {}{merged}; {unassigned} unassigned, in {:.2} s",
            sizes.join(", "),
            rec.seconds
        )
    }

    fn keep(e: &mut Engine, mut c: Clustering) {
        // the report shows the explanations of a few passages: the others go (at a million
        // passages the table is 20 million rows)
        let runner_up = report::why::runner_up_explained(&c.explanations);
        let r = &e.pipeline.report;
        let shown = report::why::shown_passages(&c, &runner_up, r.representatives, r.close_calls);
        c.explanations.retain(|x| shown.contains(&x.passage_id));
        c.explanations.shrink_to_fit();
        e.clustering = Some(c);
    }
}

/// What `model.json` says of a clustering fitted by the pipeline `p` on `n_rows` passages.
fn model_file(
    p: &Pipeline,
    c: &Clustering,
    vocab: &Vocabulary,
    n_rows: usize,
    dir: &Path,
) -> Result<tables::ModelFile> {
    let mut analyzer = p.analyzer.clone();
    // no path of this machine in the model: the file's name, and its words
    analyzer.stop_words_file = analyzer
        .stop_words_file
        .as_deref()
        .and_then(Path::file_name)
        .map(std::path::PathBuf::from);
    let vocab_path = dir.join(tables::VOCABULARY);
    let floors = cluster::floors(&p.cluster);
    Ok(tables::ModelFile {
        format: tables::MODEL_FORMAT,
        themata_version: crate::VERSION.to_string(),
        pipeline: p.name.clone(),
        input: p.input.clone(),
        patterns: p.input.patterns.clone(),
        ingest: p.ingest.clone(),
        analyzer,
        extra_stop_words: p.analyzer.extra_stop_words.clone(),
        tfidf: p.tfidf.clone(),
        mode: p.cluster.mode,
        space: c.space.clone(),
        lsa_dims: c.lsa.as_ref().map(|b| b.components.ncols()),
        singular_values: c
            .lsa
            .as_ref()
            .map(|b| b.singular_values.clone())
            .unwrap_or_default(),
        min_similarity: floors.map(|f| f.0),
        min_margin: floors.map(|f| f.1),
        explain_terms: p.cluster.explain_terms,
        clusters: c
            .clusters
            .iter()
            .map(|x| tables::ModelCluster {
                cluster: x.cluster,
                theme: x.theme.clone(),
            })
            .collect(),
        passages: n_rows,
        terms: vocab.terms.len(),
        kept_terms: vocab.n_kept(),
        vocabulary_hash: file_hash(&vocab_path).map_err(|e| Error::io(&vocab_path, e))?,
    })
}

/// report: everything → summary.md, summary.json, summary.html in the report directory.
pub(super) struct Report;

impl Job for Report {
    type Output = Summary;
    const STAGE: Stage = Stage::Report;

    fn key(&self, e: &Engine) -> Result<StageKey> {
        let p = &e.pipeline;
        let r = &p.report;
        let settings = serde_json::json!({
            "representatives": r.representatives, "close_calls": r.close_calls,
            "dir": p.report_dir,
            "over": r.over, "by": r.by, "min_bucket_passages": r.min_bucket_passages,
            "keyness": r.keyness, "keyness_top": r.keyness_top
        });
        Ok(StageKey::new(
            Self::STAGE.name(),
            settings,
            BTreeMap::new(),
            e.recorded_fingerprint(Stage::Cluster),
        ))
    }

    fn compute(&self, e: &mut Engine) -> Result<Summary> {
        e.ensure_corpus()?;
        e.ensure_tfidf()?;
        e.ensure_clustering()?;
        let p = &e.pipeline;
        let warnings: Vec<String> = [Stage::Ingest, Stage::Cluster]
            .iter()
            .filter_map(|s| e.manifest.stages.get(s.name()))
            .flat_map(|s| s.warnings.clone())
            .collect();
        let (corpus, (vocab, m), c) = (
            e.corpus.as_ref().expect("read"),
            e.tfidf.as_ref().expect("read"),
            e.clustering.as_ref().expect("read"),
        );
        let ctx = report::Context {
            pipeline: &p.name,
            language: &p.analyzer.language,
            cluster: &p.cluster,
            representatives: p.report.representatives,
            report: &p.report,
            // the cluster stage's record counts the rows it wrote (the clustering in memory
            // holds only the shown passages' explanations)
            explained: e
                .manifest
                .stages
                .get(Stage::Cluster.name())
                .and_then(|rec| rec.rows.get("explanations"))
                .map_or(!c.explanations.is_empty(), |&n| n > 0),
        };
        Ok(report::summarize(
            &ctx, corpus, vocab, m, c, &c.space, &warnings,
        ))
    }

    fn write(&self, e: &Engine, summary: &Summary, dir: &Path) -> Result<Written> {
        // the table goes where the other tables are
        let trend_rows = report::trends::table_rows(&summary.trends);
        tables::write_theme_trends(&e.pipeline.output, &trend_rows, meta(&e.pipeline))?;
        let key_rows = summary.keyness.as_ref().map_or(&[][..], |k| &k.rows[..]);
        tables::write(
            &e.pipeline.output,
            tables::KEYNESS,
            crate::keyness::rows_frame(key_rows)?,
            meta(&e.pipeline),
        )?;
        write_text(&dir.join("summary.json"), &report::to_json(summary))?;
        write_text(&dir.join("summary.md"), &report::to_markdown(summary))?;
        let html = report::render_html(summary, &run_info(e))?;
        // rewritten only when more than the run's timings and version changed, so that
        // rerunning a committed report leaves it as it is
        let path = dir.join("summary.html");
        let unchanged = std::fs::read_to_string(&path)
            .is_ok_and(|old| report::without_volatile(&old) == report::without_volatile(&html));
        if !unchanged {
            write_text(&path, &html)?;
        }
        Ok(Written {
            rows: BTreeMap::from([
                ("themes".into(), summary.themes.len() as u64),
                ("theme_trends".into(), trend_rows.len() as u64),
                ("keyness".into(), key_rows.len() as u64),
            ]),
            ..Default::default()
        })
    }

    fn summary(&self, e: &Engine, _: &Summary, rec: &StageRecord) -> String {
        format!(
            "report: {} in {:.2} s",
            e.pipeline.report_dir.join("summary.md").display(),
            rec.seconds
        )
    }

    fn keep(_: &mut Engine, _: Summary) {}
}

/// The run behind the report, as the manifest records it: the stages before the report,
/// with their settings and results.
fn run_info(e: &Engine) -> RunInfo {
    let m = &e.manifest;
    let stages = [Stage::Ingest, Stage::Tfidf, Stage::Cluster]
        .iter()
        .filter_map(|s| {
            let rec = m.stages.get(s.name())?;
            let mut shown = rec.settings.clone();
            if let (Some(o), Some(r)) = (shown.as_object_mut(), rec.results.as_object()) {
                o.extend(r.clone());
            }
            Some(StageRun::new(s.name(), rec.seconds, &rec.rows, &shown))
        })
        .collect();
    RunInfo {
        version: m.themata_version.clone(),
        threads: m.threads.to_string(),
        seed: m.seed,
        stages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Options, Quiet};
    use crate::pipeline_file::Overrides;

    /// A file that changes, and one that disappears, between being found (and hashed) and
    /// being read: both are named in counted warnings, and the others are read as usual.
    #[test]
    fn input_files_that_change_or_vanish_while_read_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        for (name, text) in [
            ("a.txt", "Sanctions and talks.\n\nThe negotiation went on."),
            (
                "b.txt",
                "Doctrine and the clergy.\n\nA second paragraph here.",
            ),
            (
                "c.txt",
                "Succession after the leader.\n\nThe assembly decides.",
            ),
        ] {
            std::fs::write(corpus.join(name), text).unwrap();
        }
        let file = dir.path().join("p.toml");
        std::fs::write(
            &file,
            "name = \"t\"\noutput = \"out\"\n[input]\nroot = \"corpus\"\n[cluster]\nmode = \"discover\"\nk = 2\n",
        )
        .unwrap();
        let p = Pipeline::load(&file, &Overrides::default()).unwrap();
        let mut e = Engine::new(p, Options::default(), &Quiet);
        let job = Ingest::discover(&e.pipeline).unwrap();
        let key = job.key(&e).unwrap();
        assert_eq!(key.inputs.len(), 3);
        // while "reading": a grows, c goes away
        std::fs::write(
            corpus.join("a.txt"),
            "Sanctions, talks and more talks.\n\nLonger now.",
        )
        .unwrap();
        std::fs::remove_file(corpus.join("c.txt")).unwrap();
        let c = job.compute(&mut e).unwrap();
        let w = c.warnings.join("\n");
        assert!(w.contains("a.txt: changed while themata read it"), "{w}");
        assert!(
            w.contains("c.txt: removed while themata read the input"),
            "{w}"
        );
        assert!(!w.contains("b.txt"), "{w}");
        assert_eq!(c.documents.len(), 2, "a and b are read");
    }
}
