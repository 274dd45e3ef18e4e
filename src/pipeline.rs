//! The stages and how `themata run` chains them. Each stage reads its inputs (in memory
//! from the previous stage, or from the output directory when run on its own), writes its
//! tables atomically and then records itself in the manifest.

use crate::cluster::Clustering;
use crate::config::Pipeline;
use crate::error::{Error, Result};
use crate::ingest::{self, Corpus, Status};
use crate::report::{self, Summary};
use crate::run_dir::{file_hash, fingerprint, settings_diff, write_text, Manifest, StageRecord};
use crate::tables;
use crate::text::Analyzer;
use crate::vectorize::{self, Tfidf, Vocabulary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How a run behaves. Messages go to stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub quiet: bool,
    pub verbose: bool,
    /// `run`: rerun every stage even when it is fresh.
    pub force: bool,
}

/// The stages in order; a stage reads the tables of the one before it.
pub const STAGES: &[&str] = &["ingest", "tfidf", "cluster", "report"];

/// The files each stage writes (report: in the report directory, the others: in the output
/// directory).
fn stage_outputs(stage: &str) -> &'static [&'static str] {
    match stage {
        "ingest" => &[tables::DOCUMENTS, tables::PASSAGES, tables::DUPLICATES],
        "tfidf" => &[tables::VOCABULARY, tables::TFIDF],
        "cluster" => &[
            tables::ASSIGNMENTS,
            tables::CLUSTERS,
            tables::CLUSTER_TERMS,
            tables::THEME_SEEDS,
        ],
        "report" => &["summary.json", "summary.md", "summary.html"],
        _ => &[],
    }
}

/// What a stage's output depends on: settings, input files and the stage it reads from.
/// Two runs with equal keys produce identical outputs.
#[derive(Debug, Clone)]
pub struct StageKey {
    pub settings: serde_json::Value,
    pub inputs: BTreeMap<String, String>,
    pub upstream: String,
    pub fingerprint: String,
}

impl StageKey {
    fn new(
        stage: &str,
        settings: serde_json::Value,
        inputs: BTreeMap<String, String>,
        upstream: String,
    ) -> Self {
        let list: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let fingerprint = fingerprint(&[
            crate::VERSION,
            stage,
            &settings.to_string(),
            &list.join("\n"),
            &upstream,
        ]);
        StageKey {
            settings,
            inputs,
            upstream,
            fingerprint,
        }
    }
}

/// Content hashes of the input files (in parallel; an unreadable file hashes as such).
fn input_hashes(files: &[ingest::InputFile]) -> BTreeMap<String, String> {
    let hashes: Vec<String> = files
        .par_iter()
        .map(|(path, _)| match file_hash(path) {
            Ok(h) => h,
            Err(e) => format!("unreadable: {}", e.kind()),
        })
        .collect();
    files
        .iter()
        .map(|(_, rel)| rel.clone())
        .zip(hashes)
        .collect()
}

/// How input maps differ: "2 changed, 1 added (first: a.txt)".
fn inputs_diff(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> String {
    let changed: Vec<&String> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let mut parts = Vec::new();
    for (n, what, list) in [
        (changed.len(), "changed", &changed),
        (added.len(), "added", &added),
        (removed.len(), "removed", &removed),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what} (first: {})", list[0]));
        }
    }
    parts.join(", ")
}

/// Runs stages of one pipeline against its output directory.
pub struct Runner {
    pub pipeline: Pipeline,
    opts: Options,
    manifest: Manifest,
    /// Stages that ran in this invocation.
    ran: Vec<&'static str>,
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
            ran: Vec::new(),
        }
    }

    /// The manifest as this runner sees it (records of the stages that are in place).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn note(&self, msg: &str) {
        if !self.opts.quiet {
            eprintln!("{msg}");
        }
    }

    fn verbose(&self, msg: &str) {
        if self.opts.verbose && !self.opts.quiet {
            eprintln!("{msg}");
        }
    }

    /// stderr, or nothing with `--quiet` (indicatif itself draws nothing when stderr is not
    /// a terminal).
    fn draw_target(&self) -> ProgressDrawTarget {
        if self.opts.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        }
    }

    fn spinner(&self, msg: &str) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(None, self.draw_target());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    }

    /// A progress bar over `len` items.
    fn bar(&self, len: usize, msg: &str) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(Some(len as u64), self.draw_target());
        pb.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    }

    fn dir_of(&self, stage: &str) -> &std::path::Path {
        if stage == "report" {
            &self.pipeline.report_dir
        } else {
            &self.pipeline.output
        }
    }

    /// Why `stage` must run for `key`, or `None` when its recorded outputs are fresh.
    pub fn stale_reason(&self, stage: &str, key: &StageKey) -> Option<String> {
        if self.opts.force {
            return Some("--force".into());
        }
        let Some(rec) = self.manifest.stages.get(stage) else {
            let i = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
            if let Some(prev) = STAGES[..i].iter().rev().find(|s| self.ran.contains(s)) {
                return Some(format!("the {prev} stage reran"));
            }
            return Some("no complete earlier run in the manifest".into());
        };
        if rec.fingerprint == key.fingerprint {
            // same inputs; the outputs must still be the ones recorded
            let dir = self.dir_of(stage);
            for name in stage_outputs(stage) {
                let Some(want) = rec.outputs.get(*name) else {
                    return Some(format!("{name} is not recorded"));
                };
                match file_hash(&dir.join(name)) {
                    Ok(h) if &h == want => {}
                    Ok(_) => return Some(format!("{name} was changed since it was written")),
                    Err(_) => return Some(format!("{name} is missing")),
                }
            }
            return None;
        }
        if rec.version != crate::VERSION {
            return Some(format!(
                "themata version changed ({} → {})",
                rec.version,
                crate::VERSION
            ));
        }
        let mut old_settings = rec.settings.clone();
        if let Some(o) = old_settings.as_object_mut() {
            o.remove("space");
        }
        let diff = settings_diff(&old_settings, &key.settings, 3);
        if !diff.is_empty() {
            return Some(format!("settings changed: {}", diff.join("; ")));
        }
        if rec.inputs != key.inputs {
            return Some(format!(
                "input files changed: {}",
                inputs_diff(&rec.inputs, &key.inputs)
            ));
        }
        if rec.upstream != key.upstream {
            let i = STAGES.iter().position(|s| *s == stage).unwrap_or(1);
            return Some(format!(
                "the {} stage's output changed",
                STAGES[i.saturating_sub(1)]
            ));
        }
        Some("fingerprint changed".into())
    }

    /// Decide whether `stage` runs; say so (skips always, reasons with `-v`).
    fn must_run(&self, stage: &str, key: &StageKey) -> bool {
        match self.stale_reason(stage, key) {
            None => {
                self.note(&format!("{stage}: up to date, skipped"));
                self.verbose(&format!(
                    "  {stage}: fingerprint {} matches the manifest and its outputs are unchanged",
                    &key.fingerprint[..16]
                ));
                false
            }
            Some(why) => {
                self.verbose(&format!("{stage}: runs: {why}"));
                true
            }
        }
    }

    /// Before a stage writes anything: forget its record and those of later stages (their
    /// outputs are about to be replaced, or were made from what is being replaced), and
    /// remove temporaries an earlier killed run left behind.
    fn begin(&mut self, stage: &str) -> Result<()> {
        let i = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
        let mut changed = false;
        for s in &STAGES[i..] {
            changed |= self.manifest.stages.remove(*s).is_some();
        }
        if changed {
            std::fs::create_dir_all(self.out()).map_err(|e| Error::io(self.out(), e))?;
            self.manifest.save(&self.pipeline.output)?;
        }
        let mut targets: Vec<&str> = stage_outputs(stage).to_vec();
        targets.push(crate::run_dir::MANIFEST);
        crate::run_dir::remove_stale_temporaries(self.dir_of(stage), &targets);
        Ok(())
    }

    /// After a stage's outputs are in place: record it (hashing its outputs) and save the
    /// manifest.
    fn record(&mut self, stage: &str, key: StageKey, mut rec: StageRecord) -> Result<()> {
        let dir = self.dir_of(stage).to_path_buf();
        for name in stage_outputs(stage) {
            let path = dir.join(name);
            let h = file_hash(&path).map_err(|e| Error::io(&path, e))?;
            rec.outputs.insert(name.to_string(), h);
        }
        rec.fingerprint = key.fingerprint;
        rec.version = crate::VERSION.to_string();
        rec.inputs = key.inputs;
        rec.upstream = key.upstream;
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
        if let Some(s) = STAGES.iter().find(|s| **s == stage) {
            self.ran.push(s);
        }
        self.manifest.save(&self.pipeline.output)
    }

    fn out(&self) -> &std::path::Path {
        &self.pipeline.output
    }

    fn recorded_fingerprint(&self, stage: &str) -> String {
        self.manifest
            .stages
            .get(stage)
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default()
    }

    /// The key of ingest over these input files.
    pub fn ingest_key(&self, files: &[ingest::InputFile]) -> StageKey {
        let p = &self.pipeline;
        let mut settings =
            serde_json::json!({ "patterns": p.patterns, "input": p.input, "ingest": p.ingest });
        if p.input.strict {
            // a run without --strict may have decoded invalid UTF-8 lossily: a strict run does
            // not take its tables as fresh (a strict run's tables are fresh for the next one)
            settings["strict"] = true.into();
        }
        StageKey::new("ingest", settings, input_hashes(files), String::new())
    }

    /// The key of tfidf, reading what ingest recorded.
    pub fn tfidf_key(&self) -> Result<StageKey> {
        let p = &self.pipeline;
        let mut inputs = BTreeMap::new();
        if let Some(f) = &p.analyzer.stop_words_file {
            let h = file_hash(f).map_err(|e| Error::io(f, e))?;
            inputs.insert(f.display().to_string(), h);
        }
        let settings = serde_json::json!({ "analyzer": p.analyzer, "tfidf": p.tfidf });
        Ok(StageKey::new(
            "tfidf",
            settings,
            inputs,
            self.recorded_fingerprint("ingest"),
        ))
    }

    pub fn cluster_key(&self) -> StageKey {
        let p = &self.pipeline;
        let settings = serde_json::json!({ "cluster": p.cluster, "themes": p.themes });
        StageKey::new(
            "cluster",
            settings,
            BTreeMap::new(),
            self.recorded_fingerprint("tfidf"),
        )
    }

    pub fn report_key(&self) -> StageKey {
        let p = &self.pipeline;
        let settings =
            serde_json::json!({ "representatives": p.representatives, "dir": p.report_dir });
        StageKey::new(
            "report",
            settings,
            BTreeMap::new(),
            self.recorded_fingerprint("cluster"),
        )
    }

    /// ingest: input files → documents.parquet, passages.parquet.
    pub fn ingest(&mut self) -> Result<Corpus> {
        let p = &self.pipeline;
        let (files, walk_warnings) = ingest::discover(&p.input_root, &p.patterns)?;
        let key = self.ingest_key(&files);
        self.run_ingest(&files, walk_warnings, key)
    }

    fn run_ingest(
        &mut self,
        files: &[ingest::InputFile],
        walk_warnings: Vec<String>,
        key: StageKey,
    ) -> Result<Corpus> {
        let t = Instant::now();
        let p = &self.pipeline;
        let pb = self.bar(files.len(), "ingest: files");
        let corpus = ingest::ingest_with_progress(files, &p.ingest, &p.input, &|| pb.inc(1));
        pb.finish_and_clear();
        let mut corpus = corpus?;
        self.begin("ingest")?;
        let p = &self.pipeline;
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
        let rec = StageRecord {
            settings: key.settings.clone(),
            rows: BTreeMap::from([
                ("documents".into(), corpus.documents.len() as u64),
                ("passages".into(), corpus.passages.len() as u64),
                ("duplicates".into(), corpus.duplicates.len() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: corpus.warnings.clone(),
            ..Default::default()
        };
        self.note(&format!(
            "ingest: {} documents, {} passages ({} kept) in {:.2} s",
            corpus.documents.len(),
            corpus.passages.len(),
            report::count_status(&corpus, Status::Kept),
            rec.seconds
        ));
        self.record("ingest", key, rec)?;
        Ok(corpus)
    }

    /// analyze + tfidf: kept passages → vocabulary.parquet, tfidf.parquet.
    pub fn tfidf(&mut self, corpus: &Corpus) -> Result<(Vocabulary, Tfidf)> {
        let key = self.tfidf_key()?;
        self.run_tfidf(corpus, key)
    }

    fn run_tfidf(&mut self, corpus: &Corpus, key: StageKey) -> Result<(Vocabulary, Tfidf)> {
        let t = Instant::now();
        let analyzer = Analyzer::new(&self.pipeline.analyzer)?;
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
        let p = &self.pipeline;
        let texts: Vec<&str> = kept.iter().map(|x| x.text.as_str()).collect();
        let analyze_bytes: usize = texts.iter().map(|t| t.len()).sum();
        let pb = self.bar(texts.len(), "analyze: passages");
        let ta = Instant::now();
        let counts = vectorize::count_with_progress(&analyzer, &texts, &|n| pb.inc(n as u64));
        let analyze_seconds = ta.elapsed().as_secs_f64();
        pb.finish_and_clear();
        let pb = self.spinner("tfidf: weighting");
        let result = vectorize::tfidf(
            &counts,
            kept.iter().map(|x| x.passage_id).collect(),
            &p.tfidf,
        );
        drop(counts);
        release_freed_memory();
        pb.finish_and_clear();
        let (vocab, m) = result?;
        self.begin("tfidf")?;
        let p = &self.pipeline;
        tables::write(
            self.out(),
            tables::VOCABULARY,
            tables::vocabulary_frame(&vocab)?,
            &p.name,
        )?;
        tables::write_tfidf(self.out(), &m, &p.name)?;
        let rec = StageRecord {
            settings: key.settings.clone(),
            rows: BTreeMap::from([
                ("vocabulary".into(), vocab.terms.len() as u64),
                ("tfidf".into(), m.nnz() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            metrics: BTreeMap::from([
                ("analyze_seconds".into(), analyze_seconds),
                ("analyze_bytes".into(), analyze_bytes as f64),
            ]),
            ..Default::default()
        };
        self.note(&format!(
            "tfidf: {} terms ({} kept), {} non-zeros over {} passages in {:.2} s \
             (analysed {:.1} MB at {:.0} MB/s)",
            vocab.terms.len(),
            vocab.n_kept(),
            m.nnz(),
            m.n_rows(),
            rec.seconds,
            analyze_bytes as f64 / 1e6,
            analyze_bytes as f64 / 1e6 / analyze_seconds.max(1e-9)
        ));
        self.record("tfidf", key, rec)?;
        Ok((vocab, m))
    }

    /// cluster: tf-idf rows → assignments, clusters, cluster_terms, theme_seeds.
    pub fn cluster(&mut self, vocab: &Vocabulary, m: &Tfidf) -> Result<Clustering> {
        let key = self.cluster_key();
        self.run_cluster(vocab, m, key)
    }

    fn run_cluster(&mut self, vocab: &Vocabulary, m: &Tfidf, key: StageKey) -> Result<Clustering> {
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
        self.begin("cluster")?;
        let p = &self.pipeline;
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
        let mut settings = key.settings.clone();
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
            settings,
            rows: BTreeMap::from([
                ("assignments".into(), c.assignments.len() as u64),
                ("clusters".into(), c.clusters.len() as u64),
                ("cluster_terms".into(), c.terms.len() as u64),
                ("theme_seeds".into(), c.seeds.len() as u64),
            ]),
            seconds: t.elapsed().as_secs_f64(),
            warnings: c.warnings.clone(),
            ..Default::default()
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
        self.record("cluster", key, rec)?;
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
        let key = self.report_key();
        self.run_report(corpus, vocab, m, c, key)
    }

    fn run_report(
        &mut self,
        corpus: &Corpus,
        vocab: &Vocabulary,
        m: &Tfidf,
        c: &Clustering,
        key: StageKey,
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
        self.begin("report")?;
        let dir = &self.pipeline.report_dir;
        write_text(&dir.join("summary.json"), &report::to_json(&summary))?;
        write_text(&dir.join("summary.md"), &report::to_markdown(&summary))?;
        let run = crate::html::RunInfo::from_manifest(&self.manifest);
        write_text(
            &dir.join("summary.html"),
            &crate::html::render(&summary, &run)?,
        )?;
        let rec = StageRecord {
            settings: key.settings.clone(),
            rows: BTreeMap::from([("themes".into(), summary.themes.len() as u64)]),
            seconds: t.elapsed().as_secs_f64(),
            ..Default::default()
        };
        self.note(&format!(
            "report: {} in {:.2} s",
            dir.join("summary.md").display(),
            rec.seconds
        ));
        self.record("report", key, rec)?;
        Ok(summary)
    }

    /// Every stage in order, skipping the stages that are fresh (unless `force`): a stage
    /// is fresh when the manifest records the fingerprint it would have now (themata's
    /// version, its settings, its inputs' content hashes and the fingerprint of the stage it
    /// reads from) and its outputs still have the recorded content. Tables of skipped stages
    /// are read back only when a later stage needs them.
    pub fn run(&mut self) -> Result<()> {
        let p = &self.pipeline;
        let (files, walk_warnings) = ingest::discover(&p.input_root, &p.patterns)?;
        let key = self.ingest_key(&files);
        let mut corpus = None;
        if self.must_run("ingest", &key) {
            corpus = Some(self.run_ingest(&files, walk_warnings, key)?);
        }
        drop(files);
        release_freed_memory();

        let key = self.tfidf_key()?;
        let mut matrix = None;
        if self.must_run("tfidf", &key) {
            if corpus.is_none() {
                corpus = Some(self.load_corpus()?);
            }
            let c = corpus.as_ref().expect("loaded");
            matrix = Some(self.run_tfidf(c, key)?);
        }

        let key = self.cluster_key();
        let mut clustering = None;
        if self.must_run("cluster", &key) {
            if matrix.is_none() {
                if corpus.is_none() {
                    corpus = Some(self.load_corpus()?);
                }
                matrix = Some(self.load_tfidf(corpus.as_ref().expect("loaded"))?);
            }
            // Clustering needs no passage text: free the corpus (the report reads its tables
            // back), so that a run's peak memory is the matrix and the reduced space, not the
            // texts as well.
            corpus = None;
            release_freed_memory();
            let (v, m) = matrix.as_ref().expect("loaded");
            clustering = Some(self.run_cluster(v, m, key)?);
        }

        let key = self.report_key();
        if self.must_run("report", &key) {
            let corpus = match corpus {
                Some(c) => c,
                None => self.load_corpus()?,
            };
            let (v, m) = match matrix {
                Some(x) => x,
                None => self.load_tfidf(&corpus)?,
            };
            let c = match clustering {
                Some(c) => c,
                None => self.load_clustering()?,
            };
            self.run_report(&corpus, &v, &m, &c, key)?;
        }
        Ok(())
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

/// Give the pages of freed heap memory back to the system between stages. glibc's malloc
/// keeps them (per-thread arenas, many small blocks such as passage texts): a run's peak
/// RSS was ~50 % above its peak heap without this. Elsewhere a no-op.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of malloc's own arenas to the kernel; it
    // takes no pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
