//! Marking near-duplicate passages. They stay in the tables, with status `duplicate`, the
//! passage they repeat, and how.
//!
//! Word 3-gram shingles are compared through an inverted index: a passage is a duplicate of
//! an earlier one when their Jaccard similarity reaches `near_duplicate`, when it is
//! contained in an earlier passage, or when earlier passages together cover it (a paragraph
//! that merges two others). The earlier passage (in corpus order) is kept. This step needs
//! every earlier passage's shingles: it is the one step of the pipeline that does not split
//! into independent shards (a distributed engine would shuffle by shingle hash).

use super::text::plain_words as words;
use crate::model::{DuplicateKind, DuplicatePair, Passage, PassageStatus};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// 64-bit FNV-1a of a word, lowercased and with `’` read as `'`, without allocating.
fn word_hash(w: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |c: char| {
        let c = if c == '’' { '\'' } else { c };
        for b in (c as u32).to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for c in w.chars() {
        if c.is_ascii() {
            eat(c.to_ascii_lowercase());
        } else {
            c.to_lowercase().for_each(&mut eat);
        }
    }
    h
}

/// A well-mixed 64-bit value (splitmix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes of the word 3-grams of a text, sorted and without repeats (one pass over the
/// text, no per-word allocation).
pub fn shingles(text: &str) -> Vec<u64> {
    let mut set = Vec::new();
    let (mut a, mut b) = (None, None);
    for w in words(text) {
        let c = word_hash(w);
        if let (Some(a), Some(b)) = (a, b) {
            set.push(mix(mix(mix(a) ^ b) ^ c));
        }
        (a, b) = (b, Some(c));
    }
    set.sort_unstable();
    set.dedup();
    set
}

/// Shingles shared by more passages than this are too common to find duplicates with.
const MAX_POSTING: usize = 64;

/// Mark near-duplicates among kept passages; returns the pairs found.
pub fn mark_duplicates(passages: &mut [Passage], near: f64, contained: f64) -> Vec<DuplicatePair> {
    let sets: Vec<Vec<u64>> = passages
        .par_iter()
        .map(|p| {
            if p.status == PassageStatus::Kept {
                shingles(&p.text)
            } else {
                Vec::new()
            }
        })
        .collect();
    let sizes: Vec<usize> = sets.iter().map(Vec::len).collect();
    let ids: Vec<u32> = passages.iter().map(|p| p.passage_id).collect();
    let found = {
        let same_text = |i: usize, j: usize| passages[i].text == passages[j].text;
        find_duplicates(&ids, &sets, &sizes, same_text, near, contained)
    };
    let mut pairs = Vec::with_capacity(found.len());
    for (i, pair) in found {
        passages[i].status = PassageStatus::Duplicate;
        passages[i].duplicate_of = Some(pair.duplicate_of);
        passages[i].reason = Some(pair.kind.into());
        pairs.push(pair);
    }
    pairs
}

/// The duplicate pairs among passages given by their shingle sets, in corpus order: for
/// passage `i` (named `ids[i]`), `sets[i]` holds its shingles ([`shingles`]; empty for a
/// passage that is not kept) and `sizes[i]` their number; `same_text(i, j)` says whether two
/// passages have the same text. `sets[i]` may leave out shingles no other passage holds
/// (what a shuffle by shingle hash finds): they can never be shared, and only `sizes`
/// counts them. Each duplicate is returned with its index, in order.
pub fn find_duplicates(
    ids: &[u32],
    sets: &[Vec<u64>],
    sizes: &[usize],
    same_text: impl Fn(usize, usize) -> bool,
    near: f64,
    contained: f64,
) -> Vec<(usize, DuplicatePair)> {
    assert!(ids.len() == sets.len() && sets.len() == sizes.len());
    // shingle → (first passage holding it, passages holding it); the others are in `more`,
    // up to MAX_POSTING + 1 (longer lists are skipped anyway)
    let mut index: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    index.reserve(sets.iter().map(Vec::len).sum());
    let mut more: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    let mut pairs = Vec::new();
    for i in 0..sets.len() {
        let a = &sets[i];
        if a.is_empty() {
            continue;
        }
        let mut shared: FxHashMap<usize, usize> = FxHashMap::default();
        for s in a {
            if let Some(&(first, n)) = index.get(s) {
                if n as usize <= MAX_POSTING {
                    *shared.entry(first as usize).or_insert(0) += 1;
                    if n > 1 {
                        for &j in &more[s] {
                            *shared.entry(j as usize).or_insert(0) += 1;
                        }
                    }
                }
            }
        }
        let mut cands: Vec<(usize, usize)> = shared.into_iter().collect();
        cands.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut found: Option<DuplicatePair> = None;
        let a_len = sizes[i];
        if let Some(&(j, s)) = cands.first() {
            let jaccard = s as f64 / (a_len + sizes[j] - s) as f64;
            let cont = s as f64 / a_len as f64;
            let kind = if same_text(i, j) {
                Some(DuplicateKind::Exact)
            } else if jaccard >= near {
                Some(DuplicateKind::Near)
            } else if cont >= contained {
                Some(DuplicateKind::Contained)
            } else {
                None
            };
            if let Some(kind) = kind {
                found = Some(DuplicatePair {
                    passage_id: ids[i],
                    duplicate_of: ids[j],
                    kind,
                    jaccard,
                    containment: cont,
                });
            } else {
                // several earlier passages that each lie mostly inside this one and together cover it
                let parts: Vec<usize> = cands
                    .iter()
                    .filter(|&&(j, s)| s as f64 / sizes[j] as f64 >= contained)
                    .map(|&(j, _)| j)
                    .collect();
                if parts.len() >= 2 {
                    let covered = a
                        .iter()
                        .filter(|s| parts.iter().any(|&j| sets[j].binary_search(s).is_ok()))
                        .count();
                    let cover = covered as f64 / a_len as f64;
                    if cover >= contained {
                        found = Some(DuplicatePair {
                            passage_id: ids[i],
                            duplicate_of: ids[j],
                            kind: DuplicateKind::Merged,
                            jaccard,
                            containment: cover,
                        });
                    }
                }
            }
        }
        match found {
            Some(pair) => pairs.push((i, pair)),
            None => {
                for s in a {
                    let (_, n) = index.entry(*s).or_insert((i as u32, 0));
                    *n += 1;
                    if *n > 1 && *n as usize <= MAX_POSTING + 1 {
                        more.entry(*s).or_default().push(i as u32);
                    }
                }
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::test_passage as passage;
    use crate::model::Named;

    #[test]
    fn duplicates_exact_near_contained_and_merged() {
        let a = "the supreme leader called the idea of negotiations with the united states poison yet reassured";
        let b = "but every resistance has a breaking point and the regime has shown itself capable of reversals";
        let mut ps = vec![
            passage(0, 0, a),
            passage(1, 0, b),
            passage(
                2,
                0,
                "an unrelated paragraph about the war in gaza and the axis militias of the region",
            ),
            passage(3, 1, a),
            passage(4, 1, &a.replace("reassured", "reassuring")),
            passage(5, 1, &format!("{a} {b}")),
            passage(
                6,
                1,
                "the idea of negotiations with the united states poison",
            ),
            passage(
                7,
                1,
                "something else entirely that shares nothing with the earlier passages at all",
            ),
        ];
        let pairs = mark_duplicates(&mut ps, 0.8, 0.9);
        let kinds: Vec<(u32, u32, &str)> = pairs
            .iter()
            .map(|p| (p.passage_id, p.duplicate_of, p.kind.name()))
            .collect();
        assert_eq!(kinds[0], (3, 0, "exact"));
        assert_eq!(kinds[1].0, 4);
        assert_eq!(kinds[1].2, "near");
        assert_eq!((kinds[2].0, kinds[2].2), (5, "merged"));
        assert_eq!((kinds[3].0, kinds[3].1, kinds[3].2), (6, 0, "contained"));
        assert_eq!(kinds.len(), 4);
        assert_eq!(ps[7].status, PassageStatus::Kept);
        assert_eq!(ps[3].duplicate_of, Some(0));
    }
}
