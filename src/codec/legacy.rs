//! Reading the settings of model files written by release 1.0 (settings
//! version 1: JSON under the metadata key `codec`; `docs/model-file.md` §5).
//!
//! Only a reader: files are written in version 2 (the container's header
//! block). Checked against files the 1.0 release wrote, in `tests/data/v1.0-release`.

use sae_container::{ElementType, Header, IndexCoding, Transform, ValueCoding, ValueModel};
use serde::Deserialize;

use crate::error::{ModelFileError, Result};

#[derive(Deserialize)]
struct SettingsV1 {
    record_shape: Vec<u64>,
    transforms: Vec<TransformV1>,
    value_coding: ValueV1,
    gap_table: Option<Vec<u32>>,
    #[serde(default)]
    unit_table: Option<Vec<u32>>,
    threshold: f32,
}

#[derive(Deserialize)]
enum TransformV1 {
    Log { floor: f64 },
    Log10 { floor: f64 },
    Affine { scale: f64, offset: f64 },
    PerRecordScale,
}

#[derive(Deserialize)]
enum ValueV1 {
    F32,
    F16,
    Bf16,
    Quantized { step: f32, frequencies: Vec<u32> },
}

/// The header template and threshold of version-1 settings, for a network
/// with latent length `latent_len`.
pub(crate) fn read_v1(json: &str, latent_len: u32) -> Result<(Header, f32)> {
    let v1: SettingsV1 = serde_json::from_str(json).map_err(|e| ModelFileError::LegacySettings {
        message: e.to_string(),
    })?;
    let mut header = Header::new(v1.record_shape, ElementType::F32, latent_len);
    // Per-unit frequencies, when present, replaced the gap table.
    header.index_coding = match (v1.unit_table, v1.gap_table) {
        (Some(frequencies), _) => IndexCoding::PerUnit { frequencies },
        (None, Some(frequencies)) => IndexCoding::Table { frequencies },
        (None, None) => IndexCoding::reference(),
    };
    header.value_coding = match v1.value_coding {
        ValueV1::F32 => ValueCoding::F32,
        ValueV1::F16 => ValueCoding::F16,
        ValueV1::Bf16 => ValueCoding::Bf16,
        ValueV1::Quantized { step, frequencies } => ValueCoding::Quantized {
            step,
            model: ValueModel::Table { frequencies },
        },
    };
    header.transforms = v1
        .transforms
        .into_iter()
        .map(|t| match t {
            TransformV1::Log { floor } => Transform::Log { floor },
            TransformV1::Log10 { floor } => Transform::Log10 { floor },
            TransformV1::Affine { scale, offset } => Transform::Affine { scale, offset },
            TransformV1::PerRecordScale => Transform::PerRecordScale,
        })
        .collect();
    Ok((header, v1.threshold))
}
