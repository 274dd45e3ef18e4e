//! The fitted model, beside the cluster stage's other tables: `centroids.parquet`,
//! `lsa_components.parquet` and `model.json` (the settings new documents are read, analysed
//! and weighed with, the space, the clusters and their floors). With `vocabulary.parquet`
//! that is everything `themata apply` needs; no path in them is absolute, so a run
//! directory applies on another machine.

use super::{frame, read, write, Meta, Reader, CENTROIDS, LSA_COMPONENTS, MODEL};
use crate::error::{Error, Result};
use crate::files::write_text;
use crate::formats::InputParams;
use ndarray::Array2;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use themata_core::analyze::AnalyzerParams;
use themata_core::cluster::Mode;
use themata_core::ingest::IngestParams;
use themata_core::model::{Clustering, LsaBasis, Vocabulary};
use themata_core::stable::{passage_key, Themes};
use themata_core::tfidf::TfidfParams;

/// The layout of `model.json`; a model of another layout is refused by name.
pub const MODEL_FORMAT: u32 = 1;

/// One row of `centroids.parquet`.
struct CentroidValue<'a> {
    cluster: u32,
    theme: &'a str,
    dimension: u32,
    term_id: Option<u32>,
    value: f64,
}

/// Write `centroids.parquet` (in the TF-IDF space only the non-zero values, with their
/// term) and `lsa_components.parquet` (every value; no rows when k-means ran on TF-IDF rows).
pub fn write_model_tables(
    dir: &Path,
    c: &Clustering,
    vocab: &Vocabulary,
    meta: Meta,
) -> Result<()> {
    // the term of each kept column
    let terms: Vec<u32> = (0..vocab.terms.len() as u32)
        .filter(|&t| vocab.terms[t as usize].kept())
        .collect();
    let mut rows = Vec::new();
    for (k, centroid) in c.centroids.rows().into_iter().enumerate() {
        let theme = c.clusters.get(k).map_or("", |x| x.theme.as_str());
        for (d, &value) in centroid.iter().enumerate() {
            let term_id = c.lsa.is_none().then(|| terms[d]);
            if term_id.is_some() && value == 0.0 {
                continue;
            }
            rows.push(CentroidValue {
                cluster: k as u32,
                theme,
                dimension: d as u32,
                term_id,
                value,
            });
        }
    }
    let df = frame!(CENTROIDS, &rows, {
        "cluster" => |x: &CentroidValue| x.cluster,
        "theme" => |x: &CentroidValue| x.theme,
        "dimension" => |x: &CentroidValue| x.dimension,
        "term_id" => |x: &CentroidValue| x.term_id,
        "value" => |x: &CentroidValue| x.value,
    })?;
    write(dir, CENTROIDS, df, meta)?;
    // the basis row by row (term by term), each row's dimensions in order: built as columns
    // (millions of values on a large vocabulary)
    let (mut term_id, mut dimension, mut value) = (vec![], vec![], vec![]);
    if let Some(b) = &c.lsa {
        let dims = b.components.ncols();
        term_id = (0..b.components.nrows())
            .flat_map(|col| std::iter::repeat_n(terms[col], dims))
            .collect();
        dimension = (0..b.components.nrows())
            .flat_map(|_| 0..dims as u32)
            .collect();
        value = b.components.iter().copied().collect();
    }
    let df = DataFrame::new(
        value.len(),
        vec![
            super::col("term_id", term_id),
            super::col("dimension", dimension),
            super::col("value", value),
        ],
    )
    .map_err(|e| super::table_err(Path::new(LSA_COMPONENTS), e))?;
    write(dir, LSA_COMPONENTS, df, meta)
}

/// Read the centroids (`k × width`) and, for an LSA space of `dims` dimensions, its basis
/// back; `singular_values` come from `model.json`.
pub fn read_model_tables(
    dir: &Path,
    vocab: &Vocabulary,
    k: usize,
    lsa_dims: Option<usize>,
    singular_values: &[f64],
) -> Result<(Array2<f64>, Option<LsaBasis>)> {
    let (cols, n_cols) = vocab.columns();
    let width = lsa_dims.unwrap_or(n_cols);
    let df = read(dir, CENTROIDS)?;
    let r = Reader::new(&df, dir, CENTROIDS);
    let (ks, dims, values) = (r.u32("cluster")?, r.u32("dimension")?, r.f64("value")?);
    let mut centroids = Array2::<f64>::zeros((k, width));
    for i in 0..ks.len() {
        let (c, d) = (ks[i] as usize, dims[i] as usize);
        if c >= k || d >= width {
            return Err(r.err(
                "dimension",
                format!("cluster {c}, dimension {d} is outside the model's {k} × {width}"),
            ));
        }
        centroids[[c, d]] = values[i];
    }
    let Some(dims) = lsa_dims else {
        return Ok((centroids, None));
    };
    let df = read(dir, LSA_COMPONENTS)?;
    let r = Reader::new(&df, dir, LSA_COMPONENTS);
    let (tids, ds, values) = (r.u32("term_id")?, r.u32("dimension")?, r.f64("value")?);
    let mut components = Array2::<f64>::zeros((n_cols, dims));
    if tids.len() != n_cols * dims {
        return Err(r.err(
            "value",
            format!(
                "{} values for {n_cols} kept terms × {dims} dimensions",
                tids.len()
            ),
        ));
    }
    for i in 0..tids.len() {
        let col = cols.get(tids[i] as usize).copied().unwrap_or(u32::MAX);
        let d = ds[i] as usize;
        if col == u32::MAX || d >= dims {
            return Err(r.err(
                "term_id",
                format!(
                    "term {} / dimension {d} is not a kept term of the vocabulary",
                    tids[i]
                ),
            ));
        }
        components[[col as usize, d]] = values[i];
    }
    Ok((
        centroids,
        Some(LsaBasis {
            components,
            singular_values: singular_values.to_vec(),
        }),
    ))
}

/// A run's fitted model read back: `model.json`, the vocabulary it goes with, the centroids
/// and the LSA basis.
pub struct Fitted {
    /// `model.json`.
    pub file: ModelFile,
    /// `vocabulary.parquet` (`n_rows`: the passages fitted on).
    pub vocabulary: Vocabulary,
    /// One row per cluster, in the space k-means ran in.
    pub centroids: Array2<f64>,
    /// The LSA basis, when k-means ran on the LSA embedding.
    pub lsa: Option<LsaBasis>,
}

/// Read the fitted model of `dir`: `None` when it has no `model.json`. A model of another
/// version, or a vocabulary changed since the model was fitted, is a configuration error
/// naming the file.
pub fn read_fitted(dir: &Path) -> Result<Option<Fitted>> {
    let Some(file) = read_model_file(dir)? else {
        return Ok(None);
    };
    let vocab_path = dir.join(super::VOCABULARY);
    let hash = crate::files::file_hash(&vocab_path)
        .map_err(|e| Error::config(&vocab_path, e.to_string()))?;
    if hash != file.vocabulary_hash {
        return Err(Error::config(
            &vocab_path,
            "changed since the model was fitted (a later `themata tfidf`?): rerun `themata \
             run` to refit the model",
        ));
    }
    let mut vocabulary = super::read_vocabulary(dir)?;
    vocabulary.n_rows = file.passages;
    let (centroids, lsa) = read_model_tables(
        dir,
        &vocabulary,
        file.clusters.len(),
        file.lsa_dims,
        &file.singular_values,
    )?;
    Ok(Some(Fitted {
        file,
        vocabulary,
        centroids,
        lsa,
    }))
}

/// The themes of the run in `dir` as a later run compares its clusters with them (see
/// `themata_core::stable`): `None` when the directory holds no model. A model that cannot be
/// read back ([`read_fitted`]) is an error naming the file.
pub fn read_previous_themes(dir: &Path) -> Result<Option<Themes>> {
    Ok(read_previous(dir)?.map(|(t, _)| t))
}

/// [`read_previous_themes`], with the run's LSA basis when it had one.
pub fn read_previous(dir: &Path) -> Result<Option<(Themes, Option<LsaBasis>)>> {
    let Some(Fitted {
        file,
        vocabulary: vocab,
        centroids,
        lsa,
    }) = read_fitted(dir)?
    else {
        return Ok(None);
    };
    // members: (document path, ordinal) of each assigned passage
    let docs = super::read_columns(dir, super::DOCUMENTS, &["doc_id", "path"])?;
    let r = Reader::new(&docs, dir, super::DOCUMENTS);
    let paths: std::collections::HashMap<u32, String> =
        r.u32("doc_id")?.into_iter().zip(r.str("path")?).collect();
    let ps = super::read_columns(dir, super::PASSAGES, &["passage_id", "doc_id", "ordinal"])?;
    let r = Reader::new(&ps, dir, super::PASSAGES);
    let key: std::collections::HashMap<u32, u64> = r
        .u32("passage_id")?
        .into_iter()
        .zip(r.u32("doc_id")?.into_iter().zip(r.u32("ordinal")?))
        .map(|(p, (d, o))| {
            let path = paths.get(&d).map_or("", String::as_str);
            (p, passage_key(path, o))
        })
        .collect();
    let members = super::read_assignments(dir)?
        .into_iter()
        .filter_map(|a| Some((*key.get(&a.passage_id)?, a.cluster?)))
        .collect();
    let themes = Themes::new(
        &vocab,
        &centroids,
        lsa.as_ref(),
        file.clusters.iter().map(|c| c.theme.clone()).collect(),
        members,
    );
    Ok(Some((themes, lsa)))
}

/// A cluster of the model: its id and theme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCluster {
    /// The cluster id.
    pub cluster: u32,
    /// Its theme.
    pub theme: String,
}

/// `model.json`: what a run's model reads, analyses, weighs and places new documents with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// [`MODEL_FORMAT`].
    pub format: u32,
    /// The themata version that fitted it.
    pub themata_version: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// How input files were read (patterns relative to an input root; no root).
    pub input: InputParams,
    /// Their patterns.
    pub patterns: Vec<String>,
    /// How documents became passages.
    pub ingest: IngestParams,
    /// The analyzer; `stop_words_file` is only the file's name, its words are in
    /// `extra_stop_words`.
    pub analyzer: AnalyzerParams,
    /// The words of the stop-word file, when there was one.
    pub extra_stop_words: Vec<String>,
    /// Weighting and pruning.
    pub tfidf: TfidfParams,
    /// `guided` or `discover`.
    pub mode: Mode,
    /// The space k-means ran in, e.g. `lsa (100 dimensions)`.
    pub space: String,
    /// LSA dimensions when k-means ran on the LSA embedding.
    pub lsa_dims: Option<usize>,
    /// The LSA's singular values, largest first (empty without LSA).
    pub singular_values: Vec<f64>,
    /// Guided mode's floors (a passage below either is `unassigned`); none in discover mode.
    pub min_similarity: Option<f64>,
    /// See `min_similarity`.
    pub min_margin: Option<f64>,
    /// `cluster.explain_terms`: top contributing terms kept per passage and role in
    /// `explanations.parquet` (apply writes as many).
    #[serde(default = "default_explain_terms")]
    pub explain_terms: usize,
    /// The clusters, in id order.
    pub clusters: Vec<ModelCluster>,
    /// Kept passages the model was fitted on.
    pub passages: usize,
    /// Terms of the vocabulary, and of those kept.
    pub terms: usize,
    /// See `terms`.
    pub kept_terms: usize,
    /// SHA-256 (first 16 bytes, hex) of the `vocabulary.parquet` fitted with: a later
    /// `themata tfidf` alone makes
    /// the model stale, and `apply` says so.
    pub vocabulary_hash: String,
}

fn default_explain_terms() -> usize {
    themata_core::cluster::ClusterParams::default().explain_terms
}

/// Write `model.json`.
pub fn write_model_file(dir: &Path, m: &ModelFile) -> Result<()> {
    let text = serde_json::to_string_pretty(m).map_err(|e| Error::Table {
        path: dir.join(MODEL),
        message: e.to_string(),
    })?;
    write_text(&dir.join(MODEL), &(text + "\n"))
}

/// Read `model.json`; `None` when the directory has none.
pub fn read_model_file(dir: &Path) -> Result<Option<ModelFile>> {
    let path = dir.join(MODEL);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    // the format and version first, so that a model of another layout is named as such
    let head: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        file: path.clone(),
        message: format!("not a themata model: {e}"),
    })?;
    let format = head["format"].as_u64().unwrap_or(0);
    let version = head["themata_version"].as_str().unwrap_or("?");
    if format != MODEL_FORMAT as u64 || version != crate::VERSION {
        return Err(Error::Config {
            file: path,
            message: format!(
                "a model of themata {version} (model format {format}); this is themata {} \
                 (format {MODEL_FORMAT}): rerun `themata run` with this version to refit it",
                crate::VERSION
            ),
        });
    }
    serde_json::from_value(head)
        .map(Some)
        .map_err(|e| Error::Config {
            file: path,
            message: format!("not a themata model: {e}"),
        })
}
