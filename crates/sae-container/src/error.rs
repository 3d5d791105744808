//! The container's typed errors.

use thiserror::Error;

/// Where in a container a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    /// The file header.
    Header,
    /// A record (by its position in the file).
    Record {
        /// Index of the record in file order.
        index: u64,
    },
    /// The footer index.
    Footer,
    /// The trailer that locates the footer.
    Trailer,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Header => f.write_str("header"),
            Self::Record { index } => write!(f, "record {index}"),
            Self::Footer => f.write_str("footer index"),
            Self::Trailer => f.write_str("trailer"),
        }
    }
}

/// Everything that can go wrong when writing or reading a container.
///
/// Errors from untrusted bytes say what was wrong and where (a [`Section`]
/// and, where known, a byte offset).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// The underlying reader or writer failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The data does not start with the container magic.
    #[error("not an sae container: bad magic bytes {found:02x?}")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// The file was written by a newer, incompatible format version.
    #[error("unsupported format version {major}.{minor} (this reader understands {supported}.x)")]
    UnsupportedVersion {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
        /// Major version this reader implements.
        supported: u16,
    },
    /// A checksum did not match: the bytes were altered.
    #[error(
        "checksum mismatch in {section} at byte {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    ChecksumMismatch {
        /// Which part of the file.
        section: Section,
        /// Byte offset of that part.
        offset: u64,
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum of the bytes read.
        computed: u32,
    },
    /// The data ended in the middle of a structure.
    #[error("{section} truncated at byte {offset}: {needed} more bytes needed")]
    Truncated {
        /// Which part of the file.
        section: Section,
        /// Byte offset where data ran out.
        offset: u64,
        /// How many more bytes the structure declared.
        needed: u64,
    },
    /// A structure is malformed although its checksum (if any) matched.
    #[error("malformed {section} at byte {offset}: {reason}")]
    Malformed {
        /// Which part of the file.
        section: Section,
        /// Byte offset of the structure.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A kind code (of a coding, a model, a transform, an element type) that
    /// this version does not define.
    #[error("unknown {what} kind {kind} in {section} at byte {offset}")]
    UnknownKind {
        /// Which part of the file.
        section: Section,
        /// Byte offset of the kind code.
        offset: u64,
        /// What the code names (`"index coding"`, `"transform"`, …).
        what: &'static str,
        /// The code found.
        kind: u8,
    },
    /// A structure ends before its enclosing length does.
    #[error("{count} unexpected bytes after the {what} in {section} at byte {offset}")]
    TrailingBytes {
        /// Which part of the file.
        section: Section,
        /// Byte offset of the first unexpected byte.
        offset: u64,
        /// What they follow (`"header field"`, `"extras"`, …).
        what: &'static str,
        /// How many bytes are left over.
        count: u64,
    },
    /// A header's coding table has the wrong number of entries for the latent length.
    #[error("the {what} has {found} entries where the latent length requires {expected}")]
    TableLength {
        /// Which table (`"gap table"`, `"per-unit table"`).
        what: &'static str,
        /// Entries required.
        expected: u64,
        /// Entries found.
        found: u64,
    },
    /// A record carries more than one per-record scale, or a scale extra of the wrong length.
    #[error("{section} at byte {offset}: {reason}")]
    BadScale {
        /// Which record.
        section: Section,
        /// Byte offset of the record.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record's value decodes to NaN or an infinity: no coding may store one.
    #[error("{section} at byte {offset}: value {position} is not finite")]
    NonFiniteValue {
        /// Which record.
        section: Section,
        /// Byte offset of its value stream.
        offset: u64,
        /// Which of its values (in index order).
        position: u64,
    },
    /// The header lacks a field every reader needs.
    #[error("header lacks the required field `{name}`")]
    MissingField {
        /// Field name.
        name: &'static str,
    },
    /// The header holds a critical field this reader does not understand.
    #[error("header field with tag {tag:#06x} is critical and unknown to this reader")]
    UnknownCriticalField {
        /// The field's tag.
        tag: u16,
    },
    /// A latent or header value is invalid for writing.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was being written.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Asked for a record that does not exist.
    #[error("record {index} requested but the container holds {count}")]
    RecordOutOfRange {
        /// Requested index.
        index: u64,
        /// Number of records.
        count: u64,
    },
    /// Entropy coding of a record failed.
    #[error(transparent)]
    Encode(#[from] sae_arith::EncodeError),
    /// A probability model described by the header cannot be built.
    #[error(transparent)]
    Model(#[from] sae_arith::ModelError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ContainerError> = std::result::Result<T, E>;
