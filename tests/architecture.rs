//! The module rules of `ARCHITECTURE.md` that the compiler does not check: no two files of
//! `src/` import each other, directly or around a circle (a child module may use its
//! ancestors' items: that is how Rust modules nest), the simulator stays independent of the
//! product's rules, and the sans-IO core reads no clock and no random source.
//!
//! Imports are read from the text (`crate::…`, `super::…`, `self::…` paths, and bare paths
//! through a child module such as a `mod.rs`'s `pub use child::…`; one level of braces
//! expanded), comments and test modules left out; a path counts for the deepest file it
//! names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/bridge/machine/mod.rs` → `["bridge", "machine"]`; `src/lib.rs` → `[]`.
fn module_of(root: &Path, path: &Path) -> Module {
    let rel = path
        .strip_prefix(root)
        .expect("under src/")
        .with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path in `code` that may name a module of ours, braces expanded one level: the ones
/// that start with `crate::`, `super::` or `self::`, and bare ones (`kind` `"bare"`, such as
/// `validate::log_filter`), which name a child module when their first segment is one.
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let ident = |c: &char| c.is_alphanumeric() || *c == '_';
    let mut i = 0;
    while i < bytes.len() {
        // A path starts at an identifier followed by `::` that does not continue a path.
        let boundary = i == 0 || !(ident(&bytes[i - 1]) || bytes[i - 1] == ':');
        let end = (i..bytes.len())
            .find(|&j| !ident(&bytes[j]))
            .unwrap_or(bytes.len());
        let starts_path = boundary
            && end > i
            && !bytes[i].is_ascii_digit()
            && bytes.get(end) == Some(&':')
            && bytes.get(end + 1) == Some(&':');
        if !starts_path {
            i = if end > i { end } else { i + 1 };
            continue;
        }
        let first: String = bytes[i..end].iter().collect();
        let (kind, mut segments) = match first.as_str() {
            "crate" | "super" | "self" => (first, Vec::new()),
            _ => ("bare".to_owned(), vec![first]),
        };
        i = end;
        while bytes.get(i) == Some(&':') && bytes.get(i + 1) == Some(&':') {
            i += 2;
            if bytes.get(i) == Some(&'{') {
                let close = (i..bytes.len())
                    .find(|&j| bytes[j] == '}')
                    .unwrap_or(bytes.len());
                let inner: String = bytes[i + 1..close].iter().collect();
                if !inner.contains('{') {
                    for item in inner.split(',') {
                        let first: Vec<String> = item
                            .split(" as ")
                            .next()
                            .unwrap_or_default()
                            .split("::")
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect();
                        let mut path = segments.clone();
                        path.extend(first);
                        out.push((kind.clone(), path));
                    }
                }
                i = close;
                segments.clear();
                break;
            }
            let start = i;
            while bytes.get(i).is_some_and(ident) {
                i += 1;
            }
            segments.push(bytes[start..i].iter().collect());
        }
        if !segments.is_empty() {
            out.push((kind, segments));
        }
    }
    out
}

/// The file-level import graph of `src/`, edges to ancestors left out.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|path| (module_of(&root, path), path.clone()))
        .collect();
    let resolve = |path: &[String]| -> Option<Module> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| modules.contains_key(m))
    };
    let mut edges = BTreeMap::new();
    for (module, path) in &modules {
        let text = std::fs::read_to_string(path).expect("a source file");
        let is_dir = path
            .file_stem()
            .is_some_and(|s| s == "mod" || s == "lib" || s == "main");
        let mut targets = BTreeSet::new();
        for (kind, segments) in paths(&code(&text)) {
            let full: Module = match kind.as_str() {
                "crate" => segments,
                // A bare path names one of our modules only through a child module.
                "bare" => {
                    let mut full = module.clone();
                    full.extend(segments);
                    if !modules.contains_key(&full[..module.len() + 1]) {
                        continue;
                    }
                    full
                }
                "self" => {
                    let mut base = if is_dir {
                        module.clone()
                    } else {
                        module[..module.len().saturating_sub(1)].to_vec()
                    };
                    base.extend(segments);
                    base
                }
                _ => {
                    let mut base = module[..module.len().saturating_sub(1)].to_vec();
                    let mut rest = segments.as_slice();
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend(rest.iter().cloned());
                    base
                }
            };
            if let Some(target) = resolve(&full) {
                let ancestor = target.len() < module.len() && module.starts_with(&target);
                if &target != module && !ancestor {
                    targets.insert(target);
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The strongly connected components with more than one file (Tarjan).
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_two_files_import_each_other() {
    let edges = graph();
    assert!(edges.len() > 100, "the whole tree is read");
    let found = circles(&edges);
    let shown: Vec<String> = found
        .iter()
        .map(|c| {
            c.iter()
                .map(|m| m.join("/"))
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect();
    assert!(shown.is_empty(), "import circles: {shown:#?}");
}

#[test]
fn the_reader_sees_a_circle() {
    // The check itself: two files that import each other are found.
    let a: Module = vec!["a".into()];
    let b: Module = vec!["b".into()];
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(circles(&edges).len(), 1);
    let parsed =
        paths("use crate::wire::{device::DeviceType, lenient};\nlet x = super::super::y::z;");
    assert!(parsed.contains(&(
        "crate".into(),
        vec!["wire".into(), "device".into(), "DeviceType".into()]
    )));
    assert!(parsed.contains(&("crate".into(), vec!["wire".into(), "lenient".into()])));
    assert!(parsed.contains(&("super".into(), vec!["super".into(), "y".into(), "z".into()])));
    // A bare path (a child module's item, as `mod.rs` re-exports it) is read too; the rest of
    // a path is not read as another path.
    let parsed = paths("pub(crate) use validate::{log_filter, normalize_filter};\nKind::Oven");
    assert!(parsed.contains(&("bare".into(), vec!["validate".into(), "log_filter".into()])));
    assert!(!parsed
        .iter()
        .any(|(_, p)| p.first().is_some_and(|s| s == "Oven")));
}

#[test]
fn the_simulator_does_not_use_the_products_rules() {
    let edges = graph();
    for (module, targets) in &edges {
        if module.first().is_some_and(|m| m == "simulator") {
            for target in targets {
                assert!(
                    target
                        .first()
                        .is_some_and(|t| t == "simulator" || t == "secret"),
                    "{} imports {}",
                    module.join("/"),
                    target.join("/")
                );
            }
        }
    }
}

#[test]
fn the_core_reads_no_clock_and_no_random_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bridge");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    // `src/bridge/tests/` are the core's tests: their harness may read a clock.
    files.retain(|path| !path.components().any(|c| c.as_os_str() == "tests"));
    assert!(files.len() > 10, "the core's files are read");
    for path in files {
        let mut text = code(&std::fs::read_to_string(&path).expect("a source file"));
        if path.ends_with("io.rs") {
            // `Now::system()` is the drivers' constructor of the time they hand in; it is
            // defined next to `Now` and called only outside the core (checked below).
            let start = text.find("pub fn system()").expect("Now::system in io.rs");
            let end = text[start..]
                .find("\n    }\n")
                .map_or(text.len(), |e| start + e);
            text.replace_range(start..end, "");
        }
        assert!(
            !text.contains("Now::system"),
            "{} reads the clock",
            path.display()
        );
        for banned in [
            "Instant::now",
            "SystemTime::now",
            "OffsetDateTime::now",
            "Uuid::new_v4",
            "rand::",
            "tokio::",
            "std::thread::sleep",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
    }
}

/// One row of `ARCHITECTURE.md`'s import table: its modules (top level) and what they may
/// import (`None`: everything), each a path of a module or a subtree of one.
struct Row {
    modules: Vec<String>,
    may_import: Option<Vec<Module>>,
}

/// The text between backticks in `cell`.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// The import table of `ARCHITECTURE.md`.
fn import_table() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("ARCHITECTURE.md is readable");
    let section = text
        .split("## Modules and what each may import")
        .nth(1)
        .expect("the import table's section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 5, "three cells: {line}");
            let modules = ticked(cells[1])
                .iter()
                .map(|m| m.trim_end_matches('/').trim_end_matches(".rs").to_owned())
                .collect();
            let may_import = match cells[3] {
                "everything" => None,
                "nothing" => Some(Vec::new()),
                cell => {
                    let listed: Vec<Module> = ticked(cell)
                        .iter()
                        .map(|t| t.split("::").map(str::to_owned).collect())
                        .collect();
                    assert!(!listed.is_empty(), "no imports read from {cell:?}");
                    Some(listed)
                }
            };
            Row {
                modules,
                may_import,
            }
        })
        .collect()
}

/// True when `target` is what `rule` allows: the module or subtree it names, or the module
/// the subtree is reached through (`cloud::event` allows `cloud/event` and `cloud`).
fn allows(rule: &[String], target: &[String]) -> bool {
    target.starts_with(rule) || (rule.len() > 1 && target == &rule[..1])
}

/// The imports between rows: (importing file, imported file), tests left out.
fn cross_row_edges(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<(Module, Module)> {
    edges
        .iter()
        .filter(|(module, _)| !module.iter().any(|m| m == "tests"))
        .flat_map(|(module, targets)| targets.iter().map(move |t| (module.clone(), t.clone())))
        .filter(|(module, target)| module.first() != target.first())
        .collect()
}

#[test]
fn the_import_table_is_the_code() {
    let table = import_table();
    let edges = graph();
    let mut problems = Vec::new();
    // Every module has exactly one row.
    let top: BTreeSet<String> = edges.keys().filter_map(|m| m.first().cloned()).collect();
    for module in &top {
        let rows = table.iter().filter(|r| r.modules.contains(module)).count();
        if rows != 1 {
            problems.push(format!("{module} has {rows} rows in the table"));
        }
    }
    for row in &table {
        for module in &row.modules {
            if !top.contains(module) {
                problems.push(format!("the table names {module}, which is not in src/"));
            }
        }
    }
    let cross = cross_row_edges(&edges);
    // Every import is allowed.
    for (module, target) in &cross {
        let Some(row) = table.iter().find(|r| r.modules.contains(&module[0])) else {
            continue;
        };
        let Some(allowed) = &row.may_import else {
            continue;
        };
        if !allowed.iter().any(|rule| allows(rule, target)) {
            problems.push(format!(
                "{} imports {}, which its row does not list",
                module.join("/"),
                target.join("/")
            ));
        }
    }
    // Every listed import is used, and names a module that exists.
    for row in &table {
        for rule in row.may_import.iter().flatten() {
            if !edges.contains_key(rule) {
                problems.push(format!("the table lists {}, not a module", rule.join("::")));
            }
            let used = cross
                .iter()
                .any(|(module, target)| row.modules.contains(&module[0]) && allows(rule, target));
            if !used {
                problems.push(format!(
                    "{} may import {}, but none does",
                    row.modules.join(", "),
                    rule.join("::")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md's table: {problems:#?}"
    );
}

#[test]
fn only_the_appliance_enum_names_a_family_in_the_core() {
    let edges = graph();
    for (module, targets) in &edges {
        if module.first().is_some_and(|m| m == "bridge")
            && !module.iter().any(|m| m == "tests")
            && module != &["bridge", "appliance"]
        {
            for target in targets {
                assert!(
                    !target
                        .first()
                        .is_some_and(|t| t == "sous_vide" || t == "oven"),
                    "{} imports {}: the core reaches the families through bridge/appliance.rs",
                    module.join("/"),
                    target.join("/")
                );
            }
        }
    }
}

#[test]
fn the_table_reader_reads_rules() {
    let cloud_event: Module = vec!["cloud".into(), "event".into()];
    assert!(allows(&cloud_event, &["cloud".into(), "event".into()]));
    assert!(allows(&cloud_event, &["cloud".into()]));
    assert!(!allows(&cloud_event, &["cloud".into(), "client".into()]));
    assert_eq!(ticked("`a`, `b::c` and d"), ["a", "b::c"]);
    assert!(import_table().len() > 10, "the table is read");
}
