//! The flags of `save`, `restore` and `gc`.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Result;
use crate::layer::blobstore::{Level, Settings};
use crate::remote::gc::GcOptions;
use crate::remote::restore::RestoreOptions;
use crate::remote::save::SaveOptions;
use crate::remote::{self, restore::restore, save::save, Cache, Outcome};

/// One arm per verb; what they did goes to `say`. A cache may not fail the
/// build: restore and save warn instead, unless --strict.
pub fn dispatch(command: StoreCommand, say: impl Fn(&dyn std::fmt::Display)) -> Result<()> {
    let (verb, outcome) = match command {
        StoreCommand::Restore(r) => {
            let restored = restore(&r.options()).map(|d| d.to_string());
            ("restore", remote::outcome(r.place.strict, restored)?)
        }
        StoreCommand::Save(s) => {
            let saved = save(&s.options()).map(|d| d.to_string());
            ("save", remote::outcome(s.place.strict, saved)?)
        }
        StoreCommand::Gc(g) => {
            let collected = remote::collect(&g.store, &g.options())?;
            ("gc", Outcome::Done(collected.to_string()))
        }
    };
    match outcome {
        Outcome::Done(done) => say(&done),
        Outcome::Skipped(e) => {
            eprintln!("cargo-inherit: warning: {verb}: {e}; the build goes on without it")
        }
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum StoreCommand {
    /// Lay the entry of KEY in an object store out into the target directory
    /// (or of the newest key a --restore-key starts): CI without Nix.
    /// Failures are warnings and exit 0 unless --strict.
    Restore(Restore),
    /// Pack the target directory on what was restored into it and upload
    /// what the store lacks as the entry of KEY, published last.
    Save(Save),
    /// Evict least recently restored keys down to a quota and remove what
    /// no key reaches.
    Gc(Gc),
}

/// Where the store is and the cache on this machine.
#[derive(clap::Args)]
pub struct Place {
    /// file:///path, or s3://bucket/prefix (endpoint, region and credentials
    /// from AWS_*: AWS_ENDPOINT_URL for SeaweedFS, MinIO, Garage;
    /// AWS_ALLOW_HTTP=true for a plain-http endpoint).
    #[arg(long, env = "CARGO_INHERIT_STORE")]
    store: String,
    #[arg(long, default_value = "target")]
    target_dir: PathBuf,
    /// The layers restored here, with the frames they needed: default
    /// $CARGO_INHERIT_CACHE, else $XDG_CACHE_HOME/cargo-inherit.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Fail on what is otherwise a warning (no store, no key, a bad object).
    #[arg(long)]
    strict: bool,
}

impl Place {
    fn cache(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(Cache::default_root)
    }
}

#[derive(clap::Args)]
pub struct Restore {
    #[command(flatten)]
    place: Place,
    /// Prefixes to fall back on when KEY has no entry: the newest key with
    /// the longest one is restored. May be given several times.
    #[arg(long = "restore-key", value_name = "PREFIX")]
    restore_keys: Vec<String>,
    key: String,
}

impl Restore {
    pub fn options(&self) -> RestoreOptions {
        RestoreOptions {
            url: self.place.store.clone(),
            key: self.key.clone(),
            restore_keys: self.restore_keys.clone(),
            target_dir: self.place.target_dir.clone(),
            cache: self.place.cache(),
        }
    }
}

#[derive(clap::Args)]
pub struct Save {
    #[command(flatten)]
    place: Place,
    /// cargo's --message-format=json output of the build: units it did not
    /// use are not saved.
    #[arg(long, value_name = "LOG")]
    prune_unused: Option<PathBuf>,
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    level: Level,
    /// Raw bytes per frame: restore downloads whole frames, so smaller
    /// ones fetch less of what the tree no longer uses.
    #[arg(long, default_value_t = 16 << 20)]
    frame_size: u64,
    /// The most an entry (its whole chain) may store, e.g. 2G: larger ones
    /// are not saved.
    #[arg(long, value_parser = bytes)]
    max_entry: Option<u64>,
    /// The most the store may hold, e.g. 10G: the least recently restored
    /// keys are evicted and what no key reaches removed.
    #[arg(long, value_parser = bytes)]
    quota: Option<u64>,
    key: String,
}

impl Save {
    pub fn options(&self) -> SaveOptions {
        SaveOptions {
            url: self.place.store.clone(),
            key: self.key.clone(),
            target_dir: self.place.target_dir.clone(),
            cache: self.place.cache(),
            settings: Settings {
                level: self.level,
                long_distance: true,
                frame_size: self.frame_size.max(1),
            },
            prune_unused: self.prune_unused.clone(),
            max_entry: self.max_entry,
            quota: self.quota,
        }
    }
}

#[derive(clap::Args)]
pub struct Gc {
    #[arg(long, env = "CARGO_INHERIT_STORE")]
    store: String,
    /// Evict the least recently restored keys until the rest fit, e.g. 10G.
    #[arg(long, value_parser = bytes)]
    quota: Option<u64>,
    /// Layers no key reaches are removed once this old (seconds): a save
    /// still uploading keeps its own.
    #[arg(long, default_value_t = 3600)]
    grace_seconds: u64,
}

impl Gc {
    pub fn options(&self) -> GcOptions {
        GcOptions {
            quota: self.quota,
            grace: Duration::from_secs(self.grace_seconds),
            keep: None,
        }
    }
}

/// A byte count, with an optional binary suffix: 512M, 10G.
fn bytes(text: &str) -> Result<u64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let (digits, shift) = match upper.strip_suffix('B').unwrap_or(&upper) {
        t if t.ends_with('K') => (t[..t.len() - 1].to_string(), 10),
        t if t.ends_with('M') => (t[..t.len() - 1].to_string(), 20),
        t if t.ends_with('G') => (t[..t.len() - 1].to_string(), 30),
        t if t.ends_with('T') => (t[..t.len() - 1].to_string(), 40),
        t => (t.to_string(), 0),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("not a byte count such as 512M or 10G: {text:?}"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("too large: {text:?}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_counts() {
        assert_eq!(super::bytes("512M"), Ok(512 << 20));
        assert_eq!(super::bytes("10g"), Ok(10 << 30));
        assert_eq!(super::bytes("1000"), Ok(1000));
        assert!(super::bytes("ten").is_err());
    }
}
