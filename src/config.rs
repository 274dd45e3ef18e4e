//! The pipeline file: TOML → validated [`Pipeline`].
//!
//! Paths in the file are relative to the file's own directory. Unknown keys and bad
//! values are rejected with the file, line and key; `--set key=value` overrides are
//! applied on top of the file and named in errors by their key.

use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The pipeline file as written (all sections optional except `name` and `output`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    name: String,
    output: PathBuf,
    #[serde(default)]
    input: InputSection,
    #[serde(default)]
    ingest: IngestSettings,
    #[serde(default)]
    analyzer: AnalyzerSettings,
    #[serde(default)]
    tfidf: TfidfSettings,
    #[serde(default)]
    cluster: ClusterSettings,
    #[serde(default)]
    themes: IndexMap<String, Vec<String>>,
    #[serde(default)]
    report: ReportSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    #[serde(default = "default_root")]
    root: PathBuf,
    #[serde(default = "default_patterns")]
    patterns: Vec<String>,
    #[serde(default = "default_format")]
    format: InputFormat,
    #[serde(default = "default_text_column")]
    text_column: String,
    #[serde(default)]
    id_column: Option<String>,
    #[serde(default)]
    title_column: Option<String>,
    #[serde(default)]
    date_column: Option<String>,
    #[serde(default)]
    author_column: Option<String>,
    #[serde(default)]
    source_column: Option<String>,
}

impl Default for InputSection {
    fn default() -> Self {
        InputSection {
            root: default_root(),
            patterns: default_patterns(),
            format: default_format(),
            text_column: default_text_column(),
            id_column: None,
            title_column: None,
            date_column: None,
            author_column: None,
            source_column: None,
        }
    }
}

fn default_format() -> InputFormat {
    InputFormat::Auto
}
fn default_text_column() -> String {
    "text".to_string()
}

/// How input files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// By extension: .jsonl/.ndjson, .csv, .parquet, .md/.markdown, .html/.htm; anything
    /// else is text.
    Auto,
    /// One document per file.
    Text,
    /// One document per file, Markdown: markup stripped, front matter read as metadata.
    Markdown,
    /// One document per file, HTML: the main text, `<meta>` tags read as metadata.
    Html,
    /// One document per JSON object per line.
    Jsonl,
    /// One document per row (with a header row).
    Csv,
    /// One document per row.
    Parquet,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Text => "text",
            InputFormat::Markdown => "markdown",
            InputFormat::Html => "html",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Csv => "csv",
            InputFormat::Parquet => "parquet",
        }
    }

    /// One document per file (text, Markdown, HTML), as opposed to files of records.
    pub fn is_document(self) -> bool {
        matches!(
            self,
            InputFormat::Text | InputFormat::Markdown | InputFormat::Html
        )
    }
}

/// Format and columns of the input files.
#[derive(Debug, Clone, Serialize)]
pub struct InputSettings {
    pub format: InputFormat,
    pub text_column: String,
    pub id_column: Option<String>,
    pub title_column: Option<String>,
    /// Record files: the column holding each document's date (read into `YYYY-MM-DD`).
    pub date_column: Option<String>,
    pub author_column: Option<String>,
    pub source_column: Option<String>,
    /// `--strict`: invalid UTF-8 is an error instead of a lossy decode with a warning. Not a
    /// setting of the pipeline file; a strict run adds `strict` to the ingest stage's
    /// fingerprint, so that it never takes tables of a lenient run as fresh.
    #[serde(skip)]
    pub strict: bool,
}

impl InputSettings {
    pub fn columns(&self) -> crate::records::Columns {
        crate::records::Columns {
            text: self.text_column.clone(),
            id: self.id_column.clone(),
            title: self.title_column.clone(),
            date: self.date_column.clone(),
            author: self.author_column.clone(),
            source: self.source_column.clone(),
        }
    }
}

impl Default for InputSettings {
    fn default() -> Self {
        InputSettings {
            format: InputFormat::Auto,
            text_column: default_text_column(),
            id_column: None,
            title_column: None,
            date_column: None,
            author_column: None,
            source_column: None,
            strict: false,
        }
    }
}

fn default_root() -> PathBuf {
    PathBuf::from(".")
}
fn default_patterns() -> Vec<String> {
    vec!["**/*.txt".to_string()]
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportSection {
    dir: Option<PathBuf>,
    #[serde(default)]
    representatives: Option<usize>,
}

/// How documents are cut into passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Blank-line separated blocks; a single line break also ends a paragraph unless the
    /// next line continues a hard-wrapped sentence.
    Paragraph,
    /// Every non-empty line is a passage.
    Line,
    /// Unicode (UAX #29) sentences.
    Sentence,
    /// Windows of `window_size` words, consecutive windows sharing `window_overlap` words.
    Window,
    /// One passage per document.
    Document,
}

/// Unicode normalisation applied to document text at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    Nfc,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    #[serde(default = "default_split")]
    pub split: Split,
    #[serde(default = "default_normalization")]
    pub normalize: Normalization,
    /// Passages with fewer characters get status `short` and take no part in TF-IDF.
    #[serde(default)]
    pub min_passage_chars: usize,
    /// `split = "window"`: words per window.
    #[serde(default = "default_window_size")]
    pub window_size: usize,
    /// `split = "window"`: words shared by consecutive windows.
    #[serde(default = "default_window_overlap")]
    pub window_overlap: usize,
    /// Mark boilerplate passages (datelines, captions, bylines, related-article lists, ...).
    #[serde(default = "default_true")]
    pub boilerplate: bool,
    /// Mark exact and near-duplicate passages.
    #[serde(default = "default_true")]
    pub dedupe: bool,
    /// Jaccard similarity of word 3-gram shingles at which a later passage is a duplicate.
    #[serde(default = "default_near")]
    pub near_duplicate: f64,
    /// Share of a passage's shingles found in earlier passage(s) at which it is a duplicate.
    #[serde(default = "default_containment")]
    pub containment: f64,
}
// Edited renditions of one article share 70–95 % of their word 3-grams per paragraph;
// unrelated paragraphs of the same corpus share under 10 %.
fn default_window_size() -> usize {
    100
}
fn default_window_overlap() -> usize {
    20
}
fn default_near() -> f64 {
    0.7
}
fn default_containment() -> f64 {
    0.75
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            split: default_split(),
            normalize: default_normalization(),
            min_passage_chars: 0,
            window_size: default_window_size(),
            window_overlap: default_window_overlap(),
            boilerplate: true,
            dedupe: true,
            near_duplicate: default_near(),
            containment: default_containment(),
        }
    }
}
fn default_split() -> Split {
    Split::Paragraph
}
fn default_normalization() -> Normalization {
    Normalization::Nfc
}

/// Which stop list the analyzer starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopWords {
    /// The built-in list for the analyzer's language.
    Builtin,
    /// scikit-learn's ENGLISH_STOP_WORDS (318 words).
    Sklearn,
    /// No stop words (a `stop_words_file` may still add some).
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzerSettings {
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_stop_words")]
    pub stop_words: StopWords,
    /// Extra stop words, one per line (`#` starts a comment); relative to the pipeline file.
    #[serde(default)]
    pub stop_words_file: Option<PathBuf>,
    /// Tokens with fewer characters are dropped.
    #[serde(default = "default_one")]
    pub min_token_len: usize,
    /// Keep tokens without any letter (numbers like `2015`, `1,000`).
    #[serde(default = "default_true")]
    pub keep_numbers: bool,
    /// Apply the Snowball stemmer of the language.
    #[serde(default = "default_true")]
    pub stem: bool,
}

impl Default for AnalyzerSettings {
    fn default() -> Self {
        AnalyzerSettings {
            language: default_language(),
            stop_words: default_stop_words(),
            stop_words_file: None,
            min_token_len: 1,
            keep_numbers: true,
            stem: true,
        }
    }
}
fn default_language() -> String {
    "english".to_string()
}
fn default_stop_words() -> StopWords {
    StopWords::Builtin
}
fn default_one() -> usize {
    1
}
fn default_true() -> bool {
    true
}

/// A document-frequency bound: an integer is an absolute number of passages, a float in
/// [0, 1] a proportion of them (as in scikit-learn).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocFreq {
    Count(u64),
    Fraction(f64),
}

impl DocFreq {
    /// The bound as a number of documents, compared as a float (scikit-learn's rule).
    pub fn as_count(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(c) => c as f64,
            DocFreq::Fraction(f) => f * n_docs as f64,
        }
    }
}

/// Row normalisation of TF-IDF vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    L1,
    L2,
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TfidfSettings {
    #[serde(default = "default_min_df")]
    pub min_df: DocFreq,
    #[serde(default = "default_max_df")]
    pub max_df: DocFreq,
    #[serde(default)]
    pub max_features: Option<usize>,
    #[serde(default)]
    pub sublinear_tf: bool,
    #[serde(default = "default_true")]
    pub smooth_idf: bool,
    #[serde(default = "default_norm")]
    pub norm: Norm,
}

impl Default for TfidfSettings {
    fn default() -> Self {
        TfidfSettings {
            min_df: default_min_df(),
            max_df: default_max_df(),
            max_features: None,
            sublinear_tf: false,
            smooth_idf: true,
            norm: default_norm(),
        }
    }
}
fn default_min_df() -> DocFreq {
    DocFreq::Count(1)
}
fn default_max_df() -> DocFreq {
    DocFreq::Fraction(1.0)
}
fn default_norm() -> Norm {
    Norm::L2
}

/// How passages are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Centroids start from the themes' seed words; clusters keep the theme names.
    Guided,
    /// k-means++ from the seed; clusters are named by their top terms.
    Discover,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// Number of clusters: a number, or `"auto"` (discover mode: sweep `k_min..=k_max`). In
    /// guided mode it must be omitted or equal the number of themes.
    #[serde(default)]
    pub k: Option<K>,
    /// `k = "auto"`: the smallest k tried.
    #[serde(default = "default_k_min")]
    pub k_min: usize,
    /// `k = "auto"`: the largest k tried.
    #[serde(default = "default_k_max")]
    pub k_max: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// k-means++ restarts in discover mode (the best is kept).
    #[serde(default = "default_n_runs")]
    pub n_runs: usize,
    /// Terms listed per cluster and measure in `cluster_terms.parquet`.
    #[serde(default = "default_top_terms")]
    pub top_terms: usize,
    /// Dimension reduction before k-means.
    #[serde(default = "default_reduce")]
    pub reduce: Reduce,
    /// Dimensions of the LSA space.
    #[serde(default = "default_lsa_dims")]
    pub lsa_dims: usize,
    /// Guided: a passage whose best similarity is below this is `unassigned`.
    #[serde(default = "default_min_similarity")]
    pub min_similarity: f64,
    /// Guided: a passage whose best similarity exceeds the runner-up's by less than this is
    /// `unassigned`.
    #[serde(default = "default_min_margin")]
    pub min_margin: f64,
    /// Guided: share of each theme's centroid held by its seed vector at every k-means step
    /// (0 = plain k-means from the seeds, 1 = similarity to the seed words only).
    #[serde(default = "default_seed_weight")]
    pub seed_weight: f64,
    /// Guided: free clusters besides the themes, for off-theme material (named by their top
    /// terms).
    #[serde(default)]
    pub extra_clusters: usize,
    /// Guided: a theme with fewer live seed words than this gets a warning.
    #[serde(default = "default_min_live_seeds")]
    pub min_live_seeds: usize,
}

/// `cluster.k`: a number of clusters, or `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    Fixed(usize),
    Auto,
}

impl Serialize for K {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            K::Fixed(k) => s.serialize_u64(*k as u64),
            K::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for K {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<K, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        match Raw::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected a number of clusters or \"auto\""))?
        {
            Raw::N(n) if n >= 0 => Ok(K::Fixed(n as usize)),
            Raw::N(n) => Err(serde::de::Error::custom(format!(
                "a number of clusters cannot be negative, got {n}"
            ))),
            Raw::S(s) if s == "auto" => Ok(K::Auto),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "expected a number of clusters or \"auto\", got {s:?}"
            ))),
        }
    }
}

/// Whether k-means runs on the TF-IDF rows or on their LSA embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduce {
    /// LSA when passages × terms exceeds [`crate::cluster::AUTO_LSA_CELLS`].
    Auto,
    /// Always LSA.
    Lsa,
    /// Never: k-means on the TF-IDF rows themselves (dense, so small corpora only).
    None,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            mode: default_mode(),
            k: None,
            k_min: default_k_min(),
            k_max: default_k_max(),
            seed: default_seed(),
            max_iterations: default_max_iterations(),
            tolerance: default_tolerance(),
            n_runs: default_n_runs(),
            top_terms: default_top_terms(),
            reduce: default_reduce(),
            lsa_dims: default_lsa_dims(),
            min_similarity: default_min_similarity(),
            min_margin: default_min_margin(),
            seed_weight: default_seed_weight(),
            extra_clusters: 0,
            min_live_seeds: default_min_live_seeds(),
        }
    }
}
fn default_k_min() -> usize {
    2
}
fn default_k_max() -> usize {
    10
}
// Defaults chosen on the example corpus (README, "Guided themes"): every substantive passage
// there has similarity ≥ 0.17 and margin ≥ 0.08 to its theme, so the floor only catches
// passages that share next to no vocabulary with any theme, the margin only near ties.
fn default_min_similarity() -> f64 {
    0.1
}
fn default_min_margin() -> f64 {
    0.02
}
fn default_seed_weight() -> f64 {
    0.5
}
fn default_min_live_seeds() -> usize {
    2
}
fn default_reduce() -> Reduce {
    Reduce::Auto
}
fn default_lsa_dims() -> usize {
    100
}
fn default_mode() -> Mode {
    Mode::Guided
}
fn default_seed() -> u64 {
    42
}
fn default_max_iterations() -> u64 {
    300
}
fn default_tolerance() -> f64 {
    1e-4
}
fn default_n_runs() -> usize {
    10
}
fn default_top_terms() -> usize {
    10
}

/// A guided theme: its name and seed words (raw, before analysis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    pub name: String,
    pub seeds: Vec<String>,
}

/// A validated pipeline with absolute paths.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub name: String,
    pub file: PathBuf,
    pub input_root: PathBuf,
    pub patterns: Vec<String>,
    pub input: InputSettings,
    pub output: PathBuf,
    pub report_dir: PathBuf,
    pub representatives: usize,
    pub ingest: IngestSettings,
    pub analyzer: AnalyzerSettings,
    pub tfidf: TfidfSettings,
    pub cluster: ClusterSettings,
    pub themes: Vec<Theme>,
}

/// Command-line overrides of a pipeline file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces the input root (a directory, or one file).
    pub input: Option<PathBuf>,
    /// Replaces the output directory.
    pub output: Option<PathBuf>,
    /// `key=value` pairs; keys are dotted paths such as `cluster.k`.
    pub set: Vec<String>,
    /// `--strict`: invalid UTF-8 in an input file is an error.
    pub strict: bool,
}

impl Pipeline {
    /// Read, override and validate a pipeline file.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Pipeline> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::config(path, "pipeline file not found"),
            _ => Error::io(path, e),
        })?;
        Self::from_toml(&text, path, overrides)
    }

    /// Parse pipeline text; `path` locates relative paths and names the file in errors.
    pub fn from_toml(text: &str, path: &Path, overrides: &Overrides) -> Result<Pipeline> {
        let mut file: PipelineFile =
            toml::from_str(text).map_err(|e| Error::config(path, describe_toml_error(text, &e)))?;
        if !overrides.set.is_empty() {
            let mut table: toml::Table = toml::from_str(text)
                .map_err(|e| Error::config(path, describe_toml_error(text, &e)))?;
            for kv in &overrides.set {
                apply_override(&mut table, kv).map_err(|m| Error::config(path, m))?;
            }
            file = PipelineFile::deserialize(toml::Value::Table(table))
                .map_err(|e| Error::config(path, format!("after --set: {}", e.message())))?;
        }
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                lexical_join(&base, p)
            }
        };

        let (input_root, patterns) = match &overrides.input {
            Some(p) if p.is_file() => (
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
                vec![globset::escape(
                    &p.file_name().unwrap_or_default().to_string_lossy(),
                )],
            ),
            Some(p) => (p.clone(), file.input.patterns.clone()),
            None => (resolve(&file.input.root), file.input.patterns.clone()),
        };
        let output = match &overrides.output {
            Some(p) => p.clone(),
            None => resolve(&file.output),
        };
        let report_dir = match &file.report.dir {
            Some(d) => resolve(d),
            None => output.join("report"),
        };
        let mut analyzer = file.analyzer.clone();
        analyzer.stop_words_file = analyzer.stop_words_file.as_deref().map(resolve);
        let pipeline = Pipeline {
            name: file.name.clone(),
            file: path.to_path_buf(),
            input_root,
            patterns,
            input: InputSettings {
                format: file.input.format,
                text_column: file.input.text_column.clone(),
                id_column: file.input.id_column.clone(),
                title_column: file.input.title_column.clone(),
                date_column: file.input.date_column.clone(),
                author_column: file.input.author_column.clone(),
                source_column: file.input.source_column.clone(),
                strict: overrides.strict,
            },
            output,
            report_dir,
            representatives: file.report.representatives.unwrap_or(3),
            ingest: file.ingest.clone(),
            analyzer,
            tfidf: file.tfidf.clone(),
            cluster: file.cluster.clone(),
            themes: file
                .themes
                .iter()
                .map(|(name, seeds)| Theme {
                    name: name.clone(),
                    seeds: seeds.clone(),
                })
                .collect(),
        };
        pipeline.validate().map_err(|m| Error::config(path, m))?;
        Ok(pipeline)
    }

    /// Every rule a pipeline must satisfy; the message names the field.
    fn validate(&self) -> std::result::Result<(), String> {
        if self.name.trim().is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "name: {:?} must be non-empty and use only letters, digits, '-', '_' or '.'",
                self.name
            ));
        }
        if self.patterns.is_empty() {
            return Err("input.patterns: at least one glob pattern is needed".into());
        }
        for p in &self.patterns {
            globset::Glob::new(p).map_err(|e| format!("input.patterns: {p:?}: {e}"))?;
        }
        let i = &self.input;
        for (field, v) in [
            ("input.id_column", &i.id_column),
            ("input.title_column", &i.title_column),
            ("input.date_column", &i.date_column),
            ("input.author_column", &i.author_column),
            ("input.source_column", &i.source_column),
        ] {
            match v {
                Some(c) if c.trim().is_empty() => {
                    return Err(format!("{field}: must name a column (omit it for none)"))
                }
                Some(_) if i.format.is_document() => {
                    return Err(format!(
                        "{field}: input.format = \"{}\" reads one document per file and has no \
                         columns (columns apply to jsonl, csv and parquet)",
                        i.format.as_str()
                    ))
                }
                _ => {}
            }
        }
        if i.text_column.trim().is_empty() {
            return Err("input.text_column: must name a column".into());
        }
        crate::text::language(&self.analyzer.language)
            .map_err(|m| format!("analyzer.language: {m}"))?;
        for (field, v) in [
            ("ingest.near_duplicate", self.ingest.near_duplicate),
            ("ingest.containment", self.ingest.containment),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(format!("{field}: must lie in (0, 1], got {v}"));
            }
        }
        if self.ingest.window_size == 0 || self.ingest.window_overlap >= self.ingest.window_size {
            return Err(format!(
                "ingest.window_overlap: must be below ingest.window_size ({} ≥ {}), and the size at least 1",
                self.ingest.window_overlap, self.ingest.window_size
            ));
        }
        if self.analyzer.min_token_len == 0 {
            return Err("analyzer.min_token_len: must be at least 1".into());
        }
        check_doc_freq("tfidf.min_df", self.tfidf.min_df)?;
        check_doc_freq("tfidf.max_df", self.tfidf.max_df)?;
        if let (DocFreq::Count(lo), DocFreq::Count(hi)) = (self.tfidf.min_df, self.tfidf.max_df) {
            if hi < lo {
                return Err(format!("tfidf.max_df: {hi} is below tfidf.min_df ({lo})"));
            }
        }
        if self.tfidf.max_features == Some(0) {
            return Err("tfidf.max_features: must be at least 1 (omit it for no limit)".into());
        }
        let c = &self.cluster;
        if c.max_iterations == 0 {
            return Err("cluster.max_iterations: must be at least 1".into());
        }
        if c.n_runs == 0 {
            return Err("cluster.n_runs: must be at least 1".into());
        }
        if !(c.tolerance.is_finite() && c.tolerance > 0.0) {
            return Err("cluster.tolerance: must be a positive number".into());
        }
        if c.lsa_dims == 0 {
            return Err("cluster.lsa_dims: must be at least 1".into());
        }
        if c.top_terms == 0 {
            return Err("cluster.top_terms: must be at least 1".into());
        }
        for (field, v) in [
            ("cluster.min_similarity", c.min_similarity),
            ("cluster.min_margin", c.min_margin),
            ("cluster.seed_weight", c.seed_weight),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{field}: must lie in [0, 1], got {v}"));
            }
        }
        if c.min_live_seeds == 0 {
            return Err("cluster.min_live_seeds: must be at least 1".into());
        }
        match c.mode {
            Mode::Guided => {
                if self.themes.is_empty() {
                    return Err(
                        "themes: guided clustering needs at least one theme (or set cluster.mode = \"discover\")"
                            .into(),
                    );
                }
                for t in &self.themes {
                    if t.seeds.iter().all(|s| s.trim().is_empty()) {
                        return Err(format!("themes.{}: needs at least one seed word", t.name));
                    }
                    if t.name == crate::cluster::UNASSIGNED {
                        return Err(format!("themes.{}: this name is reserved", t.name));
                    }
                }
                match c.k {
                    Some(K::Auto) => {
                        return Err(
                            "cluster.k: \"auto\" needs cluster.mode = \"discover\" (guided mode has one cluster per theme, plus cluster.extra_clusters)"
                                .into(),
                        )
                    }
                    Some(K::Fixed(k)) if k != self.themes.len() => {
                        return Err(format!(
                            "cluster.k: {k} differs from the number of themes ({}); omit k in guided mode",
                            self.themes.len()
                        ))
                    }
                    _ => {}
                }
            }
            Mode::Discover => {
                match c.k {
                    None => {
                        return Err(
                            "cluster.k: discover mode needs the number of clusters (or \"auto\")"
                                .into(),
                        )
                    }
                    Some(K::Fixed(0)) => return Err("cluster.k: must be at least 1".into()),
                    Some(K::Auto) => {
                        if c.k_min < 2 {
                            return Err(format!(
                                "cluster.k_min: must be at least 2 (silhouette needs two clusters), got {}",
                                c.k_min
                            ));
                        }
                        if c.k_max < c.k_min {
                            return Err(format!(
                                "cluster.k_max: {} is below cluster.k_min ({})",
                                c.k_max, c.k_min
                            ));
                        }
                    }
                    Some(K::Fixed(_)) => {}
                }
                if c.extra_clusters > 0 {
                    return Err(
                        "cluster.extra_clusters: only for guided mode (in discover mode raise cluster.k)"
                            .into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// Number of clusters this pipeline asks for; `None` for `k = "auto"`.
    pub fn n_clusters(&self) -> Option<usize> {
        match (self.cluster.mode, self.cluster.k) {
            (Mode::Guided, _) => Some(self.themes.len() + self.cluster.extra_clusters),
            (Mode::Discover, Some(K::Fixed(k))) => Some(k),
            (Mode::Discover, _) => None,
        }
    }
}

/// `base/p` with `.` and `name/..` removed lexically (no filesystem access, so it also works
/// for paths that do not exist yet).
fn lexical_join(base: &Path, p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in base.join(p).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn check_doc_freq(field: &str, v: DocFreq) -> std::result::Result<(), String> {
    match v {
        DocFreq::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(format!(
            "{field}: a fraction must lie in [0.0, 1.0] (write an integer for a passage count), got {f}"
        )),
        _ => Ok(()),
    }
}

/// One line: `line L, column C: message` when the error has a position.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

/// Apply one `a.b.c=value` override; the value is read as TOML, or as a string if it is not.
fn apply_override(table: &mut toml::Table, kv: &str) -> std::result::Result<(), String> {
    let (key, raw) = kv
        .split_once('=')
        .ok_or_else(|| format!("--set {kv:?}: expected KEY=VALUE"))?;
    let key = key.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("--set {kv:?}: bad key {key:?}"));
    }
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("--set {kv:?}: {p} is not a table"))?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "name = \"t\"\noutput = \"out\"\n[themes]\na = [\"x\"]\n";

    fn load(text: &str) -> Result<Pipeline> {
        Pipeline::from_toml(text, Path::new("p/t.toml"), &Overrides::default())
    }

    fn err(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn minimal_file_gets_defaults_and_relative_paths() {
        let p = load(MIN).unwrap();
        assert_eq!(p.output, PathBuf::from("p/out"));
        assert_eq!(p.input_root, PathBuf::from("p"));
        assert_eq!(p.report_dir, PathBuf::from("p/out/report"));
        assert_eq!(p.tfidf.min_df, DocFreq::Count(1));
        assert_eq!(p.tfidf.norm, Norm::L2);
        assert_eq!(p.themes[0].name, "a");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = err("name = \"t\"\noutput = \"o\"\n[tfidf]\nmin_dff = 2\n");
        assert!(e.contains("p/t.toml"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        assert!(e.contains("min_dff"), "{e}");
    }

    #[test]
    fn bad_value_is_rejected() {
        let e = err("name = \"t\"\noutput = \"o\"\n[tfidf]\nnorm = \"l3\"\n");
        assert!(e.contains("line 4") && e.contains("l3"), "{e}");
        let e = err(&format!("{MIN}[tfidf]\nmin_df = 1.5\n"));
        assert!(e.contains("tfidf.min_df"), "{e}");
    }

    #[test]
    fn unknown_language_is_rejected() {
        let e = err(&format!("{MIN}[analyzer]\nlanguage = \"klingon\"\n"));
        assert!(
            e.contains("analyzer.language") && e.contains("klingon"),
            "{e}"
        );
    }

    #[test]
    fn guided_needs_themes_and_discover_needs_k() {
        assert!(err("name = \"t\"\noutput = \"o\"\n").contains("themes"));
        let e = err("name = \"t\"\noutput = \"o\"\n[cluster]\nmode = \"discover\"\n");
        assert!(e.contains("cluster.k"), "{e}");
        let e = err(&format!("{MIN}[cluster]\nk = 2\n"));
        assert!(e.contains("cluster.k"), "{e}");
        assert!(err("name = \"t\"\noutput = \"o\"\n[themes]\na = []\n").contains("themes.a"));
    }

    #[test]
    fn other_validation_rules() {
        assert!(err("name = \"a b\"\noutput = \"o\"\n[themes]\na=[\"x\"]").contains("name"));
        assert!(err(&format!("{MIN}[analyzer]\nmin_token_len = 0\n")).contains("min_token_len"));
        assert!(err(&format!("{MIN}[tfidf]\nmin_df = 3\nmax_df = 2\n")).contains("max_df"));
        assert!(err(&format!("{MIN}[tfidf]\nmax_features = 0\n")).contains("max_features"));
        assert!(err(&format!("{MIN}[cluster]\nn_runs = 0\n")).contains("n_runs"));
        assert!(err(&format!("{MIN}[cluster]\nmax_iterations = 0\n")).contains("max_iterations"));
        assert!(err(&format!("{MIN}[cluster]\ntolerance = -1.0\n")).contains("tolerance"));
        assert!(err(&format!("{MIN}[cluster]\ntop_terms = 0\n")).contains("top_terms"));
        assert!(err(&format!("{MIN}[cluster]\nlsa_dims = 0\n")).contains("lsa_dims"));
        assert!(err(&format!("{MIN}[ingest]\nnear_duplicate = 1.5\n"))
            .contains("ingest.near_duplicate"));
        assert!(err(&format!("{MIN}[ingest]\ncontainment = 0.0\n")).contains("ingest.containment"));
        assert!(err(&format!(
            "{MIN}[ingest]\nwindow_size = 10\nwindow_overlap = 10\n"
        ))
        .contains("window_overlap"));
        assert!(err(&format!("{MIN}[cluster]\nreduce = \"pca\"\n")).contains("pca"));
        assert!(err(&format!("{MIN}[input]\npatterns = []\n")).contains("patterns"));
        assert!(err(&format!("{MIN}[input]\npatterns = [\"a[\"]\n")).contains("patterns"));
        assert!(
            err("name = \"t\"\noutput = \"o\"\n[themes]\nunassigned = [\"x\"]")
                .contains("reserved")
        );
        assert!(err("name = \"t\"\n").contains("output"));
    }

    #[test]
    fn cluster_theme_rules() {
        const DISC: &str = "name = \"t\"\noutput = \"o\"\n[cluster]\nmode = \"discover\"\n";
        // floor, margin and seed weight lie in [0, 1]
        for key in ["min_similarity", "min_margin", "seed_weight"] {
            for bad in ["-0.1", "1.5"] {
                let e = err(&format!("{MIN}[cluster]\n{key} = {bad}\n"));
                assert!(e.contains(&format!("cluster.{key}")), "{e}");
            }
            assert!(load(&format!("{MIN}[cluster]\n{key} = 0.0\n")).is_ok());
            assert!(load(&format!("{MIN}[cluster]\n{key} = 1.0\n")).is_ok());
        }
        assert!(err(&format!("{MIN}[cluster]\nmin_live_seeds = 0\n")).contains("min_live_seeds"));
        // k = "auto" needs discover mode, and k_min ≤ k_max with k_min ≥ 2
        let e = err(&format!("{MIN}[cluster]\nk = \"auto\"\n"));
        assert!(e.contains("cluster.k") && e.contains("discover"), "{e}");
        let p = load(&format!("{DISC}k = \"auto\"\nk_min = 3\nk_max = 6\n")).unwrap();
        assert_eq!(
            (p.cluster.k, p.cluster.k_min, p.cluster.k_max),
            (Some(K::Auto), 3, 6)
        );
        assert_eq!(p.n_clusters(), None);
        let p = load(&format!("{DISC}k = \"auto\"\n")).unwrap();
        assert_eq!((p.cluster.k_min, p.cluster.k_max), (2, 10));
        assert!(load(&format!("{DISC}k = \"auto\"\nk_min = 4\nk_max = 4\n")).is_ok());
        let e = err(&format!("{DISC}k = \"auto\"\nk_min = 5\nk_max = 4\n"));
        assert!(e.contains("cluster.k_max") && e.contains("k_min"), "{e}");
        assert!(err(&format!("{DISC}k = \"auto\"\nk_min = 1\n")).contains("cluster.k_min"));
        let e = err(&format!("{DISC}k = \"many\"\n"));
        assert!(e.contains("auto") && e.contains("line 5"), "{e}");
        assert!(err(&format!("{DISC}k = -3\n")).contains("negative"));
        assert!(err(&format!("{DISC}k = 0\n")).contains("cluster.k"));
        // extra clusters are for guided mode; they count in n_clusters
        let e = err(&format!("{DISC}k = 3\nextra_clusters = 1\n"));
        assert!(e.contains("cluster.extra_clusters"), "{e}");
        let p = load(&format!("{MIN}[cluster]\nextra_clusters = 2\n")).unwrap();
        assert_eq!(p.n_clusters(), Some(3));
        // defaults
        let p = load(MIN).unwrap();
        assert_eq!(
            (
                p.cluster.min_similarity,
                p.cluster.min_margin,
                p.cluster.seed_weight
            ),
            (0.1, 0.02, 0.5)
        );
        assert_eq!(p.cluster.min_live_seeds, 2);
    }

    #[test]
    fn paths_are_joined_lexically() {
        assert_eq!(
            lexical_join(Path::new("pipelines"), Path::new("../out/x")),
            PathBuf::from("out/x")
        );
        assert_eq!(
            lexical_join(Path::new("."), Path::new("../a")),
            PathBuf::from("../a")
        );
        assert_eq!(
            lexical_join(Path::new("a"), Path::new("..")),
            PathBuf::from(".")
        );
        assert_eq!(
            lexical_join(Path::new("/r/p"), Path::new("./c")),
            PathBuf::from("/r/p/c")
        );
    }

    #[test]
    fn themes_keep_file_order() {
        let p = load("name = \"t\"\noutput = \"o\"\n[themes]\nzeta = [\"z\"]\nalpha = [\"a\"]\n")
            .unwrap();
        let names: Vec<_> = p.themes.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
    }

    #[test]
    fn set_overrides_fields_and_reports_bad_keys() {
        let o = Overrides {
            set: vec![
                "cluster.mode=discover".into(),
                "cluster.k=5".into(),
                "tfidf.min_df=0.1".into(),
            ],
            ..Default::default()
        };
        let p = Pipeline::from_toml(MIN, Path::new("t.toml"), &o).unwrap();
        assert_eq!(p.cluster.mode, Mode::Discover);
        assert_eq!(p.cluster.k, Some(K::Fixed(5)));
        assert_eq!(p.tfidf.min_df, DocFreq::Fraction(0.1));
        let o = Overrides {
            set: vec!["cluster.kk=5".into()],
            ..Default::default()
        };
        let e = Pipeline::from_toml(MIN, Path::new("t.toml"), &o).unwrap_err();
        assert!(e.to_string().contains("kk"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let o = Overrides {
            set: vec!["novalue".into()],
            ..Default::default()
        };
        assert!(Pipeline::from_toml(MIN, Path::new("t.toml"), &o).is_err());
    }

    #[test]
    fn input_and_output_overrides() {
        let o = Overrides {
            input: Some(PathBuf::from("/data/corpus")),
            output: Some(PathBuf::from("/tmp/out")),
            set: vec![],
            strict: true,
        };
        let p = Pipeline::from_toml(MIN, Path::new("p/t.toml"), &o).unwrap();
        assert_eq!(p.input_root, PathBuf::from("/data/corpus"));
        assert_eq!(p.output, PathBuf::from("/tmp/out"));
        assert_eq!(p.report_dir, PathBuf::from("/tmp/out/report"));
        assert!(p.input.strict);
    }

    #[test]
    fn input_formats_and_metadata_columns() {
        for (v, want) in [
            ("markdown", InputFormat::Markdown),
            ("html", InputFormat::Html),
            ("text", InputFormat::Text),
            ("auto", InputFormat::Auto),
        ] {
            let p = load(&format!("{MIN}[input]\nformat = \"{v}\"\n")).unwrap();
            assert_eq!(p.input.format, want);
            assert_eq!(want.as_str(), v);
        }
        let e = err(&format!("{MIN}[input]\nformat = \"pdf\"\n"));
        assert!(e.contains("line 6") && e.contains("pdf"), "{e}");
        let p = load(&format!(
            "{MIN}[input]\nformat = \"csv\"\ndate_column = \"published\"\nauthor_column = \"by\"\nsource_column = \"site\"\n"
        ))
        .unwrap();
        let c = p.input.columns();
        assert_eq!(
            (c.date.as_deref(), c.author.as_deref(), c.source.as_deref()),
            (Some("published"), Some("by"), Some("site"))
        );
        assert!(!p.input.strict);
        let e = err(&format!(
            "{MIN}[input]\nformat = \"markdown\"\ndate_column = \"d\"\n"
        ));
        assert!(
            e.contains("input.date_column") && e.contains("markdown"),
            "{e}"
        );
        let e = err(&format!("{MIN}[input]\nauthor_column = \" \"\n"));
        assert!(e.contains("input.author_column"), "{e}");
        let e = err(&format!("{MIN}[input]\ntext_column = \"\"\n"));
        assert!(e.contains("input.text_column"), "{e}");
        let e = err(&format!("{MIN}[input]\ndate_colum = \"d\"\n"));
        assert!(e.contains("date_colum"), "{e}");
    }
}
