//! Every document a code comment cites is in the repository, and every section it cites exists.
//!
//! The comments name the contract and the protocol notes as `docs/interface.md` §3.2,
//! `docs/anova-protocol.md` §1.5, `docs/anova-oven.md` §1.8 (issue 25: cite what the reader
//! has). A citation is a `*.md` path in a comment of `src/`, `tests/`, `benches/`, `examples/`
//! or `fuzz/`, or anywhere in what the daemon serves (the page, the OpenAPI document). A path
//! with a folder is read from the repository's root, a bare name from the root or `docs/`; the
//! `§N.M` right after it must be headings of that document.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files below `dir` whose extension is one of `extensions`.
fn files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            files(&path, extensions, out);
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

/// The text of every comment in `source`, one comment line after the other (so a citation
/// wrapped onto the next line is read whole). String literals are not comments: a `//` inside
/// one is left alone.
fn comments(source: &str) -> String {
    let mut text = String::new();
    for line in source.lines() {
        let trimmed = line.trim_start();
        let comment = if trimmed.starts_with("//") {
            Some(trimmed)
        } else {
            line.match_indices(" // ")
                .map(|(at, _)| at)
                .find(|at| outside_strings(&line[..*at]))
                .map(|at| &line[at + 1..])
        };
        if let Some(comment) = comment {
            text.push_str(comment.trim_start_matches('/').trim_start_matches('!'));
            text.push(' ');
        }
    }
    text
}

/// True when `before` closes every string it opens (an even number of unescaped quotes).
fn outside_strings(before: &str) -> bool {
    let mut quotes = 0;
    let mut escaped = false;
    for c in before.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => quotes += 1,
            _ => escaped = false,
        }
    }
    quotes % 2 == 0
}

/// Every `*.md` path in `text`, with what follows it up to the next one.
fn citations(text: &str) -> Vec<(String, String)> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (at, _) in text.match_indices(".md") {
        let end = at + 3;
        if text[end..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
            continue;
        }
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_path(*c))
            .last()
            .map_or(at, |(i, _)| i);
        if start < at {
            found.push((start, end));
        }
    }
    found
        .iter()
        .enumerate()
        .map(|(i, &(start, end))| {
            let next = found.get(i + 1).map_or(text.len(), |n| n.0);
            (text[start..end].to_owned(), text[end..next].to_owned())
        })
        .collect()
}

/// The section numbers right after a citation: `` ` §3.1, §5.1 and …`` → `["3.1", "5.1"]`
/// (a list of `§N.M` joined by commas, slashes, dashes or "and"; anything else ends it).
fn sections(tail: &str) -> Vec<String> {
    let mut rest = tail.trim_start_matches('`');
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || ",/–-".contains(c));
        if let Some(after) = rest.strip_prefix("and ") {
            rest = after;
            continue;
        }
        let Some(after) = rest.strip_prefix('§') else {
            break;
        };
        let after = after.trim_start();
        let number: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        rest = &after[number.len()..];
        let number = number.trim_end_matches('.');
        if number.is_empty() {
            break;
        }
        found.push(number.to_owned());
    }
    found
}

/// The numbered headings of a Markdown document: `### 1.8 CMD_APO_START` → `1.8`,
/// `## 3. Topics` → `3`.
fn headings(document: &str) -> BTreeSet<String> {
    document
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|line| line.trim_start_matches('#').trim_start())
        .map(|line| {
            line.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
                .trim_end_matches('.')
                .to_owned()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// Where a cited path is, if it is in the repository.
fn resolve(path: &str) -> Option<PathBuf> {
    if path.starts_with("../") || path.starts_with('/') || path.contains("/../") {
        return None;
    }
    let candidates = if path.contains('/') {
        vec![root().join(path)]
    } else {
        vec![root().join(path), root().join("docs").join(path)]
    };
    candidates.into_iter().find(|p| p.is_file())
}

/// Checks every citation in `text` (of the file `name`); returns how many there were.
fn check(name: &str, text: &str, problems: &mut Vec<String>) -> usize {
    let found = citations(text);
    for (path, tail) in &found {
        let Some(document) = resolve(path) else {
            problems.push(format!(
                "{name}: cites {path}, which is not in the repository"
            ));
            continue;
        };
        let known = headings(&std::fs::read_to_string(&document).unwrap_or_default());
        for section in sections(tail) {
            if !known.contains(&section) {
                problems.push(format!(
                    "{name}: cites {path} §{section}, which has no such section"
                ));
            }
        }
    }
    found.len()
}

#[test]
fn comments_cite_documents_in_the_repository() {
    let mut sources = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "fuzz"] {
        files(&root().join(dir), &["rs"], &mut sources);
    }
    assert!(
        sources.len() > 100,
        "the sources are read: {}",
        sources.len()
    );
    // What the daemon serves (the page, the OpenAPI document) is read whole: users see it.
    let mut served = Vec::new();
    files(
        &root().join("src"),
        &["html", "json", "js", "css"],
        &mut served,
    );
    assert!(
        !served.is_empty(),
        "the page and the OpenAPI document are read"
    );
    let mut problems = Vec::new();
    let mut cited = 0;
    for file in sources.iter().chain(&served) {
        let text = std::fs::read_to_string(file).expect("a source file");
        let name = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        let text = if file.extension().is_some_and(|e| e == "rs") {
            comments(&text)
        } else {
            text
        };
        cited += check(&name, &text, &mut problems);
    }
    assert!(cited > 100, "the citations are found: {cited}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reader_finds_citations_and_sections() {
    // (No line of this string starts with `//`, so the test that reads this file skips it.)
    let source = concat!(
        "let x = \"a // b.md\"; // see `docs/interface.md` §3.1, §5.1 and\n",
        "/// `anova-oven.md` §1.8 (`../shared/x.md`)\nfn f() {}\n",
    );
    let text = comments(source);
    let found = citations(&text);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["docs/interface.md", "anova-oven.md", "../shared/x.md"]
    );
    assert_eq!(sections(&found[0].1), ["3.1", "5.1"]);
    assert_eq!(sections(&found[1].1), ["1.8"]);
    assert_eq!(sections("` §5/§6.3, then §9"), ["5", "6.3"]);
    assert_eq!(sections("` limits table §1"), Vec::<String>::new());
    assert!(resolve("docs/interface.md").is_some());
    assert!(
        resolve("anova-oven.md").is_some(),
        "a bare name is read in docs/"
    );
    assert!(resolve("../shared/x.md").is_none());
    assert!(resolve("docs/nowhere.md").is_none());
    let headings = headings("# Title\n## 3. Topics\n### 3.1 State\n#### 3.2.1 Gen 3\n");
    assert_eq!(
        headings,
        BTreeSet::from(["3".into(), "3.1".into(), "3.2.1".into()])
    );
}
