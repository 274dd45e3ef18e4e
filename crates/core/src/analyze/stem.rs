//! Step 6 of the analyzer: Snowball stemming (rust-stemmers).

use rust_stemmers::Algorithm;
use std::borrow::Cow;

/// A Snowball stemmer (or the identity). Expects lowercase input.
pub struct Stemmer(Option<rust_stemmers::Stemmer>);

impl Stemmer {
    /// The stemmer of `algorithm`, or the identity when not `enabled`.
    pub fn new(algorithm: Algorithm, enabled: bool) -> Self {
        Stemmer(enabled.then(|| rust_stemmers::Stemmer::create(algorithm)))
    }

    /// The stem of a lowercase token.
    pub fn stem<'a>(&self, token: &'a str) -> Cow<'a, str> {
        match &self.0 {
            Some(s) => s.stem(token),
            None => Cow::Borrowed(token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stemmer_is_snowball_english() {
        let s = Stemmer::new(Algorithm::English, true);
        assert_eq!(s.stem("negotiations"), "negoti");
        assert_eq!(s.stem("succession"), "success");
        assert_eq!(
            Stemmer::new(Algorithm::English, false).stem("negotiations"),
            "negotiations"
        );
    }
}
