//! Clustering of TF-IDF rows, guided by themes or discovered.
//!
//! Rows are L2-normalised, so Euclidean k-means is spherical k-means up to ties.
//!
//! - *Guided*: each theme's centroid starts at the normalised vector of its seed words. At
//!   every step a theme's centroid is `normalise((1 − w)·m + w·s)`, with `m` the normalised
//!   mean of its members and `s` its seed vector (`w = cluster.seed_weight`): members widen
//!   the theme's vocabulary, the seed words keep it from drifting to whatever its members
//!   happen to share. `cluster.extra_clusters` free clusters (started at the passages
//!   farthest from every theme) take off-theme material and are named by their top terms.
//!   A passage whose best similarity is below `cluster.min_similarity`, or whose margin to
//!   the runner-up is below `cluster.min_margin`, is `unassigned`.
//! - *Discover*: linfa's k-means (k-means++, `n_runs` restarts) for a given k, or for every k
//!   of `k_min..=k_max` scored by [`sweep`] when `k = "auto"`. Clusters are named by
//!   their top three c-TF-IDF labels.
//!
//! Every passage then goes to the centroid with the highest cosine similarity; its margin is
//! the gap to the runner-up. Passages without any kept term are `unassigned`.

mod explain;
pub mod hierarchy;
mod naming;
mod seeds;
mod strength;
mod sweep;

pub use explain::{decompose, explain, explain_columns, explain_space, two_nearest};
pub use hierarchy::theme_hierarchy;
pub use naming::{ctfidf_terms, ctfidf_terms_of, mean_tfidf_terms_of};
pub use seeds::{seed_centroids, seed_warnings};
pub use strength::theme_strength;
pub use sweep::{choose, end_of_range, score};

use crate::analyze::Analyzer;
use crate::math::kmeans::{self, KMeansError, Restarts};
use crate::math::lsa::{self, LsaError};
use crate::model::{
    Assignment, AssignmentStatus, ClusterInfo, ClusterSeconds, ClusterTerm, Clustering, LsaBasis,
    Measure, SparseRows, ThemeMerge, Vocabulary, UNASSIGNED,
};
use crate::ParamError;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// linfa's k-means is dense: without reduction, refuse matrices larger than this many cells
/// (8 bytes each).
pub const MAX_DENSE_CELLS: usize = 200_000_000;

/// `reduce = "auto"` switches to LSA above this many passages × terms (16 MB as dense f64).
/// Below it the exact TF-IDF space is small and k-means on it takes milliseconds; above it
/// the dense matrix grows with the vocabulary while the LSA space stays `lsa_dims` wide, and
/// LSA also improves clustering quality on real corpora (BBC News, scikit-learn: ARI 0.757
/// without, 0.907 with).
pub const AUTO_LSA_CELLS: usize = 2_000_000;

/// `cluster.explain_terms` at most: enough to list every term of a long passage.
pub const MAX_EXPLAIN_TERMS: usize = 1000;

/// How passages are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Centroids start from the themes' seed words; clusters keep the theme names.
    Guided,
    /// k-means++ from the seed; clusters are named by their top terms.
    Discover,
}

impl Mode {
    /// `guided` or `discover`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Guided => "guided",
            Mode::Discover => "discover",
        }
    }
}

/// `cluster.k`: a number of clusters, or `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    /// This many clusters.
    Fixed(usize),
    /// Chosen by a sweep of `k_min..=k_max`.
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
    /// LSA when passages × terms exceeds [`AUTO_LSA_CELLS`].
    Auto,
    /// Always LSA.
    Lsa,
    /// Never: k-means on the TF-IDF rows themselves (dense, so small corpora only).
    None,
}

/// A guided theme: its name and seed words (raw, before analysis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// The theme's name.
    pub name: String,
    /// Its seed words, as written.
    pub seeds: Vec<String>,
}

/// The settings of clustering (`[cluster]` in a pipeline file), with the themes
/// (`[themes]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterParams {
    /// Guided by themes, or discovered.
    pub mode: Mode,
    /// Number of clusters: a number, or `"auto"` (discover mode: sweep `k_min..=k_max`). In
    /// guided mode it must be omitted or equal the number of themes.
    pub k: Option<K>,
    /// `k = "auto"`: the smallest k tried.
    pub k_min: usize,
    /// `k = "auto"`: the largest k tried.
    pub k_max: usize,
    /// Seed of k-means++ and of the LSA's random matrix.
    pub seed: u64,
    /// Iterations of k-means at most.
    pub max_iterations: u64,
    /// Convergence tolerance of k-means.
    pub tolerance: f64,
    /// k-means++ restarts in discover mode (the best is kept).
    pub n_runs: usize,
    /// Terms listed per cluster and measure in `cluster_terms.parquet`.
    pub top_terms: usize,
    /// Top contributing terms kept per passage to its nearest centroid and to the runner-up
    /// (`explanations.parquet`); 0 keeps none.
    pub explain_terms: usize,
    /// Dimension reduction before k-means.
    pub reduce: Reduce,
    /// Dimensions of the LSA space.
    pub lsa_dims: usize,
    /// Guided: a passage whose best similarity is below this is `unassigned`.
    pub min_similarity: f64,
    /// Guided: a passage whose best similarity exceeds the runner-up's by less than this is
    /// `unassigned`.
    pub min_margin: f64,
    /// Guided: share of each theme's centroid held by its seed vector at every k-means step
    /// (0 = plain k-means from the seeds, 1 = similarity to the seed words only).
    pub seed_weight: f64,
    /// Guided: free clusters besides the themes, for off-theme material (named by their top
    /// terms).
    pub extra_clusters: usize,
    /// Guided: a theme with fewer live seed words than this gets a warning.
    pub min_live_seeds: usize,
    /// After fitting, merge the most similar themes (average linkage of their centroids, as
    /// in the dendrogram) while their similarity is at least this (a cosine in [0, 1]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_above: Option<f64>,
    /// After fitting, merge the most similar themes until this many are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_to: Option<usize>,
    /// Guided: the themes, in the pipeline file's order (`[themes]`, not `[cluster]`).
    #[serde(skip)]
    pub themes: Vec<Theme>,
}

impl Default for ClusterParams {
    fn default() -> Self {
        ClusterParams {
            mode: Mode::Guided,
            k: None,
            k_min: 2,
            k_max: 10,
            seed: 42,
            max_iterations: 300,
            tolerance: 1e-4,
            n_runs: 10,
            top_terms: 10,
            explain_terms: 5,
            reduce: Reduce::Auto,
            lsa_dims: 100,
            // Chosen on the example corpus (README, "Guided themes"): every substantive
            // passage there has similarity ≥ 0.17 and margin ≥ 0.08 to its theme, so the
            // floor only catches passages that share next to no vocabulary with any theme,
            // the margin only near ties.
            min_similarity: 0.1,
            min_margin: 0.02,
            seed_weight: 0.5,
            extra_clusters: 0,
            min_live_seeds: 2,
            merge_above: None,
            merge_to: None,
            themes: vec![],
        }
    }
}

impl ClusterParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        let err = |key: &str, m: String| Err(ParamError::new(key, m));
        if self.max_iterations == 0 {
            return err("cluster.max_iterations", "must be at least 1".into());
        }
        if self.n_runs == 0 {
            return err("cluster.n_runs", "must be at least 1".into());
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return err("cluster.tolerance", "must be a positive number".into());
        }
        if self.lsa_dims == 0 {
            return err("cluster.lsa_dims", "must be at least 1".into());
        }
        if self.top_terms == 0 {
            return err("cluster.top_terms", "must be at least 1".into());
        }
        if self.explain_terms > MAX_EXPLAIN_TERMS {
            return err(
                "cluster.explain_terms",
                format!(
                    "must be at most {MAX_EXPLAIN_TERMS} (terms per passage and theme in \
                     explanations.parquet; 0 keeps none), got {}",
                    self.explain_terms
                ),
            );
        }
        for (key, v) in [
            ("cluster.min_similarity", self.min_similarity),
            ("cluster.min_margin", self.min_margin),
            ("cluster.seed_weight", self.seed_weight),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return err(key, format!("must lie in [0, 1], got {v}"));
            }
        }
        if self.min_live_seeds == 0 {
            return err("cluster.min_live_seeds", "must be at least 1".into());
        }
        if let Some(v) = self.merge_above {
            if !(0.0..=1.0).contains(&v) {
                return err(
                    "cluster.merge_above",
                    format!("must be a cosine similarity in [0, 1], got {v}"),
                );
            }
        }
        if self.merge_to == Some(0) {
            return err("cluster.merge_to", "must be at least 1".into());
        }
        match self.mode {
            Mode::Guided => {
                if self.themes.is_empty() {
                    return err(
                        "themes",
                        "guided clustering needs at least one theme (or set cluster.mode = \"discover\")"
                            .into(),
                    );
                }
                for t in &self.themes {
                    let key = format!("themes.{}", t.name);
                    if t.seeds.iter().all(|s| s.trim().is_empty()) {
                        return err(&key, "needs at least one seed word".into());
                    }
                    if t.name == UNASSIGNED {
                        return err(&key, "this name is reserved".into());
                    }
                }
                match self.k {
                    Some(K::Auto) => {
                        return err(
                            "cluster.k",
                            "\"auto\" needs cluster.mode = \"discover\" (guided mode has one cluster per theme, plus cluster.extra_clusters)"
                                .into(),
                        )
                    }
                    Some(K::Fixed(k)) if k != self.themes.len() => {
                        return err(
                            "cluster.k",
                            format!(
                                "{k} differs from the number of themes ({}); omit k in guided mode",
                                self.themes.len()
                            ),
                        )
                    }
                    _ => {}
                }
            }
            Mode::Discover => {
                match self.k {
                    None => {
                        return err(
                            "cluster.k",
                            "discover mode needs the number of clusters (or \"auto\")".into(),
                        )
                    }
                    Some(K::Fixed(0)) => return err("cluster.k", "must be at least 1".into()),
                    Some(K::Auto) => {
                        if self.k_min < 2 {
                            return err(
                                "cluster.k_min",
                                format!(
                                    "must be at least 2 (silhouette needs two clusters), got {}",
                                    self.k_min
                                ),
                            );
                        }
                        if self.k_max < self.k_min {
                            return err(
                                "cluster.k_max",
                                format!("{} is below cluster.k_min ({})", self.k_max, self.k_min),
                            );
                        }
                    }
                    Some(K::Fixed(_)) => {}
                }
                if self.extra_clusters > 0 {
                    return err(
                        "cluster.extra_clusters",
                        "only for guided mode (in discover mode raise cluster.k)".into(),
                    );
                }
            }
        }
        Ok(())
    }

    /// Number of clusters these settings ask for; `None` for `k = "auto"`.
    pub fn n_clusters(&self) -> Option<usize> {
        match (self.mode, self.k) {
            (Mode::Guided, _) => Some(self.themes.len() + self.extra_clusters),
            (Mode::Discover, Some(K::Fixed(k))) => Some(k),
            (Mode::Discover, _) => None,
        }
    }

    fn restarts(&self) -> Restarts {
        Restarts {
            seed: self.seed,
            n_runs: self.n_runs,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
        }
    }
}

/// Clustering failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    /// A guided theme has no seed word in the kept vocabulary.
    #[error("theme {theme:?}: none of its seed words is in the kept vocabulary: {seeds}")]
    DeadTheme {
        /// The theme.
        theme: String,
        /// Each seed word and why it is not live, e.g. `zebra (unseen)`.
        seeds: String,
    },
    /// Fewer passages with terms than clusters.
    #[error("cannot form {k} clusters from {n} passage(s) with terms")]
    TooFewPassages {
        /// Clusters asked for.
        k: usize,
        /// Passages with at least one kept term.
        n: usize,
    },
    /// Without reduction the dense matrix would be too large.
    #[error(
        "{n} passages × {n_cols} terms is too large for k-means without reduction; \
         set cluster.reduce = \"lsa\" (or \"auto\")"
    )]
    TooLargeForDense {
        /// Passages with terms.
        n: usize,
        /// Kept terms.
        n_cols: usize,
    },
    /// `k = "auto"` over a range the passages cannot fill.
    #[error("cannot sweep k = {k_min}..={k_max} over {n} passage(s) with terms")]
    SweepRange {
        /// `cluster.k_min`.
        k_min: usize,
        /// `cluster.k_max`.
        k_max: usize,
        /// Passages with terms.
        n: usize,
    },
    /// k-means failed.
    #[error(transparent)]
    KMeans(#[from] KMeansError),
    /// The LSA failed.
    #[error(transparent)]
    Lsa(#[from] LsaError),
}

/// Round to 6 decimals so tables and reports do not depend on the last bits of a float.
pub(crate) fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Cluster the rows of `m` (TF-IDF rows over `vocab`'s kept terms); seed words go through
/// `analyzer`.
pub fn cluster(
    m: &SparseRows,
    vocab: &Vocabulary,
    analyzer: &Analyzer,
    params: &ClusterParams,
) -> Result<Clustering, ClusterError> {
    cluster_from(m, vocab, analyzer, params, None)
}

/// Where an updated fit starts: the previous run's clusters, and its LSA basis when it had
/// one, by term.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    /// The previous run's kept terms, in term (code-point) order.
    pub terms: &'a [String],
    /// Its clusters: one centroid per row, over `terms`.
    pub centroids: &'a Array2<f64>,
    /// Its LSA basis `V`: one row per term of `terms`.
    pub components: Option<&'a Array2<f64>>,
}

/// [`cluster`], going on from a previous fit (`start`): the LSA's range finder starts from
/// the previous basis (one power iteration instead of five), and in discover mode with a
/// fixed k, k-means starts from the previous clusters instead of k-means++ with restarts.
/// How an updated run goes on from where it was. Guided mode and `k = "auto"` fit their
/// clusters as [`cluster`] does, and so does a `start` with another number of clusters
/// (with a warning).
pub fn cluster_from(
    m: &SparseRows,
    vocab: &Vocabulary,
    analyzer: &Analyzer,
    params: &ClusterParams,
    start: Option<Start>,
) -> Result<Clustering, ClusterError> {
    let settings = params;
    let (cols, n_cols) = vocab.columns();
    let nonempty = nonempty_rows(m);
    let k_needed = params.n_clusters().unwrap_or(settings.k_min);
    if nonempty.len() < k_needed {
        return Err(ClusterError::TooFewPassages {
            k: k_needed,
            n: nonempty.len(),
        });
    }
    let cells = nonempty.len().saturating_mul(n_cols);
    let use_lsa = match settings.reduce {
        Reduce::Lsa => true,
        Reduce::None => false,
        Reduce::Auto => cells > AUTO_LSA_CELLS,
    };
    if !use_lsa && cells > MAX_DENSE_CELLS {
        return Err(ClusterError::TooLargeForDense {
            n: nonempty.len(),
            n_cols,
        });
    }
    let started = std::time::Instant::now();
    let (x, lsa, space) = if use_lsa {
        let basis = start.and_then(|s| Some(by_term(s.terms, s.components?, vocab)));
        let mut fit = lsa::fit_from(
            m,
            &cols,
            n_cols,
            settings.lsa_dims,
            settings.seed,
            basis.as_ref(),
        )?;
        let x = take_rows(std::mem::take(&mut fit.embedding), &nonempty, m.n_rows());
        let space = format!("lsa ({} dimensions)", x.ncols());
        (x, Some(fit), space)
    } else {
        let x = dense_rows(m, &cols, n_cols, &nonempty);
        (x, None, format!("tfidf ({n_cols} terms)"))
    };
    let lsa_seconds = if use_lsa {
        started.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let started = std::time::Instant::now();
    let mut seeds = vec![];
    let mut sweep_rows = vec![];
    let mut warnings = vec![];
    let centroids = match settings.mode {
        Mode::Guided => {
            let (c, s) = seed_centroids(&params.themes, analyzer, vocab)?;
            warnings = seed_warnings(&s, &params.themes, params.min_live_seeds);
            seeds = s;
            let c = match &lsa {
                Some(l) => l.project(&c),
                None => c,
            };
            kmeans::guided_fit(
                &x,
                &c,
                settings.extra_clusters,
                settings.seed_weight,
                settings.max_iterations,
            )
        }
        Mode::Discover => {
            let data = kmeans::kmeans_data(&x);
            match settings.k {
                Some(K::Auto) => {
                    let (c, rows) = sweep::sweep_fit(&x, &data, settings)?;
                    warnings.extend(sweep::end_of_range(&rows));
                    sweep_rows = rows;
                    c
                }
                _ => match start {
                    Some(t) if t.centroids.nrows() == k_needed => {
                        let c = by_term(t.terms, &t.centroids.t().to_owned(), vocab)
                            .t()
                            .to_owned();
                        let c = match &lsa {
                            Some(l) => l.project(&c),
                            None => c,
                        };
                        kmeans::refine(&data, &c, &settings.restarts())?
                    }
                    _ => {
                        if let Some(t) = start {
                            warnings.push(format!(
                                "the previous run has {} clusters, this one {k_needed}: \
                                 k-means starts afresh (k-means++)",
                                t.centroids.nrows()
                            ));
                        }
                        kmeans::discover(&data, k_needed, &settings.restarts())?
                    }
                },
            }
        }
    };
    let seconds = ClusterSeconds {
        lsa: lsa_seconds,
        kmeans: started.elapsed().as_secs_f64(),
    };
    let k = centroids.nrows();
    let floors = floors(settings);
    let mut best = assign(&x, &nonempty, m.n_rows(), &centroids, floors);
    let n_themes = match settings.mode {
        Mode::Guided => params.themes.len(),
        Mode::Discover => 0,
    };
    // guided themes keep their names; the other clusters are named by their top terms
    let mut fixed: Vec<Option<String>> = (0..k)
        .map(|c| (c < n_themes).then(|| params.themes[c].name.clone()))
        .collect();
    let mut centroids = centroids;
    let mut merges = vec![];
    let links = hierarchy::average_linkage(&centroids);
    let steps = hierarchy::merge_steps(&links, k, settings.merge_above, settings.merge_to);
    if steps > 0 {
        let labels: Vec<Option<u32>> = best.iter().map(|b| b.0).collect();
        let fitted = name_clusters(m, vocab, &labels, k, &fixed, settings.top_terms).1;
        let merged = hierarchy::merge(
            &centroids,
            &links[..steps],
            &sizes_of(&labels, k),
            &fitted,
            &fixed,
        );
        fixed = merged.fixed;
        centroids = merged.centroids;
        best = assign(&x, &nonempty, m.n_rows(), &centroids, floors);
        merges = merged.joins;
        // seed words belong to the theme their theme became part of (listed by it)
        let group_of = |name: &str| {
            params.themes[..n_themes]
                .iter()
                .position(|t| t.name == name)
                .map(|t| merged.group_of[t])
        };
        seeds.sort_by_key(|s| group_of(&s.theme).unwrap_or(usize::MAX));
        for s in &mut seeds {
            if let Some(name) = group_of(&s.theme).and_then(|g| fixed[g].as_ref()) {
                s.theme = name.clone();
            }
        }
    }
    let explanations = explain(
        m,
        vocab,
        &x,
        &nonempty,
        &centroids,
        lsa.as_ref().map(|l| &l.components),
        settings.explain_terms,
    );
    drop(x);
    let k = centroids.nrows();
    let labels: Vec<Option<u32>> = best.iter().map(|b| b.0).collect();
    let (terms, names) = name_clusters(m, vocab, &labels, k, &fixed, settings.top_terms);
    let merges = merges
        .into_iter()
        .map(|(from, similarity, into)| ThemeMerge {
            from,
            similarity,
            into: names[into].clone(),
            into_cluster: into as u32,
        })
        .collect();
    let assignments: Vec<Assignment> = best
        .iter()
        .enumerate()
        .map(|(r, &(c, sim, margin, status))| Assignment {
            passage_id: m.row_ids[r],
            cluster: c,
            theme: c.map_or_else(|| UNASSIGNED.to_string(), |c| names[c as usize].clone()),
            similarity: sim,
            margin,
            status,
        })
        .collect();
    let sizes = sizes_of(&labels, k);
    let clusters = (0..k as u32)
        .map(|c| ClusterInfo {
            cluster: c,
            theme: names[c as usize].clone(),
            size: sizes[c as usize],
            top_terms: terms
                .iter()
                .filter(|t| t.cluster == c && t.measure == Measure::Ctfidf)
                .map(|t| t.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let mut c = Clustering {
        space,
        assignments,
        clusters,
        terms,
        seeds,
        sweep: sweep_rows,
        warnings,
        centroids,
        lsa: lsa.map(|l| LsaBasis {
            components: l.components,
            singular_values: l.singular_values.to_vec(),
        }),
        changes: vec![],
        hierarchy: vec![],
        merges,
        explanations,
        seconds,
    };
    c.hierarchy = theme_hierarchy(&c);
    Ok(c)
}

/// Passages assigned to each of `k` clusters.
fn sizes_of(labels: &[Option<u32>], k: usize) -> Vec<u32> {
    let mut sizes = vec![0u32; k];
    for c in labels.iter().flatten() {
        sizes[*c as usize] += 1;
    }
    sizes
}

/// The top terms of each of `k` clusters by both measures, and their names: `fixed` where
/// it has one (a guided theme), else the top three c-TF-IDF labels joined with `/` (made
/// unique by the cluster id, as is a name that would read `unassigned`).
fn name_clusters(
    m: &SparseRows,
    vocab: &Vocabulary,
    labels: &[Option<u32>],
    k: usize,
    fixed: &[Option<String>],
    top_terms: usize,
) -> (Vec<ClusterTerm>, Vec<String>) {
    let mut terms = naming::mean_tfidf_terms(m, vocab, labels, k, top_terms);
    terms.extend(ctfidf_terms(m, vocab, labels, k, top_terms));
    let out = theme_names(&terms, k, fixed);
    (terms, out)
}

/// The name of each of `k` clusters: its `fixed` name (guided themes), else its top three
/// c-TF-IDF terms' labels joined by `/` (`cluster_C` when it has none), made unique.
pub fn theme_names(terms: &[ClusterTerm], k: usize, fixed: &[Option<String>]) -> Vec<String> {
    let mut names: Vec<String> = fixed.iter().flatten().cloned().collect();
    let mut out = Vec::with_capacity(k);
    for c in 0..k as u32 {
        if let Some(name) = &fixed[c as usize] {
            out.push(name.clone());
            continue;
        }
        let labels: Vec<&str> = terms
            .iter()
            .filter(|t| t.cluster == c && t.measure == Measure::Ctfidf)
            .take(3)
            .map(|t| t.label.as_str())
            .collect();
        let mut name = if labels.is_empty() {
            format!("cluster_{c}")
        } else {
            labels.join("/")
        };
        if names.contains(&name) || name == UNASSIGNED {
            name = format!("{name} #{c}");
        }
        names.push(name.clone());
        out.push(name);
    }
    out
}

/// `rows` (one row per term of `terms`) as rows over `vocab`'s kept terms: a term not in
/// `terms` gets zeros.
fn by_term(terms: &[String], rows: &Array2<f64>, vocab: &Vocabulary) -> Array2<f64> {
    let kept = vocab.terms.iter().filter(|x| x.kept());
    let mut out = Array2::<f64>::zeros((vocab.n_kept(), rows.ncols()));
    for (j, x) in kept.enumerate() {
        if let Ok(i) = terms.binary_search_by(|y| y.as_str().cmp(&x.term)) {
            if i < rows.nrows() {
                out.row_mut(j).assign(&rows.row(i));
            }
        }
    }
    out
}

/// Positions of the rows of `m` that hold at least one term.
fn nonempty_rows(m: &SparseRows) -> Vec<usize> {
    (0..m.n_rows())
        .filter(|&r| !m.row(r).0.is_empty())
        .collect()
}

/// The rows `rows` of `x` (all `n_rows` of them without a copy).
fn take_rows(x: Array2<f64>, rows: &[usize], n_rows: usize) -> Array2<f64> {
    if rows.len() == n_rows {
        return x;
    }
    // in place: each kept row moves up to its new position (`rows` is increasing), so no
    // second matrix of the embedding's size exists
    let d = x.ncols();
    if !x.is_standard_layout() {
        return x.select(ndarray::Axis(0), rows);
    }
    let (mut data, offset) = x.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    data.drain(..start);
    for (i, &r) in rows.iter().enumerate() {
        if i != r {
            data.copy_within(r * d..(r + 1) * d, i * d);
        }
    }
    data.truncate(rows.len() * d);
    Array2::from_shape_vec((rows.len(), d), data).expect("rows × d")
}

/// The rows `rows` of `m` as dense rows over the kept columns (`cols`, `n_cols` wide).
fn dense_rows(m: &SparseRows, cols: &[u32], n_cols: usize, rows: &[usize]) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((rows.len(), n_cols));
    for (i, &r) in rows.iter().enumerate() {
        let (ids, w) = m.row(r);
        for (&t, &v) in ids.iter().zip(w) {
            x[[i, cols[t as usize] as usize]] = v;
        }
    }
    x
}

/// TF-IDF rows (over `vocab`) in the space a clustering ran in — its LSA basis, or the kept
/// terms — with the positions of the rows that hold a kept term (the others have no place in
/// it). [`cluster`] embeds its rows in the same way, so a fitted model embeds the rows it was
/// fitted on as it did.
pub fn embed(
    m: &SparseRows,
    vocab: &Vocabulary,
    basis: Option<&LsaBasis>,
) -> (Array2<f64>, Vec<usize>) {
    let (cols, n_cols) = vocab.columns();
    let nonempty = nonempty_rows(m);
    let x = match basis {
        Some(b) => take_rows(
            lsa::transform(m, &cols, &b.components),
            &nonempty,
            m.n_rows(),
        ),
        None => dense_rows(m, &cols, n_cols, &nonempty),
    };
    (x, nonempty)
}

/// Guided mode's floors, `(cluster.min_similarity, cluster.min_margin)`; discover mode has
/// none.
pub fn floors(p: &ClusterParams) -> Option<(f64, f64)> {
    (p.mode == Mode::Guided).then_some((p.min_similarity, p.min_margin))
}

/// The cluster, similarity, margin and status of a row.
pub type Placement = (Option<u32>, f64, f64, AssignmentStatus);

/// Place each of `n_rows` rows: `x` holds the embedded rows at positions `rows` (the others
/// have no term: [`AssignmentStatus::NoTerms`]); each goes to the centroid of highest cosine
/// similarity, unless `floors` (guided mode) leave it unassigned.
pub fn assign(
    x: &Array2<f64>,
    rows: &[usize],
    n_rows: usize,
    centroids: &Array2<f64>,
    floors: Option<(f64, f64)>,
) -> Vec<Placement> {
    let sims = x.dot(&centroids.t()); // rows × k
    let mut best: Vec<Placement> = vec![(None, 0.0, 0.0, AssignmentStatus::NoTerms); n_rows];
    for (i, &r) in rows.iter().enumerate() {
        let row = sims.row(i).to_vec();
        let (c, sim, margin) = best_of(&row);
        best[r] = match (c, floors) {
            (None, _) => (None, sim, margin, AssignmentStatus::LowSimilarity),
            (Some(_), Some((min_sim, _))) if sim < min_sim => {
                (None, sim, margin, AssignmentStatus::LowSimilarity)
            }
            (Some(_), Some((_, min_margin))) if margin < min_margin => {
                (None, sim, margin, AssignmentStatus::LowMargin)
            }
            (Some(_), _) => (c, sim, margin, AssignmentStatus::Assigned),
        };
    }
    best
}

/// The best cluster of one row from its similarities: (cluster, similarity, margin).
/// Ties go to the lower cluster id; a row with no positive similarity has no cluster.
fn best_of(sims: &[f64]) -> (Option<u32>, f64, f64) {
    let mut top = 0;
    for c in 1..sims.len() {
        if sims[c] > sims[top] {
            top = c;
        }
    }
    if sims.is_empty() || sims[top] <= 0.0 {
        return (None, 0.0, 0.0);
    }
    let runner_up = (0..sims.len())
        .filter(|&c| c != top)
        .map(|c| sims[c])
        .fold(f64::NEG_INFINITY, f64::max);
    let margin = if sims.len() == 1 {
        sims[top]
    } else {
        sims[top] - runner_up
    };
    (Some(top as u32), sims[top], margin)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyze::{AnalyzerParams, StopWords, TermCounts};
    use crate::model::{Named, Role, SeedState, SweepRow};
    use crate::tfidf::{self, DocFreq, TfidfParams};
    use crate::Silent;

    #[test]
    fn take_rows_keeps_the_rows_in_order_in_place_or_not() {
        let x = Array2::from_shape_fn((5, 3), |(i, j)| (10 * i + j) as f64);
        assert_eq!(take_rows(x.clone(), &[0, 1, 2, 3, 4], 5), x);
        let want = x.select(ndarray::Axis(0), &[1, 2, 4]);
        assert_eq!(take_rows(x.clone(), &[1, 2, 4], 5), want);
        assert_eq!(take_rows(x.clone(), &[], 5).dim(), (0, 3));
        // a view that starts inside its buffer, and one in column-major order
        let sliced = x.slice(ndarray::s![1.., ..]).to_owned();
        assert_eq!(
            take_rows(sliced, &[0, 3], 4),
            x.select(ndarray::Axis(0), &[1, 4])
        );
        use ndarray::ShapeBuilder;
        let mut fortran = Array2::<f64>::zeros((5, 3).f());
        fortran.assign(&x);
        assert!(!fortran.is_standard_layout());
        assert_eq!(take_rows(fortran, &[1, 2, 4], 5), want);
    }

    /// Two passages per theme of the example, and an empty one (also the fitted model's tests).
    pub(crate) const TEXTS: &[&str] = &[
        "the doctrine of resistance and ideology",
        "ideology and revolutionary doctrine shape policy",
        "talks and negotiation with america",
        "nuclear negotiation and talks with washington",
        "the succession of the supreme leader",
        "who will be successor after the leader dies: succession",
        "",
    ];

    const THEMES: &[(&str, &[&str])] = &[
        ("doctrine", &["doctrine", "ideology"]),
        ("negotiation", &["negotiations", "talks"]),
        ("succession", &["succession", "successor"]),
    ];

    fn themes(list: &[(&str, &[&str])]) -> Vec<Theme> {
        list.iter()
            .map(|(name, seeds)| Theme {
                name: name.to_string(),
                seeds: seeds.iter().map(|s| s.to_string()).collect(),
            })
            .collect()
    }

    /// Guided settings over [`THEMES`], changed by `f`.
    fn guided(f: impl FnOnce(&mut ClusterParams)) -> ClusterParams {
        let mut p = ClusterParams {
            themes: themes(THEMES),
            ..Default::default()
        };
        f(&mut p);
        p.check().unwrap();
        p
    }

    /// Discover settings, changed by `f`.
    fn discover(f: impl FnOnce(&mut ClusterParams)) -> ClusterParams {
        let mut p = ClusterParams {
            mode: Mode::Discover,
            ..Default::default()
        };
        f(&mut p);
        p
    }

    fn analyzer() -> Analyzer {
        Analyzer::new(&AnalyzerParams {
            stop_words: StopWords::Sklearn,
            ..Default::default()
        })
        .unwrap()
    }

    fn weigh(texts: &[&str], t: &TfidfParams) -> (Vocabulary, SparseRows) {
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        let counts = TermCounts::partial(&analyzer(), &ids, texts, &Silent).finish();
        tfidf::fit(&counts, t).unwrap()
    }

    fn fit_with(
        p: &ClusterParams,
        t: &TfidfParams,
        texts: &[&str],
    ) -> Result<Clustering, ClusterError> {
        let (v, m) = weigh(texts, t);
        cluster(&m, &v, &analyzer(), p)
    }

    fn fit(p: &ClusterParams) -> Result<Clustering, ClusterError> {
        fit_with(p, &TfidfParams::default(), TEXTS)
    }

    #[test]
    fn cluster_terms_by_both_measures() {
        let c = fit(&guided(|_| {})).unwrap();
        for measure in [Measure::MeanTfidf, Measure::Ctfidf] {
            for cl in 0..3 {
                let ranks: Vec<u32> = c
                    .terms
                    .iter()
                    .filter(|t| t.cluster == cl && t.measure == measure)
                    .map(|t| t.rank)
                    .collect();
                assert!(!ranks.is_empty());
                assert_eq!(ranks, (1..=ranks.len() as u32).collect::<Vec<_>>());
            }
        }
        // labels are surface forms, not stems
        let neg: Vec<&str> = c
            .terms
            .iter()
            .filter(|t| t.cluster == 1 && t.measure == Measure::Ctfidf)
            .map(|t| t.label.as_str())
            .collect();
        assert!(neg.contains(&"negotiation"), "{neg:?}");
        assert!(c.clusters[1].top_terms.contains("negotiation"));
    }

    #[test]
    fn seed_status_reasons_label_and_df() {
        // min_df = 2 prunes terms of one passage ("shape", "america", ...)
        let p = guided(|p| {
            p.themes = themes(&[
                ("a", &["doctrine", "the", "zebra", "shape"]),
                ("b", &["negotiations", "talks"]),
            ])
        });
        let t = TfidfParams {
            min_df: DocFreq::Count(2),
            ..Default::default()
        };
        let c = fit_with(&p, &t, TEXTS).unwrap();
        let st: Vec<(&str, &str, u32)> = c
            .seeds
            .iter()
            .map(|s| (s.status.name(), s.label.as_str(), s.df))
            .collect();
        assert_eq!(
            st,
            [
                ("live", "doctrine", 2),
                ("stop_word", "", 0),
                ("unseen", "", 0),
                ("pruned", "shape", 1),
                ("live", "negotiation", 2),
                ("live", "talks", 2),
            ]
        );
        // theme a has one live seed: a warning naming the others and why
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let w = &c.warnings[0];
        assert!(
            w.contains("\"a\" has 1 live seed word(s) of 4")
                && w.contains("the (stop_word)")
                && w.contains("zebra (unseen)")
                && w.contains("shape (pruned)"),
            "{w}"
        );
        // with min_live_seeds = 1 there is none
        let p = guided(|p| {
            p.min_live_seeds = 1;
            p.themes = themes(&[("a", &["doctrine", "zebra"]), ("b", &["talks"])]);
        });
        assert!(fit(&p).unwrap().warnings.is_empty());
    }

    #[test]
    fn theme_strength_counts_seed_passages_and_members() {
        let c = fit(&guided(|_| {})).unwrap();
        let (v, m) = weigh(TEXTS, &TfidfParams::default());
        let s = theme_strength(&m, &v, &c);
        assert_eq!(s.len(), 3);
        // doctrine: seeds doctrine, ideology — both in passages 0 and 1 only
        assert_eq!(
            (
                s[0].seeds,
                s[0].live_seeds,
                s[0].seed_passages,
                s[0].members
            ),
            (2, 2, 2, 2)
        );
        assert_eq!(s[0].members_with_seeds, 2);
        let mean = (c.assignments[0].similarity + c.assignments[1].similarity) / 2.0;
        assert!((s[0].mean_similarity - mean).abs() < 1e-6);
        // succession: "succession" and "successor" in passages 4 and 5
        assert_eq!((s[2].seed_passages, s[2].members_with_seeds), (2, 2));
    }

    #[test]
    fn unassigned_by_floor_and_by_margin() {
        let open = fit(&guided(|p| {
            p.min_similarity = 0.0;
            p.min_margin = 0.0;
        }))
        .unwrap();
        let mut sims: Vec<f64> = open.assignments[..6].iter().map(|a| a.similarity).collect();
        sims.sort_by(f64::total_cmp);
        let floor = (sims[2] + sims[3]) / 2.0;
        let c = fit(&guided(|p| {
            p.min_similarity = floor;
            p.min_margin = 0.0;
        }))
        .unwrap();
        let low: Vec<&Assignment> = c
            .assignments
            .iter()
            .filter(|a| a.status == AssignmentStatus::LowSimilarity)
            .collect();
        assert!(!low.is_empty() && low.len() < 6, "{low:?}");
        for a in &c.assignments[..6] {
            match a.status {
                AssignmentStatus::Assigned => {
                    assert!(a.similarity >= floor && a.cluster.is_some())
                }
                AssignmentStatus::LowSimilarity => {
                    assert!(a.similarity < floor && a.similarity > 0.0, "{a:?}");
                    assert_eq!((a.cluster, a.theme.as_str()), (None, UNASSIGNED));
                }
                other => panic!("{other}"),
            }
        }
        assert_eq!(c.assignments[6].status, AssignmentStatus::NoTerms);
        // sizes count assigned passages only
        let assigned = c.assignments.iter().filter(|a| a.cluster.is_some()).count();
        assert_eq!(
            c.clusters.iter().map(|c| c.size as usize).sum::<usize>(),
            assigned
        );

        let mut margins: Vec<f64> = open.assignments[..6].iter().map(|a| a.margin).collect();
        margins.sort_by(f64::total_cmp);
        let cut = (margins[1] + margins[2]) / 2.0;
        let c = fit(&guided(|p| {
            p.min_similarity = 0.0;
            p.min_margin = cut;
        }))
        .unwrap();
        let low = c
            .assignments
            .iter()
            .filter(|a| a.status == AssignmentStatus::LowMargin)
            .inspect(|a| assert!(a.margin < cut && a.cluster.is_none(), "{a:?}"))
            .count();
        assert_eq!(low, 2);
        assert!(c.assignments[..6]
            .iter()
            .filter(|a| a.status == AssignmentStatus::Assigned)
            .all(|a| a.margin >= cut));
    }

    #[test]
    fn extra_clusters_take_off_theme_passages() {
        let mut texts = TEXTS.to_vec();
        texts.extend([
            "football match ended with a late goal",
            "the goal keeper saved the football match",
        ]);
        let p = guided(|p| {
            p.extra_clusters = 1;
            p.min_similarity = 0.0;
        });
        let c = fit_with(&p, &TfidfParams::default(), &texts).unwrap();
        assert_eq!(c.clusters.len(), 4);
        let extra = &c.clusters[3];
        assert!(
            extra.theme.contains("football") || extra.theme.contains("goal"),
            "{extra:?}"
        );
        assert_eq!(c.assignments[7].cluster, Some(3));
        assert_eq!(c.assignments[8].cluster, Some(3));
        for (i, want) in [0, 0, 1, 1, 2, 2].iter().enumerate() {
            assert_eq!(c.assignments[i].cluster, Some(*want), "{i}");
        }
        assert_eq!(fit_with(&p, &TfidfParams::default(), &texts).unwrap(), c);
    }

    #[test]
    fn seed_weight_one_keeps_the_seed_vectors() {
        let p = guided(|p| p.seed_weight = 1.0);
        let c = fit(&p).unwrap();
        let (v, m) = weigh(TEXTS, &TfidfParams::default());
        let (seeds, _) = seed_centroids(&p.themes, &analyzer(), &v).unwrap();
        let (cols, _) = v.columns();
        // similarity = cosine of the passage with its theme's seed vector
        for (r, asg) in c.assignments[..6].iter().enumerate() {
            let (ids, w) = m.row(r);
            let k = asg.cluster.unwrap() as usize;
            let dot: f64 = ids
                .iter()
                .zip(w)
                .map(|(&t, &x)| x * seeds[[k, cols[t as usize] as usize]])
                .sum();
            assert!((asg.similarity - dot).abs() < 1e-12, "{r}");
        }
    }

    #[test]
    fn auto_k_sweeps_the_range_and_keeps_the_chosen_fit() {
        let p = discover(|p| {
            p.k = Some(K::Auto);
            p.k_min = 2;
            p.k_max = 4;
        });
        let c = fit(&p).unwrap();
        assert_eq!(c.sweep.iter().map(|r| r.k).collect::<Vec<_>>(), [2, 3, 4]);
        let chosen: Vec<&SweepRow> = c.sweep.iter().filter(|r| r.chosen).collect();
        assert_eq!(chosen.len(), 1);
        assert_eq!(c.clusters.len(), chosen[0].k);
        // a choice at an end of the range is a warning
        let at_end = chosen[0].k == 2 || chosen[0].k == 4;
        assert_eq!(c.warnings.len(), usize::from(at_end), "{:?}", c.warnings);
        for r in &c.sweep {
            assert!((-1.0..=1.0).contains(&r.silhouette), "{r:?}");
            assert!(
                r.calinski_harabasz >= 0.0 && r.davies_bouldin >= 0.0,
                "{r:?}"
            );
        }
        assert_eq!(fit(&p).unwrap(), c);
        // the range is cut to what the passages allow; a range beyond them is an error
        let p = discover(|p| {
            p.k = Some(K::Auto);
            p.k_max = 50;
        });
        assert_eq!(fit(&p).unwrap().sweep.last().unwrap().k, 5);
        let p = discover(|p| {
            p.k = Some(K::Auto);
            p.k_min = 7;
            p.k_max = 9;
        });
        assert!(matches!(
            fit(&p),
            Err(ClusterError::TooFewPassages { k: 7, n: 6 })
        ));
    }

    #[test]
    fn guided_clusters_keep_theme_names() {
        let c = fit(&guided(|_| {})).unwrap();
        let themes: Vec<&str> = c.assignments.iter().map(|a| a.theme.as_str()).collect();
        assert_eq!(
            themes,
            [
                "doctrine",
                "doctrine",
                "negotiation",
                "negotiation",
                "succession",
                "succession",
                UNASSIGNED
            ]
        );
        assert_eq!(
            c.clusters.iter().map(|c| c.size).collect::<Vec<_>>(),
            [2, 2, 2]
        );
        for a in &c.assignments[..6] {
            assert!(
                a.similarity > 0.0 && a.similarity <= 1.0 + 1e-12 && a.margin > 0.0,
                "{a:?}"
            );
        }
        assert_eq!(c.assignments[6].cluster, None);
        assert_eq!(c.seeds.len(), 6);
        assert!(c.seeds.iter().all(|s| s.status == SeedState::Live));
        let doctrine_terms: Vec<&str> = c
            .terms
            .iter()
            .filter(|t| t.cluster == 0)
            .map(|t| t.term.as_str())
            .collect();
        assert!(
            doctrine_terms[..2].contains(&"doctrin"),
            "{doctrine_terms:?}"
        );
    }

    #[test]
    fn seed_diagnostics_and_dead_theme() {
        let p = guided(|p| {
            p.themes = themes(&[("a", &["doctrine", "the", "zebra"]), ("b", &["talks"])])
        });
        let c = fit(&p).unwrap();
        let st: Vec<&str> = c.seeds.iter().map(|s| s.status.name()).collect();
        assert_eq!(st, ["live", "stop_word", "unseen", "live"]);
        let p = guided(|p| p.themes = themes(&[("a", &["zebra"]), ("b", &["talks"])]));
        let e = fit(&p).unwrap_err().to_string();
        assert!(e.contains("\"a\"") && e.contains("zebra (unseen)"), "{e}");
    }

    #[test]
    fn discover_is_deterministic_and_names_clusters() {
        let p = discover(|p| {
            p.k = Some(K::Fixed(3));
            p.seed = 7;
        });
        let a = fit(&p).unwrap();
        let b = fit(&p).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.clusters.len(), 3);
        assert!(a
            .clusters
            .iter()
            .all(|c| c.theme.contains('/') || c.theme.starts_with("cluster_")));
        let assigned = a.assignments.iter().filter(|x| x.cluster.is_some()).count();
        assert_eq!(assigned, 6);
    }

    #[test]
    fn a_fit_restarted_from_its_own_clusters_keeps_them() {
        for reduce in [Reduce::None, Reduce::Lsa] {
            let p = discover(|p| {
                p.k = Some(K::Fixed(3));
                p.seed = 7;
                p.reduce = reduce;
                p.lsa_dims = 5;
            });
            let (v, m) = weigh(TEXTS, &TfidfParams::default());
            let a = cluster(&m, &v, &analyzer(), &p).unwrap();
            // the fit's clusters by term, as a previous run's are read back
            let terms: Vec<String> = v
                .terms
                .iter()
                .filter(|x| x.kept())
                .map(|x| x.term.clone())
                .collect();
            let centroids = match &a.lsa {
                Some(l) => a.centroids.dot(&l.components.t()),
                None => a.centroids.clone(),
            };
            let start = Start {
                terms: &terms,
                centroids: &centroids,
                components: a.lsa.as_ref().map(|l| &l.components),
            };
            let b = cluster_from(&m, &v, &analyzer(), &p, Some(start)).unwrap();
            let of = |c: &Clustering| c.assignments.iter().map(|x| x.cluster).collect::<Vec<_>>();
            assert_eq!(of(&a), of(&b), "{reduce:?}");
            assert!(b.warnings.is_empty(), "{:?}", b.warnings);
            // another k: k-means++ as without a start, and a warning
            let p4 = discover(|q| {
                q.k = Some(K::Fixed(2));
                q.seed = 7;
                q.reduce = reduce;
                q.lsa_dims = 5;
            });
            let c = cluster_from(&m, &v, &analyzer(), &p4, Some(start)).unwrap();
            assert_eq!(c.clusters.len(), 2);
            if reduce == Reduce::None {
                // (in LSA space the basis still starts from the previous one)
                let plain = cluster(&m, &v, &analyzer(), &p4).unwrap();
                assert_eq!(of(&c), of(&plain));
            }
            assert!(
                c.warnings[0].contains("k-means starts afresh"),
                "{:?}",
                c.warnings
            );
        }
    }

    #[test]
    fn merging_joins_the_most_similar_themes_and_keeps_the_tables_consistent() {
        let plain = fit(&guided(|_| {})).unwrap();
        assert!(plain.merges.is_empty());
        assert_eq!(plain.hierarchy.len(), 2);
        // the dendrogram's first join is the pair merge_to = 2 merges
        let first = &plain.hierarchy[0];
        let (a, b) = (first.left as usize, first.right as usize);
        let c = fit(&guided(|p| p.merge_to = Some(2))).unwrap();
        assert_eq!(c.clusters.len(), 2);
        assert_eq!(c.centroids.nrows(), 2);
        assert_eq!(c.hierarchy.len(), 1);
        let joined = format!("{}+{}", THEMES[a].0, THEMES[b].0);
        assert_eq!(c.merges.len(), 1);
        let m = &c.merges[0];
        assert_eq!(m.from, [THEMES[a].0, THEMES[b].0]);
        assert_eq!((m.into.as_str(), m.into_cluster), (joined.as_str(), 0));
        assert_eq!(m.similarity, first.similarity);
        assert_eq!(c.clusters[0].theme, joined);
        // the merged theme holds both themes' passages; every table names it alike
        for (i, was) in plain.assignments.iter().enumerate() {
            let now = &c.assignments[i];
            if was
                .cluster
                .is_some_and(|x| x as usize == a || x as usize == b)
            {
                assert_eq!(now.theme, joined, "{i}");
            }
            if let Some(x) = now.cluster {
                assert_eq!(now.theme, c.clusters[x as usize].theme);
            }
        }
        let sizes: Vec<u32> = (0..2u32)
            .map(|x| {
                c.assignments
                    .iter()
                    .filter(|y| y.cluster == Some(x))
                    .count() as u32
            })
            .collect();
        assert_eq!(c.clusters.iter().map(|x| x.size).collect::<Vec<_>>(), sizes);
        assert!(c.terms.iter().all(|t| t.cluster < 2));
        // the seed words of both themes now belong to the merged one
        let seeds = c.seeds.iter().filter(|s| s.theme == joined).count();
        assert_eq!(seeds, 4);
        // passages go to the merged centroids as a fitted model places them
        let (v, mm) = weigh(TEXTS, &TfidfParams::default());
        let (x, rows) = embed(&mm, &v, c.lsa.as_ref());
        let again = assign(
            &x,
            &rows,
            mm.n_rows(),
            &c.centroids,
            floors(&guided(|_| {})),
        );
        let got: Vec<Option<u32>> = c.assignments.iter().map(|x| x.cluster).collect();
        assert_eq!(got, again.iter().map(|x| x.0).collect::<Vec<_>>());
        // a threshold: merge_above at the first join's similarity merges the same pair
        let at = first.similarity;
        let d = fit(&guided(|p| p.merge_above = Some(at))).unwrap();
        let joins = plain
            .hierarchy
            .iter()
            .filter(|h| h.similarity >= at)
            .count();
        assert_eq!(d.clusters.len(), 3 - joins);
        assert_eq!(d.merges[0].from, m.from);
        let e = fit(&guided(|p| p.merge_above = Some(1.0))).unwrap();
        assert_eq!(e.clusters.len(), 3);
        assert!(e.merges.is_empty());
        // discover mode: merged clusters are named by their top terms again
        let p = discover(|p| {
            p.k = Some(K::Fixed(3));
            p.seed = 7;
            p.merge_to = Some(1);
        });
        let f = fit(&p).unwrap();
        assert_eq!(f.clusters.len(), 1);
        assert_eq!(f.merges.len(), 2);
        assert!(f.clusters[0].theme.contains('/'), "{}", f.clusters[0].theme);
        assert_eq!(f.merges[1].into, f.clusters[0].theme);
        assert!(f.hierarchy.is_empty());
        assert_eq!(fit(&p).unwrap(), f);
    }

    #[test]
    fn best_of_picks_max_with_margin_and_ties_low() {
        assert_eq!(best_of(&[0.2, 0.5, 0.1]), (Some(1), 0.5, 0.3));
        assert_eq!(best_of(&[0.4, 0.4]), (Some(0), 0.4, 0.0));
        assert_eq!(best_of(&[0.0, 0.0]), (None, 0.0, 0.0));
        assert_eq!(best_of(&[0.7]), (Some(0), 0.7, 0.7));
    }

    /// Sum of each row's contributions to each centroid, against the similarities the
    /// passages were placed by (`x · c`), for a clustering fitted with `p`.
    fn explanation_error(p: &ClusterParams) -> (Clustering, f64) {
        let (v, m) = weigh(TEXTS, &TfidfParams::default());
        let c = cluster(&m, &v, &analyzer(), p).unwrap();
        let components = c.lsa.as_ref().map(|b| &b.components);
        let (x, rows) = embed(&m, &v, c.lsa.as_ref());
        let sims = x.dot(&c.centroids.t());
        let parts = decompose(&m, &v, &c.centroids, components);
        let mut worst: f64 = 0.0;
        for (i, &r) in rows.iter().enumerate() {
            for k in 0..c.centroids.nrows() {
                let sum: f64 = parts[r][k].iter().map(|t| t.1).sum();
                worst = worst.max((sum - sims[[i, k]]).abs());
            }
        }
        // the row without terms has no contribution to anything
        assert!(parts[6].iter().all(Vec::is_empty));
        (c, worst)
    }

    #[test]
    fn contributions_sum_to_the_similarity_exactly_in_tfidf_space() {
        for p in [
            guided(|p| p.reduce = Reduce::None),
            discover(|p| {
                p.k = Some(K::Fixed(3));
                p.reduce = Reduce::None;
            }),
        ] {
            let (c, worst) = explanation_error(&p);
            assert!(c.space.starts_with("tfidf"), "{}", c.space);
            assert!(worst < 1e-9, "{worst}");
            // and each assignment's similarity is what its nearest explanation explains
            for a in &c.assignments {
                let near: Vec<_> = c
                    .explanations
                    .iter()
                    .filter(|e| e.passage_id == a.passage_id && e.role == Role::Nearest)
                    .collect();
                if a.status == AssignmentStatus::NoTerms {
                    assert!(near.is_empty());
                    continue;
                }
                assert!(!near.is_empty(), "passage {}", a.passage_id);
                for e in &near {
                    assert_eq!(e.similarity, a.similarity);
                    if let Some(cl) = a.cluster {
                        assert_eq!(e.cluster, cl);
                    }
                }
            }
        }
    }

    #[test]
    fn contributions_sum_to_the_similarity_in_lsa_space_to_rounding() {
        let (c, worst) = explanation_error(&guided(|p| {
            p.reduce = Reduce::Lsa;
            p.lsa_dims = 5;
        }));
        assert!(c.space.starts_with("lsa"), "{}", c.space);
        assert!(worst < 1e-9, "{worst}");
        assert!(!c.explanations.is_empty());
    }

    #[test]
    fn explanations_are_the_top_terms_by_role_ranked_and_tied_by_term() {
        let p = guided(|p| {
            p.reduce = Reduce::None;
            p.explain_terms = 2;
        });
        let (v, m) = weigh(TEXTS, &TfidfParams::default());
        let c = cluster(&m, &v, &analyzer(), &p).unwrap();
        let parts = decompose(&m, &v, &c.centroids, None);
        for (r, &pid) in m.row_ids.iter().enumerate() {
            for role in [Role::Nearest, Role::RunnerUp] {
                let got: Vec<_> = c
                    .explanations
                    .iter()
                    .filter(|e| e.passage_id == pid && e.role == role)
                    .collect();
                assert!(got.len() <= 2);
                let Some(first) = got.first() else { continue };
                assert_eq!(
                    got.iter().map(|e| e.rank).collect::<Vec<_>>(),
                    (1..=got.len() as u32).collect::<Vec<_>>()
                );
                // the largest non-zero contributions, ties by term id
                let mut all: Vec<(u32, f64)> = parts[r][first.cluster as usize]
                    .iter()
                    .copied()
                    .filter(|t| t.1 != 0.0)
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let want: Vec<(u32, f64)> = all.into_iter().take(2).collect();
                let have: Vec<(u32, f64)> =
                    got.iter().map(|e| (e.term_id, e.contribution)).collect();
                assert_eq!(have, want);
                for e in &got {
                    let (ids, w) = m.row(r);
                    let at = ids.iter().position(|&t| t == e.term_id).unwrap();
                    assert_eq!(e.weight, w[at]);
                }
            }
            // the runner-up is another cluster than the nearest
            let clusters: Vec<(Role, u32)> = c
                .explanations
                .iter()
                .filter(|e| e.passage_id == pid && e.rank == 1)
                .map(|e| (e.role, e.cluster))
                .collect();
            if let [(Role::Nearest, a), (Role::RunnerUp, b)] = clusters[..] {
                assert_ne!(a, b);
            }
        }
        // none when asked for none
        let none = cluster(&m, &v, &analyzer(), &guided(|p| p.explain_terms = 0)).unwrap();
        assert!(none.explanations.is_empty());
    }

    #[test]
    fn two_nearest_agrees_with_the_assignment_rule() {
        for sims in [
            vec![0.2, 0.5, 0.1],
            vec![0.4, 0.4],
            vec![0.0, 0.0],
            vec![0.7],
            vec![0.3, 0.1, 0.3, 0.3],
        ] {
            let (c, sim, margin) = best_of(&sims);
            match two_nearest(&sims) {
                None => assert_eq!(c, None),
                Some((top, second)) => {
                    assert_eq!(c, Some(top as u32));
                    assert_eq!(sim, sims[top]);
                    if let Some(s) = second {
                        assert_ne!(s, top);
                        assert_eq!(margin, sims[top] - sims[s]);
                    } else {
                        assert_eq!(sims.len(), 1);
                    }
                }
            }
        }
        assert_eq!(two_nearest(&[0.3, 0.1, 0.3, 0.3]), Some((0, Some(2))));
    }

    #[test]
    fn lsa_gives_the_same_themes_on_a_small_corpus() {
        let exact = fit(&guided(|p| p.reduce = Reduce::None)).unwrap();
        let lsa = fit(&guided(|p| {
            p.reduce = Reduce::Lsa;
            p.lsa_dims = 5;
        }))
        .unwrap();
        assert!(exact.space.starts_with("tfidf"), "{}", exact.space);
        assert_eq!(lsa.space, "lsa (5 dimensions)");
        let themes = |c: &Clustering| {
            c.assignments
                .iter()
                .map(|a| a.theme.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(themes(&exact), themes(&lsa));
    }

    #[test]
    fn too_many_clusters_is_an_error() {
        let p = discover(|p| p.k = Some(K::Fixed(7)));
        assert!(fit(&p)
            .unwrap_err()
            .to_string()
            .contains("cannot form 7 clusters"));
    }

    #[test]
    fn checks_name_the_key() {
        let key = |p: &ClusterParams| p.check().map_err(|e| e.key);
        assert_eq!(key(&guided(|_| {})), Ok(()));
        // floor, margin and seed weight lie in [0, 1]
        for (name, set) in [
            (
                "cluster.min_similarity",
                (|p, v| p.min_similarity = v) as fn(&mut ClusterParams, f64),
            ),
            ("cluster.min_margin", |p, v| p.min_margin = v),
            ("cluster.seed_weight", |p, v| p.seed_weight = v),
        ] {
            for (v, ok) in [(-0.1, false), (1.5, false), (0.0, true), (1.0, true)] {
                let mut p = guided(|_| {});
                set(&mut p, v);
                assert_eq!(key(&p).is_ok(), ok, "{name} = {v}");
                if !ok {
                    assert_eq!(key(&p), Err(name.to_string()));
                }
            }
        }
        let bad = |f: fn(&mut ClusterParams)| {
            let mut p = guided(|_| {});
            f(&mut p);
            key(&p).unwrap_err()
        };
        assert_eq!(bad(|p| p.min_live_seeds = 0), "cluster.min_live_seeds");
        assert_eq!(bad(|p| p.n_runs = 0), "cluster.n_runs");
        assert_eq!(bad(|p| p.max_iterations = 0), "cluster.max_iterations");
        assert_eq!(bad(|p| p.tolerance = -1.0), "cluster.tolerance");
        assert_eq!(bad(|p| p.top_terms = 0), "cluster.top_terms");
        assert_eq!(
            bad(|p| p.explain_terms = MAX_EXPLAIN_TERMS + 1),
            "cluster.explain_terms"
        );
        assert_eq!(bad(|p| p.lsa_dims = 0), "cluster.lsa_dims");
        assert_eq!(bad(|p| p.merge_above = Some(1.5)), "cluster.merge_above");
        assert_eq!(bad(|p| p.merge_above = Some(-0.1)), "cluster.merge_above");
        assert_eq!(bad(|p| p.merge_to = Some(0)), "cluster.merge_to");
        assert_eq!(bad(|p| p.k = Some(K::Auto)), "cluster.k");
        assert_eq!(bad(|p| p.k = Some(K::Fixed(2))), "cluster.k");
        assert_eq!(bad(|p| p.themes.clear()), "themes");
        assert_eq!(
            bad(|p| p.themes[0].seeds = vec![" ".into()]),
            "themes.doctrine"
        );
        assert_eq!(
            bad(|p| p.themes[0].name = UNASSIGNED.into()),
            "themes.unassigned"
        );
        // discover: k is needed; "auto" needs k_min ≥ 2 and k_min ≤ k_max; no extra clusters
        assert_eq!(key(&discover(|_| {})), Err("cluster.k".into()));
        assert_eq!(
            key(&discover(|p| p.k = Some(K::Fixed(0)))),
            Err("cluster.k".into())
        );
        let auto = |f: fn(&mut ClusterParams)| {
            key(&discover(|p| {
                p.k = Some(K::Auto);
                f(p)
            }))
        };
        assert_eq!(auto(|_| {}), Ok(()));
        assert_eq!(auto(|p| p.k_min = 1), Err("cluster.k_min".into()));
        assert_eq!(
            auto(|p| {
                p.k_min = 5;
                p.k_max = 4
            }),
            Err("cluster.k_max".into())
        );
        assert_eq!(
            auto(|p| {
                p.k_min = 4;
                p.k_max = 4
            }),
            Ok(())
        );
        assert_eq!(
            key(&discover(|p| {
                p.k = Some(K::Fixed(3));
                p.extra_clusters = 1
            })),
            Err("cluster.extra_clusters".into())
        );
        // extra clusters count in n_clusters
        assert_eq!(guided(|p| p.extra_clusters = 2).n_clusters(), Some(5));
        assert_eq!(discover(|p| p.k = Some(K::Auto)).n_clusters(), None);
    }
}
