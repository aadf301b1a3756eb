//! The runtime's source files stay in layers (`docs/design.md`, *Layers*): the largest
//! circle of files under `crates/hive-rt/src` that import each other has at most
//! [`MAX_CIRCLE`] files, and no runtime source file is longer than [`MAX_LINES`] lines.
//!
//! A file imports another when it names an item of the other's module: a `crate::…` or
//! `super::…` path (in `use` or in code), or, in a `mod.rs`, a `use` of a child module
//! (a re-export makes the facade depend on the child). A path names the longest module
//! prefix it has, so code that names `crate::process::X` depends on `process/mod.rs` even
//! when `X` is re-exported there: low layers import from the defining file. Unit-test
//! files (`tests.rs`, `tests/`) are left out; comments are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files allowed in one import circle.
const MAX_CIRCLE: usize = 4;
/// Lines allowed in one runtime source file.
const MAX_LINES: usize = 800;

/// The `.rs` files under `dir`, relative to `root`, without unit-test files.
fn sources(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src dir") {
        let p = e.expect("dir entry").path();
        let rel = p.strip_prefix(root).unwrap().to_path_buf();
        if p.is_dir() {
            if p.file_name().unwrap() != "tests" {
                sources(root, &p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") && p.file_name().unwrap() != "tests.rs" {
            out.push(rel);
        }
    }
}

/// The module path of a source file (`process/mod.rs` → `["process"]`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The source without `//` comments (doc comments included; string literals are not
/// special-cased: no runtime file has `//` in a string that matters here) and without
/// its inline unit-test module (a `#[cfg(…test…)]` line followed by `mod …`, to the end of
/// the file: its `super::` is the file's own module).
fn strip_comments(src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            let l = lines[i].trim_start();
            l.starts_with("#[cfg(")
                && l.contains("test")
                && lines
                    .get(i + 1)
                    .is_some_and(|n| n.trim_start().starts_with("mod "))
        })
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses the path that starts at `s` (after `crate::` or `super::`): identifiers joined
/// by `::`, and brace groups `{a, b::c, d::{e}}`. Every complete path is pushed to `out`
/// (prefixed with `base`).
fn paths(s: &[char], mut i: usize, base: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut cur = base;
    loop {
        if i < s.len() && s[i] == '{' {
            i += 1;
            loop {
                while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == '}' {
                    return i + 1;
                }
                i = paths(s, i, cur.clone(), out);
            }
        }
        let start = i;
        if i < s.len() && is_ident_start(s[i]) {
            while i < s.len() && is_ident(s[i]) {
                i += 1;
            }
            cur.push(s[start..i].iter().collect());
        }
        if i + 2 < s.len() && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
            continue;
        }
        out.push(cur);
        return i;
    }
}

/// The files `src` (of module `module`, a `mod.rs` or `lib.rs` when `facade`) imports.
fn imports(
    src: &str,
    module: &[String],
    facade: bool,
    resolve: &dyn Fn(&[String]) -> Option<String>,
) -> BTreeSet<String> {
    let text = strip_comments(src);
    let s: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let boundary = i == 0 || !(is_ident(s[i - 1]) || s[i - 1] == ':');
        if boundary && s[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            i = paths(&s, i + 7, Vec::new(), &mut found);
            continue;
        }
        if boundary && s[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
            let mut up = 0;
            let mut j = i;
            while s[j..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                up += 1;
                j += 7;
            }
            // `super` is the parent of the file's module (for `b/mod.rs`, module `b`, the
            // crate root; for `b/e.rs`, module `b::e`, module `b`).
            let base = module[..module.len().saturating_sub(up)].to_vec();
            i = paths(&s, j, base, &mut found);
            continue;
        }
        i += 1;
    }
    if facade {
        // `use child::…` / `pub(crate) use child::{…}` in a facade.
        for line in text.lines() {
            let t = line.trim_start();
            let t = t
                .strip_prefix("pub(crate) ")
                .or_else(|| t.strip_prefix("pub "))
                .unwrap_or(t);
            if let Some(rest) = t.strip_prefix("use ") {
                let rest = rest.trim_start().trim_start_matches("self::");
                let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
                if !name.is_empty() && rest[name.len()..].starts_with("::") {
                    let mut p = module.to_vec();
                    p.push(name);
                    found.push(p);
                }
            }
        }
    }
    found.iter().filter_map(|p| resolve(p)).collect()
}

/// Tarjan's strongly connected components of `edges`.
fn components(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.edges[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            t.out.push(comp);
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn src_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src_root();
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| (module_of(f), f.to_string_lossy().into_owned()))
        .collect();
    let resolve = |p: &[String]| -> Option<String> {
        (1..=p.len())
            .rev()
            .find_map(|n| modules.get(&p[..n]).cloned())
    };
    files
        .iter()
        .map(|f| {
            let name = f.to_string_lossy().into_owned();
            let src = std::fs::read_to_string(root.join(f)).expect("read source");
            let facade = matches!(
                f.file_name().and_then(|n| n.to_str()),
                Some("mod.rs" | "lib.rs")
            );
            let mut deps = imports(&src, &module_of(f), facade, &resolve);
            deps.remove(&name);
            (name, deps)
        })
        .collect()
}

#[test]
fn the_largest_import_circle_has_at_most_four_files() {
    let edges = import_graph();
    assert!(
        edges.len() > 40,
        "found only {} source files: wrong directory?",
        edges.len()
    );
    // The graph is real: the process layer imports the mailbox.
    assert!(edges["process/pcb.rs"]
        .iter()
        .any(|d| d.starts_with("mailbox")));
    let mut comps = components(&edges);
    comps.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let largest = &comps[0];
    if largest.len() > MAX_CIRCLE {
        let mut msg = format!(
            "{} files import each other (at most {MAX_CIRCLE} may):\n",
            largest.len()
        );
        let set: BTreeSet<&String> = largest.iter().collect();
        for f in largest {
            let inside: Vec<&String> = edges[f].iter().filter(|d| set.contains(d)).collect();
            msg += &format!("  {f} -> {inside:?}\n");
        }
        panic!("{msg}");
    }
}

#[test]
fn no_runtime_source_file_is_longer_than_800_lines() {
    let root = src_root();
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let long: Vec<(String, usize)> = files
        .iter()
        .map(|f| {
            let n = std::fs::read_to_string(root.join(f))
                .unwrap()
                .lines()
                .count();
            (f.to_string_lossy().into_owned(), n)
        })
        .filter(|&(_, n)| n > MAX_LINES)
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_import_reader_sees_paths_groups_and_super() {
    let modules: BTreeMap<Vec<String>, String> = [
        (vec!["a".to_string()], "a.rs".to_string()),
        (vec!["b".to_string()], "b/mod.rs".to_string()),
        (vec!["b".to_string(), "c".to_string()], "b/c.rs".to_string()),
        (vec!["d".to_string()], "d.rs".to_string()),
    ]
    .into_iter()
    .collect();
    let resolve = |p: &[String]| -> Option<String> {
        (1..=p.len())
            .rev()
            .find_map(|n| modules.get(&p[..n]).cloned())
    };
    let m = |s: &str| s.split('/').map(String::from).collect::<Vec<_>>();
    let src =
        "use crate::{a::X, b::{c::Y}};\n// crate::d::Z in a comment\nfn f() { super::c::g(); }";
    let got = imports(src, &m("b/e"), false, &resolve);
    let want: BTreeSet<String> = ["a.rs", "b/c.rs"].iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
    let got = imports("pub(crate) use c::Y;\n", &m("b"), true, &resolve);
    assert!(got.contains("b/c.rs"), "{got:?}");
}
