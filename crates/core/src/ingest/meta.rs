//! Document metadata: title, date, author and source, from wherever the input shows them.
//!
//! Sources, in order of trust: columns of record files, Markdown front matter and HTML
//! `<meta>` tags (read by [`super::markup`]), and last the first lines of the text itself
//! ([`from_text`]). Nothing is invented: a field stays empty unless its source says it
//! plainly, and a date that cannot be parsed stays empty.

use crate::model::DocumentMeta;

/// Fields that are empty or only white space become `None`; the others have their runs of
/// white space folded to one space.
pub fn clean(meta: DocumentMeta) -> DocumentMeta {
    meta.map(|s| Some(super::text::fold_whitespace(&s)).filter(|s| !s.is_empty()))
}

/// A short line that is a date ("January 23, 2025", "Jun 28, 2019").
pub fn looks_like_date(line: &str) -> bool {
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.len() <= 4
        && words
            .iter()
            .any(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()))
        && words
            .iter()
            .any(|w| MONTHS.iter().any(|m| w.starts_with(m)))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// 1-based month of an English month name or its abbreviation ("Jan", "Jan.", "Sept").
fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (w.len() <= 4 && m.starts_with(&w)))
        .map(|i| i as u32 + 1)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

fn number(word: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (digits.contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

fn iso(year: u32, month: u32, day: u32) -> Option<String> {
    ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// A date written in one of the usual ways, as `YYYY-MM-DD`; `None` for anything else
/// (nothing is guessed). Accepted: `January 23, 2025`, `Jan 23 2025`, `Jun. 28, 2019`,
/// `23 January 2025`, `23 Jan. 2025`, each optionally after a weekday (`Thursday, …`);
/// `2025-01-23`; ISO 8601 date-times (`2025-01-23T10:30:00Z`, `2025-01-23 10:30`), whose
/// date part is taken as written (no time-zone conversion).
pub fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() > 64 {
        return None; // no date is written this long
    }
    // ISO 8601: YYYY-MM-DD, optionally followed by a time
    let b = s.as_bytes();
    // (b[4] and b[7] are ASCII, so bytes 4, 5, 7 and 8 start characters; 10 may not)
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && s.is_char_boundary(10) {
        let rest = &s[10..];
        let time_ok = rest.is_empty()
            || ((rest.starts_with('T') || rest.starts_with(' '))
                && rest[1..].starts_with(|c: char| c.is_ascii_digit()));
        if !time_ok {
            return None;
        }
        let (y, m, d) = (
            number(&s[..4], 4..=4)?,
            number(&s[5..7], 2..=2)?,
            number(&s[8..10], 2..=2)?,
        );
        return iso(y, m, d);
    }
    let mut words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() == 4 {
        let first = words[0].trim_end_matches('.').to_lowercase();
        if WEEKDAYS
            .iter()
            .any(|d| *d == first || (first.len() == 3 && d.starts_with(&first)))
        {
            words.remove(0);
        }
    }
    let [a, b, c] = words[..] else {
        return None;
    };
    let year = number(c, 4..=4)?;
    if let Some(m) = month(a) {
        // January 23, 2025
        iso(year, m, number(b, 1..=2)?)
    } else {
        // 23 January 2025
        iso(year, month(b)?, number(a, 1..=2)?)
    }
}

/// A person's name as bylines write it: two to five words, each starting with an
/// uppercase letter, made of letters, `.`, `-` and apostrophes ("Mehdi Khalaji",
/// "Jane Q. Doe", "Jean-Luc O’Neil").
pub fn looks_like_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    (2..=5).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(|c| c.is_alphabetic() || ".-'’".contains(c))
        })
}

/// What one of the first lines of a text is.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    /// A line that is just a date.
    Date(String),
    /// `date | author`, `author | date`, `By author`, `By author | date` (any white space
    /// around the bar).
    Byline {
        date: Option<String>,
        author: String,
    },
    /// "6 min read".
    ReadTime,
    /// Short, no closing full stop or comma: a title, a subtitle, a publication's name.
    Heading,
    /// Anything else: the body has begun.
    Body,
}

fn author_part(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("By ")
        .or_else(|| s.strip_prefix("by "))
        .unwrap_or(s)
        .trim();
    looks_like_name(s).then(|| s.to_string())
}

fn classify(line: &str) -> Line {
    if line.len() > 600 {
        return Line::Body; // (and a giant line costs nothing more)
    }
    if let Some(d) = parse_date(line) {
        return Line::Date(d);
    }
    // the bar's spaces may be no-break spaces ("Jun 28, 2019 |\u{a0}Mehdi Khalaji")
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    if parts.len() == 2 {
        let (d0, d1) = (parse_date(parts[0]), parse_date(parts[1]));
        match (d0, d1) {
            (Some(date), None) => {
                if let Some(author) = author_part(parts[1]) {
                    return Line::Byline {
                        date: Some(date),
                        author,
                    };
                }
            }
            (None, Some(date)) => {
                if let Some(author) = author_part(parts[0]) {
                    return Line::Byline {
                        date: Some(date),
                        author,
                    };
                }
            }
            _ => {}
        }
    }
    if parts.len() == 1 && (line.starts_with("By ") || line.starts_with("by ")) {
        if let Some(author) = author_part(line) {
            return Line::Byline { date: None, author };
        }
    }
    let lower = line.to_lowercase();
    if line.split_whitespace().count() <= 4 && lower.contains("min read") {
        return Line::ReadTime;
    }
    let n = line.chars().count();
    if (3..=150).contains(&n)
        && !line.ends_with(['.', ',', ';'])
        && line.chars().any(char::is_alphabetic)
    {
        return Line::Heading;
    }
    Line::Body
}

/// How many non-empty lines at the top of a text are read for metadata.
pub const HEAD_LINES: usize = 5;

/// Metadata the first lines of a text show, read only where their shape is plain:
///
/// - the head is the first [`HEAD_LINES`] non-empty lines, up to the first body line
///   (a long line, or one that ends like a sentence);
/// - **date**: a head line that is only a date ("January 23, 2025"), or the date of a byline
///   (`Jun 28, 2019 | Mehdi Khalaji`); none when head lines give different dates;
/// - **author**: the name in a byline (`date | Name`, `Name | date`, `By Name`); none when
///   bylines name different people;
/// - **title**: the first heading-like line of the head (short, no closing full stop),
///   only when more text follows it;
/// - **source**: only in the shape *publication, title, dateline or byline* — two heading
///   lines at the very top, the first at most six words, directly followed by a date or
///   byline: the first is the source and the second the title ("Australia/Israel Review",
///   "Khamenei’s calculations", "Jun 28, 2019 | Mehdi Khalaji").
pub fn from_text(text: &str) -> DocumentMeta {
    let mut head: Vec<(&str, Line)> = Vec::new();
    let mut more_after = false;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    for l in lines.by_ref() {
        let c = classify(l);
        if c == Line::Body || head.len() == HEAD_LINES {
            more_after = true;
            break;
        }
        head.push((l, c));
    }
    let more_after = more_after || lines.next().is_some();
    let mut meta = DocumentMeta::default();

    let dates: Vec<&String> = head
        .iter()
        .filter_map(|(_, c)| match c {
            Line::Date(d) => Some(d),
            Line::Byline { date: Some(d), .. } => Some(d),
            _ => None,
        })
        .collect();
    if dates.windows(2).all(|w| w[0] == w[1]) {
        meta.date = dates.first().map(|d| d.to_string());
    }
    let authors: Vec<&String> = head
        .iter()
        .filter_map(|(_, c)| match c {
            Line::Byline { author, .. } => Some(author),
            _ => None,
        })
        .collect();
    if authors.windows(2).all(|w| w[0] == w[1]) {
        meta.author = authors.first().map(|a| a.to_string());
    }

    let is_dated = |c: &Line| matches!(c, Line::Date(_) | Line::Byline { .. });
    if head.len() >= 3
        && head[0].1 == Line::Heading
        && head[1].1 == Line::Heading
        && is_dated(&head[2].1)
        && head[0].0.split_whitespace().count() <= 6
    {
        meta.source = Some(head[0].0.to_string());
        meta.title = Some(head[1].0.to_string());
    } else if let Some(i) = head.iter().position(|(_, c)| *c == Line::Heading) {
        if i + 1 < head.len() || more_after {
            meta.title = Some(head[i].0.to_string());
        }
    }
    clean(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `metadata` fuzz target: a line shaped like `YYYY-MM-` whose tenth byte
    /// falls inside a character made `parse_date` slice through it (and panic).
    #[test]
    fn parse_date_does_not_cut_a_character_after_an_iso_like_start() {
        assert_eq!(parse_date("---------\u{79a}t"), None);
        assert_eq!(parse_date("2025-01-2\u{e9}"), None);
        assert_eq!(parse_date("2025-01-\u{e9}3"), None);
        let crash = "11(\0\0\0#\n---------\u{79a}t\0\0@(\0\0";
        for line in crash.lines() {
            assert_eq!(parse_date(line), None);
        }
        let _ = from_text(crash);
        assert_eq!(parse_date("2025-01-23").as_deref(), Some("2025-01-23"));
    }

    #[test]
    fn dates_in_the_usual_shapes() {
        for (s, want) in [
            ("January 23, 2025", "2025-01-23"),
            ("Jan 23, 2025", "2025-01-23"),
            ("Jun 28, 2019", "2019-06-28"),
            ("Jun. 28, 2019", "2019-06-28"),
            ("Sept 5, 2020", "2020-09-05"),
            ("June 28 2019", "2019-06-28"),
            ("23 January 2025", "2025-01-23"),
            ("23 Jan. 2025", "2025-01-23"),
            ("Thursday, January 23, 2025", "2025-01-23"),
            ("2025-01-23", "2025-01-23"),
            ("2025-01-23T10:30:00Z", "2025-01-23"),
            ("2025-01-23T23:30:00-05:00", "2025-01-23"),
            ("2025-01-23 10:30", "2025-01-23"),
            ("  February 29, 2024 ", "2024-02-29"),
        ] {
            assert_eq!(parse_date(s).as_deref(), Some(want), "{s}");
        }
    }

    #[test]
    fn other_text_is_not_a_date() {
        for s in [
            "",
            "2025",
            "January 2025",
            "February 30, 2025",
            "February 29, 2023",
            "2025-13-01",
            "2025-01-32",
            "2025-01-23abc",
            "23/01/2025",
            "Jun 28, 2019 | Mehdi Khalaji",
            "May the force be with you",
            "Ma 23, 2025",
            "January 123, 2025",
            "on January 23, 2025",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn names() {
        assert!(looks_like_name("Mehdi Khalaji"));
        assert!(looks_like_name("Jane Q. Doe"));
        assert!(looks_like_name("Jean-Luc O’Neil"));
        assert!(!looks_like_name("Madonna"));
        assert!(!looks_like_name("the editors"));
        assert!(!looks_like_name("Review of 2019 Events"));
    }

    fn meta(
        title: Option<&str>,
        date: Option<&str>,
        author: Option<&str>,
        source: Option<&str>,
    ) -> DocumentMeta {
        let s = |v: Option<&str>| v.map(str::to_string);
        DocumentMeta {
            title: s(title),
            date: s(date),
            author: s(author),
            source: s(source),
        }
    }

    #[test]
    fn dateline_then_title() {
        let t = "January 23, 2025\n\nThe Collapse of the Khamenei Doctrine\n\n6 min read\nOn a street in Tehran, banners.\n\nA year of conflict.";
        assert_eq!(
            from_text(t),
            meta(
                Some("The Collapse of the Khamenei Doctrine"),
                Some("2025-01-23"),
                None,
                None
            )
        );
    }

    #[test]
    fn source_title_byline() {
        let t = "Australia/Israel Review\n\nKhamenei’s calculations\n\nJun 28, 2019 |\u{a0}Mehdi Khalaji\n\nKhamenei sees an expansionist posture as important\n\nDuring remarks on May 14, he spoke.";
        assert_eq!(
            from_text(t),
            meta(
                Some("Khamenei’s calculations"),
                Some("2019-06-28"),
                Some("Mehdi Khalaji"),
                Some("Australia/Israel Review")
            )
        );
    }

    #[test]
    fn bylines_by_name() {
        let t = "A Title\nBy Jane Doe\n\nThe body begins here, and it is a sentence.";
        assert_eq!(
            from_text(t),
            meta(Some("A Title"), None, Some("Jane Doe"), None)
        );
        let t = "A Title\nBy Jane Doe |\u{a0}23 January 2025\n\nThe body.";
        assert_eq!(
            from_text(t),
            meta(Some("A Title"), Some("2025-01-23"), Some("Jane Doe"), None)
        );
        // a title, a subtitle and a dateline: the first heading is the title, as there is no
        // date directly after the second
        let t = "Big Title\nA subtitle that explains\n\nWords.\n";
        assert_eq!(from_text(t), meta(Some("Big Title"), None, None, None));
    }

    #[test]
    fn nothing_is_invented() {
        // body from the first line: no metadata, even if a date or name comes later
        let t =
            "By holding fast to his approach, Khamenei may stall.\nJanuary 23, 2025\nBy Jane Doe";
        assert_eq!(from_text(t), DocumentMeta::default());
        // a one-line text is not its own title
        assert_eq!(from_text("alpha beta gamma"), DocumentMeta::default());
        // two different dates: none
        let t = "January 23, 2025\nTitle\nFebruary 2, 2025\n\nBody text follows.";
        assert_eq!(from_text(t).date, None);
        // a date that does not parse stays empty; "by" with no name is not a byline
        let t = "Title here\nFebruary 30, 2025\nby the way\n\nBody.";
        let m = from_text(t);
        assert_eq!((m.date, m.author), (None, None));
        // metadata only in the first lines
        let t = "Title\nLine one\nLine two\nLine three\nLine four\nJanuary 23, 2025\n\nBody.";
        assert_eq!(from_text(t).date, None);
        assert_eq!(from_text(t).title.as_deref(), Some("Title"));
        // a giant first line is body text
        assert_eq!(
            from_text(&"word ".repeat(1_000_000)),
            DocumentMeta::default()
        );
        assert_eq!(
            parse_date(&format!("January 23, 2025{}", " ".repeat(100))).as_deref(),
            Some("2025-01-23")
        );
        assert_eq!(
            parse_date(&format!("January 23,{} 2025", " ".repeat(100))),
            None
        );
        // a long first heading is a title, not a source
        let t =
            "The Many Faces of the Long Publication Name Here\nTitle\nJanuary 23, 2025\n\nBody.";
        let m = from_text(t);
        assert_eq!(m.source, None);
        assert_eq!(
            m.title.as_deref(),
            Some("The Many Faces of the Long Publication Name Here")
        );
    }

    #[test]
    fn titles_skip_dates() {
        let title = |t: &str| from_text(t).title;
        assert_eq!(
            title("January 23, 2025\n\nThe Collapse of the Khamenei Doctrine\n\n6 min read")
                .as_deref(),
            Some("The Collapse of the Khamenei Doctrine")
        );
        assert_eq!(title("A full sentence that ends.\nAnother one ends."), None);
    }
}
