//! A layer built on another stores its tree as changes to that parent's
//! tree (its `base`): the entries that are new or differ, and the paths it
//! no longer holds. A workspace's layer on a deps layer changes a few dozen
//! of several thousand entries, so its manifest shrinks from the whole
//! tree (about 1 MB on a 300-crate target) to a few kilobytes.
//!
//! Hard-link groups are numbered per layer, so a linked file is always
//! stored as changed: the base's entries kept in a tree are never linked,
//! and a tree's groups all come from its own layer.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::layer::manifest::{path_order, Entry};

/// What makes a tree of its base's.
#[derive(Debug, PartialEq, Eq)]
pub struct Changes {
    /// Entries the base lacks or holds otherwise, in tree order.
    pub changed: Vec<Entry>,
    /// Paths of the base's tree this tree lacks, in tree order.
    pub removed: Vec<String>,
}

impl Changes {
    /// A whole tree, as the changes to nothing.
    pub fn whole(entries: Vec<Entry>) -> Changes {
        Changes {
            changed: entries,
            removed: Vec::new(),
        }
    }
}

/// The changes that make `tree` of `base`; None when they would not be
/// much smaller than `tree` itself.
pub fn diff(base: &[Entry], tree: &[Entry]) -> Option<Changes> {
    let in_base: HashMap<&str, &Entry> = base.iter().map(|e| (e.path(), e)).collect();
    let in_tree: HashSet<&str> = tree.iter().map(Entry::path).collect();
    let changed: Vec<Entry> = tree
        .iter()
        .filter(|e| is_linked(e) || in_base.get(e.path()).copied() != Some(*e))
        .cloned()
        .collect();
    let removed: Vec<String> = base
        .iter()
        .map(Entry::path)
        .filter(|path| !in_tree.contains(path))
        .map(String::from)
        .collect();
    (changed.len() + removed.len() < tree.len() / 2).then_some(Changes { changed, removed })
}

/// The tree `diff` was made from, when made of its base: `base` without
/// what was removed, with what changed in place, in tree order. Made by
/// one set of changes after another, each costing
/// its own size (times a logarithm), not the tree's: a chain of thousands
/// of small layers is made whole in one pass.
#[derive(Clone, Default)]
pub struct Tree {
    entries: BTreeMap<TreeOrder, Entry>,
}

/// A path, ordered as a tree lists it (see `path_order`).
#[derive(Clone, PartialEq, Eq)]
struct TreeOrder(String);

impl Ord for TreeOrder {
    fn cmp(&self, other: &Self) -> Ordering {
        path_order(&self.0, &other.0)
    }
}

impl PartialOrd for TreeOrder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Tree {
    pub fn new(entries: &[Entry]) -> Tree {
        let mut tree = Tree::default();
        tree.apply(entries, &[]);
        tree
    }

    /// Removes the paths in `removed`, then puts each of `changed` in place.
    pub fn apply(&mut self, changed: &[Entry], removed: &[String]) {
        for path in removed {
            self.entries.remove(&TreeOrder(path.clone()));
        }
        for entry in changed {
            let key = TreeOrder(entry.path().to_string());
            self.entries.insert(key, entry.clone());
        }
    }

    /// The entries, in tree order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn into_entries(self) -> Vec<Entry> {
        self.entries.into_values().collect()
    }
}

fn is_linked(entry: &Entry) -> bool {
    matches!(entry, Entry::File { link: Some(_), .. })
}

#[cfg(test)]
mod tests {
    use super::{diff, Tree};
    use crate::layer::manifest::{BlobId, Entry};

    fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.into(),
            mode: 0o755,
        }
    }

    fn file(path: &str, content: &[u8], link: Option<u32>) -> Entry {
        Entry::File {
            path: path.into(),
            mode: 0o644,
            size: content.len() as u64,
            hash: BlobId::of(content),
            link,
            parts: Vec::new(),
        }
    }

    fn base() -> Vec<Entry> {
        let mut tree = vec![dir("release"), dir("release/deps")];
        tree.extend((0..20).map(|i| file(&format!("release/deps/lib{i:02}.rlib"), b"x", None)));
        tree
    }

    #[test]
    fn a_small_change_is_stored_as_one_and_gives_the_tree_back() {
        let base = base();
        let mut tree = base.clone();
        tree.remove(5);
        assert_eq!(tree[7].path(), "release/deps/lib06.rlib");
        tree[7] = file("release/deps/lib06.rlib", b"changed", None);
        tree.push(file("release/deps/new", b"n", Some(0)));
        tree.push(file("release/new", b"n", Some(0)));
        let changes = diff(&base, &tree).expect("a small change");
        let paths: Vec<&str> = changes.changed.iter().map(Entry::path).collect();
        assert_eq!(
            paths,
            ["release/deps/lib06.rlib", "release/deps/new", "release/new"]
        );
        assert_eq!(changes.removed, ["release/deps/lib03.rlib"]);
        let mut made = Tree::new(&base);
        made.apply(&changes.changed, &changes.removed);
        assert_eq!(made.into_entries(), tree);
    }

    #[test]
    fn linked_files_are_stored_even_when_unchanged() {
        let mut base = base();
        base.push(file("release/x", b"x", Some(0)));
        let changes = diff(&base, &base).expect("nothing else changed");
        assert_eq!(changes.changed, [file("release/x", b"x", Some(0))]);
    }

    #[test]
    fn a_tree_mostly_changed_is_stored_whole() {
        let base = base();
        let tree: Vec<Entry> = base
            .iter()
            .map(|e| match e {
                Entry::File { path, .. } => file(path, b"new", None),
                other => other.clone(),
            })
            .collect();
        assert_eq!(diff(&base, &tree), None);
    }
}
