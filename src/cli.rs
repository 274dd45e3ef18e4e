//! Command-line types (clap derive) only.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  themata run pipelines/khamenei.toml
  themata run pipelines/sklearn-compat.toml --input ../corpora/bbc --output out/bbc
  themata run pipelines/khamenei.toml --set cluster.mode=discover --set cluster.k=4
  themata cluster pipelines/khamenei.toml      # after editing the themes: rerun clustering
  themata run pipelines/khamenei.toml --set cluster.merge_to=2   # merge the most similar themes
  themata report pipelines/khamenei.toml       # ... and the report
  themata report pipelines/khamenei.toml --set report.over=month --set report.by=author
  themata analyze pipelines/khamenei.toml \"Khamenei's negotiations\"
  themata run pipelines/bbc.toml --update      # after adding files: only they are read
  themata evaluate out/bbc --gold ../corpora/bbc/labels.csv
  themata keyness out/khamenei --by source     # the terms key to each source
  themata apply out/khamenei --input new-speeches/ --output out/new   # the fitted model, no refit
  themata explain out/khamenei 12              # why passage 12 got its theme

One run writes an output directory at a time: a second run on the same directory waits
for the first (or, with --no-wait, exits with 1). Ctrl-C or SIGTERM stops a run cleanly:
tables already complete stay, temporaries are removed, and the next run resumes.

Exit codes: 0 success, 1 a stage failed, 2 usage or pipeline-file error, 130 interrupted.";

/// Which passages of a corpus talk about which themes: ingest, analyze, TF-IDF, k-means,
/// Parquet tables and a summary report, driven by a pipeline file.
#[derive(Debug, Parser)]
#[command(name = "themata", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage: ingest → tfidf → cluster → report, skipping stages whose settings,
    /// inputs and outputs are unchanged since the run recorded in the manifest.
    Run(IngestArgs),
    /// Read the input files into documents.parquet and passages.parquet.
    Ingest(IngestArgs),
    /// Analyse kept passages into vocabulary.parquet and tfidf.parquet (needs ingest's tables).
    Tfidf(StageArgs),
    /// Cluster passages into assignments, clusters, cluster_terms, theme_seeds,
    /// theme_hierarchy and explanations tables, and the fitted model (needs the tfidf tables).
    Cluster(StageArgs),
    /// Write summary.md, summary.json and summary.html from the tables of the earlier
    /// stages, theme_trends.parquet (themes over time and by group: `report.over`,
    /// `report.by`) and keyness.parquet (key terms per group: `report.keyness`).
    Report(StageArgs),
    /// Compare a run's assignments with gold labels: ARI, NMI, purity, accuracy, per-label
    /// precision/recall/F1 and the confusion matrix.
    Evaluate {
        /// The run's output directory.
        output: PathBuf,
        /// CSV with `path`, optional `ordinal` (passage-level gold) and a `label` column.
        #[arg(long, value_name = "FILE.csv")]
        gold: PathBuf,
        /// JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Place new documents with a run's fitted model, without refitting: read and split them
    /// with the model's settings, weigh them with its vocabulary and idf (terms it never saw
    /// are counted, not added), embed them in its space and assign them to its clusters with
    /// its floors. Writes documents, passages, duplicates, vocabulary (the model's), tfidf,
    /// assignments, clusters and explanations tables and report/summary.{json,md} into
    /// OUTPUT (which `themata evaluate` and `themata explain` read like a run's).
    #[command(after_help = "\
Examples:
  themata apply out/khamenei --input new-speeches/ --output out/new
  themata apply out/bbc --input more.jsonl --output out/more --pipeline records.toml
      # records.toml's [input] says which columns hold the text; its [analyzer] and [tfidf]
      # must be those of pipelines/bbc.toml

Exit codes: 0 success; 1 a file could not be read or written; 2 no model in RUN_DIR, a model
of another themata version, a pipeline whose analyzer or tfidf settings differ from the
model's, or OUTPUT is the run directory (nothing is written then).")]
    Apply(ApplyArgs),
    /// The terms most over-represented in one group of a run's passages against the rest
    /// (log-likelihood G², p-value, Log Ratio), over the kept vocabulary: each value of a
    /// documents field (or each theme) against all the others, or one selection (documents
    /// by path, a date range) against the other kept passages.
    #[command(after_help = "\
Examples:
  themata keyness out/khamenei --by source
  themata keyness out/khamenei --by theme --group negotiation --top 10
  themata keyness out/bbc --docs 'business/*' --out out/bbc/keyness-business.parquet
  themata keyness out/news --dates 2020-01-01..2020-12-31   # a year against the other dated passages

Passages with no value of the field (no source, no date) are left out, and counted.")]
    Keyness(KeynessArgs),
    /// Pairs of consecutive terms of a run's kept passages that occur together more often
    /// than chance (log-likelihood G², PMI), analysed with the run's analyzer: phrases to try
    /// as seed words or with `analyzer.ngrams = [1, 2]`.
    #[command(after_help = "\
Examples:
  themata collocations out/khamenei
  themata collocations out/bbc --min-count 10 --top 50")]
    Collocations {
        /// The run's output directory.
        output: PathBuf,
        /// Pairs that occur fewer times are left out.
        #[arg(long, default_value_t = 3, value_name = "N")]
        min_count: u64,
        /// Pairs listed, strongest first.
        #[arg(long, default_value_t = 30, value_name = "N")]
        top: usize,
    },
    /// Why a passage got its theme: its text, theme, similarity and margin, and the terms
    /// that contribute most to its similarity to the nearest centroid and to the runner-up
    /// (from explanations.parquet), with the share of the similarity they cover.
    #[command(after_help = "\
Examples:
  themata explain out/khamenei 12
  themata explain out/khamenei 12 --top 3 --json
  themata explain out/new 5                    # also an apply output directory

In TF-IDF space a term's contribution is its weight times the centroid's value, and all the
passage's terms sum to the similarity exactly. In LSA space the similarity is a cosine in the
reduced space mapped back to terms: the contributions sum to it, but are an approximation of
what each term does.

Exit codes: 0 success; 1 a table cannot be read; 2 RUN_DIR or one of its tables is missing,
no such passage id (the valid range is named), or the passage is not kept (its status and
reason are named).")]
    Explain {
        /// A run's output directory (or `themata apply`'s OUTPUT).
        run_dir: PathBuf,
        /// The passage (passage_id, as in passages.parquet).
        passage_id: u32,
        /// Show at most N terms per theme (the table holds cluster.explain_terms).
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// JSON on stdout instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the terms the pipeline's analyzer makes of a text (one per line: term, surface;
    /// with `analyzer.ngrams`, the n-grams follow the words).
    Analyze {
        /// The pipeline file whose [analyzer] settings to use.
        pipeline: PathBuf,
        /// The text to analyse.
        text: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["by", "docs", "dates"])))]
pub struct KeynessArgs {
    /// The run's output directory.
    pub output: PathBuf,
    /// Compare each value of this field with all the others.
    #[arg(long, value_enum)]
    pub by: Option<themata::keyness::Field>,
    /// With --by: show this group only (still compared with all the others).
    #[arg(long, requires = "by", value_name = "VALUE")]
    pub group: Option<String>,
    /// Compare the passages of documents whose path matches this glob with the rest.
    #[arg(long, value_name = "GLOB")]
    pub docs: Option<String>,
    /// Compare documents dated FROM..TO (YYYY-MM-DD, inclusive; either end may be left
    /// empty) with the other dated documents.
    #[arg(long, value_name = "FROM..TO")]
    pub dates: Option<String>,
    /// Terms per group.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Also write the rows to this Parquet file (keyness.parquet's columns).
    #[arg(long, value_name = "FILE.parquet")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StageArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Replace the pipeline's input root with this directory (its patterns apply under it),
    /// or read just this one file.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Write tables to this directory instead of the pipeline's `output`; the report goes
    /// to DIR/report unless `--set report.dir=...` is given.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Override one field of the pipeline file, e.g. `--set cluster.k=5` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress or summary messages on stderr (warnings and errors still show).
    #[arg(short, long)]
    pub quiet: bool,
    /// More detail on stderr: why each stage runs or is skipped, its fingerprint, row counts
    /// and settings.
    #[arg(short, long)]
    pub verbose: bool,
    /// `run`: rerun every stage, even those whose inputs and settings are unchanged.
    /// (A single-stage command always runs its stage.)
    #[arg(long)]
    pub force: bool,
    /// When another run is writing the same output directory, exit with code 1 at once
    /// instead of waiting for it to finish.
    #[arg(long)]
    pub no_wait: bool,
    /// Discover mode: match the new clusters to this run's (a run directory) and keep their
    /// ids and names; by default, to the run already in the output directory.
    #[arg(long, value_name = "RUN_DIR")]
    pub previous: Option<PathBuf>,
}

/// The options of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The run directory whose model to apply (a run's output directory: model.json,
    /// vocabulary.parquet, centroids.parquet, lsa_components.parquet).
    pub run_dir: PathBuf,
    /// The new documents: a directory (the model's input patterns apply under it, or the
    /// pipeline's with --pipeline) or one file.
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Where the tables and report/ go (not the run directory).
    #[arg(long, value_name = "DIR")]
    pub output: PathBuf,
    /// Read the new documents with this pipeline file's [input] and [ingest] settings (other
    /// formats or columns); its [analyzer] and [tfidf] must be the model's.
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,
    /// Fail on an input file that is not valid UTF-8 (as `run --strict`).
    #[arg(long)]
    pub strict: bool,
    /// No progress or summary messages on stderr (warnings and errors still show).
    #[arg(short, long)]
    pub quiet: bool,
    /// When another run is writing OUTPUT, exit with code 1 at once instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
}

/// The options of a stage, and those of the ingest stage (`run` and `ingest`).
#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Fail on an input file that is not valid UTF-8, naming it, and write no table
    /// (without --strict such a file is decoded with replacement characters and a warning).
    #[arg(long)]
    pub strict: bool,
    /// Go on from the run already in the output directory instead of starting over: read
    /// only input files that are new or changed since it, analyse only the passages that
    /// are new (document frequencies and counts merge, so the TF-IDF tables are a full
    /// run's), and in discover mode start k-means from its centroids. What cannot go on
    /// from it runs in full, with a warning saying why.
    #[arg(long)]
    pub update: bool,
}
