//! c-TF-IDF: BERTopic's class-based TF-IDF, which ranks a class's terms by how much more
//! frequent they are in it than in the corpus.

use rustc_hash::FxHashMap;

/// c-TF-IDF (Grootendorst 2022, BERTopic's `ClassTfidfTransformer`): each class's term
/// counts, L1-normalised, times `ln(1 + A / f_t)`, with `f_t` the term's count over all
/// classes and `A` the mean number of words per class. `classes[c]` maps term → count.
pub fn ctfidf(classes: &[FxHashMap<u32, f64>]) -> Vec<FxHashMap<u32, f64>> {
    let idf = ClassIdf::fit(classes);
    classes.iter().map(|class| idf.weigh(class)).collect()
}

/// The class-frequency part of c-TF-IDF, fitted on a set of classes: each term's count over
/// all of them (`f_t`) and their mean number of words (`A`). [`ClassIdf::weigh`] applies it
/// to any class — one of them, or a slice of one (BERTopic's `topics_over_time` weighs each
/// topic's passages of one time bucket with the topics' fitted weights in the same way).
#[derive(Debug, Clone, Default)]
pub struct ClassIdf {
    f: FxHashMap<u32, f64>,
    a: f64,
}

impl ClassIdf {
    /// Fit on `classes` (term → count each).
    pub fn fit(classes: &[FxHashMap<u32, f64>]) -> ClassIdf {
        let mut f: FxHashMap<u32, f64> = FxHashMap::default();
        for class in classes {
            for (&t, &v) in class {
                *f.entry(t).or_insert(0.0) += v;
            }
        }
        let a = f.values().sum::<f64>() / classes.len().max(1) as f64;
        ClassIdf { f, a }
    }

    /// A class's c-TF-IDF weights: its counts L1-normalised times `ln(1 + A / f_t)`; terms
    /// the fitted classes never saw are left out.
    pub fn weigh(&self, class: &FxHashMap<u32, f64>) -> FxHashMap<u32, f64> {
        let total: f64 = class.values().sum();
        class
            .iter()
            .filter_map(|(&t, &v)| {
                let f = *self.f.get(&t)?;
                Some((t, v / total * (1.0 + self.a / f).ln()))
            })
            .collect()
    }
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

    #[test]
    fn fitted_weights_apply_to_a_slice_of_a_class() {
        let classes = vec![
            FxHashMap::from_iter([(0, 2.0), (1, 2.0)]),
            FxHashMap::from_iter([(1, 1.0), (2, 3.0)]),
        ];
        let idf = ClassIdf::fit(&classes);
        // the whole class weighs as ctfidf does
        assert_eq!(idf.weigh(&classes[0]), ctfidf(&classes)[0]);
        // a slice: its own counts normalised, the classes' f and A (A = 4)
        let w = idf.weigh(&FxHashMap::from_iter([(1, 1.0), (9, 5.0)]));
        assert_eq!(w.len(), 1, "an unseen term is left out");
        assert!((w[&1] - (7.0f64 / 3.0).ln() / 6.0).abs() < 1e-12);
    }
}
