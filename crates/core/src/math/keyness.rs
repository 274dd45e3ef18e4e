//! Keyness: the terms over-represented in one group of passages against the rest of the
//! corpus (quanteda's `textstat_keyness` with `measure = "lr"`): Dunning's log-likelihood
//! ratio G² of the term's 2 × 2 table (this term / every other term, target / reference),
//! its p-value, and Hardie's Log Ratio as the effect size.

/// One term's keyness for a target against its reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The term (an index into the count vectors).
    pub term: u32,
    /// Occurrences in the target.
    pub target: u64,
    /// Occurrences in the reference.
    pub reference: u64,
    /// Dunning's G² = 2 Σ O ln(O / E) over the 2 × 2 table, no continuity correction.
    pub g2: f64,
    /// The chance of a G² at least this large if the term were as frequent in both (χ² with
    /// one degree of freedom).
    pub p_value: f64,
    /// Hardie's Log Ratio: log₂ of the ratio of the term's relative frequencies in target and
    /// reference, a zero count taken as 0.5. 1 = twice as frequent in the target.
    pub log_ratio: f64,
}

/// The 2 × 2 log-likelihood ratio of `a` occurrences of a term among `n1` in the target and
/// `b` among `n2` in the reference: (G², p-value).
pub fn log_likelihood(a: u64, b: u64, n1: u64, n2: u64) -> (f64, f64) {
    let (a, b, n1, n2) = (a as f64, b as f64, n1 as f64, n2 as f64);
    let n = n1 + n2;
    let term = a + b;
    let cells = [
        (a, n1 * term / n),
        (b, n2 * term / n),
        (n1 - a, n1 * (n - term) / n),
        (n2 - b, n2 * (n - term) / n),
    ];
    let g2: f64 = 2.0
        * cells
            .iter()
            .filter(|(o, e)| *o > 0.0 && *e > 0.0)
            .map(|(o, e)| o * (o / e).ln())
            .sum::<f64>();
    // rounding can leave a tiny negative sum for a term equally frequent in both
    let g2 = g2.max(0.0);
    (g2, libm::erfc((g2 / 2.0).sqrt()))
}

/// The `top` terms most over-represented in `target` against `reference` (occurrences per
/// term, the same length), by G² (ties: the smaller term id). A term is over-represented when
/// its relative frequency in the target is higher; terms absent from the target are never.
pub fn keyness(target: &[u64], reference: &[u64], top: usize) -> Vec<Key> {
    assert_eq!(
        target.len(),
        reference.len(),
        "one count per term on each side"
    );
    let (n1, n2): (u64, u64) = (target.iter().sum(), reference.iter().sum());
    if n1 == 0 {
        return vec![];
    }
    let mut keys: Vec<Key> = target
        .iter()
        .zip(reference)
        .enumerate()
        .filter(|(_, (&a, &b))| {
            a > 0 && (n2 == 0 || (a as f64) * (n2 as f64) > (b as f64) * (n1 as f64))
        })
        .map(|(t, (&a, &b))| {
            let (g2, p_value) = log_likelihood(a, b, n1, n2);
            let rel = |x: u64, n: u64| (if x == 0 { 0.5 } else { x as f64 }) / n.max(1) as f64;
            Key {
                term: t as u32,
                target: a,
                reference: b,
                g2,
                p_value,
                log_ratio: (rel(a, n1) / rel(b, n2)).log2(),
            }
        })
        .collect();
    keys.sort_by(|x, y| y.g2.total_cmp(&x.g2).then(x.term.cmp(&y.term)));
    keys.truncate(top);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_likelihood_is_scipy_s() {
        // scipy.stats.chi2_contingency([[a, b], [n1 - a, n2 - b]], correction=False,
        // lambda_="log-likelihood")
        for (a, b, n1, n2, g2, p) in [
            (
                30,
                10,
                1000,
                2000,
                29.46272930097768,
                5.7002411825203365e-08,
            ),
            (5, 0, 200, 5000, 32.70221103236686, 1.0741496678848027e-08),
            (1, 1, 10, 10, 0.0, 1.0),
        ] {
            let (g, q) = log_likelihood(a, b, n1, n2);
            assert!((g - g2).abs() <= 1e-9 * g2.max(1.0), "{g} vs {g2}");
            assert!((q - p).abs() <= 1e-9 * p.max(1e-300) + 1e-15, "{q} vs {p}");
        }
    }

    #[test]
    fn only_over_represented_terms_ranked_by_g2() {
        // term 0: everywhere alike; 1: the target's; 2: the reference's; 3: rare in the target
        let target = [100, 40, 1, 3, 0];
        let reference = [200, 10, 60, 2, 7];
        let keys = keyness(&target, &reference, 10);
        let terms: Vec<u32> = keys.iter().map(|k| k.term).collect();
        assert_eq!(terms, [1, 3]);
        assert!(keys[0].g2 > keys[1].g2 && keys[0].p_value < 1e-6);
        // 40 of 144 against 10 of 279: 7.75 times as frequent, log2 = 2.95
        let lr = ((40.0_f64 / 144.0) / (10.0 / 279.0)).log2();
        assert!((keys[0].log_ratio - lr).abs() < 1e-12);
        assert_eq!(keyness(&target, &reference, 1).len(), 1);
        assert!(keyness(&[0, 0], &[1, 2], 5).is_empty());
        // no reference at all: every term of the target is over-represented
        let alone = keyness(&[2, 1], &[0, 0], 5);
        assert_eq!(alone.len(), 2);
        assert!(alone.iter().all(|k| k.g2 == 0.0 && k.p_value == 1.0));
    }
}
