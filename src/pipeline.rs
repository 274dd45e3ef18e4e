//! The stages and how `themata run` chains them. Each stage reads its inputs (in memory
//! from the previous stage, or from the output directory when run on its own), writes its
//! tables atomically and then records itself in the manifest.

use crate::cluster::Clustering;
use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::ingest::{self, Corpus, Status};
use crate::report::{self, Summary};
use crate::run_dir::{fingerprint, write_text, Manifest, StageRecord};
use crate::tables;
use crate::text::Analyzer;
use crate::vectorize::{self, Tfidf, Vocabulary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How chatty a run is. Messages go to stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub quiet: bool,
    pub verbose: bool,
}

/// Runs stages of one pipeline against its output directory.
pub struct Runner {
    pub pipeline: Pipeline,
    opts: Options,
    manifest: Manifest,
}

impl Runner {
    pub fn new(pipeline: Pipeline, opts: Options) -> Self {
        let mut manifest = Manifest::load(&pipeline.output);
        manifest.themata_version = crate::VERSION.to_string();
        manifest.pipeline = pipeline.name.clone();
        manifest.pipeline_file = pipeline.file.display().to_string();
        manifest.seed = pipeline.cluster.seed;
        manifest.threads = rayon::current_num_threads();
        Runner {
            pipeline,
            opts,
            manifest,
        }
    }

    fn note(&self, msg: &str) {
        if !self.opts.quiet {
            eprintln!("{msg}");
        }
    }

    fn spinner(&self, msg: &str) -> ProgressBar {
        let target = if self.opts.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let pb = ProgressBar::with_draw_target(None, target);
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    fn record(&mut self, stage: &str, rec: StageRecord) -> Result<()> {
        if self.opts.verbose && !self.opts.quiet {
            let rows: Vec<String> = rec.rows.iter().map(|(k, v)| format!("{k} {v}")).collect();
            eprintln!(
                "  {stage}: fingerprint {}, rows: {}",
                &rec.fingerprint[..16],
                rows.join(", ")
            );
            eprintln!("  {stage}: settings {}", rec.settings);
        }
        self.manifest.stages.insert(stage.to_string(), rec);
        self.manifest.save(&self.pipeline.output)
    }

    fn out(&self) -> &std::path::Path {
        &self.pipeline.output
    }

    fn previous_fingerprint(&self, stage: &str) -> String {
        self.manifest
            .stages
            .get(stage)
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default()
    }

    /// ingest: input files → documents.parquet, passages.parquet.
    pub fn ingest(&mut self) -> Result<Corpus> {
        let t = Instant::now();
        let p = &self.pipeline;
        let (files, walk_warnings) = ingest::discover(&p.input_root, &p.patterns)?;
        let pb = self.spinner(&format!("ingest: reading {} files", files.len()));
        let corpus = ingest::ingest(&files, &p.ingest, &p.input);
        pb.finish_and_clear();
        let mut corpus = corpus?;
        corpus.warnings.splice(0..0, walk_warnings);
        for w in &corpus.warnings {
            // warnings show even with --quiet
            eprintln!("warning: {w}");
        }
        std::fs::create_dir_all(self.out()).map_err(|e| Error::io(self.out(), e))?;
        tables::write(
            self.out(),
            tables::DOCUMENTS,
            tables::documents_frame(&corpus.documents)?,
            &p.name,
        )?;
        tables::write(
            self.out(),
            tables::PASSAGES,
            tables::passages_frame(&corpus.passages)?,
            &p.name,
        )?;
        tables::write(
            self.out(),
            tables::DUPLICATES,
            tables::duplicates_frame(&corpus.duplicates)?,
            &p.name,
        )?;
        let settings =
            serde_json::json!({ "patterns": p.patterns, "input": p.input, "ingest": p.ingest });
        let inputs: BTreeMap<String, String> = corpus
            .documents
            .iter()
            .map(|d| (d.path.clone(), d.content_hash.clone()))
            .collect();
        let input_list: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let rec = StageRecord {
            fingerprint: fingerprint(&[
                crate::VERSION,
                "ingest",
                &settings.to_string(),
                &input_list.join("\n"),
            ]),
            settings,
            inputs,
            rows: BTreeMap::from([
                ("documents".into(), corpus.documents.len() as u64),
                ("passages".into(), corpus.passages.len() as u64),
                ("duplicates".into(), corpus.duplicates.len() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: corpus.warnings.clone(),
        };
        self.note(&format!(
            "ingest: {} documents, {} passages ({} kept) in {:.2} s",
            corpus.documents.len(),
            corpus.passages.len(),
            report::count_status(&corpus, Status::Kept),
            rec.seconds
        ));
        self.record("ingest", rec)?;
        Ok(corpus)
    }

    /// analyze + tfidf: kept passages → vocabulary.parquet, tfidf.parquet.
    pub fn tfidf(&mut self, corpus: &Corpus) -> Result<(Vocabulary, Tfidf)> {
        let t = Instant::now();
        let p = &self.pipeline;
        let analyzer = Analyzer::new(&p.analyzer)?;
        let kept: Vec<&ingest::Passage> = corpus
            .passages
            .iter()
            .filter(|x| x.status == Status::Kept)
            .collect();
        if kept.is_empty() {
            let mut by: BTreeMap<String, usize> = BTreeMap::new();
            for x in &corpus.passages {
                let r = x.reason.as_deref().unwrap_or("");
                *by.entry(format!("{} ({r})", x.status.as_str()))
                    .or_insert(0) += 1;
            }
            let list: Vec<String> = by.iter().map(|(k, v)| format!("{v} {k}")).collect();
            return Err(Error::Data(format!(
                "no kept passages: all {} were set aside: {}; see passages.parquet, or set \
                 ingest.boilerplate / ingest.dedupe = false",
                corpus.passages.len(),
                list.join(", ")
            )));
        }
        let texts: Vec<&str> = kept.iter().map(|x| x.text.as_str()).collect();
        let pb = self.spinner(&format!("analyze: {} passages", texts.len()));
        let counts = vectorize::count(&analyzer, &texts);
        pb.set_message("tfidf: weighting");
        let result = vectorize::tfidf(
            &counts,
            kept.iter().map(|x| x.passage_id).collect(),
            &p.tfidf,
        );
        pb.finish_and_clear();
        let (vocab, m) = result?;
        tables::write(
            self.out(),
            tables::VOCABULARY,
            tables::vocabulary_frame(&vocab)?,
            &p.name,
        )?;
        tables::write(self.out(), tables::TFIDF, tables::tfidf_frame(&m)?, &p.name)?;
        let stop_file = match &p.analyzer.stop_words_file {
            Some(f) => std::fs::read(f)
                .map(|b| {
                    ingest::hex(&sha2::Digest::finalize(
                        <sha2::Sha256 as sha2::Digest>::new_with_prefix(&b),
                    ))
                })
                .unwrap_or_default(),
            None => String::new(),
        };
        let settings = serde_json::json!({ "analyzer": p.analyzer, "tfidf": p.tfidf });
        let rec = StageRecord {
            fingerprint: fingerprint(&[
                crate::VERSION,
                "tfidf",
                &settings.to_string(),
                &stop_file,
                &self.previous_fingerprint("ingest"),
            ]),
            settings,
            inputs: BTreeMap::new(),
            rows: BTreeMap::from([
                ("vocabulary".into(), vocab.terms.len() as u64),
                ("tfidf".into(), m.nnz() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: vec![],
        };
        self.note(&format!(
            "tfidf: {} terms ({} kept), {} non-zeros over {} passages in {:.2} s",
            vocab.terms.len(),
            vocab.n_kept(),
            m.nnz(),
            m.n_rows(),
            rec.seconds
        ));
        self.record("tfidf", rec)?;
        Ok((vocab, m))
    }

    /// cluster: tf-idf rows → assignments, clusters, cluster_terms, theme_seeds.
    pub fn cluster(&mut self, vocab: &Vocabulary, m: &Tfidf) -> Result<Clustering> {
        let t = Instant::now();
        let p = &self.pipeline;
        let analyzer = Analyzer::new(&p.analyzer)?;
        let k = match p.n_clusters() {
            Some(k) => k.to_string(),
            None => format!("{}..={}", p.cluster.k_min, p.cluster.k_max),
        };
        let pb = self.spinner(&format!("cluster: k-means, k = {k}"));
        let c = crate::cluster::cluster(m, vocab, &analyzer, p);
        pb.finish_and_clear();
        let c = c?;
        tables::write(
            self.out(),
            tables::ASSIGNMENTS,
            tables::assignments_frame(&c.assignments)?,
            &p.name,
        )?;
        tables::write(
            self.out(),
            tables::CLUSTERS,
            tables::clusters_frame(&c.clusters)?,
            &p.name,
        )?;
        tables::write(
            self.out(),
            tables::CLUSTER_TERMS,
            tables::cluster_terms_frame(&c.terms)?,
            &p.name,
        )?;
        tables::write(
            self.out(),
            tables::THEME_SEEDS,
            tables::theme_seeds_frame(&c.seeds)?,
            &p.name,
        )?;
        let settings = serde_json::json!({ "cluster": p.cluster, "themes": p.themes });
        let fp = fingerprint(&[
            crate::VERSION,
            "cluster",
            &settings.to_string(),
            &self.previous_fingerprint("tfidf"),
        ]);
        let mut settings = settings;
        settings["space"] = c.space.clone().into();
        if !c.sweep.is_empty() {
            settings["k_sweep"] = serde_json::to_value(&c.sweep).unwrap_or_default();
        }
        for w in &c.warnings {
            // warnings show even with --quiet
            eprintln!("warning: {w}");
        }
        let unassigned = c.assignments.iter().filter(|a| a.cluster.is_none()).count();
        let rec = StageRecord {
            fingerprint: fp,
            settings,
            inputs: BTreeMap::new(),
            rows: BTreeMap::from([
                ("assignments".into(), c.assignments.len() as u64),
                ("clusters".into(), c.clusters.len() as u64),
                ("cluster_terms".into(), c.terms.len() as u64),
                ("theme_seeds".into(), c.seeds.len() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: c.warnings.clone(),
        };
        let sizes: Vec<String> = c
            .clusters
            .iter()
            .map(|x| format!("{} {}", x.theme, x.size))
            .collect();
        self.note(&format!(
            "cluster: {}; {unassigned} unassigned, in {:.2} s",
            sizes.join(", "),
            rec.seconds
        ));
        self.record("cluster", rec)?;
        Ok(c)
    }

    /// report: everything → summary.md, summary.json, summary.html in the report directory.
    pub fn report(
        &mut self,
        corpus: &Corpus,
        vocab: &Vocabulary,
        m: &Tfidf,
        c: &Clustering,
    ) -> Result<Summary> {
        let t = Instant::now();
        let p = &self.pipeline;
        let warnings: Vec<String> = ["ingest", "cluster"]
            .iter()
            .filter_map(|st| self.manifest.stages.get(*st))
            .flat_map(|s| s.warnings.clone())
            .collect();
        let sweep: Vec<crate::sweep::SweepRow> = self
            .manifest
            .stages
            .get("cluster")
            .and_then(|s| serde_json::from_value(s.settings["k_sweep"].clone()).ok())
            .unwrap_or_default();
        let mut space = c.space.clone();
        if space.is_empty() {
            space = self
                .manifest
                .stages
                .get("cluster")
                .and_then(|s| s.settings["space"].as_str())
                .unwrap_or("")
                .to_string();
        }
        // `themata report` reads the clustering from its tables: the sweep comes from the manifest
        let restored;
        let c = if c.sweep.is_empty() && !sweep.is_empty() {
            restored = Clustering { sweep, ..c.clone() };
            &restored
        } else {
            c
        };
        let summary = report::summarize(p, corpus, vocab, m, c, &space, &warnings);
        let dir = &p.report_dir;
        write_text(&dir.join("summary.json"), &report::to_json(&summary))?;
        write_text(&dir.join("summary.md"), &report::to_markdown(&summary))?;
        let run = crate::html::RunInfo::from_manifest(&self.manifest);
        write_text(
            &dir.join("summary.html"),
            &crate::html::render(&summary, &run)?,
        )?;
        let settings = serde_json::json!({ "representatives": p.representatives, "dir": dir });
        let rec = StageRecord {
            fingerprint: fingerprint(&[
                crate::VERSION,
                "report",
                &settings.to_string(),
                &self.previous_fingerprint("cluster"),
            ]),
            settings,
            inputs: BTreeMap::new(),
            rows: BTreeMap::from([("themes".into(), summary.themes.len() as u64)]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: vec![],
        };
        self.note(&format!(
            "report: {} in {:.2} s",
            dir.join("summary.md").display(),
            rec.seconds
        ));
        self.record("report", rec)?;
        Ok(summary)
    }

    /// Every stage in order.
    pub fn run(&mut self) -> Result<Summary> {
        let corpus = self.ingest()?;
        let (vocab, m) = self.tfidf(&corpus)?;
        let c = self.cluster(&vocab, &m)?;
        self.report(&corpus, &vocab, &m, &c)
    }

    /// The corpus tables of an earlier run.
    pub fn load_corpus(&self) -> Result<Corpus> {
        tables::read_corpus(self.out())
    }

    /// The vocabulary and TF-IDF tables of an earlier run.
    pub fn load_tfidf(&self, corpus: &Corpus) -> Result<(Vocabulary, Tfidf)> {
        let kept: Vec<u32> = corpus
            .passages
            .iter()
            .filter(|p| p.status == Status::Kept)
            .map(|p| p.passage_id)
            .collect();
        let mut vocab = tables::read_vocabulary(self.out())?;
        vocab.n_rows = kept.len();
        let m = tables::read_tfidf(self.out(), &kept)?;
        Ok((vocab, m))
    }

    pub fn load_clustering(&self) -> Result<Clustering> {
        tables::read_clustering(self.out())
    }
}
