//! What a job of unpack reads its blobs from: a frame decompressed whole,
//! or a foreign parent's file, read a blob at a time; and the error for
//! content that is not what the manifest says.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::layer::chain::{Chain, FrameBuffers, Holder, Origin};
use crate::layer::foreign::{ForeignFile, ForeignTrees};
use crate::layer::manifest::BlobId;
use crate::tree::blob::Span;

/// What a job's blobs are read from.
pub enum Content<'b> {
    /// A decompressed frame; `last` is the span read last.
    Frame { raw: &'b [u8], last: Range<usize> },
    /// A foreign parent's file, read one blob at a time (a blob is at most
    /// `MAX_BLOB`, whatever the file's size) into `buf`.
    Foreign {
        file: ForeignFile,
        buf: &'b mut Vec<u8>,
    },
}

impl Content<'_> {
    /// Reads `span`, then given by `last`.
    pub fn span(&mut self, span: &Span) -> Result<&[u8]> {
        match self {
            Content::Frame { raw, last } => {
                let range = span.offset as usize..(span.offset + span.size) as usize;
                // A span outside the frame reads as nothing: its hash fails.
                *last = if range.end <= raw.len() { range } else { 0..0 };
                Ok(&raw[last.clone()])
            }
            Content::Foreign { file, buf } => {
                file.read_span(span, buf)?;
                Ok(buf.as_slice())
            }
        }
    }

    pub fn last(&self) -> &[u8] {
        match self {
            Content::Frame { raw, last } => &raw[last.clone()],
            Content::Foreign { buf, .. } => buf.as_slice(),
        }
    }
}

/// Decompresses a frame, or opens a foreign parent's file.
pub fn read_holder<'b>(
    chain: &Chain,
    trees: &ForeignTrees,
    holder: Holder,
    buffers: &'b mut FrameBuffers,
) -> Result<Content<'b>> {
    match holder.origin {
        Origin::Frame(frame) => Ok(Content::Frame {
            raw: chain.layers[holder.layer].read_frame(frame, buffers)?,
            last: 0..0,
        }),
        Origin::Foreign { parent, file } => Ok(Content::Foreign {
            file: trees.open_file(chain, parent, file)?,
            buf: buffers.raw_mut(),
        }),
    }
}

/// The error for content that is not what the manifest says it is.
pub fn mismatch(chain: &Chain, holder: Holder, entry: &str, span: &Span, actual: BlobId) -> Error {
    let layer = chain.layers[holder.layer].path.clone();
    let entry = entry.to_string();
    match holder.origin {
        Origin::Frame(_) => Error::HashMismatch {
            layer,
            entry,
            expected: span.hash.to_string(),
            actual: actual.to_string(),
        },
        Origin::Foreign { parent, file } => {
            let foreign = chain.foreign(parent);
            Error::ForeignChanged {
                layer,
                entry,
                parent: foreign.path.clone(),
                file: foreign.files[file].clone(),
            }
        }
    }
}
