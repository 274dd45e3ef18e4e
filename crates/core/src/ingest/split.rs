//! Cutting a document's text into passages, with their character offsets.

use super::text::fold_whitespace;
use super::{IngestParams, Split};
use crate::model::{Passage, PassageStatus, Reason};
use unicode_segmentation::UnicodeSegmentation;

/// Byte spans of the passages of `text`.
pub fn split(text: &str, how: Split) -> Vec<(usize, usize)> {
    split_with(text, how, 100, 20)
}

/// Byte spans of the passages of `text`, with the window geometry for `Split::Window`.
pub fn split_with(text: &str, how: Split, window: usize, overlap: usize) -> Vec<(usize, usize)> {
    let non_blank = |&(s, e): &(usize, usize)| !text[s..e].trim().is_empty();
    match how {
        Split::Document => {
            if text.trim().is_empty() {
                vec![]
            } else {
                vec![(0, text.len())]
            }
        }
        Split::Line => line_spans(text).into_iter().filter(non_blank).collect(),
        Split::Sentence => text
            .split_sentence_bound_indices()
            .filter_map(|(i, s)| {
                let start = i + (s.len() - s.trim_start().len());
                let end = i + s.trim_end().len();
                (end > start).then_some((start, end))
            })
            .collect(),
        Split::Window => {
            let words: Vec<(usize, usize)> = text
                .unicode_word_indices()
                .map(|(i, w)| (i, i + w.len()))
                .collect();
            let step = window.saturating_sub(overlap).max(1);
            let mut out = Vec::new();
            let mut first = 0;
            while first < words.len() {
                let last = (first + window).min(words.len()) - 1;
                out.push((words[first].0, words[last].1));
                if last + 1 == words.len() {
                    break;
                }
                first += step;
            }
            out
        }
        Split::Paragraph => {
            let mut out: Vec<(usize, usize)> = Vec::new();
            let mut open = false; // the last span may still grow
            for (s, e) in line_spans(text) {
                let line = text[s..e].trim();
                if line.is_empty() {
                    open = false;
                    continue;
                }
                match out.last_mut() {
                    Some(last) if open && continues(text[last.0..last.1].trim_end(), line) => {
                        last.1 = e
                    }
                    _ => out.push((s, e)),
                }
                open = true;
            }
            out
        }
    }
}

/// A hard-wrapped line continues when the previous line has no closing punctuation and
/// the next one starts in lowercase.
fn continues(prev: &str, next: &str) -> bool {
    let ends = prev
        .chars()
        .last()
        .is_some_and(|c| ".!?:;\"”’)]…".contains(c));
    let starts_lower = next.chars().next().is_some_and(char::is_lowercase);
    !ends && starts_lower
}

fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        spans.push((start, text.len()));
    }
    spans
}

/// Character offsets of byte positions, for positions given in non-decreasing order: one
/// scan over the text however many positions are asked for.
struct CharCursor<'a> {
    text: &'a str,
    byte: usize,
    chars: u64,
}

impl<'a> CharCursor<'a> {
    fn new(text: &'a str) -> Self {
        CharCursor {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, byte: usize) -> u64 {
        debug_assert!(byte >= self.byte, "positions must not decrease");
        self.chars += self.text[self.byte..byte].chars().count() as u64;
        self.byte = byte;
        self.chars
    }
}

/// Cut one decoded document into passages (ids are filled in by [`super::assemble`]).
pub fn passages_of(text: &str, settings: &IngestParams) -> Vec<Passage> {
    let spans = split_with(
        text,
        settings.split,
        settings.window_size,
        settings.window_overlap,
    );
    let mut out = Vec::with_capacity(spans.len());
    // spans are in order, their starts and their ends each non-decreasing (windows overlap,
    // so a start may lie before the previous end): one cursor for each
    let (mut starts, mut ends) = (CharCursor::new(text), CharCursor::new(text));
    for (ordinal, (s, e)) in spans.into_iter().enumerate() {
        let char_start = starts.at(s);
        let char_end = ends.at(e);
        let body = fold_whitespace(&text[s..e]);
        let short = body.chars().count() < settings.min_passage_chars;
        out.push(Passage {
            passage_id: 0,
            doc_id: 0,
            ordinal: ordinal as u32,
            text: body,
            char_start,
            char_end,
            status: if short {
                PassageStatus::Short
            } else {
                PassageStatus::Kept
            },
            reason: short.then_some(Reason::MinPassageChars),
            duplicate_of: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, how: Split) -> Vec<&str> {
        split(text, how)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn paragraphs_split_on_blank_lines_and_line_breaks() {
        let t = "Title\n\nFirst para.\nSecond para.\n\nA wrapped line\nthat goes on.\n";
        assert_eq!(
            texts(t, Split::Paragraph),
            [
                "Title",
                "First para.",
                "Second para.",
                "A wrapped line\nthat goes on."
            ]
        );
        assert_eq!(texts(t, Split::Line).len(), 5);
        assert_eq!(texts(t, Split::Document), [t]);
        assert!(texts("  \n\n", Split::Document).is_empty());
    }

    #[test]
    fn sentences_and_windows() {
        let t = "Mr. Smith went home. Did he? Yes!\nNew line here.";
        assert_eq!(
            texts(t, Split::Sentence),
            [
                "Mr. ",
                "Smith went home. ",
                "Did he? ",
                "Yes!\n",
                "New line here."
            ]
            .map(str::trim)
        );
        let w = "one two three four five six seven";
        let spans = split_with(w, Split::Window, 3, 1);
        let got: Vec<&str> = spans.iter().map(|&(s, e)| &w[s..e]).collect();
        assert_eq!(got, ["one two three", "three four five", "five six seven"]);
        let spans = split_with("a b", Split::Window, 5, 2);
        assert_eq!(spans, [(0, 3)]);
        assert!(split_with("  ", Split::Window, 5, 2).is_empty());
    }

    #[test]
    fn offsets_are_in_characters() {
        let s = IngestParams::default();
        let t = "Ünïcödé\n\nsecond – para";
        let p = passages_of(t, &s);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].char_start, p[0].char_end), (0, 7));
        assert_eq!((p[1].char_start, p[1].char_end), (9, 22));
        let chars: Vec<char> = t.chars().collect();
        let second: String = chars[9..22].iter().collect();
        assert_eq!(second, p[1].text);
    }

    #[test]
    fn overlapping_windows_have_character_offsets() {
        let s = IngestParams {
            split: Split::Window,
            window_size: 3,
            window_overlap: 1,
            ..Default::default()
        };
        let t = "ä b c d e f g";
        let p = passages_of(t, &s);
        let chars: Vec<char> = t.chars().collect();
        let texts: Vec<String> = p
            .iter()
            .map(|x| {
                chars[x.char_start as usize..x.char_end as usize]
                    .iter()
                    .collect()
            })
            .collect();
        assert_eq!(texts, ["ä b c", "c d e", "e f g"]);
        assert_eq!(texts, p.iter().map(|x| x.text.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn short_passages_are_marked() {
        let s = IngestParams {
            min_passage_chars: 10,
            ..Default::default()
        };
        let p = passages_of("tiny\n\na longer passage", &s);
        assert_eq!(p[0].status, PassageStatus::Short);
        assert_eq!(p[1].status, PassageStatus::Kept);
    }
}
