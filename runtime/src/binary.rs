//! [`Binary`]: raw bytes where a spec says `format: binary` (file uploads,
//! downloads, `application/octet-stream` bodies), with an optional file name
//! and media type for multipart parts.

use crate::decode::scalars::{scalar, Conv, Scalar};
use crate::decode::{Cx, Decode, Decoding};
use bytes::Bytes;
use serde::de::Deserializer;
use std::fmt;

/// Bytes, plus how to present them as a file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Binary {
    pub bytes: Bytes,
    /// The file name sent in a multipart part (default: the field name).
    pub file_name: Option<String>,
    /// The part's media type (default: `application/octet-stream`).
    pub content_type: Option<String>,
}

impl Binary {
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Binary {
            bytes: bytes.into(),
            file_name: None,
            content_type: None,
        }
    }

    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    pub fn with_content_type(mut self, media_type: impl Into<String>) -> Self {
        self.content_type = Some(media_type.into());
        self
    }
}

impl From<Vec<u8>> for Binary {
    fn from(v: Vec<u8>) -> Self {
        Binary::new(v)
    }
}

impl From<Bytes> for Binary {
    fn from(v: Bytes) -> Self {
        Binary::new(v)
    }
}

impl From<&'static [u8]> for Binary {
    fn from(v: &'static [u8]) -> Self {
        Binary::new(Bytes::from_static(v))
    }
}

impl From<String> for Binary {
    fn from(v: String) -> Self {
        Binary::new(v)
    }
}

/// Contents are never printed: they may be anything, including secrets.
impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binary")
            .field("len", &self.bytes.len())
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// Inside JSON, binary data can only travel as a string.
impl serde::Serialize for Binary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(&self.bytes))
    }
}

impl Scalar for Binary {
    const EXPECTED: &'static str = "string";
    const RUST: &'static str = "Binary";
    fn from_str(v: &str) -> Conv<Self> {
        Conv::Exact(Binary::new(Bytes::copy_from_slice(v.as_bytes())))
    }
}

impl Decode for Binary {
    fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
        scalar(de, cx)
    }
}

impl<'de> serde::Deserialize<'de> for Binary {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        crate::decode::deserialize(de)
    }
}
