//! `themata evaluate`: compare a run's assignments with gold labels.
//!
//! Gold is a CSV file with a `path` column (document path as in `documents.parquet`), an
//! optional `ordinal` column (passage ordinal: passage-level gold) and one label column
//! (named `label`, or the only other column). With document-level gold, a document's
//! prediction is the theme most of its assigned passages have (ties: lowest cluster id).
//! Unassigned passages count as their own predicted label, `unassigned`.

use crate::cluster::UNASSIGNED;
use crate::error::{Error, Result};
use crate::tables;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Agreement of two labelings of the same items.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub ari: f64,
    pub nmi: f64,
    pub purity: f64,
    /// Share of items whose predicted theme equals the gold label, and precision / recall /
    /// F1 per label: only when predicted and gold labels share names (guided themes); `None`
    /// for discovered clusters, whose names are their top terms.
    pub accuracy: Option<f64>,
    pub per_label: Option<Vec<LabelScores>>,
    /// `confusion[gold][predicted]` = count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
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

/// The evaluation of one output directory.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// `document` or `passage`.
    pub level: &'static str,
    /// Gold rows that name no document / passage of the run.
    pub unmatched_gold: usize,
    /// Evaluated items whose prediction is `unassigned`.
    pub unassigned: usize,
    pub scores: Scores,
}

/// Gold rows: (path, optional ordinal, label).
fn read_gold(path: &Path) -> Result<Vec<(String, Option<u32>, String)>> {
    let input_err = |m: String| Error::Input {
        path: path.to_path_buf(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| input_err(e.to_string()))?;
    let headers = r.headers().map_err(|e| input_err(e.to_string()))?.clone();
    let find = |n: &str| headers.iter().position(|h| h == n);
    let p = find("path").ok_or_else(|| input_err("no `path` column".into()))?;
    let o = find("ordinal");
    let others: Vec<usize> = (0..headers.len())
        .filter(|&i| i != p && Some(i) != o)
        .collect();
    let l = match (find("label"), others.as_slice()) {
        (Some(l), _) => l,
        (None, [only]) => *only,
        _ => {
            return Err(input_err(
                "needs a `label` column (or exactly one column besides path and ordinal)".into(),
            ))
        }
    };
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| input_err(e.to_string()))?;
        let line = i + 2;
        let ordinal = match o {
            Some(o) => Some(
                rec.get(o)
                    .unwrap_or("")
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| {
                        input_err(format!(
                            "line {line}: ordinal {:?} is not a whole number",
                            rec.get(o).unwrap_or("")
                        ))
                    })?,
            ),
            None => None,
        };
        rows.push((
            rec.get(p).unwrap_or("").to_string(),
            ordinal,
            rec.get(l).unwrap_or("").to_string(),
        ));
    }
    Ok(rows)
}

/// Evaluate the run in `dir` against the gold file.
pub fn evaluate(dir: &Path, gold_path: &Path) -> Result<Evaluation> {
    let gold = read_gold(gold_path)?;
    let corpus = tables::read_corpus(dir)?;
    let clustering = tables::read_clustering(dir)?;
    let theme_of: HashMap<u32, (Option<u32>, &str)> = clustering
        .assignments
        .iter()
        .map(|a| (a.passage_id, (a.cluster, a.theme.as_str())))
        .collect();
    let doc_id: HashMap<&str, u32> = corpus
        .documents
        .iter()
        .map(|d| (d.path.as_str(), d.doc_id))
        .collect();
    let passage_level = gold.iter().any(|g| g.1.is_some());
    let mut golds = Vec::new();
    let mut preds = Vec::new();
    let mut unmatched = 0;
    if passage_level {
        let by_key: HashMap<(u32, u32), u32> = corpus
            .passages
            .iter()
            .map(|p| ((p.doc_id, p.ordinal), p.passage_id))
            .collect();
        for (path, ord, label) in &gold {
            let pid = doc_id
                .get(path.as_str())
                .and_then(|&d| by_key.get(&(d, ord.unwrap_or(0))));
            match pid.and_then(|p| theme_of.get(p)) {
                Some((_, theme)) => {
                    golds.push(label.clone());
                    preds.push(theme.to_string());
                }
                None => unmatched += 1,
            }
        }
    } else {
        // majority theme of each document's assigned passages
        let mut votes: HashMap<u32, BTreeMap<(u32, String), usize>> = HashMap::new();
        for p in &corpus.passages {
            if let Some((c, theme)) = theme_of.get(&p.passage_id) {
                let key = (c.unwrap_or(u32::MAX), theme.to_string());
                *votes.entry(p.doc_id).or_default().entry(key).or_insert(0) += 1;
            }
        }
        for (path, _, label) in &gold {
            let v = doc_id.get(path.as_str()).and_then(|d| votes.get(d));
            match v {
                Some(v) => {
                    let (key, _) = v
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0 .0.cmp(&a.0 .0)))
                        .expect("votes are never empty");
                    golds.push(label.clone());
                    preds.push(key.1.clone());
                }
                None => unmatched += 1,
            }
        }
    }
    if golds.is_empty() {
        return Err(Error::Input {
            path: gold_path.to_path_buf(),
            message: format!(
                "no gold row matches a {} of the run in {}",
                if passage_level { "passage" } else { "document" },
                dir.display()
            ),
        });
    }
    Ok(Evaluation {
        level: if passage_level { "passage" } else { "document" },
        unmatched_gold: unmatched,
        unassigned: preds.iter().filter(|p| p.as_str() == UNASSIGNED).count(),
        scores: score(&golds, &preds),
    })
}

/// A plain-text rendering for the terminal.
pub fn to_text(e: &Evaluation) -> String {
    let s = &e.scores;
    let mut o = format!(
        "{} {}s evaluated ({} gold rows unmatched, {} unassigned)\nARI {:.4}  NMI {:.4}  purity {:.4}",
        s.n, e.level, e.unmatched_gold, e.unassigned, s.ari, s.nmi, s.purity
    );
    if let Some(a) = s.accuracy {
        o += &format!("  accuracy {a:.4}");
    }
    o += "\n";
    if let Some(per_label) = &s.per_label {
        o += &format!(
            "\n{:<24} {:>9} {:>9} {:>9} {:>8}\n",
            "label", "precision", "recall", "f1", "support"
        );
        for l in per_label {
            o += &format!(
                "{:<24} {:>9.3} {:>9.3} {:>9.3} {:>8}\n",
                l.label, l.precision, l.recall, l.f1, l.support
            );
        }
    }
    let predicted: BTreeSet<&String> = s.confusion.values().flat_map(|m| m.keys()).collect();
    o += &format!("\nconfusion (rows: gold, columns: predicted)\n{:<24}", "");
    for p in &predicted {
        o += &format!(" {:>12}", p);
    }
    o.push('\n');
    for (g, row) in &s.confusion {
        o += &format!("{g:<24}");
        for p in &predicted {
            o += &format!(" {:>12}", row.get(*p).copied().unwrap_or(0));
        }
        o.push('\n');
    }
    o
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
