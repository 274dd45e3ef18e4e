//! The layers of the code (docs/ARCHITECTURE.md): read every source file's `crate::…`,
//! `super::…` and `themata_core::…` paths and fail when a module imports one of a later
//! layer (a stage a later stage, anything the engine or the pipeline file), when two
//! modules import each other, or when the pure core does IO or prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of each crate, lowest first: a module may import modules of lower layers only
/// (and its own submodules).
const CORE: &[&[&str]] = &[
    &["observe", "params"],
    &["model"],
    &["math"],
    &["ingest"],
    &["analyze"],
    &["tfidf"],
    &["cluster"],
    &["fitted", "stable", "trends"],
];
const ROOT: &[&[&str]] = &[
    &["error"],
    &["files"],
    &["formats"],
    &["tables"],
    &["keyness", "collocations"],
    &["report", "evaluate"],
    &["explain"],
    &["pipeline_file"],
    &["engine"],
    &["apply"],
    &["main", "cli", "progress"],
];

fn layer(layers: &[&[&str]], module: &str) -> Option<usize> {
    layers.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file (`["engine", "jobs"]` for `src/engine/jobs.rs`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its `#[cfg(test)]` module and comments.
fn code(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.starts_with("#[cfg(test)]"))
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_string()))
        .collect()
}

/// The paths a line names: `prefix::a::b`, and `prefix::{a::x, b}` groups.
fn paths(line: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = line;
    let pat = format!("{prefix}::");
    while let Some(i) = rest.find(&pat) {
        let before = rest[..i].chars().last();
        rest = &rest[i + pat.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let p: Vec<String> = item.trim().split("::").map(str::to_string).collect();
                if !p[0].is_empty() {
                    out.push(p);
                }
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(
                rest[..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
        }
    }
    out
}

/// Arrows between top-level modules (`a → b` with the first place seen), and between
/// sibling modules of every folder (through `super::`).
fn arrows(src: &Path) -> BTreeMap<(String, String), String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let me = module_of(src, &f);
        if me == ["lib"] {
            continue;
        }
        for (n, line) in code(&f) {
            let place = format!("{}:{n}", f.display());
            for p in paths(&line, "crate") {
                let is_module =
                    src.join(&p[0]).is_dir() || src.join(format!("{}.rs", p[0])).exists();
                if is_module && p[0] != me[0] {
                    out.entry((me[0].clone(), p[0].clone()))
                        .or_insert(place.clone());
                }
            }
            // super::x from a file of a folder: an arrow between siblings of that folder
            if me.len() >= 2 {
                let folder = if f.ends_with("mod.rs") {
                    &me[..]
                } else {
                    &me[..me.len() - 1]
                };
                let own = if f.ends_with("mod.rs") {
                    None
                } else {
                    me.last()
                };
                for p in paths(&line, "super") {
                    let dir = src.join(folder.join("/"));
                    if let Some(own) = own {
                        if dir.join(&p[0]).exists() || dir.join(format!("{}.rs", p[0])).exists() {
                            let a = format!("{}/{own}", folder.join("/"));
                            let b = format!("{}/{}", folder.join("/"), p[0]);
                            out.entry((a, b)).or_insert(place.clone());
                        }
                    }
                }
            }
        }
    }
    out
}

fn check_layers(src: &Path, layers: &[&[&str]]) -> Vec<String> {
    let mut problems = Vec::new();
    let all = arrows(src);
    for ((a, b), place) in &all {
        if a.contains('/') {
            continue; // siblings inside a folder: only loops are wrong
        }
        match (layer(layers, a), layer(layers, b)) {
            (Some(la), Some(lb)) if lb >= la && a != b => problems.push(format!(
                "{a} imports {b}, a module of a later layer ({place})"
            )),
            (None, _) => problems.push(format!("{a} is in no layer (add it to the test)")),
            (_, None) => problems.push(format!("{b} is in no layer (add it to the test)")),
            _ => {}
        }
    }
    // no two modules import each other, at any depth of the arrows found
    let edges: BTreeSet<(&String, &String)> = all.keys().map(|(a, b)| (a, b)).collect();
    for (a, b) in &edges {
        if edges.contains(&(*b, *a)) && a < b {
            problems.push(format!("{a} and {b} import each other"));
        }
    }
    problems
}

#[test]
fn core_layers_follow_the_data() {
    let src = super::root().join("crates/core/src");
    let problems = check_layers(&src, CORE);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn binary_layers_stand_on_the_core() {
    let src = super::root().join("src");
    let problems = check_layers(&src, ROOT);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Where the source files under `dir` (but those named in `skip`) use any of `words`.
fn uses(dir: &str, skip: &[&str], words: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    sources(&super::root().join(dir), &mut files);
    let mut found = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        for (n, line) in code(&f) {
            found.extend(
                words
                    .iter()
                    .filter(|w| line.contains(*w))
                    .map(|w| format!("{}:{n}: {w}", f.display())),
            );
        }
    }
    found
}

const PRINTS: &[&str] = &["println!", "eprintln!", "print!(", "eprint!("];

/// The core does no file or terminal IO and prints nothing; in the binary's library only
/// `main.rs` and what it owns print.
#[test]
fn only_the_binary_prints_and_the_core_does_no_io() {
    let io = [
        "std::fs",
        "File::",
        "stdout()",
        "stderr()",
        "stdin()",
        "polars",
        "clap",
        "askama",
        "indicatif",
    ];
    let mut problems = uses("crates/core/src", &[], &[PRINTS, &io].concat());
    let drawing = ["indicatif", "malloc_trim"];
    problems.extend(uses(
        "src",
        &["main.rs", "progress.rs"],
        &[PRINTS, &drawing].concat(),
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_layer_check_finds_what_it_should() {
    assert_eq!(
        paths("use crate::{model::Passage, ingest::text};", "crate"),
        [vec!["model", "Passage"], vec!["ingest", "text"]]
    );
    assert_eq!(
        paths("x = crate::math::lsa::fit(a)", "crate"),
        [vec!["math", "lsa", "fit"]]
    );
    assert!(paths("use themata_crate::x;", "crate").is_empty());
    // a broken tree: a stage importing a later one, and a loop
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("ingest")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod ingest; mod cluster; mod model;").unwrap();
    std::fs::write(
        src.join("ingest/mod.rs"),
        "use crate::cluster::X;\nmod a;\nmod b;",
    )
    .unwrap();
    std::fs::write(src.join("ingest/a.rs"), "use super::b::Y;").unwrap();
    std::fs::write(src.join("ingest/b.rs"), "use super::a::Z;").unwrap();
    std::fs::write(src.join("cluster.rs"), "use crate::ingest::Y;").unwrap();
    std::fs::write(src.join("model.rs"), "").unwrap();
    let problems = check_layers(src, &[&["model"], &["ingest"], &["cluster"]]);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("ingest imports cluster")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("ingest/a and ingest/b import each other")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("cluster and ingest import each other")),
        "{problems:?}"
    );
}
