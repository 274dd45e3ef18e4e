//! Themes over time and by group (BERTopic's `topics_over_time` and `topics_per_class`):
//! each kept passage falls in one bucket — a day, ISO week, month or year of its document's
//! date, or a value of one of its document's fields — and every bucket gets each theme's
//! passages, its share of the bucket's assigned passages, and the theme's distinctive terms
//! in that bucket.
//!
//! Pure functions of the clustering: the binary decides which field is read and writes the
//! rows as `theme_trends.parquet`.

use crate::math::ctfidf::ClassIdf;
use crate::model::{SparseRows, Vocabulary};
use rustc_hash::FxHashMap;

/// The bucket of passages whose document has no (readable) date.
pub const UNDATED: &str = "undated";
/// The bucket of passages whose document has no value in the field grouped by.
pub const NO_VALUE: &str = "(none)";
/// `over = "auto"` picks the finest unit that gives at most this many buckets from the first
/// date to the last.
pub const AUTO_MAX_BUCKETS: i64 = 30;

/// The length of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// One calendar day (`2025-01-23`).
    Day,
    /// One ISO 8601 week, Monday to Sunday, named by its ISO year (`2025-W04`).
    Week,
    /// One calendar month (`2025-01`).
    Month,
    /// One calendar year (`2025`).
    Year,
}

impl Unit {
    /// Every unit, finest first.
    pub const ALL: [Unit; 4] = [Unit::Day, Unit::Week, Unit::Month, Unit::Year];

    /// The unit's name, as the pipeline file writes it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    /// The unit of this name.
    pub fn parse(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.name() == name)
    }
}

/// A calendar date `YYYY-MM-DD` as days since 1970-01-01; `None` for anything else.
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month)
        .contains(&d)
        .then(|| days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn ymd(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The Monday of the ISO week holding `day`.
fn monday(day: i64) -> i64 {
    // 1970-01-01 was a Thursday
    day - (day + 3).rem_euclid(7)
}

/// The ISO year and week number of `day`.
fn iso_week(day: i64) -> (i64, i64) {
    let thursday = monday(day) + 3;
    let (year, _, _) = civil_from_days(thursday);
    (year, (thursday - days_from_civil(year, 1, 1)) / 7 + 1)
}

/// The bucket of `day` in `unit`: its name (`2025-01-23`, `2025-W04`, `2025-01`, `2025`) and
/// its first day.
pub fn bucket_of(day: i64, unit: Unit) -> (String, i64) {
    let (y, m, _) = civil_from_days(day);
    match unit {
        Unit::Day => (ymd(day), day),
        Unit::Week => {
            let (wy, w) = iso_week(day);
            (format!("{wy:04}-W{w:02}"), monday(day))
        }
        Unit::Month => (format!("{y:04}-{m:02}"), days_from_civil(y, m, 1)),
        Unit::Year => (format!("{y:04}"), days_from_civil(y, 1, 1)),
    }
}

/// Buckets of `unit` from the one holding `first` to the one holding `last`, both included.
pub fn span(first: i64, last: i64, unit: Unit) -> i64 {
    let (y0, m0, _) = civil_from_days(first);
    let (y1, m1, _) = civil_from_days(last);
    match unit {
        Unit::Day => last - first + 1,
        Unit::Week => (monday(last) - monday(first)) / 7 + 1,
        Unit::Month => (y1 * 12 + m1) - (y0 * 12 + m0) + 1,
        Unit::Year => y1 - y0 + 1,
    }
}

/// `over = "auto"`: the finest unit that gives at most [`AUTO_MAX_BUCKETS`] buckets from the
/// earliest to the latest of `days`; `year` when even years are more, or when no day is given.
pub fn auto_unit(days: impl IntoIterator<Item = i64>) -> Unit {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for d in days {
        lo = lo.min(d);
        hi = hi.max(d);
    }
    if lo > hi {
        return Unit::Year;
    }
    Unit::ALL
        .into_iter()
        .find(|u| span(lo, hi, *u) <= AUTO_MAX_BUCKETS)
        .unwrap_or(Unit::Year)
}

/// One bucket of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Its name: a period (`2025-01`), [`UNDATED`], a field's value, or [`NO_VALUE`].
    pub label: String,
    /// Its first day (`YYYY-MM-DD`) for a period; `None` for the others.
    pub start: Option<String>,
}

/// The buckets of a view, and the bucket of every row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    /// The buckets, in order: periods oldest first, then [`UNDATED`]; values in code-point
    /// order, then [`NO_VALUE`]. Only buckets holding a row are listed.
    pub buckets: Vec<Bucket>,
    /// The index in `buckets` of each row's bucket.
    pub of_row: Vec<u32>,
}

fn index<K: Ord + Clone>(keys: &[K], make: impl Fn(&K) -> Bucket) -> Buckets {
    let mut sorted: Vec<K> = keys.to_vec();
    sorted.sort();
    sorted.dedup();
    let of_row = keys
        .iter()
        .map(|k| sorted.binary_search(k).expect("every key is listed") as u32)
        .collect();
    Buckets {
        buckets: sorted.iter().map(make).collect(),
        of_row,
    }
}

/// Time buckets of `unit` for rows dated `days` (`None`: undated, in [`UNDATED`]).
pub fn time_buckets(days: &[Option<i64>], unit: Unit) -> Buckets {
    // (false, start): a period; (true, 0): undated, sorted last
    let keys: Vec<(bool, i64, String)> = days
        .iter()
        .map(|d| match d {
            Some(d) => {
                let (label, start) = bucket_of(*d, unit);
                (false, start, label)
            }
            None => (true, 0, UNDATED.to_string()),
        })
        .collect();
    index(&keys, |(undated, start, label)| Bucket {
        label: label.clone(),
        start: (!undated).then(|| ymd(*start)),
    })
}

/// Group buckets for rows with the field values `values` (`None`: in [`NO_VALUE`]).
pub fn group_buckets(values: &[Option<&str>]) -> Buckets {
    let keys: Vec<(bool, &str)> = values
        .iter()
        .map(|v| match v {
            Some(v) => (false, *v),
            None => (true, NO_VALUE),
        })
        .collect();
    index(&keys, |(_, v)| Bucket {
        label: v.to_string(),
        start: None,
    })
}

/// What one theme does in one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeInBucket {
    /// The cluster.
    pub cluster: u32,
    /// The bucket's passages assigned to it.
    pub passages: u32,
    /// `passages` / the bucket's assigned passages (0 when none is assigned).
    pub share: f64,
    /// Its distinctive terms in the bucket, strongest first: term id and c-TF-IDF weight.
    pub top_terms: Vec<(u32, f64)>,
}

/// One bucket's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketTrend {
    /// The bucket.
    pub bucket: Bucket,
    /// Its passages assigned to a theme: what the shares are of.
    pub assigned: u32,
    /// Its kept passages that no theme took (not in any share).
    pub unassigned: u32,
    /// A thin slice: fewer assigned passages than the threshold, so its shares say little.
    pub thin: bool,
    /// Every theme, in cluster order (also those with no passage in the bucket).
    pub themes: Vec<ThemeInBucket>,
}

/// Each bucket's themes: passages, shares of the bucket's assigned passages, and the top
/// `n_terms` terms of each theme in the bucket by c-TF-IDF — the theme's counts in the bucket,
/// L1-normalised, times the class weights `ln(1 + A / f_t)` fitted on the whole run's themes
/// (the unassigned passages forming one more class), as BERTopic's `topics_over_time` does.
/// `labels[r]` is row `r`'s cluster (`None`: unassigned), `k` the number of clusters; a bucket
/// with fewer than `min_passages` assigned passages is thin.
pub fn trends(
    m: &SparseRows,
    labels: &[Option<u32>],
    k: usize,
    buckets: &Buckets,
    min_passages: u32,
    n_terms: usize,
) -> Vec<BucketTrend> {
    let nb = buckets.buckets.len();
    let mut global = vec![FxHashMap::<u32, f64>::default(); k + 1];
    let mut cells = vec![FxHashMap::<u32, f64>::default(); nb * k];
    let mut passages = vec![0u32; nb * k];
    let mut unassigned = vec![0u32; nb];
    for (r, label) in labels.iter().enumerate() {
        let b = buckets.of_row[r] as usize;
        let (cols, counts) = m.row_counts(r);
        match label {
            Some(c) => {
                let cell = b * k + *c as usize;
                passages[cell] += 1;
                for (&t, &n) in cols.iter().zip(counts) {
                    *cells[cell].entry(t).or_insert(0.0) += n as f64;
                    *global[*c as usize].entry(t).or_insert(0.0) += n as f64;
                }
            }
            None => {
                unassigned[b] += 1;
                for (&t, &n) in cols.iter().zip(counts) {
                    *global[k].entry(t).or_insert(0.0) += n as f64;
                }
            }
        }
    }
    if global[k].is_empty() {
        global.pop();
    }
    let idf = ClassIdf::fit(&global);
    buckets
        .buckets
        .iter()
        .enumerate()
        .map(|(b, bucket)| {
            let assigned: u32 = passages[b * k..(b + 1) * k].iter().sum();
            let themes = (0..k)
                .map(|c| {
                    let cell = b * k + c;
                    let mut w: Vec<(u32, f64)> = idf.weigh(&cells[cell]).into_iter().collect();
                    w.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                    w.truncate(n_terms);
                    ThemeInBucket {
                        cluster: c as u32,
                        passages: passages[cell],
                        share: if assigned > 0 {
                            passages[cell] as f64 / assigned as f64
                        } else {
                            0.0
                        },
                        top_terms: w,
                    }
                })
                .collect();
            BucketTrend {
                bucket: bucket.clone(),
                assigned,
                unassigned: unassigned[b],
                thin: assigned < min_passages,
                themes,
            }
        })
        .collect()
}

/// One row of `theme_trends.parquet`: a theme in a bucket of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendRow {
    /// `over` (time buckets) or `by` (groups).
    pub view: &'static str,
    /// The unit (`day`, `week`, `month`, `year`) or the field (`source`, ...).
    pub dimension: String,
    /// The bucket's name.
    pub bucket: String,
    /// Its first day, for a period.
    pub bucket_start: Option<String>,
    /// The cluster.
    pub cluster: u32,
    /// Its theme.
    pub theme: String,
    /// The bucket's passages assigned to the theme.
    pub passages: u32,
    /// The bucket's assigned passages (what `share` is of).
    pub bucket_passages: u32,
    /// The bucket's kept passages no theme took.
    pub unassigned: u32,
    /// `passages / bucket_passages`.
    pub share: f64,
    /// A thin slice: `bucket_passages` below the threshold.
    pub thin: bool,
    /// The theme's top c-TF-IDF labels in the bucket, comma-separated.
    pub top_terms: String,
}

/// The labels (display forms) of a theme's top terms in a bucket.
pub fn term_labels(vocab: &Vocabulary, terms: &[(u32, f64)]) -> Vec<String> {
    terms
        .iter()
        .map(|(t, _)| vocab.terms[*t as usize].label.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        parse_day(s).unwrap()
    }

    #[test]
    fn dates_round_trip_and_bad_ones_are_none() {
        assert_eq!(day("1970-01-01"), 0);
        assert_eq!(
            day("2000-03-01") - day("2000-02-28"),
            2,
            "2000 is a leap year"
        );
        assert_eq!(day("1900-03-01") - day("1900-02-28"), 1, "1900 is not");
        for s in [
            "2025-01-23",
            "1999-12-31",
            "2024-02-29",
            "0001-01-01",
            "1969-07-20",
        ] {
            assert_eq!(ymd(day(s)), s);
        }
        for s in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-1-23",
            "x025-01-23",
            "",
        ] {
            assert_eq!(parse_day(s), None, "{s}");
        }
    }

    #[test]
    fn iso_weeks_follow_the_standard() {
        // ISO 8601: the week with the year's first Thursday is week 1
        let w = |s: &str| bucket_of(day(s), Unit::Week);
        assert_eq!(w("2025-01-23"), ("2025-W04".into(), day("2025-01-20")));
        assert_eq!(w("2024-12-30").0, "2025-W01", "Monday of 2025's first week");
        assert_eq!(
            w("2021-01-03").0,
            "2020-W53",
            "a Sunday in 2020's last week"
        );
        assert_eq!(w("2026-12-31").0, "2026-W53");
        assert_eq!(w("2019-06-28"), ("2019-W26".into(), day("2019-06-24")));
        let m = bucket_of(day("2025-01-23"), Unit::Month);
        assert_eq!(m, ("2025-01".into(), day("2025-01-01")));
        let y = bucket_of(day("2019-06-28"), Unit::Year);
        assert_eq!(y, ("2019".into(), day("2019-01-01")));
    }

    #[test]
    fn auto_picks_the_finest_unit_with_at_most_thirty_buckets() {
        let auto = |a: &str, b: &str| auto_unit([day(a), day(b)]);
        assert_eq!(auto("2025-01-01", "2025-01-30"), Unit::Day);
        assert_eq!(auto("2025-01-01", "2025-01-31"), Unit::Week, "31 days");
        assert_eq!(auto("2025-01-01", "2025-06-30"), Unit::Week, "27 weeks");
        assert_eq!(auto("2025-01-01", "2025-12-31"), Unit::Month, "53 weeks");
        assert_eq!(auto("2019-06-28", "2025-01-23"), Unit::Year, "68 months");
        assert_eq!(auto("1900-01-01", "2025-01-01"), Unit::Year, "126 years");
        assert_eq!(auto_unit([]), Unit::Year);
    }

    #[test]
    fn buckets_are_ordered_with_undated_and_missing_last() {
        let days = [Some(day("2025-03-02")), None, Some(day("2025-01-09"))];
        let b = time_buckets(&days, Unit::Month);
        let labels: Vec<&str> = b.buckets.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(labels, ["2025-01", "2025-03", "undated"]);
        assert_eq!(b.of_row, [1, 2, 0]);
        assert_eq!(b.buckets[0].start.as_deref(), Some("2025-01-01"));
        assert_eq!(b.buckets[2].start, None);
        let g = group_buckets(&[Some("b"), None, Some("a"), Some("b")]);
        let labels: Vec<&str> = g.buckets.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(labels, ["a", "b", NO_VALUE]);
        assert_eq!(g.of_row, [1, 2, 0, 1]);
    }

    /// Rows with raw counts (term, count).
    fn rows(rows: &[&[(u32, u32)]]) -> SparseRows {
        let mut m = SparseRows::empty();
        for (i, r) in rows.iter().enumerate() {
            let cols: Vec<u32> = r.iter().map(|x| x.0).collect();
            let counts: Vec<u32> = r.iter().map(|x| x.1).collect();
            m.push_row(i as u32, &cols, &counts, &vec![1.0; r.len()]);
        }
        m
    }

    #[test]
    fn shares_thin_slices_and_terms_per_bucket() {
        // bucket 0: rows 0, 1 (theme 0), 2 (theme 1), 3 (unassigned); bucket 1: row 4 (theme 1)
        let m = rows(&[
            &[(0, 2)],
            &[(0, 1), (1, 1)],
            &[(2, 3)],
            &[(3, 1)],
            &[(1, 2), (2, 1)],
        ]);
        let labels = [Some(0), Some(0), Some(1), None, Some(1)];
        let b = Buckets {
            buckets: vec![
                Bucket {
                    label: "a".into(),
                    start: None,
                },
                Bucket {
                    label: "b".into(),
                    start: None,
                },
            ],
            of_row: vec![0, 0, 0, 0, 1],
        };
        let t = trends(&m, &labels, 2, &b, 2, 5);
        assert_eq!(t.len(), 2);
        let (a, z) = (&t[0], &t[1]);
        assert_eq!((a.assigned, a.unassigned, a.thin), (3, 1, false));
        assert_eq!((z.assigned, z.unassigned, z.thin), (1, 0, true));
        let p: Vec<u32> = a.themes.iter().map(|x| x.passages).collect();
        assert_eq!(p, [2, 1]);
        assert!((a.themes[0].share - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(z.themes[0].passages, 0);
        assert_eq!(z.themes[0].share, 0.0);
        assert_eq!(z.themes[1].share, 1.0);
        for bt in &t {
            let s: f64 = bt.themes.iter().map(|x| x.share).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
        // theme 0 in bucket a: term 0 (3 of 4 counts) before term 1
        let terms: Vec<u32> = a.themes[0].top_terms.iter().map(|x| x.0).collect();
        assert_eq!(terms, [0, 1]);
        // theme 1 in bucket b: term 1 (2 counts) before term 2, though term 2 leads the
        // theme overall; by the weights fitted on the whole run's classes
        let idf = ClassIdf::fit(&[
            FxHashMap::from_iter([(0, 3.0), (1, 1.0)]),
            FxHashMap::from_iter([(1, 2.0), (2, 4.0)]),
            FxHashMap::from_iter([(3, 1.0)]),
        ]);
        let want = idf.weigh(&FxHashMap::from_iter([(1, 2.0), (2, 1.0)]));
        let got = &z.themes[1].top_terms;
        assert_eq!(got[0], (1, want[&1]));
        assert_eq!(got[1], (2, want[&2]));
        assert!(z.themes[0].top_terms.is_empty());
    }
}
