//! File access for `include`: a small trait so tests and the fuzz target use in-memory files.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Where the parser reads files from (the main file is read by the caller or by
/// [`crate::parse_file`]; `include` reads through this trait).
pub trait FileLoader {
    /// Reads a whole file.
    fn read(&mut self, path: &Path) -> io::Result<String>;
    /// Names of the entries of a directory (files and sub-directories), for glob matching.
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>>;
    /// Value of an environment variable for `${_ENV NAME}`; none by default.
    fn env(&self, _name: &str) -> Option<String> {
        None
    }
    /// A canonical form of `path` for include-cycle detection (default: lexical normalisation).
    fn canonical(&mut self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Reads the real file system and the process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsLoader;

impl FileLoader for FsLoader {
    fn read(&mut self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        // valid UTF-8 (the usual case) is kept without a copy
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let mut v = Vec::new();
        for e in std::fs::read_dir(dir)? {
            v.push(e?.file_name().to_string_lossy().into_owned());
        }
        Ok(v)
    }
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn canonical(&mut self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// In-memory files keyed by (normalised) path; never touches the file system.
#[derive(Debug, Default, Clone)]
pub struct MemLoader {
    files: BTreeMap<PathBuf, String>,
}

impl MemLoader {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl AsRef<Path>, text: impl Into<String>) {
        self.files.insert(normalize(path.as_ref()), text.into());
    }
}

impl FileLoader for MemLoader {
    fn read(&mut self, path: &Path) -> io::Result<String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such in-memory file"))
    }
    fn list_dir(&mut self, dir: &Path) -> io::Result<Vec<String>> {
        let dir = normalize(dir);
        let mut v: Vec<String> = Vec::new();
        for p in self.files.keys() {
            if let Ok(rest) = p.strip_prefix(&dir) {
                if let Some(Component::Normal(first)) = rest.components().next() {
                    let s = first.to_string_lossy().into_owned();
                    if !v.contains(&s) {
                        v.push(s);
                    }
                }
            }
        }
        Ok(v)
    }
}

/// Lexically normalises a path (drops `.`, folds `..`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Expands csh-style braces: `a{b,c}d` → `abd`, `acd` (bounded to `limit` results).
pub(crate) fn expand_braces(pat: &str, limit: usize) -> Vec<String> {
    let mut budget = limit.saturating_mul(16);
    expand_braces_budget(pat, limit, &mut budget)
}

/// `budget` bounds the total work (calls), since nested alternatives multiply.
fn expand_braces_budget(pat: &str, limit: usize, budget: &mut usize) -> Vec<String> {
    if *budget == 0 {
        return Vec::new();
    }
    *budget -= 1;
    let bytes = pat.as_bytes();
    // find the first top-level '{' with a matching '}' containing a ','
    let mut depth = 0usize;
    let mut open = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let o = open.unwrap_or(0);
                    let inner = &pat[o + 1..i];
                    let alts = split_top(inner);
                    if alts.len() < 2 {
                        continue;
                    }
                    let mut res = Vec::new();
                    for a in alts {
                        if *budget == 0 {
                            return res;
                        }
                        let s = format!("{}{}{}", &pat[..o], a, &pat[i + 1..]);
                        for e in expand_braces_budget(&s, limit, budget) {
                            if res.len() >= limit {
                                return res;
                            }
                            res.push(e);
                        }
                    }
                    return res;
                }
            }
            _ => {}
        }
    }
    vec![pat.to_string()]
}

fn split_top(s: &str) -> Vec<&str> {
    let mut v = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                v.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    v.push(&s[start..]);
    v
}

/// fnmatch-style matching of one path component: `*`, `?`, `[...]` (with `!`/`^` negation).
/// Leading dots are only matched explicitly.
pub(crate) fn wildcard_match(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // iterative matcher with backtracking on the last '*'
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let mut steps = 0usize;
    while ni < n.len() {
        steps += 1;
        if steps > 100_000 {
            return false;
        }
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class_match(&p, pi, n[ni]) {
                        if ok {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches a `[...]` class at `p[i]`; returns (matched, index after `]`), or None if unclosed.
fn class_match(p: &[char], i: usize, c: char) -> Option<(bool, usize)> {
    let mut j = i + 1;
    let neg = j < p.len() && (p[j] == '!' || p[j] == '^');
    if neg {
        j += 1;
    }
    let mut matched = false;
    let mut first = true;
    while j < p.len() {
        if p[j] == ']' && !first {
            return Some((matched != neg, j + 1));
        }
        first = false;
        if j + 2 < p.len() && p[j + 1] == '-' && p[j + 2] != ']' {
            if p[j] <= c && c <= p[j + 2] {
                matched = true;
            }
            j += 3;
        } else {
            if p[j] == c {
                matched = true;
            }
            j += 1;
        }
    }
    None
}

pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Resolves a glob pattern (already brace-expanded) to existing paths, sorted.
pub(crate) fn glob(loader: &mut dyn FileLoader, pattern: &Path, limit: usize) -> Vec<PathBuf> {
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    let comps: Vec<Component<'_>> = pattern.components().collect();
    for c in &comps {
        let mut next = Vec::new();
        match c {
            Component::Normal(os) => {
                let s = os.to_string_lossy();
                if has_wildcard(&s) {
                    for base in &current {
                        let Ok(mut names) = loader.list_dir(base) else {
                            continue;
                        };
                        names.sort();
                        for n in names {
                            if wildcard_match(&s, &n) && next.len() < limit {
                                next.push(base.join(&n));
                            }
                        }
                    }
                } else {
                    for base in &current {
                        next.push(base.join(os));
                    }
                }
            }
            other => {
                for base in &current {
                    next.push(base.join(other.as_os_str()));
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_and_wildcards() {
        assert_eq!(expand_braces("a{b,c}d", 10), vec!["abd", "acd"]);
        assert_eq!(expand_braces("x{1,{2,3}}", 10), vec!["x1", "x2", "x3"]);
        assert_eq!(expand_braces("{a}", 10), vec!["{a}"]);
        assert!(wildcard_match("*.conf", "a.conf"));
        assert!(!wildcard_match("*.conf", ".a.conf"));
        assert!(wildcard_match("a?[0-9]", "ab7"));
        assert!(!wildcard_match("a[!0-9]", "a7"));
        assert!(wildcard_match("*a*b", "xxaxxb"));
    }

    #[test]
    fn mem_loader_glob() {
        let mut m = MemLoader::new();
        m.insert("/etc/k/conf.d/b.conf", "");
        m.insert("/etc/k/conf.d/a.conf", "");
        m.insert("/etc/k/conf.d/c.txt", "");
        let g = glob(&mut m, Path::new("/etc/k/conf.d/*.conf"), 100);
        assert_eq!(
            g,
            vec![
                PathBuf::from("/etc/k/conf.d/a.conf"),
                PathBuf::from("/etc/k/conf.d/b.conf")
            ]
        );
    }
}
