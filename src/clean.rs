//! Marking boilerplate and near-duplicate passages (they stay in the tables, with a status).
//!
//! **Boilerplate** rules look at one passage and its place in the document: reading-time
//! lines, datelines, bylines (`date | author`, `By …`), image captions, copyright lines,
//! tag lines, author bios, headings, short lines repeated elsewhere in the corpus, and the
//! run of such passages that closes a page (related-article lists).
//!
//! **Near-duplicates** compare word 3-gram shingles through an inverted index: a passage is a
//! duplicate of an earlier one when their Jaccard similarity reaches `near_duplicate`, when it
//! is contained in an earlier passage, or when earlier passages together cover it (a
//! paragraph that merges two others). The earlier passage (in corpus order) is kept.

use crate::ingest::{fold_whitespace, Passage, Status};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

/// Why a passage is boilerplate.
pub mod reason {
    pub const READ_TIME: &str = "read_time";
    pub const DATELINE: &str = "dateline";
    pub const BYLINE: &str = "byline";
    pub const CAPTION: &str = "caption";
    pub const COPYRIGHT: &str = "copyright";
    pub const TAGS: &str = "tags";
    pub const AUTHOR_BIO: &str = "author_bio";
    pub const HEADING: &str = "heading";
    pub const REPEATED: &str = "repeated";
    pub const RELATED: &str = "related_articles";
}

/// One duplicate pair.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePair {
    pub passage_id: u32,
    pub duplicate_of: u32,
    /// `exact`, `near`, `contained` or `merged`.
    pub kind: &'static str,
    /// Jaccard similarity of the two passages' shingle sets.
    pub jaccard: f64,
    /// Share of the passage's shingles found in the earlier passage(s).
    pub containment: f64,
}

/// The words of a text: runs of letters, digits and apostrophes.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
}

/// Number of words, counted up to `cap + 1` (so a giant passage costs no more than a short
/// one when only "more than `cap`" matters).
fn n_words(text: &str, cap: usize) -> usize {
    words(text).take(cap + 1).count()
}

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

fn ends_sentence(text: &str) -> bool {
    text.trim_end().ends_with(['.', '!', '?', '"', '”', '…'])
}

/// The boilerplate reason of one passage on its own, if any.
pub fn boilerplate_reason(text: &str) -> Option<&'static str> {
    let t = text.trim();
    let lower = t.to_lowercase();
    let n = n_words(t, 60);
    if n == 0 {
        return Some(reason::HEADING);
    }
    if n <= 4 && lower.contains("min read") {
        return Some(reason::READ_TIME);
    }
    if lower.starts_with("tags:") {
        return Some(reason::TAGS);
    }
    if lower.contains('©') || lower.contains("all rights reserved") || lower.contains("copyright ©")
    {
        return Some(reason::COPYRIGHT);
    }
    if n <= 12 && t.contains(" | ") {
        return Some(reason::BYLINE);
    }
    if crate::ingest::looks_like_date(t) {
        return Some(reason::DATELINE);
    }
    if n <= 8 && lower.starts_with("by ") {
        return Some(reason::BYLINE);
    }
    if n <= 60
        && [
            "(image:",
            "(photo:",
            "(picture:",
            "image credit",
            "photo credit",
        ]
        .iter()
        .any(|m| lower.contains(m))
    {
        return Some(reason::CAPTION);
    }
    if is_author_bio(t) {
        return Some(reason::AUTHOR_BIO);
    }
    if n <= 12 && !ends_sentence(t) {
        return Some(reason::HEADING);
    }
    None
}

/// "Jane Doe is a senior fellow at …": a short passage that starts with a name and says who
/// the author is.
pub(crate) fn is_author_bio(text: &str) -> bool {
    const ROLES: &[&str] = &[
        "fellow",
        "professor",
        "editor",
        "correspondent",
        "director",
        "analyst",
        "researcher",
        "columnist",
        "journalist",
        "author of",
    ];
    if n_words(text, 60) > 60 {
        return false;
    }
    let lower = text.to_lowercase();
    let starts_with_name = text
        .split_whitespace()
        .take(2)
        .all(|x| x.chars().next().is_some_and(char::is_uppercase));
    let says_is =
        lower.contains(" is the ") || lower.contains(" is a ") || lower.contains(" is an ");
    starts_with_name && says_is && ROLES.iter().any(|r| lower.contains(r))
}

/// Mark boilerplate among kept passages: `(status, reason)` per passage.
pub fn mark_boilerplate(passages: &mut [Passage]) {
    // short lines that occur more than once in the corpus (bylines of article lists,
    // doubled subtitles): every occurrence is boilerplate
    let keys: Vec<Option<String>> = passages
        .iter()
        .map(|p| (n_words(&p.text, 20) <= 20).then(|| fold_whitespace(&p.text.to_lowercase())))
        .collect();
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
    for k in keys.iter().flatten() {
        *seen.entry(k.as_str()).or_insert(0) += 1;
    }
    // a short line is a heading only in a document that also has body paragraphs; a corpus
    // of short texts (titles, posts) has none
    let with_body: FxHashSet<u32> = passages
        .iter()
        .filter(|p| n_words(&p.text, 12) > 12)
        .map(|p| p.doc_id)
        .collect();
    for (p, key) in passages.iter_mut().zip(&keys) {
        if p.status != Status::Kept {
            continue;
        }
        let r = boilerplate_reason(&p.text)
            .filter(|&r| r != reason::HEADING || with_body.contains(&p.doc_id))
            .or_else(|| {
                let n = key.as_deref().and_then(|k| seen.get(k)).copied();
                (n.unwrap_or(0) > 1).then_some(reason::REPEATED)
            });
        if let Some(r) = r {
            p.status = Status::Boilerplate;
            p.reason = Some(r.to_string());
        }
    }
    // the run of boilerplate that closes a document (related-article lists): from the end,
    // the longest run in which at least two thirds of the passages are not body text
    let mut start = 0;
    while start < passages.len() {
        let doc = passages[start].doc_id;
        let end = passages[start..]
            .iter()
            .position(|p| p.doc_id != doc)
            .map_or(passages.len(), |i| start + i);
        mark_closing_run(&mut passages[start..end]);
        start = end;
    }
}

fn mark_closing_run(doc: &mut [Passage]) {
    let (mut best, mut not_body) = (doc.len(), 0usize);
    for i in (0..doc.len()).rev() {
        if doc[i].status != Status::Kept {
            not_body += 1;
        }
        let len = doc.len() - i;
        if len >= 4 && not_body * 3 >= len * 2 && doc[i].status != Status::Kept {
            best = i;
        }
    }
    for p in &mut doc[best..] {
        if p.status == Status::Kept {
            p.status = Status::Boilerplate;
            p.reason = Some(reason::RELATED.to_string());
        }
    }
}

/// Hashes of the word 3-grams of a text, sorted and without repeats (one pass over the
/// text, no per-word allocation).
fn shingles(text: &str) -> Vec<u64> {
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
            if p.status == Status::Kept {
                shingles(&p.text)
            } else {
                Vec::new()
            }
        })
        .collect();
    // shingle → (first passage holding it, passages holding it); the others are in `more`,
    // up to MAX_POSTING + 1 (longer lists are skipped anyway)
    let mut index: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    index.reserve(sets.iter().map(Vec::len).sum());
    let mut more: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    let mut pairs = Vec::new();
    for i in 0..passages.len() {
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
        if let Some(&(j, s)) = cands.first() {
            let b = &sets[j];
            let jaccard = s as f64 / (a.len() + b.len() - s) as f64;
            let cont = s as f64 / a.len() as f64;
            let kind = if passages[i].text == passages[j].text {
                Some("exact")
            } else if jaccard >= near {
                Some("near")
            } else if cont >= contained {
                Some("contained")
            } else {
                None
            };
            if let Some(kind) = kind {
                found = Some(DuplicatePair {
                    passage_id: passages[i].passage_id,
                    duplicate_of: passages[j].passage_id,
                    kind,
                    jaccard,
                    containment: cont,
                });
            } else {
                // several earlier passages that each lie mostly inside this one and together cover it
                let parts: Vec<usize> = cands
                    .iter()
                    .filter(|&&(j, s)| s as f64 / sets[j].len() as f64 >= contained)
                    .map(|&(j, _)| j)
                    .collect();
                if parts.len() >= 2 {
                    let covered = a
                        .iter()
                        .filter(|s| parts.iter().any(|&j| sets[j].binary_search(s).is_ok()))
                        .count();
                    let cover = covered as f64 / a.len() as f64;
                    if cover >= contained {
                        found = Some(DuplicatePair {
                            passage_id: passages[i].passage_id,
                            duplicate_of: passages[j].passage_id,
                            kind: "merged",
                            jaccard,
                            containment: cover,
                        });
                    }
                }
            }
        }
        match found {
            Some(pair) => {
                passages[i].status = Status::Duplicate;
                passages[i].duplicate_of = Some(pair.duplicate_of);
                passages[i].reason = Some(pair.kind.to_string());
                pairs.push(pair);
            }
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

    fn passage(id: u32, doc: u32, text: &str) -> Passage {
        Passage {
            passage_id: id,
            doc_id: doc,
            ordinal: id,
            text: text.to_string(),
            char_start: 0,
            char_end: 0,
            status: Status::Kept,
            reason: None,
            duplicate_of: None,
        }
    }

    #[test]
    fn boilerplate_rules() {
        let cases = [
            ("6 min read", Some(reason::READ_TIME)),
            ("January 23, 2025", Some(reason::DATELINE)),
            ("Jun 28, 2019 | Mehdi Khalaji", Some(reason::BYLINE)),
            ("By Jane Doe", Some(reason::BYLINE)),
            (
                "Campus activists at a rally (Image: Shutterstock)",
                Some(reason::CAPTION),
            ),
            (
                "© Washington Institute, reprinted by permission.",
                Some(reason::COPYRIGHT),
            ),
            ("Tags: ,", Some(reason::TAGS)),
            (
                "Mehdi Khalaji is the Libitzky Family Fellow at The Washington Institute.",
                Some(reason::AUTHOR_BIO),
            ),
            ("POLICY RECOMMENDATIONS", Some(reason::HEADING)),
            (
                "Khamenei is a true fanatic, and he forged his beliefs as a revolutionary.",
                None,
            ),
            ("Does the PA even want to govern Gaza?", None),
        ];
        for (text, want) in cases {
            assert_eq!(boilerplate_reason(text), want, "{text}");
        }
    }

    #[test]
    fn repeated_short_lines_and_closing_runs() {
        let body = "This is a long body paragraph that says something of substance about the topic at hand.";
        let mut ps = vec![
            passage(0, 0, body),
            passage(
                1,
                0,
                "Another body paragraph with plenty of words in it, and a point to make.",
            ),
            passage(2, 0, "A related story (Image: Agency)"),
            passage(3, 0, "May 31, 2024 | Review"),
            passage(4, 0, "A second related story, told in one line?"),
            passage(5, 0, "May 31, 2024 | Review"),
            passage(
                6,
                1,
                "Another document entirely, with a body of its own that is long enough.",
            ),
        ];
        mark_boilerplate(&mut ps);
        let st: Vec<Status> = ps.iter().map(|p| p.status).collect();
        assert_eq!(st[..2], [Status::Kept, Status::Kept]);
        assert!(st[2..6].iter().all(|s| *s == Status::Boilerplate), "{st:?}");
        assert_eq!(ps[2].reason.as_deref(), Some(reason::CAPTION));
        assert_eq!(ps[4].reason.as_deref(), Some(reason::RELATED));
        assert_eq!(ps[3].reason.as_deref(), Some(reason::BYLINE));
        assert_eq!(st[6], Status::Kept);
    }

    #[test]
    fn short_texts_without_body_are_not_headings() {
        let mut ps = vec![
            passage(0, 0, "alpha beta gamma"),
            passage(1, 1, "alpha delta"),
        ];
        mark_boilerplate(&mut ps);
        assert!(ps.iter().all(|p| p.status == Status::Kept));
    }

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
            .map(|p| (p.passage_id, p.duplicate_of, p.kind))
            .collect();
        assert_eq!(kinds[0], (3, 0, "exact"));
        assert_eq!(kinds[1].0, 4);
        assert_eq!(kinds[1].2, "near");
        assert_eq!((kinds[2].0, kinds[2].2), (5, "merged"));
        assert_eq!((kinds[3].0, kinds[3].1, kinds[3].2), (6, 0, "contained"));
        assert_eq!(kinds.len(), 4);
        assert_eq!(ps[7].status, Status::Kept);
        assert_eq!(ps[3].duplicate_of, Some(0));
    }
}
