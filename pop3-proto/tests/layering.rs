//! The library's shape, checked from its source so that it cannot drift:
//!
//! * no import cycle between the top-level modules (`types`, `parse`, `error`,
//!   `sasl`, `apop`, ...): parsers produce types, types do not call parsers, and a
//!   module that another imports does not import it back;
//! * no source file with more than 600 lines of non-test code (the lines before the
//!   first `#[cfg(test)]` at column 0 that opens a `mod`; a separate `tests.rs` does
//!   not count).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_NON_TEST_LINES: usize = 600;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The path of `file` relative to `src`, as its components.
fn components(file: &Path) -> Vec<String> {
    file.strip_prefix(src_dir())
        .expect("below src")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// The top-level module a file belongs to (`None` for `lib.rs`), and how deep in the
/// module tree the file's own module sits (`src/x.rs` and `src/x/mod.rs`: 1,
/// `src/x/y.rs`: 2).
fn module_of(file: &Path) -> (Option<String>, usize) {
    let parts = components(file);
    let stem = |name: &str| name.trim_end_matches(".rs").to_string();
    match parts.as_slice() {
        [only] if only == "lib.rs" => (None, 0),
        [only] => (Some(stem(only)), 1),
        [first, rest @ ..] => {
            let depth = if rest.last().is_some_and(|l| l == "mod.rs") {
                rest.len()
            } else {
                rest.len() + 1
            };
            (Some(first.clone()), depth)
        }
        [] => (None, 0),
    }
}

/// The code before the test module: the first `#[cfg(test)]` at column 0 that
/// opens a `mod` (a `#[cfg(test)]` on a single item does not end the code).
fn non_test_code(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].starts_with("#[cfg(test)]") && w[1].starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

fn strip_comment(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s.bytes().position(|b| !is_ident_byte(b)).unwrap_or(s.len());
    &s[..end]
}

/// The top-level names of a `{a, b::c, d::{e, f}}` group starting at `s` (just after
/// the `{`).
fn group_names(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut at_item_start = true;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => break,
            b'}' => depth -= 1,
            b',' if depth == 0 => at_item_start = true,
            b if depth == 0 && at_item_start && is_ident_byte(b) => {
                let name = ident(&s[i..]);
                names.push(name.to_string());
                at_item_start = false;
                i += name.len();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// The top-level modules named after `prefix` (`crate::` or enough `super::`s to
/// reach the crate root) in `code`.
fn targets_after(code: &str, prefix: &str, out: &mut BTreeSet<String>) {
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before_ok = i == 0 || !is_ident_byte(rest.as_bytes()[i - 1]);
        let after = &rest[i + prefix.len()..];
        rest = after;
        if !before_ok {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            out.extend(group_names(group));
        } else {
            let name = ident(after);
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
}

/// The import graph between top-level modules, from `crate::...` paths (and
/// `super::` paths that climb to the crate root) in non-test code.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f).0).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let (Some(module), depth) = module_of(file) else {
            continue;
        };
        let text = fs::read_to_string(file).expect("read source");
        let code: String = non_test_code(&text)
            .into_iter()
            .map(strip_comment)
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = BTreeSet::new();
        targets_after(&code, "crate::", &mut named);
        targets_after(&code, &"super::".repeat(depth), &mut named);
        let edges = graph.entry(module.clone()).or_default();
        for target in named {
            if target != module && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(node, graph, &mut marks, &mut stack) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_import_cycle_between_modules() {
    let graph = import_graph();
    // The graph is real: the parser depends on the types it produces.
    assert!(
        graph.get("parse").is_some_and(|e| e.contains("types")),
        "the scan found no parse -> types edge: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between modules: {}\nthe graph: {graph:#?}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    fn edge(graph: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str) {
        graph.entry(a.into()).or_default().insert(b.into());
    }
    edge(&mut graph, "types", "secret");
    edge(&mut graph, "parse", "types");
    edge(&mut graph, "error", "types");
    assert_eq!(find_cycle(&graph), None);
    edge(&mut graph, "types", "parse");
    let cycle = find_cycle(&graph).expect("types <-> parse is a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&"types".to_string()) && cycle.contains(&"parse".to_string()));
}

#[test]
fn the_path_scanner_reads_groups_and_super() {
    let mut named = BTreeSet::new();
    targets_after(
        "use crate::{types::{A, B}, error, sasl::x};\nlet y = crate::apop::f(); notcrate::z",
        "crate::",
        &mut named,
    );
    let want: BTreeSet<String> = ["types", "error", "sasl", "apop"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(named, want);
    let mut named = BTreeSet::new();
    targets_after(
        "use super::super::hex::f;",
        &"super::".repeat(2),
        &mut named,
    );
    assert!(named.contains("hex"));
}

/// Lines of non-test code: those before the first `#[cfg(test)]` at column 0.
fn non_test_lines(text: &str) -> usize {
    non_test_code(text).len()
}

#[test]
fn no_file_over_600_lines_of_non_test_code() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut over = Vec::new();
    for file in &files {
        let parts = components(file);
        let is_tests = parts.iter().any(|p| p == "tests" || p == "tests.rs");
        if is_tests {
            continue;
        }
        let text = fs::read_to_string(file).expect("read source");
        let lines = non_test_lines(&text);
        if lines > MAX_NON_TEST_LINES {
            over.push(format!("{} ({lines} lines)", parts.join("/")));
        }
    }
    assert!(
        over.is_empty(),
        "files over {MAX_NON_TEST_LINES} lines of non-test code: {over:#?}"
    );
}

#[test]
fn non_test_lines_stop_at_the_test_module() {
    assert_eq!(non_test_lines("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
    assert_eq!(non_test_lines("a\n    #[cfg(test)]\nb\n"), 3);
    // A test-only item is not the test module: the code goes on after it.
    assert_eq!(non_test_lines("a\n#[cfg(test)]\nuse x;\nb\n"), 4);
}
