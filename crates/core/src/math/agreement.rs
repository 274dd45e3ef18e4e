//! Agreement of two labelings of the same items: adjusted Rand index, normalised mutual
//! information, purity, and — when the labels share names — accuracy and per-label
//! precision, recall and F1.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Agreement of two labelings of the same items.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    /// Items compared.
    pub n: usize,
    /// Adjusted Rand index (Hubert & Arabie).
    pub ari: f64,
    /// Normalised mutual information (arithmetic mean of the entropies).
    pub nmi: f64,
    /// Share of items whose predicted cluster's most common gold label is theirs.
    pub purity: f64,
    /// Share of items whose predicted theme equals the gold label, and precision / recall /
    /// F1 per label: only when predicted and gold labels share names (guided themes); `None`
    /// for discovered clusters, whose names are their top terms.
    pub accuracy: Option<f64>,
    /// Precision, recall and F1 of each label (see `accuracy`).
    pub per_label: Option<Vec<LabelScores>>,
    /// `confusion[gold][predicted]` = count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScores {
    /// The label.
    pub label: String,
    /// Items predicted as the label that have it.
    pub precision: f64,
    /// Items with the label predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Items with the label in the gold.
    pub support: usize,
}

fn comb2(x: usize) -> f64 {
    (x as f64) * (x as f64 - 1.0) / 2.0
}

/// Scores of `pred` against `gold` (same length).
pub fn score(gold: &[String], pred: &[String]) -> Scores {
    let n = gold.len();
    let mut table: HashMap<(&str, &str), usize> = HashMap::new();
    let mut rows: HashMap<&str, usize> = HashMap::new();
    let mut cols: HashMap<&str, usize> = HashMap::new();
    for (g, p) in gold.iter().zip(pred) {
        *table.entry((g, p)).or_insert(0) += 1;
        *rows.entry(g).or_insert(0) += 1;
        *cols.entry(p).or_insert(0) += 1;
    }
    // adjusted Rand index (Hubert & Arabie)
    let index: f64 = table.values().map(|&c| comb2(c)).sum();
    let sum_a: f64 = rows.values().map(|&c| comb2(c)).sum();
    let sum_b: f64 = cols.values().map(|&c| comb2(c)).sum();
    let expected = if n > 1 { sum_a * sum_b / comb2(n) } else { 0.0 };
    let max = (sum_a + sum_b) / 2.0;
    let ari = if (max - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max - expected)
    };
    // normalised mutual information, arithmetic mean of the entropies (scikit-learn's default)
    let nf = n as f64;
    let entropy = |m: &HashMap<&str, usize>| -> f64 {
        m.values()
            .map(|&c| c as f64 / nf)
            .map(|p| -p * p.ln())
            .sum()
    };
    let (hu, hv) = (entropy(&rows), entropy(&cols));
    let mi: f64 = table
        .iter()
        .map(|(&(g, p), &c)| {
            let pij = c as f64 / nf;
            pij * (pij / ((rows[g] as f64 / nf) * (cols[p] as f64 / nf))).ln()
        })
        .sum();
    let nmi = if hu == 0.0 && hv == 0.0 {
        1.0
    } else {
        (mi / ((hu + hv) / 2.0)).max(0.0)
    };
    // purity: each predicted cluster counts its most common gold label
    let mut best: HashMap<&str, usize> = HashMap::new();
    for (&(_, p), &c) in &table {
        let b = best.entry(p).or_insert(0);
        *b = (*b).max(c);
    }
    let purity = best.values().sum::<usize>() as f64 / nf.max(1.0);
    let correct = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    let shared_names = cols.keys().any(|p| rows.contains_key(p));
    let labels: BTreeSet<&str> = rows.keys().chain(cols.keys()).copied().collect();
    let per_label: Vec<LabelScores> = labels
        .iter()
        .map(|&l| {
            let tp = table.get(&(l, l)).copied().unwrap_or(0) as f64;
            let predicted = cols.get(l).copied().unwrap_or(0) as f64;
            let support = rows.get(l).copied().unwrap_or(0);
            let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
            let recall = if support > 0 {
                tp / support as f64
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            LabelScores {
                label: l.to_string(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (&(g, p), &c) in &table {
        confusion
            .entry(g.to_string())
            .or_default()
            .insert(p.to_string(), c);
    }
    Scores {
        n,
        ari,
        nmi,
        purity,
        accuracy: shared_names.then(|| correct as f64 / nf.max(1.0)),
        per_label: shared_names.then_some(per_label),
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.chars().map(|c| c.to_string()).collect()
    }

    #[test]
    fn hand_computed_scores() {
        // contingency a:{x:2}, b:{x:1,y:1}; Σ C(n_ij,2) = 1, rows 2, cols 3, C(4,2) = 6:
        // expected index 1, max 2.5 → ARI 0; purity (2 + 1) / 4
        let s = score(&v("aabb"), &v("xxxy"));
        assert!(s.ari.abs() < 1e-12, "{}", s.ari);
        assert!((s.purity - 0.75).abs() < 1e-12);
        // scikit-learn: normalized_mutual_info_score(list("aabb"), list("xxxy"))
        assert!((s.nmi - 0.3437110184854508).abs() < 1e-12, "{}", s.nmi);
        let s = score(&v("aaabbbccc"), &v("xxyyyzzzz"));
        assert!((s.ari - 0.35714285714285715).abs() < 1e-12, "{}", s.ari);
        assert!((s.nmi - 0.589509827447305).abs() < 1e-12, "{}", s.nmi);
    }

    #[test]
    fn perfect_and_accuracy_scores() {
        let s = score(&v("aabb"), &v("bbaa"));
        assert_eq!(
            (s.ari, s.nmi, s.purity, s.accuracy),
            (1.0, 1.0, 1.0, Some(0.0))
        );
        assert_eq!(score(&v("aabb"), &v("xxyy")).accuracy, None);
        let s = score(&v("aabc"), &v("aabb"));
        assert_eq!(s.accuracy, Some(0.75));
        let per_label = s.per_label.clone().unwrap();
        let b = per_label.iter().find(|l| l.label == "b").unwrap();
        assert_eq!((b.precision, b.recall, b.support), (0.5, 1.0, 1));
        assert!((b.f1 - 2.0 / 3.0).abs() < 1e-12);
        let c = per_label.iter().find(|l| l.label == "c").unwrap();
        assert_eq!((c.precision, c.recall, c.f1), (0.0, 0.0, 0.0));
        assert_eq!(s.confusion["c"]["b"], 1);
        assert_eq!(s.confusion["a"]["a"], 2);
    }
}
