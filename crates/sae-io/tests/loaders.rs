//! Loaders: round trips, and typed errors for wrong shapes, dtypes and truncated files.

use std::io::Write;
use std::path::PathBuf;

use npyz::WriterBuilder;
use sae_io::IoError;
use sae_io::{Array, parse_idx, read_idx, read_npy, read_raw_f32, write_npy, write_raw_f32};

/// A file of its own for a test, named `…name`, removed when dropped.
fn temp(name: &str) -> tempfile::NamedTempFile {
    tempfile::Builder::new().suffix(name).tempfile().unwrap()
}

#[test]
fn npy_round_trip_and_f64() {
    let array = Array::new(vec![2, 3, 4], (0..24).map(|i| i as f32 * 0.5 - 3.0).collect()).unwrap();
    let path = temp("a.npy");
    write_npy(&path, &array).unwrap();
    assert_eq!(read_npy(&path).unwrap(), array);

    // An f64 file, as numpy writes by default.
    let path64 = temp("b.npy");
    let mut w = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(std::fs::File::create(&path64).unwrap())
        .begin_nd()
        .unwrap();
    w.extend([1.0f64, 2.5, -3.0, 1e-3]).unwrap();
    w.finish().unwrap();
    let back = read_npy(&path64).unwrap();
    assert_eq!(back.shape, [2, 2]);
    assert_eq!(back.data, [1.0, 2.5, -3.0, 1e-3f32]);
}

#[test]
fn npy_errors_are_typed() {
    let path = temp("bad.npy");
    std::fs::write(&path, b"\x93NUMPY garbage").unwrap();
    assert!(matches!(
        read_npy(&path),
        Err(IoError::Malformed { format: "npy", .. })
    ));
    // Truncated data.
    let array = Array::new(vec![10], vec![1.0; 10]).unwrap();
    let good = temp("good.npy");
    write_npy(&good, &array).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    assert!(read_npy(&path).is_err());
    // Integer dtype.
    let ints = temp("ints.npy");
    let mut w = npyz::WriteOptions::<i32>::new()
        .default_dtype()
        .shape(&[3])
        .writer(std::fs::File::create(&ints).unwrap())
        .begin_nd()
        .unwrap();
    w.extend([1, 2, 3]).unwrap();
    w.finish().unwrap();
    assert!(matches!(read_npy(&ints), Err(IoError::Malformed { .. })));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_npy(empty.path().join("missing.npy")),
        Err(IoError::Io { .. })
    ));
}

#[test]
fn raw_f32_checks_the_shape() {
    let path = temp("raw.f32");
    write_raw_f32(&path, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let a = read_raw_f32(&path, &[2, 3]).unwrap();
    assert_eq!(a.records(), 2);
    assert_eq!(a.record_len(), 3);
    assert_eq!(a.data[5], 6.0);
    assert!(matches!(read_raw_f32(&path, &[4, 2]), Err(IoError::Shape { .. })));
}

#[test]
fn idx_plain_and_gzipped() {
    let mut bytes = vec![0, 0, 0x08, 3];
    for d in [2u32, 2, 3] {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(0u8..12);
    let idx = parse_idx(&bytes).unwrap();
    assert_eq!(idx.shape, [2, 2, 3]);
    assert_eq!(idx.data[11], 11);
    let path = temp("x.idx.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    assert_eq!(read_idx(&path).unwrap(), idx);
    // Wrong type, truncated data, bad magic.
    let mut wrong = bytes.clone();
    wrong[2] = 0x0d;
    assert!(parse_idx(&wrong).is_err());
    assert!(parse_idx(&bytes[..bytes.len() - 1]).is_err());
    assert!(parse_idx(&[1, 2, 3]).is_err());
    std::fs::write(&path, [0x1f, 0x8b, 0, 1, 2]).unwrap();
    assert!(matches!(read_idx(&path), Err(IoError::Malformed { .. })));
}

/// The first 16 MNIST test images and labels, shipped (tests/data/README.md).
#[test]
fn mnist_fixture_loads() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let images = read_idx(data.join("mnist-t10k-16-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(images.shape, [16, 28, 28]);
    assert_eq!(images.data.iter().map(|&p| u64::from(p)).sum::<u64>(), 379_414);
    let labels = read_idx(data.join("mnist-t10k-16-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(labels.data, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5]);
    // Where the shared data is present (it is on the project's machines and
    // in CI), the fixture is the start of the full test set.
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    match read_idx(full.join("t10k-images-idx3-ubyte.gz")) {
        Ok(all) => {
            assert_eq!(all.shape, [10_000, 28, 28]);
            assert_eq!(all.data[..images.data.len()], images.data[..]);
        }
        Err(e) => eprintln!("note: the full MNIST files are not here ({e}); checked the fixture only"),
    }
}

mod arbitrary_bytes {
    use proptest::prelude::*;
    use sae_io::{parse_idx, parse_npy, parse_raw_f32};

    /// A valid `.npy` of shape (2, 3) written by `write_npy`.
    fn valid_npy() -> Vec<u8> {
        let path = std::env::temp_dir().join(format!("sae-io-arbitrary-{}.npy", std::process::id()));
        sae_io::write_npy(&path, &sae_io::Array::new(vec![2, 3], vec![1.0; 6]).unwrap()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).ok();
        bytes
    }

    proptest! {
        #![proptest_config(proptest::test_runner::Config { rng_seed: proptest::test_runner::RngSeed::Fixed(0x5ae_0005), ..Default::default() })]

        #[test]
        fn readers_never_panic_and_shapes_match_values(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(a) = parse_npy(&bytes) {
                prop_assert_eq!(a.shape.iter().product::<usize>(), a.data.len());
            }
            let _ = parse_idx(&bytes);
            let _ = parse_raw_f32(&bytes, &[bytes.len() / 4]);
        }

        #[test]
        fn an_altered_npy_reads_right_or_fails(at in 0usize..200, value in any::<u8>(), cut in 0usize..200) {
            let mut bytes = valid_npy();
            let at = at % bytes.len();
            bytes[at] = value;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            if let Ok(a) = parse_npy(&bytes) {
                prop_assert_eq!(a.shape.iter().product::<usize>(), a.data.len());
            }
        }
    }
}

/// A gzipped IDX header that declares more data than its bytes can inflate
/// to is refused at once; one that its bytes can hold reads.
#[test]
fn gzipped_idx_bounded_by_what_the_file_can_hold() {
    let gz = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    // 2^32 - 1 images of 1×1: 4 GiB declared, a few dozen bytes present.
    let mut header = vec![0, 0, 0x08, 3];
    for d in [u32::MAX, 1, 1] {
        header.extend(d.to_be_bytes());
    }
    let path = temp("huge.idx.gz");
    std::fs::write(&path, gz(&header)).unwrap();
    match read_idx(&path) {
        Err(IoError::Malformed { reason, .. }) => assert!(reason.contains("inflate to at most"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A million zero bytes compress about a thousand-fold, and read.
    let mut header = vec![0, 0, 0x08, 1];
    header.extend(1_000_000u32.to_be_bytes());
    header.resize(header.len() + 1_000_000, 0);
    std::fs::write(&path, gz(&header)).unwrap();
    assert_eq!(read_idx(&path).unwrap().shape, [1_000_000]);
}
