//! The engine: runs a pipeline's stages against its output directory, each only when it is
//! stale.
//!
//! Every stage goes through one path ([`Engine::step`]): compute its key (settings, input
//! files, the fingerprint of the stage it reads from, themata's version and build); skip it
//! when the manifest records that key and its outputs are unchanged; otherwise compute its
//! result, forget its record and those of the later stages, write its files (each
//! atomically), then record it — last, so that a killed run never leaves a record of files
//! that are not all in place. What differs between stages is a [`Job`]: how it computes,
//! what it writes, and the line that says what it did.
//!
//! The engine prints nothing: it tells an [`Observer`] what happens, and the binary decides
//! what to show.

mod fingerprint;
mod jobs;
mod lock;
pub mod manifest;
mod update;

pub use fingerprint::{StageKey, BUILD};
pub use lock::{holds_a_lock, DirLock, LOCK_FILE};
pub use manifest::{Manifest, StageRecord, MANIFEST};

use crate::error::{Error, Result};
use crate::files::{file_hash, remove_stale_temporaries};
use crate::pipeline_file::Pipeline;
use crate::tables;
use fingerprint::{inputs_diff, settings_diff};
use std::path::Path;
use std::time::Instant;
use themata_core::model::{
    Clustering, Corpus, SparseRows, SweepRow, ThemeChange, ThemeMerge, Vocabulary,
};
use themata_core::stable::Themes;

/// The stages, in the order data flows; each reads the tables of the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Input files → documents, passages, duplicates.
    Ingest,
    /// Kept passages → vocabulary, TF-IDF weights, and the counts behind them (the dropped
    /// terms' counts, the surface forms).
    Tfidf,
    /// TF-IDF rows → assignments, clusters, their terms, seed words, and the fitted model
    /// (centroids, LSA basis, model.json).
    Cluster,
    /// Everything → summary.json, summary.md, summary.html.
    Report,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 4] = [Stage::Ingest, Stage::Tfidf, Stage::Cluster, Stage::Report];

    /// The stage's name (as in the manifest and in messages).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Tfidf => "tfidf",
            Stage::Cluster => "cluster",
            Stage::Report => "report",
        }
    }

    /// The files the stage writes (the report's in the report directory, the others' in
    /// the output directory).
    pub fn outputs(self) -> &'static [&'static str] {
        match self {
            Stage::Ingest => &[tables::DOCUMENTS, tables::PASSAGES, tables::DUPLICATES],
            Stage::Tfidf => &[
                tables::VOCABULARY,
                tables::TFIDF,
                tables::TERM_COUNTS,
                tables::SURFACE_FORMS,
            ],
            Stage::Cluster => &[
                tables::ASSIGNMENTS,
                tables::CLUSTERS,
                tables::CLUSTER_TERMS,
                tables::THEME_SEEDS,
                tables::THEME_HIERARCHY,
                tables::EXPLANATIONS,
                tables::CENTROIDS,
                tables::LSA_COMPONENTS,
                tables::MODEL,
            ],
            Stage::Report => &["summary.json", "summary.md", "summary.html"],
        }
    }

    /// The files the stage writes to the output directory although its others go elsewhere:
    /// the report's tables (`theme_trends.parquet`, `keyness.parquet`, beside the others).
    pub fn tables_elsewhere(self) -> &'static [&'static str] {
        match self {
            Stage::Report => &[tables::THEME_TRENDS, tables::KEYNESS],
            _ => &[],
        }
    }

    /// The stage whose tables this one reads.
    pub fn previous(self) -> Option<Stage> {
        let i = Stage::ALL.iter().position(|s| *s == self)?;
        i.checked_sub(1).map(|j| Stage::ALL[j])
    }

    /// This stage and the ones after it.
    fn and_later(self) -> impl Iterator<Item = Stage> {
        Stage::ALL.into_iter().filter(move |s| *s >= self)
    }
}

/// What a run tells its observer.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The stage is fresh and was skipped.
    Skipped {
        /// The stage.
        stage: Stage,
        /// Its fingerprint.
        fingerprint: &'a str,
    },
    /// The stage runs, and why.
    Runs {
        /// The stage.
        stage: Stage,
        /// Why it is stale (`settings changed: cluster.k: 5 → 3`, `--force`, ...).
        reason: &'a str,
    },
    /// A warning met by a stage (also recorded in the manifest).
    Warning(&'a str),
    /// The stage's files are in place and recorded.
    Done {
        /// The stage.
        stage: Stage,
        /// One line that says what it did.
        summary: &'a str,
        /// Its record in the manifest.
        record: &'a StageRecord,
    },
    /// Large values were just dropped: a good moment to give freed memory back.
    MemoryFreed,
    /// Another run holds the output directory; this one waits for it.
    Waiting {
        /// The output directory.
        dir: &'a Path,
        /// The other run's process id, when its lock file names one.
        holder: Option<u32>,
    },
}

/// Receives the engine's events and the pipeline's progress.
pub trait Observer: themata_core::Observer {
    /// Something happened.
    fn event(&self, event: Event);
}

/// An observer that ignores everything (for library use and tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl themata_core::Observer for Quiet {}

impl Observer for Quiet {
    fn event(&self, _: Event) {}
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// `run`: rerun every stage even when it is fresh.
    pub force: bool,
    /// Split the kept passages into this many consecutive shards for the analyze step,
    /// whose counts then merge: the tables are the same for any number (a check of the
    /// merge, and the shape of a run over shards on disk or on a cluster).
    pub shards: usize,
    /// When another run holds the output directory: wait for it (`true`), or fail at once
    /// with [`Error::Locked`].
    pub wait: bool,
    /// Discover mode: the run whose theme ids and names a new fit keeps (`--previous`);
    /// `None`: the run already in the output directory, if any.
    pub previous: Option<std::path::PathBuf>,
    /// `run --update`: go on from the run in the output directory (read only new or changed
    /// input files, analyse only new passages, start k-means from its centroids); see
    /// [`update`].
    pub update: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            force: false,
            shards: 1,
            wait: true,
            previous: None,
            update: false,
        }
    }
}

/// What a stage wrote, besides its files.
#[derive(Debug, Default)]
struct Written {
    rows: std::collections::BTreeMap<String, u64>,
    metrics: std::collections::BTreeMap<String, f64>,
    results: serde_json::Value,
    warnings: Vec<String>,
}

/// One stage's part in [`Engine::step`].
trait Job {
    /// What the stage computes.
    type Output;
    /// The stage.
    const STAGE: Stage;
    /// Its key now.
    fn key(&self, e: &Engine) -> Result<StageKey>;
    /// Compute its result (reading earlier stages' tables as needed); no file is touched.
    fn compute(&self, e: &mut Engine) -> Result<Self::Output>;
    /// Write its files into `dir`.
    fn write(&self, e: &Engine, out: &Self::Output, dir: &Path) -> Result<Written>;
    /// The line that says what it did.
    fn summary(&self, e: &Engine, out: &Self::Output, rec: &StageRecord) -> String;
    /// Keep the result for later stages.
    fn keep(e: &mut Engine, out: Self::Output);
}

/// Runs stages of one pipeline against its output directory.
pub struct Engine<'o> {
    pipeline: Pipeline,
    opts: Options,
    observer: &'o dyn Observer,
    /// The output directory's lock, taken by the first stage to run and held until the
    /// engine is dropped.
    lock: Option<DirLock>,
    manifest: Manifest,
    /// Warnings met before any stage ran (a damaged manifest), recorded with the next stage
    /// that runs.
    notes: Vec<String>,
    /// Stages that ran in this invocation.
    ran: Vec<Stage>,
    /// Stage results in memory (computed in this run, or read back from their tables).
    corpus: Option<Corpus>,
    tfidf: Option<(Vocabulary, SparseRows)>,
    clustering: Option<Clustering>,
    /// Discover mode: the previous run's themes, read before the first stage of this run
    /// replaces any table (`Some(None)`: there is none).
    previous: Option<Option<Themes>>,
    /// The LSA basis of the run in the output directory, read with its themes.
    previous_basis: Option<ndarray::Array2<f64>>,
    /// `--update`: the run in the output directory, read before the first stage of this run
    /// replaces any table (`Some(None)`: there is none to go on from).
    base: Option<Option<update::Base>>,
    /// What the stage computing now took from the earlier run (`--update`).
    reuse: Option<update::Reuse>,
}

impl<'o> Engine<'o> {
    /// An engine for `pipeline`. It touches nothing until a stage runs: then it locks the
    /// output directory (one writer at a time) and reads its manifest.
    pub fn new(pipeline: Pipeline, opts: Options, observer: &'o dyn Observer) -> Self {
        Engine {
            pipeline,
            opts: Options {
                shards: opts.shards.max(1),
                ..opts
            },
            previous: None,
            base: None,
            reuse: None,
            previous_basis: None,
            observer,
            lock: None,
            manifest: Manifest::default(),
            notes: Vec::new(),
            ran: Vec::new(),
            corpus: None,
            tfidf: None,
            clustering: None,
        }
    }

    /// Lock the output directory (waiting for another run that holds it, unless told not
    /// to), then read its manifest: what a waiting run finds is what the other run left.
    fn acquire(&mut self) -> Result<()> {
        if self.lock.is_some() {
            return Ok(());
        }
        let out = self.pipeline.output.clone();
        let observer = self.observer;
        let lock = DirLock::acquire(&out, self.opts.wait, |holder| {
            observer.event(Event::Waiting { dir: &out, holder })
        })?;
        self.lock = Some(lock);
        let (mut manifest, damaged) = Manifest::load(&out);
        if let Some(w) = damaged {
            self.observer.event(Event::Warning(&w));
            self.notes.push(w);
        }
        manifest.themata_version = crate::VERSION.to_string();
        manifest.pipeline = self.pipeline.name.clone();
        manifest.pipeline_file = self.pipeline.file.display().to_string();
        manifest.seed = self.pipeline.cluster.seed;
        manifest.threads = rayon::current_num_threads();
        self.manifest = manifest;
        Ok(())
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The manifest as this engine sees it (records of the stages that are in place; empty
    /// before a stage ran).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Every stage in order, skipping the stages that are fresh (unless `force`): a stage
    /// is fresh when the manifest records the fingerprint it would have now and its outputs
    /// still have the recorded content. Tables of skipped stages are read back only when a
    /// later stage needs them.
    pub fn run(&mut self) -> Result<()> {
        for stage in Stage::ALL {
            self.run_stage(stage, false)?;
        }
        Ok(())
    }

    /// Run one stage; `always`: even when it is fresh (the single-stage commands).
    pub fn run_stage(&mut self, stage: Stage, always: bool) -> Result<()> {
        self.acquire()?;
        match stage {
            Stage::Ingest => {
                let job = jobs::Ingest::discover(&self.pipeline)?;
                self.step(job, always)
            }
            Stage::Tfidf => self.step(jobs::Tfidf, always),
            Stage::Cluster => self.step(jobs::Cluster, always),
            Stage::Report => self.step(jobs::Report, always),
        }
    }

    /// The one path every stage takes: key, freshness, compute, replace the files, record.
    fn step<J: Job>(&mut self, job: J, always: bool) -> Result<()> {
        let stage = J::STAGE;
        let key = job.key(self)?;
        let reason = if always {
            None
        } else {
            self.stale_reason(stage, &key)
        };
        if !always && reason.is_none() {
            self.observer.event(Event::Skipped {
                stage,
                fingerprint: &key.fingerprint,
            });
            return Ok(());
        }
        if let Some(r) = &reason {
            self.observer.event(Event::Runs { stage, reason: r });
        }
        self.read_previous_themes()?;
        self.read_base();
        self.reuse = None;
        let t = Instant::now();
        let out = job.compute(self)?;
        self.begin(stage)?;
        let dir = self.dir_of(stage).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let written = job.write(self, &out, &dir)?;
        for w in &written.warnings {
            self.observer.event(Event::Warning(w));
        }
        let mut warnings = std::mem::take(&mut self.notes);
        warnings.extend(written.warnings);
        let mut rec = StageRecord {
            settings: key.settings.clone(),
            results: written.results,
            rows: written.rows,
            metrics: written.metrics,
            warnings,
            seconds: t.elapsed().as_secs_f64(),
            ..Default::default()
        };
        for (dir, name) in self.files_of(stage) {
            let path = dir.join(name);
            let h = file_hash(&path).map_err(|e| Error::io(&path, e))?;
            rec.outputs.insert(name.to_string(), h);
        }
        rec.fingerprint = key.fingerprint;
        rec.version = crate::VERSION.to_string();
        rec.build = BUILD.to_string();
        rec.inputs = key.inputs;
        rec.upstream = key.upstream;
        let summary = job.summary(self, &out, &rec);
        self.manifest.stages.insert(stage.name().to_string(), rec);
        self.ran.push(stage);
        self.manifest.save(&self.pipeline.output)?;
        self.observer.event(Event::Done {
            stage,
            summary: &summary,
            record: &self.manifest.stages[stage.name()],
        });
        J::keep(self, out);
        Ok(())
    }

    /// Every file the stage writes, with its directory.
    fn files_of(&self, stage: Stage) -> Vec<(&Path, &'static str)> {
        let dir = self.dir_of(stage);
        let out = self.pipeline.output.as_path();
        let here = stage.outputs().iter().map(|n| (dir, *n));
        here.chain(stage.tables_elsewhere().iter().map(|n| (out, *n)))
            .collect()
    }

    fn dir_of(&self, stage: Stage) -> &Path {
        if stage == Stage::Report {
            &self.pipeline.report_dir
        } else {
            &self.pipeline.output
        }
    }

    /// Why `stage` must run for `key`, or `None` when its recorded outputs are fresh.
    pub fn stale_reason(&self, stage: Stage, key: &StageKey) -> Option<String> {
        if self.opts.force {
            return Some("--force".into());
        }
        let Some(rec) = self.manifest.stages.get(stage.name()) else {
            let earlier = Stage::ALL.iter().rev().filter(|s| **s < stage);
            if let Some(prev) = earlier.into_iter().find(|s| self.ran.contains(s)) {
                return Some(format!("the {} stage reran", prev.name()));
            }
            return Some("no complete earlier run in the manifest".into());
        };
        // a stage another engine ran (the Spark driver) is adopted on what can be checked
        // here: its settings, its input files and its outputs (its fingerprint is its own)
        let adopted =
            rec.engine.is_some() && rec.settings == key.settings && rec.inputs == key.inputs;
        if rec.fingerprint == key.fingerprint || adopted {
            // same inputs; the outputs must still be the ones recorded
            for (dir, name) in self.files_of(stage) {
                let Some(want) = rec.outputs.get(name) else {
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
        if let Some(engine) = &rec.engine {
            let diff = settings_diff(&rec.settings, &key.settings, 3);
            return Some(if !diff.is_empty() {
                format!(
                    "written by {engine} with other settings: {}",
                    diff.join("; ")
                )
            } else {
                format!(
                    "written by {engine} from other input files: {}",
                    inputs_diff(&rec.inputs, &key.inputs)
                )
            });
        }
        if rec.version != crate::VERSION {
            return Some(format!(
                "themata version changed ({} → {})",
                rec.version,
                crate::VERSION
            ));
        }
        if rec.build != BUILD {
            return Some(format!(
                "themata was rebuilt from other sources (build {} → {BUILD})",
                if rec.build.is_empty() {
                    "?"
                } else {
                    &rec.build
                }
            ));
        }
        let diff = settings_diff(&rec.settings, &key.settings, 3);
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
            let prev = stage.previous().unwrap_or(Stage::Ingest);
            return Some(format!("the {} stage's output changed", prev.name()));
        }
        Some("fingerprint changed".into())
    }

    /// Before a stage writes anything: forget its record and those of later stages (their
    /// outputs are about to be replaced, or were made from what is being replaced), and
    /// remove temporaries an earlier killed run left behind.
    fn begin(&mut self, stage: Stage) -> Result<()> {
        let mut changed = false;
        for s in stage.and_later() {
            changed |= self.manifest.stages.remove(s.name()).is_some();
        }
        if changed {
            let out = &self.pipeline.output;
            std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            self.manifest.save(out)?;
        }
        let mut targets: Vec<&str> = stage.outputs().to_vec();
        targets.push(MANIFEST);
        remove_stale_temporaries(self.dir_of(stage), &targets);
        if !stage.tables_elsewhere().is_empty() {
            remove_stale_temporaries(&self.pipeline.output, stage.tables_elsewhere());
        }
        Ok(())
    }

    /// Discover mode, before the first stage replaces a table: read the themes of the
    /// previous run (`--previous`, or the run in the output directory) for the new fit to
    /// keep their ids. A previous run named with `--previous` must be readable; the output
    /// directory's own is used when it is, with a warning when it is not.
    fn read_previous_themes(&mut self) -> Result<()> {
        if self.previous.is_some() {
            return Ok(());
        }
        if self.pipeline.cluster.mode != themata_core::cluster::Mode::Discover {
            self.previous = Some(None);
            return Ok(());
        }
        let themes = match &self.opts.previous {
            Some(dir) => match tables::read_previous_themes(dir)? {
                Some(t) => Some(t),
                None => {
                    return Err(Error::config(
                        dir.join(tables::MODEL),
                        "--previous: no fitted model here (`themata run` writes one)",
                    ))
                }
            },
            None => match tables::read_previous(&self.pipeline.output) {
                Ok(Some((t, lsa))) => {
                    // --update: the range finder of the LSA starts from this basis
                    self.previous_basis = lsa.map(|b| b.components);
                    Some(t)
                }
                Ok(None) => None,
                Err(e) => {
                    let w = format!(
                        "theme ids are not matched to the previous run in this directory: {e}"
                    );
                    self.observer.event(Event::Warning(&w));
                    self.notes.push(w);
                    None
                }
            },
        };
        self.previous = Some(themes);
        Ok(())
    }

    /// `--update`, before the first stage replaces a table: read the run in the output
    /// directory to go on from (a warning says why when there is none).
    fn read_base(&mut self) {
        if self.base.is_some() || !self.opts.update {
            return;
        }
        let base = match update::Base::read(self) {
            Ok(b) => Some(b),
            Err(note) => {
                self.warn(note);
                None
            }
        };
        self.base = Some(base);
    }

    /// A warning: shown now, and recorded with the next stage that completes.
    fn warn(&mut self, w: String) {
        self.observer.event(Event::Warning(&w));
        self.notes.push(w);
    }

    /// The fingerprint the manifest records for `stage` (empty when none).
    fn recorded_fingerprint(&self, stage: Stage) -> String {
        self.manifest
            .stages
            .get(stage.name())
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default()
    }

    /// The corpus, read back from its tables if it is not in memory.
    fn ensure_corpus(&mut self) -> Result<&Corpus> {
        if self.corpus.is_none() {
            self.corpus = Some(tables::read_corpus(&self.pipeline.output)?);
        }
        Ok(self.corpus.as_ref().expect("just set"))
    }

    /// The vocabulary and TF-IDF rows, read back from their tables if they are not in
    /// memory.
    fn ensure_tfidf(&mut self) -> Result<&(Vocabulary, SparseRows)> {
        if self.tfidf.is_none() {
            let out = self.pipeline.output.clone();
            let kept: Vec<u32> = self.ensure_corpus()?.kept().map(|p| p.passage_id).collect();
            let mut vocab = tables::read_vocabulary(&out)?;
            vocab.n_rows = kept.len();
            let m = tables::read_tfidf(&out, &kept)?;
            self.tfidf = Some((vocab, m));
        }
        Ok(self.tfidf.as_ref().expect("just set"))
    }

    /// The clustering, read back from its tables (and the manifest's record of the cluster
    /// stage's results) if it is not in memory, with the explanations of the passages the
    /// report shows (see `report::why::shown_passages`): in memory too, the cluster stage
    /// keeps only those.
    fn ensure_clustering(&mut self) -> Result<&Clustering> {
        if self.clustering.is_none() {
            let out = &self.pipeline.output;
            let mut c = tables::read_clustering(out)?;
            if let Some((runner_up, _)) = tables::read_runner_up_explained(out)? {
                let r = &self.pipeline.report;
                let shown = crate::report::why::shown_passages(
                    &c,
                    &runner_up,
                    r.representatives,
                    r.close_calls,
                );
                c.explanations = tables::read_explanations_of(out, |p| shown.contains(&p))?
                    .unwrap_or_default()
                    .into_iter()
                    .map(|x| x.explanation)
                    .collect();
            }
            if let Some(rec) = self.manifest.stages.get(Stage::Cluster.name()) {
                c.space = rec.results["space"].as_str().unwrap_or("").to_string();
                c.sweep = serde_json::from_value::<Vec<SweepRow>>(rec.results["k_sweep"].clone())
                    .unwrap_or_default();
                c.changes = serde_json::from_value::<Vec<ThemeChange>>(
                    rec.results["theme_changes"].clone(),
                )
                .unwrap_or_default();
                c.merges = serde_json::from_value::<Vec<ThemeMerge>>(rec.results["merges"].clone())
                    .unwrap_or_default();
            }
            self.clustering = Some(c);
        }
        Ok(self.clustering.as_ref().expect("just set"))
    }

    /// Free the corpus (the report reads its tables back): clustering needs no text, so a
    /// run's peak memory is the matrix and the reduced space, not the texts as well.
    fn free_corpus(&mut self) {
        if self.corpus.take().is_some() {
            self.observer.event(Event::MemoryFreed);
        }
    }
}
