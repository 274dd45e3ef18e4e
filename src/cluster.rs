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
//!   of `k_min..=k_max` scored by [`crate::sweep`] when `k = "auto"`. Clusters are named by
//!   their top three c-TF-IDF labels.
//!
//! Every passage then goes to the centroid with the highest cosine similarity; its margin is
//! the gap to the runner-up. Passages without any kept term are `unassigned`.

use crate::config::{Mode, Pipeline, Reduce, K};
use crate::error::{Error, Result};
use crate::reduce::{self, Csr};
use crate::sweep::{self, SweepRow};
use crate::text::Analyzer;
use crate::vectorize::{Tfidf, Vocabulary};
use linfa::prelude::*;
use linfa_clustering::KMeans;
use linfa_nn::distance::Distance;
use ndarray::{s, Array2};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Theme name of passages that belong to no cluster.
pub const UNASSIGNED: &str = "unassigned";

/// `assignments.status`: why a passage has, or has not, a cluster.
pub const ASSIGNED: &str = "assigned";
/// The passage has no kept term.
pub const NO_TERMS: &str = "no_terms";
/// Its best similarity is below `cluster.min_similarity` (guided), or not positive.
pub const LOW_SIMILARITY: &str = "low_similarity";
/// Its margin to the runner-up is below `cluster.min_margin` (guided).
pub const LOW_MARGIN: &str = "low_margin";

/// `cluster_terms.measure`: mean TF-IDF weight over the cluster's passages.
pub const MEAN_TFIDF: &str = "mean_tfidf";
/// `cluster_terms.measure`: class-based TF-IDF (BERTopic's c-TF-IDF) against the rest.
pub const CTFIDF: &str = "ctfidf";

/// linfa's k-means is dense: without reduction, refuse matrices larger than this many cells
/// (8 bytes each).
pub const MAX_DENSE_CELLS: usize = 200_000_000;

/// `reduce = "auto"` switches to LSA above this many passages × terms (16 MB as dense f64).
/// Below it the exact TF-IDF space is small and k-means on it takes milliseconds; above it
/// the dense matrix grows with the vocabulary while the LSA space stays `lsa_dims` wide, and
/// LSA also improves clustering quality on real corpora (BBC News, scikit-learn: ARI 0.757
/// without, 0.907 with).
pub const AUTO_LSA_CELLS: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub passage_id: u32,
    /// `None` for unassigned passages.
    pub cluster: Option<u32>,
    pub theme: String,
    /// Cosine similarity to the cluster's centroid (0 when unassigned).
    pub similarity: f64,
    /// Similarity minus the best similarity to any other centroid.
    pub margin: f64,
    /// [`ASSIGNED`], [`NO_TERMS`], [`LOW_SIMILARITY`] or [`LOW_MARGIN`].
    pub status: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterInfo {
    pub cluster: u32,
    pub theme: String,
    pub size: u32,
    /// Labels of the top c-TF-IDF terms, comma-separated.
    pub top_terms: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTerm {
    pub cluster: u32,
    /// [`MEAN_TFIDF`] or [`CTFIDF`].
    pub measure: &'static str,
    /// 1-based, per cluster and measure.
    pub rank: u32,
    pub term_id: u32,
    pub term: String,
    pub label: String,
    /// The measure's value.
    pub weight: f64,
}

/// What became of one seed word of a guided theme.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedStatus {
    pub theme: String,
    pub seed: String,
    /// The analysed term(s), space-separated (empty if the analyzer dropped the word).
    pub terms: String,
    /// The display labels of those terms that are in the vocabulary, space-separated: what
    /// the seed actually matches ("succession" is stemmed to the term of "success").
    pub label: String,
    /// Largest vocabulary df among its terms (0 when none was seen).
    pub df: u32,
    /// `live`, `stop_word` (dropped by the analyzer), `pruned` or `unseen`.
    pub status: &'static str,
}

/// How strongly a guided theme is supported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeStrength {
    pub theme: String,
    pub seeds: u32,
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clustering {
    /// The space k-means ran in, e.g. `tfidf (777 terms)` or `lsa (100 dimensions)`.
    pub space: String,
    pub assignments: Vec<Assignment>,
    pub clusters: Vec<ClusterInfo>,
    pub terms: Vec<ClusterTerm>,
    pub seeds: Vec<SeedStatus>,
    /// `k = "auto"`: the criteria of every k tried.
    pub sweep: Vec<SweepRow>,
    /// Counted warnings (themes with too few live seeds).
    pub warnings: Vec<String>,
}

/// Column of each kept term in the dense matrix (`u32::MAX` for dropped terms).
fn columns(vocab: &Vocabulary) -> (Vec<u32>, usize) {
    let mut next = 0u32;
    let cols = vocab
        .terms
        .iter()
        .map(|t| {
            if t.kept() {
                next += 1;
                next - 1
            } else {
                u32::MAX
            }
        })
        .collect();
    (cols, next as usize)
}

/// Seed centroids of guided themes: the normalised TF-IDF vector of each theme's seeds.
/// A theme none of whose seed words is live is an error naming each seed and why.
pub fn seed_centroids(
    pipeline: &Pipeline,
    analyzer: &Analyzer,
    vocab: &Vocabulary,
) -> Result<(Array2<f64>, Vec<SeedStatus>)> {
    let (cols, n_cols) = columns(vocab);
    let mut centroids = Array2::<f64>::zeros((pipeline.themes.len(), n_cols));
    let mut seeds = Vec::new();
    for (k, theme) in pipeline.themes.iter().enumerate() {
        for seed in &theme.seeds {
            let terms = analyzer.terms(seed);
            let mut status = if terms.is_empty() {
                "stop_word"
            } else {
                "unseen"
            };
            let (mut df, mut labels) = (0, Vec::new());
            for t in &terms {
                if let Some(id) = vocab.id(t) {
                    let term = &vocab.terms[id as usize];
                    df = df.max(term.df);
                    labels.push(term.label.as_str());
                    if term.kept() {
                        centroids[[k, cols[id as usize] as usize]] += term.idf;
                        status = "live";
                    } else if status != "live" {
                        status = "pruned";
                    }
                }
            }
            seeds.push(SeedStatus {
                theme: theme.name.clone(),
                seed: seed.clone(),
                terms: terms.join(" "),
                label: labels.join(" "),
                df,
                status,
            });
        }
        let mut row = centroids.row_mut(k);
        let norm = row.dot(&row).sqrt();
        if norm == 0.0 {
            let words: Vec<String> = seeds
                .iter()
                .filter(|s| s.theme == theme.name)
                .map(|s| format!("{} ({})", s.seed, s.status))
                .collect();
            return Err(Error::Data(format!(
                "theme {:?}: none of its seed words is in the kept vocabulary: {}",
                theme.name,
                words.join(", ")
            )));
        }
        row /= norm;
    }
    Ok((centroids, seeds))
}

/// Warnings for themes with fewer than `min` live seed words.
pub fn seed_warnings(seeds: &[SeedStatus], pipeline: &Pipeline) -> Vec<String> {
    let min = pipeline.cluster.min_live_seeds;
    let mut out = Vec::new();
    for theme in &pipeline.themes {
        let mine: Vec<&SeedStatus> = seeds.iter().filter(|s| s.theme == theme.name).collect();
        let live = mine.iter().filter(|s| s.status == "live").count();
        if live < min {
            let dead: Vec<String> = mine
                .iter()
                .filter(|s| s.status != "live")
                .map(|s| format!("{} ({})", s.seed, s.status))
                .collect();
            out.push(format!(
                "theme {:?} has {live} live seed word(s) of {} (cluster.min_live_seeds = {min}){}",
                theme.name,
                mine.len(),
                if dead.is_empty() {
                    String::new()
                } else {
                    format!("; not live: {}", dead.join(", "))
                }
            ));
        }
    }
    out
}

/// Index of the largest value (ties: the lowest index).
fn argmax(v: ndarray::ArrayView1<f64>) -> usize {
    let mut top = 0;
    for (c, &x) in v.iter().enumerate() {
        if x > v[top] {
            top = c;
        }
    }
    top
}

/// Guided spherical k-means: `seeds` (themes × d, unit rows) anchor the first centroids;
/// `extra` free ones start, one by one, at the row least similar to every centroid so far.
/// Returns unit centroids, themes first.
pub fn guided_fit(
    x: &Array2<f64>,
    seeds: &Array2<f64>,
    extra: usize,
    weight: f64,
    max_iterations: u64,
) -> Array2<f64> {
    let t = seeds.nrows();
    let k = t + extra;
    let mut c = Array2::<f64>::zeros((k, x.ncols()));
    c.slice_mut(s![..t, ..]).assign(seeds);
    if extra > 0 {
        // farthest first: each free centroid starts at the passage least similar to every
        // centroid so far (ties: the first), i.e. the most off-theme material
        let mut nearest: Vec<f64> = x
            .dot(&seeds.t())
            .rows()
            .into_iter()
            .map(|r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)))
            .collect();
        for e in 0..extra {
            let mut pick = 0;
            for (i, &s) in nearest.iter().enumerate() {
                if s < nearest[pick] {
                    pick = i;
                }
            }
            c.row_mut(t + e).assign(&x.row(pick));
            for (i, s) in nearest.iter_mut().enumerate() {
                *s = s.max(x.row(i).dot(&x.row(pick)));
            }
        }
    }
    let mut labels: Vec<usize> = Vec::new();
    for _ in 0..max_iterations {
        let sims = x.dot(&c.t());
        let next: Vec<usize> = sims.rows().into_iter().map(argmax).collect();
        if next == labels {
            break;
        }
        labels = next;
        let mut sums = Array2::<f64>::zeros(c.dim());
        for (i, &l) in labels.iter().enumerate() {
            let mut row = sums.row_mut(l);
            row += &x.row(i);
        }
        reduce::normalize_rows(&mut sums);
        for j in 0..k {
            let mut row = sums.row_mut(j);
            if row.iter().all(|&v| v == 0.0) {
                row.assign(&c.row(j)); // no members: the centroid stays
            } else if j < t {
                row *= 1.0 - weight;
                row.scaled_add(weight, &seeds.row(j));
            }
        }
        reduce::normalize_rows(&mut sums);
        c = sums;
    }
    c
}

/// Squared Euclidean distance for linfa's k-means, on contiguous rows as plain slices with
/// four running sums (a loop the compiler vectorises). linfa's `L2Dist` goes through
/// ndarray-stats' generic `Zip`, which was most of the k-means time. Views that are not
/// contiguous fall back to the same sum by `Zip`.
#[derive(Debug, Clone, Copy)]
pub struct SqL2;

fn sq_l2<F: linfa::Float>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..4 {
            let d = x[j] - y[j];
            acc[j] += d * d;
        }
    }
    let mut tail = F::zero();
    for (&x, &y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

impl<F: linfa::Float> Distance<F> for SqL2 {
    fn distance<D: ndarray::Dimension>(
        &self,
        a: ndarray::ArrayView<F, D>,
        b: ndarray::ArrayView<F, D>,
    ) -> F {
        self.rdistance(a, b).sqrt()
    }

    fn rdistance<D: ndarray::Dimension>(
        &self,
        a: ndarray::ArrayView<F, D>,
        b: ndarray::ArrayView<F, D>,
    ) -> F {
        match (a.as_slice(), b.as_slice()) {
            (Some(x), Some(y)) if a.shape() == b.shape() => sq_l2(x, y),
            _ => {
                let mut sum = F::zero();
                ndarray::Zip::from(&a)
                    .and(&b)
                    .for_each(|&x, &y| sum += (x - y) * (x - y));
                sum
            }
        }
    }

    fn rdist_to_dist(&self, rdist: F) -> F {
        rdist.sqrt()
    }

    fn dist_to_rdist(&self, dist: F) -> F {
        dist * dist
    }
}

/// The rows k-means runs on: single precision halves the memory each assignment step reads
/// and doubles the values per vector instruction; centroids come back in double precision.
type KMeansData = DatasetBase<Array2<f32>, ndarray::Array1<()>>;

fn kmeans_data(x: &Array2<f64>) -> KMeansData {
    DatasetBase::from(x.mapv(|v| v as f32))
}

/// linfa's k-means++ with `n_runs` restarts: unit centroids.
fn discover_fit(
    data: &KMeansData,
    k: usize,
    settings: &crate::config::ClusterSettings,
) -> Result<Array2<f64>> {
    let rng = Xoshiro256Plus::seed_from_u64(settings.seed);
    let model = KMeans::params_with(k, rng, SqL2)
        .n_runs(settings.n_runs)
        .max_n_iterations(settings.max_iterations)
        .tolerance(settings.tolerance as f32)
        .fit(data)
        .map_err(|e| Error::Data(format!("k-means failed: {e}")))?;
    let mut centroids = model.centroids().mapv(f64::from);
    reduce::normalize_rows(&mut centroids);
    Ok(centroids)
}

/// `k = "auto"`: fit every k of the range, score it, pick one ([`sweep::choose`]).
fn sweep_fit(
    x: &Array2<f64>,
    data: &KMeansData,
    settings: &crate::config::ClusterSettings,
) -> Result<(Array2<f64>, Vec<SweepRow>)> {
    let n = x.nrows();
    let hi = settings.k_max.min(n.saturating_sub(1));
    if hi < settings.k_min {
        return Err(Error::Data(format!(
            "cannot sweep k = {}..={} over {n} passage(s) with terms",
            settings.k_min, settings.k_max
        )));
    }
    let sample = sweep::sample(n, sweep::SILHOUETTE_SAMPLE);
    let g = sweep::gram(x, &sample);
    let mut rows = Vec::new();
    let mut fits = Vec::new();
    for k in settings.k_min..=hi {
        let c = discover_fit(data, k, settings)?;
        let labels: Vec<usize> = x.dot(&c.t()).rows().into_iter().map(argmax).collect();
        let sampled: Vec<usize> = sample.iter().map(|&i| labels[i]).collect();
        rows.push(SweepRow {
            k,
            silhouette: r6(sweep::silhouette(&g, &sampled, k)),
            calinski_harabasz: r6(sweep::calinski_harabasz(x, &labels, k)),
            davies_bouldin: r6(sweep::davies_bouldin(x, &labels, k)),
            chosen: false,
        });
        fits.push(c);
    }
    let best = sweep::choose(&mut rows);
    Ok((fits.swap_remove(best), rows))
}

/// Round to 6 decimals so tables and reports do not depend on the last bits of a float.
fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Cluster the rows of `m`.
pub fn cluster(
    m: &Tfidf,
    vocab: &Vocabulary,
    analyzer: &Analyzer,
    pipeline: &Pipeline,
) -> Result<Clustering> {
    let settings = &pipeline.cluster;
    let (cols, n_cols) = columns(vocab);
    let nonempty: Vec<usize> = (0..m.n_rows())
        .filter(|&r| !m.row(r).0.is_empty())
        .collect();
    let k_needed = pipeline.n_clusters().unwrap_or(settings.k_min);
    if nonempty.len() < k_needed {
        return Err(Error::Data(format!(
            "cannot form {k_needed} clusters from {} passage(s) with terms",
            nonempty.len()
        )));
    }
    let cells = nonempty.len().saturating_mul(n_cols);
    let use_lsa = match settings.reduce {
        Reduce::Lsa => true,
        Reduce::None => false,
        Reduce::Auto => cells > AUTO_LSA_CELLS,
    };
    if !use_lsa && cells > MAX_DENSE_CELLS {
        return Err(Error::Data(format!(
            "{} passages × {n_cols} terms is too large for k-means without reduction; \
             set cluster.reduce = \"lsa\" (or \"auto\")",
            nonempty.len()
        )));
    }
    let (x, lsa, space) = if use_lsa {
        let csr = Csr {
            m,
            cols: &cols,
            n_cols,
        };
        let mut lsa = reduce::fit(&csr, settings.lsa_dims, settings.seed)?;
        let x = if nonempty.len() == m.n_rows() {
            std::mem::take(&mut lsa.embedding)
        } else {
            lsa.embedding.select(ndarray::Axis(0), &nonempty)
        };
        let space = format!("lsa ({} dimensions)", x.ncols());
        // only guided mode projects (its seed vectors) with the components
        let lsa = (settings.mode == Mode::Guided).then_some(lsa);
        (x, lsa, space)
    } else {
        let mut x = Array2::<f64>::zeros((nonempty.len(), n_cols));
        for (i, &r) in nonempty.iter().enumerate() {
            let (ids, w) = m.row(r);
            for (&t, &v) in ids.iter().zip(w) {
                x[[i, cols[t as usize] as usize]] = v;
            }
        }
        (x, None, format!("tfidf ({n_cols} terms)"))
    };
    let mut seeds = vec![];
    let mut sweep_rows = vec![];
    let mut warnings = vec![];
    let centroids = match settings.mode {
        Mode::Guided => {
            let (c, s) = seed_centroids(pipeline, analyzer, vocab)?;
            warnings = seed_warnings(&s, pipeline);
            seeds = s;
            let c = match &lsa {
                Some(l) => l.project(&c),
                None => c,
            };
            guided_fit(
                &x,
                &c,
                settings.extra_clusters,
                settings.seed_weight,
                settings.max_iterations,
            )
        }
        Mode::Discover => {
            let data = kmeans_data(&x);
            match settings.k {
                Some(K::Auto) => {
                    let (c, rows) = sweep_fit(&x, &data, settings)?;
                    let (first, last) = (rows[0].k, rows[rows.len() - 1].k);
                    let chosen = c.nrows();
                    if rows.len() > 1 && (chosen == first || chosen == last) {
                        warnings.push(format!(
                            "k = \"auto\" chose k = {chosen}, an end of the range swept \
                             ({first}..={last}): the criteria may prefer a k outside it; \
                             widen cluster.k_min / cluster.k_max to see"
                        ));
                    }
                    sweep_rows = rows;
                    c
                }
                _ => discover_fit(&data, k_needed, settings)?,
            }
        }
    };
    let k = centroids.nrows();
    let sims = x.dot(&centroids.t()); // nonempty rows × k
    let mut best: Vec<(Option<u32>, f64, f64, &'static str)> =
        vec![(None, 0.0, 0.0, NO_TERMS); m.n_rows()];
    for (i, &r) in nonempty.iter().enumerate() {
        let row = sims.row(i).to_vec();
        let (c, sim, margin) = best_of(&row);
        best[r] = match c {
            None => (None, sim, margin, LOW_SIMILARITY),
            Some(_) if settings.mode == Mode::Guided && sim < settings.min_similarity => {
                (None, sim, margin, LOW_SIMILARITY)
            }
            Some(_) if settings.mode == Mode::Guided && margin < settings.min_margin => {
                (None, sim, margin, LOW_MARGIN)
            }
            Some(_) => (c, sim, margin, ASSIGNED),
        };
    }
    let labels: Vec<Option<u32>> = best.iter().map(|b| b.0).collect();
    let mut terms = mean_tfidf_terms(m, vocab, &labels, k, settings.top_terms);
    terms.extend(ctfidf_terms(m, vocab, &labels, k, settings.top_terms));
    let n_themes = match settings.mode {
        Mode::Guided => pipeline.themes.len(),
        Mode::Discover => 0,
    };
    let mut names: Vec<String> = pipeline.themes[..n_themes]
        .iter()
        .map(|t| t.name.clone())
        .collect();
    for c in n_themes as u32..k as u32 {
        let labels: Vec<&str> = terms
            .iter()
            .filter(|t| t.cluster == c && t.measure == CTFIDF)
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
        names.push(name);
    }
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
    let clusters = (0..k as u32)
        .map(|c| ClusterInfo {
            cluster: c,
            theme: names[c as usize].clone(),
            size: labels.iter().filter(|b| **b == Some(c)).count() as u32,
            top_terms: terms
                .iter()
                .filter(|t| t.cluster == c && t.measure == CTFIDF)
                .map(|t| t.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    Ok(Clustering {
        space,
        assignments,
        clusters,
        terms,
        seeds,
        sweep: sweep_rows,
        warnings,
    })
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

/// The `n` best `(term, value)` pairs of a map (ties: lower term id first).
fn top_n(map: HashMap<u32, f64>, n: usize) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn term_rows<'a>(
    vocab: &'a Vocabulary,
    cluster: usize,
    measure: &'static str,
    top: Vec<(u32, f64)>,
) -> impl Iterator<Item = ClusterTerm> + 'a {
    top.into_iter().enumerate().map(move |(rank, (t, w))| {
        let term = &vocab.terms[t as usize];
        ClusterTerm {
            cluster: cluster as u32,
            measure,
            rank: rank as u32 + 1,
            term_id: t,
            term: term.term.clone(),
            label: term.label.clone(),
            weight: w,
        }
    })
}

/// The `n` terms of highest mean TF-IDF weight over each cluster's passages: the centroid's
/// heaviest terms.
fn mean_tfidf_terms(
    m: &Tfidf,
    vocab: &Vocabulary,
    labels: &[Option<u32>],
    k: usize,
    n: usize,
) -> Vec<ClusterTerm> {
    let mut sums = vec![HashMap::<u32, f64>::new(); k];
    let mut sizes = vec![0usize; k];
    for (r, l) in labels.iter().enumerate() {
        if let Some(c) = l {
            sizes[*c as usize] += 1;
            let (ids, w) = m.row(r);
            for (&t, &v) in ids.iter().zip(w) {
                *sums[*c as usize].entry(t).or_insert(0.0) += v;
            }
        }
    }
    let mut out = Vec::new();
    for (c, s) in sums.into_iter().enumerate() {
        let size = sizes[c] as f64;
        let s = s.into_iter().map(|(t, w)| (t, w / size)).collect();
        out.extend(term_rows(vocab, c, MEAN_TFIDF, top_n(s, n)));
    }
    out
}

/// c-TF-IDF (Grootendorst 2022, BERTopic's `ClassTfidfTransformer`): each class's term
/// counts, L1-normalised, times `ln(1 + A / f_t)`, with `f_t` the term's count over all
/// classes and `A` the mean number of words per class. `classes[c]` maps term → count.
pub fn ctfidf(classes: &[HashMap<u32, f64>]) -> Vec<HashMap<u32, f64>> {
    let mut f: HashMap<u32, f64> = HashMap::new();
    for class in classes {
        for (&t, &v) in class {
            *f.entry(t).or_insert(0.0) += v;
        }
    }
    let a = f.values().sum::<f64>() / classes.len().max(1) as f64;
    classes
        .iter()
        .map(|class| {
            let total: f64 = class.values().sum();
            class
                .iter()
                .map(|(&t, &v)| (t, v / total * (1.0 + a / f[&t]).ln()))
                .collect()
        })
        .collect()
}

/// The `n` terms of highest c-TF-IDF in each cluster, against all kept passages (the
/// unassigned ones form one more class).
fn ctfidf_terms(
    m: &Tfidf,
    vocab: &Vocabulary,
    labels: &[Option<u32>],
    k: usize,
    n: usize,
) -> Vec<ClusterTerm> {
    let mut classes = vec![HashMap::<u32, f64>::new(); k + 1];
    for (r, l) in labels.iter().enumerate() {
        let c = l.map_or(k, |c| c as usize);
        let (a, b) = (m.indptr[r], m.indptr[r + 1]);
        for i in a..b {
            *classes[c].entry(m.term_ids[i]).or_insert(0.0) += m.counts[i] as f64;
        }
    }
    if classes[k].is_empty() {
        classes.pop();
    }
    let mut out = Vec::new();
    for (c, w) in ctfidf(&classes).into_iter().enumerate().take(k) {
        out.extend(term_rows(vocab, c, CTFIDF, top_n(w, n)));
    }
    out
}

/// Per guided theme: seeds, live seeds, passages holding a live seed term, members and their
/// mean similarity. Works from the tables alone (for `themata report`).
pub fn theme_strength(m: &Tfidf, vocab: &Vocabulary, c: &Clustering) -> Vec<ThemeStrength> {
    let mut themes: Vec<&str> = Vec::new();
    for s in &c.seeds {
        if !themes.contains(&s.theme.as_str()) {
            themes.push(&s.theme);
        }
    }
    let row_of: HashMap<u32, usize> = m.row_ids.iter().enumerate().map(|(r, &p)| (p, r)).collect();
    themes
        .iter()
        .map(|&theme| {
            let mine: Vec<&SeedStatus> = c.seeds.iter().filter(|s| s.theme == theme).collect();
            let live: HashSet<u32> = mine
                .iter()
                .filter(|s| s.status == "live")
                .flat_map(|s| s.terms.split(' '))
                .filter_map(|t| vocab.id(t))
                .filter(|&id| vocab.terms[id as usize].kept())
                .collect();
            let holds = |r: usize| m.row(r).0.iter().any(|t| live.contains(t));
            let members: Vec<&Assignment> = c
                .assignments
                .iter()
                .filter(|a| a.cluster.is_some() && a.theme == theme)
                .collect();
            let sim: f64 = members.iter().map(|a| a.similarity).sum();
            ThemeStrength {
                theme: theme.to_string(),
                seeds: mine.len() as u32,
                live_seeds: mine.iter().filter(|s| s.status == "live").count() as u32,
                seed_passages: (0..m.n_rows()).filter(|&r| holds(r)).count() as u32,
                members: members.len() as u32,
                members_with_seeds: members
                    .iter()
                    .filter(|a| row_of.get(&a.passage_id).is_some_and(|&r| holds(r)))
                    .count() as u32,
                mean_similarity: if members.is_empty() {
                    0.0
                } else {
                    r6(sim / members.len() as f64)
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, TfidfSettings};
    use crate::vectorize::{count, tfidf};

    const TEXTS: &[&str] = &[
        "the doctrine of resistance and ideology",
        "ideology and revolutionary doctrine shape policy",
        "talks and negotiation with america",
        "nuclear negotiation and talks with washington",
        "the succession of the supreme leader",
        "who will be successor after the leader dies: succession",
        "",
    ];

    fn pipeline(extra: &str) -> Pipeline {
        let text = format!(
            "name = \"t\"\noutput = \"o\"\n[analyzer]\nstop_words = \"sklearn\"\n{extra}\n"
        );
        Pipeline::from_toml(&text, std::path::Path::new("t.toml"), &Overrides::default()).unwrap()
    }

    fn fit(p: &Pipeline) -> Result<Clustering> {
        fit_texts(p, TEXTS)
    }

    fn fit_texts(p: &Pipeline, texts: &[&str]) -> Result<Clustering> {
        let a = Analyzer::new(&p.analyzer).unwrap();
        let c = count(&a, texts);
        let (v, m) = tfidf(&c, (0..texts.len() as u32).collect(), &p.tfidf).unwrap();
        cluster(&m, &v, &a, p)
    }

    #[test]
    fn ctfidf_by_hand() {
        // class 0: t0 ×2, t1 ×2; class 1: t1 ×1, t2 ×3
        // f = (2, 3, 3), A = 8 words / 2 classes = 4
        let classes = vec![
            HashMap::from([(0, 2.0), (1, 2.0)]),
            HashMap::from([(1, 1.0), (2, 3.0)]),
        ];
        let w = ctfidf(&classes);
        let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(near(w[0][&0], 0.5 * 3f64.ln())); // 2/4 · ln(1 + 4/2)
        assert!(near(w[0][&1], 0.5 * (7.0f64 / 3.0).ln())); // 2/4 · ln(1 + 4/3)
        assert!(near(w[1][&1], 0.25 * (7.0f64 / 3.0).ln()));
        assert!(near(w[1][&2], 0.75 * (7.0f64 / 3.0).ln()));
        assert_eq!(w[0].len() + w[1].len(), 4);
        // a term spread over both classes ranks below one of the same count in one class
        assert!(w[0][&0] > w[0][&1]);
    }

    #[test]
    fn cluster_terms_by_both_measures() {
        let c = fit(&pipeline(THEMES)).unwrap();
        for measure in [MEAN_TFIDF, CTFIDF] {
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
            .filter(|t| t.cluster == 1 && t.measure == CTFIDF)
            .map(|t| t.label.as_str())
            .collect();
        assert!(neg.contains(&"negotiation"), "{neg:?}");
        assert!(c.clusters[1].top_terms.contains("negotiation"));
    }

    #[test]
    fn seed_status_reasons_label_and_df() {
        // min_df = 2 prunes terms of one passage ("shape", "america", ...)
        let p = pipeline(
            "[tfidf]\nmin_df = 2\n[themes]\na = [\"doctrine\", \"the\", \"zebra\", \"shape\"]\nb = [\"negotiations\", \"talks\"]\n",
        );
        let c = fit(&p).unwrap();
        let st: Vec<(&str, &str, u32)> = c
            .seeds
            .iter()
            .map(|s| (s.status, s.label.as_str(), s.df))
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
        let p = pipeline(
            "[cluster]\nmin_live_seeds = 1\n[themes]\na = [\"doctrine\", \"zebra\"]\nb = [\"talks\"]\n",
        );
        assert!(fit(&p).unwrap().warnings.is_empty());
    }

    #[test]
    fn theme_strength_counts_seed_passages_and_members() {
        let c = fit(&pipeline(THEMES)).unwrap();
        let a = Analyzer::new(&pipeline(THEMES).analyzer).unwrap();
        let counts = count(&a, TEXTS);
        let (v, m) = tfidf(
            &counts,
            (0..TEXTS.len() as u32).collect(),
            &TfidfSettings::default(),
        )
        .unwrap();
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
        let open = fit(&pipeline(&format!(
            "[cluster]\nmin_similarity = 0.0\nmin_margin = 0.0\n{THEMES}"
        )))
        .unwrap();
        let mut sims: Vec<f64> = open.assignments[..6].iter().map(|a| a.similarity).collect();
        sims.sort_by(f64::total_cmp);
        let floor = (sims[2] + sims[3]) / 2.0;
        let c = fit(&pipeline(&format!(
            "[cluster]\nmin_similarity = {floor}\nmin_margin = 0.0\n{THEMES}"
        )))
        .unwrap();
        let low: Vec<&Assignment> = c
            .assignments
            .iter()
            .filter(|a| a.status == LOW_SIMILARITY)
            .collect();
        assert!(!low.is_empty() && low.len() < 6, "{low:?}");
        for a in &c.assignments[..6] {
            match a.status {
                ASSIGNED => assert!(a.similarity >= floor && a.cluster.is_some()),
                LOW_SIMILARITY => {
                    assert!(a.similarity < floor && a.similarity > 0.0, "{a:?}");
                    assert_eq!((a.cluster, a.theme.as_str()), (None, UNASSIGNED));
                }
                other => panic!("{other}"),
            }
        }
        assert_eq!(c.assignments[6].status, NO_TERMS);
        // sizes count assigned passages only
        let assigned = c.assignments.iter().filter(|a| a.cluster.is_some()).count();
        assert_eq!(
            c.clusters.iter().map(|c| c.size as usize).sum::<usize>(),
            assigned
        );

        let mut margins: Vec<f64> = open.assignments[..6].iter().map(|a| a.margin).collect();
        margins.sort_by(f64::total_cmp);
        let cut = (margins[1] + margins[2]) / 2.0;
        let c = fit(&pipeline(&format!(
            "[cluster]\nmin_similarity = 0.0\nmin_margin = {cut}\n{THEMES}"
        )))
        .unwrap();
        let low = c
            .assignments
            .iter()
            .filter(|a| a.status == LOW_MARGIN)
            .inspect(|a| assert!(a.margin < cut && a.cluster.is_none(), "{a:?}"))
            .count();
        assert_eq!(low, 2);
        assert!(c.assignments[..6]
            .iter()
            .filter(|a| a.status == ASSIGNED)
            .all(|a| a.margin >= cut));
    }

    #[test]
    fn extra_clusters_take_off_theme_passages() {
        let mut texts = TEXTS.to_vec();
        texts.extend([
            "football match ended with a late goal",
            "the goal keeper saved the football match",
        ]);
        let p = pipeline(&format!(
            "[cluster]\nextra_clusters = 1\nmin_similarity = 0.0\n{THEMES}"
        ));
        let c = fit_texts(&p, &texts).unwrap();
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
        assert_eq!(fit_texts(&p, &texts).unwrap(), c);
    }

    #[test]
    fn seed_weight_one_keeps_the_seed_vectors() {
        let p = pipeline(&format!("[cluster]\nseed_weight = 1.0\n{THEMES}"));
        let c = fit(&p).unwrap();
        let a = Analyzer::new(&p.analyzer).unwrap();
        let counts = count(&a, TEXTS);
        let (v, m) = tfidf(
            &counts,
            (0..TEXTS.len() as u32).collect(),
            &TfidfSettings::default(),
        )
        .unwrap();
        let (seeds, _) = seed_centroids(&p, &a, &v).unwrap();
        let (cols, _) = columns(&v);
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
        let p = pipeline("[cluster]\nmode = \"discover\"\nk = \"auto\"\nk_min = 2\nk_max = 4\n");
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
        let p = pipeline("[cluster]\nmode = \"discover\"\nk = \"auto\"\nk_min = 2\nk_max = 50\n");
        assert_eq!(fit(&p).unwrap().sweep.last().unwrap().k, 5);
        let p = pipeline("[cluster]\nmode = \"discover\"\nk = \"auto\"\nk_min = 7\nk_max = 9\n");
        assert!(fit(&p).is_err());
    }

    const THEMES: &str = "[themes]\ndoctrine = [\"doctrine\", \"ideology\"]\nnegotiation = [\"negotiations\", \"talks\"]\nsuccession = [\"succession\", \"successor\"]\n";

    #[test]
    fn guided_clusters_keep_theme_names() {
        let c = fit(&pipeline(THEMES)).unwrap();
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
        assert!(c.seeds.iter().all(|s| s.status == "live"));
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
        let p = pipeline("[themes]\na = [\"doctrine\", \"the\", \"zebra\"]\nb = [\"talks\"]\n");
        let c = fit(&p).unwrap();
        let st: Vec<&str> = c.seeds.iter().map(|s| s.status).collect();
        assert_eq!(st, ["live", "stop_word", "unseen", "live"]);
        let p = pipeline("[themes]\na = [\"zebra\"]\nb = [\"talks\"]\n");
        let e = fit(&p).unwrap_err().to_string();
        assert!(e.contains("\"a\"") && e.contains("zebra (unseen)"), "{e}");
    }

    #[test]
    fn discover_is_deterministic_and_names_clusters() {
        let p = pipeline("[cluster]\nmode = \"discover\"\nk = 3\nseed = 7\n");
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
    fn sq_l2_matches_the_plain_sum_on_rows_and_strided_views() {
        let a = Array2::from_shape_fn((3, 11), |(i, j)| (i * 11 + j) as f64 * 0.37 - 4.0);
        let b = Array2::from_shape_fn((3, 11), |(i, j)| ((i + j * 7) % 5) as f64 - 1.5);
        let plain = |x: ndarray::ArrayView1<f64>, y: ndarray::ArrayView1<f64>| -> f64 {
            x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum()
        };
        for len in [0, 1, 3, 4, 5, 8, 11] {
            for r in 0..3 {
                let (x, y) = (a.slice(s![r, ..len]), b.slice(s![r, ..len]));
                let want = plain(x, y);
                assert!((SqL2.rdistance(x, y) - want).abs() < 1e-9 * (1.0 + want));
                assert!((SqL2.distance(x, y) - want.sqrt()).abs() < 1e-9 * (1.0 + want));
            }
        }
        // columns are strided views: the fallback gives the same sums
        for c in 0..11 {
            let (x, y) = (a.column(c), b.column(c));
            assert!((SqL2.rdistance(x, y) - plain(x, y)).abs() < 1e-9);
        }
        // whole matrices (linfa's convergence test compares centroid matrices)
        let whole: f64 = a.iter().zip(&b).map(|(p, q)| (p - q) * (p - q)).sum();
        assert!((SqL2.rdistance(a.view(), b.view()) - whole).abs() < 1e-9 * whole);
        assert_eq!(SqL2.dist_to_rdist(SqL2.rdist_to_dist(4.0)), 4.0);
    }

    #[test]
    fn best_of_picks_max_with_margin_and_ties_low() {
        assert_eq!(best_of(&[0.2, 0.5, 0.1]), (Some(1), 0.5, 0.3));
        assert_eq!(best_of(&[0.4, 0.4]), (Some(0), 0.4, 0.0));
        assert_eq!(best_of(&[0.0, 0.0]), (None, 0.0, 0.0));
        assert_eq!(best_of(&[0.7]), (Some(0), 0.7, 0.7));
    }

    #[test]
    fn lsa_gives_the_same_themes_on_a_small_corpus() {
        let exact = fit(&pipeline(&format!(
            "[cluster]\nreduce = \"none\"\n{THEMES}"
        )))
        .unwrap();
        let lsa = fit(&pipeline(&format!(
            "[cluster]\nreduce = \"lsa\"\nlsa_dims = 5\n{THEMES}"
        )))
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
        let p = pipeline("[cluster]\nmode = \"discover\"\nk = 7\n");
        assert!(fit(&p)
            .unwrap_err()
            .to_string()
            .contains("cannot form 7 clusters"));
    }
}
