//! Step 1 of the analyzer: UAX #29 word segments holding a letter or digit.

use unicode_segmentation::UnicodeSegmentation;

/// A seeded xorshift64* generator for tests: `next(n)` is a number in `0..n`.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Step 1 of the analyzer as a type: the word segments of a text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segmenter;

impl Segmenter {
    /// The word segments of `text`, in order (see [`segment`]).
    #[inline]
    pub fn words<'a>(&self, text: &'a str) -> impl Iterator<Item = &'a str> {
        segment(text)
    }

    /// Call `f` on each word segment of `text`, in order (see [`for_each_word`]).
    #[inline]
    pub fn for_each_word<'a>(&self, text: &'a str, f: impl FnMut(&'a str)) {
        for_each_word(text, f)
    }
}

/// UAX#29 word segments holding at least one alphanumeric character.
///
/// Exactly unicode-segmentation's `unicode_words`, faster: a text is cut into
/// [`SafePieces`]; pure ASCII pieces are segmented by [`AsciiWords`], the others by
/// `unicode_words`. See [`for_each_word`] for the same without an iterator.
pub fn segment(text: &str) -> impl Iterator<Item = &str> {
    SafePieces(text).flat_map(|piece| match piece {
        Piece::Ascii(p) => PieceWords::Ascii(AsciiWords::new(p)),
        Piece::Other(p) => PieceWords::Unicode(p.unicode_words()),
    })
}

/// Call `f` on each word segment of `text`, in order: the segments of [`segment`], in a
/// loop the compiler can inline (the analyzer's hot path).
#[inline]
pub fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    for piece in SafePieces(text) {
        match piece {
            Piece::Ascii(p) => AsciiWords::new(p).for_each(&mut f),
            Piece::Other(p) => p.unicode_words().for_each(&mut f),
        }
    }
}

enum PieceWords<'a> {
    Ascii(AsciiWords<'a>),
    Unicode(unicode_segmentation::UnicodeWords<'a>),
}

impl<'a> Iterator for PieceWords<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        match self {
            PieceWords::Ascii(w) => w.next(),
            PieceWords::Unicode(w) => w.next(),
        }
    }
}

/// A piece of a text: pure ASCII, or holding non-ASCII characters.
enum Piece<'a> {
    Ascii(&'a str),
    Other(&'a str),
}

/// Position of the first non-ASCII byte, eight bytes at a time.
#[inline]
fn first_non_ascii(b: &[u8]) -> Option<usize> {
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        if u64::from_le_bytes(w.try_into().expect("8 bytes")) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        at += 8;
    }
    b[at..].iter().position(|c| !c.is_ascii()).map(|i| at + i)
}

/// A text cut where UAX#29 always puts a word boundary whatever surrounds it: before an
/// ASCII character other than a space that follows a space. Cuts are made only next to
/// non-ASCII characters: each [`Piece`] is either pure ASCII or holds non-ASCII characters,
/// and a pure ASCII text is one piece.
///
/// Why the word segments of the pieces are those of the text: at such a position `p`, with a
/// space on the left and an ASCII non-space on the right, no rule keeps the two together
/// (WB3 needs CR on the left, WB3c ZWJ, WB3d a space on the right, WB4 an Extend, Format or
/// ZWJ on the right — no ASCII character is one — and WB5–WB16 a letter, digit, `_`, mid-word
/// punctuation or regional indicator on the left), so `p` is a boundary. No rule decides a
/// boundary on one side of `p` from a character on the other side either: the look-ahead of
/// WB6, WB7b and WB12 and the look-behind of WB7, WB7c, WB11 and WB15–16 pass through a
/// character adjacent to the boundary they decide, which would have to be the space at
/// `p - 1` or the ASCII character at `p` and be a letter, digit, mid-word punctuation or
/// regional indicator. unicode-segmentation iterates forward by starting each segment afresh
/// at the previous boundary, so it gives the same segments. The tests check all this against
/// `unicode_words` itself (`segment_is_unicode_words*`).
struct SafePieces<'a>(&'a str);

impl<'a> Iterator for SafePieces<'a> {
    type Item = Piece<'a>;

    #[inline]
    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = self.0;
        if rest.is_empty() {
            return None;
        }
        let b = rest.as_bytes();
        let Some(k) = first_non_ascii(b) else {
            self.0 = "";
            return Some(Piece::Ascii(rest));
        };
        // the ASCII stretch before the last cut ahead of the non-ASCII character, if any
        if let Some(i) = b[..k]
            .windows(2)
            .rposition(|w| w[0] == b' ' && w[1] != b' ')
        {
            let (piece, rest) = rest.split_at(i + 1);
            self.0 = rest;
            return Some(Piece::Ascii(piece));
        }
        // else up to the first cut after the non-ASCII character (before an ASCII byte, so
        // on a char boundary)
        let end = (k + 1..b.len())
            .find(|&q| b[q - 1] == b' ' && b[q] != b' ' && b[q].is_ascii())
            .unwrap_or(b.len());
        let (piece, rest) = rest.split_at(end);
        self.0 = rest;
        Some(Piece::Other(piece))
    }
}

/// Classes of ASCII bytes for [`AsciiWords`] (bit flags).
const CORE: u8 = 1; // a letter, digit or `_`: ALetter, Numeric, ExtendNumLet
const LETTER: u8 = 2;
const DIGIT: u8 = 4;
const MID_LETTER: u8 = 8; // `:` `.` `'`: MidLetter or MidNumLetQ, between two letters
const MID_NUM: u8 = 16; // `,` `;` `.` `'`: MidNum or MidNumLetQ, between two digits

static ASCII_CLASS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphabetic() {
            CORE | LETTER
        } else if c.is_ascii_digit() {
            CORE | DIGIT
        } else {
            match c {
                b'_' => CORE,
                b':' => MID_LETTER,
                b'.' | b'\'' => MID_LETTER | MID_NUM,
                b',' | b';' => MID_NUM,
                _ => 0,
            }
        };
        i += 1;
    }
    t
};

/// The word segments of a pure ASCII text, as `unicode_words` gives them (its own ASCII path
/// does the same, one segment at a time, spaces and punctuation included).
///
/// In ASCII, UAX#29 keeps letters, digits and `_` together (WB5, WB8–WB10, WB13a–b), a `:`,
/// `.` or `'` between two letters (WB6–7) and a `,`, `;`, `.` or `'` between two digits
/// (WB11–12), and breaks everywhere else: so a word segment is a run of those, and it is
/// kept when it holds a letter or digit (not only `_`).
struct AsciiWords<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> AsciiWords<'a> {
    fn new(text: &'a str) -> Self {
        debug_assert!(text.is_ascii());
        AsciiWords { text, pos: 0 }
    }
}

impl<'a> Iterator for AsciiWords<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let class = |i: usize| ASCII_CLASS[(b[i] & 0x7f) as usize];
        let mut i = self.pos;
        loop {
            while i < b.len() && class(i) & CORE == 0 {
                i += 1;
            }
            if i == b.len() {
                self.pos = i;
                return None;
            }
            let start = i;
            let mut alnum = class(i) & (LETTER | DIGIT) != 0;
            i += 1;
            while i < b.len() {
                let c = class(i);
                if c & CORE != 0 {
                    alnum |= c & (LETTER | DIGIT) != 0;
                    i += 1;
                } else if i + 1 < b.len()
                    && ((c & MID_LETTER != 0 && class(i - 1) & class(i + 1) & LETTER != 0)
                        || (c & MID_NUM != 0 && class(i - 1) & class(i + 1) & DIGIT != 0))
                {
                    i += 2;
                } else {
                    break;
                }
            }
            if alnum {
                self.pos = i;
                return Some(&self.text[start..i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_keeps_words_with_letters_or_digits() {
        let w: Vec<_> = segment("Don't stop — U.S. 1,000 foo_bar 3.14 !!").collect();
        assert_eq!(w, ["Don't", "stop", "U.S", "1,000", "foo_bar", "3.14"]);
    }

    /// `segment` and `for_each_word` give what `unicode_words` gives; on ASCII text, so does
    /// unicode-segmentation's general (table-driven) segmenter, which `unicode_words` skips
    /// for ASCII strings.
    fn check_segment(text: &str) {
        let want: Vec<&str> = text.unicode_words().collect();
        assert_eq!(segment(text).collect::<Vec<_>>(), want, "segment({text:?})");
        let mut got = vec![];
        for_each_word(text, |w| got.push(w));
        assert_eq!(got, want, "for_each_word({text:?})");
        if text.is_ascii() {
            let general: Vec<&str> = text
                .split_word_bounds()
                .filter(|w| w.bytes().any(|b| b.is_ascii_alphanumeric()))
                .collect();
            assert_eq!(general, want, "split_word_bounds({text:?})");
        }
    }

    #[test]
    fn segment_is_unicode_words_on_tricky_text() {
        for text in [
            "",
            " ",
            "a",
            "Don't stop — U.S. 1,000 foo_bar 3.14 !!",
            "£5m, £1.5bn and €3 (about £2)",
            "Iran’s e.g. http://x.y:80/a_b?c=d&e 'quoted' 1.2.3 a..b 1,,2 a:b:c",
            "__ _a_ a_1 1_a ._. a.' 'a. 1'2 a'1",
            "café olé naïve  résumé\u{301} x\u{200D}y 👍🏻 🇬🇧🇫🇷 \u{5d0}\"\u{5d1} カタカナ 中文",
            "a\u{A0}b a\u{2009}b \u{3000}x a·b ٣,٤ \u{FEFF}ab \u{AD}a a\u{85}b",
            "line\r\nbreak\rand\n\nmore\tend ",
            "ends with a.",
            "ends with 1,",
        ] {
            check_segment(text);
        }
    }

    #[test]
    fn segment_is_unicode_words_on_generated_text() {
        const ASCII: &[&str] = &[
            "a", "B", "z", "q", "0", "7", "9", "'", ".", ",", ":", ";", "_", " ", " ", "  ", "\r",
            "\n", "\r\n", "\t", "\"", "-", "!", "?", "(", "/", "&", "@", "#", "%", "\u{0}",
            "\u{b}", "\u{c}", "\u{7f}", "the", "U.S.", "1,000", "don't",
        ];
        const OTHER: &[&str] = &[
            "£", "’", "‘", "é", "É", "\u{301}", "\u{200D}", "\u{200B}", "\u{AD}", "👍", "🏻", "🇬",
            "🇧", "\u{5d0}", "\u{5d1}", "カ", "中", "\u{A0}", "\u{2009}", "\u{3000}", "·",
            "\u{663}", "\u{345}", "ß", "İ", "\u{FEFF}", "\u{85}", "\u{2028}", "\u{FF0C}", "…", "—",
            "€", "\u{640}", "\u{93E}", "Ω",
        ];
        // seeded: the same strings on every run
        let mut next = test_rng(0x9E37_79B9_7F4A_7C15);
        let mut text = String::new();
        for i in 0..60_000 {
            text.clear();
            let len = next(48);
            for _ in 0..len {
                // half the strings are pure ASCII; the others have ~1 non-ASCII part in 6
                if i % 2 == 1 && next(6) == 0 {
                    text.push_str(OTHER[next(OTHER.len())]);
                } else {
                    text.push_str(ASCII[next(ASCII.len())]);
                }
            }
            check_segment(&text);
        }
    }

    /// Every document of a corpus, as read and with runs of white space folded to one space
    /// (as passages are). Not run by default (tests do not depend on the shared corpora):
    /// `THEMATA_SEGMENT_CORPUS=DIR cargo test -p themata-core --lib segment -- --ignored`; the default
    /// directory is `../shared/corpora/bbc`.
    #[test]
    #[ignore = "needs a corpus directory"]
    fn segment_is_unicode_words_on_a_corpus() {
        let dir = std::env::var("THEMATA_SEGMENT_CORPUS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/bbc").into()
        });
        let mut n = 0;
        for entry in walkdir::WalkDir::new(&dir) {
            let entry = entry.unwrap();
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            check_segment(&text);
            check_segment(&crate::ingest::text::fold_whitespace(&text));
            n += 1;
        }
        assert!(n > 0, "no text files under {dir}");
        eprintln!("{n} documents of {dir}: segment is unicode_words");
    }
}
