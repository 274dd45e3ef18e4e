//! What clustering says of the passages and of each cluster.

use super::names::named_enum;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Theme name of passages that belong to no cluster.
pub const UNASSIGNED: &str = "unassigned";

named_enum! {
    /// Why a passage has, or has not, a cluster.
    pub enum AssignmentStatus {
        /// It has one.
        Assigned = "assigned",
        /// The passage has no kept term.
        NoTerms = "no_terms",
        /// Its best similarity is below `cluster.min_similarity` (guided), or not positive.
        LowSimilarity = "low_similarity",
        /// Its margin to the runner-up is below `cluster.min_margin` (guided).
        LowMargin = "low_margin",
    }
}

named_enum! {
    /// How a cluster's terms are ranked.
    pub enum Measure {
        /// Mean TF-IDF weight over the cluster's passages: the centroid's heaviest terms.
        MeanTfidf = "mean_tfidf",
        /// Class-based TF-IDF (BERTopic's c-TF-IDF) against the rest of the corpus.
        Ctfidf = "ctfidf",
    }
}

named_enum! {
    /// What became of a seed word.
    pub enum SeedState {
        /// One of its terms is in the kept vocabulary.
        Live = "live",
        /// The analyzer dropped it (a stop word).
        StopWord = "stop_word",
        /// Its terms were seen but pruned.
        Pruned = "pruned",
        /// None of its terms occurs in the corpus.
        Unseen = "unseen",
    }
}

named_enum! {
    /// Which of a passage's two nearest centroids an [`Explanation`] is of.
    pub enum Role {
        /// The centroid of highest similarity: the passage's cluster, or for an unassigned
        /// passage the cluster it came nearest to.
        Nearest = "nearest",
        /// The centroid of the second-highest similarity (ties: the lower cluster id).
        RunnerUp = "runner_up",
    }
}

named_enum! {
    /// What an [`Explanation`]'s contributions are exact for.
    pub enum ExplainSpace {
        /// k-means ran on the TF-IDF rows: a term's contribution is its weight times the
        /// centroid's value for it, and the contributions of all the passage's terms sum to
        /// the similarity exactly.
        Tfidf = "tfidf",
        /// k-means ran on the LSA embedding `z = x V / ‖x V‖`: a term's contribution is
        /// `x_t (V c)_t / ‖x V‖`. They still sum to the similarity (to rounding), but the
        /// similarity is a cosine in the reduced space: this maps it back to terms, and a
        /// term can contribute through dimensions it shares with others (also negatively).
        Lsa = "lsa",
    }
}

/// One of a passage's top contributing terms to one of its two nearest centroids. The
/// cosine similarity of an L2-normalised row to a unit centroid is a sum over terms, and
/// this is one of its summands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Explanation {
    /// The passage.
    pub passage_id: u32,
    /// Its nearest centroid or the runner-up.
    pub role: Role,
    /// The cluster of that centroid.
    pub cluster: u32,
    /// The passage's similarity to that centroid: the sum of the contributions of all its
    /// terms (those listed are the largest).
    pub similarity: f64,
    /// 1 = the largest contribution, per passage and role.
    pub rank: u32,
    /// The term.
    pub term_id: u32,
    /// The passage's TF-IDF weight of the term.
    pub weight: f64,
    /// The term's part of the similarity.
    pub contribution: f64,
}

/// The cluster of one kept passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The passage.
    pub passage_id: u32,
    /// `None` for unassigned passages.
    pub cluster: Option<u32>,
    /// The cluster's theme, or [`UNASSIGNED`].
    pub theme: String,
    /// Cosine similarity to the cluster's centroid (unassigned: to the nearest one).
    pub similarity: f64,
    /// Similarity minus the best similarity to any other centroid.
    pub margin: f64,
    /// Why it has, or has not, a cluster.
    pub status: AssignmentStatus,
}

/// One cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    /// 0-based; in guided mode, the theme's position in the pipeline file.
    pub cluster: u32,
    /// The theme's name, or the cluster's top three c-TF-IDF labels.
    pub theme: String,
    /// Passages assigned.
    pub size: u32,
    /// Labels of the top c-TF-IDF terms, comma-separated.
    pub top_terms: String,
}

/// One of a cluster's top terms by one measure.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTerm {
    /// The cluster.
    pub cluster: u32,
    /// The measure ranked by.
    pub measure: Measure,
    /// 1-based, per cluster and measure.
    pub rank: u32,
    /// The term.
    pub term_id: u32,
    /// The stem.
    pub term: String,
    /// Its display form.
    pub label: String,
    /// The measure's value.
    pub weight: f64,
}

/// What became of one seed word of a guided theme.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedStatus {
    /// The theme.
    pub theme: String,
    /// The seed word as written.
    pub seed: String,
    /// The analysed term(s), space-separated (empty if the analyzer dropped the word).
    pub terms: String,
    /// The display labels of those terms that are in the vocabulary, space-separated: what
    /// the seed actually matches ("succession" is stemmed to the term of "success").
    pub label: String,
    /// Largest vocabulary df among its terms (0 when none was seen).
    pub df: u32,
    /// What became of it.
    pub status: SeedState,
}

/// How strongly a guided theme is supported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeStrength {
    /// The theme.
    pub theme: String,
    /// Its seed words.
    pub seeds: u32,
    /// Of which live.
    pub live_seeds: u32,
    /// Kept passages holding at least one term of a live seed.
    pub seed_passages: u32,
    /// Passages assigned to the theme.
    pub members: u32,
    /// Of which hold a live seed term themselves.
    pub members_with_seeds: u32,
    /// Mean similarity of the members to the theme's centroid (0 without members).
    pub mean_similarity: f64,
}

/// One k of a `k = "auto"` sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// The number of clusters.
    pub k: usize,
    /// Mean silhouette (cosine distance) on a sample; higher is better.
    pub silhouette: f64,
    /// Calinski–Harabasz index; higher is better.
    pub calinski_harabasz: f64,
    /// Davies–Bouldin index; lower is better.
    pub davies_bouldin: f64,
    /// Whether the rule picked this k.
    pub chosen: bool,
}

/// The result of clustering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clustering {
    /// The space k-means ran in, e.g. `tfidf (777 terms)` or `lsa (100 dimensions)`.
    pub space: String,
    /// Every kept passage once, in passage order.
    pub assignments: Vec<Assignment>,
    /// Every cluster.
    pub clusters: Vec<ClusterInfo>,
    /// Top terms of each cluster by each measure.
    pub terms: Vec<ClusterTerm>,
    /// Guided mode: what became of each seed word.
    pub seeds: Vec<SeedStatus>,
    /// `k = "auto"`: the criteria of every k tried.
    pub sweep: Vec<SweepRow>,
    /// Counted warnings (themes with too few live seeds, a k at the end of the range).
    pub warnings: Vec<String>,
    /// The centroids the passages were assigned to, one row per cluster, in the space
    /// k-means ran in: the LSA dimensions of [`Clustering::lsa`], or else the kept TF-IDF
    /// terms in term order (the columns of `Vocabulary::columns`).
    pub centroids: Array2<f64>,
    /// When k-means ran on the LSA embedding: its basis, which embeds new rows.
    pub lsa: Option<LsaBasis>,
    /// Discover mode with a previous run: what became of each theme (see `stable`).
    pub changes: Vec<ThemeChange>,
    /// The themes' dendrogram: one node per merge of average-linkage clustering of the
    /// centroids (see `cluster::hierarchy`), k − 1 of them.
    pub hierarchy: Vec<HierarchyNode>,
    /// `cluster.merge_above` / `cluster.merge_to`: the merges of the fitted themes, in order.
    pub merges: Vec<ThemeMerge>,
    /// The top contributing terms of each passage to its nearest centroid and to the
    /// runner-up (`cluster.explain_terms` per passage and role), by passage, role and rank.
    pub explanations: Vec<Explanation>,
    /// Where the time went: seconds of the LSA fit and of k-means.
    pub seconds: ClusterSeconds,
}

/// One node of the themes' dendrogram: the join of two nodes. Leaves are the clusters
/// `0..k`; the join of step `i` is node `k + i` (as scipy numbers them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HierarchyNode {
    /// This node: `k + i` for the `i`-th join.
    pub node: u32,
    /// The node joined with the lower id.
    pub left: u32,
    /// The other node.
    pub right: u32,
    /// Average-linkage similarity of the two: the mean cosine similarity of the centroids of
    /// every pair of clusters, one under `left` and one under `right`.
    pub similarity: f64,
    /// Clusters under this node.
    pub themes: u32,
    /// Passages assigned to them.
    pub passages: u32,
    /// Their themes, in the dendrogram's leaf order, joined with `" | "`.
    pub members: String,
}

/// One merge of fitted themes (`cluster.merge_above`, `cluster.merge_to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeMerge {
    /// The two nodes joined, each as its fitted themes joined with `+`.
    pub from: Vec<String>,
    /// Their average-linkage similarity.
    pub similarity: f64,
    /// The theme they became part of.
    pub into: String,
    /// Its cluster id.
    pub into_cluster: u32,
}

/// Seconds of the two costly steps of clustering. Timings are not part of the result: any
/// two compare equal, so that two clusterings are equal when their results are.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterSeconds {
    /// The LSA fit (0 without LSA).
    pub lsa: f64,
    /// k-means (every restart, or the sweep of `k = "auto"`).
    pub kmeans: f64,
}

impl PartialEq for ClusterSeconds {
    fn eq(&self, _: &ClusterSeconds) -> bool {
        true
    }
}

/// What became of a theme between the previous run and this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThemeChange {
    /// Its cluster id now (`None`: gone).
    pub cluster: Option<u32>,
    /// Its theme now, or the previous theme when it is gone.
    pub theme: String,
    /// Its cluster id in the previous run (`None`: new).
    pub previous_cluster: Option<u32>,
    /// Passages assigned now.
    pub size: u32,
    /// Passages assigned in the previous run.
    pub previous_size: u32,
    /// The match's score (mean of centroid cosine and membership Jaccard); 0 when unmatched.
    pub score: f64,
    /// `same`, `grew`, `shrank`, `new` or `gone`.
    pub status: String,
}

/// A fitted LSA basis: what embeds a TF-IDF row into the LSA space.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LsaBasis {
    /// Kept terms (in term order) × dimensions: the right singular vectors.
    pub components: Array2<f64>,
    /// The singular values, largest first.
    pub singular_values: Vec<f64>,
}
