//! The docs must stay true: every test a page cites as checking a claim
//! exists, and every relative link points to a file in the repository.

use std::fs;
use std::path::{Path, PathBuf};

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    for entry in fs::read_dir("docs").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The backtick-quoted spans of a line, in order.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_cited_test_exists() {
    let mut checked = 0;
    let mut missing = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let spans = code_spans(line);
            // A citation is a `tests/x.rs` span followed by one or more
            // function-name spans on the same table row.
            for (k, span) in spans.iter().enumerate() {
                if !(span.starts_with("tests/") && span.ends_with(".rs")) {
                    continue;
                }
                let Ok(source) = fs::read_to_string(span) else {
                    missing.push(format!("{}: file {span}", file.display()));
                    continue;
                };
                for name in spans[k + 1..].iter().take_while(|s| is_identifier(s)) {
                    checked += 1;
                    if !source.contains(&format!("fn {name}(")) {
                        missing.push(format!("{}: {span} has no fn {name}", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "stale citations:\n{}",
        missing.join("\n")
    );
    assert!(
        checked > 50,
        "only {checked} citations found: did the format change?"
    );
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.contains('_')
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap_or(Path::new("."));
        for part in text.split("](").skip(1) {
            let target = part.split(')').next().unwrap_or("");
            let target = target.split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !dir.join(target).exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
