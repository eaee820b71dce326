//! This machine's floor for laying a tree out (benches/bounds.sh): the tree
//! at SRC written anew under DEST the way unpack writes it: its
//! directories, each file's size in bytes once (a hard link where the tree
//! has one), on THREADS threads taking the largest files first, every file
//! given mtime 1. No decompression, no verification: what any layout to
//! writable files pays for these bytes and files.
//!
//! The bytes come from one buffer per thread, as unpack writes from its
//! frame buffers: the page cache's cost does not depend on what the bytes
//! are, and the tree need not be read into memory before each run (a first
//! version wrote each file from a copy read into memory first).
//!
//!   write-floor SRC DEST THREADS
//!
//! Prints `WALL_SECONDS CPU_SECONDS` of the write alone.

use std::collections::HashMap;
use std::error::Error;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A file to write: where, and its size in bytes.
struct Content {
    rel: PathBuf,
    size: u64,
}

/// The most one write() call writes, from one buffer reused for every
/// file: enough that the calls' own cost is nothing beside the copying
/// (about 800 calls for the service deps tree).
const CHUNK: usize = 1 << 20;

/// The tree's shape: directories in walk order (parents first), files
/// with their sizes, and (link, file it is a link of) pairs.
#[derive(Default)]
struct Tree {
    dirs: Vec<PathBuf>,
    files: Vec<Content>,
    links: Vec<(PathBuf, PathBuf)>,
}

fn read(src: &Path) -> Result<Tree, Box<dyn Error>> {
    let mut tree = Tree::default();
    let mut seen: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(src.join(&rel))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let (path, meta) = (rel.join(entry.file_name()), entry.metadata()?);
            if meta.is_dir() {
                tree.dirs.push(path.clone());
                todo.push(path);
            } else if meta.is_file() {
                match seen.get(&(meta.dev(), meta.ino())) {
                    Some(first) if meta.nlink() > 1 => tree.links.push((path, first.clone())),
                    _ => {
                        seen.insert((meta.dev(), meta.ino()), path.clone());
                        tree.files.push(Content {
                            rel: path,
                            size: meta.len(),
                        });
                    }
                }
            }
        }
    }
    tree.files.sort_by_key(|f| std::cmp::Reverse(f.size));
    Ok(tree)
}

fn write(tree: &Tree, dest: &Path, threads: usize) -> Result<(), Box<dyn Error>> {
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
    std::fs::create_dir(dest)?;
    for dir in &tree.dirs {
        std::fs::create_dir(dest.join(dir))?;
    }
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let chunk = vec![0x5a_u8; CHUNK];
                while let Some(file) = tree.files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let written = File::create(dest.join(&file.rel)).and_then(|mut f| {
                        write_size(&mut f, &chunk, file.size).and_then(|()| f.set_modified(mtime))
                    });
                    if let Err(e) = written {
                        *failed.lock().unwrap() = Some(format!("{}: {e}", file.rel.display()));
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner()? {
        return Err(e.into());
    }
    for (link, first) in &tree.links {
        std::fs::hard_link(dest.join(first), dest.join(link))?;
    }
    Ok(())
}

/// `size` bytes into `out`, `chunk` after `chunk`.
fn write_size(out: &mut File, chunk: &[u8], size: u64) -> std::io::Result<()> {
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64);
        out.write_all(&chunk[..n as usize])?;
        left -= n;
    }
    Ok(())
}

/// This process's user + system seconds, all threads (USER_HZ is 100).
fn cpu_seconds() -> Result<f64, Box<dyn Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .ok_or("no ) in /proc/self/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dest, threads] = &args[..] else {
        return Err("usage: write-floor SRC DEST THREADS".into());
    };
    let tree = read(Path::new(src))?;
    let (cpu, wall) = (cpu_seconds()?, Instant::now());
    write(&tree, Path::new(dest), threads.parse()?)?;
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds()? - cpu);
    println!("{wall:.3} {cpu:.2}");
    Ok(())
}
