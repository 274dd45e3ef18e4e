//! Criterion benches of the hot stages on seeded generated data:
//! the analyzer (MB/s), counting + TF-IDF weighting, LSA and k-means clustering, and the
//! k-means and SVD kernels against the linfa implementations they replace.
//!
//! `cargo bench -p themata-core --bench stages` (add `-- analyzer`, `-- kernels` etc. to run
//! one group).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use themata_core::analyze::{Analyzer, AnalyzerParams, Counts, StopWords, TermCounts};
use themata_core::cluster::{ClusterParams, Mode, Reduce, K};
use themata_core::model::{SparseRows, Vocabulary};
use themata_core::tfidf::{self, TfidfParams};
use themata_core::Silent;

/// The count step over `texts` (each distinct word analysed once).
fn count(a: &Analyzer, texts: &[&str]) -> Counts {
    let ids: Vec<u32> = (0..texts.len() as u32).collect();
    TermCounts::partial(a, &ids, texts, &Silent).finish()
}

/// xorshift64*: a small seeded generator, so the data never changes between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "to", "ri", "men", "sta", "lo", "ver", "an", "de", "pol", "ic", "tion", "ing", "er",
    "al", "con", "pre", "com", "ment", "ly", "ness", "ist", "ate", "ous", "re", "in", "ex",
];
const FUNCTION_WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "was", "on", "with", "he",
    "as", "by", "at", "from", "his", "but", "they", "this", "have", "had", "not", "are",
];

/// `n_passages` English-like passages of 40–120 words: Zipf-distributed content words over a
/// vocabulary of `vocab` pseudo-words in `topics` topics, function words, capitals, numbers,
/// possessives and punctuation.
pub fn passages(n_passages: usize, vocab: usize, topics: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let words: Vec<String> = (0..vocab)
        .map(|i| {
            let mut w = String::new();
            let mut x = i + 7;
            for _ in 0..(2 + i % 3) {
                w += SYLLABLES[x % SYLLABLES.len()];
                x /= SYLLABLES.len();
                x += i % 5;
            }
            w + SYLLABLES[i % 13 + 11]
        })
        .collect();
    // Zipf: rank r with weight 1/r, via the cumulative table
    let cum: Vec<f64> = (1..=vocab)
        .scan(0.0, |s, r| {
            *s += 1.0 / r as f64;
            Some(*s)
        })
        .collect();
    let total = *cum.last().unwrap();
    (0..n_passages)
        .map(|p| {
            let topic = p % topics;
            let n = 40 + rng.below(80);
            let mut text = String::with_capacity(n * 8);
            for j in 0..n {
                if j > 0 {
                    text.push(' ');
                }
                let r = rng.below(100);
                if r < 45 {
                    text += FUNCTION_WORDS[rng.below(FUNCTION_WORDS.len())];
                } else if r < 47 {
                    text += &format!("{}", 1900 + rng.below(200));
                } else {
                    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
                    let rank = cum.partition_point(|&c| c < u).min(vocab - 1);
                    // each topic shifts the ranks: topics share the head, differ in the tail
                    let id = (rank + topic * 97 * (rank > 50) as usize) % vocab;
                    let w = &words[id];
                    if r < 52 {
                        let mut c = w.chars();
                        let first = c.next().unwrap().to_ascii_uppercase();
                        text.push(first);
                        text += c.as_str();
                    } else {
                        text += w;
                    }
                    if r == 60 {
                        text += "'s";
                    }
                }
                if rng.below(12) == 0 {
                    text.push(if rng.below(4) == 0 { '.' } else { ',' });
                }
            }
            text.push('.');
            text
        })
        .collect()
}

fn english() -> Analyzer {
    Analyzer::new(&AnalyzerParams {
        stop_words: StopWords::Sklearn,
        ..Default::default()
    })
    .unwrap()
}

fn analyzer(c: &mut Criterion) {
    let texts = passages(4000, 20_000, 5, 1);
    let bytes: usize = texts.iter().map(String::len).sum();
    let a = english();
    let mut g = c.benchmark_group("analyzer");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("tokens (one thread)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                n += a.tokens(t).count();
            }
            black_box(n)
        })
    });
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    g.bench_function("count (all threads)", |b| {
        b.iter(|| black_box(count(&a, &refs).rows.nnz()))
    });
    g.finish();
}

fn weighting(c: &mut Criterion) {
    let texts = passages(20_000, 20_000, 5, 2);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let counts = count(&english(), &refs);
    let mut g = c.benchmark_group("tfidf");
    g.throughput(Throughput::Elements(refs.len() as u64));
    g.bench_function("weight 20k passages", |b| {
        b.iter(|| black_box(tfidf::fit(&counts, &TfidfParams::default()).unwrap()))
    });
    g.finish();
}

fn matrix(n: usize, seed: u64) -> (Vocabulary, SparseRows, Analyzer) {
    let texts = passages(n, 20_000, 5, seed);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let a = english();
    let counts = count(&a, &refs);
    let (v, m) = tfidf::fit(&counts, &TfidfParams::default()).unwrap();
    (v, m, a)
}

fn clustering(c: &mut Criterion) {
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10);
    for (n, reduce, name) in [(2_000, Reduce::None, "none"), (10_000, Reduce::Lsa, "lsa")] {
        let (v, m, a) = matrix(n, 3);
        let p = ClusterParams {
            mode: Mode::Discover,
            k: Some(K::Fixed(5)),
            reduce,
            ..Default::default()
        };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("discover k=5, {name}"), n),
            &n,
            |b, _| b.iter(|| black_box(themata_core::cluster::cluster(&m, &v, &a, &p).unwrap())),
        );
    }
    g.finish();
}

/// The k-means and SVD kernels against linfa's: our [`Lloyd`](themata_core::math::lloyd)
/// (`kmeans::discover`) against linfa-clustering's k-means (`kmeans::linfa_discover`) on the
/// LSA embedding of 20,000 passages (k = 20, 3 restarts each); our randomized SVD
/// (`lsa::fit`) against linfa-linalg's `TruncatedSvd` (LOBPCG, which needs a dense matrix)
/// on 2,000 passages, 20 dimensions.
fn kernels(c: &mut Criterion) {
    use linfa_linalg::{lobpcg::TruncatedSvd, Order};
    use rand_xoshiro::rand_core::SeedableRng;
    use themata_core::math::{kmeans, lsa};
    let mut g = c.benchmark_group("kernels");
    g.sample_size(10);

    let (v, m, _) = matrix(20_000, 5);
    let (cols, n_cols) = v.columns();
    let fit = lsa::fit(&m, &cols, n_cols, 100, 0).unwrap();
    let data = kmeans::kmeans_data(&fit.embedding);
    let r = kmeans::Restarts {
        seed: 0,
        n_runs: 3,
        max_iterations: 300,
        tolerance: 1e-4,
    };
    g.throughput(Throughput::Elements(20_000));
    g.bench_function("k-means k=20, 20k x 100, ours (Lloyd)", |b| {
        b.iter(|| black_box(kmeans::discover(&data, 20, &r).unwrap()))
    });
    g.bench_function("k-means k=20, 20k x 100, linfa-clustering", |b| {
        b.iter(|| black_box(kmeans::linfa_discover(&data, 20, &r).unwrap()))
    });

    let (v, m, _) = matrix(2_000, 6);
    let (cols, n_cols) = v.columns();
    g.throughput(Throughput::Elements(2_000));
    g.bench_function("svd 20 dims, 2k passages, ours (randomized, sparse)", |b| {
        b.iter(|| black_box(lsa::fit(&m, &cols, n_cols, 20, 0).unwrap()))
    });
    let mut dense = ndarray::Array2::<f64>::zeros((m.n_rows(), n_cols));
    for r in 0..m.n_rows() {
        let (c, w) = m.row(r);
        for (&t, &x) in c.iter().zip(w) {
            if cols[t as usize] != u32::MAX {
                dense[[r, cols[t as usize] as usize]] = x;
            }
        }
    }
    g.bench_function(
        "svd 20 dims, 2k passages, linfa-linalg TruncatedSvd (dense)",
        |b| {
            b.iter(|| {
                let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(0);
                black_box(
                    TruncatedSvd::new_with_rng(dense.clone(), Order::Largest, rng)
                        .decompose(20)
                        .unwrap(),
                )
            })
        },
    );
    g.finish();
}

criterion_group!(benches, analyzer, weighting, clustering, kernels);
criterion_main!(benches);
