//! Hostile and careless inputs: files forged with valid checksums (every CRC
//! recomputed, so the checksum is never what catches them), and models and
//! data that would decode to wrong numbers. Each must end in a typed error,
//! never in exit-0 output that is wrong. One test per class of issue 13.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use sae_codec::io::read_npy;
use sae_codec::sae_container::{
    ContainerReader, ContainerWriter, ElementType, Extra, Header, IndexCoding, StreamReader, ValueCoding,
};
use sae_codec::{Codec, CodecError, ContainerError, Metrics, ModelError, SparseLatent, Transform};
use safetensors::SafeTensors;

/// Counts the bytes each thread allocates, so that a test can assert what
/// reading a file costs (deterministically, unlike a clock).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATED: Cell<u64> = const { Cell::new(0) };
        /// Bytes live (allocated, not yet freed) on this thread, and their peak.
        static LIVE: Cell<i64> = const { Cell::new(0) };
        static PEAK: Cell<i64> = const { Cell::new(0) };
    }

    fn grow(bytes: i64) {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + bytes);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
    }

    pub struct Counting;

    // SAFETY: every call is passed on to the system allocator unchanged;
    // only a thread-local counter (const-initialised, so it never allocates)
    // is updated beside it.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size() as u64));
            grow(layout.size() as i64);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            grow(-(layout.size() as i64));
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size as u64));
            grow(new_size as i64 - layout.size() as i64);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// The most bytes this thread held at once while `f` ran, beyond what it
    /// held before, and `f`'s result.
    pub fn peak<T>(f: impl FnOnce() -> T) -> (u64, T) {
        let start = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(start));
        let out = f();
        ((PEAK.with(Cell::get) - start).max(0) as u64, out)
    }

    /// Bytes this thread allocated while `f` ran, and its result.
    pub fn allocated<T>(f: impl FnOnce() -> T) -> (u64, T) {
        let before = ALLOCATED.with(Cell::get);
        let out = f();
        (ALLOCATED.with(Cell::get) - before, out)
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/v1.0-release")
        .join(name)
}

/// A file of its own for a test, named `…name`, removed when dropped.
fn temp(name: &str) -> tempfile::NamedTempFile {
    tempfile::Builder::new().suffix(name).tempfile().unwrap()
}

fn images() -> Vec<f32> {
    read_npy(fixture("images.npy")).unwrap().data
}

/// Byte ranges `(frame offset, payload length)` of a finished container's records.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let n = bytes.len();
    let footer = u64::from_le_bytes(bytes[n - 16..n - 8].try_into().unwrap()) as usize;
    let count = u64::from_le_bytes(bytes[footer + 4..footer + 12].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| {
            let at = footer + 12 + 8 * i;
            let offset = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
            let len = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize;
            (offset, len)
        })
        .collect()
}

/// Where the first record frame of `bytes` starts: after the header block
/// (magic, version, field list length, field list, checksum).
fn frames_start(bytes: &[u8]) -> usize {
    20 + u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize
}

/// Recomputes the checksum of every record frame and of the footer.
fn fix_checksums(bytes: &mut [u8]) {
    for (offset, len) in frames(bytes) {
        let crc = crc32c::crc32c(&bytes[offset..offset + 4 + len]);
        bytes[offset + 4 + len..offset + 8 + len].copy_from_slice(&crc.to_le_bytes());
    }
    let n = bytes.len();
    let footer = u64::from_le_bytes(bytes[n - 16..n - 8].try_into().unwrap()) as usize;
    let crc = crc32c::crc32c(&bytes[footer..n - 20]);
    bytes[n - 20..n - 16].copy_from_slice(&crc.to_le_bytes());
}

/// Replaces the first occurrence of `from` inside record payloads by `to`
/// (same length), then fixes the checksums.
fn patch_records(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    let (start, end) = {
        let f = frames(bytes);
        (f[0].0, f.last().map(|&(o, l)| o + 8 + l).unwrap())
    };
    let at = bytes[start..end]
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present")
        + start;
    bytes[at..at + to.len()].copy_from_slice(to);
    fix_checksums(bytes);
}

/// A container written with `header` (the codec's, altered) holding `images` as the codec encodes them.
fn rewrite_header(codec: &Codec, header: Header, extras_of: impl Fn(usize) -> Vec<Extra>) -> Vec<u8> {
    let original = codec.compress(&images()).unwrap();
    let mut reader = ContainerReader::open(Cursor::new(&original)).unwrap();
    let mut writer = ContainerWriter::new(Vec::new(), header).unwrap();
    for i in 0..reader.len() {
        let record = reader.get(i).unwrap();
        writer.append_with_extras(&record.latent, &extras_of(i)).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn scales_must_be_finite_and_positive() {
    let codec = Codec::load(fixture("per-unit.safetensors")).unwrap();
    let placeholder = 0.123_456_79f32;
    // Every record's scale replaced by a placeholder, then by each bad value: CRCs valid.
    let clean = rewrite_header(&codec, codec.header().clone(), |_| {
        vec![Extra::compact_scale(f64::from(placeholder))]
    });
    assert!(codec.decompress(&clean).is_ok());
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -2.0] {
        let mut forged = clean.clone();
        patch_records(&mut forged, &placeholder.to_le_bytes(), &bad.to_le_bytes());
        match codec.decompress(&forged) {
            Err(CodecError::Container(ContainerError::BadScale { .. })) => {}
            other => panic!("scale {bad}: {other:?}"),
        }
        // The container layer alone refuses it too, random access and streaming.
        let mut reader = ContainerReader::open(Cursor::new(&forged)).unwrap();
        assert!((0..reader.len()).any(|i| reader.get(i).is_err()));
        assert!(StreamReader::new(&forged[..]).unwrap().any(|r| r.is_err()));
    }
    // A scale so large that the image overflows f32: no infinite image comes back.
    let mut huge = rewrite_header(&codec, codec.header().clone(), |_| {
        vec![Extra::scale(0.123_456_789)]
    });
    patch_records(
        &mut huge,
        &0.123_456_789f64.to_le_bytes(),
        &1e300f64.to_le_bytes(),
    );
    assert!(matches!(
        codec.decompress(&huge),
        Err(CodecError::NonFiniteOutput { record: 0 })
    ));
    // Writers refuse such scales as well.
    let mut writer = ContainerWriter::new(Vec::new(), codec.header().clone()).unwrap();
    let latent = SparseLatent::new(codec.header().latent_len, vec![], vec![]).unwrap();
    assert!(writer.append_with_extras(&latent, &[Extra::scale(-1.0)]).is_err());
}

#[test]
fn a_container_must_agree_with_the_model_on_shape_and_transforms() {
    let codec = Codec::load(fixture("gaps.safetensors")).unwrap();
    let scale = |_| vec![Extra::scale(2.0)];
    let refused = |header: Header, field: &str| {
        let forged = rewrite_header(&codec, header, scale);
        match codec.decompress(&forged) {
            Err(CodecError::HeaderMismatch { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
        assert!(matches!(
            codec.decompress_from(&forged[..]),
            Err(CodecError::HeaderMismatch { .. })
        ));
    };
    // Transforms dropped, or an affine step that would give infinities.
    let mut h = codec.header().clone();
    h.transforms.clear();
    refused(h, "transforms");
    let mut h = codec.header().clone();
    h.transforms.push(Transform::Affine {
        scale: 1e-300,
        offset: 0.0,
    });
    refused(h, "transforms");
    // Another record shape (same element count) or element type.
    let mut h = codec.header().clone();
    h.record_shape = vec![4, 16];
    refused(h, "record shape");
    let mut h = codec.header().clone();
    h.element_type = ElementType::F64;
    refused(h, "record shape");
    // Another latent length: rewritten latents of that length.
    let mut h = codec.header().clone();
    h.latent_len += 1;
    h.index_coding = IndexCoding::reference();
    let mut writer = ContainerWriter::new(Vec::new(), h).unwrap();
    writer
        .append_with_extras(
            &SparseLatent::new(65, vec![3], vec![1.0]).unwrap(),
            &[Extra::scale(1.0)],
        )
        .unwrap();
    assert!(matches!(
        codec.decompress(&writer.finish().unwrap()),
        Err(CodecError::HeaderMismatch {
            field: "latent length",
            ..
        })
    ));
    // Codings may differ (a recode changes them): those still decode.
    let mut h = codec.header().clone();
    h.value_coding = ValueCoding::F32;
    let recoded = rewrite_header(&codec, h, scale);
    assert!(codec.decompress(&recoded).is_ok());
}

#[test]
fn stored_values_must_be_finite() {
    let codec = Codec::load(fixture("reference.safetensors")).unwrap();
    let placeholder = 1234.5f32;
    let mut writer = ContainerWriter::new(Vec::new(), codec.header().clone()).unwrap();
    writer
        .append(&SparseLatent::new(codec.header().latent_len, vec![2, 9], vec![0.5, placeholder]).unwrap())
        .unwrap();
    let clean = writer.finish().unwrap();
    assert!(codec.decompress(&clean).is_ok());
    for bad in [f32::NAN, f32::INFINITY] {
        let mut forged = clean.clone();
        patch_records(&mut forged, &placeholder.to_le_bytes(), &bad.to_le_bytes());
        assert!(matches!(
            codec.decompress(&forged),
            Err(CodecError::Container(ContainerError::NonFiniteValue {
                position: 1,
                ..
            }))
        ));
    }
    // Writers refuse what a coding cannot hold: NaN, and f16 overflow.
    let latent = |v: f32| SparseLatent::new(8, vec![1], vec![v]).unwrap();
    let mut f16 = Header::new(vec![4], ElementType::F32, 8);
    f16.value_coding = ValueCoding::F16;
    let mut writer = ContainerWriter::new(Vec::new(), f16).unwrap();
    assert!(writer.append(&latent(65_504.0)).is_ok());
    assert!(writer.append(&latent(70_000.0)).is_err());
    assert!(writer.append(&latent(f32::NAN)).is_err());
}

/// A copy of a model file with its tensors passed through `edit`.
fn edit_weights(source: &Path, target: &Path, edit: impl Fn(&str, &mut Vec<f32>)) {
    let bytes = std::fs::read(source).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata: HashMap<String, String> = meta.metadata().clone().unwrap();
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in tensors.tensors() {
        let mut values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        edit(&name, &mut values);
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push((name, view.shape().to_vec(), data));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, s, d)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let mut metadata = metadata;
    metadata.remove("fingerprint"); // the weights change; so would their fingerprint
    std::fs::write(target, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

#[test]
fn weights_must_be_finite_and_outputs_are_checked() {
    let source = fixture("per-unit.safetensors");
    for (tensor, bad) in [("decoder.0.bias", f32::NAN), ("encoder.2.weight", f32::INFINITY)] {
        let path = temp(&format!("bad-{tensor}.safetensors"));
        edit_weights(&source, path.path(), |name, v| {
            if name == tensor {
                v[0] = bad;
            }
        });
        match Codec::load(&path) {
            Err(CodecError::Model(ModelError::BadWeights {
                problem: sae_codec::sae_model::WeightsProblem::NonFiniteTensor { name },
            })) => assert_eq!(name, tensor),
            other => panic!("{tensor}: {other:?}"),
        }
    }
}

#[test]
fn decoded_images_are_never_non_finite() {
    // Finite but huge decoder weights (a release-1.0 file: its settings carry
    // no fingerprint to betray the edit): containers it writes decode to
    // infinities, and that is an error, never an image.
    let path = temp("huge.safetensors");
    edit_weights(&fixture("reference.safetensors"), path.path(), |name, v| {
        if name.starts_with("decoder") {
            v.iter_mut().for_each(|x| *x = 3e38);
        }
    });
    let codec = Codec::load(&path).unwrap();
    // Compression decodes what it stores, and refuses to write a file it
    // could not read back.
    assert!(matches!(
        codec.compress(&images()),
        Err(CodecError::Overflow {
            record: 0,
            cause: sae_codec::Overflow::Reconstruction
        })
    ));
    // A container written by the sound model, its fingerprint forged to the
    // edited one's, read with the edited one.
    let sound = Codec::load(fixture("reference.safetensors")).unwrap();
    let mut bytes = sound.compress(&images()).unwrap();
    let at = bytes.windows(32).position(|w| w == sound.fingerprint()).unwrap();
    bytes[at..at + 32].copy_from_slice(&codec.fingerprint());
    let fields_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let crc = crc32c::crc32c(&bytes[..16 + fields_len]);
    bytes[16 + fields_len..20 + fields_len].copy_from_slice(&crc.to_le_bytes());
    let outcome = codec.decompress(&bytes);
    assert!(
        matches!(outcome, Err(CodecError::NonFiniteOutput { .. })),
        "{outcome:?}"
    );
    assert!(matches!(
        codec.decompress_from(&bytes[..]),
        Err(CodecError::NonFiniteOutput { .. })
    ));
}

#[test]
fn nan_inputs_to_metrics_are_errors() {
    let a = [1.0f32, 2.0, 3.0, 4.0];
    let mut b = a;
    b[2] = f32::NAN;
    assert!(matches!(
        Metrics::compute(&a, &b, 2, None, None),
        Err(CodecError::Model(ModelError::NonFinite { position: 2 }))
    ));
    assert!(Metrics::compute(&a, &a, 2, None, None).is_ok());
}

#[test]
fn records_whose_norm_overflows_f32_are_stored_and_those_that_cannot_come_back_are_refused() {
    let codec = Codec::load(fixture("per-unit.safetensors")).unwrap();
    let n = codec.record_shape().iter().product::<usize>();
    // A flat image of 1e38: its L2 norm (8e38 over 64 pixels) is past the
    // largest f32, stored as an f64 scale; it comes back as the flat image
    // of 1 does, scaled.
    let ones = vec![1.0f32; n];
    let huge = vec![1e38f32; n];
    let back = |x: &[f32]| codec.decompress(&codec.compress(x).unwrap()).unwrap();
    let (small, large) = (back(&ones), back(&huge));
    assert!(large.iter().all(|v| v.is_finite()));
    for (s, l) in small.iter().zip(&large) {
        assert!(
            (f64::from(*l) / 1e38 - f64::from(*s)).abs() <= 1e-4 * f64::from(s.abs()).max(1.0),
            "{s} vs {l}"
        );
    }
    // At 3e38 a pixel's reconstruction (3e38 times one plus its error) is
    // past the largest f32: compression says so rather than write a file
    // that decompression would refuse.
    let mut data = images();
    data[..n].iter_mut().for_each(|v| *v = 3e38);
    let error = codec.compress(&data).unwrap_err();
    assert!(
        matches!(error, CodecError::Overflow { record: 0, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("not finite"), "{error}");
}

#[test]
fn forged_offsets_near_the_end_of_u64_are_typed_errors() {
    let codec = Codec::load(fixture("gaps.safetensors")).unwrap();
    let mut bytes = codec.compress(&images()).unwrap();
    let n = bytes.len();
    let footer = u64::from_le_bytes(bytes[n - 16..n - 8].try_into().unwrap()) as usize;
    for (slot, value) in [(1usize, u64::MAX - 3), (11, u64::MAX)] {
        let mut forged = bytes.clone();
        let at = footer + 12 + 8 * slot;
        forged[at..at + 8].copy_from_slice(&value.to_le_bytes());
        let crc = crc32c::crc32c(&forged[footer..n - 20]);
        forged[n - 20..n - 16].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            ContainerReader::open(Cursor::new(&forged)),
            Err(ContainerError::Malformed { .. })
        ));
    }
    // The untouched file still reads.
    fix_checksums(&mut bytes);
    assert!(codec.decompress(&bytes).is_ok());
}

#[test]
fn adaptive_coding_over_a_forged_huge_latent_costs_only_what_the_file_holds() {
    // 4 million units under adaptive gaps, a thousand empty records: each
    // record used to clone a 32 MB model; now the file reads at once.
    let mut header = Header::new(vec![4], ElementType::F32, 4_000_000);
    header.index_coding = IndexCoding::Adaptive { increment: 32 };
    let mut writer = ContainerWriter::new(Vec::new(), header).unwrap();
    let empty = SparseLatent::new(4_000_000, vec![], vec![]).unwrap();
    for _ in 0..1000 {
        writer.append(&empty).unwrap();
    }
    writer
        .append(&SparseLatent::new(4_000_000, vec![7, 3_999_999], vec![1.0, 2.0]).unwrap())
        .unwrap();
    let bytes = writer.finish().unwrap();
    assert!(bytes.len() < 40_000, "{} bytes", bytes.len());
    let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    // Cloning the 4-million-symbol model for each record would allocate
    // tens of gigabytes; the reader allocates a few times the file.
    let (cost, nnz) = counting::allocated(|| reader.nonzeros().unwrap());
    assert!(
        cost < 100 * bytes.len() as u64,
        "{cost} bytes allocated for a file of {}",
        bytes.len()
    );
    assert_eq!(nnz.len(), 1001);
    assert_eq!(nnz[1000], 2);
    // A codec refuses such a file before decoding any record.
    let codec = Codec::load(fixture("gaps.safetensors")).unwrap();
    let mut header = codec.header().clone();
    header.latent_len = 4_000_000;
    header.index_coding = IndexCoding::Adaptive { increment: 32 };
    let mut writer = ContainerWriter::new(Vec::new(), header).unwrap();
    writer.append_with_extras(&empty, &[Extra::scale(1.0)]).unwrap();
    assert!(matches!(
        codec.decompress(&writer.finish().unwrap()),
        Err(CodecError::HeaderMismatch { .. })
    ));
}

#[test]
fn a_header_only_or_cut_container_is_refused_unless_partial_is_asked_for() {
    let codec = Codec::load(fixture("gaps.safetensors")).unwrap();
    let bytes = codec.compress(&images()).unwrap();
    let header_len = frames(&bytes)[0].0;
    match codec.decompress(&bytes[..header_len]) {
        Err(CodecError::Unfinished {
            records: 0,
            lost_bytes: 0,
        }) => {}
        other => panic!("{other:?}"),
    }
    let partial = codec.decompress_partial(&bytes[..header_len + 10]).unwrap();
    assert_eq!((partial.records, partial.lost_bytes), (0, Some(10)));
}

#[test]
fn describing_a_container_costs_its_bytes_not_its_latent_length() {
    // Per-unit indices over the largest latent the format allows: a record
    // costs `l` binary decisions to decode, so a size report (what `sae
    // inspect` prints) reads frames only, never the index streams.
    let l = sae_codec::sae_container::MAX_LATENT_LEN;
    let mut header = Header::new(vec![4], ElementType::F32, l);
    header.index_coding = IndexCoding::PerUnit {
        frequencies: vec![1; l as usize],
    };
    let empty = ContainerWriter::new(Vec::new(), header)
        .unwrap()
        .finish()
        .unwrap();
    // A thousand records whose index stream (three 0xff bytes) is no
    // encoder's, with valid checksums: the frames are sound, the streams not.
    let payload = [3u8, 0xff, 0xff, 0xff, 0, 0];
    let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
    frame.extend(payload);
    let crc = crc32c::crc32c(&frame);
    frame.extend(crc.to_le_bytes());
    let header_len = frames_start(&empty);
    let mut forged = empty[..header_len].to_vec();
    let mut offsets = Vec::new();
    for _ in 0..1000 {
        offsets.push(forged.len() as u64);
        forged.extend(&frame);
    }
    let footer = forged.len() as u64;
    forged.extend(u32::MAX.to_le_bytes());
    forged.extend((offsets.len() as u64).to_le_bytes());
    for o in &offsets {
        forged.extend(o.to_le_bytes());
    }
    let crc = crc32c::crc32c(&forged[footer as usize..]);
    forged.extend(crc.to_le_bytes());
    forged.extend(footer.to_le_bytes());
    forged.extend(sae_codec::sae_container::END_MAGIC);
    let mut reader = ContainerReader::open(Cursor::new(&forged)).unwrap();
    assert_eq!(reader.len(), 1000);
    let (cost, report) = counting::allocated(|| reader.size_report().unwrap());
    assert_eq!(report.records.len(), 1000);
    assert_eq!(report.total(), forged.len() as u64);
    assert!(
        cost < 4 * forged.len() as u64,
        "{cost} bytes for a file of {}",
        forged.len()
    );
    // Decoding a record is `l` decisions (and finds the stream bad); a codec
    // refuses the file before any record, its header not being the model's.
    assert!(matches!(reader.get(0), Err(ContainerError::Malformed { .. })));
    let codec = Codec::load(fixture("per-unit.safetensors")).unwrap();
    let outcome = codec.decompress(&forged);
    assert!(
        matches!(
            outcome,
            Err(CodecError::ModelMismatch { .. } | CodecError::HeaderMismatch { .. })
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_gaussian_coding_of_a_huge_latent_builds_no_table_until_a_record_is_decoded() {
    // 18 bytes of header say "Gaussian gaps over 4 million units": the
    // table (4 million entries) is built only to decode a record; opening
    // the file and reporting its sizes cost what the file holds.
    let l = sae_codec::sae_container::MAX_LATENT_LEN;
    let mut header = Header::new(vec![4], ElementType::F32, l);
    header.index_coding = IndexCoding::reference();
    let mut writer = ContainerWriter::new(Vec::new(), header).unwrap();
    writer
        .append(&SparseLatent::new(l, vec![3, l - 1], vec![1.0, 2.0]).unwrap())
        .unwrap();
    let bytes = writer.finish().unwrap();
    let (cost, report) = counting::allocated(|| {
        let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
        reader.size_report().unwrap()
    });
    assert_eq!(report.total(), bytes.len() as u64);
    assert!(
        cost < 64 * 1024,
        "{cost} bytes allocated to describe {} bytes",
        bytes.len()
    );
    let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.get(0).unwrap().latent.indices(), [3, l - 1]);
}

#[test]
fn decompressing_batch_by_batch_holds_a_batch_not_the_file() {
    // Streamed, the reader holds a batch (512 records) at a time: what it
    // holds at once is the same for 2 000 and 16 000 records (0.5 and 4 MB
    // of output), and a fraction of the larger output.
    let codec = Codec::load(fixture("per-unit.safetensors")).unwrap();
    let one = images();
    let held = |records: usize| {
        let data: Vec<f32> = one.iter().copied().cycle().take(records * 64).collect();
        let bytes = codec.compress(&data).unwrap();
        let mut reader = codec.reader(Cursor::new(&bytes)).unwrap();
        let (peak, values) = counting::peak(|| {
            let mut values = 0usize;
            reader
                .for_each_batch(|batch| {
                    values += batch.len();
                    Ok::<(), CodecError>(())
                })
                .unwrap();
            values
        });
        assert_eq!(values, data.len());
        peak
    };
    let (small, large) = (held(2000), held(16_000));
    assert!(
        large < 16_000 * 64 * 4 / 4,
        "held {large} bytes at once for 4 MB of output"
    );
    assert!(
        large <= small + small / 10,
        "held {small} bytes for 2 000 records, {large} for 16 000"
    );
}
