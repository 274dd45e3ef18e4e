//! Marking boilerplate: passages that are page furniture, not article text. They stay in
//! the tables, with status `boilerplate` and a reason.
//!
//! The rules look at one passage and its place in the document: reading-time lines,
//! datelines, bylines (`date | author`, `By …`), image captions, copyright lines, tag lines,
//! author bios, headings, short lines repeated elsewhere in the corpus, and the run of such
//! passages that closes a page (related-article lists).

use super::meta::looks_like_date;
use super::text::{fold_whitespace, n_words};
use crate::model::{Passage, PassageStatus, Reason};
use rustc_hash::{FxHashMap, FxHashSet};

fn ends_sentence(text: &str) -> bool {
    text.trim_end().ends_with(['.', '!', '?', '"', '”', '…'])
}

/// The boilerplate reason of one passage on its own, if any.
pub fn boilerplate_reason(text: &str) -> Option<Reason> {
    let t = text.trim();
    let lower = t.to_lowercase();
    let n = n_words(t, 60);
    if n == 0 {
        return Some(Reason::Heading);
    }
    if n <= 4 && lower.contains("min read") {
        return Some(Reason::ReadTime);
    }
    if lower.starts_with("tags:") {
        return Some(Reason::Tags);
    }
    if lower.contains('©') || lower.contains("all rights reserved") || lower.contains("copyright ©")
    {
        return Some(Reason::Copyright);
    }
    if n <= 12 && t.contains(" | ") {
        return Some(Reason::Byline);
    }
    if looks_like_date(t) {
        return Some(Reason::Dateline);
    }
    if n <= 8 && lower.starts_with("by ") {
        return Some(Reason::Byline);
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
        return Some(Reason::Caption);
    }
    if is_author_bio(t) {
        return Some(Reason::AuthorBio);
    }
    if n <= 12 && !ends_sentence(t) {
        return Some(Reason::Heading);
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

/// The key under which a short passage counts as a repeated line (its words lowercased and
/// white space folded), or `None` for a passage of more than 20 words. A short line whose key
/// occurs more than once in the corpus is boilerplate (`repeated`).
pub fn repeated_key(text: &str) -> Option<String> {
    (n_words(text, 20) <= 20).then(|| fold_whitespace(&text.to_lowercase()))
}

/// Mark boilerplate among kept passages: status `boilerplate` and its reason.
pub fn mark_boilerplate(passages: &mut [Passage]) {
    // short lines that occur more than once in the corpus (bylines of article lists,
    // doubled subtitles): every occurrence is boilerplate
    let keys: Vec<Option<String>> = passages.iter().map(|p| repeated_key(&p.text)).collect();
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
    for k in keys.iter().flatten() {
        *seen.entry(k.as_str()).or_insert(0) += 1;
    }
    let repeated = |i: usize| {
        let n = keys[i].as_deref().and_then(|k| seen.get(k)).copied();
        n.unwrap_or(0) > 1
    };
    mark_boilerplate_with(passages, repeated);
}

/// [`mark_boilerplate`] of whole documents (every passage of each document, in order), with
/// `repeated(i)` saying whether passage `i` of the slice is a short line repeated in the
/// corpus ([`repeated_key`] counted over the whole corpus): what a shard of documents does
/// once the keys' counts are merged.
pub fn mark_boilerplate_with(passages: &mut [Passage], repeated: impl Fn(usize) -> bool) {
    // a short line is a heading only in a document that also has body paragraphs; a corpus
    // of short texts (titles, posts) has none
    let with_body: FxHashSet<u32> = passages
        .iter()
        .filter(|p| n_words(&p.text, 12) > 12)
        .map(|p| p.doc_id)
        .collect();
    for (i, p) in passages.iter_mut().enumerate() {
        if p.status != PassageStatus::Kept {
            continue;
        }
        let r = boilerplate_reason(&p.text)
            .filter(|&r| r != Reason::Heading || with_body.contains(&p.doc_id))
            .or_else(|| repeated(i).then_some(Reason::Repeated));
        if let Some(r) = r {
            p.status = PassageStatus::Boilerplate;
            p.reason = Some(r);
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
        if doc[i].status != PassageStatus::Kept {
            not_body += 1;
        }
        let len = doc.len() - i;
        if len >= 4 && not_body * 3 >= len * 2 && doc[i].status != PassageStatus::Kept {
            best = i;
        }
    }
    for p in &mut doc[best..] {
        if p.status == PassageStatus::Kept {
            p.status = PassageStatus::Boilerplate;
            p.reason = Some(Reason::RelatedArticles);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::test_passage as passage;

    #[test]
    fn boilerplate_rules() {
        let cases = [
            ("6 min read", Some(Reason::ReadTime)),
            ("January 23, 2025", Some(Reason::Dateline)),
            ("Jun 28, 2019 | Mehdi Khalaji", Some(Reason::Byline)),
            ("By Jane Doe", Some(Reason::Byline)),
            (
                "Campus activists at a rally (Image: Shutterstock)",
                Some(Reason::Caption),
            ),
            (
                "© Washington Institute, reprinted by permission.",
                Some(Reason::Copyright),
            ),
            ("Tags: ,", Some(Reason::Tags)),
            (
                "Mehdi Khalaji is the Libitzky Family Fellow at The Washington Institute.",
                Some(Reason::AuthorBio),
            ),
            ("POLICY RECOMMENDATIONS", Some(Reason::Heading)),
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
        let st: Vec<PassageStatus> = ps.iter().map(|p| p.status).collect();
        assert_eq!(st[..2], [PassageStatus::Kept, PassageStatus::Kept]);
        assert!(
            st[2..6].iter().all(|s| *s == PassageStatus::Boilerplate),
            "{st:?}"
        );
        assert_eq!(ps[2].reason, Some(Reason::Caption));
        assert_eq!(ps[4].reason, Some(Reason::RelatedArticles));
        assert_eq!(ps[3].reason, Some(Reason::Byline));
        assert_eq!(st[6], PassageStatus::Kept);
    }

    #[test]
    fn short_texts_without_body_are_not_headings() {
        let mut ps = vec![
            passage(0, 0, "alpha beta gamma"),
            passage(1, 1, "alpha delta"),
        ];
        mark_boilerplate(&mut ps);
        assert!(ps.iter().all(|p| p.status == PassageStatus::Kept));
    }
}
