//! The object store, by URL: a directory (`file:///path`) or S3-compatible
//! storage (`s3://bucket/prefix`, configured by the `AWS_*` variables), as
//! blocking calls. This is the only file that speaks `object_store`.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    ClientConfigKey, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};

use crate::error::{Error, IoContext, Result};

/// Uploads above this go in parts of this size, several at once.
const PART: usize = 16 << 20;
const PARTS_IN_FLIGHT: usize = 4;

/// One object as a listing shows it.
#[derive(Clone, Debug)]
pub struct Listed {
    /// Its name below the listed prefix.
    pub name: String,
    pub size: u64,
    pub modified: SystemTime,
}

pub struct Store {
    url: String,
    objects: Arc<dyn ObjectStore>,
    /// The directory of a file:// store.
    local: Option<std::path::PathBuf>,
    runtime: tokio::runtime::Runtime,
}

impl Store {
    pub fn open(url: &str) -> Result<Store> {
        let objects = objects(url).map_err(|reason| Error::Store {
            url: url.to_string(),
            reason,
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io(url, e))?;
        Ok(Store {
            url: url.to_string(),
            objects,
            local: url.strip_prefix("file://").map(Into::into),
            runtime,
        })
    }

    fn failed(&self, verb: &'static str, object: &str, source: object_store::Error) -> Error {
        Error::Remote {
            url: self.url.clone(),
            verb,
            object: object.to_string(),
            source: Box::new(source),
        }
    }

    /// The object's content, or None if there is none by that name.
    pub fn get(&self, object: &str) -> Result<Option<Vec<u8>>> {
        let path = ObjectPath::from(object);
        let got = self.runtime.block_on(async {
            let result = self.objects.get(&path).await?;
            result.bytes().await
        });
        match got {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed("read", object, e)),
        }
    }

    /// The object's size, or None if there is none by that name.
    pub fn size(&self, object: &str) -> Result<Option<u64>> {
        let path = ObjectPath::from(object);
        match self.runtime.block_on(self.objects.head(&path)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed("look up", object, e)),
        }
    }

    /// Writes the object whole: readers see the old content or this, never part.
    pub fn put(&self, object: &str, content: Vec<u8>) -> Result<()> {
        let path = ObjectPath::from(object);
        let put = self.objects.put(&path, PutPayload::from(content));
        self.runtime
            .block_on(put)
            .map(drop)
            .map_err(|e| self.failed("write", object, e))
    }

    /// Uploads the file at `from`; the object appears only once complete.
    pub fn upload(&self, from: &Path, object: &str) -> Result<()> {
        let mut file = File::open(from).at(from)?;
        let size = file.metadata().at(from)?.len();
        if size <= PART as u64 {
            let mut content = Vec::new();
            file.read_to_end(&mut content).at(from)?;
            return self.put(object, content);
        }
        let path = ObjectPath::from(object);
        let upload = self.runtime.block_on(async {
            let parts = self.objects.put_multipart(&path).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(parts, PART);
            let mut buffer = vec![0; PART];
            loop {
                let read = file.read(&mut buffer).map_err(|e| io_error(from, e))?;
                if read == 0 {
                    break;
                }
                writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                writer.write(&buffer[..read]);
            }
            writer.finish().await
        });
        upload
            .map(drop)
            .map_err(|e| self.failed("upload", object, e))
    }

    /// Writes the object's bytes `range` into `file` at the same offsets.
    /// Ranges go several at once; each streams, so memory stays a buffer.
    pub fn download_ranges(&self, object: &str, ranges: &[Range<u64>], file: &File) -> Result<()> {
        let path = ObjectPath::from(object);
        let fetch = |range: Range<u64>| {
            let path = &path;
            async move {
                let options = GetOptions::new().with_range(Some(GetRange::Bounded(range.clone())));
                let mut stream = self.objects.get_opts(path, options).await?.into_stream();
                let mut at = range.start;
                while let Some(chunk) = stream.try_next().await? {
                    file.write_all_at(&chunk, at)
                        .map_err(|e| io_error(Path::new(object), e))?;
                    at += chunk.len() as u64;
                }
                if at != range.end {
                    return Err(object_store::Error::Generic {
                        store: "cargo-inherit",
                        source: format!("got {} bytes of {range:?}", at - range.start).into(),
                    });
                }
                Ok(())
            }
        };
        let all = futures::stream::iter(ranges.iter().cloned())
            .map(fetch)
            .buffer_unordered(PARTS_IN_FLIGHT)
            .try_collect::<Vec<()>>();
        self.runtime
            .block_on(all)
            .map(drop)
            .map_err(|e| self.failed("download", object, e))
    }

    /// Every object whose name starts with `prefix/`.
    pub fn list(&self, prefix: &str) -> Result<Vec<Listed>> {
        let path = ObjectPath::from(prefix);
        let listed = self
            .runtime
            .block_on(self.objects.list(Some(&path)).try_collect::<Vec<_>>())
            .map_err(|e| self.failed("list", prefix, e))?;
        let under = format!("{prefix}/");
        let listed = listed.into_iter().map(|meta| Listed {
            name: meta
                .location
                .as_ref()
                .strip_prefix(&under)
                .unwrap_or(meta.location.as_ref())
                .to_string(),
            size: meta.size,
            modified: meta.last_modified.into(),
        });
        Ok(listed.collect())
    }

    /// Removes the object; one already gone is no error.
    pub fn delete(&self, object: &str) -> Result<()> {
        let path = ObjectPath::from(object);
        match self.runtime.block_on(self.objects.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed("delete", object, e)),
        }
    }
}

impl Store {
    /// Removes what uploads to a directory store that were killed left:
    /// object_store stages them as `NAME#N` files, which it never lists.
    /// (S3 keeps unfinished multipart uploads out of sight; a bucket
    /// lifecycle rule aborts them.) Returns how many went.
    pub fn sweep_staged(&self, older_than: SystemTime) -> Result<usize> {
        let Some(root) = &self.local else {
            return Ok(0);
        };
        let mut removed = 0;
        for item in walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            let staged =
                item.file_type().is_file() && item.file_name().to_string_lossy().contains('#');
            let old = item
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .is_some_and(|m| m < older_than);
            if staged && old {
                std::fs::remove_file(item.path()).at(item.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "cargo-inherit",
        source: Box::new(Error::io(path, e)),
    }
}

/// The store a URL names. A cache must give up soon: a build waits on it.
fn objects(url: &str) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    if let Some(dir) = url.strip_prefix("file://") {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
        let local = LocalFileSystem::new_with_prefix(dir).map_err(|e| e.to_string())?;
        return Ok(Arc::new(local));
    }
    let Some(rest) = url.strip_prefix("s3://") else {
        return Err("a store is file:///path or s3://bucket/prefix".to_string());
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s3 = AmazonS3Builder::from_env().with_bucket_name(bucket);
    // The AWS_* variables set the client (AWS_ALLOW_HTTP, timeouts); these
    // only fill in what they leave unset.
    for (variable, key, value) in [
        ("AWS_CONNECT_TIMEOUT", ClientConfigKey::ConnectTimeout, "5s"),
        ("AWS_TIMEOUT", ClientConfigKey::Timeout, "300s"),
    ] {
        if std::env::var_os(variable).is_none() {
            s3 = s3.with_config(AmazonS3ConfigKey::Client(key), value);
        }
    }
    let retry = RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    };
    let s3 = s3.with_retry(retry).build().map_err(|e| e.to_string())?;
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        Ok(Arc::new(s3))
    } else {
        Ok(Arc::new(PrefixStore::new(s3, prefix)))
    }
}
