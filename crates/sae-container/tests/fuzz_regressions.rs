//! Replays hostile inputs kept under `tests/fuzz-regressions/container_read/`:
//! files with valid checksums but forged lengths, counts, offsets and
//! parameters (made by hand from `docs/format.md`), and any input the fuzz
//! targets `container_read` / `container_fields` ever crashed on. Every one is
//! invalid, so reading it must end in a typed error, and never panic.

use std::io::Cursor;
use std::path::Path;

use sae_container::{ContainerReader, StreamReader};

/// Reads everything reachable; returns whether any step failed.
fn read_all(bytes: &[u8]) -> bool {
    let random_access_failed = match ContainerReader::open(Cursor::new(bytes)) {
        Ok(mut reader) => (0..reader.len()).any(|i| reader.get(i).is_err()),
        Err(_) => true,
    };
    let stream_failed = match StreamReader::new(bytes) {
        Ok(mut stream) => {
            let failed = stream.by_ref().any(|r| r.is_err());
            failed || stream.finished() != Some(true)
        }
        Err(_) => true,
    };
    random_access_failed && stream_failed
}

#[test]
fn hostile_files_give_typed_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/container_read");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("regression folder exists") {
        let path = entry.expect("readable entry").path();
        let bytes = std::fs::read(&path).expect("readable file");
        assert!(read_all(&bytes), "{} was accepted", path.display());
        count += 1;
    }
    assert!(count >= 10, "expected the hand-made inputs in {}", dir.display());
}
