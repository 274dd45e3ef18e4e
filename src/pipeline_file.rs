//! The pipeline file: TOML → a checked [`Pipeline`], composed of each stage's settings.
//!
//! Paths in the file are relative to the file's own directory. Unknown keys and bad values
//! are rejected with the file, line and key; `--set key=value` overrides are applied on top
//! of the file and named in errors by their key. Every check that can be made before work
//! is made here (each stage's `check()`, the stop-words file read), so a bad pipeline file
//! stops the run before any table is written.

use crate::error::{Error, Result};
use crate::formats::InputParams;
use crate::report::ReportParams;
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use themata_core::analyze::{word_list, AnalyzerParams};
use themata_core::cluster::{ClusterParams, Theme};
use themata_core::ingest::IngestParams;
use themata_core::tfidf::TfidfParams;

/// The pipeline file as written (all sections optional except `name` and `output`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    name: String,
    output: PathBuf,
    #[serde(default)]
    input: InputParams,
    #[serde(default)]
    ingest: IngestParams,
    #[serde(default)]
    analyzer: AnalyzerParams,
    #[serde(default)]
    tfidf: TfidfParams,
    #[serde(default)]
    cluster: ClusterParams,
    #[serde(default)]
    themes: IndexMap<String, Vec<String>>,
    #[serde(default)]
    report: ReportParams,
}

/// A checked pipeline with resolved paths: the settings of every stage.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// The pipeline file.
    pub file: PathBuf,
    /// Where the input is and how to read it.
    pub input: InputParams,
    /// The output directory for tables and the manifest.
    pub output: PathBuf,
    /// Where the report goes.
    pub report_dir: PathBuf,
    /// The report's settings (`dir` as the file gave it).
    pub report: ReportParams,
    /// Ingest.
    pub ingest: IngestParams,
    /// The analyzer (the stop-words file resolved and read).
    pub analyzer: AnalyzerParams,
    /// TF-IDF.
    pub tfidf: TfidfParams,
    /// Clustering, with the themes.
    pub cluster: ClusterParams,
}

/// Command-line overrides of a pipeline file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces the input root (a directory, or one file).
    pub input: Option<PathBuf>,
    /// Replaces the output directory (and takes the report with it, unless `--set
    /// report.dir=...` says otherwise).
    pub output: Option<PathBuf>,
    /// `key=value` pairs; keys are dotted paths such as `cluster.k`.
    pub set: Vec<String>,
    /// `--strict`: invalid UTF-8 in an input file is an error.
    pub strict: bool,
}

impl Pipeline {
    /// Read, override and check a pipeline file.
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

        let mut input = file.input.clone();
        match &overrides.input {
            Some(p) if p.is_file() => {
                input.root = p.parent().map(Path::to_path_buf).unwrap_or_default();
                input.patterns = vec![globset::escape(
                    &p.file_name().unwrap_or_default().to_string_lossy(),
                )];
            }
            Some(p) => input.root = p.clone(),
            None => input.root = resolve(&file.input.root),
        }
        input.strict = overrides.strict;
        let output = match &overrides.output {
            Some(p) => p.clone(),
            None => resolve(&file.output),
        };
        // --output takes the report with it, unless report.dir is set on the command line
        let dir_set_here = overrides.set.iter().any(|kv| {
            kv.split_once('=')
                .is_some_and(|(k, _)| k.trim() == "report.dir")
        });
        let report_dir = match &file.report.dir {
            Some(d) if overrides.output.is_none() || dir_set_here => resolve(d),
            _ => output.join("report"),
        };
        let mut analyzer = file.analyzer.clone();
        analyzer.stop_words_file = analyzer.stop_words_file.as_deref().map(resolve);
        if let Some(f) = &analyzer.stop_words_file {
            let words = std::fs::read_to_string(f).map_err(|e| {
                Error::config(
                    path,
                    format!("analyzer.stop_words_file: {}: {e}", f.display()),
                )
            })?;
            analyzer.extra_stop_words = word_list(&words);
        }
        let mut cluster = file.cluster.clone();
        cluster.themes = file
            .themes
            .iter()
            .map(|(name, seeds)| Theme {
                name: name.clone(),
                seeds: seeds.clone(),
            })
            .collect();
        let pipeline = Pipeline {
            name: file.name.clone(),
            file: path.to_path_buf(),
            input,
            output,
            report_dir,
            report: file.report.clone(),
            ingest: file.ingest.clone(),
            analyzer,
            tfidf: file.tfidf.clone(),
            cluster,
        };
        pipeline.check().map_err(|m| Error::config(path, m))?;
        Ok(pipeline)
    }

    /// Every rule a pipeline must satisfy: its name, and each stage's own checks.
    fn check(&self) -> std::result::Result<(), String> {
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
        self.input.check().map_err(|e| e.to_string())?;
        self.analyzer.check().map_err(|e| e.to_string())?;
        self.ingest.check().map_err(|e| e.to_string())?;
        self.tfidf.check().map_err(|e| e.to_string())?;
        self.cluster.check().map_err(|e| e.to_string())?;
        self.report.check().map_err(|e| e.to_string())?;
        Ok(())
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
    use crate::formats::InputFormat;
    use themata_core::cluster::{Mode, K};
    use themata_core::tfidf::{DocFreq, Norm};

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
        assert_eq!(p.input.root, PathBuf::from("p"));
        assert_eq!(p.report_dir, PathBuf::from("p/out/report"));
        assert_eq!(p.tfidf.min_df, DocFreq::Count(1));
        assert_eq!(p.tfidf.norm, Norm::L2);
        assert_eq!(p.cluster.themes[0].name, "a");
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
        assert_eq!(p.cluster.n_clusters(), None);
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
        assert_eq!(p.cluster.n_clusters(), Some(3));
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
        let names: Vec<_> = p.cluster.themes.iter().map(|t| t.name.as_str()).collect();
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
        assert_eq!(p.input.root, PathBuf::from("/data/corpus"));
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
        let c = &p.input;
        assert_eq!(
            (
                c.date_column.as_deref(),
                c.author_column.as_deref(),
                c.source_column.as_deref()
            ),
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

    #[test]
    fn output_takes_the_report_unless_report_dir_is_set_on_the_command_line() {
        let text = format!("{MIN}[report]\ndir = \"../reports/x\"\n");
        let p = Pipeline::from_toml(&text, Path::new("p/t.toml"), &Overrides::default()).unwrap();
        assert_eq!(p.report_dir, PathBuf::from("reports/x"));
        let o = Overrides {
            output: Some(PathBuf::from("/tmp/out")),
            ..Default::default()
        };
        let p = Pipeline::from_toml(&text, Path::new("p/t.toml"), &o).unwrap();
        assert_eq!(p.report_dir, PathBuf::from("/tmp/out/report"));
        let o = Overrides {
            output: Some(PathBuf::from("/tmp/out")),
            set: vec!["report.dir=/tmp/rep".into()],
            ..Default::default()
        };
        let p = Pipeline::from_toml(&text, Path::new("p/t.toml"), &o).unwrap();
        assert_eq!(p.report_dir, PathBuf::from("/tmp/rep"));
    }

    #[test]
    fn stop_words_file_is_read_when_loaded_and_its_absence_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(dir.path().join("stop.txt"), "# comment\nKhamenei\n").unwrap();
        let text = format!("{MIN}[analyzer]\nstop_words_file = \"stop.txt\"\n");
        let p = Pipeline::from_toml(&text, &file, &Overrides::default()).unwrap();
        assert_eq!(p.analyzer.extra_stop_words, ["Khamenei"]);
        assert_eq!(
            p.analyzer.stop_words_file,
            Some(dir.path().join("stop.txt"))
        );
        let text = format!("{MIN}[analyzer]\nstop_words_file = \"missing.txt\"\n");
        let e = Pipeline::from_toml(&text, &file, &Overrides::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = e.to_string();
        assert!(
            e.contains("t.toml")
                && e.contains("analyzer.stop_words_file")
                && e.contains("missing.txt"),
            "{e}"
        );
    }

    #[test]
    fn tamil_without_a_stop_list_is_a_config_error() {
        let e = load(&format!("{MIN}[analyzer]\nlanguage = \"tamil\"\n")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("analyzer.stop_words"), "{e}");
        assert!(load(&format!(
            "{MIN}[analyzer]\nlanguage = \"tamil\"\nstop_words = \"none\"\n"
        ))
        .is_ok());
    }
}
