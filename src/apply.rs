//! `themata apply`: a run's fitted model placed on new documents, without refitting.
//!
//! The model is what the run's cluster stage wrote beside its tables (`model.json`,
//! `vocabulary.parquet`, `centroids.parquet`, `lsa_components.parquet`). The new documents
//! are read and split with the model's input and ingest settings (or a pipeline file's),
//! analysed with its analyzer, weighed with its vocabulary and idf, embedded in its space and
//! placed with its centroids and floors ([`themata_core::fitted`]). The output directory gets
//! documents, passages, duplicates, vocabulary (the model's), tfidf, assignments, clusters
//! (the model's, sized by the new passages) and explanations tables, and a report
//! (`report/summary.json`, `report/summary.md`).
//!
//! Everything that can be wrong with the model or the request — no model, a model of another
//! version, a pipeline whose analyzer differs — is found before any file is written.

use crate::engine::{DirLock, Event, Observer, MANIFEST};
use crate::error::{Error, Result};
use crate::files::write_text;
use crate::formats;
use crate::pipeline_file::Pipeline;
use crate::tables::{self, Meta, ModelFile};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use themata_core::analyze::{Analyzer, AnalyzerParams};
use themata_core::cluster::explain_space;
use themata_core::fitted::{Applied, Model};
use themata_core::model::{AssignmentStatus, Corpus, Named, PassageStatus};
use themata_core::{tfidf, Task};

/// What to apply, to what, and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The run directory holding the model.
    pub run_dir: PathBuf,
    /// A directory of new documents (the model's patterns apply under it), or one file.
    pub input: PathBuf,
    /// Where the tables and the report go.
    pub output: PathBuf,
    /// A pipeline file whose input and ingest settings read the new documents; its
    /// analyzer and weighting settings must be the model's.
    pub pipeline: Option<Pipeline>,
    /// Invalid UTF-8 is an error (as `run --strict`).
    pub strict: bool,
    /// Wait for another run writing the output directory (or fail at once).
    pub wait: bool,
}

/// A fitted model read back from a run directory.
pub struct Loaded {
    /// `model.json`.
    pub file: ModelFile,
    /// The analyzer it was fitted with.
    pub analyzer: AnalyzerParams,
    /// The model itself.
    pub model: Model,
}

/// Read and check the model of `run_dir`. Every problem is a configuration error (exit 2)
/// naming the file.
pub fn load_model(run_dir: &Path) -> Result<Loaded> {
    let model_path = run_dir.join(tables::MODEL);
    if !run_dir.is_dir() {
        return Err(Error::config(run_dir, "run directory not found"));
    }
    let Some(tables::Fitted {
        file,
        vocabulary,
        centroids,
        lsa,
    }) = tables::read_fitted(run_dir)?
    else {
        return Err(Error::config(
            &model_path,
            "no fitted model here: not a run directory, or its run is older than fitted \
             models (`themata run` writes one)",
        ));
    };
    let floors = file.min_similarity.zip(file.min_margin);
    let model = Model {
        vocabulary,
        tfidf: file.tfidf.clone(),
        centroids,
        lsa,
        floors,
        themes: file.clusters.iter().map(|c| c.theme.clone()).collect(),
        explain_terms: file.explain_terms,
    };
    model.check().map_err(|m| {
        Error::config(
            &model_path,
            format!("the model's tables do not fit together: {m}"),
        )
    })?;
    let mut analyzer = file.analyzer.clone();
    analyzer.extra_stop_words = file.extra_stop_words.clone();
    Ok(Loaded {
        file,
        analyzer,
        model,
    })
}

/// The settings of `a` that decide what a text's terms are, as the model records them (the
/// stop-word file by name, with its words).
fn analyzer_settings(a: &AnalyzerParams) -> BTreeMap<String, serde_json::Value> {
    let mut a = a.clone();
    a.stop_words_file = a
        .stop_words_file
        .as_deref()
        .and_then(Path::file_name)
        .map(PathBuf::from);
    let mut out: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(serde_json::to_value(&a).unwrap_or_default()).unwrap_or_default();
    out.insert(
        "stop_words_file words".into(),
        serde_json::to_value(&a.extra_stop_words).unwrap_or_default(),
    );
    out
}

/// `section.key: model → pipeline` for every setting that differs.
fn differences(
    section: &str,
    model: &BTreeMap<String, serde_json::Value>,
    pipeline: &BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = model.keys().chain(pipeline.keys()).collect();
    keys.into_iter()
        .filter(|k| model.get(*k) != pipeline.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| {
                let s = v.map_or("(none)".to_string(), |v| v.to_string());
                if s.chars().count() > 40 {
                    format!("{}…", s.chars().take(40).collect::<String>())
                } else {
                    s
                }
            };
            format!(
                "{section}.{k}: {} in the model, {} in the pipeline",
                show(model.get(k)),
                show(pipeline.get(k))
            )
        })
        .collect()
}

/// A pipeline file may say how to read new documents, not how to analyse or weigh them:
/// those are the model's.
fn check_pipeline(p: &Pipeline, m: &Loaded) -> Result<()> {
    let mut diff = differences(
        "analyzer",
        &analyzer_settings(&m.analyzer),
        &analyzer_settings(&p.analyzer),
    );
    let as_map = |t: &tfidf::TfidfParams| -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(serde_json::to_value(t).unwrap_or_default()).unwrap_or_default()
    };
    diff.extend(differences(
        "tfidf",
        &as_map(&m.file.tfidf),
        &as_map(&p.tfidf),
    ));
    if diff.is_empty() {
        return Ok(());
    }
    Err(Error::config(
        &p.file,
        format!(
            "its analyzer or weighting settings differ from the model's ({}): a model applies \
             with the settings it was fitted with; remove them from the pipeline file, or \
             refit with `themata run`",
            diff.join("; ")
        ),
    ))
}

/// One theme among the new passages.
#[derive(Debug, Clone, Serialize)]
pub struct ThemeCount {
    /// The cluster.
    pub cluster: u32,
    /// Its theme.
    pub theme: String,
    /// Kept passages assigned to it.
    pub passages: usize,
    /// Their share of the kept passages.
    pub share: f64,
}

/// A new document and the theme most of its passages got.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTheme {
    /// The document (`file` or `file#id`).
    pub document: String,
    /// Its kept passages.
    pub passages: usize,
    /// The theme of most of them (ties: the lower cluster), or `unassigned`.
    pub theme: String,
    /// The share of its kept passages with that theme.
    pub share: f64,
}

/// A new passage that fits no theme.
#[derive(Debug, Clone, Serialize)]
pub struct Unplaced {
    /// The passage.
    pub passage_id: u32,
    /// Its document.
    pub document: String,
    /// Why (`no_terms`, `low_similarity`, `low_margin`).
    pub status: String,
    /// Its best similarity.
    pub similarity: f64,
    /// The start of its text.
    pub text: String,
}

/// The model an application used.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The run directory, as given.
    pub run_dir: String,
    /// The pipeline that fitted it.
    pub pipeline: String,
    /// `guided` or `discover`.
    pub mode: String,
    /// The space k-means ran in.
    pub space: String,
    /// Kept passages it was fitted on.
    pub passages: usize,
    /// Its kept terms.
    pub kept_terms: usize,
}

/// What the new documents' terms were to the model.
#[derive(Debug, Clone, Serialize)]
pub struct TermFigures {
    /// Occurrences of all terms of the kept passages.
    pub occurrences: u64,
    /// Of which of terms the model never saw (left out of the weights).
    pub unseen_occurrences: u64,
    /// `unseen_occurrences / occurrences`.
    pub unseen_share: f64,
    /// Distinct unseen terms.
    pub unseen_terms: usize,
    /// The most frequent unseen terms and their occurrences.
    pub top_unseen: Vec<(String, u64)>,
    /// Occurrences of terms the model saw but pruned (also left out).
    pub pruned_occurrences: u64,
}

/// `report/summary.json` of `themata apply`.
#[derive(Debug, Clone, Serialize)]
pub struct ApplySummary {
    /// The model.
    pub model: ModelInfo,
    /// Documents read.
    pub documents: usize,
    /// Passages found.
    pub passages: usize,
    /// Of which kept (placed).
    pub kept: usize,
    /// Kept passages per theme, in cluster order.
    pub themes: Vec<ThemeCount>,
    /// Kept passages that fit no theme, by reason.
    pub unassigned: BTreeMap<String, usize>,
    /// The terms.
    pub terms: TermFigures,
    /// Each document's theme.
    pub documents_by_theme: Vec<DocumentTheme>,
    /// Passages that fit no theme (the first 50, in passage order).
    pub unplaced: Vec<Unplaced>,
    /// Warnings met (input files).
    pub warnings: Vec<String>,
}

/// Apply the model of `req.run_dir` to the documents of `req.input`; write the tables and
/// the report into `req.output`.
pub fn apply(req: &Request, observer: &dyn Observer) -> Result<ApplySummary> {
    let m = load_model(&req.run_dir)?;
    if let Some(p) = &req.pipeline {
        check_pipeline(p, &m)?;
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(&req.output, &req.run_dir) {
        return Err(Error::config(
            &req.output,
            "is the model's run directory: give apply an output directory of its own",
        ));
    }
    if req.output.join(MANIFEST).exists() {
        return Err(Error::config(
            &req.output,
            "holds a run (manifest.json): give apply an output directory of its own",
        ));
    }
    let (mut input, ingest) = match &req.pipeline {
        Some(p) => (p.input.clone(), p.ingest.clone()),
        None => {
            let mut input = m.file.input.clone();
            input.patterns = m.file.patterns.clone();
            (input, m.file.ingest.clone())
        }
    };
    input.strict = req.strict;
    if req.input.is_file() {
        input.root = req
            .input
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        input.patterns = vec![globset::escape(
            &req.input.file_name().unwrap_or_default().to_string_lossy(),
        )];
    } else {
        input.root = req.input.clone();
    }
    let analyzer = Analyzer::new(&m.analyzer)
        .map_err(|e| Error::config(req.run_dir.join(tables::MODEL), e.to_string()))?;
    let (files, walk_warnings) = formats::discover(&input.root, &input.patterns)?;

    // read and place everything before the first file is written
    observer.start(Task::ReadFiles, Some(files.len() as u64));
    let corpus = formats::read_corpus(&files, walk_warnings, &ingest, &input, observer);
    observer.finish(Task::ReadFiles);
    let corpus = corpus?;
    let kept = tfidf::kept_passages(&corpus).map_err(themata_core::Error::from)?;
    let texts: Vec<&str> = kept.iter().map(|p| p.text.as_str()).collect();
    let ids: Vec<u32> = kept.iter().map(|p| p.passage_id).collect();
    observer.start(Task::Analyze, Some(texts.len() as u64));
    let applied = m.model.apply(&analyzer, &ids, &texts, observer);
    observer.finish(Task::Analyze);
    let summary = summarize(req, &m, &corpus, &applied);
    // the model's clusters, sized by the new passages
    let mut clusters = tables::read_clustering(&req.run_dir)?.clusters;
    for c in &mut clusters {
        c.size = summary
            .themes
            .iter()
            .find(|t| t.cluster == c.cluster)
            .map_or(0, |t| t.passages as u32);
    }

    let observer_ref = observer;
    let _lock = DirLock::acquire(&req.output, req.wait, |holder| {
        observer_ref.event(Event::Waiting {
            dir: &req.output,
            holder,
        })
    })?;
    for w in &corpus.warnings {
        observer.event(Event::Warning(w));
    }
    let out = &req.output;
    let meta = Meta {
        pipeline: &m.file.pipeline,
    };
    tables::write_corpus(out, &corpus, meta)?;
    tables::write_tfidf(out, &m.model.vocabulary, &applied.tfidf, meta)?;
    tables::write_assignments(out, &applied.assignments, meta)?;
    tables::write_clusters(out, &clusters, meta)?;
    tables::write_explanations(
        out,
        &applied.explanations,
        &clusters,
        &m.model.vocabulary,
        explain_space(m.model.lsa.as_ref().map(|b| &b.components)),
        meta,
    )?;
    let report = out.join("report");
    std::fs::create_dir_all(&report).map_err(|e| Error::io(&report, e))?;
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    write_text(&report.join("summary.json"), &json)?;
    write_text(&report.join("summary.md"), &to_markdown(&summary))?;
    Ok(summary)
}

fn summarize(req: &Request, m: &Loaded, corpus: &Corpus, a: &Applied) -> ApplySummary {
    let kept = a.assignments.len();
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let mut per_cluster = vec![0usize; m.file.clusters.len()];
    for c in a.assignments.iter().filter_map(|x| x.cluster) {
        if let Some(n) = per_cluster.get_mut(c as usize) {
            *n += 1;
        }
    }
    let themes = m
        .file
        .clusters
        .iter()
        .map(|c| {
            let n = per_cluster.get(c.cluster as usize).copied().unwrap_or(0);
            ThemeCount {
                cluster: c.cluster,
                theme: c.theme.clone(),
                passages: n,
                share: share(n, kept),
            }
        })
        .collect();
    let mut unassigned = BTreeMap::new();
    for x in &a.assignments {
        if x.status != AssignmentStatus::Assigned {
            *unassigned.entry(x.status.name().to_string()).or_insert(0) += 1;
        }
    }
    let doc_of: BTreeMap<u32, u32> = corpus
        .passages
        .iter()
        .map(|p| (p.passage_id, p.doc_id))
        .collect();
    let text_of: BTreeMap<u32, &str> = corpus
        .passages
        .iter()
        .filter(|p| p.status == PassageStatus::Kept)
        .map(|p| (p.passage_id, p.text.as_str()))
        .collect();
    let path = |doc: u32| {
        corpus
            .documents
            .get(doc as usize)
            .map_or(String::new(), |d| d.path.clone())
    };
    // per document: kept passages per cluster (None: unassigned)
    let mut per_doc: BTreeMap<u32, BTreeMap<Option<u32>, usize>> = BTreeMap::new();
    for x in &a.assignments {
        let d = doc_of.get(&x.passage_id).copied().unwrap_or(0);
        *per_doc.entry(d).or_default().entry(x.cluster).or_insert(0) += 1;
    }
    let documents_by_theme = per_doc
        .into_iter()
        .map(|(d, counts)| {
            let total: usize = counts.values().sum();
            // most passages; ties to an assigned cluster, then the lower id
            let (c, n) = counts
                .iter()
                .max_by(|a, b| {
                    a.1.cmp(b.1)
                        .then_with(|| a.0.is_some().cmp(&b.0.is_some()))
                        .then_with(|| b.0.cmp(a.0))
                })
                .map(|(c, n)| (*c, *n))
                .unwrap_or((None, 0));
            DocumentTheme {
                document: path(d),
                passages: total,
                theme: c.map_or_else(
                    || themata_core::model::UNASSIGNED.to_string(),
                    |c| m.model.themes[c as usize].clone(),
                ),
                share: share(n, total),
            }
        })
        .collect();
    let unplaced = a
        .assignments
        .iter()
        .filter(|x| x.status != AssignmentStatus::Assigned)
        .take(50)
        .map(|x| Unplaced {
            passage_id: x.passage_id,
            document: path(doc_of.get(&x.passage_id).copied().unwrap_or(0)),
            status: x.status.name().to_string(),
            similarity: (x.similarity * 1e6).round() / 1e6,
            text: text_of
                .get(&x.passage_id)
                .map_or(String::new(), |t| t.chars().take(160).collect()),
        })
        .collect();
    ApplySummary {
        model: ModelInfo {
            run_dir: req.run_dir.display().to_string(),
            pipeline: m.file.pipeline.clone(),
            mode: m.file.mode.name().to_string(),
            space: m.file.space.clone(),
            passages: m.file.passages,
            kept_terms: m.file.kept_terms,
        },
        documents: corpus.documents.len(),
        passages: corpus.passages.len(),
        kept,
        themes,
        unassigned,
        terms: TermFigures {
            occurrences: a.occurrences,
            unseen_occurrences: a.unseen.occurrences,
            unseen_share: share(a.unseen.occurrences as usize, a.occurrences as usize),
            unseen_terms: a.unseen.distinct,
            top_unseen: a.unseen.top.clone(),
            pruned_occurrences: a.pruned_occurrences,
        },
        documents_by_theme,
        unplaced,
        warnings: corpus.warnings.clone(),
    }
}

/// `report/summary.md` of `themata apply`.
pub fn to_markdown(s: &ApplySummary) -> String {
    let mut o = String::new();
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    o.push_str(&format!(
        "# themata apply: {} documents placed by the model of `{}`\n\n",
        s.documents, s.model.run_dir
    ));
    o.push_str(&format!(
        "Model: pipeline `{}`, {} mode, {} space, fitted on {} passages ({} kept terms). \
         Nothing was refitted.\n\n",
        s.model.pipeline, s.model.mode, s.model.space, s.model.passages, s.model.kept_terms
    ));
    o.push_str(&format!(
        "{} documents, {} passages, {} kept and placed.\n\n",
        s.documents, s.passages, s.kept
    ));
    o.push_str("## Themes of the new documents\n\n| theme | passages | share |\n|---|---:|---:|\n");
    for t in &s.themes {
        o.push_str(&format!(
            "| {} | {} | {} |\n",
            t.theme,
            t.passages,
            pct(t.share)
        ));
    }
    let unassigned: usize = s.unassigned.values().sum();
    o.push_str(&format!(
        "| unassigned | {unassigned} | {} |\n\n",
        pct(if s.kept == 0 {
            0.0
        } else {
            unassigned as f64 / s.kept as f64
        })
    ));
    let t = &s.terms;
    o.push_str(&format!(
        "## Terms the model never saw\n\n{} of {} term occurrences ({}) are of {} terms the \
         model never saw; they are counted, not weighed. {} occurrences are of terms the model \
         pruned.\n\n",
        t.unseen_occurrences,
        t.occurrences,
        pct(t.unseen_share),
        t.unseen_terms,
        t.pruned_occurrences
    ));
    if !t.top_unseen.is_empty() {
        let top: Vec<String> = t
            .top_unseen
            .iter()
            .map(|(w, n)| format!("{w} ({n})"))
            .collect();
        o.push_str(&format!("Most frequent: {}.\n\n", top.join(", ")));
    }
    o.push_str("## Documents\n\n| document | passages | theme | share |\n|---|---:|---|---:|\n");
    for d in &s.documents_by_theme {
        o.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            d.document.replace('|', "\\|"),
            d.passages,
            d.theme,
            pct(d.share)
        ));
    }
    o.push_str("\n## Passages that fit no theme\n\n");
    if s.unplaced.is_empty() {
        o.push_str("None.\n");
    } else {
        o.push_str("| passage | document | why | similarity | text |\n|---:|---|---|---:|---|\n");
        for u in &s.unplaced {
            o.push_str(&format!(
                "| {} | {} | {} | {:.3} | {} |\n",
                u.passage_id,
                u.document.replace('|', "\\|"),
                u.status,
                u.similarity,
                u.text.replace('|', "\\|")
            ));
        }
    }
    if !s.warnings.is_empty() {
        o.push_str(&format!("\n## Warnings ({})\n\n", s.warnings.len()));
        for w in &s.warnings {
            o.push_str(&format!("- {w}\n"));
        }
    }
    o
}
