//! How strongly each guided theme is supported by its seed words and members.

use super::r6;
use crate::model::{
    Assignment, Clustering, SeedState, SeedStatus, SparseRows, ThemeStrength, Vocabulary,
};
use std::collections::{HashMap, HashSet};

/// Per guided theme: seeds, live seeds, passages holding a live seed term, members and their
/// mean similarity. Works from the tables alone (for `themata report`).
pub fn theme_strength(m: &SparseRows, vocab: &Vocabulary, c: &Clustering) -> Vec<ThemeStrength> {
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
                .filter(|s| s.status == SeedState::Live)
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
                live_seeds: mine.iter().filter(|s| s.status == SeedState::Live).count() as u32,
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
