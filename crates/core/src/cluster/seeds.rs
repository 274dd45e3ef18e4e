//! Guided themes' seed words: their centroids, and what became of each word.

use super::{ClusterError, Theme};
use crate::analyze::Analyzer;
use crate::model::{SeedState, SeedStatus, Vocabulary};
use ndarray::Array2;

/// Seed centroids of guided themes: the normalised TF-IDF vector of each theme's seeds.
/// A theme none of whose seed words is live is an error naming each seed and why.
pub fn seed_centroids(
    themes: &[Theme],
    analyzer: &Analyzer,
    vocab: &Vocabulary,
) -> Result<(Array2<f64>, Vec<SeedStatus>), ClusterError> {
    let (cols, n_cols) = vocab.columns();
    let mut centroids = Array2::<f64>::zeros((themes.len(), n_cols));
    let mut seeds = Vec::new();
    for (k, theme) in themes.iter().enumerate() {
        for seed in &theme.seeds {
            // a phrase with n-grams on, else a bag of words
            let terms = analyzer.seed_terms(seed);
            let mut status = if terms.is_empty() {
                SeedState::StopWord
            } else {
                SeedState::Unseen
            };
            let (mut df, mut labels) = (0, Vec::new());
            for t in &terms {
                if let Some(id) = vocab.id(t) {
                    let term = &vocab.terms[id as usize];
                    df = df.max(term.df);
                    labels.push(term.label.as_str());
                    if term.kept() {
                        centroids[[k, cols[id as usize] as usize]] += term.idf;
                        status = SeedState::Live;
                    } else if status != SeedState::Live {
                        status = SeedState::Pruned;
                    }
                }
            }
            // terms of several words (n-grams) are told apart by a comma
            let sep = if terms.iter().any(|t| t.contains(' ')) {
                ", "
            } else {
                " "
            };
            seeds.push(SeedStatus {
                theme: theme.name.clone(),
                seed: seed.clone(),
                terms: terms.join(sep),
                label: labels.join(sep),
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
            return Err(ClusterError::DeadTheme {
                theme: theme.name.clone(),
                seeds: words.join(", "),
            });
        }
        row /= norm;
    }
    Ok((centroids, seeds))
}

/// Warnings for themes with fewer than `min` live seed words.
pub fn seed_warnings(seeds: &[SeedStatus], themes: &[Theme], min: usize) -> Vec<String> {
    let mut out = Vec::new();
    for theme in themes {
        let mine: Vec<&SeedStatus> = seeds.iter().filter(|s| s.theme == theme.name).collect();
        let live = mine.iter().filter(|s| s.status == SeedState::Live).count();
        if live < min {
            let dead: Vec<String> = mine
                .iter()
                .filter(|s| s.status != SeedState::Live)
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
