//! c-TF-IDF: BERTopic's class-based TF-IDF, which ranks a class's terms by how much more
//! frequent they are in it than in the corpus.

use rustc_hash::FxHashMap;

/// c-TF-IDF (Grootendorst 2022, BERTopic's `ClassTfidfTransformer`): each class's term
/// counts, L1-normalised, times `ln(1 + A / f_t)`, with `f_t` the term's count over all
/// classes and `A` the mean number of words per class. `classes[c]` maps term → count.
pub fn ctfidf(classes: &[FxHashMap<u32, f64>]) -> Vec<FxHashMap<u32, f64>> {
    let mut f: FxHashMap<u32, f64> = FxHashMap::default();
    for class in classes {
        for (&t, &v) in class {
            *f.entry(t).or_insert(0.0) += v;
        }
    }
    let a = f.values().sum::<f64>() / classes.len().max(1) as f64;
    classes
        .iter()
        .map(|class| {
            let total: f64 = class.values().sum();
            class
                .iter()
                .map(|(&t, &v)| (t, v / total * (1.0 + a / f[&t]).ln()))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctfidf_by_hand() {
        // class 0: t0 ×2, t1 ×2; class 1: t1 ×1, t2 ×3
        // f = (2, 3, 3), A = 8 words / 2 classes = 4
        let classes = vec![
            FxHashMap::from_iter([(0, 2.0), (1, 2.0)]),
            FxHashMap::from_iter([(1, 1.0), (2, 3.0)]),
        ];
        let w = ctfidf(&classes);
        let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(near(w[0][&0], 0.5 * 3f64.ln())); // 2/4 · ln(1 + 4/2)
        assert!(near(w[0][&1], 0.5 * (7.0f64 / 3.0).ln())); // 2/4 · ln(1 + 4/3)
        assert!(near(w[1][&1], 0.25 * (7.0f64 / 3.0).ln()));
        assert!(near(w[1][&2], 0.75 * (7.0f64 / 3.0).ln()));
        assert_eq!(w[0].len() + w[1].len(), 4);
        // a term spread over both classes ranks below one of the same count in one class
        assert!(w[0][&0] > w[0][&1]);
    }
}
