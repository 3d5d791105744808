//! What a container holds, read from its header and index without decoding
//! a record: the one account `sae inspect` prints (as text or `--json`) and
//! the Python package's `sae_codec.inspect` returns.

use std::fmt;
use std::io::{Read, Seek};

use sae_container::{ContainerReader, IndexStatus, RecordSizes};
use sae_model::hex;
use serde::Serialize;

use crate::error::Result;
use crate::transform::Transforms;

/// A container's header and where its bytes go.
///
/// ```
/// use std::io::Cursor;
/// use sae_codec::ContainerSummary;
/// use sae_codec::sae_container::{ContainerWriter, ElementType, Header, SparseLatent};
///
/// let mut writer = ContainerWriter::new(Vec::new(), Header::new(vec![16], ElementType::F32, 32))?;
/// writer.append(&SparseLatent::new(32, vec![3, 9], vec![1.0, 2.0])?)?;
/// let bytes = writer.finish()?;
/// let summary = ContainerSummary::read(Cursor::new(&bytes))?;
/// assert_eq!((summary.records, summary.finished), (1, true));
/// assert_eq!(summary.bytes.total, bytes.len() as u64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerSummary {
    /// Records readable (all of them, or the whole ones of a cut file).
    pub records: usize,
    /// Whether the file ends in its index (`false`: cut or unfinished, the
    /// whole records recovered by scanning).
    pub finished: bool,
    /// The shape of one record.
    pub record_shape: Vec<u64>,
    /// The length of one latent.
    pub latent_len: u32,
    /// How positions are coded, by name.
    pub index_coding: String,
    /// How values are coded, by name.
    pub value_coding: String,
    /// The transforms before the model, as `sae train --transform` takes them.
    pub transforms: String,
    /// The error every record is held to (the guaranteed mode), if any.
    pub max_error: Option<String>,
    /// The model's name, if the writer gave one.
    pub model_name: Option<String>,
    /// The model's fingerprint (SHA-256, hex), if the writer gave one.
    pub fingerprint: Option<String>,
    /// Where the bytes go.
    pub bytes: ByteSummary,
}

/// Where a container's bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ByteSummary {
    /// The header block.
    pub header: u64,
    /// The footer index and trailer (0 for a recovered file).
    pub footer: u64,
    /// Unreadable bytes after the last whole record of a recovered file.
    pub trailing: u64,
    /// All records, by part.
    pub record_totals: RecordSizes,
    /// The whole file.
    pub total: u64,
}

impl ContainerSummary {
    /// Reads a container's header and index (records are not decoded).
    pub fn read<R: Read + Seek>(source: R) -> Result<Self> {
        let mut reader = ContainerReader::open(source)?;
        let report = reader.size_report()?;
        let h = reader.header();
        Ok(Self {
            records: reader.len(),
            finished: matches!(reader.status(), IndexStatus::Indexed),
            record_shape: h.record_shape.clone(),
            latent_len: h.latent_len,
            index_coding: h.index_coding.to_string(),
            value_coding: h.value_coding.to_string(),
            transforms: Transforms(h.transforms.clone()).to_string(),
            max_error: h.bound.map(|b| b.to_string()),
            model_name: h.model_name.clone(),
            fingerprint: h.fingerprint.map(|f| hex(&f.digest)),
            bytes: ByteSummary {
                header: report.header,
                footer: report.footer,
                trailing: report.trailing,
                record_totals: report.record_totals,
                total: report.total(),
            },
        })
    }
}

/// The text `sae inspect` prints: one line per part.
impl fmt::Display for ContainerSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let recovered = if self.finished {
            String::new()
        } else {
            format!(
                " (unfinished or cut file: the whole records recovered, {} bytes after them unreadable)",
                self.bytes.trailing
            )
        };
        writeln!(f, "records        {}{recovered}", self.records)?;
        writeln!(
            f,
            "record shape   {:?}, latent length {}",
            self.record_shape, self.latent_len
        )?;
        writeln!(f, "indices        {}", self.index_coding)?;
        writeln!(f, "values         {}", self.value_coding)?;
        writeln!(f, "transforms     {}", self.transforms)?;
        if let Some(bound) = &self.max_error {
            writeln!(f, "max error      {bound} on every record (the guaranteed mode)")?;
        }
        if let Some(name) = &self.model_name {
            writeln!(f, "model          {name}")?;
        }
        let b = &self.bytes;
        let t = &b.record_totals;
        writeln!(
            f,
            "bytes          {} total: header {}, indices {}, values {}, framing {}, extras {}, footer {}",
            b.total, b.header, t.indices, t.values, t.framing, t.extras, b.footer
        )
    }
}
