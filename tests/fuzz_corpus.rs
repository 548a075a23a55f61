//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the library's
//! fuzz entry points (`pasokh::fuzzing`), so the seeds and every crash turned into a corpus file
//! keep running under `cargo test` on stable, without nightly or libFuzzer (docs/fuzzing.md).

use std::path::Path;

#[test]
fn every_corpus_file_runs_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in pasokh::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        entries.sort();
        assert!(!entries.is_empty(), "no seeds for {name}");
        for path in entries {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            eprintln!("{name}: {}", path.display());
            target(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}

#[test]
fn every_target_has_a_corpus_folder_and_a_fuzz_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in pasokh::fuzzing::TARGETS {
        assert!(
            root.join("corpus").join(name).is_dir(),
            "fuzz/corpus/{name}"
        );
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs"
        );
    }
}
