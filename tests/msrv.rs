//! The `rust-version` in `Cargo.toml` is one the daemon really builds with. Only one toolchain
//! is installed where this runs, so the claim is checked in two halves: every dependency the
//! daemon builds (dev-dependencies left out) declares a `rust-version` no higher than ours
//! (this test), and our own code uses no standard-library API newer than it (clippy's
//! `incompatible_msrv`, on by default, run with `-D warnings` by `.ci/run`).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// `"1.89"` → `(1, 89, 0)`.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn rust_version_covers_every_dependency() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let packages: BTreeMap<&str, &Value> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap_or_default(), p))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("the resolved graph")
        .iter()
        .map(|n| (n["id"].as_str().unwrap_or_default(), n))
        .collect();
    let root = metadata["resolve"]["root"].as_str().expect("our package");
    let ours = version(
        packages[root]["rust_version"]
            .as_str()
            .expect("Cargo.toml declares rust-version"),
    );
    // What the daemon builds: our normal and build dependencies, and all of theirs.
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let dev_only = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|k| k["kind"] == "dev");
            if !(id == root && dev_only) {
                stack.push(dep["pkg"].as_str().unwrap_or_default());
            }
        }
    }
    let newer: Vec<String> = seen
        .iter()
        .filter(|id| **id != root)
        .filter_map(|id| {
            let package = packages[*id];
            let needs = package["rust_version"].as_str()?;
            (version(needs) > ours)
                .then(|| format!("{} {} needs {needs}", package["name"], package["version"]))
        })
        .collect();
    assert!(
        seen.len() > 50 && newer.is_empty(),
        "rust-version {ours:?} is lower than what these need: {newer:#?}"
    );
}
