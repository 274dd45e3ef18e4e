//! The Snowball languages, by name and ISO 639-1 code.

use rust_stemmers::Algorithm;

/// The Snowball languages of rust-stemmers, by name, with their ISO 639-1 codes.
const LANGUAGES: &[(&str, &str, Algorithm)] = &[
    ("arabic", "ar", Algorithm::Arabic),
    ("danish", "da", Algorithm::Danish),
    ("dutch", "nl", Algorithm::Dutch),
    ("english", "en", Algorithm::English),
    ("finnish", "fi", Algorithm::Finnish),
    ("french", "fr", Algorithm::French),
    ("german", "de", Algorithm::German),
    ("greek", "el", Algorithm::Greek),
    ("hungarian", "hu", Algorithm::Hungarian),
    ("italian", "it", Algorithm::Italian),
    ("norwegian", "no", Algorithm::Norwegian),
    ("portuguese", "pt", Algorithm::Portuguese),
    ("romanian", "ro", Algorithm::Romanian),
    ("russian", "ru", Algorithm::Russian),
    ("spanish", "es", Algorithm::Spanish),
    ("swedish", "sv", Algorithm::Swedish),
    ("tamil", "ta", Algorithm::Tamil),
    ("turkish", "tr", Algorithm::Turkish),
];

/// Look a language up by name (`english`) or ISO 639-1 code (`en`).
pub fn language(name: &str) -> std::result::Result<(Algorithm, &'static str), String> {
    let key = name.trim().to_lowercase();
    LANGUAGES
        .iter()
        .find(|(n, code, _)| *n == key || *code == key)
        .map(|(n, _, a)| (*a, *n))
        .ok_or_else(|| {
            let names: Vec<&str> = LANGUAGES.iter().map(|l| l.0).collect();
            format!("unknown language {name:?}; known: {}", names.join(", "))
        })
}

pub(crate) fn iso_code(name: &str) -> &'static str {
    LANGUAGES.iter().find(|l| l.0 == name).map_or("", |l| l.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_lookup() {
        assert_eq!(language("EN").unwrap().1, "english");
        assert!(language("klingon").unwrap_err().contains("english"));
    }
}
