//! The facade's public methods, read from its source, must match
//! `conformance/use-cases.txt`: the list each binding's coverage test checks itself
//! against. A method added to `Gym` fails this test until the list names it, and then
//! fails every binding that does not offer it (or say why not).
//!
//! `POWERGYM_BLESS=1 cargo test --test use_cases` rewrites the list from the source.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Names of `pub fn` / `pub async fn` items inside `impl Gym {` blocks.
fn facade_methods(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_gym = false;
    for line in source.lines() {
        if line.starts_with("impl ") {
            in_gym = line.trim_end() == "impl Gym {";
            continue;
        }
        if line.starts_with('}') {
            in_gym = false;
            continue;
        }
        if !in_gym {
            continue;
        }
        let trimmed = line.trim_start();
        // Only the block's own items (four spaces in), not nested functions.
        if line.len() - trimmed.len() != 4 {
            continue;
        }
        let rest = trimmed
            .strip_prefix("pub async fn ")
            .or_else(|| trimmed.strip_prefix("pub fn "));
        if let Some(rest) = rest {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

#[test]
fn the_use_case_list_matches_the_facade() {
    let src = root().join("powergym-core/src");
    let mut files = vec![src.join("gym.rs")];
    let mut modules: Vec<_> = std::fs::read_dir(src.join("gym"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    modules.sort();
    files.extend(modules);
    let mut names: Vec<String> = files
        .iter()
        .flat_map(|f| facade_methods(&std::fs::read_to_string(f).unwrap()))
        .collect();
    names.sort();
    names.dedup();
    assert!(
        names.len() > 50 && names.iter().any(|n| n == "check_in_by_document"),
        "the facade parser found only {names:?}"
    );
    let expected = format!(
        "# Every public method of powergym_core::Gym, one per line, generated from its source\n\
         # by powergym-core/tests/use_cases.rs (POWERGYM_BLESS=1 rewrites it).\n{}\n",
        names.join("\n")
    );
    let list = root().join("conformance/use-cases.txt");
    if std::env::var_os("POWERGYM_BLESS").is_some() {
        std::fs::write(&list, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&list).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "conformance/use-cases.txt is out of date with Gym's methods; \
         run POWERGYM_BLESS=1 cargo test -p powergym-core --test use_cases"
    );
}
