//! Where the bundled prompts and flows are when neither `--prompts`/`--flows` nor the TOML file
//! names them: found from the installed program, so the engine starts the same from any current
//! folder (a service manager's `/`, an operator's home).

use std::path::{Path, PathBuf};

use crate::config::Config;

/// The built-in defaults with `prompts` and `flows` pointing at the bundled folders found from
/// the running program; a kind not found anywhere keeps its relative default (`prompts/fa`,
/// `ivr-flows`), so the error at start-up names what was looked for.
pub fn defaults() -> Config {
    let mut config = Config::default();
    let Some(program_dir) = program_dir() else {
        return config;
    };
    if let Some(found) = first_existing(&program_dir, &config.prompts) {
        config.prompts = found;
    }
    if let Some(found) = first_existing(&program_dir, &config.flows) {
        config.flows = found;
    }
    config
}

/// The folder of the running executable, symlinks resolved (a `/usr/bin/pasokh` link to
/// `/opt/pasokh/bin/pasokh` finds `/opt/pasokh/share/pasokh/…`).
fn program_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    exe.parent().map(Path::to_path_buf)
}

/// The places a bundled folder (`relative`, e.g. `prompts/fa`) is looked for, in order.
pub fn candidates(program_dir: &Path, relative: &Path) -> Vec<PathBuf> {
    vec![
        // A tarball unpacked as one folder: the program with its prompts and flows beside it.
        program_dir.join(relative),
        // An FHS install: PREFIX/bin/pasokh and PREFIX/share/pasokh/….
        program_dir.join("../share/pasokh").join(relative),
        // The repository, run as target/release/pasokh (or target/debug/pasokh).
        program_dir.join("../..").join(relative),
    ]
}

fn first_existing(program_dir: &Path, relative: &Path) -> Option<PathBuf> {
    candidates(program_dir, relative)
        .into_iter()
        .find(|candidate| candidate.is_dir())
        .map(|found| found.canonicalize().unwrap_or(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_layout_is_found_from_target_release() {
        // This test runs as target/PROFILE/deps/…: its grandparent stands for the program's folder.
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let exe = std::env::current_exe().unwrap_or_default();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap_or(&repo);
        let found = first_existing(profile_dir, Path::new("prompts/fa"));
        let expected = repo.join("prompts/fa").canonicalize().ok();
        assert_eq!(found, expected);
    }

    #[test]
    fn an_install_prefix_is_searched_after_the_program_folder() {
        let listed = candidates(Path::new("/opt/pasokh/bin"), Path::new("ivr-flows"));
        assert_eq!(
            listed,
            [
                PathBuf::from("/opt/pasokh/bin/ivr-flows"),
                PathBuf::from("/opt/pasokh/bin/../share/pasokh/ivr-flows"),
                PathBuf::from("/opt/pasokh/bin/../../ivr-flows"),
            ]
        );
    }
}
